import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import type { z } from 'zod';
import type { workloadCheck } from '../schema.js';
import { countProblem, select } from './resource.js';
import { checkNamespace, type CheckContext, type CheckOutcome } from './types.js';

type WorkloadCheck = z.infer<typeof workloadCheck>;

/** The containers a pod runs side by side: its containers and its native sidecars (restartable init containers). */
export function runningContainerNames(pod: V1Pod): string[] {
  const sidecars = (pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always');
  return [...(pod.spec?.containers ?? []), ...sidecars].map((c) => c.name);
}

/** READY as `kubectl get pods` shows it: ready containers / containers (sidecar init containers count too). */
export function podReadiness(pod: V1Pod): { ready: number; total: number } {
  const sidecars = (pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always');
  const total = (pod.spec?.containers.length ?? 0) + sidecars.length;
  const ready =
    (pod.status?.containerStatuses ?? []).filter((s) => s.ready).length +
    (pod.status?.initContainerStatuses ?? []).filter((s) => s.ready && sidecars.some((c) => c.name === s.name)).length;
  return { ready, total };
}

export async function evaluateWorkload(spec: WorkloadCheck, ctx: CheckContext): Promise<CheckOutcome> {
  if (spec.deployment) {
    const selection = await select(ctx, { apiVersion: 'apps/v1', kind: 'Deployment', name: spec.deployment, ...(spec.namespace ? { namespace: spec.namespace } : {}) });
    if ('missingKind' in selection) return { passed: false, found: selection.missingKind };
    const deployment = selection.objects[0] as V1Deployment | undefined;
    if (!deployment) return { passed: false, found: `no ${selection.describe}` };
    const wanted = spec.readyReplicas ?? deployment.spec?.replicas ?? 1;
    const ready = deployment.status?.readyReplicas ?? 0;
    const available = deployment.status?.conditions?.find((c) => c.type === 'Available')?.status === 'True';
    if (ready !== wanted) return { passed: false, found: `Deployment "${spec.deployment}" has ${ready} ready replica${ready === 1 ? '' : 's'}, expected ${wanted}` };
    if (!available) return { passed: false, found: `Deployment "${spec.deployment}" is not Available yet` };
    return { passed: true, found: `Deployment "${spec.deployment}" is available with ${ready} ready replica${ready === 1 ? '' : 's'}` };
  }

  const selection = await select(ctx, { apiVersion: 'v1', kind: 'Pod', selector: spec.pods!, ...(spec.namespace ? { namespace: spec.namespace } : {}) });
  if ('missingKind' in selection) return { passed: false, found: selection.missingKind };
  // Pods on their way out are not what the learner is looking at.
  const pods = (selection.objects as V1Pod[]).filter((p) => !p.metadata?.deletionTimestamp);
  const which = spec.pods ? `pods matching ${spec.pods}` : `pods in namespace "${checkNamespace(ctx, spec.namespace)}"`;
  const countIssue = countProblem(spec.count ?? { min: 1 }, pods.length, which);
  if (countIssue) return { passed: false, found: countIssue };
  const [wantReady, wantTotal] = spec.ready ? spec.ready.split('/').map(Number) : [undefined, undefined];
  for (const pod of pods) {
    const { ready, total } = podReadiness(pod);
    const name = pod.metadata?.name;
    if (pod.status?.phase !== 'Running') return { passed: false, found: `pod ${name} is ${pod.status?.phase ?? 'Pending'}, not Running` };
    if (wantTotal !== undefined && total !== wantTotal) {
      return { passed: false, found: `pod ${name} has ${total} container${total === 1 ? '' : 's'} (READY ${ready}/${total}), expected ${spec.ready}` };
    }
    const needReady = wantReady ?? total;
    if (ready !== needReady) return { passed: false, found: `pod ${name} is READY ${ready}/${total}, expected ${needReady}/${total}` };
    const names = runningContainerNames(pod);
    const missing = (spec.containers ?? []).filter((c) => !names.includes(c));
    if (missing.length) return { passed: false, found: `pod ${name} runs ${names.join(', ')}, without ${missing.join(', ')}` };
  }
  const withContainers = spec.containers ? `, each running ${spec.containers.join(', ')}` : '';
  return { passed: true, found: `${pods.length} ${which.replace(/^pods/, pods.length === 1 ? 'pod' : 'pods')} Running${spec.ready ? ` with READY ${spec.ready}` : ''}${withContainers}` };
}
