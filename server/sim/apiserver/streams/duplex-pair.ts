/**
 * Two connected in-memory Duplex ends: bytes written to one are read from the other, `end()`
 * half-closes (the peer sees 'end', as after a TCP FIN), `destroy()` drops both (as a reset).
 * Lets port-forward reach an in-process server without a TCP listener:
 * `const [ours, theirs] = duplexPair(); httpServer.emit('connection', theirs); return ours;`
 * (Node 22 has stream.duplexPair; Node 20, our floor, does not.)
 */
import { Duplex } from 'node:stream';

class PairEnd extends Duplex {
  peer!: PairEnd;
  /** A write the peer could not take yet; completed when the peer reads again. */
  private blocked: (() => void) | undefined;

  constructor() {
    super({ allowHalfOpen: true });
  }

  override _read(): void {
    const release = this.peer.blocked;
    this.peer.blocked = undefined;
    release?.();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.peer.destroyed) return callback(new Error('write after the other end closed'));
    if (this.peer.push(chunk)) callback();
    else this.blocked = () => callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (!this.peer.destroyed) this.peer.push(null);
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const release = this.blocked;
    this.blocked = undefined;
    release?.();
    if (!this.peer.destroyed) this.peer.destroy();
    callback(error);
  }
}

export function duplexPair(): [Duplex, Duplex] {
  const a = new PairEnd();
  const b = new PairEnd();
  a.peer = b;
  b.peer = a;
  return [a, b];
}
