/**
 * Merge schemas: how objects merge, as the `patchStrategy`/`patchMergeKey` struct tags that
 * strategic merge patch reads and the `+listType`/`+listMapKey`/`+mapType`/`+structType` markers
 * that server-side apply (structured-merge-diff) reads, transcribed from k8s.io/api.
 *
 * Anything a schema does not describe follows the defaults both algorithms use for unknown
 * shapes: objects merge field by field, lists are replaced whole (atomic).
 *
 * Each kind's root schema lives in its kind module (registry/kinds/); `types` holds the structs
 * several kinds share (ObjectMeta, PodSpec, PodTemplateSpec…), which schemas name as strings.
 */

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

export const struct = (fields: Record<string, TypeRef>, extra: Partial<StructSchema> = {}): StructSchema => ({ kind: 'struct', fields, ...extra });
export const stringMap = (extra: Partial<MapSchema> = {}): MapSchema => ({ kind: 'map', ...extra });
export const atomicStruct: StructSchema = { kind: 'struct', fields: {}, atomic: true };
export const atomicList: ListSchema = { kind: 'list', smp: 'replace', ssa: 'atomic' };
/** A list merged by one key in both SMP and SSA. */
export const keyedList = (items: TypeRef, key: string, extra: Partial<ListSchema> = {}): ListSchema => ({
  kind: 'list',
  items,
  smp: 'merge',
  mergeKey: key,
  ssa: 'map',
  keys: [key],
  ...extra,
});
/** `patchStrategy:"merge"` + `+listType=set` on a list of strings. */
export const primitiveSet: ListSchema = { kind: 'list', smp: 'merge', ssa: 'set' };
/** Conditions: merged by type in SMP; SSA list type given per kind. */
export const conditions = (ssa: 'map' | 'atomic' = 'map'): ListSchema => ({
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
  JobSpec: struct({ selector: 'LabelSelector', template: 'PodTemplateSpec' }),
  Webhook: struct({
    rules: atomicList,
    admissionReviewVersions: atomicList,
    namespaceSelector: 'LabelSelector',
    objectSelector: 'LabelSelector',
    matchConditions: keyedList(struct({}), 'name'),
  }),
};

/** What a kind without a schema merges as: metadata typed, the rest deduced from the objects. */
export const genericObject: StructSchema = struct({ metadata: 'ObjectMeta' });

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
