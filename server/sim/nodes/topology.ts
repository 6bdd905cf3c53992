/**
 * The nodes of an embedded cluster and the Node objects that describe them, shaped like a kubeadm
 * cluster's (the tutorial's lab: one control plane with 2 CPU / 4 GiB, two workers with 1 CPU / 1 GiB).
 */
import type { KubeObject } from '../types.js';

export interface NodeSpecification {
  name: string;
  role: 'control-plane' | 'worker';
  cpu: string;
  memory: string;
  /** Extra labels (e.g. topology zones) and taints beyond the role's. */
  labels?: Record<string, string>;
  taints?: { key: string; value?: string; effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute' }[];
}

export interface NodeTopology {
  nodes: NodeSpecification[];
}

export const DEFAULT_TOPOLOGY: NodeTopology = {
  nodes: [
    { name: 'control-plane', role: 'control-plane', cpu: '2', memory: '4Gi' },
    { name: 'worker-1', role: 'worker', cpu: '1', memory: '1Gi' },
    { name: 'worker-2', role: 'worker', cpu: '1', memory: '1Gi' },
  ],
};

export const KUBE_VERSION = 'v1.32.2';
export const CONTAINERD_VERSION = 'containerd://1.7.24';
const OS_IMAGE = 'Debian GNU/Linux 12 (bookworm)';
const KERNEL = '6.1.0-28-amd64';
const EPHEMERAL_CAPACITY_KI = 61202244;

/** A node as the cluster runs it: its spec plus the addresses it was given. */
export interface PlacedNode extends NodeSpecification {
  ip: string;
  podCIDR: string;
  /** Index in the topology (podCIDR 10.244.<index>.0/24). */
  index: number;
}

export const CONTROL_PLANE_TAINT = { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' as const };

function memoryKi(q: string): number {
  const m = /^(\d+)(Ki|Mi|Gi)?$/.exec(q);
  if (!m) throw new Error(`node memory must look like 4Gi, got ${q}`);
  const n = Number(m[1]);
  return m[2] === 'Gi' ? n * 1024 * 1024 : m[2] === 'Mi' ? n * 1024 : n;
}

export function placeNodes(topology: NodeTopology, block: string): PlacedNode[] {
  return topology.nodes.map((n, index) => ({ ...n, index, ip: `${block}.${index + 2}`, podCIDR: `10.244.${index}.0/24` }));
}

/** The Node object the kubelet registers, with the status it reports once Ready. */
export function nodeObject(n: PlacedNode, now: string): KubeObject {
  const labels: Record<string, string> = {
    'beta.kubernetes.io/arch': 'amd64',
    'beta.kubernetes.io/os': 'linux',
    'kubernetes.io/arch': 'amd64',
    'kubernetes.io/hostname': n.name,
    'kubernetes.io/os': 'linux',
    ...(n.role === 'control-plane' ? { 'node-role.kubernetes.io/control-plane': '', 'node.kubernetes.io/exclude-from-external-load-balancers': '' } : {}),
    ...(n.labels ?? {}),
  };
  const taints = [...(n.role === 'control-plane' ? [CONTROL_PLANE_TAINT] : []), ...(n.taints ?? [])];
  // A machine sold as 4 GiB reports a little less: firmware and the kernel keep some for themselves.
  const memKi = Math.round(memoryKi(n.memory) * 0.968);
  // The kubelet's default hard eviction threshold (memory.available<100Mi) comes off allocatable.
  const allocatableMemKi = memKi - 100 * 1024;
  const cond = (type: string, status: string, reason: string, message: string) => ({ type, status, lastHeartbeatTime: now, lastTransitionTime: now, reason, message });
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: n.name,
      labels,
      annotations: {
        'kubeadm.alpha.kubernetes.io/cri-socket': 'unix:///run/containerd/containerd.sock',
        'node.alpha.kubernetes.io/ttl': '0',
        'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
      },
    },
    spec: { podCIDR: n.podCIDR, podCIDRs: [n.podCIDR], ...(taints.length ? { taints } : {}) },
    status: {
      capacity: { cpu: n.cpu, 'ephemeral-storage': `${EPHEMERAL_CAPACITY_KI}Ki`, 'hugepages-1Gi': '0', 'hugepages-2Mi': '0', memory: `${memKi}Ki`, pods: '110' },
      allocatable: { cpu: n.cpu, 'ephemeral-storage': '56403987978', 'hugepages-1Gi': '0', 'hugepages-2Mi': '0', memory: `${allocatableMemKi}Ki`, pods: '110' },
      conditions: [
        cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
        cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
        cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
        cond('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
      ],
      addresses: [
        { type: 'InternalIP', address: n.ip },
        { type: 'Hostname', address: n.name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        machineID: hex(`${n.name}-machine`, 32),
        systemUUID: uuidish(`${n.name}-system`),
        bootID: uuidish(`${n.name}-boot-${now}`),
        kernelVersion: KERNEL,
        osImage: OS_IMAGE,
        containerRuntimeVersion: CONTAINERD_VERSION,
        kubeletVersion: KUBE_VERSION,
        kubeProxyVersion: KUBE_VERSION,
        operatingSystem: 'linux',
        architecture: 'amd64',
      },
      images: [],
    },
  };
}

/** Deterministic hex from a seed (FNV-1a chained), so node identities look stable. */
export function hex(seed: string, len: number): string {
  let out = '';
  let h = 0x811c9dc5;
  for (let round = 0; out.length < len; round++) {
    for (const ch of `${seed}#${round}`) {
      h ^= ch.charCodeAt(0);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    out += h.toString(16).padStart(8, '0');
  }
  return out.slice(0, len);
}

function uuidish(seed: string): string {
  const h = hex(seed, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
