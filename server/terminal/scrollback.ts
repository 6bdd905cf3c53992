/**
 * The server's copy of a terminal's screen: a headless xterm fed with everything the shell
 * prints, serialized (screen + scrollback + modes) when a browser (re)attaches, so a refresh
 * or a network blip loses nothing on screen.
 *
 * Parsing is several times slower than forwarding output (xterm parses ~30 MB/s here; the
 * PTY → WebSocket path runs at 60+), so the mirror never sits on the output path: output is
 * queued here and parsed once the output pauses for QUIET_MS (or at once when a snapshot is
 * wanted), in slices, so it never competes with a flood for the CPU. Under a flood the
 * queue is bounded two ways:
 *  - plain text (no escape sequence, no charset shift, no C1 control) can be skipped whole
 *    lines at a time: it cannot change modes, colours or the cursor's column, so the screen
 *    after the flood is exactly the same; the replayed scrollback shows one line saying how
 *    much was elided;
 *  - anything else is never dropped: `throttled` asks the owner to pause the PTY until the
 *    parser has caught up.
 */
import headless from '@xterm/headless';
import { SerializeAddon } from '@xterm/addon-serialize';

/** Above this many queued bytes the mirror starts eliding plain text or throttles. */
export const MIRROR_MAX_BACKLOG = 2 * 1024 * 1024;
/** Eliding keeps at least this much of the newest output for parsing. */
const MIRROR_KEEP = 1024 * 1024;
/**
 * Output is parsed once none has arrived for this long. Output arrives in frames of up to
 * 64 KiB (sessions.ts), which under load can be several milliseconds apart in a flood: a
 * shorter wait would parse in those gaps, taking the CPU from the flood for text that the
 * backlog bound would have elided anyway.
 */
const QUIET_MS = 25;
/**
 * Bytes handed to the parser at a time (~1 ms of parsing), so a catch-up never holds the
 * event loop long enough to delay a keystroke's echo or the next read of a flood.
 */
const SLICE = 32 * 1024;

const ESC = 0x1b;
const SO = 0x0e;
const SI = 0x0f;

/** True when `bytes` cannot change terminal state beyond printing text and moving lines. */
export function isPlainText(bytes: Uint8Array): boolean {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.indexOf(ESC) !== -1 || buf.indexOf(SO) !== -1 || buf.indexOf(SI) !== -1) return false;
  // C1 controls (U+0080–U+009F, e.g. U+009B is CSI) arrive UTF-8 encoded as C2 80–C2 9F.
  for (let i = buf.indexOf(0xc2); i !== -1 && i + 1 < buf.length; i = buf.indexOf(0xc2, i + 1)) {
    const next = buf[i + 1]!;
    if (next >= 0x80 && next <= 0x9f) return false;
  }
  return true;
}

/** Where plain text was elided from the queue, and how much. */
class Elision {
  constructor(public bytes: number) {}
}

type QueueItem = Buffer | Elision | { cols: number; rows: number };

export interface ScreenMirrorOptions {
  cols: number;
  rows: number;
  scrollbackLines: number;
  /** Called when `throttled` may have changed. */
  onThrottleChange?: () => void;
}

export class ScreenMirror {
  private readonly term: InstanceType<typeof headless.Terminal>;
  private readonly serializer = new SerializeAddon();
  private readonly queue: QueueItem[] = [];
  private queuedBytes = 0;
  private parsing = false;
  private timer: NodeJS.Timeout | null = null;
  private lastWriteAt = 0;
  private waiters: Array<() => void> = [];
  private disposed = false;
  private _throttled = false;
  private readonly onThrottleChange: () => void;

  constructor(options: ScreenMirrorOptions) {
    this.term = new headless.Terminal({
      cols: options.cols,
      rows: options.rows,
      scrollback: options.scrollbackLines,
      allowProposedApi: true,
    });
    this.term.loadAddon(this.serializer);
    this.onThrottleChange = options.onThrottleChange ?? (() => {});
  }

  get cols(): number {
    return this.term.cols;
  }

  get rows(): number {
    return this.term.rows;
  }

  /** Bytes received but not parsed yet. */
  get backlog(): number {
    return this.queuedBytes;
  }

  /** True while the owner should stop producing output (unparseable backlog too large). */
  get throttled(): boolean {
    return this._throttled;
  }

  /** Takes ownership of `chunk`: the caller must not modify it afterwards. */
  write(chunk: Buffer): void {
    if (this.disposed || chunk.length === 0) return;
    this.queue.push(chunk);
    this.queuedBytes += chunk.length;
    this.lastWriteAt = performance.now();
    if (this.queuedBytes > MIRROR_MAX_BACKLOG) this.shed();
    this.schedule();
  }

  /** Resizes in order with the output around it (output before a resize was laid out for the old size). */
  resize(cols: number, rows: number): void {
    if (this.disposed) return;
    this.queue.push({ cols, rows });
    this.schedule();
  }

  /** Parses everything received so far, then serializes screen, scrollback and modes. */
  async snapshot(): Promise<string> {
    await this.drain();
    return this.disposed ? '' : this.serializer.serialize();
  }

  /** Resolves once everything received so far is parsed. */
  drain(): Promise<void> {
    if (this.disposed || (this.queue.length === 0 && !this.parsing)) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.schedule(0);
    });
  }

  /** The visible screen as plain text, one string per row (trailing blanks trimmed). */
  screenText(): string[] {
    const buffer = this.term.buffer.active;
    const lines: string[] = [];
    for (let y = buffer.viewportY; y < buffer.viewportY + this.term.rows; y++) {
      lines.push(buffer.getLine(y)?.translateToString(true) ?? '');
    }
    return lines;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.term.dispose();
    for (const resolve of this.waiters.splice(0)) resolve();
  }

  /**
   * Drops whole lines of plain text from the backlog; throttles if it cannot. The elided run
   * may follow output that has to be parsed (typically the prompt and the echoed command
   * before a `cat`): that stays queued in front of it, in order.
   */
  private shed(): void {
    let start = 0;
    let skipped = 0;
    for (; start < this.queue.length; start++) {
      const item = this.queue[start]!;
      if (!Buffer.isBuffer(item) || isPlainText(item)) break;
      skipped += item.length;
    }
    if (this.queuedBytes - skipped <= MIRROR_KEEP) return this.setThrottled(this.queuedBytes > MIRROR_MAX_BACKLOG);
    let elision = this.queue[start];
    if (!(elision instanceof Elision)) {
      elision = new Elision(0);
      this.queue.splice(start, 0, elision);
    }
    const at = start + 1;
    let endsAtLineStart = true;
    while (this.queuedBytes > MIRROR_KEEP) {
      const item = this.queue[at];
      if (!Buffer.isBuffer(item) || !isPlainText(item)) break;
      this.queue.splice(at, 1);
      this.queuedBytes -= item.length;
      elision.bytes += item.length;
      endsAtLineStart = item[item.length - 1] === 0x0a;
    }
    // End the elision at a newline so the text kept starts on a line of its own.
    const next = this.queue[at];
    if (!endsAtLineStart && Buffer.isBuffer(next)) {
      const newline = next.indexOf(0x0a);
      if (newline !== -1 && isPlainText(next.subarray(0, newline))) {
        this.queue[at] = next.subarray(newline + 1);
        this.queuedBytes -= newline + 1;
        elision.bytes += newline + 1;
      }
    }
    if (elision.bytes === 0) this.queue.splice(start, 1);
    this.setThrottled(this.queuedBytes > MIRROR_MAX_BACKLOG);
  }

  private setThrottled(value: boolean): void {
    if (this._throttled === value) return;
    this._throttled = value;
    this.onThrottleChange();
  }

  private schedule(delayMs = QUIET_MS): void {
    if (this.timer || this.parsing || this.disposed) return;
    // A timer, not setImmediate: waiting for quiet must not keep the event loop spinning.
    this.timer = setTimeout(() => {
      this.timer = null;
      this.parseSlice();
    }, delayMs);
  }

  private parseSlice(): void {
    if (this.disposed || this.parsing) return;
    // Still flooding (and nobody waiting for a snapshot, and not throttled): wait for quiet.
    const sinceWrite = performance.now() - this.lastWriteAt;
    if (sinceWrite < QUIET_MS && this.waiters.length === 0 && !this._throttled) {
      this.schedule(QUIET_MS - sinceWrite);
      return;
    }
    // Resizes apply between output chunks, in order.
    let item = this.queue[0];
    while (item !== undefined && !Buffer.isBuffer(item) && !(item instanceof Elision)) {
      this.queue.shift();
      this.term.resize(item.cols, item.rows);
      item = this.queue[0];
    }
    if (this.queue.length === 0) {
      this.finishWaiters();
      return;
    }
    const parts: Buffer[] = [];
    let taken = 0;
    while (taken < SLICE) {
      const next = this.queue[0];
      if (next instanceof Elision) {
        this.queue.shift();
        parts.push(Buffer.from(`\r\n[… ${formatBytes(next.bytes)} of output elided from the replay …]\r\n`));
        continue;
      }
      if (next === undefined || !Buffer.isBuffer(next)) break;
      const room = SLICE - taken;
      if (next.length <= room) {
        this.queue.shift();
        parts.push(next);
        taken += next.length;
      } else {
        parts.push(next.subarray(0, room));
        this.queue[0] = next.subarray(room);
        taken += room;
      }
    }
    this.queuedBytes -= taken;
    this.parsing = true;
    const data = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    this.term.write(data, () => {
      this.parsing = false;
      if (this._throttled && this.queuedBytes <= MIRROR_KEEP) this.setThrottled(false);
      if (this.queue.length === 0) this.finishWaiters();
      else this.schedule(0);
    });
  }

  private finishWaiters(): void {
    if (this.parsing || this.queue.length > 0) return;
    for (const resolve of this.waiters.splice(0)) resolve();
  }
}

function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} kB`;
  return `${n} bytes`;
}
