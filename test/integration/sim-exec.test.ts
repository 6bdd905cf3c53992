/**
 * Inside Bookinfo's pods with the real kubectl: exec (plain, piped, interactive under a pty),
 * the runtime's errors and exit codes, container logs through the kubelet's buffers (-c, -f,
 * --tail, --since, --previous, deploy/NAME, -l), and attach.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as pty from 'node-pty';
import { deployBookinfo, startHarness, until, type Harness } from './sim-network-harness.js';

let h: Harness;
let ratingsPod: string;

beforeAll(async () => {
  h = await startHarness();
  await deployBookinfo(h);
  ratingsPod = (await h.ok(['get', 'pod', '-l', 'app=ratings', '-o', 'jsonpath={.items[0].metadata.name}'])).trim();
}, 90_000);

afterAll(async () => {
  await h?.close();
});

describe('kubectl exec', () => {
  it('curl through cluster DNS piped to grep prints the Bookinfo title (the tutorial check)', async () => {
    const r = await h.kubectl(['exec', ratingsPod, '-c', 'ratings', '--', 'curl', '-sS', 'productpage:9080/productpage']);
    expect(r.code).toBe(0);
    expect(r.stdout.match(/<title>.*<\/title>/)?.[0]).toBe('<title>Simple Bookstore App</title>');
    const piped = await h.sh(`kubectl exec "${ratingsPod}" -c ratings -- curl -sS productpage:9080/productpage | grep -o "<title>.*</title>"`);
    expect(piped.stdout).toBe('<title>Simple Bookstore App</title>\n');
  });

  it('curl -w still writes its format after a refused connection or an unknown host, after the error message, as real curl does', async () => {
    const refused = await h.kubectl(['exec', ratingsPod, '-c', 'ratings', '--', 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}\\n', 'http://127.0.0.1:9/']);
    expect(refused).toEqual({ code: 7, stdout: '000\n', stderr: 'command terminated with exit code 7\n' });
    const shell = await h.sh(`kubectl exec "${ratingsPod}" -c ratings -- sh -c "curl -s -o /dev/null -w '%{http_code}\\n' http://x:9/; echo rc=\\$?"`);
    expect(shell.stdout).toBe('000\nrc=6\n');
    // Merged into one stream, the error comes first, then the write-out (real curl 7.88 does this on this machine too).
    const merged = await h.kubectl(['exec', ratingsPod, '-c', 'ratings', '--', 'sh', '-c', "curl -sS -o /dev/null -w '%{http_code}\\n' http://127.0.0.1:9/ 2>&1"]);
    expect(merged.stdout).toMatch(/^curl: \(7\) Failed to connect to 127\.0\.0\.1 port 9 [^\n]+\n000\n$/);
  });

  it('the container sees its pod: hostname and the service link variables', async () => {
    const r = await h.ok(['exec', ratingsPod, '-c', 'ratings', '--', 'sh', '-c', 'hostname; echo "$DETAILS_SERVICE_PORT $KUBERNETES_SERVICE_HOST"']);
    const [host, vars] = r.trim().split('\n');
    expect(host).toBe(ratingsPod);
    expect(vars).toBe('9080 10.96.0.1');
  });

  it('an unknown command fails with the container runtime error; a failing command with its exit code', async () => {
    const missing = await h.kubectl(['exec', ratingsPod, '--', 'nosuchcmd']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: Internal error occurred: error executing command in container: .*exec: "nosuchcmd": executable file not found in \$PATH: unknown\n$/);
    const failing = await h.kubectl(['exec', ratingsPod, '--', 'sh', '-c', 'exit 3']);
    expect(failing.code).toBe(3);
    expect(failing.stderr).toBe('command terminated with exit code 3\n');
    const inShell = await h.kubectl(['exec', ratingsPod, '--', 'sh', '-c', 'nosuchcmd']);
    expect(inShell.code).toBe(127);
  });

  it('a container the pod does not have is refused as kube-apiserver refuses it', async () => {
    const r = await h.kubectl(['exec', ratingsPod, '-c', 'nope', '--', 'ls']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`Error from server (BadRequest): container nope is not valid for pod ${ratingsPod}\n`);
  });

  it('exec -it sh gives an interactive prompt in the container', async () => {
    const term = pty.spawn('kubectl', ['exec', '-it', ratingsPod, '-c', 'ratings', '--', 'sh'], { env: h.env as Record<string, string>, cols: 100, rows: 30 });
    let screen = '';
    term.onData((d) => (screen += d));
    const exited = new Promise<number>((resolve) => term.onExit((e) => resolve(e.exitCode)));
    try {
      await until('a prompt', async () => /[$#] $/.test(screen), 10_000);
      term.write('hostname\r');
      await until('hostname output', async () => screen.includes(`${ratingsPod}\r\n`), 10_000);
      term.write('curl -s -o /dev/null -w "%{http_code}\\n" details:9080/details/0\r');
      await until('curl status', async () => screen.includes('200\r\n'), 10_000);
      term.write('exit\r');
      expect(await exited).toBe(0);
    } finally {
      term.kill();
    }
  });
});

describe('kubectl run -it', () => {
  it('attaches the terminal to the container\'s shell and --rm deletes the pod on exit', async () => {
    const term = pty.spawn('kubectl', ['run', '-it', '--rm', 'shell', '--image=busybox', '--restart=Never', '--', 'sh'], { env: h.env as Record<string, string>, cols: 100, rows: 30 });
    let screen = '';
    term.onData((d) => (screen += d));
    const exited = new Promise<number>((resolve) => term.onExit((e) => resolve(e.exitCode)));
    try {
      await until('the attach hint', async () => screen.includes("If you don't see a command prompt, try pressing enter."), 20_000);
      term.write('\r');
      await until('a prompt', async () => screen.includes('/ # '), 10_000);
      term.write('hostname; echo $((6*7))\r');
      await until('output', async () => screen.includes('shell\r\n42\r\n'), 10_000);
      term.write('exit 0\r');
      expect(await exited).toBe(0);
      expect(screen).toContain('pod "shell" deleted');
    } finally {
      term.kill();
    }
    await until('the pod gone', async () => (await h.kubectl(['get', 'pod', 'shell'])).code === 1);
  });
});

describe('kubectl logs', () => {
  it('deploy/NAME, -c and --tail read the kubelet buffers', async () => {
    const all = await h.ok(['logs', 'deploy/productpage-v1', '-c', 'productpage']);
    expect(all.split('\n').length).toBeGreaterThan(2);
    const tail = await h.ok(['logs', 'deploy/productpage-v1', '--tail=1']);
    expect(tail.trim().split('\n')).toHaveLength(1);
    expect(all.trimEnd().endsWith(tail.trimEnd())).toBe(true);
  });

  it('-l selects several pods; --since filters by time; --previous has nothing before a restart', async () => {
    const byLabel = await h.ok(['logs', '-l', 'app=reviews', '--tail=1', '--prefix']);
    const pods = new Set(byLabel.trim().split('\n').map((l) => l.match(/^\[pod\/(reviews-v\d)-/)?.[1]));
    expect([...pods].sort()).toEqual(['reviews-v1', 'reviews-v2', 'reviews-v3']);
    await new Promise((r) => setTimeout(r, 2100));
    expect(await h.ok(['logs', ratingsPod, '--since=1s'])).toBe('');
    expect(await h.ok(['logs', ratingsPod, '--since=1h'])).not.toBe('');
    const prev = await h.kubectl(['logs', ratingsPod, '--previous']);
    expect(prev.stderr).toBe(`Error from server (BadRequest): previous terminated container "ratings" in pod "${ratingsPod}" not found\n`);
  });

  it('-f follows: a request to productpage shows up in its log while kubectl waits', async () => {
    const follow = h.spawnKubectl(['logs', '-f', 'deploy/productpage-v1', '--tail=0']);
    let out = '';
    follow.stdout!.on('data', (d) => (out += d));
    try {
      await new Promise((r) => setTimeout(r, 500));
      expect(out).toBe('');
      // Requests go on until one is seen: kubectl may still be opening its stream when the first
      // is logged (a loaded machine), and --tail=0 rightly leaves that one out.
      await until('a followed log line', async () => {
        if (out.includes('"GET /details/0 HTTP/1.1" 200')) return true;
        await h.ok(['exec', ratingsPod, '--', 'curl', '-sS', '-o', '/dev/null', 'productpage:9080/productpage']);
        return out.includes('"GET /details/0 HTTP/1.1" 200');
      }, 20_000);
    } finally {
      follow.kill();
    }
  });

  it('--previous shows the last run of a crashing container; attach streams the running one', async () => {
    await h.ok(['run', 'crasher', '--image=busybox', '--', 'sh', '-c', 'echo "run on $HOSTNAME"; exit 1']);
    await until('a restart', async () => Number((await h.ok(['get', 'pod', 'crasher', '-o', 'jsonpath={.status.containerStatuses[0].restartCount}'])).trim()) >= 1);
    expect(await h.ok(['logs', 'crasher', '--previous'])).toBe('run on crasher\n');

    await h.ok(['run', 'ticker', '--image=busybox', '--', 'sh', '-c', 'i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 0.2; done']);
    await h.ok(['wait', '--for=condition=Ready', 'pod/ticker', '--timeout=30s']);
    const attach = h.spawnKubectl(['attach', 'ticker']);
    let out = '';
    attach.stdout!.on('data', (d) => (out += d));
    try {
      await until('attached output', async () => /tick \d+\n/.test(out), 10_000);
    } finally {
      attach.kill();
    }
  });
});
