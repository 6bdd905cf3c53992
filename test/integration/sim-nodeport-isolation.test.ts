/**
 * Learners' shells share the machine's loopback, where every learner's NodePorts listen. Attacked
 * as a learner would: A curls B's NodePort from A's own sandboxed shell and must get nothing, while
 * B (and the server's checks, as root) still reach it; every cluster's nodes are on a block of
 * their own, kept across a release and restore.
 *
 * Needs root (learners get uids of their own; unprivileged, all learners are one user and the
 * NodePorts cannot tell them apart, see README, Security).
 */
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exchangeToken, startTestPlayground, type TestPlayground } from '../helpers/playground.js';
import { TestClient } from '../helpers/terminal-client.js';

const IS_ROOT = process.getuid?.() === 0;

interface Learner {
  id: string;
  client: TestClient;
}

async function newLearner(pg: TestPlayground, cookies?: string): Promise<Learner> {
  cookies ??= await exchangeToken(pg.url);
  const before = new Set(pg.terminals.ids());
  const client = await TestClient.open(new URL('/ws/terminal', pg.baseUrl.replace(/^http/, 'ws')).href, {
    headers: { cookie: cookies, origin: pg.baseUrl.replace(/\/$/, '') },
  });
  await client.run('true', 20_000);
  const id = pg.terminals.ids().find((i) => !before.has(i));
  if (!id) throw new Error('the terminal started no new session');
  return { id, client };
}

const NODE_IPS = `kubectl get nodes -o jsonpath='{range .items[*]}{.status.addresses[?(@.type=="InternalIP")].address}{"\\n"}{end}'`;
const block = (ip: string) => ip.split('.').slice(0, 3).join('.');

describe.skipIf(!IS_ROOT)("a learner's NodePorts (server as root: a uid per learner)", () => {
  let pg: TestPlayground;
  let a: Learner;
  let b: Learner;
  let target = '';
  const curl = (l: Learner, url: string) => l.client.run(`curl -sS -m 10 -o /dev/null -w '%{http_code}' ${url} 2>&1; echo " rc=$?"`, 20_000);

  beforeAll(async () => {
    pg = await startTestPlayground();
    a = await newLearner(pg, pg.cookies);
    b = await newLearner(pg);
    await b.client.run('kubectl create deployment web --image=nginx && kubectl expose deployment web --type=NodePort --port=80', 20_000);
    expect(await b.client.run('kubectl rollout status deployment/web --timeout=60s', 70_000)).toMatch(/successfully rolled out/);
    const ip = (await b.client.run(NODE_IPS)).split(/\r?\n/)[0]!;
    const port = await b.client.run("kubectl get service web -o jsonpath='{.spec.ports[0].nodePort}'");
    expect(ip).toMatch(/^127\.\d+\.\d+\.\d+$/);
    expect(port).toMatch(/^3\d{4}$/);
    target = `http://${ip}:${port}/`;
  }, 120_000);
  afterAll(async () => {
    await pg?.close();
    if (pg) rmSync(pg.dataDir, { recursive: true, force: true });
  });

  it("answers B's own shell", async () => {
    await expect.poll(() => curl(b, target), { timeout: 20_000, interval: 200 }).toBe('200 rc=0');
  });

  it("resets A's connection, and A learns nothing of B's service", async () => {
    await expect.poll(() => curl(b, target), { timeout: 20_000, interval: 200 }).toBe('200 rc=0');
    // Reset at once, curl says "Couldn't connect" (7) or "Connection reset by peer" (55/56), depending
    // on whether the RST beats its connect check: either way, nothing from B's service.
    const refused = (out: string) => {
      expect(out).toMatch(/curl: \(7\) Failed to connect to .*Couldn't connect to server|curl: \(5[56]\) (Recv|Send) failure: Connection reset by peer/);
      expect(out).toMatch(/000 rc=(7|55|56)$/);
    };
    refused(await curl(a, target));
    const body = await a.client.run(`curl -sS -m 10 ${target} 2>&1; echo " rc=$?"`, 20_000);
    expect(body).not.toMatch(/nginx/i);
    expect(body).toMatch(/ rc=(7|55|56)$/);
    // Not from another source address of the loopback either: the kernel says whose socket it is.
    refused(await a.client.run(`curl -sS -m 10 --interface 127.0.0.1 -o /dev/null -w '%{http_code}' ${target} 2>&1; echo " rc=$?"`, 20_000));
    // B is not disturbed by it.
    expect(await curl(b, target)).toBe('200 rc=0');
  });

  it('still answers the server and its checks (root)', async () => {
    const res = await fetch(target);
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/Welcome to nginx/);
  });

  it("puts each learner's nodes on a block of their own, claimed machine-wide", async () => {
    const aIps = (await a.client.run(NODE_IPS)).split(/\r?\n/);
    const bIps = (await b.client.run(NODE_IPS)).split(/\r?\n/);
    expect(new Set(aIps.map(block)).size).toBe(1);
    expect(new Set(bIps.map(block)).size).toBe(1);
    expect(block(aIps[0]!)).not.toBe(block(bIps[0]!));
    const claims = '/var/lib/istio-playground/node-block-claims';
    expect(readFileSync(path.join(claims, block(bIps[0]!)), 'utf8')).toBe(path.join(pg.dataDir, 'learners', b.id, 'cluster'));
  });

  it("keeps B's node addresses when B's cluster is released and restored", async () => {
    const before = await b.client.run(NODE_IPS);
    await pg.backend.release(b.id);
    await pg.backend.acquire(b.id);
    expect(await b.client.run(NODE_IPS, 20_000)).toBe(before);
    await expect.poll(() => curl(b, target), { timeout: 30_000, interval: 200 }).toBe('200 rc=0');
    expect(await curl(a, target)).toMatch(/000 rc=(7|55|56)$/);
  });
});
