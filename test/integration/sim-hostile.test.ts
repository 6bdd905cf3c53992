/**
 * Property-based fuzzing of the embedded cluster's API (fast-check, fixed seed): mutated and
 * hostile bodies, content types and query parameters sent to every verb of built-in kinds and
 * of a custom resource. Each request must leave the process alive and logging no unexpected
 * error, answer no 5xx but those kube-apiserver itself answers, leave the store untouched when
 * refused, and leave whatever it stored servable as JSON, YAML and kubectl's Table; open watches
 * (Table and JSON) see every change. Afterwards the real kubectl and client-node still work.
 * Raw HTTPS is deliberate: no well-behaved client sends these requests.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import https from 'node:https';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import * as k8s from '@kubernetes/client-node';
import { EmbeddedCluster } from '../../server/sim/cluster.js';

// Fixed so a failure reproduces; SIM_FUZZ_SEED / SIM_FUZZ_RUNS explore further by hand.
const SEED = Number(process.env.SIM_FUZZ_SEED ?? 20261206);
const NUM_RUNS = Number(process.env.SIM_FUZZ_RUNS ?? 400);
const NS = 'fuzz';
const TABLE_ACCEPT = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';

let cluster: EmbeddedCluster;
let dir: string;
const logged: string[] = [];
const origError = console.error;
const outcomes = new Map<string, number>();
const watches: { req: ReturnType<typeof https.request>; failed: string[]; bytes: number }[] = [];

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
interface Kind {
  /** The collection path, without a trailing slash. */
  base: string;
  seed: Record<string, Json>;
  /** Paths worth mutating, beyond the common metadata ones. */
  paths: (string | number)[][];
  crd?: boolean;
}

const podSpec = { containers: [{ name: 'c', image: 'nginx', ports: [{ containerPort: 80, name: 'http' }], env: [{ name: 'A', value: '1' }], resources: { limits: { cpu: '100m' } } }] };
const KINDS: Record<string, Kind> = {
  configmaps: { base: `/api/v1/namespaces/${NS}/configmaps`, seed: { apiVersion: 'v1', kind: 'ConfigMap', data: { k: 'v' } }, paths: [['data'], ['data', 'k'], ['binaryData'], ['immutable']] },
  secrets: { base: `/api/v1/namespaces/${NS}/secrets`, seed: { apiVersion: 'v1', kind: 'Secret', type: 'Opaque', data: { k: 'dg==' } }, paths: [['data', 'k'], ['stringData'], ['type']] },
  services: {
    base: `/api/v1/namespaces/${NS}/services`,
    seed: { apiVersion: 'v1', kind: 'Service', spec: { selector: { app: 'a' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } },
    paths: [['spec', 'ports'], ['spec', 'ports', 0], ['spec', 'ports', 0, 'port'], ['spec', 'ports', 0, 'targetPort'], ['spec', 'type'], ['spec', 'clusterIP'], ['spec', 'selector'], ['spec', 'externalIPs']],
  },
  deployments: {
    base: `/apis/apps/v1/namespaces/${NS}/deployments`,
    seed: { apiVersion: 'apps/v1', kind: 'Deployment', spec: { replicas: 1, selector: { matchLabels: { app: 'a' } }, template: { metadata: { labels: { app: 'a' } }, spec: podSpec } } },
    paths: [
      ['spec', 'replicas'], ['spec', 'selector'], ['spec', 'strategy'], ['spec', 'template', 'metadata', 'labels'], ['spec', 'template', 'spec', 'containers'],
      ['spec', 'template', 'spec', 'containers', 0], ['spec', 'template', 'spec', 'containers', 0, 'image'], ['spec', 'template', 'spec', 'containers', 0, 'ports', 0],
      ['spec', 'template', 'spec', 'containers', 0, 'env', 0], ['spec', 'template', 'spec', 'volumes'], ['status'],
    ],
  },
  pods: {
    base: `/api/v1/namespaces/${NS}/pods`,
    seed: { apiVersion: 'v1', kind: 'Pod', spec: podSpec },
    paths: [['spec', 'containers', 0], ['spec', 'containers', 0, 'resources'], ['spec', 'containers', 0, 'command'], ['spec', 'volumes'], ['spec', 'nodeName'], ['spec', 'initContainers'], ['status']],
  },
  clusterroles: {
    base: '/apis/rbac.authorization.k8s.io/v1/clusterroles',
    seed: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }] },
    paths: [['rules'], ['rules', 0], ['rules', 0, 'verbs'], ['aggregationRule']],
  },
  widgets: {
    base: `/apis/fuzz.example.com/v1/namespaces/${NS}/widgets`,
    seed: { apiVersion: 'fuzz.example.com/v1', kind: 'Widget', spec: { size: 1, name: 'abc', tags: ['x'], free: { a: 1 } } },
    paths: [['spec', 'size'], ['spec', 'name'], ['spec', 'tags'], ['spec', 'tags', 0], ['spec', 'free'], ['spec', 'free', 'a'], ['status']],
    crd: true,
  },
};

const WIDGET_CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.fuzz.example.com' },
  spec: {
    group: 'fuzz.example.com',
    scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        subresources: { status: {} },
        additionalPrinterColumns: [{ name: 'Size', type: 'integer', jsonPath: '.spec.size' }, { name: 'Tags', type: 'string', jsonPath: '.spec.tags[*]' }],
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                properties: {
                  size: { type: 'integer', minimum: 0 },
                  name: { type: 'string', pattern: '^[a-z]+$', maxLength: 20 },
                  tags: { type: 'array', items: { type: 'string' }, maxItems: 100 },
                  free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                },
              },
              status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
            },
          },
        },
      },
    ],
  },
};

// ---- plumbing --------------------------------------------------------------------------------

interface Answer {
  code: number;
  body: any;
  contentType: string;
}

function request(method: string, path: string, body: string | undefined, headersIn: Record<string, string>, opts: { watch?: boolean } = {}): Promise<Answer> {
  // Node sends a DELETE's body neither chunked nor with a length unless told.
  const headers = body === undefined ? headersIn : { ...headersIn, 'Content-Length': String(Buffer.byteLength(body)) };
  return new Promise((resolve, reject) => {
    const u = new URL(path, cluster.url);
    const req = https.request(
      { hostname: u.hostname, port: u.port, path: u.pathname + u.search, method, ca: cluster.caPem, headers: { Authorization: `Bearer ${cluster.token}`, ...headers } },
      (res) => {
        // A watch that started streaming is proof enough; close it rather than wait.
        if (opts.watch && res.statusCode === 200) {
          req.destroy();
          resolve({ code: 200, body: undefined, contentType: String(res.headers['content-type'] ?? '') });
          return;
        }
        const chunks: Buffer[] = [];
        res.on('data', (d) => chunks.push(d));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // YAML or plain text
          }
          resolve({ code: res.statusCode!, body: parsed, contentType: String(res.headers['content-type'] ?? '') });
        });
        res.on('error', reject);
      },
    );
    req.on('error', (e) => (opts.watch ? resolve({ code: 200, body: undefined, contentType: '' }) : reject(new Error(`${method} ${path}: ${(e as Error).message}`))));
    req.end(body);
  });
}

/** A long-lived watch whose events must keep arriving as valid JSON lines. */
function openWatch(path: string, accept: string): void {
  const w = { req: undefined as unknown as ReturnType<typeof https.request>, failed: [] as string[], bytes: 0 };
  const u = new URL(path, cluster.url);
  let buf = '';
  w.req = https.request({ hostname: u.hostname, port: u.port, path: u.pathname + u.search, method: 'GET', ca: cluster.caPem, headers: { Authorization: `Bearer ${cluster.token}`, Accept: accept } }, (res) => {
    if (res.statusCode !== 200) w.failed.push(`watch ${path}: ${res.statusCode}`);
    res.on('data', (d: Buffer) => {
      w.bytes += d.length;
      buf += d.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        try {
          const ev = JSON.parse(line);
          if (ev.type === 'ERROR') w.failed.push(`watch ${path}: ERROR ${line.slice(0, 300)}`);
        } catch {
          w.failed.push(`watch ${path}: not JSON: ${line.slice(0, 200)}`);
        }
      }
    });
    res.on('end', () => w.failed.push(`watch ${path}: ended`));
  });
  w.req.on('error', () => undefined);
  w.req.end();
  watches.push(w);
}

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env: { PATH: process.env.PATH!, HOME: dir, KUBECONFIG: join(dir, 'kubeconfig'), KUBECACHEDIR: join(dir, 'cache') } }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Objects every run finds in place (recreated when a run deleted them). */
const SEEDED = ['seed', 'c0'];
const seedBody = (kind: Kind, name: string) => JSON.stringify({ ...kind.seed, metadata: { name, labels: { app: 'a' } } });

async function ensureSeeds(): Promise<void> {
  for (const kind of Object.values(KINDS)) {
    for (const name of SEEDED) {
      const r = await request('GET', `${kind.base}/${name}`, undefined, {});
      if (r.code === 200 && !r.body?.metadata?.deletionTimestamp) continue;
      if (r.code === 200) {
        // Stuck in deletion behind a fuzzed finalizer: release it so the seed can come back.
        await request('PATCH', `${kind.base}/${name}`, '[{"op":"remove","path":"/metadata/finalizers"}]', { 'Content-Type': 'application/json-patch+json' });
      }
      const c = await request('POST', kind.base, seedBody(kind, name), { 'Content-Type': 'application/json' });
      if (c.code !== 201 && c.code !== 409) throw new Error(`could not restore seed ${kind.base}/${name}: ${c.code} ${JSON.stringify(c.body).slice(0, 300)}`);
    }
  }
}

// ---- generators ------------------------------------------------------------------------------

const nested = (depth: number, array: boolean): Json => {
  let v: Json = 1;
  for (let i = 0; i < depth; i++) v = array ? [v] : { a: v };
  return v;
};

const hostileValue: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(null, [null], [null, null], {}, [], '', 0, -1, 2147483648, 1e308, true, 'x'.repeat(300)),
  fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
  fc.tuple(fc.integer({ min: 1, max: 320 }), fc.boolean()).map(([d, a]) => nested(d, a)),
  fc.integer({ min: 1_000, max: 300_000 }).map((n) => 'y'.repeat(n)),
  fc.integer({ min: 100, max: 20_000 }).map((n) => Array.from({ length: n }, () => 0)),
  fc.constantFrom<Json>({ $patch: 'delete' }, { $patch: 'replace' }, { $patch: 'bogus' }, { $retainKeys: ['a'] }, { '$setElementOrder/x': [1] }, { '$deleteFromPrimitiveList/x': [1] }, [{ $patch: 'delete', name: 'c' }], [[1]]),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.constantFrom<Json>(null, 1, 'v', [], {}), { maxKeys: 4 }),
);

const commonPaths: (string | number)[][] = [
  ['metadata'], ['metadata', 'labels'], ['metadata', 'annotations'], ['metadata', 'name'], ['metadata', 'generateName'], ['metadata', 'finalizers'],
  ['metadata', 'resourceVersion'], ['metadata', 'managedFields'], ['metadata', 'namespace'], ['metadata', 'labels', 'app'], ['apiVersion'], ['kind'], ['spec'],
];

function setPath(root: Record<string, Json>, path: (string | number)[], value: Json): void {
  let cur: any = root;
  for (let i = 0; i < path.length - 1; i++) {
    const k = path[i]!;
    if (cur[k] === null || typeof cur[k] !== 'object') cur[k] = typeof path[i + 1] === 'number' ? [] : {};
    cur = cur[k];
  }
  cur[path[path.length - 1]!] = value;
}

/** A kind's seed object with one to three hostile mutations. */
const mutatedObject = (kind: Kind, name: string) =>
  fc.array(fc.tuple(fc.constantFrom(...commonPaths, ...kind.paths), anyValue), { minLength: 0, maxLength: 3 }).map((muts) => {
    const o = JSON.parse(seedBody(kind, name)) as Record<string, Json>;
    for (const [p, v] of muts) setPath(o, p, v);
    return JSON.stringify(o);
  });

/** A seed with only benign changes: the accepted side of every verb. */
const benignObject = (kind: Kind, name: string) =>
  fc.constantFrom<[string, Json]>(['app', 'b'], ['tier', 'web'], ['x', '']).map(([k, v]) => {
    const o = JSON.parse(seedBody(kind, name)) as { metadata: { labels: Record<string, Json> } };
    o.metadata.labels[k] = v;
    return JSON.stringify(o);
  });

const laughs = (() => {
  const l = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 9; i++) l.push(`${'abcdefghi'[i]}: &${'abcdefghi'[i]} [${Array(9).fill(`*${'abcdefghi'[i - 1]}`).join(',')}]`);
  return l.join('\n');
})();

const hostileText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.constantFrom('', 'null', '[]', '1', '"x"', '{}', '{', '}', laughs, 'a: &x [*x]', '---\n---\n', 'k8s\u0000garbage', '\u0000\u0001\u0002', '- - - - x', '{"a":1,"a":2}'),
  fc.integer({ min: 200, max: 6_000 }).map((n) => '['.repeat(n)),
  fc.integer({ min: 200, max: 3_000 }).map((n) => '{"a":'.repeat(n) + '1' + '}'.repeat(n)),
  fc.integer({ min: 200, max: 3_000 }).map((n) => '- '.repeat(n) + 'x'),
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')),
);

const jsonPatchBody = fc.oneof(
  fc.array(
    fc.record({
      op: fc.constantFrom('add', 'remove', 'replace', 'move', 'copy', 'test', 'bogus'),
      path: fc.oneof(fc.constantFrom('/metadata/labels/x', '/metadata/name', '/spec', '/spec/replicas', '/data/k', '/metadata/labels', '/-', '', '/spec/template/spec/containers/0', '/spec/template/spec/containers/-', '/x/y/z', '/rules/0/verbs/-', '/spec/free/a'), fc.string({ maxLength: 20 })),
      from: fc.constantFrom('/metadata/labels', '/spec', '/nope'),
      value: hostileValue,
    }),
    { maxLength: 4 },
  ).map((ops) => JSON.stringify(ops)),
  fc.integer({ min: 10_001, max: 10_050 }).map((n) => JSON.stringify(Array.from({ length: n }, () => ({ op: 'test', path: '/kind', value: 'x' })))),
  hostileText,
);

const objectPatchBody = (kind: Kind) =>
  fc.oneof(
    fc.array(fc.tuple(fc.constantFrom(...commonPaths, ...kind.paths), anyValue), { minLength: 1, maxLength: 3 }).map((muts) => {
      const o: Record<string, Json> = {};
      for (const [p, v] of muts) setPath(o, p, v);
      return JSON.stringify(o);
    }),
    hostileText,
  );

const queryValue = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.constantFrom('', '0', '-1', '1', '1e309', 'NaN', '99999999999999999999', '1.5', 'true', 'false', 'All', 'Strict', 'Warn', 'Ignore', 'Exact', 'NotOlderThan', 'Orphan', 'Foreground', 'Background',
    'a=b', 'a in (b)', 'a notin (b,c)', '!a', 'a,b', '=', '==', 'app=a', 'metadata.name=seed', 'metadata.name!=seed', 'spec.x=1', 'status.phase=Running', 'a in (', 'x=y=z',
    'eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MSwic3RhcnQiOiJhIn0', '%', 'Table', 'Metadata', 'None', 'Object'),
  fc.integer({ min: 100, max: 6_000 }).map((n) => 'a'.repeat(n)),
);
const QUERY_KEYS = ['limit', 'continue', 'fieldSelector', 'labelSelector', 'resourceVersion', 'resourceVersionMatch', 'timeoutSeconds', 'dryRun', 'fieldValidation', 'fieldManager', 'force', 'propagationPolicy', 'gracePeriodSeconds', 'orphanDependents', 'allowWatchBookmarks', 'sendInitialEvents', 'includeObject'];
const query = fc.oneof(
  { arbitrary: fc.constant({} as Record<string, string>), weight: 3 },
  { arbitrary: fc.dictionary(fc.constantFrom(...QUERY_KEYS), queryValue, { maxKeys: 3 }), weight: 2 },
);

const CONTENT_TYPES = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf', 'application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml', 'text/plain', '', 'application/json; charset=utf-8', 'multipart/form-data; boundary=x'];
const ACCEPTS = ['application/json', 'application/yaml', TABLE_ACCEPT, 'application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json', 'application/vnd.kubernetes.protobuf', 'text/html', '*/*', ''];

type Verb = 'create' | 'update' | 'json' | 'merge' | 'strategic' | 'apply' | 'delete' | 'deletecollection' | 'get' | 'list' | 'watch' | 'status';
const PATCH_CT: Record<string, string> = { json: 'application/json-patch+json', merge: 'application/merge-patch+json', strategic: 'application/strategic-merge-patch+json', apply: 'application/apply-patch+yaml' };

interface Req {
  kind: string;
  verb: Verb;
  name: string;
  body?: string;
  contentType?: string;
  accept: string;
  query: Record<string, string>;
}

// Not '..': URL normalisation (curl's too) turns it into the namespace itself.
const names = fc.oneof(
  { arbitrary: fc.constantFrom('seed', 'seed', 'c0', 'c0', 'c1', 'c2'), weight: 6 },
  { arbitrary: fc.constantFrom('missing', 'UPPER', 'a'.repeat(300), 'x%2Fy', 'a b', '%zz'), weight: 1 },
);
/** Benign values too, so that much of what is sent is accepted and reaches printers and watches. */
const anyValue: fc.Arbitrary<Json> = fc.oneof(
  { arbitrary: hostileValue, weight: 2 },
  { arbitrary: fc.constantFrom<Json>('abc', 'nginx:1.25', 'x', 3, 0, 80, 'ClusterIP', 'NodePort', { app: 'a' }, { k: 'v' }, ['get'], 'TCP'), weight: 1 },
);

const requestArb: fc.Arbitrary<Req> = fc
  .record({
    kind: fc.constantFrom(...Object.keys(KINDS)),
    verb: fc.constantFrom<Verb>('create', 'update', 'json', 'merge', 'strategic', 'apply', 'delete', 'deletecollection', 'get', 'list', 'watch', 'status'),
    name: names,
    badContentType: fc.oneof({ arbitrary: fc.constant(null), weight: 6 }, { arbitrary: fc.constantFrom(...CONTENT_TYPES), weight: 1 }),
    accept: fc.oneof({ arbitrary: fc.constantFrom('application/json', TABLE_ACCEPT), weight: 4 }, { arbitrary: fc.constantFrom(...ACCEPTS), weight: 1 }),
    query,
    seed: fc.integer(),
  })
  .chain((r) => {
    const kind = KINDS[r.kind]!;
    let body: fc.Arbitrary<string | undefined>;
    switch (r.verb) {
      case 'create':
      case 'update':
      case 'status':
        body = fc.oneof({ arbitrary: mutatedObject(kind, r.name), weight: 3 }, { arbitrary: benignObject(kind, r.name), weight: 2 }, { arbitrary: hostileText, weight: 1 });
        break;
      case 'json':
        body = jsonPatchBody;
        break;
      case 'merge':
      case 'strategic':
        body = objectPatchBody(kind);
        break;
      case 'apply':
        body = fc.oneof(mutatedObject(kind, r.name), benignObject(kind, r.name), hostileText, mutatedObject(kind, r.name).map((j) => `# yaml\n${j}`));
        break;
      case 'delete':
      case 'deletecollection':
        body = fc.option(fc.oneof(fc.constantFrom('{"propagationPolicy":"Bogus"}', '{"gracePeriodSeconds":"x"}', '{"preconditions":{"uid":"nope"}}', '{"kind":"DeleteOptions","apiVersion":"v1","dryRun":["All"]}'), hostileText), { nil: undefined });
        break;
      default:
        body = fc.constant(undefined);
    }
    return body.map((b): Req => {
      const ct = r.verb in PATCH_CT ? PATCH_CT[r.verb] : r.verb === 'apply' ? PATCH_CT.apply : 'application/json';
      return { kind: r.kind, verb: r.verb, name: r.name, body: b, contentType: r.badContentType ?? ct, accept: r.accept, query: Object.fromEntries(Object.entries(r.query).map(([k, v]) => [k, v])) };
    });
  });

function describeReq(r: Req): string {
  return `${r.verb} ${r.kind}/${r.name} ct=${r.contentType} accept=${r.accept} q=${JSON.stringify(r.query)} body=${(r.body ?? '').slice(0, 300)}${(r.body?.length ?? 0) > 300 ? `… (${r.body!.length} chars)` : ''}`;
}

async function send(r: Req): Promise<Answer> {
  const kind = KINDS[r.kind]!;
  const q = new URLSearchParams(r.query);
  const one = `${kind.base}/${encodeURIComponent(r.name)}`;
  const headers: Record<string, string> = r.accept ? { Accept: r.accept } : {};
  if (r.body !== undefined) headers['Content-Type'] = r.contentType ?? 'application/json';
  switch (r.verb) {
    case 'create':
      return request('POST', `${kind.base}?${q}`, r.body, headers);
    case 'update':
      return request('PUT', `${one}?${q}`, r.body, headers);
    case 'status':
      return request('PUT', `${one}/status?${q}`, r.body, headers);
    case 'json':
    case 'merge':
    case 'strategic':
    case 'apply':
      if (r.verb === 'apply' && !q.has('fieldManager')) q.set('fieldManager', 'fuzz');
      return request('PATCH', `${one}?${q}`, r.body, headers);
    case 'delete':
      return request('DELETE', `${one}?${q}`, r.body, headers);
    case 'deletecollection':
      return request('DELETE', `${kind.base}?${q}`, r.body, headers);
    case 'get':
      return request('GET', `${one}?${q}`, undefined, headers);
    case 'list':
      return request('GET', `${kind.base}?${q}`, undefined, headers);
    case 'watch':
      q.set('watch', 'true');
      if (!q.has('timeoutSeconds')) q.set('timeoutSeconds', '1');
      return request('GET', `${kind.base}?${q}`, undefined, headers, { watch: true });
  }
}

/** The 5xx answers kube-apiserver gives itself for such input. */
function kubesOwn5xx(r: Req, a: Answer): boolean {
  // Strategic-merge errors the patch handler does not interpret (reason omitted).
  if (a.code === 500 && a.body?.reason === undefined && r.contentType === PATCH_CT.strategic) return true;
  // A resourceVersion from the future: the watch cache gives up with a Timeout.
  if (a.code === 504 && a.body?.reason === 'Timeout') return true;
  return false;
}

/** The store's revision: a refused request must not move it. */
function fingerprint(): string {
  return String(cluster.store.currentRV);
}

// ---- the suite ---------------------------------------------------------------------------------

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sim-hostile-fuzz-'));
  cluster = await EmbeddedCluster.start();
  await cluster.writeKubeconfig(join(dir, 'kubeconfig'));
  console.error = (...args: unknown[]) => {
    logged.push(args.map((a) => (a instanceof Error ? a.stack : String(a))).join(' '));
    origError(...args);
  };
  expect((await request('POST', '/api/v1/namespaces', JSON.stringify({ metadata: { name: NS } }), { 'Content-Type': 'application/json' })).code).toBe(201);
  expect((await request('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', JSON.stringify(WIDGET_CRD), { 'Content-Type': 'application/json' })).code).toBe(201);
  for (let i = 0; i < 100 && (await request('GET', KINDS.widgets!.base, undefined, {})).code !== 200; i++) await new Promise((r) => setImmediate(r));
  await ensureSeeds();
  for (const kind of Object.values(KINDS)) {
    openWatch(`${kind.base}?watch=true&allowWatchBookmarks=true`, TABLE_ACCEPT);
    openWatch(`${kind.base}?watch=true`, 'application/json');
  }
}, 60_000);

afterAll(async () => {
  console.error = origError;
  for (const w of watches) w.req.destroy();
  await cluster?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('hostile requests to every verb', () => {
  it(`never crash, never answer a 5xx of ours, never change the store when refused, always leave what they stored servable (${NUM_RUNS} runs, seed ${SEED})`, async () => {
    await fc.assert(
      fc.asyncProperty(requestArb, async (r) => {
        await ensureSeeds();
        // Whatever earlier requests set off (garbage collection, finalizers) is done first.
        await cluster.settle();
        logged.length = 0;
        const before = fingerprint();
        const a = await send(r);
        if (process.env.SIM_FUZZ_DEBUG && a.code >= 400) console.log(`${r.verb} ${r.kind} ${a.code} ${JSON.stringify(a.body?.message ?? a.body).slice(0, 200)}`);
        outcomes.set(`${r.verb} ${Math.floor(a.code / 100)}xx`, (outcomes.get(`${r.verb} ${Math.floor(a.code / 100)}xx`) ?? 0) + 1);
        const what = `${describeReq(r)}\n→ ${a.code} ${JSON.stringify(a.body)?.slice(0, 400)}`;
        if (a.code >= 500 && !kubesOwn5xx(r, a)) throw new Error(`a 5xx of ours: ${what}`);
        if (a.code >= 400 && fingerprint() !== before) throw new Error(`a refused request changed the store: ${what}`);
        if (a.code < 300 && ['create', 'update', 'json', 'merge', 'strategic', 'apply', 'status'].includes(r.verb)) {
          // What was stored is served back in every representation kubectl and curl ask for.
          const kind = KINDS[r.kind]!;
          const name = a.body?.metadata?.name ?? r.name;
          for (const accept of ['application/json', 'application/yaml', TABLE_ACCEPT]) {
            const g = await request('GET', `${kind.base}/${encodeURIComponent(name)}`, undefined, { Accept: accept });
            if (g.code !== 200 && g.code !== 404) throw new Error(`reading back ${name} as ${accept} answered ${g.code} ${JSON.stringify(g.body).slice(0, 300)}: ${what}`);
          }
          const l = await request('GET', kind.base, undefined, { Accept: TABLE_ACCEPT });
          if (l.code !== 200) throw new Error(`listing as a Table answered ${l.code} ${JSON.stringify(l.body).slice(0, 300)}: ${what}`);
        }
        if (logged.length) throw new Error(`the server logged: ${logged.join('\n').slice(0, 1000)}\nafter ${what}`);
        const broken = watches.flatMap((w) => w.failed);
        if (broken.length) throw new Error(`a watch broke: ${broken.join('\n').slice(0, 1000)}\nafter ${what}`);
      }),
      { seed: SEED, numRuns: NUM_RUNS, endOnFailure: false },
    );
    if (process.env.SIM_FUZZ_DEBUG) console.log(JSON.stringify([...outcomes].sort()));
    // The generators reach both sides: every verb was accepted and refused at least once.
    const verbs = ['create', 'update', 'json', 'merge', 'strategic', 'apply', 'delete', 'deletecollection', 'get', 'list', 'watch', 'status'];
    for (const v of verbs) {
      expect(outcomes.get(`${v} 2xx`) ?? 0, `${v} accepted`).toBeGreaterThan(0);
      expect(outcomes.get(`${v} 4xx`) ?? 0, `${v} refused`).toBeGreaterThan(0);
    }
  }, 120_000);

  it('leaves a cluster the real kubectl and client-node still use', async () => {
    const apply = await run('kubectl', ['-n', NS, 'create', 'configmap', 'after-fuzz', '--from-literal=k=v']);
    expect(apply.stderr).toBe('');
    const get = await run('kubectl', ['-n', NS, 'get', 'configmaps,secrets,services,deployments,pods,widgets', '-o', 'name']);
    expect(get.stderr).toBe('');
    expect(get.stdout).toContain('configmap/after-fuzz');
    const kc = new k8s.KubeConfig();
    kc.loadFromString(cluster.kubeconfig());
    const core = kc.makeApiClient(k8s.CoreV1Api);
    expect((await core.readNamespacedConfigMap({ name: 'after-fuzz', namespace: NS })).data).toEqual({ k: 'v' });
    const del = await run('kubectl', ['-n', NS, 'delete', 'configmap', 'after-fuzz']);
    expect(del.stdout).toContain('deleted');
    // The watches opened before the fuzzing saw every event as valid JSON.
    expect(watches.flatMap((w) => w.failed)).toEqual([]);
    expect(watches.every((w) => w.bytes > 0)).toBe(true);
    expect(logged).toEqual([]);
  });
});
