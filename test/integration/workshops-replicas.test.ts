/**
 * Two playground processes on one PostgreSQL, as two replicas of deploy/ run (one admin token
 * shared, as deploy/'s Secret gives every pod): a workshop created through one is joinable through
 * either, one instructor dashboard sees the learners of both and follows a learner on the other
 * replica live (NOTIFY): her step, hints, done marks, check verdicts and open terminal; a
 * broadcast reaches learners on both, and the last seat goes to one learner only. The instructor
 * on one watches and resets a learner of the other through it (forwarded), is told plainly when
 * the replicas do not share the admin token, and when the other replica is killed its learner's
 * terminal stops showing as open within the heartbeat timeout and a reset is refused with 503.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { projectRoot } from '../../server/config.js';
import type { Dashboard } from '../../server/workshops/dashboard.js';
import { encodeMessage } from '../../server/terminal/protocol.js';
import type { ResetStatus } from '../../server/steps/reset.js';
import { ADMIN_TOKEN_NOT_SHARED, FORWARDED_BY, FORWARDED_NOT_HERE } from '../../server/workshops/forward.js';
import { REPLICA_GONE } from '../../server/workshops/service.js';
import { startPostgres, type Postgres } from '../helpers/postgres.js';
import { screenOf } from '../helpers/screen.js';

const lessonsDir = path.join(projectRoot, 'test/fixtures/lessons/workshop');
/** deploy/'s Secret gives every replica the same instructor token; forwarding relies on it. */
const ADMIN_TOKEN = 'shared-instructor-token-0001';
/** Heartbeats twice a second, gone after 4 s without one (deploy/: 10 s and 30 s). */
const HEARTBEAT_S = 0.5;
const TIMEOUT_S = 4;
/**
 * A change on B shown on A's dashboard within this: far past the ~50 ms it takes, and far short of
 * any refresh that does not come from the change itself (there is none: without the push it never
 * comes). Bounds of a second failed on loaded CI machines' stalls; the < 1 s target is the bench's.
 */
const PUSH_BOUND_MS = 5_000;

interface Replica {
  child: ChildProcess;
  dataDir: string;
  baseUrl: string;
  admin: string;
}

let postgres: Postgres;
let databaseUrl: string;
let a: Replica;
let b: Replica;

/** `node server/main.ts` (through tsx) as `npm run dev` runs it; ready when it prints its URLs. */
async function startReplica(databaseUrl: string, adminToken = ADMIN_TOKEN): Promise<Replica> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-replica-'));
  const args = ['--port', '0', '--data-dir', dataDir, '--lessons-dir', lessonsDir, '--log-level', 'warn', '--admin-token', adminToken];
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts', ...args, '--replica-heartbeat', String(HEARTBEAT_S), '--replica-timeout', String(TIMEOUT_S)], {
    cwd: projectRoot,
    env: { ...process.env, PLAYGROUND_DATABASE_URL: databaseUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const adminUrl = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /Instructors \(workshops, dashboard\): (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`the playground exited (${code}) before printing its URL:\n${stderr}`)));
  });
  const res = await fetch(adminUrl, { redirect: 'manual' });
  expect(res.status).toBe(302);
  const admin = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  return { child, dataDir, baseUrl: new URL('/', adminUrl).toString(), admin };
}

async function stopReplica(r: Replica | undefined): Promise<void> {
  if (!r) return;
  // A replica killed by a signal has no exit code, only its signal.
  if (r.child.exitCode === null && r.child.signalCode === null) {
    const exited = new Promise((resolve) => r.child.once('exit', resolve));
    r.child.kill('SIGTERM');
    await exited;
  }
  fs.rmSync(r.dataDir, { recursive: true, force: true });
}

const origin = (r: Replica) => r.baseUrl.replace(/\/$/, '');
const call = (r: Replica, cookie: string, p: string, init: RequestInit = {}) =>
  fetch(new URL(p, r.baseUrl), { ...init, redirect: 'manual', headers: { cookie, origin: origin(r), 'content-type': 'application/json', ...(init.headers ?? {}) } });

async function join(r: Replica, joinPath: string, name: string) {
  const res = await fetch(new URL(joinPath, r.baseUrl), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: origin(r) },
    body: new URLSearchParams({ name }).toString(),
  });
  return { res, cookie: res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; '), body: await res.text() };
}

/** A server-sent event stream, read event by event: `until` resolves with the first event it accepts. */
async function openSse(r: Replica, cookie: string, p: string) {
  const controller = new AbortController();
  const res = await fetch(new URL(p, r.baseUrl), { headers: { cookie }, signal: controller.signal });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  let buffer = '';
  const until = async <T>(accept: (event: string, data: T) => boolean, timeoutMs = 15_000): Promise<T> => {
    const timer = setTimeout(() => controller.abort(new Error(`no event on ${p} satisfied the test within ${timeoutMs} ms`)), timeoutMs);
    try {
      for (;;) {
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data && accept(event, JSON.parse(data) as T)) return JSON.parse(data) as T;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        buffer += Buffer.from(value).toString('utf8');
      }
    } finally {
      clearTimeout(timer);
    }
  };
  return { until, close: () => controller.abort() };
}

const sseUntil = async <T>(r: Replica, cookie: string, p: string, accept: (event: string, data: T) => boolean): Promise<T> => {
  const stream = await openSse(r, cookie, p);
  try {
    return await stream.until(accept);
  } finally {
    stream.close();
  }
};

/** A WebSocket to a replica with these cookies (a learner's terminal, an instructor's live view). */
function openSocket(r: Replica, cookie: string, pathname: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(new URL(pathname, r.baseUrl.replace(/^http/, 'ws')), { headers: { cookie, origin: origin(r) } });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode} ${body}`), { statusCode: res.statusCode, body })));
    });
    ws.once('error', reject);
  });
}

const type = (ws: WebSocket, line: string) => ws.send(encodeMessage({ t: 'input', d: `${line}\r` }));

/** A workshop made through A with one learner joined through `via`; her id as A's dashboard has it. */
async function workshopWithLearner(title: string, via: Replica, name: string) {
  const created = await call(a, a.admin, '/api/admin/workshops', { method: 'POST', body: JSON.stringify({ title, tracks: ['demo'], capacity: 3, expiresInMinutes: 60 }) });
  expect(created.status).toBe(201);
  const w = (await created.json()) as { id: string; joinPath: string };
  const joined = await join(via, w.joinPath, name);
  expect(joined.res.status).toBe(303);
  const d = (await (await call(a, a.admin, `/api/admin/workshops/${w.id}/dashboard`)).json()) as Dashboard;
  return { w, cookie: joined.cookie, id: d.learners.find((l) => l.name === name)!.id };
}

beforeAll(async () => {
  postgres = await startPostgres();
  databaseUrl = await postgres.newDatabase();
  // One after the other: the second finds the schema the first made.
  a = await startReplica(databaseUrl);
  b = await startReplica(databaseUrl);
}, 120_000);

afterAll(async () => {
  await Promise.all([stopReplica(a), stopReplica(b)]);
  await postgres?.stop();
});

describe('two replicas on one PostgreSQL', () => {
  it('share workshops: created on one, joined through either, and one dashboard shows the learners of both, live', async () => {
    const created = await call(a, a.admin, '/api/admin/workshops', { method: 'POST', body: JSON.stringify({ title: 'Two pods', tracks: ['demo'], capacity: 3, expiresInMinutes: 60 }) });
    expect(created.status).toBe(201);
    const w = (await created.json()) as { id: string; joinPath: string };
    // B never saw the create request: it finds the workshop in the database.
    expect((await fetch(new URL(w.joinPath, b.baseUrl))).status).toBe(200);
    const ada = await join(b, w.joinPath, 'Ada');
    expect(ada.res.status).toBe(303);
    const grace = await join(a, w.joinPath, 'Grace');
    expect(grace.res.status).toBe(303);
    // A name is the workshop's, whichever replica the next learner comes through.
    expect((await join(a, w.joinPath, 'ada')).res.status).toBe(409);

    const both = await sseUntil<Dashboard>(a, a.admin, `/api/admin/workshops/${w.id}/events`, (_e, d) => d.learners.length === 2);
    expect(both.learners.map((l) => l.name).sort()).toEqual(['Ada', 'Grace']);

    // Ada, on B, moves on and opens a hint: A's dashboard, already streaming, follows through
    // PostgreSQL's NOTIFY (its first event, the current state, shows her before the move).
    const dashboard = await openSse(a, a.admin, `/api/admin/workshops/${w.id}/events`);
    const adaOf = (d: Dashboard) => d.learners.find((x) => x.name === 'Ada');
    const first = await dashboard.until<Dashboard>(() => true);
    expect(adaOf(first)?.current?.stepId).not.toBe('secret');
    expect((await call(b, ada.cookie, '/api/progress/demo', { method: 'PUT', body: JSON.stringify({ currentStep: 'secret' }) })).status).toBe(200);
    expect((await call(b, ada.cookie, '/api/workshop/hint', { method: 'POST', body: JSON.stringify({ trackId: 'demo', stepId: 'secret' }) })).status).toBe(204);
    const startedAt = Date.now();
    await dashboard.until<Dashboard>((_e, d) => adaOf(d)?.current?.stepId === 'secret' && adaOf(d)?.hintsOpened === 1);
    // Pushed, not polled: the dashboard has no periodic refresh, so only the push brings it. The
    // issue's < 1 s is measured by `npm run bench -- workshop`; here, arrival well within
    // PUSH_BOUND_MS (a loaded CI machine stalls for a second at times).
    const ms = Date.now() - startedAt;
    console.log(`A's dashboard showed Ada's move on B ${ms} ms later`);
    expect(ms).toBeLessThan(PUSH_BOUND_MS);
    dashboard.close();

    // The instructor, on A, sends a message: Ada, listening on B since before it, hears it.
    const adaEvents = await openSse(b, ada.cookie, '/api/workshop/events');
    const sent = await call(a, a.admin, `/api/admin/workshops/${w.id}/broadcast`, { method: 'POST', body: JSON.stringify({ message: 'Break until 11:00' }) });
    expect(sent.status).toBe(200);
    expect((await adaEvents.until<{ text: string }>((e, m) => e === 'broadcast' && m.text === 'Break until 11:00')).text).toBe('Break until 11:00');
    adaEvents.close();

    // A learner's identity is their replica's: Ada's cookie opens nothing on A (hence the routing cookie).
    expect((await call(a, ada.cookie, '/api/workshop')).status).toBe(401);
  }, 60_000);

  it('shows a learner of the other replica with her done marks, failing then passing check and open terminal, each within a second', async () => {
    const created = await call(a, a.admin, '/api/admin/workshops', { method: 'POST', body: JSON.stringify({ title: 'Checks across pods', tracks: ['demo'], capacity: 3, expiresInMinutes: 60 }) });
    const w = (await created.json()) as { id: string; joinPath: string };
    const ada = await join(b, w.joinPath, 'Ada');
    expect(ada.res.status).toBe(303);
    const dashboard = await openSse(a, a.admin, `/api/admin/workshops/${w.id}/events`);
    const adaOf = (d: Dashboard) => d.learners.find((x) => x.name === 'Ada');
    const first = await dashboard.until<Dashboard>((_e, d) => adaOf(d) !== undefined);
    expect(adaOf(first)).toMatchObject({ terminal: false, doneCount: 0, cells: { demo: { configmap: 'todo', secret: 'todo' } } });
    /** Waits for A's dashboard to show what `accept` wants, and says how long after `since` that was (logged). */
    const shownWithin = async (accept: (l: NonNullable<ReturnType<typeof adaOf>>) => boolean, since: number, timeoutMs?: number) => {
      const d = await dashboard.until<Dashboard>((_e, d) => adaOf(d) !== undefined && accept(adaOf(d)!), timeoutMs);
      const ms = Date.now() - since;
      console.log(`A's dashboard followed Ada on B after ${ms} ms`);
      return { ada: adaOf(d)!, ms };
    };

    // Ada, on B, opens the step: its check fails (no ConfigMap yet), and A's dashboard says so.
    const checks = await openSse(b, ada.cookie, '/api/checks/demo/configmap/events');
    await checks.until<{ state: string }>((e, s) => e === 'checks' && s.state === 'failed', 120_000);
    const failing = await shownWithin((l) => l.cells.demo?.configmap === 'failing', Date.now());
    expect(failing.ms).toBeLessThan(PUSH_BOUND_MS);

    // Her terminal opens on B: A shows it, as another replica's.
    const shell = new WebSocket(new URL('/ws/terminal', b.baseUrl.replace(/^http/, 'ws')), { headers: { cookie: ada.cookie, origin: origin(b) } });
    await new Promise((resolve, reject) => {
      shell.once('open', resolve);
      shell.once('error', reject);
    });
    const terminal = await shownWithin((l) => l.terminal, Date.now());
    expect(terminal.ms).toBeLessThan(PUSH_BOUND_MS);
    expect(terminal.ada.terminalElsewhere).toMatch(/:\d+$/);
    expect(terminal.ada.unreachable).toBeNull();

    // She makes the ConfigMap in her terminal: the check passes and the step is done, on A too.
    shell.send(encodeMessage({ t: 'input', d: 'kubectl create configmap greeting --from-literal=message=hello\r' }));
    await checks.until<{ state: string; done: boolean }>((e, s) => e === 'checks' && s.state === 'passed' && s.done, 120_000);
    const passed = await shownWithin((l) => l.cells.demo?.configmap === 'done', Date.now());
    expect(passed.ms).toBeLessThan(PUSH_BOUND_MS);
    checks.close();

    // She marks the next step done by hand.
    expect((await call(b, ada.cookie, '/api/progress/demo', { method: 'PUT', body: JSON.stringify({ done: { stepId: 'secret', done: true }, currentStep: 'secret' }) })).status).toBe(200);
    const marked = await shownWithin((l) => l.cells.demo?.secret === 'done', Date.now());
    expect(marked.ms).toBeLessThan(PUSH_BOUND_MS);
    expect(marked.ada).toMatchObject({ doneCount: 2, terminal: true });
    dashboard.close();
    shell.close();

    // The export through A has them too.
    const csv = await (await call(a, a.admin, `/api/admin/workshops/${w.id}/results.csv`)).text();
    expect(csv).toContain('Ada,demo,configmap,Create a ConfigMap,done,yes');
    expect(csv).toContain('Ada,demo,secret,Create a Secret,done,yes');
  }, 240_000);

  it('gives the last seat to one learner when two replicas are asked for it at once', async () => {
    const created = await call(b, b.admin, '/api/admin/workshops', { method: 'POST', body: JSON.stringify({ title: 'One seat', tracks: ['demo'], capacity: 1, expiresInMinutes: 60 }) });
    const w = (await created.json()) as { id: string; joinPath: string };
    const outcomes = await Promise.all([join(a, w.joinPath, 'Linus'), join(b, w.joinPath, 'Ken')]);
    expect(outcomes.map((o) => o.res.status).sort()).toEqual([303, 409]);
    expect(outcomes.find((o) => o.res.status === 409)!.body).toContain('This workshop is full');
  }, 30_000);

  it('lets the instructor on one replica watch and reset a learner of the other, through it', async () => {
    const { w, cookie: ada, id: adaId } = await workshopWithLearner('Forwarded', b, 'Ada');
    const shell = await openSocket(b, ada, '/ws/terminal');
    const herScreen = screenOf(shell);
    type(shell, 'echo before-$((6*7))');
    await herScreen.waitFor('before-42');

    // The live view, opened on A, shows her screen on B and then what she types.
    const view = await openSocket(a, a.admin, `/ws/watch?workshop=${w.id}&learner=${adaId}`);
    const viewed = screenOf(view);
    await viewed.waitFor('before-42');
    type(shell, 'echo live-$((7*6))x');
    await viewed.waitFor('live-42x');
    // Read-only through A too: what the viewer sends reaches no shell (a later marker shows nothing ran).
    type(view, 'echo INTRUDER-$((1+1))');
    type(shell, 'echo after-$((5*5))');
    await viewed.waitFor('after-25');
    expect(herScreen.text()).not.toContain('INTRUDER-2');
    view.close();
    // Her cookie is B's, and no instructor's anywhere: it opens no live view on A.
    await expect(openSocket(a, ada, `/ws/watch?workshop=${w.id}&learner=${adaId}`)).rejects.toMatchObject({ statusCode: 401 });

    // Reset step through A: answered at once, its progress streamed through A to the end, her page on B told.
    const learnerEvents = await openSse(b, ada, '/api/workshop/events');
    const resetEvents = await openSse(a, a.admin, `/api/admin/workshops/${w.id}/learners/${adaId}/reset-step/events`);
    try {
      const res = await call(a, a.admin, `/api/admin/workshops/${w.id}/learners/${adaId}/reset-step`, { method: 'POST', body: JSON.stringify({ trackId: 'demo', stepId: 'secret' }) });
      expect(res.status).toBe(202);
      const started = (await res.json()) as ResetStatus;
      expect(started).toMatchObject({ trackId: 'demo', stepId: 'secret', phase: 'building' });
      const told = await learnerEvents.until<{ startedAt: number; stepId: string }>((e) => e === 'reset');
      expect(told).toEqual({ trackId: 'demo', trackTitle: 'Workshop demo', stepId: 'secret', stepTitle: 'Create a Secret', startedAt: started.startedAt });
      const end = await resetEvents.until<ResetStatus>((e, st) => e === 'reset' && st.startedAt >= started.startedAt && ['done', 'failed'].includes(st.phase), 120_000);
      expect(end, JSON.stringify(end)).toMatchObject({ phase: 'done', message: 'Ready: your cluster and files are at the start of "Create a Secret".' });
    } finally {
      learnerEvents.close();
      resetEvents.close();
    }
    shell.close();
    expect(await (await call(b, ada, '/api/progress/demo')).json()).toMatchObject({ currentStep: 'secret' });

    // Reset cluster through A: what she made on B is gone, and her terminal there says so.
    const fresh = await openSocket(b, ada, '/ws/terminal');
    const screen = screenOf(fresh);
    type(fresh, 'kubectl create configmap keepme --from-literal=a=b');
    await screen.waitFor('configmap/keepme created', 120_000);
    const reset = await call(a, a.admin, `/api/admin/workshops/${w.id}/learners/${adaId}/reset-cluster`, { method: 'POST', body: '{}' });
    expect(reset.status, await reset.clone().text()).toBe(200);
    expect(await reset.json()).toEqual({ ok: true });
    await screen.waitFor('Your instructor reset your cluster');
    type(fresh, 'kubectl get configmap keepme; echo done-$((3*3))');
    await screen.waitFor('done-9');
    expect(screen.text()).toContain('Error from server (NotFound): configmaps "keepme" not found');
    fresh.close();

    // A request already forwarded once is never forwarded again: A holds no Ada, so it refuses.
    const looped = await fetch(new URL(`/api/admin/workshops/${w.id}/learners/${adaId}/reset-cluster`, a.baseUrl), {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, [FORWARDED_BY]: 'elsewhere:8080', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(looped.status).toBe(409);
    expect(await looped.json()).toEqual({ error: FORWARDED_NOT_HERE });
  }, 300_000);

  it('says plainly that the replicas must share the admin token when the other one refuses it', async () => {
    const c = await startReplica(databaseUrl, 'another-instructor-token-02');
    try {
      const { w, id } = await workshopWithLearner('Mismatched', c, 'Cy');
      const res = await call(a, a.admin, `/api/admin/workshops/${w.id}/learners/${id}/reset-cluster`, { method: 'POST', body: '{}' });
      expect(res.status).toBe(502);
      const { error } = (await res.json()) as { error: string };
      expect(error.startsWith(ADMIN_TOKEN_NOT_SHARED), error).toBe(true);
      expect(error).toMatch(/ \(.+:\d+\)$/);
      const watch = await openSocket(a, a.admin, `/ws/watch?workshop=${w.id}&learner=${id}`).catch((e: { statusCode: number; body: string }) => e);
      expect(watch).toMatchObject({ statusCode: 502, body: expect.stringContaining(ADMIN_TOKEN_NOT_SHARED) });
    } finally {
      await stopReplica(c);
    }
  }, 120_000);

  // Last: B does not come back.
  it('stops showing a killed replica’s learner with an open terminal within the timeout, and refuses her resets with 503', async () => {
    const { w, cookie, id } = await workshopWithLearner('Crash', b, 'Kim');
    const dashboard = await openSse(a, a.admin, `/api/admin/workshops/${w.id}/events`);
    const kimOf = (d: Dashboard) => d.learners.find((l) => l.id === id);
    const shell = await openSocket(b, cookie, '/ws/terminal');
    const open = await dashboard.until<Dashboard>((_e, d) => kimOf(d)?.terminal === true);
    const bName = kimOf(open)!.terminalElsewhere!;
    expect(kimOf(open)!.unreachable).toBeNull();

    const killedAt = Date.now();
    const exited = new Promise((resolve) => b.child.once('exit', resolve));
    b.child.kill('SIGKILL');
    await exited;
    shell.terminate();
    const gone = await dashboard.until<Dashboard>((_e, d) => kimOf(d)?.terminal === false, 30_000);
    const ms = Date.now() - killedAt;
    console.log(`the killed replica's learner shown without a terminal ${ms} ms after the kill (timeout ${TIMEOUT_S} s, heartbeat ${HEARTBEAT_S} s)`);
    expect(kimOf(gone)).toMatchObject({ terminal: false, terminalElsewhere: null, unreachable: bName });
    // Its last heartbeat was at most one interval before the kill, and A looks once an interval
    // (+ 3 s for a loaded machine's stalls); never before the timeout has run out.
    expect(ms).toBeGreaterThanOrEqual((TIMEOUT_S - HEARTBEAT_S) * 1000);
    expect(ms).toBeLessThan((TIMEOUT_S + HEARTBEAT_S) * 1000 + 3000);
    dashboard.close();

    for (const [what, body] of [
      ['step', JSON.stringify({ trackId: 'demo', stepId: 'configmap' })],
      ['cluster', '{}'],
    ] as const) {
      const res = await call(a, a.admin, `/api/admin/workshops/${w.id}/learners/${id}/reset-${what}`, { method: 'POST', body });
      expect(res.status, what).toBe(503);
      const { error } = (await res.json()) as { error: string };
      expect(error, what).toContain(`${REPLICA_GONE} (${bName}; no heartbeat for `);
      expect(error, what).toContain('their terminal, cluster and files are there, so this works again once that pod is back');
    }
    const events = await call(a, a.admin, `/api/admin/workshops/${w.id}/learners/${id}/reset-step/events`);
    expect(events.status).toBe(503);
    await expect(openSocket(a, a.admin, `/ws/watch?workshop=${w.id}&learner=${id}`)).rejects.toMatchObject({ statusCode: 503, body: expect.stringContaining(REPLICA_GONE) });
  }, 120_000);
});
