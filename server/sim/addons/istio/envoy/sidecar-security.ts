/**
 * The inbound listener's security step as the sidecar calls it: which filter chain a connection
 * takes (PeerAuthentication: STRICT refuses plain text with a reset) and the RBAC filters
 * (AuthorizationPolicy: 403 `RBAC: access denied`). The security helper implements it in
 * `envoy/inbound-security.ts`; until that lands, everything is allowed (PERMISSIVE, no policy).
 */
import type { InboundCall } from '../../../network/types.js';
import type { LocalReply } from './local-reply.js';
import type { EnvoyProxy } from './proxy.js';

export type InboundDecision = { allow: true } | { reset: true } | { deny: LocalReply };

export type InboundSecurity = (proxy: EnvoyProxy, call: InboundCall) => InboundDecision;

export const inboundSecurity: InboundSecurity = () => ({ allow: true });
