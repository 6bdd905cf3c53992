/**
 * The admission chain: mutating plugins run first (in registration order, the webhook plugin
 * after the in-tree ones), then the caller's own validation, then validating plugins, as
 * kube-apiserver runs MutatingAdmissionWebhook, the strategy's Validate, then
 * ValidatingAdmissionWebhook. When a plugin asks for it (a webhook changed the object), the
 * mutating plugins run once more, as kube's admission reinvoker does.
 */
import { ApiError } from '../errors.js';
import type { GroupVersionKind, GroupVersionResource, KubeObject } from '../types.js';

export type AdmissionOperation = 'CREATE' | 'UPDATE' | 'DELETE';

/** kube's admission.ReinvocationContext: whether this is the second run, and per-plugin state. */
export interface Reinvocation {
  readonly isReinvoke: boolean;
  /** A plugin asks the chain to run the mutating plugins once more. */
  requestReinvoke(): void;
  readonly values: Map<string, unknown>;
}

export interface AdmissionRequest {
  operation: AdmissionOperation;
  resource: GroupVersionResource;
  subresource?: string;
  kind: GroupVersionKind;
  namespace?: string;
  name: string;
  /** The object to be stored; mutating plugins change it in place. Undefined on DELETE. */
  object?: KubeObject;
  oldObject?: KubeObject;
  dryRun: boolean;
  userInfo: { username: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
  /** The request's Create/Update/DeleteOptions, as the AdmissionReview carries them. */
  options?: Record<string, unknown>;
  /** Warnings for the response's Warning headers (kubectl prints them). */
  warnings?: string[];
  /** Set by a plugin that replaced the object's content (a webhook's patch): validation runs again. */
  mutated?: boolean;
  /** Set by the chain while it runs. */
  reinvocation?: Reinvocation;
}

export interface AdmissionPlugin {
  name: string;
  /** Runs after the plugins without it (kube-apiserver's webhook plugins follow its in-tree ones). */
  late?: boolean;
  /** Changes `req.object` in place. Throw an ApiError to deny. */
  mutate?(req: AdmissionRequest): void | Promise<void>;
  /** Must not change anything. Throw an ApiError to deny. */
  validate?(req: AdmissionRequest): void | Promise<void>;
}

export class AdmissionChain {
  private readonly plugins: AdmissionPlugin[] = [];

  /** Registers a plugin; returns a function that unregisters it. */
  register(plugin: AdmissionPlugin): () => void {
    if (this.plugins.some((p) => p.name === plugin.name)) throw new Error(`admission plugin ${plugin.name} already registered`);
    const at = plugin.late ? this.plugins.length : this.plugins.findIndex((p) => p.late);
    this.plugins.splice(at < 0 ? this.plugins.length : at, 0, plugin);
    return () => {
      const i = this.plugins.indexOf(plugin);
      if (i >= 0) this.plugins.splice(i, 1);
    };
  }

  get size(): number {
    return this.plugins.length;
  }

  /** `validateObject` is the caller's own validation, run between the two phases. */
  async run(req: AdmissionRequest, validateObject?: () => void): Promise<void> {
    let again = false;
    const values = new Map<string, unknown>();
    req.reinvocation = { isReinvoke: false, requestReinvoke: () => void (again = true), values };
    for (const p of this.plugins) if (p.mutate) await guard(p, () => p.mutate!(req));
    if (again) {
      req.reinvocation = { isReinvoke: true, requestReinvoke: () => {}, values };
      for (const p of this.plugins) if (p.mutate) await guard(p, () => p.mutate!(req));
    }
    delete req.reinvocation;
    validateObject?.();
    const frozen = req.object ? JSON.stringify(req.object) : '';
    for (const p of this.plugins) if (p.validate) await guard(p, () => p.validate!(req));
    if (req.object && JSON.stringify(req.object) !== frozen) {
      throw ApiError.internal('a validating admission plugin changed the object');
    }
  }
}

async function guard(p: AdmissionPlugin, fn: () => void | Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof ApiError) throw e;
    // Worded as the apiserver words a failing webhook call.
    throw ApiError.internal(`failed calling webhook "${p.name}": ${(e as Error).message ?? e}`);
  }
}
