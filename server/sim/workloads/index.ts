/**
 * Wires simulated workloads into an embedded cluster: the pod network (DNS, Services, the
 * per-pod interception chain, NodePort listeners), the ContainerRuntime the kubelet starts
 * containers with, and the pod subresources that reach inside pods (exec, attach, log,
 * portforward) plus the services/pods proxy.
 *
 *   const net = attachNetwork(cluster);
 *   const workloads = startWorkloadControllers(cluster, { runtime: net.runtime });
 *   net.useKubelet(workloads.kubelet);
 */
import type { EmbeddedCluster } from '../cluster.js';
import type { ContainerRuntime } from '../controllers/container-runtime.js';
import type { KubeletTimings } from '../controllers/kit.js';
import { mountPodStreams } from '../apiserver/streams/mount.js';
import { ClusterNetwork } from '../network/network.js';
import { NodePortListeners } from '../network/nodeports.js';
import type { PodInterceptors } from '../network/interceptors.js';
import { behaviourRuntime } from './runtime.js';
import { PortForwardBridge, podRuntime, type LogStore } from './pod-streams.js';
import { ApiProxy } from './proxy.js';

export type { LogStore } from './pod-streams.js';
export type { NetworkPod, PodInterceptor, InboundCall, OutboundCall, InboundPath, Next } from '../network/types.js';
export { ClusterNetwork } from '../network/network.js';

export interface AttachNetworkOptions {
  /** Randomness of Service balancing and workloads (deterministic tests). */
  random?: () => number;
  now?: () => Date;
  /** Where container logs live; can be given later with useKubelet(). */
  kubelet?: LogStore;
  /** Skip the real NodePort listeners (several clusters on a port that must stay free). */
  nodePorts?: boolean;
}

export interface NetworkAttachment {
  network: ClusterNetwork;
  /** The per-pod interception point (empty by default): where Istio's sidecar hangs. */
  interceptors: PodInterceptors;
  /** For startWorkloadControllers(cluster, { runtime }): containers run their images' behaviours. */
  runtime(timings: KubeletTimings): ContainerRuntime;
  /** Hands the kubelet's log buffers to pods/log and attach. */
  useKubelet(kubelet: LogStore): void;
  /** `ip:port` of every NodePort listener open now. */
  nodePortAddresses(): string[];
  /** Resolves when NodePort listeners match the cluster's current Services. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

export function attachNetwork(cluster: EmbeddedCluster, options: AttachNetworkOptions = {}): NetworkAttachment {
  const random = options.random ?? Math.random;
  const network = new ClusterNetwork(cluster, random);
  const bridge = new PortForwardBridge(network);
  let kubelet = options.kubelet;
  const nodePorts = options.nodePorts === false ? undefined : new NodePortListeners(cluster, network);
  const proxy = new ApiProxy(cluster, network, random);
  const unmount = [
    mountPodStreams(cluster.apiserver, cluster.rest, podRuntime(network, bridge, () => kubelet)),
    cluster.apiserver.registerSubresource('services', 'proxy', { http: (ctx) => proxy.serve('services', ctx) }),
    cluster.apiserver.registerSubresource('pods', 'proxy', { http: (ctx) => proxy.serve('pods', ctx) }),
  ];
  let stopped = false;
  return {
    network,
    interceptors: network.interceptors,
    runtime: (timings) => behaviourRuntime(cluster, network, timings, { random, ...(options.now ? { now: options.now } : {}) }),
    useKubelet(k) {
      kubelet = k;
    },
    nodePortAddresses: () => nodePorts?.addresses() ?? [],
    idle: async () => {
      await nodePorts?.idle();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const u of unmount) u();
      await nodePorts?.stop();
      await bridge.close();
      network.close();
    },
  };
}
