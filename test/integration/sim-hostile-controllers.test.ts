/**
 * Whatever the API accepts, the controllers live with (fast-check, fixed seed): hostile but
 * accepted Deployments, ReplicaSets, StatefulSets, DaemonSets, Jobs, Pods and Services, created
 * and patched in an embedded cluster whose nodes, scheduler, kubelets and controllers run.
 * After each accepted write the controllers settle without logging a failed reconcile, and the
 * cluster still runs a normal Deployment to Ready for kubectl afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import https from 'node:https';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { EmbeddedCluster } from '../../server/sim/cluster.js';

const SEED = Number(process.env.SIM_FUZZ_SEED ?? 1414);
const NUM_RUNS = Number(process.env.SIM_FUZZ_RUNS ?? 100);
const NS = 'ctl';

let cluster: EmbeddedCluster;
let dir: string;
const logged: string[] = [];
const origError = console.error;
let accepted = 0;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const container = { name: 'c', image: 'nginx', ports: [{ containerPort: 80, name: 'http' }], env: [{ name: 'A', value: '1' }], resources: { requests: { cpu: '10m' } } };
const template = { metadata: { labels: { app: 'a' } }, spec: { containers: [container] } };
const KINDS: Record<string, { base: string; seed: Record<string, Json>; paths: (string | number)[][] }> = {
  deployments: { base: `/apis/apps/v1/namespaces/${NS}/deployments`, seed: { apiVersion: 'apps/v1', kind: 'Deployment', spec: { replicas: 2, selector: { matchLabels: { app: 'a' } }, template } }, paths: [] },
  replicasets: { base: `/apis/apps/v1/namespaces/${NS}/replicasets`, seed: { apiVersion: 'apps/v1', kind: 'ReplicaSet', spec: { replicas: 1, selector: { matchLabels: { app: 'a' } }, template } }, paths: [] },
  statefulsets: { base: `/apis/apps/v1/namespaces/${NS}/statefulsets`, seed: { apiVersion: 'apps/v1', kind: 'StatefulSet', spec: { replicas: 1, serviceName: 's', selector: { matchLabels: { app: 'a' } }, template } }, paths: [['spec', 'serviceName'], ['spec', 'volumeClaimTemplates']] },
  daemonsets: { base: `/apis/apps/v1/namespaces/${NS}/daemonsets`, seed: { apiVersion: 'apps/v1', kind: 'DaemonSet', spec: { selector: { matchLabels: { app: 'a' } }, template } }, paths: [['spec', 'updateStrategy']] },
  jobs: { base: `/apis/batch/v1/namespaces/${NS}/jobs`, seed: { apiVersion: 'batch/v1', kind: 'Job', spec: { template: { spec: { containers: [container], restartPolicy: 'Never' } } } }, paths: [['spec', 'completions'], ['spec', 'parallelism'], ['spec', 'backoffLimit']] },
  pods: { base: `/api/v1/namespaces/${NS}/pods`, seed: { apiVersion: 'v1', kind: 'Pod', metadata: { labels: { app: 'a' } }, spec: { containers: [container] } }, paths: [] },
  services: { base: `/api/v1/namespaces/${NS}/services`, seed: { apiVersion: 'v1', kind: 'Service', spec: { selector: { app: 'a' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } }, paths: [['spec', 'ports', 0], ['spec', 'ports', 0, 'targetPort'], ['spec', 'type'], ['spec', 'selector'], ['spec', 'ports', 0, 'nodePort']] },
};

/** Where controllers look: the pod template of workloads, a pod's own spec. */
const podPaths = (prefix: (string | number)[]): (string | number)[][] => [
  [...prefix, 'containers'], [...prefix, 'containers', 0], [...prefix, 'containers', 0, 'ports'], [...prefix, 'containers', 0, 'ports', 0], [...prefix, 'containers', 0, 'ports', 0, 'containerPort'],
  [...prefix, 'containers', 0, 'env'], [...prefix, 'containers', 0, 'env', 0], [...prefix, 'containers', 0, 'resources'], [...prefix, 'containers', 0, 'command'], [...prefix, 'containers', 0, 'readinessProbe'],
  [...prefix, 'containers', 0, 'livenessProbe'], [...prefix, 'containers', 0, 'image'], [...prefix, 'initContainers'], [...prefix, 'volumes'], [...prefix, 'nodeSelector'], [...prefix, 'tolerations'],
  [...prefix, 'affinity'], [...prefix, 'restartPolicy'], [...prefix, 'terminationGracePeriodSeconds'], [...prefix, 'hostNetwork'], [...prefix, 'nodeName'],
];
for (const k of ['deployments', 'replicasets', 'statefulsets', 'daemonsets', 'jobs']) {
  KINDS[k]!.paths.push(['spec', 'replicas'], ['spec', 'selector'], ['spec', 'template', 'metadata'], ['spec', 'template', 'metadata', 'labels'], ...podPaths(['spec', 'template', 'spec']));
}
KINDS.pods!.paths.push(['metadata', 'labels'], ['metadata', 'ownerReferences'], ...podPaths(['spec']));

function request(method: string, path: string, body: string | undefined, headersIn: Record<string, string> = {}): Promise<{ code: number; body: any }> {
  const headers = body === undefined ? headersIn : { 'Content-Type': 'application/json', ...headersIn, 'Content-Length': String(Buffer.byteLength(body)) };
  return new Promise((resolve, reject) => {
    const u = new URL(path, cluster.url);
    const req = https.request({ hostname: u.hostname, port: u.port, path: u.pathname + u.search, method, ca: cluster.caPem, headers: { Authorization: `Bearer ${cluster.token}`, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // not JSON
        }
        resolve({ code: res.statusCode!, body: parsed });
      });
    });
    req.on('error', (e) => reject(new Error(`${method} ${path}: ${e.message}`)));
    req.end(body);
  });
}

function kubectl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('kubectl', args, { env: { PATH: process.env.PATH!, HOME: dir, KUBECONFIG: join(dir, 'kubeconfig'), KUBECACHEDIR: join(dir, 'cache') } }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

function setPath(root: Record<string, Json>, path: (string | number)[], value: Json): void {
  let cur: any = root;
  for (let i = 0; i < path.length - 1; i++) {
    const k = path[i]!;
    if (cur[k] === null || typeof cur[k] !== 'object') cur[k] = typeof path[i + 1] === 'number' ? [] : {};
    cur = cur[k];
  }
  cur[path[path.length - 1]!] = value;
}

/** Values that often pass validation yet are odd: what controllers must not trip over. */
const oddValue: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(null, [null], {}, [], '', 0, 1, -1, 3, 1000, 2147483647, 'x', 'http', 'nginx', 'TCP', 'Always', 'Never', 'OnFailure', 'NodePort', 'LoadBalancer', 'ExternalName', 'None', 'RollingUpdate', 'OnDelete'),
  fc.constantFrom<Json>(
    { app: 'a' }, { app: 'b' }, { matchLabels: { app: 'a' } }, { matchExpressions: [{ key: 'app', operator: 'In', values: ['a'] }] }, { matchExpressions: [{ key: 'app', operator: 'Exists' }] },
    [{ name: 'x', containerPort: 8080 }], [{ containerPort: 80 }, { containerPort: 80 }], [{ name: 'v', emptyDir: {} }], [{ name: 'v', configMap: { name: 'missing' } }],
    { httpGet: { path: '/', port: 'http' } }, { httpGet: { path: '/', port: 65535 } }, { exec: { command: ['false'] } }, { tcpSocket: { port: 1 } },
    { limits: { cpu: '0', memory: '1' } }, { requests: { cpu: '100', memory: '1Ei' } }, ['sh', '-c', 'exit 1'], [{ key: 'k', operator: 'Exists' }],
    { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'nope', operator: 'In', values: ['x'] }] }] } } },
    [{ name: 'c2', image: 'busybox' }], [{ name: 'init', image: 'busybox', command: ['true'] }], [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'gone', uid: 'u-1', controller: true }],
    { type: 'RollingUpdate', rollingUpdate: { maxSurge: '200%', maxUnavailable: 0 } }, { type: 'Recreate' }, { name: 'http', port: 80, targetPort: 'nope' }, { port: 1, nodePort: 30000 },
  ),
);

const kindNames = Object.keys(KINDS);
const arb = fc.record({
  kind: fc.constantFrom(...kindNames),
  verb: fc.constantFrom('create', 'create', 'create', 'merge', 'merge', 'strategic', 'strategic', 'scale', 'scale', 'json'),
  muts: fc.array(fc.tuple(fc.nat(), oddValue), { minLength: 1, maxLength: 2 }),
  name: fc.constantFrom('w0', 'w1', 'w2'),
  replicas: fc.oneof(fc.integer({ min: -1, max: 5 }), fc.constant(100)),
});

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sim-hostile-ctl-'));
  cluster = await EmbeddedCluster.start({ workloads: { timings: { schedule: 1, pull: 1, start: 1, ready: 5, terminate: 20, run: 5, backoff: 10, probeDelayScale: 0.01 } } });
  await cluster.writeKubeconfig(join(dir, 'kubeconfig'));
  console.error = (...args: unknown[]) => {
    logged.push(args.map((a) => (a instanceof Error ? a.stack : String(a))).join(' '));
    origError(...args);
  };
  expect((await request('POST', '/api/v1/namespaces', JSON.stringify({ metadata: { name: NS } }))).code).toBe(201);
}, 60_000);

afterAll(async () => {
  console.error = origError;
  await cluster?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('controllers under accepted hostile objects', () => {
  it(`settle without a failed reconcile (${NUM_RUNS} runs, seed ${SEED})`, async () => {
    await fc.assert(
      fc.asyncProperty(arb, async (r) => {
        const kind = KINDS[r.kind]!;
        const body: Record<string, Json> = JSON.parse(JSON.stringify({ ...kind.seed, metadata: { ...((kind.seed.metadata as object) ?? {}), name: r.name } }));
        const patch: Record<string, Json> = {};
        for (const [i, v] of r.muts) setPath(r.verb === 'create' ? body : patch, kind.paths[i % kind.paths.length]!, v);
        if (process.env.SIM_FUZZ_DEBUG) process.stderr.write(`>> ${r.verb} ${r.kind}/${r.name} ${JSON.stringify(r.verb === 'create' ? body : patch).slice(0, 400)}\n`);
        let a: { code: number; body: any };
        const one = `${kind.base}/${r.name}`;
        // Patches and scales find the object in place (a 409 when it already is).
        if (r.verb !== 'create') await request('POST', kind.base, JSON.stringify({ ...kind.seed, metadata: { ...((kind.seed.metadata as object) ?? {}), name: r.name } }));
        if (r.verb === 'create') a = await request('POST', kind.base, JSON.stringify(body));
        else if (r.verb === 'scale') a = await request('PATCH', `${one}/scale`, JSON.stringify({ spec: { replicas: r.replicas } }), { 'Content-Type': 'application/merge-patch+json' });
        else if (r.verb === 'json') {
          const ops = r.muts.map(([i, v]) => ({ op: 'add', path: '/' + kind.paths[i % kind.paths.length]!.join('/'), value: v }));
          a = await request('PATCH', one, JSON.stringify(ops), { 'Content-Type': 'application/json-patch+json' });
        } else a = await request('PATCH', one, JSON.stringify(patch), { 'Content-Type': r.verb === 'merge' ? 'application/merge-patch+json' : 'application/strategic-merge-patch+json' });
        const what = `${r.verb} ${r.kind}/${r.name} ${JSON.stringify(r.verb === 'create' ? body : patch).slice(0, 600)} → ${a.code} ${JSON.stringify(a.body).slice(0, 300)}`;
        if (a.code >= 500 && !(a.code === 500 && a.body?.reason === undefined && r.verb === 'strategic')) throw new Error(`a 5xx of ours: ${what}`);
        if (a.code < 300) accepted++;
        await cluster.settle();
        if (process.env.SIM_FUZZ_DEBUG) process.stderr.write(`<< ${a.code} ${JSON.stringify(a.body?.message ?? "").slice(0, 200)}\n`);
        if (logged.length) throw new Error(`${logged.join('\n').slice(0, 1500)}\nafter ${what}`);
      }),
      { seed: SEED, numRuns: NUM_RUNS },
    );
    // Enough of the odd objects were accepted for the controllers to have something to chew on.
    expect(accepted).toBeGreaterThan(NUM_RUNS / 15);
  }, 180_000);

  it('a DaemonSet whose template names a node gets a pod per node, not one per sync, and the process keeps serving', async () => {
    // Once a reconcile loop without end that starved the event loop: every learner's server hung.
    const ds = { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'pinned' }, spec: { selector: { matchLabels: { app: 'p' } }, template: { metadata: { labels: { app: 'p' } }, spec: { nodeName: 'no-such-node', containers: [{ name: 'c', image: 'nginx' }] } } } };
    expect((await request('POST', '/apis/apps/v1/namespaces/default/daemonsets', JSON.stringify(ds))).code).toBe(201);
    await cluster.settle();
    const nodes = await kubectl(['get', 'nodes', '-o', 'name']);
    const pods = await kubectl(['-n', 'default', 'get', 'pods', '-l', 'app=p', '-o', 'name']);
    expect(pods.stderr).toBe('');
    // One per node that takes it (the control plane's taint keeps it off there), not one per sync.
    const count = pods.stdout.trim().split('\n').length;
    expect(count).toBeGreaterThan(0);
    expect(count).toBeLessThanOrEqual(nodes.stdout.trim().split('\n').length);
    await cluster.settle();
    const again = await kubectl(['-n', 'default', 'get', 'pods', '-l', 'app=p', '-o', 'name']);
    expect(again.stdout).toBe(pods.stdout);
  }, 60_000);

  it('then still runs a normal Deployment to Ready for kubectl', async () => {
    const c = await kubectl(['-n', 'default', 'create', 'deployment', 'after', '--image=nginx', '--replicas=2']);
    expect(c.stderr).toBe('');
    const w = await kubectl(['-n', 'default', 'rollout', 'status', 'deployment/after', '--timeout=60s']);
    expect(w.stdout).toContain('successfully rolled out');
    expect(logged).toEqual([]);
  }, 90_000);
});
