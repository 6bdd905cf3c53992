import { afterEach, describe, expect, it, vi } from 'vitest';
import type { KubeObjects } from '../../server/checks/kube-objects.js';
import { MeshWatcher } from '../../server/mesh/watcher.js';
import { ProxyStats } from '../../server/sim/addons/istio/envoy/stats.js';

/** A cluster with one meshed pod whose proxy serves `stats`; counts the reads. */
function fakeCluster(stats: ProxyStats) {
  const reads = { lists: 0, scrapes: [] as string[] };
  const pod = {
    metadata: { uid: 'u1', name: 'web-1', namespace: 'shop', labels: { app: 'web', version: 'v1' } },
    spec: { containers: [{ name: 'web' }, { name: 'istio-proxy' }] },
    status: { phase: 'Running', podIP: '10.0.0.9', conditions: [{ type: 'Ready', status: 'True' }] },
  };
  const kube = {
    list: async (_v: string, kind: string) => {
      reads.lists++;
      return { items: kind === 'Pod' ? [pod] : [{ metadata: { name: 'web', namespace: 'shop' }, spec: { selector: { app: 'web' } } }] };
    },
    request: async (path: string) => {
      reads.scrapes.push(path);
      return { status: 200, headers: {}, body: stats.renderPrometheus() };
    },
  } as unknown as KubeObjects;
  return { kube, reads };
}

const req = (stats: ProxyStats, code = 200) =>
  stats.recordRequest({ reporter: 'destination', source_workload: 'unknown', source_workload_namespace: 'unknown', destination_workload: 'web-1', destination_workload_namespace: 'shop', destination_service_name: 'web', destination_service_namespace: 'shop', destination_version: 'v1', response_code: String(code) }, 1, 1, 1);

afterEach(() => {
  vi.useRealTimers();
});

describe('the mesh watcher', () => {
  it('reads a learner’s cluster at most once per interval, through the pod’s proxy subresource on 15020', async () => {
    const stats = new ProxyStats();
    const { kube, reads } = fakeCluster(stats);
    const w = new MeshWatcher({ kubeFor: async () => kube, intervalMs: 60_000 });
    await Promise.all([w.snapshot('a'), w.snapshot('a'), w.snapshot('a')]);
    await w.snapshot('a');
    expect(reads.lists).toBe(2); // pods and services, once
    expect(reads.scrapes).toEqual(['/api/v1/namespaces/shop/pods/web-1:15020/proxy/stats/prometheus']);
    w.close();
  });

  it('asks only the caller’s cluster', async () => {
    const seen: string[] = [];
    const { kube } = fakeCluster(new ProxyStats());
    const w = new MeshWatcher({ kubeFor: async (id) => (seen.push(id), kube), intervalMs: 0 });
    await w.snapshot('learner-a');
    await w.snapshot('learner-b');
    expect(seen).toEqual(['learner-a', 'learner-b']);
    w.close();
  });

  it('differences the newest scrape against one about a window old, keeping no more history than that', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const stats = new ProxyStats();
    const { kube } = fakeCluster(stats);
    const w = new MeshWatcher({ kubeFor: async () => kube, intervalMs: 1000, windowMs: 10_000 });
    let update = await w.snapshot('a');
    for (let s = 1; s <= 30; s++) {
      for (let i = 0; i < (s <= 15 ? 4 : 1); i++) req(stats, s > 25 ? 503 : 200);
      vi.setSystemTime(Date.now() + 1000);
      update = await w.snapshot('a');
    }
    if ('error' in update) throw new Error(update.error);
    const edge = update.graph.edges.find((e) => e.id === 'svc:shop/web>wl:shop/web-1')!;
    // The last 10 s: 1 request a second, the last 5 of them 503.
    expect(update.graph.windowSeconds).toBe(10);
    expect(edge).toMatchObject({ requests: 10, rate: 1, errorShare: 0.5 });
    const history = (w as unknown as { learners: Map<string, { history: Map<string, unknown[]> }> }).learners.get('a')!.history.get('u1')!;
    expect(history.length).toBeLessThanOrEqual(12);
    w.close();
  });

  it('says why when the cluster cannot be read, without throwing', async () => {
    const w = new MeshWatcher({ kubeFor: async () => Promise.reject(new Error('The cluster is not available: it stopped')) });
    await expect(w.snapshot('a')).resolves.toEqual({ error: 'The cluster is not available: it stopped' });
    w.close();
  });
});
