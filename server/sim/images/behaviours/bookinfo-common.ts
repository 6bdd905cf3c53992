/** What the Bookinfo services share: image matching, backend addresses, header propagation. */
import type { ImageRef } from '../image.js';
import { NetworkError, type ContainerContext, type HttpRequest, type HttpResponse } from '../types.js';

/** `examples-bookinfo-reviews-v2` in any registry, any tag → { service: 'reviews', version: 2 }. */
export function bookinfoImage(img: ImageRef): { service: string; version: number } | null {
  const m = /^examples-bookinfo-(details|ratings|reviews|productpage)-v(\d+)$/.exec(img.name);
  return m ? { service: m[1], version: Number(m[2]) } : null;
}

/** Where a Bookinfo service finds a peer: NAME_HOSTNAME / SERVICES_DOMAIN / NAME_SERVICE_PORT env, as the sources read them. */
export function peer(ctx: ContainerContext, name: 'details' | 'ratings' | 'reviews'): { host: string; port: number } {
  const up = name.toUpperCase();
  const domain = ctx.env.SERVICES_DOMAIN ? `.${ctx.env.SERVICES_DOMAIN}` : '';
  const host = (ctx.env[`${up}_HOSTNAME`] || name) + domain;
  const port = Number(ctx.env[`${up}_SERVICE_PORT`] || '9080') || 9080;
  return { host, port };
}

/** Calls a peer; null when the call failed at the connection level (the caller's `except` branch). */
export async function callPeer(
  ctx: ContainerContext,
  target: { host: string; port: number },
  path: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<HttpResponse | null> {
  const req: HttpRequest = {
    method: 'GET',
    path,
    headers: { host: `${target.host}:${target.port}`, accept: '*/*', ...headers },
    body: Buffer.alloc(0),
  };
  try {
    return await ctx.net.request({ host: target.host, port: target.port, scheme: 'http' }, req, { timeoutMs });
  } catch (e) {
    if (e instanceof NetworkError) return null;
    throw e;
  }
}

/** Tracing and context headers both productpage and reviews copy from the request they serve. */
export const PROPAGATED = [
  'x-request-id',
  'x-ot-span-context',
  'x-datadog-trace-id',
  'x-datadog-parent-id',
  'x-datadog-sampling-priority',
  'traceparent',
  'tracestate',
  'x-cloud-trace-context',
  'grpc-trace-bin',
  'sw8',
  'user-agent',
  'cookie',
  'authorization',
  'jwt',
];

export const B3 = ['x-b3-traceid', 'x-b3-spanid', 'x-b3-parentspanid', 'x-b3-sampled', 'x-b3-flags', 'b3'];

export function hex(ctx: ContainerContext, chars: number): string {
  let s = '';
  for (let i = 0; i < chars; i++) s += Math.floor(ctx.random() * 16).toString(16);
  return s;
}

/** Python's json.dumps (", " and ": " separators, ASCII-escaped), which productpage answers with. */
export function pyJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (typeof value === 'number' || typeof value === 'boolean') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(pyJson).join(', ')}]`;
  return `{${Object.entries(value as Record<string, unknown>).map(([k, v]) => `${pyJson(k)}: ${pyJson(v)}`).join(', ')}}`;
}

export function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return null;
  }
}
