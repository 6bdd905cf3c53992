/**
 * kube-apiserver's table printers for the built-in kinds (pkg/printers/internalversion/printers.go):
 * same columns, same priorities (1 = shown only with -o wide), same cell values. The server always
 * fills the wide cells, as kube-apiserver does; kubectl hides priority-1 columns itself. As in
 * kube, where each kind's storage.go picks its TableConvertor, each kind module (registry/kinds/)
 * names its printer here.
 */
import type { KubeObject } from '../../types.js';
import { humanDuration, since } from './duration.js';
import { formatLabelSelector, formatLabels, selectorString } from './labels.js';

export interface ColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

export interface RowCondition {
  type: string;
  status: string;
  reason: string;
  message: string;
}

/** A kind's server-side printer: Table columns and the cells of one object's row. */
export interface KindPrinter {
  columns: ColumnDefinition[];
  cells(obj: KubeObject, now: Date): unknown[];
  conditions?(obj: KubeObject): RowCondition[] | undefined;
}

// Loosely typed views of the objects: stored objects are JSON and fields may be absent.
/* eslint-disable @typescript-eslint/no-explicit-any */
type Any = any;

const NAME_DESCRIPTION = 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names';
const AGE_DESCRIPTION = 'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata';

export const col = (name: string, type: string, description: string, priority = 0, format = ''): ColumnDefinition => ({ name, type, format, description, priority });
export const nameCol = (priority = 0) => col('Name', 'string', NAME_DESCRIPTION, priority, 'name');
export const ageCol = () => col('Age', 'string', AGE_DESCRIPTION);
const containersCol = (priority = 1) => col('Containers', 'string', 'Names of each container in the template.', priority);
const imagesCol = (priority = 1) => col('Images', 'string', 'Images referenced by each container in the template.', priority);
const selectorCol = (description: string) => col('Selector', 'string', description, 1);

const name = (o: KubeObject) => o.metadata?.name ?? '';
const age = (o: KubeObject, now: Date) => since(o.metadata?.creationTimestamp, now);
const int = (v: unknown) => (typeof v === 'number' ? Math.trunc(v) : 0);
const len = (v: unknown) => (Array.isArray(v) ? v.length : v && typeof v === 'object' ? Object.keys(v).length : 0);

function layoutContainerCells(containers: unknown): [string, string] {
  const list: Any[] = Array.isArray(containers) ? containers : [];
  return [list.map((c) => c?.name ?? '').join(','), list.map((c) => c?.image ?? '').join(',')];
}

/** An IntOrString as intstr.String() prints it. */
const intOrString = (v: unknown) => (typeof v === 'number' ? String(Math.trunc(v)) : String(v));

// ---------------------------------------------------------------- pods

function isRestartableInitContainer(c: Any): boolean {
  return c?.restartPolicy === 'Always';
}

function podCells(pod: Any, now: Date): unknown[] {
  const spec = pod.spec ?? {};
  const status = pod.status ?? {};
  let restarts = 0;
  let restartableInitContainerRestarts = 0;
  let totalContainers = (spec.containers ?? []).length;
  let readyContainers = 0;
  let lastRestartDate = 0;
  let lastRestartableInitContainerRestartDate = 0;

  const podPhase: string = status.phase ?? '';
  let reason = podPhase;
  if (status.reason) reason = status.reason;
  for (const c of status.conditions ?? []) {
    if (c.type === 'PodScheduled' && c.reason === 'SchedulingGated') reason = 'SchedulingGated';
  }

  const initContainers = new Map<string, Any>();
  for (const c of spec.initContainers ?? []) {
    initContainers.set(c.name, c);
    if (isRestartableInitContainer(c)) totalContainers++;
  }
  const finishedAt = (cs: Any): number => {
    const t = cs?.lastState?.terminated?.finishedAt;
    return typeof t === 'string' ? Date.parse(t) || 0 : 0;
  };

  let initializing = false;
  const initStatuses: Any[] = status.initContainerStatuses ?? [];
  for (let i = 0; i < initStatuses.length; i++) {
    const container = initStatuses[i];
    restarts += int(container.restartCount);
    if (container.lastState?.terminated) lastRestartDate = Math.max(lastRestartDate, finishedAt(container));
    const restartable = isRestartableInitContainer(initContainers.get(container.name));
    if (restartable) {
      restartableInitContainerRestarts += int(container.restartCount);
      if (container.lastState?.terminated) lastRestartableInitContainerRestartDate = Math.max(lastRestartableInitContainerRestartDate, finishedAt(container));
    }
    const terminated = container.state?.terminated;
    const waiting = container.state?.waiting;
    if (terminated && int(terminated.exitCode) === 0) continue;
    if (restartable && container.started === true) {
      if (container.ready) readyContainers++;
      continue;
    }
    if (terminated) {
      if (!terminated.reason) {
        reason = terminated.signal ? `Init:Signal:${terminated.signal}` : `Init:ExitCode:${int(terminated.exitCode)}`;
      } else {
        reason = `Init:${terminated.reason}`;
      }
    } else if (waiting?.reason && waiting.reason !== 'PodInitializing') {
      reason = `Init:${waiting.reason}`;
    } else {
      reason = `Init:${i}/${(spec.initContainers ?? []).length}`;
    }
    initializing = true;
    break;
  }

  const initializedTrue = (status.conditions ?? []).some((c: Any) => c.type === 'Initialized' && c.status === 'True');
  if (!initializing || initializedTrue) {
    restarts = restartableInitContainerRestarts;
    lastRestartDate = lastRestartableInitContainerRestartDate;
    let hasRunning = false;
    const statuses: Any[] = status.containerStatuses ?? [];
    for (let i = statuses.length - 1; i >= 0; i--) {
      const container = statuses[i];
      restarts += int(container.restartCount);
      if (container.lastState?.terminated) lastRestartDate = Math.max(lastRestartDate, finishedAt(container));
      const waiting = container.state?.waiting;
      const terminated = container.state?.terminated;
      if (waiting?.reason) {
        reason = waiting.reason;
      } else if (terminated?.reason) {
        reason = terminated.reason;
      } else if (terminated) {
        reason = terminated.signal ? `Signal:${terminated.signal}` : `ExitCode:${int(terminated.exitCode)}`;
      } else if (container.ready && container.state?.running) {
        hasRunning = true;
        readyContainers++;
      }
    }
    if (reason === 'Completed' && hasRunning) {
      const ready = (status.conditions ?? []).some((c: Any) => c.type === 'Ready' && c.status === 'True');
      reason = ready ? 'Running' : 'NotReady';
    }
  }

  const deleting = !!pod.metadata?.deletionTimestamp;
  if (deleting && status.reason === 'NodeLost') reason = 'Unknown';
  else if (deleting && podPhase !== 'Succeeded' && podPhase !== 'Failed') reason = 'Terminating';

  let restartsStr = String(restarts);
  if (restarts !== 0 && lastRestartDate !== 0) restartsStr = `${restarts} (${humanDuration(now.getTime() - lastRestartDate)} ago)`;

  // kube-apiserver keeps podIPs in sync with podIP; accept objects that only carry podIP.
  const podIP: string = status.podIPs?.[0]?.ip || status.podIP || '<none>';
  const nodeName: string = spec.nodeName || '<none>';
  const nominated: string = status.nominatedNodeName || '<none>';
  let readinessGates = '<none>';
  const gates: Any[] = spec.readinessGates ?? [];
  if (gates.length) {
    let trueConditions = 0;
    for (const g of gates) {
      const c = (status.conditions ?? []).find((x: Any) => x.type === g.conditionType);
      if (c?.status === 'True') trueConditions++;
    }
    readinessGates = `${trueConditions}/${gates.length}`;
  }
  return [name(pod), `${readyContainers}/${totalContainers}`, reason, restartsStr, age(pod, now), podIP, nodeName, nominated, readinessGates];
}

// ---------------------------------------------------------------- services

function loadBalancerStatus(lb: Any): string {
  const set = new Set<string>();
  for (const i of lb?.ingress ?? []) {
    if (i.ip) set.add(i.ip);
    else if (i.hostname) set.add(i.hostname);
  }
  // The server prints wide cells; kubectl's own column truncation is not applied server-side.
  return [...set].sort().join(',');
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

// ---------------------------------------------------------------- endpoints

function formatEndpoints(ep: Any): string {
  const subsets: Any[] = ep.subsets ?? [];
  if (!subsets.length) return '<none>';
  const list: string[] = [];
  const max = 3;
  let more = false;
  let count = 0;
  for (const ss of subsets) {
    const addresses: Any[] = ss.addresses ?? [];
    const ports: Any[] = ss.ports ?? [];
    if (!ports.length) {
      count += addresses.length;
      for (const a of addresses) {
        if (list.length === max) { more = true; break; }
        list.push(a.ip);
      }
      continue;
    }
    for (const port of ports) {
      count += addresses.length;
      for (const a of addresses) {
        if (list.length === max) { more = true; break; }
        list.push(joinHostPort(a.ip, int(port.port)));
      }
    }
  }
  const ret = list.join(',');
  return more ? `${ret} + ${count - max} more...` : ret;
}

const joinHostPort = (host: string, port: number) => (String(host).includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

function listWithMore(list: string[], more: boolean, count: number, max: number): string {
  const ret = list.join(',');
  if (more) return `${ret} + ${count - max} more...`;
  return ret === '' ? '<unset>' : ret;
}

function discoveryPorts(ports: Any[]): string {
  const list: string[] = [];
  let more = false;
  let count = 0;
  for (const p of ports) {
    if (list.length < 3) list.push(p.port != null ? String(int(p.port)) : p.name != null ? String(p.name) : '*');
    else if (list.length === 3) more = true;
    count++;
  }
  return listWithMore(list, more, count, 3);
}

function discoveryEndpoints(endpoints: Any[]): string {
  const list: string[] = [];
  let more = false;
  let count = 0;
  for (const e of endpoints) {
    for (const a of e.addresses ?? []) {
      if (list.length < 3) list.push(a);
      else if (list.length === 3) more = true;
      count++;
    }
  }
  return listWithMore(list, more, count, 3);
}

// ---------------------------------------------------------------- events

function eventCells(ev: Any, now: Date): unknown[] {
  let firstTimestamp = since(ev.firstTimestamp, now);
  if (!ev.firstTimestamp) firstTimestamp = since(ev.eventTime, now);
  let lastTimestamp = since(ev.lastTimestamp, now);
  if (!ev.lastTimestamp) lastTimestamp = firstTimestamp;
  let count = int(ev.count);
  if (ev.series) {
    lastTimestamp = since(ev.series.lastObservedTime, now);
    count = int(ev.series.count);
  } else if (count === 0) {
    count = 1;
  }
  const involved = ev.involvedObject ?? {};
  const kind = String(involved.kind ?? '').toLowerCase();
  const target = involved.name ? `${kind}/${involved.name}` : kind;
  const component = ev.source?.component || ev.reportingComponent || '';
  const host = ev.source?.host || ev.reportingInstance || '';
  const source = host ? `${component}, ${host}` : component;
  return [lastTimestamp, ev.type ?? '', ev.reason ?? '', target, involved.fieldPath ?? '', source, String(ev.message ?? '').trim(), firstTimestamp, count, name(ev)];
}

// ---------------------------------------------------------------- nodes

function nodeCells(node: Any, now: Date): unknown[] {
  const status: string[] = [];
  const ready = (node.status?.conditions ?? []).find((c: Any) => c.type === 'Ready');
  if (ready) status.push(ready.status === 'True' ? 'Ready' : 'NotReady');
  if (!status.length) status.push('Unknown');
  if (node.spec?.unschedulable) status.push('SchedulingDisabled');
  const roles = new Set<string>();
  for (const [k, v] of Object.entries((node.metadata?.labels ?? {}) as Record<string, string>)) {
    if (k.startsWith('node-role.kubernetes.io/')) {
      const role = k.slice('node-role.kubernetes.io/'.length);
      if (role) roles.add(role);
    } else if (k === 'kubernetes.io/role' && v !== '') {
      roles.add(v);
    }
  }
  const info = node.status?.nodeInfo ?? {};
  const address = (type: string) => (node.status?.addresses ?? []).find((a: Any) => a.type === type)?.address ?? '<none>';
  return [
    name(node), status.join(','), [...roles].sort().join(',') || '<none>', age(node, now), info.kubeletVersion ?? '',
    address('InternalIP'), address('ExternalIP'), info.osImage || '<unknown>', info.kernelVersion || '<unknown>', info.containerRuntimeVersion || '<unknown>',
  ];
}

// ---------------------------------------------------------------- workloads

function jobCells(job: Any, now: Date): unknown[] {
  const spec = job.spec ?? {};
  const st = job.status ?? {};
  const succeeded = int(st.succeeded);
  let completions: string;
  if (spec.completions != null) {
    completions = `${succeeded}/${int(spec.completions)}`;
  } else {
    const parallelism = int(spec.parallelism);
    completions = parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
  }
  let duration = '';
  if (st.startTime) {
    const start = Date.parse(st.startTime);
    duration = st.completionTime ? humanDuration(Date.parse(st.completionTime) - start) : humanDuration(now.getTime() - start);
  }
  const has = (type: string) => {
    const c = (st.conditions ?? []).find((x: Any) => x.type === type);
    return c?.status === 'True';
  };
  let status = 'Running';
  if (has('Complete')) status = 'Complete';
  else if (has('Failed')) status = 'Failed';
  else if (job.metadata?.deletionTimestamp) status = 'Terminating';
  else if (has('Suspended')) status = 'Suspended';
  else if (has('FailureTarget')) status = 'FailureTarget';
  const [names, images] = layoutContainerCells(spec.template?.spec?.containers);
  return [name(job), status, completions, duration, age(job, now), names, images, formatLabelSelector(spec.selector)];
}

const boolText = (v: unknown) => (v == null ? '<unset>' : v ? 'True' : 'False');

function cronJobCells(cj: Any, now: Date): unknown[] {
  const spec = cj.spec ?? {};
  const last = cj.status?.lastScheduleTime ? since(cj.status.lastScheduleTime, now) : '<none>';
  const jobSpec = spec.jobTemplate?.spec ?? {};
  const [names, images] = layoutContainerCells(jobSpec.template?.spec?.containers);
  return [name(cj), spec.schedule ?? '', spec.timeZone ?? '<none>', boolText(spec.suspend), len(cj.status?.active), last, age(cj, now), names, images, formatLabelSelector(jobSpec.selector)];
}

function hpaMetrics(specs: Any[], statuses: Any[]): string {
  if (!specs.length) return '<none>';
  const list: string[] = [];
  const quantity = (q: unknown) => (q == null ? '<unknown>' : String(q));
  specs.forEach((spec, i) => {
    const st = statuses[i];
    switch (spec.type) {
      case 'Resource':
      case 'ContainerResource': {
        const src = spec.type === 'Resource' ? spec.resource : spec.containerResource;
        const cur = spec.type === 'Resource' ? st?.resource : st?.containerResource;
        if (src?.target?.averageValue != null) {
          list.push(`${src.name}: ${cur ? quantity(cur.current?.averageValue) : '<unknown>'}/${src.target.averageValue}`);
        } else {
          const current = cur?.current?.averageUtilization != null ? `${cur.current.averageUtilization}%` : '<unknown>';
          const target = src?.target?.averageUtilization != null ? `${src.target.averageUtilization}%` : '<auto>';
          list.push(`${src?.name}: ${current}/${target}`);
        }
        break;
      }
      case 'Pods':
        list.push(`${st?.pods ? quantity(st.pods.current?.averageValue) : '<unknown>'}/${spec.pods?.target?.averageValue}`);
        break;
      case 'Object':
      case 'External': {
        const src = spec.type === 'Object' ? spec.object : spec.external;
        const cur = spec.type === 'Object' ? st?.object : st?.external;
        if (src?.target?.averageValue != null) list.push(`${cur?.current?.averageValue != null ? cur.current.averageValue : '<unknown>'}/${src.target.averageValue} (avg)`);
        else list.push(`${cur ? quantity(cur.current?.value) : '<unknown>'}/${src?.target?.value}`);
        break;
      }
      default:
        list.push('<unknown type>');
    }
  });
  if (list.length > 2) return `${list.slice(0, 2).join(', ')} + ${list.length - 2} more...`;
  return list.join(', ');
}

function hpaCells(hpa: Any, now: Date): unknown[] {
  const spec = hpa.spec ?? {};
  const ref = spec.scaleTargetRef ?? {};
  let metrics: Any[] = spec.metrics ?? [];
  let statuses: Any[] = hpa.status?.currentMetrics ?? [];
  // autoscaling/v1 carries the CPU target as a field; the internal version converts it to a metric.
  if (hpa.apiVersion === 'autoscaling/v1') {
    metrics = spec.targetCPUUtilizationPercentage != null ? [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: spec.targetCPUUtilizationPercentage } } }] : [];
    statuses = hpa.status?.currentCPUUtilizationPercentage != null ? [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: hpa.status.currentCPUUtilizationPercentage } } }] : [];
  }
  return [name(hpa), `${ref.kind}/${ref.name}`, hpaMetrics(metrics, statuses), spec.minReplicas != null ? String(spec.minReplicas) : '<unset>', int(spec.maxReplicas), int(hpa.status?.currentReplicas), age(hpa, now)];
}

/** events.k8s.io/v1 Event → the core Event fields the printer reads (kube prints both alike). */
function coreEventOf(ev: Any): Any {
  return {
    metadata: ev.metadata,
    involvedObject: ev.regarding ?? {},
    reason: ev.reason,
    type: ev.type,
    message: ev.note,
    source: ev.deprecatedSource,
    firstTimestamp: ev.deprecatedFirstTimestamp,
    lastTimestamp: ev.deprecatedLastTimestamp,
    count: ev.deprecatedCount,
    eventTime: ev.eventTime,
    series: ev.series ? { count: ev.series.count, lastObservedTime: ev.series.lastObservedTime } : undefined,
    reportingComponent: ev.reportingController,
    reportingInstance: ev.reportingInstance,
  };
}

// ---------------------------------------------------------------- registry


export const podPrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
    col('Status', 'string', 'The aggregate status of the containers in this pod.'),
    col('Restarts', 'string', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
    ageCol(),
    col('IP', 'string', 'podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.', 1),
    col('Node', 'string', 'NodeName indicates in which node this pod is scheduled.', 1),
    col('Nominated Node', 'string', 'nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods.', 1),
    col('Readiness Gates', 'string', 'If specified, all readiness gates will be evaluated for pod readiness.', 1),
  ],
  cells: (o, now) => podCells(o, now),
  conditions: (o: Any) => {
    if (o.status?.phase === 'Succeeded') return [{ type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' }];
    if (o.status?.phase === 'Failed') return [{ type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' }];
    return undefined;
  },
};
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
export const endpointsPrinter: KindPrinter = {
  columns: [nameCol(), col('Endpoints', 'string', 'The set of all endpoints is the union of all subsets.'), ageCol()],
  cells: (o, now) => [name(o), formatEndpoints(o), age(o, now)],
};
export const endpointSlicePrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('AddressType', 'string', 'addressType specifies the type of address carried by this EndpointSlice.'),
    col('Ports', 'string', 'ports specifies the list of network ports exposed by each endpoint in this slice.'),
    col('Endpoints', 'string', 'endpoints is a list of unique endpoints in this slice.'),
    ageCol(),
  ],
  cells: (o: Any, now) => [name(o), o.addressType ?? '', discoveryPorts(o.ports ?? []), discoveryEndpoints(o.endpoints ?? []), age(o, now)],
};
export const namespacePrinter: KindPrinter = {
  columns: [nameCol(), col('Status', 'string', 'The status of the namespace'), ageCol()],
  cells: (o: Any, now) => [name(o), o.status?.phase ?? '', age(o, now)],
};
export const configMapPrinter: KindPrinter = {
  columns: [nameCol(), col('Data', 'string', 'Data contains the configuration data.'), ageCol()],
  cells: (o: Any, now) => [name(o), len(o.data) + len(o.binaryData), age(o, now)],
};
export const secretPrinter: KindPrinter = {
  columns: [nameCol(), col('Type', 'string', 'Used to facilitate programmatic handling of secret data.'), col('Data', 'string', 'Data contains the secret data.'), ageCol()],
  cells: (o: Any, now) => [name(o), o.type ?? '', len(o.data), age(o, now)],
};
export const serviceAccountPrinter: KindPrinter = {
  columns: [nameCol(), col('Secrets', 'string', 'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.'), ageCol()],
  cells: (o: Any, now) => [name(o), len(o.secrets), age(o, now)],
};
export const nodePrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Status', 'string', 'The status of the node'),
    col('Roles', 'string', 'The roles of the node'),
    ageCol(),
    col('Version', 'string', 'Kubelet Version reported by the node.'),
    col('Internal-IP', 'string', 'List of addresses reachable to the node.', 1),
    col('External-IP', 'string', 'List of addresses reachable to the node.', 1),
    col('OS-Image', 'string', 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).', 1),
    col('Kernel-Version', 'string', "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", 1),
    col('Container-Runtime', 'string', 'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).', 1),
  ],
  cells: (o, now) => nodeCells(o, now),
};
export const eventPrinter: KindPrinter = {
  columns: [
    col('Last Seen', 'string', 'The time at which the most recent occurrence of this event was recorded.'),
    col('Type', 'string', 'Type of this event (Normal, Warning), new types could be added in the future'),
    col('Reason', 'string', "This should be a short, machine understandable string that gives the reason for the transition into the object's current status."),
    col('Object', 'string', 'The object that this event is about.'),
    col('Subobject', 'string', 'If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement.', 1),
    col('Source', 'string', 'The component reporting this event. Should be a short machine understandable string.', 1),
    col('Message', 'string', 'A human-readable description of the status of this operation.'),
    col('First Seen', 'string', 'The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)', 1),
    col('Count', 'string', 'The number of times this event has occurred.', 1),
    nameCol(1),
  ],
  cells: (o, now) => eventCells(o, now),
};
export const deploymentPrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Ready', 'string', 'Number of the pod with ready state'),
    col('Up-to-date', 'string', 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.'),
    col('Available', 'string', 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.'),
    ageCol(), containersCol(), imagesCol(),
    selectorCol('Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.'),
  ],
  cells: (o: Any, now) => {
    const [names, images] = layoutContainerCells(o.spec?.template?.spec?.containers);
    const desired = o.spec?.replicas ?? 1;
    return [name(o), `${int(o.status?.readyReplicas)}/${int(desired)}`, int(o.status?.updatedReplicas), int(o.status?.availableReplicas), age(o, now), names, images, selectorString(o.spec?.selector)];
  },
};
export const replicaSetPrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Desired', 'integer', 'Replicas is the number of desired replicas.'),
    col('Current', 'integer', 'Replicas is the most recently observed number of replicas.'),
    col('Ready', 'integer', 'The number of ready replicas for this replica set.'),
    ageCol(), containersCol(), imagesCol(),
    selectorCol('Selector is a label query over pods that should match the replica count.'),
  ],
  cells: (o: Any, now) => {
    const [names, images] = layoutContainerCells(o.spec?.template?.spec?.containers);
    return [name(o), int(o.spec?.replicas ?? 1), int(o.status?.replicas), int(o.status?.readyReplicas), age(o, now), names, images, formatLabelSelector(o.spec?.selector)];
  },
};
export const replicationControllerPrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Desired', 'integer', 'Replicas is the number of desired replicas.'),
    col('Current', 'integer', 'Replicas is the most recently observed number of replicas.'),
    col('Ready', 'integer', 'The number of ready replicas for this replication controller.'),
    ageCol(), containersCol(), imagesCol(),
    selectorCol('Selector is a label query over pods that should match the Replicas count.'),
  ],
  cells: (o: Any, now) => {
    const [names, images] = layoutContainerCells(o.spec?.template?.spec?.containers);
    return [name(o), int(o.spec?.replicas ?? 1), int(o.status?.replicas), int(o.status?.readyReplicas), age(o, now), names, images, formatLabels(o.spec?.selector)];
  },
};
export const daemonSetPrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Desired', 'integer', 'The total number of nodes that should be running the daemon pod.'),
    col('Current', 'integer', 'The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.'),
    col('Ready', 'integer', 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running with a Ready Condition.'),
    col('Up-to-date', 'integer', 'The total number of nodes that are running updated daemon pod'),
    col('Available', 'integer', 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available.'),
    col('Node Selector', 'string', 'NodeSelector is a selector which must be true for the pod to fit on a node.'),
    ageCol(), containersCol(), imagesCol(),
    selectorCol('A label query over pods that are managed by the daemon set.'),
  ],
  cells: (o: Any, now) => {
    const s = o.status ?? {};
    const [names, images] = layoutContainerCells(o.spec?.template?.spec?.containers);
    return [name(o), int(s.desiredNumberScheduled), int(s.currentNumberScheduled), int(s.numberReady), int(s.updatedNumberScheduled), int(s.numberAvailable), formatLabels(o.spec?.template?.spec?.nodeSelector), age(o, now), names, images, formatLabelSelector(o.spec?.selector)];
  },
};
export const statefulSetPrinter: KindPrinter = {
  columns: [nameCol(), col('Ready', 'string', 'Number of the pod with ready state'), ageCol(), containersCol(), imagesCol()],
  cells: (o: Any, now) => {
    const [names, images] = layoutContainerCells(o.spec?.template?.spec?.containers);
    return [name(o), `${int(o.status?.readyReplicas)}/${int(o.spec?.replicas ?? 1)}`, age(o, now), names, images];
  },
};
export const controllerRevisionPrinter: KindPrinter = {
  columns: [nameCol(), col('Controller', 'string', 'Controller of the object'), col('Revision', 'string', 'Revision indicates the revision of the state represented by Data.'), ageCol()],
  cells: (o: Any, now) => {
    const ref = (o.metadata?.ownerReferences ?? []).find((r: Any) => r.controller);
    let controller = '<none>';
    if (ref) {
      const group = String(ref.apiVersion ?? '').includes('/') ? String(ref.apiVersion).split('/')[0] : '';
      controller = `${(group ? `${ref.kind}.${group}` : ref.kind).toLowerCase()}/${ref.name}`;
    }
    return [name(o), controller, int(o.revision), age(o, now)];
  },
};
export const jobPrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Status', 'string', 'Status of the job.'),
    col('Completions', 'string', 'The number of pods which reached phase Succeeded.'),
    col('Duration', 'string', 'Time required to complete the job.'),
    ageCol(), containersCol(), imagesCol(),
    selectorCol('A label query over pods that should match the pod count.'),
  ],
  cells: (o, now) => jobCells(o, now),
};
export const cronJobPrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Schedule', 'string', 'The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.'),
    col('Timezone', 'string', 'The time zone name for the given schedule.'),
    col('Suspend', 'boolean', 'This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.'),
    col('Active', 'integer', 'A list of pointers to currently running jobs.'),
    col('Last Schedule', 'string', 'Information when was the last time the job was successfully scheduled.'),
    ageCol(), containersCol(), imagesCol(),
    selectorCol('A label query over pods that should match the pod count.'),
  ],
  cells: (o, now) => cronJobCells(o, now),
};
export const roleBindingPrinter: KindPrinter = bindingPrinter('roleBinding');
export const clusterRoleBindingPrinter: KindPrinter = bindingPrinter('clusterRoleBinding');
export const mutatingWebhookConfigurationPrinter: KindPrinter = webhookPrinter();
export const validatingWebhookConfigurationPrinter: KindPrinter = webhookPrinter();
export const podDisruptionBudgetPrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Min Available', 'string', 'The minimum number of pods that must be available.'),
    col('Max Unavailable', 'string', 'The maximum number of pods that may be unavailable.'),
    col('Allowed Disruptions', 'integer', 'Calculated number of pods that may be disrupted at this time.'),
    ageCol(),
  ],
  cells: (o: Any, now) => [name(o), o.spec?.minAvailable != null ? intOrString(o.spec.minAvailable) : 'N/A', o.spec?.maxUnavailable != null ? intOrString(o.spec.maxUnavailable) : 'N/A', int(o.status?.disruptionsAllowed), age(o, now)],
};
export const horizontalPodAutoscalerPrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Reference', 'string', 'scaleTargetRef points to the target resource to scale.'),
    col('Targets', 'string', 'metrics contains the specifications for which to use to calculate the desired replica count.'),
    col('MinPods', 'string', 'minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.'),
    col('MaxPods', 'string', 'maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up.'),
    col('Replicas', 'string', 'currentReplicas is current number of replicas of pods managed by this autoscaler.'),
    ageCol(),
  ],
  cells: (o, now) => hpaCells(o, now),
};
export const leasePrinter: KindPrinter = {
  columns: [nameCol(), col('Holder', 'string', 'holderIdentity contains the identity of the holder of a current lease.'), ageCol()],
  cells: (o: Any, now) => [name(o), o.spec?.holderIdentity ?? '', age(o, now)],
};
export const ingressPrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Class', 'string', 'The name of the IngressClass resource that should be used for additional configuration'),
    col('Hosts', 'string', 'Hosts that incoming requests are matched against before the ingress rule'),
    col('Address', 'string', 'Address is a list containing ingress points for the load-balancer'),
    col('Ports', 'string', 'Ports of TLS configurations that open'),
    ageCol(),
  ],
  cells: (o: Any, now) => {
    const rules: Any[] = o.spec?.rules ?? [];
    const hosts: string[] = [];
    let more = false;
    for (const r of rules) {
      if (hosts.length === 3) more = true;
      if (!more && r.host) hosts.push(r.host);
    }
    const hostText = hosts.length === 0 ? '*' : more ? `${hosts.join(',')} + ${rules.length - 3} more...` : hosts.join(',');
    return [name(o), o.spec?.ingressClassName ?? '<none>', hostText, loadBalancerStatus(o.status?.loadBalancer), (o.spec?.tls ?? []).length ? '80, 443' : '80', age(o, now)];
  },
};
export const ingressClassPrinter: KindPrinter = {
  columns: [nameCol(), col('Controller', 'string', 'Controller that is responsible for handling this class'), col('Parameters', 'string', 'A reference to a resource with additional parameters'), ageCol()],
  cells: (o: Any, now) => {
    const p = o.spec?.parameters;
    const params = p ? `${p.kind}${p.apiGroup ? `.${p.apiGroup}` : ''}/${p.name}` : '<none>';
    return [name(o), o.spec?.controller ?? '', params, age(o, now)];
  },
};
export const networkPolicyPrinter: KindPrinter = {
  columns: [nameCol(), col('Pod-Selector', 'string', 'Selects the pods to which this NetworkPolicy object applies.'), ageCol()],
  cells: (o: Any, now) => [name(o), formatLabelSelector(o.spec?.podSelector ?? {}), age(o, now)],
};
export const persistentVolumeClaimPrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Status', 'string', 'phase represents the current phase of PersistentVolumeClaim.'),
    col('Volume', 'string', 'volumeName is the binding reference to the PersistentVolume backing this claim.'),
    col('Capacity', 'string', 'capacity represents the actual resources of the underlying volume.'),
    col('Access Modes', 'string', 'accessModes contains the actual access modes the volume backing the PVC has.'),
    col('StorageClass', 'string', 'StorageClass of the pvc'),
    col('VolumeAttributesClass', 'string', 'VolumeAttributesClass of the pvc'),
    ageCol(),
    col('VolumeMode', 'string', 'volumeMode defines what type of volume is required by the claim.', 1),
  ],
  cells: (o: Any, now) => {
    const phase = o.metadata?.deletionTimestamp ? 'Terminating' : o.status?.phase ?? '';
    const bound = !!o.spec?.volumeName;
    const modes = bound ? accessModes(o.status?.accessModes) : '';
    const capacity = bound ? String(o.status?.capacity?.storage ?? '') : '';
    const storageClass = o.spec?.storageClassName ?? o.metadata?.annotations?.['volume.beta.kubernetes.io/storage-class'] ?? '';
    return [name(o), phase, o.spec?.volumeName ?? '', capacity, modes, storageClass, o.spec?.volumeAttributesClassName ?? '<unset>', age(o, now), o.spec?.volumeMode ?? '<unset>'];
  },
};
export const storageClassPrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Provisioner', 'string', 'provisioner indicates the type of the provisioner.'),
    col('ReclaimPolicy', 'string', 'reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class.'),
    col('VolumeBindingMode', 'string', 'volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.'),
    col('AllowVolumeExpansion', 'string', 'allowVolumeExpansion shows whether the storage class allow volume expand.'),
    ageCol(),
  ],
  cells: (o: Any, now) => {
    const annotations = o.metadata?.annotations ?? {};
    const isDefault = annotations['storageclass.kubernetes.io/is-default-class'] === 'true' || annotations['storageclass.beta.kubernetes.io/is-default-class'] === 'true';
    return [isDefault ? `${name(o)} (default)` : name(o), o.provisioner ?? '', o.reclaimPolicy ?? 'Delete', o.volumeBindingMode ?? 'Immediate', o.allowVolumeExpansion === true, age(o, now)];
  },
};
export const priorityClassPrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Value', 'integer', 'value represents the integer value of this priority class.'),
    col('Global-Default', 'boolean', 'globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class.'),
    ageCol(),
    col('PreemptionPolicy', 'string', 'preemptionPolicy is the Policy for preempting pods with lower priority.', 1),
  ],
  cells: (o: Any, now) => [name(o), int(o.value), o.globalDefault === true, age(o, now), o.preemptionPolicy ?? ''],
};
export const podTemplatePrinter: KindPrinter = {
  columns: [nameCol(), containersCol(0), imagesCol(0), col('Pod Labels', 'string', 'The labels for the pod template.')],
  cells: (o: Any) => {
    const [names, images] = layoutContainerCells(o.template?.spec?.containers);
    return [name(o), names, images, formatLabels(o.template?.metadata?.labels)];
  },
};
export const persistentVolumePrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Capacity', 'string', 'capacity is the description of the persistent volume\'s resources and capacity.'),
    col('Access Modes', 'string', 'accessModes contains all ways the volume can be mounted.'),
    col('Reclaim Policy', 'string', 'persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim.'),
    col('Status', 'string', 'phase indicates if a volume is available, bound to a claim, or released by a claim.'),
    col('Claim', 'string', 'claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim.'),
    col('StorageClass', 'string', 'StorageClass of the pv'),
    col('VolumeAttributesClass', 'string', 'VolumeAttributesClass of the pv'),
    col('Reason', 'string', 'reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI.'),
    ageCol(),
    col('VolumeMode', 'string', 'volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state.', 1),
  ],
  cells: (o: Any, now) => {
    const spec = o.spec ?? {};
    const claim = spec.claimRef ? `${spec.claimRef.namespace ?? ''}/${spec.claimRef.name ?? ''}` : '';
    const phase = o.metadata?.deletionTimestamp ? 'Terminating' : o.status?.phase ?? '';
    const storageClass = spec.storageClassName ?? o.metadata?.annotations?.['volume.beta.kubernetes.io/storage-class'] ?? '';
    return [name(o), String(spec.capacity?.storage ?? '0'), accessModes(spec.accessModes), spec.persistentVolumeReclaimPolicy ?? '', phase, claim, storageClass, spec.volumeAttributesClassName ?? '<unset>', o.status?.reason ?? '', age(o, now), spec.volumeMode ?? '<unset>'];
  },
};
export const resourceQuotaPrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Request', 'string', 'Request represents a minimum amount of cpu/memory that a container may consume.'),
    col('Limit', 'string', 'Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.'),
    ageCol(),
  ],
  cells: (o: Any, now) => {
    const hard: Record<string, unknown> = o.status?.hard ?? {};
    const used: Record<string, unknown> = o.status?.used ?? {};
    const requests: string[] = [];
    const limits: string[] = [];
    for (const r of Object.keys(hard).sort()) {
      const text = `${r}: ${String(used[r] ?? '0')}/${String(hard[r])}`;
      (r.split('.').length > 1 && r.startsWith('limits.') ? limits : requests).push(text);
    }
    return [name(o), requests.join(', '), limits.join(', '), age(o, now)];
  },
};

/** events.k8s.io/v1 Events print as core Events do, with their renamed fields mapped back. */
export const eventsV1EventPrinter: KindPrinter = {
  columns: eventPrinter.columns,
  cells: (o, now) => eventCells(coreEventOf(o), now),
};

function accessModes(modes: unknown): string {
  const list: string[] = Array.isArray(modes) ? modes : [];
  const short: Record<string, string> = { ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP' };
  const out: string[] = [];
  for (const m of ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod']) if (list.includes(m)) out.push(short[m]!);
  return out.join(',');
}

function bindingPrinter(what: string): KindPrinter {
  return {
    columns: [
      nameCol(),
      col('Role', 'string', 'RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace.'),
      ageCol(),
      col('Users', 'string', `Users in the ${what}`, 1),
      col('Groups', 'string', `Groups in the ${what}`, 1),
      col('ServiceAccounts', 'string', `ServiceAccounts in the ${what}`, 1),
    ],
    cells: (o: Any, now) => {
      const users: string[] = [];
      const groups: string[] = [];
      const sas: string[] = [];
      for (const s of o.subjects ?? []) {
        if (s.kind === 'User') users.push(s.name);
        else if (s.kind === 'Group') groups.push(s.name);
        else if (s.kind === 'ServiceAccount') sas.push(`${s.namespace ?? ''}/${s.name}`);
      }
      return [name(o), `${o.roleRef?.kind}/${o.roleRef?.name}`, age(o, now), users.join(', '), groups.join(', '), sas.join(', ')];
    },
  };
}

function webhookPrinter(): KindPrinter {
  return {
    columns: [nameCol(), col('Webhooks', 'integer', 'Webhooks indicates the number of webhooks registered in this configuration'), ageCol()],
    cells: (o: Any, now) => [name(o), len(o.webhooks), age(o, now)],
  };
}
