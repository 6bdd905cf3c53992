/** The ordered, registrable chain of PodInterceptors; empty by default. */
import type { HttpResponse } from '../images/types.js';
import type { InboundCall, NetworkPod, Next, OutboundCall, PodInterceptor } from './types.js';

export class PodInterceptors {
  private chain: PodInterceptor[] = [];

  /**
   * Adds an interceptor at the end of the chain (nearest the wire), or before the one named
   * `before`. Returns a function that removes it.
   */
  add(interceptor: PodInterceptor, opts: { before?: string } = {}): () => void {
    const at = opts.before ? this.chain.findIndex((i) => i.name === opts.before) : -1;
    const next = [...this.chain];
    if (at >= 0) next.splice(at, 0, interceptor);
    else next.push(interceptor);
    this.chain = next;
    return () => {
      this.chain = this.chain.filter((i) => i !== interceptor);
    };
  }

  list(): readonly PodInterceptor[] {
    return this.chain;
  }

  outbound(call: OutboundCall, wire: Next<OutboundCall>): Promise<HttpResponse> {
    const links = this.chain.filter((i) => i.outbound && applies(i, call.source));
    return run(links, invokeOutbound, call, wire);
  }

  inbound(call: InboundCall, wire: Next<InboundCall>): Promise<HttpResponse> {
    const links = this.chain.filter((i) => i.inbound && applies(i, call.destination));
    return run(links, invokeInbound, call, wire);
  }
}

function invokeOutbound(i: PodInterceptor, call: OutboundCall, next: Next<OutboundCall>): Promise<HttpResponse> {
  return i.outbound!(call, next);
}

function invokeInbound(i: PodInterceptor, call: InboundCall, next: Next<InboundCall>): Promise<HttpResponse> {
  return i.inbound!(call, next);
}

function applies(i: PodInterceptor, pod: NetworkPod): boolean {
  try {
    return i.appliesTo ? i.appliesTo(pod) : true;
  } catch {
    return false;
  }
}

function run<C>(
  links: PodInterceptor[],
  invoke: (i: PodInterceptor, call: C, next: Next<C>) => Promise<HttpResponse>,
  call: C,
  wire: Next<C>,
): Promise<HttpResponse> {
  if (links.length === 0) return wire(call);
  return step(links, 0, invoke, wire)(call);
}

// A function declaration, not a `const step = …` closure per request (tsx names each of those at run time).
function step<C>(links: PodInterceptor[], index: number, invoke: (i: PodInterceptor, call: C, next: Next<C>) => Promise<HttpResponse>, wire: Next<C>): Next<C> {
  return (c) => (index >= links.length ? wire(c) : invoke(links[index]!, c, step(links, index + 1, invoke, wire)));
}
