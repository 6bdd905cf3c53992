/**
 * /openapi/v2: the Swagger 2.0 document kube-apiserver still serves next to v3. kubectl 1.32 reads it
 * in one case: an object whose group-version has no v3 document and no CRD (a kind the server does
 * not serve, `extensions/v1beta1`, a `List`) gets client-side validation, and that downloads v2 as
 * gnostic protobuf (`application/com.github.proto-openapi.spec.v2@v1.0+protobuf`). A kind missing
 * from the definitions is skipped, so kubectl goes on to its "resource mapping not found" error
 * for that object and creates the others; without a v2 document it stops at the first such object.
 *
 * The definitions are the v3 components converted as kube-openapi does (v3's `allOf: [$ref]`
 * wrappers become a bare `$ref`, IntOrString becomes `string`/`int-or-string`); the paths are not
 * published (kubectl reads operations from v3 only).
 */
import { REF_PREFIX, type Schema } from './k8s-models-source.js';

/** The Swagger 2.0 document, from the v3 group-version documents served now. */
export function v2Document(v3Docs: object[]): object {
  const defs = new Map<string, object>();
  for (const doc of v3Docs) {
    const schemas = (doc as { components?: { schemas?: Record<string, Schema> } }).components?.schemas ?? {};
    for (const [name, s] of Object.entries(schemas)) if (!defs.has(name)) defs.set(name, toV2(s));
  }
  const definitions: Record<string, object> = {};
  for (const name of [...defs.keys()].sort()) definitions[name] = defs.get(name)!;
  return {
    swagger: '2.0',
    info: { title: 'Kubernetes', version: 'v1.32.0' },
    paths: {},
    definitions,
    securityDefinitions: { BearerToken: { description: 'Bearer Token authentication', type: 'apiKey', name: 'authorization', in: 'header' } },
    security: [{ BearerToken: [] }],
  };
}

const V2_KEYS = new Set(['$ref', 'format', 'title', 'description', 'default', 'multipleOf', 'maximum', 'exclusiveMaximum', 'minimum', 'exclusiveMinimum', 'maxLength', 'minLength', 'pattern', 'maxItems', 'minItems', 'uniqueItems', 'maxProperties', 'minProperties', 'required', 'enum', 'additionalProperties', 'type', 'items', 'allOf', 'properties', 'discriminator', 'readOnly', 'example']);

/** Learner-written CRD schemas may hold anything where an array belongs. */
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

function toV2(input: Schema): Record<string, unknown> {
  if (!input || typeof input !== 'object' || Array.isArray(input)) return {};
  let s = input as Record<string, unknown>;
  // kube-openapi's v3 wraps a described reference as `allOf: [{$ref}]`; v2 keeps the bare `$ref`.
  const allOf = s.allOf as Schema[] | undefined;
  if (allOf?.length === 1 && allOf[0]!.$ref) {
    const { allOf: _a, ...rest } = s;
    s = { ...rest, $ref: allOf[0]!.$ref };
  }
  if (!s.type && (s.oneOf || s.anyOf)) {
    // IntOrString and Quantity: v2 has no oneOf, kube publishes them as strings.
    if (s.format === 'int-or-string' || s.oneOf) s = { ...s, type: 'string' };
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) {
    if (k.startsWith('x-')) out[k] = v;
    else if (!V2_KEYS.has(k)) continue;
    else if (k === '$ref') out[k] = String(v).replace(REF_PREFIX, '#/definitions/');
    else if (k === 'properties' && (!v || typeof v !== 'object')) continue;
    else if (k === 'properties') out[k] = Object.fromEntries(Object.entries(v as Record<string, Schema>).map(([p, ps]) => [p, toV2(ps)]));
    else if (k === 'items') out[k] = Array.isArray(v) ? v.map((i) => toV2(i as Schema)) : toV2(v as Schema);
    else if (k === 'allOf') out[k] = arr(v).filter((x) => x && typeof x === 'object').map((x) => toV2(x as Schema));
    else if (k === 'additionalProperties') out[k] = typeof v === 'boolean' ? v : toV2(v as Schema);
    else out[k] = v;
  }
  return out;
}

// ---------------------------------------------------------------- gnostic protobuf (openapiv2/OpenAPIv2.proto)

class Writer {
  private readonly parts: Buffer[] = [];
  private varint(n: bigint | number): void {
    let v = BigInt.asUintN(64, BigInt(n));
    const bytes: number[] = [];
    while (v >= 0x80n) {
      bytes.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    bytes.push(Number(v));
    this.parts.push(Buffer.from(bytes));
  }
  private tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }
  string(field: number, v: string | undefined): void {
    if (v === undefined || v === '') return;
    this.bytes(field, Buffer.from(v, 'utf8'));
  }
  bytes(field: number, b: Buffer): void {
    this.tag(field, 2);
    this.varint(b.length);
    this.parts.push(b);
  }
  message(field: number, w: Writer): void {
    this.bytes(field, w.finish());
  }
  varintField(field: number, v: number): void {
    this.tag(field, 0);
    this.varint(v);
  }
  bool(field: number, v: unknown): void {
    if (v !== true) return;
    this.tag(field, 0);
    this.varint(1);
  }
  int64(field: number, v: unknown): void {
    if (typeof v !== 'number' || !Number.isFinite(v) || v === 0) return;
    this.tag(field, 0);
    this.varint(Math.trunc(v));
  }
  double(field: number, v: unknown): void {
    if (typeof v !== 'number' || v === 0) return;
    this.tag(field, 1);
    const b = Buffer.alloc(8);
    b.writeDoubleLE(v);
    this.parts.push(b);
  }
  finish(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** `Any` carries a value as YAML text; JSON is YAML, and kube-openapi reads it with a YAML parser. */
function anyValue(v: unknown): Writer {
  const w = new Writer();
  w.string(2, JSON.stringify(v) + '\n');
  return w;
}

function namedAny(name: string, v: unknown): Writer {
  const w = new Writer();
  w.string(1, name);
  w.message(2, anyValue(v));
  return w;
}

function schemaMessage(s: Record<string, unknown>): Writer {
  const w = new Writer();
  w.string(1, s.$ref as string | undefined);
  w.string(2, s.format as string | undefined);
  w.string(3, s.title as string | undefined);
  w.string(4, s.description as string | undefined);
  if (s.default !== undefined) w.message(5, anyValue(s.default));
  w.double(6, s.multipleOf);
  w.double(7, s.maximum);
  w.bool(8, s.exclusiveMaximum);
  w.double(9, s.minimum);
  w.bool(10, s.exclusiveMinimum);
  w.int64(11, s.maxLength);
  w.int64(12, s.minLength);
  w.string(13, s.pattern as string | undefined);
  w.int64(14, s.maxItems);
  w.int64(15, s.minItems);
  w.bool(16, s.uniqueItems);
  w.int64(17, s.maxProperties);
  w.int64(18, s.minProperties);
  for (const r of arr(s.required)) w.string(19, String(r));
  for (const e of arr(s.enum)) w.message(20, anyValue(e));
  if (s.additionalProperties !== undefined) {
    const ap = new Writer();
    // A oneof: an explicit `false` is written too.
    if (typeof s.additionalProperties === 'boolean') ap.varintField(2, s.additionalProperties ? 1 : 0);
    else ap.message(1, schemaMessage(s.additionalProperties as Record<string, unknown>));
    w.message(21, ap);
  }
  if (s.type !== undefined) {
    const t = new Writer();
    for (const v of Array.isArray(s.type) ? s.type : [s.type]) t.string(1, String(v));
    w.message(22, t);
  }
  if (s.items !== undefined) {
    const it = new Writer();
    for (const i of Array.isArray(s.items) ? s.items : [s.items]) it.message(1, schemaMessage(i as Record<string, unknown>));
    w.message(23, it);
  }
  for (const a of arr(s.allOf)) if (a && typeof a === 'object') w.message(24, schemaMessage(a as Record<string, unknown>));
  if (s.properties) {
    const p = new Writer();
    for (const [name, ps] of Object.entries(s.properties as Record<string, Record<string, unknown>>)) p.message(1, namedSchema(name, ps));
    w.message(25, p);
  }
  w.string(26, s.discriminator as string | undefined);
  w.bool(27, s.readOnly);
  if (s.example !== undefined) w.message(30, anyValue(s.example));
  for (const [k, v] of Object.entries(s)) if (k.startsWith('x-')) w.message(31, namedAny(k, v));
  return w;
}

function namedSchema(name: string, s: Record<string, unknown>): Writer {
  const w = new Writer();
  w.string(1, name);
  w.message(2, schemaMessage(s));
  return w;
}

/** The v2 document in gnostic's protobuf encoding (openapi_v2.Document). */
export function encodeV2(doc: object): Buffer {
  const d = doc as { swagger: string; info: { title: string; version: string }; definitions: Record<string, Record<string, unknown>> };
  const w = new Writer();
  w.string(1, d.swagger);
  const info = new Writer();
  info.string(1, d.info.title);
  info.string(2, d.info.version);
  w.message(2, info);
  w.message(8, new Writer()); // paths: present, empty
  const defs = new Writer();
  for (const [name, s] of Object.entries(d.definitions)) defs.message(1, namedSchema(name, s));
  w.message(9, defs);
  // security: [{BearerToken: []}] → SecurityRequirement{additional_properties: [NamedStringArray{name}]}
  const sec = new Writer();
  const named = new Writer();
  named.string(1, 'BearerToken');
  named.message(2, new Writer());
  sec.message(1, named);
  w.message(12, sec);
  // securityDefinitions.BearerToken: SecurityDefinitionsItem{api_key_security: ApiKeySecurity}
  const apiKey = new Writer();
  apiKey.string(1, 'apiKey');
  apiKey.string(2, 'authorization');
  apiKey.string(3, 'header');
  apiKey.string(4, 'Bearer Token authentication');
  const item = new Writer();
  item.message(2, apiKey);
  const namedItem = new Writer();
  namedItem.string(1, 'BearerToken');
  namedItem.message(2, item);
  const secDefs = new Writer();
  secDefs.message(1, namedItem);
  w.message(13, secDefs);
  return w.finish();
}
