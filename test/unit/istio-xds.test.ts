/**
 * istiod's config distribution (the in-process stand-in for xDS): per-proxy snapshots from the
 * mesh's Istio config, pushes on change, and the sync state proxy-status reports.
 */
import { describe, expect, it } from 'vitest';
import { ConfigDistribution, synczJson, type ConfigBucket, type ProxyNode, type ProxySnapshot } from '../../server/sim/addons/istio/xds/distribution.js';

type Obj = Record<string, any>;

function setup() {
  const config = new Map<ConfigBucket, Obj[]>();
  const xds = new ConfigDistribution({ list: (b) => config.get(b) ?? [] }, () => new Date('2026-01-01T00:00:00Z'));
  return { config, xds };
}

const node = (name: string, ns: string): ProxyNode => ({ id: `${name}.${ns}`, podName: name, podIP: '10.244.1.5', serviceAccount: 'default', namespace: ns, type: 'sidecar', istioVersion: '1.30.3', clusterId: 'Kubernetes', labels: {} });
const vs = (name: string, ns: string, exportTo?: string[]) => ({ kind: 'VirtualService', metadata: { name, namespace: ns }, spec: { hosts: [name], ...(exportTo ? { exportTo } : {}) } });
const flush = () => new Promise<void>((r) => queueMicrotask(r));

describe('config distribution', () => {
  it('pushes nothing until an istiod serves, then a snapshot per proxy, acknowledged', () => {
    const { config, xds } = setup();
    config.set('networking.istio.io/virtualservices', [vs('reviews', 'default')]);
    const got: ProxySnapshot[] = [];
    xds.subscribe(node('productpage-1', 'default'), (s) => void got.push(s));
    expect(got).toHaveLength(0);
    expect(xds.syncz()).toEqual([]);
    xds.istiodUp('istiod-abc');
    expect(got).toHaveLength(1);
    expect(got[0]!.virtualServices.map((v) => v.metadata.name)).toEqual(['reviews']);
    const [state] = JSON.parse(synczJson(xds.syncz()));
    expect(state).toMatchObject({ proxy: 'productpage-1.default', istiod: 'istiod-abc', cluster_id: 'Kubernetes', istio_version: '1.30.3' });
    expect(state.cluster_acked).toBe(state.cluster_sent);
    expect(xds.latest('productpage-1.default')).toBe(got[0]);
  });

  it('coalesces changes into one push and honours exportTo', async () => {
    const { config, xds } = setup();
    xds.istiodUp('istiod-abc');
    const got: ProxySnapshot[] = [];
    xds.subscribe(node('curl-1', 'other'), (s) => void got.push(s));
    config.set('networking.istio.io/virtualservices', [vs('a', 'default'), vs('b', 'default', ['.']), vs('c', 'default', ['other'])]);
    xds.configChanged();
    xds.configChanged();
    await flush();
    expect(got).toHaveLength(2);
    expect(got[1]!.virtualServices.map((v) => v.metadata.name)).toEqual(['a', 'c']);
  });

  it('a proxy that rejects its config stays sent-not-acked; with istiod gone, nothing is connected', () => {
    const { xds } = setup();
    xds.istiodUp('istiod-abc');
    xds.subscribe(node('bad-1', 'default'), () => {
      throw new Error('NACK');
    });
    const [s] = xds.syncz();
    expect(s!.sent.CDS).toBeTruthy();
    expect(s!.acked.CDS).toBeUndefined();
    xds.istiodDown('istiod-abc');
    expect(xds.syncz()).toEqual([]);
    xds.istiodUp('istiod-def');
    expect(xds.syncz()[0]!.istiod).toBe('istiod-def');
  });
});
