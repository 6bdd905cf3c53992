/**
 * Two playground processes on one PostgreSQL, as two replicas of deploy/ run: a workshop created
 * through one is joinable through either, one instructor dashboard sees the learners of both and
 * follows a learner on the other replica live (NOTIFY): her step, hints, done marks, check
 * verdicts and open terminal; a broadcast reaches learners on both, and the last seat goes to one
 * learner only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { projectRoot } from '../../server/config.js';
import type { Dashboard } from '../../server/workshops/dashboard.js';
import { TERMINAL_ELSEWHERE } from '../../server/workshops/http.js';
import { encodeMessage } from '../../server/terminal/protocol.js';
import { startPostgres, type Postgres } from '../helpers/postgres.js';

const lessonsDir = path.join(projectRoot, 'test/fixtures/lessons/workshop');

interface Replica {
  child: ChildProcess;
  dataDir: string;
  baseUrl: string;
  admin: string;
}

let postgres: Postgres;
let a: Replica;
let b: Replica;

/** `node server/main.ts` (through tsx) as `npm run dev` runs it; ready when it prints its URLs. */
async function startReplica(databaseUrl: string): Promise<Replica> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-replica-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts', '--port', '0', '--data-dir', dataDir, '--lessons-dir', lessonsDir, '--log-level', 'warn'], {
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
  if (r.child.exitCode === null) {
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

beforeAll(async () => {
  postgres = await startPostgres();
  const url = await postgres.newDatabase();
  // One after the other: the second finds the schema the first made.
  a = await startReplica(url);
  b = await startReplica(url);
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
    // The bound for the dashboard: within a second of the learner's change.
    expect(Date.now() - startedAt).toBeLessThan(1000);
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
    /** Waits for A's dashboard to show what `accept` wants, and says how long after `since` that was. */
    const shownWithin = async (accept: (l: NonNullable<ReturnType<typeof adaOf>>) => boolean, since: number, timeoutMs?: number) => {
      const d = await dashboard.until<Dashboard>((_e, d) => adaOf(d) !== undefined && accept(adaOf(d)!), timeoutMs);
      return { ada: adaOf(d)!, ms: Date.now() - since };
    };

    // Ada, on B, opens the step: its check fails (no ConfigMap yet), and A's dashboard says so.
    const checks = await openSse(b, ada.cookie, '/api/checks/demo/configmap/events');
    await checks.until<{ state: string }>((e, s) => e === 'checks' && s.state === 'failed', 120_000);
    const failing = await shownWithin((l) => l.cells.demo?.configmap === 'failing', Date.now());
    expect(failing.ms).toBeLessThan(1000);

    // Her terminal opens on B: A shows it, as another replica's (its live view refused plainly).
    const shell = new WebSocket(new URL('/ws/terminal', b.baseUrl.replace(/^http/, 'ws')), { headers: { cookie: ada.cookie, origin: origin(b) } });
    await new Promise((resolve, reject) => {
      shell.once('open', resolve);
      shell.once('error', reject);
    });
    const terminal = await shownWithin((l) => l.terminal, Date.now());
    expect(terminal.ms).toBeLessThan(1000);
    expect(terminal.ada.terminalElsewhere).toMatch(/:\d+$/);
    const watch = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const view = new WebSocket(new URL(`/ws/watch?workshop=${w.id}&learner=${adaOf(first)!.id}`, a.baseUrl.replace(/^http/, 'ws')), { headers: { cookie: a.admin, origin: origin(a) } });
      view.once('open', () => reject(new Error('the live view opened on a replica without the terminal')));
      view.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      view.once('error', reject);
    });
    expect(watch.status).toBe(409);
    expect(watch.body).toContain(TERMINAL_ELSEWHERE);
    expect(watch.body).toContain(terminal.ada.terminalElsewhere!);
    // Resets through A would make her a cluster and home on the wrong pod: refused, saying where to go.
    const adaId = adaOf(first)!.id;
    for (const [what, body] of [
      ['cluster', undefined],
      ['step', JSON.stringify({ trackId: 'demo', stepId: 'configmap' })],
    ] as const) {
      const refused = await call(a, a.admin, `/api/admin/workshops/${w.id}/learners/${adaId}/reset-${what}`, { method: 'POST', ...(body ? { body } : {}) });
      expect(refused.status).toBe(409);
      expect(((await refused.json()) as { error: string }).error).toBe(`this learner works on another playground pod: their cluster and files are there, so their ${what} can only be reset through that pod`);
    }

    // She makes the ConfigMap in her terminal: the check passes and the step is done, on A too.
    shell.send(encodeMessage({ t: 'input', d: 'kubectl create configmap greeting --from-literal=message=hello\r' }));
    await checks.until<{ state: string; done: boolean }>((e, s) => e === 'checks' && s.state === 'passed' && s.done, 120_000);
    const passed = await shownWithin((l) => l.cells.demo?.configmap === 'done', Date.now());
    expect(passed.ms).toBeLessThan(1000);
    checks.close();

    // She marks the next step done by hand.
    expect((await call(b, ada.cookie, '/api/progress/demo', { method: 'PUT', body: JSON.stringify({ done: { stepId: 'secret', done: true }, currentStep: 'secret' }) })).status).toBe(200);
    const marked = await shownWithin((l) => l.cells.demo?.secret === 'done', Date.now());
    expect(marked.ms).toBeLessThan(1000);
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
});
