import { KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import type { CheckContext, ScopedObjectApi } from './kinds/types.js';

/** client-node keeps its discovery lookup protected; checks need a kind's scope to default namespaces as kubectl does. */
class ObjectApiWithScope extends KubernetesObjectApi {
  static forConfig(kc: KubeConfig): ObjectApiWithScope {
    const client = kc.makeApiClient(ObjectApiWithScope);
    client.setDefaultNamespace(kc);
    return client;
  }

  async isNamespaced(apiVersion: string, kind: string): Promise<boolean> {
    const resource = await this.resource(apiVersion, kind);
    if (!resource) throw Object.assign(new Error(`unknown kind ${kind} in ${apiVersion}`), { code: 404 });
    return resource.namespaced;
  }

  /** The collection path a watch on this kind uses (all namespaces when none is given). */
  async collectionPath(apiVersion: string, kind: string, namespace?: string): Promise<string> {
    const resource = await this.resource(apiVersion, kind);
    if (!resource) throw Object.assign(new Error(`unknown kind ${kind} in ${apiVersion}`), { code: 404 });
    const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    const ns = resource.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
    return `${base}${ns}/${resource.name}`;
  }
}

type AgentFactory = (cluster: unknown, agentOptions: Record<string, unknown>) => unknown;

/**
 * client-node makes a new HTTPS agent, hence a new TLS handshake, for every request (its
 * `createAgent` is private). Checks run often against one cluster, so each kubeconfig shares one
 * keep-alive agent: a 6x shorter request on the embedded cluster (see bench/checks.bench.ts).
 */
function poolConnections(kc: KubeConfig): void {
  const target = kc as unknown as { createAgent: AgentFactory };
  const original = target.createAgent.bind(kc);
  let agent: unknown;
  target.createAgent = (cluster, agentOptions) => (agent ??= original(cluster, { ...agentOptions, keepAlive: true }));
}

export function loadKubeConfig(kubeconfigPath: string, context?: string): KubeConfig {
  const kc = new KubeConfig();
  poolConnections(kc);
  kc.loadFromFile(kubeconfigPath);
  if (context) {
    if (!kc.getContextObject(context)) {
      const known = kc.getContexts().map((c) => c.name).join(', ') || 'none';
      throw new Error(`context "${context}" is not in ${kubeconfigPath} (contexts: ${known})`);
    }
    kc.setCurrentContext(context);
  }
  return kc;
}

export function objectApi(kc: KubeConfig): ScopedObjectApi {
  const api = ObjectApiWithScope.forConfig(kc);
  return {
    api,
    isNamespaced: (apiVersion, kind) => api.isNamespaced(apiVersion, kind),
    collectionPath: (apiVersion, kind, namespace) => api.collectionPath(apiVersion, kind, namespace),
  };
}

export function createCheckContext(options: {
  kc: KubeConfig;
  transcript?: () => string;
  shell: { cwd: string; env: Record<string, string> };
  signal?: AbortSignal;
}): CheckContext {
  return {
    kc: options.kc,
    objects: objectApi(options.kc),
    transcript: options.transcript ?? (() => ''),
    shell: options.shell,
    ...(options.signal ? { signal: options.signal } : {}),
  };
}
