/** Small helpers for building and reading simulated HTTP messages. */
import { STATUS_CODES } from 'node:http';
import type { HttpRequest, HttpResponse } from './types.js';

export function reasonPhrase(status: number): string {
  return STATUS_CODES[status] ?? 'Unknown';
}

/** A response with Content-Length and Date set, as every real server sets them. */
export function respond(
  ctx: { now(): Date },
  status: number,
  body: string | Buffer,
  headers: Record<string, string> = {},
): HttpResponse {
  const buf = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const out: Record<string, string> = { date: ctx.now().toUTCString() };
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = v;
  out['content-length'] = String(buf.length);
  return { status, headers: out, body: buf };
}

export function request(method: string, path: string, headers: Record<string, string> = {}, body: string | Buffer = ''): HttpRequest {
  const lower: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = v;
  return { method, path, headers: lower, body: typeof body === 'string' ? Buffer.from(body, 'utf8') : body };
}

/** The path without its query string. */
export function pathOnly(path: string): string {
  const q = path.indexOf('?');
  return q < 0 ? path : path.slice(0, q);
}

export function queryParams(path: string): URLSearchParams {
  const q = path.indexOf('?');
  return new URLSearchParams(q < 0 ? '' : path.slice(q + 1));
}

/** Cookies of a Cookie header, by name. */
export function parseCookieHeader(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    out.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return out;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** `26/Nov/2026:12:00:00 +0000`, the Common Log Format timestamp (nginx, httpd). */
export function clfTime(d: Date): string {
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

/** `2026-11-26 12:00:00` in UTC. */
export function isoSeconds(d: Date): string {
  return d.toISOString().slice(0, 19).replace('T', ' ');
}
