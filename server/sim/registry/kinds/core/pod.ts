/**
 * core/v1 Pod. A scheduled pod is deleted gracefully once a simulated kubelet runs (it finishes
 * the deletion); a delete answers with the pod itself; eviction (kubectl drain) is a delete that
 * honours the Eviction's DeleteOptions. Exec, attach, log, port-forward and proxy are served by
 * handlers the workloads layer registers with the API server.
 */
import { ApiError } from '../../../errors.js';
import type { KubeObject } from '../../../types.js';
import type { KindDefinition } from '../../kind.js';
import { struct } from '../../patch/schema.js';
import { podPrinter } from '../../printers/builtin.js';
import type { ExtraSubresource, Strategy } from '../../resource.js';
import { podStrategy } from '../../strategies/pod.js';

type Obj = Record<string, any>;

const strategy: Strategy = {
  ...podStrategy,
  gracePeriod(obj: KubeObject, options, kubeletRunning) {
    const pod = obj as Obj;
    if (!kubeletRunning || !pod.spec?.nodeName) return 0;
    if (['Succeeded', 'Failed'].includes(pod.status?.phase)) return 0;
    return Math.max(0, options.gracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30);
  },
};

const anyVerb = ['create', 'delete', 'get', 'patch', 'update'];

const eviction: ExtraSubresource = {
  name: 'eviction',
  kind: 'Eviction',
  group: 'policy',
  version: 'v1',
  verbs: ['create'],
  // PodDisruptionBudgets are not consulted: the embedded cluster has no disruption controller.
  async serve(call) {
    if (call.method !== 'POST') throw ApiError.methodNotAllowed();
    const body = await call.body();
    if (body.metadata?.name && body.metadata.name !== call.name) throw ApiError.badRequest(`name in URL does not match name in Eviction object`);
    await call.object.delete(body.deleteOptions ?? {});
    return { code: 201, status: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 } };
  },
};

export const podKind: KindDefinition = {
  group: '',
  version: 'v1',
  kind: 'Pod',
  names: { plural: 'pods', shortNames: ['po'], categories: ['all'] },
  scope: 'Namespaced',
  strategy,
  subresources: {
    status: true,
    others: [
      { name: 'attach', kind: 'PodAttachOptions', verbs: ['create', 'get'] },
      { name: 'binding', kind: 'Binding', verbs: ['create'] },
      { name: 'ephemeralcontainers', kind: 'Pod', verbs: ['get', 'patch', 'update'] },
      eviction,
      { name: 'exec', kind: 'PodExecOptions', verbs: ['create', 'get'] },
      { name: 'log', kind: 'Pod', verbs: ['get'] },
      { name: 'portforward', kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
      { name: 'proxy', kind: 'PodProxyOptions', verbs: anyVerb },
    ],
  },
  storage: { returnDeletedObject: true },
  mergeSchema: struct({
    metadata: 'ObjectMeta',
    spec: 'PodSpec',
    status: 'PodStatus',
  }),
  zeroPaths: ['metadata', 'spec', 'spec.containers', 'status'],
  printer: podPrinter,
};
