/**
 * A proxy's statistics: Envoy's own counters and gauges (`cluster.outbound|8000||httpbin…;.upstream_rq_pending_overflow`,
 * what `pilot-agent request GET stats` prints) and Istio's standard metrics (`istio_requests_total`,
 * `istio_request_duration_milliseconds`, …, what Prometheus scrapes from 15020/15090 and the
 * mesh pictures read). Both renderings apply Istio's stats inclusion list, as Envoy never creates
 * the stats it excludes: cluster stats appear only when `proxyStatsMatcher` asks for them.
 */

export type StatType = 'counter' | 'gauge';
export type Emit = (name: string, value: number, type: StatType) => void;

/**
 * Istio's standard metric labels, in the order the stats plugin writes them. The envoy helper
 * fills them per request; unknown values are `unknown`, as Istio writes them.
 */
export const ISTIO_LABELS = [
  'reporter',
  'source_workload',
  'source_canonical_service',
  'source_canonical_revision',
  'source_workload_namespace',
  'source_principal',
  'source_app',
  'source_version',
  'source_cluster',
  'destination_workload',
  'destination_workload_namespace',
  'destination_principal',
  'destination_app',
  'destination_version',
  'destination_service',
  'destination_canonical_service',
  'destination_canonical_revision',
  'destination_service_name',
  'destination_service_namespace',
  'destination_cluster',
  'request_protocol',
  'response_code',
  'grpc_response_status',
  'response_flags',
  'connection_security_policy',
] as const;

export type IstioRequestLabels = Partial<Record<(typeof ISTIO_LABELS)[number], string>> & Record<string, string>;

/** Istio's histogram buckets (stats plugin): milliseconds, and bytes in powers of ten. */
const DURATION_BUCKETS = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];
const BYTES_BUCKETS = [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000];

class Histogram {
  readonly counts: number[];
  sum = 0;
  count = 0;
  constructor(readonly bounds: number[]) {
    this.counts = bounds.map(() => 0);
  }
  observe(v: number): void {
    this.sum += v;
    this.count++;
    for (let i = 0; i < this.bounds.length; i++) if (v <= this.bounds[i]!) this.counts[i]!++;
  }
}

interface IstioSeries {
  labels: [string, string][];
  requests: number;
  duration: Histogram;
  requestBytes: Histogram;
  responseBytes: Histogram;
}

/** One of Istio's request series in a ProxyStats (opaque to callers). */
export type IstioSeriesHandle = { readonly requests: number };

/** What `proxyStatsMatcher` in a pod's `proxy.istio.io/config` (PROXY_CONFIG) adds to Istio's defaults. */
export interface StatsMatcher {
  inclusionPrefixes?: string[];
  inclusionSuffixes?: string[];
  inclusionRegexps?: string[];
}

/** Istio's bootstrap inclusion list (the stats plugin's `reporter=` series, Envoy's server and manager stats). */
const DEFAULT_PREFIXES = ['reporter=', 'cluster_manager', 'listener_manager', 'server', 'cluster.xds-grpc', 'wasm', 'component', 'istio'];
const DEFAULT_REGEXPS = [/^(?:vhost\..*\.route\..*)$/];
const DEFAULT_SUFFIXES = ['rbac.allowed', 'rbac.denied', 'shadow_allowed', 'shadow_denied', 'downstream_cx_active'];

/** Reads `proxyStatsMatcher` from the agent's PROXY_CONFIG (JSON, as the injector writes it); nothing on anything else. */
export function statsMatcherFromProxyConfig(proxyConfig: string | undefined): StatsMatcher {
  if (!proxyConfig) return {};
  try {
    const parsed = JSON.parse(proxyConfig) as { proxyStatsMatcher?: StatsMatcher };
    const m = parsed?.proxyStatsMatcher;
    if (!m || typeof m !== 'object') return {};
    const strings = (v: unknown) => (Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : undefined);
    return { inclusionPrefixes: strings(m.inclusionPrefixes), inclusionSuffixes: strings(m.inclusionSuffixes), inclusionRegexps: strings(m.inclusionRegexps) };
  } catch {
    return {};
  }
}

export class ProxyStats {
  /** Envoy stats by full name, e.g. `cluster.outbound|9080||reviews.default.svc.cluster.local;.upstream_rq_total`. */
  readonly counters = new Map<string, number>();
  readonly gauges = new Map<string, number>();
  private readonly collectors: ((emit: Emit) => void)[] = [];
  private readonly istio = new Map<string, IstioSeries>();
  private prefixes = DEFAULT_PREFIXES;
  private suffixes = DEFAULT_SUFFIXES;
  private regexps: RegExp[] = [...DEFAULT_REGEXPS];

  inc(name: string, by = 1): void {
    this.counters.set(name, (this.counters.get(name) ?? 0) + by);
  }

  set(name: string, value: number): void {
    this.gauges.set(name, value);
  }

  /** A source of stats computed when read (gauges of live state, counters Envoy creates at zero). */
  addCollector(collect: (emit: Emit) => void): void {
    this.collectors.push(collect);
  }

  /** Adds the pod's `proxyStatsMatcher` to Istio's default inclusion list. */
  include(m: StatsMatcher): void {
    this.prefixes = [...DEFAULT_PREFIXES, ...(m.inclusionPrefixes ?? [])];
    this.suffixes = [...DEFAULT_SUFFIXES, ...(m.inclusionSuffixes ?? [])];
    this.regexps = [...DEFAULT_REGEXPS];
    for (const r of m.inclusionRegexps ?? []) {
      try {
        this.regexps.push(new RegExp(`^(?:${r})$`));
      } catch {
        // Envoy would reject the bootstrap; a bad pattern simply matches nothing here.
      }
    }
  }

  included(name: string): boolean {
    return this.prefixes.some((p) => name.startsWith(p)) || this.suffixes.some((s) => name.endsWith(s)) || this.regexps.some((r) => r.test(name));
  }

  /**
   * One request as Istio's stats filter records it (the envoy helper calls this once per request,
   * reporter `source` on the client's outbound side, `destination` on the server's inbound side).
   */
  recordRequest(labels: IstioRequestLabels, durationMs: number, requestBytes: number, responseBytes: number): void {
    this.observe(this.series(labels), durationMs, requestBytes, responseBytes);
  }

  /**
   * The series of these labels (made on first use). A caller that records the same labels again
   * may keep it and call `observe`, skipping the labels' key.
   */
  series(labels: IstioRequestLabels): IstioSeriesHandle {
    // The series key is built by concatenation in the caller's label order (one call site,
    // hcm-metrics.ts, builds them); the ordered list only per new series.
    let key = '';
    for (const k in labels) key += `${k}\u0001${labels[k]}\u0000`;
    let s = this.istio.get(key);
    if (!s) {
      s = { labels: orderLabels(labels), requests: 0, duration: new Histogram(DURATION_BUCKETS), requestBytes: new Histogram(BYTES_BUCKETS), responseBytes: new Histogram(BYTES_BUCKETS) };
      this.istio.set(key, s);
    }
    return s;
  }

  observe(series: IstioSeriesHandle, durationMs: number, requestBytes: number, responseBytes: number): void {
    const s = series as IstioSeries;
    s.requests++;
    s.duration.observe(durationMs);
    s.requestBytes.observe(requestBytes);
    s.responseBytes.observe(responseBytes);
  }

  /** All included Envoy stats: stored values over the collectors' (a counter's stored value wins over a collector's zero). */
  snapshot(): Map<string, { value: number; type: StatType }> {
    const out = new Map<string, { value: number; type: StatType }>();
    const emit: Emit = (name, value, type) => {
      if (!out.has(name) || type === 'gauge') out.set(name, { value, type });
    };
    for (const c of this.collectors) c(emit);
    for (const [name, value] of this.counters) out.set(name, { value, type: 'counter' });
    for (const [name, value] of this.gauges) out.set(name, { value, type: 'gauge' });
    for (const name of [...out.keys()]) if (!this.included(name)) out.delete(name);
    return out;
  }

  /** Envoy's admin `/stats`: `name: value`, sorted; Istio's series under their tagged names. */
  renderText(): string {
    const lines: string[] = [];
    for (const [name, { value }] of this.snapshot()) lines.push(`${name}: ${value}`);
    for (const s of this.istio.values()) {
      const tagged = s.labels.map(([k, v]) => `${k}=.=${v};.;`).join('');
      if (this.included(tagged)) lines.push(`${tagged}istio_requests_total: ${s.requests}`);
    }
    lines.sort();
    return lines.length ? lines.join('\n') + '\n' : '';
  }

  /** Envoy's `/stats/prometheus` (what 15090 serves): Istio's standard metrics and Envoy's stats with tags extracted. */
  renderPrometheus(): string {
    const families = new Map<string, { type: string; lines: string[] }>();
    const add = (family: string, type: string, line: string) => {
      let f = families.get(family);
      if (!f) families.set(family, (f = { type, lines: [] }));
      f.lines.push(line);
    };
    for (const [name, { value, type }] of this.snapshot()) {
      const { family, tags } = prometheusName(name);
      add(family, type, `${family}{${renderTags(tags)}} ${value}`);
    }
    const series = [...this.istio.values()].filter((s) => this.included(s.labels.map(([k, v]) => `${k}=.=${v};.;`).join('')));
    for (const s of series) add('istio_requests_total', 'counter', `istio_requests_total{${renderTags(s.labels)}} ${s.requests}`);
    for (const [family, pick] of [
      ['istio_request_bytes', (s: IstioSeries) => s.requestBytes],
      ['istio_request_duration_milliseconds', (s: IstioSeries) => s.duration],
      ['istio_response_bytes', (s: IstioSeries) => s.responseBytes],
    ] as const) {
      for (const s of series) {
        const h = pick(s);
        const tags = renderTags(s.labels);
        h.bounds.forEach((b, i) => add(family, 'histogram', `${family}_bucket{${tags},le="${formatBound(b)}"} ${h.counts[i]}`));
        add(family, 'histogram', `${family}_bucket{${tags},le="+Inf"} ${h.count}`);
        add(family, 'histogram', `${family}_sum{${tags}} ${formatNumber(h.sum)}`);
        add(family, 'histogram', `${family}_count{${tags}} ${h.count}`);
      }
    }
    const out: string[] = [];
    for (const family of [...families.keys()].sort()) {
      const f = families.get(family)!;
      out.push(`# TYPE ${family} ${f.type}`, ...f.lines);
    }
    return out.length ? out.join('\n') + '\n' : '';
  }
}

function orderLabels(labels: IstioRequestLabels): [string, string][] {
  const out: [string, string][] = [];
  for (const k of ISTIO_LABELS) if (labels[k] !== undefined) out.push([k, labels[k]!]);
  for (const [k, v] of Object.entries(labels)) if (!(ISTIO_LABELS as readonly string[]).includes(k) && v !== undefined) out.push([k, v]);
  return out;
}

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const renderTags = (tags: [string, string][]) => tags.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',');
const formatBound = (b: number) => (Number.isInteger(b) ? String(b) : String(b));
const formatNumber = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(3).replace(/0+$/, '').replace(/\.$/, ''));

/**
 * Envoy's tag extraction as Istio's bootstrap configures it: `cluster.<name>;.` → cluster_name,
 * `_rq_200` → response_code, `_rq_2xx` → response_code_class; the rest of the name, dots to
 * underscores, prefixed `envoy_`.
 */
export function prometheusName(name: string): { family: string; tags: [string, string][] } {
  const tags: [string, string][] = [];
  let rest = name;
  const cluster = /^cluster\.(.+?);\.(.*)$/.exec(rest) ?? /^cluster\.([^.]+(?:\.[^.]+?\.svc\.cluster\.local)?)\.(.*)$/.exec(rest);
  if (cluster) {
    tags.push(['cluster_name', cluster[1]!]);
    rest = `cluster.${cluster[2]!}`;
  }
  const code = /_rq_(\d{3})$/.exec(rest);
  const klass = /_rq_(\dxx)$/.exec(rest);
  if (code) {
    tags.unshift(['response_code', code[1]!]);
    rest = rest.slice(0, -4);
  } else if (klass) {
    tags.unshift(['response_code_class', klass[1]!]);
    rest = rest.slice(0, -4);
  }
  return { family: `envoy_${rest.replace(/[^a-zA-Z0-9_]/g, '_')}`, tags };
}
