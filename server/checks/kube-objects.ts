/**
 * Reads Kubernetes objects for the step checks: discovery of a kind's resource and scope, read,
 * list, and raw API paths (the service proxy), over one keep-alive connection pool per kubeconfig.
 *
 * client-node's own object API deserializes through its generated model classes, which cost
 * ~14 MB of server memory even bundled; checks only need plain JSON. client-node still does what
 * it is good at: the kubeconfig and its authentication (TLS, tokens, exec plugins).
 */
import http from 'node:http';
import https from 'node:https';
import type { KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
import type { Kubeconfig } from '../cluster/kubeconfig.js';

const REQUEST_TIMEOUT_MS = 10_000;
/** Idle pooled connections are closed after this; the next check opens a new one. */
const IDLE_SOCKET_MS = 30_000;

export interface ApiAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** The API answered with an error status. `code` and `body` are what the check kinds judge. */
export class KubeApiError extends Error {
  constructor(
    readonly code: number,
    readonly body: string,
    message: string,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

/** The cluster serves no such kind in that API version (e.g. its CustomResourceDefinition is not installed). */
export class UnknownKindError extends KubeApiError {
  constructor(apiVersion: string, kind: string) {
    const message = `unknown kind ${kind} in ${apiVersion}`;
    super(404, JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message, reason: 'NotFound', code: 404 }), message);
    this.name = 'UnknownKindError';
  }
}

/** The API server did not answer at all (refused, reset, timed out). Carries no status code on purpose. */
export class ApiUnreachableError extends Error {
  constructor(
    readonly url: URL,
    readonly reason: Error,
    /** What the request was for, when it says more than its URL. */
    purpose?: string,
  ) {
    super(`${purpose ? `${purpose}: ` : ''}request to ${url.href} failed, reason: ${reason.message}`);
    this.name = 'ApiUnreachableError';
  }
}

export interface ApiResource {
  /** The plural resource name used in paths, e.g. `deployments`. */
  name: string;
  namespaced: boolean;
}

interface APIResourceList {
  resources?: { name: string; kind: string; namespaced: boolean }[];
}

interface Pool {
  agent: http.Agent;
  tls: unknown[];
}

const TLS_KEYS = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername'] as const;

function sameTls(a: unknown[], b: unknown[]): boolean {
  return a.every((v, i) => (Buffer.isBuffer(v) && Buffer.isBuffer(b[i]) ? v.equals(b[i] as Buffer) : v === b[i]));
}

function groupVersionPath(apiVersion: string): string {
  const encoded = apiVersion.split('/').map(encodeURIComponent).join('/');
  return apiVersion.includes('/') ? `/apis/${encoded}` : `/api/${encoded}`;
}

export class KubeObjects {
  /** APIResourceLists by group version; a promise so parallel checks share one discovery request. */
  private readonly discovery = new Map<string, Promise<APIResourceList>>();
  private pool: Pool | undefined;

  constructor(private readonly kc: Kubeconfig) {}

  /** The resource serving a kind, as kubectl finds it; re-asks the cluster once when the kind is not known yet (a CRD created since). */
  async resource(apiVersion: string, kind: string): Promise<ApiResource> {
    const cached = this.discovery.has(apiVersion);
    let found = await this.lookUp(apiVersion, kind);
    if (!found && cached) {
      this.discovery.delete(apiVersion);
      found = await this.lookUp(apiVersion, kind);
    }
    if (!found) throw new UnknownKindError(apiVersion, kind);
    return found;
  }

  private async lookUp(apiVersion: string, kind: string): Promise<ApiResource | undefined> {
    let list = this.discovery.get(apiVersion);
    if (!list) {
      list = this.getJson<APIResourceList>(groupVersionPath(apiVersion));
      this.discovery.set(apiVersion, list);
      // Only answers are remembered: an unknown group or an unreachable cluster is asked again next time.
      list.catch(() => this.discovery.get(apiVersion) === list && this.discovery.delete(apiVersion));
    }
    let resources: APIResourceList;
    try {
      resources = await list;
    } catch (err) {
      if (err instanceof KubeApiError && err.code === 404) return undefined;
      // Worded as client-node's object API did, so learners read the same "unreachable" message as before.
      if (err instanceof ApiUnreachableError) throw new ApiUnreachableError(err.url, err.reason, `Failed to fetch resource metadata for ${apiVersion}/${kind}`);
      throw err;
    }
    const r = (resources.resources ?? []).find((res) => res.kind === kind && !res.name.includes('/'));
    return r ? { name: r.name, namespaced: r.namespaced } : undefined;
  }

  async isNamespaced(apiVersion: string, kind: string): Promise<boolean> {
    return (await this.resource(apiVersion, kind)).namespaced;
  }

  /** The collection path of a kind (all namespaces when none is given, or the kind is cluster-scoped). */
  async collectionPath(apiVersion: string, kind: string, namespace?: string): Promise<string> {
    return this.pathOf(apiVersion, await this.resource(apiVersion, kind), namespace);
  }

  private pathOf(apiVersion: string, resource: ApiResource, namespace?: string, name?: string): string {
    const ns = resource.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
    return `${groupVersionPath(apiVersion)}${ns}/${resource.name}${name !== undefined ? `/${encodeURIComponent(name)}` : ''}`;
  }

  /** One object; a missing object is a KubeApiError with code 404. */
  async read<T extends KubernetesObject = KubernetesObject>(apiVersion: string, kind: string, name: string, namespace?: string): Promise<T> {
    return this.onResource(apiVersion, kind, (r) => this.getJson<T>(this.pathOf(apiVersion, r, namespace, name)), name);
  }

  async list<T extends KubernetesObject = KubernetesObject>(apiVersion: string, kind: string, namespace?: string, labelSelector?: string): Promise<KubernetesListObject<T>> {
    const query = labelSelector ? `?${new URLSearchParams({ labelSelector }).toString()}` : '';
    return this.onResource(apiVersion, kind, (r) => this.getJson<KubernetesListObject<T>>(`${this.pathOf(apiVersion, r, namespace)}${query}`));
  }

  /**
   * Runs a request on a kind's resource. A 404 that is not about the named object means the
   * resource itself went away (its CRD was deleted) or moved: discovery is asked again, so a
   * deleted kind reads as unknown rather than as "no such object".
   */
  private async onResource<T>(apiVersion: string, kind: string, call: (r: ApiResource) => Promise<T>, name?: string): Promise<T> {
    const first = await this.resource(apiVersion, kind);
    try {
      return await call(first);
    } catch (err) {
      if (!(err instanceof KubeApiError) || err.code !== 404 || (name !== undefined && statusNames(err.body, name))) throw err;
      this.discovery.delete(apiVersion);
      const again = await this.resource(apiVersion, kind);
      if (again.name === first.name && again.namespaced === first.namespaced) throw err;
      return call(again);
    }
  }

  private async getJson<T>(path: string): Promise<T> {
    const answer = await this.request(path, { headers: { accept: 'application/json' } });
    if (answer.status >= 400) throw statusError(answer.status, answer.body);
    try {
      return JSON.parse(answer.body) as T;
    } catch {
      // Something other than a Kubernetes API server answered (a proxy's or web server's page).
      throw new KubeApiError(answer.status, answer.body, `the server answered ${path} with HTTP ${answer.status} but not with JSON; is it a Kubernetes API server?`);
    }
  }

  /** A request to any API path (any status is an answer); ApiUnreachableError when there is none. */
  async request(path: string, init: { method?: string; headers?: Record<string, string>; body?: string; maxBody?: number } = {}): Promise<ApiAnswer> {
    const url = this.urlOf(path);
    // Re-applied per request: tokens from exec plugins and files expire and are refreshed here.
    const auth: https.RequestOptions = { headers: {} };
    await this.kc.applyToHTTPSOptions(auth);
    const options: https.RequestOptions = {
      method: init.method ?? 'GET',
      headers: { ...(auth.headers as Record<string, string>), ...(init.headers ?? {}) },
      agent: this.agentFor(url, auth),
      timeout: REQUEST_TIMEOUT_MS,
      ...(auth.auth ? { auth: auth.auth } : {}),
    };
    try {
      return await send(url, options, init.body, init.maxBody ?? Infinity);
    } catch (err) {
      // A pooled connection the server closed just as it was reused: the request never reached
      // the server, so a read is sent again once, on a fresh connection, rather than reported.
      const reused = (err as { reusedSocket?: boolean }).reusedSocket;
      if (reused && options.method === 'GET' && (err as NodeJS.ErrnoException).code === 'ECONNRESET') {
        try {
          return await send(url, options, init.body, init.maxBody ?? Infinity);
        } catch (again) {
          throw new ApiUnreachableError(url, again as Error);
        }
      }
      throw new ApiUnreachableError(url, err as Error);
    }
  }

  /** An API path as a URL on the kubeconfig's current cluster. */
  private urlOf(path: string): URL {
    const server = this.kc.getCurrentCluster()?.server;
    if (!server) throw new Error('the kubeconfig names no cluster server');
    return new URL(path, server.endsWith('/') ? server : `${server}/`);
  }

  /**
   * Watches a collection path (`?watch=true`, bookmarks allowed): `onEvent` gets each event's
   * type and object, `onEnd` once, when the server ends the watch, the connection fails or the
   * server refuses it (a KubeApiError). Not called after `abort()`. A watch holds its own
   * connection for as long as it lasts, outside the pool that short requests share.
   */
  async watch(path: string, onEvent: (type: string, object: unknown) => void, onEnd: (err?: Error) => void): Promise<{ abort(): void }> {
    const url = this.urlOf(path);
    url.searchParams.set('watch', 'true');
    url.searchParams.set('allowWatchBookmarks', 'true');
    const options: https.RequestOptions = { headers: { accept: 'application/json' } };
    await this.kc.applyToHTTPSOptions(options);
    options.agent ??= false;
    let ended = false;
    const end = (err?: Error) => {
      if (ended) return;
      ended = true;
      onEnd(err);
    };
    const req = (url.protocol === 'https:' ? https : http).request(url, options, (res) => {
      if ((res.statusCode ?? 0) >= 400) {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => end(statusError(res.statusCode!, Buffer.concat(chunks).toString('utf8'))));
        return;
      }
      // One JSON event per line; a line may span chunks.
      let pending = '';
      res.setEncoding('utf8');
      res.on('data', (text: string) => {
        pending += text;
        let newline: number;
        while ((newline = pending.indexOf('\n')) !== -1) {
          const line = pending.slice(0, newline).trim();
          pending = pending.slice(newline + 1);
          if (!line) continue;
          let event: { type?: string; object?: unknown };
          try {
            event = JSON.parse(line) as typeof event;
          } catch {
            req.destroy(new Error(`the watch on ${url.pathname} sent a line that is not JSON`));
            return;
          }
          if (!ended && typeof event.type === 'string') onEvent(event.type, event.object);
        }
      });
      res.on('end', () => end());
      res.on('error', (err) => end(err));
    });
    req.on('error', (err) => end(new ApiUnreachableError(url, err)));
    req.end();
    return {
      abort: () => {
        ended = true;
        req.destroy();
      },
    };
  }

  /**
   * The one pooled agent of this kubeconfig. client-node builds a fresh agent (a new TLS handshake)
   * per call; its TLS options are kept, the agent replaced by a keep-alive one, rebuilt only if the
   * TLS material changes. A proxied cluster keeps client-node's proxy agent (built once).
   */
  private agentFor(url: URL, applied: https.RequestOptions): http.Agent {
    const tls = [url.protocol, ...TLS_KEYS.map((k) => applied[k])];
    if (this.pool && sameTls(this.pool.tls, tls)) return this.pool.agent;
    this.pool?.agent.destroy();
    let agent: http.Agent;
    if (this.kc.getCurrentCluster()?.proxyUrl && applied.agent instanceof http.Agent) agent = applied.agent;
    else {
      const options = Object.fromEntries(TLS_KEYS.filter((k) => applied[k] !== undefined).map((k) => [k, applied[k]]));
      const pooling = { keepAlive: true, maxSockets: 16, timeout: IDLE_SOCKET_MS };
      agent = url.protocol === 'https:' ? new https.Agent({ ...options, ...pooling }) : new http.Agent(pooling);
    }
    this.pool = { agent, tls };
    return agent;
  }

  /** Closes pooled connections (they do not keep the process alive; this frees them at once). */
  close(): void {
    this.pool?.agent.destroy();
    this.pool = undefined;
  }
}

/** One HTTP exchange; a network error says whether it happened on a reused pooled connection. */
function send(url: URL, options: https.RequestOptions, body: string | undefined, maxBody: number): Promise<ApiAnswer> {
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(url, options, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= maxBody) chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url.host} within ${REQUEST_TIMEOUT_MS / 1000} s`)));
    req.on('error', (err) => reject(Object.assign(err, { reusedSocket: req.reusedSocket })));
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** An error status as a KubeApiError, worded with the Status message the API server sent. */
function statusError(status: number, body: string): KubeApiError {
  let message = `HTTP ${status}`;
  try {
    message = (JSON.parse(body) as { message?: string }).message ?? message;
  } catch {
    // Not a Status object (e.g. "404 page not found"): the status line says enough.
  }
  return new KubeApiError(status, body, message);
}

/** Whether an API error body is a Status about the named object (as opposed to a missing resource path). */
function statusNames(body: string, name: string): boolean {
  try {
    return (JSON.parse(body) as { details?: { name?: string } }).details?.name === name;
  } catch {
    return false;
  }
}

const clients = new WeakMap<Kubeconfig, KubeObjects>();

/** The objects client of a kubeconfig: one per Kubeconfig, so its discovery cache and connections are shared. */
export function kubeObjectsFor(kc: Kubeconfig): KubeObjects {
  let client = clients.get(kc);
  if (!client) {
    client = new KubeObjects(kc);
    clients.set(kc, client);
  }
  return client;
}
