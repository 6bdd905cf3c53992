/**
 * kube-controller-manager's other controllers on the embedded cluster, judged by the real kubectl
 * 1.32: ReplicationControllers, CronJobs (on a manual clock: no waiting for real minutes),
 * HorizontalPodAutoscalers without a metrics server, DaemonSets on tainted nodes, namespaces
 * stuck on finalizers, the kube-root-ca.crt publisher, and the garbage collector's cascades.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedCluster } from '../../server/sim/cluster.js';
import { kubectlIn } from '../helpers/kubectl.js';
import { until } from './sim-network-harness.js';

let cluster: EmbeddedCluster;
let dir: string;
const { kubectl, ok } = kubectlIn(() => dir);

const lines = (s: string) => s.trim().split('\n').filter(Boolean);
const cols = (line: string) => line.trim().split(/\s{2,}|\t/);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sim-controllers-'));
  cluster = await EmbeddedCluster.start({
    workloads: { timings: { schedule: 5, pull: 20, start: 5, ready: 20, terminate: 1500, run: 100, backoff: 150, probeDelayScale: 0 }, nodePorts: false },
  });
  await cluster.writeKubeconfig(join(dir, 'kubeconfig'));
});

afterAll(async () => {
  await cluster?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const rc = `
apiVersion: v1
kind: ReplicationController
metadata:
  name: legacy
spec:
  replicas: 2
  template:
    metadata:
      labels: { app: legacy, tier: web }
    spec:
      containers:
      - name: web
        image: nginx:1.27
`;

describe('ReplicationControllers', () => {
  it('are created with selector and labels defaulted from the template, run their pods and scale', async () => {
    expect(await ok(['apply', '-f', '-'], rc)).toBe('replicationcontroller/legacy created\n');
    const got = JSON.parse(await ok(['get', 'rc', 'legacy', '-o', 'json']));
    expect(got.spec.selector).toEqual({ app: 'legacy', tier: 'web' });
    expect(got.metadata.labels).toEqual({ app: 'legacy', tier: 'web' });
    await until('two ready pods', async () => {
      const out = lines(await ok(['get', 'rc', 'legacy', '--no-headers']));
      return cols(out[0]!).slice(1, 4).join(' ') === '2 2 2';
    });
    const wide = lines(await ok(['get', 'rc', '-o', 'wide']));
    expect(wide[0]!.split(/\s+/)).toEqual(['NAME', 'DESIRED', 'CURRENT', 'READY', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR']);
    expect(wide[1]).toMatch(/^legacy\s+2\s+2\s+2\s+\S+\s+web\s+nginx:1\.27\s+app=legacy,tier=web$/);
    const pods = lines(await ok(['get', 'pods', '-l', 'app=legacy', '-o', 'jsonpath={range .items[*]}{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}{"\\n"}{end}']));
    expect(pods).toEqual(['ReplicationController/legacy', 'ReplicationController/legacy']);

    expect(await ok(['scale', 'rc', 'legacy', '--replicas=3'])).toBe('replicationcontroller/legacy scaled\n');
    await until('three pods', async () => lines(await ok(['get', 'pods', '-l', 'app=legacy', '--no-headers'])).length === 3);
    const events = await ok(['get', 'events', '--field-selector', 'involvedObject.kind=ReplicationController', '-o', 'jsonpath={range .items[*]}{.source.component} {.reason}{"\\n"}{end}']);
    expect(lines(events)).toContain('replication-controller SuccessfulCreate');
    const describe = await ok(['describe', 'rc', 'legacy']);
    expect(describe).toMatch(/^Selector:\s+app=legacy,tier=web$/m);
    expect(describe).toMatch(/^Replicas:\s+3 current \/ 3 desired$/m);
  });

  it('refuses a selector that does not match the template as kube-apiserver does', async () => {
    const bad = rc.replace('name: legacy', 'name: mismatched').replace('replicas: 2', 'replicas: 1\n  selector: { app: other }');
    const r = await kubectl(['apply', '-f', '-'], bad);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('The ReplicationController "mismatched" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{"app":"legacy", "tier":"web"}: `selector` does not match template `labels`');
  });

  it('kubectl rolling-update is gone in 1.32', async () => {
    const r = await kubectl(['rolling-update', 'legacy', '--image=nginx:1.28']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('unknown command "rolling-update" for "kubectl"');
  });
});
