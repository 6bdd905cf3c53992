/**
 * kube-apiserver's MutatingAdmissionWebhook and ValidatingAdmissionWebhook as ONE admission
 * plugin: configurations are read live from the store on every request (sorted by name, as
 * kube's webhook source does), matching webhooks are called over the cluster network
 * (ClusterApi.serviceCalls), patches applied, failure policies and reinvocation honoured.
 */
import { ApiError } from '../../../errors.js';
import type { AdmissionPlugin, AdmissionRequest } from '../../../registry/admission.js';
import { applyJsonPatch } from '../../../registry/patch/json-patch.js';
import type { ResourceDef } from '../../../registry/resource.js';
import type { KubeObject } from '../../../types.js';
import type { AddOn, ClusterApi } from '../../api.js';
import { exempt, shouldCall, webhooksOf, type Invocation, type Webhook } from './config.js';
import { callWebhook, CallingWebhookError } from './call.js';

type Obj = Record<string, any>;
const GROUP = 'admissionregistration.k8s.io';
const PLUGIN = 'MutatingAdmissionWebhook';

/** kube's webhookReinvokeContext: who was called, who must be called again, what they last produced. */
interface ReinvokeState {
  previouslyInvoked: Set<string>;
  reinvoke: Set<string>;
  lastOutput?: string;
}

export function admissionWebhooks(): AddOn {
  return {
    name: 'admission-webhooks',
    start(api) {
      const { plugin, close } = webhookPlugin(api);
      const unregister = api.admission.register(plugin);
      return () => {
        unregister();
        close();
      };
    },
  };
}

export function webhookPlugin(api: ClusterApi): { plugin: AdmissionPlugin; close(): void } {
  // The webhooks as of the last configuration change: every write asks, few writes change them.
  const cache = new Map<string, Webhook[]>();
  const buckets = new Set<string>();
  const close = api.store.onAnyChange((e) => {
    if (buckets.has(e.bucket)) cache.clear();
  });
  const hooks = (resource: string, mutating: boolean): Webhook[] => {
    const cached = cache.get(resource);
    if (cached) return cached;
    const def = api.kinds.lookup(GROUP, 'v1', resource);
    if (!def) return [];
    buckets.add(def.bucket);
    const cfgs = api.store.list(def.bucket, undefined, true).sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : a.metadata.name! > b.metadata.name! ? 1 : 0));
    const list = cfgs.flatMap((c) => webhooksOf(c, mutating));
    cache.set(resource, list);
    return list;
  };
  const plugin: AdmissionPlugin = {
    name: 'webhooks',
    late: true,
    async mutate(req) {
      if (exempt(req)) return;
      const list = hooks('mutatingwebhookconfigurations', true);
      if (list.length) await dispatchMutating(api, list, req);
    },
    async validate(req) {
      if (exempt(req)) return;
      const list = hooks('validatingwebhookconfigurations', false);
      if (list.length) await dispatchValidating(api, list, req);
    },
  };
  return { plugin, close };
}

async function dispatchMutating(api: ClusterApi, list: Webhook[], req: AdmissionRequest): Promise<void> {
  const ctx = req.reinvocation;
  const state: ReinvokeState = (ctx?.values.get(PLUGIN) as ReinvokeState | undefined) ?? { previouslyInvoked: new Set(), reinvoke: new Set() };
  ctx?.values.set(PLUGIN, state);
  const requireReinvoking = () => {
    for (const uid of state.previouslyInvoked) state.reinvoke.add(uid);
    state.previouslyInvoked.clear();
  };
  // In-tree plugins changed the object since the webhooks last saw it: every eligible webhook again.
  if (ctx?.isReinvoke && state.lastOutput !== undefined && state.lastOutput !== JSON.stringify(req.object ?? null)) requireReinvoking();
  try {
    for (const hook of list) {
      const inv = shouldCall(api, hook, req);
      if (!inv) continue;
      // A webhook skipped in the first round is never called for the first time in the second.
      if (ctx?.isReinvoke && !state.reinvoke.has(hook.uid)) continue;
      let changed = false;
      try {
        changed = await callMutating(api, inv, req);
      } catch (e) {
        if (e instanceof CallingWebhookError && hook.failurePolicy === 'Ignore') {
          api.log.warn(`Failed calling webhook, failing open ${hook.name}: ${e.message}`);
          continue;
        }
        throw e instanceof CallingWebhookError ? ApiError.internal(e.message) : e;
      } finally {
        if (changed) {
          requireReinvoking();
          ctx?.requestReinvoke();
        }
        if (hook.reinvocationPolicy === 'IfNeeded') state.previouslyInvoked.add(hook.uid);
      }
    }
  } finally {
    // Only a webhook that may be reinvoked needs to know what the in-tree plugins change after it.
    if (state.previouslyInvoked.size > 0) state.lastOutput = JSON.stringify(req.object ?? null);
  }
}

/** Calls one mutating webhook and applies its patch to req.object; whether the object changed. */
async function callMutating(api: ClusterApi, inv: Invocation, req: AdmissionRequest): Promise<boolean> {
  const shown = req.object ? reviewObject(api, inv, req, req.object) : undefined;
  const old = req.oldObject ? inVersion(api, inv, req, req.oldObject) : undefined;
  const { patch } = await callWebhook(api, inv, req, shown, old);
  if (!patch || patch.length === 0) return false;
  if (!req.object || !shown) throw ApiError.internal(`admission webhook "${inv.hook.name}" attempted to modify the object, which is not supported for this operation`);
  let patched: KubeObject;
  try {
    patched = applyJsonPatch(shown, patch);
  } catch (e) {
    // kube answers NewInternalError(the patch library's error).
    const detail = (e as Error).cause ?? (e as Error).message;
    throw ApiError.internal(String(detail));
  }
  if (JSON.stringify(patched) === JSON.stringify(shown)) return false;
  const back = fromVersion(api, inv, req, patched) as Obj;
  // What the API server set itself before admission stays its own (the webhook saw it unset on CREATE).
  const m = req.object.metadata;
  back.metadata = { ...(back.metadata ?? {}) };
  for (const k of ['uid', 'creationTimestamp', 'generation', 'resourceVersion'] as const) {
    if (m[k] === undefined) delete back.metadata[k];
    else back.metadata[k] = m[k];
  }
  const target = req.object as Obj;
  for (const k of Object.keys(target)) delete target[k];
  Object.assign(target, back);
  req.mutated = true;
  return true;
}

/**
 * The object as a mutating webhook sees it: on CREATE kube's mutating admission runs before
 * BeforeCreate, so no uid, generation or creationTimestamp yet (Go prints the zero time as null).
 */
function reviewObject(api: ClusterApi, inv: Invocation, req: AdmissionRequest, obj: KubeObject): KubeObject {
  const o = structuredClone(inVersion(api, inv, req, obj)) as Obj;
  if (req.operation === 'CREATE' && o.metadata) {
    delete o.metadata.uid;
    delete o.metadata.generation;
    o.metadata.creationTimestamp = null;
  }
  return o as KubeObject;
}

const defOf = (api: ClusterApi, r: { group: string; version: string; resource: string }): ResourceDef | undefined => api.kinds.lookup(r.group, r.version, r.resource);

/** The object in the invocation's version (matchPolicy Equivalent may name another one). */
function inVersion(api: ClusterApi, inv: Invocation, req: AdmissionRequest, obj: KubeObject): KubeObject {
  if (inv.resource.version === req.resource.version) return obj;
  return convert(obj, defOf(api, req.resource), defOf(api, inv.resource), inv.resource);
}

function fromVersion(api: ClusterApi, inv: Invocation, req: AdmissionRequest, obj: KubeObject): KubeObject {
  if (inv.resource.version === req.resource.version) return obj;
  return convert(obj, defOf(api, inv.resource), defOf(api, req.resource), req.resource);
}

/** Through the storage version, as kube converts between a kind's versions. */
function convert(obj: KubeObject, from: ResourceDef | undefined, to: ResourceDef | undefined, target: { group: string; version: string }): KubeObject {
  let o = from?.convert ? from.convert.toStorage(obj) : structuredClone(obj);
  o = to?.convert ? to.convert.fromStorage(o) : o;
  return { ...o, apiVersion: target.group ? `${target.group}/${target.version}` : target.version };
}

/** Validating webhooks run in parallel; the first failure (in configuration order) is the answer. */
async function dispatchValidating(api: ClusterApi, list: Webhook[], req: AdmissionRequest): Promise<void> {
  const calls: Promise<unknown>[] = [];
  for (const hook of list) {
    const inv = shouldCall(api, hook, req);
    if (!inv) continue;
    const obj = req.object ? inVersion(api, inv, req, req.object) : undefined;
    const old = req.oldObject ? inVersion(api, inv, req, req.oldObject) : undefined;
    calls.push(
      callWebhook(api, inv, req, obj, old).then(
        () => undefined,
        (e) => {
          if (e instanceof CallingWebhookError) {
            if (hook.failurePolicy === 'Ignore') {
              api.log.warn(`Failed calling webhook, failing open ${hook.name}: ${e.message}`);
              return undefined;
            }
            return ApiError.internal(e.message);
          }
          return e;
        },
      ),
    );
  }
  const errors = (await Promise.all(calls)).filter((e) => e !== undefined);
  if (errors.length) throw errors[0];
}
