/**
 * Workloads on the embedded cluster, judged by the real kubectl 1.32: nodes and kube-system as a
 * kubeadm cluster shows them, Deployments rolling out (status, history, undo, restart, scale),
 * pods moving through the kubelet's stages with kube's events, scheduling failures worded as the
 * scheduler words them, Jobs, StatefulSets, endpoints, crash loops, sidecars and Bookinfo.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedCluster } from '../../server/sim/cluster.js';
import { defaultContainerManager, type ContainerManager } from '../../server/sim/addons/core/workloads.js';
import type { Workloads } from '../../server/sim/addons/index.js';
import { REFERENCE_DIR } from '../helpers/reference.js';
import { until } from './sim-network-harness.js';
import { runProcess, type ProcessRun } from '../helpers/run.js';

const REF = REFERENCE_DIR;
let cluster: EmbeddedCluster;
let workloads: Workloads;
let dir: string;

type Run = ProcessRun;

function kubectl(args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<Run> {
  const env = { PATH: process.env.PATH!, HOME: dir, KUBECONFIG: join(dir, 'kubeconfig'), KUBECACHEDIR: join(dir, 'cache') };
  return runProcess('kubectl', args, { env, input: opts.input, timeoutMs: opts.timeoutMs ?? 60_000 });
}

async function ok(args: string[], input?: string): Promise<string> {
  const r = await kubectl(args, { input });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}


/** Containers whose image is `crasher` exit with code 1 shortly after starting; the rest run normally. */
function crashingRuntime(timings: Parameters<typeof defaultContainerManager>[0]): ContainerManager {
  const base = defaultContainerManager(timings);
  return {
    start(c) {
      if (c.container.image !== 'crasher') return base.start(c);
      c.log(`crasher run ${c.restartCount}`);
      return { exited: new Promise((r) => setTimeout(() => r(1), 20)) };
    },
  };
}

const deployment = (name: string, image: string, replicas: number, probe = true, initialDelaySeconds = 0) => `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: { app: ${name} }
  template:
    metadata:
      labels: { app: ${name} }
    spec:
      containers:
      - name: web
        image: ${image}
        ports: [{ containerPort: 80, name: http }]
${probe ? `        readinessProbe: { httpGet: { path: /, port: 80 }, initialDelaySeconds: ${initialDelaySeconds} }` : ''}
`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sim-workloads-'));
  cluster = await EmbeddedCluster.start({
    workloads: {
      timings: { schedule: 5, pull: 30, start: 5, ready: 100, terminate: 1500, run: 100, backoff: 150, probeDelayScale: 0.5 },
      containers: crashingRuntime,
      nodePorts: false,
    },
  });
  workloads = cluster.workloads!;
  await cluster.writeKubeconfig(join(dir, 'kubeconfig'));
});

afterAll(async () => {
  await cluster?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('nodes and kube-system', () => {
  it('kubectl get nodes -o wide shows a Ready control plane and two workers on distinct loopback IPs', async () => {
    const out = await ok(['get', 'nodes', '-o', 'wide']);
    const lines = out.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\s+INTERNAL-IP\s+EXTERNAL-IP\s+OS-IMAGE\s+KERNEL-VERSION\s+CONTAINER-RUNTIME$/);
    expect(lines[1]).toMatch(/^control-plane\s+Ready\s+control-plane\s+\S+\s+v1\.32\.\d+\s+127\.\d+\.\d+\.\d+\s+<none>\s+.+containerd:\/\/1\.7\.\d+$/);
    expect(lines[2]).toMatch(/^worker-1\s+Ready\s+<none>\s+/);
    expect(lines[3]).toMatch(/^worker-2\s+Ready\s+<none>\s+/);
    const ips = lines.slice(1).map((l) => l.split(/\s+/)[5]);
    expect(new Set(ips).size).toBe(3);
    const taints = await ok(['get', 'node', 'control-plane', '-o', 'jsonpath={.spec.taints[0].key}:{.spec.taints[0].effect} {.status.capacity.cpu} {.spec.podCIDR}']);
    expect(taints).toBe('node-role.kubernetes.io/control-plane:NoSchedule 2 10.244.0.0/24');
    expect(await ok(['get', 'node', 'worker-1', '-o', 'jsonpath={.status.capacity.cpu} {.status.capacity.pods}'])).toBe('1 110');
    const described = await ok(['describe', 'node', 'worker-1']);
    expect(described).toMatch(/^Roles:\s+<none>$/m);
    expect(described).toMatch(/^PodCIDR:\s+10\.244\.1\.0\/24$/m);
    expect(described).toMatch(/Normal\s+RegisteredNode\s+\S+\s+node-controller\s+Node worker-1 event: Registered Node worker-1 in Controller/);
    expect(described).toMatch(/Normal\s+NodeReady\s+\S+\s+kubelet\s+Node worker-1 status is now: NodeReady/);
    expect(await ok(['get', 'lease', '-n', 'kube-node-lease', 'worker-1', '-o', 'jsonpath={.spec.holderIdentity}'])).toBe('worker-1');
  });

  it('a second cluster in the same process gets other node addresses', async () => {
    const other = await EmbeddedCluster.start({ workloads: { bare: true, nodePorts: false } });
    const w = other.workloads!;
    try {
      const mine = workloads.nodes.nodes.map((n) => n.ip);
      const theirs = w.nodes.nodes.map((n) => n.ip);
      expect(theirs.some((ip) => mine.includes(ip))).toBe(false);
    } finally {
      await other.stop();
    }
  });

  it('kube-system lists CoreDNS, kube-proxy per node and the static control-plane pods, all Running', async () => {
    const out = await until('kube-system pods running', async () => {
      const o = await ok(['get', 'pods', '-n', 'kube-system', '-o', 'wide']);
      return (o.match(/Running/g) ?? []).length === 9 ? o : undefined;
    });
    for (const name of ['etcd-control-plane', 'kube-apiserver-control-plane', 'kube-controller-manager-control-plane', 'kube-scheduler-control-plane']) {
      expect(out).toMatch(new RegExp(`^${name}\\s+1/1\\s+Running\\s+0\\s+\\S+\\s+127\\.\\d+\\.\\d+\\.2\\s+control-plane\\s`, 'm'));
    }
    expect(out.match(/^coredns-[a-z0-9]+-[a-z0-9]{5}\s+1\/1\s+Running/gm)).toHaveLength(2);
    expect(out.match(/^kube-proxy-[a-z0-9]{5}\s+1\/1\s+Running/gm)).toHaveLength(3);
    const svcs = await ok(['get', 'svc', '-A']);
    expect(svcs).toMatch(/^default\s+kubernetes\s+ClusterIP\s+10\.96\.0\.1\s+<none>\s+443\/TCP\s/m);
    expect(svcs).toMatch(/^kube-system\s+kube-dns\s+ClusterIP\s+10\.96\.0\.10\s+<none>\s+53\/UDP,53\/TCP,9153\/TCP\s/m);
    expect(await ok(['get', 'ds', 'kube-proxy', '-n', 'kube-system'])).toMatch(/^kube-proxy\s+3\s+3\s+3\s+3\s+3\s+kubernetes.io\/os=linux\s/m);
  });
});

describe('deployments', () => {
  it('rollout status waits for readiness, then reports success', async () => {
    // initialDelaySeconds 4 at probeDelayScale 0.5: the pods turn ready about 2 s after starting.
    await ok(['apply', '-f', '-'], deployment('slow', 'nginx', 2, true, 4));
    const r = await ok(['rollout', 'status', 'deployment/slow', '--timeout=30s']);
    expect(r).toContain('Waiting for deployment "slow" rollout to finish: 0 of 2 updated replicas are available...');
    expect(r.trim().split('\n').pop()).toBe('deployment "slow" successfully rolled out');
    expect(await ok(['get', 'deploy', 'slow', '--no-headers'])).toMatch(/^slow\s+2\/2\s+2\s+2\s/);
  });

  it('a Deployment gets a pod-template-hash ReplicaSet, pods and scaling events', async () => {
    await ok(['apply', '-f', '-'], deployment('web', 'nginx', 3));
    const r = await ok(['rollout', 'status', 'deployment/web', '--timeout=30s']);
    expect(r.trim().split('\n').pop()).toBe('deployment "web" successfully rolled out');
    const rs = await ok(['get', 'rs', '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.name} {.items[0].metadata.labels.pod-template-hash} {.items[0].metadata.annotations.deployment\\.kubernetes\\.io/revision}']);
    const [name, hash, rev] = rs.split(' ');
    expect(name).toBe(`web-${hash}`);
    expect(hash).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{6,10}$/);
    expect(rev).toBe('1');
    const pods = await ok(['get', 'pods', '-l', 'app=web']);
    expect(pods.match(new RegExp(`^web-${hash}-[a-z0-9]{5}\\s+1/1\\s+Running\\s+0\\s`, 'gm'))).toHaveLength(3);
    expect(await ok(['get', 'deploy', 'web'])).toMatch(/^web\s+3\/3\s+3\s+3\s/m);
    const describe = await ok(['describe', 'deployment', 'web']);
    expect(describe).toContain(`Scaled up replica set web-${hash} from 0 to 3`);
    expect(describe).toMatch(/Available\s+True\s+MinimumReplicasAvailable/);
    expect(describe).toMatch(/Progressing\s+True\s+NewReplicaSetAvailable/);
  });

  it('set image rolls out a new revision; history, undo and restart work as on kube', async () => {
    await ok(['set', 'image', 'deployment/web', 'web=nginx:1.27']);
    const r = await ok(['rollout', 'status', 'deployment/web', '--timeout=30s']);
    expect(r).toMatch(/Waiting for deployment "web" rollout to finish: \d+ (out of 3 new replicas have been updated|old replicas are pending termination|of 3 updated replicas are available)\.\.\./);
    expect(r).toContain('deployment "web" successfully rolled out');
    expect(await ok(['rollout', 'history', 'deployment/web'])).toMatch(/REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>\n/);
    expect(await ok(['rollout', 'undo', 'deployment/web'])).toBe('deployment.apps/web rolled back\n');
    await ok(['rollout', 'status', 'deployment/web', '--timeout=30s']);
    expect(await ok(['rollout', 'history', 'deployment/web'])).toMatch(/REVISION\s+CHANGE-CAUSE\n2\s+<none>\n3\s+<none>\n/);
    expect(await ok(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.template.spec.containers[0].image}'])).toBe('nginx');
    expect(await ok(['rollout', 'restart', 'deployment/web'])).toBe('deployment.apps/web restarted\n');
    await ok(['rollout', 'status', 'deployment/web', '--timeout=30s']);
    expect(await ok(['get', 'deploy', 'web', '-o', 'jsonpath={.metadata.annotations.deployment\\.kubernetes\\.io/revision}'])).toBe('4');
    const pods = await until('only new pods left', async () => {
      const o = await ok(['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={range .items[*]}{.metadata.annotations.kubectl\\.kubernetes\\.io/restartedAt}{"\\n"}{end}']);
      const lines = o.trim().split('\n');
      return lines.length === 3 && lines.every((l) => l) ? lines : undefined;
    });
    expect(pods).toHaveLength(3);
  });

  it('scale up and down changes the pods and records the ReplicaSet events', async () => {
    expect(await ok(['scale', 'deployment/web', '--replicas=5'])).toBe('deployment.apps/web scaled\n');
    await ok(['rollout', 'status', 'deployment/web', '--timeout=30s']);
    expect(await ok(['get', 'deploy', 'web'])).toMatch(/^web\s+5\/5\s+5\s+5\s/m);
    await ok(['scale', 'deployment/web', '--replicas=2']);
    await until('two pods', async () => (await ok(['get', 'pods', '-l', 'app=web', '--no-headers'])).trim().split('\n').length === 2);
    const rsName = (await ok(['get', 'deploy', 'web', '-o', 'jsonpath={.status.conditions[?(@.type=="Progressing")].message}'])).match(/"(.+)"/)![1];
    expect(await ok(['describe', 'deploy', 'web'])).toContain(`Scaled down replica set ${rsName} from 5 to 2`);
    const rsEvents = await ok(['describe', 'rs', rsName!]);
    expect(rsEvents).toMatch(/SuccessfulCreate\s+\S+\s+replicaset-controller\s+Created pod: web-/);
    expect(rsEvents).toMatch(/SuccessfulDelete\s+\S+\s+replicaset-controller\s+Deleted pod: web-/);
  });

  it('a rollout that cannot progress fails rollout status once its progress deadline passes', async () => {
    const stuck = deployment('stuck', 'nginx', 1, false)
      .replace('replicas: 1', 'replicas: 1\n  progressDeadlineSeconds: 2')
      .replace('      containers:', '      nodeSelector: { disk: none }\n      containers:');
    await ok(['apply', '-f', '-'], stuck);
    const r = await kubectl(['rollout', 'status', 'deployment/stuck', '--timeout=30s']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('Waiting for deployment "stuck" rollout to finish: 0 of 1 updated replicas are available...');
    expect(r.stderr).toBe('error: deployment "stuck" exceeded its progress deadline\n');
    const cond = await ok(['get', 'deploy', 'stuck', '-o', 'jsonpath={.status.conditions[?(@.type=="Progressing")].reason}']);
    expect(cond).toBe('ProgressDeadlineExceeded');
    await ok(['delete', 'deploy', 'stuck']);
  });

  it('a deleted pod is Terminating for its grace period, then replaced', async () => {
    const before = (await ok(['get', 'pods', '-l', 'app=web', '-o', 'name'])).trim().split('\n');
    await ok(['delete', before[0]!, '--wait=false']);
    const during = await ok(['get', before[0]!]);
    expect(during).toMatch(/\s+Terminating\s+/);
    const after = await until('replacement', async () => {
      const names = (await ok(['get', 'pods', '-l', 'app=web', '-o', 'name'])).trim().split('\n');
      return names.length === 2 && !names.includes(before[0]!) ? names : undefined;
    });
    expect(after).toContain(before[1]);
    const events = await ok(['get', 'events', '--field-selector', `involvedObject.name=${before[0]!.split('/')[1]}`]);
    expect(events).toMatch(/Killing\s+pod\/\S+\s+Stopping container web/);
  });
});

describe('pods', () => {
  it('kubectl wait --for=condition=Ready works and describe shows the kubelet events', async () => {
    await ok(['run', 'solo', '--image=nginx:1.25', '--labels=app=solo']);
    expect(await ok(['wait', '--for=condition=Ready', 'pod', '-l', 'app=solo', '--timeout=30s'])).toBe('pod/solo condition met\n');
    const d = await ok(['describe', 'pod', 'solo']);
    expect(d).toMatch(/Scheduled\s+\S+\s+default-scheduler\s+Successfully assigned default\/solo to worker-\d/);
    expect(d).toMatch(/Pull(ing|ed)\s+\S+\s+kubelet\s+(Pulling image "nginx:1\.25"|Container image "nginx:1\.25" already present on machine)/);
    expect(d).toMatch(/Created\s+\S+\s+kubelet\s+Created container: solo/);
    expect(d).toMatch(/Started\s+\S+\s+kubelet\s+Started container solo/);
    expect(d).toMatch(/Container ID:\s+containerd:\/\/[0-9a-f]{64}/);
    expect(d).toMatch(/Image ID:\s+docker\.io\/library\/nginx@sha256:[0-9a-f]{64}/);
    expect(d).toMatch(/IP:\s+10\.244\.[12]\.\d+/);
    const conds = await ok(['get', 'pod', 'solo', '-o', 'jsonpath={range .status.conditions[*]}{.type}={.status} {end}']);
    expect(conds.trim()).toBe('PodReadyToStartContainers=True Initialized=True Ready=True ContainersReady=True PodScheduled=True');
  });

  it('a pod that fits nowhere stays Pending with the scheduler’s FailedScheduling message', async () => {
    await ok(['run', 'hungry', '--image=nginx', '--overrides={"spec":{"containers":[{"name":"hungry","image":"nginx","resources":{"requests":{"cpu":"3"}}}]}}']);
    const expected =
      '0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.';
    const msg = await until('unschedulable', async () => (await ok(['get', 'pod', 'hungry', '-o', 'jsonpath={.status.conditions[?(@.type=="PodScheduled")].message}'])) || undefined);
    expect(msg).toBe(expected);
    expect(await ok(['get', 'pod', 'hungry', '--no-headers'])).toMatch(/^hungry\s+0\/1\s+Pending\s+0\s/);
    const d = await until('event', async () => {
      const o = await ok(['describe', 'pod', 'hungry']);
      return o.includes('FailedScheduling') ? o : undefined;
    });
    expect(d).toMatch(/Warning\s+FailedScheduling\s+\S+\s+default-scheduler\s+0\/3 nodes are available/);
    await ok(['delete', 'pod', 'hungry']);
  });

  it('nodeSelector and tolerations decide where pods go', async () => {
    await ok(['run', 'pinned', '--image=nginx', '--overrides={"spec":{"nodeSelector":{"kubernetes.io/hostname":"worker-2"}}}']);
    await ok(['run', 'cp', '--image=nginx', '--overrides={"spec":{"nodeSelector":{"node-role.kubernetes.io/control-plane":""},"tolerations":[{"key":"node-role.kubernetes.io/control-plane","effect":"NoSchedule"}]}}']);
    await ok(['wait', '--for=condition=Ready', 'pod/pinned', 'pod/cp', '--timeout=30s']);
    expect(await ok(['get', 'pod', 'pinned', '-o', 'jsonpath={.spec.nodeName}'])).toBe('worker-2');
    expect(await ok(['get', 'pod', 'cp', '-o', 'jsonpath={.spec.nodeName} {.status.podIP}'])).toMatch(/^control-plane 10\.244\.0\.\d+$/);
  });

  it('a crashing container restarts with back-off and shows CrashLoopBackOff; its logs are kept per instance', async () => {
    await ok(['run', 'crash', '--image=crasher']);
    const row = await until('crash loop', async () => {
      const o = await ok(['get', 'pod', 'crash', '--no-headers']);
      return /CrashLoopBackOff/.test(o) && !/\s0\s/.test(o.split(/\s+/)[3] ?? '') ? o : undefined;
    });
    expect(row).toMatch(/^crash\s+0\/1\s+CrashLoopBackOff\s+[1-9]\d*\s/);
    const d = await ok(['describe', 'pod', 'crash']);
    expect(d).toMatch(/Last State:\s+Terminated\n\s+Reason:\s+Error\n\s+Exit Code:\s+1/);
    expect(d).toMatch(/Warning\s+BackOff\s+.+?\s+kubelet\s+Back-off restarting failed container crash in pod crash_default\(/);
    const restarts = Number(await ok(['get', 'pod', 'crash', '-o', 'jsonpath={.status.containerStatuses[0].restartCount}']));
    // The previous instance's log holds exactly what that instance wrote (it may have restarted since).
    const prev = workloads.kubelet.logs('default', 'crash', 'crash', { previous: true })!.entries().map((e) => e.line);
    const current = workloads.kubelet.logs('default', 'crash', 'crash')!.entries().map((e) => e.line);
    expect(prev).toHaveLength(1);
    const n = Number(/^crasher run (\d+)$/.exec(prev[0]!)![1]);
    expect(n).toBeGreaterThanOrEqual(restarts - 1);
    if (current.length) expect(current).toEqual([`crasher run ${n + 1}`]);
    await ok(['delete', 'pod', 'crash', '--wait=false']);
  });

  it('init containers run first; a native sidecar counts in READY', async () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'with-init' },
      spec: {
        initContainers: [
          { name: 'setup', image: 'busybox', command: ['sh', '-c', 'true'] },
          { name: 'proxy', image: 'envoyproxy/envoy:v1.31.0', restartPolicy: 'Always' },
        ],
        containers: [{ name: 'app', image: 'nginx' }],
      },
    };
    await ok(['apply', '-f', '-'], JSON.stringify(pod));
    await ok(['wait', '--for=condition=Ready', 'pod/with-init', '--timeout=30s']);
    // Event names carry their creation time, so the listing is in the order things happened.
    const started = (await ok(['get', 'events', '--field-selector', 'involvedObject.name=with-init,reason=Started', '-o', 'jsonpath={range .items[*]}{.message}{"\\n"}{end}'])).trim().split('\n');
    expect(started).toEqual(['Started container setup', 'Started container proxy', 'Started container app']);
    expect(await ok(['get', 'pod', 'with-init', '--no-headers'])).toMatch(/^with-init\s+2\/2\s+Running\s+0\s/);
    const st = await ok(['get', 'pod', 'with-init', '-o', 'jsonpath={.status.initContainerStatuses[0].state.terminated.reason} {.status.initContainerStatuses[1].started}']);
    expect(st).toBe('Completed true');
  });
});

describe('other workloads', () => {
  it('a Job runs its pods to completion', async () => {
    await ok(['create', 'job', 'pi', '--image=perl:5.34', '--', 'perl', '-Mbignum=bpi', '-wle', 'print bpi(20)']);
    expect(await ok(['wait', '--for=condition=complete', 'job/pi', '--timeout=30s'])).toBe('job.batch/pi condition met\n');
    expect(await ok(['get', 'job', 'pi', '--no-headers'])).toMatch(/^pi\s+Complete\s+1\/1\s/);
    expect(await ok(['get', 'pods', '-l', 'job-name=pi', '--no-headers'])).toMatch(/^pi-[a-z0-9]{5}\s+0\/1\s+Completed\s+0\s/);
    expect(await ok(['describe', 'job', 'pi'])).toMatch(/Completed\s+\S+\s+job-controller\s+Job completed/);
  });

  it('a StatefulSet creates ordered pods x-0, x-1, x-2', async () => {
    await ok(['apply', '-f', '-'], deployment('db', 'redis', 3, false).replace('kind: Deployment', 'kind: StatefulSet').replace('spec:\n  replicas', 'spec:\n  serviceName: db\n  replicas'));
    await ok(['rollout', 'status', 'statefulset/db', '--timeout=30s']);
    const out = await ok(['get', 'pods', '-l', 'app=db', '--no-headers']);
    expect(out.trim().split('\n').map((l) => l.split(/\s+/)[0])).toEqual(['db-0', 'db-1', 'db-2']);
    expect(await ok(['get', 'sts', 'db', '--no-headers'])).toMatch(/^db\s+3\/3\s/);
    expect(await ok(['describe', 'sts', 'db'])).toContain('create Pod db-0 in StatefulSet db successful');
  });
});

describe('services', () => {
  it('Endpoints and EndpointSlices follow ready pods', async () => {
    await ok(['scale', 'deploy/web', '--replicas=3']);
    await ok(['rollout', 'status', 'deployment/web', '--timeout=30s']);
    await ok(['expose', 'deployment', 'web', '--port=80', '--target-port=http']);
    const ep = await until('3 endpoints', async () => {
      const o = await ok(['get', 'endpoints', 'web', '-o', 'jsonpath={.subsets[0].addresses[*].ip}']);
      return o.split(' ').filter(Boolean).length === 3 ? o : undefined;
    });
    const podIPs = (await ok(['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[*].status.podIP}'])).split(' ').sort();
    expect(ep.split(' ').sort()).toEqual(podIPs);
    const slice = JSON.parse(await ok(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=web', '-o', 'json'])).items[0];
    expect(slice.metadata.labels['endpointslice.kubernetes.io/managed-by']).toBe('endpointslice-controller.k8s.io');
    expect(slice.metadata.name).toMatch(/^web-[a-z0-9]{5}$/);
    expect(slice.ports).toEqual([{ name: '', port: 80, protocol: 'TCP' }]);
    expect(slice.endpoints.map((e: { conditions: { ready: boolean } }) => e.conditions.ready)).toEqual([true, true, true]);
  });

  it('NodePorts are allocated in range and a taken one is refused; LoadBalancer stays pending', async () => {
    await ok(['create', 'service', 'nodeport', 'np1', '--tcp=80:80', '--node-port=30080']);
    const r = await kubectl(['create', 'service', 'nodeport', 'np2', '--tcp=80:80', '--node-port=30080']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated');
    await ok(['create', 'service', 'loadbalancer', 'lb', '--tcp=80:80']);
    expect(await ok(['get', 'svc', 'lb', '--no-headers'])).toMatch(/^lb\s+LoadBalancer\s+10\.\d+\.\d+\.\d+\s+<pending>\s+80:3\d{4}\/TCP\s/);
  });
});

describe('snapshots', () => {
  it('after a restore and resync, restored workloads run again and controllers act on them', async () => {
    await ok(['rollout', 'status', 'deployment/web', '--timeout=30s']);
    const snap = cluster.snapshot();
    await ok(['delete', 'deployment', 'web']);
    await until('web pods gone', async () => (await ok(['get', 'pods', '-l', 'app=web', '-o', 'name'])).trim() === '');
    cluster.restore(snap);
    await ok(['wait', '--for=condition=Ready', 'pod', '-l', 'app=web', '--timeout=30s']);
    const names = (await ok(['get', 'pods', '-l', 'app=web', '-o', 'name'])).trim().split('\n');
    expect(names).toHaveLength(3);
    await ok(['delete', names[0]!]);
    const after = await until('replacement after restore', async () => {
      const now = (await ok(['get', 'pods', '-l', 'app=web', '-o', 'name'])).trim().split('\n');
      return now.length === 3 && !now.includes(names[0]!) ? now : undefined;
    });
    expect(after).toHaveLength(3);
  });
});

describe('bookinfo', () => {
  it('kubectl apply -f bookinfo.yaml brings six pods to Running 1/1', async () => {
    await ok(['create', 'namespace', 'bookinfo']);
    await ok(['apply', '-n', 'bookinfo', '-f', `${REF}/samples/bookinfo.yaml`]);
    await ok(['wait', '-n', 'bookinfo', '--for=condition=Ready', 'pods', '--all', '--timeout=60s']);
    const pods = (await ok(['get', 'pods', '-n', 'bookinfo', '--no-headers'])).trim().split('\n');
    expect(pods).toHaveLength(6);
    for (const p of pods) expect(p).toMatch(/^(details-v1|ratings-v1|reviews-v[123]|productpage-v1)-[a-z0-9]+-[a-z0-9]{5}\s+1\/1\s+Running\s+0\s/);
    const eps = await ok(['get', 'endpoints', '-n', 'bookinfo']);
    for (const svc of ['details', 'ratings', 'reviews', 'productpage']) expect(eps).toMatch(new RegExp(`^${svc}\\s+10\\.244\\.\\d+\\.\\d+:9080`, 'm'));
  });
});

// Keeps the file self-checking when run alone: the helpers above must be used.
void writeFile;
