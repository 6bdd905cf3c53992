/**
 * kind (Kubernetes in Docker) as a backend: finds or creates the configured kind cluster — the
 * tutorial's shape, one control plane and two workers, the ingress gateway's pinned NodePorts
 * published on the host — and hands learners its kubeconfig (`kind get kubeconfig --name`).
 *
 * Shared (default): one cluster, created at start-up, for everyone (with --learner-namespaces,
 * a namespace each). Per-learner: a cluster per learner, created on their first terminal, with
 * host ports of their own. Creating a cluster takes minutes (the node image pull dominates): its
 * stages, read from kind's output, are the page's progress bar and the server log's lines.
 * Clusters outlive the server (they are Docker containers): a restart finds them by name.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from 'pino';
import type { ClusterAccess, ClusterBackend, ClusterStatus } from './backend.js';
import { KubeconfigBackend } from './kubeconfig-backend.js';
import { findOnPath } from './tools.js';
import { KIND_NODE_IMAGE, ingressNodePortOverlay, kindClusterConfig } from './kind/config.js';
import { INSTALL_KIND_HINT, KindError, explainKindFailure } from './kind/errors.js';
import { KindProgressParser } from './kind/progress.js';
import { runKind } from './kind/runner.js';

export interface KindBackendOptions {
  clusterName: string;
  mode: 'shared' | 'per-learner';
  dataDir: string;
  /** Host port of the http2 NodePort (https: +1); per-learner clusters take the next pairs. */
  hostPort: number;
  /** Deadline of `kind create cluster`. */
  timeoutMs: number;
  learnerNamespaces?: boolean;
  logger?: Logger;
  /** The kind executable; found on `searchPath` (default: PATH) when absent. */
  kind?: string;
  searchPath?: string;
  nodeImage?: string;
  /** Deadline of the quick commands (`kind get …`). */
  quickTimeoutMs?: number;
}

interface KindCluster {
  status: ClusterStatus;
  ready: Promise<KubeconfigBackend>;
  backend?: KubeconfigBackend;
}

export class KindBackend implements ClusterBackend {
  readonly name = 'kind' as const;
  private readonly clusters = new Map<string, KindCluster>();
  private readonly dir: string;
  private closed = false;

  constructor(private readonly options: KindBackendOptions) {
    this.dir = path.join(options.dataDir, 'kind');
    // The shared cluster is made at start-up, so the first learner does not wait for the image pull.
    if (options.mode === 'shared') this.cluster(options.clusterName, options.hostPort).ready.catch(() => {});
  }

  describe(): string {
    const { clusterName, mode } = this.options;
    // Once the shared cluster is there, say where its API server is.
    const shared = mode === 'shared' ? this.clusters.get(clusterName)?.backend : undefined;
    if (shared) return shared.describe();
    return mode === 'shared'
      ? `kind cluster "${clusterName}"${this.options.learnerNamespaces ? ', a namespace per learner' : ''}`
      : `a kind cluster per learner (named ${clusterName}-…)`;
  }

  status(learnerId: string): ClusterStatus {
    const cluster = this.clusters.get(this.clusterNameOf(learnerId));
    return cluster ? { ...cluster.status } : { state: 'not-started' };
  }

  async acquire(learnerId: string): Promise<ClusterAccess> {
    const name = this.clusterNameOf(learnerId);
    const hostPort = this.options.mode === 'shared' ? this.options.hostPort : this.options.hostPort + 2 * this.slotOf(learnerId);
    const backend = await this.cluster(name, hostPort).ready;
    return backend.acquire(learnerId);
  }

  /** Clusters stay (they hold the learner's work); `kind delete cluster --name …` removes one. */
  async release(): Promise<void> {}

  async close(): Promise<void> {
    this.closed = true;
  }

  /** Where the generated kind config, the kubeconfig and the Istio overlay of a cluster are written. */
  files(name: string): { config: string; kubeconfig: string; istioOverlay: string } {
    return { config: path.join(this.dir, `${name}.kind.yaml`), kubeconfig: path.join(this.dir, `${name}.kubeconfig`), istioOverlay: path.join(this.dir, 'istio-ingress-nodeports.yaml') };
  }

  clusterNameOf(learnerId: string): string {
    if (this.options.mode === 'shared') return this.options.clusterName;
    return `${this.options.clusterName}-${createHash('sha256').update(learnerId).digest('hex').slice(0, 8)}`;
  }

  /** A learner's host-port pair, kept across restarts so their cluster's mappings stay theirs. */
  private slotOf(learnerId: string): number {
    const file = path.join(this.dir, 'port-slots.json');
    let slots: Record<string, number> = {};
    try {
      slots = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, number>;
    } catch {
      // first learner
    }
    const key = this.clusterNameOf(learnerId);
    if (slots[key] === undefined) {
      const used = new Set(Object.values(slots));
      let slot = 0;
      while (used.has(slot)) slot++;
      if (this.options.hostPort + 2 * slot + 1 > 65535) throw new KindError(`no host ports left for another kind cluster above ${this.options.hostPort}`, 'port-taken');
      slots[key] = slot;
      fs.mkdirSync(this.dir, { recursive: true });
      fs.writeFileSync(file, JSON.stringify(slots, null, 2));
    }
    return slots[key]!;
  }

  private cluster(name: string, hostPort: number): KindCluster {
    let cluster = this.clusters.get(name);
    if (cluster && cluster.status.state !== 'failed') return cluster;
    const status: ClusterStatus = { state: 'preparing', percent: 0, stage: 'Looking for the kind cluster' };
    cluster = { status, ready: this.ensure(name, hostPort, status) };
    this.clusters.set(name, cluster);
    const made = cluster;
    cluster.ready.then(
      (backend) => {
        made.backend = backend;
        Object.assign(status, { state: 'ready', percent: 100, stage: undefined });
      },
      (err: unknown) => {
        Object.assign(status, { state: 'failed', message: (err as Error).message });
        this.options.logger?.error({ cluster: name, reason: (err as KindError).reason }, (err as Error).message);
      },
    );
    return cluster;
  }

  private async ensure(name: string, hostPort: number, status: ClusterStatus): Promise<KubeconfigBackend> {
    const log = this.options.logger?.child({ cluster: name });
    const kind = this.options.kind ?? findOnPath('kind', this.options.searchPath ?? process.env.PATH ?? '');
    if (!kind) throw new KindError(`kind was not found on PATH: ${INSTALL_KIND_HINT}. It also needs Docker.`, 'no-kind');
    const quick = this.options.quickTimeoutMs ?? 30_000;
    const start = (args: string[], timeoutMs: number, onOutput?: (chunk: string) => void) =>
      runKind(kind, args, { timeoutMs, ...(onOutput ? { onOutput } : {}) }).catch((err: unknown) => {
        if ((err as NodeJS.ErrnoException).code === 'EACCES' || (err as NodeJS.ErrnoException).code === 'ENOENT') throw new KindError(`kind at ${kind} cannot be run (${(err as Error).message}): ${INSTALL_KIND_HINT}`, 'no-kind');
        throw err;
      });

    const list = await start(['get', 'clusters'], quick);
    if (list.code !== 0) throw explainKindFailure('list its clusters', list.stderr + list.stdout);
    const existing = list.stdout.split('\n').map((l) => l.trim());
    const files = this.files(name);
    fs.mkdirSync(this.dir, { recursive: true });
    fs.writeFileSync(files.istioOverlay, ingressNodePortOverlay());
    if (existing.includes(name)) {
      log?.info('using the existing kind cluster');
    } else {
      await assertPortsFree([hostPort, hostPort + 1]);
      fs.writeFileSync(files.config, kindClusterConfig({ name, hostPort }));
      log?.info({ config: files.config, hostPorts: [hostPort, hostPort + 1] }, 'creating the kind cluster (the first time, pulling the node image takes minutes)');
      if (this.closed) throw new KindError('the server is stopping', 'kind-failed');
      const parser = new KindProgressParser();
      const update = () => {
        const p = parser.progress();
        if (p.stage && p.stage !== status.stage) log?.info({ stage: p.stage, percent: p.percent }, `kind: ${p.stage}`);
        Object.assign(status, { percent: p.percent, ...(p.stage ? { stage: p.stage } : {}) });
      };
      const created = await start(
        // --kubeconfig: kind leaves the user's ~/.kube/config alone; learners get `kind get kubeconfig`.
        ['create', 'cluster', '--name', name, '--config', files.config, '--image', this.options.nodeImage ?? KIND_NODE_IMAGE, '--kubeconfig', files.kubeconfig, '--wait', '120s'],
        this.options.timeoutMs,
        (chunk) => {
          if (parser.push(chunk)) update();
        },
      ).catch(async (err: unknown) => {
        // A kind stopped at the deadline cleans nothing up: its half-made nodes would pass for the cluster next time.
        if ((err as KindError).reason === 'timeout') {
          const removed = await start(['delete', 'cluster', '--name', name], quick).catch(() => undefined);
          log?.warn({ removed: removed?.code === 0 }, 'removed the half-created kind cluster');
        }
        throw err;
      });
      if (parser.end()) update();
      if (created.code !== 0) {
        const failed = parser.progress().failedStage;
        throw explainKindFailure(`create cluster "${name}"${failed ? ` (failed at: ${failed})` : ''}`, created.stderr + created.stdout);
      }
      log?.info('kind cluster created');
    }
    status.stage = 'Reading the cluster\'s kubeconfig';
    const kc = await start(['get', 'kubeconfig', '--name', name], quick);
    if (kc.code !== 0 || !kc.stdout.trim()) throw explainKindFailure(`give the kubeconfig of cluster "${name}"`, kc.stderr + kc.stdout);
    fs.writeFileSync(files.kubeconfig, kc.stdout, { mode: 0o600 });
    return new KubeconfigBackend({
      kubeconfig: files.kubeconfig,
      context: `kind-${name}`,
      dataDir: this.options.dataDir,
      label: `kind cluster "${name}"`,
      ...(this.options.learnerNamespaces ? { learnerNamespaces: true } : {}),
      ...(this.options.logger ? { logger: this.options.logger } : {}),
    });
  }
}

/** kind would fail late (after the image pull) on a taken port: say so before starting. */
async function assertPortsFree(ports: number[]): Promise<void> {
  for (const port of ports) {
    const problem = await new Promise<string | undefined>((resolve) => {
      const server = net.createServer();
      server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'EADDRINUSE' ? 'in use' : err.code === 'EACCES' ? 'not allowed for this user' : err.message));
      server.listen({ port, host: '0.0.0.0', exclusive: true }, () => server.close(() => resolve(undefined)));
    });
    if (problem) throw new KindError(`host port ${port} is ${problem}: kind publishes the ingress gateway's NodePorts on ports ${ports.join(' and ')}. Free them or choose others with --kind-host-port.`, 'port-taken');
  }
}
