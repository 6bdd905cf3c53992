/**
 * A kubeconfig file as the server reads it: contexts, the current cluster and user, and the TLS
 * and credentials a request to that cluster needs.
 *
 * It mirrors the part of client-node's KubeConfig the server uses, built from client-node's own
 * pieces (its kubeconfig parsing and its exec-plugin and token-file authenticators), because
 * client-node's KubeConfig module drags in the generated API, a fetch polyfill with URL tables,
 * proxy and OIDC libraries: ~10 MB of memory for a server that mostly talks to its own embedded
 * cluster. What only some kubeconfigs need — the legacy auth-providers (oidc, azure, gcp) and
 * proxies — is loaded when a kubeconfig asks for it (proxies through client-node's KubeConfig itself).
 */
import fs from 'node:fs';
import type http from 'node:http';
import type https from 'node:https';
import path from 'node:path';
import YAML from 'yaml';
import type { Authenticator } from '@kubernetes/client-node/dist/auth.js';
import {
  exportCluster,
  exportContext,
  exportUser,
  newClusters,
  newContexts,
  newUsers,
  type Cluster,
  type Context,
  type User,
} from '@kubernetes/client-node/dist/config_types.js';
import { ExecAuth } from '@kubernetes/client-node/dist/exec_auth.js';
import { FileAuth } from '@kubernetes/client-node/dist/file_auth.js';

export type { Cluster, Context, User };

/** Options of node:https requests that carry a cluster's TLS material and credentials. */
export type RequestOptions = https.RequestOptions;

export class Kubeconfig {
  private clusters: Cluster[] = [];
  private users: User[] = [];
  private contexts: Context[] = [];
  private currentContext = '';
  /** Authenticators keep state (cached exec credentials, token file reads), so one set per kubeconfig. */
  private readonly authenticators: Authenticator[] = [new ExecAuth(), new FileAuth()];
  private providerAuthenticator: Promise<Authenticator | undefined> | undefined;
  private proxyAgent: http.Agent | undefined;

  /** Reads a kubeconfig file; relative certificate and key paths are relative to the file, as kubectl reads them. */
  loadFromFile(file: string): void {
    this.loadFromString(fs.readFileSync(file, 'utf8'));
    const dir = path.dirname(file);
    const absolute = (p: string | undefined) => (p && !path.isAbsolute(p) ? path.join(dir, p) : p);
    for (const c of this.clusters) (c as { caFile?: string }).caFile = absolute(c.caFile);
    for (const u of this.users) Object.assign(u, { certFile: absolute(u.certFile), keyFile: absolute(u.keyFile) });
  }

  loadFromString(text: string): void {
    // YAML 1.1, as kubectl reads kubeconfigs: `yes`/`no` are booleans there (client-node's js-yaml reads strings).
    const doc = (YAML.parse(text, { version: '1.1' }) ?? {}) as Record<string, unknown>;
    if (typeof doc !== 'object' || Array.isArray(doc)) throw new Error('a kubeconfig must be a YAML mapping');
    this.clusters = newClusters(doc.clusters);
    this.users = newUsers(doc.users);
    this.contexts = newContexts(doc.contexts);
    this.currentContext = typeof doc['current-context'] === 'string' ? doc['current-context'] : '';
  }

  getContexts(): Context[] {
    return this.contexts;
  }

  getCurrentContext(): string {
    return this.currentContext;
  }

  setCurrentContext(name: string): void {
    this.currentContext = name;
  }

  getContextObject(name: string): Context | undefined {
    return this.contexts.find((c) => c.name === name);
  }

  getCluster(name: string): Cluster | undefined {
    return this.clusters.find((c) => c.name === name);
  }

  getCurrentCluster(): Cluster | undefined {
    const context = this.getContextObject(this.currentContext);
    return context ? this.getCluster(context.cluster) : undefined;
  }

  getCurrentUser(): User | undefined {
    const context = this.getContextObject(this.currentContext);
    return context ? this.users.find((u) => u.name === context.user) : undefined;
  }

  /**
   * Adds the current context's TLS material, credentials and (for a cluster behind a proxy)
   * agent to request options. Credentials are worked out per call: exec plugins' tokens and
   * token files expire and are refreshed here.
   */
  async applyToHTTPSOptions(opts: RequestOptions): Promise<void> {
    const cluster = this.getCurrentCluster();
    const user = this.getCurrentUser();
    opts.headers ??= {};
    const headers = opts.headers as Record<string, string>;
    if (cluster?.skipTLSVerify) opts.rejectUnauthorized = false;
    if (cluster?.tlsServerName) opts.servername = cluster.tlsServerName;
    const ca = cluster ? fileOrData(cluster.caFile, cluster.caData) : undefined;
    if (ca) opts.ca = ca;
    if (user) {
      const cert = fileOrData(user.certFile, user.certData);
      if (cert) opts.cert = cert;
      const key = fileOrData(user.keyFile, user.keyData);
      if (key) opts.key = key;
      if (user.impersonateUser) headers['Impersonate-User'] = user.impersonateUser;
      const authenticator = this.authenticators.find((a) => a.isAuthProvider(user)) ?? (await this.authProviderFor(user));
      if (authenticator) await authenticator.applyAuthentication(user, opts);
      if (user.token) headers.Authorization = `Bearer ${user.token}`;
      if (user.username) opts.auth = `${user.username}:${user.password ?? ''}`;
    }
    if (cluster?.proxyUrl) opts.agent = await this.proxyAgentFor();
  }

  /** The kubeconfig as JSON (valid YAML), with file paths made absolute. */
  exportConfig(): string {
    return JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: this.clusters.map(exportCluster),
      users: this.users.map(exportUser),
      contexts: this.contexts.map(exportContext),
      preferences: {},
      'current-context': this.currentContext,
    });
  }

  /** The legacy auth-provider plugins, each loaded only by a kubeconfig that names it. */
  private authProviderFor(user: User): Promise<Authenticator | undefined> {
    const name = (user.authProvider as { name?: string } | undefined)?.name;
    if (!name) return Promise.resolve(undefined);
    this.providerAuthenticator ??= (async () => {
      switch (name) {
        case 'oidc':
          return new (await import('@kubernetes/client-node/dist/oidc_auth.js')).OpenIDConnectAuth();
        case 'azure':
          return new (await import('@kubernetes/client-node/dist/azure_auth.js')).AzureAuth();
        case 'gcp':
          return new (await import('@kubernetes/client-node/dist/gcp_auth.js')).GoogleCloudPlatformAuth();
        default:
          throw new Error(`the kubeconfig's auth-provider "${name}" is not supported (use an exec credential plugin)`);
      }
    })();
    return this.providerAuthenticator;
  }

  /**
   * The agent reaching the cluster through its proxy-url (socks5 or HTTP CONNECT): client-node's
   * full KubeConfig builds it, loaded only for a kubeconfig that has a proxy.
   */
  private async proxyAgentFor(): Promise<http.Agent> {
    if (this.proxyAgent) return this.proxyAgent;
    const { KubeConfig } = await import('@kubernetes/client-node/dist/config.js');
    const full = new KubeConfig();
    full.loadFromString(this.exportConfig());
    const opts: RequestOptions = {};
    await full.applyToHTTPSOptions(opts);
    if (!(opts.agent instanceof Object)) throw new Error('no agent for the kubeconfig\'s proxy-url');
    this.proxyAgent = opts.agent as http.Agent;
    return this.proxyAgent;
  }
}

function fileOrData(file: string | undefined, data: string | undefined): Buffer | undefined {
  if (file) return fs.readFileSync(file);
  if (data) return Buffer.from(data, 'base64');
  return undefined;
}
