/**
 * Lesson validation: proves every step of every track can be done. For each track, a fresh
 * cluster (on the embedded backend) and a real shell; for each step, its checks must fail
 * before its solution (unless the step says why they already pass), the solution is typed into
 * the shell as a learner would type it (every command must exit 0), and the checks must then
 * pass within the step's timeout. Afterwards the track's cleanup must leave nothing behind it
 * created. Used by `npm run validate` and by tests.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Kubeconfig } from '../cluster/kubeconfig.js';
import { createCheckContext, loadKubeConfig } from '../checks/context.js';
import { evaluateStep, type StepVerdict } from '../checks/evaluate.js';
import { loadCatalog } from '../lessons/catalog.js';
import type { LessonProblem, Step, Track } from '../lessons/types.js';
import { EmbeddedCluster } from '../sim/cluster.js';
import { inventory } from './inventory.js';
import { REAL_ISTIO_DOWNLOAD_URL, serveIstioDownload, type IstioDownload } from './istio-download.js';
import { junitXml, type JUnitCase } from './junit.js';
import { lintStep } from './lint.js';
import { ScriptedShell } from './scripted-shell.js';
import { parseCommands } from '../terminal/commands.js';

export interface ValidateOptions {
  lessonsDir: string;
  /** Only these tracks (by id); all when empty. */
  tracks?: string[];
  backend: 'sim' | 'kubeconfig';
  kubeconfig?: string;
  context?: string;
  junitFile?: string;
  /** Where progress lines go (stdout for the CLI). */
  log?: (line: string) => void;
  /** Default time a step's checks get to pass after its solution. */
  stepTimeoutSeconds?: number;
  /** Extra directories for the shell's PATH (the playground's tools). */
  pathPrepend?: string[];
  /** How long cleanup may take to converge (namespaces terminate, pods drain). */
  leakTimeoutSeconds?: number;
  /** Where the offline Istio release is cached between runs (embedded backend). */
  istioReleaseCacheDir?: string;
}

export interface ValidationReport {
  cases: JUnitCase[];
  problems: LessonProblem[];
  passed: number;
  failed: number;
  skipped: number;
}

interface TrackCluster {
  kubeconfigPath: string;
  kc: Kubeconfig;
  stop(): Promise<void>;
}

async function clusterFor(options: ValidateOptions, workDir: string): Promise<TrackCluster> {
  const kubeconfigPath = path.join(workDir, 'kubeconfig');
  if (options.backend === 'sim') {
    const cluster = await EmbeddedCluster.start({ host: '127.0.0.1', port: 0, workloads: true });
    await cluster.writeKubeconfig(kubeconfigPath);
    return { kubeconfigPath, kc: loadKubeConfig(kubeconfigPath), stop: () => cluster.stop() };
  }
  if (!options.kubeconfig) throw new Error('--kubeconfig is required with --backend kubeconfig');
  const kc = loadKubeConfig(options.kubeconfig, options.context);
  // The shell gets a private copy pinned to the context, like a learner's terminal.
  fs.writeFileSync(kubeconfigPath, kc.exportConfig(), { mode: 0o600 });
  return { kubeconfigPath, kc: loadKubeConfig(kubeconfigPath), stop: async () => {} };
}

const summarise = (verdict: StepVerdict) =>
  verdict.state === 'unreachable' ? `cluster unreachable: ${verdict.message}` : verdict.checks.map((c) => `${c.passed ? '✓' : '✗'} ${c.title}: ${c.found}`).join('; ');

function tail(text: string, lines = 15): string {
  // eslint-disable-next-line no-control-regex
  const plain = text.replace(/\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\r/g, '');
  return plain.trim().split('\n').slice(-lines).join('\n');
}

/** What proving a step needs of it (a catalog Step or a compiled one). */
export type ProvableStep = Pick<Step, 'checks' | 'solution' | 'alreadyPasses' | 'timeoutSeconds'>;
export type StepOutcome = Omit<JUnitCase, 'seconds' | 'suite' | 'name' | 'file'>;

/**
 * Proves one step in a shell and cluster that hold its starting state: its checks fail, its
 * solution runs cleanly (each entry is reported to `onEntry` as it starts), its checks then pass.
 * Step states (server/steps/) are built by this same function.
 */
export async function proveStep(
  step: ProvableStep,
  shell: ScriptedShell,
  kc: Kubeconfig,
  env: { cwd: string; env: Record<string, string> },
  options: { stepTimeoutSeconds?: number; onEntry?: (index: number, entry: string) => void },
): Promise<StepOutcome> {
  if (step.checks.length === 0 && step.solution.length === 0) return { status: 'skipped', message: 'a reading step: no checks, no solution' };
  const transcriptStart = shell.transcript().length;
  const ctx = createCheckContext({ kc, commands: () => parseCommands(shell.transcript().slice(transcriptStart), [shell.markNonce]), shell: env });

  if (step.checks.length > 0) {
    const before = await evaluateStep(step.checks, ctx);
    if (before.state === 'unreachable') return { status: 'failed', message: `before the solution: ${summarise(before)}` };
    if (before.state === 'passed' && !step.alreadyPasses) {
      return { status: 'failed', message: `the checks already pass before the solution ran, so they cannot tell whether the learner did the step (${summarise(before)}); fix the checks, or declare alreadyPasses: <why> in the step` };
    }
  }

  const timeoutSeconds = step.timeoutSeconds ?? options.stepTimeoutSeconds ?? 120;
  let output = '';
  for (const [i, entry] of step.solution.entries()) {
    options.onEntry?.(i, entry);
    const result = await shell.run(entry, timeoutSeconds * 1000);
    output += result.output;
    if (result.timedOut) return { status: 'failed', message: `solution[${i}] \`${entry}\` did not finish within ${timeoutSeconds} s`, output: tail(output) };
    const failedAt = result.exitCodes.findIndex((code) => code !== 0);
    if (failedAt >= 0) {
      return { status: 'failed', message: `solution[${i}] \`${entry}\` exited with status ${result.exitCodes[failedAt]}:\n${tail(result.output, 8)}`, output: tail(output) };
    }
  }
  if (step.checks.length === 0) return { status: 'passed', message: 'no checks declared; the solution ran cleanly', output: tail(output) };

  const deadline = Date.now() + timeoutSeconds * 1000;
  let verdict = await evaluateStep(step.checks, ctx);
  while (verdict.state !== 'passed' && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    verdict = await evaluateStep(step.checks, ctx);
  }
  if (verdict.state !== 'passed') return { status: 'failed', message: `after the solution, within ${timeoutSeconds} s: ${summarise(verdict)}`, output: tail(output) };
  return { status: 'passed', output: tail(output) };
}

/** A fresh cluster, home and shell; the step's declared setup replayed; then the step proved. */
async function proveFromSetup(track: Track, step: Step, options: ValidateOptions, downloadUrl: () => Promise<string>): Promise<StepOutcome> {
  if (options.backend !== 'sim') return { status: 'skipped', message: 'proved from its setup alone on the embedded cluster only (a real cluster is not fresh)' };
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), `pg-validate-${track.id}-setup-`));
  const home = path.join(workDir, 'home');
  fs.mkdirSync(home);
  let cluster: TrackCluster | undefined;
  let shell: ScriptedShell | undefined;
  try {
    cluster = await clusterFor(options, workDir);
    const env = {
      cwd: home,
      env: { HOME: home, LANG: 'C.UTF-8', KUBECONFIG: cluster.kubeconfigPath, ISTIO_DOWNLOAD_URL: await downloadUrl(), PATH: [...(options.pathPrepend ?? []), process.env.PATH ?? '/usr/bin:/bin'].join(path.delimiter) },
    };
    shell = new ScriptedShell(env);
    await shell.ready();
    for (const id of step.setup) {
      const setupStep = track.steps.find((s) => s.id === id)!;
      const outcome = await proveStep(setupStep, shell, cluster.kc, env, options);
      if (outcome.status === 'failed') return { status: 'failed', message: `its setup step "${id}" failed: ${outcome.message}`, ...(outcome.output ? { output: outcome.output } : {}) };
    }
    return await proveStep(step, shell, cluster.kc, env, options);
  } finally {
    await shell?.close();
    await cluster?.stop();
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

async function leakCheck(before: Set<string>, kc: Kubeconfig, timeoutSeconds: number): Promise<string[]> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  for (;;) {
    const leftovers = [...(await inventory(kc))].filter((k) => !before.has(k));
    if (leftovers.length === 0 || Date.now() > deadline) return leftovers;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export async function validateLessons(options: ValidateOptions): Promise<ValidationReport> {
  const log = options.log ?? (() => {});
  const { tracks: allTracks, problems } = await loadCatalog(options.lessonsDir);
  const cases: JUnitCase[] = [];
  const wanted = options.tracks?.length ? options.tracks : undefined;
  for (const id of wanted ?? []) {
    if (!allTracks.some((t) => t.id === id) && !problems.some((p) => p.file.startsWith(`${id}/`))) throw new Error(`no track "${id}" in ${options.lessonsDir}`);
  }
  const tracks = allTracks.filter((t) => !wanted || wanted.includes(t.id));
  const lintProblems = wanted ? problems.filter((p) => wanted.some((id) => p.file.startsWith(`${id}/`))) : [...problems];

  for (const track of tracks) {
    for (const step of track.steps) lintProblems.push(...(await lintStep(track, step)));
  }
  for (const p of lintProblems) {
    log(`  FAIL lint ${p.file}:${p.line}: ${p.message}`);
    cases.push({ suite: 'lint', name: `${p.file}:${p.line}`, file: p.file, seconds: 0, status: 'failed', message: `${p.file}:${p.line}: ${p.message}` });
  }

  // Shells get $ISTIO_DOWNLOAD_URL as a learner's terminal does (server/playground.ts).
  let download: IstioDownload | undefined;
  const downloadUrl = async () => {
    if (options.backend !== 'sim') return REAL_ISTIO_DOWNLOAD_URL;
    download ??= await serveIstioDownload(options.istioReleaseCacheDir ?? path.join(os.tmpdir(), 'pg-validate-istio-release'));
    return download.url;
  };

  try {
    for (const track of tracks) {
      if (!(track.backends as string[]).includes(options.backend)) {
        log(`track ${track.id}: skipped (supports ${track.backends.join(', ')}, not ${options.backend})`);
        continue;
      }
      const started = performance.now();
      log(`track ${track.id} (${track.title})`);
      const workDir = fs.mkdtempSync(path.join(os.tmpdir(), `pg-validate-${track.id}-`));
      const home = path.join(workDir, 'home');
      fs.mkdirSync(home);
      let cluster: TrackCluster | undefined;
      let shell: ScriptedShell | undefined;
      try {
        cluster = await clusterFor(options, workDir);
        const env = {
          cwd: home,
          env: {
            HOME: home,
            LANG: 'C.UTF-8',
            KUBECONFIG: cluster.kubeconfigPath,
            ISTIO_DOWNLOAD_URL: await downloadUrl(),
            PATH: [...(options.pathPrepend ?? []), process.env.PATH ?? '/usr/bin:/bin'].join(path.delimiter),
          },
        };
        const before = await inventory(cluster.kc);
        shell = new ScriptedShell(env);
        await shell.ready();
        for (const step of track.steps) {
          const stepStarted = performance.now();
          const result = await proveStep(step, shell, cluster.kc, env, options);
          const seconds = (performance.now() - stepStarted) / 1000;
          cases.push({ suite: track.id, name: step.id, file: step.file, seconds, ...result });
          const word = result.status === 'passed' ? 'PASS' : result.status === 'failed' ? 'FAIL' : 'SKIP';
          log(`  ${word} ${track.id}/${step.id} (${seconds.toFixed(1)} s)${result.message && result.status !== 'passed' ? `: ${result.message}` : ''}`);
        }

        // Steps that declare their setup are also proved from it alone: a fresh cluster and home,
        // the setup steps' solutions, then the step (the sequential run above is that proof for
        // steps whose setup is every earlier step).
        for (const step of track.steps.filter((s) => s.setupDeclared)) {
          const stepStarted = performance.now();
          const result = await proveFromSetup(track, step, options, downloadUrl);
          const seconds = (performance.now() - stepStarted) / 1000;
          cases.push({ suite: track.id, name: `${step.id} from its setup alone`, file: step.file, seconds, ...result });
          const word = result.status === 'passed' ? 'PASS' : result.status === 'failed' ? 'FAIL' : 'SKIP';
          log(`  ${word} ${track.id}/${step.id} from its setup [${step.setup.join(', ')}] (${seconds.toFixed(1)} s)${result.message && result.status !== 'passed' ? `: ${result.message}` : ''}`);
        }

        const cleanupStarted = performance.now();
        let cleanupFailure: string | undefined;
        for (const [i, entry] of track.cleanup.entries()) {
          const result = await shell.run(entry, 120_000);
          const bad = result.exitCodes.find((c) => c !== 0);
          if (result.timedOut || bad !== undefined) {
            cleanupFailure = `cleanup[${i}] \`${entry}\` ${result.timedOut ? 'did not finish' : `exited with status ${bad}`}: ${tail(result.output, 5)}`;
            break;
          }
        }
        const leftovers = cleanupFailure ? [] : await leakCheck(before, cluster.kc, options.leakTimeoutSeconds ?? 60);
        const seconds = (performance.now() - cleanupStarted) / 1000;
        const leakMessage = leftovers.length ? `the track leaves behind what it created: ${leftovers.join(', ')}${track.cleanup.length ? '' : ' (it declares no cleanup in track.yaml)'}` : undefined;
        const message = cleanupFailure ?? leakMessage;
        cases.push({ suite: track.id, name: 'cleanup leaves nothing behind', file: track.file, seconds, status: message ? 'failed' : 'passed', ...(message ? { message } : {}) });
        log(`  ${message ? 'FAIL' : 'PASS'} ${track.id}/cleanup (${seconds.toFixed(1)} s)${message ? `: ${message}` : ''}`);
      } catch (err) {
        const message = `the track could not be validated: ${(err as Error).message}`;
        cases.push({ suite: track.id, name: 'setup', file: track.file, seconds: 0, status: 'failed', message });
        log(`  FAIL ${track.id}: ${message}`);
      } finally {
        await shell?.close();
        await cluster?.stop();
        fs.rmSync(workDir, { recursive: true, force: true });
      }
      log(`track ${track.id}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }
  } finally {
    await download?.close();
  }

  if (options.junitFile) {
    fs.mkdirSync(path.dirname(path.resolve(options.junitFile)), { recursive: true });
    fs.writeFileSync(options.junitFile, junitXml(cases));
  }
  const count = (status: JUnitCase['status']) => cases.filter((c) => c.status === status).length;
  return { cases, problems: lintProblems, passed: count('passed'), failed: count('failed'), skipped: count('skipped') };
}
