import { describe, expect, it } from 'vitest';
import { MemoryNetwork, deployBookinfo } from '../../server/sim/images/testing/memory-network.js';
import { TtySession, exec } from '../../server/sim/images/testing/exec.js';
import { ExecStartError } from '../../server/sim/images/index.js';

function cluster() {
  const net = new MemoryNetwork();
  const pods = deployBookinfo(net);
  const busybox = net.addPod({ name: 'bb', image: 'busybox:1.36', labels: { run: 'bb' } });
  const ubuntu = net.addPod({ name: 'ub', image: 'ubuntu:24.04', labels: { run: 'ub' }, env: { GREETING: 'hello world' } });
  return { net, pods, ratings: pods['ratings-v1'], busybox, ubuntu };
}

const sh = (ctx: Parameters<typeof exec>[0], script: string) => exec(ctx, ['sh', '-c', script]);

describe('sh -c scripts', () => {
  it('pipes into grep, head, tail, wc, sort, uniq, cut, tr', async () => {
    const { ratings } = cluster();
    expect((await sh(ratings, 'printf "b\\na\\nb\\nc\\n" | sort | uniq -c')).stdout).toBe('      1 a\n      2 b\n      1 c\n');
    expect((await sh(ratings, 'printf "x1\\ny2\\nx3\\n" | grep -c x')).stdout).toBe('2\n');
    expect((await sh(ratings, 'printf "Alpha\\nbeta\\n" | grep -i ALPHA')).stdout).toBe('Alpha\n');
    expect((await sh(ratings, 'printf "Alpha\\nbeta\\n" | grep -v Alpha')).stdout).toBe('beta\n');
    expect((await sh(ratings, 'echo "v1 v22 v3" | grep -oE "v[0-9]+"')).stdout).toBe('v1\nv22\nv3\n');
    expect((await sh(ratings, 'seq 1 10 | head -3 | tail -1')).stdout).toBe('3\n');
    expect((await sh(ratings, 'seq 5 | wc -l')).stdout).toBe('5\n');
    expect((await sh(ratings, 'echo a:b:c | cut -d: -f2')).stdout).toBe('b\n');
    expect((await sh(ratings, 'echo hello | tr a-z A-Z')).stdout).toBe('HELLO\n');
    expect((await sh(ratings, 'echo nope | grep yes')).code).toBe(1);
  });

  it('&&, || and ; follow exit statuses', async () => {
    const { ratings } = cluster();
    expect((await sh(ratings, 'false || echo rescued; true && echo ok; false && echo never; echo "status $?"')).stdout).toBe('rescued\nok\nstatus 1\n');
    expect((await sh(ratings, 'exit 3')).code).toBe(3);
    expect((await sh(ratings, 'false')).code).toBe(1);
  });

  it('quotes, variables, command substitution and arithmetic', async () => {
    const { ratings } = cluster();
    const r = await sh(ratings, `X=world; echo 'single $X' "double $X" \${UNSET:-fallback} $(echo sub) $((2 * 3 + 1)); echo "$(hostname)"`);
    expect(r.stdout).toBe('single $X double world fallback sub 7\nratings-v1-7dc98c7588-vzftc\n');
    // Unquoted expansions split into fields; quoted ones do not.
    expect((await sh(ratings, 'A="1 2 3"; for i in $A; do echo "[$i]"; done; for i in "$A"; do echo "[$i]"; done')).stdout).toBe('[1]\n[2]\n[3]\n[1 2 3]\n');
  });

  it('loops and conditionals as people write them in tutorials', async () => {
    const { ratings } = cluster();
    const r = await sh(ratings, 'i=0; while [ $i -lt 3 ]; do i=$((i+1)); echo "n=$i"; done; if [ "$i" = 3 ]; then echo three; else echo other; fi');
    expect(r.stdout).toBe('n=1\nn=2\nn=3\nthree\n');
    const b = await exec(ratings, ['bash', '-c', 'for i in {1..3}; do printf "%s," $i; done; echo']);
    expect(b.stdout).toBe('1,2,3,\n');
    const loop = await sh(ratings, 'for i in $(seq 1 4); do curl -s productpage:9080/productpage | grep -o "<title>.*</title>"; done | uniq -c');
    expect(loop.stdout).toBe('      4 <title>Simple Bookstore App</title>\n');
  });

  it('redirections: >, >>, 2>&1, >/dev/null, and files persist in the container', async () => {
    const { ratings, pods } = cluster();
    expect((await sh(ratings, 'echo one > /tmp/f; echo two >> /tmp/f; cat /tmp/f')).stdout).toBe('one\ntwo\n');
    expect((await exec(ratings, ['cat', '/tmp/f'])).stdout).toBe('one\ntwo\n');
    // Another container has its own filesystem.
    expect((await exec(pods['details-v1'], ['cat', '/tmp/f'])).stderr).toBe('cat: /tmp/f: No such file or directory\n');
    const merged = await sh(ratings, 'cat /nope 2>&1 | grep -c "No such"');
    expect(merged.stdout).toBe('1\n');
    expect(await sh(ratings, 'echo hidden >/dev/null; cat /nope 2>/dev/null; echo $?')).toEqual({ code: 0, stdout: '1\n', stderr: '' });
    const bad = await sh(ratings, 'echo x > /no/such/dir/file');
    expect(bad).toEqual({ code: 1, stdout: '', stderr: 'sh: 1: cannot create /no/such/dir/file: Directory nonexistent\n' });
    const curlOut = await sh(ratings, 'curl -s -o /tmp/page.html productpage:9080/productpage && grep -c "Simple Bookstore App" /tmp/page.html');
    expect(curlOut.stdout).toBe('1\n');
  });

  it('unknown commands inside a shell: 127 with each shell\'s wording', async () => {
    const { ratings, busybox, ubuntu } = cluster();
    expect(await sh(ratings, 'echo a\nfoo')).toEqual({ code: 127, stdout: 'a\n', stderr: 'sh: 2: foo: not found\n' });
    expect(await sh(busybox, 'foo')).toEqual({ code: 127, stdout: '', stderr: 'sh: foo: not found\n' });
    expect(await exec(ubuntu, ['bash', '-c', 'foo'])).toEqual({ code: 127, stdout: '', stderr: 'bash: line 1: foo: command not found\n' });
    // ubuntu does not ship curl.
    expect((await exec(ubuntu, ['bash', '-c', 'curl -s x'])).stderr).toBe('bash: line 1: curl: command not found\n');
  });

  it('syntax errors are reported, not guessed around', async () => {
    const { ratings, busybox } = cluster();
    expect(await sh(ratings, 'echo "unterminated')).toEqual({ code: 2, stdout: '', stderr: 'sh: 1: Syntax error: Unterminated quoted string\n' });
    expect((await sh(busybox, 'echo "unterminated')).stderr).toBe('sh: syntax error: unterminated quoted string\n');
    expect((await sh(ratings, 'sleep 1 &')).stderr).toContain('not supported by the embedded cluster');
    expect((await sh(ratings, 'cat <<EOF\nx\nEOF')).code).toBe(2);
  });

  it('while read consumes piped lines one by one', async () => {
    const { ratings } = cluster();
    expect((await sh(ratings, 'printf "a\\nb\\nc\\n" | while read l; do echo "<$l>"; done')).stdout).toBe('<a>\n<b>\n<c>\n');
  });

  it('sh reads commands from stdin without a tty (kubectl exec -i POD -- sh < script)', async () => {
    const { ratings } = cluster();
    const r = await exec(ratings, ['sh'], { stdin: 'echo first\nfor i in 1 2\ndo echo $i\ndone\nexit 4\necho never\n' });
    expect(r).toEqual({ code: 4, stdout: 'first\n1\n2\n', stderr: '' });
  });
});

describe('exec of a program that does not exist', () => {
  it('fails to start with containerd\'s message (kubectl prints error: … and exits 1)', async () => {
    const { ratings, busybox } = cluster();
    const err = await exec(ratings, ['foo', 'bar']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExecStartError);
    expect((err as ExecStartError).message).toMatch(
      /^Internal error occurred: error executing command in container: failed to exec in container: failed to start exec "[0-9a-f]{64}": OCI runtime exec failed: exec failed: unable to start container process: exec: "foo": executable file not found in \$PATH: unknown$/,
    );
    expect((err as ExecStartError).reason).toBe('InternalError');
    // busybox has no bash.
    await expect(exec(busybox, ['bash'])).rejects.toThrow('exec: "bash": executable file not found in $PATH');
    // Builtins are not binaries.
    await expect(exec(ratings, ['cd', '/tmp'])).rejects.toThrow('exec: "cd": executable file not found');
    // Absolute paths on $PATH work.
    expect((await exec(ratings, ['/bin/echo', 'hi'])).stdout).toBe('hi\n');
  });
});

describe('container files and identity', () => {
  it('/etc/hostname, /etc/hosts, /etc/resolv.conf, os-release, env, hostname', async () => {
    const { ratings, busybox, ubuntu } = cluster();
    expect((await exec(ratings, ['cat', '/etc/hostname'])).stdout).toBe('ratings-v1-7dc98c7588-vzftc\n');
    expect((await exec(ratings, ['cat', '/etc/hosts'])).stdout).toContain(`${ratings.podIP}\tratings-v1-7dc98c7588-vzftc\n`);
    expect((await exec(ratings, ['cat', '/etc/resolv.conf'])).stdout).toBe(
      'search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n',
    );
    expect((await exec(ubuntu, ['cat', '/etc/os-release'])).stdout).toContain('NAME="Ubuntu"');
    expect((await exec(busybox, ['cat', '/etc/os-release'])).stderr).toBe("cat: can't open '/etc/os-release': No such file or directory\n");
    expect((await exec(ubuntu, ['printenv', 'GREETING'])).stdout).toBe('hello world\n');
    const env = (await exec(ubuntu, ['env'])).stdout;
    expect(env).toContain('HOSTNAME=ub\n');
    expect(env).toContain('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n');
    expect((await exec(busybox, ['hostname'])).stdout).toBe('bb\n');
    // The ServiceAccount directory comes from the pod's kube-api-access volume, which this bare pod has not.
    expect((await exec(busybox, ['ls', '/var/run/secrets/kubernetes.io/serviceaccount'])).stderr).toBe('ls: /var/run/secrets/kubernetes.io/serviceaccount: No such file or directory\n');
    expect((await exec(busybox, ['sh', '-c', 'cd /tmp && pwd && cd /nope'])).stderr).toBe("sh: cd: can't cd to /nope: No such file or directory\n");
  });

  it('nslookup resolves service names through the search path', async () => {
    const { busybox, net } = cluster();
    const ip = net.resolve('default', 'reviews');
    const r = await exec(busybox, ['nslookup', 'reviews']);
    expect(r.stdout).toBe(`Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\nName:\treviews.default.svc.cluster.local\nAddress: ${ip}\n\n`);
    const missing = await exec(busybox, ['nslookup', 'nosuch']);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain("** server can't find nosuch: NXDOMAIN");
  });

  it('sleep ends early when the exec is aborted', async () => {
    const { busybox } = cluster();
    const ac = new AbortController();
    const start = Date.now();
    setTimeout(() => ac.abort(), 50);
    const r = await exec(busybox, ['sleep', '30'], { signal: ac.signal });
    expect(Date.now() - start).toBeLessThan(2000);
    expect(r.code).toBe(130);
    expect((await exec(busybox, ['sleep', 'abc'])).stderr).toBe("sleep: invalid number 'abc'\n");
  });

  it('date prints the container clock', async () => {
    const net = new MemoryNetwork({ now: () => new Date('2026-11-26T09:05:03Z') });
    const pod = net.addPod({ name: 'bb', image: 'busybox' });
    expect((await exec(pod, ['date'])).stdout).toBe('Thu Nov 26 09:05:03 UTC 2026\n');
    expect((await exec(pod, ['date', '+%Y-%m-%dT%H:%M:%S'])).stdout).toBe('2026-11-26T09:05:03\n');
  });
});

describe('interactive shell (kubectl exec -it)', () => {
  it('busybox: "/ # " prompt, echo of typed keys, commands, exit', async () => {
    const { busybox } = cluster();
    const s = new TtySession(busybox, ['sh']);
    await s.waitFor('/ # ');
    s.type('echo hi\r');
    await s.waitFor('hi\r\n/ # ');
    expect(s.screen).toBe('/ # echo hi\r\nhi\r\n/ # ');
    s.type('cd /tmp\rexit 5\r');
    await s.waitFor('/tmp # ');
    expect(await s.done).toBe(5);
  });

  it('Debian images: "$ "-style dash prompt for sh, user@host prompt for bash; Ctrl-D ends', async () => {
    const { ratings, ubuntu } = cluster();
    expect((await exec(ratings, ['pwd'])).stdout).toBe('/opt/microservices\n');
    expect((await exec(ratings, ['printenv', 'SERVICE_VERSION'])).stdout).toBe('v1\n');
    const s = new TtySession(ratings, ['sh']);
    await s.waitFor('$ ');
    expect(s.screen).toBe('$ ');
    s.type('nosuchcmd\r');
    await s.waitFor('nosuchcmd: not found');
    s.type('\x04');
    expect(await s.done).toBe(127);

    const b = new TtySession(ubuntu, ['bash']);
    await b.waitFor('root@ub:/# ');
    b.type('\x04');
    expect(await b.done).toBe(0);
    expect(b.screen).toBe('root@ub:/# exit\r\n');
  });

  it('Ctrl-C interrupts the running command and returns to the prompt; backspace edits the line', async () => {
    const { busybox } = cluster();
    const s = new TtySession(busybox, ['sh']);
    await s.waitFor('/ # ');
    s.type('sleep 100\r');
    await new Promise((r) => setTimeout(r, 30));
    s.type('\x03');
    await s.waitFor('^C\r\n/ # ');
    s.type('echo $?\r');
    await s.waitFor('130\r\n');
    s.type('echo abx\x7fc\r');
    await s.waitFor('abc\r\n');
    s.type('exit\r');
    expect(await s.done).toBe(0);
  });

  it('multi-line input continues with "> "', async () => {
    const { busybox } = cluster();
    const s = new TtySession(busybox, ['sh']);
    await s.waitFor('/ # ');
    s.type('for i in 1 2\r');
    await s.waitFor('> ');
    s.type('do echo n$i; done\r');
    await s.waitFor('n2\r\n/ # ');
    s.close();
  });
});

describe('shell names and env', () => {
  it('a shell invoked by path prefixes its messages with that path; env reports missing programs', async () => {
    const { ratings } = cluster();
    expect((await exec(ratings, ['/bin/sh', '-c', 'foo'])).stderr).toBe('/bin/sh: 1: foo: not found\n');
    expect(await exec(ratings, ['sh', '-c', 'env nosuch'])).toEqual({ code: 127, stdout: '', stderr: "env: 'nosuch': No such file or directory\n" });
    expect((await exec(ratings, ['env', 'A=1', 'printenv', 'A'])).stdout).toBe('1\n');
    expect((await exec(ratings, ['sh', '-ec', 'true'])).stderr).toContain('not supported by the embedded cluster');
  });
});

describe('users and image programs', () => {
  it('id and whoami follow the user the image runs as', async () => {
    const { pods, busybox, ratings } = cluster();
    expect((await exec(busybox, ['id'])).stdout).toBe('uid=0(root) gid=0(root) groups=0(root)\n');
    expect((await exec(pods['reviews-v1'], ['whoami'])).stdout).toBe('default\n');
    expect(await exec(pods['details-v1'], ['whoami'])).toEqual({ code: 1, stdout: '', stderr: 'whoami: cannot find name for user ID 1000\n' });
    expect((await exec(ratings, ['id'])).stdout).toBe('uid=1000 gid=0(root) groups=0(root)\n');
  });

  it("the image's own runtime exists but says it is not simulated, instead of pretending", async () => {
    const { pods } = cluster();
    const r = await exec(pods['productpage-v1'], ['python', '-c', 'print(1)']);
    expect(r.code).toBe(126);
    expect(r.stderr).toBe('python: running python is not supported by the embedded cluster (its image behaviour is simulated)\n');
  });

  it('curl -v on a failed connection closes it as curl says', async () => {
    const { busybox } = cluster();
    const r = await exec(busybox, ['curl', '-v', 'nosuch']);
    expect(r.stderr).toBe('* Could not resolve host: nosuch\n* Closing connection 0\ncurl: (6) Could not resolve host: nosuch\n');
  });
});

describe('robustness', () => {
  it('random scripts never make the shell throw or report an internal error', async () => {
    const { busybox } = cluster();
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const alphabet = 'ab$(){}[]|&;<>\'"`\\ \n\t=#!*?~-012';
    for (let i = 0; i < 300; i++) {
      let s = '';
      const n = Math.floor(rnd() * 24);
      for (let j = 0; j < n; j++) s += alphabet[Math.floor(rnd() * alphabet.length)];
      const r = await exec(busybox, ['sh', '-c', s]);
      expect(r.stderr, JSON.stringify(s)).not.toContain('internal error');
      expect(typeof r.code).toBe('number');
    }
  });
});

describe('positional parameters', () => {
  it('sh -c SCRIPT NAME ARGS sets $0 and $1…; "$@" keeps arguments whole', async () => {
    const { busybox } = cluster();
    expect((await exec(busybox, ['sh', '-c', 'for a in "$@"; do echo "[$a]"; done; echo "$# $0"', 'myname', 'a b', 'c'])).stdout).toBe('[a b]\n[c]\n2 myname\n');
    expect((await exec(busybox, ['sh', '-c', 'foo', 'myname'])).stderr).toBe('myname: foo: not found\n');
  });
});
