/**
 * What the kubelet does with images a registry does not serve and with probes, judged by the real
 * kubectl 1.32: ErrImagePull → ImagePullBackOff with kubelet's events and back-off, recovery by
 * `kubectl set image`, ErrImageNeverPull, rollouts stuck on a bad image; readiness, liveness,
 * startup and exec probes run against what the containers serve, with kubelet's Unhealthy texts,
 * restarts into CrashLoopBackOff, and Endpoints following readiness.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedCluster } from '../../server/sim/cluster.js';
import { kubectlIn } from '../helpers/kubectl.js';
import { until } from './sim-network-harness.js';

let cluster: EmbeddedCluster;
let dir: string;
const { kubectl, ok } = kubectlIn(() => dir);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sim-kubelet-probes-'));
  // Image back-off starts at 400 ms here (10 s for real); probe periods of 1 s run at 100 ms.
  cluster = await EmbeddedCluster.start({
    workloads: { timings: { schedule: 0, pull: 30, start: 10, ready: 20, terminate: 50, run: 100, backoff: 400, probeDelayScale: 0.1 }, nodePorts: false },
  });
  await cluster.writeKubeconfig(join(dir, 'kubeconfig'));
});

afterAll(async () => {
  await cluster?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** `kubectl get pods -w` while `act` runs, until the STATUS column of `pod` has gone through `sequence` in order. */
async function watchStatuses(pod: string, act: () => Promise<unknown>, sequence: string[]): Promise<string[]> {
  const child = spawn('kubectl', ['get', 'pods', '-w', '--no-headers'], { env: { PATH: process.env.PATH!, HOME: dir, KUBECONFIG: join(dir, 'kubeconfig'), KUBECACHEDIR: join(dir, 'cache') } });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const statuses = () =>
    out
      .split('\n')
      .filter((l) => l.startsWith(`${pod} `))
      .map((l) => l.split(/\s+/)[2]!);
  // The statuses cycle (each retry fails again), so a watch that starts late still sees the sequence.
  const seen = () => sequence.reduce((from, want) => (from < 0 ? -1 : statuses().indexOf(want, from) < 0 ? -1 : statuses().indexOf(want, from) + 1), 0) > 0;
  try {
    await act();
    await until(`${pod} to go through ${sequence.join(' → ')}`, async () => seen());
  } finally {
    child.kill();
  }
  return statuses();
}

const jsonpath = (kind: string, name: string, path: string) => ok(['get', kind, name, '-o', `jsonpath=${path}`]);

describe('images a registry does not serve', () => {
  it('a typo goes ErrImagePull → ImagePullBackOff with kubelet events, and set image fixes it', async () => {
    const statuses = await watchStatuses('typo', () => ok(['run', 'typo', '--image=ngnix']), ['ErrImagePull', 'ImagePullBackOff']);
    for (const st of statuses) expect(['Pending', 'ContainerCreating', 'ErrImagePull', 'ImagePullBackOff']).toContain(st);

    const pullError =
      'failed to pull and unpack image "docker.io/library/ngnix:latest": failed to resolve reference "docker.io/library/ngnix:latest": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed';
    await until('a second pull attempt', async () => /Pulling\s+\S+ \(x[2-9] over/.test(await ok(['describe', 'pod', 'typo'])));
    const described = await ok(['describe', 'pod', 'typo']);
    expect(described).toMatch(/^\s+Image:\s+ngnix$/m);
    expect(described).toMatch(/^\s+State:\s+Waiting$/m);
    expect(described).toMatch(/^\s+Reason:\s+(ImagePullBackOff|ErrImagePull)$/m);
    expect(described).toMatch(/Normal\s+Pulling\s+.*kubelet\s+Pulling image "ngnix"/);
    expect(described).toContain(`Failed to pull image "ngnix": ${pullError}`);
    expect(described).toMatch(/Warning\s+Failed\s+.*kubelet\s+Error: ErrImagePull/);
    expect(described).toMatch(/Normal\s+BackOff\s+.*kubelet\s+Back-off pulling image "ngnix"/);
    expect(described).toMatch(/Warning\s+Failed\s+.*kubelet\s+Error: ImagePullBackOff/);
    expect(described).not.toContain('Successfully pulled');

    await until('ImagePullBackOff in the status', async () => (await jsonpath('pod', 'typo', '{.status.containerStatuses[0].state.waiting.reason}')) === 'ImagePullBackOff');
    expect(await jsonpath('pod', 'typo', '{.status.containerStatuses[0].state.waiting.message}')).toBe(`Back-off pulling image "ngnix": ErrImagePull: ${pullError}`);
    expect(await jsonpath('pod', 'typo', '{.status.phase} {.status.containerStatuses[0].ready}')).toBe('Pending false');

    await ok(['set', 'image', 'pod/typo', 'typo=nginx:1.27']);
    await ok(['wait', '--for=condition=Ready', 'pod/typo', '--timeout=20s']);
    expect(await jsonpath('pod', 'typo', '{.status.containerStatuses[0].image} {.status.containerStatuses[0].restartCount}')).toBe('docker.io/library/nginx:1.27 0');
    expect(await ok(['describe', 'pod', 'typo'])).toMatch(/Normal\s+Pulled\s+.*Successfully pulled image "nginx:1.27"/);
  });

  it('set image on a running pod restarts its container with the new image', async () => {
    await ok(['run', 'swap', '--image=nginx:1.27']);
    await ok(['wait', '--for=condition=Ready', 'pod/swap', '--timeout=20s']);
    await ok(['set', 'image', 'pod/swap', 'swap=httpd:2.4']);
    await until('the new image running', async () => (await jsonpath('pod', 'swap', '{.status.containerStatuses[0].image} {.status.containerStatuses[0].restartCount} {.status.containerStatuses[0].ready}')) === 'docker.io/library/httpd:2.4 1 true');
    const described = await ok(['describe', 'pod', 'swap']);
    expect(described).toMatch(/Normal\s+Killing\s+.*kubelet\s+Container swap definition changed, will be restarted/);
    expect(described).toMatch(/Normal\s+Pulling\s+.*kubelet\s+Pulling image "httpd:2.4"/);
    expect(await ok(['logs', 'swap', '--previous'])).toContain('nginx');
  });

  it('the image back-off doubles between attempts', async () => {
    await ok(['run', 'doubling', '--image=ngnix:1.0']);
    await until('five pulls', async () => /Pulling\s+\S+ \(x5 over/.test(await ok(['describe', 'pod', 'doubling'])), 30_000);
    const events = JSON.parse(await ok(['get', 'events', '--field-selector', 'involvedObject.name=doubling,reason=Pulling', '-o', 'json'])).items;
    expect(events).toHaveLength(1);
    // 0.4 + 0.8 + 1.6 + 3.2 s between the five pulls (6 s; Event times have whole seconds), where a constant 0.4 s would take 1.6 s.
    const span = Date.parse(events[0].lastTimestamp) - Date.parse(events[0].firstTimestamp);
    expect(span).toBeGreaterThanOrEqual(5000);
  });

  it('an unknown tag is "not found"; a made-up registry does not resolve; policy Never without the image is ErrImageNeverPull', async () => {
    await ok(['run', 'badtag', '--image=nginx:1.999']);
    await ok(['run', 'badreg', '--image=registry.example.invalid/team/app:1.0']);
    await ok(['run', 'never', '--image=httpd:2.4.62', '--image-pull-policy=Never']);
    const message = (pod: string) => jsonpath('pod', pod, '{.status.containerStatuses[0].state.waiting.reason}: {.status.containerStatuses[0].state.waiting.message}');
    await until('badtag to fail', async () => /^(ErrImagePull|ImagePullBackOff)/.test(await message('badtag')));
    expect(await ok(['describe', 'pod', 'badtag'])).toContain(
      'Failed to pull image "nginx:1.999": rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/library/nginx:1.999": failed to resolve reference "docker.io/library/nginx:1.999": docker.io/library/nginx:1.999: not found',
    );
    await until('badreg to fail', async () => /^(ErrImagePull|ImagePullBackOff)/.test(await message('badreg')));
    expect(await ok(['describe', 'pod', 'badreg'])).toContain(
      'Failed to pull image "registry.example.invalid/team/app:1.0": failed to pull and unpack image "registry.example.invalid/team/app:1.0": failed to resolve reference "registry.example.invalid/team/app:1.0": failed to do request: Head "https://registry.example.invalid/v2/team/app/manifests/1.0": dial tcp: lookup registry.example.invalid: no such host',
    );
    await until('never to fail', async () => (await message('never')) === 'ErrImageNeverPull: Container image "httpd:2.4.62" is not present with pull policy of Never');
    const never = await ok(['describe', 'pod', 'never']);
    expect(never).toMatch(/Warning\s+ErrImageNeverPull\s+.*kubelet\s+Container image "httpd:2.4.62" is not present with pull policy of Never/);
    expect(never).toMatch(/Warning\s+Failed\s+.*kubelet\s+Error: ErrImageNeverPull/);
    expect(never).not.toContain('Pulling');
    expect((await ok(['get', 'pods', 'badtag', 'badreg', 'never', '--no-headers'])).trim().split('\n').map((l) => l.split(/\s+/).slice(1, 3).join(' '))).toEqual([
      expect.stringMatching(/^0\/1 (ErrImagePull|ImagePullBackOff)$/),
      expect.stringMatching(/^0\/1 (ErrImagePull|ImagePullBackOff)$/),
      '0/1 ErrImageNeverPull',
    ]);
  });

  it('a Deployment on a bad image does not finish rolling out until the image is fixed', async () => {
    await ok(['create', 'deployment', 'shop', '--image=nginx:latestt', '--replicas=2']);
    const stuck = await kubectl(['rollout', 'status', 'deployment/shop', '--timeout=2s']);
    expect(stuck.code).toBe(1);
    expect(stuck.stdout).toContain('Waiting for deployment "shop" rollout to finish: 0 of 2 updated replicas are available...');
    expect(stuck.stderr).toContain('error: timed out waiting for the condition');
    expect(await jsonpath('deployment', 'shop', '{.status.unavailableReplicas}')).toBe('2');
    await ok(['set', 'image', 'deployment/shop', 'nginx=nginx:1.27']);
    const done = await ok(['rollout', 'status', 'deployment/shop', '--timeout=30s']);
    expect(done).toContain('deployment "shop" successfully rolled out');
  });
});

const probed = (name: string, image: string, container: string, extra = '', args = '') => `
apiVersion: v1
kind: Pod
metadata: { name: ${name}, labels: { app: ${name} } }
spec:
  containers:
  - name: ${container}
    image: ${image}
${args}
${extra}
`;

describe('probes', () => {
  it('a readiness probe on a 404 path keeps the pod 0/1 and out of the Service endpoints; a good path puts it in', async () => {
    await ok(
      ['apply', '-f', '-'],
      probed('notready', 'nginx:1.27', 'web', '    readinessProbe: { httpGet: { path: /healthz, port: 80 }, periodSeconds: 1 }') +
        '---\n' +
        probed('isready', 'nginx:1.27', 'web', '    readinessProbe: { httpGet: { path: /, port: 80 }, periodSeconds: 1 }').replace(/app: isready/, 'app: notready'),
    );
    await ok(['expose', 'pod', 'notready', '--port=80', '--name=web']);
    await ok(['wait', '--for=condition=Ready', 'pod/isready', '--timeout=20s']);
    await until('the readiness failure event', async () => /Readiness probe failed: HTTP probe failed with statuscode: 404/.test(await ok(['describe', 'pod', 'notready'])));
    const row = (await ok(['get', 'pod', 'notready', '--no-headers'])).split(/\s+/);
    expect(row.slice(1, 4)).toEqual(['0/1', 'Running', '0']);
    expect(await ok(['describe', 'pod', 'notready'])).toMatch(/Warning\s+Unhealthy\s+.*kubelet\s+Readiness probe failed: HTTP probe failed with statuscode: 404/);
    const ready = await jsonpath('pod', 'isready', '{.status.podIP}');
    const notReady = await jsonpath('pod', 'notready', '{.status.podIP}');
    await until('endpoints', async () => (await jsonpath('endpoints', 'web', '{.subsets[0].addresses[*].ip}')) === ready);
    expect(await jsonpath('endpoints', 'web', '{.subsets[0].notReadyAddresses[*].ip}')).toBe(notReady);
  });

  it("a probe failing every period stops adding to its Event after client-go's spam burst of 25, while the kubelet keeps probing", async () => {
    const count = async () => Number(await ok(['get', 'events', '--field-selector', 'involvedObject.name=notready,reason=Unhealthy', '-o', 'jsonpath={.items[0].count}']));
    await until('25 failures', async () => (await count()) === 25, 30_000);
    const probes = async () => (await ok(['logs', 'notready'])).split('\n').filter((l) => l.includes('"GET /healthz HTTP/1.1" 404') && l.includes('"kube-probe/1.32"')).length;
    const seen = await probes();
    await until('ten more probes in the access log', async () => (await probes()) >= seen + 10, 30_000);
    expect(await count()).toBe(25);
  });

  it('a liveness probe on a closed port restarts the container into CrashLoopBackOff', async () => {
    await ok(['apply', '-f', '-'], probed('dead', 'nginx:1.27', 'web', '    livenessProbe: { tcpSocket: { port: 8081 }, periodSeconds: 1, failureThreshold: 2 }'));
    const ip = await until('a pod IP', async () => jsonpath('pod', 'dead', '{.status.podIP}'));
    await until('two restarts', async () => Number(await jsonpath('pod', 'dead', '{.status.containerStatuses[0].restartCount}')) >= 2, 30_000);
    await until('CrashLoopBackOff', async () => (await jsonpath('pod', 'dead', '{.status.containerStatuses[0].state.waiting.reason}')) === 'CrashLoopBackOff', 30_000);
    const described = await ok(['describe', 'pod', 'dead']);
    expect(described).toContain(`Liveness probe failed: dial tcp ${ip}:8081: connect: connection refused`);
    expect(described).toMatch(/Normal\s+Killing\s+.*kubelet\s+Container web failed liveness probe, will be restarted/);
    expect(described).toMatch(/Warning\s+BackOff\s+.*Back-off restarting failed container web in pod dead_default/);
    expect(described).toMatch(/Last State:\s+Terminated\n\s+Reason:\s+Error\n\s+Exit Code:\s+137/);
    expect((await ok(['get', 'pod', 'dead', '--no-headers'])).split(/\s+/)[2]).toMatch(/^(CrashLoopBackOff|Running)$/);
  });

  it('an httpGet liveness probe on a closed port says so in the Go client words', async () => {
    await ok(['apply', '-f', '-'], probed('deadhttp', 'nginx:1.27', 'web', '    livenessProbe: { httpGet: { path: /live, port: 8080 }, periodSeconds: 1, failureThreshold: 5 }'));
    const ip = await until('a pod IP', async () => jsonpath('pod', 'deadhttp', '{.status.podIP}'));
    await until('the liveness failure', async () => (await ok(['describe', 'pod', 'deadhttp'])).includes(`Liveness probe failed: Get "http://${ip}:8080/live": dial tcp ${ip}:8080: connect: connection refused`));
  });

  it('an exec liveness probe (the docs example) passes while the file exists, then restarts the container', async () => {
    await ok(
      ['apply', '-f', '-'],
      probed(
        'liveness-exec',
        'busybox:1.36',
        'liveness',
        '    livenessProbe: { exec: { command: [cat, /tmp/healthy] }, periodSeconds: 1, failureThreshold: 1 }',
        '    args: [/bin/sh, -c, "touch /tmp/healthy; sleep 1; rm -f /tmp/healthy; sleep 600"]',
      ),
    );
    await until('a restart', async () => Number(await jsonpath('pod', 'liveness-exec', '{.status.containerStatuses[0].restartCount}')) >= 1, 30_000);
    const described = await ok(['describe', 'pod', 'liveness-exec']);
    expect(described).toContain("Liveness probe failed: cat: can't open '/tmp/healthy': No such file or directory");
    expect(described).toMatch(/Container liveness failed liveness probe, will be restarted/);
  });

  it('a startup probe holds readiness and liveness back until it passes, and restarts a container that never starts', async () => {
    await ok(
      ['apply', '-f', '-'],
      probed('slowstart', 'nginx:1.27', 'web', '    startupProbe: { httpGet: { path: /, port: 80 }, periodSeconds: 1 }\n    livenessProbe: { httpGet: { path: /, port: 80 }, periodSeconds: 1 }') +
        '---\n' +
        probed('neverstarts', 'busybox:1.36', 'app', '    startupProbe: { exec: { command: [cat, /tmp/started] }, periodSeconds: 1, failureThreshold: 2 }', '    command: [sleep, "3600"]'),
    );
    await ok(['wait', '--for=condition=Ready', 'pod/slowstart', '--timeout=20s']);
    expect(await jsonpath('pod', 'slowstart', '{.status.containerStatuses[0].started} {.status.containerStatuses[0].restartCount}')).toBe('true 0');
    await until('a restart', async () => Number(await jsonpath('pod', 'neverstarts', '{.status.containerStatuses[0].restartCount}')) >= 1, 30_000);
    expect(await jsonpath('pod', 'neverstarts', '{.status.containerStatuses[0].ready}')).toBe('false');
    const described = await ok(['describe', 'pod', 'neverstarts']);
    expect(described).toContain("Startup probe failed: cat: can't open '/tmp/started': No such file or directory");
    expect(described).toMatch(/Container app failed startup probe, will be restarted/);
  });
});
