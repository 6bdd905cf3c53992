/**
 * Envoy's route table lookup: the virtual host by `:authority` (exact domains, then `*.suffix`,
 * then `prefix.*` wildcards, longest first, then `*`), then the first route of it whose match
 * matches (path exact/prefix/regex on the path without the query, header and query matchers).
 */
import * as v8 from 'node:v8';
import type { HttpRequest } from '../../../images/types.js';
import type { HeaderMatcher, Route, RouteConfiguration, RouteMatch, StringMatch, VirtualHost } from '../xds/types.js';

// Regexes come from learners' VirtualServices: Envoy runs RE2 (linear time); V8's linear engine
// (the `l` flag) gives the same guarantee, so a hostile pattern cannot hold the event loop.
v8.setFlagsFromString('--enable-experimental-regexp-engine');

const regexCache = new Map<string, RegExp | null>();
/** RE2 patterns match the whole value in Envoy's safe_regex. */
export function fullRegex(pattern: string, ignoreCase = false): RegExp | null {
  const key = (ignoreCase ? 'i:' : ':') + pattern;
  let re = regexCache.get(key);
  if (re === undefined) {
    try {
      re = new RegExp(`^(?:${pattern})$`, ignoreCase ? 'li' : 'l');
    } catch {
      // A pattern V8's linear engine refuses (backreferences, lookaround) is one RE2 refuses too.
      re = null;
    }
    if (regexCache.size > 2000) regexCache.clear();
    regexCache.set(key, re);
  }
  return re;
}

interface DomainIndex {
  exact: Map<string, VirtualHost>;
  /** `*.foo.com` / `*-bar.foo.com`: the part after `*`, longest first. */
  suffix: { s: string; vh: VirtualHost }[];
  /** `foo.*`: the part before `*`, longest first. */
  prefix: { s: string; vh: VirtualHost }[];
  any?: VirtualHost;
  /** selectVirtualHost's answers so far. */
  byAuthority: Map<string, VirtualHost | undefined>;
}

const indexes = new WeakMap<RouteConfiguration, DomainIndex>();

function indexOf(rc: RouteConfiguration): DomainIndex {
  let idx = indexes.get(rc);
  if (idx) return idx;
  idx = { exact: new Map(), suffix: [], prefix: [], byAuthority: new Map() };
  for (const vh of rc.virtualHosts) {
    for (const raw of vh.domains) {
      const d = raw.toLowerCase();
      if (d === '*') idx.any ??= vh;
      else if (d.startsWith('*')) idx.suffix.push({ s: d.slice(1), vh });
      else if (d.endsWith('*')) idx.prefix.push({ s: d.slice(0, -1), vh });
      else if (!idx.exact.has(d)) idx.exact.set(d, vh);
    }
  }
  // Longest wildcard first; a stable sort keeps config order among equals.
  idx.suffix.sort((a, b) => b.s.length - a.s.length);
  idx.prefix.sort((a, b) => b.s.length - a.s.length);
  indexes.set(rc, idx);
  return idx;
}

/** The virtual host serving this `:authority`, in Envoy's search order; undefined: no route (NR). */
export function selectVirtualHost(rc: RouteConfiguration, authority: string): VirtualHost | undefined {
  const idx = indexOf(rc);
  // The answer per authority, kept with the pushed route table (bounded: authorities come from clients).
  const known = idx.byAuthority.get(authority);
  if (known !== undefined || idx.byAuthority.has(authority)) return known;
  const vh = searchVirtualHost(rc, idx, authority);
  if (idx.byAuthority.size > 1000) idx.byAuthority.clear();
  idx.byAuthority.set(authority, vh);
  return vh;
}

function searchVirtualHost(rc: RouteConfiguration, idx: DomainIndex, authority: string): VirtualHost | undefined {
  let host = authority.toLowerCase();
  // ignore_port_in_host_matching: `reviews:9080` looks for `reviews` (an IPv6 literal keeps its brackets).
  if (rc.ignorePortInHostMatching) host = host.replace(/^(\[[^\]]*\]|[^:]*):\d+$/, '$1');
  const exact = idx.exact.get(host);
  if (exact) return exact;
  // A wildcard never matches the empty string (`*.foo.com` does not match `.foo.com`).
  for (const { s, vh } of idx.suffix) if (host.length > s.length && host.endsWith(s)) return vh;
  for (const { s, vh } of idx.prefix) if (host.length > s.length && host.startsWith(s)) return vh;
  return idx.any;
}

function matchString(m: StringMatch, value: string, ignoreCase = false): boolean {
  if (m.exact !== undefined) return ignoreCase ? value.toLowerCase() === m.exact.toLowerCase() : value === m.exact;
  if (m.prefix !== undefined) return ignoreCase ? value.toLowerCase().startsWith(m.prefix.toLowerCase()) : value.startsWith(m.prefix);
  if (m.regex !== undefined) return fullRegex(m.regex)?.test(value) ?? false;
  return true;
}

/** A request header as Envoy's matchers see it, pseudo-headers included. */
export function headerValue(req: HttpRequest, name: string): string | undefined {
  switch (name) {
    case ':method':
      return req.method;
    case ':authority':
      return req.headers.host;
    case ':path':
      return req.path;
    case ':scheme':
      return req.headers['x-forwarded-proto'] ?? 'http';
    default:
      return req.headers[name];
  }
}

/** Envoy's HeaderUtility::matchHeaders for one matcher. */
function matchHeader(h: HeaderMatcher, req: HttpRequest): boolean {
  const value = headerValue(req, h.name);
  const isPresent = !h.match && h.present !== undefined;
  if (value === undefined) {
    // A missing header matches only a presence matcher asking for absence (or, inverted, for presence).
    if (!isPresent) return false;
    return h.invert ? h.present === true : h.present === false;
  }
  const matched = isPresent ? h.present === true : h.match ? matchString(h.match, value) : true;
  return h.invert ? !matched : matched;
}

function pathMatches(m: RouteMatch, path: string): boolean {
  const p = m.path;
  if (!p) return true;
  if (p.regex !== undefined) return fullRegex(p.regex, m.caseInsensitive)?.test(path) ?? false;
  if (m.pathSeparated && p.prefix !== undefined) return matchString(p, path, m.caseInsensitive) && (path.length === p.prefix.length || path[p.prefix.length] === '/');
  return matchString(p, path, m.caseInsensitive);
}

function queryMatches(m: RouteMatch, query: URLSearchParams | undefined): boolean {
  for (const q of m.queryParams ?? []) {
    const value = query?.get(q.name) ?? null;
    if (q.present !== undefined && !q.match) {
      if ((value !== null) !== q.present) return false;
      continue;
    }
    if (value === null) return false;
    if (q.match && !matchString(q.match, value)) return false;
  }
  return true;
}

export function routeMatches(m: RouteMatch, req: HttpRequest): boolean {
  const q = req.path.indexOf('?');
  const path = q < 0 ? req.path : req.path.slice(0, q);
  if (!pathMatches(m, path)) return false;
  for (const h of m.headers ?? []) if (!matchHeader(h, req)) return false;
  if (m.queryParams?.length && !queryMatches(m, q < 0 ? undefined : new URLSearchParams(req.path.slice(q + 1)))) return false;
  return true;
}

/** The first route of the virtual host whose match matches. */
export function selectRoute(vh: VirtualHost, req: HttpRequest): Route | undefined {
  for (const r of vh.routes) if (routeMatches(r.match, req)) return r;
  return undefined;
}
