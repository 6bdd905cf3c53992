/** core/v1 Node (registered by the simulated kubelets). */
import type { KindDefinition } from '../../kind.js';
import { atomicList, conditions, keyedList, primitiveSet, stringMap, struct } from '../../patch/merge-schema.js';
import { validateObjectMeta } from '../../strategies/meta.js';
import type { Strategy } from '../../resource.js';
import { age, ageCol, col, name, nameCol, type Any, type KindPrinter } from '../../printers/columns.js';

type Obj = Record<string, any>;

export const nodeStrategy: Strategy = {
  prepareForCreate(obj) {
    (obj as Obj).status ??= {};
  },
  validate(obj) {
    return validateObjectMeta(obj, 'subdomain', false);
  },
  fieldLabels(obj) {
    return { 'spec.unschedulable': String((obj as Obj).spec?.unschedulable ?? false) };
  },
};

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

export const nodeKind: KindDefinition = {
  group: '',
  version: 'v1',
  kind: 'Node',
  names: { plural: 'nodes', shortNames: ['no'] },
  scope: 'Cluster',
  strategy: nodeStrategy,
  subresources: { status: true, others: [{ name: 'proxy', kind: 'NodeProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] }] },
  mergeSchema: struct({
    metadata: 'ObjectMeta',
    spec: struct({ podCIDRs: primitiveSet, taints: atomicList }),
    status: struct({
      conditions: conditions(),
      addresses: keyedList(struct({}), 'type'),
      capacity: stringMap(),
      allocatable: stringMap(),
      images: atomicList,
      volumesInUse: atomicList,
      volumesAttached: atomicList,
    }),
  }),
  zeroPaths: ['metadata', 'spec', 'status'],
  printer: nodePrinter,
};
