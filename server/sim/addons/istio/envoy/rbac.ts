/**
 * Envoy's RBAC filter as Istio configures it from AuthorizationPolicies: the filters run in
 * order (CUSTOM, AUDIT, DENY, ALLOW, as pilot's authz builder emits them); a DENY filter with a
 * matching policy denies, an ALLOW filter without one denies (`[none]`). A policy is one
 * AuthorizationPolicy rule, matched with the generators' semantics of
 * `pilot/pkg/security/authz/model/generator.go`: identities (principals, namespaces, service
 * accounts) are read from the peer's mTLS certificate, so a plain-text caller never has one.
 */
import { BlockList, isIP } from 'node:net';
import type { RbacFilter, RbacRule } from '../xds/types.js';

/** What the RBAC filter sees of one request (or, on a TCP chain, of one connection). */
export interface RbacRequest {
  method: string;
  /** Path with the query string (it is stripped for path matching, as Envoy's url_path does). */
  path: string;
  /** Lower-case names. */
  headers: Readonly<Record<string, string>>;
  /** The connection's destination port (the container port). */
  port: number;
  /** The downstream's direct address. */
  sourceIp: string;
  /** The local address the connection arrived on (the pod IP). */
  destinationIp?: string;
  /** The peer certificate's URI SAN (`spiffe://cluster.local/ns/<ns>/sa/<sa>`); undefined for plain text. */
  principal?: string;
  /** The TLS SNI the client asked for (mTLS only). */
  sni?: string;
  /** false on a TCP chain: HTTP attributes are not known there (the compiler already removed rules needing them). */
  http: boolean;
}

export interface RbacVerdict {
  allowed: boolean;
  /** The denying filter's matched policy name, or undefined when an ALLOW filter matched nothing (`[none]`). */
  policy?: string;
  /** AUDIT filters' matched policies (Envoy only logs them). */
  audited?: string[];
}

export function evaluateRbac(filters: readonly RbacFilter[], request: RbacRequest): RbacVerdict {
  const audited: string[] = [];
  const req = prepare(request);
  for (const f of filters) {
    const matched = firstMatch(f, req);
    switch (f.action) {
      case 'AUDIT':
        if (matched) audited.push(matched);
        break;
      case 'ALLOW':
        if (!matched) return { allowed: false, audited };
        break;
      // istiod compiles a CUSTOM policy whose provider it cannot use to a DENY; a CUSTOM filter denies what it matches too.
      case 'DENY':
      case 'CUSTOM':
        if (matched) return { allowed: false, policy: matched, audited };
        break;
    }
  }
  return { allowed: true, audited };
}

/** Envoy keeps a filter's policies in a map ordered by name and reports the first that matches. */
function firstMatch(f: RbacFilter, req: Prepared): string | undefined {
  let first: string | undefined;
  for (const p of f.policies) if ((first === undefined || p.name < first) && compiled(p.rule)(req)) first = p.name;
  return first;
}

export function ruleMatches(rule: RbacRule, req: RbacRequest): boolean {
  return compiled(rule)(prepare(req));
}

// ---- compiled matchers: a rule is turned into a predicate once (policies are few, requests many) ----

/** What matchers read of a request, computed once per request. */
interface Prepared {
  req: RbacRequest;
  /** url_path: the path without query or fragment. */
  path: string;
  host: string | undefined;
  sourceV4: number | undefined;
  remote: string;
  remoteV4: number | undefined;
}

function prepare(req: RbacRequest): Prepared {
  const q = req.path.search(/[?#]/);
  const remote = remoteIp(req);
  return { req, path: q >= 0 ? req.path.slice(0, q) : req.path, host: req.headers.host ?? req.headers[':authority'], sourceV4: ipv4(req.sourceIp), remote, remoteV4: remote === req.sourceIp ? ipv4(req.sourceIp) : ipv4(remote) };
}

type Pred = (r: Prepared) => boolean;
const ALWAYS: Pred = () => true;
const NEVER: Pred = () => false;

const cache = new WeakMap<RbacRule, Pred>();
function compiled(rule: RbacRule): Pred {
  let pred = cache.get(rule);
  if (!pred) cache.set(rule, (pred = compileRule(rule)));
  return pred;
}

const all = (preds: Pred[]): Pred => (preds.length === 0 ? ALWAYS : preds.length === 1 ? preds[0]! : (r) => preds.every((p) => p(r)));
const any = (preds: Pred[]): Pred => (preds.length === 1 ? preds[0]! : (r) => preds.some((p) => p(r)));

/** A field with `values` needs one to match; with `notValues` needs none to. Absent: no constraint. */
function field(values: readonly string[] | undefined, notValues: readonly string[] | undefined, one: (v: string) => Pred): Pred[] {
  const out: Pred[] = [];
  if (values?.length) out.push(any(values.map(one)));
  if (notValues?.length) {
    const not = any(notValues.map(one));
    out.push((r) => !not(r));
  }
  return out;
}

function compileRule(rule: RbacRule): Pred {
  if (rule.never) return NEVER;
  const parts: Pred[] = [];
  if (rule.from?.length) parts.push(any(rule.from.map((s) => all(sourcePreds(s)))));
  if (rule.to?.length) parts.push(any(rule.to.map((o) => all(operationPreds(o)))));
  for (const c of rule.when ?? []) parts.push(...field(c.values, c.notValues, conditionMatcher(c.key)));
  return all(parts);
}

type Source = NonNullable<RbacRule['from']>[number];
type Operation = NonNullable<RbacRule['to']>[number];

function sourcePreds(s: Source): Pred[] {
  return [
    ...field(s.principals, s.notPrincipals, principalMatcher),
    ...field(s.namespaces, s.notNamespaces, namespaceMatcher),
    ...field(s.serviceAccounts, s.notServiceAccounts, serviceAccountMatcher),
    ...field(s.ipBlocks, s.notIpBlocks, (v) => ipMatcher(v, 'source')),
    ...field(s.remoteIpBlocks, s.notRemoteIpBlocks, (v) => ipMatcher(v, 'remote')),
    // No RequestAuthentication is simulated, so no request carries a verified JWT: a requestPrincipal never matches.
    ...field(s.requestPrincipals, s.notRequestPrincipals, () => NEVER),
  ];
}

function operationPreds(o: Operation): Pred[] {
  return [
    ...field(o.hosts, o.notHosts, (v) => headerMatcher(v, (r) => r.host, true)),
    ...field(o.methods, o.notMethods, (v) => headerMatcher(v, (r) => r.req.method, false)),
    ...field(o.paths, o.notPaths, pathMatcher),
    ...field(o.ports, o.notPorts, (v) => portMatcher(v)),
  ];
}

function portMatcher(v: string): Pred {
  const port = Number(v);
  return (r) => r.req.port === port;
}

function conditionMatcher(key: string): (v: string) => Pred {
  const header = /^request\.headers\[(.+)\]$/.exec(key);
  if (header) {
    const name = header[1]!.toLowerCase();
    return (v) => headerMatcher(v, (r) => r.req.headers[name], false);
  }
  switch (key) {
    case 'source.ip':
      return (v) => ipMatcher(v, 'source');
    case 'remote.ip':
      return (v) => ipMatcher(v, 'remote');
    case 'source.namespace':
      return namespaceMatcher;
    case 'source.principal':
      return principalMatcher;
    case 'source.serviceAccount':
      return serviceAccountMatcher;
    case 'destination.ip':
      return (v) => ipMatcher(v, 'destination');
    case 'destination.port':
      return portMatcher;
    case 'connection.sni':
      return (v) => {
        const m = stringMatcher(v, false);
        return (r) => r.req.sni !== undefined && m(r.req.sni);
      };
    default:
      // request.auth.* (no JWT is ever verified here) and keys the compiler did not keep: nothing to match.
      return () => NEVER;
  }
}

/** Istio's StringMatcher for a value with one leading or trailing `*` (`*` alone: any non-empty value). */
function stringMatcher(pattern: string, ignoreCase: boolean): (v: string) => boolean {
  const p = ignoreCase ? pattern.toLowerCase() : pattern;
  const norm = ignoreCase ? (v: string) => v.toLowerCase() : (v: string) => v;
  if (p === '*') return (v) => v.length > 0;
  if (p.startsWith('*')) {
    const suffix = p.slice(1);
    return (v) => norm(v).endsWith(suffix);
  }
  if (p.endsWith('*')) {
    const prefix = p.slice(0, -1);
    return (v) => norm(v).startsWith(prefix);
  }
  return (v) => norm(v) === p;
}

/** Header matchers: `*` is presence (an empty value counts), otherwise as StringMatcher. */
function headerMatcher(pattern: string, get: (r: Prepared) => string | undefined, ignoreCase: boolean): Pred {
  if (pattern === '*') return (r) => get(r) !== undefined;
  const m = stringMatcher(pattern, ignoreCase);
  return (r) => {
    const v = get(r);
    return v !== undefined && m(v);
  };
}

const quote = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `paths` match url_path; `{*}` (one segment) and `{**}` (any) are Istio's path templates. */
function pathMatcher(pattern: string): Pred {
  if (pattern.includes('{*}') || pattern.includes('{**}')) {
    const re = new RegExp(`^${pattern.split(/(\{\*\*\}|\{\*\})/).map((part) => (part === '{**}' ? '.*' : part === '{*}' ? '[^/]+' : quote(part))).join('')}$`);
    return (r) => re.test(r.path);
  }
  const m = stringMatcher(pattern, false);
  return (r) => m(r.path);
}

/** `principals` are trust-domain/ns/<ns>/sa/<sa>, matched against the peer's URI SAN after `spiffe://`. */
function principalMatcher(pattern: string): Pred {
  if (pattern === '*') return (r) => !!r.req.principal;
  if (pattern.startsWith('*')) {
    const suffix = pattern.slice(1);
    return (r) => !!r.req.principal?.startsWith('spiffe://') && r.req.principal.endsWith(suffix);
  }
  if (pattern.endsWith('*')) {
    const prefix = `spiffe://${pattern.slice(0, -1)}`;
    return (r) => !!r.req.principal?.startsWith(prefix);
  }
  const exact = `spiffe://${pattern}`;
  return (r) => r.req.principal === exact;
}

function namespaceMatcher(pattern: string): Pred {
  const re = new RegExp(`^.*/ns/${pattern.split('*').map(quote).join('.*')}/.*$`);
  return (r) => !!r.req.principal && re.test(r.req.principal);
}

function serviceAccountMatcher(pattern: string): Pred {
  const [ns, sa] = pattern.includes('/') ? (pattern.split('/', 2) as [string, string]) : ['', pattern];
  // A bare service account name means the policy's namespace; the compiler qualifies it before it gets here.
  const re = new RegExp(`^spiffe://.+/ns/${ns ? quote(ns) : '[^/]+'}/(.+/|)sa/${quote(sa)}(/.+)?$`);
  return (r) => !!r.req.principal && re.test(r.req.principal);
}

/** The client address as the sidecar's HCM sees it: the last X-Forwarded-For hop, else the peer. */
function remoteIp(req: RbacRequest): string {
  const xff = req.headers['x-forwarded-for'];
  if (!xff) return req.sourceIp;
  const last = xff.slice(xff.lastIndexOf(',') + 1).trim();
  return last && isIP(last) ? last : req.sourceIp;
}

function ipv4(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (p.length === 0 || p.length > 3) return undefined;
    const b = Number(p);
    if (!Number.isInteger(b) || b < 0 || b > 255) return undefined;
    n = n * 256 + b;
  }
  return n;
}

/** An address or CIDR as Envoy's CidrRange; an invalid one matches nothing. */
function ipMatcher(block: string, which: 'source' | 'remote' | 'destination'): Pred {
  const [addr = '', bits] = block.split('/');
  const prefix = bits === undefined ? undefined : /^\d+$/.test(bits) ? Number(bits) : NaN;
  const v4 = ipv4(addr);
  if (v4 !== undefined) {
    if (prefix !== undefined && !(prefix <= 32)) return NEVER;
    const len = prefix ?? 32;
    const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
    const net = (v4 & mask) >>> 0;
    const get = which === 'source' ? (r: Prepared) => r.sourceV4 : which === 'remote' ? (r: Prepared) => r.remoteV4 : (r: Prepared) => (r.req.destinationIp ? ipv4(r.req.destinationIp) : undefined);
    return (r) => {
      const n = get(r);
      return n !== undefined && ((n & mask) >>> 0) === net;
    };
  }
  if (isIP(addr) !== 6 || (prefix !== undefined && !(prefix <= 128))) return NEVER;
  const list = new BlockList();
  if (prefix === undefined) list.addAddress(addr, 'ipv6');
  else list.addSubnet(addr, prefix, 'ipv6');
  return (r) => {
    const ip = which === 'source' ? r.req.sourceIp : which === 'remote' ? r.remote : r.req.destinationIp;
    return !!ip && isIP(ip) === 6 && list.check(ip, 'ipv6');
  };
}
