/**
 * One webhook call as kube-apiserver makes it (k8s.io/apiserver webhook/{mutating,validating}
 * dispatchers, webhook/request, webhook/errors): the AdmissionReview v1 request, the POST to the
 * Service over the cluster network, the response's checks, and kube's wording of every failure.
 */
import { randomUUID } from 'node:crypto';
import { ApiError } from '../../../errors.js';
import type { AdmissionRequest } from '../../../registry/admission.js';
import { NetworkError, type HttpResponse } from '../../../images/types.js';
import { ServiceResolveError } from '../../../network/service-calls.js';
import type { KubeObject } from '../../../types.js';
import type { ClusterApi } from '../../api.js';
import type { Invocation, Webhook } from './config.js';

type Obj = Record<string, any>;

/** webhookutil.ErrCallingWebhook: failurePolicy decides whether it fails the request. */
export class CallingWebhookError extends Error {
  constructor(
    readonly webhook: string,
    readonly reason: string,
  ) {
    super(`failed calling webhook "${webhook}": ${reason}`);
    this.name = 'CallingWebhookError';
  }
}

export interface WebhookResult {
  /** The decoded JSONPatch operations (mutating webhooks), or undefined. */
  patch?: unknown[];
}

/** What kube's webhook client sees of the call's URL (the Service's DNS name; the dial goes to an endpoint). */
export function webhookURL(hook: Webhook): string {
  const s = hook.service!;
  return `https://${s.name}.${s.namespace}.svc:${s.port}${s.path || '/'}?timeout=${hook.timeoutSeconds}s`;
}

/**
 * Calls one webhook with the request's object (`object`/`oldObject` as the webhook must see
 * them). Throws ApiError for a dry run it must not see or a denial, CallingWebhookError for
 * anything failurePolicy governs. Warnings go to req.warnings.
 */
export async function callWebhook(api: ClusterApi, inv: Invocation, req: AdmissionRequest, object: KubeObject | undefined, oldObject: KubeObject | undefined): Promise<WebhookResult> {
  const hook = inv.hook;
  if (req.dryRun && hook.sideEffects !== 'None' && hook.sideEffects !== 'NoneOnDryRun') {
    throw ApiError.badRequest(`admission webhook "${hook.name}" does not support dry run`);
  }
  // kube sends the first version the webhook lists that it knows; the embedded cluster speaks v1
  // only, which a webhook listing both accepts whatever the order.
  const versions = hook.admissionReviewVersions;
  if (!versions.includes('v1') && !versions.includes('v1beta1')) throw new CallingWebhookError(hook.name, 'could not create admission objects: webhook does not accept known AdmissionReview versions');
  if (!versions.includes('v1')) throw new CallingWebhookError(hook.name, 'could not create admission objects: AdmissionReview v1beta1 is not supported by the embedded cluster (list v1 in admissionReviewVersions)');
  const uid = randomUUID();
  const review = admissionReview(uid, inv, req, object, oldObject);
  if (!hook.service) {
    // Webhooks outside the cluster network have nothing to reach in the embedded cluster.
    throw new CallingWebhookError(hook.name, `failed to call webhook: Post "${hook.url ?? ''}": webhooks addressed by clientConfig.url are not supported by the embedded cluster (use clientConfig.service)`);
  }
  const url = webhookURL(hook);
  const s = hook.service;
  let res: HttpResponse;
  try {
    res = await api.serviceCalls.call(
      { namespace: s.namespace, name: s.name, port: s.port },
      {
        method: 'POST',
        path: `${s.path || '/'}?timeout=${hook.timeoutSeconds}s`,
        headers: { host: `${s.name}.${s.namespace}.svc:${s.port}`, 'content-type': 'application/json', accept: 'application/json, */*', 'user-agent': 'kube-apiserver-admission' },
        body: Buffer.from(JSON.stringify(review)),
      },
      { timeoutMs: hook.timeoutSeconds * 1000 },
    );
  } catch (e) {
    throw new CallingWebhookError(hook.name, `failed to call webhook: Post "${url}": ${dialError(api, e)}`);
  }
  const body = decodeResponse(hook, res);
  const response = verify(hook, uid, body);
  for (const w of Array.isArray(response.warnings) ? response.warnings : []) {
    if (typeof w === 'string' && req.warnings && !req.warnings.includes(w)) req.warnings.push(w);
  }
  if (response.allowed !== true) throw denied(hook.name, response.status);
  if (typeof response.patch !== 'string' || response.patch === '') return {};
  let ops: unknown;
  try {
    ops = JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8'));
    if (!Array.isArray(ops)) throw new Error('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  } catch (e) {
    throw new CallingWebhookError(hook.name, `received undecodable patch in webhook response: ${(e as Error).message}`);
  }
  return { patch: ops as unknown[] };
}

/** The AdmissionReview v1 kube sends, fields in Go's order (object/oldObject/options null when absent). */
function admissionReview(uid: string, inv: Invocation, req: AdmissionRequest, object: KubeObject | undefined, oldObject: KubeObject | undefined): Obj {
  const admin = req.userInfo.username === 'admin';
  return {
    kind: 'AdmissionReview',
    apiVersion: 'admission.k8s.io/v1',
    request: {
      uid,
      kind: inv.kind,
      resource: inv.resource,
      ...(req.subresource ? { subResource: req.subresource } : {}),
      requestKind: req.kind,
      requestResource: req.resource,
      ...(req.subresource ? { requestSubResource: req.subresource } : {}),
      ...(req.name ? { name: req.name } : {}),
      ...(req.namespace ? { namespace: req.namespace } : {}),
      operation: req.operation,
      // The playground's learner is kubeadm's admin.conf user.
      userInfo: admin ? { username: 'kubernetes-admin', groups: ['kubeadm:cluster-admins', 'system:authenticated'] } : { username: req.userInfo.username, groups: req.userInfo.groups ?? ['system:authenticated'] },
      object: object ?? null,
      oldObject: oldObject ?? null,
      dryRun: req.dryRun,
      options: req.options ?? null,
    },
  };
}

/** The tail of Go's `Post "URL": …` for a failed call. */
function dialError(api: ClusterApi, e: unknown): string {
  if (e instanceof ServiceResolveError) return e.message;
  if (e instanceof NetworkError) {
    switch (e.code) {
      case 'ECONNREFUSED':
        return `dial tcp ${e.host}:${e.port}: connect: connection refused`;
      case 'ETIMEDOUT':
        return 'context deadline exceeded';
      case 'ENOTFOUND':
        return `dial tcp: lookup ${e.host}: no such host`;
      default:
        return 'EOF';
    }
  }
  // The webhook's server failed without answering: the connection closed under the client.
  api.log.warn(`admission webhook server failed: ${(e as Error)?.message ?? e}`);
  return 'EOF';
}

/** client-go's Do().Into(): a non-2xx answer is an error, a 2xx body must decode. */
function decodeResponse(hook: Webhook, res: HttpResponse): Obj {
  const text = res.body.toString('utf8');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (res.status < 200 || res.status > 299) {
    const st = body as Obj | undefined;
    const message = st && st.kind === 'Status' && typeof st.message === 'string' ? st.message : genericServerResponse(res.status, text);
    throw new CallingWebhookError(hook.name, `failed to call webhook: ${message}`);
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new CallingWebhookError(hook.name, `failed to call webhook: couldn't get version/kind; json parse error: invalid character looking for beginning of value`);
  }
  return body as Obj;
}

/** request.VerifyAdmissionResponse for AdmissionReview v1. */
function verify(hook: Webhook, uid: string, review: Obj): Obj {
  const bad = (why: string) => new CallingWebhookError(hook.name, `received invalid webhook response: ${why}`);
  const r = review.response;
  if (!r || typeof r !== 'object') throw bad('webhook response was absent');
  if (r.uid !== uid) throw bad(`expected response.uid=${JSON.stringify(uid)}, got ${JSON.stringify(typeof r.uid === 'string' ? r.uid : '')}`);
  const [g, v] = String(review.apiVersion ?? '').includes('/') ? String(review.apiVersion).split('/') : ['', String(review.apiVersion ?? '')];
  if (review.apiVersion !== 'admission.k8s.io/v1' || review.kind !== 'AdmissionReview') {
    throw bad(`expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got ${g ? `${g}/` : ''}${v}, Kind=${review.kind ?? ''}`);
  }
  const patch = typeof r.patch === 'string' ? r.patch : '';
  const patchType = typeof r.patchType === 'string' ? r.patchType : '';
  if (patch && !patchType) throw bad('webhook returned response.patch but not response.patchType');
  if (patchType && !patch) throw bad('webhook returned response.patchType but not response.patch');
  if (patch && !hook.mutating) throw bad('validating webhook may not return response.patch');
  if (patchType && patchType !== 'JSONPatch') throw bad(`webhook returned invalid response.patchType of ${JSON.stringify(patchType)}`);
  return r;
}

/** webhookerrors.ToStatusErr (kube 1.32): the webhook's status, code < 400 made 400. */
function denied(webhook: string, result: unknown): ApiError {
  const st = (result && typeof result === 'object' ? result : {}) as Obj;
  const deniedBy = `admission webhook "${webhook}" denied the request`;
  const code = typeof st.code === 'number' && st.code >= 400 ? st.code : 400;
  const message = typeof st.message === 'string' && st.message ? `${deniedBy}: ${st.message}` : typeof st.reason === 'string' && st.reason ? `${deniedBy}: ${st.reason}` : `${deniedBy} without explanation`;
  return new ApiError(code, typeof st.reason === 'string' ? st.reason : '', message, st.details && typeof st.details === 'object' ? st.details : undefined);
}

/** apimachinery's NewGenericServerResponse: what client-go makes of a non-2xx answer that is not a Status. */
function genericServerResponse(code: number, body: string): string {
  switch (code) {
    case 400:
      return 'the server rejected our request for an unknown reason';
    case 401:
      return 'the server has asked for the client to provide credentials';
    case 404:
      return 'the server could not find the requested resource';
    case 405:
      return 'the server does not allow this method on the requested resource';
    case 409:
      return 'the server reported a conflict';
    case 422:
      return 'the server rejected our request due to an error in our request';
    case 429:
      return 'the server has received too many requests and has asked us to try again later';
    case 500:
      return `an error on the server (${JSON.stringify(body.trim() || 'unknown')}) has prevented the request from succeeding`;
    case 503:
      return 'the server is currently unable to handle the request';
    case 504:
      return 'the server was unable to return a response in the time allotted, but may still be processing the request';
    default:
      return `the server responded with the status code ${code} but did not return more information`;
  }
}
