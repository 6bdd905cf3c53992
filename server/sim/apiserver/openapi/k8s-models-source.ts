/**
 * The built-in Kubernetes schemas, with the API's own field descriptions, read from the npm
 * package `kubernetes-models` (generated from kube-apiserver's OpenAPI spec). That package ships
 * its schemas as TypeScript declarations (`v1/PodSpec.d.ts`, with each field's description as a
 * doc comment) plus compiled validators, not as JSON; this module parses the declarations back into
 * OpenAPI v3 schemas. Parsing is lazy, per definition, following references, so the cluster's cold
 * start pays nothing and a document pays only for the definitions it reaches.
 *
 * The package is pinned at 4.5 (Kubernetes 1.33 schemas): the nearest release to the 1.32 we
 * imitate, and the last that installs on Node 20 (5.x needs Node 22 and carries 1.36).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Schema {
  type?: string;
  format?: string;
  description?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  additionalProperties?: Schema | boolean;
  enum?: unknown[];
  allOf?: Schema[];
  oneOf?: Schema[];
  anyOf?: Schema[];
  $ref?: string;
  default?: unknown;
  [extension: `x-${string}`]: unknown;
}

const REF_PREFIX = '#/components/schemas/';

function findPackageDir(name: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`npm package ${name} is not installed (run npm install)`);
    dir = parent;
  }
}

/** Group directory of kubernetes-models → the Go package path kube-openapi names definitions by. */
function apiPackage(groupDir: string): string {
  if (groupDir === 'apiextensions.k8s.io') return 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions';
  if (groupDir === 'apiregistration.k8s.io') return 'io.k8s.kube-aggregator.pkg.apis.apiregistration';
  if (groupDir === 'internal.apiserver.k8s.io') return 'io.k8s.api.apiserverinternal';
  return `io.k8s.api.${groupDir.split('.')[0]}`;
}

// Fields kube declares int64; everything else numeric in the built-in API is int32.
const INT64_FIELDS = new Set([
  'activeDeadlineSeconds', 'terminationGracePeriodSeconds', 'deletionGracePeriodSeconds', 'generation',
  'observedGeneration', 'runAsUser', 'runAsGroup', 'fsGroup', 'supplementalGroups', 'gracePeriodSeconds',
  'expirationSeconds', 'startingDeadlineSeconds', 'tolerationSeconds', 'priority', 'value', 'count',
  'remainingItemCount', 'sizeBytes', 'capacity', 'maxSurge', 'backoffLimitPerIndex', 'maxFailedIndexes',
]);
const DOUBLE_FIELDS = new Set(['maximum', 'minimum', 'multipleOf']);

/**
 * The package carries Kubernetes 1.33; we serve 1.32. What k8s.io/api v0.33.0 changed against
 * v0.32.0 in the group-versions we serve (their types.go, field by field): the fields 1.33 added,
 * which a 1.32 server rejects as unknown, and the one field 1.33 made optional.
 */
const ADDED_AFTER_1_32: Record<string, string[]> = {
  'io.k8s.api.core.v1.ContainerStatus': ['stopSignal'],
  'io.k8s.api.core.v1.Lifecycle': ['stopSignal'],
  'io.k8s.api.core.v1.NodeSystemInfo': ['swap'],
  'io.k8s.api.core.v1.PodCondition': ['observedGeneration'],
  'io.k8s.api.core.v1.PodStatus': ['observedGeneration'],
  'io.k8s.api.apps.v1.DeploymentStatus': ['terminatingReplicas'],
  'io.k8s.api.apps.v1.ReplicaSetStatus': ['terminatingReplicas'],
  'io.k8s.api.discovery.v1.EndpointHints': ['forNodes'],
  'io.k8s.api.autoscaling.v2.HPAScalingRules': ['tolerance'],
  'io.k8s.api.storage.v1.CSIDriverSpec': ['nodeAllocatableUpdatePeriodSeconds'],
  'io.k8s.api.storage.v1.VolumeError': ['errorCode'],
};
const REQUIRED_IN_1_32: Record<string, string[]> = {
  'io.k8s.api.apps.v1.StatefulSetSpec': ['serviceName'],
};

function asIn132(name: string, s: Schema): Schema {
  const drop = ADDED_AFTER_1_32[name];
  const need = REQUIRED_IN_1_32[name];
  if (!drop && !need) return s;
  const properties = { ...s.properties };
  for (const field of drop ?? []) delete properties[field];
  const required = [...(s.required ?? []).filter((r) => !drop?.includes(r)), ...(need ?? [])];
  return { ...s, properties, ...(required.length ? { required } : {}) };
}

// ---------------------------------------------------------------- tokenizer

type Token =
  | { t: 'doc'; v: string }
  | { t: 'str'; v: string }
  | { t: 'id'; v: string }
  | { t: 'p'; v: string };

// One native regex pass: a hand-written character loop runs cold (interpreted) on the first
// request and costs several times more.
const TOKEN = /\s+|\/\*\*([\s\S]*?)\*\/|\/\/[^\n]*|"((?:[^"\\]|\\.)*)"|([A-Za-z_$][A-Za-z0-9_$]*)|([\s\S])/g;

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  for (const m of src.matchAll(TOKEN)) {
    if (m[1] !== undefined) out.push({ t: 'doc', v: cleanDoc(m[1]) });
    else if (m[2] !== undefined) out.push({ t: 'str', v: m[2].includes('\\') ? (JSON.parse(`"${m[2]}"`) as string) : m[2] });
    else if (m[3] !== undefined) out.push({ t: 'id', v: m[3] });
    else if (m[4] !== undefined) out.push({ t: 'p', v: m[4] });
  }
  return out;
}

/** A JSDoc body back to the description text kube-openapi had (paragraphs joined by "\n\n"). */
function cleanDoc(raw: string): string {
  const lines = raw.split('\n').map((l) => l.replace(/^\s*\* ?/, ''));
  while (lines.length && !lines[0]!.trim()) lines.shift();
  while (lines.length && !lines[lines.length - 1]!.trim()) lines.pop();
  return lines.join('\n').replace(/\*\\\//g, '*/');
}

// ---------------------------------------------------------------- parser

class DeclParser {
  private pos = 0;
  constructor(
    private readonly toks: Token[],
    private readonly resolveName: (ident: string) => string | undefined,
  ) {}

  private peek(o = 0): Token | undefined { return this.toks[this.pos + o]; }
  private next(): Token { return this.toks[this.pos++]!; }
  private expect(v: string): void {
    const t = this.next();
    if (t.v !== v) throw new Error(`expected ${v}, got ${t.v}`);
  }

  /** Positions the parser after `export interface NAME {` or `export type NAME =`. */
  findDeclaration(): { kind: 'interface' | 'alias'; doc?: string } | undefined {
    let doc: string | undefined;
    while (this.pos < this.toks.length) {
      const t = this.next();
      if (t.t === 'doc') { doc = t.v; continue; }
      if (t.t === 'id' && t.v === 'export') {
        if (this.peek()?.v === 'declare') this.pos++; // 4.x: `export declare type ITime = string;`
        const k = this.peek();
        if (k?.v === 'interface') {
          this.pos += 2; // interface NAME
          while (this.peek()?.v !== '{') this.pos++; // `extends TypeMeta`
          this.pos++;
          return { kind: 'interface', doc };
        }
        if (k?.v === 'type' && this.peek(2)?.v === '=') {
          this.pos += 3;
          return { kind: 'alias', doc };
        }
      }
      doc = undefined;
    }
    return undefined;
  }

  /** Members up to and including the closing `}`. */
  objectBody(): Schema {
    const properties: Record<string, Schema> = {};
    const required: string[] = [];
    let additional: Schema | undefined;
    let doc: string | undefined;
    for (;;) {
      const t = this.next();
      if (t.v === '}') break;
      if (t.t === 'doc') { doc = t.v; continue; }
      if (t.v === '[') {
        // [key: string]: T;
        while (this.next().v !== ']');
        this.expect(':');
        additional = this.type();
        if (this.peek()?.v === ';') this.pos++;
        continue;
      }
      if (t.t === 'str' || t.t === 'id') {
        let optional = false;
        if (this.peek()?.v === '?') { optional = true; this.pos++; }
        this.expect(':');
        const s = this.type(t.v);
        if (this.peek()?.v === ';') this.pos++;
        properties[t.v] = decorate(s, doc);
        if (!optional) required.push(t.v);
        doc = undefined;
        continue;
      }
      throw new Error(`unexpected token ${t.v}`);
    }
    const s: Schema = { type: 'object' };
    if (Object.keys(properties).length) s.properties = properties;
    if (required.length) s.required = required;
    if (additional) s.additionalProperties = additional;
    return s;
  }

  type(fieldName?: string): Schema {
    const alts: Schema[] = [this.primary(fieldName)];
    while (this.peek()?.v === '|') { this.pos++; alts.push(this.primary(fieldName)); }
    if (alts.length === 1) return alts[0]!;
    if (alts.every((a) => a.enum)) return { type: 'string', enum: alts.flatMap((a) => a.enum!) };
    const types = new Set(alts.map((a) => a.type));
    if (types.has('string') && (types.has('integer') || types.has('number'))) return { 'x-kubernetes-int-or-string': true };
    return { anyOf: alts };
  }

  private primary(fieldName?: string): Schema {
    const t = this.next();
    if (t.t === 'str') return { type: 'string', enum: [t.v] };
    if (t.v === '{') return this.objectBody();
    if (t.t !== 'id') throw new Error(`unexpected token ${t.v}`);
    switch (t.v) {
      case 'string': return { type: 'string' };
      case 'boolean': return { type: 'boolean' };
      case 'number':
        if (fieldName && DOUBLE_FIELDS.has(fieldName)) return { type: 'number', format: 'double' };
        return { type: 'integer', format: fieldName && INT64_FIELDS.has(fieldName) ? 'int64' : 'int32' };
      case 'any':
      case 'unknown':
      case 'object': return {};
      case 'Array': {
        this.expect('<');
        const items = this.type(undefined);
        this.expect('>');
        return { type: 'array', items };
      }
    }
    // `IPod["kind"]` is a literal already described by the interface; the wire type is a string.
    if (this.peek()?.v === '[') {
      while (this.next().v !== ']');
      return { type: 'string' };
    }
    const name = this.resolveName(t.v);
    if (!name) throw new Error(`unknown type ${t.v}`);
    return { $ref: REF_PREFIX + name };
  }
}

/** A property's description goes next to its reference, as kube-openapi's v3 output does it. */
function decorate(s: Schema, doc: string | undefined): Schema {
  if (s.$ref) return { ...(doc ? { description: doc } : {}), allOf: [{ $ref: s.$ref }] };
  if (s.type === 'array' && s.items?.enum) {
    const { enum: _e, ...items } = s.items;
    s = { ...s, items };
  }
  if (s.enum && s.enum.length === 1 && !doc?.includes('Possible enum values')) {
    // Single literals are apiVersion/kind pins of the TypeScript models, not API enums.
    const { enum: _e, ...rest } = s;
    s = rest;
  }
  return doc ? { ...s, description: doc } : s;
}

// ---------------------------------------------------------------- definitions

interface DefinitionFile {
  name: string;
  file: string;
}

export class K8sModelsSource {
  private readonly modelsDir = findPackageDir('kubernetes-models');
  private readonly machineryDir = findPackageDir('@kubernetes-models/apimachinery');
  private readonly cache = new Map<string, Schema>();
  private byName?: Map<string, DefinitionFile>;
  private readonly byFile = new Map<string, string>();

  /** The definition name (`io.k8s.api.apps.v1.Deployment`) of a kind in a group-version. */
  kindDefinitionName(group: string, version: string, kind: string): string | undefined {
    const name = group === '' ? `io.k8s.api.core.${version}.${kind}` : `${apiPackage(group)}.${version}.${kind}`;
    return this.diskCache().has(name) || this.files().has(name) ? name : undefined;
  }

  get(name: string): Schema | undefined {
    const hit = this.cache.get(name);
    if (hit) return hit;
    const stored = this.diskCache().get(name);
    if (stored) {
      this.cache.set(name, stored);
      return stored;
    }
    const def = this.files().get(name);
    if (!def) return undefined;
    const schema = this.parse(def);
    this.cache.set(name, schema);
    this.dirty = true;
    return schema;
  }

  /**
   * Parsed definitions survive the process in a cache file (keyed by the package versions and
   * this parser's own source), so a restarted server answers its first OpenAPI request at once.
   * Best effort: any I/O problem just means parsing again.
   */
  persist(): void {
    if (!this.dirty) return;
    this.dirty = false;
    try {
      const all = Object.fromEntries([...this.diskCache(), ...this.cache]);
      const tmp = `${this.cacheFile()}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(all));
      renameSync(tmp, this.cacheFile());
    } catch {
      // A read-only or full temp dir only costs the cache.
    }
  }

  private dirty = false;
  private stored?: Map<string, Schema>;
  private cachePath?: string;

  private cacheFile(): string {
    if (this.cachePath) return this.cachePath;
    const version = (dir: string) => (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
    const key = createHash('sha256')
      .update(`${version(this.modelsDir)}/${version(this.machineryDir)}/`)
      .update(readFileSync(fileURLToPath(import.meta.url)))
      .digest('hex')
      .slice(0, 16);
    this.cachePath = join(tmpdir(), `istio-playground-k8s-schemas-${key}.json`);
    return this.cachePath;
  }

  private diskCache(): Map<string, Schema> {
    if (this.stored) return this.stored;
    this.stored = new Map();
    try {
      const data = JSON.parse(readFileSync(this.cacheFile(), 'utf8')) as Record<string, Schema>;
      for (const [k, v] of Object.entries(data)) this.stored.set(k, v);
    } catch {
      // No cache yet.
    }
    return this.stored;
  }

  /** Every definition reachable from `roots` (names), roots included. */
  closure(roots: string[]): Map<string, Schema> {
    const out = new Map<string, Schema>();
    const todo = [...roots];
    while (todo.length) {
      const name = todo.pop()!;
      if (out.has(name)) continue;
      const s = this.get(name);
      if (!s) continue;
      out.set(name, s);
      collectRefs(s, (ref) => { if (!out.has(ref)) todo.push(ref); });
    }
    return out;
  }

  private files(): Map<string, DefinitionFile> {
    if (this.byName) return this.byName;
    const map = new Map<string, DefinitionFile>();
    const add = (name: string, file: string) => { map.set(name, { name, file }); this.byFile.set(file, name); };
    for (const top of readdirSync(this.modelsDir, { withFileTypes: true })) {
      if (!top.isDirectory() || top.name.startsWith('_')) continue;
      const groupDir = top.name;
      if (groupDir === 'v1' || /^v\d+((alpha|beta)\d+)?$/.test(groupDir)) {
        this.addVersionDir(add, join(this.modelsDir, groupDir), `io.k8s.api.core.${groupDir}`);
        continue;
      }
      for (const v of readdirSync(join(this.modelsDir, groupDir), { withFileTypes: true })) {
        if (v.isDirectory()) this.addVersionDir(add, join(this.modelsDir, groupDir, v.name), `${apiPackage(groupDir)}.${v.name}`);
      }
    }
    const machinery: [string, string][] = [
      ['apis/meta/v1', 'io.k8s.apimachinery.pkg.apis.meta.v1'],
      ['api/resource', 'io.k8s.apimachinery.pkg.api.resource'],
      ['util/intstr', 'io.k8s.apimachinery.pkg.util.intstr'],
      ['runtime', 'io.k8s.apimachinery.pkg.runtime'],
      ['version', 'io.k8s.apimachinery.pkg.version'],
    ];
    for (const [dir, pkg] of machinery) this.addVersionDir(add, join(this.machineryDir, dir), pkg);
    this.byName = map;
    return map;
  }

  private addVersionDir(add: (name: string, file: string) => void, dir: string, pkg: string): void {
    if (!existsSync(dir)) return;
    for (const f of readdirSync(dir)) {
      if (f.endsWith('.d.ts') && f !== 'index.d.ts') add(`${pkg}.${f.slice(0, -5)}`, join(dir, f));
    }
  }

  private parse(def: DefinitionFile): Schema {
    const src = readFileSync(def.file, 'utf8');
    const imports = new Map<string, string>();
    for (const m of src.matchAll(/import \{ ([^}]+) \} from "([^"]+)";/g)) {
      const target = this.importTarget(def.file, m[2]!);
      if (!target) continue;
      for (const ident of m[1]!.split(',').map((s) => s.trim())) imports.set(ident, target);
    }
    const selfInterface = /export interface (\w+)/.exec(src)?.[1];
    // The class that repeats the interface (docs included) is not needed: tokenize up to it.
    const classAt = src.indexOf('\nexport declare class ');
    const parser = new DeclParser(tokenize(classAt >= 0 ? src.slice(0, classAt) : src), (ident) => imports.get(ident) ?? (ident === selfInterface ? def.name : undefined));
    const decl = parser.findDeclaration();
    let schema: Schema;
    if (!decl) {
      schema = {};
    } else if (decl.kind === 'interface') {
      schema = parser.objectBody();
      // Empty interfaces are kube's free-form types (RawExtension, JSON, FieldsV1).
      if (!schema.properties && !schema.additionalProperties) {
        schema = def.name.endsWith('.FieldsV1') || def.name.endsWith('.RawExtension') ? { type: 'object' } : {};
        schema['x-kubernetes-preserve-unknown-fields'] = true;
      }
    } else {
      schema = aliasSchema(def.name, parser.type());
    }
    if (decl?.doc) schema = { description: decl.doc, ...schema };
    this.applyIntegerFormats(def, src, schema);
    return asIn132(def.name, typeMetaAsServed(schema));
  }

  /**
   * The declarations say `number` for int32 and int64 alike; the package's compiled validators
   * (`_schemas/<Name>.js`) still check the OpenAPI format, so read int32/int64 back from them.
   */
  private applyIntegerFormats(def: DefinitionFile, src: string, schema: Schema): void {
    const props = schema.properties;
    if (!props) return;
    const intProps = Object.entries(props).filter(([, p]) => p.type === 'integer' || p.items?.type === 'integer');
    if (!intProps.length) return;
    const alias = /as I(IoK8s\w+)/.exec(src)?.[1];
    if (!alias) return;
    const pkgDir = def.file.startsWith(this.machineryDir) ? this.machineryDir : this.modelsDir;
    // 4.x ships each validator as CommonJS (.js) and as an ES module (.mjs); the parser reads the
    // ES module's shape (`let formats0=formats.int32`), which is 5.x's only .js.
    const file = [join(pkgDir, '_schemas', `${alias}.mjs`), join(pkgDir, '_schemas', `${alias}.js`)].find((f) => existsSync(f));
    if (!file) return;
    const formats = integerFormatsOf(readFileSync(file, 'utf8'));
    for (const [name, p] of intProps) {
      const f = formats.get(name);
      if (!f) continue;
      if (p.type === 'integer') p.format = f;
      else if (p.items) p.items = { ...p.items, format: f };
    }
  }

  private importTarget(fromFile: string, spec: string): string | undefined {
    if (spec === '@kubernetes-models/base') return undefined;
    // `./DeploymentSpec` (4.x) or `./DeploymentSpec.js` (5.x): both name DeploymentSpec.d.ts.
    const declaration = (s: string) => `${s.replace(/\.js$/, '')}.d.ts`;
    let file: string;
    if (spec.startsWith('.')) file = join(dirname(fromFile), declaration(spec));
    else if (spec.startsWith('@kubernetes-models/apimachinery/')) file = join(this.machineryDir, declaration(spec.slice('@kubernetes-models/apimachinery/'.length)));
    else return undefined;
    this.files();
    return this.byFile.get(file);
  }
}

export const API_VERSION_DESCRIPTION = 'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources';
export const KIND_DESCRIPTION = 'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds';

/**
 * The TypeScript models pin apiVersion/kind as required literals without descriptions; the API
 * itself publishes them as optional strings documented like every TypeMeta.
 */
function typeMetaAsServed(s: Schema): Schema {
  const props = s.properties;
  if (!props) return s;
  const fixed = { ...props };
  let changed = false;
  for (const [field, description] of [['apiVersion', API_VERSION_DESCRIPTION], ['kind', KIND_DESCRIPTION]] as const) {
    const p = fixed[field];
    if (p && !p.description && p.type === 'string') { fixed[field] = { description, type: 'string' }; changed = true; }
  }
  if (!changed) return s;
  const required = s.required?.filter((r) => !(r === 'apiVersion' || r === 'kind') || fixed[r]!.description !== API_VERSION_DESCRIPTION && fixed[r]!.description !== KIND_DESCRIPTION);
  const out: Schema = { ...s, properties: fixed };
  if (required?.length) out.required = required; else delete out.required;
  return out;
}

/** property → int32/int64, from an ajv standalone validator module. */
function integerFormatsOf(code: string): Map<string, string> {
  const vars = new Map<string, string>();
  for (const m of code.matchAll(/let (formats\d+)=formats\.(int32|int64)\b/g)) vars.set(m[1]!, m[2]!);
  const direct = new Map<string, string>();
  const calls = new Map<string, string[]>();
  const parts = code.split(/function (validate\d+)\(/);
  for (let i = 1; i < parts.length; i += 2) {
    const body = parts[i + 1]!;
    const used = [...body.matchAll(/(formats\d+)\.validate/g)].map((m) => vars.get(m[1]!)).filter(Boolean);
    if (used.length && used.every((u) => u === used[0])) direct.set(parts[i]!, used[0]!);
    calls.set(parts[i]!, [...new Set([...body.matchAll(/\b(validate\d+)\(data/g)].map((m) => m[1]!))]);
  }
  // An array validator delegates each item to another function: inherit its format.
  const formatOf = (fn: string, depth = 0): string | undefined => {
    if (direct.has(fn) || depth > 4) return direct.get(fn);
    const callees = (calls.get(fn) ?? []).filter((c) => c !== fn).map((c) => formatOf(c, depth + 1));
    return callees.length && callees.every((c) => c && c === callees[0]) ? callees[0] : undefined;
  };
  const fnFormat = { get: (fn: string) => formatOf(fn) };
  const out = new Map<string, string>();
  // 5.x: `void 0!==data.replicas&&(validate3(data.replicas`; 4.x: `void 0===data.replicas||validate21(data.replicas`.
  for (const m of code.matchAll(/void 0(?:!==|===)data\.(\w+)(?:&&|\|\|)\(?(validate\d+)\(data\.\1\b/g)) {
    const f = fnFormat.get(m[2]!);
    if (f) out.set(m[1]!, f);
  }
  return out;
}

/** Scalar wrapper types, shaped as kube-openapi publishes them in v3. */
function aliasSchema(name: string, parsed: Schema): Schema {
  if (name.endsWith('.IntOrString')) return { format: 'int-or-string', oneOf: [{ type: 'integer' }, { type: 'string' }] };
  if (name.endsWith('.Quantity')) return { oneOf: [{ type: 'string' }, { type: 'number' }] };
  if (name.endsWith('.Time')) return { type: 'string', format: 'date-time' };
  if (name.endsWith('.MicroTime')) return { type: 'string', format: 'date-time' };
  return parsed;
}

export function collectRefs(s: unknown, onRef: (name: string) => void): void {
  if (!s || typeof s !== 'object') return;
  if (Array.isArray(s)) { for (const x of s) collectRefs(x, onRef); return; }
  for (const [k, v] of Object.entries(s)) {
    if (k === '$ref' && typeof v === 'string' && v.startsWith(REF_PREFIX)) onRef(v.slice(REF_PREFIX.length));
    else collectRefs(v, onRef);
  }
}

export { REF_PREFIX };

let shared: K8sModelsSource | undefined;
/** One parsed copy per process: the schemas are immutable, every cluster shares them. */
export function k8sModels(): K8sModelsSource {
  shared ??= new K8sModelsSource();
  return shared;
}
