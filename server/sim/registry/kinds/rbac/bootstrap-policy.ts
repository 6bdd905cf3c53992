/**
 * The RBAC objects a kubeadm 1.32 cluster has from its first start: kube-apiserver's bootstrap
 * policy (plugin/pkg/auth/authorizer/rbac/bootstrappolicy: the user-facing roles, the
 * aggregated admin/edit/view and the system roles with their bindings) and what kubeadm's init
 * phases add (kubeadm:cluster-admins, node bootstrap, kube-proxy, CoreDNS). Rules as the real
 * ones read; `ensureBootstrapPolicy` creates the missing ones, as the rbac/bootstrap-roles
 * post-start hook does.
 */
import type { PolicyRule } from './evaluator.js';

type Obj = Record<string, any>;

export const r = (apiGroups: string[], resources: string[], verbs: string[], resourceNames?: string[]): PolicyRule => ({ apiGroups, resources, verbs, ...(resourceNames ? { resourceNames } : {}) });
const urls = (nonResourceURLs: string[], verbs: string[]): PolicyRule => ({ nonResourceURLs, verbs });

export const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'delete', 'deletecollection', 'patch', 'update'];
const ALL = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
export const EVENTS = r(['', 'events.k8s.io'], ['events'], ['create', 'patch', 'update']);

const DEFAULTS = { 'kubernetes.io/bootstrapping': 'rbac-defaults' };
const AUTOUPDATE = { 'rbac.authorization.kubernetes.io/autoupdate': 'true' };

export function clusterRole(name: string, rules: PolicyRule[] | null, extra: { labels?: Record<string, string>; aggregateFrom?: string } = {}): Obj {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name, labels: { ...DEFAULTS, ...extra.labels }, annotations: { ...AUTOUPDATE } },
    ...(extra.aggregateFrom ? { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [`rbac.authorization.k8s.io/aggregate-to-${extra.aggregateFrom}`]: 'true' } }] } } : {}),
    rules: rules ?? [],
  };
}

export type Subject = ['User' | 'Group', string] | ['ServiceAccount', string, string];
const subjects = (ss: Subject[]) =>
  ss.map((s) => (s[0] === 'ServiceAccount' ? { kind: 'ServiceAccount', name: s[1], namespace: s[2] } : { apiGroup: 'rbac.authorization.k8s.io', kind: s[0], name: s[1] }));

export function clusterRoleBinding(name: string, role: string, ss: Subject[], bootstrap = true): Obj {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name, ...(bootstrap ? { labels: { ...DEFAULTS }, annotations: { ...AUTOUPDATE } } : {}) },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
    ...(ss.length ? { subjects: subjects(ss) } : {}),
  };
}

export function role(namespace: string, name: string, rules: PolicyRule[], bootstrap = true): Obj {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name, namespace, ...(bootstrap ? { labels: { ...DEFAULTS }, annotations: { ...AUTOUPDATE } } : {}) },
    rules,
  };
}

export function roleBinding(namespace: string, name: string, roleName: string, ss: Subject[], bootstrap = true): Obj {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name, namespace, ...(bootstrap ? { labels: { ...DEFAULTS }, annotations: { ...AUTOUPDATE } } : {}) },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: roleName },
    subjects: subjects(ss),
  };
}

const AGG = (to: string) => ({ [`rbac.authorization.k8s.io/aggregate-to-${to}`]: 'true' });

export const BOOTSTRAP_CLUSTER_ROLES: Obj[] = [
  clusterRole('admin', null, { aggregateFrom: 'admin' }),
  clusterRole('cluster-admin', [r(['*'], ['*'], ['*']), urls(['*'], ['*'])]),
  clusterRole('edit', null, { aggregateFrom: 'edit', labels: AGG('admin') }),
  clusterRole('system:aggregate-to-admin', [r(['authorization.k8s.io'], ['localsubjectaccessreviews'], ['create']), r(['rbac.authorization.k8s.io'], ['rolebindings', 'roles'], ALL)], { labels: AGG('admin') }),
  clusterRole(
    'system:aggregate-to-edit',
    [
      r([''], ['pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy', 'secrets', 'services/proxy'], READ),
      r([''], ['serviceaccounts'], ['impersonate']),
      r([''], ['pods', 'pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy'], WRITE),
      r([''], ['pods/eviction'], ['create']),
      r([''], ['configmaps', 'events', 'persistentvolumeclaims', 'replicationcontrollers', 'replicationcontrollers/scale', 'secrets', 'serviceaccounts', 'services', 'services/proxy'], WRITE),
      r([''], ['serviceaccounts/token'], ['create']),
      r(['apps'], ['daemonsets', 'deployments', 'deployments/rollback', 'deployments/scale', 'replicasets', 'replicasets/scale', 'statefulsets', 'statefulsets/scale'], WRITE),
      r(['autoscaling'], ['horizontalpodautoscalers'], WRITE),
      r(['batch'], ['cronjobs', 'jobs'], WRITE),
      r(['extensions'], ['daemonsets', 'deployments', 'deployments/rollback', 'deployments/scale', 'ingresses', 'networkpolicies', 'replicasets', 'replicasets/scale', 'replicationcontrollers/scale'], WRITE),
      r(['policy'], ['poddisruptionbudgets'], WRITE),
      r(['networking.k8s.io'], ['ingresses', 'networkpolicies'], WRITE),
      r(['coordination.k8s.io'], ['leases'], ALL),
    ],
    { labels: AGG('edit') },
  ),
  clusterRole(
    'system:aggregate-to-view',
    [
      r([''], ['configmaps', 'endpoints', 'persistentvolumeclaims', 'persistentvolumeclaims/status', 'pods', 'replicationcontrollers', 'replicationcontrollers/scale', 'serviceaccounts', 'services', 'services/status'], READ),
      r([''], ['bindings', 'events', 'limitranges', 'namespaces/status', 'pods/log', 'pods/status', 'replicationcontrollers/status', 'resourcequotas', 'resourcequotas/status'], READ),
      r([''], ['namespaces'], READ),
      r(['discovery.k8s.io'], ['endpointslices'], READ),
      r(['apps'], ['controllerrevisions', 'daemonsets', 'daemonsets/status', 'deployments', 'deployments/scale', 'deployments/status', 'replicasets', 'replicasets/scale', 'replicasets/status', 'statefulsets', 'statefulsets/scale', 'statefulsets/status'], READ),
      r(['autoscaling'], ['horizontalpodautoscalers', 'horizontalpodautoscalers/status'], READ),
      r(['batch'], ['cronjobs', 'cronjobs/status', 'jobs', 'jobs/status'], READ),
      r(['extensions'], ['daemonsets', 'daemonsets/status', 'deployments', 'deployments/scale', 'deployments/status', 'ingresses', 'ingresses/status', 'networkpolicies', 'replicasets', 'replicasets/scale', 'replicasets/status', 'replicationcontrollers/scale'], READ),
      r(['policy'], ['poddisruptionbudgets', 'poddisruptionbudgets/status'], READ),
      r(['networking.k8s.io'], ['ingresses', 'ingresses/status', 'networkpolicies'], READ),
    ],
    { labels: AGG('view') },
  ),
  clusterRole('system:auth-delegator', [r(['authentication.k8s.io'], ['tokenreviews'], ['create']), r(['authorization.k8s.io'], ['subjectaccessreviews'], ['create'])]),
  clusterRole('system:basic-user', [r(['authorization.k8s.io'], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'], ['create']), r(['authentication.k8s.io'], ['selfsubjectreviews'], ['create'])]),
  clusterRole('system:certificates.k8s.io:certificatesigningrequests:nodeclient', [r(['certificates.k8s.io'], ['certificatesigningrequests/nodeclient'], ['create'])]),
  clusterRole('system:certificates.k8s.io:certificatesigningrequests:selfnodeclient', [r(['certificates.k8s.io'], ['certificatesigningrequests/selfnodeclient'], ['create'])]),
  clusterRole('system:certificates.k8s.io:kube-apiserver-client-approver', [r(['certificates.k8s.io'], ['signers'], ['approve'], ['kubernetes.io/kube-apiserver-client'])]),
  clusterRole('system:certificates.k8s.io:kube-apiserver-client-kubelet-approver', [r(['certificates.k8s.io'], ['signers'], ['approve'], ['kubernetes.io/kube-apiserver-client-kubelet'])]),
  clusterRole('system:certificates.k8s.io:kubelet-serving-approver', [r(['certificates.k8s.io'], ['signers'], ['approve'], ['kubernetes.io/kubelet-serving'])]),
  clusterRole('system:certificates.k8s.io:legacy-unknown-approver', [r(['certificates.k8s.io'], ['signers'], ['approve'], ['kubernetes.io/legacy-unknown'])]),
  clusterRole('system:discovery', [urls(['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'], ['get'])]),
  clusterRole('system:heapster', [r([''], ['events', 'namespaces', 'nodes', 'pods'], READ), r(['extensions'], ['deployments'], READ)]),
  clusterRole('system:kube-aggregator', [r([''], ['endpoints', 'services'], READ)]),
  clusterRole('system:kube-controller-manager', [
    EVENTS,
    r(['coordination.k8s.io'], ['leases'], ['create']),
    r(['coordination.k8s.io'], ['leases'], ['get', 'update'], ['kube-controller-manager']),
    r([''], ['secrets', 'serviceaccounts'], ['create']),
    r([''], ['secrets'], ['delete']),
    r([''], ['configmaps', 'namespaces', 'secrets', 'serviceaccounts'], ['get']),
    r([''], ['secrets', 'serviceaccounts'], ['update']),
    r(['authentication.k8s.io'], ['tokenreviews'], ['create']),
    r(['authorization.k8s.io'], ['subjectaccessreviews'], ['create']),
    r(['*'], ['*'], ['list', 'watch']),
    r([''], ['serviceaccounts/token'], ['create']),
  ]),
  clusterRole('system:kube-dns', [r([''], ['endpoints', 'services'], ['list', 'watch'])]),
  clusterRole('system:kube-scheduler', [
    EVENTS,
    r(['coordination.k8s.io'], ['leases'], ['create']),
    r(['coordination.k8s.io'], ['leases'], ['get', 'update'], ['kube-scheduler']),
    r([''], ['nodes'], READ),
    r([''], ['pods'], ['delete', 'get', 'list', 'watch']),
    r([''], ['bindings', 'pods/binding'], ['create']),
    r([''], ['pods/status'], ['patch', 'update']),
    r([''], ['replicationcontrollers', 'services'], READ),
    r(['apps', 'extensions'], ['replicasets'], READ),
    r(['apps'], ['statefulsets'], READ),
    r(['policy'], ['poddisruptionbudgets'], READ),
    r([''], ['persistentvolumeclaims', 'persistentvolumes'], READ),
    r(['authentication.k8s.io'], ['tokenreviews'], ['create']),
    r(['authorization.k8s.io'], ['subjectaccessreviews'], ['create']),
    r(['storage.k8s.io'], ['csinodes'], READ),
    r([''], ['namespaces'], READ),
    r(['storage.k8s.io'], ['csidrivers'], READ),
    r(['storage.k8s.io'], ['csistoragecapacities'], READ),
  ]),
  clusterRole('system:kubelet-api-admin', [r([''], ['nodes'], READ), r([''], ['nodes'], ['proxy']), r([''], ['nodes/log', 'nodes/metrics', 'nodes/proxy', 'nodes/stats'], ['*'])]),
  clusterRole('system:monitoring', [urls(['/healthz', '/healthz/*', '/livez', '/livez/*', '/metrics', '/metrics/slis', '/readyz', '/readyz/*'], ['get'])]),
  clusterRole('system:node', [
    r(['authentication.k8s.io'], ['tokenreviews'], ['create']),
    r(['authorization.k8s.io'], ['localsubjectaccessreviews', 'subjectaccessreviews'], ['create']),
    r([''], ['services'], READ),
    r([''], ['nodes'], ['create', 'get', 'list', 'watch']),
    r([''], ['nodes/status'], ['patch', 'update']),
    r([''], ['nodes'], ['patch', 'update']),
    r([''], ['events'], ['create', 'patch', 'update']),
    r([''], ['pods'], READ),
    r([''], ['pods'], ['create', 'delete']),
    r([''], ['pods/status'], ['patch', 'update']),
    r([''], ['pods/eviction'], ['create']),
    r([''], ['configmaps', 'secrets'], READ),
    r([''], ['persistentvolumeclaims', 'persistentvolumes'], ['get']),
    r([''], ['endpoints'], ['get']),
    r(['certificates.k8s.io'], ['certificatesigningrequests'], ['create', 'get', 'list', 'watch']),
    r(['coordination.k8s.io'], ['leases'], ['create', 'delete', 'get', 'patch', 'update']),
    r(['storage.k8s.io'], ['volumeattachments'], ['get']),
    r([''], ['serviceaccounts/token'], ['create']),
    r([''], ['persistentvolumeclaims/status'], ['get', 'patch', 'update']),
    r(['storage.k8s.io'], ['csidrivers'], READ),
    r(['storage.k8s.io'], ['csinodes'], ['create', 'delete', 'get', 'patch', 'update']),
    r(['node.k8s.io'], ['runtimeclasses'], READ),
  ]),
  clusterRole('system:node-bootstrapper', [r(['certificates.k8s.io'], ['certificatesigningrequests'], ['create', 'get', 'list', 'watch'])]),
  clusterRole('system:node-problem-detector', [r([''], ['nodes'], ['get']), r([''], ['nodes/status'], ['patch']), EVENTS]),
  clusterRole('system:node-proxier', [r([''], ['endpoints', 'services'], ['list', 'watch']), r([''], ['nodes'], READ), EVENTS, r(['discovery.k8s.io'], ['endpointslices'], ['list', 'watch'])]),
  clusterRole('system:persistent-volume-provisioner', [
    r([''], ['persistentvolumes'], ['create', 'delete', 'get', 'list', 'watch']),
    r([''], ['persistentvolumeclaims'], ['get', 'list', 'update', 'watch']),
    r(['storage.k8s.io'], ['storageclasses'], READ),
    r([''], ['events'], ['watch']),
    EVENTS,
  ]),
  clusterRole('system:public-info-viewer', [urls(['/healthz', '/livez', '/readyz', '/version', '/version/'], ['get'])]),
  clusterRole('system:service-account-issuer-discovery', [urls(['/.well-known/openid-configuration', '/.well-known/openid-configuration/', '/openid/v1/jwks', '/openid/v1/jwks/'], ['get'])]),
  clusterRole('system:volume-scheduler', [r([''], ['persistentvolumes'], ['get', 'list', 'patch', 'update', 'watch']), r(['storage.k8s.io'], ['storageclasses'], READ), r([''], ['persistentvolumeclaims'], ['get', 'list', 'patch', 'update', 'watch'])]),
  clusterRole('view', null, { aggregateFrom: 'view', labels: AGG('edit') }),
];

export const BOOTSTRAP_CLUSTER_ROLE_BINDINGS: Obj[] = [
  clusterRoleBinding('cluster-admin', 'cluster-admin', [['Group', 'system:masters']]),
  clusterRoleBinding('system:basic-user', 'system:basic-user', [['Group', 'system:authenticated']]),
  clusterRoleBinding('system:discovery', 'system:discovery', [['Group', 'system:authenticated']]),
  clusterRoleBinding('system:kube-controller-manager', 'system:kube-controller-manager', [['User', 'system:kube-controller-manager']]),
  clusterRoleBinding('system:kube-dns', 'system:kube-dns', [['ServiceAccount', 'kube-dns', 'kube-system']]),
  clusterRoleBinding('system:kube-scheduler', 'system:kube-scheduler', [['User', 'system:kube-scheduler']]),
  clusterRoleBinding('system:monitoring', 'system:monitoring', [['Group', 'system:monitoring']]),
  clusterRoleBinding('system:node', 'system:node', []),
  clusterRoleBinding('system:node-proxier', 'system:node-proxier', [['User', 'system:kube-proxy']]),
  clusterRoleBinding('system:public-info-viewer', 'system:public-info-viewer', [['Group', 'system:authenticated'], ['Group', 'system:unauthenticated']]),
  clusterRoleBinding('system:service-account-issuer-discovery', 'system:service-account-issuer-discovery', [['Group', 'system:serviceaccounts']]),
  clusterRoleBinding('system:volume-scheduler', 'system:volume-scheduler', [['User', 'system:kube-scheduler']]),
];

export const BOOTSTRAP_ROLES: Obj[] = [
  role('kube-system', 'extension-apiserver-authentication-reader', [r([''], ['configmaps'], READ, ['extension-apiserver-authentication'])]),
  role('kube-system', 'system::leader-locking-kube-controller-manager', [r([''], ['configmaps'], ['watch']), r([''], ['configmaps'], ['get', 'update'], ['kube-controller-manager'])]),
  role('kube-system', 'system::leader-locking-kube-scheduler', [r([''], ['configmaps'], ['watch']), r([''], ['configmaps'], ['get', 'update'], ['kube-scheduler'])]),
];

export const BOOTSTRAP_ROLE_BINDINGS: Obj[] = [
  roleBinding('kube-system', 'system::extension-apiserver-authentication-reader', 'extension-apiserver-authentication-reader', [['User', 'system:kube-controller-manager'], ['User', 'system:kube-scheduler']]),
  roleBinding('kube-system', 'system::leader-locking-kube-controller-manager', 'system::leader-locking-kube-controller-manager', [['User', 'system:kube-controller-manager'], ['ServiceAccount', 'kube-controller-manager', 'kube-system']]),
  roleBinding('kube-system', 'system::leader-locking-kube-scheduler', 'system::leader-locking-kube-scheduler', [['User', 'system:kube-scheduler'], ['ServiceAccount', 'kube-scheduler', 'kube-system']]),
];

/** What kubeadm init's phases create (bootstrap-token, addon/coredns, addon/kube-proxy, kubeconfig). */
export const KUBEADM_OBJECTS: Obj[] = [
  clusterRoleBinding('kubeadm:cluster-admins', 'cluster-admin', [['Group', 'kubeadm:cluster-admins']], false),
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'kubeadm:get-nodes' }, rules: [r([''], ['nodes'], ['get'])] },
  clusterRoleBinding('kubeadm:get-nodes', 'kubeadm:get-nodes', [['Group', 'system:bootstrappers:kubeadm:default-node-token']], false),
  clusterRoleBinding('kubeadm:kubelet-bootstrap', 'system:node-bootstrapper', [['Group', 'system:bootstrappers:kubeadm:default-node-token']], false),
  clusterRoleBinding('kubeadm:node-autoapprove-bootstrap', 'system:certificates.k8s.io:certificatesigningrequests:nodeclient', [['Group', 'system:bootstrappers:kubeadm:default-node-token']], false),
  clusterRoleBinding('kubeadm:node-autoapprove-certificate-rotation', 'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient', [['Group', 'system:nodes']], false),
  clusterRoleBinding('kubeadm:node-proxier', 'system:node-proxier', [['ServiceAccount', 'kube-proxy', 'kube-system']], false),
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'system:coredns' }, rules: [r([''], ['endpoints', 'services', 'pods', 'namespaces'], ['list', 'watch']), r(['discovery.k8s.io'], ['endpointslices'], ['list', 'watch'])] },
  clusterRoleBinding('system:coredns', 'system:coredns', [['ServiceAccount', 'coredns', 'kube-system']], false),
  role('kube-system', 'kube-proxy', [r([''], ['configmaps'], ['get'], ['kube-proxy'])], false),
  roleBinding('kube-system', 'kube-proxy', 'kube-proxy', [['Group', 'system:bootstrappers:kubeadm:default-node-token']], false),
  role('kube-system', 'kubeadm:kubelet-config', [r([''], ['configmaps'], ['get'], ['kubelet-config'])], false),
  roleBinding('kube-system', 'kubeadm:kubelet-config', 'kubeadm:kubelet-config', [['Group', 'system:nodes'], ['Group', 'system:bootstrappers:kubeadm:default-node-token']], false),
  role('kube-system', 'kubeadm:nodes-kubeadm-config', [r([''], ['configmaps'], ['get'], ['kubeadm-config'])], false),
  roleBinding('kube-system', 'kubeadm:nodes-kubeadm-config', 'kubeadm:nodes-kubeadm-config', [['Group', 'system:bootstrappers:kubeadm:default-node-token'], ['Group', 'system:nodes']], false),
  role('kube-public', 'kubeadm:bootstrap-signer-clusterinfo', [r([''], ['configmaps'], ['get'], ['cluster-info'])], false),
  roleBinding('kube-public', 'kubeadm:bootstrap-signer-clusterinfo', 'kubeadm:bootstrap-signer-clusterinfo', [['User', 'system:anonymous']], false),
];
