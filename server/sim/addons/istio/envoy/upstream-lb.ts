/**
 * Envoy's load balancers over a cluster's usable hosts, as Istio configures them: LEAST_REQUEST
 * (Istio's default; Envoy's power of two choices on active requests when weights are equal),
 * ROUND_ROBIN and RANDOM. Retries avoid the hosts already tried (Istio's `previous_hosts`
 * predicate with host_selection_retry_max_attempts 5).
 */
import type { Cluster } from '../xds/types.js';

export interface LbHost {
  key: string;
  activeRequests: number;
}

/** Istio sets host_selection_retry_max_attempts: 5 alongside the previous_hosts predicate. */
const HOST_SELECTION_RETRY_MAX_ATTEMPTS = 5;

export class LoadBalancer {
  private rrIndex: number;

  constructor(
    private readonly policy: Cluster['lbPolicy'],
    private readonly random: () => number,
  ) {
    // Envoy seeds each worker's round-robin index at random so proxies do not march in step.
    this.rrIndex = Math.floor(random() * 1024);
  }

  pick<H extends LbHost>(hosts: readonly H[], avoid?: readonly string[]): H | undefined {
    if (hosts.length === 0) return undefined;
    let chosen = this.once(hosts);
    if (avoid?.length) {
      for (let i = 0; i < HOST_SELECTION_RETRY_MAX_ATTEMPTS && avoid.includes(chosen.key); i++) chosen = this.once(hosts);
    }
    return chosen;
  }

  private once<H extends LbHost>(hosts: readonly H[]): H {
    const n = hosts.length;
    switch (this.policy) {
      case 'ROUND_ROBIN':
        return hosts[this.rrIndex++ % n]!;
      case 'LEAST_REQUEST': {
        // Two samples with replacement; the second wins only with strictly fewer active requests.
        let candidate = hosts[this.index(n)]!;
        const sampled = hosts[this.index(n)]!;
        if (sampled.activeRequests < candidate.activeRequests) candidate = sampled;
        return candidate;
      }
      default:
        // RANDOM, and what the simulation does not hash (RING_HASH/MAGLEV without a hash policy pick at random in Envoy too).
        return hosts[this.index(n)]!;
    }
  }

  private index(n: number): number {
    return Math.min(n - 1, Math.floor(this.random() * n));
  }
}
