/**
 * OpenAPI documents served at /openapi/v3 (the root listing every group-version) and
 * /openapi/v3/<api|apis/group>/<version>. kubectl 1.32 reads them for three things:
 * - `kubectl explain`: finds the GVK of the resource in a path operation's
 *   `x-kubernetes-group-version-kind`, then the component schema carrying the same GVK, and
 *   renders descriptions following `allOf: [{$ref}]` wrappers;
 * - server-side field validation: `kubectl apply/create` sends `fieldValidation=Strict` only if the
 *   PATCH operation of the kind's group-version document lists a `fieldValidation` parameter
 *   (cli-runtime's queryParamVerifierV3); for a CRD whose group-version is missing it checks
 *   Namespace's instead;
 * - client-side validation reads /openapi/v2 when that check says the group-version is not served
 *   (see ./v2.ts).
 * The kinds written in code (the served resources that are not a CRD's, built-in or added by an
 * add-on) take their schemas from the `kubernetes-models` npm package, or bring their own; CRD
 * group-versions are built from their openAPIV3Schema. Everything is built on first request and
 * cached.
 */
import { createHash } from 'node:crypto';
import type { KubeObject } from '../../types.js';
import { kindFacts } from '../../registry/kind.js';
import { BUILTIN_KINDS } from '../../registry/kinds/index.js';
import type { StructSchema } from '../../registry/patch/merge-schema.js';
import { k8sModels, REF_PREFIX, type Schema } from './k8s-models-source.js';
import { addPatchExtensions } from './patch-extensions.js';
import { encodeV2, v2Document } from './v2.js';
import { crdComponentName, crdServedVersions, crdVersionSchema, type CrdVersionInfo } from './crd-schemas.js';

/** A served kind written in code, as the documents need it (a ResourceDef fits). */
export interface OpenApiKind {
  group: string;
  version: string;
  kind: string;
  resource: string;
  namespaced: boolean;
  verbs: string[];
  status?: boolean;
  scale?: unknown;
  mergeSchema?: StructSchema;
  /** The kind's own component schemas, when kubernetes-models does not describe it. */
  openapi?: { component: string; schemas: Record<string, object> };
}

export interface OpenApiSource {
  crds: KubeObject[];
  /** The served kinds written in code; the built-in kinds when absent. */
  kinds?: readonly OpenApiKind[];
}

let builtinKinds: OpenApiKind[] | undefined;

/**
 * The kinds whose paths are published: objects, and the create-only reviews (TokenReview,
 * SubjectAccessReview…), whose one path is their POST, as kube-apiserver publishes them (kubectl
 * validates a review it creates against that).
 */
function publishedKinds(src: OpenApiSource): readonly OpenApiKind[] {
  const kinds = src.kinds ?? (builtinKinds ??= BUILTIN_KINDS.map(kindFacts));
  return kinds.filter((k) => k.verbs.includes('get') || k.verbs.includes('create'));
}

const createOnly = (k: { verbs: string[] }) => !k.verbs.includes('get');

function groupVersions(kinds: readonly OpenApiKind[]): { group: string; version: string; kinds: OpenApiKind[] }[] {
  const seen = new Map<string, { group: string; version: string; kinds: OpenApiKind[] }>();
  for (const k of kinds) {
    const key = gvPath(k.group, k.version);
    let gv = seen.get(key);
    if (!gv) seen.set(key, (gv = { group: k.group, version: k.version, kinds: [] }));
    gv.kinds.push(k);
  }
  return [...seen.values()];
}

/** A fingerprint of what a kind contributes to its document (schemas are hashed once per object). */
const contentHashes = new WeakMap<object, string>();
function contentHash(o: object | undefined): string {
  if (!o) return '';
  let h = contentHashes.get(o);
  if (h === undefined) contentHashes.set(o, (h = createHash('sha1').update(JSON.stringify(o)).digest('hex')));
  return h;
}
const kindFingerprint = (k: OpenApiKind) => [k.kind, k.resource, k.namespaced, !!k.status, !!k.scale, contentHash(k.mergeSchema), contentHash(k.openapi)];

interface ResourceEntry {
  group: string;
  version: string;
  kind: string;
  resource: string;
  namespaced: boolean;
  subresources: string[];
  /** A review: only its POST is served. */
  createOnly?: boolean;
  /** Component schema name of the kind. */
  component: string;
  /** A custom resource: no strategic merge patch, so kubectl's client-side apply sends a merge patch. */
  custom?: boolean;
}

// Part of the built-in documents' hash, which kubectl caches them by: bump it whenever the
// documents' content changes (package upgrade or builder change).
const BUILTIN_DOC_REVISION = 'kubernetes-models-4.5.1/2';

const gvPath = (group: string, version: string) => (group ? `apis/${group}/${version}` : `api/${version}`);

function hash(text: string): string {
  return createHash('sha512').update(text).digest('hex').slice(0, 128).toUpperCase();
}

function crdGroupVersions(crds: KubeObject[], kinds: readonly OpenApiKind[]): Map<string, CrdVersionInfo[]> {
  const byGv = new Map<string, CrdVersionInfo[]>();
  const codeGvs = new Set(kinds.map((k) => gvPath(k.group, k.version)));
  for (const crd of crds) {
    for (const v of crdServedVersions(crd)) {
      const key = gvPath(v.group, v.version);
      // A built-in group-version is never shadowed by a CRD (kube-apiserver refuses such CRDs).
      if (codeGvs.has(key)) continue;
      const list = byGv.get(key) ?? [];
      list.push(v);
      byGv.set(key, list);
    }
  }
  return byGv;
}

/** GET /openapi/v3 */
export function openapiV3Discovery(src: OpenApiSource): object {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  const kinds = publishedKinds(src);
  for (const gv of groupVersions(kinds)) {
    const p = gvPath(gv.group, gv.version);
    paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${hash(codeDocKey(p, gv.kinds))}` };
  }
  for (const [p, versions] of crdGroupVersions(src.crds, kinds)) {
    const fingerprint = JSON.stringify(versions.map((v) => [v.crd.metadata.uid, v.crd.metadata.resourceVersion, v.version]));
    paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${hash(fingerprint)}` };
  }
  const sorted: typeof paths = {};
  for (const k of Object.keys(paths).sort()) sorted[k] = paths[k]!;
  return { paths: sorted };
}

/** Documents of kinds written in code, by path and content: shared by every cluster serving the same kinds. */
const codeDocCache = new Map<string, object>();
const codeDocKey = (p: string, kinds: readonly OpenApiKind[]) => `${BUILTIN_DOC_REVISION}/${p}/${JSON.stringify(kinds.map(kindFingerprint))}`;

/**
 * GET /openapi/v3/<path>; `path` may be given as `api/v1`, `/openapi/v3/apis/apps/v1` or with the
 * `?hash=` query. Undefined when no such group-version is served (→ 404).
 */
export function openapiV3Document(path: string, src: OpenApiSource): object | undefined {
  const p = path.replace(/\?.*$/, '').replace(/^\/+/, '').replace(/^openapi\/v3\//, '').replace(/\/+$/, '');
  const kinds = publishedKinds(src);
  const code = groupVersions(kinds).find((b) => gvPath(b.group, b.version) === p);
  if (code) {
    const key = codeDocKey(p, code.kinds);
    let doc = codeDocCache.get(key);
    if (!doc) {
      // Bounded: add-ons registering kinds at runtime make new variants of a group-version.
      if (codeDocCache.size > 64) codeDocCache.clear();
      doc = codeDocument(code.group, code.version, code.kinds);
      codeDocCache.set(key, doc);
    }
    return doc;
  }
  const crdVersions = crdGroupVersions(src.crds, kinds).get(p);
  if (crdVersions) return crdDocument(crdVersions);
  return undefined;
}

/** The last v2 document, by the v3 discovery it was built from (every group-version's hash). */
let v2Cache: { key: string; json?: string; protobuf?: Buffer; doc: object } | undefined;

/**
 * GET /openapi/v2, as JSON or gnostic protobuf (what kubectl asks for): see ./v2.ts for when
 * kubectl reads it. Built from every served group-version's v3 document.
 */
export function openapiV2Document(src: OpenApiSource, format: 'json' | 'protobuf'): string | Buffer {
  const discovery = openapiV3Discovery(src) as { paths: Record<string, { serverRelativeURL: string }> };
  const key = `${BUILTIN_DOC_REVISION}/${JSON.stringify(discovery.paths)}`;
  if (v2Cache?.key !== key) {
    const docs = Object.keys(discovery.paths).map((p) => openapiV3Document(p, src)).filter((d): d is object => !!d);
    v2Cache = { key, doc: v2Document(docs) };
  }
  if (format === 'json') return (v2Cache.json ??= JSON.stringify(v2Cache.doc));
  return (v2Cache.protobuf ??= encodeV2(v2Cache.doc));
}

// ---------------------------------------------------------------- documents

/**
 * A group-version of kinds written in code. A kind kubernetes-models describes takes its schemas
 * from there; a kind that brings its own (an add-on's) adds them, with a list schema built as a
 * CRD's is; a kind with neither is published as an object of any shape.
 */
function codeDocument(group: string, version: string, kinds: readonly OpenApiKind[]): object {
  const models = k8sModels();
  const entries: { entry: ResourceEntry; mergeSchema?: StructSchema }[] = [];
  const own: Record<string, Schema> = {};
  const roots = ['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', 'io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta'];
  for (const k of kinds) {
    const modelled = k.openapi ? undefined : models.kindDefinitionName(k.group, k.version, k.kind);
    let component: string;
    if (modelled) {
      component = modelled;
      roots.push(component, ...(createOnly(k) ? [] : [`${component}List`]));
    } else {
      if (k.openapi) {
        component = k.openapi.component;
        Object.assign(own, structuredClone(k.openapi.schemas));
        // Shaped as apiextensions-apiserver publishes a CRD's: apiVersion, kind, ObjectMeta filled in.
        own[component] = crdVersionSchema({ crd: {} as KubeObject, group: k.group, version: k.version, kind: k.kind, plural: k.resource, namespaced: k.namespaced, subresources: [], schema: own[component] });
      } else {
        component = crdComponentName(k.group, k.version, k.kind);
        own[component] = crdVersionSchema({ crd: {} as KubeObject, group: k.group, version: k.version, kind: k.kind, plural: k.resource, namespaced: k.namespaced, subresources: [] });
      }
      own[`${component}List`] ??= listSchema(k.kind, component, { group: k.group, version: k.version, kind: `${k.kind}List` });
    }
    entries.push({ entry: entryOf(k, component), mergeSchema: k.mergeSchema });
  }
  roots.push('io.k8s.apimachinery.pkg.apis.meta.v1.Status', 'io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions', 'io.k8s.apimachinery.pkg.apis.meta.v1.Patch');
  if (entries.some((e) => e.entry.subresources.includes('scale'))) roots.push('io.k8s.api.autoscaling.v1.Scale');
  const schemas: Record<string, Schema> = {};
  // Copies: the patch extensions below are added per document, the parsed models stay pristine.
  for (const [name, s] of [...models.closure(roots)].sort(([a], [b]) => a.localeCompare(b))) schemas[name] = structuredClone(s);
  models.persist();
  Object.assign(schemas, own);
  for (const { entry, mergeSchema } of entries) addPatchExtensions(schemas, entry.component, mergeSchema);
  for (const { entry: e } of entries) {
    schemas[e.component] = withGvk(schemas[e.component]!, e);
    const list = schemas[`${e.component}List`];
    if (list) schemas[`${e.component}List`] = withGvk(list, { ...e, kind: `${e.kind}List` });
  }
  return document(group, version, entries.map((e) => e.entry), schemas);
}

function crdDocument(versions: CrdVersionInfo[]): object {
  const { group, version } = versions[0]!;
  const models = k8sModels();
  const schemas: Record<string, Schema> = {};
  const entries: ResourceEntry[] = [];
  for (const v of versions) {
    const component = crdComponentName(v.group, v.version, v.kind);
    schemas[component] = crdVersionSchema(v);
    schemas[`${component}List`] = listSchema(v.kind, component, { group: v.group, version: v.version, kind: `${v.kind}List` });
    entries.push({ group: v.group, version: v.version, kind: v.kind, resource: v.plural, namespaced: v.namespaced, subresources: v.subresources, component, custom: true });
  }
  const roots = ['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', 'io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta', 'io.k8s.apimachinery.pkg.apis.meta.v1.Status', 'io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions', 'io.k8s.apimachinery.pkg.apis.meta.v1.Patch'];
  for (const [name, s] of models.closure(roots)) schemas[name] = s;
  return document(group, version, entries, schemas);
}

function entryOf(k: OpenApiKind, component: string): ResourceEntry {
  const subresources = [...(k.status ? ['status'] : []), ...(k.scale ? ['scale'] : [])];
  return { group: k.group, version: k.version, kind: k.kind, resource: k.resource, namespaced: k.namespaced, subresources, component, ...(createOnly(k) ? { createOnly: true } : {}) };
}

function withGvk(s: Schema, gvk: { group: string; version: string; kind: string }): Schema {
  return { ...s, 'x-kubernetes-group-version-kind': [{ group: gvk.group, kind: gvk.kind, version: gvk.version }] };
}

function listSchema(kind: string, itemComponent: string, gvk: { group: string; version: string; kind: string }): Schema {
  return withGvk({
    description: `${kind}List is a list of ${kind}`,
    type: 'object',
    required: ['items'],
    properties: {
      apiVersion: { type: 'string', description: 'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources' },
      items: { type: 'array', description: `List of ${kind.toLowerCase()}s. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md`, items: { $ref: REF_PREFIX + itemComponent } },
      kind: { type: 'string', description: 'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds' },
      metadata: { description: "Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds", allOf: [{ $ref: REF_PREFIX + 'io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta' }], default: {} },
    },
  }, gvk);
}

// ---------------------------------------------------------------- paths

const queryParam = (name: string, description: string, type = 'string') => ({ name, in: 'query', description, schema: { type, uniqueItems: true } });
const PARAM = {
  dryRun: queryParam('dryRun', 'When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed'),
  fieldManager: queryParam('fieldManager', 'fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint.'),
  fieldValidation: queryParam('fieldValidation', 'fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: This will ignore any unknown fields that are silently dropped from the object, and will ignore all but the last duplicate field that the decoder encounters. This is the default behavior prior to v1.23. - Warn: This will send a warning via the standard warning response header for each unknown field that is dropped from the object, and for each duplicate field that is encountered. The request will still succeed if there are no other errors, and will only persist the last of any duplicate fields. This is the default in v1.23+ - Strict: This will fail the request with a BadRequest error if any unknown fields would be dropped from the object, or if any duplicate fields are present. The error returned from the server will contain all unknown and duplicate fields encountered.'),
  force: queryParam('force', 'Force is going to "force" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.', 'boolean'),
  pretty: queryParam('pretty', "If 'true', then the output is pretty printed. Defaults to 'false' unless the user-agent indicates a browser or command-line HTTP tool (curl and wget)."),
  labelSelector: queryParam('labelSelector', 'A selector to restrict the list of returned objects by their labels. Defaults to everything.'),
  fieldSelector: queryParam('fieldSelector', 'A selector to restrict the list of returned objects by their fields. Defaults to everything.'),
  limit: queryParam('limit', 'limit is a maximum number of responses to return for a list call.', 'integer'),
  continue: queryParam('continue', 'The continue option should be set when retrieving more results from the server.'),
  resourceVersion: queryParam('resourceVersion', 'resourceVersion sets a constraint on what resource versions a request may be served from.'),
  watch: queryParam('watch', 'Watch for changes to the described resources and return them as a stream of add, update, and remove notifications.', 'boolean'),
  gracePeriodSeconds: queryParam('gracePeriodSeconds', 'The duration in seconds before the object should be deleted.', 'integer'),
  propagationPolicy: queryParam('propagationPolicy', "Whether and how garbage collection will be performed. Acceptable values are: 'Orphan', 'Background', 'Foreground'."),
};
const pathParam = (name: string, description: string) => ({ name, in: 'path', description, required: true, schema: { type: 'string', uniqueItems: true } });

function jsonContent(ref: string) {
  const schema = { $ref: REF_PREFIX + ref };
  return { 'application/json': { schema }, 'application/yaml': { schema }, 'application/vnd.kubernetes.protobuf': { schema } };
}

function operation(e: ResourceEntry, action: string, verbId: string, parameters: object[], response: string, body?: string, patch = false): object {
  const op: Record<string, unknown> = {
    tags: [tagOf(e)],
    description: `${action} ${e.kind}`,
    operationId: operationId(verbId, e),
    parameters,
    responses: { '200': { description: 'OK', content: jsonContent(response) }, '401': { description: 'Unauthorized' } },
    'x-kubernetes-action': verbId.startsWith('list') ? 'list' : verbId,
    'x-kubernetes-group-version-kind': { group: e.group, version: e.version, kind: e.kind },
  };
  if (body) {
    const content = patch
      ? Object.fromEntries(patchContentTypes(e).map((t) => [t, { schema: { $ref: REF_PREFIX + 'io.k8s.apimachinery.pkg.apis.meta.v1.Patch' } }]))
      : { '*/*': { schema: { $ref: REF_PREFIX + body } } };
    op.requestBody = { content, required: true };
  }
  return op;
}

/** What a PATCH accepts: apiextensions-apiserver has no strategic merge for custom resources. */
function patchContentTypes(e: ResourceEntry): string[] {
  const all = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml'];
  return e.custom ? all.filter((t) => t !== 'application/strategic-merge-patch+json') : all;
}

function tagOf(e: ResourceEntry): string {
  const g = e.group ? e.group.replace(/\.k8s\.io$/, '').split('.').map((s, i) => (i === 0 ? s : s[0]!.toUpperCase() + s.slice(1))).join('') : 'core';
  return `${g}_${e.version}`;
}

function operationId(verb: string, e: ResourceEntry): string {
  const g = e.group ? e.group.replace(/\.k8s\.io$/, '').split('.').map((s) => s[0]!.toUpperCase() + s.slice(1)).join('') : 'Core';
  const scope = e.namespaced && !verb.endsWith('ForAllNamespaces') ? 'Namespaced' : '';
  const base = verb.replace('ForAllNamespaces', '');
  return `${base}${g}${e.version[0]!.toUpperCase()}${e.version.slice(1)}${scope}${e.kind}${verb.endsWith('ForAllNamespaces') ? 'ForAllNamespaces' : ''}`;
}

function document(group: string, version: string, entries: ResourceEntry[], schemas: Record<string, Schema>): object {
  const prefix = group ? `/apis/${group}/${version}` : `/api/${version}`;
  const paths: Record<string, object> = {};
  const nsParam = pathParam('namespace', 'object name and auth scope, such as for teams and projects');
  for (const e of entries) {
    const nameParam = pathParam('name', `name of the ${e.kind}`);
    const collection = e.namespaced ? `${prefix}/namespaces/{namespace}/${e.resource}` : `${prefix}/${e.resource}`;
    const scopeParams = e.namespaced ? [nsParam] : [];
    const listParams = [PARAM.labelSelector, PARAM.fieldSelector, PARAM.limit, PARAM.continue, PARAM.resourceVersion, PARAM.watch];
    const writeParams = [PARAM.dryRun, PARAM.fieldManager, PARAM.fieldValidation];
    if (e.createOnly) {
      paths[collection] = { post: operation(e, 'create a', 'post', writeParams, e.component, e.component), parameters: [...scopeParams, PARAM.pretty] };
      continue;
    }
    paths[collection] = {
      get: operation(e, 'list or watch objects of kind', 'list', listParams, `${e.component}List`),
      post: operation(e, 'create a', 'post', writeParams, e.component, e.component),
      delete: operation(e, 'delete collection of', 'deletecollection', [PARAM.dryRun, PARAM.gracePeriodSeconds, PARAM.propagationPolicy, PARAM.labelSelector, PARAM.fieldSelector], 'io.k8s.apimachinery.pkg.apis.meta.v1.Status', 'io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions'),
      parameters: [...scopeParams, PARAM.pretty],
    };
    paths[`${collection}/{name}`] = {
      get: operation(e, 'read the specified', 'get', [], e.component),
      put: operation(e, 'replace the specified', 'put', writeParams, e.component, e.component),
      patch: operation(e, 'partially update the specified', 'patch', [...writeParams, PARAM.force], e.component, e.component, true),
      delete: operation(e, 'delete a', 'delete', [PARAM.dryRun, PARAM.gracePeriodSeconds, PARAM.propagationPolicy], 'io.k8s.apimachinery.pkg.apis.meta.v1.Status', 'io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions'),
      parameters: [nameParam, ...scopeParams, PARAM.pretty],
    };
    for (const sub of e.subresources) {
      const target = sub === 'scale' ? 'io.k8s.api.autoscaling.v1.Scale' : e.component;
      const subEntry = sub === 'scale' ? { ...e, group: 'autoscaling', version: 'v1', kind: 'Scale' } : e;
      paths[`${collection}/{name}/${sub}`] = {
        get: operation(subEntry, `read ${sub} of the specified`, 'get', [], target),
        put: operation(subEntry, `replace ${sub} of the specified`, 'put', writeParams, target, target),
        patch: operation(subEntry, `partially update ${sub} of the specified`, 'patch', [...writeParams, PARAM.force], target, target, true),
        parameters: [nameParam, ...scopeParams, PARAM.pretty],
      };
    }
    if (e.namespaced) {
      paths[`${prefix}/${e.resource}`] = {
        get: operation(e, 'list or watch objects of kind', 'listForAllNamespaces', listParams, `${e.component}List`),
        parameters: [PARAM.pretty],
      };
    }
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.32.0' },
    paths,
    components: {
      schemas,
      securitySchemes: { BearerToken: { type: 'apiKey', description: 'Bearer Token authentication', name: 'authorization', in: 'header' } },
    },
  };
}

/**
 * Builds the most requested documents off the request path (after start-up), so the first
 * `kubectl apply` or `kubectl explain` does not pay for parsing the schemas.
 */
export function prewarmOpenApi(): void {
  // One document per turn of the event loop, so requests arriving meanwhile wait for one at most.
  const build = (paths: string[]) => {
    const [first, ...rest] = paths;
    if (!first) return;
    openapiV3Document(first, { crds: [] });
    setTimeout(() => build(rest), 0).unref();
  };
  setTimeout(() => build(['api/v1', 'apis/apps/v1']), 50).unref();
}
