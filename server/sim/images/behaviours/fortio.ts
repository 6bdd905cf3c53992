/**
 * fortio/fortio (Istio's load generator for the circuit-breaking task): a FROM-scratch image
 * holding /usr/bin/fortio. Its default process is `fortio server`: the HTTP echo server on 8080
 * (status/size/delay query arguments as fortio's echo handler reads them) and the web UI at
 * /fortio/, which here is a page saying it is simulated. `kubectl exec ... -- fortio load|curl`
 * runs the client (shell/commands/fortio). gRPC ping (8079) and the redirector (8081) are not
 * simulated: nothing listens there.
 */
import { pathOnly, queryParams, respond } from '../http.js';
import type { ContainerBehaviour, ContainerContext, ImageBehaviourEntry } from '../types.js';
import { FORTIO_VERSION, fortio } from '../shell/commands/fortio/fortio.js';
import { runMainProcess } from './process.js';
import { parseGoDuration } from '../shell/commands/fortio/go-format.js';

const ts = (ctx: ContainerContext) => (Math.floor(ctx.now().getTime() * 1000) / 1e6).toFixed(6);
const jlog = (ctx: ContainerContext, file: string, line: number, msg: string) =>
  ctx.log(`{"ts":${ts(ctx)},"level":"info","r":1,"file":"${file}","line":${line},"msg":${JSON.stringify(msg)}}`);

/** The args a container runs fortio with: the spec's, else the image's CMD. */
const argsOf = (ctx: ContainerContext) => (ctx.command ? [...ctx.command.slice(1), ...(ctx.args ?? [])] : (ctx.args ?? ['server', '-config-dir', '/etc/fortio']));
const isServer = (ctx: ContainerContext) => (ctx.command === undefined || ctx.command[0]?.split('/').pop() === 'fortio') && argsOf(ctx)[0] === 'server';

/** fortio's echo `delay=` (capped at -max-echo-delay, 1.5s by default). */
const MAX_DELAY_MS = 1500;

const UI_PAGE = `<!DOCTYPE html>
<html>
<head><title>Φορτίο (fortio) v${FORTIO_VERSION}</title></head>
<body>
<h1>Φορτίο (fortio) v${FORTIO_VERSION} control UI</h1>
<p>This fortio runs in the playground's embedded cluster: its web UI is not simulated.
Run load tests from a shell instead, for example:</p>
<pre>kubectl exec deploy/fortio-deploy -c fortio -- /usr/bin/fortio load -c 2 -qps 0 -n 20 -loglevel Warning http://httpbin:8000/get</pre>
</body>
</html>
`;

export function fortioBehaviour(): ContainerBehaviour {
  return {
    ports: [8080],
    portsFor: (ctx) => (isServer(ctx) ? [8080] : []),
    readyAfterMs: 100,
    userland: 'distroless',
    programs: { fortio },
    workingDir: '/var/lib/fortio',
    start(ctx) {
      if (!isServer(ctx)) return;
      // fnet.Listen (network.go:151) names each server it starts; gRPC ping and the redirector are not simulated.
      ctx.log(`{"ts":${ts(ctx)},"level":"info","r":1,"file":"network.go","line":151,"msg":"Fortio ${FORTIO_VERSION} http-echo server listening on tcp [::]:8080"}`);
      jlog(ctx, 'fortio_main.go', 297, `All fortio ${FORTIO_VERSION} servers started!`);
    },
    run: async (ctx, signal) => {
      if (isServer(ctx)) {
        await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
        return 0;
      }
      const argv = ctx.command ? [...ctx.command, ...(ctx.args ?? [])] : ['/usr/bin/fortio', ...argsOf(ctx)];
      return runMainProcess(ctx, argv, signal);
    },
    async serve(req, ctx) {
      const path = pathOnly(req.path);
      if (path === '/fortio') return respond(ctx, 301, '', { location: '/fortio/' });
      if (path.startsWith('/fortio/')) return respond(ctx, 200, UI_PAGE, { 'content-type': 'text/html; charset=utf-8' });
      const q = queryParams(req.path);
      const delay = q.get('delay');
      if (delay) {
        const ns = parseGoDuration(delay);
        if (ns !== null && ns > 0) await new Promise((r) => setTimeout(r, Math.min(ns / 1e6, MAX_DELAY_MS)));
      }
      const statusArg = q.get('status');
      const status = statusArg && /^\d{3}$/.test(statusArg) ? Number(statusArg) : 200;
      const size = q.get('size');
      if (size && /^\d+$/.test(size)) return respond(ctx, status, Buffer.alloc(Math.min(Number(size), 256 * 1024), 'F'), { 'content-type': 'application/octet-stream' });
      // Echo: the request body back, with its content type.
      return respond(ctx, status, req.body, req.headers['content-type'] ? { 'content-type': req.headers['content-type'] } : {});
    },
  };
}

export const fortioImage: ImageBehaviourEntry = {
  name: 'fortio',
  matches: (img) => img.repository === 'fortio/fortio' || img.repository === 'istio/fortio',
  create: () => fortioBehaviour(),
};
