/**
 * The join rate limit behind a reverse proxy (deploy/istio-routing: every join arrives from the
 * ingress's address). Clients are told apart by the loopback address they connect from
 * (127.0.0.2, 127.0.0.3, …); the proxy in front is a forwarding proxy that appends the address it
 * was connected from to X-Forwarded-For, as the Istio ingress gateway (Envoy, use_remote_address)
 * does. By default X-Forwarded-For is ignored; with `trustProxy` the limit keys on the client the
 * trusted proxy reports, and nothing a client writes in the header gets past what is trusted.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlayground, type TestPlayground } from '../helpers/playground.js';

const lessonsDir = path.join(path.dirname(new URL(import.meta.url).pathname), '../fixtures/lessons/workshop');
/** Join submissions per client address per minute, in every playground here. */
const PER_MINUTE = 3;

/** A forwarding proxy: the request as sent, X-Forwarded-For with the connecting client's address appended. */
function forwardingProxy(target: URL): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const client = req.socket.remoteAddress!;
    const xff = req.headers['x-forwarded-for'];
    const upstream = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, 'x-forwarded-for': xff ? `${String(xff)}, ${client}` : client } }, (answer) => {
      res.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () => new Promise<void>((r) => server.close(() => r())),
      }),
    );
  });
}

let direct: TestPlayground;
let hops: TestPlayground;
let cidr: TestPlayground;
const proxies = new Map<TestPlayground, Awaited<ReturnType<typeof forwardingProxy>>>();
const joinPaths = new Map<TestPlayground, string>();

beforeAll(async () => {
  const start = (trustProxy?: number | string[]) =>
    startTestPlayground({ lessonsDir, ...(trustProxy !== undefined ? { trustProxy } : {}), workshops: { joinLimits: { perMinute: PER_MINUTE, badCodesPer10Min: 100 } } });
  // No proxy trusted; one hop trusted (the deploy/ setting); only the proxy's own address trusted.
  [direct, hops, cidr] = await Promise.all([start(), start(1), start(['127.0.0.1'])]);
  for (const pg of [direct, hops, cidr]) {
    proxies.set(pg, await forwardingProxy(new URL(pg.baseUrl)));
    const login = await fetch(pg.adminUrl, { redirect: 'manual' });
    const admin = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const res = await fetch(new URL('/api/admin/workshops', pg.baseUrl), {
      method: 'POST',
      headers: { cookie: admin, origin: pg.baseUrl.replace(/\/$/, ''), 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Proxied', tracks: ['demo'], capacity: 50, expiresInMinutes: 60 }),
    });
    expect(res.status).toBe(201);
    joinPaths.set(pg, ((await res.json()) as { joinPath: string }).joinPath);
  }
});

afterAll(async () => {
  for (const p of proxies.values()) await p.close();
  for (const pg of [direct, hops, cidr]) {
    await pg?.close();
    if (pg) fs.rmSync(pg.dataDir, { recursive: true, force: true });
  }
});

/**
 * One join submission from `from` (a loopback address), straight to the playground or through its
 * proxy, with an empty name: refused with 400, but counted against the address's budget (429 past it).
 */
function attempt(pg: TestPlayground, from: string, options: { via?: 'proxy'; forged?: string } = {}): Promise<number> {
  const target = new URL(pg.baseUrl);
  const body = 'name=';
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: options.via === 'proxy' ? proxies.get(pg)!.port : Number(target.port),
        localAddress: from,
        method: 'POST',
        path: joinPaths.get(pg),
        headers: {
          host: target.host,
          origin: pg.baseUrl.replace(/\/$/, ''),
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
          ...(options.forged ? { 'x-forwarded-for': options.forged } : {}),
        },
        agent: false,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Statuses of `n` attempts in a row. */
async function attempts(n: number, make: (i: number) => Promise<number>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await make(i));
  return out;
}

const withinBudget = Array<number>(PER_MINUTE).fill(400);

describe('the join rate limit behind a reverse proxy', () => {
  it('ignores X-Forwarded-For by default: a client cannot change its budget by forging it', async () => {
    const forged = await attempts(PER_MINUTE + 2, (i) => attempt(direct, '127.0.0.2', { forged: `198.51.100.${i + 1}` }));
    expect(forged).toEqual([...withinBudget, 429, 429]);
    // Another address has its own budget.
    expect(await attempt(direct, '127.0.0.3')).toBe(400);
    // Without trusting the proxy, everyone behind it is one client: the room shares one budget.
    const room = await attempts(PER_MINUTE + 1, (i) => attempt(direct, `127.0.1.${i + 1}`, { via: 'proxy' }));
    expect(room).toEqual([...withinBudget, 429]);
  });

  for (const [setting, pg] of [
    ['one trusted hop', () => hops],
    ['the proxy’s address trusted', () => cidr],
  ] as const) {
    it(`with ${setting}, clients behind the proxy get a budget each, and a forged header does not escape the client’s`, async () => {
      const a = await attempts(PER_MINUTE + 1, () => attempt(pg(), '127.0.2.1', { via: 'proxy' }));
      expect(a).toEqual([...withinBudget, 429]);
      // A second client behind the same proxy is not throttled by the first.
      const b = await attempts(PER_MINUTE + 1, () => attempt(pg(), '127.0.2.2', { via: 'proxy' }));
      expect(b).toEqual([...withinBudget, 429]);
      // Whatever a client puts in X-Forwarded-For, the proxy appends its real address, and that is the one counted.
      const forged = await attempts(PER_MINUTE + 2, (i) => attempt(pg(), '127.0.2.3', { via: 'proxy', forged: i % 2 ? `203.0.113.${i}` : `127.0.0.1, 10.0.0.${i}` }));
      expect(forged).toEqual([...withinBudget, 429, 429]);
    });
  }

  it('with only the proxy’s address trusted, a client reaching the server directly cannot claim another address', async () => {
    const forged = await attempts(PER_MINUTE + 2, (i) => attempt(cidr, '127.0.3.1', { forged: `198.51.100.${i + 1}` }));
    expect(forged).toEqual([...withinBudget, 429, 429]);
  });
});
