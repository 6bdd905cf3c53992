import type { Kubeconfig } from '../../cluster/kubeconfig.js';
import type { KubeObjects } from '../kube-objects.js';

/** What evaluating one check found. `found` is written for the learner. */
export interface CheckOutcome {
  passed: boolean;
  found: string;
}

export interface CheckContext {
  kc: Kubeconfig;
  objects: KubeObjects;
  /** Recent plain-text terminal output of the learner's session. */
  transcript(): string;
  /** The learner's shell environment, for command checks. */
  shell: { cwd: string; env: Record<string, string> };
  /** Injectable for sampled checks' tests. */
  random?: () => number;
  signal?: AbortSignal;
}

/** The cluster did not answer (as opposed to answering "no"): reported once, not per check. */
export class ClusterUnreachableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClusterUnreachableError';
  }
}
