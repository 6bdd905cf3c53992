/**
 * The add-ons of an embedded cluster, in start order: the one list. The control-plane core set
 * and the admission webhooks always run; `workloads` (nodes, kubelets, pod network, controllers) when asked for, and with it
 * Istio (its images run in pods); then any add-ons the caller brings (tests).
 */
import type { AddOn } from './api.js';
import { controlPlane } from './core/control-plane.js';
import { admissionWebhooks } from './core/webhooks/index.js';
import type { WorkloadsAddOn, WorkloadsOptions } from './core/workloads.js';

export interface AddOnSelection {
  controlPlane: Parameters<typeof controlPlane>[0];
  workloads?: WorkloadsOptions | false;
  extra?: AddOn[];
}

export async function clusterAddOns(sel: AddOnSelection): Promise<{ list: AddOn[]; workloads?: WorkloadsAddOn }> {
  // Loaded only when asked for: an API-only cluster never reads the controllers, kubelet and images.
  const w = sel.workloads ? (await import('./core/workloads.js')).workloads(sel.workloads) : undefined;
  const podAddOns = w ? [(await import('./istio/index.js')).istio()] : [];
  const list: AddOn[] = [controlPlane(sel.controlPlane), admissionWebhooks(), ...(w ? [w] : []), ...podAddOns, ...(sel.extra ?? [])];
  return { list, ...(w ? { workloads: w } : {}) };
}

export type { AddOn, ClusterApi, Stop } from './api.js';
export type { Workloads, WorkloadsOptions } from './core/workloads.js';
