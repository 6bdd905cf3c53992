/**
 * The ContainerManager the simulated kubelet drives (image containers): a started container becomes its image's
 * behaviour, given a ContainerContext (identity, env, the kubelet's log, this pod's network),
 * and its ports start answering on the pod's IP until the kubelet stops it.
 */
import type { ClusterApi } from '../addons/api.js';
import { defaultContainerManager, type ContainerManager, type ContainerStart, type PodSandbox, type ProbeTarget, type RunningContainer } from '../kubelet/container-manager.js';
import type { KubeletTimings } from '../controllers/kit.js';
import { ExecStartError, containerPrograms, runInContainer } from '../images/shell/index.js';
import { NetworkError, type ContainerBehaviour, type ContainerContext, type HttpRequest } from '../images/types.js';
import type { AttachedIO, ClusterNetwork, ListeningContainer, PodEntry } from '../network/network.js';
import { CLUSTER_DOMAIN } from '../network/services.js';
import type { NetworkPod } from '../network/types.js';
import { containerEnv } from './env.js';
import { mountedContent } from './volumes.js';

type Obj = Record<string, any>;

const KUBE_DNS_IP = '10.96.0.10';

export function networkPod(sandbox: PodSandbox): NetworkPod {
  return {
    namespace: sandbox.namespace,
    name: sandbox.name,
    uid: sandbox.uid,
    ip: sandbox.podIP,
    nodeName: sandbox.nodeName,
    hostNetwork: sandbox.hostNetwork,
    get labels() {
      return (sandbox.pod.metadata.labels ?? {}) as Record<string, string>;
    },
    get annotations() {
      return (sandbox.pod.metadata.annotations ?? {}) as Record<string, string>;
    },
    object: () => sandbox.pod,
  };
}

/**
 * Whether the container's main process is something the simulation runs: a known image's own
 * process, or a command of the simulated userland (sh, sleep, echo…). Unknown images running
 * their own binaries are not: the binary exists in the real image, we just cannot run it.
 */
function runsSimulatedProgram(known: boolean, behaviour: ContainerBehaviour, ctx: ContainerContext): boolean {
  if (known) return true;
  const argv0 = ctx.command?.[0];
  if (argv0 === undefined) return !ctx.args;
  return containerPrograms(behaviour, null).has(argv0.split('/').pop() ?? argv0);
}

/**
 * The main process of a container started with stdin open (`kubectl run -it … -- sh`): it
 * blocks reading stdin until a client attaches, then runs on the client's terminal; its output
 * also goes to the container log. With stdinOnce (what kubectl run sets) stdin closes when
 * that client detaches, so the process ends with it.
 */
function interactiveProcess(ctx: ContainerContext, behaviour: ContainerBehaviour, stopped: AbortSignal, log: (line: string) => void) {
  let finish!: (code: number) => void;
  const exited = new Promise<number>((resolve) => (finish = resolve));
  stopped.addEventListener('abort', () => finish(137), { once: true });
  let taken = false;
  const argv = [...(ctx.command ?? []), ...(ctx.args ?? [])];
  if (argv.length === 0) argv.push(behaviour.userland === 'distroless' ? '/bin/sh' : 'sh');
  return {
    exited,
    async attach(io: AttachedIO): Promise<number> {
      if (taken) {
        // Another client already holds the process's stdin: this one only sees output from now on.
        await new Promise<void>((resolve) => (io.signal.aborted ? resolve() : io.signal.addEventListener('abort', () => resolve(), { once: true })));
        return 0;
      }
      taken = true;
      let pending = '';
      const tee = (out: AttachedIO['stdout']) => ({
        write(chunk: Buffer | string) {
          out.write(chunk);
          pending += chunk.toString();
          let nl: number;
          while ((nl = pending.indexOf('\n')) >= 0) {
            log(pending.slice(0, nl).replace(/\r$/, ''));
            pending = pending.slice(nl + 1);
          }
        },
      });
      let code: number;
      try {
        code = await runInContainer({ argv, stdin: io.stdin, stdout: tee(io.stdout), stderr: tee(io.stderr), tty: io.tty, ctx, signal: AbortSignal.any([io.signal, stopped]) });
      } catch (e) {
        io.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
        code = 128;
      }
      if (pending) log(pending);
      finish(code);
      return code;
    },
  };
}

/** The prober's reach into one container: its pod from the node's address, and ExecSync in the container. */
function probeTarget(network: ClusterNetwork, entry: PodEntry, sandbox: PodSandbox, ctx: ContainerContext): ProbeTarget {
  return {
    http: (port: number, req: HttpRequest, timeoutMs: number) => {
      const sending = network.toPod(entry, port, req, { ip: sandbox.hostIP }, 'kubelet', { host: sandbox.podIP, port });
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new NetworkError('ETIMEDOUT', sandbox.podIP, port)), timeoutMs);
        sending.then(
          (r) => (clearTimeout(t), resolve(r)),
          (e) => (clearTimeout(t), reject(e)),
        );
      });
    },
    // A TCP connect succeeds on any port a container listens on, whether or not it speaks HTTP.
    accepts: (port) => [...entry.containers.values()].some((c) => (c.behaviour.listening ? c.behaviour.listening(c.ctx) : c.ports).includes(port)),
    async exec(argv, timeoutMs) {
      let output = '';
      const sink = { write: (chunk: string | Buffer) => void (output += chunk.toString()) };
      const ac = new AbortController();
      let timedOut = false;
      const t = setTimeout(() => ((timedOut = true), ac.abort()), timeoutMs);
      try {
        const exitCode = await runInContainer({ argv, stdin: null, stdout: sink, stderr: sink, tty: false, ctx, signal: ac.signal });
        return timedOut ? { exitCode: -1, output, timedOut } : { exitCode, output };
      } catch (e) {
        // ExecSync's gRPC error, as the kubelet's exec prober reports it.
        if (e instanceof ExecStartError) throw new Error(`rpc error: code = Unknown desc = ${e.message.replace(/^Internal error occurred: error executing command in container: /, '')}`);
        throw e;
      } finally {
        clearTimeout(t);
      }
    },
  };
}

export interface ImageContainersOptions {
  random?: () => number;
  now?: () => Date;
}

export function imageContainers(cluster: ClusterApi, network: ClusterNetwork, timings: KubeletTimings, opts: ImageContainersOptions = {}): ContainerManager {
  const fallback = defaultContainerManager(timings);
  const entryFor = (sandbox: PodSandbox) => {
    const existing = network.pod(sandbox.namespace, sandbox.name);
    return existing && existing.pod.uid === sandbox.uid ? existing : network.addPod(networkPod(sandbox));
  };
  return {
    sandboxCreated(sandbox) {
      entryFor(sandbox);
    },
    sandboxRemoved(sandbox) {
      network.removePod(sandbox);
    },
    pull: (image) => cluster.images.pull(image),
    start(c: ContainerStart): RunningContainer {
      const entry = entryFor(c.sandbox);
      const spec = c.container as Obj;
      const image = String(spec.image ?? '');
      const behaviour = cluster.images.forImage(image);
      const known = cluster.images.entryFor(image) !== null;
      const pod = c.sandbox.pod as Obj;
      const ctx: ContainerContext = {
        podName: c.sandbox.name,
        namespace: c.sandbox.namespace,
        podIP: c.sandbox.podIP,
        nodeName: c.sandbox.nodeName,
        // A hostNetwork pod shares the node's UTS namespace: its hostname is the node's.
        hostname: c.sandbox.hostNetwork ? c.sandbox.nodeName : (pod.spec?.hostname ?? c.sandbox.name),
        containerName: spec.name,
        image,
        ...(Array.isArray(spec.command) ? { command: spec.command.map(String) } : {}),
        ...(Array.isArray(spec.args) ? { args: spec.args.map(String) } : {}),
        env: containerEnv({ cluster, services: network.services.all() }, pod, spec, c.sandbox.podIP, c.sandbox.hostIP),
        labels: { ...((pod.metadata?.labels ?? {}) as Record<string, string>) },
        log: c.log,
        net: network.containerNetwork(entry.pod),
        now: opts.now ?? (() => new Date()),
        random: opts.random ?? Math.random,
        clusterDNS: KUBE_DNS_IP,
        clusterDomain: CLUSTER_DOMAIN,
        behaviour,
      };
      const mounted = mountedContent(pod, spec, c.sandbox.nodeName, { store: cluster.store, tokens: cluster.tokens });
      if (mounted) ctx.mounted = mounted;
      const ports = behaviour.portsFor?.(ctx) ?? behaviour.ports;
      const listening = { name: spec.name as string, ctx, behaviour, ports };
      entry.containers.set(listening.name, listening);
      // NodePorts open only while an endpoint serves: say so when a server comes or goes, since a
      // pod found running after a restore changes no object that would tell them.
      if (behaviour.serve) ctx.net.portsChanged?.();
      const unlisten = () => {
        if (entry.containers.get(listening.name) !== listening) return;
        entry.containers.delete(listening.name);
        if (behaviour.serve) ctx.net.portsChanged?.();
      };
      c.signal.addEventListener('abort', unlisten, { once: true });

      behaviour.start?.(ctx);
      const completes = (c.init && !c.sidecar) || (!c.init && c.restartPolicy !== 'Always');
      let exited: Promise<number> | undefined;
      if (spec.stdin === true && !behaviour.serve && runsSimulatedProgram(known, behaviour, ctx)) {
        const session = interactiveProcess(ctx, behaviour, c.signal, c.log);
        (listening as ListeningContainer).interactive = session;
        exited = session.exited;
      } else if (!runsSimulatedProgram(known, behaviour, ctx)) {
        // An image we know nothing of ships its own entrypoint and binaries (etcd, kube-proxy,
        // coredns…): it runs, doing nothing we can see, and Jobs' containers complete.
        if (completes) exited = Promise.resolve(fallback.start(c)).then((h) => h.exited ?? new Promise<number>(() => {}));
      } else if (completes && !ctx.command && !ctx.args && !behaviour.serve) {
        // An image whose own entrypoint we do not model, in a pod that expects it to finish.
        exited = Promise.resolve(fallback.start(c)).then((h) => h.exited ?? new Promise<number>(() => {}));
      } else if (behaviour.run) {
        exited = behaviour.run(ctx, c.signal);
      }
      const running: RunningContainer = {
        ...(behaviour.readyAfterMs ? { readyAfterMs: behaviour.readyAfterMs } : {}),
        stop: unlisten,
        probes: probeTarget(network, entry, c.sandbox, ctx),
      };
      if (exited) {
        running.exited = exited.finally(unlisten);
      }
      return running;
    },
  };
}
