/**
 * How built-in Kubernetes types merge, as one table: the `patchStrategy`/`patchMergeKey` struct
 * tags that strategic merge patch reads and the `+listType`/`+listMapKey`/`+mapType`/`+structType`
 * markers that server-side apply (structured-merge-diff) reads, transcribed from k8s.io/api.
 *
 * Anything the table does not describe follows the defaults both algorithms use for unknown
 * shapes: objects merge field by field, lists are replaced whole (atomic).
 *
 * To teach the cluster a new kind: add its root type to `rootTypes`; to teach it a new merge key,
 * add the field to the struct that holds it.
 */

import type { GroupVersionKind } from '../../types.js';

/** A JSON object whose fields are named by the schema (a Go struct). */
export interface StructSchema {
  kind: 'struct';
  fields: Record<string, TypeRef>;
  /** `+structType=atomic`: applied and owned as one value. */
  atomic?: boolean;
  /** SMP `patchStrategy:"retainKeys"` on the field holding this struct. */
  retainKeys?: boolean;
  /** SMP `patchStrategy:"replace"` on the field holding this struct. */
  replace?: boolean;
}

/** A JSON object with arbitrary keys (a Go map), e.g. labels. */
export interface MapSchema {
  kind: 'map';
  values?: TypeRef;
  /** `+mapType=atomic`. */
  atomic?: boolean;
}

export interface ListSchema {
  kind: 'list';
  items?: TypeRef;
  /** Strategic merge patch: `merge` lists are merged (by `mergeKey` for objects), others replaced. */
  smp: 'merge' | 'replace';
  mergeKey?: string;
  /** SMP `patchStrategy:"merge,retainKeys"`: items honour `$retainKeys`. */
  retainKeys?: boolean;
  /** Server-side apply list type. */
  ssa: 'atomic' | 'set' | 'map';
  /** `+listMapKey`s (ssa 'map'). */
  keys?: string[];
  /** Defaults the OpenAPI schema gives key fields, used when an item omits them (protocol: TCP). */
  keyDefaults?: Record<string, unknown>;
}

export type Schema = StructSchema | MapSchema | ListSchema;
/** A schema, or the name of one in `types` (lets types refer to each other). */
export type TypeRef = Schema | string;

const struct = (fields: Record<string, TypeRef>, extra: Partial<StructSchema> = {}): StructSchema => ({ kind: 'struct', fields, ...extra });
const stringMap = (extra: Partial<MapSchema> = {}): MapSchema => ({ kind: 'map', ...extra });
const atomicStruct: StructSchema = { kind: 'struct', fields: {}, atomic: true };
const atomicList: ListSchema = { kind: 'list', smp: 'replace', ssa: 'atomic' };
/** A list merged by one key in both SMP and SSA. */
const keyedList = (items: TypeRef, key: string, extra: Partial<ListSchema> = {}): ListSchema => ({
  kind: 'list',
  items,
  smp: 'merge',
  mergeKey: key,
  ssa: 'map',
  keys: [key],
  ...extra,
});
/** `patchStrategy:"merge"` + `+listType=set` on a list of strings. */
const primitiveSet: ListSchema = { kind: 'list', smp: 'merge', ssa: 'set' };
/** Conditions: merged by type in SMP; SSA list type given per kind. */
const conditions = (ssa: 'map' | 'atomic' = 'map'): ListSchema => ({
  kind: 'list',
  smp: 'merge',
  mergeKey: 'type',
  ssa,
  ...(ssa === 'map' ? { keys: ['type'] } : {}),
});

const containerFields = {
  ports: {
    kind: 'list',
    items: 'ContainerPort',
    smp: 'merge',
    mergeKey: 'containerPort',
    ssa: 'map',
    keys: ['containerPort', 'protocol'],
    keyDefaults: { protocol: 'TCP' },
  } satisfies ListSchema,
  env: keyedList('EnvVar', 'name'),
  volumeMounts: keyedList('VolumeMount', 'mountPath'),
  volumeDevices: keyedList(struct({}), 'devicePath'),
  resources: 'ResourceRequirements',
  securityContext: 'SecurityContext',
  livenessProbe: 'Probe',
  readinessProbe: 'Probe',
  startupProbe: 'Probe',
};

export const types: Record<string, Schema> = {
  ObjectMeta: struct({
    labels: stringMap(),
    annotations: stringMap(),
    finalizers: primitiveSet,
    ownerReferences: keyedList('OwnerReference', 'uid'),
    managedFields: atomicList,
  }),
  OwnerReference: atomicStruct,
  LabelSelector: atomicStruct,
  ResourceRequirements: struct({
    limits: stringMap(),
    requests: stringMap(),
    // +listType=map without a patchStrategy: SMP replaces it.
    claims: { ...keyedList(struct({}), 'name'), smp: 'replace' },
  }),
  ContainerPort: struct({}),
  EnvVar: struct({ valueFrom: atomicStruct }),
  VolumeMount: struct({}),
  SecurityContext: struct({ capabilities: struct({}) }),
  Probe: struct({ httpGet: struct({ httpHeaders: atomicList }), exec: struct({}) }),
  Container: struct(containerFields),
  EphemeralContainer: struct(containerFields, { atomic: true }),
  Volume: struct({
    configMap: struct({ items: atomicList }),
    secret: struct({ items: atomicList }),
    projected: struct({ sources: atomicList }),
  }),
  PodSpec: struct({
    containers: keyedList('Container', 'name'),
    initContainers: keyedList('Container', 'name'),
    ephemeralContainers: keyedList('EphemeralContainer', 'name'),
    volumes: keyedList('Volume', 'name', { retainKeys: true }),
    imagePullSecrets: keyedList(atomicStruct, 'name'),
    hostAliases: keyedList(struct({ hostnames: atomicList }), 'ip'),
    topologySpreadConstraints: {
      kind: 'list',
      items: struct({ labelSelector: 'LabelSelector' }),
      smp: 'merge',
      mergeKey: 'topologyKey',
      ssa: 'map',
      keys: ['topologyKey', 'whenUnsatisfiable'],
    },
    schedulingGates: keyedList(struct({}), 'name'),
    resourceClaims: keyedList(struct({}), 'name', { retainKeys: true }),
    nodeSelector: stringMap({ atomic: true }),
    tolerations: atomicList,
    readinessGates: atomicList,
    overhead: stringMap(),
    securityContext: struct({ sysctls: atomicList, supplementalGroups: atomicList }),
    dnsConfig: struct({ nameservers: atomicList, searches: atomicList, options: atomicList }),
    affinity: struct({ nodeAffinity: struct({ requiredDuringSchedulingIgnoredDuringExecution: atomicStruct }) }),
  }),
  PodTemplateSpec: struct({ metadata: 'ObjectMeta', spec: 'PodSpec' }),
  PodStatus: struct({
    conditions: conditions(),
    podIPs: keyedList(struct({}), 'ip'),
    hostIPs: { ...keyedList(struct({}), 'ip'), ssa: 'atomic', keys: undefined },
    containerStatuses: atomicList,
    initContainerStatuses: atomicList,
    ephemeralContainerStatuses: atomicList,
  }),
  Pod: struct({ metadata: 'ObjectMeta', spec: 'PodSpec', status: 'PodStatus' }),
  PodTemplate: struct({ metadata: 'ObjectMeta', template: 'PodTemplateSpec' }),

  Service: struct({
    metadata: 'ObjectMeta',
    spec: struct({
      ports: {
        kind: 'list',
        items: struct({}),
        smp: 'merge',
        mergeKey: 'port',
        ssa: 'map',
        keys: ['port', 'protocol'],
        keyDefaults: { protocol: 'TCP' },
      },
      selector: stringMap({ atomic: true }),
      clusterIPs: atomicList,
      externalIPs: atomicList,
      ipFamilies: atomicList,
      loadBalancerSourceRanges: atomicList,
    }),
    status: struct({ conditions: conditions(), loadBalancer: struct({ ingress: atomicList }) }),
  }),
  Endpoints: struct({ metadata: 'ObjectMeta', subsets: atomicList }),
  EndpointSlice: struct({ metadata: 'ObjectMeta', endpoints: atomicList, ports: atomicList }),
  ConfigMap: struct({ metadata: 'ObjectMeta', data: stringMap(), binaryData: stringMap() }),
  Secret: struct({ metadata: 'ObjectMeta', data: stringMap(), stringData: stringMap() }),
  ServiceAccount: struct({
    metadata: 'ObjectMeta',
    secrets: keyedList(atomicStruct, 'name'),
    imagePullSecrets: atomicList,
  }),
  Namespace: struct({
    metadata: 'ObjectMeta',
    spec: struct({ finalizers: atomicList }),
    status: struct({ conditions: conditions() }),
  }),
  Node: struct({
    metadata: 'ObjectMeta',
    spec: struct({ podCIDRs: primitiveSet, taints: atomicList }),
    status: struct({
      conditions: conditions(),
      addresses: keyedList(struct({}), 'type'),
      capacity: stringMap(),
      allocatable: stringMap(),
      images: atomicList,
      volumesInUse: atomicList,
      volumesAttached: atomicList,
    }),
  }),
  Event: struct({ metadata: 'ObjectMeta' }),

  Deployment: struct({
    metadata: 'ObjectMeta',
    spec: struct({
      selector: 'LabelSelector',
      template: 'PodTemplateSpec',
      strategy: struct({ rollingUpdate: struct({}) }, { retainKeys: true }),
    }),
    status: struct({ conditions: conditions() }),
  }),
  ReplicaSet: struct({
    metadata: 'ObjectMeta',
    spec: struct({ selector: 'LabelSelector', template: 'PodTemplateSpec' }),
    status: struct({ conditions: conditions() }),
  }),
  DaemonSet: struct({
    metadata: 'ObjectMeta',
    spec: struct({ selector: 'LabelSelector', template: 'PodTemplateSpec', updateStrategy: struct({ rollingUpdate: struct({}) }) }),
    status: struct({ conditions: conditions() }),
  }),
  StatefulSet: struct({
    metadata: 'ObjectMeta',
    spec: struct({
      selector: 'LabelSelector',
      template: 'PodTemplateSpec',
      volumeClaimTemplates: atomicList,
      updateStrategy: struct({ rollingUpdate: struct({}) }),
    }),
    status: struct({ conditions: conditions() }),
  }),
  ControllerRevision: struct({ metadata: 'ObjectMeta' }),
  JobSpec: struct({ selector: 'LabelSelector', template: 'PodTemplateSpec' }),
  Job: struct({ metadata: 'ObjectMeta', spec: 'JobSpec', status: struct({ conditions: conditions('atomic') }) }),
  CronJob: struct({
    metadata: 'ObjectMeta',
    spec: struct({ jobTemplate: struct({ metadata: 'ObjectMeta', spec: 'JobSpec' }) }),
    status: struct({ active: atomicList }),
  }),
  HorizontalPodAutoscaler: struct({
    metadata: 'ObjectMeta',
    spec: struct({ metrics: atomicList }),
    status: struct({ conditions: conditions(), currentMetrics: atomicList }),
  }),
  PodDisruptionBudget: struct({
    metadata: 'ObjectMeta',
    spec: struct({ selector: { kind: 'struct', fields: {}, atomic: true, replace: true } }),
    status: struct({ conditions: conditions(), disruptedPods: stringMap() }),
  }),
  Role: struct({ metadata: 'ObjectMeta', rules: atomicList }),
  ClusterRole: struct({ metadata: 'ObjectMeta', rules: atomicList, aggregationRule: struct({ clusterRoleSelectors: atomicList }) }),
  RoleBinding: struct({ metadata: 'ObjectMeta', subjects: atomicList, roleRef: atomicStruct }),
  ClusterRoleBinding: struct({ metadata: 'ObjectMeta', subjects: atomicList, roleRef: atomicStruct }),
  MutatingWebhookConfiguration: struct({ metadata: 'ObjectMeta', webhooks: keyedList('Webhook', 'name') }),
  ValidatingWebhookConfiguration: struct({ metadata: 'ObjectMeta', webhooks: keyedList('Webhook', 'name') }),
  Webhook: struct({
    rules: atomicList,
    admissionReviewVersions: atomicList,
    namespaceSelector: 'LabelSelector',
    objectSelector: 'LabelSelector',
    matchConditions: keyedList(struct({}), 'name'),
  }),
  NetworkPolicy: struct({
    metadata: 'ObjectMeta',
    spec: struct({ podSelector: 'LabelSelector', ingress: atomicList, egress: atomicList, policyTypes: atomicList }),
  }),
  Ingress: struct({ metadata: 'ObjectMeta', spec: struct({ rules: atomicList, tls: atomicList }) }),
  CustomResourceDefinition: struct({
    metadata: 'ObjectMeta',
    spec: struct({ versions: atomicList, names: struct({ shortNames: atomicList, categories: atomicList }) }),
    status: struct({ conditions: conditions(), storedVersions: atomicList }),
  }),
  Lease: struct({ metadata: 'ObjectMeta' }),
};

/** API groups served by kube-apiserver itself; anything else is a custom resource. */
const builtInGroups = new Set([
  '',
  'apps',
  'batch',
  'autoscaling',
  'policy',
  'networking.k8s.io',
  'rbac.authorization.k8s.io',
  'apiextensions.k8s.io',
  'admissionregistration.k8s.io',
  'apiregistration.k8s.io',
  'coordination.k8s.io',
  'discovery.k8s.io',
  'events.k8s.io',
  'storage.k8s.io',
  'scheduling.k8s.io',
  'node.k8s.io',
  'certificates.k8s.io',
  'authentication.k8s.io',
  'authorization.k8s.io',
  'flowcontrol.apiserver.k8s.io',
  'resource.k8s.io',
]);

export function isBuiltInGroup(group: string): boolean {
  return builtInGroups.has(group);
}

const genericObject = struct({ metadata: 'ObjectMeta' });

/** The schema of a whole object of this kind (custom resources: metadata only, the rest deduced). */
export function rootSchema(gvk: GroupVersionKind): StructSchema {
  if (isBuiltInGroup(gvk.group)) {
    const known = types[gvk.kind];
    if (known && known.kind === 'struct') return known;
  }
  return genericObject;
}

export function resolve(ref: TypeRef | undefined): Schema | undefined {
  if (ref === undefined) return undefined;
  if (typeof ref === 'string') {
    const found = types[ref];
    if (!found) throw new Error(`patch schema: unknown type ${ref}`);
    return found;
  }
  return ref;
}

/** The schema of `field` inside an object described by `schema` (undefined: not described). */
export function fieldSchema(schema: Schema | undefined, field: string): Schema | undefined {
  if (!schema) return undefined;
  if (schema.kind === 'struct') return resolve(schema.fields[field]);
  if (schema.kind === 'map') return resolve(schema.values);
  return undefined;
}

export function itemSchema(schema: Schema | undefined): Schema | undefined {
  return schema?.kind === 'list' ? resolve(schema.items) : undefined;
}

/**
 * Paths (dot-separated) that a freshly constructed Go object of this kind already has, because
 * they are non-pointer structs or `json:"x"` fields without omitempty. Managed fields of a create
 * do not mark them with `.`, as kube-apiserver compares the new object with that zero object.
 */
export function zeroObjectPaths(gvk: GroupVersionKind): string[] {
  const paths = ['metadata'];
  if (!isBuiltInGroup(gvk.group)) return paths;
  const withTemplate = ['spec', 'spec.template', 'spec.template.metadata', 'spec.template.spec', 'spec.template.spec.containers', 'status'];
  switch (gvk.kind) {
    case 'Pod':
      return [...paths, 'spec', 'spec.containers', 'status'];
    case 'Deployment':
      return [...paths, ...withTemplate, 'spec.strategy'];
    case 'DaemonSet':
    case 'StatefulSet':
      return [...paths, ...withTemplate, 'spec.updateStrategy'];
    case 'ReplicaSet':
    case 'Job':
      return [...paths, ...withTemplate];
    case 'Service':
      return [...paths, 'spec', 'status', 'status.loadBalancer'];
    case 'Namespace':
    case 'Node':
    case 'HorizontalPodAutoscaler':
    case 'PodDisruptionBudget':
    case 'NetworkPolicy':
    case 'Ingress':
    case 'CustomResourceDefinition':
    case 'CronJob':
      return [...paths, 'spec', 'status'];
    case 'RoleBinding':
    case 'ClusterRoleBinding':
      return [...paths, 'roleRef'];
    default:
      return paths;
  }
}

/**
 * The merge schema of a CustomResourceDefinition version, from its openAPIV3Schema: the
 * `x-kubernetes-list-type`/`-list-map-keys`/`-map-type` markers server-side apply honours for
 * custom resources. Unmarked lists stay atomic and objects without properties are deduced, as
 * kube-apiserver treats them. Strategic merge patch never applies to custom resources.
 */
export function schemaFromOpenAPI(openAPIV3Schema: unknown): StructSchema {
  const root = convertOpenAPI(openAPIV3Schema);
  const fields = root?.kind === 'struct' ? { ...root.fields } : {};
  fields.metadata = 'ObjectMeta';
  return { kind: 'struct', fields, ...(root?.kind === 'struct' && root.atomic ? { atomic: true } : {}) };
}

type OpenAPINode = Record<string, unknown>;
const isNode = (v: unknown): v is OpenAPINode => typeof v === 'object' && v !== null && !Array.isArray(v);

function convertOpenAPI(node: unknown): Schema | undefined {
  if (!isNode(node)) return undefined;
  const atomic = node['x-kubernetes-map-type'] === 'atomic';
  if (node.type === 'array') {
    const items = isNode(node.items) ? node.items : undefined;
    const listType = node['x-kubernetes-list-type'];
    if (listType === 'set') return { kind: 'list', items: convertOpenAPI(items), smp: 'replace', ssa: 'set' };
    if (listType === 'map' && Array.isArray(node['x-kubernetes-list-map-keys'])) {
      const keys = (node['x-kubernetes-list-map-keys'] as unknown[]).filter((k): k is string => typeof k === 'string');
      const props = isNode(items?.properties) ? items.properties : {};
      const keyDefaults: Record<string, unknown> = {};
      for (const key of keys) {
        const prop = props[key];
        if (isNode(prop) && prop.default !== undefined) keyDefaults[key] = prop.default;
      }
      return {
        kind: 'list',
        items: convertOpenAPI(items),
        smp: 'replace',
        ssa: 'map',
        keys,
        ...(Object.keys(keyDefaults).length ? { keyDefaults } : {}),
      };
    }
    return { kind: 'list', smp: 'replace', ssa: 'atomic' };
  }
  if (isNode(node.properties)) {
    const fields: Record<string, TypeRef> = {};
    for (const [name, prop] of Object.entries(node.properties)) {
      const converted = convertOpenAPI(prop);
      if (converted) fields[name] = converted;
    }
    if (node['x-kubernetes-embedded-resource'] === true) fields.metadata = 'ObjectMeta';
    return { kind: 'struct', fields, ...(atomic ? { atomic: true } : {}) };
  }
  if (node.additionalProperties !== undefined && node.additionalProperties !== false) {
    const values = convertOpenAPI(node.additionalProperties);
    return { kind: 'map', ...(values ? { values } : {}), ...(atomic ? { atomic: true } : {}) };
  }
  if (atomic) return { kind: 'struct', fields: {}, atomic: true };
  return undefined;
}
