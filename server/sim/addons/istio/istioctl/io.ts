/** Where a command writes and reads: the process's streams in bin/istioctl, buffers in tests. */
export interface CommandIO {
  out(text: string): void;
  err(text: string): void;
  /** One line typed by the user (without its newline), or null at end of input. */
  readLine(): Promise<string | null>;
  /** Whether stdout is a terminal (colours and the in-place progress line). */
  tty: boolean;
}

/** istioctl's exit codes (istioctl/cmd/sysexits.go). */
export const EXIT = { ok: 0, unknown: 1, usage: 64, data: 65, analyzerFoundIssues: 79 } as const;

/** An error that ends the command with `Error: <message>` and its exit code. */
export class CommandError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.unknown,
  ) {
    super(message);
  }
}

export function processIO(): CommandIO {
  let buffered = '';
  let ended = false;
  const waiters: ((line: string | null) => void)[] = [];
  let listening = false;
  const drain = () => {
    while (waiters.length) {
      const nl = buffered.indexOf('\n');
      if (nl >= 0) {
        const line = buffered.slice(0, nl).replace(/\r$/, '');
        buffered = buffered.slice(nl + 1);
        waiters.shift()!(line);
      } else if (ended) {
        const rest = buffered;
        buffered = '';
        waiters.shift()!(rest ? rest : null);
      } else return;
    }
    process.stdin.pause();
  };
  return {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    tty: !!process.stdout.isTTY,
    readLine: () =>
      new Promise((resolve) => {
        waiters.push(resolve);
        if (!listening) {
          listening = true;
          process.stdin.setEncoding('utf8');
          process.stdin.on('data', (d: string) => {
            buffered += d;
            drain();
          });
          process.stdin.on('end', () => {
            ended = true;
            drain();
          });
        }
        process.stdin.resume();
        drain();
      }),
  };
}
