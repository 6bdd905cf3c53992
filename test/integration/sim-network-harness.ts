/**
 * An embedded cluster with workloads and the pod network attached, driven by the real kubectl
 * (asynchronously: the API server lives in this process) and the real curl.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedCluster } from '../../server/sim/cluster.js';
import type { Workloads } from '../../server/sim/addons/index.js';

import { BOOKINFO_YAML } from '../helpers/reference.js';
import { runProcess } from '../helpers/run.js';

export const BOOKINFO = BOOKINFO_YAML;

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Harness {
  cluster: EmbeddedCluster;
  workloads: Workloads;
  dir: string;
  env: NodeJS.ProcessEnv;
  kubectl(args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<Run>;
  ok(args: string[], input?: string): Promise<string>;
  sh(script: string, timeoutMs?: number): Promise<Run>;
  spawnKubectl(args: string[]): ChildProcess;
  close(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'sim-network-'));
  const cluster = await EmbeddedCluster.start({
    workloads: { timings: { schedule: 0, pull: 20, start: 20, ready: 20, terminate: 100, run: 200, backoff: 200, probeDelayScale: 0 } },
  });
  const workloads = cluster.workloads!;
  await cluster.writeKubeconfig(join(dir, 'kubeconfig'));
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: dir, KUBECONFIG: join(dir, 'kubeconfig'), KUBECACHEDIR: join(dir, 'cache') };
  const run = (file: string, args: string[], opts: { input?: string; timeoutMs?: number } = {}) =>
    runProcess(file, args, { env, input: opts.input, timeoutMs: opts.timeoutMs ?? 60_000 });
  const kubectl = (args: string[], opts?: { input?: string; timeoutMs?: number }) => run('kubectl', args, opts);
  return {
    cluster,
    workloads,
    dir,
    env,
    kubectl,
    async ok(args, input) {
      const r = await kubectl(args, { input });
      if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
      return r.stdout;
    },
    sh: (script, timeoutMs) => run('sh', ['-c', script], { timeoutMs }),
    spawnKubectl: (args) => spawn('kubectl', args, { env, stdio: ['ignore', 'pipe', 'pipe'] }),
    async close() {
      await cluster.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function until<T>(what: string, fn: () => Promise<T | undefined | false | null>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

/** Deploys Bookinfo and waits until its six pods are Ready. */
export async function deployBookinfo(h: Harness): Promise<void> {
  await h.ok(['apply', '-f', BOOKINFO]);
  await until('six bookinfo pods', async () => (await h.ok(['get', 'pods', '--no-headers'])).trim().split('\n').length === 6);
  await h.ok(['wait', '--for=condition=Ready', 'pod', '--all', '--timeout=60s']);
}

/** Which reviews version rendered a productpage: v1 has no stars, v2 black ones, v3 red ones. */
export function reviewsVersion(html: string): string {
  const served = html.match(/Reviews served by: reviews-(v\d)-/)?.[1] ?? '?';
  const black = html.includes('class="flex gap-x-1 text-black-500"');
  const red = html.includes('class="flex gap-x-1 text-red-500"');
  const stars = red ? 'red' : black ? 'black' : 'none';
  return `${served}:${stars}`;
}

