/**
 * `istioctl x describe pod` (istioctl/pkg/describe/describe.go): the pod, the Services that select
 * it, the DestinationRule and VirtualService its sidecar's config (read from its Envoy's config
 * dump) says apply, the RBAC policies on its inbound listener, the effective PeerAuthentication
 * (composed client-side from the API's PeerAuthentications, as istioctl does), and how the
 * ingress gateway exposes it.
 */
import { parse as parseYaml } from 'yaml';
import { flagBool, flagString, parseArgs, type FlagSpec } from './args.js';
import { CommandError, EXIT, type CommandIO } from './io.js';
import { connect } from './cluster.js';
import { ApiStatusError, type KubeClient, type ResourceRef } from './kube.js';
import { envoyDo, EnvoyDoError } from './envoy-admin.js';
import { inferNsInfo } from './pods.js';
import type { KubeObject } from '../manifests/objects.js';

type Json = Record<string, any>;
type Obj = KubeObject & { spec?: Json; status?: Json };

const ref = (group: string, version: string, plural: string, kind: string): ResourceRef & { apiVersion: string; kind: string } => ({ group, version, plural, namespaced: true, apiVersion: group ? `${group}/${version}` : version, kind });
const PODS = ref('', 'v1', 'pods', 'Pod');
const SERVICES = ref('', 'v1', 'services', 'Service');
const CONFIGMAPS = ref('', 'v1', 'configmaps', 'ConfigMap');
const DRS = ref('networking.istio.io', 'v1', 'destinationrules', 'DestinationRule');
const VSS = ref('networking.istio.io', 'v1', 'virtualservices', 'VirtualService');
const GWS = ref('networking.istio.io', 'v1', 'gateways', 'Gateway');
const PAS = ref('security.istio.io', 'v1', 'peerauthentications', 'PeerAuthentication');

const L1 = '   ';
const L2 = '      ';
const SUFFIX = '.svc.cluster.local';
const SEP = '--------------------\n';

/** Selector `set` matches `labels` (labels.SelectorFromSet; an empty set matches everything). */
const matches = (set: Record<string, string> | undefined, labels: Record<string, string> | undefined) => Object.entries(set ?? {}).every(([k, v]) => labels?.[k] === v);

class Describer {
  private out = '';
  constructor(
    private readonly io: CommandIO,
    private readonly client: KubeClient,
    private readonly describeNamespace: string,
    private readonly ignoreUnmeshed: boolean,
  ) {}

  w(s: string): void {
    this.out += s;
  }

  flush(): void {
    if (this.out) this.io.out(this.out);
    this.out = '';
  }

  kname(m: { name: string; namespace?: string }): string {
    return m.namespace === this.describeNamespace ? m.name : `${m.name}.${m.namespace}`;
  }

  async get(r: ResourceRef, name: string, ns: string): Promise<Obj | undefined> {
    try {
      return (await this.client.get(r, name, ns)) as Obj | undefined;
    } catch (e) {
      if (e instanceof ApiStatusError && e.code === 404) return undefined;
      throw e;
    }
  }

  async configDump(pod: string, ns: string, errPrefix: string): Promise<Json | undefined> {
    let text: string;
    try {
      text = await envoyDo(this.client, ns, pod, 'GET', 'config_dump');
    } catch (e) {
      if (!(e instanceof EnvoyDoError)) throw e;
      this.flush();
      for (const l of e.logs) this.io.err(l + '\n');
      if (this.ignoreUnmeshed && errPrefix === 'sidecar') return undefined;
      throw new CommandError(`failed to execute command on ${errPrefix}: ${e.message}`);
    }
    try {
      return JSON.parse(text) as Json;
    } catch (e) {
      throw new CommandError(`can't parse sidecar config_dump for ${(e as Error).message}: ${pod}`);
    }
  }

  // ---- the pod ---------------------------------------------------------------------------

  printPod(pod: Obj, revision: string): void {
    const ports: string[] = [];
    for (const c of (pod.spec?.containers as Json[]) ?? []) {
      for (const p of (c.ports as Json[]) ?? []) ports.push(`${p.containerPort}${p.protocol && p.protocol !== 'TCP' ? `/${p.protocol}` : ''} (${c.name})`);
      if (c.name !== 'istio-proxy' && c.name !== 'istio-operator' && c.securityContext?.runAsUser === 1337) this.w('WARNING: User ID (UID) 1337 is reserved for the sidecar proxy.\n');
    }
    this.w(`Pod: ${this.kname(pod.metadata as { name: string; namespace?: string })}\n`);
    this.w(`${L1}Pod Revision: ${revision}\n`);
    this.w(ports.length ? `${L1}Pod Ports: ${ports.join(', ')}\n` : `${L1}Pod does not expose ports\n`);
    const phase = pod.status?.phase;
    if (phase !== 'Running') {
      // describe.go prints this one with fmt.Printf, straight to stdout.
      this.w(`${L1}Pod is not Running (${phase ?? ''})\n`);
      return;
    }
    for (const s of (pod.status?.containerStatuses as Json[]) ?? []) if (!s.ready) this.w(`WARNING: Pod ${this.kname(pod.metadata as { name: string; namespace?: string })} Container ${s.name} NOT READY\n`);
    for (const s of (pod.status?.initContainerStatuses as Json[]) ?? []) if (!s.ready) this.w(`WARNING: Pod ${this.kname(pod.metadata as { name: string; namespace?: string })} Init Container ${s.name} NOT READY\n`);
    if (this.ignoreUnmeshed) return;
    if (!isMeshed(pod)) {
      this.w(`WARNING: ${this.kname(pod.metadata as { name: string; namespace?: string })} is not part of mesh; no Istio sidecar\n`);
      return;
    }
    if (pod.spec?.securityContext?.runAsUser === 1337) this.w(`${L1}WARNING: User ID (UID) 1337 is reserved for the sidecar proxy.\n`);
    const labels = pod.metadata.labels ?? {};
    const url = 'https://istio.io/latest/docs/ops/deployment/application-requirements/';
    if (!labels['service.istio.io/canonical-name'] && !labels['app.kubernetes.io/name'] && !labels.app) this.w(`Suggestion: add required service name label for Istio telemetry. See ${url}.\n`);
    if (!labels['service.istio.io/canonical-revision'] && !labels['app.kubernetes.io/version'] && !labels.version) this.w(`Suggestion: add required service revision label for Istio telemetry. See ${url}.\n`);
  }

  printService(svc: Obj, pod: Obj): void {
    this.w(`Service: ${this.kname(svc.metadata as { name: string; namespace?: string })}\n`);
    for (const port of (svc.spec?.ports as Json[]) ?? []) {
      if ((port.protocol ?? 'TCP') !== 'TCP') continue;
      const target = findPort(pod, port);
      if (typeof target === 'number') this.w(`${L1}Port: ${port.name ?? ''} ${port.port}/${protocolForPort(port)} targets pod port ${target}\n`);
      else this.w(`${L1}${target.error}\n`);
    }
  }

  // ---- DestinationRule / VirtualService ------------------------------------------------------

  printDestinationRule(indent: string, dr: Obj, podsLabels: Record<string, string>[]): void {
    this.w(`${indent}DestinationRule: ${this.kname(dr.metadata as { name: string; namespace?: string })} for ${JSON.stringify(dr.spec?.host ?? '')}\n`);
    const { matching, nonMatching } = subsets(dr, podsLabels);
    if (matching.length || nonMatching.length) {
      if (!matching.length) this.w(`${indent}${L1}WARNING POD DOES NOT MATCH ANY SUBSETS.  (Non matching subsets ${nonMatching.join(',')})\n`);
      this.w(`${indent}${L1}Matching subsets: ${matching.join(',')}\n`);
      if (nonMatching.length) this.w(`${indent}${L2}(Non-matching subsets ${nonMatching.join(',')})\n`);
    }
    const tp = dr.spec?.trafficPolicy as Json | undefined;
    if (!tp) {
      this.w(`${indent}${L1}No Traffic Policy\n`);
      return;
    }
    if (tp.tls) this.w(`${indent}${L1}Traffic Policy TLS Mode: ${tp.tls.mode ?? 'DISABLE'}\n`);
    const short = shortPolicies(tp);
    if (short) this.w(`${indent}${L1}${short}`);
    if (tp.portLevelSettings) {
      this.w(`${indent}${L1}Port Level Settings:\n`);
      for (const ps of tp.portLevelSettings as Json[]) {
        this.w(`    ${ps.port?.number ?? 0}:\n`);
        if (ps.tls) this.w(`${indent}${L2}TLS Mode: ${ps.tls.mode ?? 'DISABLE'}\n`);
        const sp = shortPolicies(ps);
        if (sp) this.w(`${indent}${L2}${sp}`);
      }
    }
  }

  printVirtualService(indent: string, vs: Obj, svc: Obj, matching: string[], nonMatching: string[], dr: Obj | undefined): void {
    this.w(`${indent}VirtualService: ${this.kname(vs.metadata as { name: string; namespace?: string })}\n`);
    const http = (vs.spec?.http as Json[]) ?? [];
    const tcp = (vs.spec?.tcp as Json[]) ?? [];
    const tls = (vs.spec?.tls as Json[]) ?? [];
    let nMatches = 0;
    let nFacts = 0;
    const mismatch: string[] = [];
    for (const route of http) {
      const r = httpRouteMatchSvc(vs, route, svc, matching, nonMatching, dr, (m) => this.kname(m));
      if (r.match) {
        nMatches++;
        for (const f of r.facts) (this.w(`${indent}${L1}${f}\n`), nFacts++);
      } else mismatch.push(...r.facts);
    }
    for (const route of tcp) {
      const svcHost = extendFQDN(`${svc.metadata.name}.${svc.metadata.namespace}`);
      const match = ((route.route as Json[]) ?? []).some((d) => extendFQDN(resolveShortname(d.destination?.host ?? '', vs.metadata.namespace ?? '')) === svcHost);
      if (match) {
        nMatches++;
        for (const m of (route.match as Json[]) ?? []) (this.w(`${indent}${L1}${JSON.stringify(m)}\n`), nFacts++);
      }
    }
    if (nMatches === 0) {
      if (http.length) this.w(`${indent}${L1}WARNING: No destinations match pod subsets (checked ${http.length} HTTP routes)\n`);
      if (tcp.length) this.w(`${indent}${L1}WARNING: No destinations match pod subsets (checked ${tcp.length} TCP routes)\n`);
      for (const m of mismatch) this.w(`${indent}${L2}${m}\n`);
      return;
    }
    const possible = http.length + tls.length + tcp.length;
    if (nMatches < possible) {
      this.w(`${indent}${L1}${possible - nMatches} additional destination(s) that will not reach this pod\n`);
      if (nFacts === 0) for (const m of mismatch) this.w(`${indent}${L2}${m}\n`);
      return;
    }
    if (nFacts === 0) {
      if (http.length) this.w(`${indent}${L1}${http.length} HTTP route(s)\n`);
      if (tcp.length) this.w(`${indent}${L1}${tcp.length} TCP route(s)\n`);
    }
  }

  async describePodServices(pod: Obj, services: Obj[], podsLabels: Record<string, string>[]): Promise<void> {
    const cd = await this.configDump(pod.metadata.name, pod.metadata.namespace ?? '', 'sidecar');
    if (!cd) return;
    for (let row = 0; row < services.length; row++) {
      const svc = services[row]!;
      if (row !== 0) this.w(SEP);
      this.printService(svc, pod);
      const ports = (svc.spec?.ports as Json[]) ?? [];
      const multi = ports.length > 1;
      const indent = multi ? L1 : '';
      for (const port of ports) {
        if (multi) this.w(`${port.port}:\n`);
        let matching: string[] = [];
        let nonMatching: string[] = [];
        const drRef = destinationRuleFor(cd, svc, port.port);
        let dr: Obj | undefined;
        if (drRef) {
          dr = await this.get(DRS, drRef.name, drRef.namespace);
          if (dr) {
            this.printDestinationRule(indent, dr, podsLabels);
            ({ matching, nonMatching } = subsets(dr, podsLabels));
          } else this.w(`WARNING: Proxy is stale; it references to non-existent destination rule ${drRef.name}.${drRef.namespace}\n`);
        }
        const vsRef = virtualServiceFor(cd, svc, port.port);
        if (vsRef) {
          const vs = await this.get(VSS, vsRef.name, vsRef.namespace);
          if (vs) this.printVirtualService(indent, vs, svc, matching, nonMatching, dr);
          else this.w(`WARNING: Proxy is stale; it references to non-existent virtual service ${vsRef.name}.${vsRef.namespace}\n`);
        }
        const policies = rbacPolicies(cd);
        if (policies.length) {
          if (multi) this.w(`${port.port} `);
          this.w(`RBAC policies: ${policies.join(', ')}\n`);
        }
      }
    }
  }

  // ---- PeerAuthentication ------------------------------------------------------------------

  async describePeerAuthentication(namespace: string, labels: Record<string, string>, istioNamespace: string): Promise<void> {
    const cm = await this.get({ ...CONFIGMAPS }, 'istio', istioNamespace);
    if (!cm) throw new CommandError(`failed to fetch mesh config: could not read configmap "istio" from namespace "${istioNamespace}": configmaps "istio" not found`);
    const meshText = (cm as Json).data?.mesh;
    if (meshText === undefined) throw new CommandError('failed to fetch mesh config: missing config map key "mesh"');
    let rootNamespace = 'istio-system';
    try {
      rootNamespace = (parseYaml(String(meshText)) as Json | null)?.rootNamespace ?? rootNamespace;
    } catch (e) {
      throw new CommandError(`failed to fetch mesh config: error parsing mesh config: ${(e as Error).message}`);
    }
    const workload = (await this.client.list(PAS, namespace)) as Obj[];
    const root = (await this.client.list(PAS, rootNamespace)) as Obj[];
    const matched = [...root, ...workload].filter((pa) => matches(pa.spec?.selector?.matchLabels, labels));
    const effective = composePeerAuthentication(rootNamespace, matched);
    this.w('Effective PeerAuthentication:\n');
    this.w(`${L1}Workload mTLS mode: ${effective.mode}\n`);
    const perPort = Object.entries(effective.perPort).sort(([a], [b]) => Number(a) - Number(b));
    if (perPort.length) {
      this.w(`${L1}Port Level mTLS mode:\n`);
      for (const [p, m] of perPort) this.w(`${L2}${p}: ${m}\n`);
    }
    if (matched.length) this.w(`Applied PeerAuthentication:\n${L1}${matched.map((m) => `${m.metadata.name}.${m.metadata.namespace}`).join(', ')}\n`);
  }

  // ---- ingress -------------------------------------------------------------------------------

  async printIngressInfo(services: Obj[], podsLabels: Record<string, string>[]): Promise<void> {
    const pods = ((await this.client.list(PODS, undefined, 'istio=ingressgateway')) as Obj[]).filter((p) => p.status?.phase === 'Running');
    if (!pods.length) {
      this.w('Skipping Gateway information (no ingress gateway pods)\n');
      return;
    }
    const ingresses: { service: Obj; pods: Obj[] }[] = [];
    for (const ns of [...new Set(pods.map((p) => p.metadata.namespace ?? ''))]) {
      for (const s of (await this.client.list(SERVICES, ns)) as Obj[]) {
        const selected = pods.filter((p) => p.metadata.namespace === ns && p.metadata.labels && matches(s.spec?.selector, p.metadata.labels));
        if (selected.length) ingresses.push({ service: s, pods: selected });
      }
    }
    if (!ingresses.length) this.w('Skipping Gateway information (no ingress gateway service)\n');
    const seenDr = new Map<string, Obj | undefined>();
    const seenVs = new Map<string, Obj | undefined>();
    const seenGw = new Set<string>();
    for (const gwPod of pods) {
      const cd = await this.configDump(gwPod.metadata.name, gwPod.metadata.namespace ?? '', 'ingress gateway sidecar');
      if (!cd) continue;
      for (const svc of services) {
        for (const port of (svc.spec?.ports as Json[]) ?? []) {
          let matching: string[] = [];
          let nonMatching: string[] = [];
          let dr: Obj | undefined;
          const drRef = destinationRuleFor(cd, svc, port.port);
          if (drRef) {
            const id = `${drRef.namespace}/${drRef.name}`;
            if (!seenDr.has(id)) {
              const got = await this.get(DRS, drRef.name, drRef.namespace);
              if (!got) this.w(`WARNING: Proxy is stale; it references to non-existent destination rule ${drRef.name}.${drRef.namespace}\n`);
              seenDr.set(id, got);
            }
            dr = seenDr.get(id);
          }
          if (dr) ({ matching, nonMatching } = subsets(dr, podsLabels));
          const vsRef = virtualServiceFor(cd, svc, port.port);
          if (!vsRef) continue;
          const vid = `${vsRef.namespace}/${vsRef.name}`;
          if (!seenVs.has(vid)) {
            const got = await this.get(VSS, vsRef.name, vsRef.namespace);
            if (!got) this.w(`WARNING: Proxy is stale; it references to non-existent virtual service ${vsRef.name}.${vsRef.namespace}\n`);
            seenVs.set(vid, got);
          }
          const vs = seenVs.get(vid);
          if (!vs) continue;
          for (let gatewayName of (vs.spec?.gateways as string[]) ?? []) {
            if (!gatewayName || gatewayName === 'mesh') continue;
            let gns = vsRef.namespace;
            const slash = gatewayName.indexOf('/');
            if (slash >= 0) [gns, gatewayName] = [gatewayName.slice(0, slash), gatewayName.slice(slash + 1)];
            const gid = `${gns}/${gatewayName}`;
            if (seenGw.has(gid)) continue;
            const gw = await this.get(GWS, gatewayName, gns);
            if (!gw) {
              this.w(`WARNING: Proxy is stale; it references to non-existent gateway ${gns}/${gatewayName}\n`);
              continue;
            }
            seenGw.add(gid);
            if (!gw.spec?.selector) {
              this.w(`Ingress Gateway ${gns}/${gatewayName} be applied all workloads`);
              continue;
            }
            const matched = ingresses.filter((ing) => ing.pods.some((p) => matches(gw.spec!.selector, p.metadata.labels)));
            if (!matched.length) continue;
            matched.sort((a, b) => (ingressIP(a) < ingressIP(b) ? -1 : ingressIP(a) > ingressIP(b) ? 1 : 0));
            this.w(SEP);
            for (const ing of matched) this.printIngressService(ing);
            this.printVirtualService('', vs, svc, matching, nonMatching, dr);
          }
        }
      }
    }
  }

  printIngressService(ing: { service: Obj; pods: Obj[] }): void {
    for (const port of (ing.service.spec?.ports as Json[]) ?? []) {
      if ((port.protocol ?? 'TCP') !== 'TCP' || (port.name !== 'http2' && port.name !== 'http')) continue;
      if (typeof findPort(ing.pods[0]!, port) !== 'number') continue;
      const suffix = port.port === 80 ? '' : `:${port.port}`;
      this.w(`Exposed on Ingress Gateway http://${ingressIP(ing)}${suffix}\n`);
    }
  }
}

function ingressIP(ing: { service: Obj; pods: Obj[] }): string {
  if (!ing.pods.length) return 'unknown';
  const lb = ing.service.status?.loadBalancer?.ingress as Json[] | undefined;
  if (lb?.length) return lb[0]!.ip ?? '';
  return ing.pods[0]!.status?.hostIP || 'unknown';
}

function isMeshed(pod: Obj): boolean {
  return ((pod.spec?.containers as Json[]) ?? []).some((c) => c.name === 'istio-proxy') || ((pod.spec?.initContainers as Json[]) ?? []).some((c) => c.name === 'istio-proxy');
}

/** pilot's FindPort: the pod port a Service port's targetPort names or numbers. */
function findPort(pod: Obj, svcPort: Json): number | { error: string } {
  const tp = svcPort.targetPort ?? svcPort.port;
  if (typeof tp === 'number') return tp;
  if (/^\d+$/.test(String(tp))) return Number(tp);
  for (const c of (pod.spec?.containers as Json[]) ?? []) for (const p of (c.ports as Json[]) ?? []) if (p.name === tp && (p.protocol ?? 'TCP') === (svcPort.protocol ?? 'TCP')) return p.containerPort;
  return { error: `no suitable port for manifest: ${pod.metadata.uid ?? ''}` };
}

/** kube.ConvertProtocol: the protocol Istio infers from appProtocol or the port's name. */
function protocolForPort(port: Json): string {
  if (!port.name && !port.appProtocol && port.protocol !== 'UDP') return 'auto-detect';
  const known: Record<string, string> = { http: 'HTTP', http2: 'HTTP2', https: 'HTTPS', grpc: 'GRPC', 'grpc-web': 'GRPC-Web', tcp: 'TCP', tls: 'TLS', mongo: 'Mongo', redis: 'Redis', mysql: 'MySQL', udp: 'UDP' };
  const byApp = port.appProtocol ? known[String(port.appProtocol).toLowerCase()] : undefined;
  if (byApp) return byApp;
  const name = String(port.name ?? '').toLowerCase();
  const prefix = name.split('-')[0]!;
  return known[name] ?? known[prefix] ?? 'UnsupportedProtocol';
}

function subsets(dr: Obj, podsLabels: Record<string, string>[]): { matching: string[]; nonMatching: string[] } {
  const matching: string[] = [];
  const nonMatching: string[] = [];
  for (const s of (dr.spec?.subsets as Json[]) ?? []) (podsLabels.some((l) => matches(s.labels, l)) ? matching : nonMatching).push(s.name);
  return { matching, nonMatching };
}

function shortPolicies(tp: Json): string {
  const extra = [tp.loadBalancer ? 'load balancer' : '', tp.connectionPool ? 'connection pool' : '', tp.outlierDetection ? 'outlier detection' : ''].filter(Boolean);
  return extra.length ? `Policies: ${extra.join('/')}\n` : '';
}

const extendFQDN = (h: string) => (h.startsWith('*') || h.endsWith(SUFFIX) ? h : h + SUFFIX);
const resolveShortname = (h: string, ns: string) => (!h || h.startsWith('*') || h.includes('.') ? h : `${h}.${ns}`);

function renderStringMatch(m: Json | undefined): string {
  if (!m) return '';
  if (m.exact !== undefined) return m.exact;
  if (m.prefix !== undefined) return `${m.prefix}*`;
  if (m.regex !== undefined) return `regex:"${m.regex}"`;
  return '';
}

function renderMatch(m: Json): string {
  let s = 'Match: ';
  if (m.uri) {
    s += renderStringMatch(m.uri);
    if (m.ignoreUriCase) s += ' uncased';
  }
  const headers = Object.entries((m.headers as Record<string, Json>) ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
  if (headers.length) s += ` when headers are ${headers.map(([k, v]) => `${k}=${renderStringMatch(v)}`).join('; ')}`;
  return s.trim();
}

const renderMatches = (ms: Json[] | undefined) => (!ms?.length ? 'everything' : ms.map(renderMatch).join(', '));

/** Go's proto text form of a fault (`Fault.String()`), e.g. `delay:{percentage:{value:100} fixed_delay:{seconds:7}}`. */
function faultText(f: Json): string {
  const dur = (d: string | undefined) => {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(d ?? '');
    if (!m) return '';
    const sec = Number(m[1]) * ({ ms: 0.001, s: 1, m: 60, h: 3600 } as Record<string, number>)[m[2]!]!;
    const whole = Math.floor(sec);
    const nanos = Math.round((sec - whole) * 1e9);
    return `{${whole ? `seconds:${whole}` : ''}${whole && nanos ? ' ' : ''}${nanos ? `nanos:${nanos}` : ''}}`;
  };
  const parts: string[] = [];
  if (f.delay) parts.push(`delay:{${[f.delay.percentage ? `percentage:{value:${f.delay.percentage.value}}` : '', f.delay.fixedDelay ? `fixed_delay:${dur(f.delay.fixedDelay)}` : ''].filter(Boolean).join(' ')}}`);
  if (f.abort) parts.push(`abort:{${[f.abort.httpStatus !== undefined ? `http_status:${f.abort.httpStatus}` : '', f.abort.percentage ? `percentage:{value:${f.abort.percentage.value}}` : ''].filter(Boolean).join(' ')}}`);
  return parts.join(' ');
}

function httpRouteMatchSvc(vs: Obj, route: Json, svc: Obj, matching: string[], nonMatching: string[], dr: Obj | undefined, kname: (m: { name: string; namespace?: string }) => string): { match: boolean; facts: string[] } {
  const svcHost = extendFQDN(`${svc.metadata.name}.${svc.metadata.namespace}`);
  const facts: string[] = [];
  const mismatch: string[] = [];
  let match = false;
  for (const d of (route.route as Json[]) ?? []) {
    const dest = d.destination ?? {};
    const weight = d.weight ?? 0;
    if (extendFQDN(resolveShortname(dest.host ?? '', vs.metadata.namespace ?? '')) === svcHost) {
      if (dest.subset) {
        if (nonMatching.includes(dest.subset)) {
          mismatch.push(`Route to non-matching subset ${dest.subset} for (${renderMatches(route.match)})`);
          continue;
        }
        if (!matching.includes(dest.subset)) {
          mismatch.push(dr ? `Warning: Route to UNKNOWN subset ${dest.subset}; check DestinationRule ${kname(dr.metadata as { name: string; namespace?: string })}` : `Warning: Route to subset ${dest.subset} but NO DESTINATION RULE defining subsets!`);
          continue;
        }
      }
      match = true;
      if (weight > 0) facts.push(`Route to host "${dest.host}"${dest.subset ? ` subset "${dest.subset}"` : ''} with weight ${weight}%`);
    } else if (!dest.subset) facts.push(`Route to host "${dest.host}" with weight ${weight}%`);
    else facts.push(`Route to ${dest.host} with invalid config`);
  }
  if (match) {
    const req: string[] = [];
    if (route.fault) req.push(`Fault injection ${faultText(route.fault)}`);
    for (const m of (route.match as Json[]) ?? []) req.push(renderMatch(m));
    if (req.length) facts.push(req.join(', '));
  }
  if (!match && mismatch.length) facts.push(...mismatch);
  return { match, facts };
}

// ---- reading the config dump -------------------------------------------------------------------

const dumpOf = (cd: Json, type: string): Json | undefined => (cd.configs as Json[] | undefined)?.find((c) => c['@type'] === `type.googleapis.com/envoy.admin.v3.${type}`);

function parseConfigPath(path: string, kind: 'virtual-service' | 'destination-rule'): { name: string; namespace: string } | undefined {
  const m = new RegExp(`/apis/networking(\\.istio\\.io)?/v1(?:alpha3)?/namespaces/([^/]+)/${kind}/([^/]+)`).exec(path);
  return m ? { namespace: m[2]!, name: m[3]! } : undefined;
}

/** The DestinationRule the proxy's outbound cluster for this Service port was built from. */
function destinationRuleFor(cd: Json, svc: Obj, port: number): { name: string; namespace: string } | undefined {
  const host = extendFQDN(`${svc.metadata.name}.${svc.metadata.namespace}`);
  for (const dac of (dumpOf(cd, 'ClustersConfigDump')?.dynamic_active_clusters as Json[]) ?? []) {
    const name = (dac.cluster?.name ?? '') as string;
    if (!name.includes(host) || !name.includes(`|${port}|`) || !name.includes('outbound')) continue;
    const config = dac.cluster?.metadata?.filter_metadata?.istio?.config as string | undefined;
    return config ? parseConfigPath(config, 'destination-rule') : undefined;
  }
  return undefined;
}

/** The VirtualService behind the first route (of route config `<port>`, `http.*`, `https.*`) that leads to this Service port. */
function virtualServiceFor(cd: Json, svc: Obj, port: number): { name: string; namespace: string } | undefined {
  for (const rcd of (dumpOf(cd, 'RoutesConfigDump')?.dynamic_route_configs as Json[]) ?? []) {
    const rc = rcd.route_config ?? {};
    const name = (rc.name ?? '') as string;
    if (name !== String(port) && !name.startsWith('http.') && !name.startsWith('https.')) continue;
    for (const vh of (rc.virtual_hosts as Json[]) ?? []) {
      for (const r of (vh.routes as Json[]) ?? []) {
        if (!routeLeadsTo(r, vh, svc, port)) continue;
        const config = r.metadata?.filter_metadata?.istio?.config as string | undefined;
        return config ? parseConfigPath(config, 'virtual-service') : undefined;
      }
    }
  }
  return undefined;
}

function routeLeadsTo(r: Json, vh: Json, svc: Obj, port: number): boolean {
  for (const d of (vh.domains as string[]) ?? []) {
    const m = /([^.]+)\.([^.]+)\.svc\.cluster\.local$/.exec(d);
    if (m && m[1] === svc.metadata.name && m[2] === svc.metadata.namespace) return true;
  }
  const cluster = (r.route?.cluster ?? r.route?.weighted_clusters?.clusters?.[0]?.name ?? '') as string;
  const m = new RegExp(`outbound\\|${port}\\|[^|]*\\|([^.]+)\\.([^.]+)\\.svc\\.cluster\\.local$`).exec(cluster);
  return !!m && m[1] === svc.metadata.name && m[2] === svc.metadata.namespace;
}

/** RBAC policy names on the sidecar's inbound HTTP connection manager (virtualInbound's first). */
function rbacPolicies(cd: Json): string[] {
  for (const l of (dumpOf(cd, 'ListenersConfigDump')?.dynamic_listeners as Json[]) ?? []) {
    const listener = l.active_state?.listener;
    if (listener?.name !== 'virtualInbound') continue;
    for (const fc of (listener.filter_chains as Json[]) ?? []) {
      for (const f of (fc.filters as Json[]) ?? []) {
        if (f.name !== 'envoy.filters.network.http_connection_manager') continue;
        for (const hf of (f.typed_config?.http_filters as Json[]) ?? []) {
          if (hf.name === 'envoy.filters.http.rbac') return Object.keys(hf.typed_config?.rules?.policies ?? {}).sort();
        }
        return [];
      }
    }
  }
  return [];
}

/** authn.ComposePeerAuthentication: mesh, then namespace, then workload policy; UNSET inherits; default PERMISSIVE. */
export function composePeerAuthentication(rootNamespace: string, configs: Obj[]): { mode: string; perPort: Record<string, string> } {
  let mesh: Obj | undefined;
  let ns: Obj | undefined;
  let workload: Obj | undefined;
  const older = (a: Obj, b: Obj | undefined) => !b || String(a.metadata.creationTimestamp ?? '') < String(b.metadata.creationTimestamp ?? '');
  for (const c of configs) {
    const selector = c.spec?.selector?.matchLabels;
    if (!selector || !Object.keys(selector).length) {
      if (c.metadata.namespace === rootNamespace) {
        if (older(c, mesh)) mesh = c;
      } else if (older(c, ns)) ns = c;
    } else if (c.metadata.namespace !== rootNamespace && older(c, workload)) workload = c;
  }
  const modeOf = (m: Json | undefined) => (m?.mode && m.mode !== 'UNSET' ? (m.mode as string) : undefined);
  let mode = 'PERMISSIVE';
  for (const c of [mesh, ns, workload]) mode = modeOf(c?.spec?.mtls) ?? mode;
  const perPort: Record<string, string> = {};
  for (const [port, m] of Object.entries((workload?.spec?.portLevelMtls as Record<string, Json>) ?? {})) perPort[port] = modeOf(m) ?? mode;
  return { mode, perPort };
}

function revisionOf(pod: Obj): string {
  const a = pod.metadata.annotations ?? {};
  if (a['istio.io/rev']) return a['istio.io/rev'];
  try {
    return (JSON.parse(a['sidecar.istio.io/status'] ?? '') as { revision?: string }).revision ?? '';
  } catch {
    return '';
  }
}

const HELP = `Describe resource and related Istio configuration

Usage:
  istioctl experimental describe [command]

Aliases:
  describe, des

Available Commands:
  pod         Describe pods and their Istio configuration [kube-only]
  service     Describe services and their Istio configuration [kube-only]
`;

export async function describe(rest: string[], io: CommandIO, globals: FlagSpec[]): Promise<number> {
  const p = parseArgs(rest, [...globals, { name: 'ignoreUnmeshed', kind: 'bool' }, { name: 'proxy-admin-port', kind: 'string' }, { name: 'revision', short: 'r', kind: 'string' }]);
  const [kind, ...args] = p.positional;
  if (!kind) {
    io.out(HELP);
    return EXIT.ok;
  }
  if (kind !== 'pod' && kind !== 'po') {
    if (kind === 'service' || kind === 'svc') throw new CommandError('istioctl x describe service is not supported by the embedded cluster yet (describe pod is)');
    throw new CommandError(`unknown resource type "${kind}"`);
  }
  if (flagBool(p, 'help')) {
    io.out('Analyzes pod, its Services, DestinationRules, and VirtualServices and reports\nthe configuration objects that affect that pod.\n\nUsage:\n  istioctl experimental describe pod <pod-name>[.<namespace>] [flags]\n');
    return EXIT.ok;
  }
  if (args.length !== 1) throw new CommandError('expecting pod name');
  const client = await connect({ kubeconfig: flagString(p, 'kubeconfig'), context: flagString(p, 'context') });
  const describeNamespace = flagString(p, 'namespace') || client.defaultNamespace;
  const d = new Describer(io, client, describeNamespace, flagBool(p, 'ignoreUnmeshed'));
  try {
    const { name, namespace } = inferNsInfo(args[0]!, describeNamespace);
    const pod = await d.get(PODS, name, namespace);
    if (!pod) throw new CommandError(`pods "${name}" not found`);
    const labels = (pod.metadata.labels ?? {}) as Record<string, string>;
    // printPod stops early for a pod that does not run; the command goes on regardless.
    d.printPod(pod, revisionOf(pod));
    const services = ((await client.list(SERVICES, namespace)) as Obj[]).filter((s) => s.spec?.selector && Object.keys(s.spec.selector).length && matches(s.spec.selector, labels));
    if (!services.length && !flagBool(p, 'ignoreUnmeshed')) d.w(`Warning: No Kubernetes Services select pod ${d.kname(pod.metadata as { name: string; namespace?: string })} (see https://istio.io/docs/setup/kubernetes/additional-setup/requirements/ )\n`);
    d.w(SEP);
    await d.describePodServices(pod, services, [labels]);
    d.w(SEP);
    await d.describePeerAuthentication(namespace, labels, flagString(p, 'istioNamespace') ?? 'istio-system');
    await d.printIngressInfo(services, [labels]);
    d.flush();
    return EXIT.ok;
  } catch (e) {
    d.flush();
    throw e;
  } finally {
    client.close();
  }
}
