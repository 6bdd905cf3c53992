/**
 * VirtualService `http` rules to Envoy routes, as pilot's route builder writes them
 * (networking/core/route/route.go, route/retry/retry.go): matches, destinations and weights,
 * rewrite/redirect/direct response, header operations, fault, timeout, retries, mirrors, names
 * and decorators. Shared by sidecars (gateway `mesh`) and gateways (their `ns/name`).
 */
import type { FaultPolicy, HashPolicy, HeaderMatcher, HeaderOperations, RetryPolicy, Route, RouteAction, RouteMatch, StringMatch, WeightedCluster } from '../types.js';
import { resolveShortname } from './hosts.js';
import { objects, record, stringMap, strings } from './shape.js';
import type { MeshService } from './mesh.js';

type Obj = Record<string, any>;

export const MESH_GATEWAY = 'mesh';

/** Istio's default HTTP retry policy (retry.go) when a route sets none. */
/** retry.DefaultPolicy: 2 retries on connection failures and on a 503 (`RetriableStatusCodes: [503]`). */
export const DEFAULT_RETRY: RetryPolicy = { numRetries: 2, retryOn: ['connect-failure', 'refused-stream', 'unavailable', 'cancelled', 'retriable-status-codes'], retriableStatusCodes: [503] };

/** `outbound|<port>|<subset>|<host>` (model.BuildSubsetKey). */
export const subsetKey = (port: number, subset: string | undefined, hostname: string) => `outbound|${port}|${subset ?? ''}|${hostname}`;

/** Durations as the API writes them (`1.5s`, `500ms`, `7s`, `1m`, `1h`); undefined when absent or unreadable. */
export function durationMs(d: unknown): number | undefined {
  if (typeof d !== 'string') return undefined;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(d.trim());
  if (!m) return undefined;
  return Math.round(Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms']);
}

/** A VirtualService's `gateways` as pilot resolves them: `mesh` as is, `name` → `<vs ns>/name`, `ns/name` as is. */
export function resolveGatewayName(g: string, vsNamespace: string): string {
  if (g === MESH_GATEWAY) return g;
  if (g.includes('/')) {
    const [ns, name] = g.split('/', 2) as [string, string];
    return `${ns === '.' ? vsNamespace : ns}/${name}`;
  }
  // `name.ns.svc.cluster.local` style names point at `ns/name`.
  const parts = g.split('.');
  if (parts.length > 1) return `${parts[1]}/${parts[0]}`;
  return `${vsNamespace}/${g}`;
}

/** The gateways a VirtualService binds to (no `gateways`: `mesh`). */
export function vsGateways(vs: Obj): string[] {
  const gws = strings(vs.spec?.gateways);
  return gws.length ? gws.map((g) => resolveGatewayName(g, vs.metadata.namespace)) : [MESH_GATEWAY];
}

function stringMatch(v: unknown): StringMatch | undefined {
  const m = record(v);
  if (!m) return undefined;
  if (typeof m.exact === 'string') return { exact: m.exact };
  if (typeof m.prefix === 'string') return { prefix: m.prefix };
  if (typeof m.regex === 'string') return { regex: m.regex };
  return undefined;
}

/** canBeConvertedToPresentMatch: `{}` or regex `*` only test presence. */
const isPresentMatch = (v: unknown) => {
  const m = record(v);
  return !m || (typeof m.exact !== 'string' && typeof m.prefix !== 'string' && typeof m.regex !== 'string') || m.regex === '*';
};

function headerMatcher(name: string, m: unknown): HeaderMatcher {
  if (isPresentMatch(m)) return { name, present: true };
  return { name, match: stringMatch(m)! };
}

/** TranslateRouteMatch; `gatewaySemantics` for a VirtualService translated from Gateway API (whole-segment prefixes). */
export function translateMatch(m: Obj | undefined, gatewaySemantics = false): RouteMatch {
  const out: RouteMatch = {};
  if (!m) return { path: { prefix: '/' } };
  const headers: HeaderMatcher[] = [];
  for (const [name, sm] of Object.entries<unknown>(record(m.headers) ?? {})) {
    if (name.startsWith('@request.auth.claims')) continue; // JWT claim routing needs RequestAuthentication: not simulated
    headers.push(headerMatcher(name.toLowerCase(), sm));
  }
  for (const [name, sm] of Object.entries<unknown>(record(m.withoutHeaders) ?? {})) headers.push({ ...headerMatcher(name.toLowerCase(), sm), invert: true });
  headers.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  out.path = stringMatch(m.uri) ?? { prefix: '/' };
  if (gatewaySemantics && out.path.prefix !== undefined && out.path.prefix !== '/') {
    out.path = { prefix: out.path.prefix.replace(/\/$/, '') };
    out.pathSeparated = true;
  }
  if (m.ignoreUriCase) out.caseInsensitive = true;
  if (m.method) headers.push(headerMatcher(':method', m.method));
  if (m.authority) headers.push(headerMatcher(':authority', m.authority));
  if (m.scheme) headers.push(headerMatcher(':scheme', m.scheme));
  if (headers.length) out.headers = headers;
  const qp = Object.entries<unknown>(record(m.queryParams) ?? {}).map(([name, sm]) => (isPresentMatch(sm) ? { name, present: true } : { name, match: stringMatch(sm)! }));
  if (qp.length) out.queryParams = qp;
  return out;
}

/** IsCatchAllRoute: prefix `/` (or regex `.*`) without header or query conditions. */
export function isCatchAll(m: RouteMatch): boolean {
  const p = m.path;
  const all = !p || p.prefix === '/' || p.regex === '.*';
  return all && !m.headers?.length && !m.queryParams?.length;
}

/** Header operations (TranslateHeadersOperations): `:`-pseudo headers and Host are dropped; `:authority`/`host` becomes the authority rewrite. */
function headerOps(v: unknown): { request?: HeaderOperations; response?: HeaderOperations; authority?: string } {
  const h = record(v);
  if (!h) return {};
  let authority: string | undefined;
  const side = (x: Obj | undefined, takeAuthority: boolean): HeaderOperations | undefined => {
    if (!record(x)) return undefined;
    const out: HeaderOperations = {};
    const pick = (rec: unknown, isSet: boolean) => {
      const r: Record<string, string> = {};
      // Set wins over add for the authority (pilot reads set after add).
      for (const [k, v] of Object.entries<unknown>(record(rec) ?? {})) {
        const lk = k.toLowerCase();
        if (lk === ':authority' || lk === 'host') {
          if (takeAuthority && (isSet || authority === undefined)) authority = String(v);
        }
        if (lk.startsWith(':') || lk === 'host') continue;
        r[lk] = String(v);
      }
      return Object.keys(r).length ? r : undefined;
    };
    const set = pick(x!.set, true);
    const add = pick(x!.add, false);
    const remove = strings(x!.remove).map((k) => k.toLowerCase()).filter((k: string) => !k.startsWith(':') && k !== 'host');
    if (set) out.set = set;
    if (add) out.add = add;
    if (remove.length) out.remove = remove;
    return Object.keys(out).length ? out : undefined;
  };
  // `add` first so that a `set` authority takes precedence.
  const request = side(record(h.request), true);
  const response = side(record(h.response), false);
  return { ...(request ? { request } : {}), ...(response ? { response } : {}), ...(authority !== undefined ? { authority } : {}) };
}

function mergeOps(a: HeaderOperations | undefined, b: HeaderOperations | undefined): HeaderOperations | undefined {
  if (!a) return b;
  if (!b) return a;
  const out: HeaderOperations = {};
  if (a.set || b.set) out.set = { ...a.set, ...b.set };
  if (a.add || b.add) out.add = { ...a.add, ...b.add };
  if (a.remove || b.remove) out.remove = [...(a.remove ?? []), ...(b.remove ?? [])];
  return out;
}

/** FractionalPercent from `percentage.value` (a double), or the deprecated integer `percent`. */
const percentOf = (p: Obj | undefined, legacy: unknown, dflt: number): number => {
  if (p && typeof p.value === 'number') return p.value;
  if (typeof legacy === 'number') return legacy;
  return dflt;
};

function fault(v: unknown): FaultPolicy | undefined {
  const f = record(v);
  if (!f) return undefined;
  const out: FaultPolicy = {};
  if (record(f.delay)) {
    const ms = durationMs(f.delay.fixedDelay);
    // Exponential delays are not supported by Istio either ("not yet supported").
    if (ms !== undefined) out.delay = { fixedDelayMs: ms, percentage: percentOf(f.delay.percentage, f.delay.percent, 0) };
  }
  if (record(f.abort) && typeof f.abort.httpStatus === 'number') {
    // Without `percentage` no request is aborted (the API's documented default; Envoy reads an unset fraction as 0).
    out.abort = { httpStatus: f.abort.httpStatus, percentage: percentOf(f.abort.percentage, undefined, 0) };
  }
  return out.delay || out.abort ? out : undefined;
}

/** retry.ConvertPolicy: a route's `retries`, else meshConfig.defaultHttpRetryPolicy, else Istio's default. `undefined` disables retries (attempts 0). */
export function retryPolicy(v: unknown, meshDefault?: Obj): RetryPolicy | undefined {
  const r = record(v);
  if (!r && meshDefault) return retryPolicy(meshDefault);
  if (!r) return { ...DEFAULT_RETRY, retryOn: [...DEFAULT_RETRY.retryOn], retriableStatusCodes: [...DEFAULT_RETRY.retriableStatusCodes!] };
  if (!(Number(r.attempts) > 0)) return undefined;
  const out: RetryPolicy = { numRetries: Number(r.attempts), retryOn: [...DEFAULT_RETRY.retryOn], retriableStatusCodes: [...DEFAULT_RETRY.retriableStatusCodes!] };
  if (typeof r.retryOn === 'string' && r.retryOn.trim()) {
    const on: string[] = [];
    const codes: number[] = [];
    for (const part of r.retryOn.split(',').map((s: string) => s.trim()).filter(Boolean)) {
      if (/^\d+$/.test(part) && Number(part) >= 100 && Number(part) <= 599) codes.push(Number(part));
      else on.push(part);
    }
    if (codes.length && !on.includes('retriable-status-codes')) on.push('retriable-status-codes');
    // A retryOn replaces the default conditions and codes (parseRetryOn).
    out.retryOn = on;
    if (codes.length) out.retriableStatusCodes = codes;
    else delete out.retriableStatusCodes;
  }
  const per = durationMs(r.perTryTimeout);
  if (per !== undefined) out.perTryTimeoutMs = per;
  return out;
}

export interface RouteContext {
  /** The port the listener serves (sidecar: the service port; gateway: the server port). */
  listenerPort: number;
  /** The gateway names this config is for: `mesh` for sidecars, `ns/name` for a gateway's. */
  gateways: ReadonlySet<string>;
  proxyLabels: Readonly<Record<string, string>>;
  proxyNamespace: string;
  /** Services by FQDN, for the destination port of a single-port service. */
  lookup(hostname: string): MeshService | undefined;
  isTls?: boolean;
  /** meshConfig.defaultHttpRetryPolicy, for routes without `retries`. */
  defaultRetry?: Obj;
  /** The consistent-hash key of a destination cluster's DestinationRule (`outbound|port|subset|host`). */
  hashFor?(cluster: string): HashPolicy | undefined;
}

/** GetDestinationCluster: the destination's port, else the only port of the service, else the listener's. */
export function destinationCluster(v: unknown, vsNamespace: string, ctx: RouteContext): string {
  const dest = record(v);
  if (!dest || typeof dest.host !== 'string' || !dest.host) return 'UnknownService';
  const h = resolveShortname(dest.host, vsNamespace);
  const svc = ctx.lookup(h);
  let port = ctx.listenerPort;
  const n = Number(record(dest.port)?.number);
  if (Number.isInteger(n) && n > 0) port = n;
  else if (svc && svc.ports.length === 1) port = svc.ports[0]!.port;
  return subsetKey(port, typeof dest.subset === 'string' ? dest.subset : undefined, h);
}

/** sourceMatchHTTP: a match applies to this proxy by its `gateways`, else by sourceLabels and sourceNamespace. */
function sourceMatches(m: Obj | undefined, vsNamespace: string, ctx: RouteContext): boolean {
  if (!m) return true;
  const gws = strings(m.gateways);
  if (gws.length) return gws.some((g) => ctx.gateways.has(resolveGatewayName(g, vsNamespace)));
  const want = stringMap(m.sourceLabels);
  if (!Object.entries(want).every(([k, v]) => ctx.proxyLabels[k] === v)) return false;
  return !m.sourceNamespace || m.sourceNamespace === ctx.proxyNamespace;
}

/** GetRouteOperation: `<host>:<port><path>` for a single cluster, else `<vs name>:<listener port><path>`. */
function operation(r: Route, vsName: string, port: number): string {
  const p = r.match.path;
  const path = !p ? '/*' : p.prefix !== undefined ? `${p.prefix}*` : p.exact !== undefined ? p.exact : p.regex!;
  const clusters = r.route?.clusters;
  if (clusters?.length === 1 && clusters[0]!.weight === -1 && clusters[0]!.cluster.split('|').length === 4) {
    const [, cp, , h] = clusters[0]!.cluster.split('|');
    return `${h}:${cp}${path}`;
  }
  return `${vsName}:${port}${path}`;
}

function translateRoute(vs: Obj, http: Obj, m: Obj | undefined, ctx: RouteContext): Route | undefined {
  const ns: string = vs.metadata.namespace;
  if (m?.port && Number(m.port) !== ctx.listenerPort) return undefined;
  if (!sourceMatches(m, ns, ctx)) return undefined;
  let name: string | undefined = typeof http.name === 'string' && http.name ? http.name : undefined;
  if (typeof m?.name === 'string' && m.name) name = `${name ?? ''}.${m.name}`;
  const out: Route = { ...(name !== undefined ? { name } : {}), match: translateMatch(m, vs.metadata.annotations?.['internal.istio.io/route-semantics'] === 'gateway'), virtualService: { name: vs.metadata.name, namespace: ns } };
  const ops = headerOps(http.headers);
  if (ops.request) out.requestHeaders = ops.request;
  if (ops.response) out.responseHeaders = ops.response;
  let authority = ops.authority;
  if (record(http.redirect)) {
    const r = http.redirect as Obj;
    const code = r.redirectCode === undefined || r.redirectCode === 0 ? 301 : Number(r.redirectCode);
    if (![301, 302, 303, 307, 308].includes(code)) return undefined; // pilot drops the action; Envoy rejects such a route
    const str = (x: unknown) => (typeof x === 'string' && x ? x : undefined);
    out.redirect = { responseCode: code, ...(str(r.uri) ? { pathRedirect: str(r.uri) } : {}), ...(str(r.authority) ? { hostRedirect: str(r.authority) } : {}), ...(str(r.scheme) ? { schemeRedirect: str(r.scheme) } : {}) };
    let port: number | undefined;
    if (Number.isInteger(r.port) && r.port > 0) port = Number(r.port);
    else if (r.derivePort === 'FROM_REQUEST_PORT') port = ctx.listenerPort;
    if (port !== undefined) {
      const scheme = str(r.scheme) ?? (ctx.isTls ? 'https' : 'http');
      if (!((port === 80 && scheme === 'http') || (port === 443 && scheme === 'https'))) out.redirect.portRedirect = port;
    }
  } else if (record(http.directResponse)) {
    const d = http.directResponse as Obj;
    const b = record(d.body);
    const body = typeof b?.string === 'string' ? b.string : typeof b?.bytes === 'string' ? Buffer.from(b.bytes, 'base64').toString('utf8') : undefined;
    const status = Number(d.status);
    if (!Number.isInteger(status) || status < 200 || status > 599) return undefined; // validation's range; Envoy refuses others
    out.directResponse = { status, ...(body !== undefined ? { body } : {}) };
  } else {
    const action: RouteAction = { clusters: [], timeoutMs: durationMs(http.timeout) ?? 0 };
    const rw = record(http.rewrite);
    if (rw) {
      if (record(rw.uriRegexRewrite)) action.regexRewrite = { pattern: String(rw.uriRegexRewrite.match ?? ''), substitution: String(rw.uriRegexRewrite.rewrite ?? '') };
      else if (typeof rw.uri === 'string' && rw.uri) action.prefixRewrite = rw.uri;
      if (typeof rw.authority === 'string' && rw.authority) authority = rw.authority;
    }
    if (authority) action.hostRewrite = authority;
    const mirrors: { cluster: string; percentage: number }[] = [];
    if (record(http.mirror)) {
      const pct = record(http.mirrorPercentage) ? Number(http.mirrorPercentage.value ?? 0) : http.mirrorPercent !== undefined ? Number(http.mirrorPercent) : 100;
      if (pct > 0) mirrors.push({ cluster: destinationCluster(http.mirror, ns, ctx), percentage: pct });
    }
    for (const mp of objects(http.mirrors)) {
      const pct = record(mp.percentage) ? Number(mp.percentage.value ?? 0) : 100;
      if (pct > 0 && record(mp.destination)) mirrors.push({ cluster: destinationCluster(mp.destination, ns, ctx), percentage: pct });
    }
    if (mirrors.length) action.mirrors = mirrors;
    const dests = objects(http.route);
    if (dests.length === 1) {
      // A single destination: its header operations join the route's; weight -1 marks "one cluster" until the decorator is written.
      const d = dests[0]!;
      action.clusters = [{ cluster: destinationCluster(d.destination, ns, ctx), weight: -1 }];
      const dOps = headerOps(d.headers);
      out.requestHeaders = mergeOps(out.requestHeaders, dOps.request);
      out.responseHeaders = mergeOps(out.responseHeaders, dOps.response);
      if (!out.requestHeaders) delete out.requestHeaders;
      if (!out.responseHeaders) delete out.responseHeaders;
      if (dOps.authority && !action.hostRewrite) action.hostRewrite = dOps.authority;
    } else {
      for (const d of dests) {
        const weight = Number(d.weight);
        if (!(weight > 0)) continue; // pilot drops zero-weight destinations when there are several
        const dOps = headerOps(d.headers);
        const wc: WeightedCluster = { cluster: destinationCluster(d.destination, ns, ctx), weight };
        if (dOps.request) wc.requestHeaders = dOps.request;
        if (dOps.response) wc.responseHeaders = dOps.response;
        action.clusters.push(wc);
      }
    }
    // Hash policies of the destinations, in order (pilot appends one per destination that has one).
    const hashes = action.clusters.flatMap((c) => ctx.hashFor?.(c.cluster) ?? []);
    if (hashes.length) action.hashPolicy = hashes;
    const retry = retryPolicy(http.retries, ctx.defaultRetry);
    if (retry) action.retry = retry;
    out.route = action;
  }
  const f = fault(http.fault);
  if (f) out.fault = f;
  out.decorator = operation(out, vs.metadata.name, ctx.listenerPort);
  if (out.route?.clusters.length === 1 && out.route.clusters[0]!.weight === -1) out.route.clusters[0]!.weight = 100;
  return out;
}

/** BuildHTTPRoutesForVirtualService: rules in order; a catch-all match ends the list. Empty: the VS does not apply. */
export function buildVirtualServiceRoutes(vs: Obj, ctx: RouteContext): Route[] {
  const out: Route[] = [];
  for (const http of objects(vs.spec?.http)) {
    let catchall = false;
    const matches = objects(http.match);
    if (!matches.length) {
      const r = translateRoute(vs, http, undefined, ctx);
      if (r) out.push(r);
      catchall = true;
    } else {
      for (const m of matches) {
        const r = translateRoute(vs, http, m, ctx);
        if (r) {
          out.push(r);
          if (isCatchAll(r.match)) {
            catchall = true;
            break;
          }
        }
      }
    }
    if (catchall) break;
  }
  return out;
}

/** BuildDefaultHTTPOutboundRoute: route `default` to the service port's cluster, with the default retry policy and no timeout. */
export function defaultRoute(hostname: string, port: number, meshDefaultRetry?: Obj): Route {
  const retry = retryPolicy(undefined, meshDefaultRetry);
  return {
    name: 'default',
    match: { path: { prefix: '/' } },
    route: { clusters: [{ cluster: subsetKey(port, undefined, hostname), weight: 100 }], timeoutMs: 0, ...(retry ? { retry } : {}) },
    decorator: `${hostname}:${port}/*`,
  };
}
