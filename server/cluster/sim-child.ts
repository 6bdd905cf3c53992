/**
 * One learner's embedded cluster in a process of its own (forked by sim-backend.ts), so that
 * nothing the learner sends it — not even a V8 fatal error, which no worker thread survives
 * (see README, Containment) — reaches the server or another learner's cluster.
 *
 * The cluster's state, bearer token and CA/serving key live in the state directory given by
 * the parent: the state is restored before the child reports ready, every committed change is
 * logged before the API answers, and the kubeconfig stays valid across restarts.
 *
 * IPC: the child sends `{type:'ready', url, kubeconfig, restored}` or `{type:'failed', message}`,
 * and `{type:'warn', message}` for damaged state files; the parent sends `{type:'stop'}`, and
 * `{type:'restore', id, file, …}` (a step's starting state), answered `restored` or `restore-failed`. The
 * child also stops when the parent goes away (IPC disconnect). The same entry runs as a worker
 * thread (messages through parentPort) for the containment benchmark's comparison.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parentPort } from 'node:worker_threads';
import { EmbeddedCluster, type ClusterSnapshot } from '../sim/cluster.js';
import { rebaseState } from '../sim/storage/rebase.js';
import { ClusterPersistence } from '../sim/storage/persistence.js';
import { createServingCert, type ServingCert } from '../sim/apiserver/tls.js';
import { claimNodeBlock, savedNodeBlock } from '../sim/nodes/addresses.js';
import type { PeerGuard } from '../sim/network/peer-uid.js';
import type { KubeObject } from '../sim/types.js';

export interface ChildConfig {
  stateDir: string;
  host: string;
  /** Where node address blocks are claimed machine-wide (nodes/addresses.ts). */
  nodeBlockClaimsDir: string;
  /** Who may connect to the cluster's NodePorts; absent: anyone on the machine. */
  peerGuard?: PeerGuard;
}

export type ChildMessage =
  | { type: 'ready'; url: string; kubeconfig: string; restored: { objects: number; replayed: number } }
  | { type: 'failed'; message: string }
  | { type: 'warn'; message: string }
  | RestoreReply;

export type ParentMessage =
  | { type: 'stop' }
  /** Replace the cluster's state with a step's starting state (cluster.json of a cached step state, see server/steps/). */
  | { type: 'restore'; id: number; file: string; fromBlock: string; capturedAt: number };

export type RestoreReply =
  | { type: 'restored'; id: number; ms: number; nodeBlock: string; counts: { added: number; modified: number; deleted: number; unchanged: number } }
  | { type: 'restore-failed'; id: number; message: string };

/**
 * What a restore leaves as it is: the cluster's own nodes, their heartbeats and their static pods'
 * mirrors (owned by a Node: a state's would name another cluster's nodes, and the GC would drop them).
 */
export const keptOnRestore = (bucket: string, o: Readonly<KubeObject>): boolean =>
  bucket === '/nodes' || bucket === 'coordination.k8s.io/leases' || (bucket === '/pods' && (o.metadata.ownerReferences ?? []).some((r) => r.kind === 'Node'));

interface Identity {
  token: string;
  cert: ServingCert;
}

const IDENTITY = 'identity.json';

/** The token and certificates of the previous run, or new ones written before first use (0600). */
function identity(stateDir: string, host: string, warn: (m: string) => void): Identity {
  const file = path.join(stateDir, IDENTITY);
  try {
    const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<Identity>;
    const c = saved.cert;
    if (typeof saved.token === 'string' && saved.token && c && [c.caPem, c.certPem, c.keyPem].every((p) => typeof p === 'string' && p.includes('-----BEGIN'))) {
      return { token: saved.token, cert: c };
    }
    warn(`${file} is not a cluster identity; the cluster gets a new token and CA (old kubeconfigs stop working)`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') warn(`${file} cannot be read (${(err as Error).message}); the cluster gets a new token and CA`);
  }
  const fresh: Identity = { token: randomBytes(24).toString('hex'), cert: createServingCert([host]) };
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(fresh), { mode: 0o600 });
  fs.renameSync(tmp, file);
  return fresh;
}

function send(m: ChildMessage, then?: () => void): void {
  if (parentPort) {
    parentPort.postMessage(m);
    then?.();
  } else if (process.send) process.send(m, () => then?.());
  else then?.();
}

async function main(): Promise<void> {
  const config = JSON.parse(process.env.PLAYGROUND_SIM_CHILD ?? '{}') as ChildConfig;
  if (!config.stateDir || !config.host || !config.nodeBlockClaimsDir || !(process.send || parentPort)) throw new Error('sim-child is started by the server (sim-backend.ts), not by hand');
  const warn = (message: string) => send({ type: 'warn', message });
  // Listening from the start: a stop asked for while the cluster starts is done once it has started.
  let stopRequested = false;
  let stop = () => {
    stopRequested = true;
  };
  let restore: (m: Extract<ParentMessage, { type: 'restore' }>) => void = (m) => send({ type: 'restore-failed', id: m.id, message: 'the cluster is still starting' });
  const onMessage = (m: ParentMessage) => {
    if (m?.type === 'stop') stop();
    else if (m?.type === 'restore') restore(m);
  };
  if (parentPort) parentPort.on('message', onMessage);
  else process.on('message', onMessage);
  process.on('disconnect', () => stop());
  // A server killed while this child was still loading closed the channel before anyone listened.
  if (!parentPort && !process.connected) stop();
  process.on('SIGTERM', () => stop());
  fs.mkdirSync(config.stateDir, { recursive: true, mode: 0o700 });
  const persistence = new ClusterPersistence(config.stateDir, { warn });
  const id = identity(config.stateDir, config.host, warn);
  const loaded = persistence.load();
  for (const p of loaded.problems) warn(p);

  // A restored cluster keeps the addresses its Node objects carry; a new one claims a free block.
  const saved = savedNodeBlock((loaded.snapshot?.buckets['/nodes'] ?? []) as Parameters<typeof savedNodeBlock>[0]);
  const nodeBlock = claimNodeBlock({ claimsDir: config.nodeBlockClaimsDir, holder: config.stateDir, ...(saved ? { preferred: saved } : {}) });
  if (saved && nodeBlock !== saved) warn(`node addresses ${saved}.0/24 are claimed by another cluster on this machine; this cluster's new nodes use ${nodeBlock}.0/24`);
  const workloads = { nodeBlock, ...(config.peerGuard ? { peerGuard: config.peerGuard } : {}) };
  const cluster = await EmbeddedCluster.start({ host: config.host, port: 0, token: id.token, cert: id.cert, workloads });
  let objects = 0;
  if (loaded.snapshot) {
    cluster.restore({ version: 1, store: loaded.snapshot });
    for (const objs of Object.values(loaded.snapshot.buckets)) objects += objs.length;
  }
  // From here on every committed change reaches the log before its response is written.
  persistence.attach(cluster.store);

  // One restore at a time, in the order asked; the log is suspended meanwhile and the result written as one snapshot.
  let restoring = Promise.resolve();
  restore = (m) => {
    restoring = restoring.then(async () => {
      const started = performance.now();
      try {
        const text = rebaseState(fs.readFileSync(m.file, 'utf8'), m.fromBlock, nodeBlock, Date.now() - m.capturedAt);
        const state = JSON.parse(text) as ClusterSnapshot;
        persistence.suspend();
        let counts: Awaited<ReturnType<typeof cluster.replaceState>>;
        try {
          counts = await cluster.replaceState(state, keptOnRestore);
        } finally {
          persistence.attach(cluster.store);
        }
        // Answered once the new state is on disk: a restore reported done survives a restart.
        send({ type: 'restored', id: m.id, ms: performance.now() - started, nodeBlock, counts });
      } catch (err) {
        send({ type: 'restore-failed', id: m.id, message: err instanceof Error ? err.message : String(err) });
      }
    });
  };

  let stopping: Promise<void> | undefined;
  stop = () =>
    void (stopping ??= (async () => {
      persistence.close(cluster.store);
      await cluster.stop().catch(() => {});
      process.exit(0);
    })());
  if (stopRequested) return stop();
  send({ type: 'ready', url: cluster.url, kubeconfig: cluster.kubeconfig(), restored: { objects, replayed: loaded.replayed } });
}

main().catch((err: unknown) => {
  send({ type: 'failed', message: err instanceof Error ? err.message : String(err) }, () => process.exit(1));
});
