/**
 * Many learners on one real cluster: each gets a namespace of their own and a kubeconfig whose
 * credential is a ServiceAccount token bound by RBAC to that namespace (the `admin` ClusterRole
 * there), so one learner's kubectl is Forbidden in another's namespace. Made with the
 * instructor's (admin) kubeconfig through @kubernetes/client-node; loaded only in this mode.
 *
 * Cluster-wide things (Istio's CRDs, istio-system) are the instructor's: learners may read what
 * the tracks' checks and commands look at (nodes, CRDs, istio-system's workloads, the ingress
 * gateway through the API's service proxy), never change them.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import * as k8s from '@kubernetes/client-node';

export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'istio-playground' };
const SERVICE_ACCOUNT = 'learner';
/** Cluster-wide reading every learner needs: `kubectl get nodes`, Istio's CRDs. */
export const CLUSTER_READ_ROLE = 'istio-playground:learner-cluster-read';
/** Reading istio-system (the instructor's Istio) and reaching the ingress gateway through the API. */
export const ISTIO_READ_ROLE = 'istio-playground:learner-istio-read';
const ISTIO_NAMESPACE = 'istio-system';

/** The namespace of a learner: derived from their id by a hash, since the id is their secret. */
export function learnerNamespace(learnerId: string, prefix = 'learner-'): string {
  return `${prefix}${createHash('sha256').update(learnerId).digest('hex').slice(0, 12)}`;
}

export interface LearnerCredentials {
  namespace: string;
  /** A kubeconfig (JSON) with the ServiceAccount's token, the cluster's address and CA, the namespace as its context's default. */
  kubeconfig: string;
  context: string;
  /** When the token expires (TokenRequest's status.expirationTimestamp). */
  expires: Date;
}

export class LearnerNamespaces {
  private readonly core: k8s.CoreV1Api;
  private readonly rbac: k8s.RbacAuthorizationV1Api;
  private clusterRoles: Promise<void> | undefined;

  constructor(
    private readonly admin: k8s.KubeConfig,
    private readonly options: { tokenSeconds?: number; prefix?: string } = {},
  ) {
    this.core = admin.makeApiClient(k8s.CoreV1Api);
    this.rbac = admin.makeApiClient(k8s.RbacAuthorizationV1Api);
  }

  /** Loads the instructor's kubeconfig at one context. */
  static fromFile(file: string, context: string, options?: { tokenSeconds?: number; prefix?: string }): LearnerNamespaces {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(file);
    kc.setCurrentContext(context);
    return new LearnerNamespaces(kc, options);
  }

  namespaceOf(learnerId: string): string {
    return learnerNamespace(learnerId, this.options.prefix);
  }

  /** Makes (or finds) the learner's namespace, ServiceAccount and bindings, and issues a fresh token. */
  async provision(learnerId: string): Promise<LearnerCredentials> {
    const namespace = await this.ensureObjects(learnerId);
    try {
      return await this.issue(namespace);
    } catch (err) {
      throw new Error(`could not issue a token for ServiceAccount ${namespace}/${SERVICE_ACCOUNT} (TokenRequest): ${apiMessage(err)}`);
    }
  }

  /** The namespace, ServiceAccount and RBAC bindings of a learner (idempotent); returns the namespace. */
  async ensureObjects(learnerId: string): Promise<string> {
    const namespace = this.namespaceOf(learnerId);
    try {
      await this.createObjects(namespace);
    } catch (err) {
      throw new Error(`could not prepare namespace ${namespace} for a learner: ${apiMessage(err)}`);
    }
    return namespace;
  }

  private async createObjects(namespace: string): Promise<void> {
    await (this.clusterRoles ??= this.ensureClusterRoles().catch((err: unknown) => {
      this.clusterRoles = undefined;
      throw err;
    }));
    // Sidecar injection is on from the start: labelling a namespace is cluster-scoped, so learners cannot.
    await exists(this.core.createNamespace({ body: { metadata: { name: namespace, labels: { ...MANAGED_BY, 'istio-injection': 'enabled' } } } }));
    await exists(this.core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: SERVICE_ACCOUNT, labels: MANAGED_BY } } }));
    const subjects = [{ kind: 'ServiceAccount', name: SERVICE_ACCOUNT, namespace }];
    await exists(
      this.rbac.createNamespacedRoleBinding({
        namespace,
        body: { metadata: { name: 'learner-admin', labels: MANAGED_BY }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'admin' }, subjects },
      }),
    );
    await exists(
      this.rbac.createClusterRoleBinding({
        body: { metadata: { name: `${CLUSTER_READ_ROLE}:${namespace}`, labels: MANAGED_BY }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: CLUSTER_READ_ROLE }, subjects },
      }),
    );
    // A RoleBinding may name a namespace that does not exist yet (the instructor installs Istio later).
    await exists(
      this.rbac.createNamespacedRoleBinding({
        namespace: ISTIO_NAMESPACE,
        body: { metadata: { name: `${ISTIO_READ_ROLE}:${namespace}`, labels: MANAGED_BY }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: ISTIO_READ_ROLE }, subjects },
      }),
    ).catch((err: unknown) => {
      if (statusOf(err) !== 404) throw err;
    });
  }

  private async issue(namespace: string): Promise<LearnerCredentials> {
    const request = await this.core.createNamespacedServiceAccountToken({
      name: SERVICE_ACCOUNT,
      namespace,
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: [], expirationSeconds: this.options.tokenSeconds ?? 24 * 3600 } },
    });
    const token = request.status?.token;
    if (!token) throw new Error(`the cluster issued no token for ServiceAccount ${namespace}/${SERVICE_ACCOUNT}`);
    const expires = request.status?.expirationTimestamp ? new Date(request.status.expirationTimestamp) : new Date(Date.now() + (this.options.tokenSeconds ?? 86400) * 1000);
    return { namespace, context: `learner@${namespace}`, kubeconfig: this.kubeconfigFor(namespace, token), expires };
  }

  private kubeconfigFor(namespace: string, token: string): string {
    const cluster = this.admin.getCurrentCluster();
    if (!cluster) throw new Error('the instructor kubeconfig has no cluster for its context');
    const caData = cluster.caData ?? (cluster.caFile ? readBase64(cluster.caFile) : undefined);
    const name = `learner@${namespace}`;
    return JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'playground',
          cluster: {
            server: cluster.server,
            ...(caData ? { 'certificate-authority-data': caData } : {}),
            ...(cluster.skipTLSVerify ? { 'insecure-skip-tls-verify': true } : {}),
            ...(cluster.tlsServerName ? { 'tls-server-name': cluster.tlsServerName } : {}),
          },
        },
      ],
      users: [{ name, user: { token } }],
      contexts: [{ name, context: { cluster: 'playground', user: name, namespace } }],
      'current-context': name,
      preferences: {},
    });
  }

  private async ensureClusterRoles(): Promise<void> {
    const read = ['get', 'list', 'watch'];
    const roles: k8s.V1ClusterRole[] = [
      {
        metadata: { name: CLUSTER_READ_ROLE, labels: MANAGED_BY },
        rules: [
          { apiGroups: [''], resources: ['nodes'], verbs: read },
          { apiGroups: ['apiextensions.k8s.io'], resources: ['customresourcedefinitions'], verbs: read },
        ],
      },
      {
        metadata: { name: ISTIO_READ_ROLE, labels: MANAGED_BY },
        rules: [
          { apiGroups: [''], resources: ['pods', 'services', 'endpoints', 'configmaps', 'events'], verbs: read },
          { apiGroups: ['apps'], resources: ['deployments', 'replicasets'], verbs: read },
          // The tracks' gateway checks and `curl` through `kubectl proxy` reach the ingress gateway this way.
          { apiGroups: [''], resources: ['services/proxy'], resourceNames: ['istio-ingressgateway', 'istio-ingressgateway:http2'], verbs: ['get', 'create'] },
        ],
      },
    ];
    for (const body of roles) await exists(this.rbac.createClusterRole({ body }));
  }
}

/** The API server's own sentence from a client-node ApiException (its message also dumps headers). */
export function apiMessage(err: unknown): string {
  const e = err as { code?: number; body?: unknown; message?: string };
  let body = e.body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      // not JSON
    }
  }
  const message = (body as { message?: unknown } | undefined)?.message;
  if (typeof message === 'string') return `${message}${e.code ? ` (HTTP ${e.code})` : ''}`;
  return e.message?.split('\n')[0] ?? String(err);
}

function statusOf(err: unknown): number | undefined {
  return (err as { code?: number }).code;
}

/** Creating what is already there is fine: provisioning is idempotent. */
async function exists(promise: Promise<unknown>): Promise<void> {
  try {
    await promise;
  } catch (err) {
    if (statusOf(err) !== 409) throw err;
  }
}

function readBase64(file: string): string {
  return fs.readFileSync(file).toString('base64');
}
