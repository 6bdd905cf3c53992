/**
 * Envoy's router filter (with the fault filter in front of it) for one matched route: direct
 * responses and redirects, fault delay/abort, the weighted cluster chosen per request, rewrites
 * and header operations, mirroring, and the attempt loop with the route timeout, per-try
 * timeouts, retry_on conditions and Envoy's jittered backoff.
 */
import type { HttpRequest, HttpResponse, RequestTarget } from '../../../images/types.js';
import type { HeaderOperations, LbEndpoint, RetryPolicy, Route, RouteAction, WeightedCluster } from '../xds/types.js';
import { fullRegex } from './hcm-match.js';
import { localResponse, type LocalReply } from './local-reply.js';
import type { EnvoyProxy } from './proxy.js';
import { clusterManager, ephemeralPort, sendTo, type ClusterManager, type UpstreamWire } from './router-upstream.js';
import type { UpstreamAttempt, UpstreamResult } from './upstream-types.js';

/** What the router made of a request, for the HCM's headers, access log and metrics. */
export interface RouterOutcome {
  response: HttpResponse;
  flags: string[];
  details: string;
  fromUpstream: boolean;
  /** %UPSTREAM_CLUSTER_RAW%, when a cluster was chosen. */
  cluster?: string;
  upstreamHost?: string;
  upstreamLocalAddress?: string;
  endpoint?: LbEndpoint;
  serviceTimeMs?: number;
  /** %UPSTREAM_TRANSPORT_FAILURE_REASON%, when the cluster manager gives one. */
  transportFailureReason?: string;
  /** The request as last sent upstream (attempt count, rewritten path). */
  upstreamRequest?: HttpRequest;
}

export interface RouterEnv {
  proxy: EnvoyProxy;
  wire: UpstreamWire;
  /**
   * Clusters that are not load balanced by the cluster manager: the inbound cluster (the local
   * app) and ORIGINAL_DST (PassthroughCluster, the original destination); undefined: use CDS.
   */
  fixedTarget?(cluster: string): RequestTarget | undefined;
  /** The local address fixed-target upstream connections come from (127.0.0.6 inbound); the pod IP otherwise. */
  upstreamBindIP?: string;
  /** x-forwarded-proto / scheme for redirects. */
  scheme: string;
  /** Aborted when the downstream went away: Envoy resets the upstream and tries no more (a flag; an AbortSignal fits too). */
  signal?: { readonly aborted: boolean };
  /** Filled as the router goes (chosen cluster, fixed upstream), for the log line of a request the client abandons. */
  progress?: Partial<RouterOutcome>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The fault filter rolls a percentage (Istio's `percentage.value`, 0–100, fractions allowed). */
const roll = (random: () => number, percentage: number) => percentage >= 100 || random() * 100 < percentage;

export function applyHeaderOps(headers: Record<string, string>, ops: HeaderOperations | undefined): void {
  if (!ops) return;
  for (const name of ops.remove ?? []) delete headers[name.toLowerCase()];
  for (const [k, v] of Object.entries(ops.set ?? {})) headers[k.toLowerCase()] = v;
  // Envoy appends another value of the header; one string carries them comma-joined.
  for (const [k, v] of Object.entries(ops.add ?? {})) {
    const key = k.toLowerCase();
    headers[key] = headers[key] !== undefined ? `${headers[key]},${v}` : v;
  }
}

/** Envoy's weighted_clusters: random modulo the total weight, walked in order. */
export function pickWeighted(clusters: WeightedCluster[], random: () => number): WeightedCluster | undefined {
  if (clusters.length <= 1) return clusters[0];
  const total = clusters.reduce((s, c) => s + Math.max(0, c.weight), 0);
  if (total <= 0) return clusters[0];
  let r = Math.floor(random() * total);
  for (const c of clusters) {
    r -= Math.max(0, c.weight);
    if (r < 0) return c;
  }
  return clusters[clusters.length - 1];
}

function splitPath(path: string): [string, string] {
  const q = path.indexOf('?');
  return q < 0 ? [path, ''] : [path.slice(0, q), path.slice(q)];
}

/** The path after `rewrite.uri` / `uriRegexRewrite`, or undefined when the route does not rewrite. */
function rewrittenPath(route: Route, action: RouteAction, path: string): string | undefined {
  if (!action.regexRewrite && action.prefixRewrite === undefined) return undefined;
  const [p, query] = splitPath(path);
  if (action.regexRewrite) {
    const re = fullRegex(action.regexRewrite.pattern);
    if (!re) return undefined;
    // Envoy's regex_rewrite substitutes every match in the path (RE2 GlobalReplace), `\1` for groups.
    const global = new RegExp(re.source.slice(4, -2), 'gl');
    const sub = action.regexRewrite.substitution.replace(/\\(\d)/g, '$$$1');
    return p.replace(global, sub) + query;
  }
  if (action.prefixRewrite === undefined) return undefined;
  const m = route.match.path;
  if (m?.prefix !== undefined) return action.prefixRewrite + p.slice(m.prefix.length) + query;
  if (m?.exact !== undefined || m?.regex !== undefined) return action.prefixRewrite + query;
  // No path match is Istio's `/` prefix.
  return action.prefixRewrite + p.slice(1) + query;
}

const withShadow = (authority: string) => {
  // `-shadow` goes on the host, before any port.
  const m = /^(.*?)(:\d+)?$/.exec(authority)!;
  return `${m[1]}-shadow${m[2] ?? ''}`;
};

function redirectResponse(env: RouterEnv, route: Route, req: HttpRequest): RouterOutcome {
  const r = route.redirect!;
  const [p, query] = splitPath(req.path);
  let path = p + query;
  if (r.pathRedirect !== undefined) path = r.pathRedirect.includes('?') ? r.pathRedirect : r.pathRedirect + query;
  else if (r.prefixRewrite !== undefined) {
    const prefix = route.match.path?.prefix ?? '/';
    path = r.prefixRewrite + p.slice(prefix.length) + query;
  }
  const authority = req.headers.host ?? '';
  const m = /^(.*?)(?::(\d+))?$/.exec(authority)!;
  const scheme = r.schemeRedirect ?? env.scheme;
  const host = r.hostRedirect ?? m[1];
  let port: string | undefined = r.portRedirect !== undefined ? String(r.portRedirect) : m[2];
  if ((scheme === 'http' && port === '80') || (scheme === 'https' && port === '443') || (r.schemeRedirect && r.portRedirect === undefined)) port = undefined;
  const location = `${scheme}://${host}${port ? `:${port}` : ''}${path}`;
  const response = localResponse({ status: r.responseCode || 301, body: '', details: 'direct_response' }, env.proxy.ctx.now());
  response.headers.location = location;
  return { response, flags: [], details: 'direct_response', fromUpstream: false };
}

const local = (env: RouterEnv, reply: LocalReply, extra: Partial<RouterOutcome> = {}): RouterOutcome => ({
  response: localResponse(reply, env.proxy.ctx.now()),
  flags: reply.flags ?? [],
  details: reply.details,
  fromUpstream: false,
  ...extra,
});

/** Whether Envoy's retry state would retry this attempt's result. */
export function wouldRetry(policy: RetryPolicy, r: UpstreamResult): boolean {
  const on = new Set(policy.retryOn);
  if (r.fromUpstream) {
    const s = r.response.status;
    if (on.has('5xx') && s >= 500) return true;
    if (on.has('gateway-error') && (s === 502 || s === 503 || s === 504)) return true;
    if (on.has('retriable-4xx') && s === 409) return true;
    if (on.has('retriable-status-codes') && (policy.retriableStatusCodes ?? []).includes(s)) return true;
    return false;
  }
  switch (r.failure) {
    case 'connect-failure':
      // Nothing was sent yet: reset-before-request (Istio's inbound routes) retries it too.
      return on.has('connect-failure') || on.has('5xx') || on.has('gateway-error') || on.has('reset') || on.has('reset-before-request');
    case 'reset':
    case 'timeout':
      return on.has('5xx') || on.has('gateway-error') || on.has('reset');
    default:
      // Overflow, no healthy upstream, no cluster: Envoy answers at once without retrying.
      return false;
  }
}

/** Envoy's JitteredExponentialBackOffStrategy: 25 ms base, ×(2^n − 1), capped at 10× base, fully jittered. */
export function backoffMs(retry: number, random: () => number, baseMs = 25): number {
  const maxMs = baseMs * 10;
  const ceiling = Math.min(maxMs, ((1 << Math.min(retry, 20)) - 1) * baseMs);
  return Math.floor(random() * ceiling);
}

type Raced = { result: UpstreamResult; timedOut?: 'route' | 'try' };

/** One attempt against whichever deadline comes first. */
function race(p: Promise<UpstreamResult>, tryMs: number | undefined, routeLeftMs: number | undefined): Promise<Raced> {
  const limits: { ms: number; kind: 'route' | 'try' }[] = [];
  if (routeLeftMs !== undefined) limits.push({ ms: Math.max(0, routeLeftMs), kind: 'route' });
  if (tryMs !== undefined) limits.push({ ms: tryMs, kind: 'try' });
  if (!limits.length) return p.then((result) => ({ result }));
  const first = limits.reduce((a, b) => (b.ms < a.ms ? b : a));
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve({ result: undefined as unknown as UpstreamResult, timedOut: first.kind }), first.ms);
    p.then(
      (result) => (clearTimeout(t), resolve({ result })),
      () => (clearTimeout(t), resolve({ result: undefined as unknown as UpstreamResult, timedOut: first.kind })),
    );
  });
}

/** Not async: the cluster manager's (or sendTo's) promise is handed back as it is, one promise less per request. */
function attempt(env: RouterEnv, cluster: string, req: HttpRequest, timeoutMs: number | undefined, avoidHosts: string[]): Promise<UpstreamResult> {
  try {
    return attemptOnce(env, cluster, req, timeoutMs, avoidHosts);
  } catch (e) {
    return Promise.reject(e);
  }
}

function attemptOnce(env: RouterEnv, cluster: string, req: HttpRequest, timeoutMs: number | undefined, avoidHosts: string[]): Promise<UpstreamResult> {
  const fixed = env.fixedTarget?.(cluster);
  if (fixed && env.progress) {
    env.progress.upstreamHost = `${fixed.host}:${fixed.port}`;
    env.progress.upstreamLocalAddress = `${env.upstreamBindIP ?? env.proxy.identity.podIP}:${ephemeralPort(env.proxy.ctx.random)}`;
  }
  if (fixed) {
    const o: { timeoutMs?: number; bindIP?: string } = {};
    if (timeoutMs !== undefined) o.timeoutMs = timeoutMs;
    if (env.upstreamBindIP) o.bindIP = env.upstreamBindIP;
    return sendTo(env.proxy, env.wire, fixed, req, o);
  }
  const a: UpstreamAttempt = { cluster, req };
  if (timeoutMs !== undefined) a.timeoutMs = timeoutMs;
  if (avoidHosts.length) a.avoidHosts = avoidHosts;
  return clusterManager().attempt(env.proxy, a, env.wire);
}

function mirror(env: RouterEnv, action: RouteAction, req: HttpRequest): void {
  for (const m of action.mirrors ?? []) {
    if (!roll(env.proxy.ctx.random, m.percentage)) continue;
    const copy: HttpRequest = { ...req, headers: { ...req.headers } };
    if (copy.headers.host) copy.headers.host = withShadow(copy.headers.host);
    // Fire and forget: the shadow's answer (or failure) never reaches the caller.
    void attempt(env, m.cluster, copy, undefined, []).catch(() => undefined);
  }
}

/**
 * Runs one matched route for a request (whose headers the HCM already completed). With
 * `headersOwned` the router sends req.headers itself (the caller's copy) instead of copying them.
 */
export async function runRoute(env: RouterEnv, route: Route, req: HttpRequest, headersOwned = false): Promise<RouterOutcome> {
  const { proxy } = env;
  const random = proxy.ctx.random;
  if (route.directResponse) return local(env, { status: route.directResponse.status, body: route.directResponse.body ?? '', details: 'direct_response' });
  if (route.redirect) return redirectResponse(env, route, req);
  const action = route.route;
  if (!action) return local(env, { status: 404, body: '', details: 'route_not_found', flags: ['NR'] });

  // The fault filter runs before the router: delay first, then abort.
  const faultFlags: string[] = [];
  if (route.fault?.delay && roll(random, route.fault.delay.percentage)) {
    faultFlags.push('DI');
    if (env.progress) env.progress.flags = [...faultFlags];
    await sleep(route.fault.delay.fixedDelayMs);
    // The client hung up during the delay: the stream is gone, nothing goes upstream.
    if (env.signal?.aborted) return local(env, { status: 0, body: '', details: 'downstream_remote_disconnect', flags: [...faultFlags, 'DC'] });
  }
  const chosen = pickWeighted(action.clusters, random);
  if (route.fault?.abort && roll(random, route.fault.abort.percentage)) {
    return local(env, { status: route.fault.abort.httpStatus, body: 'fault filter abort', details: 'fault_filter_abort', flags: [...faultFlags, 'FI'] }, chosen ? { cluster: chosen.cluster } : {});
  }
  if (!chosen) return local(env, { status: 503, body: '', details: 'cluster_not_found', flags: [...faultFlags, 'NC'] });
  if (env.progress) env.progress.cluster = chosen.cluster;

  // `headersOwned`: the caller made req.headers for this request alone, so the router may add to them.
  const headers = headersOwned ? req.headers : { ...req.headers };
  applyHeaderOps(headers, chosen.requestHeaders);
  applyHeaderOps(headers, route.requestHeaders);
  let path = req.path;
  const rewritten = rewrittenPath(route, action, req.path);
  if (rewritten !== undefined && rewritten !== req.path) {
    headers['x-envoy-original-path'] = req.path;
    path = rewritten;
  }
  if (action.hostRewrite) headers.host = action.hostRewrite;
  const upstreamReq: HttpRequest = { method: req.method, path, headers, body: req.body };
  mirror(env, action, upstreamReq);

  const retry = action.retry;
  const started = proxy.ctx.now().getTime();
  const routeDeadline = action.timeoutMs > 0 ? started + action.timeoutMs : undefined;
  const avoid: string[] = [];
  // A retry holds one of the cluster's max_retries from its backoff until its answer (Envoy's retry circuit breaker).
  const cm = env.fixedTarget?.(chosen.cluster) ? undefined : clusterManager();
  let retrying = false;
  let attemptNo = 0;
  for (;;) {
    attemptNo++;
    const routeLeft = routeDeadline !== undefined ? routeDeadline - proxy.ctx.now().getTime() : undefined;
    const tryMs = retry?.perTryTimeoutMs && retry.perTryTimeoutMs > 0 ? retry.perTryTimeoutMs : undefined;
    const limit = routeLeft === undefined ? tryMs : tryMs === undefined ? routeLeft : Math.min(routeLeft, tryMs);
    // The first attempt sends the request built above (its headers are this function's own copy,
    // and mirror() took its copy already); a retry copies it again with its own count.
    const sent: HttpRequest = attemptNo === 1 ? upstreamReq : { ...upstreamReq, headers: { ...upstreamReq.headers } };
    sent.headers['x-envoy-attempt-count'] = String(attemptNo);
    // Envoy tells the upstream how long it will wait (the route's remaining time, or the per-try timeout).
    if (limit !== undefined) sent.headers['x-envoy-expected-rq-timeout-ms'] = String(Math.max(0, Math.round(limit)));
    const pending = attempt(env, chosen.cluster, sent, limit, avoid);
    const raced: Raced = limit === undefined ? { result: await pending } : await race(pending, tryMs, routeLeft);
    if (raced.timedOut === 'route') {
      if (retrying) endRetry(cm, env, chosen.cluster, false);
      retrying = false;
      return finish(env, route, chosen, local(env, { status: 504, body: 'upstream request timeout', details: 'response_timeout', flags: [...faultFlags, 'UT'] }, { cluster: chosen.cluster, upstreamRequest: sent }));
    }
    const result: UpstreamResult =
      raced.timedOut === 'try'
        ? { ...local(env, { status: 504, body: 'upstream request timeout', details: 'upstream_per_try_timeout', flags: ['UT'] }), failure: 'timeout' }
        : raced.result;
    if (result.upstreamHost) avoid.push(result.upstreamHost);
    const flags = [...faultFlags, ...result.flags];
    const retriable = !!retry && wouldRetry(retry, result);
    if (retrying) endRetry(cm, env, chosen.cluster, !retriable);
    retrying = false;
    if (retry && retriable) {
      if (attemptNo <= retry.numRetries) {
        const wait = backoffMs(attemptNo, random);
        const left = routeDeadline !== undefined ? routeDeadline - proxy.ctx.now().getTime() : undefined;
        if (left === undefined || wait < left) {
          if (cm?.acquireRetry?.(env.proxy, chosen.cluster) === false) flags.push('UO');
          else {
            retrying = true;
            await sleep(wait);
            // The client is gone: Envoy does not start another try.
            if (!env.signal?.aborted) continue;
            endRetry(cm, env, chosen.cluster, false);
            retrying = false;
          }
        }
      } else flags.push('URX');
    }
    const out: RouterOutcome = { response: result.response, flags, details: result.details, fromUpstream: result.fromUpstream, cluster: chosen.cluster };
    if (result.upstreamHost) out.upstreamHost = result.upstreamHost;
    if (result.upstreamLocalAddress) out.upstreamLocalAddress = result.upstreamLocalAddress;
    if (result.endpoint) out.endpoint = result.endpoint;
    if (result.serviceTimeMs !== undefined) out.serviceTimeMs = result.serviceTimeMs;
    const reason = transportFailure(result);
    if (reason) out.transportFailureReason = reason;
    out.upstreamRequest = sent;
    return finish(env, route, chosen, out);
  }
}

/** A granted retry is over (a function of its own: a closure per request costs tsx a defineProperty). */
function endRetry(cm: ClusterManager | undefined, env: RouterEnv, cluster: string, succeeded: boolean): void {
  cm?.releaseRetry?.(env.proxy, cluster, succeeded);
}

/** The cluster manager's transport failure reason (an additive UpstreamResult field). */
const transportFailure = (r: UpstreamResult) => (r as UpstreamResult & { transportFailureReason?: string }).transportFailureReason;

/** Response header operations, per cluster then the route's (the route's, being more general, win). */
function finish(_env: RouterEnv, route: Route, chosen: WeightedCluster, out: RouterOutcome): RouterOutcome {
  if (!chosen.responseHeaders && !route.responseHeaders) return out;
  const headers = { ...out.response.headers };
  applyHeaderOps(headers, chosen.responseHeaders);
  applyHeaderOps(headers, route.responseHeaders);
  return { ...out, response: { ...out.response, headers } };
}
