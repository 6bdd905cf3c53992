/**
 * Any existing cluster, named by a kubeconfig file and context (kubeadm, cloud, kind).
 * Each learner gets a private copy of the kubeconfig pinned to the configured context, so
 * `kubectl config use-context` in one terminal changes nothing for anyone else.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { Kubeconfig } from './kubeconfig.js';
import type { ClusterAccess, ClusterBackend } from './backend.js';
import { learnerWorkspace } from '../learners/workspace.js';
import { fetchedIstioBin } from './istio-release-dir.js';
import type { LearnerNamespaces } from './learner-namespaces.js';

export interface KubeconfigBackendOptions {
  kubeconfig: string;
  context?: string;
  dataDir: string;
  /** Each learner gets a namespace and a ServiceAccount token bound to it (learner-namespaces.ts) instead of a copy of this kubeconfig. */
  learnerNamespaces?: boolean;
  logger?: Logger;
  /** Overrides the description's "cluster from <file>" (the kind backend names its cluster). */
  label?: string;
}

export class KubeconfigBackend implements ClusterBackend {
  readonly name = 'kubeconfig' as const;
  private readonly kc: Kubeconfig;
  private readonly context: string;
  private namespaces: Promise<LearnerNamespaces> | undefined;

  constructor(private readonly options: KubeconfigBackendOptions) {
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
    const where = `${this.options.label ?? `cluster from ${this.options.kubeconfig}`}, context ${this.context}${server ? ` (${server})` : ''}`;
    return this.options.learnerNamespaces ? `${where}, a namespace per learner` : where;
  }

  async acquire(learnerId: string): Promise<ClusterAccess> {
    const ws = learnerWorkspace(this.options.dataDir, learnerId);
    // A real cluster needs the real istioctl: lessons' `curl -L "$ISTIO_DOWNLOAD_URL" | sh -` fetches Istio's own release,
    // and scripts/fetch-istio.sh's copy (when fetched) is on PATH from the start.
    const env: Record<string, string> = { KUBECONFIG: ws.kubeconfigPath, ISTIO_DOWNLOAD_URL: 'https://istio.io/downloadIstio' };
    const istioBin = fetchedIstioBin(this.options.dataDir);
    const pathPrepend = istioBin ? [istioBin] : [];
    const release = istioBin ? path.dirname(istioBin) : undefined;
    const shared = release ? { sharedDirs: [release] } : {};
    if (this.options.learnerNamespaces) {
      // Istio is the instructor's on a shared cluster, download included: the release is in the home already.
      if (release) linkRelease(ws.home, release);
      // A fresh token at each shell start: a learner who comes back the next day is not locked out.
      const credentials = await (await this.learnerNamespaces()).provision(learnerId);
      fs.writeFileSync(ws.kubeconfigPath, credentials.kubeconfig, { mode: 0o600 });
      this.options.logger?.info({ namespace: credentials.namespace, expires: credentials.expires.toISOString() }, 'learner namespace ready');
      return { kubeconfigPath: ws.kubeconfigPath, context: credentials.context, env, pathPrepend, ...shared, namespace: credentials.namespace, revision: credentials.expires.toISOString() };
    }
    const copy = new Kubeconfig();
    copy.loadFromString(this.kc.exportConfig());
    copy.setCurrentContext(this.context);
    fs.writeFileSync(ws.kubeconfigPath, embedFiles(copy.exportConfig()), { mode: 0o600 });
    return { kubeconfigPath: ws.kubeconfigPath, context: this.context, env, pathPrepend, ...shared };
  }

  /** client-node's full client is loaded only in namespace-per-learner mode. */
  private learnerNamespaces(): Promise<LearnerNamespaces> {
    this.namespaces ??= import('./learner-namespaces.js').then(({ LearnerNamespaces }) => LearnerNamespaces.fromFile(this.options.kubeconfig, this.context));
    return this.namespaces;
  }

  async release(): Promise<void> {}

  async close(): Promise<void> {}
}

/** `~/istio-<version>` → the fetched release (read-only, shared), unless the learner has made their own. */
function linkRelease(home: string, release: string): void {
  const link = path.join(home, path.basename(release));
  try {
    fs.lstatSync(link);
  } catch {
    fs.symlinkSync(release, link);
  }
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
