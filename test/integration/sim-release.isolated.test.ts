/**
 * Idle learners give their cluster back: after 200 learners came and went, the server's RSS and
 * listening sockets are back within 10% of where they started, no cluster process is left, and a
 * learner who returns finds their cluster as they left it. Through the full playground too: the
 * cluster is released once the learner's terminal is gone, and a crash of it is told in the
 * terminal.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { SimBackend } from '../../server/cluster/sim-backend.js';
import { IdleRelease } from '../../server/cluster/idle-release.js';
import { encodeMessage } from '../../server/terminal/protocol.js';
import { childrenOf, listeningSockets } from '../helpers/processes.js';
import { exchangeToken, startTestPlayground, type TestPlayground } from '../helpers/playground.js';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const LEARNERS = 200;
const CONCURRENCY = 8;

/** Polls a condition (not a fixed sleep): resolves as soon as it holds, fails after the deadline. */
async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const clusterChildren = () => childrenOf(process.pid).filter((p) => p.cmdline.includes('sim-child'));
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

describe('idle release, driving the backend', () => {
  it(`RSS and listening sockets return to within 10% of baseline after ${LEARNERS} learners come and go`, async () => {
    // The bundle's child, as `npm start` runs it (a tsx child costs four times the CPU to start).
    // Into a folder of its own (inside the checkout, so node_modules resolve): another test may rebuild dist/ meanwhile.
    fs.mkdirSync(path.join(projectRoot, '.tmp'), { recursive: true });
    const buildDir = fs.mkdtempSync(path.join(projectRoot, '.tmp', 'build-'));
    dirs.push(buildDir);
    const built = spawnSync(process.execPath, [path.join(projectRoot, 'scripts', 'build-server.mjs'), '--outdir', path.join(buildDir, 'server')], { cwd: projectRoot, encoding: 'utf8' });
    expect(built.status, built.stderr).toBe(0);
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sim-release-'));
    dirs.push(dataDir);
    const backend = new SimBackend({ dataDir, childEntry: path.join(buildDir, 'server', 'cluster', 'sim-child.js') });
    const idle = new IdleRelease({ backend, idleMs: 200, inUse: () => false });
    const cycle = async (id: string) => {
      await backend.acquire(id);
      idle.touch(id);
    };
    const released = () => idle.held().length === 0 && backend.pids().size === 0 && clusterChildren().length === 0;
    // One learner first, so what is loaded once (modules, IPC machinery) is in the baseline.
    await cycle('warm-up');
    await until('the warm-up cluster released', released);
    const baseline = { rss: process.memoryUsage().rss, listening: listeningSockets(process.pid) };

    let next = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < LEARNERS) {
          await cycle(`learner-${next++}`);
          peak = Math.max(peak, backend.pids().size);
        }
      }),
    );
    expect(peak).toBeGreaterThanOrEqual(CONCURRENCY);
    await until('every cluster released', released, 120_000);
    const after = { rss: process.memoryUsage().rss, listening: listeningSockets(process.pid) };
    expect(after.listening).toBeLessThanOrEqual(Math.ceil(baseline.listening * 1.1));
    expect(after.rss).toBeLessThanOrEqual(baseline.rss * 1.1);
    // Released, not lost: each learner's state is on disk for their return.
    expect(fs.existsSync(path.join(backend.stateDir(`learner-${LEARNERS - 1}`), 'snapshot.json'))).toBe(true);
    idle.close();
    await backend.close();
  }, 600_000);
});

describe('idle release, through the playground', () => {
  let pg: TestPlayground;

  afterAll(async () => {
    await pg?.close();
  });

  /** A browser tab's terminal: sends a line, waits for a marker echoed after it. */
  async function terminal(cookies: string) {
    const ws: WebSocket = await pg.openTerminal({ cookies });
    let output = '';
    ws.on('message', (data: Buffer, isBinary) => {
      if (isBinary) output += data.toString('utf8');
    });
    const seen = (text: string, timeoutMs = 60_000) => until(`"${text}" in the terminal`, () => output.includes(text), timeoutMs);
    let n = 0;
    const run = async (command: string) => {
      const marker = `END-${++n}-${Date.now()}`;
      const from = output.length;
      // The marker is split in the command line so that only its output matches.
      ws.send(encodeMessage({ t: 'input', d: `${command}; echo ${marker.slice(0, 4)}''${marker.slice(4)}\r` }));
      await until(`${command} to finish`, () => output.slice(from).includes(marker));
      return output.slice(from);
    };
    return { ws, run, seen, output: () => output };
  }

  it('releases a learner\'s cluster once their terminal is gone, restores it when they return, and tells the terminal of a crash', async () => {
    pg = await startTestPlayground({ idleTimeoutSeconds: 1 });
    const backend = pg.backend as SimBackend;
    const baseline = listeningSockets(process.pid);
    const learners = await Promise.all([0, 1, 2].map(() => exchangeToken(pg.url)));
    for (const [i, cookies] of learners.entries()) {
      const t = await terminal(cookies);
      expect(await t.run(`kubectl create configmap mine-${i} --from-literal=n=${i}`)).toContain(`configmap/mine-${i} created`);
      t.ws.close();
    }
    // The detached shells are reaped after the idle timeout, then their clusters a timeout later.
    await until('the three clusters released', () => backend.pids().size === 0 && clusterChildren().length === 0, 30_000);
    expect(listeningSockets(process.pid)).toBeLessThanOrEqual(Math.ceil(baseline * 1.1));

    const back = await terminal(learners[1]!);
    expect(await back.run("kubectl get configmap mine-1 -o jsonpath='value={.data.n}'")).toContain('value=1');
    expect(await back.run('kubectl get configmaps -o name')).not.toContain('mine-0');

    const [learnerId, pid] = [...backend.pids()][0]!;
    expect(learnerId).toBeTruthy();
    process.kill(pid, 'SIGKILL');
    await back.seen('Your cluster stopped unexpectedly (killed by SIGKILL). It is restarting from its saved state');
    await back.seen('Your cluster is running again.');
    expect(backend.pids().get(learnerId)).not.toBe(pid);
    expect(await back.run('kubectl get configmap mine-1 -o name')).toContain('configmap/mine-1');
    back.ws.close();
  }, 180_000);
});
