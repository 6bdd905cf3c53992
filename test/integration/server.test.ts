import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestPlayground, type TestPlayground } from '../helpers/playground.js';

let pg: TestPlayground;
beforeAll(async () => {
  pg = await startTestPlayground();
});
afterAll(async () => {
  await pg?.close();
});

const upgradeStatus = (url: string, headers: Record<string, string>) =>
  new Promise<number>((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('error', reject);
  });

describe('playground server security', () => {
  it('binds to loopback by default and prints a URL with a token', () => {
    expect(pg.config.host).toBe('127.0.0.1');
    expect(pg.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{20,}$/);
  });

  it('answers 401 to every page and API path without the token', async () => {
    for (const p of ['/', '/index.html', '/assets/app.js', '/api/tracks', '/api/info', '/api/no/such/thing', '/whatever']) {
      const res = await fetch(new URL(p, pg.baseUrl));
      expect(res.status, p).toBe(401);
    }
    expect(await (await fetch(new URL('/api/tracks', pg.baseUrl))).json()).toMatchObject({ error: expect.stringContaining('token') });
  });

  it("shows this server's own address, port included, on the page asking for the token", async () => {
    const page = await (await fetch(new URL('/', pg.baseUrl))).text();
    expect(page).toContain(`<code>http://127.0.0.1:${pg.port}/?token=…</code>`);
    expect((await (await fetch(new URL('/?token=wrong', pg.baseUrl))).text())).toContain(`http://127.0.0.1:${pg.port}/`);
  });

  it('answers 401 to a wrong token and to another port\'s cookie', async () => {
    expect((await fetch(new URL('/?token=wrong', pg.baseUrl), { redirect: 'manual' })).status).toBe(401);
    const foreign = pg.cookies.replace(/pg_token_\d+/, 'pg_token_1');
    expect((await fetch(new URL('/api/tracks', pg.baseUrl), { headers: { cookie: foreign } })).status).toBe(401);
  });

  it('exchanges the URL token for HttpOnly SameSite cookies and drops it from the address bar', async () => {
    const res = await fetch(pg.url, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/');
    const cookies = res.headers.getSetCookie();
    expect(cookies.find((c) => c.startsWith(`pg_token_${pg.port}=`))).toMatch(/HttpOnly; SameSite=Strict/);
    expect(cookies.find((c) => c.startsWith(`pg_learner_${pg.port}=`))).toMatch(/HttpOnly; SameSite=Strict/);
  });

  it('refuses WebSocket upgrades without the token', async () => {
    const url = pg.baseUrl.replace(/^http/, 'ws') + 'ws/terminal';
    expect(await upgradeStatus(url, {})).toBe(401);
    expect(await upgradeStatus(url, { cookie: 'pg_token_1=x' })).toBe(401);
  });

  it('refuses WebSocket upgrades from a foreign Origin (cross-site WebSocket hijacking)', async () => {
    const url = pg.baseUrl.replace(/^http/, 'ws') + 'ws/terminal';
    expect(await upgradeStatus(url, { cookie: pg.cookies, origin: 'http://evil.example.com' })).toBe(403);
    await expect(pg.openTerminal({ origin: 'http://evil.example.com' })).rejects.toMatchObject({ statusCode: 403 });
  });

  it('sends security headers with a strict Content-Security-Policy', async () => {
    const res = await pg.fetchAuthed('/api/tracks');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-powered-by')).toBeNull();
  });
});

describe('lessons and progress API', () => {
  it('lists tracks, the Welcome track among them', async () => {
    const body = (await (await pg.fetchAuthed('/api/tracks')).json()) as { tracks: { id: string; supported: boolean; steps: unknown[] }[] };
    const welcome = body.tracks.find((t) => t.id === 'welcome');
    expect(welcome?.supported).toBe(true);
    expect(welcome?.steps.length).toBeGreaterThan(1);
  });

  it('serves a rendered track and 404s an unknown one', async () => {
    const track = (await (await pg.fetchAuthed('/api/tracks/welcome')).json()) as { steps: { html: string }[] };
    expect(track.steps.some((s) => s.html.includes('data-runnable="true"'))).toBe(true);
    expect((await pg.fetchAuthed('/api/tracks/nope')).status).toBe(404);
  });

  it('rejects malformed progress updates with a clear 400 and keeps the old progress', async () => {
    const put = (body: string) =>
      pg.fetchAuthed('/api/progress/welcome', { method: 'PUT', body, headers: { 'content-type': 'application/json', cookie: pg.cookies } });
    const firstStep = ((await (await pg.fetchAuthed('/api/tracks/welcome')).json()) as { steps: { id: string }[] }).steps[0]!.id;
    expect((await put(JSON.stringify({ currentStep: firstStep }))).status).toBe(200);
    const bad = await put('{not json');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: 'request body is not valid JSON' });
    expect((await put(JSON.stringify({ currentStep: 'no-such-step' }))).status).toBe(400);
    expect((await put(JSON.stringify({ surprise: 1 }))).status).toBe(400);
    expect(await (await pg.fetchAuthed('/api/progress/welcome')).json()).toMatchObject({ currentStep: firstStep });
  });

  it('refuses oversized, non-UTF-8 and non-object bodies with their own status, and keeps serving', async () => {
    const put = (body: string, contentType = 'application/json') =>
      pg.fetchAuthed('/api/progress/welcome', { method: 'PUT', body, headers: { 'content-type': contentType, cookie: pg.cookies } });
    const firstStep = ((await (await pg.fetchAuthed('/api/tracks/welcome')).json()) as { steps: { id: string }[] }).steps[0]!.id;
    expect((await put(JSON.stringify({ currentStep: firstStep }))).status).toBe(200);
    const huge = await put(JSON.stringify({ currentStep: 'x'.repeat(64 * 1024) }));
    expect(huge.status).toBe(413);
    expect(await huge.json()).toEqual({ error: 'request entity too large' });
    const latin1 = await put(JSON.stringify({ currentStep: firstStep }), 'application/json; charset=iso-8859-1');
    expect(latin1.status).toBe(415);
    expect(await latin1.json()).toEqual({ error: 'unsupported charset "ISO-8859-1"' });
    expect((await put('"just a string"')).status).toBe(400);
    expect((await put(JSON.stringify({ currentStep: firstStep }), 'application/json; charset=UTF-8')).status).toBe(200);
    expect(await (await pg.fetchAuthed('/api/progress/welcome')).json()).toMatchObject({ currentStep: firstStep });
  });

  it('refuses a progress write from a foreign Origin', async () => {
    const res = await pg.fetchAuthed('/api/progress/welcome', {
      method: 'PUT',
      body: '{}',
      headers: { 'content-type': 'application/json', cookie: pg.cookies, origin: 'http://evil.example.com' },
    });
    expect(res.status).toBe(403);
  });
});

describe('persistence', () => {
  it('keeps a learner\'s progress across a server restart', async () => {
    const first = await startTestPlayground();
    const steps = ((await (await first.fetchAuthed('/api/tracks/welcome')).json()) as { steps: { id: string }[] }).steps;
    const put = (body: object) =>
      first.fetchAuthed('/api/progress/welcome', { method: 'PUT', body: JSON.stringify(body), headers: { 'content-type': 'application/json', cookie: first.cookies } });
    await put({ currentStep: steps[1]!.id });
    await put({ done: { stepId: steps[0]!.id, done: true } });
    await first.close();

    const second = await startTestPlayground({ dataDir: first.dataDir, port: first.port });
    // The learner cookie outlives the server; the token is new, as after any restart.
    const learner = first.cookies.split('; ').find((c) => c.startsWith('pg_learner_'))!;
    const token = second.cookies.split('; ').find((c) => c.startsWith('pg_token_'))!;
    const res = await fetch(new URL('/api/progress/welcome', second.baseUrl), { headers: { cookie: `${token}; ${learner}` } });
    expect(await res.json()).toEqual({ trackId: 'welcome', currentStep: steps[1]!.id, done: [steps[0]!.id] });
    await second.close();
    fs.rmSync(first.dataDir, { recursive: true, force: true });
  });
});
