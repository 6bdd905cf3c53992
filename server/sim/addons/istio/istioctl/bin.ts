/** The entry point of bin/istioctl: the CLI on the process's streams. */
import { run } from './main.js';
import { processIO } from './io.js';

run(process.argv.slice(2), processIO()).then(
  (code) => {
    // Exit once stdout has flushed (a piped `manifest generate` is large); stdin must not hold the process open.
    process.stdout.write('', () => process.exit(code));
  },
  (e: unknown) => {
    process.stderr.write(`Error: ${(e as Error)?.message ?? String(e)}\n`);
    process.exit(1);
  },
);
