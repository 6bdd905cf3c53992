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
    fs.writeFileSync(ws.kubeconfigPath, embedFiles(copy.exportConfig()), { mode: 0o600 });
    // A real cluster needs the real istioctl: lessons' `curl -L "$ISTIO_DOWNLOAD_URL" | sh -` fetches Istio's own release.
    const env = { KUBECONFIG: ws.kubeconfigPath, ISTIO_DOWNLOAD_URL: 'https://istio.io/downloadIstio' };
    return { kubeconfigPath: ws.kubeconfigPath, context: this.context, env, pathPrepend: [] };
  }

  async release(): Promise<void> {}

  async close(): Promise<void> {}
}

/**
 * The learner's sandboxed shell sees neither the instructor's certificate files nor their paths:
 * what the kubeconfig names by path goes into the learner's copy as data.
 */
function embedFiles(exported: string): string {
  const doc = JSON.parse(exported) as {
    clusters?: Array<{ cluster: Record<string, unknown> }>;
    users?: Array<{ user: Record<string, unknown> }>;
  };
  const embed = (entry: Record<string, unknown>, fileKey: string) => {
    const file = entry[fileKey];
    if (typeof file !== 'string' || entry[`${fileKey}-data`]) return;
    entry[`${fileKey}-data`] = fs.readFileSync(file).toString('base64');
    delete entry[fileKey];
  };
  for (const { cluster } of doc.clusters ?? []) embed(cluster, 'certificate-authority');
  for (const { user } of doc.users ?? []) {
    embed(user, 'client-certificate');
    embed(user, 'client-key');
  }
  return JSON.stringify(doc);
}
