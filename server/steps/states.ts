/**
 * Step states on the embedded cluster: the state a step starts from (its `setup`: the solutions
 * of the steps it names, default every earlier step), built once by replaying those solutions in
 * a scratch embedded cluster and a scratch home — the way lesson validation proves steps
 * (validate/index.ts proveStep) — and cached on disk, keyed by the solutions replayed and the
 * server's code, so that a change to either builds it again.
 *
 * A state is a directory: cluster.json (the cluster's objects, restored into a learner's cluster
 * by its process: cluster/sim-child.ts), home/ (the files the solutions left in the home folder),
 * meta.json (the shell's working folder and exported variables, the node addresses of the
 * scratch cluster and when it was captured).
 *
 * Built lazily, on the first reset or jump that needs one; one build pass per track serves every
 * step whose state lies on its way (step k's default state is step k-1's plus one solution).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CompiledStep, CompiledTrack } from '../lessons/compiled.js';

export const STATE_FORMAT = 1;

export interface ShellState {
  /** Working folder relative to the home folder ('' for home itself); undefined: outside it (left alone). */
  cwd?: string;
  /** Variables the solutions exported or changed (PATH excepted), values with the home folder as `$HOME`. */
  env: Record<string, string>;
  /** Folders the solutions put in front of PATH, in order, as `$HOME/...` where inside the home folder. */
  pathPrepend: string[];
}

export interface StepStateMeta {
  format: typeof STATE_FORMAT;
  key: string;
  trackId: string;
  /** The step that starts from this state. */
  stepId: string;
  /** The steps whose solutions built it, in order. */
  chain: string[];
  capturedAt: number;
  /** The scratch cluster's node address block (rebased into the learner's on restore). */
  nodeBlock: string;
  /** Top-level names in home/. */
  homeEntries: string[];
  shell: ShellState;
  objects: number;
}

export interface StepState {
  dir: string;
  meta: StepStateMeta;
  clusterFile: string;
  homeDir: string;
}

export interface BuildProgress {
  /** 1-based: which step of the chain is replayed. */
  index: number;
  total: number;
  stepId: string;
  stepTitle: string;
  command?: string;
}

/** What a build may vary by: every solution replayed (by step id, in order), the server's code. */
export function stateKey(input: { codeIdentity: string; trackId: string; chain: { id: string; solution: string[] }[] }): string {
  const hash = createHash('sha256').update(`step-state ${STATE_FORMAT}\0${input.codeIdentity}\0${input.trackId}\0`);
  for (const step of input.chain) {
    hash.update(`${step.id}\0`);
    for (const entry of step.solution) hash.update(`${entry}\0`);
    hash.update('\u0001');
  }
  return hash.digest('hex').slice(0, 32);
}

/** The steps (in order) whose solutions build `step`'s starting state. */
export function setupChain(track: CompiledTrack, stepId: string): CompiledStep[] {
  const step = track.steps.find((s) => s.id === stepId);
  if (!step) throw new Error(`track "${track.id}" has no step "${stepId}"`);
  return step.setup.map((id) => {
    const found = track.steps.find((s) => s.id === id);
    if (!found) throw new Error(`step "${stepId}" names an unknown setup step "${id}"`);
    return found;
  });
}

/**
 * The code a state depends on, as a hash: the server's own files (sources under server/, or the
 * bundle under dist/server/), which include the embedded cluster, istioctl and the Istio release.
 */
export function codeIdentity(from = path.dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  while (path.basename(dir) !== 'server' && path.dirname(dir) !== dir) dir = path.dirname(dir);
  const hash = createHash('sha256');
  const walk = (d: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const file = path.join(d, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (/\.(?:ts|js|mjs|json|yaml)$/.test(entry.name) && !entry.name.endsWith('.map')) hash.update(`${path.relative(dir, file)}\0`).update(fs.readFileSync(file)).update('\0');
    }
  };
  walk(dir);
  return hash.digest('hex').slice(0, 16);
}

export interface StepStatesOptions {
  /** Where states are kept (under the data dir's cache). */
  cacheDir: string;
  /** codeIdentity() (computed on first use when given as a function), or a fixed value in tests. */
  codeIdentity: string | (() => string);
  /** Environment and PATH of the scratch shell: the learner shell's ($ISTIO_DOWNLOAD_URL …), without their home. */
  shellEnv: () => Promise<{ env: Record<string, string>; pathPrepend: string[] }>;
  /** Default time a step's checks get to pass after its solution. */
  stepTimeoutSeconds?: number;
  log?: (message: string) => void;
}

export class StepStates {
  private readonly building = new Map<string, Promise<void>>();
  private readonly listeners = new Map<string, Set<(p: BuildProgress) => void>>();
  /** Told after each state a pass writes (ensure() returns as soon as its own is there). */
  private readonly written = new Set<() => void>();

  private identity: string | undefined;
  private closed = false;

  /** Stops passes still building (between two steps) and waits for them. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.building.values()]);
  }

  constructor(private readonly options: StepStatesOptions) {}

  keyOf(track: CompiledTrack, stepId: string): string {
    const code = this.options.codeIdentity;
    this.identity ??= typeof code === 'string' ? code : code();
    return stateKey({ codeIdentity: this.identity, trackId: track.id, chain: setupChain(track, stepId) });
  }

  /** The cached state, if it was built and is whole. */
  cached(track: CompiledTrack, stepId: string): StepState | undefined {
    return this.read(this.keyOf(track, stepId));
  }

  private read(key: string): StepState | undefined {
    const dir = path.join(this.options.cacheDir, key);
    try {
      const meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8')) as StepStateMeta;
      if (meta.format !== STATE_FORMAT || meta.key !== key) return undefined;
      return { dir, meta, clusterFile: path.join(dir, 'cluster.json'), homeDir: path.join(dir, 'home') };
    } catch {
      return undefined;
    }
  }

  /** The step's starting state, built first if needed (progress through `onProgress`). */
  async ensure(track: CompiledTrack, stepId: string, onProgress?: (p: BuildProgress) => void): Promise<StepState> {
    const key = this.keyOf(track, stepId);
    const have = this.read(key);
    if (have) return have;
    if (this.closed) throw new Error('the playground is shutting down');
    const chain = setupChain(track, stepId);
    // One pass per chain; a later step's pass also captures this one's when it shares the prefix.
    const passKey = this.keyOf(track, this.passTarget(track, stepId));
    const listeners = this.listeners.get(passKey) ?? new Set();
    this.listeners.set(passKey, listeners);
    // Progress as this caller's own chain counts it (the pass may go on past it).
    const mine = onProgress && ((p: BuildProgress) => p.index <= chain.length && onProgress({ ...p, total: chain.length }));
    if (mine) listeners.add(mine);
    let wake = () => {};
    const ready = new Promise<void>((resolve) => (wake = resolve));
    const check = () => {
      if (this.read(key)) wake();
    };
    this.written.add(check);
    try {
      let pass = this.building.get(passKey);
      if (!pass) {
        pass = this.build(track, this.passTarget(track, stepId), (p) => {
          for (const l of listeners) l(p);
        }).finally(() => {
          this.building.delete(passKey);
          this.listeners.delete(passKey);
        });
        pass.catch((err: unknown) => this.options.log?.(`building step states of ${track.id} failed: ${(err as Error).message}`));
        this.building.set(passKey, pass);
      }
      // The rest of the pass goes on in the background once this state is written.
      await Promise.race([ready, pass]);
    } finally {
      this.written.delete(check);
      if (mine) listeners.delete(mine);
    }
    const built = this.read(key);
    if (!built) throw new Error(`the starting state of step "${stepId}" (${chain.length} steps) was not built`);
    return built;
  }

  /**
   * A default-setup step's state is built by the pass for the track's last default-setup step,
   * which captures every state on the way; a step with a declared setup gets a pass of its own.
   */
  private passTarget(track: CompiledTrack, stepId: string): string {
    const index = track.steps.findIndex((s) => s.id === stepId);
    const isDefault = (i: number) => track.steps[i]!.setup.join('\0') === track.steps.slice(0, i).map((s) => s.id).join('\0');
    if (!isDefault(index)) return stepId;
    let last = index;
    for (let i = index + 1; i < track.steps.length && isDefault(i); i++) last = i;
    return track.steps[last]!.id;
  }

  private async build(track: CompiledTrack, targetStepId: string, progress: (p: BuildProgress) => void): Promise<void> {
    const started = performance.now();
    const chain = setupChain(track, targetStepId);
    // The states this pass can capture: after k solutions, every step whose setup is that prefix.
    const capture = new Map<number, { stepId: string; key: string }[]>();
    for (const step of track.steps) {
      const ids = step.setup;
      if (ids.length > chain.length || ids.some((id, i) => chain[i]!.id !== id)) continue;
      const key = this.keyOf(track, step.id);
      if (this.read(key)) continue;
      const list = capture.get(ids.length) ?? [];
      list.push({ stepId: step.id, key });
      capture.set(ids.length, list);
    }
    if (capture.size === 0) return;
    this.options.log?.(`building step states of ${track.id} up to "${targetStepId}" (${chain.length} solutions)`);

    const [{ EmbeddedCluster }, { ScriptedShell }, { proveStep }, { loadKubeConfig }] = await Promise.all([
      import('../sim/cluster.js'),
      import('../validate/scripted-shell.js'),
      import('../validate/index.js'),
      import('../checks/context.js'),
    ]);
    const work = fs.mkdtempSync(path.join(os.tmpdir(), `pg-step-state-${track.id}-`));
    const home = path.join(work, 'home');
    fs.mkdirSync(home);
    const cluster = await EmbeddedCluster.start({ host: '127.0.0.1', port: 0, workloads: true });
    let shell: InstanceType<typeof ScriptedShell> | undefined;
    try {
      const kubeconfigPath = path.join(work, 'kubeconfig');
      await cluster.writeKubeconfig(kubeconfigPath);
      const kc = loadKubeConfig(kubeconfigPath);
      const base = await this.options.shellEnv();
      const basePath = process.env.PATH ?? '/usr/bin:/bin';
      const env = {
        cwd: home,
        env: { ...base.env, HOME: home, LANG: 'C.UTF-8', KUBECONFIG: kubeconfigPath, PATH: [...base.pathPrepend, basePath].join(path.delimiter) },
      };
      shell = new ScriptedShell(env);
      await shell.ready();
      const initial = await captureShell(shell, work);
      const nodeIp = cluster.workloads?.nodes.nodes[0]?.ip;
      if (!nodeIp) throw new Error('the scratch cluster has no nodes');
      const nodeBlock = nodeIp.replace(/\.\d+$/, '');
      const save = async (k: number) => {
        for (const { stepId, key } of capture.get(k) ?? []) {
          await cluster.settle();
          const shellNow = await captureShell(shell!, work);
          this.write(key, {
            track,
            stepId,
            chain: chain.slice(0, k).map((s) => s.id),
            nodeBlock,
            home,
            state: JSON.stringify(cluster.snapshot()),
            shell: shellDiff(initial, shellNow, home, basePath),
          });
          for (const w of [...this.written]) w();
        }
      };
      await save(0);
      for (const [i, step] of chain.entries()) {
        if (![...capture.keys()].some((k) => k > i) || this.closed) break;
        progress({ index: i + 1, total: chain.length, stepId: step.id, stepTitle: step.title });
        const outcome = await proveStep(step, shell, kc, env, {
          ...(this.options.stepTimeoutSeconds ? { stepTimeoutSeconds: this.options.stepTimeoutSeconds } : {}),
          onEntry: (_, entry) => progress({ index: i + 1, total: chain.length, stepId: step.id, stepTitle: step.title, command: entry }),
        });
        if (outcome.status === 'failed') throw new Error(`step "${step.id}" (${step.title}) failed while its solution was replayed: ${outcome.message}`);
        await save(i + 1);
      }
      this.options.log?.(`step states of ${track.id} up to "${targetStepId}" built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    } finally {
      await shell?.close();
      await cluster.stop();
      fs.rmSync(work, { recursive: true, force: true });
    }
  }

  private write(key: string, s: { track: CompiledTrack; stepId: string; chain: string[]; nodeBlock: string; home: string; state: string; shell: ShellState }): void {
    fs.mkdirSync(this.options.cacheDir, { recursive: true, mode: 0o700 });
    const dir = path.join(this.options.cacheDir, key);
    const tmp = fs.mkdtempSync(path.join(this.options.cacheDir, `.${key}-`));
    try {
      fs.writeFileSync(path.join(tmp, 'cluster.json'), s.state, { mode: 0o600 });
      // Symlinks stay links (a release's relative links), never followed out of the home.
      fs.cpSync(s.home, path.join(tmp, 'home'), { recursive: true, verbatimSymlinks: true });
      const homeEntries = fs.readdirSync(s.home).filter((n) => !SHELL_FILES.has(n));
      const objects = Object.values((JSON.parse(s.state) as { store: { buckets: Record<string, unknown[]> } }).store.buckets).reduce((n, b) => n + b.length, 0);
      const meta: StepStateMeta = { format: STATE_FORMAT, key, trackId: s.track.id, stepId: s.stepId, chain: s.chain, capturedAt: Date.now(), nodeBlock: s.nodeBlock, homeEntries, shell: s.shell, objects };
      fs.writeFileSync(path.join(tmp, 'meta.json'), JSON.stringify(meta, null, 2), { mode: 0o600 });
      fs.rmSync(dir, { recursive: true, force: true });
      fs.renameSync(tmp, dir);
    } catch (err) {
      fs.rmSync(tmp, { recursive: true, force: true });
      throw err;
    }
  }
}

/** A shell's own files, never part of a state (history of the scratch shell). */
const SHELL_FILES = new Set(['.bash_history', '.lesshst', '.viminfo']);

interface ShellSnapshot {
  cwd: string;
  env: Record<string, string>;
}

/** The shell's working folder and exported environment, read through files (not the terminal). */
async function captureShell(shell: { run(entry: string, timeoutMs: number): Promise<{ exitCodes: number[]; timedOut: boolean }> }, work: string): Promise<ShellSnapshot> {
  const file = path.join(work, 'shell-state');
  const result = await shell.run(`builtin pwd > '${file}.cwd'; env -0 > '${file}.env'`, 10_000);
  if (result.timedOut || result.exitCodes.some((c) => c !== 0)) throw new Error('the scratch shell did not report its state');
  const env: Record<string, string> = {};
  for (const pair of fs.readFileSync(`${file}.env`, 'utf8').split('\0')) {
    const eq = pair.indexOf('=');
    if (eq > 0) env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return { cwd: fs.readFileSync(`${file}.cwd`, 'utf8').trim(), env };
}

/** Variables a shell sets for itself: never part of a step's state. */
const SHELL_OWN = new Set(['PWD', 'OLDPWD', 'SHLVL', '_', 'LINES', 'COLUMNS', 'HOME', 'KUBECONFIG', 'TERM', 'PATH']);

/** What the solutions changed in the shell, with the scratch home folder as `$HOME`. */
export function shellDiff(before: ShellSnapshot, after: ShellSnapshot, home: string, basePath: string): ShellState {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(after.env)) {
    if (SHELL_OWN.has(name) || before.env[name] === value) continue;
    env[name] = value.split(home).join('$HOME');
  }
  const pathNow = after.env.PATH ?? '';
  const before_ = before.env.PATH ?? basePath;
  const prefix = pathNow.endsWith(before_) ? pathNow.slice(0, pathNow.length - before_.length) : '';
  const pathPrepend = prefix
    .split(':')
    .filter(Boolean)
    .map((p) => p.split(home).join('$HOME'));
  const cwd = after.cwd === home ? '' : after.cwd.startsWith(`${home}/`) ? after.cwd.slice(home.length + 1) : undefined;
  return { ...(cwd !== undefined ? { cwd } : {}), env, pathPrepend };
}
