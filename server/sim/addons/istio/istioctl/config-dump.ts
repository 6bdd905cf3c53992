/**
 * istioctl's reading of an Envoy config dump and `/clusters?format=json` (istioctl/pkg/writer/
 * envoy/configdump/*.go, writer/envoy/clusters): the summary tables `proxy-config` prints, with
 * its sort orders, filters and tabwriter paddings, and the `-o json|yaml` renderings (jsonpb's
 * camelCase, 4-space indent; YAML with sorted keys as sigs.k8s.io/yaml writes it).
 */
import { stringify as toYaml } from 'yaml';
import { tabwrite } from './status.js';

type Json = Record<string, any>;

const T = 'type.googleapis.com/envoy.admin.v3.';
const HCM = 'envoy.filters.network.http_connection_manager';
const TCP = 'envoy.filters.network.tcp_proxy';

export class DumpError extends Error {}

function configOf(dump: Json, type: string): Json | undefined {
  return (dump.configs as Json[] | undefined)?.find((c) => c['@type'] === `${T}${type}`);
}

function need(dump: Json, type: string): Json {
  const c = configOf(dump, type);
  if (!c) throw new DumpError(`config dump has no configuration type ${T}${type}`);
  return c;
}

// ---- -o json / yaml --------------------------------------------------------------------------

const camel = (k: string) => k.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

/** Fields whose value is a map keyed by names (kept) of messages (converted). */
const MAP_FIELDS = new Set(['typed_extension_protocol_options', 'typed_per_filter_config', 'policies']);
/** Fields holding a google.protobuf.Struct (kept as written). */
const STRUCT_FIELDS = new Set(['filter_metadata']);

/** jsonpb's rendering of a message Envoy dumped with proto names: lowerCamel field names. */
export function toJsonpb(v: unknown, parent = ''): unknown {
  if (Array.isArray(v)) return v.map((x) => toJsonpb(x, parent));
  if (!v || typeof v !== 'object') return v;
  const out: Json = {};
  for (const [k, val] of Object.entries(v as Json)) {
    if (k === '@type') out[k] = val;
    else if (STRUCT_FIELDS.has(k) || (k === 'metadata' && (parent === 'node' || parent === 'user_agent_build_version')) || (k === 'match' && parent === 'transport_socket_matches')) out[camel(k)] = val;
    else if (MAP_FIELDS.has(k)) out[camel(k)] = Object.fromEntries(Object.entries(val as Json).map(([mk, mv]) => [mk, toJsonpb(mv, k)]));
    else out[camel(k)] = toJsonpb(val, k);
  }
  return out;
}

/** What istioctl prints for `-o json` (json.MarshalIndent, 4 spaces) or `-o yaml` (sigs.k8s.io/yaml). */
export function renderDump(value: unknown, format: 'json' | 'yaml'): string {
  if (format === 'yaml') return goYaml(value) + '\n';
  return JSON.stringify(value, null, 4) + '\n';
}

export function goYaml(value: unknown): string {
  if (Array.isArray(value) && value.length === 0) return '[]\n';
  return toYaml(value, { sortMapEntries: true, indentSeq: false, lineWidth: 0, singleQuote: true });
}

// ---- clusters --------------------------------------------------------------------------------

export interface ClusterFilter {
  fqdn?: string;
  port?: number;
  subset?: string;
  direction?: string;
}

/** model.ParseSubsetKey: `direction|port|subset|fqdn`. */
function parseSubsetKey(name: string): { direction: string; port: number; subset: string; fqdn: string } {
  const parts = name.split('|');
  if (parts.length > 3) return { direction: parts[0]!, port: Number(parts[1]) || 0, subset: parts[2]!, fqdn: parts[3]! };
  return { direction: '', port: 0, subset: '', fqdn: name };
}

const cmp = (a: string | number, b: string | number) => (a < b ? -1 : a > b ? 1 : 0);

function sortBySubsetKey<X>(items: X[], nameOf: (x: X) => string): X[] {
  return [...items].sort((x, y) => {
    const a = parseSubsetKey(nameOf(x));
    const b = parseSubsetKey(nameOf(y));
    return cmp(a.fqdn, b.fqdn) || cmp(a.subset, b.subset) || cmp(a.port, b.port) || cmp(a.direction, b.direction);
  });
}

function clusterVerify(f: ClusterFilter, name: string): boolean {
  if (!f.fqdn && !f.port && !f.subset && !f.direction) return true;
  if (f.fqdn && !name.includes(f.fqdn)) return false;
  if (f.direction && !name.includes(f.direction)) return false;
  if (f.subset && !name.includes(f.subset)) return false;
  if (f.port && !name.includes(`|${f.port}|`)) return false;
  return true;
}

export function sortedClusters(dump: Json): Json[] {
  const c = need(dump, 'ClustersConfigDump');
  const clusters = [...((c.dynamic_active_clusters as Json[]) ?? []).map((x) => x.cluster), ...((c.static_clusters as Json[]) ?? []).map((x) => x.cluster)].filter(Boolean) as Json[];
  if (!clusters.length) throw new DumpError('no clusters found');
  return sortBySubsetKey(clusters, (x) => x.name as string);
}

/** describeManagement: `<name>.<namespace>` of the networking config that produced a resource. */
function describeManagement(metadata: Json | undefined): string {
  const config = metadata?.filter_metadata?.istio?.config as string | undefined;
  if (config === undefined) return '';
  if (config.startsWith('/apis/networking.istio.io/')) {
    const pieces = config.split('/');
    return pieces.length === 8 ? `${pieces[7]}.${pieces[5]}` : '';
  }
  return '<unknown>';
}

export function clusterSummary(dump: Json, f: ClusterFilter, withType = false): string {
  const rows: string[][] = [withType ? ['NAME', 'SERVICE FQDN', 'PORT', 'SUBSET', 'DIRECTION', 'TYPE', 'DESTINATION RULE'] : ['SERVICE FQDN', 'PORT', 'SUBSET', 'DIRECTION', 'TYPE', 'DESTINATION RULE']];
  for (const c of sortedClusters(dump)) {
    const name = c.name as string;
    if (!clusterVerify(f, name)) continue;
    const type = (c.type as string | undefined) ?? 'STATIC';
    const dr = describeManagement(c.metadata);
    if (name.split('|').length > 3) {
      const k = parseSubsetKey(name);
      const row = [k.fqdn, String(k.port), k.subset || '-', k.direction, type, dr];
      rows.push(withType ? [`cluster/${name}`, ...row] : row);
    } else {
      // istioctl renames the cluster before printing it, so both columns say cluster/<name>.
      rows.push(withType && name ? [`cluster/${name}`, `cluster/${name}`, '-', '-', '-', type, dr] : [name, '-', '-', '-', type, dr]);
    }
  }
  return tabwrite(rows, 5);
}

export function clusterDump(dump: Json, f: ClusterFilter, format: 'json' | 'yaml'): string {
  return renderDump(sortedClusters(dump).filter((c) => clusterVerify(f, c.name)).map((c) => toJsonpb(c)), format);
}

// ---- listeners -------------------------------------------------------------------------------

export interface ListenerFilter {
  address?: string;
  port?: number;
  type?: string;
  verbose: boolean;
}

function listeners(dump: Json): Json[] {
  const c = configOf(dump, 'ListenersConfigDump');
  if (!c) throw new DumpError('listener dump: config dump has no configuration type type.googleapis.com/envoy.admin.v3.ListenersConfigDump');
  const out = [...((c.dynamic_listeners as Json[]) ?? []).map((l) => l.active_state?.listener), ...((c.static_listeners as Json[]) ?? []).map((l) => l.listener)].filter(Boolean) as Json[];
  if (!out.length) throw new DumpError('no listeners found');
  return out;
}

const lAddress = (l: Json) => (l.address?.socket_address?.address ?? l.address?.pipe?.path ?? '') as string;
const lPort = (l: Json) => (l.address?.socket_address?.port_value ?? 0) as number;
const lAdditional = (l: Json) => ((l.additional_addresses as Json[]) ?? []).map((a) => a.address?.socket_address?.address as string);
const chains = (l: Json): Json[] => [...((l.filter_chains as Json[]) ?? []), ...(l.default_filter_chain ? [l.default_filter_chain] : [])];

function listenerType(l: Json): string {
  let http = 0;
  let tcp = 0;
  for (const fc of chains(l)) {
    for (const f of (fc.filters as Json[]) ?? []) {
      if (f.name === HCM) http++;
      else if (f.name === TCP && f.typed_config?.cluster !== 'BlackHoleCluster') tcp++;
    }
  }
  if (http > 0) return tcp === 0 ? 'HTTP' : 'HTTP+TCP';
  return tcp > 0 ? 'TCP' : 'UNKNOWN';
}

function listenerVerify(f: ListenerFilter, l: Json): boolean {
  if (!f.address && !f.port && !f.type) return true;
  if (f.address && ![...lAdditional(l), lAddress(l)].some((a) => a.toLowerCase() === f.address!.toLowerCase())) return false;
  if (f.port && lPort(l) !== f.port) return false;
  if (f.type && listenerType(l).toLowerCase() !== f.type.toLowerCase()) return false;
  return true;
}

const PROT_DESCRS: [string, string[]][] = [
  ['App: HTTP TLS', ['http/1.0', 'http/1.1', 'h2c', 'istio-http/1.0', 'istio-http/1.1', 'istio-h2']],
  ['App: Istio HTTP Plain', ['istio', 'istio-http/1.0', 'istio-http/1.1', 'istio-h2']],
  ['App: TCP TLS', ['istio-peer-exchange', 'istio']],
  ['App: HTTP', ['http/1.0', 'http/1.1', 'h2c']],
];

function getMatches(m: Json | undefined): string {
  const match = m ?? {};
  const descrs: string[] = [];
  if (match.server_names?.length) descrs.push(`SNI: ${match.server_names.join(',')}`);
  if (match.transport_protocol) descrs.push(`Trans: ${match.transport_protocol}`);
  if (match.application_protocols?.length) {
    const ap = match.application_protocols as string[];
    const known = PROT_DESCRS.find(([, p]) => p.length === ap.length && p.every((x, i) => x === ap[i]));
    descrs.push(known ? known[0] : `App: ${ap.join(',')}`);
  }
  const port = match.destination_port !== undefined ? `:${match.destination_port}` : '';
  if (match.prefix_ranges?.length) descrs.push(`Addr: ${(match.prefix_ranges as Json[]).map((p) => `${p.address_prefix}/${p.prefix_len ?? 0}`).join(',')}${port}`);
  else if (port) descrs.push(`Addr: *${port}`);
  return descrs.length ? descrs.join('; ') : 'ALL';
}

function describeMatch(m: Json | undefined): string {
  const conds: string[] = [];
  if (m?.prefix) conds.push(`${m.prefix}*`);
  if (m?.path_separated_prefix) conds.push(`PathPrefix:${m.path_separated_prefix}`);
  if (m?.path) conds.push(m.path);
  if (m?.safe_regex) conds.push(`regex ${m.safe_regex.regex}`);
  return conds.join(' ');
}

function describeRouteConfig(rc: Json): string {
  const vhs = (rc.virtual_hosts as Json[]) ?? [];
  if (vhs.length === 1 && vhs[0]!.domains?.length === 1 && vhs[0]!.domains[0] === '*' && vhs[0]!.routes?.length === 1) {
    const r = vhs[0]!.routes[0] as Json;
    if (r.match?.prefix === '/' && typeof r.route?.cluster === 'string') return (r.route.cluster as string).includes('Cluster') ? r.route.cluster : `Cluster: ${r.route.cluster}`;
  }
  const parts = vhs.map((vh) => {
    const domains = vh.domains?.length === 1 && vh.domains[0] === '*' ? '' : ((vh.domains as string[]) ?? []).join('/');
    const routes = ((vh.routes as Json[]) ?? []).map((r) => describeMatch(r.match)).join(', ');
    return domains ? `${domains} ${routes}` : routes;
  });
  return `Inline Route: ${parts.join('; ')}`;
}

function filterType(filters: Json[]): string {
  for (const f of filters) {
    if (f.name === HCM) {
      const h = f.typed_config ?? {};
      if (h.route_config) return describeRouteConfig(h.route_config);
      if (h.rds?.route_config_name) return `Route: ${h.rds.route_config_name}`;
      return 'HTTP';
    }
    if (f.name === TCP && f.typed_config?.cluster !== 'BlackHoleCluster') {
      const cluster = (f.typed_config?.cluster ?? '') as string;
      return cluster.includes('Cluster') ? cluster : `Cluster: ${cluster}`;
    }
  }
  return 'Non-HTTP/Non-TCP';
}

export function listenerSummary(dump: Json, f: ListenerFilter, withType = false): string {
  const ls = listeners(dump)
    .filter((l) => listenerVerify(f, l))
    .sort((a, b) => cmp(lPort(a), lPort(b)) || cmp(lAddress(a), lAddress(b)) || cmp(listenerType(a), listenerType(b)));
  const head = ['ADDRESSES', 'PORT', ...(f.verbose ? ['MATCH', 'DESTINATION'] : ['TYPE'])];
  const rows: string[][] = [withType ? ['NAME', ...head] : head];
  for (const l of ls) {
    const addrs = [lAddress(l), ...lAdditional(l)].join(',');
    const pre = withType ? [`listener/${l.name ?? ''}`] : [];
    if (f.verbose) {
      const matches = chains(l).map((fc) => ({ match: getMatches(fc.filter_chain_match), destination: filterType((fc.filters as Json[]) ?? []) }));
      matches.sort((a, b) => cmp(b.destination, a.destination));
      for (const m of matches) rows.push([...pre, addrs, String(lPort(l)), m.match, m.destination]);
    } else rows.push([...pre, addrs, String(lPort(l)), listenerType(l)]);
  }
  return tabwrite(rows, 1);
}

export function listenerDump(dump: Json, f: ListenerFilter, format: 'json' | 'yaml'): string {
  return renderDump(listeners(dump).filter((l) => listenerVerify(f, l)).map((l) => toJsonpb(l)), format);
}

// ---- routes ----------------------------------------------------------------------------------

export interface RouteFilter {
  name?: string;
  verbose: boolean;
}

/** Go's sort.Slice on few elements (insertion sort) with istioctl's comparator: numeric names ordered, others stay put. */
function sortRoutes(routes: Json[]): Json[] {
  const less = (a: Json, b: Json) => {
    if (!/^[+-]?\d+$/.test(a.name ?? '') || !/^[+-]?\d+$/.test(b.name ?? '')) return false;
    return Number(a.name) < Number(b.name);
  };
  const out = [...routes];
  for (let i = 1; i < out.length; i++) for (let j = i; j > 0 && less(out[j]!, out[j - 1]!); j--) [out[j], out[j - 1]] = [out[j - 1]!, out[j]!];
  return out;
}

function routes(dump: Json): Json[] {
  const c = need(dump, 'RoutesConfigDump');
  const out = [...((c.dynamic_route_configs as Json[]) ?? []).map((r) => r.route_config), ...((c.static_route_configs as Json[]) ?? []).map((r) => r.route_config)].filter(Boolean) as Json[];
  if (!out.length) throw new DumpError('no routes found');
  return sortRoutes(out);
}

/** Domains without ports, the `.svc.cluster.local` / `.svc` expansions folded, two shown then `+ N more...`. */
export function describeRouteDomains(domains: string[]): string {
  if (domains.length === 0) return '';
  if (domains.length === 1) return domains[0]!;
  let withoutPort = domains.filter((d) => !d.includes(':') || ((d.match(/:/g) ?? []).length > 2 && d.endsWith(']')));
  const unique = new Set(withoutPort);
  const drop = new Set<string>();
  for (const h of withoutPort) {
    const full = h.endsWith('.svc.cluster.local') ? h.slice(0, -'.svc.cluster.local'.length) : h;
    if (full !== h && unique.has(full)) drop.add(h);
    const partial = h.endsWith('.svc') ? h.slice(0, -'.svc'.length) : h;
    if (partial !== h && unique.has(partial)) drop.add(h);
  }
  withoutPort = withoutPort.filter((h) => !drop.has(h));
  if (withoutPort.length > 2) return `${withoutPort.slice(0, 2).join(', ')} + ${withoutPort.length - 2} more...`;
  return withoutPort.join(', ');
}

const isPassthrough = (r: Json) => r.route?.cluster === 'PassthroughCluster';

export function routeSummary(dump: Json, f: RouteFilter, withType = false): string {
  const rows: string[][] = [f.verbose ? ['NAME', 'VHOST NAME', 'DOMAINS', 'MATCH', 'VIRTUAL SERVICE'] : ['NAME', 'VIRTUAL HOSTS']];
  for (const rc of routes(dump)) {
    if (f.name && f.name !== (rc.name ?? '')) continue;
    const name = withType ? `route/${rc.name ?? ''}` : (rc.name ?? '');
    const vhs = (rc.virtual_hosts as Json[]) ?? [];
    if (!f.verbose) {
      rows.push([name, String(vhs.length)]);
      continue;
    }
    for (const vh of vhs) {
      const rs = (vh.routes as Json[]) ?? [];
      for (const r of rs) if (!isPassthrough(r)) rows.push([name, vh.name, describeRouteDomains(vh.domains ?? []), describeMatch(r.match), describeManagement(r.metadata)]);
      if (rs.length === 0) rows.push([name, vh.name, describeRouteDomains(vh.domains ?? []), '/*', '404']);
    }
  }
  return tabwrite(rows, 5);
}

export function routeDump(dump: Json, f: RouteFilter, format: 'json' | 'yaml'): string {
  return renderDump(routes(dump).filter((r) => !f.name || f.name === (r.name ?? '')).map((r) => toJsonpb(r)), format);
}

// ---- endpoints (/clusters?format=json) ---------------------------------------------------------

export interface EndpointFilter {
  address?: string;
  port?: number;
  cluster?: string;
  status?: string;
}

const hostAddress = (h: Json) => (h.address?.socket_address ? (h.address.socket_address.address as string) : h.address?.pipe ? `unix://${h.address.pipe.path}` : 'unknown');
const hostPort = (h: Json) => (h.address?.socket_address?.port_value ?? 0) as number;
const hostStatus = (h: Json) => (h.health_status?.eds_health_status ?? 'UNKNOWN') as string;

function endpointVerify(f: EndpointFilter, h: Json, cluster: string): boolean {
  if (!f.address && !f.port && !f.cluster && !f.status) return true;
  if (f.address && hostAddress(h).toLowerCase() !== f.address.toLowerCase()) return false;
  if (f.port && hostPort(h) !== f.port) return false;
  if (f.cluster && cluster.toLowerCase() !== f.cluster.toLowerCase()) return false;
  if (f.status && hostStatus(h).toLowerCase() !== f.status.toLowerCase()) return false;
  return true;
}

export function endpointsSummary(clusters: Json, f: EndpointFilter): string {
  const eps: { address: string; port: number; cluster: string; status: string; failed: boolean }[] = [];
  for (const c of (clusters.cluster_statuses as Json[]) ?? []) {
    for (const h of (c.host_statuses as Json[]) ?? []) {
      if (endpointVerify(f, h, c.name)) eps.push({ address: hostAddress(h), port: hostPort(h), cluster: c.name, status: hostStatus(h), failed: !!h.health_status?.failed_outlier_check });
    }
  }
  eps.sort((a, b) => cmp(a.address, b.address) || cmp(a.port, b.port) || cmp(a.cluster, b.cluster));
  const rows = [['ENDPOINT', 'STATUS', 'OUTLIER CHECK', 'CLUSTER'], ...eps.map((e) => [e.port ? `${e.address}:${e.port}` : e.address, e.status, e.failed ? 'FAILED' : 'OK', e.cluster])];
  return tabwrite(rows, 5);
}

export function endpointsDump(clusters: Json, f: EndpointFilter, format: 'json' | 'yaml'): string {
  const out = ((clusters.cluster_statuses as Json[]) ?? []).filter((c) => ((c.host_statuses as Json[]) ?? []).some((h) => endpointVerify(f, h, c.name))).map((c) => toJsonpb(c));
  return renderDump(out, format);
}

/** `proxy-config all`'s endpoints section: the EDS dump (`NAME STATUS LOCALITY CLUSTER`). */
export function edsSummary(dump: Json, withType = false): string {
  const rows: string[][] = [['NAME', 'STATUS', 'LOCALITY', 'CLUSTER']];
  const c = configOf(dump, 'EndpointsConfigDump');
  const claList = [...((c?.dynamic_endpoint_configs as Json[]) ?? []), ...((c?.static_endpoint_configs as Json[]) ?? [])].map((e) => e.endpoint_config as Json).filter((cla) => ((cla?.endpoints as Json[]) ?? []).some((l) => l.lb_endpoints?.length));
  for (const cla of sortBySubsetKey(claList, (x) => x.cluster_name as string)) {
    for (const llb of (cla.endpoints as Json[]) ?? []) {
      for (const ep of (llb.lb_endpoints as Json[]) ?? []) {
        const a = ep.endpoint?.address;
        const internal = a?.envoy_internal_address;
        const addr = a?.socket_address
          ? `${a.socket_address.address}:${a.socket_address.port_value ?? 0}`
          : a?.pipe
            ? a.pipe.path
            : internal?.server_listener_name
              ? `envoy://${internal.server_listener_name}/${internal.endpoint_id ?? ''}`
              : 'unknown';
        rows.push([withType ? `endpoint/${addr}` : addr, ep.health_status ?? 'UNKNOWN', '', cla.cluster_name]);
      }
    }
  }
  return tabwrite(rows, 5);
}

// ---- bootstrap, secrets ------------------------------------------------------------------------

export function bootstrapSummary(dump: Json): string {
  const b = need(dump, 'BootstrapConfigDump').bootstrap ?? {};
  const md = b.node?.metadata ?? {};
  const rows: string[][] = [];
  if (md.ISTIO_VERSION) rows.push(['Istio Version:', md.ISTIO_VERSION]);
  if (md.ISTIO_PROXY_SHA) rows.push(['Istio Proxy Version:', String(md.ISTIO_PROXY_SHA).split(':').pop()!]);
  const bv = b.node?.user_agent_build_version ?? {};
  const v = bv.version ?? {};
  const bm = bv.metadata ?? {};
  let envoy = `${v.major_number ?? 0}.${v.minor_number ?? 0}.${v.patch ?? 0}`;
  if (bm['build.label']) envoy += `-${bm['build.label']}`;
  if (bm['revision.status']) envoy += `/${bm['revision.status']}`;
  if (bm['build.type']) envoy += `/${bm['build.type']}`;
  if (bm['ssl.version']) envoy += `/${bm['ssl.version']}`;
  rows.push(['Envoy Version:', envoy]);
  return tabwrite(rows, 1);
}

export function bootstrapDump(dump: Json, format: 'json' | 'yaml'): string {
  const b = need(dump, 'BootstrapConfigDump');
  const msg = toJsonpb({ bootstrap: b.bootstrap, last_updated: b.last_updated });
  return format === 'yaml' ? goYaml(msg) + '\n' : JSON.stringify(msg, null, 4) + '\n';
}

/** The SDS secrets table (`istioctl pc secret`, `all`): the workload certificate and the root CA the agent serves. */
export function secretSummary(dump: Json, withType = false): string {
  const s = configOf(dump, 'SecretsConfigDump');
  const secrets = (s?.dynamic_active_secrets as Json[]) ?? [];
  if (!secrets.length) return 'No active or warming secrets found.\n';
  const rows: string[][] = [['RESOURCE NAME', 'TYPE', 'STATUS', 'VALID CERT', 'SERIAL NUMBER', 'NOT AFTER', 'NOT BEFORE']];
  for (const sec of secrets) {
    const issued = new Date(sec.last_updated ?? Date.now());
    const notAfter = new Date(issued.getTime() + (sec.name === 'ROOTCA' ? 10 * 365 * 86400_000 : 86400_000));
    const serial = [...(sec.name + (sec.last_updated ?? ''))].reduce((h, ch) => (h * 31 + ch.charCodeAt(0)) >>> 0, 7).toString(16).padStart(8, '0').repeat(4);
    const fmt = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
    rows.push([withType ? `secret/${sec.name}` : sec.name, sec.name === 'ROOTCA' ? 'CA' : 'Cert Chain', 'ACTIVE', 'true', serial, fmt(notAfter), fmt(issued)]);
  }
  return tabwrite(rows, 5);
}
