/**
 * The local replies Envoy's router sends when an attempt fails before the upstream answered:
 * status, %RESPONSE_FLAGS%, %RESPONSE_CODE_DETAILS% and body, worded as Envoy words them
 * (DATAPLANE.md §2), because learners read them in curl output and access logs.
 */
import { respond } from '../../../images/http.js';
import type { HttpResponse } from '../../../images/types.js';
import type { UpstreamResult } from './upstream-types.js';

/** Why a stream was reset, as Envoy's `Http::StreamResetReason` prints in bodies and details. */
export type ResetReason = 'overflow' | 'remote_connection_failure' | 'local_connection_failure' | 'connection_termination' | 'connection_timeout' | 'remote_reset' | 'local_reset';

const RESET_TEXT: Record<ResetReason, string> = {
  overflow: 'overflow',
  remote_connection_failure: 'remote connection failure',
  local_connection_failure: 'local connection failure',
  connection_termination: 'connection termination',
  connection_timeout: 'connection timeout',
  remote_reset: 'remote reset',
  local_reset: 'local reset',
};

/**
 * The body of a reset local reply: `upstream connect error or disconnect/reset before headers.
 * reset reason: overflow`; after retries Envoy says `retried and the latest reset reason: …`.
 * `transportFailure` is the transport's own reason (`delayed connect error: Connection refused`).
 */
export function resetBody(reason: ResetReason, transportFailure?: string, retried = false): string {
  const tail = transportFailure ? `, transport failure reason: ${transportFailure}` : '';
  return `upstream connect error or disconnect/reset before headers. ${retried ? 'retried and the latest reset reason' : 'reset reason'}: ${RESET_TEXT[reason]}${tail}`;
}

/** `%UPSTREAM_TRANSPORT_FAILURE_REASON%` and details spell spaces as `_`. */
export const detailsToken = (s: string) => s.replace(/ /g, '_');

/**
 * `upstream_reset_before_response_started{remote_connection_failure|delayed_connect_error:_Connection_refused}`
 * (Envoy ≥ 1.2x: the reset reason and the transport failure joined by `|`).
 */
export function resetDetails(reason: ResetReason, transportFailure?: string): string {
  const inner = transportFailure ? `${reason}|${detailsToken(transportFailure)}` : reason;
  return `upstream_reset_before_response_started{${inner}}`;
}

type Clock = { now(): Date };

function localReply(ctx: Clock, status: number, body: string, extra: Record<string, string> = {}): HttpResponse {
  // Envoy's local replies carry text/plain only when they have a body.
  return respond(ctx, status, body, body ? { 'content-type': 'text/plain', ...extra } : extra);
}

type Failure = Pick<UpstreamResult, 'response' | 'flags' | 'details' | 'fromUpstream' | 'failure' | 'transportFailureReason'>;

export const clusterNotFound = (ctx: Clock): Failure => ({
  response: localReply(ctx, 503, ''),
  flags: ['NC'],
  details: 'cluster_not_found',
  fromUpstream: false,
  failure: 'cluster-not-found',
});

export const noHealthyUpstream = (ctx: Clock): Failure => ({
  response: localReply(ctx, 503, 'no healthy upstream'),
  flags: ['UH'],
  details: 'no_healthy_upstream',
  fromUpstream: false,
  failure: 'no-healthy-upstream',
});

/** Circuit breaking: the router also sets `x-envoy-overloaded: true` (Envoy's circuit breaking docs). */
export const overflow = (ctx: Clock): Failure => ({
  response: localReply(ctx, 503, resetBody('overflow'), { 'x-envoy-overloaded': 'true' }),
  flags: ['UO'],
  details: resetDetails('overflow'),
  fromUpstream: false,
  failure: 'overflow',
});

const REFUSED = 'delayed connect error: Connection refused';

/** Nothing listens on the endpoint's port: the kernel's ECONNREFUSED, as Envoy's connect reports it. */
export const connectRefused = (ctx: Clock): Failure => ({
  response: localReply(ctx, 503, resetBody('remote_connection_failure', REFUSED)),
  flags: ['UF'],
  details: resetDetails('remote_connection_failure', REFUSED),
  fromUpstream: false,
  failure: 'connect-failure',
  transportFailureReason: detailsToken(REFUSED),
});

/** The connection never came up within the cluster's connect timeout. */
export const connectTimeout = (ctx: Clock): Failure => ({
  response: localReply(ctx, 503, resetBody('connection_timeout')),
  flags: ['UF'],
  details: resetDetails('connection_timeout'),
  fromUpstream: false,
  failure: 'connect-failure',
});

/** The peer closed the connection before answering (mTLS to a plain-text server, a STRICT server refusing plain text). */
export const connectionTermination = (ctx: Clock): Failure => ({
  response: localReply(ctx, 503, resetBody('connection_termination')),
  flags: ['UC'],
  details: resetDetails('connection_termination'),
  fromUpstream: false,
  failure: 'reset',
});

/** The attempt's deadline passed before the upstream answered. */
export const requestTimeout = (ctx: Clock): Failure => ({
  response: localReply(ctx, 504, 'upstream request timeout'),
  flags: ['UT'],
  details: 'response_timeout',
  fromUpstream: false,
  failure: 'timeout',
});
