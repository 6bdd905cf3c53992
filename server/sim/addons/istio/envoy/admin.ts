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
import type { EnvoyProxy } from './proxy.js';
import { clusterManagerOf } from './upstream.js';
import { prometheusText, statsText } from './upstream-stats.js';

/** One upstream host as /clusters reports it. */
interface HostHealth {
  /** Ejected by outlier detection (`/failed_outlier_check`). */
  failedOutlierCheck: boolean;
  failedEdsHealth?: boolean;
}

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
      const lines = statLines(proxy, q.get('filter'));
      if (q.get('format') === 'json') return respond(ctx, 200, JSON.stringify({ stats: lines.map(([name, value]) => ({ name, value: Number(value) })) }, null, 1) + '\n', JSON_TYPE);
      return respond(ctx, 200, lines.map(([n, v]) => `${n}: ${v}\n`).join(''), TEXT);
    }
    case '/stats/prometheus':
      return respond(ctx, 200, prometheusText(proxy, 15090), { ...TEXT, 'content-type': 'text/plain; version=0.0.4; charset=UTF-8' });
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
    const manager = clusterManagerOf(proxy);
    const hosts = (endpoints.get(c.name) ?? []).map((e) => ({
      address: e.address,
      port: e.port,
      health: { failedEdsHealth: e.health === 'UNHEALTHY', failedOutlierCheck: manager.isEjected(c.name, `${e.address}:${e.port}`) },
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

/** `/clusters` as Envoy prints it: `<cluster>::<host>::<stat>::<value>` lines (the bootstrap's clusters, then the cluster manager's). */
export function clustersText(proxy: EnvoyProxy): string {
  let out = '';
  for (const c of clusterRows(proxy).filter((r) => !r.addedViaApi)) {
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
      for (const k of ['cx_active', 'cx_connect_fail', 'cx_total', 'rq_active', 'rq_error', 'rq_success', 'rq_timeout', 'rq_total']) p(`${host}::${k}::0`);
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
  return out + clusterManagerOf(proxy).clustersText();
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
              stats: ['cx_connect_fail', 'cx_total', 'rq_error', 'rq_success', 'rq_timeout', 'rq_total', 'cx_active', 'rq_active'].map((name) => ({ name, ...(name.endsWith('active') ? { type: 'GAUGE' } : {}) })),
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

/**
 * Envoy's own server, cluster-manager and listener-manager gauges (Istio's inclusion list keeps
 * them), computed when the stats are read; `server.live` is upstream-stats.ts's.
 */
export function addServerStats(proxy: EnvoyProxy): void {
  proxy.stats.addCollector((emit) => {
    const config = proxy.config;
    const uptime = Math.max(0, Math.floor((proxy.ctx.now().getTime() - proxy.startedAt.getTime()) / 1000));
    emit('cluster_manager.active_clusters', bootstrapClusters().length + (config?.clusters.filter((c) => !BOOTSTRAP_HOSTS[c.name]).length ?? 0), 'gauge');
    emit('cluster_manager.warming_clusters', 0, 'gauge');
    emit('listener_manager.total_listeners_active', 2 + (config?.listeners.length ?? 0), 'gauge');
    emit('listener_manager.total_listeners_draining', 0, 'gauge');
    emit('listener_manager.total_listeners_warming', 0, 'gauge');
    emit('listener_manager.workers_started', 1, 'gauge');
    emit('server.concurrency', 2, 'gauge');
    emit('server.state', 0, 'gauge');
    emit('server.total_connections', 0, 'gauge');
    emit('server.uptime', uptime, 'gauge');
  });
}

// ---- /stats --------------------------------------------------------------------------------

/** `[name, value]` of the stats /stats shows (the proxy's stats, Istio's inclusion list applied), `?filter=` applied. */
function statLines(proxy: EnvoyProxy, filter: string | null): [string, string][] {
  let re: RegExp | undefined;
  if (filter) {
    try {
      re = new RegExp(filter);
    } catch {
      re = /$^/;
    }
  }
  return statsText(proxy)
    .split('\n')
    .filter(Boolean)
    .map((l): [string, string] => {
      const i = l.lastIndexOf(': ');
      return [l.slice(0, i), l.slice(i + 2)];
    })
    .filter(([n]) => !re || re.test(n));
}
