/**
 * The embedded cluster through @kubernetes/client-node (what the playground's checks use) and
 * kubectl's raw mode: list paging, watches, garbage collection, namespace lifecycle, admission,
 * snapshots, several clusters at once, and bad input that must leave the store untouched.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import https from 'node:https';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { EmbeddedCluster } from '../../server/sim/cluster.js';
import { ApiError } from '../../server/sim/errors.js';

let cluster: EmbeddedCluster;
let kc: k8s.KubeConfig;
let core: k8s.CoreV1Api;
let dir: string;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function eventually<T>(fn: () => T | Promise<T>, timeoutMs = 5000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > until) throw e;
      await sleep(50);
    }
  }
}

function clientFor(c: EmbeddedCluster): k8s.KubeConfig {
  const k = new k8s.KubeConfig();
  k.loadFromString(c.kubeconfig());
  return k;
}

async function status(p: Promise<unknown>): Promise<{ code: number; body: any }> {
  try {
    await p;
    return { code: 200, body: undefined };
  } catch (e) {
    const ex = e as k8s.ApiException<string>;
    return { code: ex.code, body: typeof ex.body === 'string' ? JSON.parse(ex.body) : ex.body };
  }
}

function kubectl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('kubectl', args, { env: { PATH: process.env.PATH!, HOME: dir, KUBECONFIG: join(dir, 'kubeconfig'), KUBECACHEDIR: join(dir, 'cache') } }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** A raw HTTPS request, for inputs no well-behaved client sends. */
function raw(c: EmbeddedCluster, method: string, path: string, body: string | Buffer, headers: Record<string, string>): Promise<{ code: number; body: any }> {
  return new Promise((resolve, reject) => {
    const u = new URL(path, c.url);
    const req = https.request({ hostname: u.hostname, port: u.port, path: u.pathname + u.search, method, ca: c.caPem, headers: { Authorization: `Bearer ${c.token}`, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        resolve({ code: res.statusCode!, body: text.startsWith('{') ? JSON.parse(text) : text });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const cm = (name: string, extra: Partial<k8s.V1ConfigMap> = {}): k8s.V1ConfigMap => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...(extra.metadata ?? {}) }, data: extra.data ?? { k: 'v' } });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sim-client-'));
  cluster = await EmbeddedCluster.start({ watchHistory: 50, bookmarkIntervalMs: 200 });
  await cluster.writeKubeconfig(join(dir, 'kubeconfig'));
  kc = clientFor(cluster);
  core = kc.makeApiClient(k8s.CoreV1Api);
});

afterAll(async () => {
  await cluster?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('CRUD and lists', () => {
  it('creates with generateName, lists pages with limit/continue, and filters by label and field', async () => {
    await core.createNamespace({ body: { metadata: { name: 'pages' } } });
    for (let i = 0; i < 5; i++) await core.createNamespacedConfigMap({ namespace: 'pages', body: cm(`c${i}`, { metadata: { labels: { idx: String(i), parity: i % 2 ? 'odd' : 'even' } } }) });
    const gen = await core.createNamespacedConfigMap({ namespace: 'pages', body: { metadata: { generateName: 'gen-' } } });
    expect(gen.metadata!.name).toMatch(/^gen-[a-z0-9]{5}$/);
    expect(gen.metadata!.uid).toMatch(/^[0-9a-f-]{36}$/);

    const page1 = await core.listNamespacedConfigMap({ namespace: 'pages', limit: 2 });
    expect(page1.items.map((i) => i.metadata!.name)).toEqual(['c0', 'c1']);
    expect(page1.metadata!._continue).toBeTruthy();
    const page2 = await core.listNamespacedConfigMap({ namespace: 'pages', limit: 2, _continue: page1.metadata!._continue });
    expect(page2.items.map((i) => i.metadata!.name)).toEqual(['c2', 'c3']);

    const odd = await core.listNamespacedConfigMap({ namespace: 'pages', labelSelector: 'parity=odd' });
    expect(odd.items.map((i) => i.metadata!.name)).toEqual(['c1', 'c3']);
    const sel = await core.listNamespacedConfigMap({ namespace: 'pages', labelSelector: 'idx in (0,4),!missing' });
    expect(sel.items.map((i) => i.metadata!.name)).toEqual(['c0', 'c4']);
    const byName = await core.listConfigMapForAllNamespaces({ fieldSelector: 'metadata.namespace=pages,metadata.name!=c0', labelSelector: 'idx' });
    expect(byName.items.map((i) => i.metadata!.name)).toEqual(['c1', 'c2', 'c3', 'c4']);
    const badField = await status(core.listNamespacedConfigMap({ namespace: 'pages', fieldSelector: 'spec.nope=1' }));
    expect(badField.code).toBe(400);
    expect(badField.body.message).toBe('field label not supported: spec.nope');
  });

  it('rejects a stale resourceVersion with 409 and does not bump resourceVersion on a no-op update', async () => {
    const c = await core.readNamespacedConfigMap({ name: 'c0', namespace: 'pages' });
    const updated = await core.replaceNamespacedConfigMap({ name: 'c0', namespace: 'pages', body: { ...c, data: { k: 'changed' } } });
    expect(Number(updated.metadata!.resourceVersion)).toBeGreaterThan(Number(c.metadata!.resourceVersion));
    const stale = await status(core.replaceNamespacedConfigMap({ name: 'c0', namespace: 'pages', body: { ...c, data: { k: 'again' } } }));
    expect(stale.code).toBe(409);
    expect(stale.body.reason).toBe('Conflict');
    const same = await core.replaceNamespacedConfigMap({ name: 'c0', namespace: 'pages', body: updated });
    expect(same.metadata!.resourceVersion).toBe(updated.metadata!.resourceVersion);
  });

  it('bumps generation on spec changes only, and serves the scale subresource', async () => {
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    const d = await apps.createNamespacedDeployment({
      namespace: 'pages',
      body: { metadata: { name: 'd' }, spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] } } } },
    });
    expect(d.metadata!.generation).toBe(1);
    expect(d.spec!.replicas).toBe(1);
    const labelled = await apps.patchNamespacedDeployment({ name: 'd', namespace: 'pages', body: { metadata: { labels: { x: 'y' } } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    expect(labelled.metadata!.generation).toBe(1);
    const scale = await apps.replaceNamespacedDeploymentScale({ name: 'd', namespace: 'pages', body: { metadata: { name: 'd', namespace: 'pages' }, spec: { replicas: 3 } } });
    expect(scale.spec!.replicas).toBe(3);
    const after = await apps.readNamespacedDeployment({ name: 'd', namespace: 'pages' });
    expect(after.spec!.replicas).toBe(3);
    expect(after.metadata!.generation).toBe(2);
    const st = await apps.replaceNamespacedDeploymentStatus({ name: 'd', namespace: 'pages', body: { ...after, spec: { ...after.spec!, replicas: 9 }, status: { replicas: 3, observedGeneration: 2 } } });
    expect(st.status!.replicas).toBe(3);
    expect(st.spec!.replicas).toBe(3); // a status update cannot change spec
    expect(st.metadata!.generation).toBe(2);
  });
});

describe('pods', () => {
  it('defaults a pod as kube-apiserver and its admission plugins do, and evicts it', async () => {
    const pod = await core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } });
    expect(pod.status!.phase).toBe('Pending');
    expect(pod.status!.qosClass).toBe('BestEffort');
    expect(pod.spec!.serviceAccountName).toBe('default');
    expect(pod.spec!.tolerations!.map((t) => t.key)).toEqual(['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']);
    expect(pod.spec!.containers[0].volumeMounts![0].mountPath).toBe('/var/run/secrets/kubernetes.io/serviceaccount');
    await core.createNamespacedPodEviction({ name: 'p', namespace: 'default', body: { metadata: { name: 'p', namespace: 'default' } } });
    expect((await status(core.readNamespacedPod({ name: 'p', namespace: 'default' }))).code).toBe(404);
  });
});

describe('versions sharing storage', () => {
  it('serves events.k8s.io/v1 and core/v1 Events from one store, fields renamed as kube converts them', async () => {
    const ev = kc.makeApiClient(k8s.EventsV1Api);
    await ev.createNamespacedEvent({
      namespace: 'default',
      body: { metadata: { name: 'e1' }, eventTime: new Date('2025-01-01T00:00:00Z'), reportingController: 'bench', reportingInstance: 'bench-1', action: 'Testing', reason: 'Tested', note: 'hello', type: 'Normal', regarding: { kind: 'Pod', name: 'p', namespace: 'default' } },
    });
    const core1 = await core.readNamespacedEvent({ name: 'e1', namespace: 'default' });
    expect(core1.message).toBe('hello');
    expect(core1.involvedObject.name).toBe('p');
    expect(core1.reportingComponent).toBe('bench');
  });

  it('serves autoscaling/v1 HPAs over autoscaling/v2 storage', async () => {
    const v1 = kc.makeApiClient(k8s.AutoscalingV1Api);
    const v2 = kc.makeApiClient(k8s.AutoscalingV2Api);
    await v1.createNamespacedHorizontalPodAutoscaler({ namespace: 'default', body: { metadata: { name: 'h' }, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'd' }, maxReplicas: 4, targetCPUUtilizationPercentage: 60 } } });
    const asV2 = await v2.readNamespacedHorizontalPodAutoscaler({ name: 'h', namespace: 'default' });
    expect(asV2.spec!.metrics![0].resource!.target.averageUtilization).toBe(60);
    const asV1 = await v1.readNamespacedHorizontalPodAutoscaler({ name: 'h', namespace: 'default' });
    expect(asV1.spec!.targetCPUUtilizationPercentage).toBe(60);
  });
});

describe('watch', () => {
  it('delivers ADDED, MODIFIED and DELETED events from a resourceVersion', async () => {
    const list = await core.listNamespacedConfigMap({ namespace: 'default' });
    const events: string[] = [];
    const w = new k8s.Watch(kc);
    const ctl = await w.watch('/api/v1/namespaces/default/configmaps', { resourceVersion: list.metadata!.resourceVersion }, (type, obj) => events.push(`${type} ${obj.metadata.name}`), () => {});
    await core.createNamespacedConfigMap({ namespace: 'default', body: cm('w1') });
    await core.patchNamespacedConfigMap({ name: 'w1', namespace: 'default', body: { data: { k: 'v2' } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    await core.deleteNamespacedConfigMap({ name: 'w1', namespace: 'default' });
    await eventually(() => expect(events).toEqual(['ADDED w1', 'MODIFIED w1', 'DELETED w1']));
    ctl.abort();
  });

  it('answers an expired resourceVersion with a 410 Expired ERROR event, and sends bookmarks when allowed', async () => {
    const start = (await core.listNamespacedConfigMap({ namespace: 'default' })).metadata!.resourceVersion!;
    for (let i = 0; i < 60; i++) await core.createNamespacedConfigMap({ namespace: 'default', body: cm(`burst-${i}`) });
    const got: { type: string; obj: any }[] = [];
    let done = false;
    await new k8s.Watch(kc).watch('/api/v1/namespaces/default/configmaps', { resourceVersion: start }, (type, obj) => got.push({ type, obj }), () => (done = true));
    await eventually(() => expect(got.length).toBeGreaterThan(0));
    expect(got[0].type).toBe('ERROR');
    expect(got[0].obj.code).toBe(410);
    expect(got[0].obj.reason).toBe('Expired');
    expect(got[0].obj.message).toMatch(/^too old resource version: \d+ \(\d+\)$/);
    await eventually(() => expect(done).toBe(true));

    const marks: any[] = [];
    const ctl = await new k8s.Watch(kc).watch('/api/v1/namespaces/default/configmaps', { allowWatchBookmarks: true, resourceVersion: String(cluster.store.currentRV) }, (type, obj) => type === 'BOOKMARK' && marks.push(obj), () => {});
    await eventually(() => expect(marks.length).toBeGreaterThan(0));
    expect(marks[0]).toMatchObject({ kind: 'ConfigMap', apiVersion: 'v1', metadata: { resourceVersion: String(cluster.store.currentRV) } });
    ctl.abort();
  });
});

describe('garbage collection and namespaces', () => {
  const owned = (name: string, owner: k8s.V1ConfigMap, block = false): k8s.V1ConfigMap =>
    cm(name, { metadata: { ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: owner.metadata!.name!, uid: owner.metadata!.uid!, ...(block ? { blockOwnerDeletion: true } : {}) }] } });

  it('deletes dependents in the background, keeps them on orphan, and deletes them first in the foreground', async () => {
    const ns = 'gc';
    await core.createNamespace({ body: { metadata: { name: ns } } });
    const read = (name: string) => core.readNamespacedConfigMap({ name, namespace: ns });

    const o1 = await core.createNamespacedConfigMap({ namespace: ns, body: cm('owner1') });
    await core.createNamespacedConfigMap({ namespace: ns, body: owned('dep1', o1) });
    await core.deleteNamespacedConfigMap({ name: 'owner1', namespace: ns, propagationPolicy: 'Background' });
    await eventually(async () => expect((await status(read('dep1'))).code).toBe(404));

    const o2 = await core.createNamespacedConfigMap({ namespace: ns, body: cm('owner2') });
    await core.createNamespacedConfigMap({ namespace: ns, body: owned('dep2', o2) });
    await core.deleteNamespacedConfigMap({ name: 'owner2', namespace: ns, propagationPolicy: 'Orphan' });
    await eventually(async () => expect((await status(read('owner2'))).code).toBe(404));
    expect((await read('dep2')).metadata!.ownerReferences).toBeUndefined();

    const o3 = await core.createNamespacedConfigMap({ namespace: ns, body: cm('owner3') });
    await core.createNamespacedConfigMap({ namespace: ns, body: owned('dep3', o3, true) });
    // The dependent holds the owner until it is gone: a finalizer keeps it around for a moment.
    await core.patchNamespacedConfigMap({ name: 'dep3', namespace: ns, body: { metadata: { finalizers: ['example.com/hold'] } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    await core.deleteNamespacedConfigMap({ name: 'owner3', namespace: ns, propagationPolicy: 'Foreground' });
    await eventually(async () => expect((await read('dep3')).metadata!.deletionTimestamp).toBeTruthy());
    const owner = await read('owner3');
    expect(owner.metadata!.deletionTimestamp).toBeTruthy();
    expect(owner.metadata!.finalizers).toContain('foregroundDeletion');
    await core.patchNamespacedConfigMap({ name: 'dep3', namespace: ns, body: { metadata: { finalizers: null } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    await eventually(async () => expect((await status(read('owner3'))).code).toBe(404));
  });

  it('a Terminating namespace refuses new content with 403 and goes once its contents are gone', async () => {
    await core.createNamespace({ body: { metadata: { name: 'doomed' } } });
    await core.createNamespacedConfigMap({ namespace: 'doomed', body: cm('held', { metadata: { finalizers: ['example.com/hold'] } }) });
    await core.deleteNamespace({ name: 'doomed' });
    const ns = await core.readNamespace({ name: 'doomed' });
    expect(ns.status!.phase).toBe('Terminating');
    const refused = await status(core.createNamespacedConfigMap({ namespace: 'doomed', body: cm('late') }));
    expect(refused.code).toBe(403);
    expect(refused.body.message).toBe('configmaps "late" is forbidden: unable to create new content in namespace doomed because it is being terminated');
    await core.patchNamespacedConfigMap({ name: 'held', namespace: 'doomed', body: { metadata: { finalizers: null } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    await eventually(async () => expect((await status(core.readNamespace({ name: 'doomed' }))).code).toBe(404));
    const missing = await status(core.createNamespacedConfigMap({ namespace: 'doomed', body: cm('x') }));
    expect(missing.code).toBe(404);
    expect(missing.body.message).toBe('namespaces "doomed" not found');
  });
});

describe('admission, snapshots, several clusters', () => {
  it('runs mutating then validating admission plugins on writes', async () => {
    const seen: string[] = [];
    const off1 = cluster.admission.register({
      name: 'label-adder',
      mutate(req) {
        seen.push(`mutate ${req.operation} ${req.resource.resource}`);
        if (req.object && req.resource.resource === 'configmaps') req.object.metadata.labels = { ...(req.object.metadata.labels ?? {}), admitted: 'yes' };
      },
    });
    const off2 = cluster.admission.register({
      name: 'deny-forbidden',
      validate(req) {
        seen.push(`validate ${req.operation}`);
        if (req.object?.metadata.name === 'forbidden') throw new ApiError(403, 'Forbidden', 'admission webhook "deny-forbidden" denied the request: no');
      },
    });
    try {
      const made = await core.createNamespacedConfigMap({ namespace: 'default', body: cm('admitted') });
      expect(made.metadata!.labels).toEqual({ admitted: 'yes' });
      const denied = await status(core.createNamespacedConfigMap({ namespace: 'default', body: cm('forbidden') }));
      expect(denied.code).toBe(403);
      expect(denied.body.message).toContain('denied the request');
      expect(seen.slice(0, 2)).toEqual(['mutate CREATE configmaps', 'validate CREATE']);
      expect((await status(core.readNamespacedConfigMap({ name: 'forbidden', namespace: 'default' }))).code).toBe(404);
    } finally {
      off1();
      off2();
    }
  });

  it('restores a snapshot with resourceVersions still increasing', async () => {
    await core.createNamespacedConfigMap({ namespace: 'default', body: cm('before-snap') });
    const snap = cluster.snapshot();
    const rvAtSnap = cluster.store.currentRV;
    await core.createNamespacedConfigMap({ namespace: 'default', body: cm('after-snap') });
    await core.deleteNamespacedConfigMap({ name: 'before-snap', namespace: 'default' });
    cluster.restore(snap);
    expect((await core.readNamespacedConfigMap({ name: 'before-snap', namespace: 'default' })).data).toEqual({ k: 'v' });
    expect((await status(core.readNamespacedConfigMap({ name: 'after-snap', namespace: 'default' }))).code).toBe(404);
    const next = await core.createNamespacedConfigMap({ namespace: 'default', body: cm('post-restore') });
    expect(Number(next.metadata!.resourceVersion)).toBeGreaterThan(rvAtSnap + 2);
  });

  it('runs independent clusters side by side, and stop frees the port', async () => {
    const other = await EmbeddedCluster.start();
    const otherCore = clientFor(other).makeApiClient(k8s.CoreV1Api);
    await otherCore.createNamespacedConfigMap({ namespace: 'default', body: cm('only-here') });
    expect((await status(core.readNamespacedConfigMap({ name: 'only-here', namespace: 'default' }))).code).toBe(404);
    const crossToken = await raw(other, 'GET', '/api/v1/namespaces', '', { Authorization: `Bearer ${cluster.token}` });
    expect(crossToken.code).toBe(401);
    await other.stop();
    await expect(otherCore.listNamespace()).rejects.toThrow();
  });
});

describe('bad input leaves the store unchanged', () => {
  it('malformed bodies, huge bodies, wrong content types, unknown paths and methods get 4xx', async () => {
    const rv = cluster.store.currentRV;
    const malformed = join(dir, 'malformed.json');
    await writeFile(malformed, '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {');
    const r1 = await kubectl(['create', '--raw', '/api/v1/namespaces/default/configmaps', '-f', malformed]);
    expect(r1.code).toBe(1);
    expect(r1.stderr).toContain('Error from server (BadRequest)');

    const huge = join(dir, 'huge.json');
    await writeFile(huge, JSON.stringify(cm('huge', { data: { blob: 'x'.repeat(4 * 1024 * 1024) } })));
    const r2 = await kubectl(['create', '--raw', '/api/v1/namespaces/default/configmaps', '-f', huge]);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/RequestEntityTooLarge|Request entity too large/);

    const r3 = await raw(cluster, 'POST', '/api/v1/namespaces/default/configmaps', 'name=x', { 'Content-Type': 'text/plain' });
    expect(r3.code).toBe(415);
    expect(r3.body.reason).toBe('UnsupportedMediaType');

    const r4 = await kubectl(['get', '--raw', '/apis/nope.example.com/v1/things']);
    expect(r4.code).toBe(1);
    expect(r4.stderr).toContain('Error from server (NotFound): the server could not find the requested resource');

    const r5 = await raw(cluster, 'PUT', '/api/v1/namespaces/default/configmaps', '{}', { 'Content-Type': 'application/json' });
    expect(r5.code).toBe(405);
    expect(r5.body.reason).toBe('MethodNotAllowed');

    const r6 = await raw(cluster, 'PATCH', '/api/v1/namespaces/default/configmaps/kube-root-ca.crt', '{"data":', { 'Content-Type': 'application/merge-patch+json' });
    expect(r6.code).toBe(400);

    const r7 = await raw(cluster, 'POST', '/api/v1/namespaces/default/configmaps', '[1,2]', { 'Content-Type': 'application/json' });
    expect(r7.code).toBe(400);

    const r8 = await raw(cluster, 'POST', '/api/v1/namespaces/default/configmaps', 'a: [', { 'Content-Type': 'application/yaml' });
    expect(r8.code).toBe(400);
    expect(r8.body.message).toMatch(/^error converting YAML to JSON/);

    for (const body of ['{"metadata":{"name":42}}', '{"metadata":[]}', '{"metadata":{"name":"x","labels":{"a":1}}}', '{"metadata":{"name":"x","finalizers":"f"}}', '{"metadata":{"name":"x"},"data":{"k":{"deep":true}}}']) {
      const r = await raw(cluster, 'POST', '/api/v1/namespaces/default/configmaps', body, { 'Content-Type': 'application/json' });
      expect(r.code, body).toBeGreaterThanOrEqual(400);
      expect(r.code, body).toBeLessThan(500);
    }
    const r9 = await raw(cluster, 'GET', '/api/v1/namespaces/%zz/configmaps', '', {});
    expect(r9.code).toBe(400);

    expect(cluster.store.currentRV).toBe(rv);
    // …and the server still answers normally.
    expect((await core.readNamespace({ name: 'default' })).metadata!.name).toBe('default');
  });
});
