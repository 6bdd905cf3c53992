/**
 * Registers the cluster's nodes (as each kubelet does at start-up) and keeps their Leases in
 * kube-node-lease renewed, the heartbeat the node lifecycle controller watches.
 */
import type { ClusterApi, ClusterEvents } from '../addons/api.js';
import type { KubeObject } from '../types.js';
import { microISO, nowISO, quietly, type Obj, type Resources } from '../controllers/kit.js';
import { processLoopbackBlocks, type LoopbackBlockAllocator } from './addresses.js';
import { DEFAULT_TOPOLOGY, nodeObject, placeNodes, type NodeTopology, type PlacedNode } from './topology.js';

const LEASE_SECONDS = 40;
const RENEW_MS = 10_000;
const HEARTBEAT_TICKS = 30;

export class NodeLifecycle {
  readonly nodes: PlacedNode[];
  private readonly block: string;
  private renewTimer: NodeJS.Timeout | undefined;
  private released = false;

  constructor(
    private readonly cluster: ClusterApi,
    private readonly res: Resources,
    topology: NodeTopology = DEFAULT_TOPOLOGY,
    /** An allocator to lease a block from, or the block itself (claimed machine-wide by the caller). */
    private readonly blocks: LoopbackBlockAllocator | string = processLoopbackBlocks,
    private readonly events?: ClusterEvents,
  ) {
    const names = new Set<string>();
    for (const n of topology.nodes) {
      if (names.has(n.name)) throw new Error(`node ${n.name} appears twice in the topology`);
      names.add(n.name);
    }
    if (topology.nodes.length === 0 || topology.nodes.length > 250) throw new Error('a topology needs 1 to 250 nodes');
    this.block = typeof blocks === 'string' ? blocks : blocks.lease();
    this.nodes = placeNodes(topology, this.block);
  }

  byName(name: string): PlacedNode | undefined {
    return this.nodes.find((n) => n.name === name);
  }

  /** Registers every node and its Lease (idempotent: existing nodes are left as they are). */
  async register(): Promise<void> {
    const now = nowISO();
    for (const n of this.nodes) {
      if (!this.cluster.store.has(this.res.nodes.bucket, '', n.name)) {
        const node = nodeObject(n, now);
        const status = node.status;
        const created = await this.cluster.rest.create(this.res.nodes, '', node, { fieldManager: 'kubelet' });
        const stored = await this.cluster.rest.update(this.res.nodes, '', n.name, { ...created, status }, { fieldManager: 'kubelet' }, 'status');
        this.announce(stored as KubeObject);
      }
      await this.renew(n);
    }
    let ticks = 0;
    this.renewTimer = setInterval(() => {
      ticks++;
      for (const n of this.nodes) {
        void this.renew(n).catch(() => {});
        // The kubelet reports unchanged node status every nodeStatusReportFrequency (5 min).
        if (ticks % HEARTBEAT_TICKS === 0) void this.heartbeat(n).catch(() => {});
      }
    }, RENEW_MS);
    this.renewTimer.unref?.();
  }

  /** The events a kubelet and the node controller record when a node joins (kubelet events use the node name as uid). */
  private announce(node: KubeObject): void {
    if (!this.events) return;
    const name = node.metadata.name!;
    const asKubelet = { ...node, metadata: { ...node.metadata, uid: name } };
    const kubelet = { component: 'kubelet', host: name };
    this.events.normal(asKubelet, 'Starting', 'Starting kubelet.', kubelet);
    for (const s of ['NodeHasSufficientMemory', 'NodeHasNoDiskPressure', 'NodeHasSufficientPID']) this.events.normal(asKubelet, s, `Node ${name} status is now: ${s}`, kubelet);
    this.events.normal(asKubelet, 'NodeAllocatableEnforced', 'Updated Node Allocatable limit across pods', kubelet);
    this.events.normal(node, 'RegisteredNode', `Node ${name} event: Registered Node ${name} in Controller`, { component: 'node-controller' });
    this.events.normal(asKubelet, 'NodeReady', `Node ${name} status is now: NodeReady`, kubelet);
  }

  private async heartbeat(n: PlacedNode): Promise<void> {
    const node = this.cluster.store.get(this.res.nodes.bucket, '', n.name) as Obj | undefined;
    if (!node?.status?.conditions) return;
    const now = nowISO();
    for (const c of node.status.conditions) c.lastHeartbeatTime = now;
    await quietly(() => this.cluster.rest.update(this.res.nodes, '', n.name, node, { fieldManager: 'kubelet' }, 'status'));
  }

  private async renew(n: PlacedNode): Promise<void> {
    const node = this.cluster.store.get(this.res.nodes.bucket, '', n.name);
    if (!node) return;
    const live = this.cluster.store.get(this.res.leases.bucket, 'kube-node-lease', n.name) as Obj | undefined;
    if (!live) {
      await quietly(() =>
        this.cluster.rest.create(this.res.leases, 'kube-node-lease', {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: n.name, namespace: 'kube-node-lease', ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: n.name, uid: node.metadata.uid! }] },
          spec: { holderIdentity: n.name, leaseDurationSeconds: LEASE_SECONDS, renewTime: microISO() },
        }),
      );
      return;
    }
    live.spec = { ...(live.spec ?? {}), holderIdentity: n.name, leaseDurationSeconds: LEASE_SECONDS, renewTime: microISO() };
    await quietly(() => this.cluster.rest.update(this.res.leases, 'kube-node-lease', n.name, live));
  }

  stop(): void {
    if (this.renewTimer) clearInterval(this.renewTimer);
    if (!this.released) {
      this.released = true;
      if (typeof this.blocks !== 'string') this.blocks.release(this.block);
    }
  }
}
