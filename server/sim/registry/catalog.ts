/** The built-in kinds the embedded cluster serves, with the names discovery announces for them. */
import { ALL_VERBS, type ResourceDef, type Strategy } from './resource.js';
import { configMapStrategy, endpointSliceStrategy, eventStrategy, metaOnly, namespaceStrategy, nodeStrategy, requireFields, secretStrategy, serviceStrategy, specKind, type ServiceAllocator } from './strategies/core.js';
import { crdStrategy } from './strategies/crd.js';
import { eventsV1Conversion } from './strategies/events.js';
import { hpaV1Conversion, hpaV1Strategy, hpaV2Strategy } from './strategies/hpa.js';
import { podStrategy } from './strategies/pod.js';
import { cronJobStrategy, daemonSetStrategy, deploymentStrategy, jobStrategy, replicaSetStrategy, statefulSetStrategy } from './strategies/workloads.js';
import { bucketOf } from '../storage/store.js';

interface Spec {
  gv: string;
  resource: string;
  kind: string;
  namespaced?: boolean;
  shortNames?: string[];
  categories?: string[];
  verbs?: string[];
  status?: boolean;
  scale?: boolean;
  extra?: ResourceDef['extraSubresources'];
  strategy: Strategy;
  bucket?: string;
}

/** Buckets whose strategies answer AllowCreateOnUpdate() true in kube-apiserver. */
const CREATE_ON_UPDATE = new Set([
  '/endpoints', '/events', '/limitranges', 'coordination.k8s.io/leases',
  'rbac.authorization.k8s.io/roles', 'rbac.authorization.k8s.io/rolebindings',
  'rbac.authorization.k8s.io/clusterroles', 'rbac.authorization.k8s.io/clusterrolebindings',
]);

const VERBS_NO_DC = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];
const ALL = ['all'];

function def(s: Spec): ResourceDef {
  const [group, version] = s.gv.includes('/') ? s.gv.split('/') : ['', s.gv];
  const bucket = s.bucket ?? bucketOf(group, s.resource);
  return {
    group,
    version,
    resource: s.resource,
    kind: s.kind,
    listKind: `${s.kind}List`,
    singular: s.kind.toLowerCase(),
    namespaced: s.namespaced ?? true,
    shortNames: s.shortNames,
    categories: s.categories,
    verbs: s.verbs ?? ALL_VERBS,
    status: s.status,
    scale: s.scale ? { specReplicasPath: ['spec', 'replicas'], statusReplicasPath: ['status', 'replicas'], structuredSelector: true } : undefined,
    extraSubresources: s.extra,
    strategy: s.strategy,
    bucket,
    preferred: true,
    ...(CREATE_ON_UPDATE.has(bucket) ? { allowCreateOnUpdate: true } : {}),
  };
}

const podExtras: ResourceDef['extraSubresources'] = [
  { name: 'attach', kind: 'PodAttachOptions', verbs: ['create', 'get'] },
  { name: 'binding', kind: 'Binding', verbs: ['create'] },
  { name: 'ephemeralcontainers', kind: 'Pod', verbs: ['get', 'patch', 'update'] },
  { name: 'eviction', kind: 'Eviction', group: 'policy', version: 'v1', verbs: ['create'] },
  { name: 'exec', kind: 'PodExecOptions', verbs: ['create', 'get'] },
  { name: 'log', kind: 'Pod', verbs: ['get'] },
  { name: 'portforward', kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
  { name: 'proxy', kind: 'PodProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] },
];
const proxyExtra = (kind: string): ResourceDef['extraSubresources'] => [{ name: 'proxy', kind, verbs: ['create', 'delete', 'get', 'patch', 'update'] }];

export function builtinResources(alloc: ServiceAllocator): ResourceDef[] {
  return [
    def({ gv: 'v1', resource: 'configmaps', kind: 'ConfigMap', shortNames: ['cm'], strategy: configMapStrategy }),
    def({ gv: 'v1', resource: 'endpoints', kind: 'Endpoints', shortNames: ['ep'], strategy: metaOnly('subdomain', true) }),
    def({ gv: 'v1', resource: 'events', kind: 'Event', shortNames: ['ev'], strategy: eventStrategy }),
    def({ gv: 'v1', resource: 'limitranges', kind: 'LimitRange', shortNames: ['limits'], strategy: metaOnly('subdomain', true) }),
    def({ gv: 'v1', resource: 'namespaces', kind: 'Namespace', namespaced: false, shortNames: ['ns'], verbs: VERBS_NO_DC, status: true, strategy: namespaceStrategy, extra: [{ name: 'finalize', kind: 'Namespace', verbs: ['update'] }] }),
    def({ gv: 'v1', resource: 'nodes', kind: 'Node', namespaced: false, shortNames: ['no'], status: true, strategy: nodeStrategy, extra: proxyExtra('NodeProxyOptions') }),
    def({ gv: 'v1', resource: 'persistentvolumeclaims', kind: 'PersistentVolumeClaim', shortNames: ['pvc'], status: true, strategy: specKind('subdomain', true) }),
    def({ gv: 'v1', resource: 'persistentvolumes', kind: 'PersistentVolume', namespaced: false, shortNames: ['pv'], status: true, strategy: specKind('subdomain', false) }),
    def({ gv: 'v1', resource: 'pods', kind: 'Pod', shortNames: ['po'], categories: ALL, status: true, strategy: podStrategy, extra: podExtras }),
    def({ gv: 'v1', resource: 'podtemplates', kind: 'PodTemplate', strategy: metaOnly('subdomain', true) }),
    def({ gv: 'v1', resource: 'replicationcontrollers', kind: 'ReplicationController', shortNames: ['rc'], categories: ALL, status: true, scale: true, strategy: replicaSetStrategy }),
    def({ gv: 'v1', resource: 'resourcequotas', kind: 'ResourceQuota', shortNames: ['quota'], status: true, strategy: metaOnly('subdomain', true) }),
    def({ gv: 'v1', resource: 'secrets', kind: 'Secret', strategy: secretStrategy }),
    def({ gv: 'v1', resource: 'serviceaccounts', kind: 'ServiceAccount', shortNames: ['sa'], strategy: metaOnly('subdomain', true), extra: [{ name: 'token', kind: 'TokenRequest', group: 'authentication.k8s.io', version: 'v1', verbs: ['create'] }] }),
    def({ gv: 'v1', resource: 'services', kind: 'Service', shortNames: ['svc'], categories: ALL, verbs: VERBS_NO_DC, status: true, strategy: serviceStrategy(alloc), extra: proxyExtra('ServiceProxyOptions') }),

    def({ gv: 'admissionregistration.k8s.io/v1', resource: 'mutatingwebhookconfigurations', kind: 'MutatingWebhookConfiguration', namespaced: false, categories: ['api-extensions'], strategy: specKind('subdomain', false) }),
    def({ gv: 'admissionregistration.k8s.io/v1', resource: 'validatingwebhookconfigurations', kind: 'ValidatingWebhookConfiguration', namespaced: false, categories: ['api-extensions'], strategy: specKind('subdomain', false) }),
    def({ gv: 'apiextensions.k8s.io/v1', resource: 'customresourcedefinitions', kind: 'CustomResourceDefinition', namespaced: false, shortNames: ['crd', 'crds'], categories: ['api-extensions'], status: true, strategy: crdStrategy }),
    def({ gv: 'apps/v1', resource: 'controllerrevisions', kind: 'ControllerRevision', strategy: metaOnly('subdomain', true) }),
    def({ gv: 'apps/v1', resource: 'daemonsets', kind: 'DaemonSet', shortNames: ['ds'], categories: ALL, status: true, strategy: daemonSetStrategy }),
    def({ gv: 'apps/v1', resource: 'deployments', kind: 'Deployment', shortNames: ['deploy'], categories: ALL, status: true, scale: true, strategy: deploymentStrategy }),
    def({ gv: 'apps/v1', resource: 'replicasets', kind: 'ReplicaSet', shortNames: ['rs'], categories: ALL, status: true, scale: true, strategy: replicaSetStrategy }),
    def({ gv: 'apps/v1', resource: 'statefulsets', kind: 'StatefulSet', shortNames: ['sts'], categories: ALL, status: true, scale: true, strategy: statefulSetStrategy }),
    def({ gv: 'autoscaling/v2', resource: 'horizontalpodautoscalers', kind: 'HorizontalPodAutoscaler', shortNames: ['hpa'], categories: ALL, status: true, strategy: hpaV2Strategy }),
    { ...def({ gv: 'autoscaling/v1', resource: 'horizontalpodautoscalers', kind: 'HorizontalPodAutoscaler', shortNames: ['hpa'], categories: ALL, status: true, strategy: hpaV1Strategy }), preferred: false, convert: hpaV1Conversion },
    // The playground's single user is cluster-admin (system:masters), as a kubeadm admin.conf is.
    { ...def({ gv: 'authorization.k8s.io/v1', resource: 'selfsubjectaccessreviews', kind: 'SelfSubjectAccessReview', namespaced: false, verbs: ['create'], strategy: {} }), review: (o) => ({ ...o, status: { allowed: true, reason: 'the embedded cluster has a single cluster-admin user' } }) },
    { ...def({ gv: 'authorization.k8s.io/v1', resource: 'selfsubjectrulesreviews', kind: 'SelfSubjectRulesReview', namespaced: false, verbs: ['create'], strategy: {} }), review: (o) => ({ ...o, status: { resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }], nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }], incomplete: false } }) },
    { ...def({ gv: 'authentication.k8s.io/v1', resource: 'selfsubjectreviews', kind: 'SelfSubjectReview', namespaced: false, verbs: ['create'], strategy: {} }), review: (o, user) => ({ ...o, status: { userInfo: { username: user === 'admin' ? 'kubernetes-admin' : user, groups: ['kubeadm:cluster-admins', 'system:authenticated'] } } }) },
    def({ gv: 'batch/v1', resource: 'cronjobs', kind: 'CronJob', shortNames: ['cj'], categories: ALL, status: true, strategy: cronJobStrategy }),
    def({ gv: 'batch/v1', resource: 'jobs', kind: 'Job', categories: ALL, status: true, strategy: jobStrategy }),
    def({ gv: 'coordination.k8s.io/v1', resource: 'leases', kind: 'Lease', strategy: metaOnly('subdomain', true) }),
    def({ gv: 'discovery.k8s.io/v1', resource: 'endpointslices', kind: 'EndpointSlice', strategy: endpointSliceStrategy }),
    { ...def({ gv: 'events.k8s.io/v1', resource: 'events', kind: 'Event', shortNames: ['ev'], strategy: metaOnly('subdomain', true), bucket: bucketOf('', 'events') }), convert: eventsV1Conversion },
    def({ gv: 'networking.k8s.io/v1', resource: 'ingressclasses', kind: 'IngressClass', namespaced: false, strategy: specKind('subdomain', false) }),
    def({ gv: 'networking.k8s.io/v1', resource: 'ingresses', kind: 'Ingress', shortNames: ['ing'], status: true, strategy: specKind('subdomain', true) }),
    def({ gv: 'networking.k8s.io/v1', resource: 'networkpolicies', kind: 'NetworkPolicy', shortNames: ['netpol'], strategy: specKind('subdomain', true) }),
    def({ gv: 'policy/v1', resource: 'poddisruptionbudgets', kind: 'PodDisruptionBudget', shortNames: ['pdb'], status: true, strategy: specKind('subdomain', true) }),
    def({ gv: 'rbac.authorization.k8s.io/v1', resource: 'clusterrolebindings', kind: 'ClusterRoleBinding', namespaced: false, strategy: metaOnly('path', false, { validate: requireFields([['roleRef', 'name']]) }) }),
    def({ gv: 'rbac.authorization.k8s.io/v1', resource: 'clusterroles', kind: 'ClusterRole', namespaced: false, strategy: metaOnly('path', false) }),
    def({ gv: 'rbac.authorization.k8s.io/v1', resource: 'rolebindings', kind: 'RoleBinding', strategy: metaOnly('path', true, { validate: requireFields([['roleRef', 'name']]) }) }),
    def({ gv: 'rbac.authorization.k8s.io/v1', resource: 'roles', kind: 'Role', strategy: metaOnly('path', true) }),
    def({ gv: 'scheduling.k8s.io/v1', resource: 'priorityclasses', kind: 'PriorityClass', namespaced: false, shortNames: ['pc'], strategy: metaOnly('subdomain', false, { validate: requireFields([['value']]) }) }),
    def({ gv: 'storage.k8s.io/v1', resource: 'storageclasses', kind: 'StorageClass', namespaced: false, shortNames: ['sc'], strategy: metaOnly('subdomain', false, { validate: requireFields([['provisioner']]) }) }),
  ];
}
