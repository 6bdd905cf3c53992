/**
 * The small Kubernetes API client istioctl needs: the kubeconfig's cluster and credentials
 * (server/cluster/kubeconfig.ts, as kubectl reads them), JSON reads, lists, server-side apply
 * and deletes over one keep-alive agent.
 */
import https from 'node:https';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Kubeconfig } from '../../../../cluster/kubeconfig.js';
import type { KubeObject } from '../manifests/objects.js';

/** The response header the embedded cluster puts on /version (server/sim/apiserver/server.ts). */
export const EMBEDDED_MARKER_HEADER = 'x-embedded-cluster';

export class ApiStatusError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly reason?: string,
  ) {
    super(message);
  }
}

export interface ResourceRef {
  group: string;
  version: string;
  plural: string;
  namespaced: boolean;
}

/** The kinds istioctl reads or writes, by apiVersion/kind. */
const KINDS: Record<string, ResourceRef> = {
  'v1/Namespace': { group: '', version: 'v1', plural: 'namespaces', namespaced: false },
  'v1/ServiceAccount': { group: '', version: 'v1', plural: 'serviceaccounts', namespaced: true },
  'v1/Service': { group: '', version: 'v1', plural: 'services', namespaced: true },
  'v1/ConfigMap': { group: '', version: 'v1', plural: 'configmaps', namespaced: true },
  'v1/Node': { group: '', version: 'v1', plural: 'nodes', namespaced: false },
  'v1/Pod': { group: '', version: 'v1', plural: 'pods', namespaced: true },
  'v1/Secret': { group: '', version: 'v1', plural: 'secrets', namespaced: true },
  'apps/v1/Deployment': { group: 'apps', version: 'v1', plural: 'deployments', namespaced: true },
  'policy/v1/PodDisruptionBudget': { group: 'policy', version: 'v1', plural: 'poddisruptionbudgets', namespaced: true },
  'autoscaling/v2/HorizontalPodAutoscaler': { group: 'autoscaling', version: 'v2', plural: 'horizontalpodautoscalers', namespaced: true },
  'rbac.authorization.k8s.io/v1/Role': { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'roles', namespaced: true },
  'rbac.authorization.k8s.io/v1/RoleBinding': { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'rolebindings', namespaced: true },
  'rbac.authorization.k8s.io/v1/ClusterRole': { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'clusterroles', namespaced: false },
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'clusterrolebindings', namespaced: false },
  'admissionregistration.k8s.io/v1/MutatingWebhookConfiguration': { group: 'admissionregistration.k8s.io', version: 'v1', plural: 'mutatingwebhookconfigurations', namespaced: false },
  'admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration': { group: 'admissionregistration.k8s.io', version: 'v1', plural: 'validatingwebhookconfigurations', namespaced: false },
  'apiextensions.k8s.io/v1/CustomResourceDefinition': { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', namespaced: false },
  'networking.istio.io/v1/VirtualService': { group: 'networking.istio.io', version: 'v1', plural: 'virtualservices', namespaced: true },
  'networking.istio.io/v1/DestinationRule': { group: 'networking.istio.io', version: 'v1', plural: 'destinationrules', namespaced: true },
  'networking.istio.io/v1/Gateway': { group: 'networking.istio.io', version: 'v1', plural: 'gateways', namespaced: true },
  'networking.istio.io/v1/ServiceEntry': { group: 'networking.istio.io', version: 'v1', plural: 'serviceentries', namespaced: true },
};

export function resourceOf(apiVersion: string, kind: string): ResourceRef & { apiVersion: string; kind: string } {
  const ref = KINDS[`${apiVersion}/${kind}`];
  if (!ref) throw new Error(`istioctl (embedded cluster) does not handle ${apiVersion} ${kind}`);
  return { ...ref, apiVersion, kind };
}

function collectionPath(ref: ResourceRef, namespace?: string): string {
  const prefix = ref.group ? `/apis/${ref.group}/${ref.version}` : `/api/${ref.version}`;
  return ref.namespaced && namespace ? `${prefix}/namespaces/${encodeURIComponent(namespace)}/${ref.plural}` : `${prefix}/${ref.plural}`;
}

export interface ClientOptions {
  kubeconfig?: string;
  context?: string;
}

/** The file kubectl would read: --kubeconfig, then the first KUBECONFIG entry that exists, then ~/.kube/config. */
export function kubeconfigPath(flag?: string): string {
  if (flag) return flag;
  const env = process.env.KUBECONFIG;
  if (env) return env.split(path.delimiter).find((p) => p) ?? env;
  return path.join(os.homedir(), '.kube', 'config');
}

export class KubeClient {
  private readonly agent: https.Agent;
  readonly server: URL;

  private constructor(
    private readonly kc: Kubeconfig,
    readonly contextName: string,
  ) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error(`context "${contextName}" has no cluster`);
    this.server = new URL(cluster.server);
    this.agent = new https.Agent({ keepAlive: true, maxSockets: 8 });
  }

  static load(opts: ClientOptions): KubeClient {
    const file = kubeconfigPath(opts.kubeconfig);
    const kc = new Kubeconfig();
    kc.loadFromFile(file);
    if (opts.context) {
      if (!kc.getContextObject(opts.context)) throw new Error(`context "${opts.context}" does not exist`);
      kc.setCurrentContext(opts.context);
    }
    const current = kc.getCurrentContext();
    if (!current || !kc.getContextObject(current)) throw new Error('invalid configuration: no configuration has been provided, try setting KUBERNETES_MASTER environment variable');
    return new KubeClient(kc, current);
  }

  close(): void {
    this.agent.destroy();
  }

  /** The current context's namespace, or `default` (what cobra's -n falls back to). */
  get defaultNamespace(): string {
    return this.kc.getContextObject(this.contextName)?.namespace || 'default';
  }

  /** TLS and credentials for a connection of our own to the API server (a WebSocket upgrade). */
  async connectionOptions(): Promise<https.RequestOptions> {
    const opts: https.RequestOptions = { headers: { 'User-Agent': 'istioctl/1.30.3' } };
    await this.kc.applyToHTTPSOptions(opts);
    return opts;
  }

  async request(method: string, urlPath: string, body?: unknown, contentType = 'application/json'): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
    const url = new URL(urlPath, this.server);
    const opts: https.RequestOptions = { method, headers: { Accept: 'application/json', 'User-Agent': 'istioctl/1.30.3' } };
    await this.kc.applyToHTTPSOptions(opts);
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    if (payload !== undefined) Object.assign(opts.headers as Record<string, string>, { 'Content-Type': contentType, 'Content-Length': String(Buffer.byteLength(payload)) });
    const lib = url.protocol === 'http:' ? http : https;
    if (lib === https) opts.agent ??= this.agent;
    return new Promise((resolve, reject) => {
      const req = lib.request(url, opts, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.setTimeout(30_000, () => req.destroy(new Error('request timed out')));
      req.on('error', reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  private async json<T>(method: string, urlPath: string, body?: unknown, contentType?: string): Promise<T> {
    const res = await this.request(method, urlPath, body, contentType);
    if (res.status >= 400) {
      let message = res.text;
      let reason: string | undefined;
      try {
        const s = JSON.parse(res.text) as { message?: string; reason?: string };
        message = s.message ?? message;
        reason = s.reason;
      } catch {
        // not a Status: keep the text
      }
      throw new ApiStatusError(res.status, message, reason);
    }
    return JSON.parse(res.text) as T;
  }

  /** Whether the server is an embedded playground cluster (its /version carries the marker). */
  async isEmbedded(): Promise<boolean> {
    const res = await this.request('GET', '/version');
    return res.status === 200 && res.headers[EMBEDDED_MARKER_HEADER] !== undefined;
  }

  async list(ref: ResourceRef & { apiVersion: string; kind: string }, namespace?: string, labelSelector?: string): Promise<KubeObject[]> {
    const q = labelSelector ? `?labelSelector=${encodeURIComponent(labelSelector)}` : '';
    try {
      // List items carry no apiVersion/kind on the wire; analyzers and messages need them.
      return (await this.json<{ items: KubeObject[] }>('GET', collectionPath(ref, namespace) + q)).items.map((o) => ({ ...o, apiVersion: ref.apiVersion, kind: ref.kind }));
    } catch (e) {
      // A kind whose CRD is not installed lists as nothing, as istioctl's informers see it.
      if (e instanceof ApiStatusError && e.code === 404 && ref.group.endsWith('istio.io')) return [];
      throw e;
    }
  }

  async get(ref: ResourceRef, name: string, namespace?: string): Promise<KubeObject | undefined> {
    try {
      return await this.json<KubeObject>('GET', `${collectionPath(ref, namespace)}/${encodeURIComponent(name)}`);
    } catch (e) {
      if (e instanceof ApiStatusError && e.code === 404) return undefined;
      throw e;
    }
  }

  /** Server-side apply, as istioctl installs (field manager istio-operator, conflicts forced). */
  async apply(obj: KubeObject): Promise<KubeObject> {
    const ref = resourceOf(obj.apiVersion, obj.kind);
    const p = `${collectionPath(ref, obj.metadata.namespace)}/${encodeURIComponent(obj.metadata.name)}?fieldManager=istio-operator&force=true`;
    return this.json<KubeObject>('PATCH', p, obj, 'application/apply-patch+yaml');
  }

  /** Foreground-free delete; false when it was already gone. */
  async delete(ref: ResourceRef, name: string, namespace?: string): Promise<boolean> {
    try {
      await this.json('DELETE', `${collectionPath(ref, namespace)}/${encodeURIComponent(name)}`, { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' });
      return true;
    } catch (e) {
      if (e instanceof ApiStatusError && e.code === 404) return false;
      throw e;
    }
  }
}
