/**
 * The built-in resources whose OpenAPI the embedded cluster publishes: the kinds it serves, in
 * the group-versions kube-apiserver 1.32 serves them.
 */
export interface BuiltinResource {
  group: string;
  version: string;
  kind: string;
  resource: string;
  namespaced: boolean;
  subresources?: ('status' | 'scale')[];
}

const r = (group: string, version: string, kind: string, resource: string, namespaced: boolean, subresources?: ('status' | 'scale')[]): BuiltinResource =>
  ({ group, version, kind, resource, namespaced, ...(subresources ? { subresources } : {}) });

export const BUILTIN_RESOURCES: readonly BuiltinResource[] = [
  r('', 'v1', 'Namespace', 'namespaces', false, ['status']),
  r('', 'v1', 'Node', 'nodes', false, ['status']),
  r('', 'v1', 'Pod', 'pods', true, ['status']),
  r('', 'v1', 'Service', 'services', true, ['status']),
  r('', 'v1', 'Endpoints', 'endpoints', true),
  r('', 'v1', 'ConfigMap', 'configmaps', true),
  r('', 'v1', 'Secret', 'secrets', true),
  r('', 'v1', 'ServiceAccount', 'serviceaccounts', true),
  r('', 'v1', 'Event', 'events', true),
  r('', 'v1', 'PersistentVolumeClaim', 'persistentvolumeclaims', true, ['status']),
  r('', 'v1', 'PersistentVolume', 'persistentvolumes', false, ['status']),
  r('', 'v1', 'PodTemplate', 'podtemplates', true),
  r('', 'v1', 'LimitRange', 'limitranges', true),
  r('', 'v1', 'ResourceQuota', 'resourcequotas', true, ['status']),
  r('', 'v1', 'ReplicationController', 'replicationcontrollers', true, ['status', 'scale']),
  r('apps', 'v1', 'Deployment', 'deployments', true, ['status', 'scale']),
  r('apps', 'v1', 'ReplicaSet', 'replicasets', true, ['status', 'scale']),
  r('apps', 'v1', 'DaemonSet', 'daemonsets', true, ['status']),
  r('apps', 'v1', 'StatefulSet', 'statefulsets', true, ['status', 'scale']),
  r('apps', 'v1', 'ControllerRevision', 'controllerrevisions', true),
  r('batch', 'v1', 'Job', 'jobs', true, ['status']),
  r('batch', 'v1', 'CronJob', 'cronjobs', true, ['status']),
  r('discovery.k8s.io', 'v1', 'EndpointSlice', 'endpointslices', true),
  r('events.k8s.io', 'v1', 'Event', 'events', true),
  r('apiextensions.k8s.io', 'v1', 'CustomResourceDefinition', 'customresourcedefinitions', false, ['status']),
  r('rbac.authorization.k8s.io', 'v1', 'Role', 'roles', true),
  r('rbac.authorization.k8s.io', 'v1', 'ClusterRole', 'clusterroles', false),
  r('rbac.authorization.k8s.io', 'v1', 'RoleBinding', 'rolebindings', true),
  r('rbac.authorization.k8s.io', 'v1', 'ClusterRoleBinding', 'clusterrolebindings', false),
  r('admissionregistration.k8s.io', 'v1', 'MutatingWebhookConfiguration', 'mutatingwebhookconfigurations', false),
  r('admissionregistration.k8s.io', 'v1', 'ValidatingWebhookConfiguration', 'validatingwebhookconfigurations', false),
  r('policy', 'v1', 'PodDisruptionBudget', 'poddisruptionbudgets', true, ['status']),
  r('autoscaling', 'v1', 'HorizontalPodAutoscaler', 'horizontalpodautoscalers', true, ['status']),
  r('autoscaling', 'v2', 'HorizontalPodAutoscaler', 'horizontalpodautoscalers', true, ['status']),
  r('coordination.k8s.io', 'v1', 'Lease', 'leases', true),
  r('networking.k8s.io', 'v1', 'Ingress', 'ingresses', true, ['status']),
  r('networking.k8s.io', 'v1', 'IngressClass', 'ingressclasses', false),
  r('networking.k8s.io', 'v1', 'NetworkPolicy', 'networkpolicies', true),
  r('storage.k8s.io', 'v1', 'StorageClass', 'storageclasses', false),
  r('scheduling.k8s.io', 'v1', 'PriorityClass', 'priorityclasses', false),
];

export function builtinGroupVersions(): { group: string; version: string }[] {
  const seen = new Map<string, { group: string; version: string }>();
  for (const b of BUILTIN_RESOURCES) seen.set(`${b.group}/${b.version}`, { group: b.group, version: b.version });
  return [...seen.values()];
}

export function findBuiltinKind(group: string, version: string, kind: string): BuiltinResource | undefined {
  return BUILTIN_RESOURCES.find((b) => b.group === group && b.version === version && b.kind === kind);
}
