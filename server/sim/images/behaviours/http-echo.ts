/** hashicorp/http-echo: answers every request with -text, on -listen (default :5678). */
import { respond } from '../http.js';
import type { ImageBehaviourEntry } from '../types.js';
import type { ContainerBehaviour, ContainerContext } from '../types.js';

interface EchoArgs {
  text?: string;
  port: number;
  status: number;
}

function parseArgs(ctx: ContainerContext): EchoArgs {
  const out: EchoArgs = { port: 5678, status: 200 };
  const argv = [...(ctx.command ?? []), ...(ctx.args ?? [])];
  for (let i = 0; i < argv.length; i++) {
    const m = /^--?([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m) continue;
    const value = m[2] ?? argv[++i] ?? '';
    if (m[1] === 'text') out.text = value;
    else if (m[1] === 'listen') out.port = Number(value.split(':').pop()) || 5678;
    else if (m[1] === 'status-code') out.status = Number(value) || 200;
  }
  if (out.text === undefined && ctx.env.ECHO_TEXT !== undefined) out.text = ctx.env.ECHO_TEXT;
  return out;
}

const pad = (n: number) => String(n).padStart(2, '0');
const logTime = (d: Date) => `${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;

export function httpEchoBehaviour(): ContainerBehaviour {
  return {
    ports: [5678],
    portsFor: (ctx) => [parseArgs(ctx).port],
    userland: 'distroless',
    readyAfterMs: 0,
    start(ctx) {
      ctx.log(`${logTime(ctx.now())} [INFO] server is listening on :${parseArgs(ctx).port}`);
    },
    async run(ctx, signal) {
      if (parseArgs(ctx).text === undefined) {
        ctx.log('Missing -text option!');
        return 127;
      }
      await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
      return 0;
    },
    async serve(req, ctx, conn) {
      const a = parseArgs(ctx);
      const res = respond(ctx, a.status, `${a.text ?? ''}\n`, { 'x-app-name': 'http-echo', 'x-app-version': '1.0.0', 'content-type': 'text/plain; charset=utf-8' });
      ctx.log(`${logTime(ctx.now())} ${req.headers['host'] ?? ''} ${conn.remoteAddress} "${req.method} ${req.path} HTTP/1.1" ${a.status} ${res.body.length} "${req.headers['user-agent'] ?? ''}" 21.5µs`);
      return res;
    },
  };
}

export const httpEcho: ImageBehaviourEntry = {
  name: 'hashicorp/http-echo',
  matches: (img) => img.repository === 'hashicorp/http-echo',
  create: () => httpEchoBehaviour(),
};
