/** Running execs in tests: collected output, an optional scripted tty. */
import { EventEmitter } from 'node:events';
import { runInContainer } from '../shell/index.js';
import type { ContainerContext } from '../types.js';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs argv in the container without stdin or tty, like `kubectl exec POD -- argv…`. */
export async function exec(ctx: ContainerContext, argv: string[], opts: { stdin?: string; signal?: AbortSignal } = {}): Promise<ExecResult> {
  let stdout = '';
  let stderr = '';
  let source: EventEmitter | null = null;
  if (opts.stdin !== undefined) {
    source = new EventEmitter();
    const s = source;
    setImmediate(() => {
      s.emit('data', Buffer.from(opts.stdin!));
      s.emit('end');
    });
  }
  const code = await runInContainer({
    argv,
    stdin: source as never,
    stdout: { write: (c) => (stdout += c.toString()) },
    stderr: { write: (c) => (stderr += c.toString()) },
    tty: false,
    ctx,
    signal: opts.signal ?? new AbortController().signal,
  });
  return { code, stdout, stderr };
}

/** An interactive `kubectl exec -it` session: type into it, read what the terminal shows. */
export class TtySession {
  readonly input = new EventEmitter();
  screen = '';
  readonly done: Promise<number>;
  private readonly abort = new AbortController();

  constructor(ctx: ContainerContext, argv: string[]) {
    this.done = runInContainer({
      argv,
      stdin: this.input as never,
      stdout: { write: (c) => (this.screen += c.toString()) },
      stderr: { write: (c) => (this.screen += c.toString()) },
      tty: true,
      ctx,
      signal: this.abort.signal,
    });
  }

  type(text: string): void {
    this.input.emit('data', Buffer.from(text));
  }

  /** Waits until the screen shows `text` (after what it showed before), or fails after timeoutMs. */
  async waitFor(text: string, timeoutMs = 3000): Promise<void> {
    const start = Date.now();
    while (!this.screen.includes(text)) {
      if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${JSON.stringify(text)}; screen: ${JSON.stringify(this.screen)}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  close(): void {
    this.abort.abort();
  }
}
