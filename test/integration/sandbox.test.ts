/**
 * Learners are untrusted: each test is an attack a learner could try from their own terminal,
 * through the real path (browser cookies → WebSocket → PTY → sandbox → bash), with two or more
 * learners in one playground. What the host sees (uids, capabilities, leftovers) is read from
 * the host's /proc, not from what the sandboxed shell says about itself.
 *
 * Needs root (CI, a container: learners get uids of their own) and bubblewrap (.ci/run installs it).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { sessionMembers } from '../../server/terminal/process-tree.js';
import { DEFAULT_LIMITS } from '../../server/terminal/sandbox.js';
import { EmbeddedCluster } from '../../server/sim/cluster.js';
import { exchangeToken, startTestPlayground, type TestPlayground } from '../helpers/playground.js';
import { TestClient } from '../helpers/terminal-client.js';

const IS_ROOT = process.getuid?.() === 0;

interface ProcInfo {
  pid: number;
  comm: string;
  cmdline: string;
  uids: number[];
  caps: Record<'CapInh' | 'CapPrm' | 'CapEff' | 'CapBnd' | 'CapAmb', string>;
  noNewPrivs: string;
}

function procInfo(pid: number): ProcInfo | undefined {
  let status: string;
  let cmdline: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0/g, ' ').trim();
  } catch {
    return undefined;
  }
  const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status)?.[1]?.trim() ?? '';
  if (/^[ZX]/.test(field('State'))) return undefined;
  return {
    pid,
    comm: field('Name'),
    cmdline,
    uids: field('Uid').split(/\s+/).map(Number),
    caps: { CapInh: field('CapInh'), CapPrm: field('CapPrm'), CapEff: field('CapEff'), CapBnd: field('CapBnd'), CapAmb: field('CapAmb') },
    noNewPrivs: field('NoNewPrivs'),
  };
}

/** Live processes of the host whose real uid is `uid`. */
function processesOf(uid: number): ProcInfo[] {
  const found: ProcInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const info = procInfo(Number(name));
    if (info && info.uids[0] === uid) found.push(info);
  }
  return found;
}

const NO_CAPS = '0000000000000000';

interface Learner {
  id: string;
  cookies: string;
  client: TestClient;
  /** Server-side paths. */
  home: string;
  kubeconfig: string;
  /** The uid the host sees the learner's shell run as. */
  uid: number;
  /** Host pids of the processes of the learner's terminal session (bwrap included). */
  members(): ProcInfo[];
}

async function newLearner(pg: TestPlayground, cookies?: string): Promise<Learner> {
  cookies ??= await exchangeToken(pg.url);
  const before = new Set(pg.terminals.ids());
  const client = await TestClient.open(new URL('/ws/terminal', pg.baseUrl.replace(/^http/, 'ws')).href, {
    headers: { cookie: cookies, origin: pg.baseUrl.replace(/\/$/, '') },
  });
  await client.run('true', 20_000);
  const id = pg.terminals.ids().find((i) => !before.has(i));
  if (!id) throw new Error('the terminal started no new session');
  const leader = pg.terminals.shellPid(id)!;
  const members = () => sessionMembers(leader).flatMap((m) => procInfo(m.pid) ?? []);
  const shell = members().find((p) => p.comm === 'bash');
  if (!shell) throw new Error(`no bash among ${JSON.stringify(members())}`);
  const root = path.join(pg.dataDir, 'learners', id);
  return { id, cookies, client, home: path.join(root, 'home'), kubeconfig: path.join(root, 'kubeconfig'), uid: shell.uids[0]!, members };
}

/** Polls until the session is gone (idle reaping) and no process of `uid` is left. */
async function expectReaped(pg: TestPlayground, learner: Learner): Promise<void> {
  await expect.poll(() => pg.terminals.has(learner.id), { timeout: 15_000, interval: 100 }).toBe(false);
  await expect.poll(() => processesOf(learner.uid).map((p) => p.cmdline), { timeout: 5000, interval: 100 }).toEqual([]);
}

describe.skipIf(!IS_ROOT)('a learner attacking from their shell (server as root: bubblewrap and a uid per learner)', () => {
  let pg: TestPlayground;
  let a: Learner;
  let b: Learner;
  const serverWorks = async () => expect((await pg.fetchAuthed('/api/info')).status).toBe(200);

  beforeAll(async () => {
    // Idle sessions are reaped after a second: the reaping tests use it; attached ones stay.
    pg = await startTestPlayground({ idleTimeoutSeconds: 1 });
    a = await newLearner(pg, pg.cookies);
    b = await newLearner(pg);
    await a.client.run('echo secret-of-a > ~/notes-a');
    await b.client.run('echo secret-of-b > ~/notes-b');
  }, 60_000);
  afterAll(async () => {
    await pg?.close();
    if (pg) rmSync(pg.dataDir, { recursive: true, force: true });
  });

  it('runs each learner as a uid of their own, without capabilities, with no_new_privs, as the host sees it', async () => {
    expect(a.client.replay).not.toContain('not sandboxed');
    expect(a.uid).toBeGreaterThanOrEqual(100_000);
    expect(b.uid).toBeGreaterThanOrEqual(100_000);
    expect(a.uid).not.toBe(b.uid);
    // The prompt can come back before the background job has exec'd sleep: wait until it has.
    await a.client.run('sleep 600 & until [ "$(tr "\\0" " " < /proc/$!/cmdline)" = "sleep 600 " ]; do :; done');
    for (const learner of [a, b]) {
      const members = learner.members();
      // Only bwrap itself (it sets up the namespaces and mounts) is root; all the learner runs is theirs.
      const theirs = members.filter((p) => p.comm !== 'bwrap');
      expect(theirs.length).toBeGreaterThanOrEqual(1);
      for (const p of theirs) {
        expect(p.uids, p.cmdline).toEqual([learner.uid, learner.uid, learner.uid, learner.uid]);
        expect(p.caps, p.cmdline).toEqual({ CapInh: NO_CAPS, CapPrm: NO_CAPS, CapEff: NO_CAPS, CapBnd: NO_CAPS, CapAmb: NO_CAPS });
        expect(p.noNewPrivs, p.cmdline).toBe('1');
      }
      expect(processesOf(learner.uid).map((p) => p.pid).sort()).toEqual(theirs.map((p) => p.pid).sort());
    }
    expect(processesOf(a.uid).some((p) => p.cmdline === 'sleep 600')).toBe(true);
    expect(await a.client.run('id -u; whoami')).toBe(`${a.uid}\r\nlearner`);
    // A setuid binary gives nothing under no_new_privs.
    const su = await a.client.run('ls -l /usr/bin/su | cut -c1-4; timeout 5 su -c id root </dev/null 2>&1; echo "rc=$?"');
    expect(su).toMatch(/^-rws\r\n[\s\S]*rc=[1-9]/);
    expect(su).not.toContain('uid=0');
    expect(await a.client.run('setpriv --reuid=0 id -u 2>&1')).toMatch(/Operation not permitted/);
  });

  it("sees neither B's home nor B's kubeconfig, the data dir, the progress DB, or server files", async () => {
    const hidden = [pg.dataDir, path.join(pg.dataDir, 'learners'), b.home, b.kubeconfig, path.join(pg.dataDir, 'progress.sqlite'), path.join(pg.dataDir, 'learners', 'uids.json'), a.home];
    for (const p of hidden) {
      expect(await a.client.run(`ls -d '${p}' 2>&1; cat '${p}' 2>&1 | head -c 200`), p).toMatch(/^ls: cannot access '.*': No such file or directory\r\ncat: .*: No such file or directory$/);
    }
    expect(await a.client.run('ls -A /home; ls ~; echo "$HOME"; pwd')).toBe('learner\r\nnotes-a\r\n/home/learner\r\n/home/learner');
    // Nowhere on the filesystem the sandbox shows: not B's notes, not the DB, not the server's code.
    const found = await a.client.run(
      "find / -path /proc -prune -o \\( -name 'notes-b' -o -name 'progress.sqlite*' -o -name uids.json -o -name 'playground.ts' \\) -print 2>/dev/null | head -5",
      60_000,
    );
    expect(found).toBe('');
    // Its own cluster is there, through the read-only kubeconfig.
    expect(await a.client.run('kubectl get namespaces -o name')).toMatch(/^namespace\/default\r?$/m);
    expect(await a.client.run('echo x >> "$KUBECONFIG" 2>&1; echo "rc=$?"')).toMatch(/(Read-only file system|Permission denied)[\s\S]*rc=1/);
  });

  it("cannot use B's cluster: the API listens on loopback, but wants B's token, which A cannot read", async () => {
    const kc = YAML.parse(readFileSync(b.kubeconfig, 'utf8')) as { clusters: Array<{ cluster: { server: string } }> };
    const server = kc.clusters[0]!.cluster.server;
    expect(server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    // Without a token A is system:anonymous, whom a kubeadm cluster's RBAC forbids everything but health and version.
    expect(await a.client.run(`curl -sk -o /dev/null -w '%{http_code}' ${server}/api/v1/namespaces`)).toBe('403');
    // A's own token is A's only.
    const own = "$(kubectl config view --raw -o jsonpath='{.users[0].user.token}')";
    expect(await a.client.run(`curl -sk -o /dev/null -w '%{http_code}' -H "Authorization: Bearer ${own}" ${server}/api/v1/namespaces`)).toBe('401');
    expect(await b.client.run('kubectl get namespaces -o name')).toMatch(/^namespace\/default\r?$/m);
  });

  it("cannot see, read, signal or trace the server or B's shell", async () => {
    const serverPid = process.pid;
    const bShell = b.members().find((p) => p.comm === 'bash')!.pid;
    expect(serverPid).toBeGreaterThan(50);
    expect(bShell).toBeGreaterThan(50);
    // A fresh /proc: the shell's own PID namespace, nothing else.
    const pids = (await a.client.run("ls /proc | grep -E '^[0-9]+$'")).split(/\r?\n/).map(Number);
    expect(pids.length).toBeLessThan(10);
    expect(pids).not.toContain(serverPid);
    for (const file of ['environ', 'mem', 'cmdline', 'maps']) {
      expect(await a.client.run(`head -c 64 /proc/${serverPid}/${file} 2>&1 | head -1`)).toMatch(/No such file or directory/);
    }
    expect(await a.client.run(`kill -9 ${serverPid} 2>&1`)).toMatch(/No such process/);
    expect(await a.client.run(`kill -9 ${bShell} 2>&1`)).toMatch(/No such process/);
    // pid 1 of the namespace is bwrap, root's: out of reach as well.
    expect(await a.client.run('kill -9 1 2>&1; echo "rc=$?"')).toMatch(/Operation not permitted[\s\S]*rc=1/);
    expect(await a.client.run('strace -p 1 -e trace=none 2>&1 | head -1')).toMatch(/Operation not permitted/);
    expect(await a.client.run(`strace -p ${serverPid} 2>&1 | head -1`)).toMatch(/No such process/);
    await serverWorks();
    expect(await b.client.run('cat ~/notes-b')).toBe('secret-of-b');
  });

  it('cannot change what another shell (or its own next one) runs at start', async () => {
    const tries = [
      'echo "echo PWNED-rc" >> /run/playground/bashrc',
      'echo "echo PWNED-sh" >> /run/playground/shrc',
      'echo "echo PWNED-etc" >> /etc/bash.bashrc',
      'echo "echo PWNED-profile" >> /etc/profile',
      'touch /usr/bin/kubectl-pwned',
    ];
    for (const attempt of tries) expect(await a.client.run(`${attempt} 2>&1; echo "rc=$?"`), attempt).toMatch(/(Read-only file system|Permission denied)[\s\S]*rc=1/);
    // What A may write is A's own home; no shell reads an rcfile from there.
    await a.client.run('for f in .bashrc .profile .bash_profile .bash_login; do echo "echo PWNED-$f" >> ~/$f; done');
    const c = await newLearner(pg);
    try {
      expect(await c.client.run('echo fresh-shell')).toBe('fresh-shell');
      expect((c.client.replay ?? '') + c.client.output).not.toContain('PWNED');
    } finally {
      c.client.close();
    }
  });

  it('leaves nothing behind when its session is reaped: setsid, nohup, disown, double-forked daemons', async () => {
    const d = await newLearner(pg);
    await d.client.run('(setsid sleep 9999 &)');
    await d.client.run('nohup sleep 9998 >/dev/null 2>&1 & true');
    await d.client.run('setsid -f sh -c "sleep 9997" </dev/null >/dev/null 2>&1');
    await d.client.run('sh -c "(sleep 9996 </dev/null >/dev/null 2>&1 &) &"; sleep 9995 & disown');
    await expect
      .poll(() => processesOf(d.uid).map((p) => p.cmdline).filter((c) => /^sleep 999\d$/.test(c)).sort(), { timeout: 5000 })
      .toEqual(['sleep 9995', 'sleep 9996', 'sleep 9997', 'sleep 9998', 'sleep 9999']);
    // The browser goes away; the idle timeout reaps the session, and everything in it.
    d.client.close();
    await expectReaped(pg, d);
    await serverWorks();
  });

  it('kill -9 -1 (every process it may signal) reaches only its own processes', async () => {
    await b.client.run('sleep 801 & true');
    await a.client.run('sleep 802 & true');
    await expect.poll(() => processesOf(b.uid).some((p) => p.cmdline === 'sleep 801')).toBe(true);
    expect(await a.client.run('kill -9 -1; echo "rc=$?"')).toMatch(/rc=0$/);
    await expect.poll(() => processesOf(a.uid).some((p) => p.cmdline === 'sleep 802')).toBe(false);
    expect(processesOf(b.uid).some((p) => p.cmdline === 'sleep 801')).toBe(true);
    expect(await b.client.run('echo b-untouched')).toBe('b-untouched');
    expect(await a.client.run('echo a-still-here')).toBe('a-still-here');
    await serverWorks();
  });

  it('a fork bomb hits the process limit and dies with its session; the server and B keep working', async () => {
    const e = await newLearner(pg);
    e.client.type('bomb() { bomb | bomb & }; bomb\r');
    let most = 0;
    await expect
      .poll(
        () => {
          most = Math.max(most, processesOf(e.uid).length);
          return /fork: (retry: )?Resource temporarily unavailable/.test(e.client.output);
        },
        { timeout: 30_000, interval: 50 },
      )
      .toBe(true);
    // Meanwhile: B's shell and the server answer.
    expect(await b.client.run('echo b-still-here', 30_000)).toBe('b-still-here');
    await serverWorks();
    most = Math.max(most, processesOf(e.uid).length);
    expect(most).toBeLessThanOrEqual(DEFAULT_LIMITS.processes);
    e.client.close();
    await expectReaped(pg, e);
    expect(await b.client.run('echo b-after')).toBe('b-after');
  }, 90_000);

  it('stops a huge file at the file size limit, fills only its own small /tmp, and bounds memory', async () => {
    // SIGXFSZ (25) ends the writer at the limit: exit status 128 + 25.
    expect(await a.client.run('head -c 2G /dev/zero > big; echo "rc=$?"; stat -c %s big; rm -f big', 60_000)).toMatch(
      new RegExp(`rc=153\\r\\n${DEFAULT_LIMITS.fileBytes}$`),
    );
    expect(await a.client.run('head -c 200M /dev/zero 2>&1 >/tmp/t; echo "rc=$?"; stat -c %s /tmp/t; rm -f /tmp/t', 30_000)).toMatch(
      new RegExp(`No space left on device\\r\\nrc=1\\r\\n${DEFAULT_LIMITS.tmpBytes}$`),
    );
    expect(await b.client.run('ls /tmp | wc -l')).toBe('0');
    const perl = 'perl -e \'$n = shift; $x = "a" x $n; print "allocated\\n"\'';
    expect(await a.client.run(`${perl} ${2 * DEFAULT_LIMITS.memoryBytes} 2>&1; echo "rc=$?"`, 30_000)).toMatch(/Out of memory[\s\S]*rc=[1-9]/);
    expect(await a.client.run(`${perl} 1000000`)).toBe('allocated');
    expect(await a.client.run('ulimit -H -u; ulimit -u 100000 2>&1; ulimit -H -f; ulimit -H -v')).toBe(
      `${DEFAULT_LIMITS.processes}\r\nbash: ulimit: max user processes: cannot modify limit: Operation not permitted\r\n${DEFAULT_LIMITS.fileBytes / 1024}\r\n${DEFAULT_LIMITS.memoryBytes / 1024}`,
    );
  });

  it('keeps job control, the terminal size and the prompt of a real terminal', async () => {
    expect(await a.client.run('stty size')).toBe('24 80');
    a.client.send({ t: 'resize', cols: 120, rows: 40 });
    await expect.poll(() => a.client.run('stty size')).toBe('40 120');
    // A foreground job gets ^C; a background job can be listed and brought back.
    a.client.type('sleep 700\r');
    await expect.poll(() => processesOf(a.uid).some((p) => p.cmdline === 'sleep 700')).toBe(true);
    a.client.type('\x03');
    expect(await a.client.run('echo after-interrupt')).toBe('after-interrupt');
    expect(await a.client.run('sleep 701 & jobs')).toMatch(/\[\d+\]\+\s+Running\s+sleep 701 &/);
    expect(await a.client.run('kill %%; wait $!; echo done')).toMatch(/done$/);
    // bwrap shows the PTY as /dev/console; /dev/tty is the controlling terminal all the same.
    expect(await a.client.run('tty; echo via-dev-tty > /dev/tty')).toMatch(/^\/dev\/(console|pts\/\d+)\r\nvia-dev-tty$/);
  });
});

describe.skipIf(!IS_ROOT)('learner shells of an unprivileged server (a laptop): bubblewrap in a user namespace', () => {
  // The server acts as this user: the sandbox launches everything through setpriv to it first.
  const user = { uid: 43_210, gid: 43_210 };
  let pg: TestPlayground;

  beforeAll(async () => {
    pg = await startTestPlayground({ idleTimeoutSeconds: 1, sandbox: { asUser: user } });
  }, 60_000);
  afterAll(async () => {
    await pg?.close();
    if (pg) rmSync(pg.dataDir, { recursive: true, force: true });
  });

  it("runs the shell as the server's user, sandboxed: no capabilities, private /proc, data dir out of sight, nothing outlives it", async () => {
    const a = await newLearner(pg, pg.cookies);
    expect(a.client.replay).not.toContain('not sandboxed');
    expect(a.uid).toBe(user.uid);
    for (const p of a.members()) {
      expect(p.uids, p.cmdline).toEqual([user.uid, user.uid, user.uid, user.uid]);
      expect(p.caps.CapEff, p.cmdline).toBe(NO_CAPS);
      expect(p.noNewPrivs, p.cmdline).toBe('1');
    }
    expect(await a.client.run(`ls -d '${pg.dataDir}' 2>&1`)).toMatch(/No such file or directory/);
    expect(await a.client.run(`cat /proc/${process.pid}/environ 2>&1`)).toMatch(/No such file or directory/);
    expect(await a.client.run('echo "$HOME"; kubectl get namespaces -o name | head -1')).toBe('/home/learner\r\nnamespace/default');
    expect(await a.client.run('ulimit -H -u')).toBe(String(DEFAULT_LIMITS.processes));
    await a.client.run('(setsid sleep 9994 &)');
    await expect.poll(() => processesOf(user.uid).some((p) => p.cmdline === 'sleep 9994')).toBe(true);
    a.client.close();
    await expectReaped(pg, a);
  });
});

describe.skipIf(!IS_ROOT)('learner shells where bubblewrap cannot run', () => {
  it('unprivileged: the shell still starts, says it is not sandboxed, and the server warns once', async () => {
    const user = { uid: 43_211, gid: 43_211 };
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    const pg = await startTestPlayground({ logger, sandbox: { asUser: user, bwrap: '/nonexistent/bwrap' } });
    try {
      const a = await newLearner(pg, pg.cookies);
      const b = await newLearner(pg);
      for (const learner of [a, b]) {
        expect(learner.client.replay).toMatch(/This shell is not sandboxed \(bubblewrap \(bwrap\) is not installed at \/nonexistent\/bwrap\)/);
        expect(learner.uid).toBe(user.uid);
        expect(await learner.client.run('echo works-$((6*7)); kubectl get namespaces -o name | head -1')).toBe('works-42\r\nnamespace/default');
      }
      expect(lines.filter((l) => l.includes('not sandboxed'))).toHaveLength(1);
    } finally {
      await pg.close();
      rmSync(pg.dataDir, { recursive: true, force: true });
    }
  });

  it('as root: each learner still gets a uid of their own, and the data dir keeps them out', async () => {
    const pg = await startTestPlayground({ sandbox: { bwrap: '/nonexistent/bwrap' } });
    try {
      const a = await newLearner(pg, pg.cookies);
      const b = await newLearner(pg);
      expect(a.client.replay).toContain('This shell is not sandboxed (own user and limits only');
      expect(a.uid).toBeGreaterThanOrEqual(100_000);
      expect(b.uid).not.toBe(a.uid);
      for (const p of a.members()) {
        expect(p.uids).toEqual([a.uid, a.uid, a.uid, a.uid]);
        expect(p.caps.CapEff).toBe(NO_CAPS);
      }
      await b.client.run('echo secret-of-b > ~/notes-b');
      for (const p of [path.join(b.home, 'notes-b'), b.kubeconfig, path.join(pg.dataDir, 'progress.sqlite')]) {
        expect(await a.client.run(`cat '${p}' 2>&1`), p).toMatch(/Permission denied/);
      }
      expect(await a.client.run(`ls '${pg.dataDir}' '${path.join(pg.dataDir, 'learners')}' 2>&1`)).toMatch(/cannot open directory[\s\S]*Permission denied/);
      expect(await a.client.run(`kill -9 ${process.pid} 2>&1`)).toMatch(/Operation not permitted/);
      expect(await a.client.run('kubectl get namespaces -o name | head -1; ulimit -H -u')).toBe(`namespace/default\r\n${DEFAULT_LIMITS.processes}`);
    } finally {
      await pg.close();
      rmSync(pg.dataDir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!IS_ROOT)('a learner shell on a cluster named by the instructor\'s kubeconfig', () => {
  it('reaches the cluster although the kubeconfig names its CA by a path the sandbox hides', async () => {
    const cluster = await EmbeddedCluster.start({ host: '127.0.0.1', port: 0 });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pg-instructor-'));
    let pg: TestPlayground | undefined;
    try {
      // As kubeadm and minikube write them: the CA as a file next to the kubeconfig, readable by root only.
      const kc = YAML.parse(cluster.kubeconfig()) as { clusters: Array<{ cluster: Record<string, string> }> };
      const secretDir = path.join(dir, 'pki');
      mkdirSync(secretDir, { mode: 0o700 });
      writeFileSync(path.join(secretDir, 'ca.crt'), Buffer.from(kc.clusters[0]!.cluster['certificate-authority-data']!, 'base64'), { mode: 0o600 });
      delete kc.clusters[0]!.cluster['certificate-authority-data'];
      kc.clusters[0]!.cluster['certificate-authority'] = 'pki/ca.crt';
      writeFileSync(path.join(dir, 'config'), YAML.stringify(kc), { mode: 0o600 });

      pg = await startTestPlayground({ backend: 'kubeconfig', kubeconfig: path.join(dir, 'config') });
      const a = await newLearner(pg, pg.cookies);
      expect(await a.client.run('kubectl get namespaces -o name | head -1')).toBe('namespace/default');
      expect(await a.client.run(`ls '${dir}' 2>&1`)).toMatch(/No such file or directory/);
    } finally {
      await pg?.close();
      if (pg) rmSync(pg.dataDir, { recursive: true, force: true });
      await cluster.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
