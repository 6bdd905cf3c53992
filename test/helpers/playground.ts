/**
 * Starts a real playground server for a test, with its own data dir, and gives a client that
 * behaves like a browser which opened the printed URL (token exchanged for cookies).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino, type Logger } from 'pino';
import WebSocket from 'ws';
import type { Config } from '../../server/config.js';
import { startPlayground, type Playground } from '../../server/playground.js';

export interface TestPlayground extends Playground {
  dataDir: string;
  /** Cookies a browser holds after opening the URL. */
  cookies: string;
  fetchAuthed(pathname: string, init?: RequestInit): Promise<Response>;
  openTerminal(options?: { origin?: string; cookies?: string }): Promise<WebSocket>;
}

export async function startTestPlayground(
  overrides: Partial<Config> & Pick<NonNullable<Parameters<typeof startPlayground>[0]>, 'sandbox' | 'workshops'> & { logger?: Logger } = {},
): Promise<TestPlayground> {
  const dataDir = overrides.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'pg-test-'));
  const pg = await startPlayground({ port: 0, logLevel: 'silent', ...overrides, dataDir, logger: overrides.logger ?? pino({ level: 'silent' }) });
  const cookies = await exchangeToken(pg.url);
  const fetchAuthed = (pathname: string, init: RequestInit = {}) =>
    fetch(new URL(pathname, pg.baseUrl), { ...init, redirect: 'manual', headers: { cookie: cookies, ...(init.headers ?? {}) } });
  const openTerminal = (options: { origin?: string; cookies?: string } = {}) =>
    new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(new URL('/ws/terminal', pg.baseUrl.replace(/^http/, 'ws')), {
        headers: { cookie: options.cookies ?? cookies, origin: options.origin ?? pg.baseUrl.replace(/\/$/, '') },
      });
      ws.once('open', () => resolve(ws));
      ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { statusCode: res.statusCode })));
      ws.once('error', reject);
    });
  return Object.assign(pg, { dataDir, cookies, fetchAuthed, openTerminal });
}

/** What a browser does with the printed URL: follow the token exchange, keep the cookies. */
export async function exchangeToken(url: string): Promise<string> {
  const res = await fetch(url, { redirect: 'manual' });
  if (res.status !== 302) throw new Error(`token exchange answered ${res.status}`);
  return res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
}
