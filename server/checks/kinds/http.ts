/**
 * Requests into the cluster, the way a learner's browser or curl would make them, but sent
 * through the Kubernetes API's service proxy so they work on every backend without the server
 * needing a route to the cluster network (NodePort targets go to a node's address directly).
 */
import http from 'node:http';
import type { V1Node, V1Service } from '@kubernetes/client-node';
import type { Kubeconfig } from '../../cluster/kubeconfig.js';
import { ApiUnreachableError, kubeObjectsFor } from '../kube-objects.js';
import type { z } from 'zod';
import type { httpCheck } from '../schema.js';
import { judgeShares, shareCeilings } from '../statistics.js';
import { apiMessage, classify } from './errors.js';
import { ClusterUnreachableError, checkNamespace, type CheckContext, type CheckOutcome } from './types.js';

type HttpCheck = z.infer<typeof httpCheck>;

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

const MAX_BODY = 4 * 1024 * 1024;
const REQUEST_TIMEOUT_MS = 10_000;

/** A request straight to an address (a NodePort), as a learner's browser would make it. */
function send(url: URL, options: http.RequestOptions, body?: string): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { ...options, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= MAX_BODY) chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url.host} within ${REQUEST_TIMEOUT_MS / 1000} s`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** A request to a path of the Kubernetes API, authenticated as the kubeconfig says, on its pooled connections. */
export async function apiRequest(kc: Kubeconfig, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<HttpAnswer> {
  try {
    return await kubeObjectsFor(kc).request(path, { ...init, maxBody: MAX_BODY });
  } catch (err) {
    if (err instanceof ApiUnreachableError) throw new ClusterUnreachableError(`the Kubernetes API at ${err.url.origin} did not answer: ${err.reason.message}`);
    throw err;
  }
}

interface Target {
  describe: string;
  request(path: string, init: { method: string; headers: Record<string, string>; body?: string }): Promise<HttpAnswer>;
}

async function resolveTarget(spec: HttpCheck, ctx: CheckContext): Promise<Target | { problem: string }> {
  if (spec.gateway) {
    const proxy = '/api/v1/namespaces/istio-system/services/istio-ingressgateway:http2/proxy';
    return { describe: 'the ingress gateway', request: (path, init) => apiRequest(ctx.kc, `${proxy}${path}`, init) };
  }
  const namespace = checkNamespace(ctx, spec.namespace);
  const service = spec.service!;
  if (spec.nodePort) {
    let svc: V1Service;
    let nodes: V1Node[];
    try {
      svc = await ctx.objects.read<V1Service>('v1', 'Service', service, namespace);
      nodes = (await ctx.objects.list<V1Node>('v1', 'Node')).items;
    } catch (err) {
      if (classify(err) === 404) return { problem: `no Service "${service}" in namespace "${namespace}"` };
      return { problem: apiMessage(err) };
    }
    const port = svc.spec?.ports?.find((p) => spec.port === undefined || p.port === spec.port || p.name === spec.port);
    if (!port?.nodePort) return { problem: `Service "${service}" has no NodePort (its type is ${svc.spec?.type ?? 'ClusterIP'})` };
    const address = nodes.flatMap((n) => n.status?.addresses ?? []).find((a) => a.type === 'InternalIP')?.address;
    if (!address) return { problem: 'no node has an InternalIP' };
    const base = `http://${address}:${port.nodePort}`;
    return {
      describe: `NodePort ${address}:${port.nodePort}`,
      request: (path, init) =>
        send(new URL(path, base), { method: init.method, headers: init.headers }, init.body).catch((err: Error) => {
          throw new TargetUnreachable(err.message);
        }),
    };
  }
  const port = spec.port !== undefined ? `:${spec.port}` : '';
  const proxy = `/api/v1/namespaces/${encodeURIComponent(namespace)}/services/${encodeURIComponent(service)}${port}/proxy`;
  return { describe: `Service "${service}"${port}`, request: (path, init) => apiRequest(ctx.kc, `${proxy}${path}`, init) };
}

/** Signs in to Bookinfo's productpage and returns the session cookie it sets. */
async function signIn(target: Target, user: string): Promise<string | { problem: string }> {
  const answer = await target.request('/login', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `username=${encodeURIComponent(user)}&passwd=password`,
  });
  const cookies = ([] as string[]).concat(answer.headers['set-cookie'] ?? []);
  const session = cookies.map((c) => c.split(';')[0]).filter(Boolean).join('; ');
  if (!session) return { problem: `signing in as ${user} through ${target.describe} gave no session cookie (HTTP ${answer.status})` };
  return session;
}

/**
 * What an answer's body says, in words a learner can read: a Kubernetes Status' message, an
 * HTML page's title, or its first words cut at a word, never raw JSON cut mid-string.
 */
export function bodyInWords(body: string): string {
  const text = body.trim();
  if (text.startsWith('{')) {
    try {
      const parsed = JSON.parse(text) as { kind?: unknown; message?: unknown };
      return typeof parsed.message === 'string' ? parsed.message : '';
    } catch {
      return '';
    }
  }
  const title = /<title>([^<]*)<\/title>/i.exec(text)?.[1]?.trim();
  if (title) return `a page titled “${title}”`;
  const plain = text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
  if (plain.length <= 120) return plain;
  return `${plain.slice(0, 120).replace(/\s+\S*$/, '')}…`;
}

function judgeOne(spec: HttpCheck, answer: HttpAnswer, where: string): CheckOutcome {
  const expect = spec.expect ?? {};
  const status = expect.status ?? 200;
  if (answer.status !== status) {
    const said = bodyInWords(answer.body);
    return { passed: false, found: `${where} answered HTTP ${answer.status} instead of ${status}${said ? `: ${said}` : ''}` };
  }
  if (expect.bodyContains !== undefined && !answer.body.includes(expect.bodyContains)) {
    return { passed: false, found: `${where} answered HTTP ${answer.status} but the body does not contain ${JSON.stringify(expect.bodyContains)}` };
  }
  if (expect.bodyMatches !== undefined && !new RegExp(expect.bodyMatches).test(answer.body)) {
    return { passed: false, found: `${where} answered HTTP ${answer.status} but the page does not show what this check looks for` };
  }
  return { passed: true, found: `${where} answered HTTP ${answer.status} as expected` };
}

export async function evaluateHttp(spec: HttpCheck, ctx: CheckContext): Promise<CheckOutcome> {
  const target = await resolveTarget(spec, ctx);
  if ('problem' in target) return { passed: false, found: target.problem };
  const headers: Record<string, string> = { ...(spec.headers ?? {}) };
  try {
    if (spec.signedInAs) {
      const session = await signIn(target, spec.signedInAs);
      if (typeof session !== 'string') return { passed: false, found: session.problem };
      headers.cookie = headers.cookie ? `${headers.cookie}; ${session}` : session;
    }
    const where = `${target.describe}${spec.path}`;
    if (!spec.samples) return judgeOne(spec, await target.request(spec.path, { method: spec.method, headers }), where);

    const key = new RegExp(spec.key!.regex);
    const counts: Record<string, number> = {};
    const expected = Object.entries(spec.shares!).map(([k, v]) => `${k} ${Math.round(v * 100)}%`).join(', ');
    const split = (n: number) => Object.entries(counts).map(([k, c]) => `${k} ${Math.round((c / n) * 100)}%`).join(', ');
    // Sampling stops as soon as the verdict cannot be a pass: a failed request, or a key past
    // what the expected share allows out of all the samples (a slow wrong state stays cheap).
    const ceiling = shareCeilings(spec.samples, spec.shares!);
    for (let i = 1; i <= spec.samples; i++) {
      if (ctx.signal?.aborted) throw new Error('check cancelled');
      const answer = await target.request(spec.path, { method: spec.method, headers });
      const one = judgeOne(spec, answer, where);
      if (!one.passed) return { passed: false, found: `request ${i} of ${spec.samples} failed: ${one.found}` };
      const m = key.exec(answer.body);
      const k = m ? (m[1] ?? m[0]) : spec.key!.otherwise;
      counts[k] = (counts[k] ?? 0) + 1;
      if (counts[k]! > ceiling(k) && i < spec.samples) {
        return { passed: false, found: `${i} of ${spec.samples} requests to ${where} already rule out the expected split: ${split(i)}; expected ${expected}` };
      }
    }
    const verdict = judgeShares(counts, spec.shares!);
    const observed = verdict.verdicts.map((v) => `${v.key} ${Math.round(v.observed * 100)}%`).join(', ');
    return verdict.ok
      ? { passed: true, found: `${spec.samples} requests to ${where}: ${observed} (expected ${expected})` }
      : { passed: false, found: `${spec.samples} requests to ${where} split ${observed}; expected ${expected}` };
  } catch (err) {
    if (err instanceof TargetUnreachable) return { passed: false, found: `${target.describe} did not answer: ${err.message}` };
    throw err;
  }
}

/** The target itself (not the Kubernetes API) refused or timed out: a failed check, not a dead cluster. */
class TargetUnreachable extends Error {}
