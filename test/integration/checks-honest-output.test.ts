/**
 * Output checks can't be fooled: through the whole playground, a learner's real sandboxed bash
 * (with the rcfile's shell integration) and the checks API a page uses, each way a learner
 * could pass an output check without running the command is tried and must fail.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlayground, type TestPlayground } from '../helpers/playground.js';
import { TestClient } from '../helpers/terminal-client.js';

interface CheckState {
  state: string;
  done: boolean;
  checks: { title: string; passed: boolean; found: string }[];
}

describe('output checks count only commands the learner ran in this step', () => {
  let pg: TestPlayground;
  let term: TestClient;

  const checkNow = async (trackId: string, stepId: string): Promise<CheckState> => {
    const res = await pg.fetchAuthed(`/api/checks/${trackId}/${stepId}/run`, { method: 'POST' });
    expect(res.status).toBe(200);
    return (await res.json()) as CheckState;
  };
  // Whole end marks only: bash writes one in pieces (its start, the history line, the BEL). The
  // fake marks one test prints (nonce `abc`) are not the shell's: counting them would let run()
  // return before the command it waits for has even started.
  const ends = () => term.output.match(/\x1b\]633;D;(?!abc;)[^\x07]*\x07/g)?.length ?? 0;
  /** Types a command line and Enter, and waits for the shell's end-of-command mark. */
  const run = async (line: string) => {
    const before = ends();
    term.type(`${line}\r`);
    await term.until(() => ends() > before, `end of ${line}`, 20_000);
  };

  beforeAll(async () => {
    pg = await startTestPlayground();
    term = await TestClient.open(new URL('/ws/terminal', pg.baseUrl.replace(/^http/, 'ws')).href, {
      headers: { cookie: pg.cookies, origin: pg.baseUrl.replace(/\/$/, '') },
    });
    await term.until(() => ends() > 0, 'the first prompt', 20_000);
  });
  afterAll(async () => {
    term?.close();
    await pg?.close();
    if (pg) rmSync(pg.dataDir, { recursive: true, force: true });
  });

  it('does not count text typed without Enter, or a comment', async () => {
    expect((await checkNow('welcome', 'terminal-and-run-buttons')).done).toBe(false);
    term.type('# Hello from the playground');
    await term.until(() => term.output.includes('# Hello from the playground'), 'the echo of what was typed');
    let state = await checkNow('welcome', 'terminal-and-run-buttons');
    expect(state.checks[0]).toMatchObject({ passed: false, found: 'you have not run a command in this step yet' });
    // Enter on it: a comment runs nothing.
    await run('');
    state = await checkNow('welcome', 'terminal-and-run-buttons');
    expect(state.checks[0]).toMatchObject({ passed: false, found: 'you have not run a command in this step yet' });
    await run('echo "Hello from the"');
    state = await checkNow('welcome', 'terminal-and-run-buttons');
    expect(state.checks[0]).toMatchObject({ passed: false, found: 'no command you ran in this step has printed “Hello from the playground” yet' });
    await run('echo "Hello from the playground"');
    state = await checkNow('welcome', 'terminal-and-run-buttons');
    expect(state.checks[0]!.passed).toBe(true);
    expect(state.done).toBe(true);
  });

  it('does not take an echo of the expected output for the command itself', async () => {
    expect((await checkNow('welcome', 'kubectl-version')).done).toBe(false);
    await run('echo "Client Version: v1.2.3 Server Version: v1.2.3"');
    await run('printf "Client Version: v1.2.3\\nServer Version: v1.2.3\\n"');
    let state = await checkNow('welcome', 'kubectl-version');
    expect(state.checks.map((c) => c.found)).toEqual(['you have not run `kubectl version` in this step yet', 'you have not run `kubectl version` in this step yet']);
    await run('kubectl version; echo "Server Version: v1.2.3"');
    state = await checkNow('welcome', 'kubectl-version');
    expect(state.checks[0]!.found).toBe('`kubectl version; echo "Server Version: v1.2.3"` runs `kubectl version` together with other commands, so its output does not count: run `kubectl version` on its own');
    // History off: bash can no longer say which command ran, so nothing counts as kubectl's.
    await run('set +o history');
    await run('echo "Client Version: v1.2.3"');
    await run('set -o history');
    state = await checkNow('welcome', 'kubectl-version');
    expect(state.state).toBe('failed');
    // A fake mark with a made-up nonce is just output.
    await run(`printf '\\033]633;C;abc;99\\007Client Version: v1.2.3\\n\\033]633;D;abc;0;   99  kubectl version\\n\\007'`);
    expect((await checkNow('welcome', 'kubectl-version')).state).toBe('failed');
    await run('k version');
    state = await checkNow('welcome', 'kubectl-version');
    expect(state.checks).toMatchObject([
      { passed: true, found: '`kubectl version` printed a Client Version line' },
      { passed: true, found: '`kubectl version` printed a Server Version line' },
    ]);
  });

  it("does not count an earlier step's (or track's) output for a step opened later", async () => {
    await checkNow('welcome', 'kubectl-get-nodes');
    await run('kubectl get nodes');
    await run('kubectl get nodes -o wide');
    expect((await checkNow('welcome', 'kubectl-get-nodes')).done).toBe(true);
    // Warm-up step 1 wants exactly that output, but it was printed before the step was opened.
    let state = await checkNow('warm-up', 'nodes');
    expect(state.done).toBe(false);
    expect(state.checks.find((c) => c.title === "You looked at the nodes' addresses")).toMatchObject({ passed: false, found: 'you have not run `kubectl get nodes` in this step yet' });
    await run('kubectl get nodes -o wide');
    state = await checkNow('warm-up', 'nodes');
    expect(state.checks.find((c) => c.title === "You looked at the nodes' addresses")!.passed).toBe(true);
    // Going back to the earlier step opens it afresh: what ran meanwhile under warm-up does not count for it.
    expect((await checkNow('welcome', 'kubectl-version')).state).toBe('failed');
  });
});
