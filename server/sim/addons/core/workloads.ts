/**
 * The add-on that makes an embedded cluster run workloads: nodes and their leases, the pod
 * network (DNS, Services, NodePort listeners), the simulated kubelets and the containers they
 * run, the scheduler, the workload and endpoints controllers, the pod subresources that reach
 * inside pods, and kubeadm's system workloads (manifests/). It starts in one go, in dependency
 * order; `stop()` releases timers, listeners and node addresses.
 */
import type { AddOn, ClusterApi } from '../api.js';
import { NodeLifecycle } from '../../nodes/lifecycle.js';
import type { LoopbackBlockAllocator } from '../../nodes/addresses.js';
import type { PeerGuard } from '../../network/peer-uid.js';
import type { NodeTopology } from '../../nodes/topology.js';
import { ClusterNetwork } from '../../network/network.js';
import { NodePortListeners } from '../../network/nodeports.js';
import { defaultContainerManager, type ContainerManager } from '../../kubelet/container-manager.js';
import { Kubelet } from '../../kubelet/kubelet.js';
import type { Stage } from '../../kubelet/stages.js';
import { DaemonSetController } from '../../controllers/daemonset.js';
import { DeploymentController } from '../../controllers/deployment.js';
import { EndpointsController } from '../../controllers/endpoints.js';
import { JobController } from '../../controllers/job.js';
import { CronJobController } from '../../controllers/cronjob.js';
import { HorizontalPodAutoscalerController } from '../../controllers/podautoscaler.js';
import { TaintEvictionController } from '../../controllers/tainteviction.js';
import { DEFAULT_TIMINGS, Resources, type KubeletTimings } from '../../controllers/kit.js';
import { ReplicaSetController } from '../../controllers/replicaset.js';
import { Scheduler } from '../../controllers/scheduler.js';
import { StatefulSetController } from '../../controllers/statefulset.js';
import { imageContainers, servePodSubresources } from '../../workloads/index.js';
import { createSystemWorkloads } from './system-workloads.js';

export interface WorkloadsOptions {
  /** How long each pod lifecycle stage takes (kubelet/stages.ts); tests pass tiny values. */
  timings?: Partial<KubeletTimings>;
  /** The kubelet's stage table (default: POD_STAGES, what a kubeadm node's kubelet does). */
  stages?: readonly Stage[];
  topology?: NodeTopology;
  /**
   * What containers do, given the resolved timings and the pod network. Default: each image's
   * behaviour (workloads/image-containers.ts).
   */
  containers?: (timings: KubeletTimings, network: ClusterNetwork, api: ClusterApi) => ContainerManager;
  /** Where node addresses come from (default: the process-wide 127.x.y.0/24 block allocator). */
  loopbackBlocks?: LoopbackBlockAllocator;
  /** The 127.x.y block of this cluster's node addresses, claimed by the caller (overrides loopbackBlocks). */
  nodeBlock?: string;
  /** Who may connect to the NodePort listeners (default: anyone on the machine). */
  peerGuard?: PeerGuard;
  /** Skip CoreDNS, kube-proxy, the static pods and the `kubernetes` Service. */
  bare?: boolean;
  /** Skip the real NodePort listeners (several clusters on a port that must stay free). */
  nodePorts?: boolean;
  /** Randomness of Service balancing and workloads (deterministic tests). */
  random?: () => number;
  now?: () => Date;
}

/** What tests and tools may look at once the add-on runs. */
export interface Workloads {
  kubelet: Kubelet;
  nodes: NodeLifecycle;
  network: ClusterNetwork;
  timings: KubeletTimings;
  /** `ip:port` of every NodePort listener open now. */
  nodePortAddresses(): string[];
}

export type WorkloadsAddOn = AddOn & { readonly running?: Workloads };

export function workloads(options: WorkloadsOptions = {}): WorkloadsAddOn {
  const addOn: { name: string; running?: Workloads; start: AddOn['start'] } = {
    name: 'workloads',
    async start(api) {
      const timings: KubeletTimings = { ...DEFAULT_TIMINGS, ...(options.timings ?? {}) };
      const random = options.random ?? Math.random;
      const res = new Resources(api);
      const network = new ClusterNetwork(api, random);
      const containers = options.containers
        ? options.containers(timings, network, api)
        : imageContainers(api, network, timings, { random, ...(options.now ? { now: options.now } : {}) });
      const nodes = new NodeLifecycle(api, res, options.topology, options.nodeBlock ?? options.loopbackBlocks, api.events);
      // With a kubelet to finish it, pod deletion becomes graceful (Terminating), as on a real cluster.
      api.rest.kubeletRunning = true;
      const controlPlane = nodes.nodes.find((n) => n.role === 'control-plane') ?? nodes.nodes[0]!;
      const kubelet = new Kubelet(api, res, api.events, nodes, timings, containers, options.stages);
      const unmountSubresources = servePodSubresources(api, network, kubelet, random);
      const nodePorts = options.nodePorts === false ? undefined : new NodePortListeners(api, network, options.peerGuard);
      // kube-apiserver runs on the control-plane node: its webhook calls come from that address.
      const withdrawServiceCalls = api.serviceCalls.provide((ref, req, o) => network.callFromControlPlane(ref, req, o.timeoutMs, controlPlane.ip));
      const parts = [
        { name: 'scheduler', c: new Scheduler(api, res, api.events, timings) },
        { name: 'kubelet', c: kubelet },
        { name: 'replicaset', c: new ReplicaSetController(api, res, api.events) },
        { name: 'replicationcontroller', c: new ReplicaSetController(api, res, api.events, 'ReplicationController') },
        { name: 'deployment', c: new DeploymentController(api, res, api.events) },
        { name: 'daemonset', c: new DaemonSetController(api, res, api.events) },
        { name: 'statefulset', c: new StatefulSetController(api, res, api.events) },
        { name: 'job', c: new JobController(api, res, api.events) },
        { name: 'cronjob', c: new CronJobController(api, res, api.events) },
        { name: 'horizontal-pod-autoscaler', c: new HorizontalPodAutoscalerController(api, res, api.events) },
        { name: 'taint-eviction', c: new TaintEvictionController(api, res, api.events) },
        { name: 'endpoints', c: new EndpointsController(api, res, controlPlane.ip) },
      ];
      const unregister = parts.map(({ name, c }) => api.controllers.register({ name, idle: () => c.idle(), resync: () => c.resync() }));
      if (nodePorts) unregister.push(api.controllers.register({ name: 'nodeport-listeners', idle: () => nodePorts.idle() }));
      let stopped = false;
      const stop = async () => {
        if (stopped) return;
        stopped = true;
        withdrawServiceCalls();
        for (const u of unregister) u();
        for (const { c } of parts) c.stop();
        nodes.stop();
        await unmountSubresources();
        await nodePorts?.stop();
        network.close();
        addOn.running = undefined;
      };
      try {
        // Nodes and kube-system exist by the time a client can ask for them.
        await nodes.register();
        if (!options.bare) await createSystemWorkloads(api, nodes.nodes);
      } catch (e) {
        await stop();
        throw e;
      }
      addOn.running = { kubelet, nodes, network, timings, nodePortAddresses: () => nodePorts?.addresses() ?? [] };
      return stop;
    },
  };
  return addOn;
}

export { DEFAULT_TIMINGS, ZERO_TIMINGS, type KubeletTimings } from '../../controllers/kit.js';
export { defaultContainerManager, type ContainerManager } from '../../kubelet/container-manager.js';
