/**
 * istiod's admission webhooks over AdmissionReview v1: `/inject` (sidecar injection, a JSONPatch)
 * and `/validate` (Istio config validation), as pkg/kube/inject/webhook.go and
 * pkg/webhooks/validation/server answer them. What istiod reads from the cluster comes through
 * a reader, so the handler stays pure.
 */
import { parse as parseYaml } from 'yaml';
import { injectPod, injectorValuesFrom, nativeSidecarsFor } from './template.js';
import { jsonDiff } from './diff.js';
import { validateIstioConfig } from '../validation/validate.js';

type Obj = Record<string, any>;

/** What istiod reads from the API for a review: ConfigMaps in its namespace, the nodes' kubelets. */
export interface MeshReader {
  configMap(namespace: string, name: string): { data?: Record<string, string> } | undefined;
  kubeletVersions(): string[];
}

export interface WebhookReply {
  status: number;
  contentType: string;
  body: string;
}

const review = (response: Obj, apiVersion = 'admission.k8s.io/v1'): WebhookReply => ({
  status: 200,
  contentType: 'application/json',
  body: JSON.stringify({ kind: 'AdmissionReview', apiVersion, response }),
});

/** The injector values istiod would use now (ConfigMaps `istio-sidecar-injector` and `istio`). */
export function currentInjectorValues(reader: MeshReader, istioNamespace = 'istio-system') {
  const injector = reader.configMap(istioNamespace, 'istio-sidecar-injector');
  let mesh: Obj | undefined;
  try {
    mesh = parseYaml(reader.configMap(istioNamespace, 'istio')?.data?.mesh ?? '') ?? undefined;
  } catch {
    mesh = undefined;
  }
  return injectorValuesFrom(injector?.data?.values, mesh, nativeSidecarsFor(reader.kubeletVersions()));
}

function inject(req: Obj, reader: MeshReader, istioNamespace: string): Obj {
  const pod: Obj = req.object ?? {};
  const namespace = req.namespace || pod.metadata?.namespace || 'default';
  const injected = injectPod(pod, { namespace, values: currentInjectorValues(reader, istioNamespace) });
  if (!injected) return { uid: req.uid, allowed: true };
  const ops = jsonDiff(pod, injected);
  return { uid: req.uid, allowed: true, patch: Buffer.from(JSON.stringify(ops)).toString('base64'), patchType: 'JSONPatch' };
}

const ISTIO_GROUPS = /\.istio\.io$/;

function validate(req: Obj): Obj {
  const obj: Obj | undefined = req.object;
  if (req.operation === 'DELETE' || !obj || !ISTIO_GROUPS.test(String(req.kind?.group ?? ''))) return { uid: req.uid, allowed: true };
  const err = validateIstioConfig(obj);
  if (!err) return { uid: req.uid, allowed: true };
  return { uid: req.uid, allowed: false, status: { metadata: {}, message: `configuration is invalid: ${err}` } };
}

/** Answers one webhook POST; `path` may carry a query (`?timeout=10s`) and the `/inject/…` forms. */
export function handleWebhook(method: string, path: string, contentType: string | undefined, body: Buffer, reader: MeshReader, istioNamespace = 'istio-system'): WebhookReply | undefined {
  const p = path.split('?')[0]!;
  const kind = p === '/validate' || p.startsWith('/validate/') ? 'validate' : p === '/inject' || p.startsWith('/inject/') ? 'inject' : undefined;
  if (!kind) return undefined;
  if (method !== 'POST') return { status: 405, contentType: 'text/plain; charset=utf-8', body: `invalid method ${method}, only POST requests are allowed\n` };
  if (!body.length) return { status: 400, contentType: 'text/plain; charset=utf-8', body: 'no body found\n' };
  if (contentType && !contentType.startsWith('application/json')) return { status: 415, contentType: 'text/plain; charset=utf-8', body: `contentType=${contentType}, expect application/json\n` };
  let ar: Obj;
  try {
    ar = JSON.parse(body.toString('utf8'));
  } catch (e) {
    return { status: 400, contentType: 'text/plain; charset=utf-8', body: `could not decode body: ${(e as Error).message}\n` };
  }
  const req: Obj | undefined = ar?.request;
  if (!req || typeof req !== 'object') return { status: 400, contentType: 'text/plain; charset=utf-8', body: 'could not decode body: request is missing\n' };
  const apiVersion = typeof ar.apiVersion === 'string' ? ar.apiVersion : 'admission.k8s.io/v1';
  try {
    return review(kind === 'inject' ? inject(req, reader, istioNamespace) : validate(req), apiVersion);
  } catch (e) {
    return review({ uid: req.uid, allowed: false, status: { metadata: {}, message: (e as Error).message } }, apiVersion);
  }
}
