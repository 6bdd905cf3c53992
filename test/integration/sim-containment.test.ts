/**
 * Each learner's embedded cluster in a process of its own, judged with the real kubectl: what a
 * learner made survives a kill -9 of their cluster and a restart of the whole server, with the
 * same kubeconfig; a cluster driven out of memory by its learner ends neither the server nor
 * another learner's cluster.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { pino } from 'pino';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimBackend } from '../../server/cluster/sim-backend.js';
import type { ClusterAccess } from '../../server/cluster/backend.js';
import { alive } from '../helpers/processes.js';
import { runProcess, type ProcessRun } from '../helpers/run.js';

type Run = ProcessRun;

let dataDir: string;
const logs: { level: number; msg: string; learnerId?: string }[] = [];
const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line) as (typeof logs)[number]) });

function kubectl(access: ClusterAccess, args: string[], input?: string): Promise<Run> {
  return runProcess('kubectl', args, { env: { PATH: process.env.PATH!, HOME: dataDir, KUBECACHEDIR: path.join(dataDir, 'kube-cache'), ...access.env }, input, timeoutMs: 90_000 });
}

async function ok(access: ClusterAccess, args: string[], input?: string): Promise<string> {
  const r = await kubectl(access, args, input);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

/** Resolves with the message the backend gives when the learner's cluster ends unasked. */
function nextExit(backend: SimBackend, learnerId: string): Promise<string> {
  return new Promise((resolve) => backend.onClusterNotice((id, message) => id === learnerId && message.startsWith('Your cluster stopped') && resolve(message)));
}

const credentials = (file: string) => {
  const kc = YAML.parse(fs.readFileSync(file, 'utf8')) as { clusters: { cluster: { server: string; 'certificate-authority-data': string } }[]; users: { user: { token: string } }[] };
  return { ca: kc.clusters[0]!.cluster['certificate-authority-data'], token: kc.users[0]!.user.token };
};

const SHOP = `
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer}}}
`;
const WIDGET = 'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: blue, namespace: shop}\nspec: {size: 3}\n';

async function expectShop(access: ClusterAccess): Promise<void> {
  expect((await ok(access, ['get', 'deploy,svc,widgets', '-n', 'shop', '-o', 'name'])).trim().split('\n').sort()).toEqual([
    'deployment.apps/web',
    'service/web',
    'widget.example.com/blue',
  ]);
  expect(await ok(access, ['get', 'widget', 'blue', '-n', 'shop', '-o', 'jsonpath={.spec.size}'])).toBe('3');
  await ok(access, ['wait', '-n', 'shop', '--for=condition=Ready', 'pod', '-l', 'app=web', '--timeout=60s']);
  expect((await ok(access, ['get', 'pods', '-n', 'shop', '-l', 'app=web', '--no-headers'])).trim().split('\n')).toHaveLength(2);
}

beforeAll(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sim-containment-'));
});

afterAll(() => {
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('a learner\'s cluster state', () => {
  let backend: SimBackend;
  let access: ClusterAccess;
  let before: { ca: string; token: string };
  let rvBefore: number;

  beforeAll(async () => {
    backend = new SimBackend({ dataDir, logger });
    access = await backend.acquire('alice');
    await ok(access, ['apply', '-f', '-'], SHOP);
    await ok(access, ['wait', '--for=condition=established', 'crd/widgets.example.com', '--timeout=30s']);
    await ok(access, ['apply', '-f', '-'], WIDGET);
    before = credentials(access.kubeconfigPath);
    rvBefore = Number(await ok(access, ['get', 'widget', 'blue', '-n', 'shop', '-o', 'jsonpath={.metadata.resourceVersion}']));
  }, 120_000);

  afterAll(async () => {
    await backend?.close();
  });

  it('survives kill -9 of its process: restarted at once, everything there, same kubeconfig credentials', async () => {
    const pid = backend.pids().get('alice')!;
    const exited = nextExit(backend, 'alice');
    process.kill(pid, 'SIGKILL');
    expect(await exited).toMatch(/^Your cluster stopped unexpectedly \(killed by SIGKILL\)\. It is restarting from its saved state/);
    access = await backend.acquire('alice');
    expect(backend.pids().get('alice')).not.toBe(pid);
    await expectShop(access);
    expect(credentials(access.kubeconfigPath)).toEqual(before);
    // resourceVersions keep increasing across the restart.
    await ok(access, ['annotate', 'widget', 'blue', '-n', 'shop', 'seen=yes']);
    expect(Number(await ok(access, ['get', 'widget', 'blue', '-n', 'shop', '-o', 'jsonpath={.metadata.resourceVersion}']))).toBeGreaterThan(rvBefore);
    expect(logs.some((l) => l.level === 50 && l.learnerId === 'alice' && l.msg.includes('ended unexpectedly: killed by SIGKILL'))).toBe(true);
  }, 120_000);

  it('survives a restart of the whole server, and a torn last log line is ignored', async () => {
    await ok(access, ['create', 'configmap', 'last-words', '-n', 'shop', '--from-literal=k=v']);
    const pid = backend.pids().get('alice')!;
    await backend.close();
    expect(alive(pid)).toBe(false);
    // A write cut short by a crash: no newline, half an object.
    fs.appendFileSync(path.join(backend.stateDir('alice'), 'log.jsonl'), '{"rv":99999,"op":"p","b":"/configmaps","o":{"metadata":{"name":"half');
    logs.length = 0;
    backend = new SimBackend({ dataDir, logger });
    access = await backend.acquire('alice');
    await expectShop(access);
    expect(await ok(access, ['get', 'configmap', 'last-words', '-n', 'shop', '-o', 'jsonpath={.data.k}'])).toBe('v');
    expect(credentials(access.kubeconfigPath)).toEqual(before);
    expect(logs.filter((l) => l.level === 40).map((l) => l.msg)).toEqual([expect.stringMatching(/log\.jsonl: ignored an incomplete last entry/)]);
    // The state files are the server's alone, beside the learner's home, not in it.
    const dir = backend.stateDir('alice');
    expect(path.dirname(dir)).not.toBe(path.join(dataDir, 'learners', 'alice', 'home'));
    for (const f of fs.readdirSync(dir)) expect(fs.statSync(path.join(dir, f)).mode & 0o077).toBe(0);
  }, 120_000);
});

describe('a cluster that runs out of memory', () => {
  let backend: SimBackend;

  afterAll(async () => {
    await backend?.close();
  });

  it('ends neither the server nor another learner\'s cluster, and its learner is told why', async () => {
    backend = new SimBackend({ dataDir, logger, heapMb: 96 });
    const bob = await backend.acquire('bob');
    await ok(bob, ['create', 'namespace', 'bobs']);
    const bobPid = backend.pids().get('bob')!;
    const mallory = await backend.acquire('mallory');
    const exited = nextExit(backend, 'mallory');

    // ConfigMaps of almost 1 MiB each (kube's limit) until the cluster's heap cap is reached.
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(mallory.kubeconfigPath);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const big = 'x'.repeat(900 * 1024);
    let refused: unknown;
    for (let i = 0; i < 1000 && refused === undefined; i++) {
      await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: `fill-${i}` }, data: { d: big } } }).catch((err: unknown) => (refused = err));
    }
    expect(refused).toBeDefined();
    expect(await exited).toMatch(/^Your cluster stopped unexpectedly \(out of memory\)/);

    expect(backend.pids().get('bob')).toBe(bobPid);
    expect(await ok(bob, ['get', 'namespace', 'bobs', '-o', 'name'])).toBe('namespace/bobs\n');
    expect(logs.some((l) => l.level === 50 && l.learnerId === 'mallory' && l.msg.includes('ended unexpectedly: out of memory'))).toBe(true);
  }, 240_000);
});
