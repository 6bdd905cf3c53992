/**
 * "Jump to step" and "Reset this step" on the embedded cluster, through the server's API as the
 * page calls it: the step's state is built once (the earlier solutions replayed in a scratch
 * cluster), then restored into the learner's own cluster process and home. Checked with the real
 * kubectl and curl: Bookinfo's pods are 2/2 Running, the gateway answers at the GATEWAY_URL the
 * learner's next shell gets, and the release is in their home.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlayground, type TestPlayground } from '../helpers/playground.js';
import { postFromPage, resetTo } from '../helpers/step-reset.js';
import { runProcess } from '../helpers/run.js';
import type { SimBackend } from '../../server/cluster/sim-backend.js';
import type { ResetStatus } from '../../server/steps/reset.js';
import { learnerWorkspace } from '../../server/learners/workspace.js';

let pg: TestPlayground;
let learnerId: string;

const sh = (script: string, env: Record<string, string>) => runProcess('bash', ['-c', script], { env });

const post = (p: string) => postFromPage(pg, p);

beforeAll(async () => {
  pg = await startTestPlayground({});
  // The learner's cluster starts on first use (the mesh picture asks for it).
  await pg.fetchAuthed('/api/mesh');
  learnerId = [...(pg.backend as SimBackend).pids().keys()][0]!;
}, 60_000);

afterAll(async () => {
  await pg?.close();
  if (pg) fs.rmSync(pg.dataDir, { recursive: true, force: true });
});

describe('jump to a step on the embedded cluster', { timeout: 600_000 }, () => {
  it('refuses unknown tracks and steps with 404, and names them', async () => {
    const a = await post('/api/steps/no-such-track/x/reset');
    expect(a.status).toBe(404);
    expect(((await a.json()) as { error: string }).error).toBe('track "no-such-track" not found');
    const b = await post('/api/steps/istio-bookinfo/no-such-step/reset');
    expect(b.status).toBe(404);
    expect(((await b.json()) as { error: string }).error).toBe('track "istio-bookinfo" has no step "no-such-step"');
  });

  it('jumps to destination-rules: Bookinfo 2/2 Running, the gateway answers at GATEWAY_URL, the release in the home', async () => {
    const { final, seen } = await resetTo(pg, 'istio-bookinfo', 'destination-rules');
    expect(final.phase, final.error).toBe('done');
    // Built on first use, with the replay's progress shown: step k of n and the command.
    expect(seen.some((s) => s.phase === 'building' && s.progress?.total === 8 && /istioctl install/.test(s.progress.command ?? ''))).toBe(true);
    expect(seen.some((s) => s.phase === 'restoring')).toBe(true);

    const kubeconfig = learnerWorkspace(pg.dataDir, learnerId).kubeconfigPath;
    const home = learnerWorkspace(pg.dataDir, learnerId).home;
    const env = { PATH: process.env.PATH!, HOME: home, KUBECONFIG: kubeconfig };
    const pods = await sh('kubectl get pods --no-headers', env);
    expect(pods.code, pods.stderr).toBe(0);
    const lines = pods.stdout.trim().split('\n');
    expect(lines).toHaveLength(6);
    for (const line of lines) expect(line).toMatch(/^(productpage-v1|details-v1|ratings-v1|reviews-v[123])-\S+\s+2\/2\s+Running\s+0\s+/);

    expect(fs.existsSync(path.join(home, 'istio-1.30.3', 'bin', 'istioctl'))).toBe(true);
    const envFile = fs.readFileSync(path.join(home, '.playground', 'step-env.sh'), 'utf8');
    expect(envFile).toMatch(/^export GATEWAY_URL=/m);
    expect(envFile).toMatch(/^export PATH='?"\$HOME"'?\/istio-1\.30\.3\/bin'?:"\$PATH"/m);
    // What the learner's next shell runs: the rcfile sources the file.
    const page = await sh(`. "$HOME/.playground/step-env.sh" && pwd && istioctl version --remote=false && curl -s -o /dev/null -w '%{http_code}' "http://$GATEWAY_URL/productpage"`, env);
    expect(page.code, page.stderr).toBe(0);
    expect(page.stdout).toContain(`${home}/istio-1.30.3\n`);
    expect(page.stdout).toContain('1.30.3');
    expect(page.stdout.trim().endsWith('200')).toBe(true);
    // The node addresses are the learner's own cluster's, not the scratch cluster's.
    const nodeIp = await sh(`kubectl get nodes -o jsonpath='{.items[0].status.addresses[0].address}'`, env);
    expect(envFile).toContain(`'${nodeIp.stdout.replace(/\.\d+$/, '.')}`);

    // Progress: the position is the step; the step and those after it are not done.
    const progress = (await (await pg.fetchAuthed('/api/progress/istio-bookinfo')).json()) as { currentStep: string; done: string[] };
    expect(progress.currentStep).toBe('destination-rules');
    expect(progress.done).not.toContain('destination-rules');
  });

  it('resets the step again from a changed cluster, and refuses a second reset while one runs', async () => {
    const env = { PATH: process.env.PATH!, HOME: learnerWorkspace(pg.dataDir, learnerId).home, KUBECONFIG: learnerWorkspace(pg.dataDir, learnerId).kubeconfigPath };
    const change = await sh('kubectl delete deployment reviews-v3 && kubectl create namespace stray', env);
    expect(change.code, change.stderr).toBe(0);
    let again: Response | undefined;
    const { final } = await resetTo(pg, 'istio-bookinfo', 'destination-rules', async () => {
      again = await post('/api/steps/istio-bookinfo/route-jason/reset');
    });
    expect(again!.status).toBe(409);
    expect(((await again!.json()) as { error: string }).error).toMatch(/a reset to "destination-rules" of istio-bookinfo is still running/);
    expect(final.phase, final.error).toBe('done');
    // How long it takes is the bench's to measure (npm run bench -- steps); here only that it was reported.
    expect(final.timings!.restoreMs).toBeGreaterThan(0);
    const after = await sh('kubectl get deployment reviews-v3 -o name && kubectl get namespace stray', env);
    expect(after.stdout).toContain('deployment.apps/reviews-v3');
    expect(after.stderr).toContain('namespaces "stray" not found');
  });
  it("jumps to warm-up's scale step: the restored NodePort answers at NODE_IP:NODE_PORT from the step's variables", async () => {
    const { final } = await resetTo(pg, 'warm-up', 'scale');
    expect(final.phase, final.error).toBe('done');
    const env = { PATH: process.env.PATH!, HOME: learnerWorkspace(pg.dataDir, learnerId).home, KUBECONFIG: learnerWorkspace(pg.dataDir, learnerId).kubeconfigPath };
    // What the learner types next, in a shell that sourced the step's variables.
    const page = await sh(`. "$HOME/.playground/step-env.sh" && echo "$NODE_IP:$NODE_PORT" && curl -sS --max-time 5 "http://$NODE_IP:$NODE_PORT/"`, env);
    expect(page.stderr).toBe('');
    expect(page.stdout).toContain('<title>Welcome to nginx!</title>');
  });
});
