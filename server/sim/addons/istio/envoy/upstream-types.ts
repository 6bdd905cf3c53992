/**
 * The contract between Envoy's router (route selection, retries, timeouts, faults: envoy/router*)
 * and its cluster manager (load balancing, circuit breakers, outlier detection, the connection
 * and its TLS: envoy/upstream*). One attempt = one call; the router decides whether to retry.
 */
import type { HttpRequest, HttpResponse } from '../../../images/types.js';
import type { LbEndpoint } from '../xds/types.js';

export interface UpstreamAttempt {
  /** A CDS cluster name, as the route chose it. */
  cluster: string;
  /** The request as it leaves for the upstream (headers already rewritten by the router). */
  req: HttpRequest;
  /** This attempt's deadline (route timeout or perTryTimeout, whichever is sooner); none when absent. */
  timeoutMs?: number;
  /** Hosts a retry should avoid (Istio's retry host predicate `previous_hosts`): `ip:port`. */
  avoidHosts?: string[];
}

/**
 * What one attempt came to. `response` is the upstream's answer (via_upstream), or Envoy's own
 * local reply when the attempt failed before one (then `flags` says why).
 */
export interface UpstreamResult {
  response: HttpResponse;
  /** Envoy response flags this attempt set: `NC`, `UH`, `UF`, `UO`, `UT`, `UC`, `URX` …; empty when the upstream answered. */
  flags: string[];
  /** %RESPONSE_CODE_DETAILS%: `via_upstream`, `cluster_not_found`, `no_healthy_upstream`, `upstream_reset_before_response_started{overflow}`, … */
  details: string;
  /** Whether `response` came from the upstream (false: a local reply). */
  fromUpstream: boolean;
  /** %UPSTREAM_HOST% (`ip:port`), when an endpoint was chosen. */
  upstreamHost?: string;
  /** %UPSTREAM_LOCAL_ADDRESS%, when a connection was made. */
  upstreamLocalAddress?: string;
  endpoint?: LbEndpoint;
  /** %UPSTREAM_TRANSPORT_FAILURE_REASON% (`delayed_connect_error:_Connection_refused`), when the connection failed. */
  transportFailureReason?: string;
  /** Upstream service time in ms (x-envoy-upstream-service-time), when via upstream. */
  serviceTimeMs?: number;
  /** Whether the attempt's failure is a connect failure / reset / overflow (retry_on conditions read these). */
  failure?: 'connect-failure' | 'reset' | 'overflow' | 'timeout' | 'no-healthy-upstream' | 'cluster-not-found';
}
