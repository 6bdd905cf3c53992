/** What an in-container program gets to run with, and how it reports usage errors. */
import type { ContainerContext, ShellFlavour } from '../types.js';
import type { ContainerFs } from './fs.js';
import type { InputStream, OutputStream } from './streams.js';

export interface ProgramIO {
  argv: string[];
  stdin: InputStream;
  stdout: OutputStream;
  stderr: OutputStream;
  /** The exported environment the program sees. */
  env: Record<string, string>;
  cwd: string;
  fs: ContainerFs;
  ctx: ContainerContext;
  signal: AbortSignal;
  /** stdout is a terminal (kubectl exec -t). */
  tty: boolean;
  /** The user the image runs as: a name, or a bare uid unknown to /etc/passwd. */
  user: string;
  /** Whose userland this is: busybox applets word errors differently from GNU tools. */
  flavour: ShellFlavour;
  /** Runs another program the way the shell would (for `env CMD`, `timeout`, `xargs`). */
  exec(argv: string[], io: Partial<Pick<ProgramIO, 'stdin' | 'stdout' | 'stderr' | 'env'>>): Promise<number>;
}

export type Program = (io: ProgramIO) => Promise<number>;

/** Thrown by programs to end with an exit code after printing nothing more. */
export class ProgramExit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/** `name: message` on stderr and exit code 1, the usual way small tools fail. */
export function fail(io: ProgramIO, message: string, code = 1): number {
  io.stderr.write(`${io.argv[0].split('/').pop()}: ${message}\n`);
  return code;
}

/** Absolute path of an argument relative to the program's working directory. */
export function absPath(io: ProgramIO, path: string): string {
  const p = path.startsWith('/') ? path : `${io.cwd.replace(/\/$/, '')}/${path}`;
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (!seg || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  return '/' + out.join('/');
}
