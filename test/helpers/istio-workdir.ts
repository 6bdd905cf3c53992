/**
 * A learner's working directory for the Istio integration suites: the release's files (Bookinfo,
 * httpbin, curl, fortio samples) as `curl … downloadIstio | sh` unpacks them, our bundled
 * istioctl on PATH, and a kubeconfig for the embedded cluster under test; `bash` runs a script
 * there as the learner's terminal would (real kubectl, real curl).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleIstioctl } from '../../server/sim/addons/istio/release/build.js';
import { sampleFiles } from '../../server/sim/addons/istio/release/samples.js';
import { runProcess, type ProcessRun } from './run.js';

export type Run = ProcessRun;

/** Runs `script` with bash in the learner's working directory (120 s by default). */
export function bash(script: string, opts: { cwd: string; env: Record<string, string>; input?: string | undefined; timeoutMs?: number }): Promise<Run> {
  return runProcess('bash', ['-c', script], { cwd: opts.cwd, env: opts.env, input: opts.input, timeoutMs: opts.timeoutMs ?? 120_000 });
}

export async function istioWorkdir(prefix: string, cluster: { writeKubeconfig(file: string): Promise<unknown> }): Promise<{ dir: string; env: Record<string, string> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  for (const [rel, text] of Object.entries(sampleFiles())) {
    fs.mkdirSync(path.join(dir, path.dirname(rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  fs.mkdirSync(path.join(dir, 'bin'));
  fs.writeFileSync(path.join(dir, 'bin', 'istioctl'), await bundleIstioctl(), { mode: 0o755 });
  await cluster.writeKubeconfig(path.join(dir, 'kubeconfig'));
  const env = { PATH: `${path.join(dir, 'bin')}:${process.env.PATH!}`, HOME: dir, KUBECONFIG: path.join(dir, 'kubeconfig'), KUBECACHEDIR: path.join(dir, 'kcache') };
  return { dir, env };
}

/** The DestinationRule of Istio's circuit-breaking task (istio.io/latest/docs/tasks/traffic-management/circuit-breaking/). */
export const CIRCUIT_BREAKING_DR = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: httpbin
spec:
  host: httpbin
  trafficPolicy:
    connectionPool:
      tcp:
        maxConnections: 1
      http:
        http1MaxPendingRequests: 1
        maxRequestsPerConnection: 1
    outlierDetection:
      consecutive5xxErrors: 1
      interval: 1s
      baseEjectionTime: 3m
      maxEjectionPercent: 100
`;
