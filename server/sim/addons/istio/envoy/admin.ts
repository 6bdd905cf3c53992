/**
 * Envoy's admin interface on 127.0.0.1:15000 (`/config_dump`, `/clusters`, `/stats`,
 * `/stats/prometheus`, `/server_info`, `/ready`, `/listeners`), which `istioctl proxy-config`
 * reads through a port-forward and `pilot-agent request GET …` reads from inside the pod.
 * Like Envoy's, it listens on loopback only: from another pod the port is closed.
 */
import { pathOnly, queryParams, respond } from '../../../images/http.js';
import type { HttpRequest, HttpResponse } from '../../../images/types.js';
import type { Cluster, ProxyConfig } from '../xds/types.js';
import { configDump, bootstrapClusters, ENVOY_VERSION, type BootstrapInfo } from './admin-dump.js';
import type { EnvoyProxy, HostHealth } from './proxy.js';

const TEXT = { 'content-type': 'text/plain; charset=UTF-8', 'cache-control': 'no-cache, max-age=0', 'x-content-type-options': 'nosniff' };
const JSON_TYPE = { 'content-type': 'application/json', 'cache-control': 'no-cache, max-age=0', 'x-content-type-options': 'nosniff' };

/** Envoy's admin commands, as its help (and its 404 for an unknown path) lists them. */
const COMMANDS: [string, string][] = [
  ['/', 'Admin home page'],
  ['/certs', 'print certs on machine'],
  ['/clusters', 'upstream cluster status'],
  ['/config_dump', 'dump current Envoy configs (experimental)'],
  ['/contention', 'dump current Envoy mutex contention stats (if enabled)'],
  ['/cpuprofiler', 'enable/disable the CPU profiler'],
  ['/drain_listeners', 'drain listeners'],
  ['/healthcheck/fail', 'cause the server to fail health checks'],
  ['/healthcheck/ok', 'cause the server to pass health checks'],
  ['/heap_dump', 'dump current Envoy heap (if supported)'],
  ['/heapprofiler', 'enable/disable the heap profiler'],
  ['/help', 'print out list of admin commands'],
  ['/hot_restart_version', 'print the hot restart compatibility version'],
  ['/init_dump', 'dump current Envoy init manager information (experimental)'],
  ['/listeners', 'print listener info'],
  ['/logging', 'query/change logging levels'],
  ['/memory', 'print current allocation/heap usage'],
  ['/quitquitquit', 'exit the server'],
  ['/ready', 'print server state, return 200 if LIVE, otherwise return 503'],
  ['/reopen_logs', 'reopen access logs'],
  ['/reset_counters', 'reset all counters to zero'],
  ['/runtime', 'print runtime values'],
  ['/runtime_modify', 'Adds or modifies runtime values as passed in query parameters. To delete a previously added key, use an empty string as the value. Note that deletion only applies to overrides added via this endpoint; values loaded from disk can be modified via override but not deleted. E.g. ?key1=value1&key2=value2...'],
  ['/server_info', 'print server version/status information'],
  ['/stats', 'print server stats'],
  ['/stats/prometheus', 'print server stats in prometheus format'],
  ['/stats/recentlookups', 'Show recent stat-name lookups'],
  ['/stats/recentlookups/clear', 'clear list of stat-name lookups and counter'],
  ['/stats/recentlookups/disable', 'disable recording of reset stat-name lookup names'],
  ['/stats/recentlookups/enable', 'enable recording of reset stat-name lookup names'],
];

const helpText = () => `admin commands are:\n${COMMANDS.map(([p, d]) => `  ${p}: ${d}\n`).join('')}`;

/** What the agent's bootstrap said about this proxy (node id, domain, start time). */
export function bootstrapInfo(proxy: EnvoyProxy): BootstrapInfo {
  const env = proxy.ctx.env;
  return {
    identity: proxy.identity,
    domain: `${proxy.identity.namespace}.svc.cluster.local`,
    startedAt: proxy.startedAt,
    clusterId: env.ISTIO_META_CLUSTER_ID || 'Kubernetes',
    meshId: env.ISTIO_META_MESH_ID || undefined,
  };
}

export async function adminServe(proxy: EnvoyProxy, req: HttpRequest): Promise<HttpResponse> {
  const ctx = proxy.ctx;
  const path = pathOnly(req.path);
  const q = queryParams(req.path);
  const mutating = ['/quitquitquit', '/healthcheck/fail', '/healthcheck/ok', '/reset_counters', '/logging', '/runtime_modify', '/drain_listeners', '/reopen_logs', '/cpuprofiler', '/heapprofiler'];
  if (mutating.includes(path)) {
    if (req.method !== 'POST') return respond(ctx, 405, 'This operation requires a POST method.\n', TEXT);
    return respond(ctx, 501, `${path} is not supported by the embedded cluster's Envoy\n`, TEXT);
  }
  switch (path) {
    case '/config_dump': {
      const mask = q.get('mask');
      const body = configDump(bootstrapInfo(proxy), proxy.config, { mask: mask ? mask.split(',') : undefined, includeEds: q.has('include_eds') });
      return respond(ctx, 200, JSON.stringify(body, null, 1) + '\n', JSON_TYPE);
    }
    case '/clusters':
      return q.get('format') === 'json' ? respond(ctx, 200, JSON.stringify(clustersJson(proxy), null, 1) + '\n', JSON_TYPE) : respond(ctx, 200, clustersText(proxy), TEXT);
    case '/stats': {
      if (q.get('format') === 'json') return respond(ctx, 200, JSON.stringify({ stats: statLines(proxy, q.get('filter')).map(([name, value]) => ({ name, value })) }, null, 1) + '\n', JSON_TYPE);
      return respond(ctx, 200, statLines(proxy, q.get('filter')).map(([n, v]) => `${n}: ${v}\n`).join(''), TEXT);
    }
    case '/stats/prometheus':
      return respond(ctx, 200, prometheusText(proxy), { ...TEXT, 'content-type': 'text/plain; version=0.0.4; charset=UTF-8' });
    case '/server_info':
      return respond(ctx, 200, JSON.stringify(serverInfo(proxy), null, 1) + '\n', JSON_TYPE);
    case '/ready':
      return respond(ctx, 200, 'LIVE\n', TEXT);
    case '/listeners':
      return respond(ctx, 200, listenerNames(proxy.config).join(''), TEXT);
    case '/help':
      return respond(ctx, 200, helpText(), TEXT);
    default:
      return respond(ctx, 404, `invalid path. ${helpText()}`, TEXT);
  }
}

function listenerNames(config: ProxyConfig | undefined): string[] {
  const rows = ['0.0.0.0_15090::0.0.0.0:15090\n', '0.0.0.0_15021::0.0.0.0:15021\n'];
  for (const l of config?.listeners ?? []) if (!rows.some((r) => r.startsWith(`${l.name}::`))) rows.push(`${l.name}::${l.address}:${l.port}\n`);
  return rows;
}

function serverInfo(proxy: EnvoyProxy) {
  const uptime = Math.max(0, Math.floor((proxy.ctx.now().getTime() - proxy.startedAt.getTime()) / 1000));
  const v = `${ENVOY_VERSION.major_number}.${ENVOY_VERSION.minor_number}.${ENVOY_VERSION.patch}`;
  return {
    version: `b1b8e2f4c6a0d3e5f7a9c1e3b5d7f9a1c3e5b7d9/${v}-dev/Clean/RELEASE/BoringSSL`,
    state: 'LIVE',
    hot_restart_version: 'disabled',
    command_line_options: { base_id: '0', concurrency: 2, config_path: 'etc/istio/proxy/envoy-rev.json', mode: 'Serve', log_level: 'warning', component_log_level: 'misc:error', service_cluster: '', service_node: '', drain_time: '45s', parent_shutdown_time: '60s', drain_strategy: 'Immediate' },
    node: { id: `${proxy.identity.type}~${proxy.identity.podIP}~${proxy.identity.id}~${proxy.identity.namespace}.svc.cluster.local`, user_agent_name: 'envoy' },
    uptime_current_epoch: `${uptime}s`,
    uptime_all_epochs: `${uptime}s`,
  };
}

// ---- /clusters -----------------------------------------------------------------------------

const MAX = 4294967295;

interface HostRow {
  address: string;
  port: number;
  /** unix:// socket clusters (sds-grpc, xds-grpc). */
  pipe?: string;
  health: HostHealth;
}

interface ClusterRow {
  name: string;
  addedViaApi: boolean;
  thresholds: { maxConnections: number; maxPendingRequests: number; maxRequests: number; maxRetries: number };
  eds: boolean;
  hosts: HostRow[];
}

const BOOTSTRAP_HOSTS: Record<string, { address?: string; port?: number; pipe?: string }> = {
  prometheus_stats: { address: '127.0.0.1', port: 15000 },
  agent: { address: '127.0.0.1', port: 15020 },
  'sds-grpc': { pipe: './var/run/secrets/workload-spiffe-uds/socket' },
  'xds-grpc': { pipe: './etc/istio/proxy/XDS' },
};

function clusterRows(proxy: EnvoyProxy): ClusterRow[] {
  const rows: ClusterRow[] = [];
  for (const c of bootstrapClusters()) {
    const name = c.name as string;
    const h = BOOTSTRAP_HOSTS[name]!;
    const big = name === 'xds-grpc' ? 100000 : 1024;
    rows.push({ name, addedViaApi: false, eds: false, thresholds: { maxConnections: big, maxPendingRequests: big, maxRequests: big, maxRetries: 3 }, hosts: [{ address: h.address ?? '', port: h.port ?? 0, ...(h.pipe ? { pipe: h.pipe } : {}), health: { failedOutlierCheck: false } }] });
  }
  const config = proxy.config;
  const endpoints = new Map((config?.endpoints ?? []).map((e) => [e.cluster, e.endpoints]));
  for (const c of config?.clusters ?? []) {
    if (BOOTSTRAP_HOSTS[c.name]) continue;
    const hosts = (endpoints.get(c.name) ?? []).map((e) => ({
      address: e.address,
      port: e.port,
      health: { failedEdsHealth: e.health === 'UNHEALTHY', ...(proxy.hostHealth?.(c.name, `${e.address}:${e.port}`) ?? { failedOutlierCheck: false }) },
    }));
    rows.push({ name: c.name, addedViaApi: true, eds: c.type === 'EDS', thresholds: thresholdsOf(c), hosts });
  }
  return rows;
}

function thresholdsOf(c: Cluster): ClusterRow['thresholds'] {
  const cb = c.circuitBreakers;
  return { maxConnections: cb.maxConnections, maxPendingRequests: cb.maxPendingRequests, maxRequests: cb.maxRequests, maxRetries: cb.maxRetries };
}

function healthFlags(h: HostHealth): string {
  const flags = [h.failedOutlierCheck ? '/failed_outlier_check' : '', h.failedEdsHealth ? '/failed_eds_health' : ''].filter(Boolean);
  return flags.length ? flags.join('') : 'healthy';
}

/** `/clusters` as Envoy prints it: `<cluster>::<host>::<stat>::<value>` lines. */
export function clustersText(proxy: EnvoyProxy): string {
  let out = '';
  for (const c of clusterRows(proxy)) {
    const p = (s: string) => (out += `${c.name}::${s}\n`);
    p(`observability_name::${c.name}`);
    for (const [prio, t] of [['default_priority', c.thresholds], ['high_priority', { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3 }]] as const) {
      p(`${prio}::max_connections::${t.maxConnections}`);
      p(`${prio}::max_pending_requests::${t.maxPendingRequests}`);
      p(`${prio}::max_requests::${t.maxRequests}`);
      p(`${prio}::max_retries::${t.maxRetries}`);
    }
    p(`added_via_api::${c.addedViaApi}`);
    if (c.eds) p(`eds_service_name::${c.name}`);
    for (const h of c.hosts) {
      const host = h.pipe ? `unix://${h.pipe}` : `${h.address}:${h.port}`;
      const s = h.health.stats ?? {};
      for (const k of ['cx_active', 'cx_connect_fail', 'cx_total', 'rq_active', 'rq_error', 'rq_success', 'rq_timeout', 'rq_total']) p(`${host}::${k}::${s[k] ?? 0}`);
      p(`${host}::hostname::`);
      p(`${host}::health_flags::${healthFlags(h.health)}`);
      p(`${host}::weight::1`);
      p(`${host}::region::`);
      p(`${host}::zone::`);
      p(`${host}::sub_zone::`);
      p(`${host}::canary::false`);
      p(`${host}::priority::0`);
      p(`${host}::success_rate::-1`);
      p(`${host}::local_origin_success_rate::-1`);
    }
  }
  return out;
}

/** `/clusters?format=json` (envoy.admin.v3.Clusters), what `istioctl proxy-config endpoints` reads. */
export function clustersJson(proxy: EnvoyProxy): Record<string, unknown> {
  return {
    cluster_statuses: clusterRows(proxy).map((c) => ({
      name: c.name,
      ...(c.addedViaApi ? { added_via_api: true } : {}),
      ...(c.hosts.length
        ? {
            host_statuses: c.hosts.map((h) => ({
              address: h.pipe ? { pipe: { path: h.pipe } } : { socket_address: { address: h.address, port_value: h.port } },
              stats: ['cx_connect_fail', 'cx_total', 'rq_error', 'rq_success', 'rq_timeout', 'rq_total', 'cx_active', 'rq_active'].map((name) => {
                const v = h.health.stats?.[name] ?? 0;
                return v ? { value: String(v), name, ...(name.endsWith('active') ? { type: 'GAUGE' } : {}) } : { name, ...(name.endsWith('active') ? { type: 'GAUGE' } : {}) };
              }),
              health_status: { ...(h.health.failedOutlierCheck ? { failed_outlier_check: true } : {}), eds_health_status: h.health.failedEdsHealth ? 'UNHEALTHY' : 'HEALTHY' },
              weight: 1,
              locality: {},
            })),
          }
        : {}),
      circuit_breakers: {
        thresholds: [
          { max_connections: c.thresholds.maxConnections, max_pending_requests: c.thresholds.maxPendingRequests, max_requests: c.thresholds.maxRequests, max_retries: c.thresholds.maxRetries },
          { priority: 'HIGH', max_connections: 1024, max_pending_requests: 1024, max_requests: 1024, max_retries: 3 },
        ],
      },
      observability_name: c.name,
      ...(c.eds ? { eds_service_name: c.name } : {}),
    })),
  };
}

// ---- /stats --------------------------------------------------------------------------------

/** Istio's bootstrap stats matcher: what Envoy keeps besides the istio metrics (pkg/bootstrap/config.go). */
const REQUIRED_PREFIXES = ['cluster_manager', 'listener_manager', 'server', 'cluster.xds-grpc', 'wasm', 'reporter=', 'component', 'istio'];
const REQUIRED_SUFFIXES = ['rbac.allowed', 'rbac.denied', 'shadow_allowed', 'shadow_denied', 'downstream_cx_active'];

interface StatsMatcher {
  prefixes: string[];
  suffixes: string[];
  regexps: RegExp[];
}

/** The proxy's stats matcher: Istio's required entries plus `proxyStatsMatcher` from its PROXY_CONFIG (the `proxy.istio.io/config` annotation). */
export function statsMatcher(env: Record<string, string>): StatsMatcher {
  const m: StatsMatcher = { prefixes: [...REQUIRED_PREFIXES], suffixes: [...REQUIRED_SUFFIXES], regexps: [/vhost\..*\.route\..*/] };
  try {
    const pc = JSON.parse(env.PROXY_CONFIG || '{}') as { proxyStatsMatcher?: { inclusionPrefixes?: string[]; inclusionSuffixes?: string[]; inclusionRegexps?: string[] } };
    const s = pc.proxyStatsMatcher;
    if (s?.inclusionPrefixes) m.prefixes.push(...s.inclusionPrefixes);
    if (s?.inclusionSuffixes) m.suffixes.push(...s.inclusionSuffixes);
    for (const r of s?.inclusionRegexps ?? []) {
      try {
        m.regexps.push(new RegExp(`^(?:${r})$`));
      } catch {
        // Envoy would have rejected the bootstrap; an invalid pattern matches nothing here.
      }
    }
  } catch {
    // An unparsable PROXY_CONFIG leaves the required matcher.
  }
  return m;
}

const included = (m: StatsMatcher, name: string) => m.prefixes.some((p) => name.startsWith(p)) || m.suffixes.some((s) => name.endsWith(s)) || m.regexps.some((r) => r.test(name));

/** Stats every cluster has from its creation (Envoy's cluster stats that the tasks grep). */
const CLUSTER_COUNTERS = [
  'assignment_stale', 'assignment_timeout_received', 'bind_errors', 'default.total_match_count', 'lb_healthy_panic', 'lb_local_cluster_not_ok', 'lb_recalculate_zone_structures', 'lb_subsets_created', 'lb_subsets_fallback',
  'lb_subsets_removed', 'lb_subsets_selected', 'lb_zone_cluster_too_small', 'lb_zone_no_capacity_left', 'lb_zone_number_differs', 'lb_zone_routing_all_directly', 'lb_zone_routing_cross_zone', 'lb_zone_routing_sampled',
  'membership_change', 'original_dst_host_invalid', 'retry_or_shadow_abandoned', 'update_attempt', 'update_empty', 'update_failure', 'update_no_rebuild', 'update_rejected', 'update_success',
  'upstream_cx_close_notify', 'upstream_cx_connect_attempts_exceeded', 'upstream_cx_connect_fail', 'upstream_cx_connect_timeout', 'upstream_cx_destroy', 'upstream_cx_destroy_local', 'upstream_cx_destroy_local_with_active_rq',
  'upstream_cx_destroy_remote', 'upstream_cx_destroy_remote_with_active_rq', 'upstream_cx_destroy_with_active_rq', 'upstream_cx_http1_total', 'upstream_cx_http2_total', 'upstream_cx_http3_total', 'upstream_cx_idle_timeout',
  'upstream_cx_max_duration_reached', 'upstream_cx_max_requests', 'upstream_cx_none_healthy', 'upstream_cx_overflow', 'upstream_cx_pool_overflow', 'upstream_cx_protocol_error', 'upstream_cx_rx_bytes_total', 'upstream_cx_total',
  'upstream_cx_tx_bytes_total', 'upstream_flow_control_backed_up_total', 'upstream_flow_control_drained_total', 'upstream_flow_control_paused_reading_total', 'upstream_flow_control_resumed_reading_total',
  'upstream_internal_redirect_failed_total', 'upstream_internal_redirect_succeeded_total', 'upstream_rq_cancelled', 'upstream_rq_completed', 'upstream_rq_maintenance_mode', 'upstream_rq_max_duration_reached',
  'upstream_rq_pending_failure_eject', 'upstream_rq_pending_overflow', 'upstream_rq_pending_total', 'upstream_rq_per_try_idle_timeout', 'upstream_rq_per_try_timeout', 'upstream_rq_retry', 'upstream_rq_retry_backoff_exponential',
  'upstream_rq_retry_backoff_ratelimited', 'upstream_rq_retry_limit_exceeded', 'upstream_rq_retry_overflow', 'upstream_rq_retry_success', 'upstream_rq_rx_reset', 'upstream_rq_timeout', 'upstream_rq_total', 'upstream_rq_tx_reset',
];
const CLUSTER_GAUGES = [
  'circuit_breakers.default.cx_open', 'circuit_breakers.default.cx_pool_open', 'circuit_breakers.default.rq_open', 'circuit_breakers.default.rq_pending_open', 'circuit_breakers.default.rq_retry_open',
  'circuit_breakers.high.cx_open', 'circuit_breakers.high.cx_pool_open', 'circuit_breakers.high.rq_open', 'circuit_breakers.high.rq_pending_open', 'circuit_breakers.high.rq_retry_open',
  'lb_subsets_active', 'max_host_weight', 'membership_degraded', 'membership_excluded', 'membership_healthy', 'membership_total', 'upstream_cx_active', 'upstream_cx_rx_bytes_buffered', 'upstream_cx_tx_bytes_buffered',
  'upstream_rq_active', 'upstream_rq_pending_active', 'version',
];
const OUTLIER = ['outlier_detection.ejections_active', 'outlier_detection.ejections_consecutive_5xx', 'outlier_detection.ejections_detected_consecutive_5xx', 'outlier_detection.ejections_enforced_consecutive_5xx', 'outlier_detection.ejections_enforced_total', 'outlier_detection.ejections_overflow', 'outlier_detection.ejections_total'];

/**
 * Envoy names a cluster's stats by its alt_stat_name (`<cluster>;`), so `cluster.<name>.x` is
 * printed as `cluster.<name>;.x`; a name already in that form stays.
 */
function displayName(name: string, clusters: string[]): string {
  if (!name.startsWith('cluster.') || name.includes(';.')) return name;
  for (const c of clusters) if (name.startsWith(`cluster.${c}.`)) return `cluster.${c};.${name.slice(`cluster.${c}.`.length)}`;
  return name;
}

/** `[name, value]` of every stat /stats shows, sorted by name. */
export function statLines(proxy: EnvoyProxy, filter?: string | null): [string, number][] {
  const matcher = statsMatcher(proxy.ctx.env);
  const config = proxy.config;
  const clusterNames = ['xds-grpc', ...(config?.clusters ?? []).map((c) => c.name)];
  const stats = new Map<string, number>();
  const endpointCount = new Map((config?.endpoints ?? []).map((e) => [e.cluster, e.endpoints.length]));
  for (const c of clusterNames) {
    const base = `cluster.${c};.`;
    for (const k of CLUSTER_COUNTERS) stats.set(base + k, 0);
    for (const k of CLUSTER_GAUGES) stats.set(base + k, 0);
    const cfg = config?.clusters.find((x) => x.name === c);
    if (cfg?.outlierDetection) for (const k of OUTLIER) stats.set(base + k, 0);
    const n = c === 'xds-grpc' ? 1 : endpointCount.get(c) ?? 0;
    stats.set(base + 'membership_healthy', n);
    stats.set(base + 'membership_total', n);
    if (cfg) {
      stats.set(base + 'circuit_breakers.default.remaining_cx', cfg.circuitBreakers.maxConnections);
      stats.set(base + 'circuit_breakers.default.remaining_pending', cfg.circuitBreakers.maxPendingRequests);
      stats.set(base + 'circuit_breakers.default.remaining_retries', cfg.circuitBreakers.maxRetries);
      stats.set(base + 'circuit_breakers.default.remaining_rq', cfg.circuitBreakers.maxRequests);
    }
  }
  const nClusters = 4 + (config?.clusters.length ?? 0);
  const nListeners = 2 + (config?.listeners.length ?? 0);
  const uptime = Math.max(0, Math.floor((proxy.ctx.now().getTime() - proxy.startedAt.getTime()) / 1000));
  for (const [k, v] of Object.entries({
    'cluster_manager.active_clusters': nClusters, 'cluster_manager.cds.update_success': config ? 1 : 0, 'cluster_manager.cluster_added': nClusters, 'cluster_manager.cluster_modified': 0, 'cluster_manager.cluster_removed': 0,
    'cluster_manager.cluster_updated': 0, 'cluster_manager.warming_clusters': 0, 'listener_manager.lds.update_success': config ? 1 : 0, 'listener_manager.listener_added': nListeners, 'listener_manager.listener_create_failure': 0,
    'listener_manager.listener_create_success': nListeners * 2, 'listener_manager.listener_modified': 0, 'listener_manager.listener_removed': 0, 'listener_manager.total_listeners_active': nListeners,
    'listener_manager.total_listeners_draining': 0, 'listener_manager.total_listeners_warming': 0, 'listener_manager.workers_started': 1, 'server.concurrency': 2, 'server.days_until_first_cert_expiring': 0,
    'server.hot_restart_epoch': 0, 'server.live': 1, 'server.state': 0, 'server.total_connections': 0, 'server.uptime': uptime, 'server.version': 0,
  })) stats.set(k, v);
  for (const [k, v] of proxy.stats.counters) stats.set(displayName(k, clusterNames), v);
  for (const [k, v] of proxy.stats.gauges) stats.set(displayName(k, clusterNames), v);
  let re: RegExp | undefined;
  if (filter) {
    try {
      re = new RegExp(filter);
    } catch {
      re = /$^/;
    }
  }
  return [...stats]
    .filter(([n]) => included(matcher, n.replace(';.', '.')) && (!re || re.test(n)))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** `/stats/prometheus`: the same stats as Envoy converts them (cluster name as a tag, `envoy_` prefix). */
export function prometheusText(proxy: EnvoyProxy): string {
  const counters = new Set<string>();
  for (const k of CLUSTER_COUNTERS) counters.add(k);
  const families = new Map<string, { type: string; samples: string[] }>();
  for (const [name, value] of statLines(proxy)) {
    let metric = name;
    let labels = '';
    const m = /^cluster\.(.+?);\.(.*)$/.exec(name);
    if (m) {
      metric = `cluster.${m[2]}`;
      labels = `{cluster_name="${m[1]}"}`;
    }
    const promName = 'envoy_' + metric.replace(/[^a-zA-Z0-9_]/g, '_');
    const tail = m ? m[2]! : name;
    const type = counters.has(tail) || /(_total|\.update_success|_added|_removed|_modified|_failure|_success)$/.test(tail) ? 'counter' : 'gauge';
    const fam = families.get(promName) ?? { type, samples: [] };
    fam.samples.push(`${promName}${labels} ${value}`);
    families.set(promName, fam);
  }
  let out = '';
  for (const [n, f] of [...families].sort(([a], [b]) => (a < b ? -1 : 1))) out += `# TYPE ${n} ${f.type}\n${f.samples.join('\n')}\n`;
  return out;
}
