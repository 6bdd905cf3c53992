/**
 * The contract between simulated workloads and the rest of the embedded cluster.
 *
 * A container is: an image-chosen behaviour (what it serves, what it logs, whether its main
 * process exits) plus a context the cluster hands it (identity, env, a log sink, the network).
 * The network is injected so that everything here runs without a cluster, and so that the
 * cluster can put a per-pod interception point (Istio's sidecar) in front of every request.
 */
import type { ImageRef } from './image.js';

/** An HTTP request as a workload sends or receives it. */
export interface HttpRequest {
  method: string;
  /** Path including the query string, e.g. `/productpage?u=normal`. */
  path: string;
  /** Lower-case header names. */
  headers: Record<string, string>;
  body: Buffer;
}

export interface HttpResponse {
  status: number;
  /** Lower-case header names. `set-cookie` holds several cookies joined by '\n'. */
  headers: Record<string, string>;
  body: Buffer;
  /** How the server spells header names on the wire: Envoy writes them lower-case; most servers `Content-Type`. */
  headerCase?: 'lower';
}

export type NetworkErrorCode = 'ENOTFOUND' | 'ECONNREFUSED' | 'ETIMEDOUT' | 'ECONNRESET';

/** A failed connection, worded by the code so curl/wget can print what the real tools print. */
export class NetworkError extends Error {
  constructor(
    readonly code: NetworkErrorCode,
    /** The host as the caller named it. */
    readonly host: string,
    readonly port: number,
    message?: string,
  ) {
    super(message ?? `${code} ${host}:${port}`);
    this.name = 'NetworkError';
  }
}

export interface RequestTarget {
  /** A DNS name (`svc`, `svc.ns`, `svc.ns.svc.cluster.local`), an IP, or `localhost` (the pod itself). */
  host: string;
  port: number;
  scheme?: 'http';
}

/**
 * What the network carries with a request besides its bytes (which are not simulated): a TLS
 * connection's SNI and the identity in the client's certificate (a sidecar's mTLS: a SPIFFE id),
 * delivered to the receiver's inbound chain. Absent `tls`: plain text.
 */
export interface Transport {
  tls?: { sni: string; clientIdentity: string };
}

export interface RequestOptions {
  timeoutMs?: number;
  transport?: Transport;
}

/** What a pod's network namespace offers its containers. */
export interface ContainerNetwork {
  /**
   * Sends one request from this pod. Rejects with NetworkError: ENOTFOUND (DNS), ECONNREFUSED
   * (nothing listens on that port / no ready endpoint), ETIMEDOUT (opts.timeoutMs elapsed),
   * ECONNRESET (the peer dropped the connection).
   */
  request(target: RequestTarget, req: HttpRequest, opts?: RequestOptions): Promise<HttpResponse>;
  /** Cluster DNS as seen from this pod (search path applied): an IPv4 address, or null. */
  resolve(host: string): string | null;
  /**
   * Tells the pod network that a container's `listening()` ports changed (Envoy opened or closed a
   * listener), so what follows them (NodePorts) looks again. Absent where nothing follows them.
   */
  portsChanged?(): void;
}

export interface ContainerContext {
  podName: string;
  namespace: string;
  podIP: string;
  nodeName: string;
  /** The pod's hostname (the pod name unless spec.hostname says otherwise). */
  hostname: string;
  containerName: string;
  image: string;
  /** The container's `command` (overrides the image's entrypoint) and `args`, when set in the spec. */
  command?: string[];
  args?: string[];
  env: Record<string, string>;
  labels: Record<string, string>;
  /** One stdout line of the container's log, worded as the real service words it. */
  log(line: string): void;
  net: ContainerNetwork;
  now(): Date;
  /** In [0, 1); injectable so tests are deterministic. */
  random(): number;
  /** Cluster DNS service address and domain; kubeadm's defaults when absent. */
  clusterDNS?: string;
  clusterDomain?: string;
  /**
   * What this container's image does, as its cluster's image table resolved it (exec and the
   * container's filesystem follow it). Absent: a plain image with nothing of its own.
   */
  behaviour?: ContainerBehaviour;
  /** What the pod's volumes add to the container's filesystem, by absolute path. */
  mounted?: { files: Record<string, string>; directories: string[] };
}

/**
 * The userland an image ships: busybox (busybox, alpine, curlimages/curl: `sh` is busybox ash,
 * tools word errors busybox's way), debian (sh is dash, bash exists, GNU tools), or distroless
 * (no shell and no tools: every exec is "executable file not found").
 */
export type Userland = 'busybox' | 'debian' | 'distroless';

/** The shell running a script, which decides prompts and the wording of errors. */
export type ShellFlavour = 'busybox' | 'dash' | 'bash';

/** The connection a request arrived on: the port it was sent to and the client's address. */
export interface ConnectionInfo {
  localPort: number;
  remoteAddress: string;
}

export interface ContainerBehaviour {
  /** TCP ports the container listens on once started. */
  ports: number[];
  /** When the container's args decide its ports (http-echo -listen=:8080): overrides `ports`. */
  portsFor?(ctx: ContainerContext): number[];
  /**
   * The ports it listens on right now, when they change while it runs (a gateway's Envoy listens
   * on the ports its pushed listeners name): read at every connection, overriding `ports` and
   * `portsFor`. After a change the container calls `ctx.net.portsChanged()`.
   */
  listening?(ctx: ContainerContext): number[];
  /** Writes the startup log lines. Called once when the container starts. */
  start?(ctx: ContainerContext): void;
  /** Answers one request received on one of `ports`. Absent: the container serves nothing. */
  serve?(req: HttpRequest, ctx: ContainerContext, conn: ConnectionInfo): Promise<HttpResponse>;
  /** How long after start the process is ready to serve (the kubelet may add its own delay). */
  readyAfterMs?: number;
  /**
   * The container's main process when it can end by itself (a `sh -c` script, `sleep 10`, a
   * busybox started without a command): resolves to its exit code. Absent: the process runs
   * until the container is stopped. Output goes to ctx.log. When `signal` aborts (the kubelet
   * stops the container) it resolves promptly; that exit code is not meaningful.
   * Rejects with ContainerStartError (exit code 128) when the command does not exist in the image.
   */
  run?(ctx: ContainerContext, signal: AbortSignal): Promise<number>;
  /** Default 'debian'. */
  userland?: Userland;
  /** Programs the image does not ship although the simulated shell knows them (e.g. curl on ubuntu). */
  missingPrograms?: string[];
  /** Real binaries of the image the simulation does not run: exec'ing them says so (exit 126). */
  unsupportedPrograms?: string[];
  /** The user the image runs as (prompts, $HOME): a name, or a bare uid with no passwd entry; default root. */
  user?: string;
  /** The image's WORKDIR, where exec'd commands start; default '/'. */
  workingDir?: string;
  /** The image's ENV (the pod spec's env overrides it). */
  env?: Record<string, string>;
  /** Files the image ships, by absolute path (e.g. /etc/os-release, a web root's index.html). */
  files?: Record<string, string>;
  /** Programs of the image's own, by name, on its $PATH (also in a distroless image). */
  programs?: Record<string, ImageProgram>;
}

/**
 * A program of the image's own that exec and the image's shell run like its other tools
 * (e.g. `pilot-agent` in istio/proxyv2): its arguments, where it writes, its container.
 */
export interface ImageProgramIO {
  argv: string[];
  stdout: { write(chunk: string | Buffer): void };
  stderr: { write(chunk: string | Buffer): void };
  ctx: ContainerContext;
  signal: AbortSignal;
}

export type ImageProgram = (io: ImageProgramIO) => Promise<number>;

/** One known image family: which images it covers and the behaviour it gives them. */
export interface ImageBehaviourEntry {
  /** For error messages and listings, e.g. 'bookinfo-productpage'. */
  name: string;
  matches(image: ImageRef): boolean;
  create(image: ImageRef): ContainerBehaviour;
}
