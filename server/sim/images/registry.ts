/**
 * What the container registries the embedded cluster can reach hold: a catalogue of
 * repositories (the images the lessons, Istio's release, its samples and tasks, kubeadm and the
 * usual tutorials use) and the tags each has, and the error containerd reports for anything
 * else, worded as containerd 1.7 and the kubelet 1.32 word it (the CRI error of an unknown
 * repository is gRPC code Unknown, which the kubelet strips; a missing tag is NotFound, kept).
 */
import { parseImage, type ImageRef } from './image.js';

/** A tag scheme: which tags of a repository exist. */
type Tags = (tag: string) => boolean;

const any: Tags = (t) => /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(t);
const oneOf =
  (...tags: string[]): Tags =>
  (t) =>
    tags.includes(t);
const either =
  (...schemes: Tags[]): Tags =>
  (t) =>
    schemes.some((s) => s(t));
const re =
  (r: RegExp): Tags =>
  (t) =>
    r.test(t);
/** Version tags: MAJOR[.MINOR[.PATCH]], optionally with a leading v. */
const semver = (major: string, minor: string, patch = '\\d{1,2}'): Tags => re(new RegExp(`^v?(${major})(\\.(${minor})(\\.${patch})?)?$`));
/** `base` then optional `-variant` suffixes from a list (nginx:1.27-alpine-slim, python:3.12-slim-bookworm). */
const withVariants =
  (base: Tags, variants: string[]): Tags =>
  (t) => {
    const parts = t.split('-');
    for (let i = parts.length; i >= 1; i--) {
      const head = parts.slice(0, i).join('-');
      const rest = parts.slice(i);
      if ((base(head) || variants.includes(head)) && rest.every((v) => variants.includes(v) || /^alpine3\.\d{1,2}$/.test(v))) return true;
    }
    return false;
  };

const DEBIAN_SUITES = ['bookworm', 'bullseye', 'buster', 'trixie', 'slim', 'alpine', 'jammy', 'noble', 'focal'];
/** Istio's release tags (1.x.y, 1.x-dev, …) with their -distroless / -debug variants. */
const istioTags: Tags = withVariants(re(/^1\.([0-9]|[12][0-9]|30)\.\d{1,2}$|^1\.\d{1,2}-(dev|alpha\.\w+)$|^latest$/), ['distroless', 'debug']);
/** Bookinfo's example images are published with Istio's sample tags (1.13.0 … 1.20.x …). */
const bookinfoTags: Tags = re(/^1\.(\d|1\d|2[0-9])\.\d{1,2}$|^latest$/);

interface Repo {
  /** Path inside the registry, e.g. `library/nginx`. */
  repository: string | RegExp;
  tags: Tags;
}

const k8sVersion = re(/^v1\.(2\d|3[0-2])\.\d{1,2}$/);

/** Registries and their repositories. */
const REGISTRIES: Record<string, Repo[]> = {
  'docker.io': [
    { repository: 'library/nginx', tags: withVariants(either(oneOf('latest', 'stable', 'mainline', 'alpine', 'perl', 'otel'), semver('1', '1?[0-9]|2[0-9]')), ['alpine', 'slim', 'perl', 'otel', 'bookworm', 'bullseye']) },
    { repository: 'library/httpd', tags: withVariants(either(oneOf('latest', 'alpine'), semver('2', '2|4', '\\d{1,2}')), ['alpine', 'bookworm', 'bullseye']) },
    { repository: 'library/busybox', tags: withVariants(either(oneOf('latest', 'stable', 'musl', 'glibc', 'uclibc', 'unstable'), semver('1', '2[0-9]|3[0-7]', '\\d')), ['musl', 'glibc', 'uclibc']) },
    { repository: 'library/alpine', tags: either(oneOf('latest', 'edge'), semver('3', '1?[0-9]|2[0-2]', '\\d{1,2}')) },
    { repository: 'library/ubuntu', tags: either(oneOf('latest', 'rolling', 'devel', 'focal', 'jammy', 'noble', 'oracular', 'plucky', 'questing', 'bionic'), re(/^(1[468]|2[0-5])\.(04|10)(\.\d)?$/), re(/^(focal|jammy|noble|oracular|plucky)-\d{8}(\.\d)?$/)) },
    { repository: 'library/debian', tags: withVariants(either(oneOf('latest', 'stable', 'testing', 'unstable', 'sid', 'bookworm', 'bullseye', 'buster', 'trixie', 'oldstable'), re(/^(9|1[0-3])(\.\d{1,2})?$/)), ['slim', 'backports']) },
    { repository: 'library/python', tags: withVariants(either(oneOf('latest', 'slim', 'alpine'), semver('2|3', '\\d|1[0-4]', '\\d{1,2}')), DEBIAN_SUITES) },
    { repository: 'library/perl', tags: withVariants(either(oneOf('latest', 'slim', 'stable'), semver('5', '[0-9]|[1-4][0-9]', '\\d{1,2}')), [...DEBIAN_SUITES, 'threaded']) },
    // Official images a tutorial might start; they run, serving nothing the simulation models.
    ...['redis', 'postgres', 'mysql', 'mariadb', 'mongo', 'memcached', 'rabbitmq', 'node', 'golang', 'openjdk', 'eclipse-temurin', 'ruby', 'php', 'tomcat', 'traefik', 'caddy', 'haproxy', 'wordpress', 'registry', 'hello-world', 'centos', 'fedora', 'amazonlinux', 'rockylinux', 'almalinux', 'bash', 'elasticsearch', 'kibana', 'cassandra', 'zookeeper', 'consul', 'vault', 'nats', 'influxdb', 'telegraf'].map(
      (name): Repo => ({ repository: `library/${name}`, tags: re(/^(latest|stable|lts|alpine|slim|[0-9][A-Za-z0-9_.-]*|[a-z]+(-[a-z0-9.]+)*)$/) }),
    ),
    { repository: 'nginxinc/nginx-unprivileged', tags: withVariants(either(oneOf('latest', 'stable', 'mainline', 'alpine'), semver('1', '1?[0-9]|2[0-9]')), ['alpine', 'slim', 'perl', 'bookworm']) },
    { repository: 'curlimages/curl', tags: either(oneOf('latest'), re(/^[78]\.\d{1,3}\.\d{1,2}$/)) },
    { repository: 'kennethreitz/httpbin', tags: oneOf('latest') },
    { repository: 'citizenstig/httpbin', tags: oneOf('latest') },
    { repository: 'kong/httpbin', tags: oneOf('latest', '0.1.0', '0.2.0', '0.2.1', '0.2.2', '0.2.3') },
    { repository: 'mccutchen/go-httpbin', tags: either(oneOf('latest'), re(/^v2\.\d{1,2}\.\d{1,2}$/)) },
    { repository: 'hashicorp/http-echo', tags: oneOf('latest', '1.0', '1.0.0', '0.2.3', '0.2.1', 'alpine') },
    { repository: 'fortio/fortio', tags: either(oneOf('latest', 'latest_release'), re(/^1\.\d{1,2}\.\d{1,2}$/)) },
    { repository: 'envoyproxy/envoy', tags: either(oneOf('latest', 'dev'), re(/^(distroless-)?v1\.\d{1,2}(\.\d{1,2}|-latest)$/)) },
    { repository: /^istio\/examples-bookinfo-(details|ratings|reviews|productpage|mongodb|mysqldb)-v\d(-mysql(-vm)?)?$/, tags: bookinfoTags },
    { repository: /^istio\/examples-bookinfo-(mongodb|mysqldb)$/, tags: bookinfoTags },
    { repository: /^istio\/examples-helloworld-v\d$/, tags: re(/^1\.\d$|^latest$/) },
    { repository: 'istio/tcp-echo-server', tags: re(/^1\.\d$|^latest$/) },
    { repository: 'istio/fortio', tags: either(oneOf('latest', 'latest_release'), re(/^1\.\d{1,2}\.\d{1,2}$/)) },
    { repository: /^istio\/(proxyv2|pilot|install-cni|ztunnel|operator|base|distroless|app|ext-authz)$/, tags: istioTags },
    // The Istio release's samples/addons.
    { repository: 'prom/prometheus', tags: re(/^v[23]\.\d{1,2}\.\d{1,2}$|^latest$/) },
    { repository: 'prom/node-exporter', tags: re(/^v1\.\d{1,2}\.\d{1,2}$|^latest$/) },
    { repository: 'grafana/grafana', tags: re(/^\d{1,2}\.\d{1,2}\.\d{1,2}$|^latest$/) },
    { repository: 'grafana/loki', tags: re(/^[23]\.\d{1,2}\.\d{1,2}$|^latest$/) },
    { repository: 'grafana/promtail', tags: re(/^[23]\.\d{1,2}\.\d{1,2}$|^latest$/) },
    { repository: 'jaegertracing/all-in-one', tags: re(/^1\.\d{1,2}(\.\d{1,2})?$|^latest$/) },
    { repository: 'jaegertracing/jaeger', tags: re(/^2\.\d{1,2}\.\d{1,2}$|^latest$/) },
    { repository: /^openzipkin\/zipkin(-slim)?$/, tags: re(/^[23]\.?\d{0,2}(\.\d{1,2})?$|^latest$/) },
  ],
  'registry.k8s.io': [
    { repository: /^kube-(apiserver|controller-manager|scheduler|proxy)$/, tags: k8sVersion },
    { repository: 'etcd', tags: re(/^3\.[45]\.\d{1,2}(-\d)?$/) },
    { repository: 'coredns/coredns', tags: re(/^v1\.\d{1,2}\.\d{1,2}$/) },
    { repository: 'pause', tags: re(/^3\.\d{1,2}$/) },
    { repository: 'echoserver', tags: oneOf('1.4', '1.10') },
    { repository: /^e2e-test-images\/(agnhost|busybox|nginx|httpd|nonewprivs|resource-consumer)$/, tags: re(/^\d+\.\d+(\.\d+)?(-\d)?$/) },
    { repository: 'metrics-server/metrics-server', tags: re(/^v0\.\d\.\d$/) },
    { repository: 'ingress-nginx/controller', tags: re(/^v1\.\d{1,2}\.\d{1,2}$/) },
    { repository: 'hpa-example', tags: oneOf('latest') },
    { repository: 'busybox', tags: oneOf('latest', '1.27', '1.24') },
  ],
  'gcr.io': [
    { repository: /^istio-(release|testing)\/(proxyv2|pilot|install-cni|ztunnel|operator|app|ext-authz)$/, tags: either(istioTags, re(/^1\.\d{1,2}-(dev|alpha)\.?[0-9a-f]*$|^latest$/)) },
    { repository: /^istio-(release|testing)\/examples-bookinfo-[a-z]+(-v\d)?(-mysql(-vm)?)?$/, tags: bookinfoTags },
    { repository: /^google-samples\/(hello-app|node-hello|gb-frontend|gb-redis-follower|microservices-demo\/[a-z]+)$/, tags: re(/^\d+\.\d+(\.\d+)?$|^v\d+(\.\d+)*$|^latest$/) },
  ],
  'registry.istio.io': [
    { repository: /^release\/examples-bookinfo-(details|ratings|reviews|productpage|mongodb|mysqldb)(-v\d)?(-mysql(-vm)?)?$/, tags: bookinfoTags },
    { repository: /^release\/(proxyv2|pilot|install-cni|ztunnel|operator)$/, tags: istioTags },
    { repository: /^testing\/(proxyv2|pilot|install-cni|ztunnel|app|ext-authz)$/, tags: either(istioTags, re(/^1\.\d{1,2}-dev(\.[0-9a-f]+)?$|^latest$/)) },
  ],
  'quay.io': [
    { repository: 'kiali/kiali', tags: re(/^v[12]\.\d{1,3}(\.\d{1,2})?$|^latest$/) },
    { repository: 'prometheus/prometheus', tags: re(/^v[23]\.\d{1,2}\.\d{1,2}$|^latest$/) },
    { repository: /^jetstack\/cert-manager-(controller|webhook|cainjector|acmesolver|startupapicheck)$/, tags: re(/^v1\.\d{1,2}\.\d{1,2}$/) },
  ],
  'ghcr.io': [{ repository: 'mccutchen/go-httpbin', tags: either(oneOf('latest'), re(/^v?2\.\d{1,2}\.\d{1,2}$/)) }],
  'cr.l5d.io': [],
  'public.ecr.aws': [{ repository: /^docker\/library\/(nginx|busybox|alpine|httpd|python|ubuntu|debian|redis)$/, tags: any }],
  'mcr.microsoft.com': [],
};

/** Names a registry answers to besides its own (the Docker Hub's, registry.k8s.io's frozen predecessor). */
const ALIASES: Record<string, string> = {
  'index.docker.io': 'docker.io',
  'registry-1.docker.io': 'docker.io',
  'registry.hub.docker.com': 'docker.io',
  'mirror.gcr.io': 'docker.io',
  'k8s.gcr.io': 'registry.k8s.io',
};

export interface PullFailure {
  /**
   * `pull`: the registry refused (ErrImagePull); `invalid`: the reference does not parse, so the
   * kubelet never pulls (InvalidImageName).
   */
  kind: 'pull' | 'invalid';
  /** The CRI error as the kubelet prints it after `Failed to pull image "…": `, or the parse error. */
  message: string;
}

/** `docker.io/library/nginx:latest`, as containerd names a reference in its errors. */
export function fullReference(ref: ImageRef): string {
  return `${ref.registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

function repoIn(registry: string, repository: string): Repo | undefined {
  return REGISTRIES[registry]?.find((r) => (typeof r.repository === 'string' ? r.repository === repository : r.repository.test(repository)));
}

/**
 * Whether the registry serves this image; undefined when the pull succeeds, else containerd's
 * error. Digests are accepted for known repositories (the simulation keeps no manifests).
 */
export function registryPull(image: string): PullFailure | undefined {
  const ref = parseImage(image);
  const full = fullReference(ref);
  const head = `failed to pull and unpack image "${full}": failed to resolve reference "${full}"`;
  // A reference the docker grammar rejects never reaches a registry (distribution/reference's errors).
  if (/[A-Z]/.test(ref.repository)) return { kind: 'invalid', message: `couldn't parse image reference "${image}": invalid reference format: repository name must be lowercase` };
  if (!/^[a-z0-9]+([._-]+[a-z0-9]+)*(\/[a-z0-9]+([._-]+[a-z0-9]+)*)*$/.test(ref.repository) || (ref.tag && !/^[\w][\w.-]{0,127}$/.test(ref.tag))) {
    return { kind: 'invalid', message: `couldn't parse image reference "${image}": invalid reference format` };
  }
  const registry = ALIASES[ref.registry] ?? ref.registry;
  const host = ref.registry;
  if (!(registry in REGISTRIES)) {
    // No such host: the node's resolver cannot find it (the simulated cluster reaches only the public registries it knows).
    const target = ref.tag ? `manifests/${ref.tag}` : `manifests/${ref.digest}`;
    return { kind: 'pull', message: `${head}: failed to do request: Head "https://${host}/v2/${ref.repository}/${target}": dial tcp: lookup ${host.replace(/:\d+$/, '')}: no such host` };
  }
  const repo = repoIn(registry, ref.repository);
  if (!repo) {
    if (registry === 'docker.io') return { kind: 'pull', message: `${head}: pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed` };
    if (registry === 'ghcr.io' || registry === 'quay.io' || registry === 'gcr.io')
      return { kind: 'pull', message: `${head}: failed to authorize: failed to fetch anonymous token: unexpected status from GET request to https://${host}/token?scope=repository%3A${encodeURIComponent(ref.repository)}%3Apull&service=${host}: 403 Forbidden` };
    return { kind: 'pull', message: `rpc error: code = NotFound desc = ${head}: ${full}: not found` };
  }
  if (ref.digest) return /^sha256:[0-9a-f]{64}$/.test(ref.digest) ? undefined : { kind: 'invalid', message: `couldn't parse image reference "${image}": invalid reference format` };
  if (!repo.tags(ref.tag)) return { kind: 'pull', message: `rpc error: code = NotFound desc = ${head}: ${full}: not found` };
  return undefined;
}
