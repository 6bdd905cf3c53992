/**
 * What a request asks, read from its method and URL alone as kube-apiserver's
 * RequestInfoFactory does: the verb (get/list/watch/create/update/patch/delete/
 * deletecollection, or the lowercased method for a non-resource path), and for /api and /apis
 * paths the group, version, namespace, resource, name and subresource the authorizer checks.
 */
import type { Attributes } from '../registry/kinds/rbac/evaluator.js';

export type RequestInfo = Omit<Attributes, 'user'>;

const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);
/** Connect subresources whose WebSocket GET is authorized as create (AuthorizePodWebsocketUpgradeCreatePermission). */
const CONNECT_CREATE = new Set(['exec', 'attach', 'portforward']);

export function requestInfo(method: string, pathname: string, query: URLSearchParams, upgrade = false): RequestInfo {
  const nonResource = (): RequestInfo => ({ resourceRequest: false, verb: method.toLowerCase(), path: pathname });
  let parts = pathname.split('/').filter(Boolean);
  try {
    parts = parts.map(decodeURIComponent);
  } catch {
    return nonResource();
  }
  if (parts.length < 3 || (parts[0] !== 'api' && parts[0] !== 'apis')) return nonResource();
  let group = '';
  let rest = parts.slice(1);
  if (parts[0] === 'apis') {
    if (parts.length < 4) return nonResource();
    group = rest[0];
    rest = rest.slice(1);
  }
  const version = rest[0];
  rest = rest.slice(1);
  let verb: string;
  let viaPath = false;
  if (rest[0] === 'watch') {
    verb = 'watch';
    viaPath = true;
    rest = rest.slice(1);
  } else {
    verb = ({ POST: 'create', GET: 'get', HEAD: 'get', PUT: 'update', PATCH: 'patch', DELETE: 'delete' } as Record<string, string>)[method] ?? '';
  }
  let namespace = '';
  if (rest[0] === 'namespaces') {
    if (rest.length > 1) {
      namespace = rest[1];
      if (rest.length > 2 && !NAMESPACE_SUBRESOURCES.has(rest[2])) rest = rest.slice(2);
    }
  }
  const resource = rest[0] ?? '';
  const name = rest[1] ?? '';
  const subresource = rest.length >= 3 && !viaPath ? rest[2] : '';
  let finalName = name;
  if (!name && verb === 'get') {
    const w = query.get('watch');
    verb = w === 'true' || w === '1' ? 'watch' : 'list';
    const m = /(?:^|,)metadata\.name==?([^,]+)(?:,|$)/.exec(query.get('fieldSelector') ?? '');
    if (m) finalName = m[1];
  }
  if (!name && verb === 'delete') verb = 'deletecollection';
  if (upgrade && verb === 'get' && CONNECT_CREATE.has(subresource) && resource === 'pods') verb = 'create';
  return { resourceRequest: true, verb, apiGroup: group, apiVersion: version, namespace, resource, name: finalName, subresource };
}
