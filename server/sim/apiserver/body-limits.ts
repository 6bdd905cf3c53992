/**
 * The limits kube-apiserver puts on what a request body may be, in its own words: the 3 MiB
 * MaxRequestBodyBytes, bounded nesting, and go-yaml's guards against alias expansion ("billion
 * laughs"). Nothing here recurses on learner input without a bound: a stack overflow inside a
 * library is not a safe failure in V8 (a RegExp compiled near the stack limit aborts the process).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Composer, Lexer, LineCounter, Parser, isAlias, isMap, isScalar, isSeq, type Document, type Node as YamlNode } from 'yaml';
import { ApiError } from '../errors.js';

/** kube-apiserver's --max-request-body-bytes default (3 MiB), DefaultMaxRequestSizeBytes. */
export const MAX_REQUEST_BODY_BYTES = 3 * 1024 * 1024;

/**
 * The deepest nesting of arrays and objects the embedded cluster decodes or stores. kube-apiserver
 * allows 10000 (encoding/json's maxNestingDepth, go-yaml's max_flow_level); JavaScript's stack
 * does not: the `yaml` library overflows near 800 levels and YAML output near 1000. No real
 * object comes close (Istio's deepest CRD schema is about 40 levels deep).
 */
export const MAX_NESTING_DEPTH = 256;

/**
 * The most lexical tokens of YAML the embedded cluster parses (about 200 KB of YAML). The `yaml`
 * library spends ~6 µs and ~500 bytes per token, so a 3 MiB body of tiny items would hold the
 * event loop for 20 s and take 1.6 GB; JSON (what kubectl sends, also for server-side apply)
 * takes a fast path and is only bounded by the body size.
 */
export const MAX_YAML_TOKENS = 50_000;

/** What the server drains after answering 413, as Go's net/http discards before closing. */
const DRAIN_AFTER_LIMIT = 256 * 1024;

export function tooLarge(): ApiError {
  return ApiError.tooLarge(`Request entity too large: limit is ${MAX_REQUEST_BODY_BYTES}`);
}

/**
 * Reads a request body, stopping at the limit (handlers/rest.go limitedReadBody): a declared or
 * actual size over MAX_REQUEST_BODY_BYTES is a 413, nothing past the limit is kept, and the
 * connection is closed once the answer is out so the rest of the upload is not read.
 */
export function readLimitedBody(req: IncomingMessage, res: ServerResponse, limit = MAX_REQUEST_BODY_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const refuse = () => {
      chunks.length = 0;
      req.removeListener('data', onData);
      req.removeListener('end', onEnd);
      closeAfterAnswer(req, res);
      reject(tooLarge());
    };
    function onData(c: Buffer) {
      size += c.length;
      if (size > limit) refuse();
      else chunks.push(c);
    }
    function onEnd() {
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (Number.isFinite(declared) && declared > limit) {
      refuse();
      return;
    }
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', reject);
  });
}

/**
 * Answer first, then close gently, as Go's net/http does: discard what the client still sends up
 * to DRAIN_AFTER_LIMIT, then stop reading (the client's upload stalls on a full window), send a
 * FIN and close a while later (Go's closeWriteAndWait). Closing at once with the upload still
 * coming made the kernel answer it with an RST, which could destroy the 413 before the client
 * had read it (seen under load: curl reported only the 100 Continue). Never reads the rest of a
 * large upload.
 */
function closeAfterAnswer(req: IncomingMessage, res: ServerResponse): void {
  let drained = 0;
  const socket = req.socket;
  const drop = () => socket.destroy();
  req.on('data', (c: Buffer) => {
    drained += c.length;
    if (drained > DRAIN_AFTER_LIMIT) {
      // Both: a flowing request would otherwise resume its socket for the next read.
      req.pause();
      socket.pause();
    }
  });
  req.resume();
  res.once('finish', () => {
    if (req.complete) return;
    socket.end();
    setTimeout(drop, 2000).unref();
  });
}

// ---- nesting -------------------------------------------------------------------------------

/**
 * The first container deeper than `max`, found without recursion; undefined when within bounds.
 * `'['` or `'{'` is the character encoding/json names in its error.
 */
export function tooDeep(value: unknown, max = MAX_NESTING_DEPTH): '[' | '{' | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const stack: { v: object; d: number }[] = [{ v: value as object, d: 1 }];
  while (stack.length) {
    const { v, d } = stack.pop()!;
    if (d > max) return Array.isArray(v) ? '[' : '{';
    const children = Array.isArray(v) ? v : Object.values(v);
    for (const c of children) if (c !== null && typeof c === 'object') stack.push({ v: c, d: d + 1 });
  }
  return undefined;
}

/** encoding/json's scanner error for input nested deeper than it allows. */
export const jsonDepthMessage = (c: '[' | '{') => `invalid character '${c}' exceeded max depth`;

/** JSON.parse (iterative in V8, so safe at any depth) followed by the nesting bound. */
export function parseJson(text: string): unknown {
  const v: unknown = JSON.parse(text);
  const deep = tooDeep(v);
  if (deep) throw new DepthError(jsonDepthMessage(deep));
  return v;
}

export class DepthError extends Error {}

// ---- YAML ----------------------------------------------------------------------------------

/** A YAML decoding failure, worded as go-yaml (`yaml: …`). */
export class YamlError extends Error {}

/** A YAML body the embedded cluster will not parse for its size (a 413, not a decoding error). */
export class YamlTooLargeError extends Error {}

// go-yaml v2 decode.go: allowedAliasRatio.
const ALIAS_RATIO_RANGE_LOW = 400_000;
const ALIAS_RATIO_RANGE_HIGH = 4_000_000;
function allowedAliasRatio(decodeCount: number): number {
  if (decodeCount <= ALIAS_RATIO_RANGE_LOW) return 0.99;
  if (decodeCount >= ALIAS_RATIO_RANGE_HIGH) return 0.1;
  return 0.99 - 0.89 * ((decodeCount - ALIAS_RATIO_RANGE_LOW) / (ALIAS_RATIO_RANGE_HIGH - ALIAS_RATIO_RANGE_LOW));
}

/**
 * The first YAML document of `text` as plain JSON values, as sigs.k8s.io/yaml's YAMLToJSON
 * reads a request body: later documents are never parsed, nesting is bounded while parsing
 * (before the recursive composer sees it), and aliases are expanded into copies under
 * go-yaml's "excessive aliasing" rule. Returns undefined for a stream with no document.
 */
export function parseFirstYamlDocument(text: string): unknown {
  // JSON is YAML: parsed as JSON it costs a hundredth, and kubectl sends JSON.
  const first = /^\s*([[{])/.exec(text.slice(0, 64));
  if (first) {
    try {
      return parseJson(text);
    } catch (e) {
      if (e instanceof DepthError) throw new YamlError(`yaml: exceeded max depth of ${MAX_NESTING_DEPTH}`);
      // Not JSON after all (flow YAML, comments, …): read it as YAML.
    }
  }
  const lines = new LineCounter();
  const lexer = new Lexer();
  const parser = new Parser(lines.addNewLine);
  const tokens: ReturnType<Parser['end']> extends Generator<infer T> ? T[] : never = [];
  let done = false;
  const take = (gen: Generator<(typeof tokens)[number]>) => {
    for (const t of gen) {
      tokens.push(t);
      if (t.type === 'document') done = true;
    }
  };
  let count = 0;
  for (const lexeme of lexer.lex(text)) {
    if (++count > MAX_YAML_TOKENS) {
      throw new YamlTooLargeError(
        `Request entity too large: the embedded cluster parses YAML bodies of at most ${MAX_YAML_TOKENS} tokens (about 200 KB); send the object as JSON`,
      );
    }
    take(parser.next(lexeme));
    // The parser's stack holds one entry per open collection (plus the document and its scalars).
    if (parser.stack.length > MAX_NESTING_DEPTH + 2) {
      const line = lines.lineStarts.length;
      throw new YamlError(`yaml: ${line > 1 ? `line ${line}: ` : ''}exceeded max depth of ${MAX_NESTING_DEPTH}`);
    }
    if (done) break;
  }
  if (!done) take(parser.end());
  // Duplicate keys: the last wins, as in go-yaml v2 (and the library's check is quadratic).
  const composer = new Composer({ prettyErrors: false, uniqueKeys: false });
  let doc: Document.Parsed | undefined;
  const keep = (gen: Generator<Document.Parsed>) => {
    for (const d of gen) doc ??= d;
  };
  for (const t of tokens) {
    keep(composer.next(t));
    if (doc) break;
  }
  if (!doc) keep(composer.end());
  if (!doc) return undefined;
  const err = doc.errors[0];
  if (err) {
    const { line, col } = lines.linePos(err.pos[0]);
    throw new YamlError(`yaml: ${err.message.split('\n')[0]} at line ${line}, column ${col}`);
  }
  return toPlain(doc);
}

/**
 * The document as JSON values: a tree (an alias becomes a copy, as YAMLToJSON's text would),
 * built under go-yaml's counters: every decoded node counts, those inside an alias expansion
 * count as aliased, and too high a ratio fails as go-yaml fails.
 */
function toPlain(doc: Document.Parsed): unknown {
  let decodeCount = 1; // the document node itself
  let aliasCount = 0;
  let aliasDepth = 0;
  const expanding = new Set<YamlNode>();
  const targets = aliasTargets(doc);
  const count = () => {
    decodeCount++;
    if (aliasDepth > 0) aliasCount++;
    if (aliasCount > 100 && decodeCount > 1000 && aliasCount / decodeCount > allowedAliasRatio(decodeCount)) {
      throw new YamlError('yaml: document contains excessive aliasing');
    }
  };
  const convert = (node: unknown, depth: number): unknown => {
    if (node === null || node === undefined) return null;
    count();
    if (isAlias(node)) {
      const target = targets.get(node);
      if (!target) throw new YamlError(`yaml: unknown anchor '${node.source}' referenced`);
      if (expanding.has(target)) throw new YamlError(`yaml: anchor '${node.source}' value contains itself`);
      expanding.add(target);
      aliasDepth++;
      try {
        // The alias node was counted; its target is decoded (and counted) again, as go-yaml does.
        return convert(target, depth);
      } finally {
        aliasDepth--;
        expanding.delete(target);
      }
    }
    if (isScalar(node)) {
      const v = node.value;
      return typeof v === 'bigint' ? Number(v) : v === undefined ? null : v;
    }
    if (depth >= MAX_NESTING_DEPTH) throw new YamlError(`yaml: exceeded max depth of ${MAX_NESTING_DEPTH}`);
    if (isSeq(node)) return node.items.map((item) => convert(item, depth + 1));
    if (isMap(node)) {
      const out: Record<string, unknown> = {};
      for (const pair of node.items) {
        const key = convert(pair.key, depth + 1);
        if (key !== null && typeof key === 'object') throw new YamlError('yaml: invalid map key: a mapping or sequence cannot be a key');
        const value = convert(pair.value, depth + 1);
        // A "__proto__" key is data, as in JSON.parse, never the object's prototype.
        Object.defineProperty(out, key === null ? '' : String(key), { value, writable: true, enumerable: true, configurable: true });
      }
      return out;
    }
    throw new YamlError('yaml: unsupported node');
  };
  return convert(doc.contents, 0);
}

/**
 * Each alias's node: the closest preceding node with that anchor, in document order. One
 * iterative pass (the library's Alias.resolve walks the whole document for every alias).
 */
function aliasTargets(doc: Document.Parsed): Map<YamlNode, YamlNode> {
  const anchors = new Map<string, YamlNode>();
  const out = new Map<YamlNode, YamlNode>();
  const stack: unknown[] = [doc.contents];
  while (stack.length) {
    const node = stack.pop();
    if (isAlias(node)) {
      const target = anchors.get(node.source);
      if (target) out.set(node, target);
      continue;
    }
    if (!isScalar(node) && !isSeq(node) && !isMap(node)) continue;
    if (node.anchor) anchors.set(node.anchor, node);
    // Children pushed in reverse so they pop in document order.
    if (isSeq(node)) for (let i = node.items.length - 1; i >= 0; i--) stack.push(node.items[i]);
    else if (isMap(node)) {
      for (let i = node.items.length - 1; i >= 0; i--) {
        stack.push(node.items[i]!.value);
        stack.push(node.items[i]!.key);
      }
    }
  }
  return out;
}
