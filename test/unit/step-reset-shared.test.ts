/**
 * Jump to a step on a cluster the instructor shares (namespace-per-learner): the replay leaves out
 * the cluster-wide steps (download, install), which are the instructor's and which the learner's
 * rights would only refuse; a learner with a cluster of their own replays every step.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StepResets, type ResetStatus } from '../../server/steps/reset.js';
import type { CompiledStep, CompiledTrack } from '../../server/lessons/compiled.js';

const step = (id: string, solution: string[], setup: string[], clusterWide?: boolean): CompiledStep => ({
  id,
  title: `Step ${id}`,
  file: `t/${id}.md`,
  html: '',
  hints: [],
  solution,
  checks: [],
  sticky: true,
  setup,
  ...(clusterWide ? { clusterWide } : {}),
});

const track: CompiledTrack = {
  id: 't',
  title: 'T',
  summary: 's',
  backends: ['kubeconfig'],
  file: 't/track.yaml',
  cleanup: ['kubectl delete deployment web --ignore-not-found'],
  steps: [
    step('download', ['curl -L https://istio.io/downloadIstio | sh -'], [], true),
    step('install', ['istioctl install -y'], ['download'], true),
    step('deploy', ['kubectl create deployment web --image=nginx'], ['download', 'install']),
    step('scale', ['kubectl scale deployment web --replicas=3'], ['download', 'install', 'deploy']),
  ],
};

const homes: string[] = [];
afterAll(() => {
  for (const h of homes) fs.rmSync(h, { recursive: true, force: true });
});

async function jump(shares: boolean): Promise<{ commands: string[]; statuses: ResetStatus[] }> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'reset-shared-'));
  homes.push(home);
  const commands: string[] = [];
  const resets = new StepResets({
    track: () => track,
    backendName: 'kubeconfig',
    replay: async (_learner, cmds, progress) => {
      cmds.forEach((c, i) => {
        progress(i);
        commands.push(c.command);
      });
      return { env: {}, pathPrepend: [] };
    },
    sharesCluster: () => shares,
    homeOf: () => ({ home }),
    endTerminal: async () => {},
    resetProgress: () => {},
    rerunChecks: async () => {},
  });
  const statuses: ResetStatus[] = [];
  resets.subscribe('l1', (s) => statuses.push(s));
  const { done } = resets.start('l1', 't', 'scale');
  await done;
  return { commands, statuses };
}

describe('replaying a step on a real cluster', () => {
  it('leaves out the instructor\'s cluster-wide steps when learners share the cluster', async () => {
    const { commands, statuses } = await jump(true);
    expect(commands).toEqual(['kubectl delete deployment web --ignore-not-found', 'kubectl create deployment web --image=nginx']);
    expect(statuses.at(-1)?.phase).toBe('done');
    expect(statuses.some((s) => s.message.includes('step 1 of 1, Step deploy'))).toBe(true);
  });

  it('replays every earlier step on a cluster of the learner\'s own', async () => {
    const { commands } = await jump(false);
    expect(commands).toEqual(['kubectl delete deployment web --ignore-not-found', 'curl -L https://istio.io/downloadIstio | sh -', 'istioctl install -y', 'kubectl create deployment web --image=nginx']);
  });
});
