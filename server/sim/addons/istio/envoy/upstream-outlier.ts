/**
 * Envoy's outlier detection for one cluster (source/common/upstream/outlier_detection_impl.cc),
 * as Istio configures it from a DestinationRule's `outlierDetection`: consecutive 5xx and gateway
 * errors eject a host at once; the interval timer returns hosts whose ejection time
 * (baseEjectionTime × times ejected, capped at max(300 s, base)) has passed and lets the
 * multiplier decay. The timer runs on the proxy's clock, lazily: every read catches up first.
 */
import type { OutlierDetection } from '../xds/types.js';

/** Envoy's default consecutive_5xx / consecutive_gateway_failure thresholds. */
const ENVOY_DEFAULT_CONSECUTIVE = 5;
const ENVOY_MAX_EJECTION_MS = 300_000;

interface HostMonitor {
  consecutive5xx: number;
  consecutiveGateway: number;
  ejected: boolean;
  lastEjectionMs?: number;
  lastUnejectionMs?: number;
  /** Envoy's eject_time_backoff: grows with each ejection, decays while the host stays healthy. */
  backoff: number;
}

export class OutlierDetector {
  private readonly hosts = new Map<string, HostMonitor>();
  private nextTickMs: number;
  private ticking = false;

  constructor(
    private readonly config: OutlierDetection,
    private readonly nowMs: () => number,
    /** Counts one of the cluster's `outlier_detection.<name>` counters. */
    private readonly inc: (name: string) => void = () => {},
    /** A host was ejected or returned (the cluster's gauges change). */
    private readonly onChange: () => void = () => {},
  ) {
    this.nextTickMs = nowMs() + Math.max(1, config.intervalMs);
  }

  /** Keeps a monitor for exactly the cluster's current hosts (EDS updates add and remove them). */
  setHosts(keys: readonly string[]): void {
    const want = new Set(keys);
    for (const k of [...this.hosts.keys()]) if (!want.has(k)) this.hosts.delete(k);
    for (const k of keys) if (!this.hosts.has(k)) this.hosts.set(k, { consecutive5xx: 0, consecutiveGateway: 0, ejected: false, backoff: 0 });
  }

  isEjected(host: string): boolean {
    this.catchUp();
    return this.hosts.get(host)?.ejected ?? false;
  }

  ejectedCount(): number {
    this.catchUp();
    let n = 0;
    for (const m of this.hosts.values()) if (m.ejected) n++;
    return n;
  }

  /**
   * One response code from a host (local-origin failures arrive already mapped, as Envoy maps them
   * when split_external_local_origin_errors is off: connect failure/reset → 503, timeout → 504).
   */
  putHttpResponseCode(host: string, code: number): void {
    this.catchUp();
    const m = this.hosts.get(host);
    if (!m) return;
    if (code >= 500 && code <= 599) {
      if (code >= 502 && code <= 504) {
        if (++m.consecutiveGateway === this.gatewayThreshold()) this.onConsecutive(host, m, 'consecutive_gateway_failure');
      } else m.consecutiveGateway = 0;
      if (++m.consecutive5xx === this.fiveXxThreshold()) this.onConsecutive(host, m, 'consecutive_5xx');
    } else {
      m.consecutive5xx = 0;
      m.consecutiveGateway = 0;
    }
  }

  private fiveXxThreshold(): number {
    return this.config.consecutive5xx ?? ENVOY_DEFAULT_CONSECUTIVE;
  }

  private gatewayThreshold(): number {
    return this.config.consecutiveGatewayErrors ?? ENVOY_DEFAULT_CONSECUTIVE;
  }

  /** Istio enforces 100% of what it configures; Envoy's gateway-failure enforcement defaults to 0%. */
  private enforced(type: 'consecutive_5xx' | 'consecutive_gateway_failure'): boolean {
    if (type === 'consecutive_5xx') return (this.config.consecutive5xx ?? ENVOY_DEFAULT_CONSECUTIVE) > 0;
    return (this.config.consecutiveGatewayErrors ?? 0) > 0;
  }

  private onConsecutive(host: string, m: HostMonitor, type: 'consecutive_5xx' | 'consecutive_gateway_failure'): void {
    if (m.ejected) return;
    this.inc(`ejections_detected_${type}`);
    this.eject(host, m, type);
    // Reset so that a new bout of errors is needed, even without an interleaved success.
    if (type === 'consecutive_5xx') {
      this.inc('ejections_consecutive_5xx');
      m.consecutive5xx = 0;
    } else m.consecutiveGateway = 0;
  }

  private eject(host: string, m: HostMonitor, type: 'consecutive_5xx' | 'consecutive_gateway_failure'): void {
    const active = this.activeCount();
    const maxPercent = Math.min(100, this.config.maxEjectionPercent);
    // Envoy counts the host about to go: with the default 10% and few hosts, nothing is ejected.
    const shouldEject = (100 * (active + 1)) / this.hosts.size <= maxPercent;
    if (!shouldEject) {
      this.inc('ejections_overflow');
      return;
    }
    if (!this.enforced(type)) return;
    const now = this.nowMs();
    m.ejected = true;
    m.lastEjectionMs = now;
    if (this.config.baseEjectionTimeMs * m.backoff < this.maxEjectionMs()) m.backoff++;
    this.inc('ejections_total');
    this.inc('ejections_enforced_total');
    this.inc(`ejections_enforced_${type}`);
    this.onChange();
  }

  private maxEjectionMs(): number {
    return Math.max(ENVOY_MAX_EJECTION_MS, this.config.baseEjectionTimeMs);
  }

  private activeCount(): number {
    let n = 0;
    for (const m of this.hosts.values()) if (m.ejected) n++;
    return n;
  }

  /** Runs every interval tick that has come due on the proxy's clock. */
  catchUp(): void {
    const now = this.nowMs();
    const interval = Math.max(1, this.config.intervalMs);
    // onChange listeners read the detector back: a tick must not run twice.
    if (now < this.nextTickMs || this.ticking) return;
    this.ticking = true;
    try {
      this.runTicks(now, interval);
    } finally {
      this.ticking = false;
    }
  }

  private runTicks(now: number, interval: number): void {
    while (this.nextTickMs <= now) {
      const tick = this.nextTickMs;
      this.nextTickMs += interval;
      this.onIntervalTimer(tick);
      // Ticks that can change nothing are skipped: straight to the first one at or after the next
      // return (or past now), unless a healthy host's backoff still decays tick by tick.
      const next = this.nextEventMs();
      if (next === 'every-tick') continue;
      const target = Math.min(next, now + interval);
      if (target > this.nextTickMs) this.nextTickMs += Math.ceil((target - this.nextTickMs) / interval) * interval;
    }
  }

  /** When the next tick can matter: a host's return, or every tick while a backoff decays. */
  private nextEventMs(): number | 'every-tick' {
    let next = Infinity;
    for (const m of this.hosts.values()) {
      if (m.ejected) next = Math.min(next, (m.lastEjectionMs ?? 0) + Math.min(this.config.baseEjectionTimeMs * m.backoff, this.maxEjectionMs()));
      else if (m.backoff > 0 && m.lastUnejectionMs !== undefined) return 'every-tick';
    }
    return next;
  }

  private onIntervalTimer(tick: number): void {
    for (const m of this.hosts.values()) {
      if (!m.ejected) {
        if (m.lastUnejectionMs !== undefined && tick - m.lastUnejectionMs >= this.config.intervalMs && m.backoff > 0) m.backoff--;
        continue;
      }
      const ejectFor = Math.min(this.config.baseEjectionTimeMs * m.backoff, this.maxEjectionMs());
      if (tick - (m.lastEjectionMs ?? tick) >= ejectFor) {
        m.ejected = false;
        m.consecutive5xx = 0;
        m.consecutiveGateway = 0;
        m.lastUnejectionMs = tick;
        this.onChange();
      }
    }
  }
}
