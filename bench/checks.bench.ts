/**
 * Step checks: how long one evaluation of a step's checks takes against the embedded cluster
 * (target < 20 ms), and how long after a change in the cluster the page's event stream shows it
 * (target < 500 ms). Baselines from the same run: one bare API GET through the same client, and
 * the engine's own debounce.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { createCheckContext, loadKubeConfig } from '../server/checks/context.js';
import { kubeObjectsFor } from '../server/checks/kube-objects.js';
import { evaluateStep } from '../server/checks/evaluate.js';
import { parseCheck, type CheckSpec } from '../server/checks/schema.js';
import { EmbeddedCluster } from '../server/sim/cluster.js';
import { startPlayground } from '../server/playground.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))]!;
const check = (raw: unknown): CheckSpec => {
  const r = parseCheck(raw);
  if (!r.ok) throw new Error(r.error);
  return r.check;
};

async function evaluationTime(): Promise<void> {
  const cluster = await EmbeddedCluster.start();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-bench-checks-'));
  const kubeconfig = path.join(dir, 'kubeconfig');
  await cluster.writeKubeconfig(kubeconfig);
  const kc = loadKubeConfig(kubeconfig);
  const setup = new KubeConfig();
  setup.loadFromFile(kubeconfig);
  const core = setup.makeApiClient(CoreV1Api);
  await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'web', labels: { app: 'web' } }, data: { message: 'hello' } } });
  const ctx = createCheckContext({ kc, shell: { cwd: dir, env: { PATH: process.env.PATH ?? '' } } });
  // A typical step: an object with field conditions, a count by selector, an absence.
  const checks = [
    check({ title: 'web', resource: { apiVersion: 'v1', kind: 'ConfigMap', name: 'web', fields: [{ path: 'data.message', equals: 'hello' }] } }),
    check({ title: 'count', resource: { apiVersion: 'v1', kind: 'ConfigMap', selector: 'app=web', count: 1 } }),
    check({ title: 'absent', resource: { apiVersion: 'v1', kind: 'Secret', name: 'nope', absent: true } }),
  ];
  const baseline: number[] = [];
  const step: number[] = [];
  for (let i = 0; i < 10; i++) await evaluateStep(checks, ctx); // warm caches (discovery)
  for (let i = 0; i < 100; i++) {
    let t = performance.now();
    await ctx.objects.read('v1', 'ConfigMap', 'web', 'default');
    baseline.push(performance.now() - t);
    t = performance.now();
    const verdict = await evaluateStep(checks, ctx);
    step.push(performance.now() - t);
    if (verdict.state !== 'passed') throw new Error(`unexpected verdict ${JSON.stringify(verdict)}`);
  }
  console.log(`step check evaluation (3 resource checks, 100 runs): median ${median(step).toFixed(2)} ms, p99 ${p99(step).toFixed(2)} ms (target < 20 ms)`);
  console.log(`  baseline, one API GET through the same client: median ${median(baseline).toFixed(2)} ms; ratio ${(median(step) / median(baseline)).toFixed(1)}x`);
  await cluster.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}

async function changeToPage(): Promise<void> {
  const lessonsDir = path.join(path.dirname(new URL(import.meta.url).pathname), '../test/fixtures/lessons/live');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-bench-live-'));
  const pg = await startPlayground({ port: 0, dataDir, lessonsDir, logger: pino({ level: 'silent' }) });
  const login = await fetch(pg.url, { redirect: 'manual' });
  const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const res = await fetch(new URL('/api/checks/demo/configmap/events', pg.baseUrl), { headers: { cookie } });
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const nextState = async (want: string): Promise<void> => {
    for (;;) {
      const end = buffer.indexOf('\n\n');
      if (end >= 0) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (event.includes(`"state":"${want}"`)) return;
        continue;
      }
      const { value, done } = await reader.read();
      if (done) throw new Error('stream ended');
      buffer += decoder.decode(value, { stream: true });
    }
  };
  await nextState('failed');
  // The cookie is a secret, not the learner id: the only learner's directory is this one.
  const [learner] = fs.readdirSync(path.join(dataDir, 'learners'));
  const kubeconfig = path.join(dataDir, 'learners', learner!, 'kubeconfig');
  // Changes go through a pooled connection (client-node's API classes open one per request), so the
  // delay measured is the server's, not a TLS handshake's.
  const api = kubeObjectsFor(loadKubeConfig(kubeconfig));
  const change = async (method: string, path: string, body?: unknown) => {
    const answer = await api.request(path, { method, headers: { 'content-type': 'application/json', accept: 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
    if (answer.status >= 300) throw new Error(`${method} ${path}: HTTP ${answer.status} ${answer.body}`);
  };
  const delays: number[] = [];
  for (let i = 0; i < 10; i++) {
    let t = performance.now();
    await change('POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'greeting' }, data: { message: 'hello' } });
    await nextState('passed');
    delays.push(performance.now() - t);
    t = performance.now();
    await change('DELETE', '/api/v1/namespaces/default/configmaps/greeting');
    await nextState('failed');
    delays.push(performance.now() - t);
  }
  console.log(`cluster change → page event (20 changes): median ${median(delays).toFixed(0)} ms, max ${Math.max(...delays).toFixed(0)} ms (target < 500 ms; includes the 100 ms debounce that coalesces bursts of changes)`);
  await reader.cancel();
  await pg.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
}

export default async function run(): Promise<void> {
  await evaluationTime();
  await changeToPage();
}
