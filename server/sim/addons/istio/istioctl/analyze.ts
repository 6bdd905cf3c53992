/**
 * `istioctl analyze` for the analyzers lessons meet (pkg/config/analysis/analyzers): IST0101
 * ReferencedResourceNotFound (VirtualService hosts, subsets, gateways), IST0102
 * NamespaceNotInjected, IST0103 PodMissingProxy, IST0118 PortNameIsNotUnderNamingConvention. Messages, ordering, the
 * summary lines and exit code 79 follow istioctl/pkg/analyze/analyze.go and diag/message.go.
 */
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import type { CommandIO } from './io.js';
import { CommandError, EXIT } from './io.js';
import { connect } from './cluster.js';
import { resourceOf, type ClientOptions, type KubeClient } from './kube.js';
import type { KubeObject } from '../manifests/objects.js';

type Level = 'Error' | 'Warning' | 'Info';
const LEVEL_RANK: Record<Level, number> = { Error: 3, Warning: 2, Info: 1 };

interface Message {
  level: Level;
  code: string;
  origin: string;
  text: string;
}

/** Namespaces the analyzers skip (analyzers/util: system namespaces). */
const SYSTEM_NAMESPACES = new Set(['kube-system', 'kube-public', 'kube-node-lease', 'local-path-storage', 'istio-system']);

/** protocol.Parse's names (pkg/config/protocol/instance.go); a port name is `<proto>` or `<proto>-<suffix>`. */
const PROTOCOLS = ['grpc', 'grpc-web', 'http', 'http2', 'https', 'tcp', 'tls', 'udp', 'mongo', 'redis', 'mysql', 'unsupported'];

function portNameOk(name: string | undefined): boolean {
  if (!name) return false;
  const lower = name.toLowerCase();
  return PROTOCOLS.some((p) => lower === p || lower.startsWith(`${p}-`));
}

interface World {
  pods: KubeObject[];
  namespaces: KubeObject[];
  services: KubeObject[];
  virtualServices: KubeObject[];
  destinationRules: KubeObject[];
  gateways: KubeObject[];
  serviceEntries: KubeObject[];
}

/** `reviews` in namespace default → `reviews.default.svc.cluster.local` (host.Name resolution). */
function fqdn(host: string, ns: string): string {
  if (host.includes('*')) return host;
  const parts = host.split('.');
  if (parts.length === 1) return `${host}.${ns}.svc.cluster.local`;
  if (parts.length === 2) return `${host}.svc.cluster.local`;
  return host;
}

function origin(o: KubeObject): string {
  return `${o.kind} ${o.metadata.namespace ?? 'default'}/${o.metadata.name}`;
}

function analyzeWorld(w: World, inScope: (ns: string) => boolean): Message[] {
  const msgs: Message[] = [];
  const serviceHosts = new Set(w.services.map((s) => `${s.metadata.name}.${s.metadata.namespace}.svc.cluster.local`));
  const entryHosts = w.serviceEntries.flatMap((se) => ((se.spec as { hosts?: string[] })?.hosts ?? []).map((h) => h));
  const hostExists = (h: string) => serviceHosts.has(h) || entryHosts.some((e) => e === h || (e.startsWith('*') && h.endsWith(e.slice(1))));
  /** Subsets that DestinationRules for this host define, in any namespace. */
  const subsetsOf = (h: string): Set<string> => {
    const drs = w.destinationRules.filter((d) => fqdn(String((d.spec as { host?: string })?.host ?? ''), d.metadata.namespace ?? 'default') === h);
    return new Set(drs.flatMap((d) => ((d.spec as { subsets?: { name: string }[] })?.subsets ?? []).map((s) => s.name)));
  };
  const gatewayNames = new Set(w.gateways.map((g) => `${g.metadata.namespace}/${g.metadata.name}`));

  for (const vs of w.virtualServices) {
    const ns = vs.metadata.namespace ?? 'default';
    if (!inScope(ns)) continue;
    const spec = (vs.spec ?? {}) as Record<string, unknown>;
    for (const g of (spec.gateways as string[] | undefined) ?? []) {
      if (g === 'mesh') continue;
      const key = g.includes('/') ? g : `${ns}/${g}`;
      if (!gatewayNames.has(key)) msgs.push({ level: 'Error', code: 'IST0101', origin: origin(vs), text: `Referenced gateway not found: "${g}"` });
    }
    for (const kind of ['http', 'tcp', 'tls'] as const) {
      for (const route of (spec[kind] as { route?: { destination?: { host?: string; subset?: string } }[]; mirror?: { host?: string } }[] | undefined) ?? []) {
        for (const r of route.route ?? []) {
          const d = r.destination;
          if (!d?.host) continue;
          const h = fqdn(d.host, ns);
          if (!h.includes('*') && !hostExists(h)) {
            msgs.push({ level: 'Error', code: 'IST0101', origin: origin(vs), text: `Referenced host not found: "${d.host}"` });
            continue;
          }
          if (d.subset) {
            if (!subsetsOf(h).has(d.subset)) msgs.push({ level: 'Error', code: 'IST0101', origin: origin(vs), text: `Referenced host+subset in destinationrule not found: "${d.host}+${d.subset}"` });
          }
        }
        if (route.mirror?.host && !hostExists(fqdn(route.mirror.host, ns))) {
          msgs.push({ level: 'Error', code: 'IST0101', origin: origin(vs), text: `Referenced mirror host not found: "${route.mirror.host}"` });
        }
      }
    }
  }

  for (const n of w.namespaces) {
    const name = n.metadata.name;
    if (!inScope(name) || SYSTEM_NAMESPACES.has(name)) continue;
    const l = n.metadata.labels ?? {};
    if (l['istio-injection'] === undefined && l['istio.io/rev'] === undefined && l['istio.io/dataplane-mode'] === undefined) {
      msgs.push({
        level: 'Info',
        code: 'IST0102',
        origin: `Namespace ${name}`,
        text: `The namespace is not enabled for Istio injection. Run 'kubectl label namespace ${name} istio-injection=enabled' to enable it, or 'kubectl label namespace ${name} istio-injection=disabled' to explicitly mark it as not needing injection.`,
      });
    }
  }

  // IST0103 (analyzers/injection): a pod in an injection-enabled namespace without the proxy, e.g. created before the label.
  const injected = new Set(w.namespaces.filter((n) => n.metadata.labels?.['istio-injection'] === 'enabled' || (n.metadata.labels?.['istio.io/rev'] && n.metadata.labels?.['istio-injection'] === undefined)).map((n) => n.metadata.name));
  for (const p of w.pods) {
    const ns = p.metadata.namespace ?? 'default';
    if (!inScope(ns) || SYSTEM_NAMESPACES.has(ns) || !injected.has(ns)) continue;
    const spec = (p.spec ?? {}) as { hostNetwork?: boolean; containers?: { name: string }[]; initContainers?: { name: string }[] };
    if (spec.hostNetwork || p.metadata.labels?.['sidecar.istio.io/inject'] === 'false' || p.metadata.annotations?.['sidecar.istio.io/inject'] === 'false') continue;
    if ([...(spec.containers ?? []), ...(spec.initContainers ?? [])].some((c) => c.name === 'istio-proxy')) continue;
    msgs.push({ level: 'Warning', code: 'IST0103', origin: `Pod ${ns}/${p.metadata.name}`, text: `The pod ${ns}/${p.metadata.name} is missing the Istio proxy. This can often be resolved by restarting or redeploying the workload.` });
  }

  for (const s of w.services) {
    const ns = s.metadata.namespace ?? 'default';
    if (!inScope(ns) || SYSTEM_NAMESPACES.has(ns)) continue;
    if (s.metadata.name === 'kubernetes' && ns === 'default') continue;
    for (const p of ((s.spec as { ports?: { name?: string; port: number; targetPort?: number | string; appProtocol?: string }[] })?.ports ?? [])) {
      if (p.appProtocol || portNameOk(p.name)) continue;
      msgs.push({ level: 'Info', code: 'IST0118', origin: origin(s), text: `Port name ${p.name ?? ''} (port: ${p.port}, targetPort: ${p.targetPort ?? p.port}) doesn't follow the naming convention of Istio port.` });
    }
  }
  return msgs;
}

function sortMessages(msgs: Message[]): Message[] {
  const seen = new Set<string>();
  return msgs
    .filter((m) => {
      const k = `${m.code}|${m.origin}|${m.text}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    })
    .sort((a, b) => LEVEL_RANK[b.level] - LEVEL_RANK[a.level] || a.code.localeCompare(b.code) || a.origin.localeCompare(b.origin) || a.text.localeCompare(b.text));
}

function parseLevel(v: string, flag: string): Level {
  const m = (['Error', 'Warning', 'Info'] as Level[]).find((l) => l.toLowerCase() === v.toLowerCase());
  if (!m) throw new CommandError(`${flag}: ${v} is not a valid level (valid: Info, Warning, Error)`, EXIT.usage);
  return m;
}

export interface AnalyzeOptions extends ClientOptions {
  namespace?: string;
  allNamespaces: boolean;
  files: string[];
  useKube: boolean;
  failureThreshold: string;
  outputThreshold: string;
  output: string;
}

function filesToObjects(files: string[]): KubeObject[] {
  const out: KubeObject[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      throw new CommandError(`error reading file ${f}: open ${f}: no such file or directory`);
    }
    for (const doc of YAML.parseAllDocuments(text)) {
      const o = doc.toJS() as KubeObject | null;
      if (o && typeof o === 'object' && o.kind && o.metadata?.name) out.push(o);
    }
  }
  return out;
}

async function fromCluster(client: KubeClient): Promise<World> {
  const [pods, namespaces, services, virtualServices, destinationRules, gateways, serviceEntries] = await Promise.all([
    client.list(resourceOf('v1', 'Pod')),
    client.list(resourceOf('v1', 'Namespace')),
    client.list(resourceOf('v1', 'Service')),
    client.list(resourceOf('networking.istio.io/v1', 'VirtualService')),
    client.list(resourceOf('networking.istio.io/v1', 'DestinationRule')),
    client.list(resourceOf('networking.istio.io/v1', 'Gateway')),
    client.list(resourceOf('networking.istio.io/v1', 'ServiceEntry')),
  ]);
  return { pods, namespaces, services, virtualServices, destinationRules, gateways, serviceEntries };
}

export async function analyze(io: CommandIO, o: AnalyzeOptions): Promise<number> {
  const failure = parseLevel(o.failureThreshold, '--failure-threshold');
  const outputLevel = parseLevel(o.outputThreshold, '--output-threshold');
  if (!['log', 'json', 'yaml'].includes(o.output)) throw new CommandError(`invalid output format: ${o.output}`, EXIT.usage);
  const fileObjects = filesToObjects(o.files);
  const ns = o.allNamespaces ? undefined : (o.namespace ?? 'default');
  let world: World = { pods: [], namespaces: [], services: [], virtualServices: [], destinationRules: [], gateways: [], serviceEntries: [] };
  if (o.useKube) {
    const client = await connect(o);
    try {
      world = await fromCluster(client);
    } finally {
      client.close();
    }
  }
  // Files override cluster objects of the same kind, namespace and name.
  for (const f of fileObjects) {
    f.metadata.namespace ??= ns ?? 'default';
    const list = f.kind === 'VirtualService' ? world.virtualServices : f.kind === 'DestinationRule' ? world.destinationRules : f.kind === 'Gateway' ? world.gateways : f.kind === 'ServiceEntry' ? world.serviceEntries : f.kind === 'Service' ? world.services : f.kind === 'Namespace' ? world.namespaces : undefined;
    if (!list) continue;
    const i = list.findIndex((x) => x.metadata.name === f.metadata.name && x.metadata.namespace === f.metadata.namespace);
    if (i >= 0) list[i] = f;
    else list.push(f);
  }
  const inScope = (n: string) => ns === undefined || n === ns;
  const all = sortMessages(analyzeWorld(world, inScope));
  const shown = all.filter((m) => LEVEL_RANK[m.level] >= LEVEL_RANK[outputLevel]);
  const scope = o.files.length && !o.useKube ? o.files.join(', ') : ns === undefined ? 'all namespaces' : `namespace: ${ns}`;
  if (o.output === 'log') {
    for (const m of shown) {
      const colour = io.tty ? (m.level === 'Error' ? '\x1b[31m' : m.level === 'Warning' ? '\x1b[33m' : '\x1b[36m') : '';
      io.out(`${colour}${m.level}${io.tty ? '\x1b[0m' : ''} [${m.code}] (${m.origin}) ${m.text}\n`);
    }
  } else {
    const data = shown.map((m) => ({ code: m.code, documentationUrl: `https://istio.io/v1.30/docs/reference/config/analysis/${m.code.toLowerCase()}/`, level: m.level, message: m.text, origin: m.origin.replace(/^(\S+) (.*)$/, '$1 $2') }));
    io.out(o.output === 'json' ? `${JSON.stringify(data, null, '\t')}\n` : YAML.stringify(data));
  }
  const failing = all.some((m) => LEVEL_RANK[m.level] >= LEVEL_RANK[failure]);
  if (failing) {
    io.err(`Error: Analyzers found issues when analyzing ${scope}.\nSee https://istio.io/v1.30/docs/reference/config/analysis for more information about causes and resolutions.\n`);
    return EXIT.analyzerFoundIssues;
  }
  if (!shown.length && o.output === 'log') {
    io.out('\n');
    io.err(`✔ No validation issues found when analyzing ${scope}.\n`);
  }
  return EXIT.ok;
}
