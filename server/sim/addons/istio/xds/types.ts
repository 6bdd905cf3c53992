/**
 * What istiod sends one proxy, shaped like Envoy's xDS resources (LDS listeners, RDS route
 * configurations, CDS clusters, EDS load assignments) so that the three parts that meet here
 * agree on one model, as in Istio: the compiler (`xds/compile/`, pilot's networking/core) writes
 * it from the mesh's config and the cluster's Services and endpoints; the proxy (`envoy/`) runs
 * by it and nothing else; `istioctl proxy-config` prints it (through the proxy's admin
 * `/config_dump`). Names follow Envoy and Istio (`outbound|9080|v1|reviews.default.svc.cluster.local`,
 * `0.0.0.0_9080`, `virtualInbound`, route `9080`, `http.8080`), because learners see them.
 *
 * Kept to what the embedded cluster routes by: HTTP/1.1 over the simulated pod network, with
 * mTLS as a property of a connection (`Transport`) rather than bytes.
 */

/** Who a proxy is, as its node metadata tells istiod. */
export interface ProxyIdentity {
  /** `<pod>.<namespace>`, the tail of Envoy's node id. */
  id: string;
  podName: string;
  namespace: string;
  podIP: string;
  type: 'sidecar' | 'router';
  labels: Readonly<Record<string, string>>;
  /** The pod's ServiceAccount, for its SPIFFE identity. */
  serviceAccount: string;
}

export interface ProxyConfig {
  /** The push this config came from (istiod's version string; proxy-status compares it). */
  version: string;
  proxy: ProxyIdentity;
  listeners: Listener[];
  /** By name: `9080`, `http.8080`, `inbound|9080||`, … */
  routes: RouteConfiguration[];
  clusters: Cluster[];
  /** EDS: one per EDS cluster, the endpoints as istiod last computed them. */
  endpoints: ClusterLoadAssignment[];
  /** What istiod logs while generating this config (`<level>\t<scope>\t<message>`), e.g. an AuthorizationPolicy it could not fully use. */
  istiodLog?: string[];
  /** meshConfig.accessLogFile (the demo profile's `/dev/stdout`): absent, no access log. */
  accessLog?: { path: string; format?: string; encoding: 'TEXT' | 'JSON' };
}

// ---- LDS ---------------------------------------------------------------------------------

export interface Listener {
  /** `0.0.0.0_9080`, `10.96.0.10_53`, `virtualOutbound`, `virtualInbound`, `0.0.0.0_8080` (gateway). */
  name: string;
  address: string;
  port: number;
  /** outbound/inbound for sidecars; gateway for a router's listeners; static: Envoy's own (15021, 15090). */
  direction: 'outbound' | 'inbound' | 'gateway' | 'static';
  filterChains: FilterChain[];
}

export interface FilterChain {
  /** Istio's chain name: `0.0.0.0_8080` (a Service's target port), `virtualInbound-catchall-http` / `virtualInbound` (passthrough), `virtualInbound-blackhole`. */
  name?: string;
  /** Envoy's filter chain match; absent fields match anything. */
  match: {
    destinationPort?: number;
    /** `tls` for mTLS from a sidecar, `raw_buffer` for plain text. */
    transportProtocol?: 'tls' | 'raw_buffer';
    applicationProtocols?: string[];
    serverNames?: string[];
  };
  /** What the chain does: HTTP routing (by a named RDS config or an inline one), or plain TCP to a cluster. */
  http?: HttpConnectionManager;
  tcp?: { cluster: string; statPrefix?: string; /** Network RBAC filters (AuthorizationPolicies on a TCP chain; a denial closes the connection). */ rbac?: RbacFilter[] };
  /** For inbound chains: the peer must present a mesh certificate (mTLS STRICT, or the tls chain of PERMISSIVE). */
  requireClientCertificate?: boolean;
}

export interface HttpConnectionManager {
  /** RDS: the name of a RouteConfiguration in ProxyConfig.routes. */
  routeConfigName?: string;
  /** An inline route (inbound chains, 15021/15090). */
  routeConfig?: RouteConfiguration;
  /** The `server` response header: `istio-envoy` (inbound, gateways) or absent (Envoy's `envoy`, outbound). */
  serverName?: string;
  /** HTTP filters before the router, in order. */
  rbac?: RbacFilter[];
  /** Inbound: strip the metadata-exchange and decorator headers; add x-forwarded-client-cert for mTLS callers. */
  forwardClientCertDetails?: 'APPEND_FORWARD' | 'SANITIZE_SET';
}

// ---- RBAC (compiled AuthorizationPolicies, Envoy's RBAC filter) -----------------------------

export interface RbacFilter {
  action: 'ALLOW' | 'DENY' | 'AUDIT' | 'CUSTOM';
  /** Envoy policy names as Istio writes them: `ns[<ns>]-policy[<name>]-rule[<i>]`. */
  policies: { name: string; rule: RbacRule }[];
}

/** One AuthorizationPolicy rule: every field that is set must match (from × to × when). */
export interface RbacRule {
  /** A policy without rules: Istio's explicit never-matching policy (an ALLOW with it denies everything). */
  never?: boolean;
  from?: { principals?: string[]; notPrincipals?: string[]; namespaces?: string[]; notNamespaces?: string[]; ipBlocks?: string[]; notIpBlocks?: string[]; requestPrincipals?: string[]; notRequestPrincipals?: string[]; remoteIpBlocks?: string[]; notRemoteIpBlocks?: string[]; serviceAccounts?: string[]; notServiceAccounts?: string[] }[];
  to?: { methods?: string[]; notMethods?: string[]; paths?: string[]; notPaths?: string[]; ports?: string[]; notPorts?: string[]; hosts?: string[]; notHosts?: string[] }[];
  when?: { key: string; values?: string[]; notValues?: string[] }[];
}

// ---- RDS ---------------------------------------------------------------------------------

export interface RouteConfiguration {
  name: string;
  virtualHosts: VirtualHost[];
  /**
   * Match virtual host domains against the Host header without its `:port` (Envoy's
   * ignore_port_in_host_matching). Istio sets it on sidecar and gateway route configurations, whose
   * domains therefore carry no `:port` variants (`reviews:9080` is served by the domain `reviews`).
   */
  ignorePortInHostMatching?: boolean;
}

export interface VirtualHost {
  /** `reviews.default.svc.cluster.local:9080`, `allow_any`, `*:80`, `bookinfo-gateway` … */
  name: string;
  /** Host header values this virtual host serves (`reviews`, `reviews:9080`, `reviews.default`, … or `*`). */
  domains: string[];
  /** In order; the first whose match matches wins (Envoy). */
  routes: Route[];
}

export interface StringMatch {
  exact?: string;
  prefix?: string;
  /** RE2, matched against the whole value. */
  regex?: string;
}

export interface HeaderMatcher {
  /** Lower-case; `:method`, `:authority`, `:path`, `:scheme` for the pseudo-headers. */
  name: string;
  match?: StringMatch;
  /** Only that the header is present (Istio's `{}`). */
  present?: boolean;
  /** `withoutHeaders`: the header must not match. */
  invert?: boolean;
}

export interface RouteMatch {
  /** The path without the query string; exactly one of the three is set, or none (`/` prefix). */
  path?: StringMatch;
  caseInsensitive?: boolean;
  /** Envoy's path_separated_prefix: `path.prefix` matches only whole segments (`/a` is `/a`, `/a/…`, not `/ab`). */
  pathSeparated?: boolean;
  headers?: HeaderMatcher[];
  queryParams?: { name: string; match?: StringMatch; present?: boolean }[];
}

export interface HeaderOperations {
  set?: Record<string, string>;
  add?: Record<string, string>;
  remove?: string[];
}

export interface WeightedCluster {
  /** A CDS cluster name (which may not exist: a subset no DestinationRule defines → 503 NC). */
  cluster: string;
  weight: number;
  requestHeaders?: HeaderOperations;
  responseHeaders?: HeaderOperations;
}

export interface RetryPolicy {
  /** Retries after the first try (VirtualService `attempts`). */
  numRetries: number;
  perTryTimeoutMs?: number;
  /** Envoy's retry_on conditions: `5xx`, `gateway-error`, `connect-failure`, `refused-stream`, `reset`, `retriable-status-codes`, … */
  retryOn: string[];
  retriableStatusCodes?: number[];
}

export interface FaultPolicy {
  delay?: { fixedDelayMs: number; percentage: number };
  abort?: { httpStatus: number; percentage: number };
}

export interface RouteAction {
  clusters: WeightedCluster[];
  /** 0: no timeout (Istio's default for HTTP routes). */
  timeoutMs: number;
  retry?: RetryPolicy;
  prefixRewrite?: string;
  /** `rewrite.uriRegexRewrite`. */
  regexRewrite?: { pattern: string; substitution: string };
  hostRewrite?: string;
  mirrors?: { cluster: string; percentage: number }[];
  /**
   * Envoy's hash_policy, from the destination's DestinationRule `loadBalancer.consistentHash`
   * (RING_HASH/MAGLEV clusters hash the request by it; without one they pick at random).
   */
  hashPolicy?: HashPolicy[];
}

export interface HashPolicy {
  header?: string;
  cookie?: { name: string; path?: string; ttlMs?: number };
  sourceIp?: boolean;
  queryParameter?: string;
}

export interface RedirectAction {
  /** Replaces the whole path, or (prefixRewrite) the matched prefix. */
  pathRedirect?: string;
  prefixRewrite?: string;
  hostRedirect?: string;
  portRedirect?: number;
  schemeRedirect?: string;
  /** 301 by default. */
  responseCode: number;
}

export interface Route {
  /** `http[].name`, plus `.` and the match's name when it has one; absent: `-` in the access log. Envoy's default route: `default`. */
  name?: string;
  match: RouteMatch;
  /** Exactly one of route, redirect, directResponse. */
  route?: RouteAction;
  redirect?: RedirectAction;
  directResponse?: { status: number; body?: string };
  fault?: FaultPolicy;
  requestHeaders?: HeaderOperations;
  responseHeaders?: HeaderOperations;
  /** `x-envoy-decorator-operation`: `<fqdn>:<port>/*`. */
  decorator?: string;
  /** Where the route came from, for proxy-config's VIRTUAL SERVICE column (`<name>.<ns>`); absent for defaults. */
  virtualService?: { name: string; namespace: string };
}

// ---- CDS / EDS ---------------------------------------------------------------------------

export interface CircuitBreakers {
  maxConnections: number;
  maxPendingRequests: number;
  maxRequests: number;
  maxRetries: number;
  /** 0: unlimited. */
  maxRequestsPerConnection: number;
}

export interface OutlierDetection {
  consecutive5xx?: number;
  consecutiveGatewayErrors?: number;
  intervalMs: number;
  baseEjectionTimeMs: number;
  maxEjectionPercent: number;
  minHealthPercent?: number;
}

/** What a connection to an upstream carries: plain text, or Istio mTLS (auto or from a DestinationRule). */
export type UpstreamTls = 'DISABLE' | 'ISTIO_MUTUAL' | 'SIMPLE' | 'MUTUAL';

export interface Cluster {
  /** `outbound|9080|v1|reviews.default.svc.cluster.local`, `inbound|9080||`, `PassthroughCluster`, `BlackHoleCluster`, … */
  name: string;
  direction: 'outbound' | 'inbound' | 'static';
  type: 'EDS' | 'STATIC' | 'ORIGINAL_DST' | 'STRICT_DNS' | 'LOGICAL_DNS';
  /** For service clusters: what proxy-config prints (SERVICE FQDN, PORT, SUBSET). */
  service?: { hostname: string; port: number; subset?: string };
  /** `<name>.<namespace>` of the DestinationRule whose policy applies. */
  destinationRule?: { name: string; namespace: string };
  lbPolicy: 'LEAST_REQUEST' | 'ROUND_ROBIN' | 'RANDOM' | 'PASSTHROUGH' | 'RING_HASH' | 'MAGLEV';
  circuitBreakers: CircuitBreakers;
  outlierDetection?: OutlierDetection;
  /**
   * TLS to the upstream: explicit from a DestinationRule, or undefined for Istio's auto mTLS
   * (mTLS to endpoints labelled `security.istio.io/tlsMode: istio`, plain text to others).
   */
  tls?: UpstreamTls;
  /** SNI for mTLS: `outbound_.9080_.v1_.reviews.default.svc.cluster.local`. */
  sni?: string;
  connectTimeoutMs: number;
}

export interface LbEndpoint {
  address: string;
  port: number;
  /** The pod behind it (for metrics and access logs), with its labels (subset selection was already applied). */
  pod?: { namespace: string; name: string; labels: Readonly<Record<string, string>>; serviceAccount: string };
  /** `istio` when the endpoint has a sidecar (auto mTLS); absent otherwise. */
  tlsMode?: 'istio';
  health: 'HEALTHY' | 'UNHEALTHY' | 'DRAINING';
}

export interface ClusterLoadAssignment {
  cluster: string;
  endpoints: LbEndpoint[];
}

// ---- the connection a request travels on --------------------------------------------------

/**
 * Whether a connection is Istio mTLS, with the client's identity and the SNI it asked for: the
 * network carries it with the request (network/types.ts); the inbound proxy matches filter chains
 * and principals by it. Absent `tls`: plain text.
 */
export type { Transport } from '../../../network/types.js';

/** `spiffe://cluster.local/ns/<ns>/sa/<sa>`, Istio's workload identity. */
export const spiffeId = (namespace: string, serviceAccount: string, trustDomain = 'cluster.local') => `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
