/**
 * The objects client the step checks read the cluster with: discovery as kubectl does it (CRDs
 * created or deleted while the server runs included), reads, selector lists, the errors the check
 * kinds judge, and one pooled connection per kubeconfig. Objects are made with the real kubectl.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { createCheckContext, loadKubeConfig } from '../../server/checks/context.js';
import { ApiUnreachableError, KubeApiError, KubeObjects, UnknownKindError, kubeObjectsFor } from '../../server/checks/kube-objects.js';
import { apiMessage, apiStatus, classify } from '../../server/checks/kinds/errors.js';
import { apiRequest } from '../../server/checks/kinds/http.js';
import { select } from '../../server/checks/kinds/resource.js';
import { ClusterUnreachableError } from '../../server/checks/kinds/types.js';
import { EmbeddedCluster } from '../../server/sim/cluster.js';

const run = promisify(execFile);
let cluster: EmbeddedCluster;
let dir: string;
let kubeconfig: string;

const kubectl = (...args: string[]) => run('kubectl', args, { env: { ...process.env, KUBECONFIG: kubeconfig } });
const apply = async (name: string, doc: unknown) => {
  const file = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(file, YAML.stringify(doc));
  await kubectl('apply', '-f', file);
};

const GROUP = 'toys.playground.test';
const crd = (kind: string) => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `${kind.toLowerCase()}s.${GROUP}` },
  spec: {
    group: GROUP,
    scope: 'Namespaced',
    names: { plural: `${kind.toLowerCase()}s`, singular: kind.toLowerCase(), kind, listKind: `${kind}List` },
    versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
  },
});
const installCrd = async (kind: string) => {
  await apply(kind, crd(kind));
  await kubectl('wait', '--for=condition=Established', `crd/${kind.toLowerCase()}s.${GROUP}`, '--timeout=20s');
};

/** A TCP relay in front of the API server that counts the connections clients open through it. */
async function countingRelay(target: URL): Promise<{ url: string; connections: () => number; resetNextReuse: () => void; close: () => Promise<void> }> {
  let count = 0;
  let resetArmed = false;
  const sockets = new Set<net.Socket>();
  const relay = net.createServer((client) => {
    count++;
    const upstream = net.connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    }
    // Armed, the next bytes a client sends on a connection opened before are answered with a reset,
    // as when a server drops an idle keep-alive connection just as the client reuses it.
    const openedBefore = !resetArmed;
    client.on('data', () => {
      if (resetArmed && openedBefore) {
        resetArmed = false;
        client.resetAndDestroy();
        upstream.destroy();
      }
    });
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  const { port } = relay.address() as net.AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    connections: () => count,
    resetNextReuse: () => (resetArmed = true),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        relay.close(() => resolve());
      }),
  };
}

/** A kubeconfig for this cluster whose server is another URL. */
function kubeconfigVia(server: string, name: string): string {
  const doc = YAML.parse(cluster.kubeconfig()) as { clusters: { cluster: { server: string } }[] };
  doc.clusters[0]!.cluster.server = server;
  const file = path.join(dir, name);
  fs.writeFileSync(file, YAML.stringify(doc), { mode: 0o600 });
  return file;
}

beforeAll(async () => {
  cluster = await EmbeddedCluster.start();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-kube-objects-'));
  kubeconfig = path.join(dir, 'kubeconfig');
  await cluster.writeKubeconfig(kubeconfig);
  await kubectl('create', 'configmap', 'web', '--from-literal=message=hello');
  await kubectl('label', 'configmap', 'web', 'app=web');
  await kubectl('create', 'configmap', 'db', '--from-literal=message=hi');
  await kubectl('label', 'configmap', 'db', 'app=db');
});

afterAll(async () => {
  await cluster?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('discovery', () => {
  it('finds core and grouped kinds with their resource names and scopes, as kubectl does', async () => {
    const objects = new KubeObjects(loadKubeConfig(kubeconfig));
    expect(await objects.resource('v1', 'ConfigMap')).toEqual({ name: 'configmaps', namespaced: true });
    expect(await objects.resource('v1', 'Namespace')).toEqual({ name: 'namespaces', namespaced: false });
    expect(await objects.resource('apps/v1', 'Deployment')).toEqual({ name: 'deployments', namespaced: true });
    expect(await objects.resource('rbac.authorization.k8s.io/v1', 'ClusterRole')).toEqual({ name: 'clusterroles', namespaced: false });
    expect(await objects.collectionPath('apps/v1', 'Deployment', 'team a')).toBe('/apis/apps/v1/namespaces/team%20a/deployments');
    expect(await objects.collectionPath('v1', 'Namespace', 'default')).toBe('/api/v1/namespaces');
    await expect(objects.resource('v1', 'Nonsense')).rejects.toBeInstanceOf(UnknownKindError);
    objects.close();
  });

  it('finds a CustomResourceDefinition created after the first lookup, and notices when it is deleted', async () => {
    const objects = new KubeObjects(loadKubeConfig(kubeconfig));
    // Before the group exists at all, and then once it exists with another kind (now cached).
    await expect(objects.resource(`${GROUP}/v1`, 'Widget')).rejects.toMatchObject({ code: 404, name: 'UnknownKindError' });
    await installCrd('Widget');
    expect(await objects.resource(`${GROUP}/v1`, 'Widget')).toEqual({ name: 'widgets', namespaced: true });
    await expect(objects.resource(`${GROUP}/v1`, 'Gadget')).rejects.toBeInstanceOf(UnknownKindError);
    await installCrd('Gadget');
    expect(await objects.resource(`${GROUP}/v1`, 'Gadget')).toEqual({ name: 'gadgets', namespaced: true });

    await apply('gadget', { apiVersion: `${GROUP}/v1`, kind: 'Gadget', metadata: { name: 'g1', namespace: 'default' }, spec: { size: 3 } });
    expect(await objects.read(`${GROUP}/v1`, 'Gadget', 'g1', 'default')).toMatchObject({ kind: 'Gadget', spec: { size: 3 } });

    // The kind is still in the discovery cache when its CRD goes: a check must say the kind is gone, not that the object is.
    await kubectl('delete', 'crd', `gadgets.${GROUP}`);
    await expect(objects.read(`${GROUP}/v1`, 'Gadget', 'g1', 'default')).rejects.toBeInstanceOf(UnknownKindError);
    await installCrd('Gadget');
    const ctx = createCheckContext({ kc: loadKubeConfig(kubeconfig), shell: { cwd: dir, env: {} } });
    await ctx.objects.isNamespaced(`${GROUP}/v1`, 'Gadget');
    await kubectl('delete', 'crd', `gadgets.${GROUP}`);
    expect(await select(ctx, { apiVersion: `${GROUP}/v1`, kind: 'Gadget', name: 'g1' })).toEqual({
      missingKind: `the cluster has no Gadget resource in ${GROUP}/v1 (is its CustomResourceDefinition installed?)`,
    });
    objects.close();
  });
});

describe('objects', () => {
  it('reads one object as plain JSON, and a missing one is a 404 with the API server message', async () => {
    const objects = new KubeObjects(loadKubeConfig(kubeconfig));
    const web = await objects.read('v1', 'ConfigMap', 'web', 'default');
    expect(web).toMatchObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'web', namespace: 'default' }, data: { message: 'hello' } });
    // Timestamps stay as the API sends them (as `kubectl get -o json` shows them), not Date objects.
    expect(typeof web.metadata?.creationTimestamp).toBe('string');
    const missing = await objects.read('v1', 'ConfigMap', 'nope', 'default').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(KubeApiError);
    expect(missing).not.toBeInstanceOf(UnknownKindError);
    expect(apiStatus(missing)).toBe(404);
    expect(apiMessage(missing)).toBe('configmaps "nope" not found');
    objects.close();
  });

  it('lists by label selector, in one namespace or across all', async () => {
    const objects = new KubeObjects(loadKubeConfig(kubeconfig));
    const names = (list: { items: { metadata?: { name?: string } }[] }) => list.items.map((o) => o.metadata?.name).sort();
    expect(names(await objects.list('v1', 'ConfigMap', 'default', 'app=web'))).toEqual(['web']);
    expect(names(await objects.list('v1', 'ConfigMap', 'default', 'app in (web,db)'))).toEqual(['db', 'web']);
    expect(names(await objects.list('v1', 'ConfigMap', undefined, 'app=db'))).toEqual(['db']);
    expect(names(await objects.list('v1', 'Namespace', 'ignored-for-cluster-scope'))).toContain('kube-system');
    const bad = await objects.list('v1', 'ConfigMap', 'default', 'app in (web').catch((e: unknown) => e);
    expect(apiStatus(bad)).toBe(400);
    objects.close();
  });
});

describe('connections', () => {
  it('reuses one connection per kubeconfig for objects and API proxy requests', async () => {
    const relay = await countingRelay(new URL(cluster.url));
    try {
      const kc = loadKubeConfig(kubeconfigVia(relay.url, 'via-relay'));
      const objects = kubeObjectsFor(kc);
      expect(createCheckContext({ kc, shell: { cwd: dir, env: {} } }).objects).toBe(objects);
      for (let i = 0; i < 20; i++) await objects.read('v1', 'ConfigMap', 'web', 'default');
      for (let i = 0; i < 5; i++) expect((await apiRequest(kc, '/version')).status).toBe(200);
      expect(relay.connections()).toBe(1);
      // Parallel checks may open a few; the next sequential ones take a pooled one.
      await Promise.all([0, 1, 2].map(() => objects.list('v1', 'ConfigMap', 'default')));
      const afterBurst = relay.connections();
      expect(afterBurst).toBeLessThanOrEqual(3);
      for (let i = 0; i < 10; i++) await objects.read('v1', 'ConfigMap', 'db', 'default');
      expect(relay.connections()).toBe(afterBurst);
      objects.close();
    } finally {
      await relay.close();
    }
  });

  it('sends a read again on a fresh connection when a pooled one was reset as it was reused', async () => {
    const relay = await countingRelay(new URL(cluster.url));
    try {
      const objects = kubeObjectsFor(loadKubeConfig(kubeconfigVia(relay.url, 'reset')));
      await objects.read('v1', 'ConfigMap', 'web', 'default');
      relay.resetNextReuse();
      expect(await objects.read('v1', 'ConfigMap', 'web', 'default')).toMatchObject({ data: { message: 'hello' } });
      expect(relay.connections()).toBe(2);
      objects.close();
    } finally {
      await relay.close();
    }
  });

  it('reports a server that does not answer as unreachable, with no status code', async () => {
    const relay = await countingRelay(new URL(cluster.url));
    await relay.close();
    const kc = loadKubeConfig(kubeconfigVia(relay.url, 'dead'));
    const err = await kubeObjectsFor(kc).read('v1', 'ConfigMap', 'web', 'default').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiUnreachableError);
    expect(apiStatus(err)).toBeUndefined();
    // The words client-node's object API used, which learners saw before.
    expect((err as Error).message).toBe(`Failed to fetch resource metadata for v1/ConfigMap: request to ${relay.url}/api/v1 failed, reason: connect ECONNREFUSED ${relay.url.slice('https://'.length)}`);
    expect(() => classify(err)).toThrow(ClusterUnreachableError);
    expect(() => classify(err)).toThrow(/^the cluster did not answer: Failed to fetch resource metadata for v1\/ConfigMap: request to/);
    await expect(apiRequest(kc, '/version')).rejects.toThrow(`the Kubernetes API at ${relay.url} did not answer: connect ECONNREFUSED`);
  });

  it('reports a server that drops the connection mid-answer as unreachable', async () => {
    const hangUp = net.createServer((s) => s.destroy());
    await new Promise<void>((resolve) => hangUp.listen(0, '127.0.0.1', resolve));
    const { port } = hangUp.address() as net.AddressInfo;
    try {
      const kc = loadKubeConfig(kubeconfigVia(`https://127.0.0.1:${port}`, 'hang-up'));
      const err = await kubeObjectsFor(kc).list('v1', 'Pod', 'default').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApiUnreachableError);
      expect(apiStatus(err)).toBeUndefined();
    } finally {
      hangUp.close();
    }
  });
});

describe('watch', () => {
  const until = async (what: () => boolean, ms = 10_000) => {
    const deadline = Date.now() + ms;
    while (!what() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return what();
  };

  it('streams the events of changes made with kubectl, and nothing after abort', async () => {
    const objects = kubeObjectsFor(loadKubeConfig(kubeconfig));
    await kubectl('create', 'namespace', 'watched');
    await kubectl('create', 'configmap', 'sentinel', '-n', 'watched');
    const events: string[] = [];
    const ends: (Error | undefined)[] = [];
    const watch = await objects.watch(
      await objects.collectionPath('v1', 'ConfigMap', 'watched'),
      (type, object) => events.push(`${type} ${(object as { metadata?: { name?: string } }).metadata?.name}`),
      (err) => ends.push(err),
    );
    // A watch from no resourceVersion starts with what exists: once that has come, the watch is
    // registered and every change after it arrives as itself.
    expect(await until(() => events.includes('ADDED sentinel'))).toBe(true);
    await kubectl('create', 'configmap', 'first', '-n', 'watched', '--from-literal=a=1');
    await kubectl('label', 'configmap', 'first', '-n', 'watched', 'seen=yes');
    await kubectl('delete', 'configmap', 'first', '-n', 'watched');
    expect(await until(() => events.includes('DELETED first'))).toBe(true);
    // The namespace's own kube-root-ca.crt may come first; the learner's changes arrive in order.
    expect(events.filter((e) => e.endsWith(' first'))).toEqual(['ADDED first', 'MODIFIED first', 'DELETED first']);
    watch.abort();
    const seen = events.length;
    await kubectl('create', 'configmap', 'second', '-n', 'watched', '--from-literal=a=1');
    await new Promise((r) => setTimeout(r, 300));
    expect(events.length).toBe(seen);
    expect(ends).toEqual([]);
  });

  it('ends with the API error when the server refuses the watch', async () => {
    const objects = kubeObjectsFor(loadKubeConfig(kubeconfig));
    const ends: (Error | undefined)[] = [];
    await objects.watch('/api/v1/nosuchresources', () => {}, (err) => ends.push(err));
    expect(await until(() => ends.length > 0)).toBe(true);
    expect(ends[0]).toBeInstanceOf(KubeApiError);
    expect((ends[0] as KubeApiError).code).toBe(404);
  });

  it('ends once, as unreachable, when the cluster goes away mid-watch', async () => {
    const relay = await countingRelay(new URL(cluster.url));
    const objects = kubeObjectsFor(loadKubeConfig(kubeconfigVia(relay.url, 'watch-dies')));
    const ends: (Error | undefined)[] = [];
    const events: string[] = [];
    await objects.watch('/api/v1/namespaces/default/configmaps', (type) => events.push(type), (err) => ends.push(err));
    // The watch is established once its first event (the existing objects) arrives.
    await kubectl('create', 'configmap', 'before-drop', '--from-literal=a=1');
    expect(await until(() => events.length > 0)).toBe(true);
    await relay.close();
    expect(await until(() => ends.length > 0)).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    expect(ends).toHaveLength(1);
  });
});
