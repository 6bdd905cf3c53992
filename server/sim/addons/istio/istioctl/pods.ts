/**
 * `[<type>/]<name>[.<namespace>]` as istioctl resolves it to one pod (istioctl/pkg/util/handlers):
 * a bare name is taken as a pod without looking it up; `pod/x` is that pod; a workload
 * (`deployment/x`, `statefulset/x`, …) picks its first running pod by its selector.
 */
import { CommandError } from './io.js';
import type { KubeClient } from './kube.js';

/** handlers.inferNsInfo: the namespace is what follows the last `.` (of the name part). */
export function inferNsInfo(name: string, namespace: string): { name: string; namespace: string } {
  const slash = name.lastIndexOf('/');
  if (slash > 0) {
    const dot = name.slice(slash).lastIndexOf('.');
    if (dot < 0) return { name, namespace };
    return { name: name.slice(0, slash + dot), namespace: name.slice(slash + dot + 1) };
  }
  const dot = name.lastIndexOf('.');
  if (dot < 0) return { name, namespace };
  return { name: name.slice(0, dot), namespace: name.slice(dot + 1) };
}

const WORKLOADS: Record<string, { group: string; plural: string }> = {
  deployment: { group: 'apps', plural: 'deployments' },
  deployments: { group: 'apps', plural: 'deployments' },
  deploy: { group: 'apps', plural: 'deployments' },
  statefulset: { group: 'apps', plural: 'statefulsets' },
  statefulsets: { group: 'apps', plural: 'statefulsets' },
  sts: { group: 'apps', plural: 'statefulsets' },
  daemonset: { group: 'apps', plural: 'daemonsets' },
  daemonsets: { group: 'apps', plural: 'daemonsets' },
  ds: { group: 'apps', plural: 'daemonsets' },
  replicaset: { group: 'apps', plural: 'replicasets' },
  replicasets: { group: 'apps', plural: 'replicasets' },
  rs: { group: 'apps', plural: 'replicasets' },
  service: { group: '', plural: 'services' },
  services: { group: '', plural: 'services' },
  svc: { group: '', plural: 'services' },
};

type Obj = { metadata: { name: string; creationTimestamp?: string }; spec?: { selector?: Record<string, any> }; status?: { phase?: string } };

export async function resolvePod(client: KubeClient, arg: string, defaultNamespace: string): Promise<{ pod: string; namespace: string }> {
  const { name, namespace } = inferNsInfo(arg, defaultNamespace);
  if (!name.includes('/')) return { pod: name, namespace };
  const [type, resName] = [name.slice(0, name.indexOf('/')), name.slice(name.indexOf('/') + 1)];
  if (type === 'pod' || type === 'pods' || type === 'po') {
    const pod = await client.get({ group: '', version: 'v1', plural: 'pods', namespaced: true }, resName, namespace);
    if (!pod) throw new CommandError(`failed retrieving: pods "${resName}" not found in the "${namespace}" namespace`);
    return { pod: resName, namespace };
  }
  const kind = WORKLOADS[type.toLowerCase()];
  if (!kind) throw new CommandError(`failed retrieving: the server doesn't have a resource type "${type}" in the "${namespace}" namespace`);
  const obj = (await client.get({ group: kind.group, version: 'v1', plural: kind.plural, namespaced: true }, resName, namespace)) as Obj | undefined;
  if (!obj) throw new CommandError(`failed retrieving: ${kind.plural}${kind.group ? `.${kind.group}` : ''} "${resName}" not found in the "${namespace}" namespace`);
  const sel = kind.plural === 'services' ? obj.spec?.selector : obj.spec?.selector?.matchLabels;
  if (!sel || !Object.keys(sel).length) throw new CommandError(`"${name}" does not refer to a pod: selector is empty`);
  const selector = Object.entries(sel as Record<string, string>).map(([k, v]) => `${k}=${v}`).join(',');
  const pods = (await client.list({ group: '', version: 'v1', plural: 'pods', namespaced: true, apiVersion: 'v1', kind: 'Pod' }, namespace, selector)) as unknown as Obj[];
  // podutils.ByLogging: running pods first, then the older.
  const sorted = [...pods].sort((a, b) => Number(b.status?.phase === 'Running') - Number(a.status?.phase === 'Running') || String(a.metadata.creationTimestamp ?? '').localeCompare(String(b.metadata.creationTimestamp ?? '')));
  if (!sorted.length) throw new CommandError(`no pods match "${name}"`);
  return { pod: sorted[0]!.metadata.name, namespace };
}
