/**
 * The HTTP face of the embedded cluster: authentication, routing of kube-apiserver's URL layout
 * onto the generic REST store, content negotiation (JSON, YAML, Table, aggregated discovery),
 * watch streams, and a seam where other modules register subresources (exec, log, proxy, …).
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import YAML from 'yaml';
import { ApiError } from '../errors.js';
import type { KubeObject } from '../types.js';
import type { ResourceRegistry } from '../registry/registry.js';
import type { LazyModules as Plugins } from '../registry/lazy-modules.js';
import type { ExtraSubresource, ResourceDef } from '../registry/resource.js';
import type { DeleteOptions, ListOptions, PatchType, RequestOptions, RestStorage } from '../registry/rest.js';
import { aggregated, apiGroupDoc, apiGroupList, apiResourceList, apiVersions } from './discovery.js';
import { decodeBody, jsonMessage, negotiate, type ResponseShape } from './negotiation.js';
import { DepthError, parseFirstYamlDocument, parseJson, readLimitedBody, YamlError, YamlTooLargeError } from './body-limits.js';
import { partialMetadata, table, type IncludeObject } from './tables.js';
import type { ClusterAuth } from '../registry/kinds/authentication/cluster-auth.js';
import { API_AUDIENCES } from '../registry/kinds/authentication/tokens.js';
import type { UserInfo } from '../registry/kinds/authentication/user.js';
import { authenticate, authorizeOrThrow, impersonate } from './authn.js';
import { requestInfo } from './request-info.js';

export interface SubresourceRequest {
  req: IncomingMessage;
  def: ResourceDef;
  namespace: string;
  name: string;
  subresource: string;
  /** The path after the subresource (proxy paths), without a leading slash. */
  subpath: string;
  query: URLSearchParams;
  /** The user name the request acts as (after impersonation). */
  user: string;
}

/** A plug-in for one subresource; `http` for plain requests, `upgrade` for WebSocket/SPDY. */
export interface SubresourceHandler {
  http?(ctx: SubresourceRequest & { res: ServerResponse }): void | Promise<void>;
  upgrade?(ctx: SubresourceRequest & { socket: Duplex; head: Buffer }): void | Promise<void>;
}

export interface ApiServerOptions {
  /** Authentication (tokens) and authorization (RBAC) of every request. */
  auth: ClusterAuth;
  registry: ResourceRegistry;
  rest: RestStorage;
  plugins: Plugins;
  /** Interval between watch bookmarks when a client allows them. */
  bookmarkIntervalMs?: number;
  gitVersion?: string;
  /** Serving certificate and key (PEM). client-go only sends bearer tokens over TLS. */
  tls: { certPem: string; keyPem: string };
}

const NOT_FOUND = new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
const VERSION_INFO = (gitVersion: string) => ({
  major: '1',
  minor: gitVersion.split('.')[1] ?? '32',
  gitVersion,
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2025-04-22T16:02:00Z',
  goVersion: 'go1.23.6',
  compiler: 'gc',
  platform: 'linux/amd64',
});

const PATCH_TYPES: Record<string, PatchType> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
};

interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  user: string;
  userInfo?: UserInfo;
  warnings: string[];
}

export class ApiServer {
  private readonly server: https.Server;
  private readonly handlers = new Map<string, SubresourceHandler>();
  private readonly closers = new Set<() => void>();
  private discoveryCache = new Map<string, string>();
  /** Serialised OpenAPI v3 documents by their hashed URL (a changed CRD changes the hash). */
  private readonly openapiTexts = new Map<string, string>();
  /** Optional observer of each request's server-side handling time (benchmarks, diagnostics). */
  onRequestDone?: (info: { method: string; path: string; code: number; ms: number }) => void;
  private url = '';

  constructor(private readonly opts: ApiServerOptions) {
    this.server = https.createServer({ keepAliveTimeout: 65_000, cert: opts.tls.certPem, key: opts.tls.keyPem }, (req, res) => void this.handle(req, res));
    this.server.on('upgrade', (req, socket, head) => void this.handleUpgrade(req, socket, head));
    this.server.on('clientError', (_e, socket) => socket.destroy());
    opts.registry.onChange = () => this.discoveryCache.clear();
  }

  /**
   * Registers a handler for a subresource of a resource (`pods`, `exec`), optionally of a group.
   * Returns a function that removes it.
   */
  registerSubresource(resource: string, subresource: string, handler: SubresourceHandler, group = ''): () => void {
    const key = `${group}/${resource}/${subresource}`;
    this.handlers.set(key, handler);
    return () => {
      if (this.handlers.get(key) === handler) this.handlers.delete(key);
    };
  }

  async listen(host: string, port: number): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const addr = this.server.address() as AddressInfo;
    this.url = `https://${host.includes(':') ? `[${host}]` : host}:${addr.port}`;
    return this.url;
  }

  async close(): Promise<void> {
    for (const c of [...this.closers]) c();
    this.closers.clear();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  // ---- plumbing ----------------------------------------------------------------------------

  /**
   * Who the request acts as, once authenticated, impersonation allowed and the request itself
   * authorized: kube-apiserver's filter chain before any handler (watches and streams included).
   */
  private admit(req: IncomingMessage, url: URL, upgrade: boolean): UserInfo {
    const auth = this.opts.auth;
    const user = impersonate(req.headers, authenticate(req.headers, auth), auth);
    authorizeOrThrow(auth, { user, ...requestInfo(req.method ?? 'GET', url.pathname, url.searchParams, upgrade) });
    return user;
  }

  private send(ctx: Ctx, code: number, body: unknown, shape?: ResponseShape, contentType?: string): void {
    const { res } = ctx;
    if (res.headersSent) return;
    const yaml = shape?.kind === 'object' && shape.yaml;
    const text = yaml ? YAML.stringify(body) : JSON.stringify(body);
    const headers: Record<string, string | string[]> = {
      'Content-Type': contentType ?? (yaml ? 'application/yaml' : 'application/json'),
      'Cache-Control': 'no-cache, private',
      'Audit-Id': randomUUID(),
    };
    if (ctx.warnings.length) headers['Warning'] = ctx.warnings.map((w) => `299 - ${JSON.stringify(w)}`);
    res.writeHead(code, headers);
    res.end(text);
  }

  private sendError(ctx: Ctx, e: unknown): void {
    const err = e instanceof ApiError ? e : ApiError.internal((e as Error)?.message ?? String(e));
    if (!(e instanceof ApiError)) console.error('sim apiserver: unexpected error', e);
    if (ctx.res.headersSent) {
      ctx.res.end();
      return;
    }
    this.send(ctx, err.code, err.toStatus());
  }

  private readBody(ctx: Ctx): Promise<Buffer> {
    return readLimitedBody(ctx.req, ctx.res);
  }

  private async body(ctx: Ctx): Promise<Record<string, any>> {
    const raw = await this.readBody(ctx);
    if (raw.length === 0) throw ApiError.badRequest('the body of the request was empty');
    const v = await decodeBody(raw, ctx.req.headers['content-type']);
    if (!v || typeof v !== 'object' || Array.isArray(v)) {
      throw ApiError.badRequest(`couldn't get version/kind; json parse error: json: cannot unmarshal ${Array.isArray(v) ? 'array' : typeof v} into Go value of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }`);
    }
    return v as Record<string, any>;
  }

  // ---- entry -------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const ctx: Ctx = { req, res, url: new URL(req.url ?? '/', 'http://sim'), user: '', warnings: [] };
    if (this.onRequestDone) {
      const started = performance.now();
      const observe = this.onRequestDone;
      res.once('finish', () => observe({ method: req.method ?? '', path: ctx.url.pathname, code: res.statusCode, ms: performance.now() - started }));
    }
    try {
      const path = ctx.url.pathname.replace(/\/+$/, '') || '/';
      ctx.userInfo = this.admit(req, ctx.url, false);
      ctx.user = ctx.userInfo.username;
      await this.route(ctx, path);
    } catch (e) {
      // A malformed %-escape in the path is the client's error, not ours.
      this.sendError(ctx, e instanceof URIError ? ApiError.badRequest(`invalid URL escape in path: ${req.url}`) : e);
    }
  }

  private async handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const fail = (e: ApiError) => {
      const body = JSON.stringify(e.toStatus());
      socket.end(`HTTP/1.1 ${e.code} ${http.STATUS_CODES[e.code] ?? ''}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    };
    try {
      const url = new URL(req.url ?? '/', 'http://sim');
      const user = this.admit(req, url, true).username;
      const target = this.parseResourcePath(url.pathname);
      if (!target || !target.sub) return fail(NOT_FOUND);
      const h = this.handlers.get(`${target.def.group}/${target.def.resource}/${target.sub}`);
      if (!h?.upgrade) return fail(ApiError.notSupported(`${target.def.resource}/${target.sub}`));
      // The proxy names its target as NAME:PORT and looks it up itself, with its own wording.
      if (target.sub !== 'proxy') this.opts.rest.get(target.def, target.namespace ?? '', target.name!);
      await h.upgrade({ req, socket, head, def: target.def, namespace: target.namespace ?? '', name: target.name!, subresource: target.sub, subpath: target.rest.join('/'), query: url.searchParams, user });
    } catch (e) {
      if (e instanceof ApiError) fail(e);
      else {
        console.error('sim apiserver: upgrade failed', e);
        socket.destroy();
      }
    }
  }

  private async route(ctx: Ctx, path: string): Promise<void> {
    const method = ctx.req.method ?? 'GET';
    switch (path) {
      case '/healthz':
      case '/livez':
      case '/readyz':
        ctx.res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
        ctx.res.end('ok');
        return;
      case '/version':
        ctx.res.setHeader('X-Embedded-Cluster', 'istio-playground'); // how the playground's istioctl tells an embedded cluster from a real one
        return this.send(ctx, 200, VERSION_INFO(this.opts.gitVersion ?? 'v1.32.4'));
      case '/api':
      case '/apis':
        return this.discovery(ctx, path === '/api');
      case '/':
        return this.send(ctx, 200, { paths: ['/api', '/api/v1', '/apis', '/healthz', '/livez', '/openapi/v2', '/openapi/v3', '/readyz', '/version'] });
    }
    if (path === '/openapi/v2' || path.startsWith('/openapi/v3')) return this.openapi(ctx, path);
    const segs = path.split('/').filter(Boolean).map(decodeURIComponent);
    if (segs[0] === 'api' && segs.length >= 2) {
      if (segs[1] !== 'v1') throw NOT_FOUND;
      if (segs.length === 2) return this.legacyDoc(ctx, method, () => apiResourceList(this.opts.registry.all(), '', 'v1'));
      return this.resource(ctx, method, '', 'v1', segs.slice(2));
    }
    if (segs[0] === 'apis' && segs.length >= 2) {
      if (segs.length === 2) return this.legacyDoc(ctx, method, () => apiGroupDoc(this.opts.registry.all(), segs[1]));
      if (segs.length === 3) return this.legacyDoc(ctx, method, () => apiResourceList(this.opts.registry.all(), segs[1], segs[2]));
      return this.resource(ctx, method, segs[1], segs[2], segs.slice(3));
    }
    throw NOT_FOUND;
  }

  private legacyDoc(ctx: Ctx, method: string, make: () => object | undefined): void {
    if (method !== 'GET') throw ApiError.methodNotAllowed();
    const doc = make();
    if (!doc) throw NOT_FOUND;
    this.send(ctx, 200, doc);
  }

  private discovery(ctx: Ctx, legacy: boolean): void {
    if (ctx.req.method !== 'GET') throw ApiError.methodNotAllowed();
    const shape = negotiate(ctx.req.headers.accept, { discovery: true });
    if (shape.kind === 'discovery') {
      const key = `${legacy}/${shape.version}`;
      let text = this.discoveryCache.get(key);
      if (!text) this.discoveryCache.set(key, (text = JSON.stringify(aggregated(this.opts.registry.all(), legacy, shape.version))));
      ctx.res.writeHead(200, {
        'Content-Type': `application/json;g=apidiscovery.k8s.io;v=${shape.version};as=APIGroupDiscoveryList`,
        'Cache-Control': 'no-cache, private',
        Vary: 'Accept',
      });
      ctx.res.end(text);
      return;
    }
    const host = ctx.req.headers.host ?? this.url.replace(/^https?:\/\//, '');
    this.send(ctx, 200, legacy ? apiVersions(host) : apiGroupList(this.opts.registry.all()), shape);
  }

  private openapi(ctx: Ctx, path: string): void {
    const o = this.opts.plugins.openapi;
    if (!o) throw NOT_FOUND;
    const src = { crds: this.opts.registry.crds(), kinds: this.opts.registry.codeKinds() };
    if (path === '/openapi/v2') {
      // kube-openapi's handler: protobuf when asked for (kubectl does, in either spelling), JSON otherwise.
      const protobuf = /application\/com\.github\.proto-openapi\.spec\.v2[@.]v1\.0\+protobuf/.test(ctx.req.headers.accept ?? '');
      const body = o.openapiV2Document(src, protobuf ? 'protobuf' : 'json');
      ctx.res.writeHead(200, { 'Content-Type': protobuf ? 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf' : 'application/json', Vary: 'Accept' });
      ctx.res.end(body);
      return;
    }
    let doc: object | undefined;
    if (path === '/openapi/v3') doc = o.openapiV3Discovery(src);
    else return this.openapiV3GroupVersion(ctx, o, path.slice('/openapi/v3/'.length), src);
    if (!doc) throw NOT_FOUND;
    ctx.res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
    ctx.res.end(JSON.stringify(doc));
  }

  /**
   * One group-version's document, as kube-openapi's handler3 serves it: the URL discovery names
   * (with `?hash=`) is immutable, so kubectl's HTTP cache keeps it and later commands do not
   * download it again; a stale hash is redirected to the current one. Serialised once per hash.
   */
  private openapiV3GroupVersion(ctx: Ctx, o: NonNullable<Plugins['openapi']>, gv: string, src: { crds: KubeObject[]; kinds: readonly ResourceDef[] }): void {
    const current = (o.openapiV3Discovery(src) as { paths: Record<string, { serverRelativeURL: string }> }).paths[gv]?.serverRelativeURL;
    if (!current) throw NOT_FOUND;
    const currentHash = new URL(current, 'http://sim').searchParams.get('hash') ?? '';
    const asked = ctx.url.searchParams.get('hash');
    const headers: Record<string, string> = { 'Content-Type': 'application/json', Etag: JSON.stringify(currentHash), Vary: 'Accept' };
    if (asked !== null) {
      if (asked !== currentHash) {
        ctx.res.writeHead(301, { Location: current, 'Content-Type': 'text/html; charset=utf-8' });
        ctx.res.end(`<a href="${current}">Moved Permanently</a>.\n`);
        return;
      }
      headers['Cache-Control'] = 'public, immutable';
      headers.Expires = new Date(Date.now() + 365 * 24 * 3600 * 1000).toUTCString();
    }
    if (ctx.req.headers['if-none-match'] === headers.Etag) {
      ctx.res.writeHead(304, headers);
      ctx.res.end();
      return;
    }
    let text = this.openapiTexts.get(current);
    if (text === undefined) {
      const doc = o.openapiV3Document(gv, src);
      if (!doc) throw NOT_FOUND;
      if (this.openapiTexts.size > 64) this.openapiTexts.clear();
      this.openapiTexts.set(current, (text = JSON.stringify(doc)));
    }
    ctx.res.writeHead(200, headers);
    ctx.res.end(text);
  }

  // ---- resources ---------------------------------------------------------------------------

  /** Splits `/api/v1/namespaces/ns/pods/name/sub/...` into its parts; undefined if unknown. */
  private parseResourcePath(pathname: string): { def: ResourceDef; namespace?: string; name?: string; sub?: string; rest: string[]; watch: boolean } | undefined {
    const segs = pathname.split('/').filter(Boolean).map(decodeURIComponent);
    let group = '';
    let version: string;
    let rest: string[];
    if (segs[0] === 'api') {
      version = segs[1];
      rest = segs.slice(2);
    } else if (segs[0] === 'apis') {
      group = segs[1];
      version = segs[2];
      rest = segs.slice(3);
    } else return undefined;
    return this.parseSegments(group, version, rest);
  }

  private parseSegments(group: string, version: string, input: string[]) {
    let segs = input;
    let watch = false;
    if (segs[0] === 'watch') {
      watch = true;
      segs = segs.slice(1);
    }
    let namespace: string | undefined;
    if (segs[0] === 'namespaces' && segs.length >= 3) {
      const inner = this.opts.registry.lookup(group, version, segs[2]);
      if (inner?.namespaced) {
        namespace = segs[1];
        segs = segs.slice(2);
      }
    }
    const def = this.opts.registry.lookup(group, version, segs[0]);
    if (!def) return undefined;
    if (def.namespaced && namespace === undefined && segs.length > 1) return undefined;
    return { def, namespace, name: segs[1], sub: segs[2], rest: segs.slice(3), watch };
  }

  private listOptions(q: URLSearchParams): ListOptions {
    const limit = q.get('limit');
    return {
      labelSelector: q.get('labelSelector'),
      fieldSelector: q.get('fieldSelector'),
      limit: limit ? Number(limit) : undefined,
      continue: q.get('continue'),
      resourceVersion: q.get('resourceVersion'),
      resourceVersionMatch: q.get('resourceVersionMatch'),
    };
  }

  private requestOptions(ctx: Ctx, defaultManager?: string): RequestOptions {
    const q = ctx.url.searchParams;
    const dry = q.getAll('dryRun');
    for (const d of dry) if (d !== 'All') throw ApiError.badRequest(`Invalid dryRun value: ${JSON.stringify(d)}. Supported values: "All"`);
    const fv = q.get('fieldValidation') ?? undefined;
    if (fv !== undefined && !['Strict', 'Warn', 'Ignore'].includes(fv)) throw ApiError.badRequest(`fieldValidation ${fv} is invalid, valid values are: Ignore, Warn, or Strict`);
    const ua = String(ctx.req.headers['user-agent'] ?? '');
    return {
      dryRun: dry.length > 0,
      fieldManager: q.get('fieldManager') ?? defaultManager ?? (ua.split('/')[0] || 'unknown'),
      fieldValidation: fv as RequestOptions['fieldValidation'],
      user: ctx.user,
      userInfo: ctx.userInfo,
      warnings: ctx.warnings,
    };
  }

  private verb(def: ResourceDef, verb: string): void {
    if (!def.verbs.includes(verb)) throw ApiError.methodNotAllowed();
  }

  private async resource(ctx: Ctx, method: string, group: string, version: string, rest: string[]): Promise<void> {
    const target = this.parseSegments(group, version, rest);
    if (!target) throw NOT_FOUND;
    const { def, name, sub } = target;
    const q = ctx.url.searchParams;
    const ns = target.namespace ?? '';
    if (!def.namespaced && target.namespace !== undefined) throw NOT_FOUND;
    const rest_ = this.opts.rest;

    // The answer's media type is negotiated before any work, as each handler does first
    // (NegotiateOutputMediaType): an unacceptable Accept must not leave a write behind.
    if (sub === undefined || sub === 'status' || sub === 'scale') negotiate(ctx.req.headers.accept, { table: true, partial: true });
    if (sub !== undefined) return this.subresource(ctx, method, target.def, ns, name!, sub, target.rest);

    const isWatch = target.watch || q.get('watch') === 'true' || q.get('watch') === '1';
    if (name === undefined) {
      switch (method) {
        case 'GET':
          if (isWatch) {
            this.verb(def, 'watch');
            return this.watch(ctx, def, target.namespace);
          }
          this.verb(def, 'list');
          return this.respondList(ctx, def, rest_.list(def, target.namespace, this.listOptions(q)));
        case 'POST': {
          this.verb(def, 'create');
          const body = await this.body(ctx);
          const created = await rest_.create(def, ns, body, this.requestOptions(ctx));
          return this.respondObject(ctx, def, 201, created);
        }
        case 'DELETE': {
          this.verb(def, 'deletecollection');
          const dopts = await this.deleteOptions(ctx);
          const out = await rest_.deleteCollection(def, target.namespace, this.listOptions(q), dopts, this.requestOptions(ctx));
          return this.respondObject(ctx, def, 200, out);
        }
        default:
          throw ApiError.methodNotAllowed();
      }
    }

    switch (method) {
      case 'GET':
        if (isWatch) {
          this.verb(def, 'watch');
          q.set('fieldSelector', [q.get('fieldSelector'), `metadata.name=${name}`].filter(Boolean).join(','));
          return this.watch(ctx, def, target.namespace);
        }
        this.verb(def, 'get');
        return this.respondObject(ctx, def, 200, rest_.read(def, ns, name));
      case 'PUT': {
        this.verb(def, 'update');
        const body = await this.body(ctx);
        const r = await rest_.put(def, ns, name, body, this.requestOptions(ctx));
        return this.respondObject(ctx, def, r.created ? 201 : 200, r.object);
      }
      case 'PATCH': {
        this.verb(def, 'patch');
        const { type, patch } = await this.patchBody(ctx, def);
        const r = await rest_.patch(def, ns, name, type, patch, { ...this.requestOptions(ctx, type === 'apply' ? undefined : undefined), force: q.get('force') === 'true' });
        return this.respondObject(ctx, def, r.created ? 201 : 200, r.object);
      }
      case 'DELETE': {
        this.verb(def, 'delete');
        const dopts = await this.deleteOptions(ctx);
        const { object, deleted } = await rest_.delete(def, ns, name, dopts, this.requestOptions(ctx));
        if (deleted && !def.returnDeletedObject) {
          return this.send(ctx, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, ...(def.group ? { group: def.group } : {}), kind: def.resource, uid: object.metadata.uid } });
        }
        return this.respondObject(ctx, def, 200, object);
      }
      default:
        throw ApiError.methodNotAllowed();
    }
  }

  private async subresource(ctx: Ctx, method: string, def: ResourceDef, ns: string, name: string, sub: string, subpath: string[]): Promise<void> {
    const rest = this.opts.rest;
    if (sub === 'status' && def.status) {
      if (method === 'GET') return this.respondObject(ctx, def, 200, rest.read(def, ns, name));
      if (method === 'PUT') return this.respondObject(ctx, def, 200, await rest.update(def, ns, name, await this.body(ctx), this.requestOptions(ctx), 'status'));
      if (method === 'PATCH') {
        const { type, patch } = await this.patchBody(ctx, def);
        const r = await rest.patch(def, ns, name, type, patch, { ...this.requestOptions(ctx), force: ctx.url.searchParams.get('force') === 'true' }, 'status');
        return this.respondObject(ctx, def, 200, r.object);
      }
      throw ApiError.methodNotAllowed();
    }
    if (sub === 'ephemeralcontainers' && def.group === '' && def.resource === 'pods') {
      // Written like status: the whole Pod goes in and out, only spec.ephemeralContainers changes.
      if (method === 'GET') return this.respondObject(ctx, def, 200, rest.read(def, ns, name));
      if (method === 'PUT') return this.respondObject(ctx, def, 200, await rest.update(def, ns, name, await this.body(ctx), this.requestOptions(ctx), sub));
      if (method === 'PATCH') {
        const { type, patch } = await this.patchBody(ctx, def);
        const r = await rest.patch(def, ns, name, type, patch, { ...this.requestOptions(ctx), force: ctx.url.searchParams.get('force') === 'true' }, sub);
        return this.respondObject(ctx, def, 200, r.object);
      }
      throw ApiError.methodNotAllowed();
    }
    if (sub === 'scale' && def.scale) {
      if (method === 'GET') return this.send(ctx, 200, rest.scale(def, rest.get(def, ns, name)));
      if (method === 'PUT') return this.send(ctx, 200, await rest.updateScale(def, ns, name, { body: await this.body(ctx) }, this.requestOptions(ctx)));
      if (method === 'PATCH') {
        const { type, patch } = await this.patchBody(ctx, def, true);
        return this.send(ctx, 200, await rest.updateScale(def, ns, name, { patchType: type, patch }, this.requestOptions(ctx)));
      }
      throw ApiError.methodNotAllowed();
    }
    if (def.group === '' && def.resource === 'serviceaccounts' && sub === 'token') return this.tokenRequest(ctx, method, def, ns, name);
    const h = this.handlers.get(`${def.group}/${def.resource}/${sub}`);
    const known = def.extraSubresources?.find((e) => e.name === sub);
    if (!h?.http && known?.serve) return this.kindSubresource(ctx, method, def, ns, name, known);
    if (!h?.http) {
      if (!known) throw NOT_FOUND;
      rest.get(def, ns, name);
      throw ApiError.notSupported(`${def.resource}/${sub}`);
    }
    if (sub !== 'proxy') rest.get(def, ns, name);
    await h.http({ req: ctx.req, res: ctx.res, def, namespace: ns, name, subresource: sub, subpath: subpath.join('/'), query: ctx.url.searchParams, user: ctx.user });
  }

  /**
   * TokenRequest (`kubectl create token`): a token for the ServiceAccount, valid for the API
   * audiences unless others are asked, bound to a Pod or Secret when the request names one.
   */
  private async tokenRequest(ctx: Ctx, method: string, def: ResourceDef, ns: string, name: string): Promise<void> {
    if (method !== 'POST') throw ApiError.methodNotAllowed();
    const rest = this.opts.rest;
    const sa = rest.get(def, ns, name);
    const body = await this.body(ctx);
    const spec = (body.spec ?? {}) as Record<string, any>;
    const expirationSeconds = spec.expirationSeconds ?? 3600;
    if (typeof expirationSeconds !== 'number' || !Number.isInteger(expirationSeconds)) throw ApiError.badRequest('json: cannot unmarshal into Go struct field TokenRequestSpec.spec.expirationSeconds of type int64');
    const bad = expirationSeconds < 600 ? 'may not specify a duration less than 10 minutes' : expirationSeconds > 2 ** 32 ? 'may not specify a duration larger than 2^32 seconds' : '';
    if (bad) throw ApiError.invalid({ group: 'authentication.k8s.io', kind: 'TokenRequest' }, '', [{ type: 'FieldValueInvalid', field: 'spec.expirationSeconds', value: expirationSeconds, detail: bad }]);
    const audiences: string[] = Array.isArray(spec.audiences) && spec.audiences.length ? spec.audiences.map(String) : API_AUDIENCES;
    let bound: { kind: 'Pod' | 'Secret'; name: string; uid: string } | undefined;
    const ref = spec.boundObjectRef as Record<string, any> | undefined | null;
    if (ref) {
      const kinds: Record<string, string> = { Pod: 'pods', Secret: 'secrets' };
      const resource = kinds[ref.kind];
      if (!resource || (ref.apiVersion ?? 'v1') !== 'v1') throw ApiError.badRequest(`cannot bind token for serviceaccount ${JSON.stringify(name)} to object of type ${ref.apiVersion ?? ''}, Kind=${ref.kind ?? ''}`);
      const target = rest.get(this.opts.registry.lookup('', 'v1', resource)!, ns, String(ref.name ?? ''));
      if (ref.uid && ref.uid !== target.metadata.uid) {
        throw ApiError.conflict({ group: '', resource }, String(ref.name), `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`);
      }
      bound = { kind: ref.kind, name: String(ref.name), uid: target.metadata.uid! };
    }
    const dry = this.requestOptions(ctx).dryRun;
    const issued = dry ? { token: '', expirationTimestamp: null } : this.opts.auth.tokens.issue(sa, { expirationSeconds, audiences, bound });
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    this.send(ctx, 201, {
      kind: 'TokenRequest',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: { name, namespace: ns, creationTimestamp: now },
      spec: { audiences, expirationSeconds, boundObjectRef: bound ? { kind: bound.kind, apiVersion: 'v1', name: bound.name, uid: bound.uid } : null },
      status: issued,
    });
  }

  /** A subresource the kind serves itself (a Namespace's finalize, a Pod's eviction). */
  private async kindSubresource(ctx: Ctx, method: string, def: ResourceDef, ns: string, name: string, sub: ExtraSubresource): Promise<void> {
    const rest = this.opts.rest;
    const answer = await sub.serve!({
      method,
      namespace: ns,
      name,
      body: () => this.body(ctx),
      object: {
        get: () => rest.get(def, ns, name),
        update: (obj) => rest.update(def, ns, name, obj, this.requestOptions(ctx)),
        delete: (options) => rest.delete(def, ns, name, options, this.requestOptions(ctx)),
      },
    });
    if ('object' in answer) return this.respondObject(ctx, def, answer.code, answer.object);
    this.send(ctx, answer.code, answer.status);
  }

  private async patchBody(ctx: Ctx, def: ResourceDef, scale = false): Promise<{ type: PatchType; patch: unknown }> {
    const ct = String(ctx.req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    const type = PATCH_TYPES[ct];
    if (!type) {
      const accepted = ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml'];
      if (!def.crd || scale) accepted.push('application/strategic-merge-patch+json');
      throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`);
    }
    const raw = await this.readBody(ctx);
    const text = raw.toString('utf8');
    let patch: unknown;
    try {
      patch = type === 'apply' ? (parseFirstYamlDocument(text) ?? null) : parseJson(text);
    } catch (e) {
      if (type === 'apply') {
        if (e instanceof YamlTooLargeError) throw ApiError.tooLarge(e.message);
        if (!(e instanceof YamlError)) throw e;
        throw ApiError.badRequest(`error decoding YAML: error converting YAML to JSON: ${e.message}`);
      }
      // Under the default Warn (and Strict) validation the patch is first decoded strictly
      // (kjson.UnmarshalStrict); only the strategic patcher reports that without a prefix.
      if (!(e instanceof SyntaxError || e instanceof DepthError)) throw e;
      throw ApiError.badRequest(`${type === 'strategic' ? '' : 'error decoding patch: '}${jsonMessage(e, text)}`);
    }
    if (type === 'json' && !Array.isArray(patch)) throw ApiError.badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
    if (type !== 'json' && (patch === null || typeof patch !== 'object' || Array.isArray(patch))) {
      throw ApiError.badRequest(`json: cannot unmarshal ${Array.isArray(patch) ? 'array' : typeof patch} into Go value of type map[string]interface {}`);
    }
    return { type, patch };
  }

  private async deleteOptions(ctx: Ctx): Promise<DeleteOptions> {
    const q = ctx.url.searchParams;
    let body: Record<string, any> = {};
    const raw = await this.readBody(ctx);
    if (raw.length) {
      const v = await decodeBody(raw, ctx.req.headers['content-type'] ?? 'application/json');
      // `null` decodes into DeleteOptions as no options at all; anything else must be an object.
      if (v !== null && (typeof v !== 'object' || Array.isArray(v))) {
        throw ApiError.badRequest(`couldn't get version/kind; json parse error: json: cannot unmarshal ${Array.isArray(v) ? 'array' : typeof v === 'boolean' ? 'bool' : typeof v} into Go value of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }`);
      }
      body = (v ?? {}) as Record<string, any>;
    }
    const policy = q.get('propagationPolicy') ?? body.propagationPolicy;
    if (policy !== undefined && !['Orphan', 'Background', 'Foreground'].includes(policy)) {
      throw ApiError.badRequest(`DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan", "nil"`);
    }
    const grace = q.get('gracePeriodSeconds') ?? body.gracePeriodSeconds;
    return {
      propagationPolicy: policy,
      gracePeriodSeconds: grace === undefined || grace === null ? undefined : Number(grace),
      preconditions: body.preconditions,
      orphanDependents: q.has('orphanDependents') ? q.get('orphanDependents') === 'true' : body.orphanDependents,
    };
  }

  // ---- responses ---------------------------------------------------------------------------

  private includeObject(ctx: Ctx): IncludeObject {
    const v = ctx.url.searchParams.get('includeObject');
    if (v === 'None' || v === 'Object' || v === 'Metadata') return v;
    return 'Metadata';
  }

  /** `obj` may be shared with the store: only read and serialised here. */
  private respondObject(ctx: Ctx, def: ResourceDef, code: number, obj: Readonly<KubeObject>): void {
    const isList = Array.isArray((obj as Record<string, unknown>).items);
    const shape = negotiate(ctx.req.headers.accept, { table: true, partial: true });
    if (shape.kind === 'table') {
      const items = isList ? ((obj as Record<string, unknown>).items as KubeObject[]) : [obj];
      const t = table(this.opts.plugins, def, items, { tableVersion: shape.version, include: this.includeObject(ctx), now: new Date(), listMeta: isList ? (obj.metadata as Record<string, unknown>) : { resourceVersion: obj.metadata.resourceVersion } });
      return this.send(ctx, code, t, shape, `application/json;as=Table;v=${shape.version};g=meta.k8s.io`);
    }
    if (shape.kind === 'partial') {
      const body = isList
        ? { kind: 'PartialObjectMetadataList', apiVersion: `meta.k8s.io/${shape.version}`, metadata: obj.metadata, items: ((obj as Record<string, unknown>).items as KubeObject[]).map((o) => partialMetadata(o, shape.version)) }
        : partialMetadata(obj, shape.version);
      return this.send(ctx, code, body, shape);
    }
    this.send(ctx, code, obj, shape);
  }

  private respondList(ctx: Ctx, def: ResourceDef, list: KubeObject): void {
    this.respondObject(ctx, def, 200, list);
  }

  private watch(ctx: Ctx, def: ResourceDef, namespace: string | undefined): void {
    const q = ctx.url.searchParams;
    const shape = negotiate(ctx.req.headers.accept, { table: true, partial: true });
    const include = this.includeObject(ctx);
    const { res, req } = ctx;
    let first = true;
    const transform = (type: string, o: KubeObject): unknown => {
      if (type === 'BOOKMARK' || type === 'ERROR') return o;
      if (shape.kind === 'table') {
        const t = table(this.opts.plugins, def, [o], { tableVersion: shape.version, include, now: new Date(), listMeta: { resourceVersion: o.metadata.resourceVersion }, noHeaders: !first });
        first = false;
        return t;
      }
      if (shape.kind === 'partial') return partialMetadata(o, shape.version);
      return o;
    };
    const pending: string[] = [];
    let started = false;
    let failed = false;
    const write = (type: string, o: unknown) => {
      const line = JSON.stringify({ type, object: transform(type, o as KubeObject) }) + '\n';
      // An ERROR event (410 Expired) ends the stream, as kube-apiserver closes it after one.
      if (type === 'ERROR') failed = true;
      if (!started) pending.push(line);
      else res.write(line);
    };
    const stop = this.opts.rest.watch(def, namespace, { ...this.listOptions(q), allowWatchBookmarks: q.get('allowWatchBookmarks') === 'true', sendInitialEvents: q.has('sendInitialEvents') ? q.get('sendInitialEvents') === 'true' : undefined }, write);
    res.writeHead(200, {
      'Content-Type': shape.kind === 'table' ? `application/json;as=Table;v=${shape.version};g=meta.k8s.io` : 'application/json',
      'Cache-Control': 'no-cache, private',
      'Transfer-Encoding': 'chunked',
    });
    started = true;
    for (const l of pending) res.write(l);
    res.flushHeaders();
    if (failed) {
      stop();
      res.end();
      return;
    }
    const timers: NodeJS.Timeout[] = [];
    const finish = () => {
      stop();
      for (const t of timers) clearTimeout(t), clearInterval(t);
      this.closers.delete(finish);
      if (!res.writableEnded) res.end();
    };
    this.closers.add(finish);
    const timeout = Number(q.get('timeoutSeconds') ?? 0);
    if (timeout > 0) timers.push(setTimeout(finish, timeout * 1000));
    if (q.get('allowWatchBookmarks') === 'true') {
      timers.push(setInterval(() => write('BOOKMARK', this.opts.rest.bookmark(def)), this.opts.bookmarkIntervalMs ?? 30_000));
    }
    req.on('close', finish);
    res.on('close', finish);
  }
}
