/** Image references, split the way a container runtime reads them. */

export interface ImageRef {
  /** As written in the pod spec. */
  raw: string;
  /** Registry host, `docker.io` when none is named. */
  registry: string;
  /** Repository path without registry, e.g. `istio/examples-bookinfo-details-v1`, `library/nginx`. */
  repository: string;
  /** Last path segment of the repository, e.g. `examples-bookinfo-details-v1`, `nginx`. */
  name: string;
  /** `latest` when neither a tag nor a digest is given; '' with a digest only. */
  tag: string;
  digest?: string;
}

export function parseImage(raw: string): ImageRef {
  let rest = raw.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag = '';
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  } else if (!digest) {
    tag = 'latest';
  }
  let registry = 'docker.io';
  const parts = rest.split('/');
  // A first segment with a dot, a port or `localhost` is a registry host, as the docker reference grammar says.
  if (parts.length > 1 && (parts[0].includes('.') || parts[0].includes(':') || parts[0] === 'localhost')) {
    registry = parts.shift()!;
  }
  if (registry === 'docker.io' && parts.length === 1) parts.unshift('library');
  const repository = parts.join('/');
  return { raw, registry, repository, name: parts[parts.length - 1] ?? '', tag, ...(digest ? { digest } : {}) };
}
