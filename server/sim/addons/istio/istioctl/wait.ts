/** Readiness of what install applied, as istioctl's WaitForResources judges it. */
import type { KubeClient } from './kube.js';
import { resourceOf } from './kube.js';
import type { KubeObject } from '../manifests/objects.js';

const POLL_MS = 25;

function deploymentReady(d: KubeObject | undefined): boolean {
  if (!d) return false;
  const spec = d.spec as { replicas?: number };
  const status = (d.status ?? {}) as { readyReplicas?: number; updatedReplicas?: number; observedGeneration?: number };
  const want = spec.replicas ?? 1;
  const gen = (d.metadata as { generation?: number }).generation ?? 0;
  return (status.observedGeneration ?? 0) >= gen && (status.updatedReplicas ?? 0) >= want && (status.readyReplicas ?? 0) >= want;
}

function crdEstablished(c: KubeObject | undefined): boolean {
  const conds = ((c?.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []);
  return conds.some((x) => x.type === 'Established' && x.status === 'True');
}

/** Resolves when every Deployment is ready and every CRD established; rejects after timeoutMs with istioctl's words. */
export async function waitForResources(client: KubeClient, objects: KubeObject[], timeoutMs: number, onWaiting?: (names: string[]) => void): Promise<void> {
  const pending = objects.filter((o) => o.kind === 'Deployment' || o.kind === 'CustomResourceDefinition');
  const deadline = Date.now() + timeoutMs;
  let waiting = pending;
  for (;;) {
    const states = await Promise.all(
      waiting.map(async (o) => {
        const live = await client.get(resourceOf(o.apiVersion, o.kind), o.metadata.name, o.metadata.namespace);
        return o.kind === 'Deployment' ? deploymentReady(live) : crdEstablished(live);
      }),
    );
    waiting = waiting.filter((_, i) => !states[i]);
    if (!waiting.length) return;
    onWaiting?.(waiting.map(resourceName));
    if (Date.now() > deadline) {
      const names = waiting.map(resourceName);
      throw new Error(`failed to wait for resource: resources not ready after ${formatDuration(timeoutMs)}: context deadline exceeded\n${names.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** Go's time.Duration String() for whole seconds/minutes: 5m0s, 30s. */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return `${m}m${s % 60}s`;
}

/** How istioctl names a resource it waits for: Deployment/istio-system/istiod. */
function resourceName(o: KubeObject): string {
  return `${o.kind}/${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
}
