/**
 * What a lesson step may declare it expects of the cluster, the traffic and the terminal.
 * Each check names exactly one kind by its key (`resource:`, `workload:`, `http:`, `output:`,
 * `command:`), so a lesson reads as what it checks:
 *
 *   checks:
 *     - title: productpage is exposed on a NodePort
 *       resource: { apiVersion: v1, kind: Service, name: productpage, fields: [{ path: spec.type, equals: NodePort }] }
 */
import * as z from 'zod';

const name = z.string().min(1).max(253);

/** A field condition on an object, the path in kubectl's jsonpath-without-braces form (`spec.ports[0].nodePort`). */
export const fieldCondition = z
  .object({
    path: z.string().min(1),
    equals: z.union([z.string(), z.number(), z.boolean(), z.null()]).optional(),
    matches: z.string().optional(),
    contains: z.union([z.string(), z.number()]).optional(),
    oneOf: z.array(z.union([z.string(), z.number(), z.boolean()])).min(1).optional(),
    exists: z.boolean().optional(),
  })
  .strict()
  .refine((c) => ['equals', 'matches', 'contains', 'oneOf', 'exists'].filter((k) => k in c).length === 1, {
    message: 'a field condition needs exactly one of equals, matches, contains, oneOf, exists',
  });

const count = z.union([
  z.number().int().nonnegative(),
  z.object({ min: z.number().int().nonnegative().optional(), max: z.number().int().nonnegative().optional() }).strict(),
]);

export const resourceCheck = z
  .object({
    apiVersion: z.string().min(1),
    kind: z.string().min(1),
    name: name.optional(),
    namespace: name.optional(),
    /** A label selector as kubectl's -l takes it. */
    selector: z.string().optional(),
    /** The object (or every selected object) must not exist. */
    absent: z.boolean().optional(),
    count: count.optional(),
    fields: z.array(fieldCondition).optional(),
  })
  .strict();

export const workloadCheck = z
  .object({
    namespace: name.optional(),
    /** A Deployment available with this many ready replicas. */
    deployment: name.optional(),
    readyReplicas: z.number().int().nonnegative().optional(),
    /** Pods matching a selector are Running with READY n/m (e.g. "2/2": every pod has its sidecar). */
    pods: z.string().optional(),
    ready: z.string().regex(/^\d+\/\d+$/, 'must look like READY in kubectl get pods, e.g. "2/2"').optional(),
    /** Every selected pod runs containers of these names (a native sidecar, an init container that keeps running, counts). */
    containers: z.array(z.string().min(1)).min(1).optional(),
    count: count.optional(),
  })
  .strict()
  .refine((w) => (w.deployment === undefined) !== (w.pods === undefined), { message: 'name exactly one of deployment or pods' })
  .refine((w) => w.containers === undefined || w.pods !== undefined, { message: 'containers applies to pods, not to a deployment' });

const httpTarget = z
  .object({
    /** A Service, reached through the Kubernetes API's service proxy. */
    service: name.optional(),
    port: z.union([z.number().int().min(1).max(65535), z.string()]).optional(),
    namespace: name.optional(),
    /** The Service's NodePort on a node's InternalIP, reached from inside the cluster. */
    nodePort: z.boolean().optional(),
    /** The Istio ingress gateway (istio-system/istio-ingressgateway, port http2). */
    gateway: z.boolean().optional(),
    path: z.string().startsWith('/').default('/'),
    method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'DELETE']).default('GET'),
    headers: z.record(z.string(), z.string()).optional(),
    /** Sign in to Bookinfo's productpage as this user first (its session cookie is sent). */
    signedInAs: z.string().optional(),
  })
  .strict();

const httpExpect = z
  .object({
    status: z.number().int().min(100).max(599).optional(),
    bodyContains: z.string().optional(),
    bodyMatches: z.string().optional(),
  })
  .strict();

export const httpCheck = httpTarget
  .extend({
    expect: httpExpect.optional(),
    /** Sampled form: send this many requests and judge the share of each key. */
    samples: z.number().int().min(10).max(2000).optional(),
    /** How to name each response: the first capture group of a regex on the body (or the whole match). */
    key: z.object({ regex: z.string(), otherwise: z.string().default('other') }).strict().optional(),
    /** Expected share per key, summing to 1. */
    shares: z.record(z.string(), z.number().min(0).max(1)).optional(),
  })
  .strict()
  .refine((h) => [h.service !== undefined, h.gateway === true].filter(Boolean).length === 1, { message: 'name exactly one target: service or gateway' })
  .refine((h) => (h.samples === undefined) === (h.shares === undefined) && (h.samples === undefined) === (h.key === undefined), {
    message: 'a sampled check needs samples, key and shares together',
  })
  .refine((h) => !h.shares || Math.abs(Object.values(h.shares).reduce((a, b) => a + b, 0) - 1) < 1e-9, { message: 'shares must sum to 1' });

export const outputCheck = z
  .object({
    /** Tolerant block match (pod hashes, ages, IPs may differ; `...` and `*` wildcards). */
    like: z.string().optional(),
    contains: z.string().optional(),
    matches: z.string().optional(),
    /**
     * Only the output of this command counts (its words, e.g. "kubectl version": the `k` alias,
     * added flags and a pipe into grep/head/tail count; `echo …` or `cmd; echo …` do not).
     */
    command: z.string().trim().min(1).optional(),
    /** Said to the learner instead of the pattern when nothing matches (regexes are not for learners). */
    expected: z.string().min(1).optional(),
  })
  .strict()
  .refine((o) => [o.like, o.contains, o.matches].filter((x) => x !== undefined).length === 1, { message: 'name exactly one of like, contains, matches' });

export const commandCheck = z
  .object({
    run: z.string().min(1),
    timeoutSeconds: z.number().positive().max(120).default(20),
  })
  .strict();

export const checkKinds = ['resource', 'workload', 'http', 'output', 'command'] as const;
export type CheckKind = (typeof checkKinds)[number];

const common = {
  title: z.string().min(1),
  /** What to tell the learner when it fails, in addition to what was found. */
  hint: z.string().optional(),
};

export const checkSpec = z.union([
  z.object({ ...common, resource: resourceCheck }).strict(),
  z.object({ ...common, workload: workloadCheck }).strict(),
  z.object({ ...common, http: httpCheck }).strict(),
  z.object({ ...common, output: outputCheck }).strict(),
  z.object({ ...common, command: commandCheck }).strict(),
]);
export type CheckSpec = z.infer<typeof checkSpec>;

/** `where: message`, the way lesson problems print a check's error. */
export function describeCheckError(e: { error: string; path: (string | number)[] }): string {
  return e.path.length ? `${e.path.join('.')}: ${e.error}` : e.error;
}

/**
 * Parses one declared check with a message an author can act on: an unknown kind names the
 * known ones instead of zod's union noise.
 */
export function parseCheck(raw: unknown): { ok: true; check: CheckSpec } | { ok: false; error: string; path: (string | number)[] } {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return { ok: false, error: 'a check must be a mapping', path: [] };
  const kinds = Object.keys(raw).filter((k) => (checkKinds as readonly string[]).includes(k));
  if (kinds.length !== 1) {
    const extra = Object.keys(raw).filter((k) => k !== 'title' && k !== 'hint');
    const why = kinds.length === 0 ? `unknown check kind${extra.length ? ` ${extra.map((k) => `"${k}"`).join(', ')}` : ''}` : `one check names several kinds (${kinds.join(', ')})`;
    return { ok: false, error: `${why}; a check has exactly one of: ${checkKinds.join(', ')}`, path: [] };
  }
  const kind = kinds[0] as CheckKind;
  const schema = { resource: resourceCheck, workload: workloadCheck, http: httpCheck, output: outputCheck, command: commandCheck }[kind];
  const titled = z.object(common).safeParse(raw);
  if (!titled.success) {
    const i = titled.error.issues[0]!;
    return { ok: false, error: i.message, path: i.path as (string | number)[] };
  }
  const extraKeys = Object.keys(raw).filter((k) => k !== kind && !(k in common));
  if (extraKeys.length) return { ok: false, error: `unknown field (a check has a title, an optional hint and one of: ${checkKinds.join(', ')})`, path: [extraKeys[0]!] };
  const body = (schema as z.ZodType).safeParse((raw as Record<string, unknown>)[kind]);
  if (!body.success) {
    const i = body.error.issues[0]!;
    const at = [kind, ...(i.path as (string | number)[])];
    const message = i.code === 'unrecognized_keys' ? `unknown field ${(i as { keys?: string[] }).keys?.map((k) => `"${k}"`).join(', ')}` : i.message;
    return { ok: false, error: message, path: at };
  }
  return { ok: true, check: checkSpec.parse(raw) };
}
