/**
 * The pure pieces of the workload controllers: scheduler messages and filters, rollout arithmetic,
 * pod-template-hash shape, image names, Go durations, node address blocks, container logs.
 */
import { describe, expect, it } from 'vitest';
import { fitErrorMessage, matchesNodeAffinity, tolerates } from '../../server/sim/controllers/scheduler.js';
import { podTemplateHash, resolveFenceposts, sameTemplate } from '../../server/sim/controllers/deployment.js';
import { imageID, normalizeImage } from '../../server/sim/kubelet/kubelet.js';
import { goDuration } from '../../server/sim/kubelet/stages.js';
import { parseQuantity, podRequests } from '../../server/sim/controllers/kit.js';
import { ContainerLog } from '../../server/sim/kubelet/container-manager.js';
import { LoopbackBlockAllocator } from '../../server/sim/nodes/addresses.js';
import { nodeObject, placeNodes, DEFAULT_TOPOLOGY } from '../../server/sim/nodes/topology.js';

describe('scheduler', () => {
  it('words a fit error like the 1.32 scheduler, reasons counted and sorted, with the preemption summary', () => {
    const msg = fitErrorMessage(3, [
      { reasons: ['node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }'], unresolvable: true },
      { reasons: ['Insufficient cpu'], unresolvable: false },
      { reasons: ['Insufficient cpu'], unresolvable: false },
    ]);
    expect(msg).toBe(
      '0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.',
    );
  });

  it('counts every insufficient resource of a node', () => {
    const msg = fitErrorMessage(1, [{ reasons: ['Insufficient cpu', 'Insufficient memory'], unresolvable: false }]);
    expect(msg).toBe('0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.');
  });

  it('matches tolerations by key, operator, value and effect', () => {
    const taint = { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' };
    expect(tolerates([{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }], taint)).toBe(true);
    expect(tolerates([{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists' }], taint)).toBe(true);
    expect(tolerates([{ operator: 'Exists' }], taint)).toBe(true);
    expect(tolerates([{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoExecute' }], taint)).toBe(false);
    expect(tolerates([{ key: 'other', operator: 'Exists' }], taint)).toBe(false);
    expect(tolerates([{ key: 'k', operator: 'Equal', value: 'a' }], { key: 'k', value: 'b', effect: 'NoSchedule' })).toBe(false);
  });

  it('honours nodeSelector and required node affinity (labels and metadata.name fields)', () => {
    const node = { metadata: { name: 'worker-1', labels: { disk: 'ssd', zone: 'a' } } };
    expect(matchesNodeAffinity({ nodeSelector: { disk: 'ssd' } }, node)).toBe(true);
    expect(matchesNodeAffinity({ nodeSelector: { disk: 'hdd' } }, node)).toBe(false);
    const byName = (n: string) => ({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [n] }] }] } } } });
    expect(matchesNodeAffinity(byName('worker-1'), node)).toBe(true);
    expect(matchesNodeAffinity(byName('worker-2'), node)).toBe(false);
    const expr = { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }, { matchExpressions: [{ key: 'disk', operator: 'Exists' }] }] } } } };
    expect(matchesNodeAffinity(expr, node)).toBe(true);
  });

  it('sums requests as the scheduler does: containers plus sidecars, or the largest init container', () => {
    expect(parseQuantity('250m')).toBeCloseTo(0.25);
    expect(parseQuantity('1Gi')).toBe(1024 ** 3);
    const spec = {
      initContainers: [{ resources: { requests: { cpu: '2' } } }, { restartPolicy: 'Always', resources: { requests: { cpu: '100m' } } }],
      containers: [{ resources: { requests: { cpu: '500m', memory: '64Mi' } } }],
    };
    const r = podRequests(spec);
    expect(r.cpu).toBeCloseTo(2);
    expect(r.memory).toBe(64 * 1024 ** 2);
  });
});

describe('deployments', () => {
  it('resolves maxSurge up and maxUnavailable down, never both zero', () => {
    expect(resolveFenceposts({ spec: { replicas: 3 } })).toEqual({ maxSurge: 1, maxUnavailable: 0 });
    expect(resolveFenceposts({ spec: { replicas: 10 } })).toEqual({ maxSurge: 3, maxUnavailable: 2 });
    expect(resolveFenceposts({ spec: { replicas: 1, strategy: { rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } } } })).toEqual({ maxSurge: 0, maxUnavailable: 1 });
    expect(resolveFenceposts({ spec: { replicas: 4, strategy: { rollingUpdate: { maxSurge: '50%', maxUnavailable: 1 } } } })).toEqual({ maxSurge: 2, maxUnavailable: 1 });
  });

  it('hashes templates into kube-shaped, stable, content-dependent pod-template-hashes', () => {
    const t = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } };
    const h = podTemplateHash(t);
    expect(h).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{6,10}$/);
    expect(podTemplateHash(structuredClone(t))).toBe(h);
    expect(podTemplateHash({ ...t, metadata: { labels: { app: 'web', 'pod-template-hash': h } } })).toBe(h);
    expect(podTemplateHash({ ...t, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } })).not.toBe(h);
    expect(podTemplateHash(t, 1)).not.toBe(h);
  });

  it('compares templates ignoring the hash label and omitempty zeros', () => {
    const a = { metadata: { labels: { app: 'x', 'pod-template-hash': 'abc' } }, spec: { containers: [{ name: 'x', readinessProbe: { initialDelaySeconds: 0 } }] } };
    const b = { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'x', readinessProbe: {} }] } };
    expect(sameTemplate(a, b)).toBe(true);
    expect(sameTemplate(a, { ...b, metadata: { labels: { app: 'y' } } })).toBe(false);
  });
});

describe('kubelet helpers', () => {
  it('normalises image references as containerd reports them', () => {
    expect(normalizeImage('nginx')).toBe('docker.io/library/nginx:latest');
    expect(normalizeImage('istio/proxyv2:1.24.0')).toBe('docker.io/istio/proxyv2:1.24.0');
    expect(normalizeImage('registry.k8s.io/coredns/coredns:v1.11.3')).toBe('registry.k8s.io/coredns/coredns:v1.11.3');
    expect(normalizeImage('localhost:5000/app')).toBe('localhost:5000/app:latest');
    expect(imageID('nginx:1.27')).toMatch(/^docker\.io\/library\/nginx@sha256:[0-9a-f]{64}$/);
  });

  it('formats durations as Go does', () => {
    expect(goDuration(0)).toBe('0s');
    expect(goDuration(812)).toBe('812ms');
    expect(goDuration(1500)).toBe('1.5s');
    expect(goDuration(10_000)).toBe('10s');
    expect(goDuration(80_000)).toBe('1m20s');
    expect(goDuration(300_000)).toBe('5m0s');
  });

  it('keeps a container log that followers see and that ends when the container stops', () => {
    const log = new ContainerLog();
    log.write('one');
    const seen: string[] = [];
    let ended = false;
    log.subscribe((e) => seen.push(e.line), () => (ended = true));
    log.write('two\nthree\n');
    log.close();
    log.write('after');
    expect(log.entries().map((e) => e.line)).toEqual(['one', 'two', 'three']);
    expect(seen).toEqual(['two', 'three']);
    expect(ended).toBe(true);
    expect(log.running()).toBe(false);
  });
});

describe('nodes', () => {
  it('leases distinct loopback blocks and frees them', () => {
    const a = new LoopbackBlockAllocator();
    const seq = [0.1, 0.2, 0.1, 0.2, 0.3, 0.4];
    const rnd = () => seq.shift() ?? 0.5;
    const first = a.lease(rnd);
    const second = a.lease(rnd);
    expect(first).not.toBe(second);
    expect(first).toMatch(/^127\.(\d+)\.(\d+)$/);
    expect(first.startsWith('127.0.')).toBe(false);
    a.release(first);
    expect(a.leased).toBe(1);
  });

  it('describes nodes as kubeadm registers them', () => {
    const [cp, w1] = placeNodes(DEFAULT_TOPOLOGY, '127.9.9');
    expect(cp!.ip).toBe('127.9.9.2');
    expect(w1!.podCIDR).toBe('10.244.1.0/24');
    const node = nodeObject(cp!, '2026-01-01T00:00:00Z') as Record<string, any>;
    expect(node.metadata.labels['node-role.kubernetes.io/control-plane']).toBe('');
    expect(node.spec.taints).toEqual([{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }]);
    expect(node.status.capacity.cpu).toBe('2');
    expect(node.status.nodeInfo.kubeletVersion).toMatch(/^v1\.32\.\d+$/);
    expect(node.status.conditions.find((c: { type: string }) => c.type === 'Ready').status).toBe('True');
    const worker = nodeObject(w1!, '2026-01-01T00:00:00Z') as Record<string, any>;
    expect(worker.spec.taints).toBeUndefined();
    expect(parseQuantity(worker.status.allocatable.memory)).toBeLessThan(1024 ** 3);
  });
});

describe('events', () => {
  it('expire after the event TTL, as kube-apiserver --event-ttl does', async () => {
    const { EmbeddedCluster } = await import('../../server/sim/cluster.js');
    const { EventRecorder } = await import('../../server/sim/controllers/events.js');
    const { Resources } = await import('../../server/sim/controllers/kit.js');
    const cluster = await EmbeddedCluster.start();
    const res = new Resources(cluster.api);
    const rec = new EventRecorder(cluster.api, res, 60_000);
    try {
      const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid: 'u1' } };
      rec.normal(pod, 'Pulled', 'one', { component: 'kubelet' });
      rec.normal(pod, 'Pulled', 'one', { component: 'kubelet' });
      rec.normal(pod, 'Started', 'two', { component: 'kubelet' });
      await rec.idle();
      const events = cluster.store.list(res.events.bucket, 'default') as Record<string, any>[];
      expect(events.map((e) => [e.reason, e.count])).toEqual([['Pulled', 2], ['Started', 1]]);
      expect(events[0]!.metadata.name).toMatch(/^p\.[0-9a-f]{16}$/);
      rec.expire(Date.now() + 30_000);
      expect(cluster.store.count(res.events.bucket, 'default')).toBe(2);
      rec.expire(Date.now() + 120_000);
      expect(cluster.store.count(res.events.bucket, 'default')).toBe(0);
    } finally {
      rec.stop();
      await cluster.stop();
    }
  });
});
