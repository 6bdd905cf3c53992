/**
 * Learner identity, tried as a hostile learner would: two learners in one server; A knows the
 * access token (every learner does) and B's learner id (a directory name) and tries to reach B's
 * terminal, progress and checks; tampered cookies; requests without an identity that try to make
 * the server create learners and clusters; open redirects; WebSockets from foreign origins and
 * under a forged Host (the DNS-rebinding shape).
 */
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { decodeServerMessage, encodeMessage } from '../../server/terminal/protocol.js';
import { exchangeToken, startTestPlayground, type TestPlayground } from '../helpers/playground.js';

const lessonsDir = path.join(path.dirname(new URL(import.meta.url).pathname), '../fixtures/lessons/live');

let pg: TestPlayground;
let cookiesA: string;
let cookiesB: string;
const acquired: string[] = [];

beforeAll(async () => {
  pg = await startTestPlayground({ lessonsDir });
  // Every cluster a learner gets goes through the backend's acquire: count them.
  const acquire = pg.backend.acquire.bind(pg.backend);
  pg.backend.acquire = (id: string) => {
    acquired.push(id);
    return acquire(id);
  };
  cookiesB = pg.cookies;
  cookiesA = await exchangeToken(pg.url);
});
afterAll(async () => {
  await pg?.close();
  if (pg) fs.rmSync(pg.dataDir, { recursive: true, force: true });
});

const origin = () => pg.baseUrl.replace(/\/$/, '');
const tokenCookie = () => `pg_token_${pg.port}=${pg.token}`;
const learnerCookie = (value: string) => `pg_learner_${pg.port}=${value}`;
const secretOf = (cookies: string) => new RegExp(`pg_learner_${pg.port}=([^;]+)`).exec(cookies)![1]!;

const api = (pathname: string, cookie: string, init: RequestInit = {}) =>
  fetch(new URL(pathname, pg.baseUrl), { ...init, redirect: 'manual', headers: { cookie, origin: origin(), 'content-type': 'application/json', ...(init.headers ?? {}) } });

function learnerRows(): number {
  const db = new Database(path.join(pg.dataDir, 'progress.sqlite'), { readonly: true });
  try {
    return (db.prepare('SELECT COUNT(*) AS n FROM learner').get() as { n: number }).n;
  } finally {
    db.close();
  }
}
// One directory per learner (the sandbox keeps its uid table as a file beside them).
const learnerDirs = () => {
  const dir = path.join(pg.dataDir, 'learners');
  return fs.existsSync(dir) ? fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name) : [];
};
const footprint = () => ({ learners: learnerRows(), dirs: learnerDirs().length, clusters: acquired.length });

/** The browser's terminal WebSocket, reduced to what these tests need. */
class Shell {
  output = '';
  private waiters: (() => void)[] = [];
  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, binary) => {
      // Control messages (hello, pong) must at least be well-formed; the screen is the binary frames.
      if (binary) this.output += data.toString('utf8');
      else expect(decodeServerMessage(data.toString('utf8')).ok).toBe(true);
      this.waiters.splice(0).forEach((w) => w());
    });
  }

  static open(cookie: string): Promise<Shell> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(new URL('/ws/terminal', pg.baseUrl.replace(/^http/, 'ws')), { headers: { cookie, origin: origin() } });
      ws.once('open', () => resolve(new Shell(ws)));
      ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { statusCode: res.statusCode })));
      ws.once('error', reject);
    });
  }

  /** Runs a command; resolves with what it printed (between markers the shell builds, so the echo never matches). */
  async run(command: string): Promise<string> {
    const id = Math.random().toString(36).slice(2, 8);
    const from = this.output.length;
    this.ws.send(encodeMessage({ t: 'input', d: `echo BEGIN''${id}; ${command}; echo END''${id}\r` }));
    const deadline = Date.now() + 20_000;
    while (this.output.indexOf(`END${id}`, from) < 0) {
      if (Date.now() > deadline) throw new Error(`no output from ${command}: ${JSON.stringify(this.output.slice(-400))}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 500);
      });
    }
    const text = this.output.slice(from);
    return text.slice(text.indexOf(`BEGIN${id}`) + 6 + id.length, text.indexOf(`END${id}`)).trim();
  }

  close(): void {
    this.ws.close();
  }
}

/** A WebSocket handshake with exactly the headers given (Host included): raw, as an attacker's tool would send it. */
function rawUpgrade(headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port: pg.port,
      path: '/ws/terminal',
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', ...headers },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

/** A plain HTTP request with a chosen Host header (fetch will not send one). */
function rawGet(pathname: string, headers: Record<string, string>): Promise<{ status: number; body: string; location?: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: pg.port, path: pathname, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, ...(res.headers.location ? { location: res.headers.location } : {}) }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A request line no well-behaved client would send (backslashes, tabs, absolute forms). */
function rawRequestLine(target: string, cookie = ''): Promise<{ status: number; location?: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(pg.port, '127.0.0.1');
    let data = '';
    socket.on('data', (c) => (data += c.toString('latin1')));
    socket.on('end', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0);
      const location = /\r\nlocation: ([^\r]*)\r\n/i.exec(data)?.[1];
      resolve({ status, ...(location !== undefined ? { location } : {}) });
    });
    socket.on('error', reject);
    socket.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${pg.port}\r\n${cookie ? `Cookie: ${cookie}\r\n` : ''}Connection: close\r\n\r\n`, 'latin1');
  });
}

describe('another learner\'s id, with the shared token', () => {
  let bId: string;
  let shellB: Shell;

  beforeAll(async () => {
    // B works: a ConfigMap in B's cluster, a line in B's terminal, the step checked and done.
    shellB = await Shell.open(cookiesB);
    expect(await shellB.run('kubectl create configmap greeting --from-literal=message=hello')).toContain('configmap/greeting created');
    await shellB.run('echo b-private-$((40+2))');
    const run = await api('/api/checks/demo/configmap/run', cookiesB, { method: 'POST' });
    expect(await run.json()).toMatchObject({ done: true });
    expect(await (await api('/api/progress/demo', cookiesB)).json()).toMatchObject({ done: ['configmap'] });
    // What A can learn about B: the name of B's directory.
    expect(learnerDirs()).toHaveLength(1);
    bId = learnerDirs()[0]!;
  });
  afterAll(() => shellB?.close());

  it('opens none of B\'s API: progress, tracks, checks, live check events', async () => {
    const forged = `${tokenCookie()}; ${learnerCookie(bId)}`;
    for (const [pathname, method] of [
      ['/api/progress/demo', 'GET'],
      ['/api/tracks', 'GET'],
      ['/api/info', 'GET'],
      ['/api/checks/demo/configmap/run', 'POST'],
      ['/api/checks/demo/configmap/events', 'GET'],
    ] as const) {
      const res = await api(pathname, forged, { method });
      expect(res.status, pathname).toBe(401);
      expect(await res.json(), pathname).toEqual({ error: expect.stringContaining('no learner session') });
    }
    // Writing B's progress is refused too, and B's progress is as B left it.
    const put = await api('/api/progress/demo', forged, { method: 'PUT', body: JSON.stringify({ done: { stepId: 'configmap', done: false } }) });
    expect(put.status).toBe(401);
    expect(await (await api('/api/progress/demo', cookiesB)).json()).toMatchObject({ done: ['configmap'] });
  });

  it('opens not B\'s terminal', async () => {
    await expect(Shell.open(`${tokenCookie()}; ${learnerCookie(bId)}`)).rejects.toMatchObject({ statusCode: 401 });
    // Sent twice, in either order beside A's own identity, the cookie still never names B.
    for (const cookie of [`${learnerCookie(bId)}; ${cookiesA}`, `${cookiesA}; ${learnerCookie(bId)}`]) {
      const shell = await Shell.open(cookie).catch((err: { statusCode?: number }) => err);
      if (shell instanceof Shell) {
        expect(await shell.run('echo $HOME')).not.toContain(bId);
        expect(shell.output).not.toContain('b-private-42');
        shell.close();
      } else {
        expect(shell.statusCode).toBe(401);
      }
    }
  });

  it('a page load with B\'s id gets a new learner of its own, with nothing of B\'s', async () => {
    const res = await api('/', `${tokenCookie()}; ${learnerCookie(bId)}`);
    expect(res.status).toBe(200);
    const issued = res.headers.getSetCookie().find((c) => c.startsWith(`pg_learner_${pg.port}=`))!;
    expect(issued).toMatch(/HttpOnly; SameSite=Strict/);
    const fresh = `${tokenCookie()}; ${issued.split(';')[0]}`;
    expect(secretOf(fresh)).not.toBe(bId);
    expect(await (await api('/api/progress/demo', fresh)).json()).toEqual({ trackId: 'demo', currentStep: null, done: [] });
    const shell = await Shell.open(fresh);
    try {
      expect(shell.output).not.toContain('b-private-42');
      expect(await shell.run('echo $HOME')).not.toContain(bId);
      // A's cluster is A's own: B's ConfigMap is not in it.
      expect(await shell.run('kubectl get configmap greeting 2>&1')).toContain('configmaps "greeting" not found');
    } finally {
      shell.close();
    }
    const check = await (await api('/api/checks/demo/configmap/run', fresh, { method: 'POST' })).json();
    expect(check).toMatchObject({ done: false, checks: [{ passed: false }] });
  });

  it('tampered secrets open nothing, and B\'s own cookie still works', async () => {
    const secret = secretOf(cookiesB);
    const tampered = [
      secret.slice(0, -1) + (secret.endsWith('A') ? 'B' : 'A'),
      secret.slice(0, -1),
      `${secret}A`,
      secret.toUpperCase(),
      `${secret.slice(0, 20)}${bId}`,
      encodeURIComponent(`${secret}\u0000`),
      `"${secret}"x`,
    ];
    for (const value of tampered) {
      const cookie = `${tokenCookie()}; ${learnerCookie(value)}`;
      expect((await api('/api/progress/demo', cookie)).status, value).toBe(401);
      expect(await rawUpgrade({ host: `127.0.0.1:${pg.port}`, origin: origin(), cookie }), value).toBe(401);
    }
    // B's secret without the token is not enough either.
    expect((await api('/api/progress/demo', learnerCookie(secret))).status).toBe(401);
    expect(await (await api('/api/progress/demo', cookiesB)).json()).toMatchObject({ done: ['configmap'] });
  });
});

describe('requests without a learner identity', () => {
  it('answer 401 and create no learner, directory or cluster', async () => {
    const before = footprint();
    const tokenOnly = tokenCookie();
    const bearer = { authorization: `Bearer ${pg.token}` };
    const attempts: Array<Promise<Response>> = [
      api('/api/checks/demo/configmap/run', tokenOnly, { method: 'POST' }),
      api('/api/checks/demo/configmap/run', '', { method: 'POST', headers: bearer }),
      api(`/api/checks/demo/configmap/run?token=${pg.token}`, '', { method: 'POST' }),
      api('/api/checks/demo/configmap/events', tokenOnly),
      api('/api/progress/demo', tokenOnly, { method: 'PUT', body: JSON.stringify({ currentStep: 'configmap' }) }),
      api('/api/tracks', '', { headers: bearer }),
      api('/api/info', tokenOnly),
    ];
    for (const res of await Promise.all(attempts)) {
      expect(res.status, res.url).toBe(401);
      expect(await res.json()).toEqual({ error: expect.stringMatching(/no learner session|access token/) });
    }
    expect(await rawUpgrade({ host: `127.0.0.1:${pg.port}`, origin: origin(), cookie: tokenOnly })).toBe(401);
    expect(await rawUpgrade({ host: `127.0.0.1:${pg.port}`, authorization: `Bearer ${pg.token}` })).toBe(401);
    // The client's assets need the token only, and make no learner either.
    expect((await api('/assets/app.css', tokenOnly)).status).toBe(200);
    expect((await api('/', tokenOnly, { method: 'HEAD' })).headers.getSetCookie()).toEqual([]);
    expect(footprint()).toEqual(before);

    // Loading the page is what makes a learner (and no cluster until a terminal or check needs one).
    const page = await api('/', tokenOnly);
    expect(page.status).toBe(200);
    expect(page.headers.getSetCookie()).toHaveLength(1);
    expect(footprint()).toEqual({ ...before, learners: before.learners + 1 });
  });
});

describe('the token exchange redirect', () => {
  it('stays on this site whatever the path', async () => {
    const payloads = [
      '//evil.example/',
      '//evil.example',
      '/\\evil.example/',
      '/\\/evil.example',
      '\\\\evil.example',
      '/%2F%2Fevil.example',
      '/%5C%5Cevil.example',
      '///evil.example/',
      '/.//evil.example',
      '/%09/evil.example',
      'https:evil.example',
      'https://evil.example/',
      'http:\\\\evil.example',
    ];
    for (const payload of payloads) {
      const res = await rawRequestLine(`${payload}?token=${pg.token}`);
      // 400 is Node refusing the request line outright: no redirect at all is on-site too.
      expect([302, 400], payload).toContain(res.status);
      if (res.status === 302) {
        // Resolved the way a browser resolves Location.
        expect(new URL(res.location!, pg.baseUrl).origin, `${payload} → ${res.location}`).toBe(origin());
      }
    }
    // A tab inside the path (browsers strip tabs before reading a URL).
    const tab = await rawRequestLine(`/\t/evil.example?token=${pg.token}`);
    if (tab.status === 302) expect(new URL(tab.location!, pg.baseUrl).origin).toBe(origin());
  });

  it('sends a signed-in browser with a stale token home instead of locking it out', async () => {
    const res = await rawRequestLine('//evil.example/?token=stale-token-from-a-bookmark', cookiesA);
    expect(res.status).toBe(302);
    expect(new URL(res.location!, pg.baseUrl).origin).toBe(origin());
    expect((await rawRequestLine('/?token=stale-token-from-a-bookmark')).status).toBe(401);
  });
});

describe('origins and hosts', () => {
  it('refuses terminal WebSockets from foreign origins and under a forged Host, even with valid cookies', async () => {
    const host = `127.0.0.1:${pg.port}`;
    expect(await rawUpgrade({ host, origin: 'http://evil.example', cookie: cookiesA })).toBe(403);
    expect(await rawUpgrade({ host, origin: `http://127.0.0.1:${pg.port + 1}`, cookie: cookiesA })).toBe(403);
    // DNS rebinding: evil.example now resolves to 127.0.0.1, and the page's Origin matches its Host.
    expect(await rawUpgrade({ host: `evil.example:${pg.port}`, origin: `http://evil.example:${pg.port}`, cookie: cookiesA })).toBe(403);
    expect(await rawUpgrade({ host: `evil.example:${pg.port}`, cookie: cookiesA })).toBe(403);
    // Our own addresses, by IP or localhost, are served.
    expect(await rawUpgrade({ host, origin: origin(), cookie: cookiesA })).toBe(101);
    expect(await rawUpgrade({ host: `localhost:${pg.port}`, origin: `http://localhost:${pg.port}`, cookie: cookiesA })).toBe(101);
  });

  it('answers plain HTTP only for hosts no DNS answer can point here', async () => {
    const rebound = await rawGet('/api/progress/demo', { host: `evil.example:${pg.port}`, cookie: cookiesA });
    expect(rebound.status).toBe(403);
    expect(rebound.body).toContain('--public-origin');
    expect((await rawGet(`/?token=${pg.token}`, { host: `evil.example:${pg.port}` })).status).toBe(403);
    expect((await rawGet('/api/progress/demo', { host: `localhost:${pg.port}`, cookie: cookiesA })).status).toBe(200);
  });

  it('serves a configured public origin, and only that one', async () => {
    const published = await startTestPlayground({ lessonsDir, publicOrigins: ['https://lab.example.org'] });
    try {
      const upgrade = (headers: Record<string, string>) =>
        new Promise<number>((resolve, reject) => {
          const req = http.request({
            host: '127.0.0.1',
            port: published.port,
            path: '/ws/terminal',
            headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', cookie: published.cookies, ...headers },
          });
          req.on('upgrade', (res, socket) => {
            socket.destroy();
            resolve(res.statusCode ?? 0);
          });
          req.on('response', (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          });
          req.on('error', reject);
          req.end();
        });
      // As behind a TLS-terminating proxy that keeps the Host.
      expect(await upgrade({ host: 'lab.example.org', origin: 'https://lab.example.org' })).toBe(101);
      expect(await upgrade({ host: 'lab.example.org', origin: 'http://lab.example.org' })).toBe(403);
      expect(await upgrade({ host: 'lab.example.org.evil.example', origin: 'https://lab.example.org.evil.example' })).toBe(403);
    } finally {
      await published.close();
      fs.rmSync(published.dataDir, { recursive: true, force: true });
    }
  });
});
