/**
 * The ServiceAccount token a pod mounts (the kube-api-access projected volume), judged by the
 * real kubectl 1.32: `token` is a pod-bound JWT that authenticates as the pod's ServiceAccount,
 * `ca.crt` is the cluster's CA, `namespace` the pod's; automountServiceAccountToken: false on
 * the pod or its ServiceAccount leaves the directory out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { EmbeddedCluster } from '../../server/sim/cluster.js';
import { ZERO_TIMINGS } from '../../server/sim/addons/core/workloads.js';
import { kubectlIn } from '../helpers/kubectl.js';

let cluster: EmbeddedCluster;
let dir: string;
const { kubectl, ok } = kubectlIn(() => dir);
const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** A kubeconfig for the same cluster with no user of its own: `--token` supplies one. */
async function bareKubeconfig(): Promise<string> {
  const cfg = YAML.parse(cluster.kubeconfig());
  cfg.users = [{ name: 'none', user: {} }];
  cfg.contexts = [{ name: 'none', context: { cluster: 'playground', user: 'none', namespace: 'default' } }];
  cfg['current-context'] = 'none';
  const path = join(dir, 'bare');
  await writeFile(path, YAML.stringify(cfg), { mode: 0o600 });
  return path;
}

async function runPod(name: string, extra: string[] = []): Promise<void> {
  await ok(['run', name, '--image=busybox:1.36', '--restart=Never', ...extra, '--', 'sleep', '3600']);
  await ok(['wait', '--for=condition=Ready', `pod/${name}`, '--timeout=30s']);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sim-sa-token-'));
  cluster = await EmbeddedCluster.start({ workloads: { timings: ZERO_TIMINGS } });
  await cluster.writeKubeconfig(join(dir, 'kubeconfig'));
});

afterAll(async () => {
  await cluster?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a pod’s ServiceAccount token', () => {
  it('mounts token, ca.crt and namespace; the token is the default ServiceAccount’s, bound to the pod, and has no rights', async () => {
    await runPod('tok');
    const pod = JSON.parse(await ok(['get', 'pod', 'tok', '-o', 'json']));
    const vol = pod.spec.volumes.find((v: { name: string }) => v.name.startsWith('kube-api-access-'));
    expect(vol.projected.sources[0]).toEqual({ serviceAccountToken: { expirationSeconds: 3607, path: 'token' } });

    expect((await ok(['exec', 'tok', '--', 'ls', SA_DIR])).split(/\s+/).filter(Boolean).sort()).toEqual(['ca.crt', 'namespace', 'token']);
    expect(await ok(['exec', 'tok', '--', 'cat', `${SA_DIR}/namespace`])).toBe('default');
    expect(await ok(['exec', 'tok', '--', 'cat', `${SA_DIR}/ca.crt`])).toBe(cluster.caPem);

    const token = await ok(['exec', 'tok', '--', 'cat', `${SA_DIR}/token`]);
    const parts = token.split('.');
    expect(parts).toHaveLength(3);
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString());
    expect(claims.sub).toBe('system:serviceaccount:default:default');
    expect(claims['kubernetes.io'].pod).toEqual({ name: 'tok', uid: pod.metadata.uid });
    // The kubelet's 3607 s token is extended to a year by kube-apiserver, with a warnafter.
    expect(claims['kubernetes.io'].warnafter - claims.iat).toBe(3607);
    expect(claims.exp - claims.iat).toBe(365 * 24 * 3600);

    const bare = await bareKubeconfig();
    const who = await ok(['--kubeconfig', bare, '--token', token, 'auth', 'whoami']);
    expect(who).toMatch(/^Username\s+system:serviceaccount:default:default$/m);
    expect(who).toMatch(/system:serviceaccounts:default/);
    const canI = await kubectl(['--kubeconfig', bare, '--token', token, 'auth', 'can-i', 'list', 'pods']);
    expect(canI.stdout).toBe('no\n');
    expect(canI.code).toBe(1);
    const list = await kubectl(['--kubeconfig', bare, '--token', token, 'get', 'pods']);
    expect(list.stderr).toContain('pods is forbidden: User "system:serviceaccount:default:default" cannot list resource "pods" in API group "" in the namespace "default"');

    // Bound to the pod: once the pod is gone the token authenticates nobody.
    await ok(['delete', 'pod', 'tok', '--wait=true']);
    const after = await kubectl(['--kubeconfig', bare, '--token', token, 'auth', 'whoami']);
    expect(after.code).not.toBe(0);
    expect(after.stderr).toContain('Unauthorized');
  });

  it('is the pod’s own ServiceAccount’s, with what RBAC grants it', async () => {
    await ok(['create', 'serviceaccount', 'reader']);
    await ok(['create', 'rolebinding', 'reader-view', '--clusterrole=view', '--serviceaccount=default:reader']);
    await runPod('reader', ['--overrides', JSON.stringify({ spec: { serviceAccountName: 'reader' } })]);
    const token = await ok(['exec', 'reader', '--', 'cat', `${SA_DIR}/token`]);
    const bare = await bareKubeconfig();
    expect(await ok(['--kubeconfig', bare, '--token', token, 'auth', 'whoami'])).toMatch(/^Username\s+system:serviceaccount:default:reader$/m);
    expect(await ok(['--kubeconfig', bare, '--token', token, 'auth', 'can-i', 'list', 'pods'])).toBe('yes\n');
    expect((await kubectl(['--kubeconfig', bare, '--token', token, 'auth', 'can-i', 'delete', 'pods'])).stdout).toBe('no\n');
  });

  it('is not mounted when the pod or its ServiceAccount says automountServiceAccountToken: false', async () => {
    await runPod('nomount', ['--overrides', JSON.stringify({ spec: { automountServiceAccountToken: false } })]);
    await ok(['apply', '-f', '-'], YAML.stringify({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'quiet' }, automountServiceAccountToken: false }));
    await runPod('quiet', ['--overrides', JSON.stringify({ spec: { serviceAccountName: 'quiet' } })]);
    for (const name of ['nomount', 'quiet']) {
      const pod = JSON.parse(await ok(['get', 'pod', name, '-o', 'json']));
      expect(pod.spec.volumes ?? []).toEqual([]);
      expect(pod.spec.containers[0].volumeMounts ?? []).toEqual([]);
      const ls = await kubectl(['exec', name, '--', 'ls', SA_DIR]);
      expect(ls.code).not.toBe(0);
      expect(ls.stderr).toContain('No such file or directory');
    }
    // The pod's own true wins over its ServiceAccount's false.
    await runPod('loud', ['--overrides', JSON.stringify({ spec: { serviceAccountName: 'quiet', automountServiceAccountToken: true } })]);
    expect((await ok(['exec', 'loud', '--', 'ls', SA_DIR])).split(/\s+/).filter(Boolean).sort()).toEqual(['ca.crt', 'namespace', 'token']);
  });
});
