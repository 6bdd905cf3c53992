/**
 * The real kubectl against a cluster whose kubeconfig is `<dir>/kubeconfig`, with a home and a
 * discovery cache of its own in that folder (so tests never share kubectl's cache).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';

export interface KubectlRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Kubectl {
  /** Runs kubectl; `input` is its stdin (closed at once without it). `cache` names the cache folder. */
  kubectl(args: string[], input?: string, cache?: string): Promise<KubectlRun>;
  /** As kubectl, but throws with its stderr unless it exits 0; resolves with stdout. */
  ok(args: string[], input?: string): Promise<string>;
}

/** `dir` is read at each call, so a suite may create its folder in beforeAll. */
export function kubectlIn(dir: () => string): Kubectl {
  const kubectl = (args: string[], input?: string, cache = 'cache') =>
    new Promise<KubectlRun>((resolve) => {
      const d = dir();
      const env = { PATH: process.env.PATH!, HOME: d, KUBECONFIG: join(d, 'kubeconfig'), KUBECACHEDIR: join(d, cache) };
      const child = execFile('kubectl', args, { env, timeout: 60_000 }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
      // A child that exits without reading stdin makes this write fail (EPIPE): its exit code says what happened.
      child.stdin!.on('error', () => {});
      child.stdin!.end(input ?? '');
    });
  const ok = async (args: string[], input?: string) => {
    const r = await kubectl(args, input);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
    return r.stdout;
  };
  return { kubectl, ok };
}
