/**
 * Authentication and authorization of the embedded cluster, judged by the real kubectl 1.32 and
 * by a second client library (Debian's python3-kubernetes): the learner is kubeadm's
 * cluster-admin, everyone else gets what RBAC grants them, with kube-apiserver's Forbidden
 * texts, ServiceAccount tokens from `kubectl create token`, impersonation, escalation
 * prevention, aggregated roles and the review APIs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { EmbeddedCluster } from '../../server/sim/cluster.js';
import { kubectlIn } from '../helpers/kubectl.js';
import { runProcess } from '../helpers/run.js';

let cluster: EmbeddedCluster;
let dir: string;
const { kubectl, ok } = kubectlIn(() => dir);

/** A kubeconfig for the same cluster whose user is a bearer token (what issue 12's learners get). */
async function tokenKubeconfig(file: string, token: string, namespace = 'default'): Promise<string> {
  const cfg = YAML.parse(cluster.kubeconfig());
  cfg.users = [{ name: 'sa', user: { token } }];
  cfg.contexts = [{ name: 'sa', context: { cluster: 'playground', user: 'sa', namespace } }];
  cfg['current-context'] = 'sa';
  const path = join(dir, file);
  await writeFile(path, YAML.stringify(cfg), { mode: 0o600 });
  return path;
}

function curl(args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => execFile('curl', ['-sk', ...args], { timeout: 30_000 }, (err, stdout) => resolve({ code: err ? 1 : 0, stdout })));
}

function python(script: string, env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return runProcess('/usr/bin/python3', ['-c', script], { env: { PATH: process.env.PATH!, HOME: dir, ...env } });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sim-rbac-'));
  cluster = await EmbeddedCluster.start();
  await cluster.writeKubeconfig(join(dir, 'kubeconfig'));
  await ok(['create', 'namespace', 'team']);
});

afterAll(async () => {
  await cluster?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the learner and kubeadm’s default policy', () => {
  it('the learner is kubeadm’s admin.conf user, allowed everything through kubeadm:cluster-admins', async () => {
    const who = await ok(['auth', 'whoami']);
    expect(who).toMatch(/^Username\s+kubernetes-admin$/m);
    expect(who).toMatch(/^Groups\s+\[kubeadm:cluster-admins system:authenticated\]$/m);
    expect(await ok(['auth', 'can-i', '*', '*', '-A'])).toBe('yes\n');
    const crb = JSON.parse(await ok(['get', 'clusterrolebinding', 'kubeadm:cluster-admins', '-o', 'json']));
    expect(crb.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' });
    expect(crb.subjects).toEqual([{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'kubeadm:cluster-admins' }]);
  });

  it('has the bootstrap ClusterRoles and bindings, with admin/edit/view filled by aggregation', async () => {
    const names = (await ok(['get', 'clusterroles', '-o', 'name'])).split('\n');
    for (const n of ['cluster-admin', 'admin', 'edit', 'view', 'system:basic-user', 'system:discovery', 'system:public-info-viewer', 'system:node', 'system:kube-scheduler', 'system:coredns']) {
      expect(names).toContain(`clusterrole.rbac.authorization.k8s.io/${n}`);
    }
    const bindings = await ok(['get', 'clusterrolebindings', '-o', 'wide']);
    expect(bindings).toMatch(/^cluster-admin\s+ClusterRole\/cluster-admin\s+\S+\s+system:masters\s*$/m);
    expect(bindings).toMatch(/^system:public-info-viewer\s+ClusterRole\/system:public-info-viewer\s+\S+\s+system:authenticated, system:unauthenticated\s*$/m);
    const view = JSON.parse(await ok(['get', 'clusterrole', 'view', '-o', 'json']));
    expect(view.aggregationRule.clusterRoleSelectors).toEqual([{ matchLabels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' } }]);
    expect(view.rules).toContainEqual({ apiGroups: [''], resources: ['bindings', 'events', 'limitranges', 'namespaces/status', 'pods/log', 'pods/status', 'replicationcontrollers/status', 'resourcequotas', 'resourcequotas/status'], verbs: ['get', 'list', 'watch'] });
    const admin = JSON.parse(await ok(['get', 'clusterrole', 'admin', '-o', 'json']));
    // admin aggregates edit, which aggregates view: all three levels reach it.
    expect(admin.rules).toContainEqual({ apiGroups: ['rbac.authorization.k8s.io'], resources: ['rolebindings', 'roles'], verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] });
    expect(admin.rules).toContainEqual({ apiGroups: [''], resources: ['serviceaccounts/token'], verbs: ['create'] });
    expect(admin.rules).toContainEqual(view.rules[0]);
  });

  it('has every ClusterRole a kubeadm 1.32 cluster lists, kube-controller-manager’s per-controller ones included', async () => {
    const names = (await ok(['get', 'clusterroles', '--no-headers', '-o', 'custom-columns=NAME:.metadata.name'])).trim().split('\n');
    const controllers = [
      'attachdetach-controller', 'certificate-controller', 'clusterrole-aggregation-controller', 'cronjob-controller', 'daemon-set-controller',
      'deployment-controller', 'disruption-controller', 'endpoint-controller', 'endpointslice-controller', 'endpointslicemirroring-controller',
      'ephemeral-volume-controller', 'expand-controller', 'generic-garbage-collector', 'horizontal-pod-autoscaler', 'job-controller',
      'legacy-service-account-token-cleaner', 'namespace-controller', 'node-controller', 'persistent-volume-binder', 'pod-garbage-collector',
      'pv-protection-controller', 'pvc-protection-controller', 'replicaset-controller', 'replication-controller', 'resourcequota-controller',
      'root-ca-cert-publisher', 'route-controller', 'service-account-controller', 'service-controller', 'statefulset-controller',
      'ttl-after-finished-controller', 'ttl-controller', 'validatingadmissionpolicy-status-controller',
    ].map((c) => `system:controller:${c}`);
    const others = [
      'admin', 'cluster-admin', 'edit', 'kubeadm:get-nodes', 'system:aggregate-to-admin', 'system:aggregate-to-edit', 'system:aggregate-to-view',
      'system:auth-delegator', 'system:basic-user', 'system:certificates.k8s.io:certificatesigningrequests:nodeclient',
      'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient', 'system:certificates.k8s.io:kube-apiserver-client-approver',
      'system:certificates.k8s.io:kube-apiserver-client-kubelet-approver', 'system:certificates.k8s.io:kubelet-serving-approver',
      'system:certificates.k8s.io:legacy-unknown-approver', 'system:coredns', 'system:discovery', 'system:heapster', 'system:kube-aggregator',
      'system:kube-controller-manager', 'system:kube-dns', 'system:kube-scheduler', 'system:kubelet-api-admin', 'system:monitoring', 'system:node',
      'system:node-bootstrapper', 'system:node-problem-detector', 'system:node-proxier', 'system:persistent-volume-provisioner',
      'system:public-info-viewer', 'system:service-account-issuer-discovery', 'system:volume-scheduler', 'view',
    ];
    expect(names).toEqual([...controllers, ...others].sort());

    const bindings = await ok(['get', 'clusterrolebindings', '-o', 'wide']);
    expect(bindings).toMatch(/^system:controller:deployment-controller\s+ClusterRole\/system:controller:deployment-controller\s+\S+\s+kube-system\/deployment-controller\s*$/m);
    const nsRoles = await ok(['get', 'roles', '-A', '--no-headers', '-o', 'custom-columns=NS:.metadata.namespace,NAME:.metadata.name']);
    expect(nsRoles).toMatch(/^kube-public\s+system:controller:bootstrap-signer$/m);
    expect(nsRoles).toMatch(/^kube-system\s+system:controller:token-cleaner$/m);

    // The controller's ServiceAccount holds exactly its role's rules (plus what every authenticated user has).
    const list = await ok(['auth', 'can-i', '--list', '--as=system:serviceaccount:kube-system:deployment-controller']);
    expect(list).toMatch(/^replicasets\.apps\s+\[\]\s+\[\]\s+\[create delete get list patch update watch\]$/m);
    expect(list).toMatch(/^deployments\.apps\/status\s+\[\]\s+\[\]\s+\[update\]$/m);
    expect(list).toMatch(/^pods\s+\[\]\s+\[\]\s+\[get list update watch\]$/m);
    expect((await kubectl(['auth', 'can-i', 'delete', 'deployments', '-n', 'team', '--as=system:serviceaccount:kube-system:deployment-controller'])).stdout).toBe('no\n');
    expect(await ok(['auth', 'can-i', 'create', 'replicasets', '-n', 'team', '--as=system:serviceaccount:kube-system:deployment-controller'])).toBe('yes\n');

    // kube-controller-manager's controllers run as ServiceAccounts of their own in kube-system.
    const sas = (await ok(['get', 'sa', '-n', 'kube-system', '--no-headers', '-o', 'custom-columns=NAME:.metadata.name'])).trim().split('\n');
    for (const sa of ['deployment-controller', 'generic-garbage-collector', 'bootstrap-signer', 'token-cleaner', 'default']) expect(sas).toContain(sa);
    expect(sas).not.toContain('route-controller');
    const token = (await ok(['create', 'token', 'deployment-controller', '-n', 'kube-system'])).trim();
    const cfg = await tokenKubeconfig('kcm', token, 'kube-system');
    expect(await ok(['--kubeconfig', cfg, 'auth', 'whoami'])).toMatch(/^Username\s+system:serviceaccount:kube-system:deployment-controller$/m);
    expect(await ok(['--kubeconfig', cfg, 'get', 'replicasets', '-A', '-o', 'name'])).toBe('');
  });

  it('a new ClusterRole labelled aggregate-to-view joins view, edit and admin, and leaves them when deleted', async () => {
    await ok(['apply', '-f', '-'], YAML.stringify({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.example.com' },
      spec: { group: 'example.com', scope: 'Namespaced', names: { plural: 'widgets', singular: 'widget', kind: 'Widget' }, versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }] },
    }));
    await ok(['apply', '-f', '-'], YAML.stringify({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'widgets-view', labels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' } }, rules: [{ apiGroups: ['example.com'], resources: ['widgets'], verbs: ['get', 'list'] }] }));
    await cluster.settle();
    const rule = { apiGroups: ['example.com'], resources: ['widgets'], verbs: ['get', 'list'] };
    for (const r of ['view', 'edit', 'admin']) expect(JSON.parse(await ok(['get', 'clusterrole', r, '-o', 'json'])).rules, r).toContainEqual(rule);
    await ok(['create', 'rolebinding', 'viewer', '--clusterrole=view', '--user=vera', '-n', 'team']);
    expect((await kubectl(['auth', 'can-i', 'list', 'widgets.example.com', '--as=vera', '-n', 'team'])).stdout).toBe('yes\n');
    expect((await kubectl(['auth', 'can-i', 'delete', 'widgets.example.com', '--as=vera', '-n', 'team'])).stdout).toBe('no\n');
    await ok(['delete', 'clusterrole', 'widgets-view']);
    await cluster.settle();
    expect(JSON.parse(await ok(['get', 'clusterrole', 'view', '-o', 'json'])).rules).not.toContainEqual(rule);
    expect((await kubectl(['auth', 'can-i', 'list', 'widgets.example.com', '--as=vera', '-n', 'team'])).stdout).toBe('no\n');
  });
});

describe('the default policy cannot be lost', () => {
  it('a deleted default role or binding comes back, as at kube-apiserver’s next start, so the learner is never locked out', async () => {
    await ok(['delete', 'clusterrole', 'cluster-admin']);
    await ok(['delete', 'clusterrolebinding', 'kubeadm:cluster-admins']);
    await cluster.settle();
    expect(await ok(['auth', 'can-i', 'delete', 'nodes'])).toBe('yes\n');
    const crb = JSON.parse(await ok(['get', 'clusterrolebinding', 'kubeadm:cluster-admins', '-o', 'json']));
    expect(crb.subjects).toEqual([{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'kubeadm:cluster-admins' }]);
    // Rules taken from a default role are added back; rules added to it stay.
    await ok(['patch', 'clusterrole', 'system:basic-user', '--type=json', '-p', '[{"op":"replace","path":"/rules","value":[{"apiGroups":[""],"resources":["configmaps"],"verbs":["get"]}]}]']);
    await cluster.settle();
    const basic = JSON.parse(await ok(['get', 'clusterrole', 'system:basic-user', '-o', 'json']));
    expect(basic.rules).toEqual([
      { apiGroups: [''], resources: ['configmaps'], verbs: ['get'] },
      { apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'], verbs: ['create'] },
      { apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'], verbs: ['create'] },
    ]);
  });
});

describe('another user, impersonated with --as', () => {
  it('is denied until a Role and RoleBinding grant it, with kube’s Forbidden texts', async () => {
    const no = await kubectl(['auth', 'can-i', 'list', 'pods', '--as=jane']);
    expect(no).toMatchObject({ code: 1, stdout: 'no\n' });
    const ns = await kubectl(['get', 'pods', '--as=jane']);
    expect(ns.code).toBe(1);
    expect(ns.stderr).toBe('Error from server (Forbidden): pods is forbidden: User "jane" cannot list resource "pods" in API group "" in the namespace "default"\n');
    const all = await kubectl(['get', 'pods', '-A', '--as=jane']);
    expect(all.stderr).toBe('Error from server (Forbidden): pods is forbidden: User "jane" cannot list resource "pods" in API group "" at the cluster scope\n');
    const node = await kubectl(['get', 'node', 'n1', '--as=jane']);
    expect(node.stderr).toBe('Error from server (Forbidden): nodes "n1" is forbidden: User "jane" cannot get resource "nodes" in API group "" at the cluster scope\n');
    const deploy = await kubectl(['get', 'deployments.apps', '--as=jane', '-n', 'team']);
    expect(deploy.stderr).toBe('Error from server (Forbidden): deployments.apps is forbidden: User "jane" cannot list resource "deployments" in API group "apps" in the namespace "team"\n');

    await ok(['create', 'role', 'pod-reader', '--verb=get,list,watch', '--resource=pods']);
    await ok(['create', 'rolebinding', 'jane-reads', '--role=pod-reader', '--user=jane']);
    expect(await ok(['auth', 'can-i', 'list', 'pods', '--as=jane'])).toBe('yes\n');
    expect((await kubectl(['auth', 'can-i', 'list', 'pods', '--as=jane', '-n', 'team'])).stdout).toBe('no\n');
    expect((await kubectl(['auth', 'can-i', 'delete', 'pods', '--as=jane'])).stdout).toBe('no\n');
    expect(await ok(['get', 'pods', '--as=jane'])).toBe('');
    // pods/log is a subresource the Role does not name.
    const log = await kubectl(['get', '--raw', '/api/v1/namespaces/default/pods/web/log', '--as=jane']);
    expect(log.stderr).toBe('Error from server (Forbidden): pods "web" is forbidden: User "jane" cannot get resource "pods/log" in API group "" in the namespace "default"\n');
  });

  it('`auth can-i --list` shows what the user holds in the namespace', async () => {
    const list = await ok(['auth', 'can-i', '--list', '--as=jane']);
    expect(list.split('\n')[0]).toMatch(/^Resources\s+Non-Resource URLs\s+Resource Names\s+Verbs$/);
    expect(list).toMatch(/^pods\s+\[\]\s+\[\]\s+\[get list watch\]$/m);
    expect(list).toMatch(/^selfsubjectaccessreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]$/m);
    expect(list).toMatch(/^\s+\[\/api\/\*\]\s+\[\]\s+\[get\]$/m);
    expect(await ok(['auth', 'can-i', '--list', '--as=jane', '-n', 'team'])).not.toMatch(/^pods\s/m);
  });

  it('a binding to a missing role says why in the denial', async () => {
    await ok(['create', 'rolebinding', 'ghost', '--role=nonexistent', '--user=bob']);
    expect((await kubectl(['auth', 'can-i', 'get', 'pods', '--as=bob'])).stdout).toBe('no - RBAC: role.rbac.authorization.k8s.io "nonexistent" not found\n');
    const r = await kubectl(['get', 'pods', '--as=bob']);
    expect(r.stderr).toBe('Error from server (Forbidden): pods is forbidden: User "bob" cannot list resource "pods" in API group "" in the namespace "default": RBAC: role.rbac.authorization.k8s.io "nonexistent" not found\n');
  });

  it('`auth whoami --as` answers for the impersonated user, with groups as asked', async () => {
    const who = await ok(['auth', 'whoami', '--as=jane', '--as-group=devs']);
    expect(who).toMatch(/^Username\s+jane$/m);
    expect(who).toMatch(/^Groups\s+\[devs system:authenticated\]$/m);
    const sa = await ok(['auth', 'whoami', '--as=system:serviceaccount:team:builder']);
    expect(sa).toMatch(/^Groups\s+\[system:serviceaccounts system:serviceaccounts:team system:authenticated\]$/m);
  });
});

describe('escalation prevention', () => {
  beforeAll(async () => {
    await ok(['create', 'rolebinding', 'jane-admin', '--clusterrole=admin', '--user=jane', '-n', 'team']);
  });

  it('lets a namespace admin write roles within what they hold, and refuses more with kube’s text', async () => {
    expect(await ok(['create', 'role', 'reader', '--verb=get,list', '--resource=pods', '-n', 'team', '--as=jane'])).toBe('role.rbac.authorization.k8s.io/reader created\n');
    const more = await kubectl(['create', 'role', 'nodes', '--verb=create,delete', '--resource=nodes,pods/status', '-n', 'team', '--as=jane']);
    expect(more.code).toBe(1);
    expect(more.stderr).toBe(
      'Error from server (Forbidden): roles.rbac.authorization.k8s.io "nodes" is forbidden: user "jane" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n' +
        '{APIGroups:[""], Resources:["nodes"], Verbs:["create" "delete"]}\n' +
        '{APIGroups:[""], Resources:["pods/status"], Verbs:["create" "delete"]}\n',
    );
    expect(await ok(['create', 'rolebinding', 'bob-views', '--clusterrole=view', '--user=bob', '-n', 'team', '--as=jane'])).toBe('rolebinding.rbac.authorization.k8s.io/bob-views created\n');
    const bind = await kubectl(['create', 'rolebinding', 'bob-root', '--clusterrole=cluster-admin', '--user=bob', '-n', 'team', '--as=jane']);
    expect(bind.stderr).toBe(
      'error: failed to create rolebinding: rolebindings.rbac.authorization.k8s.io "bob-root" is forbidden: user "jane" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n' +
        '{APIGroups:["*"], Resources:["*"], Verbs:["*"]}\n' +
        '{NonResourceURLs:["*"], Verbs:["*"]}\n',
    );
    expect((await kubectl(['get', 'rolebinding', 'bob-root', '-n', 'team'])).code).toBe(1);
  });

  it('the `bind` verb on a role lifts the check for bindings to it', async () => {
    await ok(['create', 'clusterrole', 'bind-cluster-admin', '--verb=bind', '--resource=clusterroles', '--resource-name=cluster-admin']);
    await ok(['create', 'rolebinding', 'jane-binds', '--clusterrole=bind-cluster-admin', '--user=jane', '-n', 'team']);
    expect(await ok(['create', 'rolebinding', 'bob-root', '--clusterrole=cluster-admin', '--user=bob', '-n', 'team', '--as=jane'])).toBe('rolebinding.rbac.authorization.k8s.io/bob-root created\n');
  });
});

describe('ServiceAccount tokens', () => {
  it('`kubectl create token` gives a token that authenticates as the ServiceAccount and is limited by RBAC', async () => {
    const token = (await ok(['create', 'token', 'default'])).trim();
    expect(token.split('.')).toHaveLength(3);
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
    expect(claims).toMatchObject({ aud: ['https://kubernetes.default.svc.cluster.local'], iss: 'https://kubernetes.default.svc.cluster.local', sub: 'system:serviceaccount:default:default' });
    expect(claims.exp - claims.iat).toBe(3600);
    const who = await ok(['auth', 'whoami', '--token', token]);
    expect(who).toMatch(/^Username\s+system:serviceaccount:default:default$/m);
    const denied = await kubectl(['get', 'pods', '--token', token]);
    expect(denied.stderr).toBe('Error from server (Forbidden): pods is forbidden: User "system:serviceaccount:default:default" cannot list resource "pods" in API group "" in the namespace "default"\n');
    const imp = await kubectl(['get', 'pods', '--token', token, '--as=jane']);
    expect(imp.stderr).toBe('Error from server (Forbidden): users "jane" is forbidden: User "system:serviceaccount:default:default" cannot impersonate resource "users" in API group "" at the cluster scope\n');
  });

  it('a token in a kubeconfig has its ServiceAccount’s namespace permissions, and dies with the ServiceAccount', async () => {
    await ok(['create', 'serviceaccount', 'learner', '-n', 'team']);
    await ok(['create', 'rolebinding', 'learner-edit', '--clusterrole=edit', '--serviceaccount=team:learner', '-n', 'team']);
    const token = (await ok(['create', 'token', 'learner', '-n', 'team', '--duration=2h'])).trim();
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
    expect(claims.exp - claims.iat).toBe(7200);
    const cfg = await tokenKubeconfig('learner.kubeconfig', token, 'team');
    const as = (args: string[]) => kubectl([`--kubeconfig=${cfg}`, ...args]);
    expect((await as(['create', 'configmap', 'notes', '--from-literal=a=b'])).stdout).toBe('configmap/notes created\n');
    expect((await as(['get', 'configmaps', 'notes', '-o', 'name'])).stdout).toBe('configmap/notes\n');
    expect((await as(['get', 'pods', '-n', 'default'])).stderr).toBe('Error from server (Forbidden): pods is forbidden: User "system:serviceaccount:team:learner" cannot list resource "pods" in API group "" in the namespace "default"\n');
    expect((await as(['auth', 'can-i', 'create', 'deployments'])).stdout).toBe('yes\n');
    expect((await as(['auth', 'can-i', 'create', 'roles'])).stdout).toBe('no\n');
    await ok(['delete', 'serviceaccount', 'learner', '-n', 'team']);
    const gone = await as(['get', 'configmaps']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/error: You must be logged in to the server \(Unauthorized\)/);
  });

  it('a legacy service-account-token Secret is filled by the tokens controller and its token works until the Secret goes', async () => {
    await ok(['create', 'serviceaccount', 'ci', '-n', 'team']);
    await ok(['apply', '-f', '-'], YAML.stringify({ apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/service-account-token', metadata: { name: 'ci-token', namespace: 'team', annotations: { 'kubernetes.io/service-account.name': 'ci' } } }));
    await cluster.settle();
    const secret = JSON.parse(await ok(['get', 'secret', 'ci-token', '-n', 'team', '-o', 'json']));
    expect(Object.keys(secret.data).sort()).toEqual(['ca.crt', 'namespace', 'token']);
    expect(Buffer.from(secret.data.namespace, 'base64').toString()).toBe('team');
    const token = Buffer.from(secret.data.token, 'base64').toString();
    expect(await ok(['auth', 'whoami', '--token', token])).toMatch(/^Username\s+system:serviceaccount:team:ci$/m);
    await ok(['delete', 'secret', 'ci-token', '-n', 'team']);
    expect((await kubectl(['auth', 'whoami', '--token', token])).stderr).toMatch(/Unauthorized/);
    // A token Secret for a ServiceAccount that does not exist is deleted by the controller.
    await ok(['apply', '-f', '-'], YAML.stringify({ apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/service-account-token', metadata: { name: 'orphan', namespace: 'team', annotations: { 'kubernetes.io/service-account.name': 'nobody' } } }));
    await cluster.settle();
    expect((await kubectl(['get', 'secret', 'orphan', '-n', 'team'])).stderr).toBe('Error from server (NotFound): secrets "orphan" not found\n');
  });

  it('refuses a duration under ten minutes as kube-apiserver does', async () => {
    const r = await kubectl(['create', 'token', 'default', '--duration=5m']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: failed to create token: TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: Invalid value: 300: may not specify a duration less than 10 minutes\n');
    expect((await kubectl(['create', 'token', 'nobody'])).stderr).toBe('error: failed to create token: serviceaccounts "nobody" not found\n');
  });

  it('TokenReview tells who a token is; SubjectAccessReview answers for any user', async () => {
    const token = (await ok(['create', 'token', 'default'])).trim();
    // --raw: `create -f` of a review needs the /openapi/v2 fallback kubectl's validation asks for (issue 11 item 4).
    const tr = JSON.parse(await ok(['create', '--raw', '/apis/authentication.k8s.io/v1/tokenreviews', '-f', '-'], JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } })));
    expect(tr.status).toMatchObject({ authenticated: true, user: { username: 'system:serviceaccount:default:default', groups: ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated'] }, audiences: ['https://kubernetes.default.svc.cluster.local'] });
    const bad = JSON.parse(await ok(['create', '--raw', '/apis/authentication.k8s.io/v1/tokenreviews', '-f', '-'], JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: `${token.slice(0, -4)}AAAA` } })));
    expect(bad.status.authenticated).toBeUndefined();
    const sar = (user: string) =>
      ok(['create', '--raw', '/apis/authorization.k8s.io/v1/subjectaccessreviews', '-f', '-'], JSON.stringify({ apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: { user, resourceAttributes: { namespace: 'default', verb: 'list', resource: 'pods' } } }));
    expect(JSON.parse(await sar('jane')).status).toEqual({ allowed: true, reason: 'RBAC: allowed by RoleBinding "jane-reads/default" of Role "pod-reader" to User "jane"' });
    expect(JSON.parse(await sar('mallory')).status).toEqual({ allowed: false });
  });
});

describe('requests without a valid token (real curl)', () => {
  it('anonymous requests are system:anonymous: health and version open, the rest Forbidden; a bad token is 401', async () => {
    const anon = await curl([`${cluster.url}/api/v1/namespaces/default/pods`]);
    expect(JSON.parse(anon.stdout)).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'pods is forbidden: User "system:anonymous" cannot list resource "pods" in API group "" in the namespace "default"',
      reason: 'Forbidden',
      details: { kind: 'pods' },
      code: 403,
    });
    expect(JSON.parse((await curl([`${cluster.url}/api`])).stdout).message).toBe('forbidden: User "system:anonymous" cannot get path "/api"');
    expect((await curl([`${cluster.url}/readyz`])).stdout).toBe('ok');
    expect(JSON.parse((await curl([`${cluster.url}/version`])).stdout).gitVersion).toMatch(/^v1\.32\./);
    const bad = JSON.parse((await curl(['-H', 'Authorization: Bearer not-a-token', `${cluster.url}/api`])).stdout);
    expect(bad).toMatchObject({ code: 401, reason: 'Unauthorized', message: 'Unauthorized' });
  });
});

describe('a second client: python3-kubernetes', () => {
  it('gets the same Forbidden Status, and asks can-i and whoami through the review APIs', async () => {
    await ok(['create', 'serviceaccount', 'py', '-n', 'team']);
    await ok(['create', 'rolebinding', 'py-view', '--clusterrole=view', '--serviceaccount=team:py', '-n', 'team']);
    const token = (await ok(['create', 'token', 'py', '-n', 'team'])).trim();
    const cfg = await tokenKubeconfig('py.kubeconfig', token, 'team');
    const script = `
import json
from kubernetes import client, config
from kubernetes.client.rest import ApiException
config.load_kube_config(config_file=${JSON.stringify(cfg)})
core = client.CoreV1Api()
print("team pods:", len(core.list_namespaced_pod("team").items))
try:
    core.list_namespaced_secret("team")
except ApiException as e:
    print("secrets:", e.status, json.loads(e.body)["message"])
try:
    core.create_namespaced_config_map("team", {"metadata": {"name": "x"}})
except ApiException as e:
    print("create:", e.status, json.loads(e.body)["reason"])
authz = client.AuthorizationV1Api()
for verb in ["list", "delete"]:
    r = authz.create_self_subject_access_review({"spec": {"resourceAttributes": {"namespace": "team", "verb": verb, "resource": "pods"}}})
    print("can-i", verb, r.status.allowed)
rules = authz.create_self_subject_rules_review({"spec": {"namespace": "team"}}).status.resource_rules
print("rules:", any("pods" in r.resources and "list" in r.verbs for r in rules), any("secrets" in r.resources for r in rules))
review = client.AuthenticationV1Api().create_token_review({"spec": {"token": "x"}})
`;
    const r = await python(script, {});
    // The ServiceAccount may not review tokens: the client raises kube's Forbidden.
    expect(r.stderr).toContain('tokenreviews.authentication.k8s.io is forbidden: User \\"system:serviceaccount:team:py\\" cannot create resource \\"tokenreviews\\" in API group \\"authentication.k8s.io\\" at the cluster scope');
    expect(r.stdout.split('\n')).toEqual([
      'team pods: 0',
      'secrets: 403 secrets is forbidden: User "system:serviceaccount:team:py" cannot list resource "secrets" in API group "" in the namespace "team"',
      'create: 403 Forbidden',
      'can-i list True',
      'can-i delete False',
      'rules: True False',
      '',
    ]);
  });
});
