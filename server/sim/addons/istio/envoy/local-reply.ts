/**
 * Envoy's locally generated responses (no route, fault abort, timeout, RBAC denial, …): the
 * status, a short text/plain body, and what the access log says about them
 * (%RESPONSE_FLAGS%, %RESPONSE_CODE_DETAILS%).
 */
import type { HttpResponse } from '../../../images/types.js';

export interface LocalReply {
  status: number;
  /** Empty for 404 NR; `fault filter abort`, `upstream request timeout`, `RBAC: access denied`, … */
  body: string;
  /** %RESPONSE_CODE_DETAILS%: `route_not_found`, `fault_filter_abort`, `response_timeout`, … */
  details: string;
  /** Envoy response flags (`NR`, `FI`, `UT`, …); none for an RBAC denial. */
  flags?: string[];
}

export const NO_ROUTE: LocalReply = { status: 404, body: '', details: 'route_not_found', flags: ['NR'] };

/**
 * The response a local reply makes. Envoy writes content-length always and content-type
 * `text/plain` when there is a body; the HCM adds `date` and `server` as for any response.
 */
export function localResponse(reply: LocalReply, now: Date): HttpResponse {
  const body = Buffer.from(reply.body, 'utf8');
  const headers: Record<string, string> = { 'content-length': String(body.length) };
  if (body.length) headers['content-type'] = 'text/plain';
  headers.date = now.toUTCString();
  return { status: reply.status, headers, body };
}
