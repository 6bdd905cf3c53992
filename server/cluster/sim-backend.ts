/**
 * The embedded cluster as a backend: one independent in-process cluster per learner, so
 * nothing one learner does is visible to another, started on first use (well under a second).
 */
import fs from 'node:fs';
import { EmbeddedCluster } from '../sim/cluster.js';
import type { ClusterAccess, ClusterBackend } from './backend.js';
import { learnerWorkspace } from '../learners/workspace.js';

export class SimBackend implements ClusterBackend {
  readonly name = 'sim' as const;
  private readonly clusters = new Map<string, Promise<EmbeddedCluster>>();

  constructor(private readonly options: { dataDir: string }) {}

  describe(): string {
    return 'embedded cluster (one per learner, in-process)';
  }

  /** The learner's running cluster, if any (for step checks and tests). */
  async clusterOf(learnerId: string): Promise<EmbeddedCluster | undefined> {
    return this.clusters.get(learnerId);
  }

  async acquire(learnerId: string): Promise<ClusterAccess> {
    const ws = learnerWorkspace(this.options.dataDir, learnerId);
    let cluster = this.clusters.get(learnerId);
    if (!cluster) {
      const starting = EmbeddedCluster.start({ host: '127.0.0.1', port: 0, workloads: true });
      starting.catch(() => this.clusters.delete(learnerId));
      this.clusters.set(learnerId, starting);
      cluster = starting;
    }
    const started = await cluster;
    fs.writeFileSync(ws.kubeconfigPath, started.kubeconfig(), { mode: 0o600 });
    return { kubeconfigPath: ws.kubeconfigPath, context: 'playground', env: { KUBECONFIG: ws.kubeconfigPath }, pathPrepend: [] };
  }

  async release(learnerId: string): Promise<void> {
    const cluster = this.clusters.get(learnerId);
    this.clusters.delete(learnerId);
    if (cluster) await (await cluster).stop();
  }

  async close(): Promise<void> {
    await Promise.all([...this.clusters.keys()].map((id) => this.release(id)));
  }
}
