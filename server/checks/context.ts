/** What a check sees of the learner's cluster: its kubeconfig, and objects read through it. */
import { Kubeconfig } from '../cluster/kubeconfig.js';
import { kubeObjectsFor } from './kube-objects.js';
import type { CheckContext } from './kinds/types.js';
import type { TerminalCommand } from '../terminal/commands.js';

export function loadKubeConfig(kubeconfigPath: string, context?: string): Kubeconfig {
  const kc = new Kubeconfig();
  kc.loadFromFile(kubeconfigPath);
  if (context) {
    if (!kc.getContextObject(context)) {
      const known = kc.getContexts().map((c) => c.name).join(', ') || 'none';
      throw new Error(`context "${context}" is not in ${kubeconfigPath} (contexts: ${known})`);
    }
    kc.setCurrentContext(context);
  }
  return kc;
}

export function createCheckContext(options: {
  kc: Kubeconfig;
  /** The commands run in this step's terminal since the step was opened. */
  commands?: () => TerminalCommand[];
  shell: { cwd: string; env: Record<string, string> };
  signal?: AbortSignal;
  /** The learner's own namespace on a shared cluster. */
  defaultNamespace?: string;
}): CheckContext {
  return {
    kc: options.kc,
    // One client per kubeconfig: its discovery cache and pooled connections outlive one evaluation.
    objects: kubeObjectsFor(options.kc),
    commands: options.commands ?? (() => []),
    transcript: () => (options.commands?.() ?? []).map((c) => c.output).join('\n'),
    shell: options.shell,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.defaultNamespace ? { defaultNamespace: options.defaultNamespace } : {}),
  };
}
