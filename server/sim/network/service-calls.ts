/**
 * kube-apiserver's own calls to a Service (admission webhooks): it resolves the Service to one
 * ready endpoint itself (proxy.ResolveEndpoint, what --enable-aggregator-routing does) and dials
 * the pod, bypassing ClusterIP balancing. The failures are worded as kube words them.
 */
import type { HttpRequest, HttpResponse } from '../images/types.js';
import { NetworkError } from '../images/types.js';

export interface ServiceRef {
  namespace: string;
  name: string;
  port: number;
}

/** A failure to resolve the Service to an address (no dial happened), worded as kube's resolver. */
export class ServiceResolveError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServiceResolveError';
  }
}

/** Sends one request to a Service's port; rejects with ServiceResolveError or NetworkError. */
export type ServiceCall = (ref: ServiceRef, req: HttpRequest, opts: { timeoutMs: number }) => Promise<HttpResponse>;

/**
 * The control plane's calls; the pod network plugs its implementation in (the workloads add-on).
 * Without one no pod runs, so no Service has an endpoint: kube's no-endpoints error.
 */
export class ServiceCalls {
  private impl: ServiceCall | undefined;

  call: ServiceCall = (ref, req, opts) => (this.impl ? this.impl(ref, req, opts) : Promise.reject(new ServiceResolveError(`no endpoints available for service "${ref.name}"`)));

  provide(impl: ServiceCall): () => void {
    this.impl = impl;
    return () => {
      if (this.impl === impl) this.impl = undefined;
    };
  }
}

/** Rejects with ETIMEDOUT after `ms` unless `p` settles first. */
export function withDeadline<T>(p: Promise<T>, ms: number, host: string, port: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new NetworkError('ETIMEDOUT', host, port)), ms);
    t.unref?.();
    p.then(
      (r) => (clearTimeout(t), resolve(r)),
      (e) => (clearTimeout(t), reject(e)),
    );
  });
}
