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

  inc(name: string, by = 1): void {
    this.counters.set(name, (this.counters.get(name) ?? 0) + by);
  }

  set(name: string, value: number): void {
    this.gauges.set(name, value);
  }
}
