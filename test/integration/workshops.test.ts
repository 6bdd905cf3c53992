/**
 * Workshops over HTTP, as learners, an instructor and an attacker meet them: joining by link
 * (names, capacity, closing, expiry by an injected clock, refusal pages), learners' access scoped
 * to the workshop, the instructor's access kept apart (forged cookies, learners' tokens, another
 * workshop's learner, CSRF shapes, rate limits), the live dashboard, broadcasts, the read-only
 * terminal view, resets and exports.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { encodeMessage } from '../../server/terminal/protocol.js';
import { SqliteWorkshopStore } from '../../server/workshops/sqlite-store.js';
import type { Dashboard } from '../../server/workshops/dashboard.js';
import type { ResetStatus } from '../../server/steps/reset.js';
import { startTestPlayground, type TestPlayground } from '../helpers/playground.js';
import { screenOf } from '../helpers/screen.js';

const lessonsDir = path.join(path.dirname(new URL(import.meta.url).pathname), '../fixtures/lessons/workshop');

let pg: TestPlayground;
let now = new Date();
let admin: string;

beforeAll(async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-ws-'));
  const clock = () => now;
  pg = await startTestPlayground({
    lessonsDir,
    dataDir,
    workshops: { store: SqliteWorkshopStore.inDataDir(dataDir, clock), clock, joinLimits: { perMinute: 1000, badCodesPer10Min: 8 } },
  });
  const res = await fetch(pg.adminUrl, { redirect: 'manual' });
  expect(res.status).toBe(302);
  admin = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
});
afterAll(async () => {
  await pg?.close();
  if (pg) fs.rmSync(pg.dataDir, { recursive: true, force: true });
});

const origin = () => pg.baseUrl.replace(/\/$/, '');
const url = (p: string) => new URL(p, pg.baseUrl);
const asAdmin = (p: string, init: RequestInit = {}) =>
  fetch(url(p), { ...init, redirect: 'manual', headers: { cookie: admin, origin: origin(), 'content-type': 'application/json', ...(init.headers ?? {}) } });
const as = (cookie: string, p: string, init: RequestInit = {}) =>
  fetch(url(p), { ...init, redirect: 'manual', headers: { cookie, origin: origin(), 'content-type': 'application/json', ...(init.headers ?? {}) } });

async function createWorkshop(over: Partial<{ title: string; tracks: string[]; capacity: number; expiresInMinutes: number }> = {}) {
  const res = await asAdmin('/api/admin/workshops', { method: 'POST', body: JSON.stringify({ title: 'Mesh day', tracks: ['demo'], capacity: 3, expiresInMinutes: 120, ...over }) });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; joinPath: string; title: string };
}

/** What the join form does in a browser: a urlencoded POST from our page. */
async function join(joinPath: string, name: string, headers: Record<string, string> = {}) {
  const res = await fetch(url(joinPath), { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: origin(), ...headers }, body: new URLSearchParams({ name }).toString() });
  const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  return { res, cookie, body: await res.text() };
}

/**
 * A server-sent event stream, open (subscribed) once this resolves: the server sends its headers
 * after subscribing. `next` waits for an event `until` accepts, from those not yet taken.
 */
async function sseStream(cookie: string, p: string) {
  const controller = new AbortController();
  const res = await fetch(url(p), { headers: { cookie }, signal: controller.signal });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  const seen: { event: string; data: unknown }[] = [];
  let taken = 0;
  let buffer = '';
  const decoder = new TextDecoder();
  return {
    seen,
    close: () => controller.abort(),
    async next(until: (e: { event: string; data: unknown }) => boolean, timeoutMs = 30_000): Promise<{ event: string; data: unknown }> {
      const timer = setTimeout(() => controller.abort(), timeoutMs);
      try {
        for (;;) {
          while (taken < seen.length) {
            const e = seen[taken++]!;
            if (until(e)) return e;
          }
          const { value, done } = await reader.read();
          if (done) throw new Error(`stream ended; saw ${JSON.stringify(seen)}`);
          buffer += decoder.decode(value, { stream: true });
          let end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const event = /^event: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (event && data) seen.push({ event, data: JSON.parse(data) });
          }
        }
      } catch (err) {
        throw new Error(`${String(err)}; saw ${JSON.stringify(seen)}`);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** Reads server-sent events until `until` accepts one. */
async function sseUntil<T>(cookie: string, p: string, until: (event: string, data: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const res = await fetch(url(p), { headers: { cookie }, signal: controller.signal });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error('stream ended');
      buffer += Buffer.from(value).toString('utf8');
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event && data && until(event, JSON.parse(data) as T)) {
          void reader.cancel();
          return JSON.parse(data) as T;
        }
      }
    }
  } finally {
    clearTimeout(timer);
  }
}

describe('joining', () => {
  it('shows the workshop’s title (escaped) and a name form; joining gives an identity without any token', async () => {
    const w = await createWorkshop({ title: 'Mesh <script>alert(1)</script> day' });
    const page = await fetch(url(w.joinPath));
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('Join “Mesh &#60;script&#62;alert(1)&#60;/script&#62; day”');
    expect(html).not.toContain('<script>');
    // The workshop's routing cookie (deploy/istio-routing hashes on it) comes with the form, so
    // the form's POST already reaches the pod the learner will stay on.
    expect(page.headers.getSetCookie()).toEqual([`pg_workshop=${w.id}; Path=/; HttpOnly; SameSite=Lax`]);
    const { res, cookie } = await join(w.joinPath, 'Ada');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/');
    expect(res.headers.getSetCookie()[1]).toBe(`pg_workshop=${w.id}; Path=/; HttpOnly; SameSite=Lax`);
    expect(cookie).toMatch(new RegExp(`^pg_learner_${pg.port}=`));
    expect(cookie).not.toContain(pg.token);
    // The cookie alone opens the app and the API, with only the workshop's tracks.
    expect((await as(cookie, '/')).status).toBe(200);
    const tracks = (await (await as(cookie, '/api/tracks')).json()) as { tracks: { id: string }[] };
    expect(tracks.tracks.map((t) => t.id)).toEqual(['demo']);
    expect(await (await as(cookie, '/api/workshop')).json()).toEqual({ workshop: { title: w.title, displayName: 'Ada', tracks: ['demo'] } });
    expect(await (await as(pg.cookies, '/api/workshop')).json()).toEqual({ workshop: null });
    for (const p of ['/api/tracks/other', '/api/progress/other', '/api/checks/other/intro/events']) {
      const r = await as(cookie, p);
      expect(r.status, p).toBe(404);
      expect(await r.json(), p).toEqual({ error: 'track "other" not found' });
    }
    // Opening the link again in the same browser goes back to the lesson, with no second identity.
    const again = await as(cookie, w.joinPath);
    expect(again.status).toBe(303);
    expect(again.headers.getSetCookie()).toEqual([]);
  });

  it('refuses invalid names with the reason, re-showing the form (escaped)', async () => {
    const w = await createWorkshop();
    for (const [name, reason] of [
      ['', 'Enter a display name.'],
      ['x'.repeat(41), 'A display name has at most 40 characters.'],
      ['evil\u202Eeman', 'A display name cannot contain control or formatting characters.'],
      ['bell\u0007', 'A display name cannot contain control or formatting characters.'],
    ]) {
      const { res, body, cookie } = await join(w.joinPath, name!);
      expect(res.status, JSON.stringify(name)).toBe(400);
      expect(body).toContain(reason);
      expect(cookie).toBe('');
    }
    await join(w.joinPath, '<b>Bold</b>');
    const { res, body } = await join(w.joinPath, '<B>bold</B>');
    expect(res.status).toBe(409);
    expect(body).toContain('Someone in this workshop already uses that name: choose another.');
    expect(body).toContain('value="&#60;B&#62;bold&#60;/B&#62;"');
  });

  it('refuses joining past capacity, when closed, after expiry, and with an unknown code, with a page that says so', async () => {
    const w = await createWorkshop({ capacity: 2 });
    expect((await join(w.joinPath, 'One')).res.status).toBe(303);
    expect((await join(w.joinPath, 'Two')).res.status).toBe(303);
    const full = await join(w.joinPath, 'Three');
    expect(full.res.status).toBe(409);
    expect(full.body).toContain('This workshop is full: every seat is taken. Ask your instructor for room.');
    expect(full.cookie).toBe('');
    // The link itself says so before a name is typed.
    expect(await (await fetch(url(w.joinPath))).text()).toContain('This workshop is full');

    const c = await createWorkshop();
    expect((await asAdmin(`/api/admin/workshops/${c.id}/close`, { method: 'POST', body: '{}' })).status).toBe(200);
    const closed = await join(c.joinPath, 'Late');
    expect(closed.res.status).toBe(403);
    expect(closed.body).toContain('This workshop is closed to new learners. Ask your instructor.');

    const e = await createWorkshop({ expiresInMinutes: 30 });
    const member = await join(e.joinPath, 'Early');
    expect((await as(member.cookie, '/api/tracks')).status).toBe(200);
    now = new Date(now.getTime() + 31 * 60_000);
    try {
      const late = await join(e.joinPath, 'Late');
      expect(late.res.status).toBe(410);
      expect(late.body).toContain('This workshop has ended: its join link expired.');
      // The workshop's learners' access ends with it.
      const after = await as(member.cookie, '/api/tracks');
      expect(after.status).toBe(403);
      expect(await after.json()).toEqual({ error: expect.stringContaining('This workshop has ended') });
      await expect(openTerminal(member.cookie)).rejects.toMatchObject({ statusCode: 401 });
    } finally {
      now = new Date();
    }

    const unknown = await join('/join/AAAAAAAAAAAAAAAAAAAAAA', 'Nobody');
    expect(unknown.res.status).toBe(404);
    expect(unknown.body).toContain('This join link is not valid.');
  });

  it('refuses an oversized join form without harm', async () => {
    const w = await createWorkshop();
    const res = await fetch(url(w.joinPath), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: origin() }, body: `name=${'x'.repeat(100_000)}` });
    expect(res.status).toBe(413);
    expect((await fetch(url(w.joinPath))).status).toBe(200);
  });

  it('refuses a join form posted from another site (login CSRF)', async () => {
    const w = await createWorkshop();
    const { res, cookie } = await join(w.joinPath, 'Victim', { origin: 'https://evil.example' });
    expect(res.status).toBe(403);
    expect(cookie).toBe('');
  });

  it('deleting a workshop ends its learners’ access', async () => {
    const w = await createWorkshop();
    const { cookie } = await join(w.joinPath, 'Ada');
    expect((await as(cookie, '/api/tracks')).status).toBe(200);
    expect((await asAdmin(`/api/admin/workshops/${w.id}`, { method: 'DELETE', body: '{}' })).status).toBe(204);
    expect((await as(cookie, '/api/tracks')).status).toBe(401);
  });
});

function openTerminal(cookie: string, pathname = '/ws/terminal', headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(new URL(pathname, pg.baseUrl.replace(/^http/, 'ws')), { headers: { cookie, origin: origin(), ...headers } });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { statusCode: res.statusCode })));
    ws.once('error', reject);
  });
}

describe('the instructor’s access is not a learner’s', () => {
  let w: { id: string; joinPath: string };
  let learner: string;

  beforeAll(async () => {
    w = await createWorkshop({ capacity: 10 });
    learner = (await join(w.joinPath, 'Mallory')).cookie;
  });

  it('refuses instructor endpoints to learners: their token, their identity, forged and mixed cookies, bearer tokens', async () => {
    const attempts: Record<string, string>[] = [
      { cookie: pg.cookies },
      { cookie: learner },
      { cookie: `${pg.cookies}; ${learner}` },
      { cookie: `pg_admin_${pg.port}=${pg.token}` },
      { cookie: `pg_admin_${pg.port}=${'A'.repeat(32)}` },
      { cookie: `pg_admin_${pg.port}=` },
      { authorization: `Bearer ${pg.token}` },
      { cookie: `pg_admin_${pg.port + 1}=${pg.adminToken}` },
    ];
    for (const headers of attempts) {
      for (const [p, method] of [
        ['/api/admin/workshops', 'GET'],
        [`/api/admin/workshops/${w.id}/dashboard`, 'GET'],
        [`/api/admin/workshops/${w.id}/events`, 'GET'],
        [`/api/admin/workshops/${w.id}/results.csv`, 'GET'],
        [`/api/admin/workshops/${w.id}/broadcast`, 'POST'],
        [`/api/admin/workshops/${w.id}`, 'DELETE'],
      ] as const) {
        const res = await fetch(url(p), { method, redirect: 'manual', headers: { origin: origin(), 'content-type': 'application/json', ...headers }, ...(method === 'POST' ? { body: '{"message":"pwned"}' } : {}) });
        expect(res.status, `${JSON.stringify(headers)} ${method} ${p}`).toBe(401);
        expect(await res.json()).toEqual({ error: expect.stringContaining('instructor access needed') });
      }
      expect((await fetch(url('/admin'), { headers })).status).toBe(401);
    }
    // And the admin page's token exchange refuses the learners' token.
    expect((await fetch(url(`/admin?admin_token=${pg.token}`), { redirect: 'manual' })).status).toBe(401);
    // The workshop is still there: nothing above deleted it.
    expect((await asAdmin(`/api/admin/workshops/${w.id}/dashboard`)).status).toBe(200);
  });

  it('refuses the live terminal view to learners, and the instructor’s view of a learner of another workshop', async () => {
    const learnerId = ((await (await asAdmin(`/api/admin/workshops/${w.id}/dashboard`)).json()) as Dashboard).learners[0]!.id;
    await expect(openTerminal(learner, `/ws/watch?workshop=${w.id}&learner=${learnerId}`)).rejects.toMatchObject({ statusCode: 401 });
    await expect(openTerminal(pg.cookies, `/ws/watch?workshop=${w.id}&learner=${learnerId}`)).rejects.toMatchObject({ statusCode: 401 });
    const other = await createWorkshop();
    await expect(openTerminal(admin, `/ws/watch?workshop=${other.id}&learner=${learnerId}`)).rejects.toMatchObject({ statusCode: 404 });
    // From a foreign page, even with the instructor's cookie (cross-site WebSocket hijacking).
    await expect(openTerminal(admin, `/ws/watch?workshop=${w.id}&learner=${learnerId}`, { origin: 'https://evil.example' })).rejects.toMatchObject({ statusCode: 403 });
    // The instructor's cookie opens no learner terminal of its own.
    await expect(openTerminal(admin)).rejects.toMatchObject({ statusCode: 401 });
  });

  it('refuses the CSRF shapes of instructor writes: forms, foreign origins, cross-site fetch metadata', async () => {
    const before = ((await (await asAdmin('/api/admin/workshops')).json()) as { workshops: unknown[] }).workshops.length;
    const form = await asAdmin('/api/admin/workshops', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'title=x&capacity=1' });
    expect(form.status).toBe(415);
    const textPlain = await asAdmin('/api/admin/workshops', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ title: 'x', tracks: ['demo'], capacity: 1, expiresInMinutes: 5 }) });
    expect(textPlain.status).toBe(415);
    const foreign = await asAdmin('/api/admin/workshops', { method: 'POST', headers: { origin: 'https://evil.example' }, body: JSON.stringify({ title: 'x', tracks: ['demo'], capacity: 1, expiresInMinutes: 5 }) });
    expect(foreign.status).toBe(403);
    const crossSite = await asAdmin(`/api/admin/workshops/${w.id}`, { method: 'DELETE', headers: { 'sec-fetch-site': 'cross-site' }, body: '{}' });
    expect(crossSite.status).toBe(403);
    expect(((await (await asAdmin('/api/admin/workshops')).json()) as { workshops: unknown[] }).workshops.length).toBe(before);
  });

  it('validates what the instructor sends', async () => {
    const bad = await asAdmin('/api/admin/workshops', { method: 'POST', body: JSON.stringify({ title: 'x', tracks: ['nope'], capacity: 1, expiresInMinutes: 5 }) });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: 'unknown track: nope' });
    const zero = await asAdmin('/api/admin/workshops', { method: 'POST', body: JSON.stringify({ title: 'x', tracks: ['demo'], capacity: 0, expiresInMinutes: 5 }) });
    expect(zero.status).toBe(400);
    const nobody = await asAdmin(`/api/admin/workshops/${w.id}/learners/nobody/reset-step`, { method: 'POST', body: JSON.stringify({ trackId: 'demo', stepId: 'configmap' }) });
    expect(nobody.status).toBe(404);
    // A learner of another workshop is not reachable through this one's URLs.
    const other = await createWorkshop();
    await join(other.joinPath, 'Eve');
    const eve = ((await (await asAdmin(`/api/admin/workshops/${other.id}/dashboard`)).json()) as Dashboard).learners[0]!.id;
    for (const action of ['reset-step', 'reset-cluster']) {
      const res = await asAdmin(`/api/admin/workshops/${w.id}/learners/${eve}/${action}`, { method: 'POST', body: JSON.stringify(action === 'reset-step' ? { trackId: 'demo', stepId: 'configmap' } : {}) });
      expect(res.status, action).toBe(404);
      expect(await res.json()).toEqual({ error: `no learner "${eve}" in this workshop` });
    }
  });
});

describe('running a workshop', () => {
  let w: { id: string; joinPath: string; title: string };
  let ada: string;
  let adaId: string;

  beforeAll(async () => {
    w = await createWorkshop({ title: 'Live one', capacity: 5 });
    ada = (await join(w.joinPath, 'Ada')).cookie;
    adaId = ((await (await asAdmin(`/api/admin/workshops/${w.id}/dashboard`)).json()) as Dashboard).learners[0]!.id;
  });

  it('pushes the dashboard when a learner moves to a step and opens a hint', async () => {
    const moved = sseUntil<Dashboard>(admin, `/api/admin/workshops/${w.id}/events`, (_e, d) => d.learners[0]?.current?.stepId === 'secret' && d.learners[0]?.hintsOpened === 1);
    // Give the stream its first (current) event before changing anything.
    await new Promise((r) => setTimeout(r, 200));
    expect((await as(ada, '/api/progress/demo', { method: 'PUT', body: JSON.stringify({ currentStep: 'secret' }) })).status).toBe(200);
    expect((await as(ada, '/api/workshop/hint', { method: 'POST', body: JSON.stringify({ trackId: 'demo', stepId: 'secret' }) })).status).toBe(204);
    const d = await moved;
    expect(d.learners[0]).toMatchObject({ name: 'Ada', cells: { demo: { configmap: 'todo', secret: 'current' } } });
  });

  it('broadcasts a message to the workshop’s learners (and to no one else)', async () => {
    const received = sseUntil<{ text: string }>(ada, '/api/workshop/events', (e) => e === 'broadcast');
    await new Promise((r) => setTimeout(r, 200));
    const sent = await asAdmin(`/api/admin/workshops/${w.id}/broadcast`, { method: 'POST', body: JSON.stringify({ message: 'Break until 11:00 <b>' }) });
    expect(sent.status).toBe(200);
    expect((await received).text).toBe('Break until 11:00 <b>');
    // A learner who joins later sees the current message at once.
    const late = (await join(w.joinPath, 'Late')).cookie;
    expect((await sseUntil<{ text: string }>(late, '/api/workshop/events', (e) => e === 'broadcast')).text).toBe('Break until 11:00 <b>');
    const empty = await asAdmin(`/api/admin/workshops/${w.id}/broadcast`, { method: 'POST', body: JSON.stringify({ message: '   ' }) });
    expect(empty.status).toBe(400);
    // Another workshop's learner hears only their own workshop's messages: the first they get is B's.
    const b = await createWorkshop({ title: 'Other room' });
    const bob = (await join(b.joinPath, 'Bob')).cookie;
    const bobHears = sseUntil<{ text: string }>(bob, '/api/workshop/events', (e) => e === 'broadcast');
    await new Promise((r) => setTimeout(r, 200));
    await asAdmin(`/api/admin/workshops/${w.id}/broadcast`, { method: 'POST', body: JSON.stringify({ message: 'For room A only' }) });
    await asAdmin(`/api/admin/workshops/${b.id}/broadcast`, { method: 'POST', body: JSON.stringify({ message: 'For room B' }) });
    expect((await bobHears).text).toBe('For room B');
  });

  it('shows the instructor a learner’s terminal live, read-only: what the viewer sends never reaches the shell', async () => {
    const shell = await openTerminal(ada);
    const learnerScreen = screenOf(shell);
    shell.send(encodeMessage({ t: 'input', d: 'echo before-$((6*7))\r' }));
    await learnerScreen.waitFor('before-42');
    const view = await openTerminal(admin, `/ws/watch?workshop=${w.id}&learner=${adaId}`);
    const viewed = screenOf(view);
    // The current screen comes first, then live output.
    await viewed.waitFor('before-42');
    shell.send(encodeMessage({ t: 'input', d: 'echo live-$((7*6))x\r' }));
    await viewed.waitFor('live-42x');
    // The viewer types; nothing runs (shown by a later marker from the learner, with no intruder output before it).
    view.send(encodeMessage({ t: 'input', d: 'echo INTRUDER-$((1+1))\r' }));
    view.send('echo INTRUDER-$((2+2))\r');
    shell.send(encodeMessage({ t: 'input', d: 'echo after-$((5*5))\r' }));
    await learnerScreen.waitFor('after-25');
    await viewed.waitFor('after-25');
    expect(learnerScreen.text()).not.toContain('INTRUDER');
    expect((await pg.terminals.screen(adaId)).join('\n')).not.toContain('INTRUDER');
    view.close();
    shell.close();
    // A shell and a cluster start here: on a loaded machine that alone can take tens of seconds.
  }, 120_000);

  it('resets a learner’s step as their own “Reset step” does: answered at once, their cluster at the step’s start, their page told, the row redrawn', async () => {
    // Ada has done both steps, is back on the first, and made things the reset must remove.
    const shell = await openTerminal(ada);
    const screen = screenOf(shell);
    shell.send(encodeMessage({ t: 'input', d: 'kubectl create configmap greeting --from-literal=message=hello && kubectl create configmap stray --from-literal=a=b && kubectl create secret generic api-key --from-literal=token=x\r' }));
    await screen.waitFor('secret/api-key created');
    for (const stepId of ['configmap', 'secret']) await as(ada, '/api/progress/demo', { method: 'PUT', body: JSON.stringify({ done: { stepId, done: true } }) });
    await as(ada, '/api/progress/demo', { method: 'PUT', body: JSON.stringify({ currentStep: 'configmap' }) });

    const learnerEvents = await sseStream(ada, '/api/workshop/events');
    const resetEvents = await sseStream(admin, `/api/admin/workshops/${w.id}/learners/${adaId}/reset-step/events`);
    try {
      const res = await asAdmin(`/api/admin/workshops/${w.id}/learners/${adaId}/reset-step`, { method: 'POST', body: JSON.stringify({ trackId: 'demo', stepId: 'secret' }) });
      expect(res.status).toBe(202);
      const started = (await res.json()) as ResetStatus;
      expect(started).toMatchObject({ trackId: 'demo', stepId: 'secret', phase: 'building', message: 'Preparing the start of "Create a Secret"…' });
      // The learner's page is told which reset to follow (its progress is on the learner's own reset stream).
      const told = await learnerEvents.next((e) => e.event === 'reset');
      expect(told.data).toEqual({ trackId: 'demo', trackTitle: 'Workshop demo', stepId: 'secret', stepTitle: 'Create a Secret', startedAt: started.startedAt });
      const end = await resetEvents.next((e) => (e.data as ResetStatus).startedAt >= started.startedAt && ['done', 'failed'].includes((e.data as ResetStatus).phase), 120_000);
      expect(end.data, JSON.stringify(end.data)).toMatchObject({ phase: 'done', message: 'Ready: your cluster and files are at the start of "Create a Secret".' });
      expect(resetEvents.seen.some((e) => (e.data as ResetStatus).phase === 'restoring')).toBe(true);
    } finally {
      learnerEvents.close();
      resetEvents.close();
    }
    // The reset ended the old shell; a fresh one sees the cluster as the step starts: the first step's solution, nothing else.
    const fresh = await openTerminal(ada);
    const after = screenOf(fresh);
    fresh.send(encodeMessage({ t: 'input', d: 'kubectl get configmap greeting -o jsonpath="{.data.message}{\\"\\n\\"}"; kubectl get configmap stray; kubectl get secret api-key; echo end-$((2*21))\r' }));
    await after.waitFor('end-42');
    expect(after.text()).toContain('hello\r\n');
    expect(after.text()).toContain('Error from server (NotFound): configmaps "stray" not found');
    expect(after.text()).toContain('Error from server (NotFound): secrets "api-key" not found');
    fresh.close();
    shell.close();
    // The step and those after it are not done, and the learner is on it: in their progress and the dashboard's row.
    expect(await (await as(ada, '/api/progress/demo')).json()).toMatchObject({ done: ['configmap'], currentStep: 'secret' });
    const row = ((await (await asAdmin(`/api/admin/workshops/${w.id}/dashboard`)).json()) as Dashboard).learners.find((l) => l.id === adaId)!;
    expect(row.current).toMatchObject({ trackId: 'demo', stepId: 'secret' });
    expect(row.cells.demo!.configmap).toBe('done');
    expect(row.cells.demo!.secret).not.toBe('done');
    expect(row.doneCount).toBe(1);

    const bad = await asAdmin(`/api/admin/workshops/${w.id}/learners/${adaId}/reset-step`, { method: 'POST', body: JSON.stringify({ trackId: 'other', stepId: 'intro' }) });
    expect(bad.status).toBe(400);
    // Back where the export below expects her.
    await as(ada, '/api/progress/demo', { method: 'PUT', body: JSON.stringify({ currentStep: 'configmap' }) });
  }, 180_000);

  it('refuses a second reset while one runs, in the reset’s own words, and tells the instructor what failed', async () => {
    const t = await createWorkshop({ title: 'Trouble', tracks: ['trouble'] });
    const bea = (await join(t.joinPath, 'Bea')).cookie;
    const beaId = ((await (await asAdmin(`/api/admin/workshops/${t.id}/dashboard`)).json()) as Dashboard).learners[0]!.id;
    const resetEvents = await sseStream(admin, `/api/admin/workshops/${t.id}/learners/${beaId}/reset-step/events`);
    const resetStep = (stepId: string) => asAdmin(`/api/admin/workshops/${t.id}/learners/${beaId}/reset-step`, { method: 'POST', body: JSON.stringify({ trackId: 'trouble', stepId }) });
    try {
      const first = await resetStep('broken');
      expect(first.status).toBe(202);
      const started = (await first.json()) as ResetStatus;
      // While the first step's solution (`sleep 4`) is replayed, the reset is running by construction.
      await resetEvents.next((e) => (e.data as ResetStatus).startedAt >= started.startedAt && (e.data as ResetStatus).progress?.command === 'sleep 4');
      for (const [who, res] of [
        ['instructor', await resetStep('after')],
        ['learner', await as(bea, '/api/steps/trouble/after/reset', { method: 'POST' })],
      ] as const) {
        expect(res.status, who).toBe(409);
        expect(await res.json(), who).toEqual({ error: 'a reset to "broken" of trouble is still running; wait for it to finish' });
      }
      const end = await resetEvents.next((e) => (e.data as ResetStatus).startedAt >= started.startedAt && (e.data as ResetStatus).phase === 'done', 120_000);
      expect((end.data as ResetStatus).stepId).toBe('broken');

      // A reset whose setup fails: the instructor's stream says what failed, and the learner stays where they were.
      const second = await resetStep('after');
      expect(second.status).toBe(202);
      const again = (await second.json()) as ResetStatus;
      const failed = await resetEvents.next((e) => (e.data as ResetStatus).startedAt >= again.startedAt && ['done', 'failed'].includes((e.data as ResetStatus).phase), 120_000);
      // The state could not be built, so the learner's shell was never touched (their page keeps it).
      expect(failed.data).toMatchObject({ phase: 'failed', stepId: 'after', error: expect.stringContaining('step "broken" (Fail on purpose) failed while its solution was replayed'), terminalEnded: false });
      expect((failed.data as ResetStatus).message).toContain('The reset to "After the failure" failed: ');
      expect(await (await as(bea, '/api/progress/trouble')).json()).toMatchObject({ currentStep: 'broken' });
    } finally {
      resetEvents.close();
    }
    // Unknown steps are the workshop's 400, before any reset.
    expect((await resetStep('nope')).status).toBe(400);
  }, 180_000);

  it('resets a learner’s cluster: what they created is gone, and kubectl works again', async () => {
    const shell = await openTerminal(ada);
    const screen = screenOf(shell);
    shell.send(encodeMessage({ t: 'input', d: 'kubectl create configmap keepme --from-literal=a=b\r' }));
    await screen.waitFor('configmap/keepme created');
    const res = await asAdmin(`/api/admin/workshops/${w.id}/learners/${adaId}/reset-cluster`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(200);
    await screen.waitFor('Your instructor reset your cluster');
    shell.send(encodeMessage({ t: 'input', d: 'kubectl get configmap keepme; echo done-$((3*3))\r' }));
    await screen.waitFor('done-9');
    expect(screen.text()).toContain('Error from server (NotFound): configmaps "keepme" not found');
    shell.close();
  }, 120_000);

  it('exports results as CSV and JUnit XML', async () => {
    await as(ada, '/api/progress/demo', { method: 'PUT', body: JSON.stringify({ done: { stepId: 'configmap', done: true } }) });
    const csv = await asAdmin(`/api/admin/workshops/${w.id}/results.csv`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(csv.headers.get('content-disposition')).toBe('attachment; filename="Live-one-results.csv"');
    expect((await csv.text()).split('\r\n')).toEqual([
      'learner,track,step,step title,state,done',
      'Ada,demo,configmap,Create a ConfigMap,done,yes',
      'Ada,demo,secret,Create a Secret,todo,no',
      'Late,demo,configmap,Create a ConfigMap,todo,no',
      'Late,demo,secret,Create a Secret,todo,no',
      '',
    ]);
    const junit = await (await asAdmin(`/api/admin/workshops/${w.id}/results.xml`)).text();
    expect(junit).toContain('<testsuites name="Live one" tests="4" failures="3"');
    expect(junit).toContain('<testsuite name="Ada" tests="2" failures="1"');
  });
});

describe('join rate limit', () => {
  it('refuses a client that keeps trying unknown codes, with a page saying to wait', async () => {
    const w = await createWorkshop();
    let limited: { res: Response; body: string } | undefined;
    for (let i = 0; i < 12 && !limited; i++) {
      const attempt = await join(`/join/${String(i).padStart(22, 'B')}`, 'Guess');
      if (attempt.res.status === 429) limited = attempt;
      else expect(attempt.res.status).toBe(404);
    }
    expect(limited?.body).toContain('Too many join attempts from your network: wait a minute and try again.');
    // While limited, even a valid code is refused from that address.
    expect((await join(w.joinPath, 'Valid')).res.status).toBe(429);
  });
});
