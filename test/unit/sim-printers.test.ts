import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { humanDuration, printTable } from '../../server/sim/registry/printers/index.js';
import type { KubeObject } from '../../server/sim/types.js';
import { REFERENCE_DIR } from '../helpers/reference.js';

const REF = REFERENCE_DIR;
const bookinfo = parseAllDocuments(readFileSync(join(REF, 'samples/bookinfo.yaml'), 'utf8')).map((d) => d.toJSON() as KubeObject).filter(Boolean);
const docOutputs = readFileSync(join(REF, 'doc_outputs.md'), 'utf8');

const NOW = new Date('2026-01-01T12:00:00Z');
const ago = (seconds: number) => new Date(NOW.getTime() - seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
const names = (t: ReturnType<typeof printTable>) => t.columnDefinitions.map((c) => c.name.toUpperCase());
const visible = (t: ReturnType<typeof printTable>) => t.columnDefinitions.filter((c) => c.priority === 0).map((c) => c.name.toUpperCase());
const cellsOf = (t: ReturnType<typeof printTable>, row = 0) => Object.fromEntries(t.columnDefinitions.map((c, i) => [c.name, t.rows[row]!.cells[i]]));

/** The header line a doc output shows right after `$ <command>`. */
function docHeader(command: string): string[] {
  const lines = docOutputs.split('\n');
  const i = lines.findIndex((l) => l.replace(/\s+#.*$/, '').trim() === `$ ${command}`);
  if (i < 0) throw new Error(`no doc output for ${command}`);
  return lines[i + 1]!.trim().split(/\s{2,}/);
}

describe('ages (duration.HumanDuration)', () => {
  it.each([
    [-5000, '<invalid>'], [-1500, '0s'], [0, '0s'], [5_000, '5s'], [119_000, '119s'], [120_000, '2m'], [192_000, '3m12s'],
    [600_000, '10m'], [179 * 60_000, '179m'], [3 * 3600_000, '3h'], [(2 * 60 + 5) * 60_000 + 3 * 3600_000, '5h5m'],
    [8 * 3600_000, '8h'], [47 * 3600_000, '47h'], [52 * 3600_000, '2d4h'], [72 * 3600_000, '3d'], [9 * 86400_000, '9d'],
    [800 * 86400_000, '2y70d'], [3650 * 86400_000, '10y'],
  ])('%d ms → %s', (ms, text) => expect(humanDuration(ms)).toBe(text));
});

describe('pods', () => {
  const deployment = bookinfo.find((o) => o.kind === 'Deployment' && o.metadata.name === 'reviews-v1')!;
  const template = (deployment.spec as { template: { spec: Record<string, unknown>; metadata: { labels: Record<string, string> } } }).template;
  const pod = (status: Record<string, unknown>, extra: Record<string, unknown> = {}): KubeObject => ({
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: 'reviews-v1-7f99cc4496-gdxfn', namespace: 'default', creationTimestamp: ago(161), labels: template.metadata.labels, ...extra },
    spec: { ...template.spec, nodeName: 'worker-1' },
    status,
  });
  const running = (restartCount = 0, lastFinished?: string) => ({
    name: 'reviews', ready: true, restartCount, state: { running: { startedAt: ago(100) } },
    ...(lastFinished ? { lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: lastFinished } } } : {}),
  });
  const print = (p: KubeObject) => printTable({ group: '', version: 'v1', resource: 'pods', objects: [p], now: NOW });

  it('has kubectl get pods columns, with the wide ones at priority 1', () => {
    const t = print(pod({ phase: 'Pending' }));
    expect(visible(t)).toEqual(docHeader('kubectl get pods'));
    expect(names(t)).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES']);
  });

  it('prints a running pod as the docs show it', () => {
    const t = print(pod({ phase: 'Running', podIP: '10.244.1.5', podIPs: [{ ip: '10.244.1.5' }], conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [running()] }));
    expect(t.rows[0]!.cells).toEqual(['reviews-v1-7f99cc4496-gdxfn', '1/1', 'Running', '0', '2m41s', '10.244.1.5', 'worker-1', '<none>', '<none>']);
  });

  it('shows restarts with the age of the last restart', () => {
    const t = print(pod({ phase: 'Running', containerStatuses: [running(3, ago(300))] }));
    expect(cellsOf(t).Restarts).toBe('3 (5m ago)');
  });

  it.each([
    ['Pending', { phase: 'Pending' }, 'Pending', '0/1'],
    ['ContainerCreating', { phase: 'Pending', containerStatuses: [{ name: 'reviews', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }] }, 'ContainerCreating', '0/1'],
    ['CrashLoopBackOff', { phase: 'Running', containerStatuses: [{ name: 'reviews', ready: false, restartCount: 4, state: { waiting: { reason: 'CrashLoopBackOff' } } }] }, 'CrashLoopBackOff', '0/1'],
    ['ErrImagePull', { phase: 'Pending', containerStatuses: [{ name: 'reviews', ready: false, restartCount: 0, state: { waiting: { reason: 'ErrImagePull' } } }] }, 'ErrImagePull', '0/1'],
    ['Completed', { phase: 'Succeeded', containerStatuses: [{ name: 'reviews', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } }] }, 'Completed', '0/1'],
    ['Error', { phase: 'Failed', containerStatuses: [{ name: 'reviews', ready: false, restartCount: 0, state: { terminated: { exitCode: 2 } } }] }, 'ExitCode:2', '0/1'],
  ])('status %s', (_label, status, text, ready) => {
    const c = cellsOf(print(pod(status)));
    expect(c.Status).toBe(text);
    expect(c.Ready).toBe(ready);
  });

  it('reports init containers as Init:N/M', () => {
    const p = pod({ phase: 'Pending', initContainerStatuses: [{ name: 'istio-init', ready: false, restartCount: 0, state: { waiting: { reason: 'PodInitializing' } } }], containerStatuses: [{ name: 'reviews', ready: false, restartCount: 0, state: { waiting: { reason: 'PodInitializing' } } }] });
    (p.spec as Record<string, unknown>).initContainers = [{ name: 'istio-init', image: 'proxyv2' }];
    expect(cellsOf(print(p)).Status).toBe('Init:0/1');
  });

  it('counts a native sidecar (restartable init container) as a container', () => {
    const p = pod({ phase: 'Running', conditions: [{ type: 'Initialized', status: 'True' }, { type: 'Ready', status: 'True' }], initContainerStatuses: [{ name: 'istio-proxy', ready: true, started: true, restartCount: 0, state: { running: {} } }], containerStatuses: [running()] });
    (p.spec as Record<string, unknown>).initContainers = [{ name: 'istio-proxy', image: 'proxyv2', restartPolicy: 'Always' }];
    expect(cellsOf(print(p))).toMatchObject({ Ready: '2/2', Status: 'Running' });
  });

  it('shows Terminating once a deletion timestamp is set', () => {
    const t = print(pod({ phase: 'Running', containerStatuses: [running()] }, { deletionTimestamp: ago(1) }));
    expect(cellsOf(t).Status).toBe('Terminating');
  });

  it('marks finished pods with a Completed row condition', () => {
    const t = print(pod({ phase: 'Succeeded' }));
    expect(t.rows[0]!.conditions?.[0]).toMatchObject({ type: 'Completed', reason: 'Succeeded' });
  });
});

describe('services', () => {
  const services = bookinfo.filter((o) => o.kind === 'Service').map((s, i) => ({
    ...s,
    metadata: { ...s.metadata, creationTimestamp: ago(29) },
    spec: { ...(s.spec as object), type: 'ClusterIP', clusterIP: `10.0.0.${10 + i}`, clusterIPs: [`10.0.0.${10 + i}`] },
  }));

  it('prints bookinfo services like the docs', () => {
    const t = printTable({ group: '', version: 'v1', resource: 'services', objects: services, now: NOW });
    expect(visible(t)).toEqual(docHeader('kubectl get services'));
    const details = t.rows.find((r) => r.cells[0] === 'details')!;
    expect(details.cells).toEqual(['details', 'ClusterIP', '10.0.0.10', '<none>', '9080/TCP', '29s', 'app=details']);
  });

  it('prints a LoadBalancer without ingress as <pending> with node ports', () => {
    const gw: KubeObject = {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'istio-ingressgateway', namespace: 'istio-system', creationTimestamp: ago(61200) },
      spec: { type: 'LoadBalancer', clusterIP: '10.96.0.20', clusterIPs: ['10.96.0.20'], selector: { app: 'istio-ingressgateway', istio: 'ingressgateway' }, ports: [{ port: 80, nodePort: 31380, protocol: 'TCP' }, { port: 443, nodePort: 31390, protocol: 'TCP' }, { port: 31400, nodePort: 31400, protocol: 'TCP' }] },
    };
    const t = printTable({ group: '', version: 'v1', resource: 'services', objects: [gw], now: NOW });
    expect(visible(t)).toEqual(docHeader('kubectl get svc istio-ingressgateway -n istio-system'));
    expect(t.rows[0]!.cells).toEqual(['istio-ingressgateway', 'LoadBalancer', '10.96.0.20', '<pending>', '80:31380/TCP,443:31390/TCP,31400:31400/TCP', '17h', 'app=istio-ingressgateway,istio=ingressgateway']);
    (gw as Record<string, unknown>).status = { loadBalancer: { ingress: [{ ip: '172.18.0.2' }] } };
    expect(cellsOf(printTable({ group: '', version: 'v1', resource: 'services', objects: [gw], now: NOW }))['External-IP']).toBe('172.18.0.2');
  });

  it('prints a headless service cluster IP as None', () => {
    const t = printTable({ group: '', version: 'v1', resource: 'services', objects: [{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'h' }, spec: { clusterIP: 'None', clusterIPs: ['None'] } }], now: NOW });
    expect(t.rows[0]!.cells.slice(0, 5)).toEqual(['h', 'ClusterIP', 'None', '<none>', '<none>']);
  });
});

describe('workloads', () => {
  const deployments = bookinfo.filter((o) => o.kind === 'Deployment').map((d) => ({ ...d, metadata: { ...d.metadata, creationTimestamp: ago(3600) }, status: { replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 } }));

  it('prints deployments with READY UP-TO-DATE AVAILABLE and wide containers/images/selector', () => {
    const t = printTable({ group: 'apps', version: 'v1', resource: 'deployments', objects: deployments, now: NOW });
    expect(visible(t)).toEqual(['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE']);
    expect(names(t).slice(5)).toEqual(['CONTAINERS', 'IMAGES', 'SELECTOR']);
    const row = t.rows.find((r) => r.cells[0] === 'reviews-v2')!;
    expect(row.cells).toEqual(['reviews-v2', '1/1', 1, 1, '60m', 'reviews', 'registry.istio.io/release/examples-bookinfo-reviews-v2:1.20.3', 'app=reviews,version=v2']);
  });

  it('prints replicasets, statefulsets, daemonsets, jobs and cronjobs', () => {
    const tpl = { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'c', image: 'busybox' }, { name: 'd', image: 'nginx' }] } };
    const rs = printTable({ group: 'apps', version: 'v1', resource: 'replicasets', now: NOW, objects: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'r', creationTimestamp: ago(10) }, spec: { replicas: 3, selector: { matchLabels: { app: 'a' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['web', 'api'] }] }, template: tpl }, status: { replicas: 3, readyReplicas: 2 } }] });
    expect(rs.rows[0]!.cells).toEqual(['r', 3, 3, 2, '10s', 'c,d', 'busybox,nginx', 'app=a,tier in (api,web)']);
    const sts = printTable({ group: 'apps', version: 'v1', resource: 'statefulsets', now: NOW, objects: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 's', creationTimestamp: ago(10) }, spec: { replicas: 2, template: tpl }, status: { readyReplicas: 1 } }] });
    expect(sts.rows[0]!.cells.slice(0, 3)).toEqual(['s', '1/2', '10s']);
    const ds = printTable({ group: 'apps', version: 'v1', resource: 'daemonsets', now: NOW, objects: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'd', creationTimestamp: ago(10) }, spec: { selector: { matchLabels: { app: 'a' } }, template: { ...tpl, spec: { ...tpl.spec, nodeSelector: { 'kubernetes.io/os': 'linux' } } } }, status: { desiredNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 3, updatedNumberScheduled: 3, numberAvailable: 3 } }] });
    expect(visible(ds)).toEqual(['NAME', 'DESIRED', 'CURRENT', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'NODE SELECTOR', 'AGE']);
    expect(ds.rows[0]!.cells.slice(0, 8)).toEqual(['d', 3, 3, 3, 3, 3, 'kubernetes.io/os=linux', '10s']);
    const job = printTable({ group: 'batch', version: 'v1', resource: 'jobs', now: NOW, objects: [{ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j', creationTimestamp: ago(100) }, spec: { completions: 1, parallelism: 1, template: tpl }, status: { succeeded: 1, startTime: ago(100), completionTime: ago(88), conditions: [{ type: 'Complete', status: 'True' }] } }] });
    expect(visible(job)).toEqual(['NAME', 'STATUS', 'COMPLETIONS', 'DURATION', 'AGE']);
    expect(job.rows[0]!.cells.slice(0, 5)).toEqual(['j', 'Complete', '1/1', '12s', '100s']);
    const cj = printTable({ group: 'batch', version: 'v1', resource: 'cronjobs', now: NOW, objects: [{ apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'c', creationTimestamp: ago(100) }, spec: { schedule: '*/5 * * * *', suspend: false, jobTemplate: { spec: { template: tpl } } }, status: {} }] });
    expect(visible(cj)).toEqual(['NAME', 'SCHEDULE', 'TIMEZONE', 'SUSPEND', 'ACTIVE', 'LAST SCHEDULE', 'AGE']);
    expect(cj.rows[0]!.cells.slice(0, 7)).toEqual(['c', '*/5 * * * *', '<none>', 'False', 0, '<none>', '100s']);
  });
});

describe('cluster objects', () => {
  it('prints nodes with roles, status and wide system info', () => {
    const node: KubeObject = {
      apiVersion: 'v1', kind: 'Node', metadata: { name: 'control-plane', creationTimestamp: ago(86400 * 2), labels: { 'node-role.kubernetes.io/control-plane': '' } },
      spec: { unschedulable: true },
      status: { conditions: [{ type: 'Ready', status: 'True' }], addresses: [{ type: 'InternalIP', address: '172.18.0.2' }, { type: 'Hostname', address: 'control-plane' }], nodeInfo: { kubeletVersion: 'v1.32.0', osImage: 'Debian GNU/Linux 12 (bookworm)', kernelVersion: '6.1.0', containerRuntimeVersion: 'containerd://1.7.24' } },
    };
    const t = printTable({ group: '', version: 'v1', resource: 'nodes', objects: [node], now: NOW });
    expect(names(t)).toEqual(['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION', 'INTERNAL-IP', 'EXTERNAL-IP', 'OS-IMAGE', 'KERNEL-VERSION', 'CONTAINER-RUNTIME']);
    expect(t.rows[0]!.cells).toEqual(['control-plane', 'Ready,SchedulingDisabled', 'control-plane', '2d', 'v1.32.0', '172.18.0.2', '<none>', 'Debian GNU/Linux 12 (bookworm)', '6.1.0', 'containerd://1.7.24']);
  });

  it('prints events as kubectl get events shows them', () => {
    const ev: KubeObject = { apiVersion: 'v1', kind: 'Event', metadata: { name: 'details-v1.1', creationTimestamp: ago(30) }, involvedObject: { kind: 'Pod', name: 'details-v1-abc', fieldPath: 'spec.containers{details}' }, reason: 'Pulled', type: 'Normal', message: 'Container image pulled ', source: { component: 'kubelet', host: 'worker-1' }, firstTimestamp: ago(30), lastTimestamp: ago(20), count: 2 };
    const t = printTable({ group: '', version: 'v1', resource: 'events', objects: [ev], now: NOW });
    expect(visible(t)).toEqual(['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE']);
    expect(t.rows[0]!.cells).toEqual(['20s', 'Normal', 'Pulled', 'pod/details-v1-abc', 'spec.containers{details}', 'kubelet, worker-1', 'Container image pulled', '30s', 2, 'details-v1.1']);
  });

  it('prints events.k8s.io events like core events', () => {
    const ev: KubeObject = { apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name: 'e1', creationTimestamp: ago(30) }, regarding: { kind: 'Deployment', name: 'reviews-v1' }, reason: 'ScalingReplicaSet', type: 'Normal', note: 'Scaled up replica set reviews-v1-7f99cc4496 from 0 to 1', reportingController: 'deployment-controller', eventTime: ago(12) };
    const t = printTable({ group: 'events.k8s.io', version: 'v1', resource: 'events', objects: [ev], now: NOW });
    expect(t.rows[0]!.cells).toEqual(['12s', 'Normal', 'ScalingReplicaSet', 'deployment/reviews-v1', '', 'deployment-controller', 'Scaled up replica set reviews-v1-7f99cc4496 from 0 to 1', '12s', 1, 'e1']);
  });

  it('counts data keys of configmaps and secrets, secrets of service accounts', () => {
    const cm = printTable({ group: '', version: 'v1', resource: 'configmaps', now: NOW, objects: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'istio', creationTimestamp: ago(5) }, data: { mesh: '', meshNetworks: '' } }] });
    expect(cm.rows[0]!.cells).toEqual(['istio', 2, '5s']);
    const sec = printTable({ group: '', version: 'v1', resource: 'secrets', now: NOW, objects: [{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', creationTimestamp: ago(5) }, type: 'Opaque', data: { a: 'eA==' } }] });
    expect(visible(sec)).toEqual(['NAME', 'TYPE', 'DATA', 'AGE']);
    expect(sec.rows[0]!.cells).toEqual(['s', 'Opaque', 1, '5s']);
    const ns = printTable({ group: '', version: 'v1', resource: 'namespaces', now: NOW, objects: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'istio-system', creationTimestamp: ago(5) }, status: { phase: 'Active' } }] });
    expect(ns.rows[0]!.cells).toEqual(['istio-system', 'Active', '5s']);
  });

  it('prints endpoints and endpoint slices', () => {
    const ep = printTable({ group: '', version: 'v1', resource: 'endpoints', now: NOW, objects: [{ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'reviews', creationTimestamp: ago(5) }, subsets: [{ addresses: [{ ip: '10.244.1.4' }, { ip: '10.244.1.5' }, { ip: '10.244.2.4' }, { ip: '10.244.2.5' }], ports: [{ port: 9080, name: 'http' }] }] }] });
    expect(ep.rows[0]!.cells).toEqual(['reviews', '10.244.1.4:9080,10.244.1.5:9080,10.244.2.4:9080 + 1 more...', '5s']);
    const es = printTable({ group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', now: NOW, objects: [{ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'reviews-x', creationTimestamp: ago(5) }, addressType: 'IPv4', ports: [{ port: 9080 }], endpoints: [{ addresses: ['10.244.1.4'] }] }] });
    expect(es.rows[0]!.cells).toEqual(['reviews-x', 'IPv4', '9080', '10.244.1.4', '5s']);
  });

  it('prints bindings, webhooks, PDBs, HPAs and leases', () => {
    const rb = printTable({ group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterrolebindings', now: NOW, objects: [{ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'istiod', creationTimestamp: ago(5) }, roleRef: { kind: 'ClusterRole', name: 'istiod' }, subjects: [{ kind: 'ServiceAccount', name: 'istiod', namespace: 'istio-system' }] }] });
    expect(rb.rows[0]!.cells).toEqual(['istiod', 'ClusterRole/istiod', '5s', '', '', 'istio-system/istiod']);
    const wh = printTable({ group: 'admissionregistration.k8s.io', version: 'v1', resource: 'mutatingwebhookconfigurations', now: NOW, objects: [{ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration', metadata: { name: 'istio-sidecar-injector', creationTimestamp: ago(5) }, webhooks: [{}, {}, {}, {}] }] });
    expect(wh.rows[0]!.cells).toEqual(['istio-sidecar-injector', 4, '5s']);
    const pdb = printTable({ group: 'policy', version: 'v1', resource: 'poddisruptionbudgets', now: NOW, objects: [{ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'istiod', creationTimestamp: ago(5) }, spec: { minAvailable: 1 }, status: { disruptionsAllowed: 0 } }] });
    expect(pdb.rows[0]!.cells).toEqual(['istiod', '1', 'N/A', 0, '5s']);
    const hpa = printTable({ group: 'autoscaling', version: 'v2', resource: 'horizontalpodautoscalers', now: NOW, objects: [{ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'istiod', creationTimestamp: ago(5) }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'istiod' }, minReplicas: 1, maxReplicas: 5, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }] }, status: { currentReplicas: 1 } }] });
    expect(hpa.rows[0]!.cells).toEqual(['istiod', 'Deployment/istiod', 'cpu: <unknown>/80%', '1', 5, 1, '5s']);
    const lease = printTable({ group: 'coordination.k8s.io', version: 'v1', resource: 'leases', now: NOW, objects: [{ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'worker-1', creationTimestamp: ago(5) }, spec: { holderIdentity: 'worker-1' } }] });
    expect(lease.rows[0]!.cells).toEqual(['worker-1', 'worker-1', '5s']);
  });

  it('prints persistent volumes, pod templates and resource quotas', () => {
    const pv = printTable({ group: '', version: 'v1', resource: 'persistentvolumes', now: NOW, objects: [{ apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'pv1', creationTimestamp: ago(5) }, spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteMany', 'ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Retain', claimRef: { namespace: 'default', name: 'data' }, storageClassName: 'standard' }, status: { phase: 'Bound' } }] });
    expect(visible(pv)).toEqual(['NAME', 'CAPACITY', 'ACCESS MODES', 'RECLAIM POLICY', 'STATUS', 'CLAIM', 'STORAGECLASS', 'VOLUMEATTRIBUTESCLASS', 'REASON', 'AGE']);
    expect(pv.rows[0]!.cells).toEqual(['pv1', '1Gi', 'RWO,RWX', 'Retain', 'Bound', 'default/data', 'standard', '<unset>', '', '5s', '<unset>']);
    const rq = printTable({ group: '', version: 'v1', resource: 'resourcequotas', now: NOW, objects: [{ apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'q', creationTimestamp: ago(5) }, status: { hard: { pods: '10', 'limits.cpu': '2', 'requests.cpu': '1' }, used: { pods: '3', 'limits.cpu': '500m', 'requests.cpu': '250m' } } }] });
    expect(rq.rows[0]!.cells).toEqual(['q', 'pods: 3/10, requests.cpu: 250m/1', 'limits.cpu: 500m/2', '5s']);
  });

  it('falls back to NAME and CREATED AT for kinds without a printer (roles, CRDs)', () => {
    const t = printTable({ group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'roles', now: NOW, objects: [{ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'istiod', creationTimestamp: '2026-01-01T11:00:00Z' } }] });
    expect(names(t)).toEqual(['NAME', 'CREATED AT']);
    expect(t.columnDefinitions[1]!.type).toBe('date');
    expect(t.rows[0]!.cells).toEqual(['istiod', '2026-01-01T11:00:00Z']);
  });
});

describe('custom resources (additionalPrinterColumns)', () => {
  // The printer columns of Istio's VirtualService and DestinationRule CRDs (crd-all.gen.yaml).
  const vsColumns = [
    { name: 'Gateways', type: 'string', description: 'The names of gateways and sidecars that should apply these routes', jsonPath: '.spec.gateways' },
    { name: 'Hosts', type: 'string', description: 'The destination hosts to which traffic is being sent', jsonPath: '.spec.hosts' },
    { name: 'Age', type: 'date', description: 'CreationTimestamp is a timestamp representing the server time when this object was created.', jsonPath: '.metadata.creationTimestamp' },
  ];
  const drColumns = [
    { name: 'Host', type: 'string', description: 'The name of a service from the service registry', jsonPath: '.spec.host' },
    { name: 'Age', type: 'date', description: 'CreationTimestamp', jsonPath: '.metadata.creationTimestamp' },
  ];
  const load = (file: string) => parseAllDocuments(readFileSync(join(REF, 'samples', file), 'utf8')).map((d) => d.toJSON() as KubeObject).filter(Boolean);

  it('prints virtual services as the docs show them: arrays as JSON, missing values empty', () => {
    const objects = [...load('bookinfo-gateway.yaml'), ...load('virtual-service-all-v1.yaml')]
      .filter((o) => o.kind === 'VirtualService')
      .map((o) => ({ ...o, metadata: { ...o.metadata, creationTimestamp: ago(1500) } }));
    const t = printTable({ group: 'networking.istio.io', version: 'v1', resource: 'virtualservices', objects, customColumns: vsColumns, now: NOW });
    expect(names(t)).toEqual(docHeader('kubectl get virtualservices'));
    const byName = Object.fromEntries(t.rows.map((r) => [r.cells[0], r.cells]));
    expect(byName.bookinfo).toEqual(['bookinfo', '["bookinfo-gateway"]', '["*"]', '25m']);
    expect(byName.details).toEqual(['details', null, '["details"]', '25m']);
  });

  it('prints destination rule hosts as plain strings', () => {
    const objects = load('destination-rule-all.yaml').map((o) => ({ ...o, metadata: { ...o.metadata, creationTimestamp: ago(48) } }));
    const t = printTable({ group: 'networking.istio.io', version: 'v1', resource: 'destinationrules', objects, customColumns: drColumns, now: NOW });
    expect(names(t)).toEqual(docHeader('kubectl get destinationrules'));
    expect(t.rows.find((r) => r.cells[0] === 'reviews')!.cells).toEqual(['reviews', 'reviews', '48s']);
  });

  it('gives a CRD without printer columns a single AGE column (Gateway → NAME AGE)', () => {
    const gw = load('bookinfo-gateway.yaml').find((o) => o.kind === 'Gateway')!;
    const t = printTable({ group: 'networking.istio.io', version: 'v1', resource: 'gateways', objects: [{ ...gw, metadata: { ...gw.metadata, creationTimestamp: ago(32) } }], customColumns: [], now: NOW });
    expect(names(t)).toEqual(docHeader('kubectl get gateway'));
    expect(t.rows[0]!.cells).toEqual(['bookinfo-gateway', '32s']);
  });

  it('converts integer, number, boolean columns and evaluates filters', () => {
    const obj: KubeObject = { apiVersion: 'x.io/v1', kind: 'W', metadata: { name: 'w' }, spec: { replicas: 3.0, ratio: 0.5, on: true }, status: { conditions: [{ type: 'Synced', status: 'False' }, { type: 'Ready', status: 'True' }] } };
    const t = printTable({ group: 'x.io', version: 'v1', resource: 'ws', objects: [obj], now: NOW, customColumns: [
      { name: 'Replicas', type: 'integer', jsonPath: '.spec.replicas' },
      { name: 'Ratio', type: 'number', jsonPath: '.spec.ratio' },
      { name: 'On', type: 'boolean', jsonPath: '.spec.on' },
      { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status', priority: 1 },
    ] });
    expect(t.rows[0]!.cells).toEqual(['w', 3, 0.5, true, 'True']);
    expect(t.columnDefinitions[4]).toMatchObject({ name: 'Ready', priority: 1, description: 'Custom resource definition column (in JSONPath format): .status.conditions[?(@.type=="Ready")].status' });
  });
});
