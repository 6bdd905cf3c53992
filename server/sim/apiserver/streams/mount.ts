/**
 * Plugs the streaming pod subresources (exec, attach, portforward, log) into the API server's
 * subresource seam. The API server owns routing, authentication and the pod lookup; this
 * module owns the protocols; `PodRuntime` (the simulated kubelet + container runtime) owns
 * what actually runs.
 */
import type { Duplex } from 'node:stream';
import type { ApiServer, SubresourceHandler } from '../server.js';
import type { ResourceDef } from '../../registry/resource.js';
import type { KubeObject } from '../../types.js';
import { ApiError } from '../../errors.js';
import { resolveContainer } from './containers.js';
import { handleExecUpgrade, parseAttachQuery, parseExecQuery, type ExecIO, type ExecParams } from './exec.js';
import { handlePortForwardUpgrade } from './portforward.js';
import { parsePodLogOptions, writeLogs, type LogSource } from './logs.js';

export interface PodRuntime {
  /**
   * Runs `params.command` in the container (exec), or attaches to its main process (attach:
   * `params.command` is empty). Resolves with the exit code. Reject with an error carrying
   * `reason` and `code` (the runtime's ExecStartError) to report a command that could not start.
   */
  exec(pod: KubeObject, container: string, io: ExecIO, params: ExecParams): Promise<number>;
  /** Dials a port inside the pod; reject with `code: 'ECONNREFUSED'` when nothing listens. */
  connect(pod: KubeObject, port: number): Promise<Duplex>;
  /**
   * The container's log: its current instance, or its previous one. Throw `logErrors.*`
   * (logs.ts) when there is none, as the kubelet does.
   */
  logs(pod: KubeObject, container: string, previous: boolean): LogSource;
}

export interface PodLookup {
  get(def: ResourceDef, namespace: string, name: string): KubeObject;
}

function nodeName(pod: KubeObject): string {
  const spec = (pod.spec ?? {}) as { nodeName?: unknown };
  return typeof spec.nodeName === 'string' ? spec.nodeName : '';
}

/** kube-apiserver's streamLocation refuses exec/attach/portforward before a pod is scheduled. */
function requireHost(pod: KubeObject): void {
  if (!nodeName(pod)) throw ApiError.badRequest(`pod ${pod.metadata.name ?? ''} does not have a host assigned`);
}

/** Registers pods/exec, pods/attach, pods/portforward and pods/log. Returns an unmount function. */
export function mountPodStreams(api: Pick<ApiServer, 'registerSubresource'>, pods: PodLookup, runtime: PodRuntime): () => void {
  const execLike = (kind: 'exec' | 'attach'): SubresourceHandler => ({
    upgrade: ({ req, socket, head, def, namespace, name }) => {
      const pod = pods.get(def, namespace, name);
      const url = new URL(req.url ?? '/', 'http://sim');
      const params = kind === 'exec' ? parseExecQuery(url) : parseAttachQuery(url);
      params.container = resolveContainer(pod, params.container);
      requireHost(pod);
      handleExecUpgrade(req, socket, head, params, (io) => runtime.exec(pod, params.container, io, params));
    },
  });

  const unmount = [
    api.registerSubresource('pods', 'exec', execLike('exec')),
    api.registerSubresource('pods', 'attach', execLike('attach')),
    api.registerSubresource('pods', 'portforward', {
      upgrade: ({ req, socket, head, def, namespace, name }) => {
        const pod = pods.get(def, namespace, name);
        requireHost(pod);
        handlePortForwardUpgrade(req, socket, head, (port) => runtime.connect(pod, port), {
          name: pod.metadata.name ?? name,
          uid: pod.metadata.uid,
        });
      },
    }),
    api.registerSubresource('pods', 'log', {
      http: async ({ req, res, def, namespace, name }) => {
        if (req.method !== 'GET') throw ApiError.methodNotAllowed();
        const pod = pods.get(def, namespace, name);
        const opts = parsePodLogOptions(new URL(req.url ?? '/', 'http://sim'), name);
        opts.container = resolveContainer(pod, opts.container);
        if (!nodeName(pod)) {
          // kube-apiserver streams nothing for a pod that is not scheduled yet.
          res.writeHead(200, { 'Content-Type': 'text/plain' });
          res.end();
          return;
        }
        await writeLogs(res, runtime.logs(pod, opts.container, opts.previous), opts);
      },
    }),
  ];
  return () => {
    for (const u of unmount) u();
  };
}
