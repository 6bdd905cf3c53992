/** Accept and Content-Type handling, as apimachinery's content negotiation reads them. */
import { ApiError } from '../errors.js';
import { DepthError, MAX_REQUEST_BODY_BYTES, parseFirstYamlDocument, parseJson, tooDeep, jsonDepthMessage, YamlError, YamlTooLargeError } from './body-limits.js';
import { decodeProtobuf } from './protobuf/decode.js';

export interface MediaType {
  type: string;
  params: Record<string, string>;
}

export function parseMediaTypes(header: string | undefined): MediaType[] {
  if (!header) return [{ type: 'application/json', params: {} }];
  return header
    .split(',')
    .map((part) => {
      const [type, ...params] = part.split(';').map((s) => s.trim());
      const p: Record<string, string> = {};
      for (const kv of params) {
        const i = kv.indexOf('=');
        if (i > 0) p[kv.slice(0, i).trim()] = kv.slice(i + 1).trim();
      }
      return { type: type.toLowerCase(), params: p };
    })
    .filter((m) => m.type);
}

export type ResponseShape =
  | { kind: 'object'; yaml: boolean }
  | { kind: 'table'; version: string }
  | { kind: 'partial'; version: string; list: boolean }
  | { kind: 'discovery'; version: 'v2' | 'v2beta1' };

const isJsonish = (t: string) => t === 'application/json' || t === '*/*' || t === 'application/*';

/**
 * The first acceptable representation. kubectl lists Table (v1, v1beta1) first and plain JSON
 * last; we never answer protobuf, so a protobuf-only Accept is 406.
 */
export function negotiate(header: string | undefined, allow: { table?: boolean; discovery?: boolean; partial?: boolean }): ResponseShape {
  const types = parseMediaTypes(header);
  for (const m of types) {
    const as = m.params.as;
    const g = m.params.g;
    if (as) {
      if (m.type !== 'application/json') continue;
      if (as === 'Table' && g === 'meta.k8s.io' && allow.table && (m.params.v === 'v1' || m.params.v === 'v1beta1')) return { kind: 'table', version: m.params.v };
      if ((as === 'PartialObjectMetadata' || as === 'PartialObjectMetadataList') && g === 'meta.k8s.io' && allow.partial && (m.params.v === 'v1' || m.params.v === 'v1beta1')) {
        return { kind: 'partial', version: m.params.v, list: as === 'PartialObjectMetadataList' };
      }
      if (as === 'APIGroupDiscoveryList' && g === 'apidiscovery.k8s.io' && allow.discovery && (m.params.v === 'v2' || m.params.v === 'v2beta1')) return { kind: 'discovery', version: m.params.v };
      continue;
    }
    if (isJsonish(m.type)) return { kind: 'object', yaml: false };
    if (m.type === 'application/yaml') return { kind: 'object', yaml: true };
  }
  throw ApiError.notAcceptable('only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf');
}

export const MAX_BODY = MAX_REQUEST_BODY_BYTES;

/**
 * Decodes a JSON or YAML request body into a plain object, with kube's error wording. A YAML
 * body is read as YAMLToJSON reads it: its first document only, nesting and aliases bounded.
 */
export async function decodeBody(raw: Buffer, contentType: string | undefined): Promise<unknown> {
  const type = (contentType ?? 'application/json').split(';')[0].trim().toLowerCase();
  if (type === 'application/json' || type === '') {
    let text = '';
    try {
      text = raw.toString('utf8');
      return parseJson(text);
    } catch (e) {
      throw ApiError.badRequest(`couldn't get version/kind; json parse error: ${jsonMessage(e as Error, text)}`);
    }
  }
  if (type === 'application/yaml') {
    let v: unknown;
    try {
      v = parseFirstYamlDocument(raw.toString('utf8'));
    } catch (e) {
      if (e instanceof YamlTooLargeError) throw ApiError.tooLarge(e.message);
      if (!(e instanceof YamlError)) throw e;
      throw ApiError.badRequest(`error converting YAML to JSON: ${e.message}`);
    }
    if (v === undefined) throw ApiError.badRequest('error converting YAML to JSON: yaml: empty document');
    return v;
  }
  if (type === 'application/vnd.kubernetes.protobuf') {
    const v = await decodeProtobuf(raw);
    const deep = tooDeep(v);
    if (deep) throw ApiError.badRequest(`failed to decode protobuf body: ${jsonDepthMessage(deep)}`);
    return v;
  }
  throw ApiError.unsupportedMediaType(contentType ?? '');
}

/** V8's JSON.parse complaints and what encoding/json's scanner says about the same character. */
const GO_JSON_CONTEXT: [RegExp, string][] = [
  [/^Expected property name or '}'/, 'looking for beginning of object key string'],
  [/^Expected ',' or '}' after property value/, 'after object key:value pair'],
  [/^Expected ',' or ']' after array element/, 'after array element'],
  [/^Expected ':' after property name/, 'after object key'],
  [/^Unexpected non-whitespace character after JSON/, 'after top-level value'],
  [/^(No number after minus sign|Unterminated fractional number|Exponent part is missing a number)/, 'in numeric literal'],
  [/^Bad control character in string literal/, 'in string literal'],
  [/^Bad (escaped character|Unicode escape)/, 'in string escape code'],
];

/** A JSON.parse failure in encoding/json's words (`text` locates the offending character). */
export function jsonMessage(e: Error, text?: string): string {
  if (e instanceof DepthError) return e.message;
  if (/end of JSON input|Unexpected end|Unterminated string/.test(e.message)) return 'unexpected end of JSON input';
  const at = /at position (\d+)/.exec(e.message);
  const ch = at && text !== undefined ? text[Number(at[1])] : undefined;
  for (const [re, context] of GO_JSON_CONTEXT) {
    if (re.test(e.message) && ch !== undefined) return `invalid character ${goQuoteChar(ch)} ${context}`;
  }
  const m = e.message.match(/Unexpected token '?(.)'?/);
  if (m) return `invalid character ${goQuoteChar(m[1]!)} looking for beginning of value`;
  return e.message;
}

/** encoding/json's quoteChar. */
function goQuoteChar(c: string): string {
  if (c === "'") return `'\\''`;
  if (c === '"') return `'"'`;
  const q = JSON.stringify(c);
  return `'${q.slice(1, -1)}'`;
}
