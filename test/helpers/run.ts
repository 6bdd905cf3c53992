/**
 * Runs a program to completion, as a learner's command would run: its exit code, stdout and
 * stderr. Its stdin is `input`, closed at once without it.
 */
import { execFile } from 'node:child_process';

export interface ProcessRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string | undefined;
  /** Default 60 s; a program still running then is killed and counts as failed. */
  timeoutMs?: number;
  /** Output kept per stream; default 16 MiB. */
  maxBuffer?: number;
}

export function runProcess(file: string, args: string[], opts: RunOptions = {}): Promise<ProcessRun> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { cwd: opts.cwd, env: opts.env, timeout: opts.timeoutMs ?? 60_000, maxBuffer: opts.maxBuffer ?? 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      // err.code is the exit code, or a string (e.g. output over maxBuffer), or null (killed).
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0, stdout, stderr }),
    );
    // A child that exits without reading stdin makes this write fail (EPIPE): its exit code says what happened.
    child.stdin!.on('error', () => {});
    child.stdin!.end(opts.input ?? '');
  });
}
