/**
 * `npm run bench -- workshop`: a workshop of N learners (BENCH_LEARNERS, default 200) on one
 * playground as `npm start` runs it. Each joins by the join link (from a loopback address of its
 * own, as a room of machines would, so the per-address join limit is not what is measured), opens
 * a terminal and so an embedded cluster, then for BENCH_SECONDS (default 120) runs a lesson
 * command about every 10 s and, between commands, types a keystroke whose echo is timed. An
 * instructor's dashboard stream is open throughout; a learner moving to another step every few
 * seconds measures how far behind it is. Reports echo p50/p99, command time, memory per learner
 * (the server's process tree over its baseline), the learner limit that memory allows on this
 * machine, and dashboard lag.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import WebSocket from 'ws';
import { decodeServerMessage, encodeMessage } from '../server/terminal/protocol.js';
import { processes } from '../test/helpers/processes.js';
import { buildServer, rssOf, startPlayground } from './playground-process.js';

const N = Number(process.env.BENCH_LEARNERS ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 120);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 30);
const ADMIN_TOKEN = 'bench-instructor-token-0123456789';
/**
 * A lesson command: one kubectl. kubectl's own start-up is most of its cost (~55 ms of CPU for
 * `kubectl version --client` alone on these machines, against ~4 ms in the learner's cluster for
 * the request), so the number of kubectl runs per second, more than the playground, sets how
 * many learners two cores carry.
 */
const COMMAND = 'kubectl get pods -A >/dev/null';
const LOOP_RESOLUTION_MS = 10;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]! : NaN;
};
const f1 = (n: number) => n.toFixed(1);

function tree(root: number): number[] {
  const all = processes();
  const out = [root];
  for (let i = 0; i < out.length; i++) for (const p of all) if (p.ppid === out[i]) out.push(p.pid);
  return out;
}
const treeRss = (root: number) =>
  tree(root).reduce((n, pid) => {
    try {
      return n + rssOf(pid).rss;
    } catch {
      return n;
    }
  }, 0);

/** Clock ticks of /proc's CPU times (USER_HZ: 100 on Linux everywhere it runs). */
const TICKS_PER_SECOND = 100;

/** Own CPU time (+ that of waited-for children) of a process from /proc/PID/stat, in ticks. */
function cpuTicksOf(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14-17 of stat (utime, stime, cutime, cstime) are 11-14 after the command name.
    return Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  } catch {
    return 0; // gone while we looked: its time is in its parent's cutime/cstime now
  }
}

/** The machine's busy and total time from /proc/stat, and the server's and its tree's CPU time. */
interface CpuSample {
  at: number;
  serverTicks: number;
  treeTicks: number;
  machine: { idle: number; steal: number; total: number; busyPct: (before: { idle: number; total: number }) => number; stealPct: (before: { steal: number; total: number }) => number };
  serverPct: (before: CpuSample) => number;
  treePct: (before: CpuSample) => number;
}

function cpuTimes(server: number): CpuSample {
  // user nice system idle iowait irq softirq steal (guest time is already in user and nice).
  const cpu = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  const idle = cpu[3]! + cpu[4]!;
  const steal = cpu[7] ?? 0;
  const total = cpu.reduce((a, b) => a + b, 0);
  const at = performance.now();
  const serverTicks = cpuTicksOf(server);
  const treeTicks = tree(server).reduce((n, pid) => n + cpuTicksOf(pid), 0);
  const self: CpuSample = {
    at,
    serverTicks,
    treeTicks,
    machine: {
      idle,
      steal,
      total,
      busyPct: (b) => 100 * os.cpus().length * (1 - (idle - b.idle) / (total - b.total)),
      // A virtual machine's CPUs taken by its host: busy for this count, but none of ours.
      stealPct: (b) => (100 * os.cpus().length * (steal - b.steal)) / (total - b.total),
    },
    serverPct: (b) => (100 * (serverTicks - b.serverTicks)) / TICKS_PER_SECOND / ((at - b.at) / 1000),
    treePct: (b) => (100 * (treeTicks - b.treeTicks)) / TICKS_PER_SECOND / ((at - b.at) / 1000),
  };
  return self;
}

/** A join form POST from loopback address 127.0.1.x: the learner's cookies. */
function join(base: URL, joinPath: string, name: string, localAddress: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const body = new URLSearchParams({ name }).toString();
    const req = http.request(new URL(joinPath, base), { method: 'POST', localAddress, headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base.origin, 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      if (res.statusCode !== 303) return reject(new Error(`join of ${name} answered ${res.statusCode}`));
      resolve((res.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).join('; '));
    });
    req.on('error', reject);
    req.end(body);
  });
}

interface Learner {
  cookie: string;
  ws: WebSocket;
  echoes: number[];
  commands: number[];
  failures: number;
}

interface BenchTerminal {
  ws: WebSocket;
  screen: () => string;
  waitFor: (test: (screen: string) => boolean, timeoutMs: number) => Promise<void>;
  onData: (f: () => void) => void;
}

async function openTerminal(base: URL, cookie: string): Promise<BenchTerminal> {
  const ws = new WebSocket(new URL('/ws/terminal', base.href.replace(/^http/, 'ws')).href, { perMessageDeflate: false, headers: { cookie, origin: base.origin } });
  let screen = '';
  let unacked = 0;
  const waiters = new Set<() => void>();
  ws.on('message', (data: Buffer, isBinary) => {
    if (!isBinary) return void decodeServerMessage(data.toString());
    screen = (screen + data.toString('utf8')).slice(-16 * 1024);
    unacked += data.length;
    if (unacked >= 16 * 1024) {
      ws.send(encodeMessage({ t: 'ack', bytes: unacked }));
      unacked = 0;
    }
    for (const w of [...waiters]) w();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('error', reject);
    ws.once('open', () => resolve());
  });
  const waitFor = (test: (screen: string) => boolean, timeoutMs: number) =>
    new Promise<void>((resolve, reject) => {
      if (test(screen)) return resolve();
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error('terminal wait timed out'));
      }, timeoutMs);
      const check = () => {
        if (!test(screen)) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      waiters.add(check);
    });
  await waitFor((s) => /[#$] $/.test(s.replace(/\x1b\[[0-9;?]*[a-zA-Z]/g, '')), 120_000);
  return {
    ws,
    screen: () => screen,
    waitFor,
    onData: (f) => {
      const once = () => {
        waiters.delete(once);
        f();
      };
      waiters.add(once);
    },
  };
}

export default async function run(): Promise<void> {
  buildServer();
  // WORKSHOP_BENCH_PROFILE=DIR writes a CPU profile of the server there (open it in Chrome DevTools).
  const profile = process.env.WORKSHOP_BENCH_PROFILE;
  // WORKSHOP_BENCH_CGROUP=DIR runs the playground in that (existing, writable) cgroup, as a
  // container runtime would: the kernel's per-session autogroups do not apply inside one, so
  // only nice values order the CPU there (server/scheduling.ts).
  const cgroup = process.env.WORKSHOP_BENCH_CGROUP;
  const pg = await startPlayground(['--admin-token', ADMIN_TOKEN, '--idle-timeout', '3600'], { nodeFlags: profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [], ...(cgroup ? { cgroup } : {}) });
  const server = pg.child.pid!;
  const base = new URL('/', pg.url);
  try {
    await sleep(1500); // the lesson compiler's child has exited
    const baseline = treeRss(server);
    const adminRes = await fetch(new URL(`/admin?admin_token=${ADMIN_TOKEN}`, base), { redirect: 'manual' });
    const admin = adminRes.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const api = (p: string, init: RequestInit = {}, cookie = admin) => fetch(new URL(p, base), { ...init, headers: { cookie, origin: base.origin, 'content-type': 'application/json' } });
    const created = await api('/api/admin/workshops', { method: 'POST', body: JSON.stringify({ title: 'Bench', tracks: ['warm-up'], capacity: N + 1, expiresInMinutes: 120 }) });
    if (created.status !== 201) throw new Error(`workshop create answered ${created.status}: ${await created.text()}`);
    const w = (await created.json()) as { id: string; joinPath: string };

    // Join and open terminals a few at a time, as a room arriving.
    const learners: Learner[] = [];
    const terminals: BenchTerminal[] = [];
    const connectMs: number[] = [];
    const firstMs: number[] = [];
    for (let i = 0; i < N; i += 5) {
      await Promise.all(
        Array.from({ length: Math.min(5, N - i) }, async (_, k) => {
          const n = i + k;
          const cookie = await join(base, w.joinPath, `Learner ${n}`, `127.0.${1 + Math.floor(n / 250)}.${1 + (n % 250)}`);
          const started = performance.now();
          const t = await openTerminal(base, cookie);
          connectMs.push(performance.now() - started);
          learners[n] = { cookie, ws: t.ws, echoes: [], commands: [], failures: 0 };
          terminals[n] = t;
          // The first command starts the learner's cluster, and leaves a mark of theirs in it.
          const first: Learner = { ...learners[n]!, commands: [] };
          await runCommand(t, first, `kubectl create configmap mine --from-literal=learner=${n} >/dev/null`, 120_000);
          firstMs.push(...first.commands);
          learners[n]!.failures += first.failures;
        }),
      );
    }
    await sleep(3000);
    const loaded = treeRss(server);
    const perLearner = (loaded - baseline) / N;
    const steps = ((await (await api(`/api/admin/workshops/${w.id}/dashboard`)).json()) as { tracks: { steps: { id: string }[] }[] }).tracks[0]!.steps.map((s) => s.id);

    // The dashboard stream, read throughout.
    const controller = new AbortController();
    const stream = await fetch(new URL(`/api/admin/workshops/${w.id}/events`, base), { headers: { cookie: admin }, signal: controller.signal });
    const reader = stream.body!.getReader();
    const mover = learners[0]!;
    let wanted: string | undefined;
    let wantedAt = 0;
    const lags: number[] = [];
    void (async () => {
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true as const }));
        if (done) return;
        buffer += Buffer.from(value).toString('utf8');
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const data = /^data: (.*)$/m.exec(buffer.slice(0, end))?.[1];
          buffer = buffer.slice(end + 2);
          if (!data || !wanted) continue;
          const d = JSON.parse(data) as { learners: { name: string; current?: { stepId: string } | null }[] };
          if (d.learners.find((l) => l.name === 'Learner 0')?.current?.stepId === wanted) {
            lags.push(performance.now() - wantedAt);
            wanted = undefined;
          }
        }
      }
    })();

    // The bench stands in for 200 browsers on machines of their own: how late its own event loop
    // ran is part of every echo it times, so it is reported beside them.
    const clientLoop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
    clientLoop.enable();
    const cpuBefore = cpuTimes(server);
    const benchCpuBefore = process.cpuUsage();
    const startedAt = Date.now();
    const endAt = startedAt + SECONDS * 1000;
    // Echoes in the first WARMUP_SECONDS are reported apart: the clusters of the last learners to
    // arrive are still starting then (about 0.3 s of CPU each over their first 40 s).
    const warmEchoes: number[] = [];
    const loops = learners.map(async (l, n) => {
      const t = terminals[n]!;
      await sleep(Math.random() * 10_000);
      while (Date.now() < endAt) {
        // A keystroke and its echo, then erased.
        const typed = performance.now();
        await new Promise<void>((resolve) => {
          t.onData(resolve);
          l.ws.send(encodeMessage({ t: 'input', d: 'x' }));
        });
        (Date.now() - startedAt < WARMUP_SECONDS * 1000 ? warmEchoes : l.echoes).push(performance.now() - typed);
        l.ws.send(encodeMessage({ t: 'input', d: '\x7f' }));
        await sleep(200);
        await runCommand(t, l, COMMAND);
        await sleep(8000 + Math.random() * 4000);
      }
    });
    let s = 0;
    const moves = (async () => {
      while (Date.now() < endAt - 5000) {
        wanted = steps[++s % steps.length];
        wantedAt = performance.now();
        await api('/api/progress/warm-up', { method: 'PUT', body: JSON.stringify({ currentStep: wanted }) }, mover.cookie);
        await sleep(5000);
      }
    })();
    await Promise.all([...loops, moves]);
    const cpuAfter = cpuTimes(server);
    const benchCpu = process.cpuUsage(benchCpuBefore);
    const benchPct = (100 * (benchCpu.user + benchCpu.system)) / 1000 / (cpuAfter.at - cpuBefore.at);
    clientLoop.disable();
    controller.abort();
    // Isolation: each learner's cluster holds their own mark and nobody else's.
    const isolation = await Promise.all(
      terminals.map(async (t, n) => {
        const listed = `ISO${n}:`;
        // All at once after the timed window: kept out of the lesson commands' times.
        const check: Learner = { ...learners[n]!, commands: [], failures: 0 };
        await runCommand(t, check, `echo ${listed.slice(0, 3)}''${listed.slice(3)}$(kubectl get configmaps -o jsonpath='{range .items[*]}{.metadata.name}/{.data.learner},{end}'):END`);
        const seen = new RegExp(`ISO${n}:([^\\r\\n]*):END`).exec(t.screen())?.[1];
        return seen === `kube-root-ca.crt/,mine/${n},`;
      }),
    );
    const isolated = isolation.filter(Boolean).length;
    const echoes = learners.flatMap((l) => l.echoes);
    // The histogram holds the whole interval between its timer's runs: lateness is what exceeds it.
    const late = (p: number) => Math.max(0, (p === 100 ? clientLoop.max : clientLoop.percentile(p)) / 1e6 - LOOP_RESOLUTION_MS);
    const commands = learners.flatMap((l) => l.commands);
    const memTotal = os.totalmem() / 1048576;
    const lines = [
      `workshop of ${N} learners on one playground (npm start's build and flags${cgroup ? `, in cgroup ${cgroup} as in a container: no autogroup` : ''}), ${SECONDS} s, a command every ~10 s each (${COMMAND}):`,
      `  join + terminal connect to prompt: p50 ${Math.round(pct(connectMs, 50))} ms, p99 ${Math.round(pct(connectMs, 99))} ms`,
      `  keystroke echo under load: p50 ${f1(pct(echoes, 50))} ms, p99 ${f1(pct(echoes, 99))} ms (${echoes.length} keystrokes after the first ${WARMUP_SECONDS} s)`,
      `    this bench's own event loop (the learners' browsers' stand-in, part of each echo timed): late p50 ${f1(late(50))} ms, p99 ${f1(late(99))} ms, max ${f1(late(100))} ms`,
      `    in the first ${WARMUP_SECONDS} s, the last arrivals' clusters still starting: p50 ${f1(pct(warmEchoes, 50))} ms, p99 ${f1(pct(warmEchoes, 99))} ms (${warmEchoes.length} keystrokes)`,
      `  lesson command, typed to done: p50 ${Math.round(pct(commands, 50))} ms, p90 ${Math.round(pct(commands, 90))} ms, p99 ${Math.round(pct(commands, 99))} ms (${commands.length} runs, ${learners.reduce((n, l) => n + l.failures, 0)} timed out)`,
      `  first command of each learner (starts their cluster): p50 ${Math.round(pct(firstMs, 50))} ms, p99 ${Math.round(pct(firstMs, 99))} ms`,
      `  CPU over the ${SECONDS} s (2 cores = 200%): machine ${Math.round(cpuAfter.machine.busyPct(cpuBefore.machine))}% busy (of which ${f1(cpuAfter.machine.stealPct(cpuBefore.machine))}% stolen by the VM's host); the server process ${f1(cpuAfter.serverPct(cpuBefore))}%, its whole tree (clusters, shells, kubectl) ${f1(cpuAfter.treePct(cpuBefore))}%; this bench (the browsers' stand-in) ${f1(benchPct)}%`,
      `  isolation: ${isolated} of ${N} learners' clusters hold exactly their own mark (kube-root-ca.crt and configmap mine = their number)`,
      `  dashboard behind a learner's step change: p50 ${Math.round(pct(lags, 50))} ms, max ${Math.round(Math.max(...lags))} ms (${lags.length} changes)`,
      `  memory: server tree ${f1(baseline)} MiB before, ${f1(loaded)} MiB with ${N} learners and their clusters: ${f1(perLearner)} MiB per learner`,
      `  learner limit by memory on this machine (${f1(memTotal / 1024)} GiB): (${f1(memTotal)} - ${f1(baseline)}) / ${f1(perLearner)} = ${Math.floor((memTotal - baseline) / perLearner)} learners (CPU not counted)`,
    ];
    for (const l of learners) l.ws.close();
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    // SIGTERM to exit: every shell and cluster ended (main.ts gives up after 10 s).
    const stopping = performance.now();
    await pg.stop();
    process.stdout.write(`  server stop with ${N} learners: ${f1((performance.now() - stopping) / 1000)} s\n`);
  }
}

async function runCommand(t: BenchTerminal, l: Learner, command: string, timeoutMs = 60_000): Promise<void> {
  const marker = `DONE${Math.random().toString(36).slice(2, 10)}`;
  const started = performance.now();
  l.ws.send(encodeMessage({ t: 'input', d: `${command}; echo ${marker.slice(0, 4)}''${marker.slice(4)}\r` }));
  try {
    await t.waitFor((s) => s.includes(marker), timeoutMs);
    l.commands.push(performance.now() - started);
  } catch {
    l.failures++;
  }
}
