/** `istioctl version` and `istioctl proxy-status`: what runs in the mesh, read from pods. */
import type { CommandIO } from './io.js';
import { CommandError, EXIT } from './io.js';
import { connect } from './cluster.js';
import { resourceOf, type ClientOptions } from './kube.js';
import type { KubeObject } from '../manifests/objects.js';
import { ISTIO_VERSION } from '../version.js';

interface PodLike extends KubeObject {
  spec: { containers: { name: string; image: string }[]; initContainers?: { name: string; image: string; restartPolicy?: string }[] };
  status?: { phase?: string; conditions?: { type: string; status: string }[] };
}

function tagOf(image: string): string {
  const at = image.indexOf('@');
  const ref = at >= 0 ? image.slice(0, at) : image;
  const colon = ref.lastIndexOf(':');
  return colon > ref.lastIndexOf('/') ? ref.slice(colon + 1) : 'latest';
}

function running(p: PodLike): boolean {
  return p.status?.phase === 'Running';
}

function ready(p: PodLike): boolean {
  return running(p) && !!p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
}

/** The istio-proxy container of a pod (sidecar, native sidecar or gateway), if any. */
function proxyContainer(p: PodLike): { image: string } | undefined {
  return p.spec.containers.find((c) => c.name === 'istio-proxy') ?? p.spec.initContainers?.find((c) => c.name === 'istio-proxy' && c.restartPolicy === 'Always');
}

export async function version(io: CommandIO, o: ClientOptions & { remote: boolean; short: boolean; istioNamespace: string; output?: string }): Promise<number> {
  if (o.output && o.output !== 'json' && o.output !== 'yaml') throw new CommandError(`--output must be 'yaml' or 'json'`);
  if (o.output) throw new CommandError(`version -o ${o.output} is not supported by the embedded cluster yet`);
  if (!o.remote) {
    io.out(o.short ? `${ISTIO_VERSION}\n` : `client version: version.BuildInfo{Version:"${ISTIO_VERSION}", GitRevision:"", GolangVersion:"go1.24.4", BuildStatus:"Clean", GitTag:"${ISTIO_VERSION}"}\n`);
    return EXIT.ok;
  }
  const client = await connect(o);
  try {
    const podsRef = resourceOf('v1', 'Pod');
    const istiods = ((await client.list(podsRef, o.istioNamespace, 'app=istiod')) as PodLike[]).filter(running);
    if (!istiods.length) {
      io.err(`Istio is not present in the cluster: no running Istio pods in namespace "${o.istioNamespace}"\n`);
      io.out(`client version: ${ISTIO_VERSION}\n`);
      return EXIT.ok;
    }
    const cp = [...new Set(istiods.map((p) => tagOf(p.spec.containers.find((c) => c.name === 'discovery')?.image ?? '')))];
    const proxies = ((await client.list(podsRef)) as PodLike[]).filter((p) => running(p) && proxyContainer(p));
    const counts = new Map<string, number>();
    for (const p of proxies) {
      const v = tagOf(proxyContainer(p)!.image);
      counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    const dp = counts.size ? [...counts].map(([v, n]) => `${v} (${n} proxies)`).join(', ') : 'none';
    io.out(`client version: ${ISTIO_VERSION}\ncontrol plane version: ${cp.join(', ')}\ndata plane version: ${dp}\n`);
    return EXIT.ok;
  } finally {
    client.close();
  }
}

/** Go's text/tabwriter with minwidth 0, padding p, padchar ' ' (trailing cells are not padded). */
export function tabwrite(rows: string[][], pad: number): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, [...c].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat(widths[i]! - [...c].length + pad))).join('') + '\n').join('');
}

interface SynczEntry {
  cluster_id: string;
  proxy: string;
  istio_version: string;
  istiod: string;
  cluster_sent: string;
  listener_sent: string;
  endpoint_sent: string;
  route_sent: string;
}

const SENT = { CDS: 'cluster_sent', LDS: 'listener_sent', EDS: 'endpoint_sent', RDS: 'route_sent' } as const;

export async function proxyStatus(io: CommandIO, o: ClientOptions & { istioNamespace: string; namespace?: string }): Promise<number> {
  const client = await connect(o);
  try {
    const podsRef = resourceOf('v1', 'Pod');
    const istiods = ((await client.list(podsRef, o.istioNamespace, 'app=istiod')) as PodLike[]).filter(ready);
    if (!istiods.length) throw new CommandError('unable to find any Istiod instances');
    // What each istiod reports of its connected proxies (/debug/syncz, reached through the API server's pod proxy).
    const entries: SynczEntry[] = [];
    for (const istiod of istiods) {
      const res = await client.request('GET', `/api/v1/namespaces/${encodeURIComponent(o.istioNamespace)}/pods/${encodeURIComponent(istiod.metadata.name)}:8080/proxy/debug/syncz`);
      if (res.status !== 200) throw new CommandError(`failed to get proxy status from ${istiod.metadata.name}: ${res.text.trim()}`);
      entries.push(...(JSON.parse(res.text) as SynczEntry[]));
    }
    const rows = entries
      .filter((e) => !o.namespace || e.proxy.endsWith(`.${o.namespace}`))
      .sort((a, b) => (a.proxy < b.proxy ? -1 : a.proxy > b.proxy ? 1 : 0))
      .map((e) => {
        const types = (['CDS', 'LDS', 'EDS', 'RDS'] as const).filter((t) => e[SENT[t]]);
        return [e.proxy, e.cluster_id, e.istiod, e.istio_version, types.length ? `${types.length} (${types.join(',')})` : '0'];
      });
    io.out(tabwrite([['NAME', 'CLUSTER', 'ISTIOD', 'VERSION', 'SUBSCRIBED TYPES'], ...rows], 5));
    return EXIT.ok;
  } finally {
    client.close();
  }
}
