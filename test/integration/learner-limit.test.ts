/**
 * The learner limit on the embedded cluster (--max-learners, else derived from memory): a
 * learner past it gets a terminal that says why and no cluster; once a seat frees, their next
 * terminal starts their cluster. Driven with the real kubectl in the learners' real shells.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exchangeToken, startTestPlayground, type TestPlayground } from '../helpers/playground.js';
import { TestClient } from '../helpers/terminal-client.js';
import type { SimBackend } from '../../server/cluster/sim-backend.js';
import os from 'node:os';
import { LEARNER_WORK_NICE } from '../../server/scheduling.js';
import { MIB_PER_LEARNER, RESERVED_MIB, learnerLimitFor, limitReachedMessage } from '../../server/cluster/learner-limit.js';

const MIB = 1024 * 1024;
let pg: TestPlayground;
/** What the learner sees: the banner comes before the shell's output, so often in the replay. */
const screen = (c: TestClient) => (c.replay ?? '') + c.output;
const terminal = (cookies: string) =>
  TestClient.open(new URL('/ws/terminal', pg.baseUrl.replace(/^http/, 'ws')).href, { headers: { cookie: cookies, origin: pg.baseUrl.replace(/\/$/, '') } });

beforeAll(async () => {
  pg = await startTestPlayground({ maxLearners: 1 });
});
afterAll(async () => {
  await pg?.close();
});

describe('learner limit', () => {
  it('derives the limit from memory: what is left after the reserve, at the measured cost per learner', () => {
    expect(learnerLimitFor(24 * 1024 * MIB)).toBe(Math.floor((24 * 1024 - RESERVED_MIB) / MIB_PER_LEARNER));
    // deploy/base's pod limit of 4 GiB.
    expect(learnerLimitFor(4 * 1024 * MIB)).toBe(38);
    // A tiny machine still lets one learner in.
    expect(learnerLimitFor(512 * MIB)).toBe(1);
    expect(limitReachedMessage(288, true)).toMatch(/^the playground is full: it runs 288 learners' clusters, as many as this machine's memory allows \(about 80 MiB each\)\./);
  });

  it('refuses a cluster past the limit with a sentence, and starts it once a seat is free', async () => {
    const first = await terminal(pg.cookies);
    await first.until(() => screen(first).includes('Welcome to istio-playground'), 'first banner', 30_000);
    expect(await first.run('kubectl get nodes -o name | wc -l', 30_000)).toMatch(/^[1-9]/);
    // Learners' work runs behind the server (server/scheduling.ts): their shell and what it
    // starts, and their cluster, at a higher nice value than the server's own.
    expect(await first.run('nice', 30_000)).toBe(String(os.getPriority() + LEARNER_WORK_NICE));
    const [clusterPid] = [...(pg.backend as SimBackend).pids().values()];
    expect(os.getPriority(clusterPid!)).toBe(os.getPriority() + LEARNER_WORK_NICE);
    // Their Go tools (kubectl) start lean: one scheduler thread, a later GC (scheduling.ts).
    expect(await first.run('echo "$GOMAXPROCS $GOGC $GOMEMLIMIT"', 30_000)).toBe('1 400 256MiB');

    const secondCookies = await exchangeToken(pg.url);
    const second = await terminal(secondCookies);
    await second.until(() => screen(second).includes('The cluster is not available'), 'refusal banner', 30_000);
    expect(screen(second)).toContain("the playground is full: it runs 1 learner's cluster, the most it is set to (--max-learners).");
    // No cluster for this shell: kubectl has nothing to talk to.
    expect(await second.run('kubectl get nodes 2>&1; echo "exit=$?"', 30_000)).toMatch(/exit=1/);
    // The first learner's cluster is untouched.
    expect(await first.run('kubectl get nodes -o name | wc -l', 30_000)).toMatch(/^[1-9]/);

    // The first learner leaves: their cluster is released (as idle release does), a seat frees.
    const backend = pg.backend as SimBackend;
    const [firstLearner] = [...backend.pids().keys()];
    first.ws.close();
    await backend.release(firstLearner!);
    expect(backend.pids().size).toBe(0);

    // The second learner's next terminal starts their cluster.
    second.type('exit\r');
    await second.until(() => second.closeCode !== undefined, 'shell exit', 30_000);
    const again = await terminal(secondCookies);
    await again.until(() => screen(again).includes('Welcome to istio-playground'), 'second banner', 30_000);
    expect(await again.run('kubectl get nodes -o name | wc -l', 30_000)).toMatch(/^[1-9]/);
    again.ws.close();
  }, 120_000);
});
