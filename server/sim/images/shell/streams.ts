/**
 * Byte streams between shell programs: pipes run their commands concurrently, so `curl | head`
 * streams as it does in a real shell, and a program blocked on stdin can be interrupted.
 */

export interface InputStream {
  /** The next chunk, or null at end of input. */
  read(): Promise<Buffer | null>;
}

export interface OutputStream {
  write(chunk: string | Buffer): void;
}

export const EMPTY_INPUT: InputStream = { read: async () => null };
export const DISCARD: OutputStream = { write: () => {} };

/** An in-memory pipe: writes after close() are dropped (what SIGPIPE amounts to here). */
export class Pipe implements InputStream, OutputStream {
  private chunks: Buffer[] = [];
  private waiting: ((chunk: Buffer | null) => void) | null = null;
  private ended = false;
  private readerGone = false;

  write(chunk: string | Buffer): void {
    if (this.ended || this.readerGone) return;
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (buf.length === 0) return;
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      w(buf);
    } else this.chunks.push(buf);
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      w(null);
    }
  }

  /** The reader stopped reading (e.g. `head` got its lines): further writes are dropped. */
  closeReader(): void {
    this.readerGone = true;
    this.chunks = [];
  }

  read(): Promise<Buffer | null> {
    const next = this.chunks.shift();
    if (next) return Promise.resolve(next);
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve) => (this.waiting = resolve));
  }
}

/** Collects everything written, e.g. for `$(...)` and tests. */
export class Collector implements OutputStream {
  private parts: Buffer[] = [];
  write(chunk: string | Buffer): void {
    this.parts.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  }
  buffer(): Buffer {
    return Buffer.concat(this.parts);
  }
  text(): string {
    return this.buffer().toString('utf8');
  }
}

export function inputFrom(data: string | Buffer): InputStream {
  let done = false;
  return {
    read: async () => {
      if (done) return null;
      done = true;
      const buf = typeof data === 'string' ? Buffer.from(data) : data;
      return buf.length ? buf : null;
    },
  };
}

/** Reads a stream to its end, giving up (with what it has) when the signal aborts. */
export async function readAll(input: InputStream, signal?: AbortSignal): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (;;) {
    const chunk = await raceAbort(input.read(), signal);
    if (chunk === null) break;
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}

/** Yields lines (without '\n'); a last line without newline is yielded too. */
export async function* readLines(input: InputStream, signal?: AbortSignal): AsyncGenerator<string> {
  let pending = '';
  for (;;) {
    const chunk = await raceAbort(input.read(), signal);
    if (chunk === null) break;
    pending += chunk.toString('utf8');
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      yield pending.slice(0, nl);
      pending = pending.slice(nl + 1);
    }
  }
  if (pending) yield pending;
}

async function raceAbort(p: Promise<Buffer | null>, signal?: AbortSignal): Promise<Buffer | null> {
  if (!signal) return p;
  if (signal.aborted) return null;
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(null);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** Resolves after ms, or early (with false) when the signal aborts. */
export function sleepAbortable(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
