/**
 * Everything that makes an embedded cluster run workloads: nodes and their leases, the kubeadm
 * system workloads, the scheduler, the simulated kubelets, and the workload, endpoints and event
 * machinery. One call starts it all on a cluster; `stop()` releases timers and node addresses.
 */
import type { EmbeddedCluster } from '../cluster.js';
import { NodeLifecycle } from '../nodes/lifecycle.js';
import type { LoopbackBlockAllocator } from '../nodes/addresses.js';
import type { NodeTopology } from '../nodes/topology.js';
import { defaultContainerRuntime, type ContainerRuntime } from './container-runtime.js';
import { DaemonSetController } from './daemonset.js';
import { DeploymentController } from './deployment.js';
import { EndpointsController } from './endpoints.js';
import { EventRecorder } from './events.js';
import { JobController } from './job.js';
import { DEFAULT_TIMINGS, Resources, type KubeletTimings } from './kit.js';
import { Kubelet } from './kubelet.js';
import { ReplicaSetController } from './replicaset.js';
import { Scheduler } from './scheduler.js';
import { StatefulSetController } from './statefulset.js';
import { createSystemWorkloads } from './system-workloads.js';

export type { KubeletTimings } from './kit.js';
export { DEFAULT_TIMINGS, ZERO_TIMINGS } from './kit.js';
export type { NodeTopology, NodeSpecification } from '../nodes/topology.js';
export { DEFAULT_TOPOLOGY } from '../nodes/topology.js';
export type { ContainerRuntime, ContainerStart, RunningContainer, PodSandbox } from './container-runtime.js';
export { ContainerStartError, ContainerLog, defaultContainerRuntime } from './container-runtime.js';
export type { Kubelet } from './kubelet.js';

export interface WorkloadControllerOptions {
  timings?: Partial<KubeletTimings>;
  topology?: NodeTopology;
  /** What containers do; given the resolved timings. Default: defaultContainerRuntime. */
  runtime?: (timings: KubeletTimings) => ContainerRuntime;
  /** Where node addresses come from (default: the process-wide 127.x.y.0/24 block allocator). */
  loopbackBlocks?: LoopbackBlockAllocator;
  /** Skip CoreDNS, kube-proxy, the static pods and the `kubernetes` Service. */
  bare?: boolean;
}

export interface WorkloadControllers {
  stop(): void;
  /** Resolves once every controller has processed what is queued (timers still pending are not waited for). */
  idle(): Promise<void>;
  /** Re-examines the whole state; call after EmbeddedCluster.restore() (a restore emits no watch events). */
  resync(): void;
  /** Resolves when nodes and system workloads exist (startWorkloadControllers starts this at once). */
  ready: Promise<void>;
  kubelet: Kubelet;
  nodes: NodeLifecycle;
  timings: KubeletTimings;
}

export function startWorkloadControllers(cluster: EmbeddedCluster, options: WorkloadControllerOptions = {}): WorkloadControllers {
  const timings: KubeletTimings = { ...DEFAULT_TIMINGS, ...(options.timings ?? {}) };
  const res = new Resources(cluster);
  const events = new EventRecorder(cluster, res);
  const nodes = new NodeLifecycle(cluster, res, options.topology, options.loopbackBlocks, events);
  const runtime = (options.runtime ?? defaultContainerRuntime)(timings);
  // With a kubelet to finish it, pod deletion becomes graceful (Terminating), as on a real cluster.
  cluster.rest.gracefulPodDeletion = true;
  const controlPlane = nodes.nodes.find((n) => n.role === 'control-plane') ?? nodes.nodes[0]!;
  const kubelet = new Kubelet(cluster, res, events, nodes, timings, runtime);
  const parts = [
    new Scheduler(cluster, res, events, timings),
    kubelet,
    new ReplicaSetController(cluster, res, events),
    new DeploymentController(cluster, res, events),
    new DaemonSetController(cluster, res, events),
    new StatefulSetController(cluster, res, events),
    new JobController(cluster, res, events),
    new EndpointsController(cluster, res, controlPlane.ip),
  ];
  let stopped = false;
  const ready = (async () => {
    await nodes.register();
    if (!options.bare && !stopped) await createSystemWorkloads(cluster, res, nodes.nodes);
  })();
  ready.catch((e) => {
    if (!stopped) console.error('sim: starting nodes and system workloads failed:', (e as Error).message);
  });
  return {
    kubelet,
    nodes,
    timings,
    ready,
    resync() {
      if (stopped) return;
      for (const p of parts) p.resync();
    },
    async idle() {
      await ready;
      for (let round = 0; round < 5; round++) {
        for (const p of parts) await p.idle();
        await events.idle();
      }
    },
    stop() {
      if (stopped) return;
      stopped = true;
      for (const p of parts) p.stop();
      events.stop();
      nodes.stop();
    },
  };
}
