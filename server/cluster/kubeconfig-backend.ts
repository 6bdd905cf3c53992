/**
 * Any existing cluster, named by a kubeconfig file and context (kubeadm, cloud, kind).
 * Each learner gets a private copy of the kubeconfig pinned to the configured context, so
 * `kubectl config use-context` in one terminal changes nothing for anyone else.
 */
import fs from 'node:fs';
import { Kubeconfig } from './kubeconfig.js';
import type { ClusterAccess, ClusterBackend } from './backend.js';
import { learnerWorkspace } from '../learners/workspace.js';

export class KubeconfigBackend implements ClusterBackend {
  readonly name = 'kubeconfig' as const;
  private readonly kc: Kubeconfig;
  private readonly context: string;

  constructor(private readonly options: { kubeconfig: string; context?: string; dataDir: string }) {
    if (!fs.existsSync(options.kubeconfig)) throw new Error(`kubeconfig ${options.kubeconfig} does not exist`);
    this.kc = new Kubeconfig();
    try {
      // loadFromFile makes certificate and key paths absolute, so the copy still finds them.
      this.kc.loadFromFile(options.kubeconfig);
    } catch (err) {
      throw new Error(`kubeconfig ${options.kubeconfig} cannot be read: ${(err as Error).message}`);
    }
    const context = options.context ?? this.kc.getCurrentContext();
    if (!context) throw new Error(`kubeconfig ${options.kubeconfig} has no current context; name one with --context`);
    if (!this.kc.getContextObject(context)) {
      const known = this.kc.getContexts().map((c) => c.name).join(', ') || 'none';
      throw new Error(`context "${context}" is not in ${options.kubeconfig} (contexts: ${known})`);
    }
    this.context = context;
  }

  describe(): string {
    const cluster = this.kc.getContextObject(this.context)?.cluster;
    const server = cluster ? this.kc.getCluster(cluster)?.server : undefined;
    return `cluster from ${this.options.kubeconfig}, context ${this.context}${server ? ` (${server})` : ''}`;
  }

  async acquire(learnerId: string): Promise<ClusterAccess> {
    const ws = learnerWorkspace(this.options.dataDir, learnerId);
    const copy = new Kubeconfig();
    copy.loadFromString(this.kc.exportConfig());
    copy.setCurrentContext(this.context);
    fs.writeFileSync(ws.kubeconfigPath, copy.exportConfig(), { mode: 0o600 });
    return { kubeconfigPath: ws.kubeconfigPath, context: this.context, env: { KUBECONFIG: ws.kubeconfigPath }, pathPrepend: [] };
  }

  async release(): Promise<void> {}

  async close(): Promise<void> {}
}
