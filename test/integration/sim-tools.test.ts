/**
 * Tools in containers with the real kubectl: `kubectl cp` both ways (through the image's tar),
 * `kubectl debug` (ephemeral containers, --copy-to, node/NAME) and `kubectl attach`.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import * as pty from 'node-pty';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, until, type Harness } from './sim-network-harness.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
  await h.ok(['run', 'box', '--image=busybox:1.36', '--', 'sleep', '3600']);
  await h.ok(['run', 'web', '--image=nginx:1.27']);
  // go-httpbin ships no shell and no tar (distroless).
  await h.ok(['run', 'bin', '--image=mccutchen/go-httpbin:v2.15.0']);
  await h.ok(['wait', '--for=condition=Ready', 'pod/box', 'pod/web', 'pod/bin', '--timeout=60s']);
}, 90_000);

afterAll(async () => {
  await h?.close();
});

describe('kubectl cp', () => {
  it('copies a file out of a pod, saying what tar says about the leading slash', async () => {
    const dest = join(h.dir, 'hosts');
    const r = await h.kubectl(['cp', 'web:/etc/hosts', dest]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    // kubectl passes the remote tar's stderr to its stdout, but returns once the archive has ended
    // without waiting for that copy (cp.go's copyFromPod), so the line may or may not be printed.
    const warning = "tar: Removing leading `/' from member names\n";
    expect(['', warning]).toContain(r.stdout);
    // What the remote tar says, through exec (which waits for every stream); nginx is debian-based: GNU tar.
    const tar = await h.kubectl(['exec', 'web', '--', 'tar', 'cf', '/dev/null', '/etc/hosts']);
    expect(tar).toMatchObject({ code: 0, stderr: warning });
    const inPod = await h.ok(['exec', 'web', '--', 'cat', '/etc/hosts']);
    expect(readFileSync(dest, 'utf8')).toBe(inPod);
    expect(inPod).toContain('\tweb\n');
  });

  it('copies binary data into a pod and back byte for byte (busybox tar)', async () => {
    const data = randomBytes(300_000);
    const src = join(h.dir, 'blob.bin');
    writeFileSync(src, data);
    const up = await h.kubectl(['cp', src, 'box:/tmp/']);
    expect(up).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(await h.ok(['exec', 'box', '--', 'wc', '-c', '/tmp/blob.bin'])).toBe('300000 /tmp/blob.bin\n');
    const back = join(h.dir, 'blob-back.bin');
    const down = await h.kubectl(['cp', 'box:/tmp/blob.bin', back]);
    // As for nginx above: kubectl may return before its copy of the remote stderr is printed.
    const warning = "tar: removing leading '/' from member names\n";
    expect(down).toMatchObject({ code: 0, stderr: '' });
    expect(['', warning]).toContain(down.stdout);
    expect(readFileSync(back).equals(data)).toBe(true);
    expect(await h.kubectl(['exec', 'box', '--', 'tar', 'cf', '/dev/null', '/tmp/blob.bin'])).toMatchObject({ code: 0, stderr: warning });
  });

  it('copies a directory tree both ways, and a file to a new name', async () => {
    const tree = join(h.dir, 'tree');
    mkdirSync(join(tree, 'sub'), { recursive: true });
    writeFileSync(join(tree, 'a.txt'), 'alpha\n');
    writeFileSync(join(tree, 'sub', 'b.txt'), 'beta\n');
    expect((await h.kubectl(['cp', tree, 'web:/tmp/tree'])).code).toBe(0);
    expect(await h.ok(['exec', 'web', '--', 'cat', '/tmp/tree/a.txt', '/tmp/tree/sub/b.txt'])).toBe('alpha\nbeta\n');
    const out = join(h.dir, 'tree-back');
    expect((await h.kubectl(['cp', 'web:/tmp/tree', out])).code).toBe(0);
    expect(readFileSync(join(out, 'sub', 'b.txt'), 'utf8')).toBe('beta\n');
    expect((await h.kubectl(['cp', join(tree, 'a.txt'), 'web:/tmp/renamed.txt'])).code).toBe(0);
    expect(await h.ok(['exec', 'web', '--', 'cat', '/tmp/renamed.txt'])).toBe('alpha\n');
  });

  it('fails as tar fails for a directory the pod does not have', async () => {
    const src = join(h.dir, 'x.txt');
    writeFileSync(src, 'x');
    const r = await h.kubectl(['cp', src, 'web:/nope/x.txt']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('tar: /nope: Cannot open: No such file or directory\ntar: Error is not recoverable: exiting now\n');
    expect(r.stderr).toContain('command terminated with exit code 2');
  });

  it('fails with the runtime\'s error in an image without tar', async () => {
    for (const args of [['cp', 'bin:/etc/hosts', join(h.dir, 'never')], ['cp', join(h.dir, 'x.txt'), 'bin:/tmp/']]) {
      const r = await h.kubectl(args);
      expect(r.code).toBe(1);
      // Copying in, kubectl may still be writing the archive when the exec fails, and logs so
      // (client-go's "websocket: close sent"); the error line is the same.
      expect(r.stderr).toMatch(/^(?:E\d{4} [^\n]+"Unhandled Error" err="websocket: close sent"\n)?error: Internal error occurred: error executing command in container: failed to exec in container: failed to start exec "[0-9a-f]{64}": OCI runtime exec failed: exec failed: unable to start container process: exec: "tar": executable file not found in \$PATH: unknown\n$/);
    }
  });

  it('--retries copies through `tar cf - … | tail -c+N`, as kubectl then runs it', async () => {
    const dest = join(h.dir, 'hostname');
    const r = await h.kubectl(['cp', '--retries=2', 'web:/etc/hostname', dest]);
    expect(r.code).toBe(0);
    expect(readFileSync(dest, 'utf8')).toBe('web\n');
  });

  it('tar in the container round-trips through a shell pipeline, as the kubectl cp help suggests', async () => {
    const r = await h.sh(`kubectl exec web -- tar cf - /etc/hostname | tar xf - -O etc/hostname`);
    expect(r.stdout).toBe('web\n');
  });
});

describe('kubectl debug with an ephemeral container', () => {
  it('-i runs the debug shell on kubectl\'s stdin next to the target, and describe lists the container', async () => {
    const r = await h.kubectl(['debug', 'web', '-i', '--image=busybox:1.36', '--target=web', '-c', 'dbg', '--', 'sh'], { input: 'echo "in $(hostname)"\nexit 3\n' });
    expect(r.stdout).toContain('Targeting container "web". If you don\'t see processes from this container it may be because the container runtime doesn\'t support this feature.\n');
    expect(r.stdout).toContain('in web\n');
    expect(r.code).toBe(0);
    await until('the debug container to end', async () => (await h.ok(['get', 'pod', 'web', '-o', 'jsonpath={.status.ephemeralContainerStatuses[0].state.terminated.exitCode}'])) === '3');
    const describe = await h.ok(['describe', 'pod', 'web']);
    const section = describe.slice(describe.indexOf('Ephemeral Containers:'), describe.indexOf('Conditions:'));
    expect(section).toMatch(/^Ephemeral Containers:\n  dbg:\n    Container ID:  containerd:\/\/[0-9a-f]{64}\n    Image:         busybox:1\.36\n/);
    expect(section).toMatch(/\n    State:          Terminated\n      Reason:       Error\n      Exit Code:    3\n/);
    expect(describe).toMatch(/Normal\s+Started\s+\S+\s+kubelet\s+Started container dbg\n/);
    // The pod itself is untouched: still Running and Ready with its one container.
    expect(await h.ok(['get', 'pod', 'web', '-o', 'jsonpath={.status.phase} {.status.containerStatuses[0].ready}'])).toBe('Running true');
  });

  it('-it attaches a terminal to the debug container', async () => {
    const term = pty.spawn('kubectl', ['debug', '-it', 'web', '--image=busybox:1.36', '--target=web', '-c', 'tty'], { env: h.env as Record<string, string>, cols: 100, rows: 30 });
    let screen = '';
    term.onData((d) => (screen += d));
    const exited = new Promise<number>((resolve) => term.onExit((e) => resolve(e.exitCode)));
    try {
      await until('the attach hint', async () => screen.includes("If you don't see a command prompt, try pressing enter."), 20_000);
      term.write('\r');
      await until('a prompt', async () => screen.includes('/ # '), 10_000);
      term.write('echo $((6*7)) from $(hostname)\r');
      await until('output', async () => screen.includes('42 from web\r\n'), 10_000);
      term.write('exit\r');
      expect(await exited).toBe(0);
    } finally {
      term.kill();
    }
  });

  it('a running debug container takes exec; existing ones cannot be removed; a missing target is refused', async () => {
    expect((await h.kubectl(['debug', 'web', '--image=busybox:1.36', '-c', 'tools', '--', 'sleep', '3600'])).code).toBe(0);
    await until('tools running', async () => (await h.ok(['get', 'pod', 'web', '-o', 'jsonpath={.status.ephemeralContainerStatuses[?(@.name=="tools")].state.running.startedAt}'])) !== '');
    expect(await h.ok(['exec', 'web', '-c', 'tools', '--', 'sh', '-c', 'echo hi from $(hostname)'])).toBe('hi from web\n');
    const remove = await h.kubectl(['patch', 'pod', 'web', '--subresource=ephemeralcontainers', '--type=json', '-p', '[{"op":"remove","path":"/spec/ephemeralContainers/0"}]']);
    expect(remove.stderr).toBe('The Pod "web" is invalid: spec.ephemeralContainers: Forbidden: existing ephemeral containers "dbg" may not be removed\n');
    const target = await h.kubectl(['debug', 'web', '--image=busybox:1.36', '-c', 'lost', '--target=nope', '--', 'true']);
    expect(target.code).toBe(1);
    expect(target.stderr).toMatch(/The Pod "web" is invalid: spec\.ephemeralContainers\[\d\]\.targetContainerName: Not found: "nope"\n$/);
  });

  it('client-node reads the pods/ephemeralcontainers subresource', async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(join(h.dir, 'kubeconfig'));
    const pod = await kc.makeApiClient(k8s.CoreV1Api).readNamespacedPodEphemeralcontainers({ name: 'web', namespace: 'default' });
    expect(pod.spec?.ephemeralContainers?.map((c) => c.name)).toEqual(expect.arrayContaining(['dbg', 'tty', 'tools']));
  });
});

describe('kubectl debug --copy-to and node/NAME', () => {
  it('--copy-to makes a copy of the pod with the debug container, keeping its configMap volume (sent as protobuf)', async () => {
    await h.ok(['create', 'configmap', 'app-config', '--from-literal=mode=debug']);
    await h.ok(['apply', '-f', '-'], 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: withcm\nspec:\n  containers:\n  - name: app\n    image: busybox:1.36\n    command: [sleep, "3600"]\n    volumeMounts:\n    - {name: cfg, mountPath: /etc/app}\n  volumes:\n  - name: cfg\n    configMap:\n      name: app-config\n      items: [{key: mode, path: mode.txt}]\n');
    await h.ok(['wait', '--for=condition=Ready', 'pod/withcm', '--timeout=30s']);
    const r = await h.kubectl(['debug', 'withcm', '--copy-to=withcm-debug', '--image=busybox:1.36', '-c', 'dbg', '--', 'sleep', '3600']);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain('unknown field');
    const volume = JSON.parse(await h.ok(['get', 'pod', 'withcm-debug', '-o', 'jsonpath={.spec.volumes[0]}']));
    expect(volume).toEqual({ name: 'cfg', configMap: { name: 'app-config', defaultMode: 420, items: [{ key: 'mode', path: 'mode.txt' }] } });
    expect(await h.ok(['get', 'pod', 'withcm-debug', '-o', 'jsonpath={.spec.containers[*].name}'])).toBe('app dbg');
    await h.ok(['wait', '--for=condition=Ready', 'pod/withcm-debug', '--timeout=30s']);
  });

  it('node/NAME runs a host-network pod on that node with its root at /host', async () => {
    const r = await h.kubectl(['debug', 'node/worker-1', '-i', '--image=busybox:1.36', '--', 'sh'], { input: 'hostname\ncat /host/etc/hostname\ngrep PRETTY /host/etc/os-release\n' });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Creating debugging pod node-debugger-worker-1-');
    expect(r.stdout).toContain('worker-1\nworker-1\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n');
    const pod = JSON.parse(await h.ok(['get', 'pods', '-o', 'json'])).items.find((p: { metadata: { name: string } }) => p.metadata.name.startsWith('node-debugger-worker-1-'));
    expect(pod.spec).toMatchObject({ nodeName: 'worker-1', hostNetwork: true, hostPID: true, hostIPC: true });
    expect(pod.status.podIP).toBe(pod.status.hostIP);
  });
});

describe('kubectl attach', () => {
  it('shows the output of the container\'s main process from now on', async () => {
    await h.ok(['run', 'ticker', '--image=busybox:1.36', '--', 'sh', '-c', 'i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 0.2; done']);
    await h.ok(['wait', '--for=condition=Ready', 'pod/ticker', '--timeout=30s']);
    const attach = h.spawnKubectl(['attach', 'ticker']);
    let out = '';
    attach.stdout!.on('data', (d) => (out += d));
    try {
      await until('two attached lines', async () => /tick (\d+)\ntick (\d+)\n/.test(out), 10_000);
      const [, a, b] = /tick (\d+)\ntick (\d+)\n/.exec(out)!;
      expect(Number(b)).toBe(Number(a) + 1);
    } finally {
      attach.kill();
    }
  });

  it('-i drives an interactive container (kubectl run -i) and the exit code comes from the pod', async () => {
    const r = await h.kubectl(['run', 'once', '-i', '--restart=Never', '--image=busybox:1.36', '--', 'sh'], { input: 'echo "read from stdin"\nexit 4\n' });
    expect(r.stdout).toContain('read from stdin\n');
    expect(r.code).toBe(4);
  });
});
