/**
 * kube-controller-manager's per-controller roles (bootstrappolicy/controller_policy.go): one
 * `system:controller:<name>` ClusterRole per controller, bound to the kube-system ServiceAccount
 * of the same name that the controller runs as (--use-service-account-credentials, which kubeadm
 * sets), and the bootstrap-signer, cloud-provider and token-cleaner Roles in kube-system and
 * kube-public.
 *
 * Rules as kubernetes/kubernetes plugin/pkg/auth/authorizer/rbac/bootstrappolicy/testdata/
 * {controller-roles,controller-role-bindings,namespace-roles,namespace-role-bindings}.yaml read
 * (the stored copy is newer than v1.32: the controllers 1.32 does not run by default,
 * device-taint-eviction, resource-claim, selinux-warning, service-cidrs and
 * volumeattributesclass-protection, are left out, as they are behind feature gates that are off in 1.32).
 */
import type { PolicyRule } from './evaluator.js';
import { clusterRole, clusterRoleBinding, EVENTS, r, READ, role, roleBinding } from './bootstrap-policy.js';

type Obj = Record<string, any>;

const CRUD = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];
const UPDATE = ['update'];
const PU = ['patch', 'update'];
const LW = ['list', 'watch'];

/** controller name → its rules, in the order controller_policy.go lists them. */
const CONTROLLERS: [string, PolicyRule[]][] = [
  ['attachdetach-controller', [
    r([''], ['persistentvolumeclaims', 'persistentvolumes'], LW),
    r([''], ['nodes'], READ),
    r([''], ['nodes/status'], PU),
    r([''], ['pods'], LW),
    EVENTS,
    r(['storage.k8s.io'], ['volumeattachments'], ['create', 'delete', 'get', 'list', 'watch']),
    r(['storage.k8s.io'], ['csidrivers'], READ),
    r(['storage.k8s.io'], ['csinodes'], READ),
  ]],
  ['certificate-controller', [
    r(['certificates.k8s.io'], ['certificatesigningrequests'], ['delete', 'get', 'list', 'watch']),
    r(['certificates.k8s.io'], ['certificatesigningrequests/approval', 'certificatesigningrequests/status'], UPDATE),
    r(['certificates.k8s.io'], ['signers'], ['approve'], ['kubernetes.io/kube-apiserver-client-kubelet']),
    r(['certificates.k8s.io'], ['signers'], ['sign'], ['kubernetes.io/kube-apiserver-client', 'kubernetes.io/kube-apiserver-client-kubelet', 'kubernetes.io/kubelet-serving', 'kubernetes.io/legacy-unknown']),
    r(['authorization.k8s.io'], ['subjectaccessreviews'], ['create']),
    EVENTS,
  ]],
  ['clusterrole-aggregation-controller', [r(['rbac.authorization.k8s.io'], ['clusterroles'], ['escalate', 'get', 'list', 'patch', 'update', 'watch'])]],
  ['cronjob-controller', [
    r(['batch'], ['cronjobs'], ['get', 'list', 'update', 'watch']),
    r(['batch'], ['jobs'], CRUD),
    r(['batch'], ['cronjobs/status'], UPDATE),
    r(['batch'], ['cronjobs/finalizers'], UPDATE),
    r([''], ['pods'], ['delete', 'list', 'watch']),
    EVENTS,
  ]],
  ['daemon-set-controller', [
    r(['apps', 'extensions'], ['daemonsets'], READ),
    r(['apps', 'extensions'], ['daemonsets/status'], UPDATE),
    r(['apps', 'extensions'], ['daemonsets/finalizers'], UPDATE),
    r([''], ['nodes'], LW),
    r([''], ['pods'], ['create', 'delete', 'list', 'patch', 'watch']),
    r([''], ['pods/binding'], ['create']),
    r(['apps'], ['controllerrevisions'], CRUD),
    EVENTS,
  ]],
  ['deployment-controller', [
    r(['apps', 'extensions'], ['deployments'], ['get', 'list', 'update', 'watch']),
    r(['apps', 'extensions'], ['deployments/status'], UPDATE),
    r(['apps', 'extensions'], ['deployments/finalizers'], UPDATE),
    r(['apps', 'extensions'], ['replicasets'], CRUD),
    r([''], ['pods'], ['get', 'list', 'update', 'watch']),
    EVENTS,
  ]],
  ['disruption-controller', [
    r(['apps', 'extensions'], ['deployments'], READ),
    r(['apps', 'extensions'], ['replicasets'], READ),
    r([''], ['replicationcontrollers'], READ),
    r(['policy'], ['poddisruptionbudgets'], READ),
    r(['apps'], ['statefulsets'], READ),
    r(['policy'], ['poddisruptionbudgets/status'], UPDATE),
    r([''], ['pods/status'], PU),
    r(['*'], ['*/scale'], ['get']),
    EVENTS,
  ]],
  ['endpoint-controller', [
    r([''], ['pods', 'services'], READ),
    r([''], ['endpoints'], ['create', 'delete', 'get', 'list', 'update', 'watch']),
    r([''], ['endpoints/restricted'], ['create']),
    EVENTS,
  ]],
  ['endpointslice-controller', [
    r([''], ['nodes', 'pods', 'services'], READ),
    r([''], ['services/finalizers'], UPDATE),
    r(['discovery.k8s.io'], ['endpointslices'], ['create', 'delete', 'get', 'list', 'update', 'watch']),
    EVENTS,
  ]],
  ['endpointslicemirroring-controller', [
    r([''], ['endpoints', 'services'], READ),
    r([''], ['services/finalizers'], UPDATE),
    r([''], ['endpoints/finalizers'], UPDATE),
    r(['discovery.k8s.io'], ['endpointslices'], ['create', 'delete', 'get', 'list', 'update', 'watch']),
    EVENTS,
  ]],
  ['ephemeral-volume-controller', [
    r([''], ['pods'], READ),
    r([''], ['pods/finalizers'], UPDATE),
    r([''], ['persistentvolumeclaims'], ['create', 'get', 'list', 'watch']),
    EVENTS,
  ]],
  ['expand-controller', [
    r([''], ['persistentvolumes'], ['get', 'list', 'patch', 'update', 'watch']),
    r([''], ['persistentvolumeclaims/status'], PU),
    r([''], ['persistentvolumeclaims'], READ),
    EVENTS,
  ]],
  ['generic-garbage-collector', [r(['*'], ['*'], ['delete', 'get', 'list', 'patch', 'update', 'watch']), EVENTS]],
  ['horizontal-pod-autoscaler', [
    r(['autoscaling'], ['horizontalpodautoscalers'], READ),
    r(['autoscaling'], ['horizontalpodautoscalers/status'], UPDATE),
    r(['*'], ['*/scale'], ['get', 'update']),
    r([''], ['pods'], LW),
    r(['metrics.k8s.io'], ['pods'], LW),
    r(['custom.metrics.k8s.io'], ['*'], READ),
    r(['external.metrics.k8s.io'], ['*'], READ),
    EVENTS,
  ]],
  ['job-controller', [
    r(['batch'], ['jobs'], ['get', 'list', 'patch', 'update', 'watch']),
    r(['batch'], ['jobs/status'], UPDATE),
    r(['batch'], ['jobs/finalizers'], UPDATE),
    r([''], ['pods'], ['create', 'delete', 'list', 'patch', 'watch']),
    EVENTS,
  ]],
  ['legacy-service-account-token-cleaner', [
    r([''], ['configmaps'], ['get'], ['kube-apiserver-legacy-service-account-token-tracking']),
    r([''], ['secrets'], ['delete', 'patch']),
  ]],
  ['namespace-controller', [
    r([''], ['namespaces'], ['delete', 'get', 'list', 'watch']),
    r([''], ['namespaces/finalize', 'namespaces/status'], UPDATE),
    r(['*'], ['*'], ['delete', 'deletecollection', 'get', 'list', 'watch']),
  ]],
  ['node-controller', [
    r([''], ['nodes'], ['delete', 'get', 'list', 'patch', 'update', 'watch']),
    r([''], ['nodes/status'], PU),
    r([''], ['pods/status'], PU),
    r([''], ['pods'], ['delete', 'get', 'list', 'watch']),
    EVENTS,
  ]],
  ['persistent-volume-binder', [
    r([''], ['persistentvolumes'], ['create', 'delete', 'get', 'list', 'update', 'watch']),
    r([''], ['persistentvolumes/status'], UPDATE),
    r([''], ['persistentvolumeclaims'], ['get', 'list', 'update', 'watch']),
    r([''], ['persistentvolumeclaims/status'], UPDATE),
    r([''], ['pods'], ['create', 'delete', 'get', 'list', 'watch']),
    r(['storage.k8s.io'], ['storageclasses'], READ),
    r([''], ['nodes'], LW),
    EVENTS,
    r([''], ['events'], ['watch']),
  ]],
  ['pod-garbage-collector', [r([''], ['pods'], ['delete', 'list', 'watch']), r([''], ['nodes'], READ), r([''], ['pods/status'], ['patch'])]],
  ['pv-protection-controller', [r([''], ['persistentvolumes'], ['get', 'list', 'update', 'watch']), EVENTS]],
  ['pvc-protection-controller', [
    r([''], ['persistentvolumeclaims'], ['get', 'list', 'update', 'watch']),
    r([''], ['persistentvolumeclaims/status'], UPDATE),
    r([''], ['pods'], READ),
    EVENTS,
  ]],
  ['replicaset-controller', [
    r(['apps', 'extensions'], ['replicasets'], ['get', 'list', 'update', 'watch']),
    r(['apps', 'extensions'], ['replicasets/status'], UPDATE),
    r(['apps', 'extensions'], ['replicasets/finalizers'], UPDATE),
    r([''], ['pods'], ['create', 'delete', 'list', 'patch', 'watch']),
    EVENTS,
  ]],
  ['replication-controller', [
    r([''], ['replicationcontrollers'], ['get', 'list', 'update', 'watch']),
    r([''], ['replicationcontrollers/status'], UPDATE),
    r([''], ['replicationcontrollers/finalizers'], UPDATE),
    r([''], ['pods'], ['create', 'delete', 'list', 'patch', 'watch']),
    EVENTS,
  ]],
  ['resourcequota-controller', [r(['*'], ['*'], LW), r([''], ['resourcequotas/status'], UPDATE), EVENTS]],
  ['root-ca-cert-publisher', [r([''], ['configmaps'], ['create', 'update']), EVENTS]],
  ['route-controller', [r([''], ['nodes'], LW), r([''], ['nodes/status'], ['patch']), EVENTS]],
  ['service-account-controller', [r([''], ['serviceaccounts'], ['create']), EVENTS]],
  ['service-controller', [r([''], ['services'], READ), r([''], ['services/status'], PU), r([''], ['nodes'], LW), EVENTS]],
  ['statefulset-controller', [
    r([''], ['pods'], LW),
    r(['apps'], ['statefulsets'], READ),
    r(['apps'], ['statefulsets/status'], UPDATE),
    r(['apps'], ['statefulsets/finalizers'], UPDATE),
    r([''], ['pods'], ['create', 'delete', 'get', 'patch', 'update']),
    r(['apps'], ['controllerrevisions'], CRUD),
    r([''], ['persistentvolumeclaims'], ['create', 'get', 'list', 'watch']),
    r([''], ['persistentvolumeclaims'], ['delete', 'update']),
    r([''], ['pods/finalizers'], UPDATE),
    EVENTS,
  ]],
  ['ttl-after-finished-controller', [r(['batch'], ['jobs'], ['delete', 'get', 'list', 'watch']), EVENTS]],
  ['ttl-controller', [r([''], ['nodes'], ['list', 'patch', 'update', 'watch']), EVENTS]],
  ['validatingadmissionpolicy-status-controller', [
    r(['admissionregistration.k8s.io'], ['validatingadmissionpolicies'], READ),
    r(['admissionregistration.k8s.io'], ['validatingadmissionpolicies/status'], ['get', 'patch', 'update']),
    EVENTS,
  ]],
];

const PREFIX = 'system:controller:';

export const CONTROLLER_CLUSTER_ROLES: Obj[] = CONTROLLERS.map(([name, rules]) => clusterRole(PREFIX + name, rules));
export const CONTROLLER_CLUSTER_ROLE_BINDINGS: Obj[] = CONTROLLERS.map(([name]) => clusterRoleBinding(PREFIX + name, PREFIX + name, [['ServiceAccount', name, 'kube-system']]));

export const CONTROLLER_ROLES: Obj[] = [
  role('kube-public', `${PREFIX}bootstrap-signer`, [r([''], ['configmaps'], READ), r([''], ['configmaps'], UPDATE, ['cluster-info']), EVENTS]),
  role('kube-system', `${PREFIX}bootstrap-signer`, [r([''], ['secrets'], READ)]),
  role('kube-system', `${PREFIX}cloud-provider`, [r([''], ['configmaps'], ['create', 'get', 'list', 'watch'])]),
  role('kube-system', `${PREFIX}token-cleaner`, [r([''], ['secrets'], ['delete', 'get', 'list', 'watch']), EVENTS]),
];

export const CONTROLLER_ROLE_BINDINGS: Obj[] = [
  roleBinding('kube-public', `${PREFIX}bootstrap-signer`, `${PREFIX}bootstrap-signer`, [['ServiceAccount', 'bootstrap-signer', 'kube-system']]),
  roleBinding('kube-system', `${PREFIX}bootstrap-signer`, `${PREFIX}bootstrap-signer`, [['ServiceAccount', 'bootstrap-signer', 'kube-system']]),
  roleBinding('kube-system', `${PREFIX}cloud-provider`, `${PREFIX}cloud-provider`, [['ServiceAccount', 'cloud-provider', 'kube-system']]),
  roleBinding('kube-system', `${PREFIX}token-cleaner`, `${PREFIX}token-cleaner`, [['ServiceAccount', 'token-cleaner', 'kube-system']]),
];

/**
 * The kube-system ServiceAccounts kube-controller-manager creates for the controllers a kubeadm
 * cluster runs (its --controllers=*,bootstrapsigner,tokencleaner; the cloud ones, route and
 * service, are off without a cloud provider).
 */
export const CONTROLLER_SERVICE_ACCOUNTS: string[] = [
  ...CONTROLLERS.map(([name]) => name).filter((n) => n !== 'route-controller' && n !== 'service-controller'),
  'bootstrap-signer',
  'token-cleaner',
].sort();
