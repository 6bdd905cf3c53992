/**
 * The embedded cluster's data path: requests per second through a NodePort (real TCP listener →
 * kube-proxy-like balancing → the workload's behaviour) with keep-alive connections, against a
 * plain Node http server on loopback measured in the same run; and p50/p99 latency of a
 * Bookinfo productpage request through the API's service proxy (which fans out to details and
 * reviews → ratings inside the simulated network) against the API server's own /version.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import YAML from 'yaml';
import { EmbeddedCluster } from '../server/sim/cluster.js';
import { ZERO_TIMINGS } from '../server/sim/addons/core/workloads.js';

import { BOOKINFO_YAML as BOOKINFO } from '../test/helpers/reference.js';
const DURATION_MS = 2_000;
const CONNECTIONS = 16;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

function get(agent: http.Agent, url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

/** Keep-alive load from CONNECTIONS concurrent clients for DURATION_MS: requests per second. */
async function load(url: string): Promise<{ rps: number; errors: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  let done = 0;
  let errors = 0;
  const end = performance.now() + DURATION_MS;
  const worker = async () => {
    while (performance.now() < end) {
      try {
        const status = await get(agent, url);
        if (status === 200) done++;
        else errors++;
      } catch {
        errors++;
      }
    }
  };
  const t = performance.now();
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  agent.destroy();
  return { rps: done / ((performance.now() - t) / 1000), errors };
}

async function latencies(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out;
}

export default async function run(): Promise<void> {
  const cluster = await EmbeddedCluster.start({ workloads: { timings: ZERO_TIMINGS } });
  const workloads = cluster.workloads!;
  const baseline = http.createServer((_req, res) => {
    const body = Buffer.alloc(3058, 'x');
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': body.length });
    res.end(body);
  });
  try {
    for (const doc of YAML.parseAllDocuments(await readFile(BOOKINFO, 'utf8'))) {
      const obj = doc.toJSON() as { apiVersion: string; kind: string; metadata: { name: string } } | null;
      if (!obj) continue;
      const [group, version] = obj.apiVersion.includes('/') ? obj.apiVersion.split('/') : ['', obj.apiVersion];
      const def = cluster.registry.all().find((d) => d.group === group && d.version === version && d.kind === obj.kind);
      if (!def) throw new Error(`no resource for ${obj.kind}`);
      await cluster.rest.create(def, 'default', obj, { user: 'bench' });
    }
    const podsDef = cluster.registry.lookup('', 'v1', 'pods')!;
    const readyPods = () =>
      (cluster.store.list(podsDef.bucket, 'default') as Array<{ status?: { conditions?: Array<{ type: string; status: string }> } }>).filter((p) =>
        p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
      ).length;
    const deadline = Date.now() + 20_000;
    while (readyPods() < 6 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (readyPods() < 6) throw new Error('bookinfo did not become ready');

    const svcDef = cluster.registry.lookup('', 'v1', 'services')!;
    const svc = cluster.store.get(svcDef.bucket, 'default', 'productpage') as Record<string, any>;
    svc.spec.type = 'NodePort';
    await cluster.rest.update(svcDef, 'default', 'productpage', svc, { user: 'bench' });
    const nodeSvc = cluster.store.get(svcDef.bucket, 'default', 'productpage') as Record<string, any>;
    const nodePort = nodeSvc.spec.ports[0].nodePort as number;
    for (let i = 0; i < 100 && workloads.nodePortAddresses().length === 0; i++) await cluster.settle();
    const [nodeAddress] = workloads.nodePortAddresses();
    if (!nodeAddress) throw new Error('no NodePort listener');

    // An unnamed Service port: `services/NAME/proxy` then picks it (Bookinfo's ports are named).
    await cluster.rest.create(svcDef, 'default', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'pp-bench' }, spec: { selector: { app: 'productpage' }, ports: [{ port: 9080 }] } }, { user: 'bench' });
    await cluster.settle();
    await new Promise<void>((r) => baseline.listen(0, '127.0.0.1', () => r()));
    const basePort = (baseline.address() as AddressInfo).port;

    const plain = await load(`http://127.0.0.1:${basePort}/`);
    const details = await load(`http://${nodeAddress}/api/v1/products/0`);
    const page = await load(`http://${nodeAddress}/productpage`);
    console.log(`NodePort throughput (${CONNECTIONS} keep-alive connections, ${DURATION_MS / 1000} s each)`);
    console.log(`  plain Node http server (baseline) ${plain.rps.toFixed(0)} req/s`);
    console.log(`  NodePort /api/v1/products/0       ${details.rps.toFixed(0)} req/s  ratio ${(details.rps / plain.rps).toFixed(2)}  errors ${details.errors}`);
    console.log(`  NodePort /productpage (fan-out)   ${page.rps.toFixed(0)} req/s  ratio ${(page.rps / plain.rps).toFixed(2)}  errors ${page.errors}`);

    const agent = new https.Agent({ keepAlive: true, ca: cluster.caPem });
    const api = (path: string) =>
      new Promise<void>((resolve, reject) => {
        https
          .get(`${cluster.url}${path}`, { agent, headers: { authorization: `Bearer ${cluster.token}` } }, (res) => {
            res.resume();
            res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${path}: HTTP ${res.statusCode}`))));
          })
          .on('error', reject);
      });
    const plainAgent = new http.Agent({ keepAlive: true });
    await latencies(20, () => api('/api/v1/namespaces/default/services/pp-bench/proxy/productpage'));
    const proxied = await latencies(150, () => api('/api/v1/namespaces/default/services/pp-bench/proxy/productpage'));
    const version = await latencies(150, () => api('/version'));
    const direct = await latencies(150, () => get(plainAgent, `http://127.0.0.1:${basePort}/`));
    agent.destroy();
    plainAgent.destroy();
    const line = (name: string, xs: number[]) => `  ${name.padEnd(36)} p50 ${pct(xs, 50).toFixed(2)} ms  p99 ${pct(xs, 99).toFixed(2)} ms`;
    console.log('Latency, sequential keep-alive requests (n=150)');
    console.log(line('plain Node http server (baseline)', direct));
    console.log(line('API server GET /version', version));
    console.log(line('productpage via the service proxy', proxied));
    console.log(`  ratio productpage-proxy / /version p50 ${(pct(proxied, 50) / pct(version, 50)).toFixed(2)}  / plain p50 ${(pct(proxied, 50) / pct(direct, 50)).toFixed(2)}`);
  } finally {
    baseline.close();
    baseline.closeAllConnections();
    await cluster.stop();
  }
}
