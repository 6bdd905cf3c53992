/**
 * "Jump to step" and "Reset this step" on a real cluster (`--backend kubeconfig`; an embedded
 * cluster started as the external cluster stands in for it): the track's clean-up runs, then the
 * earlier steps' solutions are replayed one command at a time in a sandboxed shell of the
 * learner's, with progress (step k of n, the command), and the variables they export reach the
 * learner's next shell. Through the server's API as the page calls it, checked with the real
 * kubectl and curl.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedCluster } from '../../server/sim/cluster.js';
import { learnerWorkspace } from '../../server/learners/workspace.js';
import type { ResetStatus } from '../../server/steps/reset.js';
import { startTestPlayground, type TestPlayground } from '../helpers/playground.js';
import { postFromPage, resetTo } from '../helpers/step-reset.js';
import { runProcess } from '../helpers/run.js';
import { TestClient } from '../helpers/terminal-client.js';

const fixtureLessons = path.join(path.dirname(new URL(import.meta.url).pathname), '../fixtures/lessons/replay');

let cluster: EmbeddedCluster;
let work: string;
let adminEnv: Record<string, string>;

const sh = (script: string, env: Record<string, string>) => runProcess('bash', ['-c', script], { env });

const post = postFromPage;

/** The learner's own view: their home and the kubeconfig their shell gets. */
function learnerEnv(pg: TestPlayground): Record<string, string> {
  const learners = fs.readdirSync(path.join(pg.dataDir, 'learners'), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  expect(learners).toHaveLength(1);
  const ws = learnerWorkspace(pg.dataDir, learners[0]!);
  return { PATH: process.env.PATH!, HOME: ws.home, KUBECONFIG: fs.existsSync(ws.kubeconfigPath) ? ws.kubeconfigPath : adminEnv.KUBECONFIG! };
}

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'step-reset-kubeconfig-'));
  cluster = await EmbeddedCluster.start({ host: '127.0.0.1', port: 0, workloads: true });
  await cluster.writeKubeconfig(path.join(work, 'admin.kubeconfig'));
  adminEnv = { PATH: process.env.PATH!, HOME: work, KUBECONFIG: path.join(work, 'admin.kubeconfig') };
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

describe('jump to a step on --backend kubeconfig', { timeout: 600_000 }, () => {
  let pg: TestPlayground;
  beforeAll(async () => {
    pg = await startTestPlayground({ backend: 'kubeconfig', kubeconfig: path.join(work, 'admin.kubeconfig'), dataDir: path.join(work, 'data') });
  }, 60_000);
  afterAll(async () => {
    await pg?.close();
  });

  it("jumps to warm-up's scale step: clean-up, then the solutions replayed with progress; NODE_IP:NODE_PORT answer in the next shell", async () => {
    // Something the clean-up removes: a Deployment web of the learner's from before.
    const stray = await sh('kubectl create deployment web --image=nginx --replicas=4', adminEnv);
    expect(stray.code, stray.stderr).toBe(0);
    const { final, seen } = await resetTo(pg, 'warm-up', 'scale');
    expect(final.phase, final.error).toBe('done');
    const replaying = seen.filter((s) => s.phase === 'replaying' && s.progress);
    // Every command, in order, with which step of how many it belongs to.
    expect(replaying.map((s) => s.progress!.command)).toEqual([
      'kubectl delete service web --ignore-not-found',
      'kubectl delete deployment web --ignore-not-found',
      'kubectl get nodes -o wide',
      'kubectl create deployment web --image=nginx --replicas=2',
      'kubectl rollout status deployment/web --timeout=120s',
      'kubectl expose deployment web --port=80',
      `KUBE_EDITOR="sed -i 's/type: ClusterIP/type: NodePort/'" kubectl edit service web`,
      `export NODE_IP=$(kubectl get nodes -o jsonpath='{.items[1].status.addresses[?(@.type=="InternalIP")].address}')`,
      `export NODE_PORT=$(kubectl get service web -o jsonpath='{.spec.ports[0].nodePort}')`,
      'curl -s "http://$NODE_IP:$NODE_PORT/" | grep -o "<title>.*</title>"',
    ]);
    expect(replaying.every((s) => s.progress!.total === 5)).toBe(true);
    expect(replaying.find((s) => s.progress!.command === 'kubectl expose deployment web --port=80')).toMatchObject({ progress: { index: 3, stepId: 'service' } });
    expect(replaying.at(-1)!.message).toMatch(/step 5 of 5/);

    const env = learnerEnv(pg);
    const deploy = await sh("kubectl get deployment web -o jsonpath='{.spec.replicas}' && kubectl get service web -o jsonpath=' {.spec.type}'", env);
    expect(deploy.code, deploy.stderr).toBe(0);
    expect(deploy.stdout).toBe('2 NodePort');
    // What the learner's next shell runs: the rcfile sources the step's variables.
    const page = await sh(`. "$HOME/.playground/step-env.sh" && curl -sS --max-time 5 "http://$NODE_IP:$NODE_PORT/"`, env);
    expect(page.stderr).toBe('');
    expect(page.stdout).toContain('<title>Welcome to nginx!</title>');

    const progress = (await (await pg.fetchAuthed('/api/progress/warm-up')).json()) as { currentStep: string; done: string[] };
    expect(progress.currentStep).toBe('scale');
  });

  it('resets the step again after the learner scaled to 5 (back to 2), and refuses a second reset while one runs', async () => {
    const env = learnerEnv(pg);
    const change = await sh('kubectl scale deployment web --replicas=5', env);
    expect(change.code, change.stderr).toBe(0);
    let again: Response | undefined;
    const { final } = await resetTo(pg, 'warm-up', 'scale', async () => {
      again = await post(pg, '/api/steps/warm-up/nodeport/reset');
    });
    expect(again!.status).toBe(409);
    expect(((await again!.json()) as { error: string }).error).toMatch(/a reset to "scale" of warm-up is still running/);
    expect(final.phase, final.error).toBe('done');
    const replicas = await sh("kubectl get deployment web -o jsonpath='{.spec.replicas}'", env);
    expect(replicas.stdout).toBe('2');
  });

  it('opens the learner terminal afterwards with the step variables set', async () => {
    const term = await TestClient.open(new URL('/ws/terminal', pg.baseUrl.replace(/^http/, 'ws')).href, { headers: { cookie: pg.cookies, origin: pg.baseUrl.replace(/\/$/, '') } });
    try {
      expect(await term.run('curl -sS --max-time 5 "http://$NODE_IP:$NODE_PORT/" | grep -o "<title>.*</title>"', 20_000)).toBe('<title>Welcome to nginx!</title>');
    } finally {
      term.close();
    }
  });
});

describe('a solution that fails midway, on --backend kubeconfig', { timeout: 300_000 }, () => {
  let pg: TestPlayground;
  beforeAll(async () => {
    pg = await startTestPlayground({ backend: 'kubeconfig', kubeconfig: path.join(work, 'admin.kubeconfig'), dataDir: path.join(work, 'data-fails'), lessonsDir: fixtureLessons });
  }, 60_000);
  afterAll(async () => {
    await pg?.close();
  });

  it('stops at the failing command, shows it with its output, and runs nothing after it', async () => {
    const { final, seen } = await resetTo(pg, 'fails-midway', 'target');
    expect(final.phase).toBe('failed');
    expect(final.progress).toMatchObject({ index: 2, total: 2, stepId: 'broken', command: 'kubectl get deployment does-not-exist' });
    // The command and what it printed: not the echoed command line, prompts or the replay's own bookkeeping.
    expect(final.error).toBe('step "Broken step": `kubectl get deployment does-not-exist` exited with status 1:\nError from server (NotFound): deployments.apps "does-not-exist" not found');
    expect(final.message).toContain('kubectl get deployment does-not-exist');
    expect(seen.some((s) => s.progress?.command === 'kubectl create configmap replay-after --from-literal=step=2')).toBe(false);
    const after = await sh('kubectl get configmap replay-first -o name; kubectl get configmap replay-after -o name', adminEnv);
    expect(after.stdout.trim()).toBe('configmap/replay-first');
    expect(after.stderr).toContain('configmaps "replay-after" not found');
  });
});
