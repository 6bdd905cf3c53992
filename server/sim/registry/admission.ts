/**
 * The admission chain: mutating plugins run first (in registration order), then validating ones,
 * as kube-apiserver runs MutatingAdmissionWebhook before ValidatingAdmissionWebhook. Later work
 * hangs sidecar injection and Istio config validation here.
 */
import { ApiError } from '../errors.js';
import type { GroupVersionKind, GroupVersionResource, KubeObject } from '../types.js';

export type AdmissionOperation = 'CREATE' | 'UPDATE' | 'DELETE';

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
  userInfo: { username: string };
}

export interface AdmissionPlugin {
  name: string;
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
    this.plugins.push(plugin);
    return () => {
      const i = this.plugins.indexOf(plugin);
      if (i >= 0) this.plugins.splice(i, 1);
    };
  }

  get size(): number {
    return this.plugins.length;
  }

  async run(req: AdmissionRequest): Promise<void> {
    for (const p of this.plugins) if (p.mutate) await guard(p, () => p.mutate!(req));
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
