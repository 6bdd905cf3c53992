/**
 * One exec/attach session, independent of the wire: what the command sees (ExecIO), and what
 * a transport (WebSocket channels, SPDY streams) feeds in and gets out.
 */
import { EventEmitter } from 'node:events';
import { PassThrough, type Readable } from 'node:stream';
import { ApiError } from '../../errors.js';

export interface ExecParams {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
  /** Empty for attach. */
  command: string[];
  /** Resolved by the caller against the pod (see containers.ts); may be '' before that. */
  container: string;
}

export interface TerminalSize {
  width: number;
  height: number;
}

export interface ExecOutput {
  write(chunk: Buffer | string): void;
}

/** What a command running "in the container" gets. */
export interface ExecIO {
  /** The client's stdin, ending when the client closes it (v5) or goes away; null without -i. */
  stdin: Readable | null;
  /** Silently drops output when the client did not ask for the stream. */
  stdout: ExecOutput;
  /** With a TTY there is no separate stderr: writes go to stdout, as a terminal merges them. */
  stderr: ExecOutput;
  /** Emits 'resize' with a TerminalSize each time the client's terminal changes size. */
  resize: EventEmitter;
  /** The most recent size the client reported (kubectl sends one as soon as it attaches). */
  terminalSize(): TerminalSize | undefined;
  /** Aborted when the client goes away before the command ends. */
  signal: AbortSignal;
  tty: boolean;
}

/**
 * Thrown (or rejected) by a `run` callback when the command could not be started at all,
 * as opposed to a command that ran and exited non-zero (which is a resolved exit code).
 * The kubelet reports it as an InternalError that kubectl prints as
 * `error: Internal error occurred: error executing command in container: MESSAGE`.
 */
export class ExecStartError extends Error {
  override name = 'ExecStartError';
}

export type ExecRun = (io: ExecIO) => Promise<number>;

/** The Status the kubelet writes on the error channel when the command has ended. */
export function exitStatus(code: number, command: string[]): Record<string, unknown> {
  if (code === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${code}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  };
}

export function startFailureStatus(err: unknown): Record<string, unknown> {
  // The workload runtime's own ExecStartError already carries the finished Status message.
  const e = err as { message?: unknown; reason?: unknown; code?: unknown } | null;
  if (e && typeof e.message === 'string' && typeof e.reason === 'string' && typeof e.code === 'number') {
    return { metadata: {}, status: 'Failure', message: e.message, reason: e.reason, code: e.code };
  }
  const why = err instanceof Error ? err.message : String(err);
  const { kind: _kind, apiVersion: _apiVersion, ...status } = ApiError.internal(`error executing command in container: ${why}`).toStatus();
  return status;
}

export function parseResize(body: Buffer): TerminalSize | undefined {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { Width?: unknown; Height?: unknown };
    const width = Number(parsed.Width);
    const height = Number(parsed.Height);
    if (!Number.isFinite(width) || !Number.isFinite(height)) return undefined;
    return { width, height };
  } catch {
    return undefined;
  }
}

/** What a transport receives from the session. */
export interface ExecSink {
  stdout(data: Buffer): void;
  stderr(data: Buffer): void;
  /** Called once, with the Status to put on the error stream; the transport then closes. */
  finish(status: Record<string, unknown>): void;
}

/** What a transport feeds into the session. */
export interface ExecFeed {
  stdin(data: Buffer): void;
  stdinEnd(): void;
  resize(size: TerminalSize): void;
  clientGone(): void;
}

/** Starts `run` now, wiring it to `sink`; the returned feed carries the client's input. */
export function startExec(params: ExecParams, run: ExecRun, sink: ExecSink): ExecFeed {
  const abort = new AbortController();
  const resize = new EventEmitter();
  let lastSize: TerminalSize | undefined;
  let finished = false;
  const stdin = params.stdin ? new PassThrough() : null;
  const endStdin = () => {
    if (stdin && !stdin.writableEnded) stdin.end();
  };

  const output = (enabled: boolean, emit: (data: Buffer) => void): ExecOutput => ({
    write: (chunk) => {
      if (!enabled || finished) return;
      const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      if (data.length) emit(data);
    },
  });
  const stdout = output(params.stdout, (d) => sink.stdout(d));
  const io: ExecIO = {
    stdin,
    stdout,
    // A terminal has one output: with a TTY, stderr writes land on stdout.
    stderr: params.tty ? stdout : output(params.stderr, (d) => sink.stderr(d)),
    resize,
    terminalSize: () => lastSize,
    signal: abort.signal,
    tty: params.tty,
  };

  const finish = (status: Record<string, unknown>) => {
    if (finished) return;
    finished = true;
    endStdin();
    sink.finish(status);
  };
  let running: Promise<number>;
  try {
    running = run(io);
  } catch (err) {
    running = Promise.reject(err);
  }
  running.then(
    (code) => finish(exitStatus(Number.isInteger(code) ? code : 1, params.command)),
    (err) => finish(startFailureStatus(err)),
  );

  return {
    stdin: (data) => {
      if (stdin && !stdin.writableEnded) stdin.write(data);
    },
    stdinEnd: endStdin,
    resize: (size) => {
      lastSize = size;
      resize.emit('resize', size);
    },
    clientGone: () => {
      endStdin();
      if (!finished) {
        finished = true;
        abort.abort();
      }
    },
  };
}
