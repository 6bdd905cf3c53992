/**
 * The embedded cluster as a backend: one independent cluster per learner, each in a child
 * process of its own (sim-child.ts) with a capped heap, so nothing a learner sends their
 * cluster — a V8 fatal error included — ends the server or another learner's cluster.
 *
 * A cluster's state lives in data/learners/<id>/cluster/ (outside the learner's home): it
 * survives release() (idle learners), a crash of its child and a restart of the server. A
 * child that dies unasked is logged, its learner is told, and it is started again from that
 * state at once, unless it keeps dying (then the next acquire says so).
 *
 * Each child claims its nodes' address block machine-wide (kept across restarts) and, given a
 * PeerGuard for its learner, resets NodePort connections from other learners' uids.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs';
import os from 'node:os';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Logger } from 'pino';
import type { ClusterAccess, ClusterBackend } from './backend.js';
import type { ChildConfig, ChildMessage, ParentMessage } from './sim-child.js';
import { learnerWorkspace } from '../learners/workspace.js';
import { limitReachedMessage } from './learner-limit.js';
import { LEARNER_WORK_NICE } from '../scheduling.js';
import type { PeerGuard } from '../sim/network/peer-uid.js';

export interface SimBackendOptions {
  dataDir: string;
  logger?: Logger;
  /** V8 old-space cap of each cluster's process, in MB: one cluster cannot eat the machine. */
  heapMb?: number;
  /** How long a cluster may take to start (restoring a large state included). */
  startTimeoutMs?: number;
  /** A built sim-child.js to run instead of the one beside this module (tests and benches measuring the bundle's child from sources). */
  childEntry?: string;
  /** Where clusters claim their node address blocks machine-wide (default: defaultNodeBlockClaimsDir()). */
  nodeBlockClaimsDir?: string;
  /**
   * Who may connect to a learner's NodePorts: their own uid and no other learner's (the sandbox
   * knows the uids). Undefined, or a learner it gives nothing for: anyone on the machine.
   */
  peerGuard?: (learnerId: string) => PeerGuard | undefined;
  /** Clusters running at once; a learner beyond it is refused with a sentence (learner-limit.ts). Unlimited when absent. */
  maxClusters?: number;
  /** Whether maxClusters was derived from memory (the refusal says which). */
  maxClustersDerived?: boolean;
}

/**
 * Machine-wide, like learner uids' claims (root's), so several servers' clusters never share
 * node addresses; an unprivileged server keeps its claims per user under the temp dir.
 */
export function defaultNodeBlockClaimsDir(): string {
  if (process.env.PLAYGROUND_NODE_BLOCK_CLAIMS_DIR) return process.env.PLAYGROUND_NODE_BLOCK_CLAIMS_DIR;
  const uid = process.getuid?.() ?? 0;
  return uid === 0 ? '/var/lib/istio-playground/node-block-claims' : path.join(os.tmpdir(), `istio-playground-${uid}`, 'node-block-claims');
}

/** More unasked exits than this within CRASH_WINDOW_MS stop the automatic restarts. */
const MAX_CRASHES = 3;
const CRASH_WINDOW_MS = 5 * 60_000;
const STOP_GRACE_MS = 5_000;
const STDERR_TAIL = 4096;
export const DEFAULT_CLUSTER_HEAP_MB = 256;

interface Child {
  proc: ChildProcess;
  ready: Promise<{ url: string; kubeconfig: string }>;
  /** Set when we asked it to stop: its exit is then no crash. */
  stopping: Promise<void> | undefined;
  exited: Promise<void>;
  stderr: string;
}

const here = fileURLToPath(import.meta.url);

/**
 * The child's program: the built dist/server/cluster/sim-child.js next to the bundle (this
 * module is in dist/server/main.js or a chunk under dist/server/chunks/), else the TypeScript
 * source run through tsx (npm run dev, tests).
 */
function childEntry(): { file: string; execArgv: string[] } {
  if (here.endsWith('.js')) {
    const dir = path.dirname(here);
    const built = [path.join(dir, 'cluster', 'sim-child.js'), path.join(dir, '..', 'cluster', 'sim-child.js'), path.join(dir, 'sim-child.js')].find((f) => existsSync(f));
    if (built) return { file: built, execArgv: [] };
  }
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return { file: path.join(path.dirname(here), 'sim-child.ts'), execArgv: ['--import', tsx] };
}

/** A learner's cluster was not started: the playground runs as many as it may. */
export class LearnerLimitReached extends Error {}

export class SimBackend implements ClusterBackend {
  readonly name = 'sim' as const;
  private readonly children = new Map<string, Child>();
  private readonly crashes = new Map<string, number[]>();
  private readonly lastFailure = new Map<string, string>();
  private readonly exitListeners: ((learnerId: string, message: string) => void)[] = [];
  private readonly heapMb: number;
  private closed = false;
  private restoreSequence = 0;

  constructor(private readonly options: SimBackendOptions) {
    this.heapMb = options.heapMb ?? DEFAULT_CLUSTER_HEAP_MB;
  }

  describe(): string {
    return 'embedded cluster (one per learner, in a process of its own)';
  }

  onClusterNotice(listener: (learnerId: string, message: string) => void): void {
    this.exitListeners.push(listener);
  }

  /** Where a learner's cluster state is kept: beside their home, never inside it. */
  stateDir(learnerId: string): string {
    return path.join(learnerWorkspace(this.options.dataDir, learnerId).root, 'cluster');
  }

  /** Pids of the running cluster processes, by learner (for benchmarks and tests). */
  pids(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [id, c] of this.children) if (c.proc.pid !== undefined && !c.stopping) out.set(id, c.proc.pid);
    return out;
  }

  async acquire(learnerId: string, retried = false): Promise<ClusterAccess> {
    if (this.closed) throw new Error('the playground is shutting down');
    const ws = learnerWorkspace(this.options.dataDir, learnerId);
    let child = this.children.get(learnerId);
    if (child?.stopping) {
      await child.stopping;
      child = this.children.get(learnerId);
    }
    if (!child) {
      const recent = this.recentCrashes(learnerId);
      if (recent >= MAX_CRASHES) {
        throw new Error(`your cluster stopped ${recent} times in the last ${CRASH_WINDOW_MS / 60_000} minutes (${this.lastFailure.get(learnerId) ?? 'unknown reason'}); it is not restarted for now. Your saved state is kept.`);
      }
      const max = this.options.maxClusters;
      if (max !== undefined && this.children.size >= max) {
        this.options.logger?.warn({ learnerId, running: this.children.size, max }, 'learner limit reached: cluster not started');
        throw new LearnerLimitReached(limitReachedMessage(max, this.options.maxClustersDerived ?? false));
      }
      child = this.spawn(learnerId);
    }
    let url: string;
    try {
      ({ url } = await child.ready);
    } catch (err) {
      // Released (idle) while it was starting for this caller: start it again, once.
      if (err instanceof StoppedWhileStarting && !retried) return this.acquire(learnerId, true);
      throw err;
    }
    return { kubeconfigPath: ws.kubeconfigPath, context: 'playground', env: { KUBECONFIG: ws.kubeconfigPath }, pathPrepend: [], revision: url };
  }

  /** The server's own copy of the kubeconfig, outside the learner's home; rewritten only when it changed. */
  private writeKubeconfig(learnerId: string, kubeconfig: string): void {
    const file = learnerWorkspace(this.options.dataDir, learnerId).kubeconfigPath;
    let current: string | undefined;
    try {
      current = fs.readFileSync(file, 'utf8');
    } catch {
      current = undefined;
    }
    if (current === kubeconfig) return;
    // Rewritten in place, never replaced by a rename: a sandboxed shell has this very file
    // bind-mounted (a new inode would leave it the old port), and its owner and mode are the
    // sandbox's to set. It changes only when the cluster restarted, when the old one is gone anyway.
    fs.writeFileSync(file, kubeconfig, { mode: 0o600 });
  }

  private notice(learnerId: string, message: string, log?: Logger): void {
    for (const l of this.exitListeners) {
      try {
        l(learnerId, message);
      } catch (err) {
        log?.error({ err }, 'cluster notice listener failed');
      }
    }
  }

  private spawn(learnerId: string, restarting = false): Child {
    const peerGuard = this.options.peerGuard?.(learnerId);
    const config: ChildConfig = {
      stateDir: this.stateDir(learnerId),
      host: '127.0.0.1',
      nodeBlockClaimsDir: this.options.nodeBlockClaimsDir ?? defaultNodeBlockClaimsDir(),
      ...(peerGuard ? { peerGuard } : {}),
    };
    const entry = this.options.childEntry ? { file: this.options.childEntry, execArgv: [] } : childEntry();
    const proc = fork(entry.file, [], {
      execArgv: [...entry.execArgv, `--max-old-space-size=${this.heapMb}`, '--max-semi-space-size=1'],
      // Not the server's environment (its token among it): only what node and tsx need.
      env: {
        ...pick(process.env, ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ', 'NODE_ENV']),
        PLAYGROUND_SIM_CHILD: JSON.stringify(config),
        // Fewer malloc arenas: a child's RSS is most of a learner's memory.
        GLIBC_TUNABLES: 'glibc.malloc.arena_max=2:glibc.malloc.trim_threshold=131072',
      },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'json',
      // A session of its own: where the kernel groups scheduling by session (autogroup), the
      // clusters would otherwise share the server's group, and with hundreds of them busy the
      // server, which relays every learner's keystrokes, waited behind them (measured: its event
      // loop's p99 delay 43–107 ms with 200 learners, 12–14 ms with this). The child still ends
      // with the server: it stops when the IPC channel closes.
      detached: true,
    });
    const log = this.options.logger?.child({ learnerId, pid: proc.pid });
    // Learners' work runs behind the server that relays their keystrokes (scheduling.ts).
    try {
      if (proc.pid !== undefined) os.setPriority(proc.pid, Math.min(19, os.getPriority() + LEARNER_WORK_NICE));
    } catch (err) {
      log?.debug({ err }, 'cluster priority not lowered');
    }
    let onReady!: (v: { url: string; kubeconfig: string }) => void;
    let onFailed!: (e: Error) => void;
    const ready = new Promise<{ url: string; kubeconfig: string }>((resolve, reject) => {
      onReady = resolve;
      onFailed = reject;
    });
    ready.catch(() => {}); // awaited by acquire; a child nobody waits for must not count as unhandled
    const child: Child = { proc, ready, stopping: undefined, exited: new Promise((resolve) => proc.once('exit', () => resolve())), stderr: '' };
    this.children.set(learnerId, child);
    const startTimer = setTimeout(() => {
      onFailed(new Error(`the cluster did not start within ${(this.options.startTimeoutMs ?? 60_000) / 1000} s`));
      proc.kill('SIGKILL');
    }, this.options.startTimeoutMs ?? 60_000);
    startTimer.unref();
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (d: string) => {
      child.stderr = (child.stderr + d).slice(-STDERR_TAIL);
    });
    proc.on('message', (m: ChildMessage) => {
      if (m?.type === 'ready') {
        clearTimeout(startTimer);
        log?.info({ url: m.url, restoredObjects: m.restored.objects, replayed: m.restored.replayed }, 'embedded cluster ready');
        // Before anyone is told it is ready: a restarted cluster listens on a new port, and the learner's kubectl reads this file.
        try {
          this.writeKubeconfig(learnerId, m.kubeconfig);
        } catch (err) {
          onFailed(new Error(`the cluster's kubeconfig cannot be written: ${(err as Error).message}`));
          return;
        }
        onReady({ url: m.url, kubeconfig: m.kubeconfig });
        if (restarting) this.notice(learnerId, 'Your cluster is running again.', log);
      } else if (m?.type === 'failed') {
        clearTimeout(startTimer);
        onFailed(new Error(`the cluster could not start: ${m.message}`));
      } else if (m?.type === 'warn') {
        log?.warn(m.message);
      }
    });
    proc.on('error', (err) => log?.error({ err }, 'embedded cluster process error'));
    proc.once('exit', (code, signal) => {
      clearTimeout(startTimer);
      if (this.children.get(learnerId) === child) this.children.delete(learnerId);
      if (child.stopping) return onFailed(new StoppedWhileStarting());
      const reason = describeExit(code, signal, child.stderr);
      onFailed(new Error(`the cluster stopped (${reason})`));
      log?.error({ code, signal, stderr: child.stderr.slice(-1024) }, `embedded cluster process ended unexpectedly: ${reason}`);
      this.lastFailure.set(learnerId, reason);
      const times = [...(this.crashes.get(learnerId) ?? []).filter((t) => t > Date.now() - CRASH_WINDOW_MS), Date.now()];
      this.crashes.set(learnerId, times);
      const restart = !this.closed && times.length < MAX_CRASHES;
      const message = restart
        ? `Your cluster stopped unexpectedly (${reason}). It is restarting from its saved state; the last request may not have been applied.`
        : `Your cluster stopped unexpectedly (${reason}), ${times.length} times in a few minutes: it is not restarted for now. Your saved state is kept.`;
      this.notice(learnerId, message, log);
      if (restart) {
        const again = this.spawn(learnerId, true);
        again.ready.catch((err: unknown) => log?.error({ err }, 'embedded cluster restart failed'));
      }
    });
    return child;
  }

  /**
   * Replaces the learner's cluster state with a captured one (a step's starting state) in place:
   * same process, same address and kubeconfig; watches see the changes as events.
   */
  async restoreState(learnerId: string, state: { file: string; fromBlock: string; capturedAt: number }): Promise<{ ms: number; nodeBlock: string; counts: Record<string, number> }> {
    await this.acquire(learnerId);
    const child = this.children.get(learnerId);
    if (!child || child.stopping || !child.proc.connected) throw new Error('the cluster stopped before its state could be replaced');
    const id = ++this.restoreSequence;
    return new Promise((resolve, reject) => {
      const onMessage = (m: ChildMessage) => {
        if ((m?.type !== 'restored' && m?.type !== 'restore-failed') || m.id !== id) return;
        done();
        if (m.type === 'restored') resolve({ ms: m.ms, nodeBlock: m.nodeBlock, counts: m.counts });
        else reject(new Error(`the cluster's state could not be replaced: ${m.message}`));
      };
      const onExit = () => {
        done();
        reject(new Error('the cluster stopped while its state was being replaced'));
      };
      const done = () => {
        child.proc.off('message', onMessage);
        child.proc.off('exit', onExit);
      };
      child.proc.on('message', onMessage);
      child.proc.once('exit', onExit);
      const m: ParentMessage = { type: 'restore', id, ...state };
      child.proc.send(m, (err) => {
        if (err) onExit();
      });
    });
  }

  private recentCrashes(learnerId: string): number {
    return (this.crashes.get(learnerId) ?? []).filter((t) => t > Date.now() - CRASH_WINDOW_MS).length;
  }

  /** Stops the learner's cluster; its state stays on disk for the next acquire. */
  async release(learnerId: string): Promise<void> {
    const child = this.children.get(learnerId);
    if (!child) return;
    child.stopping ??= (async () => {
      const killTimer = setTimeout(() => child.proc.kill('SIGKILL'), STOP_GRACE_MS);
      killTimer.unref();
      if (child.proc.connected) {
        const m: ParentMessage = { type: 'stop' };
        child.proc.send(m, (err) => {
          if (err) child.proc.kill('SIGKILL');
        });
      } else if (child.proc.exitCode === null && child.proc.signalCode === null) {
        child.proc.kill('SIGTERM');
      }
      await child.exited;
      clearTimeout(killTimer);
      if (this.children.get(learnerId) === child) this.children.delete(learnerId);
    })();
    await child.stopping;
  }

  async reset(learnerId: string): Promise<void> {
    const wasRunning = this.children.has(learnerId);
    await this.release(learnerId);
    fs.rmSync(this.stateDir(learnerId), { recursive: true, force: true });
    this.crashes.delete(learnerId);
    if (!wasRunning) return;
    await this.acquire(learnerId);
    this.notice(learnerId, 'Your instructor reset your cluster: it runs again, empty.');
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.children.keys()].map((id) => this.release(id)));
  }
}

function pick(env: NodeJS.ProcessEnv, names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of names) if (env[n] !== undefined) out[n] = env[n]!;
  return out;
}

class StoppedWhileStarting extends Error {
  constructor() {
    super('the cluster was stopped while it started');
  }
}

/** A sentence about why a child ended, from its exit and the last thing it printed. */
function describeExit(code: number | null, signal: NodeJS.Signals | null, stderr: string): string {
  if (/out of memory|Allocation failed|heap limit/i.test(stderr)) return 'out of memory';
  if (signal) return `killed by ${signal}`;
  const last = stderr.trim().split('\n').pop()?.trim();
  return `exit code ${code}${last ? `: ${last.slice(0, 200)}` : ''}`;
}
