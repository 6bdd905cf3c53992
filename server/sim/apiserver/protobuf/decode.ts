/**
 * Decodes the Kubernetes protobuf wire format (`application/vnd.kubernetes.protobuf`) into the
 * JSON shape of the same object. kubectl's typed clients (`kubectl create namespace|deployment|
 * configmap|secret|…`) send request bodies this way; responses are always JSON.
 */
import { ApiError } from '../../errors.js';

type Field = [name: string, type: string, label: 'o' | 'r' | 'm', valueType?: string];
type Schema = Record<string, Record<string, Field>>;

let schema: Schema | undefined;
/** Loaded on the first protobuf body only (most sessions never send one), as a module so a bundle carries it. */
async function loadSchema(): Promise<Schema> {
  schema ??= (await import('./schema.json', { with: { type: 'json' } })).default as unknown as Schema;
  return schema;
}
const load = (): Schema => schema!;

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);
const META = 'k8s.io.apimachinery.pkg.apis.meta.v1';
/** Scalar fields where an explicit zero/false means something (pointer fields in Go). */
const KEEP_ZERO = new Set(['replicas', 'automountServiceAccountToken', 'immutable', 'suspend', 'parallelism', 'completions', 'backoffLimit', 'value', 'terminationGracePeriodSeconds', 'activeDeadlineSeconds', 'ttlSecondsAfterFinished', 'optional', 'privileged', 'runAsNonRoot', 'runAsUser', 'runAsGroup', 'fsGroup', 'allowPrivilegeEscalation', 'readOnlyRootFilesystem', 'preemptionPolicy', 'revisionHistoryLimit', 'progressDeadlineSeconds', 'priority', 'globalDefault']);

/** Embedded structs (`json:",inline"`) that protobuf keeps as a field of their own. */
const INLINE = new Set(['volumeSource', 'persistentVolumeSource', 'handler', 'ephemeralContainerCommon', 'ingressRuleValue', 'localObjectReference', 'ruleWithOperations', 'rule']);

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  get done(): boolean {
    return this.pos >= this.buf.length;
  }
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) throw new Error('truncated varint');
      const b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return result;
      shift += 7n;
    }
  }
  bytes(): Buffer {
    const n = Number(this.varint());
    if (this.pos + n > this.buf.length) throw new Error('truncated field');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
}

function scalar(type: string, wire: number, r: Reader): unknown {
  switch (type) {
    case 'string':
      return r.bytes().toString('utf8');
    case 'bytes':
      return r.bytes().toString('base64');
    case 'bool':
      return r.varint() !== 0n;
    case 'int32':
      return Number(BigInt.asIntN(32, r.varint()));
    case 'int64':
      return Number(BigInt.asIntN(64, r.varint()));
    case 'uint32':
    case 'uint64':
      return Number(r.varint());
    case 'double': {
      const v = r.buf.readDoubleLE(r.pos);
      r.pos += 8;
      return v;
    }
    case 'float': {
      const v = r.buf.readFloatLE(r.pos);
      r.pos += 4;
      return v;
    }
    default:
      r.skip(wire);
      return undefined;
  }
}

function message(type: string, buf: Buffer): unknown {
  // Types whose JSON form is not their protobuf structure.
  switch (type) {
    case `${META}.Time`:
    case `${META}.MicroTime`: {
      const t = raw(type, buf) as { seconds?: number; nanos?: number };
      if (!t.seconds && !t.nanos) return undefined;
      const iso = new Date((t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6)).toISOString();
      return type.endsWith('MicroTime') ? iso.replace(/Z$/, '000Z') : iso.replace(/\.\d+Z$/, 'Z');
    }
    case 'k8s.io.apimachinery.pkg.util.intstr.IntOrString': {
      const v = raw(type, buf) as { type?: number; intVal?: number; strVal?: string };
      return v.type === 1 ? (v.strVal ?? '') : (v.intVal ?? 0);
    }
    case 'k8s.io.apimachinery.pkg.api.resource.Quantity':
      return (raw(type, buf) as { string?: string }).string ?? '0';
    case 'k8s.io.apimachinery.pkg.runtime.RawExtension':
    case `${META}.FieldsV1`: {
      const b = raw(type, buf) as { raw?: string; Raw?: string };
      const data = b.raw ?? b.Raw;
      return data ? JSON.parse(Buffer.from(data, 'base64').toString('utf8')) : undefined;
    }
    case `${META}.Duration`: {
      const ns = (raw(type, buf) as { duration?: number }).duration ?? 0;
      return `${ns / 1e9}s`;
    }
  }
  return prune(raw(type, buf));
}

/** Drops zero values Go's JSON encoding would omit (k8s protobuf always writes non-pointer scalars). */
function prune(o: unknown): unknown {
  if (!o || typeof o !== 'object' || Array.isArray(o)) return o;
  for (const [k, v] of Object.entries(o as Record<string, unknown>)) {
    if (v === undefined || v === '' || ((v === 0 || v === false) && !KEEP_ZERO.has(k))) delete (o as Record<string, unknown>)[k];
  }
  return o;
}

function raw(type: string, buf: Buffer): Record<string, unknown> {
  const fields = load()[type];
  if (!fields) throw new Error(`unknown protobuf message ${type}`);
  const out: Record<string, unknown> = {};
  const r = new Reader(buf);
  while (!r.done) {
    const tag = Number(r.varint());
    const num = tag >> 3;
    const wire = tag & 7;
    const f = fields[num];
    if (!f) {
      r.skip(wire);
      continue;
    }
    const [name, ftype, label, vtype] = f;
    if (label === 'm') {
      const entry = new Reader(r.bytes());
      let key: unknown = '';
      let value: unknown;
      while (!entry.done) {
        const t = Number(entry.varint());
        if (t >> 3 === 1) key = scalar(ftype, t & 7, entry);
        else if (t >> 3 === 2) value = load()[vtype!] ? message(vtype!, entry.bytes()) : scalar(vtype!, t & 7, entry);
        else entry.skip(t & 7);
      }
      const map = (out[name] ??= {}) as Record<string, unknown>;
      map[String(key)] = value ?? (vtype === 'string' || vtype === 'bytes' ? '' : value);
      continue;
    }
    let value: unknown;
    if (load()[ftype]) value = message(ftype, r.bytes());
    else if (wire === 2 && ftype !== 'string' && ftype !== 'bytes') {
      // packed repeated scalars
      const packed = new Reader(r.bytes());
      const arr = (out[name] ??= []) as unknown[];
      while (!packed.done) arr.push(scalar(ftype, ftype === 'double' ? 1 : ftype === 'float' ? 5 : 0, packed));
      continue;
    } else value = scalar(ftype, wire, r);
    if (label === 'r') ((out[name] ??= []) as unknown[]).push(value);
    else if (INLINE.has(name) && value && typeof value === 'object' && !Array.isArray(value)) Object.assign(out, value);
    else out[name] = value;
  }
  return out;
}

function protoPackage(apiVersion: string): string {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  if (group === '') return `k8s.io.api.core.${version}`;
  if (group === 'meta.k8s.io') return `${META}`;
  return `k8s.io.api.${group.split('.')[0]}.${version}`;
}

/** Decodes a `k8s\0`-prefixed runtime.Unknown envelope into a JSON object with apiVersion/kind. */
export async function decodeProtobuf(body: Buffer): Promise<Record<string, unknown>> {
  await loadSchema();
  try {
    if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC)) throw new Error('provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]');
    const env = raw('k8s.io.apimachinery.pkg.runtime.Unknown', body.subarray(4)) as { typeMeta?: { apiVersion?: string; kind?: string }; raw?: string };
    const apiVersion = env.typeMeta?.apiVersion ?? '';
    const kind = env.typeMeta?.kind ?? '';
    const type = `${protoPackage(apiVersion)}.${kind}`;
    if (!load()[type]) throw ApiError.unsupportedMediaType(`application/vnd.kubernetes.protobuf (${apiVersion} ${kind} is not supported in protobuf by the embedded cluster; send JSON)`);
    const obj = message(type, Buffer.from(env.raw ?? '', 'base64')) as Record<string, unknown>;
    return { apiVersion, kind, ...obj };
  } catch (e) {
    if (e instanceof ApiError) throw e;
    throw ApiError.badRequest(`failed to decode protobuf body: ${(e as Error).message}`);
  }
}
