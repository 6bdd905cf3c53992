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
import { ManualClock } from '../../server/sim/time/clock.js';

// Each test is a learner's sequence of kubectl calls; on a loaded machine one may take seconds.
let cluster: EmbeddedCluster;
let dir: string;
// Half a minute past a minute, half an hour ago: advancing it by whole minutes crosses one schedule
// time per minute, and every timestamp stays in the past for kubectl's ages.
const clock = new ManualClock(Math.floor((Date.now() - 30 * 60_000) / 60_000) * 60_000 + 30_000);
/** The minute (since the epoch) the manual clock last passed: an every-minute CronJob's Job suffix. */
const minute = () => Math.floor(clock.now().getTime() / 60_000);
const { kubectl, ok } = kubectlIn(() => dir);

const lines = (s: string) => s.trim().split('\n').filter(Boolean);
const cols = (line: string) => line.trim().split(/\s{2,}|\t/);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sim-controllers-'));
  cluster = await EmbeddedCluster.start({
    clock,
    // Graceful deletion lasts 4 s: long enough for a polling kubectl to see Terminating on a loaded machine.
    workloads: { timings: { schedule: 5, pull: 20, start: 5, ready: 20, terminate: 4000, run: 100, backoff: 150, probeDelayScale: 0 }, nodePorts: false },
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

describe('ReplicationControllers', { timeout: 90_000 }, () => {
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

const cronJob = (name: string, extra = '', image = 'busybox:1.36', command = '["sh", "-c", "date; echo Hello"]') => `
apiVersion: batch/v1
kind: CronJob
metadata:
  name: ${name}
spec:
  schedule: "* * * * *"
${extra}
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
          - name: task
            image: ${image}
            command: ${command}
`;

const eventsOf = async (name: string, kind?: string) =>
  lines(await ok(['get', 'events', '--field-selector', `involvedObject.name=${name}${kind ? `,involvedObject.kind=${kind}` : ''}`, '--sort-by=.metadata.creationTimestamp', '-o', 'jsonpath={range .items[*]}{.type} {.reason} {.message}{"\\n"}{end}']));

const jobNames = async (owner: string) =>
  lines(await ok(['get', 'jobs', '-o', `jsonpath={range .items[?(@.metadata.ownerReferences[0].name=="${owner}")]}{.metadata.name}{"\\n"}{end}`])).sort();

describe('CronJobs', { timeout: 90_000 }, () => {
  it('run a Job named <cronjob>-<minutes since the epoch> at each schedule time, then report it', async () => {
    await ok(['apply', '-f', '-'], cronJob('hello'));
    const before = lines(await ok(['get', 'cronjob', 'hello']));
    expect(before[0]!.split(/\s+/)).toEqual(['NAME', 'SCHEDULE', 'TIMEZONE', 'SUSPEND', 'ACTIVE', 'LAST', 'SCHEDULE', 'AGE']);
    expect(before[1]).toMatch(/^hello\s+\* \* \* \* \*\s+<none>\s+False\s+0\s+<none>\s+/);
    await cluster.settle();
    expect(await jobNames('hello')).toEqual([]);

    clock.advance(60_000);
    const first = `hello-${minute()}`;
    await until('the first Job completes', async () => /^\S+\s+Complete\s+1\/1/.test(await ok(['get', 'job', first, '--no-headers']).catch(() => '')));
    await until('the CronJob saw it complete', async () => (await eventsOf('hello')).some((e) => e === `Normal SawCompletedJob Saw completed job: ${first}, condition: Complete`));
    const cj = JSON.parse(await ok(['get', 'cronjob', 'hello', '-o', 'json']));
    expect(cj.status.lastScheduleTime).toBe(new Date(minute() * 60_000).toISOString().replace('.000Z', 'Z'));
    expect(cj.status.lastSuccessfulTime).toMatch(/Z$/);
    expect(cj.status.active).toBeUndefined();
    const job = JSON.parse(await ok(['get', 'job', first, '-o', 'json']));
    expect(job.metadata.ownerReferences).toEqual([{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'hello', uid: cj.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    expect(job.metadata.annotations['batch.kubernetes.io/cronjob-scheduled-timestamp']).toBe(cj.status.lastScheduleTime);
    expect(await eventsOf('hello')).toEqual([`Normal SuccessfulCreate Created job ${first}`, `Normal SawCompletedJob Saw completed job: ${first}, condition: Complete`]);
    expect(lines(await ok(['get', 'cronjob', 'hello', '--no-headers']))[0]).toMatch(/^hello\s+\* \* \* \* \*\s+<none>\s+False\s+0\s+\d+m\s+/);
  });

  it('keeps successfulJobsHistoryLimit finished Jobs, deleting the oldest with SuccessfulDelete', async () => {
    const made: string[] = [(await jobNames('hello'))[0]!];
    for (let i = 0; i < 3; i++) {
      clock.advance(60_000);
      const name = `hello-${minute()}`;
      made.push(name);
      await until(`${name} completes`, async () => /Complete/.test(await ok(['get', 'job', name, '--no-headers']).catch(() => '')));
    }
    await until('three Jobs left', async () => (await jobNames('hello')).join() === made.slice(1).sort().join());
    expect(await eventsOf('hello')).toContain(`Normal SuccessfulDelete Deleted job ${made[0]}`);
  });

  it('after missed minutes runs only the most recent one', async () => {
    const before = await jobNames('hello');
    clock.advance(3 * 60_000);
    const latest = `hello-${minute()}`;
    await until('the latest Job', async () => (await jobNames('hello')).includes(latest));
    await cluster.settle();
    const now = await jobNames('hello');
    expect(now.filter((n) => !before.includes(n))).toEqual([latest]);
  });

  it('concurrencyPolicy Forbid skips a run while one is active; Replace deletes it and starts anew', async () => {
    await ok(['apply', '-f', '-'], cronJob('server', '  concurrencyPolicy: Forbid', 'nginx:1.27', '["nginx", "-g", "daemon off;"]'));
    clock.advance(60_000);
    const first = `server-${minute()}`;
    await until('the first Job', async () => (await jobNames('server')).includes(first));
    await until('listed as active', async () => /^server\s+\S+ \S+ \S+ \S+ \S+\s+<none>\s+False\s+1\s+/.test(await ok(['get', 'cronjob', 'server', '--no-headers'])));
    clock.advance(60_000);
    await until('JobAlreadyActive', async () => (await eventsOf('server')).includes('Normal JobAlreadyActive Not starting job because prior execution is running and concurrency policy is Forbid'));
    expect(await jobNames('server')).toEqual([first]);

    await ok(['patch', 'cronjob', 'server', '-p', '{"spec":{"concurrencyPolicy":"Replace"}}']);
    clock.advance(60_000);
    const second = `server-${minute()}`;
    await until('the replacement', async () => (await jobNames('server')).join() === second);
    const events = await eventsOf('server');
    expect(events).toContain(`Normal SuccessfulDelete Deleted job ${first}`);
    expect(events).toContain(`Normal SuccessfulCreate Created job ${second}`);
    const active = JSON.parse(await ok(['get', 'cronjob', 'server', '-o', 'jsonpath={.status.active}']));
    expect(active.map((r: { name: string }) => r.name)).toEqual([second]);
  });

  it('a suspended CronJob starts nothing; kubectl create job --from=cronjob/… runs one by hand', async () => {
    await ok(['patch', 'cronjob', 'server', '-p', '{"spec":{"suspend":true}}']);
    const before = await jobNames('server');
    clock.advance(60_000);
    await cluster.settle();
    expect(await jobNames('server')).toEqual(before);
    expect(lines(await ok(['get', 'cronjob', 'server', '--no-headers']))[0]).toMatch(/^server\s+\* \* \* \* \*\s+<none>\s+True\s+1\s+/);

    expect(await ok(['create', 'job', 'by-hand', '--from=cronjob/hello'])).toBe('job.batch/by-hand created\n');
    const job = JSON.parse(await ok(['get', 'job', 'by-hand', '-o', 'json']));
    expect(job.metadata.annotations['cronjob.kubernetes.io/instantiate']).toBe('manual');
    await until('it completes', async () => /Complete/.test(await ok(['get', 'job', 'by-hand', '--no-headers'])));
  });

  it('timeZone: the schedule runs on that zone\'s wall clock and the scheduled timestamp carries its offset', async () => {
    await ok(['apply', '-f', '-'], cronJob('kolkata', '  timeZone: Asia/Kolkata'));
    expect(lines(await ok(['get', 'cronjob', 'kolkata', '--no-headers']))[0]).toMatch(/^kolkata\s+\* \* \* \* \*\s+Asia\/Kolkata\s+False\s+/);
    clock.advance(60_000);
    const name = `kolkata-${minute()}`;
    await until('its Job', async () => (await jobNames('kolkata')).includes(name));
    const stamp = await ok(['get', 'job', name, '-o', 'jsonpath={.metadata.annotations.batch\\.kubernetes\\.io/cronjob-scheduled-timestamp}']);
    expect(stamp).toMatch(/\+05:30$/);
    expect(Date.parse(stamp)).toBe(minute() * 60_000);
  });

  it('refuses schedules and time zones as kube-apiserver does', async () => {
    let r = await kubectl(['create', 'cronjob', 'bad', '--image=busybox:1.36', '--schedule=61 * * * *']);
    expect(r.stderr).toBe('error: failed to create cronjob: CronJob.batch "bad" is invalid: spec.schedule: Invalid value: "61 * * * *": end of range (61) above maximum (59): 61\n');
    r = await kubectl(['create', 'cronjob', 'bad', '--image=busybox:1.36', '--schedule=* * * *']);
    expect(r.stderr).toContain('spec.schedule: Invalid value: "* * * *": expected exactly 5 fields, found 4: [* * * *]');
    r = await kubectl(['apply', '-f', '-'], cronJob('badzone', '  timeZone: Mars/Olympus_Mons'));
    expect(r.stderr).toContain('spec.timeZone: Invalid value: "Mars/Olympus_Mons": unknown time zone Mars/Olympus_Mons');
  });

  it('deleting a CronJob takes its Jobs along', async () => {
    await ok(['delete', 'cronjob', 'hello', 'server', 'kolkata']);
    // by-hand too: kubectl create job --from=cronjob/… makes the CronJob its owner.
    await until('their Jobs are gone', async () => (await ok(['get', 'jobs', '-o', 'name'])) === '');
  });
});

const NO_METRICS = 'unable to get metrics for resource cpu: unable to fetch metrics from resource metrics API: the server could not find the requested resource (get pods.metrics.k8s.io)';

describe('HorizontalPodAutoscalers without a metrics server', { timeout: 90_000 }, () => {
  it('report ScalingActive=False with FailedGetResourceMetric, as kube does, one sync period after creation', async () => {
    await ok(['create', 'deployment', 'php', '--image=nginx:1.27']);
    await ok(['set', 'resources', 'deployment', 'php', '--requests=cpu=200m']);
    expect(await ok(['autoscale', 'deployment', 'php', '--cpu-percent=50', '--min=1', '--max=5'])).toBe('horizontalpodautoscaler.autoscaling/php autoscaled\n');
    const fresh = lines(await ok(['get', 'hpa', 'php']));
    expect(fresh[0]!.split(/\s+/)).toEqual(['NAME', 'REFERENCE', 'TARGETS', 'MINPODS', 'MAXPODS', 'REPLICAS', 'AGE']);
    expect(fresh[1]).toMatch(/^php\s+Deployment\/php\s+cpu: <unknown>\/50%\s+1\s+5\s+0\s+/);
    await cluster.settle();
    expect(await ok(['get', 'hpa', 'php', '-o', 'jsonpath={.status.conditions}'])).toBe('');

    clock.advance(15_000);
    await until('conditions', async () => (await ok(['get', 'hpa', 'php', '-o', 'jsonpath={.status.conditions}'])) !== '');
    expect(lines(await ok(['get', 'hpa', 'php', '--no-headers']))[0]).toMatch(/^php\s+Deployment\/php\s+cpu: <unknown>\/50%\s+1\s+5\s+1\s+/);
    const d = await ok(['describe', 'hpa', 'php']);
    expect(d).toMatch(/^  AbleToScale\s+True\s+SucceededGetScale\s+the HPA controller was able to get the target's current scale$/m);
    expect(d).toContain(`  ScalingActive  False   FailedGetResourceMetric  the HPA was unable to compute the replica count: failed to get cpu utilization: ${NO_METRICS}\n`);
    expect(d).toMatch(/^Deployment pods:\s+1 current \/ 0 desired$/m);
    await until('both events', async () => (await eventsOf('php', 'HorizontalPodAutoscaler')).length === 2);
    expect(await eventsOf('php', 'HorizontalPodAutoscaler')).toEqual([
      `Warning FailedGetResourceMetric failed to get cpu utilization: ${NO_METRICS}`,
      `Warning FailedComputeMetricsReplicas invalid metrics (1 invalid out of 1), first error is: failed to get cpu resource metric value: failed to get cpu utilization: ${NO_METRICS}`,
    ]);
    const st = JSON.parse(await ok(['get', 'hpa', 'php', '-o', 'jsonpath={.status}']));
    expect(st.currentMetrics).toEqual([{ type: '' }]);
    expect(st.currentReplicas).toBe(1);

    // autoscaling/v1 has no conditions field: they travel in an annotation, and a v1 round trip does not store it.
    const v1 = JSON.parse(await ok(['get', 'horizontalpodautoscalers.v1.autoscaling', 'php', '-o', 'json']));
    const conds = JSON.parse(v1.metadata.annotations['autoscaling.alpha.kubernetes.io/conditions']);
    expect(conds.map((c: { type: string; reason: string }) => `${c.type}/${c.reason}`)).toEqual(['AbleToScale/SucceededGetScale', 'ScalingActive/FailedGetResourceMetric']);
    expect(Object.keys(conds[0])).toEqual(['type', 'status', 'lastTransitionTime', 'reason', 'message']);
    expect(v1.metadata.annotations['autoscaling.alpha.kubernetes.io/current-metrics']).toBe('[{"type":""}]');
    expect(v1.spec.targetCPUUtilizationPercentage).toBe(50);
    await ok(['replace', '-f', '-'], JSON.stringify(v1));
    expect(await ok(['get', 'hpa', 'php', '-o', 'jsonpath={.metadata.annotations}'])).toBe('');
  });

  it('enforce minReplicas without metrics: SuccessfulRescale to the minimum', async () => {
    await ok(['patch', 'hpa', 'php', '-p', '{"spec":{"minReplicas":3}}']);
    clock.advance(15_000);
    await until('three replicas', async () => (await ok(['get', 'deployment', 'php', '-o', 'jsonpath={.spec.replicas}'])) === '3');
    await until('the rescale event', async () => (await eventsOf('php', 'HorizontalPodAutoscaler')).includes('Normal SuccessfulRescale New size: 3; reason: Current number of replicas below Spec.MinReplicas'));
    const d = await ok(['describe', 'hpa', 'php']);
    expect(d).toMatch(/^  AbleToScale\s+True\s+SucceededRescale\s+the HPA controller was able to update the target scale to 3$/m);
  });

  it('a missing target is FailedGetScale', async () => {
    await ok(['autoscale', 'deployment', 'php', '--name=ghost', '--max=3']);
    await ok(['patch', 'hpa', 'ghost', '-p', '{"spec":{"scaleTargetRef":{"name":"nowhere"}}}']);
    clock.advance(15_000);
    await until('the condition', async () => /FailedGetScale/.test(await ok(['describe', 'hpa', 'ghost'])));
    const d = await ok(['describe', 'hpa', 'ghost']);
    expect(d).toContain(`AbleToScale  False   FailedGetScale  the HPA controller was unable to get the target's current scale: deployments.apps "nowhere" not found`);
  });
});

const daemonSet = `
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
spec:
  selector:
    matchLabels: { app: agent }
  template:
    metadata:
      labels: { app: agent }
    spec:
      containers:
      - name: agent
        image: nginx:1.27
`;

const podsOn = async (node: string) =>
  lines(await ok(['get', 'pods', '--field-selector', `spec.nodeName=${node}`, '-o', 'jsonpath={range .items[*]}{.metadata.name} {.metadata.deletionTimestamp}{"\\n"}{end}'])).map((l) => l.trim());

describe('taints: DaemonSets and the taint eviction controller', { timeout: 90_000 }, () => {
  afterAll(async () => {
    await kubectl(['taint', 'node', 'worker-1', 'maintenance-']);
  });

  it('a NoSchedule taint leaves running pods, DaemonSet pods included (counted as misscheduled)', async () => {
    await ok(['apply', '-f', '-'], daemonSet);
    await ok(['run', 'pinned', '--image=nginx:1.27', '--overrides={"spec":{"nodeName":"worker-1"}}']);
    await until('the agent on both workers', async () => lines(await ok(['get', 'ds', 'agent', '--no-headers']))[0]!.split(/\s+/).slice(1, 6).join(' ') === '2 2 2 2 2');
    await until('pinned runs', async () => (await ok(['get', 'pod', 'pinned', '-o', 'jsonpath={.status.phase}'])) === 'Running');
    const before = (await podsOn('worker-1')).filter((l) => l.startsWith('agent-'));
    expect(before).toHaveLength(1);
    // The tolerations the DaemonSet controller adds to every pod it makes.
    const tolerations = JSON.parse(await ok(['get', 'pod', before[0]!, '-o', 'jsonpath={.spec.tolerations}']));
    expect(tolerations.map((t: { key: string; effect: string }) => `${t.key}:${t.effect}`)).toEqual([
      'node.kubernetes.io/not-ready:NoExecute',
      'node.kubernetes.io/unreachable:NoExecute',
      'node.kubernetes.io/disk-pressure:NoSchedule',
      'node.kubernetes.io/memory-pressure:NoSchedule',
      'node.kubernetes.io/pid-pressure:NoSchedule',
      'node.kubernetes.io/unschedulable:NoSchedule',
    ]);

    expect(await ok(['taint', 'node', 'worker-1', 'maintenance=yes:NoSchedule'])).toBe('node/worker-1 tainted\n');
    await cluster.settle();
    await until('the DaemonSet wants one node', async () => lines(await ok(['get', 'ds', 'agent', '--no-headers']))[0]!.split(/\s+/)[1] === '1');
    const after = await podsOn('worker-1');
    expect(after).toContain(before[0]!.trim());
    expect(after).toContain('pinned');
    expect(await ok(['get', 'ds', 'agent', '-o', 'jsonpath={.status.numberMisscheduled}'])).toBe('1');
    expect(await eventsOf('agent', 'DaemonSet')).not.toContain(expect.stringContaining('SuccessfulDelete'));
  });

  it('a NoExecute taint evicts what does not tolerate it: TaintManagerEviction, Terminating, gone', async () => {
    await ok(['taint', 'node', 'worker-1', 'maintenance=yes:NoSchedule-']);
    await ok(['run', 'tolerant', '--image=nginx:1.27', '--overrides={"spec":{"nodeName":"worker-1","tolerations":[{"key":"maintenance","operator":"Exists","effect":"NoExecute"}]}}']);
    await until('tolerant runs', async () => (await ok(['get', 'pod', 'tolerant', '-o', 'jsonpath={.status.phase}'])) === 'Running');
    expect(await ok(['taint', 'node', 'worker-1', 'maintenance=yes:NoExecute'])).toBe('node/worker-1 tainted\n');
    await until('pinned is Terminating', async () => /^pinned\s+\S+\s+Terminating\s/m.test(await ok(['get', 'pods', '--no-headers'])));
    expect(await eventsOf('pinned', 'Pod')).toContain('Normal TaintManagerEviction Marking for deletion Pod default/pinned');
    const cond = JSON.parse(await ok(['get', 'pod', 'pinned', '-o', 'jsonpath={.status.conditions[?(@.type=="DisruptionTarget")]}']));
    expect(cond).toMatchObject({ status: 'True', reason: 'DeletionByTaintManager', message: 'Taint manager: deleting due to NoExecute taint' });
    await until('only the tolerant pod is left on worker-1', async () => (await podsOn('worker-1')).join() === 'tolerant');
    expect(lines(await ok(['get', 'ds', 'agent', '--no-headers']))[0]!.split(/\s+/).slice(1, 3)).toEqual(['1', '1']);
  });

  it('removing the taint brings the DaemonSet pod back', async () => {
    expect(await ok(['taint', 'node', 'worker-1', 'maintenance-'])).toBe('node/worker-1 untainted\n');
    await until('an agent on worker-1 again', async () => (await podsOn('worker-1')).some((l) => l.startsWith('agent-')));
    await ok(['delete', 'ds', 'agent']);
    await ok(['delete', 'pod', 'tolerant', '--wait=false']);
  });
});

describe('namespaces', { timeout: 90_000 }, () => {
  it('kube-root-ca.crt is recreated when deleted and reset when edited', async () => {
    const before = JSON.parse(await ok(['get', 'cm', 'kube-root-ca.crt', '-o', 'json']));
    expect(await ok(['delete', 'cm', 'kube-root-ca.crt'])).toBe('configmap "kube-root-ca.crt" deleted\n');
    const again = await until('recreated', async () => {
      const r = await kubectl(['get', 'cm', 'kube-root-ca.crt', '-o', 'json']);
      return r.code === 0 ? JSON.parse(r.stdout) : undefined;
    });
    expect(again.metadata.uid).not.toBe(before.metadata.uid);
    expect(again.data).toEqual(before.data);
    expect(again.metadata.annotations).toEqual(before.metadata.annotations);

    await ok(['patch', 'cm', 'kube-root-ca.crt', '-p', '{"data":{"ca.crt":"tampered"},"metadata":{"annotations":{"kubernetes.io/description":null}}}']);
    await until('reset', async () => (await ok(['get', 'cm', 'kube-root-ca.crt', '-o', 'jsonpath={.data.ca\\.crt}'])) === before.data['ca.crt']);
    expect(await ok(['get', 'cm', 'kube-root-ca.crt', '-o', 'jsonpath={.metadata.annotations}'])).toBe(JSON.stringify(before.metadata.annotations));
  });

  it('a namespace stuck on a finalizer says why in its deletion conditions, then goes once it is released', async () => {
    await ok(['create', 'namespace', 'stuck']);
    await ok(['apply', '-n', 'stuck', '-f', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: held\n  finalizers: [example.com/hold]\ndata: { a: b }\n');
    expect(await ok(['delete', 'namespace', 'stuck', '--wait=false'])).toBe('namespace "stuck" deleted\n');
    await until('the conditions', async () => /SomeFinalizersRemain/.test(await ok(['get', 'ns', 'stuck', '-o', 'jsonpath={.status.conditions}'])));
    expect(lines(await ok(['get', 'ns', 'stuck', '--no-headers']))[0]).toMatch(/^stuck\s+Terminating\s+/);
    const d = await ok(['describe', 'ns', 'stuck']);
    const conditions = d.slice(d.indexOf('Conditions:')).split('\n').slice(1, 8).map((l) => l.trim().split(/\s{2,}|\t+/));
    expect(conditions[0]).toEqual(['Type', 'Status', 'LastTransitionTime', 'Reason', 'Message']);
    const rows = conditions.slice(2).map((c) => [c[0], c[1], c[3], c[4]]);
    expect(rows).toEqual([
      ['NamespaceDeletionDiscoveryFailure', 'False', 'ResourcesDiscovered', 'All resources successfully discovered'],
      ['NamespaceDeletionGroupVersionParsingFailure', 'False', 'ParsedGroupVersions', 'All legacy kube types successfully parsed'],
      ['NamespaceDeletionContentFailure', 'False', 'ContentDeleted', 'All content successfully deleted, may be waiting on finalization'],
      ['NamespaceContentRemaining', 'True', 'SomeResourcesRemain', 'Some resources are remaining: configmaps. has 1 resource instances'],
      ['NamespaceFinalizersRemaining', 'True', 'SomeFinalizersRemain', 'Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances'],
    ]);
    await ok(['patch', 'cm', 'held', '-n', 'stuck', '--type=json', '-p', '[{"op":"remove","path":"/metadata/finalizers"}]']);
    await until('the namespace is gone', async () => (await kubectl(['get', 'ns', 'stuck'])).code !== 0);
  });
});

describe('garbage collector cascades', { timeout: 90_000 }, () => {
  it('--cascade=foreground: the owner waits with foregroundDeletion while its pods go through Terminating', async () => {
    await ok(['create', 'deployment', 'fg', '--image=nginx:1.27', '--replicas=2']);
    await until('two running pods', async () => lines(await ok(['get', 'pods', '-l', 'app=fg', '--no-headers'])).filter((l) => /\sRunning\s/.test(l)).length === 2);
    const pods = lines(await ok(['get', 'pods', '-l', 'app=fg', '-o', 'name']));
    const r = await kubectl(['delete', 'deployment', 'fg', '--cascade=foreground', '--wait=false']);
    expect(r.stdout).toBe('deployment.apps "fg" deleted\n');
    const owner = JSON.parse(await ok(['get', 'deployment', 'fg', '-o', 'json']));
    expect(owner.metadata.deletionTimestamp).toBeDefined();
    expect(owner.metadata.finalizers).toEqual(['foregroundDeletion']);
    // Every pod is seen Terminating (graceful deletion) before the owner goes.
    const seen = new Set<string>();
    await until('both pods seen Terminating', async () => {
      for (const l of lines(await ok(['get', 'pods', '-l', 'app=fg', '--no-headers']))) if (/\sTerminating\s/.test(l)) seen.add(l.split(/\s+/)[0]!);
      return seen.size === 2;
    });
    expect([...seen].sort()).toEqual(pods.map((p) => p.replace('pod/', '')).sort());
    expect((await kubectl(['get', 'deployment', 'fg'])).code).toBe(0);
    const rs = JSON.parse(await ok(['get', 'rs', '-l', 'app=fg', '-o', 'json'])).items;
    expect(rs).toHaveLength(1);
    expect(rs[0].metadata.finalizers).toEqual(['foregroundDeletion']);
    await until('the deployment is gone', async () => (await kubectl(['get', 'deployment', 'fg'])).code !== 0);
    expect(await ok(['get', 'pods,rs', '-l', 'app=fg', '-o', 'name'])).toBe('');
  });

  it('a pod with a finalizer of its own stays Terminating after its shutdown until the finalizer goes', async () => {
    await ok(['apply', '-f', '-'], 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: held\n  finalizers: [example.com/hold]\nspec:\n  containers:\n  - name: web\n    image: nginx:1.27\n');
    await until('held runs', async () => (await ok(['get', 'pod', 'held', '-o', 'jsonpath={.status.phase}'])) === 'Running');
    await ok(['delete', 'pod', 'held', '--wait=false']);
    // The kubelet's final delete (grace period 0) comes once it has shut the pod down; the finalizer still holds the object.
    await until('the final delete', async () => (await ok(['get', 'pod', 'held', '-o', 'jsonpath={.metadata.deletionGracePeriodSeconds}'])) === '0');
    expect(lines(await ok(['get', 'pod', 'held', '--no-headers']))[0]).toMatch(/^held\s+\S+\s+Terminating\s/);
    await cluster.settle();
    expect((await kubectl(['get', 'pod', 'held'])).code).toBe(0);
    await ok(['patch', 'pod', 'held', '--type=json', '-p', '[{"op":"remove","path":"/metadata/finalizers"}]']);
    await until('held is gone', async () => (await kubectl(['get', 'pod', 'held'])).code !== 0);
  });

  it('--cascade=orphan: the owner goes at once, its ReplicaSet and pods stay without an owner reference', async () => {
    await ok(['create', 'deployment', 'orph', '--image=nginx:1.27', '--replicas=2']);
    await until('two pods', async () => lines(await ok(['get', 'pods', '-l', 'app=orph', '--no-headers'])).length === 2);
    expect(await ok(['delete', 'deployment', 'orph', '--cascade=orphan'])).toBe('deployment.apps "orph" deleted\n');
    expect((await kubectl(['get', 'deployment', 'orph'])).code).not.toBe(0);
    const rs = await until('the ReplicaSet loses its owner', async () => {
      const items = JSON.parse(await ok(['get', 'rs', '-l', 'app=orph', '-o', 'json'])).items;
      return items.length === 1 && !items[0].metadata.ownerReferences ? items[0] : undefined;
    });
    expect(rs.metadata.finalizers).toBeUndefined();
    await cluster.settle();
    const pods = JSON.parse(await ok(['get', 'pods', '-l', 'app=orph', '-o', 'json'])).items;
    expect(pods).toHaveLength(2);
    for (const p of pods) {
      expect(p.metadata.deletionTimestamp).toBeUndefined();
      expect(p.metadata.ownerReferences[0].name).toBe(rs.metadata.name);
    }
  });
});
