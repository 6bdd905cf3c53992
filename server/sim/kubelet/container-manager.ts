/**
 * The seam between the simulated kubelet and what containers do. The kubelet owns lifecycle
 * (pull, create, start, probes, restarts, termination, status, events, logs); a ContainerManager
 * decides what a started container does: whether it serves, when it is ready, whether and how its
 * main process exits. Image behaviours (server/sim/images, through workloads/image-containers.ts) and the pod network plug in here.
 */
import type { KubeObject } from '../types.js';
import type { LogEntry, LogSource } from '../apiserver/streams/logs.js';
import type { KubeletTimings } from '../controllers/kit.js';
import type { HttpRequest, HttpResponse } from '../images/types.js';
import type { PullFailure } from '../images/registry.js';

type Obj = Record<string, any>;

/** What the kubelet tells the container manager about a pod's sandbox (its network namespace). */
export interface PodSandbox {
  pod: Readonly<KubeObject>;
  namespace: string;
  name: string;
  uid: string;
  nodeName: string;
  /** The node's InternalIP (also the pod IP of hostNetwork pods). */
  hostIP: string;
  podIP: string;
  hostNetwork: boolean;
}

export interface ContainerStart {
  sandbox: PodSandbox;
  /** The container as in the pod spec (name, image, command, args, env, ports, probes…). */
  container: Readonly<Obj>;
  /** A regular init container (runs to completion before the next one starts). */
  init: boolean;
  /** An init container with restartPolicy Always (a native sidecar). */
  sidecar: boolean;
  /** The pod's restartPolicy. */
  restartPolicy: 'Always' | 'OnFailure' | 'Never';
  /** 0 on the first start, then how many times the kubelet restarted it. */
  restartCount: number;
  /** Appends one line to the container's log (what `kubectl logs` shows). */
  log(line: string): void;
  /** Aborted when the kubelet stops the container (deletion, restart of the pod). */
  signal: AbortSignal;
}

export interface RunningContainer {
  /**
   * Resolves with the exit code when the main process ends by itself; omit for a process that
   * runs until stopped. A rejection counts as exit code 128 with reason StartError.
   */
  exited?: Promise<number>;
  /** Extra time after start before the process answers its readiness probe. */
  readyAfterMs?: number;
  /** Called when the kubelet stops the container (after `signal` is aborted). */
  stop?(): void;
  /** What the kubelet's prober reaches of this container; absent: probes are not executed (a timed readiness stands in). */
  probes?: ProbeTarget;
}

/** The prober's view of one running container: its pod's address from the node, and ExecSync. */
export interface ProbeTarget {
  /** One HTTP request from the node to the pod's IP and port (httpGet probes); rejects with NetworkError. */
  http(port: number, req: HttpRequest, timeoutMs: number): Promise<HttpResponse>;
  /** Whether a TCP connection to this port of the pod is accepted (tcpSocket and gRPC probes). */
  accepts(port: number): boolean;
  /**
   * Runs a command in the container as CRI ExecSync does: its exit code and stdout+stderr, or
   * `timedOut`. Rejects with the runtime's message when the executable cannot be started.
   */
  exec(argv: string[], timeoutMs: number): Promise<{ exitCode: number; output: string; timedOut?: boolean }>;
}

/** A container the container manager refuses to start (unknown executable…): reason and message as containerd words them. */
export class ContainerStartError extends Error {
  constructor(
    message: string,
    readonly reason = 'StartError',
    readonly exitCode = 128,
  ) {
    super(message);
    this.name = 'ContainerStartError';
  }
}

export interface ContainerManager {
  /** The sandbox is up and has its IP: register it with the network. */
  sandboxCreated?(sandbox: PodSandbox): void;
  /** The pod is gone: unregister it. */
  sandboxRemoved?(sandbox: PodSandbox): void;
  /** Starts one container; throw ContainerStartError to fail the start. */
  start(c: ContainerStart): RunningContainer | Promise<RunningContainer>;
  /** Compressed image size in bytes, for the Pulled event. */
  imageSize?(image: string): number | undefined;
  /** Whether the registry serves this image: undefined on success, else containerd's error. Absent: every pull succeeds. */
  pull?(image: string): PullFailure | undefined;
}

/**
 * What any image does when nothing more specific is plugged in: it runs until stopped, except
 * where the pod says it should end (regular init containers, pods whose restartPolicy is not
 * Always, i.e. Jobs), which exit 0 after `timings.run`.
 */
export function defaultContainerManager(timings: KubeletTimings): ContainerManager {
  return {
    start(c) {
      const completes = (c.init && !c.sidecar) || (!c.init && c.restartPolicy !== 'Always');
      if (!completes) return {};
      return {
        exited: new Promise<number>((resolve) => {
          const t = setTimeout(() => resolve(0), timings.run);
          c.signal.addEventListener('abort', () => {
            clearTimeout(t);
            resolve(137);
          });
        }),
      };
    },
  };
}

const MAX_LINES = 5000;

/** One container instance's log, as the kubelet keeps it on disk; served by `kubectl logs`. */
export class ContainerLog implements LogSource {
  private readonly lines: LogEntry[] = [];
  private readonly subscribers = new Set<{ onEntry: (e: LogEntry) => void; onEnd: () => void }>();
  private open = true;

  constructor(private readonly clock: () => Date = () => new Date()) {}

  write(line: string): void {
    if (!this.open) return;
    // One timestamp per write, and no regex or split for the common single-line write (access logs).
    const time = this.clock();
    const body = line.endsWith('\n') ? line.slice(0, -1) : line;
    for (const l of body.includes('\n') ? body.split('\n') : [body]) {
      const e = { time, line: l };
      this.lines.push(e);
      // Trimmed in batches: dropping one line per write would shift the whole buffer every time.
      if (this.lines.length >= 2 * MAX_LINES) this.lines.splice(0, this.lines.length - MAX_LINES);
      if (this.subscribers.size) for (const s of [...this.subscribers]) s.onEntry(e);
    }
  }

  entries(): readonly LogEntry[] {
    return this.lines.length > MAX_LINES ? this.lines.slice(-MAX_LINES) : this.lines;
  }

  running(): boolean {
    return this.open;
  }

  subscribe(onEntry: (entry: LogEntry) => void, onEnd: () => void): () => void {
    const s = { onEntry, onEnd };
    if (!this.open) {
      queueMicrotask(onEnd);
      return () => {};
    }
    this.subscribers.add(s);
    return () => this.subscribers.delete(s);
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    for (const s of [...this.subscribers]) s.onEnd();
    this.subscribers.clear();
  }
}
