/**
 * The real kubectl against a cluster whose kubeconfig is `<dir>/kubeconfig`, with a home and a
 * discovery cache of its own in that folder (so tests never share kubectl's cache).
 */
import { join } from 'node:path';
import { runProcess, type ProcessRun } from './run.js';

export type KubectlRun = ProcessRun;

export interface Kubectl {
  /** Runs kubectl; `input` is its stdin (closed at once without it). `cache` names the cache folder. */
  kubectl(args: string[], input?: string, cache?: string): Promise<KubectlRun>;
  /** As kubectl, but throws with its stderr unless it exits 0; resolves with stdout. */
  ok(args: string[], input?: string): Promise<string>;
}

/** `dir` is read at each call, so a suite may create its folder in beforeAll. */
export function kubectlIn(dir: () => string): Kubectl {
  const kubectl = (args: string[], input?: string, cache = 'cache') =>
    runProcess('kubectl', args, { env: { PATH: process.env.PATH!, HOME: dir(), KUBECONFIG: join(dir(), 'kubeconfig'), KUBECACHEDIR: join(dir(), cache) }, input });
  const ok = async (args: string[], input?: string) => {
    const r = await kubectl(args, input);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
    return r.stdout;
  };
  return { kubectl, ok };
}
