/**
 * A gateway's listeners (istio-ingressgateway, istio-egressgateway, Gateway API gateways): the
 * `router` proxy serves requests arriving on its pod's ports by its gateway listeners and routes.
 * SKELETON (lead): 404 until the gateway work lands.
 */
import { respond } from '../../../images/http.js';
import type { ConnectionInfo, HttpRequest, HttpResponse } from '../../../images/types.js';
import type { EnvoyProxy } from './proxy.js';

export async function gatewayServe(proxy: EnvoyProxy, req: HttpRequest, conn: ConnectionInfo): Promise<HttpResponse> {
  void req;
  void conn;
  return respond(proxy.ctx, 404, '', {});
}
