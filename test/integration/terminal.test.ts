/**
 * Terminal sessions against a real PTY and a real shell, over a real WebSocket: first through
 * a bare http server + the upgrade handler, then through the whole playground server.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { FLOW_HIGH_WATER, encodeMessage } from '../../server/terminal/protocol.js';
import { sessionMembers } from '../../server/terminal/process-tree.js';
import { CLOSE_TAKEN_OVER, TerminalSessions, type ShellSpec } from '../../server/terminal/sessions.js';
import { createTerminalUpgrade } from '../../server/terminal/ws.js';
import { startTestPlayground, type TestPlayground } from '../helpers/playground.js';
import { TestClient } from '../helpers/terminal-client.js';


const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until a growing count stops (half a second brings nothing), up to 20 s; resolves with it. */
async function whenStill(count: () => number): Promise<number> {
  let before = count();
  await expect
    .poll(
      async () => {
        await sleep(500);
        const now = count();
        const moved = now - before;
        before = now;
        return moved;
      },
      { timeout: 20_000, interval: 0 },
    )
    .toBe(0);
  return before;
}

/** Alive = exists and is not a zombie. */
function alive(pid: number): boolean {
  if (!existsSync(`/proc/${pid}/stat`)) return false;
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  return state !== 'Z' && state !== 'X';
}

/** Live processes whose command line starts with `cmdline` (arguments separated by NUL). */
function pidsOf(cmdline: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'latin1').startsWith(cmdline) && alive(Number(name))) pids.push(Number(name));
    } catch {
      /* exited meanwhile */
    }
  }
  return pids;
}

function procState(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]!;
}

/** The host pid of the process a learner's sandboxed shell knows as `nsPid` (the last NSpid). */
function hostPid(pg: TestPlayground, nsPid: number): number {
  for (const id of pg.terminals.ids()) {
    const leader = pg.terminals.shellPid(id);
    if (leader === undefined) continue;
    for (const member of sessionMembers(leader)) {
      const nspids = /^NSpid:\s*(.*)$/m.exec(readFileSync(`/proc/${member.pid}/status`, 'utf8'))?.[1]?.trim().split(/\s+/) ?? [];
      if (nspids.length > 1 && Number(nspids.at(-1)) === nsPid) return member.pid;
    }
  }
  throw new Error(`no process of a learner shell is pid ${nsPid} in its namespace`);
}

interface Harness {
  sessions: TerminalSessions;
  url(sessionId: string): string;
  close(): Promise<void>;
}

async function startHarness(options: { idleTimeoutMs?: number; banner?: string; heartbeatMs?: number; shell?: string } = {}): Promise<Harness> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'terminal-test-'));
  const sessions = new TerminalSessions({
    idleTimeoutMs: options.idleTimeoutMs ?? 60_000,
    scrollbackLines: 1000,
    logger: pino({ level: 'silent' }),
    killGraceMs: 500,
    shell: options.shell,
  });
  const upgrade = createTerminalUpgrade({ sessions, maxPayload: 256 * 1024, heartbeatMs: options.heartbeatMs });
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  server.on('upgrade', (req, socket, head) => {
    const sessionId = new URL(req.url ?? '/', 'http://localhost').searchParams.get('session') ?? 'default';
    const spec = async (): Promise<ShellSpec> => ({
      cwd: path.join(root, sessionId),
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PLAYGROUND_TEST_VAR: 'from-spec' },
      banner: options.banner ?? `Test banner for ${sessionId}\nsecond line`,
    });
    upgrade(req, socket, head, sessionId, spec);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    sessions,
    url: (sessionId) => `ws://127.0.0.1:${port}/terminal?session=${encodeURIComponent(sessionId)}`,
    close: async () => {
      await sessions.closeAll();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(root, { recursive: true, force: true });
    },
  };
}

describe('terminal sessions over WebSocket (real PTY)', () => {
  let h: Harness;
  const clients: TestClient[] = [];
  const open = async (sessionId: string, options?: { autoAck?: boolean }) => {
    const client = await TestClient.open(h.url(sessionId), options);
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    h = await startHarness();
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('says hello, shows the banner before the prompt, and echoes commands', async () => {
    const c = await open('echo');
    const hello = c.messagesOf('hello')[0];
    expect(hello).toMatchObject({ t: 'hello', sessionId: 'echo', cols: 80, rows: 24 });
    await c.until(() => /[$#] /.test(c.output), 'prompt');
    const screen = (c.replay ?? '') + c.output;
    expect(screen.indexOf('Test banner for echo\r\nsecond line')).toBeGreaterThanOrEqual(0);
    expect(screen.indexOf('Test banner')).toBeLessThan(screen.search(/playground.*[$#] /));
    expect(await c.run('echo hello-$((6*7))')).toBe('hello-42');
  });

  it('gives the shell only the environment the spec gives (no server secrets), HOME in its work dir', async () => {
    process.env.PLAYGROUND_SECRET_FOR_TEST = 'leaked';
    try {
      const c = await open('env');
      expect(await c.run('echo "[$PLAYGROUND_SECRET_FOR_TEST] [$PLAYGROUND_TEST_VAR] $TERM"')).toBe('[] [from-spec] xterm-256color');
      const home = await c.run('echo $HOME; pwd');
      const [homeDir, cwd] = home.split(/\r?\n/);
      expect(homeDir).toBe(cwd);
      expect(homeDir).toMatch(/terminal-test-.*\/env$/);
    } finally {
      delete process.env.PLAYGROUND_SECRET_FOR_TEST;
    }
  });

  it('resizes the PTY: stty size reports the new size', async () => {
    const c = await open('resize');
    expect(await c.run('stty size')).toBe('24 80');
    c.send({ t: 'resize', cols: 132, rows: 43 });
    expect(await c.run('stty size')).toBe('43 132');
  });

  it('starts the shell at the size the browser sends before hello (no redraw at 80x24 first)', async () => {
    const ws = new WebSocket(h.url('early-size'));
    ws.once('open', () => ws.send(encodeMessage({ t: 'resize', cols: 101, rows: 31 })));
    const c = new TestClient(ws);
    clients.push(c);
    await c.until(() => c.replay !== undefined, 'hello + replay');
    expect(c.messagesOf('hello')[0]).toMatchObject({ cols: 101, rows: 31 });
    expect(await c.run('stty size')).toBe('31 101');
  });

  it('replays the screen on reconnect; the same shell keeps running', async () => {
    const first = await open('replay');
    const pid = await first.run('echo $$');
    await first.run('printf "\\033[1;31mred-marker\\033[0m\\n"');
    first.close();
    await first.closed();

    const second = await open('replay');
    expect(second.messagesOf('hello')).toHaveLength(1);
    expect(second.replay).toContain('red-marker');
    // Colours survive the replay (serialized as SGR sequences).
    expect(second.replay).toMatch(/\x1b\[[0-9;]*31[0-9;]*m[^\x1b]*red-marker/);
    expect(await second.run('echo $$')).toBe(pid);
  });

  it('hands the session over to a new connection and tells the old one', async () => {
    const first = await open('takeover');
    const pid = await first.run('echo $$');
    const second = await open('takeover');
    expect(await first.closed()).toBe(CLOSE_TAKEN_OVER);
    expect(first.messagesOf('detached')).toHaveLength(1);
    expect(await second.run('echo $$')).toBe(pid);
  });

  it('rejects garbage and binary frames with an error and keeps the session', async () => {
    const c = await open('garbage');
    const pid = await c.run('echo $$');
    c.ws.send('this is not json');
    c.ws.send('{"t":"input"}');
    c.ws.send('{"t":"resize","cols":0,"rows":-3}');
    c.ws.send('{"t":"launch-missiles"}');
    c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    await c.until(() => c.messagesOf('error').length === 5, 'five error replies');
    expect(c.messagesOf('error').map((e) => e.message)).toEqual([
      'message is not valid JSON',
      expect.stringContaining('invalid message at d'),
      expect.stringContaining('invalid message at cols'),
      expect.stringContaining('invalid message at t'),
      expect.stringContaining('binary frames are not accepted'),
    ]);
    expect(c.closeCode).toBeUndefined();
    expect(await c.run('echo $$')).toBe(pid);
  });

  it('bounds what the server buffers even for a client that acks output it never reads', async () => {
    const c = await open('no-read', { autoAck: false });
    const pid = await c.pid('echo $$');
    c.type('yes never-read-by-the-client\r');
    await c.until(() => c.outputBytes > 64 * 1024, 'some output');
    // Stop reading from the socket, yet claim everything was processed.
    (c.ws as unknown as { _socket: import('node:net').Socket })._socket.pause();
    const liar = setInterval(() => c.send({ t: 'ack', bytes: 1_000_000_000 }), 50);
    try {
      const written = () => {
        const yes = sessionMembers(pid).find((m) => m.pid !== pid);
        return yes ? Number(/wchar: (\d+)/.exec(readFileSync(`/proc/${yes.pid}/io`, 'utf8'))?.[1]) : NaN;
      };
      // Kernel socket buffers fill first, then the server's own buffer reaches its bound.
      expect(await whenStill(written)).toBeLessThan(256 * 1024 * 1024);
    } finally {
      clearInterval(liar);
      c.ws.terminate();
    }
    await h.sessions.end('no-read');
  });

  it('signals output to activity listeners and keeps a plain-text transcript for step checks', async () => {
    const heard: string[] = [];
    const stop = h.sessions.onActivity((sessionId) => {
      // What a listener can read when signalled: the output is in the transcript already.
      if (sessionId === 'activity') heard.push(h.sessions.transcript(sessionId));
    });
    try {
      const c = await open('activity');
      await c.run('printf "\\033[32mpods-are-green\\033[0m\\n"');
      expect(heard.some((text) => /^pods-are-green$/m.test(text))).toBe(true);
      const transcript = h.sessions.transcript('activity');
      expect(transcript).toMatch(/^pods-are-green$/m);
      expect(transcript).not.toContain('\x1b');
      expect(h.sessions.transcript('no-such-session')).toBe('');
    } finally {
      stop();
    }
  });

  it('delivers pastes larger than the PTY takes at once whole and in order, and what is typed after them', async () => {
    const c = await open('paste');
    // Once READY prints, bash has handed the terminal back in line mode: the paste is cat's input.
    c.type("stty -echo; printf 'READY%s\\n' Y; cat > pasted.txt\r");
    await c.until(() => c.output.includes('READYY'), 'cat started');
    const lines = Array.from({ length: 24_000 }, (_, i) => `paste-line-${i}`);
    const text = `${lines.join('\n')}\n`;
    // Four pastes of ~60 KiB, back to back: far more than the kernel takes before EAGAIN.
    for (let at = 0; at < text.length; at += 60_000) c.type(text.slice(at, at + 60_000));
    c.type('\x04');
    const expected = createHash('md5').update(text).digest('hex');
    expect(await c.run('stty echo; wc -l < pasted.txt; md5sum < pasted.txt', 30_000)).toMatch(new RegExp(`^${lines.length}\\s+${expected} `));
  });

  it('answers ping with pong', async () => {
    const c = await open('ping');
    c.send({ t: 'ping', id: 42 });
    await c.until(() => c.messagesOf('pong').length > 0, 'pong');
    expect(c.messagesOf('pong')[0]).toEqual({ t: 'pong', id: 42 });
  });

  it('closes only the socket (1009) on an oversized frame; the shell survives and the reconnect replays', async () => {
    const c = await open('oversized');
    const pid = await c.run('echo $$');
    await c.run('echo before-the-big-frame');
    c.ws.send('x'.repeat(300 * 1024));
    expect(await c.closed()).toBe(1009);
    expect(alive(Number(pid))).toBe(true);
    expect(h.sessions.has('oversized')).toBe(true);
    const again = await open('oversized');
    expect(again.replay).toContain('before-the-big-frame');
    expect(await again.run('echo $$')).toBe(pid);
  });

  it('ending a session kills the shell and everything it started, background jobs included', async () => {
    const c = await open('end');
    const shell = await c.pid('echo $$');
    const job = await c.pid('sleep 1000 & echo $!');
    const nohupJob = await c.pid('nohup sleep 1001 >/dev/null 2>&1 & echo $!');
    const disowned = await c.pid('sleep 1002 & disown; echo $!');
    const stopped = await c.pid('sleep 1003 & kill -STOP $!; echo $!');
    // Left the session (but is still in the shell's family: setsid -w waits for it).
    const seconds = 1000 + Math.floor(Math.random() * 8000) + 0.5;
    await c.run(`setsid -w sleep ${seconds} & true`);
    await expect.poll(() => pidsOf(`sleep\u0000${seconds}\u0000`).length).toBe(1);
    const ownSession = pidsOf(`sleep\u0000${seconds}\u0000`)[0]!;
    const all = [shell, job, nohupJob, disowned, stopped, ownSession];
    for (const pid of all) expect(alive(pid), `pid ${pid} before`).toBe(true);
    expect(sessionMembers(shell).length).toBeGreaterThanOrEqual(6);

    await h.sessions.end('end');
    for (const pid of all) expect(alive(pid), `pid ${pid} after`).toBe(false);
    expect(sessionMembers(shell)).toEqual([]);
    expect(h.sessions.has('end')).toBe(false);
    await c.closed();
    expect(c.messagesOf('exit')).toHaveLength(1);
  });

  it('tells the browser when the shell exits, cleans up its jobs, and starts a new shell on the next connection', async () => {
    const c = await open('exit');
    const shell = await c.pid('echo $$');
    const job = await c.pid('sleep 1000 & echo $!');
    await c.run('echo history-marker');
    c.type('exit 3\r');
    expect(await c.closed()).toBe(1000);
    expect(c.messagesOf('exit')).toEqual([{ t: 'exit', code: 3, signal: null }]);
    await expect.poll(() => alive(job), { timeout: 5000 }).toBe(false);
    expect(alive(shell)).toBe(false);
    const again = await open('exit');
    const newShell = await again.pid('echo $$');
    expect(newShell).not.toBe(shell);
    // The old screen is kept above the new shell's banner.
    expect(again.replay).toContain('exit 3');
    // History lives in the session's HOME, so the new shell remembers the old one's commands.
    expect(await again.run('grep -c history-marker ~/.bash_history')).toMatch(/^[1-9]/);
  });

  it('pauses the shell when the browser stops acknowledging output, and resumes when it acks', async () => {
    const c = await open('flow', { autoAck: false });
    c.ack();
    const pid = await c.pid('echo $$');
    c.ack();
    c.type('yes flow-control-test-line\r');
    await c.until(() => c.outputBytes > FLOW_HIGH_WATER, 'a megabyte of output');
    // What was already on its way lands first (the server and this client share an event loop,
    // which a loaded machine may stall).
    const stalled = await whenStill(() => c.outputBytes);
    await sleep(1000);
    // Nothing more arrives while unacknowledged bytes are above the high-water mark.
    expect(c.outputBytes).toBe(stalled);
    expect(stalled).toBeLessThan(FLOW_HIGH_WATER + 512 * 1024);
    // `yes` itself is blocked writing to the full PTY (sleeping), not spinning.
    const yes = sessionMembers(pid).find((m) => m.pid !== pid);
    expect(yes).toBeDefined();
    expect(procState(yes!.pid)).toBe('S');

    c.ack();
    await c.until(() => c.outputBytes > stalled + FLOW_HIGH_WATER / 2, 'output after the ack');
    c.autoAck = true;
    c.ack();
    c.type('\x03');
    expect(await c.run('echo still-alive')).toBe('still-alive');
  });
});

describe('terminal with a POSIX sh', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ shell: '/bin/sh' });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('runs sh with the friendly prompt when bash is not the shell', async () => {
    const c = await TestClient.open(h.url('sh'));
    expect(await c.run('echo sh-works-$((1+1))')).toBe('sh-works-2');
    expect(c.output).toMatch(/playground:\S+[$#] /);
    c.close();
  });
});

describe('idle terminal sessions', () => {
  let h: Harness;
  beforeAll(async () => {
    // The default heartbeat (30 s) here: with 500 ms, a worker stalled for half a second (a loaded
    // machine) runs the heartbeat's timer before it reads the pong from its own client, and the
    // attached session would be dropped as vanished.
    h = await startHarness({ idleTimeoutMs: 700 });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('reaps a detached, silent session (its shell and jobs) but never an attached one', async () => {
    const attached = await TestClient.open(h.url('watched'));
    const watchedShell = await attached.pid('echo $$');

    const c = await TestClient.open(h.url('idle'));
    const shell = await c.pid('echo $$');
    const job = await c.pid('sleep 1000 & echo $!');
    c.close();
    await c.closed();
    expect(h.sessions.has('idle')).toBe(true);
    await expect.poll(() => h.sessions.has('idle'), { timeout: 5000, interval: 100 }).toBe(false);
    expect(alive(shell)).toBe(false);
    expect(alive(job)).toBe(false);

    // Attached for longer than the idle timeout, without typing: still there.
    expect(h.sessions.has('watched')).toBe(true);
    expect(alive(watchedShell)).toBe(true);
    expect(await attached.run('echo $$')).toBe(String(watchedShell));
    attached.close();
  });

  it('drops a browser that vanished without closing (no pong), then reaps its session', async () => {
    const quick = await startHarness({ idleTimeoutMs: 700, heartbeatMs: 500 });
    try {
      const c = await TestClient.open(quick.url('vanished'), { autoPong: false });
      const shell = await c.pid('echo $$');
      // The server terminates the socket itself: no close frame, so the client sees 1006.
      expect(await c.closed()).toBe(1006);
      await expect.poll(() => quick.sessions.has('vanished'), { timeout: 5000, interval: 100 }).toBe(false);
      expect(alive(shell)).toBe(false);
    } finally {
      await quick.close();
    }
  });
});

describe('terminal through the whole playground server', () => {
  let pg: TestPlayground;
  const terminalUrl = () => new URL('/ws/terminal', pg.baseUrl.replace(/^http/, 'ws')).href;
  const browserHeaders = () => ({ cookie: pg.cookies, origin: pg.baseUrl.replace(/\/$/, '') });

  beforeAll(async () => {
    pg = await startTestPlayground();
    // As when an instructor passes the token through the environment: the shell must not inherit it.
    process.env.PLAYGROUND_TOKEN = pg.token;
  });
  afterAll(async () => {
    delete process.env.PLAYGROUND_TOKEN;
    await pg?.close();
    if (pg) rmSync(pg.dataDir, { recursive: true, force: true });
  });

  it('gives the learner a shell whose real kubectl talks to the cluster, and no server secrets', async () => {
    const c = await TestClient.open(terminalUrl(), { headers: browserHeaders() });
    try {
      expect(c.replay).toContain('kubectl talks to');
      expect(await c.run('kubectl version --client')).toMatch(/^Client Version: v1\.\d+/m);
      expect(await c.run('kubectl get namespaces -o name')).toMatch(/^namespace\/default\r?$/m);
      // The access token is the key to every shell on this server: it must not be in one.
      expect(await c.run(`env | grep -c -- '${pg.token}' || true`)).toBe('0');
    } finally {
      c.close();
    }
  });

  it('keeps the learner shell across reconnects and ends it with the server', async () => {
    const first = await TestClient.open(terminalUrl(), { headers: browserHeaders() });
    // The shell sees its own PID namespace (sandbox.ts): its pids, as the host knows them.
    const shell = hostPid(pg, await first.pid('echo $$'));
    const job = hostPid(pg, await first.pid('sleep 1000 & echo $!'));
    await first.run('echo remember-this-line');
    first.close();
    await first.closed();
    const second = await TestClient.open(terminalUrl(), { headers: browserHeaders() });
    expect(second.replay).toContain('remember-this-line');
    expect(hostPid(pg, await second.pid('echo $$'))).toBe(shell);

    await pg.close();
    expect(alive(shell)).toBe(false);
    expect(alive(job)).toBe(false);
    await second.closed();
  });
});
