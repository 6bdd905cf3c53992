/**
 * Envoy's admin interface on 15000 (`/config_dump`, `/clusters`, `/stats`, …), which
 * `istioctl proxy-config` reads. SKELETON (lead): answers 404 until the observability work lands.
 */
import { respond } from '../../../images/http.js';
import type { HttpRequest, HttpResponse } from '../../../images/types.js';
import type { EnvoyProxy } from './proxy.js';

export async function adminServe(proxy: EnvoyProxy, req: HttpRequest): Promise<HttpResponse> {
  void req;
  return respond(proxy.ctx, 404, '', {});
}
