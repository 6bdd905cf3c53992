/**
 * Istio's images as the embedded cluster runs them, for now only as far as readiness: istiod
 * (`istio/pilot`) answers /ready on 8080, a proxy (`istio/proxyv2`) /healthz/ready on 15021, so
 * their pods become Ready as on a real cluster. Webhooks, xDS and traffic are later behaviours.
 */
import { respond } from '../../../images/http.js';
import type { ContainerBehaviour, ImageBehaviourEntry } from '../../../images/types.js';
import { handleWebhook, type MeshReader } from '../inject/webhook.js';

const isIstio = (repository: string, name: string) => repository === `istio/${name}` || repository.endsWith(`/istio/${name}`) || repository === `release/${name}` || repository === `testing/${name}`;

function pilotBehaviour(reader: MeshReader): ContainerBehaviour {
  return {
    ports: [8080, 15010, 15012, 15014, 15017],
    userland: 'distroless',
    user: 'istio-proxy',
    readyAfterMs: 0,
    start(ctx) {
      const t = ctx.now().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
      ctx.log(`${t}\tinfo\tFLAG: --domain="cluster.local"`);
      ctx.log(`${t}\tinfo\tFLAG: --monitoringAddr=":15014"`);
      ctx.log(`${t}\tinfo\tklog\tConfig not passed: using in cluster default`);
      ctx.log(`${t}\tinfo\tserver\tDiscovery service started`);
    },
    async serve(req, ctx, conn) {
      if (conn.localPort === 15017) {
        const reply = handleWebhook(req.method, req.path, req.headers['content-type'], req.body, reader, ctx.namespace);
        if (reply) return respond(ctx, reply.status, reply.body, { 'content-type': reply.contentType });
      }
      if (conn.localPort === 8080 && req.method === 'GET' && req.path.split('?')[0] === '/ready') return respond(ctx, 200, '', { 'content-type': 'text/plain; charset=utf-8' });
      return respond(ctx, 404, '404 page not found\n', { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
    },
  };
}

function proxyBehaviour(): ContainerBehaviour {
  return {
    ports: [15020, 15021, 15090],
    userland: 'distroless',
    user: 'istio-proxy',
    readyAfterMs: 0,
    start(ctx) {
      const t = ctx.now().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
      ctx.log(`${t}\tinfo\tFLAG: --concurrency="0"`);
      ctx.log(`${t}\tinfo\tVersion 1.30.3-${'0'.repeat(40)}-Clean`);
      ctx.log(`${t}\tinfo\tProxy role\tips=[${ctx.podIP}] type=${ctx.args?.[1] === 'router' ? 'router' : 'sidecar'} id=${ctx.podName}.${ctx.namespace} domain=${ctx.namespace}.svc.cluster.local`);
      ctx.log(`${t}\tinfo\tEnvoy proxy is ready`);
    },
    async serve(req, ctx, conn) {
      if (conn.localPort === 15021 && req.method === 'GET' && req.path.split('?')[0] === '/healthz/ready') return respond(ctx, 200, '', {});
      return respond(ctx, 404, '', {});
    },
  };
}

/** istiod's image; its webhooks read the mesh's ConfigMaps and nodes through `reader`. */
export function istioPilotImage(reader: MeshReader): ImageBehaviourEntry {
  return {
    name: 'istio/pilot',
    matches: (img) => isIstio(img.repository, 'pilot'),
    create: () => pilotBehaviour(reader),
  };
}

export const istioProxyImage: ImageBehaviourEntry = {
  name: 'istio/proxyv2',
  matches: (img) => isIstio(img.repository, 'proxyv2'),
  create: () => proxyBehaviour(),
};
