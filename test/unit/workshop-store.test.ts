/**
 * The workshop store, both implementations of the one interface (SQLite, the embedded default;
 * PostgreSQL, for several replicas, on a throwaway local cluster): join codes, capacity, expiry
 * and closing with an injected clock, names, positions; plus the pure parts around it (display
 * names, the dashboard's stuck rule, exports, the CLI).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { SqliteWorkshopStore } from '../../server/workshops/sqlite-store.js';
import { PostgresWorkshopStore } from '../../server/workshops/postgres-store.js';
import type { WorkshopStore } from '../../server/workshops/store.js';
import { Replicas } from '../../server/workshops/replicas.js';
import { startPostgres, type Postgres } from '../helpers/postgres.js';
import { JOIN_CODE_SHAPE, checkDisplayName } from '../../server/workshops/names.js';
import { learnerRow, stepKey, type Dashboard, type LearnerFacts } from '../../server/workshops/dashboard.js';
import { resultsCsv, resultsJunit } from '../../server/workshops/export.js';
import { parseDuration, runWorkshopCommand } from '../../server/workshops/cli.js';

let dir: string;
let now: Date;
let store: WorkshopStore;
let ids = 0;
const newLearner = () => `learner-${++ids}`;
const HOUR = 3_600_000;
const clock = () => now;

let postgres: Postgres;
beforeAll(async () => {
  postgres = await startPostgres();
}, 60_000);
afterAll(async () => {
  await postgres?.stop();
});

/** Each implementation: a fresh store, and how to open the same one again (a restart). */
const implementations: { name: string; fresh: () => Promise<() => Promise<WorkshopStore>> }[] = [
  { name: 'SQLite', fresh: async () => async () => SqliteWorkshopStore.inDataDir(dir, clock) },
  {
    name: 'PostgreSQL',
    fresh: async () => {
      const url = await postgres.newDatabase();
      return () => PostgresWorkshopStore.connect({ url, clock });
    },
  },
];

const create = (capacity = 2, hours = 8) => store.create({ title: 'Mesh day', tracks: ['a', 'b'], capacity, expiresAt: new Date(now.getTime() + hours * HOUR) });

describe.each(implementations)('workshop store ($name)', ({ fresh }) => {
  let open: () => Promise<WorkshopStore>;
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-workshops-'));
    now = new Date('2026-03-01T09:00:00Z');
    open = await fresh();
    store = await open();
  });
  afterEach(async () => {
    await store.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('gives each workshop its own unguessable join code (128 bits, URL-safe)', async () => {
    const codes = new Set<string>();
    for (let i = 0; i < 50; i++) codes.add((await create()).joinCode);
    expect(codes.size).toBe(50);
    for (const c of codes) expect(c).toMatch(JOIN_CODE_SHAPE);
    const w = await create();
    expect((await store.byJoinCode(w.joinCode))?.id).toBe(w.id);
    expect(await store.byJoinCode(w.joinCode.toUpperCase() === w.joinCode ? `${w.joinCode}x` : w.joinCode.toUpperCase())).toBeUndefined();
  });

  it('admits learners up to its capacity and refuses the next one as full', async () => {
    const w = await create(2);
    expect((await store.join(w.joinCode, 'Ada', newLearner)).ok).toBe(true);
    expect((await store.join(w.joinCode, 'Grace', newLearner)).ok).toBe(true);
    let issued = 0;
    const third = await store.join(w.joinCode, 'Linus', () => `never-${++issued}`);
    expect(third).toMatchObject({ ok: false, reason: 'full' });
    // No identity is made for a learner who is refused.
    expect(issued).toBe(0);
    expect((await store.members(w.id)).map((m) => m.displayName)).toEqual(['Ada', 'Grace']);
  });

  it('refuses a name already used in the workshop, whatever its case, but not in another workshop', async () => {
    const w = await create(5);
    await store.join(w.joinCode, 'Ada', newLearner);
    expect(await store.join(w.joinCode, 'ADA', newLearner)).toMatchObject({ ok: false, reason: 'name-taken' });
    const other = await create(5);
    expect((await store.join(other.joinCode, 'Ada', newLearner)).ok).toBe(true);
  });

  it('refuses joining once the workshop expired (by the injected clock), and after it was closed', async () => {
    const w = await create(10, 8);
    now = new Date(now.getTime() + 8 * HOUR - 1000);
    expect((await store.join(w.joinCode, 'Early', newLearner)).ok).toBe(true);
    now = new Date(now.getTime() + 1000);
    expect(await store.join(w.joinCode, 'Late', newLearner)).toMatchObject({ ok: false, reason: 'expired' });

    const c = await create(10, 8);
    await store.close(c.id);
    expect(await store.join(c.joinCode, 'Late', newLearner)).toMatchObject({ ok: false, reason: 'closed' });
    expect(await store.join('A'.repeat(22), 'Nobody', newLearner)).toMatchObject({ ok: false, reason: 'not-found' });
  });

  it('knows each learner’s workshop; deleting the workshop removes its members', async () => {
    const w = await create(5);
    const joined = await store.join(w.joinCode, 'Ada', newLearner);
    if (!joined.ok) throw new Error('join refused');
    expect((await store.membership(joined.member.learnerId))?.workshop.id).toBe(w.id);
    expect(await store.membership('someone-else')).toBeUndefined();
    expect(await store.delete(w.id)).toBe(true);
    expect(await store.membership(joined.member.learnerId)).toBeUndefined();
    expect(await store.delete(w.id)).toBe(false);
  });

  it('keeps since when a learner reloads the same step, and moves it when the step changes', async () => {
    const w = await create(5);
    const joined = await store.join(w.joinCode, 'Ada', newLearner);
    if (!joined.ok) throw new Error('join refused');
    const id = joined.member.learnerId;
    await store.setPosition(id, 'a', 's1');
    const first = now;
    now = new Date(now.getTime() + 60_000);
    await store.setPosition(id, 'a', 's1');
    expect((await store.positions(w.id))[0]).toMatchObject({ stepId: 's1', since: first });
    await store.setPosition(id, 'a', 's2');
    expect((await store.positions(w.id))[0]).toMatchObject({ stepId: 's2', since: now });
    // A learner who is in no workshop leaves no trace.
    await store.setPosition('self-paced', 'a', 's1');
    await store.recordEvent({ learnerId: 'self-paced', kind: 'hint-opened', trackId: 'a', stepId: 's1' });
    expect((await store.positions(w.id)).length).toBe(1);
    expect(await store.events(w.id)).toEqual([]);
  });

  it('shares workshops between two stores on the same database (two replicas): a race for the last seat has one winner', async () => {
    const other = await open();
    try {
      const w = await create(1);
      expect((await other.get(w.id))?.title).toBe('Mesh day');
      const outcomes = await Promise.all([store.join(w.joinCode, 'Ada', newLearner), other.join(w.joinCode, 'Grace', newLearner)]);
      expect(outcomes.map((o) => o.ok).sort()).toEqual([false, true]);
      expect(outcomes.find((o) => !o.ok)).toMatchObject({ reason: 'full' });
      expect((await other.members(w.id)).length).toBe(1);
      expect((await store.members(w.id)).map((m) => m.displayName)).toEqual((await other.members(w.id)).map((m) => m.displayName));
    } finally {
      await other.dispose();
    }
  });

  it('records members’ done marks and check verdicts, writing only a change (failing since kept while it fails)', async () => {
    const w = await create(5);
    const other = await create(5);
    const ada = await store.join(w.joinCode, 'Ada', newLearner);
    const bob = await store.join(other.joinCode, 'Bob', newLearner);
    if (!ada.ok || !bob.ok) throw new Error('join refused');
    const id = ada.member.learnerId;
    const failedAt = now;
    expect(await store.setCheckState(id, 'a', 's1', 'failed')).toBe(true);
    expect(await store.stepRecords(w.id)).toEqual([{ learnerId: id, trackId: 'a', stepId: 's1', done: null, check: 'failed', failingSince: failedAt, updatedAt: failedAt }]);
    // A re-check with the same verdict a minute later writes nothing: the record is as it was.
    now = new Date(now.getTime() + 60_000);
    expect(await store.setCheckState(id, 'a', 's1', 'failed')).toBe(false);
    expect(await store.stepRecords(w.id)).toEqual([{ learnerId: id, trackId: 'a', stepId: 's1', done: null, check: 'failed', failingSince: failedAt, updatedAt: failedAt }]);
    expect(await store.setCheckState(id, 'a', 's1', 'passed')).toBe(true);
    expect(await store.setStepDone(id, 'a', 's1', true)).toBe(true);
    expect(await store.setStepDone(id, 'a', 's1', true)).toBe(false);
    expect(await store.stepRecords(w.id)).toEqual([{ learnerId: id, trackId: 'a', stepId: 's1', done: true, check: 'passed', failingSince: null, updatedAt: now }]);
    // Not done where nothing is recorded is no news; a step's own record keeps its state.
    expect(await store.setStepDone(id, 'a', 's2', false)).toBe(false);
    expect(await store.setCheckState(id, 'b', 's1', 'unreachable')).toBe(true);
    expect(await store.setCheckState(id, 'b', 's1', 'unreachable')).toBe(false);
    // Failing again starts a new failing-since; a reset forgets the verdict (once) and the done mark.
    now = new Date(now.getTime() + 60_000);
    expect(await store.setCheckState(id, 'a', 's1', 'failed')).toBe(true);
    expect(await store.setStepDone(id, 'a', 's1', false)).toBe(true);
    expect((await store.stepRecords(w.id)).find((r) => r.trackId === 'a')).toMatchObject({ done: false, check: 'failed', failingSince: now });
    expect(await store.setCheckState(id, 'a', 's1', null)).toBe(true);
    expect(await store.setCheckState(id, 'a', 's1', null)).toBe(false);
    const records = await store.stepRecords(w.id);
    expect(records.map((r) => [r.trackId, r.stepId, r.done, r.check, r.failingSince]).sort()).toEqual([
      ['a', 's1', false, null, null],
      ['b', 's1', null, 'unreachable', null],
    ]);
    // A learner in no workshop leaves no trace; another workshop's member is that workshop's.
    expect(await store.setCheckState('self-paced', 'a', 's1', 'failed')).toBe(false);
    expect(await store.setStepDone('self-paced', 'a', 's1', true)).toBe(false);
    expect(await store.setStepDone(bob.member.learnerId, 'a', 's1', true)).toBe(true);
    expect((await store.stepRecords(w.id)).map((r) => r.learnerId)).toEqual([id, id]);
    expect((await store.stepRecords(other.id)).map((r) => [r.learnerId, r.done])).toEqual([[bob.member.learnerId, true]]);
    // They go with the workshop.
    await store.delete(w.id);
    expect(await store.stepRecords(w.id)).toEqual([]);
    expect(await store.setCheckState(id, 'a', 's1', 'passed')).toBe(false);
  });

  it('records which replica has a member’s terminal open, and forgets a replica’s terminals at once', async () => {
    const w = await create(5);
    const ada = await store.join(w.joinCode, 'Ada', newLearner);
    const grace = await store.join(w.joinCode, 'Grace', newLearner);
    if (!ada.ok || !grace.ok) throw new Error('join refused');
    const [a, g] = [ada.member.learnerId, grace.member.learnerId];
    const openedAt = now;
    expect(await store.setTerminal(a, 'pod-0', true)).toBe(true);
    now = new Date(now.getTime() + 1000);
    expect(await store.setTerminal(a, 'pod-0', true)).toBe(false);
    expect(await store.setTerminal(g, 'pod-1', true)).toBe(true);
    expect(await store.setTerminal('self-paced', 'pod-0', true)).toBe(false);
    expect(await store.terminals(w.id)).toEqual([
      { learnerId: a, replica: 'pod-0', since: openedAt },
      { learnerId: g, replica: 'pod-1', since: now },
    ]);
    // Closing on a replica that does not have it changes nothing.
    expect(await store.setTerminal(a, 'pod-1', false)).toBe(false);
    expect(await store.setTerminal(a, 'pod-0', false)).toBe(true);
    expect((await store.terminals(w.id)).map((t) => t.learnerId)).toEqual([g]);
    await store.setTerminal(a, 'pod-1', true);
    await store.clearTerminals('pod-1');
    expect(await store.terminals(w.id)).toEqual([]);
  });

  it('registers replicas with their URL and heartbeat (refreshed, not duplicated), forgets one that leaves, and keeps which replica admitted each member', async () => {
    expect(await store.replicas()).toEqual([]);
    await store.heartbeat('pod-1:8080', 'http://10.0.0.2:8080');
    await store.heartbeat('pod-0:8080', 'http://10.0.0.1:8080');
    now = new Date(now.getTime() + 10_000);
    // A restarted pod comes back with a new IP under its old name: one row, the new URL.
    await store.heartbeat('pod-1:8080', 'http://10.0.0.9:8080');
    expect(await store.replicas()).toEqual([
      { name: 'pod-0:8080', url: 'http://10.0.0.1:8080', silentMs: 10_000 },
      { name: 'pod-1:8080', url: 'http://10.0.0.9:8080', silentMs: 0 },
    ]);
    await store.leave('pod-0:8080');
    await store.leave('never-was');
    expect((await store.replicas()).map((r) => r.name)).toEqual(['pod-1:8080']);

    const w = await create(3);
    const ada = await store.join(w.joinCode, 'Ada', newLearner, 'pod-1:8080');
    const bob = await store.join(w.joinCode, 'Bob', newLearner);
    if (!ada.ok || !bob.ok) throw new Error('join refused');
    expect(ada.member.replica).toBe('pod-1:8080');
    expect((await store.membership(ada.member.learnerId))?.member.replica).toBe('pod-1:8080');
    expect((await store.members(w.id)).map((m) => [m.displayName, m.replica])).toEqual([
      ['Ada', 'pod-1:8080'],
      ['Bob', null],
    ]);
  });

  it('survives a restart (SQLite: a file of its own in the data dir)', async () => {
    const w = await create(3);
    await store.join(w.joinCode, 'Ada', newLearner);
    await store.setBroadcast(w.id, 'Break until 11:00');
    await store.dispose();
    store = await open();
    const again = await store.get(w.id);
    expect(again).toMatchObject({ title: 'Mesh day', capacity: 3, tracks: ['a', 'b'], broadcast: { text: 'Break until 11:00' } });
    expect((await store.members(w.id)).length).toBe(1);
  });
});

describe('PostgreSQL store: changes reach other replicas', () => {
  it('notifies every subscribed store of a join, a step change, a hint and a broadcast made through another', async () => {
    now = new Date('2026-03-01T09:00:00Z');
    const url = await postgres.newDatabase();
    const a = await PostgresWorkshopStore.connect({ url, clock });
    const b = await PostgresWorkshopStore.connect({ url, clock });
    try {
      const heard: string[] = [];
      let wake: () => void = () => {};
      await b.subscribe((id) => {
        heard.push(id);
        wake();
      });
      const hear = (n: number) => new Promise<void>((resolve) => (wake = () => heard.length >= n && resolve()));
      const w = await a.create({ title: 'Mesh day', tracks: ['a'], capacity: 5, expiresAt: new Date(now.getTime() + HOUR) });
      const joined = await a.join(w.joinCode, 'Ada', newLearner);
      if (!joined.ok) throw new Error('join refused');
      await a.setPosition(joined.member.learnerId, 'a', 's1');
      await a.recordEvent({ learnerId: joined.member.learnerId, kind: 'hint-opened', trackId: 'a', stepId: 's1' });
      await a.setBroadcast(w.id, 'Lunch');
      // A self-paced learner's position is no workshop's news.
      await a.setPosition('self-paced', 'a', 's1');
      if (heard.length < 5) await hear(5);
      expect(heard).toEqual([w.id, w.id, w.id, w.id, w.id]);
    } finally {
      await a.dispose();
      await b.dispose();
    }
  });
});

describe('PostgreSQL store: a changed step or terminal is announced, an unchanged one is not', () => {
  it('notifies other replicas of a new verdict, a done mark and a terminal, and stays silent for repeats', async () => {
    now = new Date('2026-03-01T09:00:00Z');
    const url = await postgres.newDatabase();
    const a = await PostgresWorkshopStore.connect({ url, clock });
    const b = await PostgresWorkshopStore.connect({ url, clock });
    try {
      const w = await a.create({ title: 'Mesh day', tracks: ['a'], capacity: 5, expiresAt: new Date(now.getTime() + HOUR) });
      const joined = await a.join(w.joinCode, 'Ada', newLearner);
      if (!joined.ok) throw new Error('join refused');
      const id = joined.member.learnerId;
      // The marker: a learner of another workshop, whose news is told apart by its payload.
      const m = await a.create({ title: 'Marker', tracks: ['a'], capacity: 5, expiresAt: new Date(now.getTime() + HOUR) });
      const mark = await a.join(m.joinCode, 'Mark', newLearner);
      if (!mark.ok) throw new Error('join refused');
      const heard: string[] = [];
      let wake: () => void = () => {};
      await b.subscribe((n) => {
        heard.push(n);
        wake();
      });
      const hear = (accept: () => boolean) => new Promise<void>((resolve) => ((wake = () => accept() && resolve()), wake()));
      // Notifications arrive in commit order: whatever a repeat announced would arrive before the
      // marker written after it. What came before the marker is returned (the marker dropped).
      const upToMarker = async (step: string) => {
        await a.setPosition(mark.member.learnerId, 'a', step);
        await hear(() => heard.includes(m.id));
        const before = heard.splice(0, heard.indexOf(m.id) + 1);
        return before.slice(0, -1);
      };
      expect(await a.setCheckState(id, 'a', 's1', 'failed')).toBe(true);
      expect(await upToMarker('s1')).toEqual([w.id]);
      expect(await a.setCheckState(id, 'a', 's1', 'failed')).toBe(false);
      expect(await a.setStepDone(id, 'a', 's2', false)).toBe(false);
      expect(await a.setTerminal(id, 'pod-0', false)).toBe(false);
      expect(await upToMarker('s2')).toEqual([]);
      expect(await a.setCheckState(id, 'a', 's1', 'passed')).toBe(true);
      expect(await a.setStepDone(id, 'a', 's1', true)).toBe(true);
      expect(await a.setTerminal(id, 'pod-0', true)).toBe(true);
      expect(await upToMarker('s1')).toEqual([w.id, w.id, w.id]);
      expect(await a.setStepDone(id, 'a', 's1', true)).toBe(false);
      expect(await a.setTerminal(id, 'pod-0', true)).toBe(false);
      await a.clearTerminals('pod-1');
      expect(await upToMarker('s2')).toEqual([]);
      await a.clearTerminals('pod-0');
      expect(await upToMarker('s1')).toEqual([w.id]);
      expect(await b.terminals(w.id)).toEqual([]);
    } finally {
      await a.dispose();
      await b.dispose();
    }
  });
});

describe('PostgreSQL store: replicas judged by the database’s clock', () => {
  it('sees a replica alive whose pod clock is ten minutes off, and gone once it stops beating', async () => {
    const url = await postgres.newDatabase();
    // No injected clock: as in production.
    const a = await PostgresWorkshopStore.connect({ url });
    const b = await PostgresWorkshopStore.connect({ url });
    const silent = pino({ level: 'silent' });
    const replicas = (store: WorkshopStore, name: string) => new Replicas({ store, name, url: `http://${name}:8080`, intervalMs: 60_000, timeoutMs: 2_000, logger: silent });
    const onA = replicas(a, 'pod-a');
    try {
      // pod-b beats with its clock ten minutes behind the database's; pod-a reads with its clock
      // ten minutes ahead. Judged by either pod's clock, pod-b would look gone for 20 minutes.
      vi.useFakeTimers({ toFake: ['Date'], now: Date.now() - 10 * 60_000 });
      await b.heartbeat('pod-b', 'http://pod-b:8080');
      vi.setSystemTime(Date.now() + 20 * 60_000);
      const view = await onA.view();
      expect(view.live('pod-b')).toMatchObject({ url: 'http://pod-b:8080' });
      expect(view.record('pod-b')!.silentMs).toBeLessThan(1_000);
      vi.useRealTimers();
      // Silent for longer than the timeout by the database's clock: gone, and said how long.
      await new Promise((r) => setTimeout(r, 2_100));
      const later = await onA.view();
      expect(later.live('pod-b')).toBeUndefined();
      expect(later.record('pod-b')!.silentMs).toBeGreaterThan(2_000);
    } finally {
      vi.useRealTimers();
      await a.dispose();
      await b.dispose();
    }
  });
});

describe('display names', () => {
  it('accepts ordinary names in any script, trimmed and with inner spaces collapsed', () => {
    expect(checkDisplayName('  Ada   Lovelace ')).toEqual({ ok: true, name: 'Ada Lovelace' });
    expect(checkDisplayName('Jürgen 王 <b>')).toEqual({ ok: true, name: 'Jürgen 王 <b>' });
  });

  it('refuses empty, too long, control and formatting characters (bidi overrides, zero-width)', () => {
    expect(checkDisplayName('   ')).toMatchObject({ ok: false, message: 'Enter a display name.' });
    expect(checkDisplayName(undefined)).toMatchObject({ ok: false });
    expect(checkDisplayName('x'.repeat(41))).toMatchObject({ ok: false, message: 'A display name has at most 40 characters.' });
    expect(checkDisplayName('x'.repeat(40)).ok).toBe(true);
    for (const bad of ['bell\u0007', 'two\nlines', 'tab\there', 'evil\u202Eeman', 'zero\u200Bwidth', 'del\u007f']) {
      expect(checkDisplayName(bad)).toMatchObject({ ok: false, message: 'A display name cannot contain control or formatting characters.' });
    }
  });
});

describe('the dashboard’s stuck rule', () => {
  const tracks = [{ id: 't', title: 'T', steps: [{ id: 's1', title: 'One' }, { id: 's2', title: 'Two' }] }];
  const base = (over: Partial<LearnerFacts>): LearnerFacts => ({
    id: 'l',
    name: 'Ada',
    joinedAt: new Date('2026-03-01T09:00:00Z'),
    terminal: true,
    progress: { t: { done: new Set(['s1']), currentStep: 's2' } },
    position: { trackId: 't', stepId: 's2', since: new Date('2026-03-01T09:00:00Z') },
    checks: new Map(),
    hintsOnCurrent: 0,
    ...over,
  });
  const at = (minutes: number) => new Date(Date.parse('2026-03-01T09:00:00Z') + minutes * 60_000);

  it('is not stuck while on the step for less than the threshold, even with failing checks and hints', () => {
    const facts = base({ checks: new Map([[stepKey('t', 's2'), { state: 'failed', failingSince: at(0) }]]), hintsOnCurrent: 2 });
    const row = learnerRow(facts, tracks, at(9), 10 * 60_000);
    expect(row.stuck).toBe(false);
    expect(row.cells.t).toEqual({ s1: 'done', s2: 'failing' });
  });

  it('is stuck with checks failing for longer than the threshold, saying why', () => {
    const facts = base({ checks: new Map([[stepKey('t', 's2'), { state: 'failed', failingSince: at(0) }]]) });
    const row = learnerRow(facts, tracks, at(12), 10 * 60_000);
    expect(row).toMatchObject({ stuck: true, stuckReasons: ['checks failing for 12 min', '12 min on this step'], doneCount: 1 });
  });

  it('is stuck after opening hints and still not done past the threshold; never on a done step', () => {
    expect(learnerRow(base({ hintsOnCurrent: 1 }), tracks, at(11), 10 * 60_000)).toMatchObject({ stuck: true, stuckReasons: ['opened 1 hint', '11 min on this step'] });
    const done = base({ hintsOnCurrent: 3, progress: { t: { done: new Set(['s1', 's2']), currentStep: 's2' } } });
    expect(learnerRow(done, tracks, at(60), 10 * 60_000).stuck).toBe(false);
    // Merely slow, with nothing failing and no hint: not flagged.
    expect(learnerRow(base({}), tracks, at(60), 10 * 60_000).stuck).toBe(false);
  });
});

describe('results export', () => {
  const d: Dashboard = {
    workshop: { id: 'w1', title: 'Mesh & more', tracks: ['t'], capacity: 5, status: 'open', expiresAt: '2026-03-01T17:00:00.000Z', joinPath: '/join/x', broadcast: null },
    tracks: [{ id: 't', title: 'T', steps: [{ id: 's1', title: 'One, first' }, { id: 's2', title: 'Two' }] }],
    learners: [
      { id: 'l1', name: '=HYPERLINK("http://evil")', joinedAt: '', terminal: false, terminalElsewhere: null, unreachable: null, current: null, hintsOpened: 0, stuck: false, stuckReasons: [], cells: { t: { s1: 'done', s2: 'failing' } }, doneCount: 1 },
      { id: 'l2', name: 'Grace <"Hopper">', joinedAt: '', terminal: false, terminalElsewhere: null, unreachable: null, current: null, hintsOpened: 0, stuck: false, stuckReasons: [], cells: { t: { s1: 'done', s2: 'done' } }, doneCount: 2 },
    ],
    stuckAfterMs: 600_000,
    generatedAt: '2026-03-01T10:00:00.000Z',
  };

  it('writes one CSV row per learner and step, with formula-looking names defused and commas quoted', () => {
    const lines = resultsCsv(d).trimEnd().split('\r\n');
    expect(lines[0]).toBe('learner,track,step,step title,state,done');
    expect(lines[1]).toBe(`"'=HYPERLINK(""http://evil"")",t,s1,"One, first",done,yes`);
    expect(lines[2]).toBe(`"'=HYPERLINK(""http://evil"")",t,s2,Two,failing,no`);
    expect(lines[3]).toBe('"Grace <""Hopper"">",t,s1,"One, first",done,yes');
    expect(lines.length).toBe(5);
  });

  it('writes JUnit XML with a suite per learner and a failure per step not done, escaped', () => {
    const x = resultsJunit(d);
    expect(x).toContain('<testsuites name="Mesh &amp; more" tests="4" failures="1"');
    expect(x).toContain('<testsuite name="Grace &lt;&quot;Hopper&quot;&gt;" tests="2" failures="0"');
    expect(x).toContain('<testcase classname="t" name="s2: Two"><failure type="failing" message="step not done (failing)"/></testcase>');
    expect(x).toContain('<testcase classname="t" name="s1: One, first"/>');
  });
});

describe('npm run workshop', () => {
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-workshops-'));
    now = new Date('2026-03-01T09:00:00Z');
    store = SqliteWorkshopStore.inDataDir(dir, clock);
  });
  afterEach(async () => {
    await store.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const deps = () => ({ store, baseUrl: 'http://lab.example:8080/', trackIds: async () => ['istio-bookinfo', 'istio-traffic'], now: () => now });

  it('creates a workshop and prints its join link; lists, closes and deletes it', async () => {
    const out = await runWorkshopCommand(['create', '--title', 'Mesh day', '--tracks', 'istio-bookinfo,istio-traffic', '--capacity', '30', '--expires', '8h'], deps());
    const link = /Join link: (http:\/\/lab\.example:8080\/join\/[A-Za-z0-9_-]{22})\n/.exec(out)?.[1];
    expect(link).toBeDefined();
    const [w] = await store.list();
    expect(w).toMatchObject({ title: 'Mesh day', tracks: ['istio-bookinfo', 'istio-traffic'], capacity: 30, expiresAt: new Date(now.getTime() + 8 * HOUR) });
    expect(await runWorkshopCommand(['list'], deps())).toContain(`${w!.id}  open        0/30`);
    expect(await runWorkshopCommand(['close', w!.id], deps())).toContain('no more joins');
    expect((await store.get(w!.id))?.closedAt).not.toBeNull();
    expect(await runWorkshopCommand(['delete', w!.id], deps())).toContain('no longer have access');
    expect(await store.list()).toEqual([]);
  });

  it('refuses unknown tracks and bad durations with a clear message', async () => {
    await expect(runWorkshopCommand(['create', '--title', 'x', '--tracks', 'nope'], deps())).rejects.toThrow('unknown track: nope (known: istio-bookinfo, istio-traffic)');
    expect(() => parseDuration('soon')).toThrow('"soon" is not a duration');
    expect(parseDuration('90m')).toBe(90 * 60_000);
    expect(parseDuration('2d')).toBe(2 * 86_400_000);
    await expect(runWorkshopCommand(['close', 'w-nope'], deps())).rejects.toThrow('no workshop "w-nope"');
  });
});
