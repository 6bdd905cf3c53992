/**
 * The workshop service's live side: a verdict, a step change or a hint of a member reaches the
 * workshop's dashboard listeners, a burst goes out as one update, and a self-paced learner's
 * activity reaches no workshop.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { SqliteWorkshopStore } from '../../server/workshops/sqlite-store.js';
import { Workshops } from '../../server/workshops/service.js';
import type { Dashboard } from '../../server/workshops/dashboard.js';
import { ResetError, type ResetStatus } from '../../server/steps/reset.js';

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
