/**
 * Bookinfo reviews (WebSphere Liberty): v1 without ratings, v2 black stars, v3 red stars.
 * v2/v3 ask ratings for every request, forwarding end-user and the tracing headers; when that
 * fails each review carries "Ratings service is currently unavailable".
 */
import { pathOnly, respond } from '../http.js';
import type { ImageBehaviourEntry } from '../types.js';
import type { ContainerBehaviour, ContainerContext } from '../types.js';
import { B3, PROPAGATED, bookinfoImage, callPeer, parseJson, peer } from './bookinfo-common.js';
import { UBUNTU_OS_RELEASE } from './os.js';

const TEXT1 = 'An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!';
const TEXT2 = 'Absolutely fun and entertaining. The play lacks thematic depth when compared to other plays by Shakespeare.';

/** The JSON exactly as LibertyRestEndpoint.getJsonResponse concatenates it. */
export function reviewsJson(productId: string, podname: string, clustername: string, ratings: { enabled: boolean; color: string; stars1: number; stars2: number }): string {
  const rating = (stars: number) =>
    !ratings.enabled ? '' : stars !== -1 ? `, "rating": {"stars": ${stars}, "color": "${ratings.color}"}` : ', "rating": {"error": "Ratings service is currently unavailable"}';
  return (
    `{"id": "${productId}","podname": "${podname}","clustername": "${clustername}","reviews": [` +
    `{  "reviewer": "Reviewer1",  "text": "${TEXT1}"${rating(ratings.stars1)}},` +
    `{  "reviewer": "Reviewer2",  "text": "${TEXT2}"${rating(ratings.stars2)}}` +
    `]}`
  );
}

async function fetchRatings(ctx: ContainerContext, productId: string, incoming: Record<string, string>, timeoutMs: number): Promise<{ stars1: number; stars2: number }> {
  const headers: Record<string, string> = {};
  for (const h of [...PROPAGATED, ...B3, 'end-user']) if (incoming[h] !== undefined) headers[h] = incoming[h];
  const res = await callPeer(ctx, peer(ctx, 'ratings'), `/ratings/${productId}`, headers, timeoutMs);
  const out = { stars1: -1, stars2: -1 };
  if (!res || res.status !== 200) return out;
  const body = parseJson(res.body) as { ratings?: Record<string, unknown> } | null;
  const r = body?.ratings;
  if (r && typeof r.Reviewer1 === 'number') out.stars1 = r.Reviewer1;
  if (r && typeof r.Reviewer2 === 'number') out.stars2 = r.Reviewer2;
  return out;
}

const pad = (n: number) => String(n).padStart(2, '0');

export function reviewsBehaviour(version: number): ContainerBehaviour {
  // The images bake ENABLE_RATINGS / STAR_COLOR (docker-bake.hcl); the pod env may override them.
  const baked = { enabled: version >= 2, color: version === 3 ? 'red' : 'black' };
  return {
    ports: [9080],
    readyAfterMs: 2000,
    userland: 'debian',
    // src/reviews/Dockerfile: open-liberty base, USER 1001 (named `default` there), the baked ENV below.
    user: 'default',
    unsupportedPrograms: ['java'],
    env: { SERVICE_VERSION: `v${version}`, ENABLE_RATINGS: String(baked.enabled), STAR_COLOR: baked.color },
    files: { '/etc/os-release': UBUNTU_OS_RELEASE },
    start(ctx) {
      const t = ctx.now();
      const stamp = `${pad(t.getUTCMonth() + 1)}/${pad(t.getUTCDate())}/${String(t.getUTCFullYear()).slice(2)}, ${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())}:${String(t.getUTCMilliseconds()).padStart(3, '0')} UTC`;
      for (const line of [
        'Launching defaultServer (Open Liberty 24.0.0.12/wlp-1.0.96.cl241220241119-0657) on Eclipse OpenJ9 VM, version 17.0.13+11 (en_US)',
        `[${stamp}] 00000001 com.ibm.ws.kernel.launch.internal.FrameworkManager           A CWWKE0001I: The server defaultServer has been launched.`,
        `[${stamp}] 00000027 com.ibm.ws.app.manager.internal.monitor.DropinMonitor        A CWWKZ0058I: Monitoring dropins for applications.`,
        `[${stamp}] 0000002e com.ibm.ws.http.internal.VirtualHostImpl                     A CWWKT0016I: Web application available (default_host): http://${ctx.hostname}:9080/`,
        `[${stamp}] 0000002e com.ibm.ws.app.manager.AppMessageHelper                      A CWWKZ0001I: Application reviews-app started in 1.523 seconds.`,
        `[${stamp}] 0000002a com.ibm.ws.kernel.feature.internal.FeatureManager            A CWWKF0011I: The defaultServer server is ready to run a smarter planet. The defaultServer server started in 4.217 seconds.`,
      ]) ctx.log(line);
    },
    async serve(req, ctx) {
      const path = pathOnly(req.path);
      const headers = { 'x-powered-by': 'Servlet/4.0', 'content-type': 'application/json', 'content-language': 'en-US' };
      if (req.method === 'GET' && path === '/health') return respond(ctx, 200, '{"status": "Reviews is healthy"}', headers);
      const m = /^\/reviews\/(-?\d+)$/.exec(path);
      if (req.method === 'GET' && m) {
        const enabled = ctx.env.ENABLE_RATINGS !== undefined ? ctx.env.ENABLE_RATINGS === 'true' : ctx.env.enable_ratings !== undefined ? ctx.env.enable_ratings === 'true' : baked.enabled;
        const color = ctx.env.STAR_COLOR ?? ctx.env.star_color ?? baked.color;
        const productId = String(Number(m[1]));
        const stars = enabled ? await fetchRatings(ctx, productId, req.headers, color === 'black' ? 10000 : 2500) : { stars1: -1, stars2: -1 };
        const podname = ctx.env.HOSTNAME ?? ctx.hostname;
        const body = reviewsJson(productId, podname, ctx.env.CLUSTER_NAME ?? 'null', { enabled, color, ...stars });
        return respond(ctx, 200, body, headers);
      }
      // JAX-RS answers unmatched paths (and non-numeric ids) with Liberty's plain 404.
      return respond(ctx, 404, 'Error 404: java.io.FileNotFoundException: SRVE0190E: File not found: ' + path, { 'x-powered-by': 'Servlet/4.0', 'content-type': 'text/html;charset=ISO-8859-1', 'content-language': 'en-US' });
    },
  };
}

export const bookinfoReviews: ImageBehaviourEntry = {
  name: 'bookinfo-reviews',
  matches: (img) => {
    const b = bookinfoImage(img);
    return b?.service === 'reviews' && b.version >= 1 && b.version <= 3;
  },
  create: (img) => reviewsBehaviour(bookinfoImage(img)!.version),
};
