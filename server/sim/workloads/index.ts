/**
 * The pod subresources that reach inside pods (exec, attach, log, portforward) and the
 * services/pods proxy: they need the pod network (who serves where) and the kubelet's container
 * logs. The core add-on (addons/core) mounts them once both exist.
 */
import type { ClusterApi } from '../addons/api.js';
import { mountPodStreams } from '../apiserver/streams/mount.js';
import type { ClusterNetwork } from '../network/network.js';
import { PortForwardBridge, podRuntime, type LogStore } from './pod-streams.js';
import { ApiProxy } from './proxy.js';

export type { LogStore } from './pod-streams.js';
export { imageContainers } from './image-containers.js';

/** Registers pods/{exec,attach,log,portforward,proxy} and services/proxy; returns their unmount. */
export function servePodSubresources(api: ClusterApi, network: ClusterNetwork, logs: LogStore, random: () => number): () => Promise<void> {
  const bridge = new PortForwardBridge(network);
  const proxy = new ApiProxy(api, network, random);
  const unmount = [
    mountPodStreams({ registerSubresource: api.subresources.register }, api.rest, podRuntime(network, bridge, () => logs)),
    api.subresources.register('services', 'proxy', { http: (ctx) => proxy.serve('services', ctx) }),
    api.subresources.register('pods', 'proxy', { http: (ctx) => proxy.serve('pods', ctx) }),
  ];
  return async () => {
    for (const u of unmount) u();
    await bridge.close();
  };
}
