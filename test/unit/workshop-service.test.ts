/**
 * The workshop service's live side: a verdict, a step change or a hint of a member reaches the
 * workshop's dashboard listeners, a burst goes out as one update, and a self-paced learner's
 * activity reaches no workshop. Two services on one store stand for two replicas: one's dashboard
 * shows the other's learners' done marks, verdicts and terminals, and repeated verdicts write
 * nothing.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { SqliteWorkshopStore } from '../../server/workshops/sqlite-store.js';
import { Workshops } from '../../server/workshops/service.js';
import type { Dashboard } from '../../server/workshops/dashboard.js';
import { ResetError, type ResetStatus } from '../../server/steps/reset.js';
import type { WorkshopStore } from '../../server/workshops/store.js';
import { Replicas } from '../../server/workshops/replicas.js';

let store: SqliteWorkshopStore;
let workshops: Workshops;
const progress = new Map<string, { currentStep: string | null; done: string[] }>();

beforeEach(() => {
  store = new SqliteWorkshopStore({ file: ':memory:' });
  progress.clear();
  workshops = new Workshops({
    store,
    progress: {
      get: (l, t) => progress.get(`${l}/${t}`) ?? { currentStep: null, done: [] },
      checkResults: () => undefined,
      setStepDone: () => {},
      setCurrentStep: () => {},
    },
    tracks: () => [{ id: 't', title: 'T', steps: [{ id: 's1', title: 'One' }, { id: 's2', title: 'Two' }] }],
    hasTerminal: () => false,
    logger: pino({ level: 'silent' }),
    pushDelayMs: 10,
    minPushIntervalMs: 200,
  });
});
afterEach(async () => {
  workshops.close();
  await store.dispose();
});

/** Resolves with the next update the listener gets (and how many came by then). */
function updates(workshopId: string) {
  const got: Dashboard[] = [];
  let wake: (() => void) | null = null;
  const stop = workshops.subscribeDashboard(workshopId, (d) => {
    got.push(d);
    wake?.();
  });
  return {
    got,
    stop,
    next: (count: number) =>
      new Promise<Dashboard>((resolve) => {
        const check = () => (got.length >= count ? resolve(got[count - 1]!) : (wake = check));
        check();
      }),
  };
}

describe('workshop service', () => {
  it('pushes a member’s verdicts to the dashboard, a burst as one update', async () => {
    const w = await store.create({ title: 'W', tracks: ['t'], capacity: 5, expiresAt: new Date(Date.now() + 3_600_000) });
    const joined = await workshops.join(w.joinCode, 'Ada', () => 'ada');
    expect(joined.ok).toBe(true);
    const u = updates(w.id);
    workshops.checkState('ada', 't', 's1', 'failed');
    workshops.checkState('ada', 't', 's2', 'unreachable');
    const first = await u.next(1);
    expect(first.learners[0]!.cells.t).toEqual({ s1: 'failing', s2: 'unreachable' });
    progress.set('ada/t', { currentStep: 's2', done: ['s1'] });
    await workshops.progressChanged('ada', 't', 's2');
    const second = await u.next(2);
    expect(second.learners[0]).toMatchObject({ current: { trackId: 't', stepId: 's2' }, cells: { t: { s1: 'done', s2: 'unreachable' } } });
    // The second update waited for the minimum interval after the first.
    expect(Date.parse(second.generatedAt) - Date.parse(first.generatedAt)).toBeGreaterThanOrEqual(190);
    expect(u.got.length).toBe(2);
    u.stop();
  });

  it('routes nothing for a learner in no workshop', async () => {
    const w = await store.create({ title: 'W', tracks: ['t'], capacity: 5, expiresAt: new Date(Date.now() + 3_600_000) });
    const u = updates(w.id);
    workshops.checkState('self-paced', 't', 's1', 'failed');
    await workshops.hintOpened('self-paced', 't', 's1');
    await workshops.progressChanged('self-paced', 't', 's1');
    // A member's change after them is the first (and only) update.
    await workshops.join(w.joinCode, 'Ada', () => 'ada');
    const d = await u.next(1);
    expect(d.learners.map((l) => l.id)).toEqual(['ada']);
    expect(await store.events(w.id)).toEqual([]);
    u.stop();
  });

  it('shows another replica’s learner from the store: done marks, verdicts with failing since, an open terminal', async () => {
    // Replica B holds Ada (her progress store, her terminal); A has nothing of her but the store.
    const bProgress = new Map<string, { currentStep: string | null; done: string[] }>();
    let bTerminal = false;
    const b = new Workshops({
      store,
      replica: 'pod-b',
      progress: { get: (l, t) => bProgress.get(`${l}/${t}`) ?? { currentStep: null, done: [] }, checkResults: () => undefined, setStepDone: () => {}, setCurrentStep: () => {} },
      tracks: () => [{ id: 't', title: 'T', steps: [{ id: 's1', title: 'One' }, { id: 's2', title: 'Two' }] }],
      hasTerminal: () => bTerminal,
      logger: pino({ level: 'silent' }),
    });
    try {
      const w = await store.create({ title: 'W', tracks: ['t'], capacity: 5, expiresAt: new Date(Date.now() + 3_600_000) });
      expect((await b.join(w.joinCode, 'Ada', () => 'ada')).ok).toBe(true);
      const ada = async () => (await workshops.dashboard(w.id))!.learners[0]!;
      expect(await ada()).toMatchObject({ terminal: false, terminalElsewhere: null, cells: { t: { s1: 'todo', s2: 'todo' } } });

      bTerminal = true;
      await b.terminalChanged('ada');
      await b.checkState('ada', 't', 's1', 'failed', false);
      const failing = await ada();
      expect(failing).toMatchObject({ terminal: true, terminalElsewhere: 'pod-b', cells: { t: { s1: 'failing', s2: 'todo' } } });
      const since = (await store.stepRecords(w.id))[0]!.failingSince;
      expect(since).toBeInstanceOf(Date);

      bProgress.set('ada/t', { currentStep: 's2', done: ['s1'] });
      await b.checkState('ada', 't', 's1', 'passed', true);
      await b.progressChanged('ada', 't', 's2');
      await b.checkState('ada', 't', 's2', 'unreachable', false);
      expect(await ada()).toMatchObject({ doneCount: 1, current: { stepId: 's2' }, cells: { t: { s1: 'done', s2: 'unreachable' } } });

      // Unmarked on B, a reset of s1 there, the terminal closed: A follows.
      bProgress.set('ada/t', { currentStep: 's2', done: [] });
      await b.progressChanged('ada', 't', 's2');
      expect((await ada()).cells.t).toEqual({ s1: 'todo', s2: 'unreachable' });
      await b.stepsReset('ada', 't', ['s2'], 's2');
      expect((await ada()).cells.t).toEqual({ s1: 'todo', s2: 'current' });
      bTerminal = false;
      await b.terminalChanged('ada');
      expect(await ada()).toMatchObject({ terminal: false, terminalElsewhere: null });
      // The dashboard on B itself says the terminal is here, not elsewhere.
      bTerminal = true;
      await b.terminalChanged('ada');
      expect((await b.dashboard(w.id))!.learners[0]).toMatchObject({ terminal: true, terminalElsewhere: null });
      expect(await workshops.terminalElsewhere('ada')).toBe('pod-b');
      expect(await b.terminalElsewhere('ada')).toBeUndefined();
      // B stops (or starts again after a crash): what it recorded as open is gone.
      await b.clearTerminals();
      expect(await ada()).toMatchObject({ terminal: false, terminalElsewhere: null });
    } finally {
      b.close();
    }
  });

  it('writes a verdict, a done mark or a terminal to the store only when it changed', async () => {
    const calls: string[] = [];
    const counting = new Proxy(store, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (typeof prop === 'string' && /^set/.test(prop)) calls.push(prop);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    }) as WorkshopStore;
    let open = false;
    const replica = new Workshops({
      store: counting,
      replica: 'pod-c',
      progress: { get: () => ({ currentStep: null, done: [] }), checkResults: () => undefined, setStepDone: () => {}, setCurrentStep: () => {} },
      tracks: () => [{ id: 't', title: 'T', steps: [{ id: 's1', title: 'One' }] }],
      hasTerminal: () => open,
      logger: pino({ level: 'silent' }),
    });
    try {
      const w = await store.create({ title: 'W', tracks: ['t'], capacity: 5, expiresAt: new Date(Date.now() + 3_600_000) });
      await replica.join(w.joinCode, 'Ada', () => 'ada');
      // A room's re-checks: the same verdict again and again is one write.
      await Promise.all(Array.from({ length: 50 }, () => replica.checkState('ada', 't', 's1', 'failed', false)));
      expect(calls).toEqual(['setCheckState', 'setStepDone']);
      calls.length = 0;
      open = true;
      await Promise.all([replica.terminalChanged('ada'), replica.terminalChanged('ada')]);
      for (let i = 0; i < 20; i++) replica.terminalActive('ada');
      await replica.checkState('ada', 't', 's1', 'passed', true);
      await replica.checkState('ada', 't', 's1', 'passed', true);
      expect(calls).toEqual(['setTerminal', 'setCheckState', 'setStepDone']);
      // A reset and the verdict that follows it are written in that order.
      const reset = replica.stepsReset('ada', 't', ['s1'], 's1');
      await replica.checkState('ada', 't', 's1', 'failed', false);
      await reset;
      expect((await store.stepRecords(w.id))[0]).toMatchObject({ check: 'failed', done: false });
      // A self-paced learner's verdicts write nothing at all.
      calls.length = 0;
      await replica.checkState('self-paced', 't', 's1', 'failed', false);
      expect(calls).toEqual([]);
    } finally {
      replica.close();
    }
  });
});

describe('the instructor’s step reset', () => {
  const status = (stepId: string): ResetStatus => ({ trackId: 't', stepId, phase: 'building', message: 'Preparing…', startedAt: 1234 });

  it('starts the learner’s own reset and tells that learner’s page (only theirs) which reset to follow', async () => {
    const started: string[] = [];
    let finish!: () => void;
    workshops = new Workshops({
      store,
      progress: { get: () => ({ currentStep: null, done: [] }), checkResults: () => undefined, setStepDone: () => {}, setCurrentStep: () => {} },
      tracks: () => [{ id: 't', title: 'T', steps: [{ id: 's1', title: 'One' }, { id: 's2', title: 'Two' }] }],
      hasTerminal: () => false,
      logger: pino({ level: 'silent' }),
      startStepReset: (learnerId, _trackId, stepId) => {
        started.push(`${learnerId}:${stepId}`);
        return { status: status(stepId), done: new Promise<void>((r) => (finish = r)) };
      },
      isHere: () => true,
    });
    const w = await store.create({ title: 'W', tracks: ['t'], capacity: 5, expiresAt: new Date(Date.now() + 3_600_000) });
    await workshops.join(w.joinCode, 'Ada', () => 'ada');
    await workshops.join(w.joinCode, 'Bob', () => 'bob');
    const heard: Record<string, unknown[]> = { ada: [], bob: [] };
    await workshops.subscribeLearner('ada', (m) => heard.ada!.push(m));
    await workshops.subscribeLearner('bob', (m) => heard.bob!.push(m));
    expect(await workshops.resetStep('ada', 't', 's2')).toEqual(status('s2'));
    expect(started).toEqual(['ada:s2']);
    expect(heard).toEqual({ ada: [{ kind: 'reset', reset: { trackId: 't', trackTitle: 'T', stepId: 's2', stepTitle: 'Two', startedAt: 1234 } }], bob: [] });
    finish();
  });

  it('refuses a learner whose cluster and files are on another replica, starting nothing', async () => {
    let starts = 0;
    workshops = new Workshops({
      store,
      progress: { get: () => ({ currentStep: null, done: [] }), checkResults: () => undefined, setStepDone: () => {}, setCurrentStep: () => {} },
      tracks: () => [],
      hasTerminal: () => false,
      logger: pino({ level: 'silent' }),
      startStepReset: () => {
        starts++;
        return { status: status('s1'), done: Promise.resolve() };
      },
      isHere: (learnerId) => learnerId !== 'elsewhere',
    });
    const refused = await workshops.resetStep('elsewhere', 't', 's1').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ResetError);
    expect(refused).toMatchObject({ status: 409, message: expect.stringContaining('this learner works on another playground pod') });
    expect(starts).toBe(0);
  });
});

describe('replicas knowing each other', () => {
  it('routes a learner to the live replica that admitted them, says when it went silent, and redraws dashboards when it does', async () => {
    let now = new Date('2026-03-01T09:00:00Z');
    const clock = () => now;
    // The store's clock writes and judges heartbeats (PostgreSQL's own in production).
    const store = new SqliteWorkshopStore({ file: ':memory:', clock });
    const silent = pino({ level: 'silent' });
    const facts = {
      progress: { get: () => ({ currentStep: null, done: [] }), checkResults: () => undefined, setStepDone: () => {}, setCurrentStep: () => {} },
      tracks: () => [{ id: 't', title: 'T', steps: [{ id: 's1', title: 'One' }] }],
      logger: silent,
      clock,
      pushDelayMs: 1,
      minPushIntervalMs: 1,
    };
    // A ticks every 20 ms; the test moves the clock and waits for the update that follows.
    const registry = (name: string, url: string, onChange?: () => void) => new Replicas({ store, name, url, intervalMs: 20, timeoutMs: 30_000, logger: silent, ...(onChange ? { onChange } : {}) });
    const bIdentities = new Set<string>();
    // B beats once, then never again (as after a SIGKILL); the test moves the clock past the timeout.
    const b = new Workshops({ ...facts, store, replica: 'pod-b', hasTerminal: (l) => l === 'ada', isHere: (l) => bIdentities.has(l) });
    let a: Workshops | undefined;
    const aReplicas = registry('pod-a', 'http://10.0.0.1:8080', () => a!.replicasChanged());
    a = new Workshops({ ...facts, store, replica: 'pod-a', hasTerminal: () => false, isHere: () => false, replicas: aReplicas });
    try {
      await store.heartbeat('pod-b', 'http://10.0.0.2:8080');
      await aReplicas.start();
      const w = await store.create({ title: 'W', tracks: ['t'], capacity: 5, expiresAt: new Date(now.getTime() + 3_600_000) });
      expect((await b.join(w.joinCode, 'Ada', () => (bIdentities.add('ada'), 'ada'))).ok).toBe(true);
      await b.terminalChanged('ada');
      expect(await b.route('ada')).toEqual({ kind: 'here' });
      expect(await a.route('ada')).toEqual({ kind: 'replica', name: 'pod-b', url: 'http://10.0.0.2:8080' });
      // A learner of no replica known (not a member here): nowhere to forward.
      expect(await a.route('stranger')).toEqual({ kind: 'unknown' });
      const u = updatesOf(a, w.id);
      expect((await a.dashboard(w.id))!.learners[0]).toMatchObject({ terminal: true, terminalElsewhere: 'pod-b', unreachable: null });

      // Past the timeout without B's heartbeat, A's next tick finds B gone and redraws.
      now = new Date(now.getTime() + 31_000);
      const redrawn = await u.next((d) => d.learners[0]?.unreachable === 'pod-b');
      expect(redrawn.learners[0]).toMatchObject({ terminal: false, terminalElsewhere: null, unreachable: 'pod-b' });
      const gone = await a.route('ada');
      expect(gone).toMatchObject({ kind: 'gone', name: 'pod-b' });
      expect((gone as { message: string }).message).toMatch(/^this learner’s playground pod is unreachable \(pod-b; no heartbeat for 31 s: it crashed, or its node was lost\): their terminal, cluster and files are there/);
      // B itself still holds her: its own view is unchanged.
      expect(await b.route('ada')).toEqual({ kind: 'here' });

      // B comes back (a heartbeat): reachable again, and the dashboard says so.
      await store.heartbeat('pod-b', 'http://10.0.0.3:8080');
      const back = await u.next((d) => d.learners[0]?.unreachable === null);
      expect(back.learners[0]).toMatchObject({ terminal: true, terminalElsewhere: 'pod-b' });
      expect(await a.route('ada')).toEqual({ kind: 'replica', name: 'pod-b', url: 'http://10.0.0.3:8080' });
      // A replica that leaves on purpose is gone at once.
      await store.leave('pod-b');
      expect((await a.route('ada')) as { message: string }).toMatchObject({ kind: 'gone', message: expect.stringContaining('(pod-b; it stopped)') });
      u.stop();
    } finally {
      await aReplicas.stop();
      await store.leave('pod-b');
      a.close();
      b.close();
    }
    expect((await store.replicas()).map((r) => r.name)).toEqual([]);
    await store.dispose();
  });
});

/** The updates a service pushes for a workshop; `next` resolves with the first one `accept` takes. */
function updatesOf(service: Workshops, workshopId: string) {
  let waiting: { accept: (d: Dashboard) => boolean; resolve: (d: Dashboard) => void } | null = null;
  const stop = service.subscribeDashboard(workshopId, (d) => {
    if (waiting?.accept(d)) waiting.resolve(d);
  });
  return { stop, next: (accept: (d: Dashboard) => boolean) => new Promise<Dashboard>((resolve) => (waiting = { accept, resolve })) };
}
