/**
 * `npm run sim -- --kubeconfig PATH [--port N] [--host H] [--token T] [--api-only]`: runs one embedded cluster
 * in the foreground, writes a kubeconfig for it, and stops cleanly on SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { EmbeddedCluster } from './cluster.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      kubeconfig: { type: 'string' },
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      token: { type: 'string' },
      // Nodes, scheduler, kubelets and controllers run by default; --api-only serves just the API.
      'api-only': { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (!values.kubeconfig) {
    console.error('usage: npm run sim -- --kubeconfig PATH [--port N] [--host H] [--token T] [--api-only]');
    process.exit(2);
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`invalid --port ${values.port}`);
    process.exit(2);
  }
  const started = performance.now();
  const cluster = await EmbeddedCluster.start({ host: values.host, port, token: values.token, workloads: !values['api-only'] });
  const path = resolve(values.kubeconfig);
  await cluster.writeKubeconfig(path);
  console.log(`embedded cluster ready at ${cluster.url} (kubeconfig ${path}, context playground, started in ${Math.round(performance.now() - started)} ms)`);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    await cluster.stop();
    console.log(`embedded cluster stopped (${signal})`);
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
