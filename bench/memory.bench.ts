/**
 * Memory benchmark: where the playground's RSS goes, against a bare node process measured in the
 * same run.
 *  - Per phase, on the playground as `npm start` runs it (the server with its learner's cluster
 *    process, and the server alone) (the built bundle, the start script's
 *    node flags, embedded cluster): listening, first page, first terminal (which starts the
 *    learner's cluster), idle, a step with live checks open, and after the learner deployed
 *    Bookinfo through the terminal.
 *  - What the bundle loads at start and on first use, from the build's metafile.
 * RssAnon is memory the process allocated (JS heaps, malloc); RssFile is mapped code (node, addons).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import WebSocket from 'ws';
import { decodeServerMessage, encodeMessage } from '../server/terminal/protocol.js';
import { findReferenceDir } from '../test/helpers/reference-dir.js';
import { processes } from '../test/helpers/processes.js';
import { buildServer, projectRoot, rssOf, startCommand, startPlayground, type Rss } from './playground-process.js';

const IDLE_MS = 3000;
/** A step whose checks watch the cluster: opening it loads the check machinery. */
const CHECKED_STEP = { track: 'warm-up', step: 'nodes' };
const TARGET_MB = 80;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function bareNodeRss(): Promise<Rss> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  await sleep(500);
  const rss = rssOf(child.pid!);
  child.kill('SIGTERM');
  return rss;
}

/** Bookinfo's manifest from the reference material beside the checkout, if it is there. */
function bookinfoManifest(): string | undefined {
  const dir = findReferenceDir();
  return dir ? path.join(dir, 'samples', 'bookinfo.yaml') : undefined;
}

/** The server and, since each learner's cluster runs in a process of its own, its cluster processes too. */
interface Measured extends Rss {
  server: number;
}
function measure(server: number): Measured {
  const all = processes();
  const pids = [server];
  for (let i = 0; i < pids.length; i++) for (const p of all) if (p.ppid === pids[i]) pids.push(p.pid);
  const sum: Measured = { rss: 0, anon: 0, file: 0, server: rssOf(server).rss };
  for (const pid of pids) {
    try {
      const r = rssOf(pid);
      sum.rss += r.rss;
      sum.anon += r.anon;
      sum.file += r.file;
    } catch {
      // ended meanwhile
    }
  }
  return sum;
}

async function phases(): Promise<[string, Measured][]> {
  const pg = await startPlayground();
  const out: [string, Measured][] = [];
  const closers: (() => void)[] = [];
  try {
    // Lessons are compiled (in a child process: its memory is not the server's) before listening.
    await sleep(1000);
    out.push(['listening', measure(pg.child.pid!)]);

    const get = async (p: string) => {
      const res = await fetch(new URL(p, pg.url), { headers: { cookie: pg.cookie } });
      if (!res.ok) throw new Error(`GET ${p}: ${res.status}`);
      return res.text();
    };
    await get('/');
    const { tracks } = JSON.parse(await get('/api/tracks')) as { tracks: { id: string }[] };
    for (const t of tracks) await get(`/api/tracks/${encodeURIComponent(t.id)}`);
    await sleep(500);
    out.push(['first page (every track fetched)', measure(pg.child.pid!)]);

    const ws = new WebSocket(new URL('/ws/terminal', pg.url.href.replace(/^http/, 'ws')).href, { perMessageDeflate: false, headers: { cookie: pg.cookie, origin: pg.url.origin } });
    closers.push(() => ws.close());
    let screen = '';
    let unacked = 0;
    await new Promise<void>((resolve, reject) => {
      ws.once('error', reject);
      ws.on('message', (data: Buffer, isBinary) => {
        if (!isBinary) return void decodeServerMessage(data.toString());
        screen = (screen + data.toString('utf8')).slice(-64 * 1024);
        unacked += data.length;
        if (unacked >= 16 * 1024) {
          ws.send(encodeMessage({ t: 'ack', bytes: unacked }));
          unacked = 0;
        }
        resolve();
      });
    });
    out.push(['first terminal output (cluster started)', measure(pg.child.pid!)]);
    await sleep(IDLE_MS);
    out.push([`one idle terminal, ${IDLE_MS / 1000} s later`, measure(pg.child.pid!)]);

    const events = await fetch(new URL(`/api/checks/${CHECKED_STEP.track}/${CHECKED_STEP.step}/events`, pg.url), { headers: { cookie: pg.cookie } });
    const reader = events.body!.getReader();
    closers.push(() => void reader.cancel());
    // The first event is the persisted state; the second is the first live verdict.
    const decoder = new TextDecoder();
    let text = '';
    const deadline = Date.now() + 10_000;
    while ((text.match(/event: checks/g) ?? []).length < 2 && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    await sleep(IDLE_MS);
    out.push([`idle, a step with live checks open (${CHECKED_STEP.track}/${CHECKED_STEP.step})`, measure(pg.child.pid!)]);

    const bookinfo = bookinfoManifest();
    if (bookinfo) {
      const marker = `BOOKINFO-${Date.now()}`;
      ws.send(encodeMessage({ t: 'input', d: `kubectl apply -f ${bookinfo} >/dev/null && kubectl wait --for=condition=Ready pod --all --timeout=60s >/dev/null; echo ${marker.slice(0, 4)}''${marker.slice(4)}\r` }));
      const until = Date.now() + 90_000;
      while (!screen.includes(marker) && Date.now() < until) await sleep(100);
      if (!screen.includes(marker)) throw new Error('Bookinfo did not become ready in the terminal');
      await sleep(IDLE_MS);
      out.push(['idle again, Bookinfo deployed through the terminal', measure(pg.child.pid!)]);
    }
    return out;
  } finally {
    for (const close of closers) close();
    await pg.stop();
  }
}

type Metafile = { outputs: Record<string, { bytes: number; inputs: Record<string, { bytesInOutput: number }>; imports: { path: string; kind: string; external?: boolean }[]; entryPoint?: string }> };

/** Files an output loads with it (its static imports, transitively). */
function closure(meta: Metafile, from: string, seen = new Set<string>()): Set<string> {
  if (seen.has(from) || !meta.outputs[from]) return seen;
  seen.add(from);
  for (const i of meta.outputs[from]!.imports) if (i.kind === 'import-statement' && !i.external) closure(meta, i.path, seen);
  return seen;
}

function packageOf(input: string): string {
  const inModules = input.split('node_modules/').pop()!;
  if (inModules !== input) return inModules.split('/').slice(0, inModules.startsWith('@') ? 2 : 1).join('/');
  return input.split('/').slice(0, 2).join('/');
}

function describe(meta: Metafile, files: Set<string>): string {
  const bytes = [...files].reduce((n, f) => n + meta.outputs[f]!.bytes, 0);
  const byPackage = new Map<string, number>();
  for (const f of files) for (const [input, { bytesInOutput }] of Object.entries(meta.outputs[f]!.inputs)) byPackage.set(packageOf(input), (byPackage.get(packageOf(input)) ?? 0) + bytesInOutput);
  const top = [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([p, n]) => `${p} ${Math.round(n / 1024)}`);
  return `${String(Math.round(bytes / 1024)).padStart(5)} KiB  (${top.join(', ')})`;
}

/** What the bundle loads at start, and what each lazily loaded part adds. */
function bundleComposition(): string[] {
  const metaFile = path.join(projectRoot, 'dist', 'server-meta.json');
  const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as Metafile;
  const main = Object.keys(meta.outputs).find((f) => meta.outputs[f]!.entryPoint?.endsWith('server/main.ts'))!;
  const atStart = closure(meta, main);
  const lines = [`  at start (main.js and its static imports)       ${describe(meta, atStart)}`];
  const lazy: [string, RegExp][] = [
    ['embedded cluster (first terminal)', /sim-backend/],
    ['  its lazy modules (patch, printers, openapi, validation)', /\/(patch|printers|openapi|validation)-[A-Z0-9]+\.js$/],
    ['  its workloads and controllers', /\/(workloads|controllers)-[A-Z0-9]+\.js$/],
    ['check engine (first step with checks)', /\/context-[A-Z0-9]+\.js$/],
  ];
  // In the order a learner loads them, each counted for what it adds to what is loaded already.
  const loaded = new Set(atStart);
  for (const [label, pattern] of lazy) {
    const roots = Object.keys(meta.outputs).filter((f) => pattern.test(f) && f.endsWith('.js'));
    if (roots.length === 0) continue;
    const added = new Set<string>();
    for (const r of roots) for (const f of closure(meta, r)) if (!loaded.has(f)) added.add(f);
    for (const f of added) loaded.add(f);
    lines.push(`  ${label.padEnd(47)} ${describe(meta, added)}`);
  }
  const compiler = Object.keys(meta.outputs).find((f) => meta.outputs[f]!.entryPoint?.endsWith('lessons/compile-main.ts'));
  if (compiler) lines.push(`  lesson compiler (child process, exits)          ${describe(meta, closure(meta, compiler))}`);
  return lines;
}

export default async function run(): Promise<void> {
  buildServer();
  const f = (n: number) => n.toFixed(1).padStart(6);
  const baseline = await bareNodeRss();
  const measured = await phases();
  const lines = [
    `playground RSS per phase, MiB (${startCommand()}, embedded cluster): the server and its learner's cluster process`,
    `  ${'phase'.padEnd(58)}    RSS   anon   file   x bare node   server alone`,
    `  ${'bare node process (baseline)'.padEnd(58)} ${f(baseline.rss)} ${f(baseline.anon)} ${f(baseline.file)}`,
    ...measured.map(([label, r]) => `  ${label.padEnd(58)} ${f(r.rss)} ${f(r.anon)} ${f(r.file)}   ${(r.rss / baseline.rss).toFixed(2).padStart(11)}   ${f(r.server)}`),
    `  target: server alone <= ${TARGET_MB} MB with one idle terminal (the cluster's process: see learners.bench.ts)`,
    '',
    'what the bundle loads (KiB of JavaScript held as source text once loaded; largest packages)',
    ...bundleComposition(),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
