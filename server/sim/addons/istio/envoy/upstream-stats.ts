/**
 * A running proxy's stats as its ports serve them: Envoy's `/stats/prometheus` on 15090, the
 * agent's merged `/stats/prometheus` on 15020 (its own series, then Envoy's), and the admin
 * `/stats` text. The cluster manager is brought up first so every configured cluster's stats exist.
 */
import type { EnvoyProxy } from './proxy.js';
import { statsMatcherFromProxyConfig } from './stats.js';
import { clusterManagerOf } from './upstream.js';

/** The agent's own series, which 15020 puts before Envoy's. */
const AGENT_SERIES = '# TYPE istio_agent_startup_complete gauge\nistio_agent_startup_complete 1\n';
/** Envoy's server liveness, which Envoy prints without tags as `{}`. */
const SERVER_SERIES = '# TYPE envoy_server_live gauge\nenvoy_server_live{} 1\n';

function ready(proxy: EnvoyProxy): EnvoyProxy {
  clusterManagerOf(proxy);
  proxy.stats.include(statsMatcherFromProxyConfig(proxy.ctx.env.PROXY_CONFIG));
  return proxy;
}

/** `/stats/prometheus` on 15090 (Envoy) or 15020 (the agent's merge). */
export function prometheusText(proxy: EnvoyProxy, port: 15090 | 15020): string {
  const envoy = ready(proxy).stats.renderPrometheus() + SERVER_SERIES;
  return port === 15020 ? AGENT_SERIES + envoy : envoy;
}

/** Admin `/stats` (and `pilot-agent request GET stats`): `name: value` lines, sorted. */
export function statsText(proxy: EnvoyProxy): string {
  const lines = (ready(proxy).stats.renderText() + 'server.live: 1\n').split('\n').filter(Boolean).sort();
  return lines.join('\n') + '\n';
}
