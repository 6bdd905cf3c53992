/**
 * A cluster backend gives each learner session a cluster to talk to. The terminal and the
 * step checks only ever speak the Kubernetes API through what this returns, so they work
 * the same on the embedded cluster, kind, or any kubeconfig.
 */
export type BackendName = 'sim' | 'kubeconfig' | 'kind';

export interface ClusterAccess {
  /** Absolute path of a kubeconfig file for this session's cluster. */
  kubeconfigPath: string;
  /** Context to use inside that kubeconfig. */
  context: string;
  /** Extra environment for the session's shell (KUBECONFIG, PATH additions, …). */
  env: Record<string, string>;
  /** Directories to put in front of PATH (e.g. the sim's istioctl). */
  pathPrepend: string[];
  /** Read-only folders under the data dir the shell may see (the fetched Istio release), at their own paths. */
  sharedDirs?: string[];
  /**
   * The learner's own namespace when they share a cluster (namespace-per-learner mode): what a
   * track calls `default` (its checks' default namespace) is this one for them.
   */
  namespace?: string;
  /** Changes when the same kubeconfig file now names another server (a restarted embedded cluster), or its credential. */
  revision?: string;
}

/** Where a learner's cluster is, for the page's progress bar: long work (creating a kind cluster) shows as it goes. */
export interface ClusterStatus {
  state: 'ready' | 'preparing' | 'failed' | 'not-started';
  /** 0-100 while preparing. */
  percent?: number;
  /** What is being done, e.g. "Joining worker nodes". */
  stage?: string;
  /** Why it failed, in a sentence to act on. */
  message?: string;
}

export interface ClusterBackend {
  readonly name: BackendName;
  /** A human description for logs and the terminal banner, e.g. "embedded cluster at https://127.0.0.1:40123". */
  describe(): string;
  /** Cluster access for one learner session, created on first use. */
  acquire(sessionId: string): Promise<ClusterAccess>;
  /** Frees what acquire made for this session (a no-op for shared clusters). */
  release(sessionId: string): Promise<void>;
  /**
   * Tells `listener`, with a sentence for the learner, when their cluster ended without being
   * asked to (a crash) and when it runs again. Backends whose clusters cannot crash that way omit it.
   */
  onClusterNotice?(listener: (learnerId: string, message: string) => void): void;
  /** The learner's cluster's state; backends whose clusters are there at once omit it (always ready). */
  status?(learnerId: string): ClusterStatus;
  /**
   * Wipes the learner's cluster state and, if it was running, starts it again empty (the
   * instructor's "reset cluster"). Backends whose clusters are shared omit it.
   */
  reset?(sessionId: string): Promise<void>;
  /** Stops everything the backend started. */
  close(): Promise<void>;
}
