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

export function evaluateRbac(filters: readonly RbacFilter[], req: RbacRequest): RbacVerdict {
  const audited: string[] = [];
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
function firstMatch(f: RbacFilter, req: RbacRequest): string | undefined {
  const names = f.policies.filter((p) => ruleMatches(p.rule, req)).map((p) => p.name);
  return names.sort()[0];
}

export function ruleMatches(rule: RbacRule, req: RbacRequest): boolean {
  if (rule.never) return false;
  if (rule.from?.length && !rule.from.some((s) => sourceMatches(s, req))) return false;
  if (rule.to?.length && !rule.to.some((o) => operationMatches(o, req))) return false;
  return (rule.when ?? []).every((c) => conditionMatches(c, req));
}

type Source = NonNullable<RbacRule['from']>[number];
type Operation = NonNullable<RbacRule['to']>[number];

/** A field with `values` needs one to match; with `notValues` needs none to. Absent: no constraint. */
function field(values: readonly string[] | undefined, notValues: readonly string[] | undefined, one: (v: string) => boolean): boolean {
  if (values?.length && !values.some(one)) return false;
  if (notValues?.length && notValues.some(one)) return false;
  return true;
}

function sourceMatches(s: Source, req: RbacRequest): boolean {
  return (
    field(s.principals, s.notPrincipals, (v) => principalMatches(v, req)) &&
    field(s.namespaces, s.notNamespaces, (v) => namespaceMatches(v, req)) &&
    field(s.serviceAccounts, s.notServiceAccounts, (v) => serviceAccountMatches(v, req)) &&
    field(s.ipBlocks, s.notIpBlocks, (v) => ipMatches(v, req.sourceIp)) &&
    field(s.remoteIpBlocks, s.notRemoteIpBlocks, (v) => ipMatches(v, remoteIp(req))) &&
    // No RequestAuthentication is simulated, so no request carries a verified JWT: a requestPrincipal never matches.
    field(s.requestPrincipals, s.notRequestPrincipals, () => false)
  );
}

function operationMatches(o: Operation, req: RbacRequest): boolean {
  return (
    field(o.hosts, o.notHosts, (v) => headerValueMatches(v, req.headers.host ?? req.headers[':authority'], true)) &&
    field(o.methods, o.notMethods, (v) => headerValueMatches(v, req.method, false)) &&
    field(o.paths, o.notPaths, (v) => pathMatches(v, req.path)) &&
    field(o.ports, o.notPorts, (v) => Number(v) === req.port)
  );
}

function conditionMatches(c: { key: string; values?: string[]; notValues?: string[] }, req: RbacRequest): boolean {
  const one = conditionMatcher(c.key, req);
  return field(c.values, c.notValues, one);
}

function conditionMatcher(key: string, req: RbacRequest): (v: string) => boolean {
  const header = /^request\.headers\[(.+)\]$/.exec(key);
  if (header) return (v) => headerValueMatches(v, req.headers[header[1]!.toLowerCase()], false);
  switch (key) {
    case 'source.ip':
      return (v) => ipMatches(v, req.sourceIp);
    case 'remote.ip':
      return (v) => ipMatches(v, remoteIp(req));
    case 'source.namespace':
      return (v) => namespaceMatches(v, req);
    case 'source.principal':
      return (v) => principalMatches(v, req);
    case 'source.serviceAccount':
      return (v) => serviceAccountMatches(v, req);
    case 'destination.ip':
      return (v) => !!req.destinationIp && ipMatches(v, req.destinationIp);
    case 'destination.port':
      return (v) => Number(v) === req.port;
    case 'connection.sni':
      return (v) => stringMatches(v, req.sni);
    default:
      // request.auth.* (no JWT is ever verified here) and keys the compiler did not keep: nothing to match.
      return () => false;
  }
}

/** Istio's StringMatcher for a value with one leading or trailing `*` (`*` alone: any non-empty value). */
function stringMatches(pattern: string, value: string | undefined, ignoreCase = false): boolean {
  if (value === undefined) return false;
  const p = ignoreCase ? pattern.toLowerCase() : pattern;
  const v = ignoreCase ? value.toLowerCase() : value;
  if (p === '*') return v.length > 0;
  if (p.startsWith('*')) return v.endsWith(p.slice(1));
  if (p.endsWith('*')) return v.startsWith(p.slice(0, -1));
  return v === p;
}

/** Header matchers: `*` is presence (an empty value counts), otherwise as StringMatcher. */
function headerValueMatches(pattern: string, value: string | undefined, ignoreCase: boolean): boolean {
  if (value === undefined) return false;
  if (pattern === '*') return true;
  return stringMatches(pattern, value, ignoreCase);
}

/** `paths` match the path without the query; `{*}` (one segment) and `{**}` (any) are Istio's path templates. */
function pathMatches(pattern: string, fullPath: string): boolean {
  const path = fullPath.split('?')[0]!.split('#')[0]!;
  if (pattern.includes('{*}') || pattern.includes('{**}')) {
    const re = pattern
      .split(/(\{\*\*\}|\{\*\})/)
      .map((part) => (part === '{**}' ? '.*' : part === '{*}' ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('');
    return new RegExp(`^${re}$`).test(path);
  }
  return stringMatches(pattern, path);
}

/** `principals` are trust-domain/ns/<ns>/sa/<sa>, matched against the peer's URI SAN after `spiffe://`. */
function principalMatches(pattern: string, req: RbacRequest): boolean {
  const id = req.principal;
  if (!id) return false;
  if (pattern === '*') return id.length > 0;
  if (pattern.startsWith('*')) return id.startsWith('spiffe://') && id.endsWith(pattern.slice(1));
  if (pattern.endsWith('*')) return id.startsWith(`spiffe://${pattern.slice(0, -1)}`);
  return id === `spiffe://${pattern}`;
}

const quote = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function namespaceMatches(pattern: string, req: RbacRequest): boolean {
  if (!req.principal) return false;
  const ns = pattern.split('*').map(quote).join('.*');
  return new RegExp(`^.*/ns/${ns}/.*$`).test(req.principal);
}

function serviceAccountMatches(pattern: string, req: RbacRequest): boolean {
  if (!req.principal) return false;
  const [ns, sa] = pattern.includes('/') ? (pattern.split('/', 2) as [string, string]) : ['', pattern];
  // A bare service account name means the policy's namespace; the compiler qualifies it before it gets here.
  return new RegExp(`^spiffe://.+/ns/${ns ? quote(ns) : '[^/]+'}/(.+/|)sa/${quote(sa)}(/.+)?$`).test(req.principal);
}

/** The client address as the sidecar's HCM sees it: the last X-Forwarded-For hop, else the peer. */
function remoteIp(req: RbacRequest): string {
  const xff = req.headers['x-forwarded-for'];
  const last = xff?.split(',').pop()?.trim();
  return last && isIP(last) ? last : req.sourceIp;
}

function ipMatches(block: string, ip: string): boolean {
  const family = isIP(ip);
  if (!family) return false;
  const [addr, bits] = block.split('/');
  const blockFamily = isIP(addr ?? '');
  if (!blockFamily || blockFamily !== family) return false;
  const list = new BlockList();
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (bits === undefined) list.addAddress(addr!, type);
  else {
    const prefix = Number(bits);
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128)) return false;
    list.addSubnet(addr!, prefix, type);
  }
  return list.check(ip, type);
}
