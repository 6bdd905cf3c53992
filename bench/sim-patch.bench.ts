/**
 * Cost of the patch library on a Bookinfo-sized Deployment (two containers, env, ports, volumes,
 * managedFields from a previous apply): each algorithm against a JSON merge patch measured in the
 * same run, which is the cheapest thing a PATCH can do.
 */
import {
  applyJsonPatch,
  applyMergePatch,
  applyStrategicMergePatch,
  recordUpdate,
  serverSideApply,
} from '../server/sim/registry/patch/index.js';
import type { GroupVersionKind, KubeObject } from '../server/sim/types.js';

const gvk: GroupVersionKind = { group: 'apps', version: 'v1', kind: 'Deployment' };

function manifest(image: string, replicas: number): KubeObject {
  const container = (name: string) => ({
    name,
    image,
    imagePullPolicy: 'IfNotPresent',
    ports: [{ containerPort: 9080, protocol: 'TCP' }],
    env: Array.from({ length: 6 }, (_, i) => ({ name: `VAR_${i}`, value: String(i) })),
    volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }, { name: 'wlp-output', mountPath: '/opt/ibm/wlp/output' }],
    resources: { requests: { cpu: '10m', memory: '40Mi' } },
  });
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'reviews-v1', namespace: 'default', labels: { app: 'reviews', version: 'v1' } },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'reviews', version: 'v1' } },
      template: {
        metadata: { labels: { app: 'reviews', version: 'v1' } },
        spec: {
          serviceAccountName: 'bookinfo-reviews',
          containers: [container('reviews'), container('helper')],
          volumes: [{ name: 'wlp-output', emptyDir: {} }, { name: 'tmp', emptyDir: {} }],
        },
      },
    },
  };
}

function measure(name: string, iterations: number, fn: () => unknown): { name: string; median: number; p99: number } {
  for (let i = 0; i < 50; i++) fn();
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = process.hrtime.bigint();
    fn();
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  samples.sort((a, b) => a - b);
  return { name, median: samples[Math.floor(samples.length / 2)], p99: samples[Math.floor(samples.length * 0.99)] };
}

export default async function run(): Promise<void> {
  const now = new Date();
  const live = recordUpdate({ live: undefined, updated: manifest('reviews:1.20', 1), manager: 'kubectl-client-side-apply', gvk, now });
  const applied = serverSideApply({ live: undefined, applied: manifest('reviews:1.20', 1), manager: 'kubectl', force: false, gvk, now });
  const smp = {
    spec: {
      template: {
        spec: {
          '$setElementOrder/containers': [{ name: 'reviews' }, { name: 'helper' }],
          containers: [{ name: 'reviews', image: 'reviews:1.21', env: [{ name: 'VAR_0', value: 'x' }] }],
        },
      },
    },
  };
  const n = 2000;
  const results = [
    measure('merge patch (baseline)', n, () => applyMergePatch(live, { spec: { replicas: 3 } })),
    measure('JSON patch', n, () => applyJsonPatch(live, [{ op: 'replace', path: '/spec/replicas', value: 3 }])),
    measure('strategic merge patch', n, () => applyStrategicMergePatch(live, smp, gvk)),
    measure('recordUpdate after a patch', n, () => recordUpdate({ live, updated: applyMergePatch(live, { spec: { replicas: 3 } }), manager: 'kubectl-patch', gvk, now })),
    measure('server-side apply (re-apply, one change)', n, () => serverSideApply({ live: applied, applied: manifest('reviews:1.21', 1), manager: 'kubectl', force: false, gvk, now })),
  ];
  const baseline = results[0].median;
  for (const r of results) {
    process.stdout.write(
      `${r.name.padEnd(42)} median ${r.median.toFixed(3)} ms  p99 ${r.p99.toFixed(3)} ms  ×${(r.median / baseline).toFixed(1)} baseline\n`,
    );
  }
}
