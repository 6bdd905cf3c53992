/**
 * What pods/exec, pods/attach, pods/portforward and pods/log reach inside a pod: the in-container
 * shell with the container's context, its main process's output, a port of the pod (through a
 * loopback HTTP bridge, as the kubelet dials localhost in the pod's network namespace), and the
 * kubelet's log buffers.
 */
import net, { type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import type http from 'node:http';
import type { KubeObject } from '../types.js';
import type { PodRuntime } from '../apiserver/streams/mount.js';
import { logErrors, type LogSource } from '../apiserver/streams/logs.js';
import type { ExecIO, ExecParams } from '../apiserver/streams/exec.js';
import { ExecStartError, runInContainer } from '../images/shell/index.js';
import type { ContainerLog } from '../kubelet/container-manager.js';
import type { ClusterNetwork } from '../network/network.js';
import { createBridgeServer } from '../network/http-bridge.js';

type Obj = Record<string, any>;

/** Where the kubelet keeps container logs (H9's Kubelet.logs). */
export interface LogStore {
  logs(namespace: string, pod: string, container: string, q?: { previous?: boolean }): ContainerLog | undefined;
}

function refused(port: number): Error {
  return Object.assign(new Error(`connect ECONNREFUSED 127.0.0.1:${port}`), { code: 'ECONNREFUSED' });
}

/**
 * Port-forwarded connections: each one dials a loopback HTTP server, which knows by the client
 * socket's port which pod and port it stands for.
 */
export class PortForwardBridge {
  private readonly server: http.Server;
  private readonly targets = new Map<number, { namespace: string; name: string; port: number }>();
  private ready: Promise<number>;

  constructor(private readonly network: ClusterNetwork) {
    this.server = createBridgeServer(async (req, socket: Socket) => {
      // Only our own sockets, from 127.0.0.1: anyone on the machine can reach this port, and a
      // client bound to another loopback address could otherwise borrow a registered port number.
      const t = socket.remoteAddress === '127.0.0.1' ? this.targets.get(socket.remotePort ?? -1) : undefined;
      const entry = t && this.network.pod(t.namespace, t.name);
      const c = entry && this.network.listener(entry, t.port);
      if (!c) throw refused(t?.port ?? 0);
      // Inside the pod's network namespace at localhost: no interception, as iptables skips lo.
      return c.behaviour.serve!(req, c.ctx, { localPort: t.port, remoteAddress: '127.0.0.1' });
    });
    this.ready = new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve((this.server.address() as AddressInfo).port));
    });
  }

  async connect(namespace: string, name: string, port: number): Promise<Duplex> {
    const entry = this.network.pod(namespace, name);
    if (!entry || !this.network.listener(entry, port)) throw refused(port);
    const bridgePort = await this.ready;
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port: bridgePort, host: '127.0.0.1', localAddress: '127.0.0.1' });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        const local = socket.localPort!;
        this.targets.set(local, { namespace, name, port });
        socket.once('close', () => this.targets.delete(local));
        resolve(socket);
      });
    });
  }

  async close(): Promise<void> {
    await this.ready.catch(() => undefined);
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

function containerWaitingReason(pod: Obj, container: string): string | undefined {
  const all = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  const st = all.find((s: Obj) => s.name === container);
  if (!st) return 'ContainerCreating';
  if (st.state?.waiting && !st.lastState?.terminated) return st.state.waiting.reason ?? 'ContainerCreating';
  return undefined;
}

export function podRuntime(network: ClusterNetwork, bridge: PortForwardBridge, logs: () => LogStore | undefined): PodRuntime {
  const find = (pod: KubeObject, container: string) => {
    const entry = network.pod(pod.metadata.namespace ?? 'default', pod.metadata.name ?? '');
    const c = entry && entry.pod.uid === pod.metadata.uid ? entry.containers.get(container) : undefined;
    // The kubelet's words when the container has no running process to exec into.
    if (!c) throw new ExecStartError(`unable to upgrade connection: container not found ("${container}")`, 'InternalError', 500);
    return c;
  };
  return {
    async exec(pod: KubeObject, container: string, io: ExecIO, params: ExecParams): Promise<number> {
      const c = find(pod, container);
      if (params.command.length === 0) {
        // containerd's attach reports no exit status: the stream ends with Success whatever the
        // process returned (kubectl run/debug read the exit code from the pod's status).
        if (c.interactive) await c.interactive.attach(io);
        else await attach(pod, container, io, logs());
        return 0;
      }
      return runInContainer({
        argv: params.command,
        stdin: io.stdin,
        stdout: io.stdout,
        stderr: io.stderr,
        tty: io.tty,
        ctx: c.ctx,
        signal: io.signal,
      });
    },
    connect(pod: KubeObject, port: number): Promise<Duplex> {
      return bridge.connect(pod.metadata.namespace ?? 'default', pod.metadata.name ?? '', port);
    },
    logs(pod: KubeObject, container: string, previous: boolean): LogSource {
      const name = pod.metadata.name ?? '';
      const store = logs();
      const found = store?.logs(pod.metadata.namespace ?? 'default', name, container, { previous });
      if (previous) {
        if (!found) throw logErrors.previousNotFound(container, name);
        return found;
      }
      const waiting = containerWaitingReason(pod as Obj, container);
      if (!found || (waiting && found.entries().length === 0)) throw logErrors.waitingToStart(container, name, waiting ?? 'ContainerCreating');
      return found;
    },
  };
}

/**
 * `kubectl attach`: the main process's output from now on, until it exits or the client leaves.
 * The simulated processes read no stdin, so input is accepted and dropped.
 */
function attach(pod: KubeObject, container: string, io: ExecIO, store: LogStore | undefined): Promise<number> {
  const log = store?.logs(pod.metadata.namespace ?? 'default', pod.metadata.name ?? '', container);
  if (!log) return Promise.resolve(0);
  io.stdin?.resume();
  return new Promise((resolve) => {
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      unsubscribe();
      resolve(0);
    };
    const unsubscribe = log.subscribe(
      (e) => io.stdout.write(`${e.line}\n`),
      finish,
    );
    io.signal.addEventListener('abort', finish, { once: true });
  });
}
