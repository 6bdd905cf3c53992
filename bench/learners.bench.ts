/**
 * What each learner costs with their embedded cluster contained in a process of its own, and the
 * measurements that chose that design:
 *  1. Containment: does a V8 fatal error in a worker_thread end its parent (heap limit; the
 *     RegExp zone FatalProcessOutOfMemory a hostile YAML body once caused)? And RSS per cluster,
 *     idle and with Bookinfo, as worker_threads vs child processes, from the same built entry.
 *  2. On the playground as `npm start` runs it: memory per learner (server + cluster processes),
 *     a new learner's first terminal to its prompt, and idle release (RSS and listening sockets
 *     back to baseline once every learner left).
 * Floors measured in the same run: a bare node process's RSS, and the time to fork a bare node
 * process until it answers over IPC (what any process-per-cluster design pays at least).
 */
import { spawn, spawnSync, execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import WebSocket from 'ws';
import { decodeServerMessage, encodeMessage } from '../server/terminal/protocol.js';
import { findReferenceDir } from '../test/helpers/reference-dir.js';
import { listeningSockets, processes } from '../test/helpers/processes.js';
import { buildServer, projectRoot, rssOf, startPlayground, startScript } from './playground-process.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const mib = (bytes: number) => bytes / 1048576;
const f1 = (n: number) => n.toFixed(1);
const IDLE_MS = 3000;
const CLUSTERS = 3;
const LEARNERS = 5;
const WITH_BOOKINFO = 2;

const bookinfo = () => {
  const dir = findReferenceDir();
  return dir ? path.join(dir, 'samples', 'bookinfo.yaml') : undefined;
};

function kubectl(kubeconfig: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile('kubectl', args, { env: { PATH: process.env.PATH!, KUBECONFIG: kubeconfig, HOME: os.tmpdir() }, timeout: 120_000 }, (err, _o, stderr) =>
      err ? reject(new Error(`kubectl ${args.join(' ')}: ${stderr}`)) : resolve(),
    ),
  );
}

async function deployBookinfo(kubeconfig: string, manifest: string): Promise<void> {
  await kubectl(kubeconfig, ['apply', '-f', manifest]);
  await kubectl(kubeconfig, ['wait', '--for=condition=Ready', 'pod', '--all', '--timeout=90s']);
}

/** A process and all its descendants. */
function tree(root: number): number[] {
  const all = processes();
  const out = [root];
  for (let i = 0; i < out.length; i++) for (const p of all) if (p.ppid === out[i]) out.push(p.pid);
  return out;
}
/** Proportional set size: shared pages (node's own code, mapped once for every process) split among their users. */
const pssOf = (pid: number) => {
  try {
    return Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? NaN) / 1024;
  } catch {
    return NaN;
  }
};
const treeRss = (root: number) => tree(root).reduce((n, pid) => n + (safeRss(pid) ?? 0), 0);
const treeListening = (root: number) => tree(root).reduce((n, pid) => n + listeningSockets(pid), 0);
const safeRss = (pid: number) => {
  try {
    return rssOf(pid).rss;
  } catch {
    return undefined;
  }
};

/** 1a: a fatal error inside a worker, and inside a child process. */
function fatalErrors(): string[] {
  const script = path.join(projectRoot, 'bench', 'containment', 'worker-fatal.mjs');
  const lines: string[] = [];
  let yaml: ReturnType<typeof spawnSync> | undefined;
  for (const kind of ['heap', 'yaml']) {
    const r = spawnSync(process.execPath, [script, kind], { encoding: 'utf8', timeout: 60_000 });
    if (kind === 'yaml') yaml = r;
    const survived = String(r.stdout).includes('parent survived');
    const how = r.signal ? `killed by ${r.signal}` : `exit ${r.status}`;
    const why = kind === 'heap' ? 'heap limit reached' : 'FatalProcessOutOfMemory (RegExp zone, nested YAML)';
    lines.push(`  worker_thread, ${why.padEnd(52)} parent ${survived ? 'survived' : `DIED (${how})`}`);
  }
  // The same failure seen one level up: that whole process was a child of this bench, which is still here.
  const how = yaml?.signal ? `killed by ${yaml.signal}` : `exit ${yaml?.status}`;
  lines.push(`  child process, ${'the same FatalProcessOutOfMemory'.padEnd(52)} parent survived (the child ${how})`);
  return lines;
}

/** 1b: RSS per cluster hosted as workers or as child processes (host.mjs), idle and with Bookinfo. */
async function perCluster(mode: 'worker' | 'process'): Promise<{ idle: number; bookinfo?: number; startMs: number }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `bench-${mode}-`));
  const { env, flags } = startScript();
  const host = spawn(process.execPath, [...flags, path.join(projectRoot, 'bench', 'containment', 'host.mjs'), mode, String(CLUSTERS), dir], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  const lines = readline.createInterface({ input: host.stdout! })[Symbol.asyncIterator]();
  const next = async () => JSON.parse((await lines.next()).value as string) as Record<string, unknown>;
  try {
    const started = (await next()) as { baseline: number; kubeconfigs: string[]; startMs: number[] };
    const measure = async () => {
      host.stdin!.write('measure\n');
      const m = (await next()) as { self: number; children: number[] };
      return (m.self - started.baseline + m.children.reduce((a, b) => a + b, 0)) / CLUSTERS;
    };
    await sleep(IDLE_MS);
    const idle = await measure();
    const manifest = bookinfo();
    let withBookinfo: number | undefined;
    if (manifest) {
      for (const kc of started.kubeconfigs) await deployBookinfo(kc, manifest);
      await sleep(IDLE_MS);
      withBookinfo = await measure();
    }
    host.stdin!.write('stop\n');
    await new Promise((r) => host.once('exit', r));
    return { idle: mib(idle), ...(withBookinfo !== undefined ? { bookinfo: mib(withBookinfo) } : {}), startMs: median(started.startMs) };
  } finally {
    if (host.exitCode === null) host.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Floors: a bare node process's RSS; forking one until it answers over IPC. */
async function floors(): Promise<{ rss: number; forkMs: number }> {
  const times: number[] = [];
  let rss = 0;
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    const c = spawn(process.execPath, ['-e', "process.send('up'); setInterval(() => {}, 1000)"], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
    await new Promise((r) => c.once('message', r));
    times.push(performance.now() - t);
    if (i === 0) {
      await sleep(500);
      rss = rssOf(c.pid!).rss;
    }
    c.kill('SIGKILL');
  }
  return { rss, forkMs: median(times) };
}

/** A new learner (own cookies) opening their first terminal: ms from connect to the shell's prompt. */
async function newLearnerTerminal(url: URL): Promise<{ ws: WebSocket; ms: number; run(command: string): Promise<void> }> {
  const exchange = await fetch(url, { redirect: 'manual' });
  const cookie = exchange.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  const started = performance.now();
  const ws = new WebSocket(new URL('/ws/terminal', url.href.replace(/^http/, 'ws')).href, { perMessageDeflate: false, headers: { cookie, origin: url.origin } });
  let screen = '';
  let unacked = 0;
  ws.on('message', (data: Buffer, isBinary) => {
    if (!isBinary) return void decodeServerMessage(data.toString());
    screen = (screen + data.toString('utf8')).slice(-64 * 1024);
    unacked += data.length;
    if (unacked >= 16 * 1024) {
      ws.send(encodeMessage({ t: 'ack', bytes: unacked }));
      unacked = 0;
    }
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('error', reject);
    ws.once('open', () => resolve());
  });
  const until = async (text: string, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (!screen.includes(text)) {
      if (Date.now() > deadline) throw new Error(`"${text}" did not appear in the terminal`);
      await sleep(10);
    }
  };
  // The prompt ends in "# " (root) or "$ "; the banner comes first.
  const deadline = Date.now() + 30_000;
  while (!/[#$] $/.test(screen.replace(/\x1b\[[0-9;?]*[a-zA-Z]/g, ''))) {
    if (Date.now() > deadline) throw new Error('no prompt within 30 s');
    await sleep(5);
  }
  const ms = performance.now() - started;
  let n = 0;
  const run = async (command: string) => {
    const marker = `DONE-${++n}-${Date.now()}`;
    ws.send(encodeMessage({ t: 'input', d: `${command}; echo ${marker.slice(0, 4)}''${marker.slice(4)}\r` }));
    await until(marker, 180_000);
  };
  return { ws, ms, run };
}

async function playground(): Promise<string[]> {
  const pg = await startPlayground(['--idle-timeout', '2']);
  const server = pg.child.pid!;
  const clusterPids = () => tree(server).filter((pid) => processes().find((p) => p.pid === pid)?.cmdline.includes('sim-child'));
  try {
    await sleep(1500); // the lesson compiler's child has exited
    const listening = { rss: treeRss(server), listening: treeListening(server) };
    // One learner comes and goes first: what the server loads once (terminal, cluster backend) is then in the baseline.
    const first = await newLearnerTerminal(pg.url);
    first.ws.close();
    while (clusterPids().length > 0) await sleep(50);
    await sleep(1000);
    const baseline = { rss: treeRss(server), listening: treeListening(server) };
    const learners = [];
    for (let i = 0; i < LEARNERS; i++) learners.push(await newLearnerTerminal(pg.url));
    await sleep(IDLE_MS);
    const idleTotal = treeRss(server);
    const children = clusterPids().map((pid) => rssOf(pid).rss);
    const childrenPss = clusterPids().map(pssOf);
    const serverAlone = rssOf(server).rss;
    const manifest = bookinfo();
    let bookinfoPerLearner: number | undefined;
    if (manifest) {
      for (const l of learners.slice(0, WITH_BOOKINFO)) await l.run(`kubectl apply -f ${manifest} >/dev/null && kubectl wait --for=condition=Ready pod --all --timeout=90s >/dev/null`);
      await sleep(IDLE_MS);
      bookinfoPerLearner = (treeRss(server) - idleTotal) / WITH_BOOKINFO + (idleTotal - baseline.rss) / LEARNERS;
    }
    // Everyone leaves: shells are reaped after the idle timeout, their clusters one timeout later.
    const left = performance.now();
    for (const l of learners) l.ws.close();
    while (clusterPids().length > 0) {
      if (performance.now() - left > 60_000) throw new Error('clusters were not released within 60 s');
      await sleep(50);
    }
    const releasedMs = performance.now() - left;
    await sleep(1000);
    const after = { rss: treeRss(server), listening: treeListening(server) };
    return [
      `on the playground (npm start's build and flags, --idle-timeout 2), ${LEARNERS} learners, medians:`,
      `  listening, no learner yet: server ${f1(listening.rss)} MiB RSS, ${listening.listening} listening sockets`,
      `  first learner since start, connect to prompt: ${Math.round(first.ms)} ms (loads the terminal and cluster code)`,
      `  baseline once that learner came and went: server ${f1(baseline.rss)} MiB RSS, ${baseline.listening} listening sockets`,
      `  first terminal of a new learner, connect to prompt: median ${Math.round(median(learners.map((l) => l.ms)))} ms (each: ${learners.map((l) => Math.round(l.ms)).join(', ')})`,
      `  memory per learner, idle terminal: ${f1((idleTotal - baseline.rss) / LEARNERS)} MiB (cluster process median ${f1(median(children))} MiB RSS, ${f1(median(childrenPss))} MiB PSS with ${LEARNERS} of them sharing node's pages; server +${f1((serverAlone - baseline.rss) / LEARNERS)} MiB per learner)`,
      ...(bookinfoPerLearner !== undefined ? [`  memory per learner with Bookinfo running (${WITH_BOOKINFO} learners): ${f1(bookinfoPerLearner)} MiB`] : []),
      `  idle release: every cluster stopped ${f1(releasedMs / 1000)} s after the last terminal closed (reap 2 s + release 2 s)`,
      `  after release: server ${f1(after.rss)} MiB RSS (${f1((after.rss / baseline.rss - 1) * 100)}% vs baseline), ${after.listening} listening sockets (baseline ${baseline.listening}), ${clusterPids().length} cluster processes`,
    ];
  } finally {
    await pg.stop();
  }
}

export default async function run(): Promise<void> {
  buildServer();
  const floor = await floors();
  const lines = ['containment: a V8 fatal error in one learner\'s cluster', ...fatalErrors(), ''];
  const worker = await perCluster('worker');
  const child = await perCluster('process');
  const bi = (r: { bookinfo?: number }) => (r.bookinfo !== undefined ? `${f1(r.bookinfo).padStart(6)} MiB` : '   (no reference Bookinfo)');
  lines.push(
    `RSS per embedded cluster (${CLUSTERS} clusters, heap capped at 256 MB each; host process's own baseline subtracted)`,
    `  ${'design'.padEnd(40)}    idle   with Bookinfo   start (median)`,
    `  ${'worker_thread per cluster'.padEnd(40)} ${f1(worker.idle).padStart(6)} MiB ${bi(worker)}   ${Math.round(worker.startMs)} ms`,
    `  ${'child process per cluster (chosen)'.padEnd(40)} ${f1(child.idle).padStart(6)} MiB ${bi(child)}   ${Math.round(child.startMs)} ms`,
    `  floor: bare node process ${f1(floor.rss)} MiB RSS; fork to first IPC message ${Math.round(floor.forkMs)} ms`,
    '',
    ...(await playground()),
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}
