/**
 * `npm start` (compiled: dist/server/main.js) and `npm run dev` (source, via tsx): reads config
 * from flags and environment, starts the playground, prints the URL.
 */
import path from 'node:path';
import { ConfigError, loadConfig, projectRoot } from './config.js';
import { projectToolsDir } from './cluster/tools.js';
import { startPlayground } from './playground.js';
import { favourTheServer } from './scheduling.js';

/**
 * kubectl installed by scripts/install-tools.sh lives in the checkout's .tools/bin. Putting it on
 * our own PATH lets the terminal and the kubectl check find it whichever layout (source or dist/)
 * this process runs from.
 */
function withProjectToolsOnPath(): void {
  const tools = projectToolsDir(projectRoot);
  const entries = (process.env.PATH ?? '').split(path.delimiter);
  if (!entries.includes(tools)) process.env.PATH = [tools, ...entries.filter(Boolean)].join(path.delimiter);
}

async function main(): Promise<void> {
  withProjectToolsOnPath();
  let config;
  try {
    config = loadConfig(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`istio-playground: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const playground = await startPlayground(config);
  // The real server only: a test's playground in a test runner leaves the runner's session alone.
  favourTheServer(playground.logger);
  process.stdout.write(`\n  istio-playground is running (backend: ${playground.backend.describe()})\n\n  Open ${playground.url}\n\n  Instructors (workshops, dashboard): ${playground.adminUrl}\n\n`);
  if (!playground.kubectl.found) process.stdout.write(`  ${playground.kubectl.installHint}\n\n`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    playground.logger.info({ signal }, 'stopping');
    const force = setTimeout(() => {
      // Clusters still stopping then stop by themselves when this process is gone (sim-child.ts).
      playground.logger.warn('shutdown took over 10 s: exiting without waiting for the rest');
      process.exit(1);
    }, 10_000);
    force.unref();
    playground.close().then(
      () => process.exit(0),
      (err) => {
        playground.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err) => {
  process.stderr.write(`istio-playground failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
