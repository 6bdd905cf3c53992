/** core/v1 Service: cluster IPs and node ports are allocated from the cluster's stored Services. */
import type { KindDefinition } from '../../kind.js';
import { createServiceAllocator, type ServiceAllocator } from '../../allocators.js';
import { atomicList, conditions, stringMap, struct } from '../../patch/merge-schema.js';
import { NO_COLLECTION_VERBS, type Strategy } from '../../resource.js';
import { validateImmutable, validateLabels, validateObjectMeta } from '../../strategies/meta.js';
import { age, ageCol, col, int, loadBalancerStatus, name, nameCol, selectorCol, type Any, type KindPrinter } from '../../printers/columns.js';
import { formatLabels } from '../../printers/labels.js';

type Obj = Record<string, any>;

const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];

export function serviceStrategy(alloc: ServiceAllocator): Strategy {
  return {
    defaults(obj) {
      const s = ((obj as Obj).spec ??= {});
      s.type ??= 'ClusterIP';
      if (s.type !== 'ExternalName') {
        s.sessionAffinity ??= 'None';
        s.internalTrafficPolicy ??= 'Cluster';
        s.ipFamilyPolicy ??= 'SingleStack';
        s.ipFamilies ??= ['IPv4'];
      }
      if (s.type === 'NodePort' || s.type === 'LoadBalancer') {
        s.externalTrafficPolicy ??= 'Cluster';
        if (s.type === 'LoadBalancer') s.allocateLoadBalancerNodePorts ??= true;
      }
      if (Array.isArray(s.ports)) {
        for (const p of s.ports) {
          if (!p || typeof p !== 'object') continue;
          p.protocol ??= 'TCP';
          p.targetPort ??= p.port;
        }
      }
      (obj as Obj).status ??= { loadBalancer: {} };
    },
    prepareForCreate(obj) {
      const o = obj as Obj;
      o.status = { loadBalancer: {} };
      const s = (o.spec ??= {});
      s.type ??= 'ClusterIP';
      if (s.type !== 'ExternalName' && s.clusterIP !== 'None') {
        if (!s.clusterIP) s.clusterIP = alloc.allocateClusterIP();
        s.clusterIPs ??= [s.clusterIP];
      } else if (s.clusterIP === 'None') {
        s.clusterIPs ??= ['None'];
      }
      if ((s.type === 'NodePort' || s.type === 'LoadBalancer') && Array.isArray(s.ports)) {
        for (const p of s.ports) if (p && typeof p === 'object' && !p.nodePort) p.nodePort = alloc.allocateNodePort();
      }
    },
    prepareForUpdate(obj, old) {
      dropTypeDependentFields((obj as Obj).spec, (old as Obj).spec);
    },
    validate(obj) {
      const o = obj as Obj;
      const s = o.spec ?? {};
      const errs = validateObjectMeta(obj, 'dns1035', true);
      if (!SERVICE_TYPES.includes(s.type)) errs.push({ type: 'FieldValueNotSupported', field: 'spec.type', value: s.type, supported: SERVICE_TYPES });
      if (s.type === 'ExternalName') {
        if (!s.externalName) errs.push({ type: 'FieldValueRequired', field: 'spec.externalName' });
      } else if (!Array.isArray(s.ports) || s.ports.length === 0) {
        if (s.clusterIP !== 'None') errs.push({ type: 'FieldValueRequired', field: 'spec.ports' });
      }
      const names = new Set<string>();
      (s.ports ?? []).forEach((p: Obj, i: number) => {
        const f = `spec.ports[${i}]`;
        if (s.ports.length > 1 && !p?.name) errs.push({ type: 'FieldValueRequired', field: `${f}.name` });
        if (p?.name) {
          if (names.has(p.name)) errs.push({ type: 'FieldValueDuplicate', field: `${f}.name`, value: p.name });
          names.add(p.name);
        }
        if (p?.port === undefined) errs.push({ type: 'FieldValueRequired', field: `${f}.port` });
        else if (typeof p.port === 'number' && (p.port < 1 || p.port > 65535)) {
          errs.push({ type: 'FieldValueInvalid', field: `${f}.port`, value: p.port, detail: 'must be between 1 and 65535, inclusive' });
        }
        if (p?.protocol !== undefined && !['TCP', 'UDP', 'SCTP'].includes(p.protocol)) {
          errs.push({ type: 'FieldValueNotSupported', field: `${f}.protocol`, value: p.protocol, supported: ['SCTP', 'TCP', 'UDP'] });
        }
        if (p?.nodePort !== undefined) {
          if (s.type === 'ClusterIP') errs.push({ type: 'FieldValueForbidden', field: `${f}.nodePort`, detail: 'may not be used when `type` is \'ClusterIP\'' });
          else if (p.nodePort < 30000 || p.nodePort > 32767) {
            errs.push({ type: 'FieldValueInvalid', field: `${f}.nodePort`, value: p.nodePort, detail: 'provided port is not in the valid range. The range of valid ports is 30000-32767' });
          } else if (alloc.isNodePortTaken(p.nodePort, `${o.metadata.namespace}/${o.metadata.name}`)) {
            errs.push({ type: 'FieldValueInvalid', field: `${f}.nodePort`, value: p.nodePort, detail: 'provided port is already allocated' });
          }
        }
      });
      errs.push(...validateLabels(s.selector, 'spec.selector'));
      return errs;
    },
    validateUpdate(obj, old) {
      const o = obj as Obj;
      const prev = old as Obj;
      // A Service keeps its address when an update omits it (kubectl replace of a manifest).
      if (o.spec && !o.spec.clusterIP && prev.spec?.clusterIP) {
        o.spec.clusterIP = prev.spec.clusterIP;
        o.spec.clusterIPs = prev.spec.clusterIPs;
      }
      if (o.spec?.type !== 'ClusterIP' && o.spec?.type !== 'ExternalName' && Array.isArray(o.spec?.ports)) {
        for (const p of o.spec.ports) {
          if (p && !p.nodePort) {
            const was = (prev.spec?.ports ?? []).find((q: Obj) => q?.port === p.port && (q?.protocol ?? 'TCP') === (p.protocol ?? 'TCP'));
            p.nodePort = was?.nodePort ?? alloc.allocateNodePort();
          }
        }
      }
      return prev.spec?.clusterIP && o.spec?.clusterIP !== prev.spec.clusterIP && prev.spec.type !== 'ExternalName'
        ? validateImmutable(obj, old, [{ path: ['spec', 'clusterIP'], field: 'spec.clusterIPs[0]' }])
        : [];
    },
  };
}

const needsNodePort = (s: Obj | undefined) => s?.type === 'NodePort' || s?.type === 'LoadBalancer';
const externallyAccessible = (s: Obj | undefined) =>
  needsNodePort(s) || (s?.type === 'ClusterIP' && Array.isArray(s?.externalIPs) && s.externalIPs.length > 0);
const nodePortsOf = (s: Obj | undefined) =>
  new Set<number>((Array.isArray(s?.ports) ? s!.ports : []).map((p: Obj) => p?.nodePort).filter((n: unknown) => !!n));

/**
 * kube's dropTypeDependentFields (service/strategy.go): a type change wipes what the old type
 * allocated or defaulted, unless the user changed it in the same request (then validation judges it).
 * The freed node ports go back to the allocator, which counts only stored Services.
 */
function dropTypeDependentFields(s: Obj | undefined, prev: Obj | undefined): void {
  if (!s || !prev) return;
  if (needsNodePort(prev) && !needsNodePort(s)) {
    const before = nodePortsOf(prev);
    if ([...nodePortsOf(s)].every((n) => before.has(n))) {
      for (const p of Array.isArray(s.ports) ? s.ports : []) if (p && typeof p === 'object') delete p.nodePort;
    }
    if ((s.healthCheckNodePort ?? 0) === (prev.healthCheckNodePort ?? 0)) delete s.healthCheckNodePort;
  }
  if (prev.type === 'LoadBalancer' && s.type !== 'LoadBalancer') {
    if (s.allocateLoadBalancerNodePorts !== undefined && s.allocateLoadBalancerNodePorts === prev.allocateLoadBalancerNodePorts) {
      delete s.allocateLoadBalancerNodePorts;
    }
    if (s.loadBalancerClass === prev.loadBalancerClass) delete s.loadBalancerClass;
  }
  if (externallyAccessible(prev) && !externallyAccessible(s) && s.externalTrafficPolicy === prev.externalTrafficPolicy) {
    delete s.externalTrafficPolicy;
  }
}

function serviceExternalIP(svc: Any): string {
  const spec = svc.spec ?? {};
  const externalIPs: string[] = spec.externalIPs ?? [];
  switch (spec.type ?? 'ClusterIP') {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      const lbIps = loadBalancerStatus(svc.status?.loadBalancer);
      if (externalIPs.length) return [...(lbIps ? lbIps.split(',') : []), ...externalIPs].join(',');
      return lbIps || '<pending>';
    }
    case 'ExternalName':
      return spec.externalName ?? '';
  }
  return '<unknown>';
}

function portString(ports: Any[]): string {
  return ports
    .map((p) => {
      const protocol = p.protocol ?? 'TCP';
      return int(p.nodePort) > 0 ? `${int(p.port)}:${int(p.nodePort)}/${protocol}` : `${int(p.port)}/${protocol}`;
    })
    .join(',');
}

function serviceCells(svc: Any, now: Date): unknown[] {
  const spec = svc.spec ?? {};
  const clusterIP: string = spec.clusterIPs?.[0] ?? spec.clusterIP ?? '<none>';
  const ports = portString(spec.ports ?? []) || '<none>';
  return [name(svc), spec.type ?? 'ClusterIP', clusterIP || '<none>', serviceExternalIP(svc), ports, age(svc, now), formatLabels(spec.selector)];
}

export const servicePrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Type', 'string', 'type determines how the Service is exposed.'),
    col('Cluster-IP', 'string', 'clusterIP is the IP address of the service and is usually assigned randomly.'),
    col('External-IP', 'string', 'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.'),
    col('Port(s)', 'string', 'The list of ports that are exposed by this service.'),
    ageCol(),
    selectorCol('Route service traffic to pods with label keys and values matching this selector.'),
  ],
  cells: (o, now) => serviceCells(o, now),
};

export const serviceKind: KindDefinition = {
  group: '',
  version: 'v1',
  kind: 'Service',
  names: { plural: 'services', shortNames: ['svc'], categories: ['all'] },
  scope: 'Namespaced',
  verbs: NO_COLLECTION_VERBS,
  strategy: ({ store }) => serviceStrategy(createServiceAllocator(store)),
  subresources: { status: true, others: [{ name: 'proxy', kind: 'ServiceProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] }] },
  mergeSchema: struct({
    metadata: 'ObjectMeta',
    spec: struct({
      ports: {
        kind: 'list',
        items: struct({}),
        smp: 'merge',
        mergeKey: 'port',
        ssa: 'map',
        keys: ['port', 'protocol'],
        keyDefaults: { protocol: 'TCP' },
      },
      selector: stringMap({ atomic: true }),
      clusterIPs: atomicList,
      externalIPs: atomicList,
      ipFamilies: atomicList,
      loadBalancerSourceRanges: atomicList,
    }),
    status: struct({ conditions: conditions(), loadBalancer: struct({ ingress: atomicList }) }),
  }),
  zeroPaths: ['metadata', 'spec', 'status', 'status.loadBalancer'],
  printer: servicePrinter,
};
