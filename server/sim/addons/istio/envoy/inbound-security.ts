/**
 * What a sidecar's inbound side decides about one arriving request before it reaches the app:
 * which `virtualInbound` filter chain the connection lands on (by destination port and whether
 * the peer speaks Istio mTLS), and what the chain's RBAC filters (AuthorizationPolicies) say.
 * Envoy does the first at connection time (no chain: the connection is closed, the client sees
 * a reset) and the second per HTTP request (403 `RBAC: access denied` as a local reply).
 */
import type { InboundCall, NetworkPod } from '../../../network/types.js';
import type { FilterChain, Listener } from '../xds/types.js';
import type { EnvoyProxy } from './proxy.js';
import { evaluateRbac, type RbacRequest } from './rbac.js';

/** The request goes on to the chain's HTTP connection manager (or TCP proxy). */
export interface InboundAllow {
  allow: true;
  chain: FilterChain;
  /** The mTLS client's SPIFFE id (`spiffe://cluster.local/ns/<ns>/sa/<sa>`); undefined for plain text. */
  peer: string | undefined;
}

/**
 * Envoy closes the connection without an HTTP answer: no filter chain matched (plain text
 * against STRICT: `filter_chain_not_found`, access log `"- - -" 0 NR`), or a TCP chain's network
 * RBAC denied it (`rbac_access_denied_matched_policy[...]`, no flag). The caller sees ECONNRESET.
 */
export interface InboundReset {
  reset: true;
  /** %RESPONSE_CODE_DETAILS% / connection termination details for the access log. */
  details: string;
  /** Envoy response flags for the access log: `['NR']` for filter_chain_not_found, `[]` for an RBAC close. */
  flags: string[];
  /** The chain that was matched (TCP RBAC denial), if any. */
  chain?: FilterChain;
  peer: string | undefined;
}

/** The HTTP RBAC filter answers with a local reply (no response flag; details in the access log). */
export interface InboundDeny {
  deny: {
    status: 403;
    body: 'RBAC: access denied';
    /** `rbac_access_denied_matched_policy[none]` or `rbac_access_denied_matched_policy[ns[<ns>]-policy[<name>]-rule[<i>]]`. */
    details: string;
  };
  chain: FilterChain;
  peer: string | undefined;
}

export type InboundSecurityResult = InboundAllow | InboundReset | InboundDeny;

/** istio-iptables' defaults when a pod carries no istio-init (`-b '*' -d 15090,15021,15020`). */
const DEFAULT_EXCLUDED = ['15090', '15021', '15020'];

/**
 * Whether iptables redirects a connection to this pod port into Envoy's `virtualInbound` (15006):
 * as istio-init's `-b` (include: `*` or a list) and `-d` (exclude) say. Prometheus on 15090/15020
 * and the readiness port 15021 are excluded, so STRICT mTLS never applies to them. The sidecar
 * should pass a call straight on when this is false.
 */
export function inboundCaptured(pod: NetworkPod, port: number): boolean {
  const spec = (pod.object() as { spec?: { initContainers?: { name?: string; args?: string[] }[] } }).spec;
  const args = spec?.initContainers?.find((c) => c.name === 'istio-init')?.args;
  const flag = (name: string): string | undefined => {
    if (!args) return undefined;
    const i = args.indexOf(name);
    return i >= 0 ? (args[i + 1] ?? '') : undefined;
  };
  const include = flag('-b') ?? '*';
  const exclude = (flag('-d') ?? DEFAULT_EXCLUDED.join(',')).split(',').map((p) => p.trim()).filter(Boolean);
  if (exclude.includes(String(port))) return false;
  if (include === '*') return true;
  return include.split(',').map((p) => p.trim()).includes(String(port));
}

/** The `virtualInbound` listener of a proxy's current config, if it has one. */
export function virtualInbound(proxy: EnvoyProxy): Listener | undefined {
  const ls = proxy.config?.listeners;
  if (!ls) return undefined;
  // Every inbound request asks: found once per pushed listener list.
  let known = virtualInbounds.get(ls);
  if (!known || known.length !== ls.length) virtualInbounds.set(ls, (known = { length: ls.length, listener: ls.find((l) => l.name === 'virtualInbound') }));
  return known.listener;
}

const virtualInbounds = new WeakMap<Listener[], { length: number; listener: Listener | undefined }>();

/**
 * Envoy's filter chain match for an inbound connection, criterion by criterion (destination
 * port, transport protocol, ALPN), each narrowing to its most specific candidates; Envoy does not
 * backtrack, so a port whose chains all want TLS leaves a plain-text connection with none.
 * ALPN: a sidecar's HTTP client offers `istio-http/1.1` over mTLS; plain text is sniffed as `http/1.1`.
 */
export function matchFilterChain(listener: Listener, port: number, transport: 'tls' | 'raw_buffer', alpn = transport === 'tls' ? 'istio-http/1.1' : 'http/1.1'): FilterChain | undefined {
  // A pushed listener is never changed in place (a push replaces it), so its answers can be kept.
  let answers = chainCache.get(listener);
  if (!answers) chainCache.set(listener, (answers = new Map()));
  // The usual ALPN (what the transport implies) keys by number: no key string per request.
  const key = alpn === (transport === 'tls' ? 'istio-http/1.1' : 'http/1.1') ? port * 2 + (transport === 'tls' ? 1 : 0) : `${port}|${transport}|${alpn}`;
  if (answers.has(key)) return answers.get(key);
  const chain = selectChain(listener, port, transport, alpn);
  if (answers.size > 1000) answers.clear();
  answers.set(key, chain);
  return chain;
}

const chainCache = new WeakMap<Listener, Map<string | number, FilterChain | undefined>>();

function selectChain(listener: Listener, port: number, transport: 'tls' | 'raw_buffer', alpn: string): FilterChain | undefined {
  const narrow = <T>(chains: FilterChain[], get: (c: FilterChain) => T | undefined, matches: (v: T) => boolean) => {
    const exact = chains.filter((c) => get(c) !== undefined && matches(get(c)!));
    return exact.length > 0 ? exact : chains.filter((c) => get(c) === undefined);
  };
  let chains = narrow(listener.filterChains, (c) => c.match.destinationPort, (p) => p === port);
  chains = narrow(chains, (c) => c.match.transportProtocol, (t) => t === transport);
  chains = narrow(chains, (c) => (c.match.applicationProtocols?.length ? c.match.applicationProtocols : undefined), (a) => a.includes(alpn));
  return chains[0];
}

/** The HTTP connection manager's stat prefix Istio gives an inbound chain (`inbound_0.0.0.0_8080`; the passthrough's is its cluster). */
function httpStatPrefix(chain: FilterChain): string {
  return chain.name === 'virtualInbound-catchall-http' || chain.name === 'virtualInbound' ? 'InboundPassthroughCluster' : `inbound_${chain.name ?? ''}`;
}

/**
 * Decides one inbound request; counts what Envoy counts on the way (the listener's
 * `no_filter_chain_match`, the RBAC filter's `allowed`/`denied`). Call it once per request.
 */
export function inboundSecurity(proxy: EnvoyProxy, call: InboundCall): InboundSecurityResult {
  const tls = call.transport?.tls;
  const peer = tls?.clientIdentity;
  const listener = virtualInbound(proxy);
  const chain = listener ? matchFilterChain(listener, call.port, tls ? 'tls' : 'raw_buffer') : undefined;
  if (!chain) {
    if (listener) proxy.stats.inc(`listener.${listener.address}_${listener.port}.no_filter_chain_match`);
    return { reset: true, details: 'filter_chain_not_found', flags: ['NR'], peer };
  }
  const filters = chain.http?.rbac ?? chain.tcp?.rbac ?? [];
  if (filters.length === 0) return { allow: true, chain, peer };
  const request: RbacRequest = {
    method: call.req.method,
    path: call.req.path,
    headers: call.req.headers,
    port: call.port,
    sourceIp: call.source.ip,
    destinationIp: call.destination.ip,
    principal: peer,
    sni: tls?.sni,
    http: !!chain.http,
  };
  const verdict = evaluateRbac(filters, request);
  const stat = chain.http ? `http.${httpStatPrefix(chain)}.rbac` : 'tcp.rbac';
  proxy.stats.inc(`${stat}.${verdict.allowed ? 'allowed' : 'denied'}`);
  if (verdict.allowed) return { allow: true, chain, peer };
  const details = `rbac_access_denied_matched_policy[${verdict.policy ?? 'none'}]`;
  if (!chain.http) return { reset: true, details, flags: [], chain, peer };
  return { deny: { status: 403, body: 'RBAC: access denied', details }, chain, peer };
}
