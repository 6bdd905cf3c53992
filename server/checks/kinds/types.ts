import type { Kubeconfig } from '../../cluster/kubeconfig.js';
import type { KubeObjects } from '../kube-objects.js';
import type { TerminalCommand } from '../../terminal/commands.js';

/** What evaluating one check found. `found` is written for the learner. */
export interface CheckOutcome {
  passed: boolean;
  found: string;
}

export interface CheckContext {
  kc: Kubeconfig;
  objects: KubeObjects;
  /** Plain-text output of the commands the learner ran in this step (never what was typed, never prompts). */
  transcript(): string;
  /** The commands the learner ran in this step's terminal since the step was opened, with their output. */
  commands(): TerminalCommand[];
  /** The learner's shell environment, for command checks. */
  shell: { cwd: string; env: Record<string, string> };
  /** Injectable for sampled checks' tests. */
  random?: () => number;
  signal?: AbortSignal;
  /** The learner's own namespace on a shared cluster (namespace-per-learner mode): a track's `default`. */
  defaultNamespace?: string;
}

/** The namespace a check means: a track's `default` (named or implied) is the learner's own namespace on a shared cluster. */
export function checkNamespace(ctx: CheckContext, namespace: string | undefined): string {
  return namespace === undefined || namespace === 'default' ? (ctx.defaultNamespace ?? 'default') : namespace;
}

/** The cluster did not answer (as opposed to answering "no"): reported once, not per check. */
export class ClusterUnreachableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClusterUnreachableError';
  }
}
