/**
 * Envoy's `/config_dump` of one proxy: its bootstrap (static listeners 15090/15021 and clusters
 * prometheus_stats, agent, sds-grpc, xds-grpc, as Istio's envoy_bootstrap.json writes them) and
 * the xDS resources istiod pushed (ProxyConfig), in Envoy's proto-JSON shapes (snake_case, `@type`
 * on every Any, default values left out) so that `istioctl proxy-config … -o json` reads like the
 * real one and istioctl's table writers can work from the dump as the real istioctl does.
 */
import type {
  Cluster,
  ClusterLoadAssignment,
  FilterChain,
  HeaderMatcher,
  HeaderOperations,
  HttpConnectionManager,
  Listener,
  ProxyConfig,
  ProxyIdentity,
  RbacFilter,
  Route,
  RouteConfiguration,
  StringMatch,
} from '../xds/types.js';
import { ISTIO_VERSION } from '../version.js';

type Json = Record<string, unknown>;

const T = 'type.googleapis.com/';
export const DUMP_TYPES = {
  bootstrap: `${T}envoy.admin.v3.BootstrapConfigDump`,
  clusters: `${T}envoy.admin.v3.ClustersConfigDump`,
  endpoints: `${T}envoy.admin.v3.EndpointsConfigDump`,
  listeners: `${T}envoy.admin.v3.ListenersConfigDump`,
  scopedRoutes: `${T}envoy.admin.v3.ScopedRoutesConfigDump`,
  routes: `${T}envoy.admin.v3.RoutesConfigDump`,
  secrets: `${T}envoy.admin.v3.SecretsConfigDump`,
} as const;

export const HCM_NAME = 'envoy.filters.network.http_connection_manager';
export const TCP_PROXY_NAME = 'envoy.filters.network.tcp_proxy';
const HCM_TYPE = `${T}envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager`;
const ROUTER = { name: 'envoy.filters.http.router', typed_config: { '@type': `${T}envoy.extensions.filters.http.router.v3.Router` } };
const ADS = { ads: {}, initial_fetch_timeout: '0s', resource_api_version: 'V3' };

/** The Envoy release Istio 1.30's proxy is built on (what `proxy-config bootstrap -o short` shows). */
export const ENVOY_VERSION = { major_number: 1, minor_number: 38, patch: 0 };
const PROXY_SHA = 'b1b8e2f4c6a0d3e5f7a9c1e3b5d7f9a1c3e5b7d9';

/** What the agent knows of itself for the bootstrap's node. */
export interface BootstrapInfo {
  identity: ProxyIdentity;
  /** The proxy's IP (node id), DNS domain, and when it started (bootstrap last_updated). */
  domain: string;
  startedAt: Date;
  clusterId: string;
  meshId?: string;
}

/** proto-JSON of a google.protobuf.Duration given in ms: `10s`, `0.250s`. */
export function duration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(3)}s`;
}

const stamp = (d: Date) => d.toISOString();

// ---- bootstrap -----------------------------------------------------------------------------

export const BOOTSTRAP_CLUSTERS = ['prometheus_stats', 'agent', 'sds-grpc', 'xds-grpc'] as const;
export const BOOTSTRAP_LISTENERS = ['0.0.0.0_15090', '0.0.0.0_15021'] as const;

function staticCluster(name: string, address: Json, connectTimeout: string, extra: Json = {}): Json {
  return {
    '@type': `${T}envoy.config.cluster.v3.Cluster`,
    name,
    alt_stat_name: `${name};`,
    type: 'STATIC',
    connect_timeout: connectTimeout,
    ...extra,
    load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address } }] }] },
  };
}

const socket = (address: string, port: number, tcp = false): Json => ({ socket_address: { ...(tcp ? { protocol: 'TCP' } : {}), address, port_value: port } });
const pipe = (path: string): Json => ({ pipe: { path } });

/** The bootstrap's own clusters: Envoy's stats (to its admin), the agent, SDS and xDS over the agent's sockets. */
export function bootstrapClusters(): Json[] {
  const h2 = { typed_extension_protocol_options: { 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': { '@type': `${T}envoy.extensions.upstreams.http.v3.HttpProtocolOptions`, explicit_http_config: { http2_protocol_options: {} } } } };
  return [
    staticCluster('prometheus_stats', socket('127.0.0.1', 15000), '0.250s'),
    staticCluster('agent', socket('127.0.0.1', 15020), '0.250s'),
    staticCluster('sds-grpc', pipe('./var/run/secrets/workload-spiffe-uds/socket'), '1s', h2),
    staticCluster('xds-grpc', pipe('./etc/istio/proxy/XDS'), '1s', {
      circuit_breakers: { thresholds: [{ max_connections: 100000, max_pending_requests: 100000, max_requests: 100000 }, { priority: 'HIGH', max_connections: 100000, max_pending_requests: 100000, max_requests: 100000 }] },
      upstream_connection_options: { tcp_keepalive: { keepalive_time: 300 } },
      max_requests_per_connection: 1,
      ...h2,
    }),
  ];
}

function inlineHcm(statPrefix: string, prefix: string, cluster: string): Json {
  return {
    name: HCM_NAME,
    typed_config: {
      '@type': HCM_TYPE,
      stat_prefix: statPrefix,
      route_config: { virtual_hosts: [{ name: 'backend', domains: ['*'], routes: [{ match: { prefix }, route: { cluster } }] }] },
      http_filters: [ROUTER],
    },
  };
}

/** The bootstrap's listeners: Prometheus stats on 15090, the agent's readiness on 15021. */
export function bootstrapListeners(): Json[] {
  const listener = (port: number, hcm: Json) => ({
    '@type': `${T}envoy.config.listener.v3.Listener`,
    name: `0.0.0.0_${port}`,
    address: socket('0.0.0.0', port, true),
    filter_chains: [{ filters: [hcm] }],
    ignore_global_conn_limit: true,
    bypass_overload_manager: true,
  });
  return [listener(15090, inlineHcm('stats', '/stats/prometheus', 'prometheus_stats')), listener(15021, inlineHcm('agent', '/healthz/ready', 'agent'))];
}

export function bootstrapJson(info: BootstrapInfo): Json {
  const { identity } = info;
  return {
    node: {
      id: `${identity.type}~${identity.podIP}~${identity.id}~${info.domain}`,
      cluster: `${identity.labels['app'] ?? identity.labels['app.kubernetes.io/name'] ?? identity.podName}.${identity.namespace}`,
      metadata: {
        CLUSTER_ID: info.clusterId,
        INSTANCE_IPS: identity.podIP,
        ISTIO_PROXY_SHA: PROXY_SHA,
        ISTIO_VERSION,
        LABELS: { ...identity.labels },
        MESH_ID: info.meshId ?? 'cluster.local',
        NAME: identity.podName,
        NAMESPACE: identity.namespace,
        NODE_NAME: '',
        SERVICE_ACCOUNT: identity.serviceAccount,
        ...(identity.type === 'router' ? { UNPRIVILEGED_POD: 'true' } : {}),
      },
      locality: {},
      user_agent_name: 'envoy',
      user_agent_build_version: { version: ENVOY_VERSION, metadata: { 'build.label': 'dev', 'build.type': 'RELEASE', 'revision.sha': PROXY_SHA, 'revision.status': 'Clean', 'ssl.version': 'BoringSSL' } },
    },
    static_resources: { listeners: bootstrapListeners(), clusters: bootstrapClusters() },
    dynamic_resources: { lds_config: ADS, cds_config: ADS, ads_config: { api_type: 'DELTA_GRPC', set_node_on_first_message_only: true, transport_api_version: 'V3', grpc_services: [{ envoy_grpc: { cluster_name: 'xds-grpc' } }] } },
    admin: { access_log: [{ name: 'envoy.access_loggers.file', typed_config: { '@type': `${T}envoy.extensions.access_loggers.file.v3.FileAccessLog`, path: '/dev/null' } }], profile_path: '/var/lib/istio/data/envoy.prof', address: socket('127.0.0.1', 15000) },
  };
}

// ---- RDS -----------------------------------------------------------------------------------

function stringMatch(m: StringMatch | undefined, ignoreCase = false): Json {
  if (!m) return {};
  const out: Json = m.exact !== undefined ? { exact: m.exact } : m.prefix !== undefined ? { prefix: m.prefix } : m.regex !== undefined ? { safe_regex: { regex: m.regex } } : {};
  if (ignoreCase) out.ignore_case = true;
  return out;
}

function headerMatcher(h: HeaderMatcher): Json {
  const out: Json = { name: h.name };
  if (h.present) out.present_match = true;
  else if (h.match) out.string_match = stringMatch(h.match);
  if (h.invert) out.invert_match = true;
  return out;
}

function headerOps(ops: HeaderOperations | undefined, prefix: 'request' | 'response'): Json {
  if (!ops) return {};
  const add = [
    ...Object.entries(ops.set ?? {}).map(([key, value]) => ({ header: { key, value }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' })),
    ...Object.entries(ops.add ?? {}).map(([key, value]) => ({ header: { key, value } })),
  ];
  return {
    ...(add.length ? { [`${prefix}_headers_to_add`]: add } : {}),
    ...(ops.remove?.length ? { [`${prefix}_headers_to_remove`]: ops.remove } : {}),
  };
}

const REDIRECT_CODES: Record<number, string> = { 302: 'FOUND', 303: 'SEE_OTHER', 307: 'TEMPORARY_REDIRECT', 308: 'PERMANENT_REDIRECT' };

const million = (percent: number) => ({ numerator: Math.round(percent * 10000), denominator: 'MILLION' });

/** `/apis/networking.istio.io/v1/namespaces/<ns>/<kebab kind>/<name>`: where Istio says a resource came from. */
export function configPath(kind: 'virtual-service' | 'destination-rule', ref: { name: string; namespace: string }): string {
  return `/apis/networking.istio.io/v1/namespaces/${ref.namespace}/${kind}/${ref.name}`;
}

export function routeJson(r: Route): Json {
  const match: Json = {};
  const p = r.match.path;
  if (p?.exact !== undefined) match.path = p.exact;
  else if (p?.regex !== undefined) match.safe_regex = { regex: p.regex };
  else if (r.match.pathSeparated && p?.prefix !== undefined) match.path_separated_prefix = p.prefix;
  else match.prefix = p?.prefix ?? '/';
  if (r.match.caseInsensitive) match.case_sensitive = false;
  if (r.match.headers?.length) match.headers = r.match.headers.map(headerMatcher);
  if (r.match.queryParams?.length) match.query_parameters = r.match.queryParams.map((q) => ({ name: q.name, ...(q.present ? { present_match: true } : { string_match: stringMatch(q.match) }) }));
  const out: Json = { ...(r.name ? { name: r.name } : {}), match };
  if (r.route) {
    const a = r.route;
    const action: Json =
      a.clusters.length === 1 && !a.clusters[0]!.requestHeaders && !a.clusters[0]!.responseHeaders
        ? { cluster: a.clusters[0]!.cluster }
        : { weighted_clusters: { clusters: a.clusters.map((c) => ({ name: c.cluster, weight: c.weight, ...headerOps(c.requestHeaders, 'request'), ...headerOps(c.responseHeaders, 'response') })) } };
    action.timeout = duration(a.timeoutMs);
    if (a.retry) {
      action.retry_policy = {
        retry_on: a.retry.retryOn.join(','),
        num_retries: a.retry.numRetries,
        ...(a.retry.perTryTimeoutMs ? { per_try_timeout: duration(a.retry.perTryTimeoutMs) } : {}),
        retry_host_predicate: [{ name: 'envoy.retry_host_predicates.previous_hosts', typed_config: { '@type': `${T}envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate` } }],
        host_selection_retry_max_attempts: '5',
        ...(a.retry.retriableStatusCodes?.length ? { retriable_status_codes: a.retry.retriableStatusCodes } : {}),
      };
    }
    if (a.prefixRewrite !== undefined) action.prefix_rewrite = a.prefixRewrite;
    if (a.regexRewrite) action.regex_rewrite = { pattern: { regex: a.regexRewrite.pattern }, substitution: a.regexRewrite.substitution };
    if (a.hostRewrite) action.host_rewrite_literal = a.hostRewrite;
    if (a.mirrors?.length) action.request_mirror_policies = a.mirrors.map((m) => ({ cluster: m.cluster, runtime_fraction: { default_value: million(m.percentage) }, trace_sampled: false }));
    action.max_stream_duration = { max_stream_duration: duration(a.timeoutMs), grpc_timeout_header_max: duration(a.timeoutMs) };
    out.route = action;
  } else if (r.redirect) {
    const d = r.redirect;
    out.redirect = {
      ...(d.pathRedirect !== undefined ? { path_redirect: d.pathRedirect } : {}),
      ...(d.prefixRewrite !== undefined ? { prefix_rewrite: d.prefixRewrite } : {}),
      ...(d.hostRedirect ? { host_redirect: d.hostRedirect } : {}),
      ...(d.portRedirect ? { port_redirect: d.portRedirect } : {}),
      ...(d.schemeRedirect ? { scheme_redirect: d.schemeRedirect } : {}),
      ...(REDIRECT_CODES[d.responseCode] ? { response_code: REDIRECT_CODES[d.responseCode] } : {}),
    };
  } else if (r.directResponse) {
    out.direct_response = { status: r.directResponse.status, ...(r.directResponse.body !== undefined ? { body: { inline_string: r.directResponse.body } } : {}) };
  }
  if (r.virtualService) out.metadata = { filter_metadata: { istio: { config: configPath('virtual-service', r.virtualService) } } };
  if (r.decorator) out.decorator = { operation: r.decorator };
  if (r.fault) {
    const f = r.fault;
    out.typed_per_filter_config = {
      'envoy.filters.http.fault': {
        '@type': `${T}envoy.extensions.filters.http.fault.v3.HTTPFault`,
        ...(f.delay ? { delay: { fixed_delay: duration(f.delay.fixedDelayMs), percentage: million(f.delay.percentage) } } : {}),
        ...(f.abort ? { abort: { http_status: f.abort.httpStatus, percentage: million(f.abort.percentage) } } : {}),
      },
    };
  }
  Object.assign(out, headerOps(r.requestHeaders, 'request'), headerOps(r.responseHeaders, 'response'));
  return out;
}

export function routeConfigJson(rc: RouteConfiguration, inline = false): Json {
  return {
    ...(inline ? {} : { '@type': `${T}envoy.config.route.v3.RouteConfiguration` }),
    ...(rc.name ? { name: rc.name } : {}),
    virtual_hosts: rc.virtualHosts.map((vh) => ({ name: vh.name, domains: vh.domains, routes: vh.routes.map(routeJson), include_request_attempt_count: true })),
    validate_clusters: false,
    ...(inline ? {} : { max_direct_response_body_size_bytes: 1048576, ignore_port_in_host_matching: true }),
  };
}

// ---- LDS -----------------------------------------------------------------------------------

function rbacJson(f: RbacFilter): Json {
  const principal = (from: NonNullable<RbacFilter['policies'][number]['rule']['from']>[number]): Json => {
    const ors: Json[] = [];
    for (const p of from.principals ?? []) ors.push({ authenticated: { principal_name: p === '*' ? { safe_regex: { regex: '.+' } } : { exact: `spiffe://${p}` } } });
    for (const n of from.namespaces ?? []) ors.push({ authenticated: { principal_name: { safe_regex: { regex: `.*/ns/${n}/.*` } } } });
    for (const ip of from.ipBlocks ?? []) ors.push({ direct_remote_ip: { address_prefix: ip.split('/')[0], prefix_len: Number(ip.split('/')[1] ?? 32) } });
    return ors.length ? { and_ids: { ids: [{ or_ids: { ids: ors } }] } } : { any: true };
  };
  const permission = (to: NonNullable<RbacFilter['policies'][number]['rule']['to']>[number]): Json => {
    const rules: Json[] = [];
    if (to.methods?.length) rules.push({ or_rules: { rules: to.methods.map((m) => ({ header: { name: ':method', string_match: { exact: m } } })) } });
    if (to.paths?.length) rules.push({ or_rules: { rules: to.paths.map((p) => ({ url_path: { path: p.endsWith('*') ? { prefix: p.slice(0, -1) } : p.startsWith('*') ? { suffix: p.slice(1) } : { exact: p } } })) } });
    if (to.ports?.length) rules.push({ or_rules: { rules: to.ports.map((p) => ({ destination_port: Number(p) })) } });
    return rules.length ? { and_rules: { rules } } : { any: true };
  };
  const policies: Json = {};
  for (const p of f.policies) {
    policies[p.name] = {
      permissions: p.rule.to?.length ? p.rule.to.map(permission) : [{ any: true }],
      principals: p.rule.from?.length ? p.rule.from.map(principal) : [{ any: true }],
    };
  }
  return {
    name: 'envoy.filters.http.rbac',
    typed_config: { '@type': `${T}envoy.extensions.filters.http.rbac.v3.RBAC`, rules: { ...(f.action !== 'ALLOW' ? { action: f.action } : {}), policies }, shadow_rules_stat_prefix: 'istio_dry_run_allow_' },
  };
}

function hcmJson(h: HttpConnectionManager, statPrefix: string): Json {
  return {
    name: HCM_NAME,
    typed_config: {
      '@type': HCM_TYPE,
      stat_prefix: statPrefix,
      ...(h.routeConfig ? { route_config: routeConfigJson(h.routeConfig, true) } : { rds: { config_source: ADS, route_config_name: h.routeConfigName ?? '' } }),
      http_filters: [...(h.rbac ?? []).map(rbacJson), { name: 'envoy.filters.http.fault', typed_config: { '@type': `${T}envoy.extensions.filters.http.fault.v3.HTTPFault` } }, ROUTER],
      ...(h.serverName ? { server_name: h.serverName } : {}),
      use_remote_address: false,
      ...(h.forwardClientCertDetails ? { forward_client_cert_details: h.forwardClientCertDetails, set_current_client_cert_details: { subject: true, dns: true, uri: true } } : {}),
      normalize_path: true,
      merge_slashes: true,
      path_with_escaped_slashes_action: 'KEEP_UNCHANGED',
    },
  };
}

function filterChainJson(fc: FilterChain, l: Listener): Json {
  const m = fc.match;
  const match: Json = {
    ...(m.destinationPort !== undefined ? { destination_port: m.destinationPort } : {}),
    ...(m.serverNames?.length ? { server_names: m.serverNames } : {}),
    ...(m.transportProtocol ? { transport_protocol: m.transportProtocol } : {}),
    ...(m.applicationProtocols?.length ? { application_protocols: m.applicationProtocols } : {}),
  };
  const statPrefix = l.direction === 'inbound' ? 'inbound_0.0.0.0_' + (m.destinationPort ?? l.port) : l.direction === 'gateway' ? 'outbound_0.0.0.0_' + l.port : 'outbound_' + l.address + '_' + l.port;
  const filters: Json[] = [];
  if (fc.http) filters.push(hcmJson(fc.http, statPrefix));
  else if (fc.tcp) filters.push({ name: TCP_PROXY_NAME, typed_config: { '@type': `${T}envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy`, stat_prefix: fc.tcp.statPrefix ?? fc.tcp.cluster, cluster: fc.tcp.cluster } });
  return {
    ...(Object.keys(match).length ? { filter_chain_match: match } : {}),
    filters,
    ...(fc.requireClientCertificate
      ? { transport_socket: { name: 'envoy.transport_sockets.tls', typed_config: { '@type': `${T}envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext`, common_tls_context: { alpn_protocols: ['h2', 'http/1.1'] }, require_client_certificate: true } } }
      : {}),
  };
}

export function listenerJson(l: Listener): Json {
  return {
    '@type': `${T}envoy.config.listener.v3.Listener`,
    name: l.name,
    address: socket(l.address, l.port, true),
    filter_chains: l.filterChains.map((fc) => filterChainJson(fc, l)),
    ...(l.direction === 'outbound' || l.direction === 'inbound' ? { traffic_direction: l.direction.toUpperCase() } : {}),
    ...(l.name === 'virtualOutbound' || l.name === 'virtualInbound' ? { use_original_dst: true } : l.direction === 'outbound' ? { bind_to_port: false } : {}),
  };
}

// ---- CDS / EDS -----------------------------------------------------------------------------

const LB: Record<Cluster['lbPolicy'], string | undefined> = { ROUND_ROBIN: undefined, LEAST_REQUEST: 'LEAST_REQUEST', RANDOM: 'RANDOM', PASSTHROUGH: 'CLUSTER_PROVIDED', RING_HASH: 'RING_HASH', MAGLEV: 'MAGLEV' };

const serviceOf = (hostname: string) => {
  const [name, namespace] = hostname.split('.');
  return { host: hostname, name, namespace };
};

export function clusterJson(c: Cluster): Json {
  const out: Json = { '@type': `${T}envoy.config.cluster.v3.Cluster`, name: c.name, type: c.type };
  if (c.type === 'EDS') out.eds_cluster_config = { eds_config: ADS, service_name: c.name };
  out.connect_timeout = duration(c.connectTimeoutMs);
  if (LB[c.lbPolicy]) out.lb_policy = LB[c.lbPolicy];
  const cb = c.circuitBreakers;
  out.circuit_breakers = { thresholds: [{ max_connections: cb.maxConnections, max_pending_requests: cb.maxPendingRequests, max_requests: cb.maxRequests, max_retries: cb.maxRetries, track_remaining: true }] };
  if (c.outlierDetection) {
    const o = c.outlierDetection;
    out.outlier_detection = {
      ...(o.consecutive5xx !== undefined ? { consecutive_5xx: o.consecutive5xx } : {}),
      interval: duration(o.intervalMs),
      base_ejection_time: duration(o.baseEjectionTimeMs),
      max_ejection_percent: o.maxEjectionPercent,
      enforcing_consecutive_5xx: o.consecutive5xx !== undefined ? 100 : 0,
      enforcing_success_rate: 0,
      ...(o.consecutiveGatewayErrors !== undefined ? { consecutive_gateway_failure: o.consecutiveGatewayErrors, enforcing_consecutive_gateway_failure: 100 } : { enforcing_consecutive_gateway_failure: 0 }),
    };
  }
  if (c.circuitBreakers.maxRequestsPerConnection > 0) {
    out.typed_extension_protocol_options = {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': { '@type': `${T}envoy.extensions.upstreams.http.v3.HttpProtocolOptions`, common_http_protocol_options: { max_requests_per_connection: c.circuitBreakers.maxRequestsPerConnection }, use_downstream_protocol_config: { http_protocol_options: {} } },
    };
  }
  if (c.service || c.destinationRule) {
    const istio: Json = {};
    if (c.service) {
      istio.services = [serviceOf(c.service.hostname)];
      istio.default_original_port = c.service.port;
      if (c.service.subset) istio.subset = c.service.subset;
    }
    if (c.destinationRule) istio.config = configPath('destination-rule', c.destinationRule);
    out.metadata = { filter_metadata: { istio } };
  }
  const tlsContext = (sni?: string) => ({
    name: 'envoy.transport_sockets.tls',
    typed_config: {
      '@type': `${T}envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext`,
      common_tls_context: { tls_params: { tls_minimum_protocol_version: 'TLSv1_2', tls_maximum_protocol_version: 'TLSv1_3' }, alpn_protocols: ['istio-peer-exchange', 'istio'], tls_certificate_sds_secret_configs: [{ name: 'default', sds_config: { api_config_source: { api_type: 'GRPC', grpc_services: [{ envoy_grpc: { cluster_name: 'sds-grpc' } }], set_node_on_first_message_only: true, transport_api_version: 'V3' }, initial_fetch_timeout: '0s', resource_api_version: 'V3' } }] },
      ...(sni ? { sni } : {}),
    },
  });
  if (c.direction === 'outbound' && c.type === 'EDS') {
    if (c.tls === undefined) {
      out.transport_socket_matches = [
        { name: 'tlsMode-istio', match: { tlsMode: 'istio' }, transport_socket: tlsContext(c.sni) },
        { name: 'tlsMode-disabled', match: {}, transport_socket: { name: 'envoy.transport_sockets.raw_buffer', typed_config: { '@type': `${T}envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer` } } },
      ];
    } else if (c.tls !== 'DISABLE') out.transport_socket = tlsContext(c.sni);
  }
  return out;
}

export function loadAssignmentJson(cla: ClusterLoadAssignment): Json {
  return {
    '@type': `${T}envoy.config.endpoint.v3.ClusterLoadAssignment`,
    cluster_name: cla.cluster,
    endpoints: cla.endpoints.length
      ? [
          {
            locality: {},
            lb_endpoints: cla.endpoints.map((e) => ({
              endpoint: { address: socket(e.address, e.port), health_check_config: {} },
              health_status: e.health,
              metadata: {
                filter_metadata: {
                  ...(e.tlsMode ? { 'envoy.transport_socket_match': { tlsMode: e.tlsMode } } : {}),
                  ...(e.pod ? { istio: { workload: `${e.pod.labels['app'] ?? e.pod.name};${e.pod.namespace};${e.pod.labels['service.istio.io/canonical-name'] ?? e.pod.labels['app'] ?? ''};${e.pod.labels['service.istio.io/canonical-revision'] ?? e.pod.labels['version'] ?? 'latest'};Kubernetes` } } : {}),
                },
              },
              load_balancing_weight: 1,
            })),
          },
        ]
      : [],
    policy: { overprovisioning_factor: 140 },
  };
}

// ---- the dump ------------------------------------------------------------------------------

export interface DumpOptions {
  /** Envoy's `?mask=`: the top-level fields of each config to keep (`@type` always stays). */
  mask?: string[];
  /** Envoy's `?include_eds`: adds the EndpointsConfigDump. */
  includeEds?: boolean;
}

const isBootstrapCluster = (name: string) => (BOOTSTRAP_CLUSTERS as readonly string[]).includes(name);
const isBootstrapListener = (name: string) => (BOOTSTRAP_LISTENERS as readonly string[]).includes(name);

/** Every inline route configuration in the listeners (Envoy lists them as static route configs). */
function inlineRouteConfigs(listeners: Json[]): Json[] {
  const out: Json[] = [];
  for (const l of listeners) {
    for (const fc of (l.filter_chains as Json[]) ?? []) {
      for (const f of (fc.filters as Json[]) ?? []) {
        const rc = (f.typed_config as Json | undefined)?.route_config as Json | undefined;
        if (f.name === HCM_NAME && rc) out.push({ '@type': `${T}envoy.config.route.v3.RouteConfiguration`, ...rc });
      }
    }
  }
  return out;
}

/** The whole `/config_dump` body of a proxy, as Envoy writes it (2-space JSON). */
export function configDump(info: BootstrapInfo, config: ProxyConfig | undefined, opts: DumpOptions = {}): Json {
  const ts = stamp(info.startedAt);
  const version = config?.version;
  // istiod's version string starts with the push time (xds/distribution.ts): when Envoy took the config.
  const pushed = /^\d{4}-\d\d-\d\dT[\d:.]+Z/.exec(version ?? '')?.[0] ?? ts;
  const bootstrap = bootstrapJson(info);
  const staticListeners = bootstrapListeners();
  const dynamicListeners = (config?.listeners ?? []).filter((l) => !isBootstrapListener(l.name)).map(listenerJson);
  const dynamicClusters = (config?.clusters ?? []).filter((c) => !isBootstrapCluster(c.name));
  const vi = version ? { version_info: version } : {};
  const configs: Json[] = [
    { '@type': DUMP_TYPES.bootstrap, bootstrap, last_updated: ts },
    {
      '@type': DUMP_TYPES.clusters,
      ...vi,
      static_clusters: bootstrapClusters().map((cluster) => ({ cluster, last_updated: ts })),
      ...(dynamicClusters.length ? { dynamic_active_clusters: dynamicClusters.map((c) => ({ ...vi, cluster: clusterJson(c), last_updated: pushed })) } : {}),
    },
  ];
  if (opts.includeEds) {
    const staticEps = bootstrapClusters().map((c) => ({ endpoint_config: { '@type': `${T}envoy.config.endpoint.v3.ClusterLoadAssignment`, ...(c.load_assignment as Json) } }));
    configs.push({
      '@type': DUMP_TYPES.endpoints,
      static_endpoint_configs: staticEps,
      ...(config?.endpoints.length ? { dynamic_endpoint_configs: config.endpoints.map((e) => ({ ...vi, endpoint_config: loadAssignmentJson(e), last_updated: pushed })) } : {}),
    });
  }
  configs.push({
    '@type': DUMP_TYPES.listeners,
    ...vi,
    static_listeners: staticListeners.map((listener) => ({ listener, last_updated: ts })),
    ...(dynamicListeners.length ? { dynamic_listeners: dynamicListeners.map((listener) => ({ name: listener.name, active_state: { ...vi, listener, last_updated: pushed } })) } : {}),
  });
  configs.push({ '@type': DUMP_TYPES.scopedRoutes });
  const staticRoutes = inlineRouteConfigs([...staticListeners, ...dynamicListeners]);
  configs.push({
    '@type': DUMP_TYPES.routes,
    static_route_configs: staticRoutes.map((route_config) => ({ route_config, last_updated: ts })),
    ...(config?.routes.length ? { dynamic_route_configs: config.routes.map((rc) => ({ ...vi, route_config: routeConfigJson(rc), last_updated: pushed })) } : {}),
  });
  configs.push({ '@type': DUMP_TYPES.secrets, dynamic_active_secrets: secretsJson(ts) });
  if (!opts.mask?.length) return { configs };
  const keep = new Set(opts.mask);
  return { configs: configs.map((c) => Object.fromEntries(Object.entries(c).filter(([k]) => k === '@type' || keep.has(k)))) };
}

/** The workload certificate and root CA the agent serves over SDS (their PEM bodies are not simulated). */
function secretsJson(ts: string): Json[] {
  const secret = (name: string) => ({ name, version_info: ts, last_updated: ts, secret: { '@type': `${T}envoy.extensions.transport_sockets.tls.v3.Secret`, name } });
  return [secret('default'), secret('ROOTCA')];
}
