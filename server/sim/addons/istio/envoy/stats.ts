/**
 * A proxy's statistics: Envoy's own counters and gauges (`cluster.outbound|8000||httpbin…;.upstream_rq_pending_overflow`,
 * what `pilot-agent request GET stats` prints) and Istio's standard metrics (`istio_requests_total`,
 * `istio_request_duration_milliseconds`, …, what Prometheus scrapes from 15020/15090 and the
 * mesh pictures read). SKELETON (lead): the data-plane helpers complete it.
 */
export class ProxyStats {
  /** Envoy stats by full name, e.g. `cluster.outbound|9080||reviews.default.svc.cluster.local.upstream_rq_total`. */
  readonly counters = new Map<string, number>();
  readonly gauges = new Map<string, number>();
  /** Istio's standard request metrics (istio_requests_total, istio_request_duration_milliseconds, …). */
  readonly istio = new IstioRequestMetrics();

  inc(name: string, by = 1): void {
    this.counters.set(name, (this.counters.get(name) ?? 0) + by);
  }

  set(name: string, value: number): void {
    this.gauges.set(name, value);
  }
}

// ---- Istio standard metrics (recorded per request by the HCM, envoy/hcm-metrics.ts) ---------------

/** Istio's default buckets: istio_request_duration_milliseconds and the byte-size histograms. */
export const DURATION_BUCKETS_MS = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];
export const BYTES_BUCKETS = [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000];

export interface Histogram {
  /** Cumulative counts per bucket upper bound (same order as the bounds), as Prometheus exposes them. */
  buckets: number[];
  sum: number;
  count: number;
}

/** One time series of the request metrics: the labels of `istio_requests_total` and its histograms. */
export interface IstioRequestSeries {
  /** In Istio's label order (reporter, source_workload, …). */
  labels: Readonly<Record<string, string>>;
  requests: number;
  duration: Histogram;
  requestBytes: Histogram;
  responseBytes: Histogram;
}

const histogram = (bounds: number[]): Histogram => ({ buckets: bounds.map(() => 0), sum: 0, count: 0 });
function observe(h: Histogram, bounds: number[], v: number): void {
  h.sum += v;
  h.count++;
  for (let i = 0; i < bounds.length; i++) if (v <= bounds[i]!) h.buckets[i]!++;
}

export interface IstioRequestSample {
  labels: Readonly<Record<string, string>>;
  durationMs: number;
  requestBytes: number;
  responseBytes: number;
}

/** Istio's request metrics by label set; the exposition (15020/15090) reads `istioRequests`. */
export class IstioRequestMetrics {
  readonly series = new Map<string, IstioRequestSeries>();

  record(s: IstioRequestSample): void {
    const key = Object.values(s.labels).join('\u0000');
    let series = this.series.get(key);
    if (!series) {
      series = { labels: s.labels, requests: 0, duration: histogram(DURATION_BUCKETS_MS), requestBytes: histogram(BYTES_BUCKETS), responseBytes: histogram(BYTES_BUCKETS) };
      this.series.set(key, series);
    }
    series.requests++;
    observe(series.duration, DURATION_BUCKETS_MS, s.durationMs);
    observe(series.requestBytes, BYTES_BUCKETS, s.requestBytes);
    observe(series.responseBytes, BYTES_BUCKETS, s.responseBytes);
  }
}
