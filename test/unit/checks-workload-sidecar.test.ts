/**
 * The workload check's sidecar form ("every pod in the namespace is 2/2 and runs istio-proxy"),
 * against a fake cluster holding pods shaped as Istio's injector shapes them: classic (istio-proxy
 * among the containers) and native (istio-proxy a restartable init container).
 */
import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { evaluateCheck, type CheckContext } from '../../server/checks/kinds/index.js';
import { parseCheck } from '../../server/checks/schema.js';

const running = (name: string) => ({ name, ready: true, restartCount: 0, image: 'x', imageID: '' });

function pod(name: string, shape: 'classic' | 'native' | 'bare', ready = true): V1Pod {
  const app = { name: 'app', image: 'app' };
  const proxy = { name: 'istio-proxy', image: 'proxyv2' };
  const init = { name: 'istio-init', image: 'proxyv2' };
  const spec =
    shape === 'classic'
      ? { initContainers: [init], containers: [app, proxy] }
      : shape === 'native'
        ? { initContainers: [init, { ...proxy, restartPolicy: 'Always' }], containers: [app] }
        : { containers: [app] };
  const statuses = spec.containers.map((c) => ({ ...running(c.name), ready: ready || c.name === 'app' }));
  const initStatuses = shape === 'native' ? [{ ...running('istio-init'), ready: false }, { ...running('istio-proxy'), ready }] : [];
  return {
    metadata: { name, namespace: 'default', labels: { app: name.split('-')[0]! } },
    spec,
    status: { phase: 'Running', containerStatuses: statuses, initContainerStatuses: initStatuses },
  } as V1Pod;
}

function contextWith(pods: V1Pod[]): CheckContext {
  const objects = {
    isNamespaced: async () => true,
    list: async (_v: string, _k: string, _ns?: string, selector?: string) => ({
      items: selector ? pods.filter((p) => selector.split(',').every((term) => { const [k, v] = term.split('='); return p.metadata?.labels?.[k!] === v; })) : pods,
    }),
    read: async () => {
      throw new Error('not used');
    },
  };
  return { objects, transcript: () => '', shell: { cwd: '/', env: {} } } as unknown as CheckContext;
}

const sidecarCheck = (extra: object = {}) => {
  const parsed = parseCheck({ title: 'every pod has its sidecar', workload: { namespace: 'default', pods: '', ready: '2/2', containers: ['istio-proxy'], ...extra } });
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.check;
};

describe('workload check: sidecars in every pod of a namespace', () => {
  it('passes when every pod is 2/2 with istio-proxy, classic or native', async () => {
    const ctx = contextWith([pod('productpage-v1-a', 'classic'), pod('reviews-v1-b', 'native')]);
    expect(await evaluateCheck(sidecarCheck({ count: 2 }), ctx)).toEqual({
      passed: true,
      found: '2 pods in namespace "default" Running with READY 2/2, each running istio-proxy',
    });
  });

  it('fails on a pod deployed before injection was on (1/1, no istio-proxy), naming it', async () => {
    const ctx = contextWith([pod('productpage-v1-a', 'classic'), pod('ratings-v1-c', 'bare')]);
    expect(await evaluateCheck(sidecarCheck(), ctx)).toEqual({ passed: false, found: 'pod ratings-v1-c has 1 container (READY 1/1), expected 2/2' });
  });

  it('fails on a pod with two containers but no istio-proxy', async () => {
    const other = pod('web-1', 'classic');
    other.spec!.containers[1]!.name = 'logger';
    other.status!.containerStatuses![1]!.name = 'logger';
    expect(await evaluateCheck(sidecarCheck(), contextWith([other]))).toEqual({ passed: false, found: 'pod web-1 runs app, logger, without istio-proxy' });
  });

  it('fails while a sidecar is not ready yet', async () => {
    expect(await evaluateCheck(sidecarCheck(), contextWith([pod('details-v1-d', 'native', false)]))).toEqual({ passed: false, found: 'pod details-v1-d is READY 1/2, expected 2/2' });
  });

  it('fails when the namespace has no pods at all', async () => {
    expect(await evaluateCheck(sidecarCheck(), contextWith([]))).toEqual({ passed: false, found: 'found 0 pods in namespace "default", expected at least 1' });
  });

  it('refuses containers on a deployment check', () => {
    const parsed = parseCheck({ title: 't', workload: { deployment: 'web', containers: ['istio-proxy'] } });
    expect(parsed.ok).toBe(false);
  });
});
