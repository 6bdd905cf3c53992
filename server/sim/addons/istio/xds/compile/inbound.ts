/**
 * Inbound generation for a sidecar (pilot's `listener_inbound.go`, `filterchain_options.go`,
 * `security/authn` and `security/authz/builder`): the `virtualInbound` listener with, per port a
 * Service targets on the pod, the filter chains its mTLS mode gives (STRICT: TLS only;
 * PERMISSIVE: TLS and plain text; DISABLE: plain text only), passthrough chains for other ports,
 * the RBAC filters AuthorizationPolicies compile to on every chain; and the `inbound|<port>||`
 * clusters. PeerAuthentication resolution is exported for `istioctl x describe` and auto mTLS.
 */
import type { ProxySnapshot } from '../distribution.js';
import type { Cluster, ClusterLoadAssignment, FilterChain, HttpConnectionManager, Listener, RbacFilter, RbacRule, RouteConfiguration } from '../types.js';

type Obj = Record<string, any>;

export interface InboundPort {
  /** The container port traffic arrives on (targetPort). */
  port: number;
  /** The Service port name's protocol (`http`, `http2`, `grpc`, `tcp`, …), when a Service names it. */
  protocol?: string;
  /** The Service port that targets it (names the inbound virtual host `inbound|http|<servicePort>`). */
  servicePort?: number;
  /** The Service's FQDN (the route's decorator `<fqdn>:<servicePort>/*`). */
  hostname?: string;
}

export interface InboundConfig {
  listeners: Listener[];
  clusters: Cluster[];
  /** What istiod logs while generating this (`<level>\t<scope>\t<message>`): skipped rules, refused CUSTOM, features not simulated. */
  warnings?: string[];
}

export interface InboundOptions {
  /** meshConfig.rootNamespace. */
  rootNamespace?: string;
}

export const DEFAULT_ROOT_NAMESPACE = 'istio-system';
/** meshConfig.inboundTrafficPolicy's listener port (15006): the blackhole chain keeps traffic to it from looping. */
export const INBOUND_LISTEN_PORT = 15006;
export const INBOUND_PASSTHROUGH_CLUSTER = 'InboundPassthroughCluster';

// ---- PeerAuthentication ------------------------------------------------------------------------

export type MtlsMode = 'STRICT' | 'PERMISSIVE' | 'DISABLE';

/** pilot's MergedPeerAuthentication: the workload's mode, and the port-level overrides (by container port). */
export interface MergedPeerAuthentication {
  mode: MtlsMode;
  perPort: Map<number, MtlsMode>;
}

const MODES = new Set(['STRICT', 'PERMISSIVE', 'DISABLE']);
const modeOf = (mtls: Obj | undefined): MtlsMode | undefined => (mtls && MODES.has(mtls.mode) ? (mtls.mode as MtlsMode) : undefined);
const matchLabels = (o: Obj): Record<string, string> => o.spec?.selector?.matchLabels ?? {};
const hasSelector = (o: Obj) => Object.keys(matchLabels(o)).length > 0;
const subsetOf = (sel: Record<string, string>, labels: Readonly<Record<string, string>>) => Object.entries(sel).every(([k, v]) => labels[k] === v);

/** Istio orders configs by creation time (seconds), then name, then namespace; the oldest of a tier wins. */
export function byCreation(a: Obj, b: Obj): number {
  const ta = Date.parse(a.metadata?.creationTimestamp ?? '') || 0;
  const tb = Date.parse(b.metadata?.creationTimestamp ?? '') || 0;
  if (ta !== tb) return ta - tb;
  const n = String(a.metadata?.name ?? '').localeCompare(String(b.metadata?.name ?? ''));
  return n !== 0 ? n : String(a.metadata?.namespace ?? '').localeCompare(String(b.metadata?.namespace ?? ''));
}

/** The PeerAuthentications pilot considers for a workload: its namespace's and the root namespace's whose selector its labels satisfy. */
export function peerAuthenticationsForWorkload(all: readonly Obj[], workload: { namespace: string; labels: Readonly<Record<string, string>> }, rootNamespace = DEFAULT_ROOT_NAMESPACE): Obj[] {
  return all.filter((pa) => {
    const ns = pa.metadata?.namespace;
    return (ns === workload.namespace || ns === rootNamespace) && subsetOf(matchLabels(pa), workload.labels);
  });
}

/**
 * pilot's ComposePeerAuthentication: mesh (root namespace, no selector) < namespace (no selector)
 * < workload (selector, not in the root namespace), the oldest of each tier; UNSET inherits; the
 * default is PERMISSIVE; port-level modes come from the workload policy only (UNSET: the workload's mode).
 */
export function composePeerAuthentication(configs: readonly Obj[], rootNamespace = DEFAULT_ROOT_NAMESPACE): MergedPeerAuthentication {
  let mesh: Obj | undefined;
  let namespace: Obj | undefined;
  let workload: Obj | undefined;
  for (const cfg of [...configs].sort(byCreation)) {
    if (!hasSelector(cfg)) {
      if (cfg.metadata?.namespace === rootNamespace) mesh ??= cfg;
      else namespace ??= cfg;
    } else if (cfg.metadata?.namespace !== rootNamespace) workload ??= cfg;
  }
  let mode: MtlsMode = 'PERMISSIVE';
  for (const tier of [mesh, namespace, workload]) mode = modeOf(tier?.spec?.mtls) ?? mode;
  const perPort = new Map<number, MtlsMode>();
  const portLevel: Record<string, Obj> | undefined = workload?.spec?.portLevelMtls;
  if (portLevel) {
    for (const [port, mtls] of Object.entries(portLevel).sort(([a], [b]) => Number(a) - Number(b))) {
      const n = Number(port);
      if (Number.isInteger(n) && n > 0) perPort.set(n, modeOf(mtls) ?? mode);
    }
  }
  return { mode, perPort };
}

export function mtlsModeForPort(merged: MergedPeerAuthentication, port: number): MtlsMode {
  return merged.perPort.get(port) ?? merged.mode;
}

/** What `istioctl x describe pod` prints about PeerAuthentication: the effective modes and the policies applied (`<name>.<ns>`). */
export interface EffectivePeerAuthentication extends MergedPeerAuthentication {
  applied: string[];
}

/**
 * istioctl's describePeerAuthentication: the root namespace's and the workload namespace's
 * PeerAuthentications (in that order) whose selector matches the pod, composed as pilot does.
 * (istioctl lists a root-namespace policy with a selector as applied, though pilot ignores it.)
 */
export function effectivePeerAuthentication(all: readonly Obj[], workload: { namespace: string; labels: Readonly<Record<string, string>> }, rootNamespace = DEFAULT_ROOT_NAMESPACE): EffectivePeerAuthentication {
  const inNs = (ns: string) => all.filter((pa) => pa.metadata?.namespace === ns && subsetOf(matchLabels(pa), workload.labels));
  const matched = rootNamespace === workload.namespace ? inNs(rootNamespace) : [...inNs(rootNamespace), ...inNs(workload.namespace)];
  return { ...composePeerAuthentication(matched, rootNamespace), applied: matched.map((pa) => `${pa.metadata?.name}.${pa.metadata?.namespace}`) };
}

/**
 * pilot's GetNamespaceMutualTLSMode, which a client's auto mTLS reads (BestEffortInferServiceMTLSMode):
 * the namespace policy's mode (UNSET: the mesh's), else the mesh policy's (UNSET: PERMISSIVE);
 * undefined when neither exists (the caller falls back to PERMISSIVE).
 */
export function namespaceMtlsMode(all: readonly Obj[], namespace: string, rootNamespace = DEFAULT_ROOT_NAMESPACE): MtlsMode | undefined {
  const oldest = (ns: string) => all.filter((pa) => pa.metadata?.namespace === ns && !hasSelector(pa)).sort(byCreation)[0];
  const mesh = oldest(rootNamespace);
  const global = mesh ? (modeOf(mesh.spec?.mtls) ?? 'PERMISSIVE') : undefined;
  if (namespace === rootNamespace) return global;
  const nsPolicy = oldest(namespace);
  if (nsPolicy) return modeOf(nsPolicy.spec?.mtls) ?? global ?? 'PERMISSIVE';
  return global;
}

/**
 * EDS's mTLS check (pilot's endpoints/mtls_checker.go): with auto mTLS (no DestinationRule TLS on
 * the cluster) an endpoint whose workload's PeerAuthentication is DISABLE on that port loses its
 * `tlsMode: istio`, so clients send it plain text, which its raw_buffer-only chains accept.
 */
export function applyPeerAuthenticationToEndpoints(assignments: ClusterLoadAssignment[], clusters: readonly Cluster[], peerAuthentications: readonly Obj[], rootNamespace = DEFAULT_ROOT_NAMESPACE): ClusterLoadAssignment[] {
  if (peerAuthentications.length === 0) return assignments;
  const auto = new Set(clusters.filter((c) => c.tls === undefined).map((c) => c.name));
  const cache = new Map<string, MergedPeerAuthentication>();
  const modeFor = (pod: { namespace: string; name: string; labels: Readonly<Record<string, string>> }, port: number) => {
    const key = `${pod.namespace}/${pod.name}`;
    let merged = cache.get(key);
    if (!merged) cache.set(key, (merged = composePeerAuthentication(peerAuthenticationsForWorkload(peerAuthentications, pod, rootNamespace), rootNamespace)));
    return mtlsModeForPort(merged, port);
  };
  return assignments.map((a) => {
    if (!auto.has(a.cluster)) return a;
    let changed = false;
    const endpoints = a.endpoints.map((ep) => {
      if (ep.tlsMode !== 'istio' || !ep.pod || modeFor(ep.pod, ep.port) !== 'DISABLE') return ep;
      changed = true;
      const { tlsMode: _dropped, ...plain } = ep;
      return plain;
    });
    return changed ? { ...a, endpoints } : a;
  });
}

// ---- AuthorizationPolicy -----------------------------------------------------------------------

/** The policies that apply to a sidecar workload: root and own namespace, selector matching, no targetRef(s) (those attach to gateways/waypoints). */
export function authorizationPoliciesForWorkload(all: readonly Obj[], workload: { namespace: string; labels: Readonly<Record<string, string>> }, rootNamespace = DEFAULT_ROOT_NAMESPACE): Obj[] {
  return all.filter((ap) => {
    const ns = ap.metadata?.namespace;
    if (ns !== workload.namespace && ns !== rootNamespace) return false;
    if (ap.spec?.targetRef || (ap.spec?.targetRefs?.length ?? 0) > 0) return false;
    return subsetOf(matchLabels(ap), workload.labels);
  });
}

const KNOWN_WHEN = /^(request\.headers\[.+\]|source\.ip|remote\.ip|source\.namespace|source\.trustDomain|source\.serviceAccount|source\.principal|request\.auth\.principal|request\.auth\.audiences|request\.auth\.presenter|request\.auth\.claims\[.+\]|destination\.ip|destination\.port|connection\.sni|experimental\.envoy\.filters\..+)$/;
const HTTP_ONLY_WHEN = /^(request\.headers\[|request\.auth\.)/;
const UNSUPPORTED_WHEN = /^(request\.auth\.|source\.trustDomain$|experimental\.)/;

type Action = 'ALLOW' | 'DENY' | 'AUDIT' | 'CUSTOM';

interface BuiltFilters {
  http: RbacFilter[];
  tcp: RbacFilter[];
}

const nonEmpty = (a: unknown): a is string[] => Array.isArray(a) && a.length > 0;

/**
 * One AuthorizationPolicy rule as Envoy gets it (authz/model New + Generate). On a TCP chain an
 * ALLOW rule using HTTP-only attributes is dropped (a smaller allow), while DENY/AUDIT/CUSTOM
 * rules lose just those attributes (a wider deny). Returns undefined for a dropped rule.
 */
function compileRule(rule: Obj, policyNs: string, action: Action, forTcp: boolean): { rule?: RbacRule; error?: string } {
  for (const w of rule.when ?? []) if (!KNOWN_WHEN.test(String(w?.key))) return { error: `unknown attribute ${w?.key}` };
  const out: RbacRule = {};
  const qualifySa = (list: unknown) => (nonEmpty(list) ? list.map((sa) => (sa.includes('/') ? sa : `${policyNs}/${sa}`)) : undefined);
  if (Array.isArray(rule.from) && rule.from.length > 0) {
    const from: NonNullable<RbacRule['from']> = [];
    for (const f of rule.from) {
      const s: Obj = f?.source ?? {};
      if (forTcp && action === 'ALLOW' && (nonEmpty(s.requestPrincipals) || nonEmpty(s.notRequestPrincipals))) return { error: '"requestPrincipals" is HTTP only' };
      const entry: NonNullable<RbacRule['from']>[number] = {};
      for (const k of ['principals', 'notPrincipals', 'namespaces', 'notNamespaces', 'ipBlocks', 'notIpBlocks', 'remoteIpBlocks', 'notRemoteIpBlocks'] as const) if (nonEmpty(s[k])) entry[k] = [...s[k]];
      if (!forTcp) for (const k of ['requestPrincipals', 'notRequestPrincipals'] as const) if (nonEmpty(s[k])) entry[k] = [...s[k]];
      const sa = qualifySa(s.serviceAccounts);
      const notSa = qualifySa(s.notServiceAccounts);
      if (sa) entry.serviceAccounts = sa;
      if (notSa) entry.notServiceAccounts = notSa;
      from.push(entry);
    }
    out.from = from;
  }
  if (Array.isArray(rule.to) && rule.to.length > 0) {
    const to: NonNullable<RbacRule['to']> = [];
    for (const t of rule.to) {
      const o: Obj = t?.operation ?? {};
      const entry: NonNullable<RbacRule['to']>[number] = {};
      for (const k of ['hosts', 'notHosts', 'methods', 'notMethods', 'paths', 'notPaths'] as const) {
        if (!nonEmpty(o[k])) continue;
        if (forTcp) {
          if (action === 'ALLOW') return { error: `"${k.replace(/^not/, '').toLowerCase()}" is HTTP only` };
          continue;
        }
        entry[k] = [...o[k]];
      }
      for (const k of ['ports', 'notPorts'] as const) if (nonEmpty(o[k])) entry[k] = o[k].map(String);
      to.push(entry);
    }
    out.to = to;
  }
  const when: NonNullable<RbacRule['when']> = [];
  for (const w of rule.when ?? []) {
    const key = String(w.key);
    if (forTcp && HTTP_ONLY_WHEN.test(key)) {
      if (action === 'ALLOW') return { error: `"${key}" is HTTP only` };
      continue;
    }
    const values = nonEmpty(w.values) ? w.values.map(String) : undefined;
    const notValues = nonEmpty(w.notValues) ? w.notValues.map(String) : undefined;
    if (!values && !notValues) continue;
    // A bare service account name means the policy's namespace.
    const qualify = (list: string[] | undefined) => (key === 'source.serviceAccount' ? qualifySa(list) : list);
    when.push({ key, ...(values && { values: qualify(values) }), ...(notValues && { notValues: qualify(notValues) }) });
  }
  if (when.length > 0) out.when = when;
  return { rule: out };
}

/** Which unsupported features a policy uses, for istiod's log. */
function unsupportedFeatures(ap: Obj): string[] {
  const out = new Set<string>();
  for (const rule of ap.spec?.rules ?? []) {
    for (const f of rule?.from ?? []) if (nonEmpty(f?.source?.requestPrincipals) || nonEmpty(f?.source?.notRequestPrincipals)) out.add('from.source.requestPrincipals (no RequestAuthentication/JWT is simulated: it never matches)');
    for (const w of rule?.when ?? []) if (UNSUPPORTED_WHEN.test(String(w?.key))) out.add(`when.key ${w.key} (not simulated: it never matches)`);
  }
  return [...out];
}

/** pilot's authz builder: CUSTOM (refused: a deny of what it matches), AUDIT, DENY, ALLOW filters, for HTTP and for TCP chains. */
/** What the authz builder reports: errors (AuthzLogger.AppendError, logged as one multierror) and what this simulator does not do. */
export interface AuthzReport {
  errors: string[];
  unsupported: string[];
}

/** istio's multierror format (pkg/util/istiomultierror). */
function multiError(errors: string[]): string {
  if (errors.length === 1) return errors[0]!;
  return `${errors.length} errors occurred:\n\t${errors.map((e) => `* ${e}`).join('\n\t')}\n`;
}

/** The builder's report as istiod log lines (`error\tauthorization\tProcessed authorization policy: …`). */
export function authzLogLines(report: AuthzReport): string[] {
  const lines = report.errors.length > 0 ? [`error\tauthorization\tProcessed authorization policy: ${multiError(report.errors)}`] : [];
  return [...lines, ...report.unsupported.map((u) => `warn\tauthorization\t${u}`)];
}

export function buildRbacFilters(policies: readonly Obj[], report: AuthzReport = { errors: [], unsupported: [] }): BuiltFilters {
  const byAction: Record<Action, Obj[]> = { CUSTOM: [], AUDIT: [], DENY: [], ALLOW: [] };
  for (const ap of [...policies].sort(byCreation)) {
    const ref = `${ap.metadata?.namespace}/${ap.metadata?.name}`;
    if (String(ap.metadata?.annotations?.['istio.io/dry-run']).toLowerCase() === 'true') {
      report.unsupported.push(`AuthorizationPolicy ${ref}: istio.io/dry-run is not simulated; the policy is not enforced`);
      continue;
    }
    const action = (ap.spec?.action ?? 'ALLOW') as Action;
    if (!(action in byAction)) {
      report.errors.push(`AuthorizationPolicy ${ref}: unknown action ${action}; ignored`);
      continue;
    }
    if (action === 'CUSTOM') report.errors.push(`failed to process CUSTOM action for provider ${ap.spec?.provider?.name ?? ''}, will generate deny configs: external authorization (CUSTOM) is not supported in this simulator`);
    for (const u of unsupportedFeatures(ap)) report.unsupported.push(`AuthorizationPolicy ${ref}: ${u}`);
    byAction[action].push(ap);
  }
  const build = (forTcp: boolean): RbacFilter[] => {
    const filters: RbacFilter[] = [];
    for (const action of ['CUSTOM', 'AUDIT', 'DENY', 'ALLOW'] as const) {
      const aps = byAction[action];
      if (aps.length === 0) continue;
      const policies: RbacFilter['policies'] = [];
      for (const ap of aps) {
        const ns = ap.metadata?.namespace;
        const provider = ap.spec?.provider?.name ?? '';
        const name = (i: number) => (action === 'CUSTOM' ? `istio-ext-authz-${provider ? `${provider}-` : ''}` : '') + `ns[${ns}]-policy[${ap.metadata?.name}]-rule[${i}]` + (action === 'CUSTOM' ? '-deny-due-to-bad-CUSTOM-action' : '');
        const rules: unknown[] = Array.isArray(ap.spec?.rules) ? ap.spec.rules : [];
        rules.forEach((r, i) => {
          if (r === null || typeof r !== 'object') return;
          const built = compileRule(r as Obj, ns, action, forTcp);
          if (built.rule) policies.push({ name: name(i), rule: built.rule });
          else if (!forTcp) report.errors.push(`skipped invalid rule ${name(i)}: ${built.error}`);
        });
        // A policy without rules never matches (an ALLOW of it thus allows nothing).
        if (rules.length === 0) policies.push({ name: name(0), rule: { never: true } });
      }
      filters.push({ action: action === 'CUSTOM' ? 'DENY' : action, policies });
    }
    return filters;
  };
  return { http: build(false), tcp: build(true) };
}

// ---- listener and clusters ---------------------------------------------------------------------

type ListenerProtocol = 'HTTP' | 'TCP' | 'AUTO';

/** Istio's protocol from a port name / appProtocol, as a listener protocol. */
export function listenerProtocol(protocol: string | undefined): ListenerProtocol {
  const p = (protocol ?? '').toLowerCase().split('-')[0] ?? '';
  if (['http', 'http2', 'grpc', 'grpc-web', 'h2c', 'http_proxy'].includes(p)) return 'HTTP';
  if (['tcp', 'https', 'tls', 'mongo', 'mysql', 'redis'].includes(p)) return 'TCP';
  return 'AUTO';
}

const MTLS_HTTP_ALPNS = ['istio-http/1.0', 'istio-http/1.1', 'istio-h2'];
const ALL_ISTIO_MTLS_ALPNS = ['istio', 'istio-peer-exchange', 'istio-http/1.0', 'istio-http/1.1', 'istio-h2'];
const MTLS_TCP_MXC_ALPNS = ['istio-peer-exchange', 'istio'];
const PLAINTEXT_HTTP_ALPNS = ['http/1.1', 'h2c'];

interface ChainOption {
  protocol: 'HTTP' | 'TCP';
  transport: 'tls' | 'raw_buffer';
  alpn?: string[];
  /** Terminates Istio mTLS (the peer must present a mesh certificate). */
  tls?: boolean;
}

/** filterchain_options.go: the chains a port gets for its mTLS mode and protocol. */
export function chainOptions(mode: MtlsMode, protocol: ListenerProtocol): ChainOption[] {
  if (protocol === 'HTTP') {
    if (mode === 'STRICT') return [{ protocol: 'HTTP', transport: 'tls', tls: true }];
    if (mode === 'PERMISSIVE') return [{ protocol: 'HTTP', transport: 'tls', alpn: ALL_ISTIO_MTLS_ALPNS, tls: true }, { protocol: 'HTTP', transport: 'raw_buffer' }];
    return [{ protocol: 'HTTP', transport: 'raw_buffer' }];
  }
  if (protocol === 'AUTO') {
    if (mode === 'STRICT') return [{ protocol: 'HTTP', transport: 'tls', alpn: MTLS_HTTP_ALPNS, tls: true }, { protocol: 'TCP', transport: 'tls', tls: true }];
    if (mode === 'PERMISSIVE')
      return [
        { protocol: 'HTTP', transport: 'tls', alpn: MTLS_HTTP_ALPNS, tls: true },
        { protocol: 'HTTP', transport: 'raw_buffer', alpn: PLAINTEXT_HTTP_ALPNS },
        { protocol: 'TCP', transport: 'tls', alpn: MTLS_TCP_MXC_ALPNS, tls: true },
        { protocol: 'TCP', transport: 'raw_buffer' },
        // One-way TLS from a client without a sidecar: passed through as TCP.
        { protocol: 'TCP', transport: 'tls' },
      ];
    return [{ protocol: 'HTTP', transport: 'raw_buffer', alpn: PLAINTEXT_HTTP_ALPNS }, { protocol: 'TCP', transport: 'raw_buffer' }];
  }
  if (mode === 'STRICT') return [{ protocol: 'TCP', transport: 'tls', tls: true }];
  if (mode === 'PERMISSIVE')
    return [
      { protocol: 'TCP', transport: 'tls', alpn: ALL_ISTIO_MTLS_ALPNS, tls: true },
      { protocol: 'TCP', transport: 'tls' },
      { protocol: 'TCP', transport: 'raw_buffer' },
    ];
  return [{ protocol: 'TCP', transport: 'raw_buffer' }];
}

/** buildSidecarInboundHTTPRouteConfig: one virtual host, one `default` route to the inbound cluster, no timeout, inbound retries. */
export function inboundRouteConfig(cluster: string, servicePort: number, hostname: string): RouteConfiguration {
  return {
    name: cluster,
    virtualHosts: [
      {
        name: `inbound|http|${servicePort}`,
        domains: ['*'],
        routes: [
          {
            name: 'default',
            match: { path: { prefix: '/' } },
            route: { clusters: [{ cluster, weight: 100 }], timeoutMs: 0, retry: { numRetries: 2, retryOn: ['reset-before-request'] } },
            decorator: `${hostname}:${servicePort}/*`,
          },
        ],
      },
    ],
  };
}

interface ChainConfig {
  name: (protocol: 'HTTP' | 'TCP') => string;
  /** 0: no destination port match (the catch-all passthrough). */
  port: number;
  cluster: string;
  route: RouteConfiguration;
}

function buildChains(cc: ChainConfig, options: ChainOption[], rbac: BuiltFilters): FilterChain[] {
  return options.map((opt) => {
    const chain: FilterChain = {
      name: cc.name(opt.protocol),
      match: { ...(cc.port > 0 && { destinationPort: cc.port }), transportProtocol: opt.transport, ...(opt.alpn && { applicationProtocols: [...opt.alpn] }) },
    };
    if (opt.protocol === 'HTTP') {
      const http: HttpConnectionManager = { routeConfig: cc.route, serverName: 'istio-envoy', forwardClientCertDetails: 'APPEND_FORWARD' };
      if (rbac.http.length > 0) http.rbac = rbac.http;
      chain.http = http;
    } else {
      chain.tcp = { cluster: cc.cluster, statPrefix: cc.cluster, ...(rbac.tcp.length > 0 && { rbac: rbac.tcp }) };
    }
    if (opt.tls) chain.requireClientCertificate = true;
    return chain;
  });
}

const MAX = 4294967295;
function inboundCluster(name: string): Cluster {
  return {
    name,
    direction: 'inbound',
    type: 'ORIGINAL_DST',
    lbPolicy: 'PASSTHROUGH',
    circuitBreakers: { maxConnections: MAX, maxPendingRequests: MAX, maxRequests: MAX, maxRetries: MAX, maxRequestsPerConnection: 0 },
    connectTimeoutMs: 10_000,
  };
}

export function compileInbound(
  snapshot: ProxySnapshot,
  pod: { namespace: string; labels: Readonly<Record<string, string>> },
  ports: InboundPort[],
  opts: InboundOptions = {},
): InboundConfig {
  const root = opts.rootNamespace ?? DEFAULT_ROOT_NAMESPACE;
  const report: AuthzReport = { errors: [], unsupported: [] };
  const peer = composePeerAuthentication(peerAuthenticationsForWorkload(snapshot.peerAuthentications, pod, root), root);
  const rbac = buildRbacFilters(authorizationPoliciesForWorkload(snapshot.authorizationPolicies, pod, root), report);

  // One chain config per target port; the first Service to claim a port wins (pilot keeps the oldest).
  const byPort = new Map<number, InboundPort>();
  for (const p of ports) if (p.port > 0 && p.port !== INBOUND_LISTEN_PORT && !byPort.has(p.port)) byPort.set(p.port, p);
  const servicePorts = [...byPort.values()].sort((a, b) => a.port - b.port);

  const chains: FilterChain[] = [
    { name: 'virtualInbound-blackhole', match: { destinationPort: INBOUND_LISTEN_PORT }, tcp: { cluster: 'BlackHoleCluster', statPrefix: 'BlackHoleCluster' } },
  ];
  // Passthrough: the workload's mode for undeclared ports, plus a chain per port-level mode on a port no Service targets.
  const passthroughPorts = [0, ...[...peer.perPort.keys()].filter((p) => !byPort.has(p))];
  for (const port of passthroughPorts) {
    const cc: ChainConfig = {
      name: (protocol) => (protocol === 'HTTP' ? 'virtualInbound-catchall-http' : 'virtualInbound'),
      port,
      cluster: INBOUND_PASSTHROUGH_CLUSTER,
      route: inboundRouteConfig(INBOUND_PASSTHROUGH_CLUSTER, 0, ''),
    };
    chains.push(...buildChains(cc, chainOptions(mtlsModeForPort(peer, port), 'AUTO'), rbac));
  }
  // InboundPassthroughCluster and BlackHoleCluster are static clusters (compile/clusters.ts).
  const clusters: Cluster[] = [];
  for (const p of servicePorts) {
    const cluster = `inbound|${p.port}||`;
    const cc: ChainConfig = {
      name: () => `0.0.0.0_${p.port}`,
      port: p.port,
      cluster,
      route: inboundRouteConfig(cluster, p.servicePort ?? p.port, p.hostname ?? ''),
    };
    chains.push(...buildChains(cc, chainOptions(mtlsModeForPort(peer, p.port), listenerProtocol(p.protocol)), rbac));
    clusters.push(inboundCluster(cluster));
  }
  const listener: Listener = { name: 'virtualInbound', address: '0.0.0.0', port: INBOUND_LISTEN_PORT, direction: 'inbound', filterChains: chains };
  const warnings = authzLogLines(report);
  return { listeners: [listener], clusters, ...(warnings.length > 0 && { warnings }) };
}
