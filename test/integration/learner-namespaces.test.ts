/**
 * Namespace-per-learner mode of the kubeconfig backend, end to end against an embedded cluster
 * started as an external cluster (its admin kubeconfig is the instructor's): each learner gets a
 * namespace, a ServiceAccount bound to `admin` there, and a kubeconfig with a TokenRequest token;
 * the real kubectl with that kubeconfig works in the learner's namespace and is Forbidden in another's.
 *
 * The token and Forbidden parts need the cluster to issue ServiceAccount tokens and enforce RBAC,
 * as the embedded cluster does; a capability probe (TokenRequest) decides, so on a cluster that
 * answers 501 Not Implemented they are skipped by name and the clear-refusal test runs instead.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as k8s from '@kubernetes/client-node';
import { KubeconfigBackend } from '../../server/cluster/kubeconfig-backend.js';
import { CLUSTER_READ_ROLE, ISTIO_READ_ROLE, LearnerNamespaces, learnerNamespace } from '../../server/cluster/learner-namespaces.js';
import { createCheckContext } from '../../server/checks/context.js';
import { loadKubeConfig } from '../../server/checks/context.js';
import { evaluateResource } from '../../server/checks/kinds/resource.js';
import { kubeObjectsFor } from '../../server/checks/kube-objects.js';
import { scopedToNamespaces } from '../../server/cluster/namespace-scope.js';
import { EmbeddedCluster } from '../../server/sim/cluster.js';
import { kubectlIn } from '../helpers/kubectl.js';
import { startTestPlayground } from '../helpers/playground.js';
import { TestClient } from '../helpers/terminal-client.js';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'learner-ns-'));
const adminKubeconfig = path.join(work, 'admin', 'kubeconfig');
fs.mkdirSync(path.dirname(adminKubeconfig), { recursive: true });
const cluster = await EmbeddedCluster.start({ host: '127.0.0.1', port: 0, workloads: false });
await cluster.writeKubeconfig(adminKubeconfig);
const admin = kubectlIn(() => path.join(work, 'admin'));

/** Capability probe: does this embedded cluster issue ServiceAccount tokens (TokenRequest)? */
async function issuesTokens(): Promise<boolean> {
  await admin.ok(['create', 'serviceaccount', 'probe', '-n', 'default']);
  const r = await admin.kubectl(['create', 'token', 'probe', '-n', 'default']);
  await admin.ok(['delete', 'serviceaccount', 'probe', '-n', 'default']);
  if (r.code === 0) return true;
  if (/not supported by the embedded cluster/.test(r.stderr)) return false;
  throw new Error(`the TokenRequest probe failed unexpectedly: ${r.stderr}`);
}
const TOKENS = await issuesTokens();

afterAll(async () => {
  await cluster.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

describe('namespace-per-learner (kubeconfig backend, embedded cluster as the external cluster)', () => {
  it('gives each learner a namespace with a ServiceAccount bound to admin there, idempotently', async () => {
    const namespaces = LearnerNamespaces.fromFile(adminKubeconfig, 'playground');
    const ns = await namespaces.ensureObjects('alice');
    expect(ns).toBe(learnerNamespace('alice'));
    expect(ns).toMatch(/^learner-[0-9a-f]{12}$/);
    // A second time changes nothing and fails nothing.
    expect(await namespaces.ensureObjects('alice')).toBe(ns);

    const labels = JSON.parse(await admin.ok(['get', 'namespace', ns, '-o', 'jsonpath={.metadata.labels}']));
    expect(labels).toMatchObject({ 'istio-injection': 'enabled', 'app.kubernetes.io/managed-by': 'istio-playground' });
    expect(await admin.ok(['get', 'serviceaccount', 'learner', '-n', ns, '-o', 'name'])).toBe('serviceaccount/learner\n');
    const binding = JSON.parse(await admin.ok(['get', 'rolebinding', 'learner-admin', '-n', ns, '-o', 'json']));
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'admin' });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'learner', namespace: ns }]);
    const read = JSON.parse(await admin.ok(['get', 'clusterrole', CLUSTER_READ_ROLE, '-o', 'json']));
    expect(read.rules.map((r: { resources: string[] }) => r.resources[0])).toEqual(['nodes', 'customresourcedefinitions']);
    // Istio is the instructor's: learners read istio-system and reach the ingress gateway, nothing more.
    const istio = JSON.parse(await admin.ok(['get', 'clusterrole', ISTIO_READ_ROLE, '-o', 'json']));
    expect(istio.rules.flatMap((r: { verbs: string[] }) => r.verbs)).not.toContain('delete');
  });

  it("a check's `default` namespace is the learner's own", async () => {
    const ns = await LearnerNamespaces.fromFile(adminKubeconfig, 'playground').ensureObjects('carol');
    await admin.ok(['create', 'configmap', 'web', '-n', ns]);
    const kc = loadKubeConfig(adminKubeconfig);
    const check = { apiVersion: 'v1', kind: 'ConfigMap', name: 'web' };
    const own = createCheckContext({ kc, shell: { cwd: work, env: {} }, defaultNamespace: ns });
    expect(await evaluateResource(check, own)).toMatchObject({ passed: true });
    expect(await evaluateResource({ ...check, namespace: 'default' }, own)).toMatchObject({ passed: true });
    const plain = createCheckContext({ kc, shell: { cwd: work, env: {} } });
    expect(await evaluateResource(check, plain)).toMatchObject({ passed: false, found: 'no ConfigMap "web" in namespace "default"' });
  });

  it("what the server reads cluster-wide for a learner (the mesh picture) is their namespace and istio-system", async () => {
    const namespaces = LearnerNamespaces.fromFile(adminKubeconfig, 'playground');
    const [mine, theirs] = [await namespaces.ensureObjects('frank'), await namespaces.ensureObjects('grace')];
    const scoped = scopedToNamespaces(kubeObjectsFor(loadKubeConfig(adminKubeconfig)), mine);
    await admin.ok(['create', 'configmap', 'mine', '-n', mine]);
    await admin.ok(['create', 'configmap', 'theirs', '-n', theirs]);
    const names = async () => (await scoped.list('v1', 'ConfigMap')).items.map((o) => `${o.metadata!.namespace}/${o.metadata!.name}`).filter((n) => !n.endsWith('kube-root-ca.crt')).sort();
    // No istio-system yet: the learner's own namespace alone, no error.
    expect(await names()).toEqual([`${mine}/mine`]);
    await admin.ok(['create', 'namespace', 'istio-system']);
    await admin.ok(['create', 'configmap', 'istio', '-n', 'istio-system']);
    expect(await names()).toEqual([`istio-system/istio`, `${mine}/mine`]);
    // Cluster-scoped kinds and named namespaces are read as asked.
    expect((await scoped.list('v1', 'Namespace')).items.map((n) => n.metadata!.name)).toContain(theirs);
    expect((await scoped.list('v1', 'ConfigMap', theirs)).items.map((o) => o.metadata!.name)).toContain('theirs');
  });

  it.skipIf(TOKENS)('says clearly when the cluster cannot issue tokens (this embedded cluster answers TokenRequest with 501)', async () => {
    const backend = new KubeconfigBackend({ kubeconfig: adminKubeconfig, dataDir: path.join(work, 'data-501'), learnerNamespaces: true });
    await expect(backend.acquire('dave')).rejects.toThrow(`could not issue a token for ServiceAccount ${learnerNamespace('dave')}/learner (TokenRequest): serviceaccounts/token is not supported by the embedded cluster (HTTP 501)`);
  });

  describe.skipIf(!TOKENS)('with ServiceAccount tokens and RBAC (needs the embedded cluster to issue tokens: skipped when TokenRequest answers 501)', () => {
    const dataDir = path.join(work, 'data');
    const backend = new KubeconfigBackend({ kubeconfig: adminKubeconfig, dataDir, learnerNamespaces: true });
    const learnerKubectl = (kubeconfig: string) => kubectlIn(() => {
      const d = path.join(path.dirname(kubeconfig), 'kubectl');
      fs.mkdirSync(d, { recursive: true });
      fs.copyFileSync(kubeconfig, path.join(d, 'kubeconfig'));
      return d;
    });

    it("a learner's kubeconfig works in their namespace and is Forbidden in another learner's", async () => {
      const alice = await backend.acquire('alice');
      const bob = await backend.acquire('bob');
      expect(alice.namespace).toBe(learnerNamespace('alice'));
      const kc = JSON.parse(fs.readFileSync(alice.kubeconfigPath, 'utf8'));
      expect(kc.contexts[0].context.namespace).toBe(alice.namespace);
      expect(kc.users[0].user.token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]*$/);

      const k = learnerKubectl(alice.kubeconfigPath);
      // The context's namespace is the learner's: no -n needed, as the lessons write their commands.
      await k.ok(['create', 'deployment', 'web', '--image=nginx']);
      expect(await k.ok(['get', 'deployments', '-o', 'name'])).toBe('deployment.apps/web\n');

      const denied = await k.kubectl(['get', 'pods', '-n', bob.namespace!]);
      expect(denied.code).toBe(1);
      expect(denied.stderr).toBe(
        `Error from server (Forbidden): pods is forbidden: User "system:serviceaccount:${alice.namespace}:learner" cannot list resource "pods" in API group "" in the namespace "${bob.namespace}"\n`,
      );
      const cannot = await k.kubectl(['auth', 'can-i', 'create', 'deployments', '-n', bob.namespace!]);
      expect(cannot.stdout.trim()).toBe('no');
      // Cluster-wide changes are the instructor's.
      const ns = await k.kubectl(['label', 'namespace', alice.namespace!, 'istio-injection-']);
      expect(ns.stderr).toContain('Forbidden');
      // What the tracks read cluster-wide is readable.
      await k.ok(['get', 'nodes']);
      await k.ok(['get', 'crd']);
    });

    it('through the playground: the terminal works in the learner\'s namespace, and the step\'s checks look there', async () => {
      const pg = await startTestPlayground({ backend: 'kubeconfig', kubeconfig: adminKubeconfig, learnerNamespaces: true, dataDir: path.join(work, 'data-pg') });
      const term = await TestClient.open(new URL('/ws/terminal', pg.baseUrl.replace(/^http/, 'ws')).href, { headers: { cookie: pg.cookies, origin: pg.baseUrl.replace(/\/$/, '') } });
      try {
        const ns = await term.run("kubectl config view --minify -o jsonpath='{..namespace}'", 20_000);
        expect(ns).toMatch(/^learner-[0-9a-f]{12}$/);
        expect(await term.run('kubectl create deployment web --image=nginx --replicas=2', 20_000)).toBe('deployment.apps/web created');
        expect(await term.run('kubectl get deployments -n default 2>&1', 20_000)).toBe(
          `Error from server (Forbidden): deployments.apps is forbidden: User "system:serviceaccount:${ns}:learner" cannot list resource "deployments" in API group "apps" in the namespace "default"`,
        );
        const state = (await (await pg.fetchAuthed('/api/checks/warm-up/deployment/run', { method: 'POST', headers: { origin: pg.baseUrl.replace(/\/$/, '') } })).json()) as { checks: { passed: boolean; found: string }[] };
        // The track says `default`; for this learner that is their own namespace, read with their own token.
        expect(state.checks[1]).toMatchObject({ passed: true });
        expect(state.checks[0]!.found).toContain('Deployment "web"');
        const info = (await (await pg.fetchAuthed('/api/info')).json()) as { backend: { learnerNamespaces: boolean } };
        expect(info.backend.learnerNamespaces).toBe(true);
      } finally {
        term.close();
        await pg.close();
      }
    });

    it('the learner token is the ServiceAccount\'s, checked by the API server (client-node)', async () => {
      const access = await backend.acquire('erin');
      const kc = new k8s.KubeConfig();
      kc.loadFromFile(access.kubeconfigPath);
      const core = kc.makeApiClient(k8s.CoreV1Api);
      await expect(core.listNamespacedPod({ namespace: access.namespace! })).resolves.toBeDefined();
      await expect(core.listNamespacedPod({ namespace: 'kube-system' })).rejects.toMatchObject({ code: 403 });
    });
  });
});
