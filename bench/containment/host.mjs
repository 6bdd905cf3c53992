/**
 * Hosts N embedded clusters the way a containment design would, for learners.bench.ts:
 * `node host.mjs worker|process N DIR` starts N clusters from the built child entry
 * (dist/server/cluster/sim-child.js) as worker_threads (heap capped with resourceLimits) or as
 * child processes (--max-old-space-size), writes DIR/<i>.kubeconfig, prints one JSON line, then
 * answers "measure" on stdin with the RSS of itself and its children, and "stop" by stopping.
 */
import { fork } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

const [mode, count, dir] = process.argv.slice(2);
const entry = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/server/cluster/sim-child.js');
const HEAP_MB = 256;
const rss = (pid) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;

await new Promise((r) => setTimeout(r, 500));
const baseline = rss(process.pid);
const clusters = [];
for (let i = 0; i < Number(count); i++) {
  const env = { ...process.env, PLAYGROUND_SIM_CHILD: JSON.stringify({ stateDir: path.join(dir, String(i)), host: '127.0.0.1', nodeBlockClaimsDir: path.join(dir, 'node-block-claims') }) };
  const started = performance.now();
  const c =
    mode === 'worker'
      ? new Worker(entry, { env, resourceLimits: { maxOldGenerationSizeMb: HEAP_MB } })
      : fork(entry, [], { env, execArgv: [`--max-old-space-size=${HEAP_MB}`, '--max-semi-space-size=1'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const ready = await new Promise((resolve, reject) => {
    c.on('message', (m) => (m.type === 'ready' ? resolve(m) : m.type === 'failed' && reject(new Error(m.message))));
    c.once('exit', (code) => reject(new Error(`cluster ${i} exited (${code})`)));
  });
  const file = path.join(dir, `${i}.kubeconfig`);
  fs.writeFileSync(file, ready.kubeconfig, { mode: 0o600 });
  clusters.push({ c, file, ms: performance.now() - started });
}
console.log(JSON.stringify({ baseline, kubeconfigs: clusters.map((c) => c.file), startMs: clusters.map((c) => c.ms) }));
for await (const line of readline.createInterface({ input: process.stdin })) {
  if (line === 'measure') {
    console.log(JSON.stringify({ self: rss(process.pid), children: mode === 'process' ? clusters.map(({ c }) => rss(c.pid)) : [] }));
  } else if (line === 'stop') {
    await Promise.all(clusters.map(({ c }) => new Promise((r) => (c.once('exit', r), c.postMessage ? c.postMessage({ type: 'stop' }) : c.send({ type: 'stop' })))));
    process.exit(0);
  }
}
