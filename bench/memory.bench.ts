/**
 * Memory benchmark: where the playground's RSS goes. Two views, each against the baseline of a
 * bare node process measured in the same run:
 *  - per phase, on the playground as `npm start` runs it (compiled dist/server/main.js, with the
 *    node flags of the "start" script, embedded cluster): listening, first page, first terminal
 *    (which starts the learner's cluster), idle, then a step with live checks open;
 *  - per module group, imported one after another in a fresh node process, after a full GC.
 * RssAnon is memory the process allocated (JS heaps, malloc); RssFile is mapped code (node, addons).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import WebSocket from 'ws';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(projectRoot, 'dist', 'server');
const IDLE_MS = 3000;
/** A step whose checks watch the cluster: opening it loads the check machinery. */
const CHECKED_STEP = { track: 'warm-up', step: 'nodes' };

interface Rss {
  rss: number;
  anon: number;
  file: number;
}

function rssOf(pid: number): Rss {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN) / 1024;
  return { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile') };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The node flags `npm start` passes, so the bench measures the process users run. */
function startScriptNodeFlags(): string[] {
  const pkg = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const match = /\bnode\s+((?:--\S+\s+)*)dist\/server\/main\.js/.exec(pkg.scripts.start ?? '');
  return match?.[1]?.trim().split(/\s+/).filter(Boolean) ?? [];
}

async function bareNodeRss(): Promise<Rss> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  await sleep(500);
  const rss = rssOf(child.pid!);
  child.kill('SIGTERM');
  return rss;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(5000).then(() => child.kill('SIGKILL'))]);
}

async function phases(flags: string[]): Promise<[string, Rss][]> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'memory-bench-'));
  const child = spawn(process.execPath, [...flags, path.join(dist, 'main.js'), '--port', '0', '--data-dir', dataDir, '--log-level', 'warn'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    cwd: projectRoot,
    env: { ...process.env, PLAYGROUND_TOKEN: '' },
  });
  const out: [string, Rss][] = [];
  const sockets: { close(): void }[] = [];
  try {
    const url = await new Promise<URL>((resolve, reject) => {
      let text = '';
      child.stdout!.on('data', (d: Buffer) => {
        text += d.toString();
        const match = /Open (http:\/\/\S+)/.exec(text);
        if (match) resolve(new URL(match[1]!));
      });
      child.once('exit', (code) => reject(new Error(`playground exited (${code}) before printing its URL`)));
    });
    // Lessons are prerendered in the background right after listening.
    await sleep(1500);
    out.push(['listening, lessons prerendered', rssOf(child.pid!)]);

    const exchange = await fetch(url, { redirect: 'manual' });
    const cookie = exchange.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    const get = async (p: string) => {
      const res = await fetch(new URL(p, url), { headers: { cookie } });
      if (!res.ok) throw new Error(`GET ${p}: ${res.status}`);
      return res.text();
    };
    await get('/');
    const tracks = JSON.parse(await get('/api/tracks')) as { tracks?: { id: string }[] } | { id: string }[];
    const list = Array.isArray(tracks) ? tracks : (tracks.tracks ?? []);
    for (const t of list) await get(`/api/tracks/${encodeURIComponent(t.id)}`);
    await sleep(500);
    out.push(['first page (every track fetched)', rssOf(child.pid!)]);

    const ws = new WebSocket(new URL('/ws/terminal', url.href.replace(/^http/, 'ws')).href, { perMessageDeflate: false, headers: { cookie, origin: url.origin } });
    sockets.push(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('error', reject);
      ws.on('message', (_data, isBinary) => isBinary && resolve());
    });
    out.push(['first terminal output (cluster started)', rssOf(child.pid!)]);
    await sleep(IDLE_MS);
    out.push([`one idle terminal, ${IDLE_MS / 1000} s later`, rssOf(child.pid!)]);

    const events = await fetch(new URL(`/api/checks/${CHECKED_STEP.track}/${CHECKED_STEP.step}/events`, url), { headers: { cookie } });
    const reader = events.body!.getReader();
    sockets.push({ close: () => void reader.cancel() });
    // The first event is the persisted state; the second is the first live verdict.
    const decoder = new TextDecoder();
    let text = '';
    const deadline = Date.now() + 10_000;
    while ((text.match(/event: checks/g) ?? []).length < 2 && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    await sleep(1000);
    out.push([`a step with live checks open (${CHECKED_STEP.track}/${CHECKED_STEP.step})`, rssOf(child.pid!)]);
    return out;
  } finally {
    for (const s of sockets) s.close();
    await stop(child);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Cumulative RSS and heap as the server's module groups are imported in one fresh process. */
function moduleBreakdown(): { label: string; rss: number; heap: number }[] {
  const groups: [string, string[]][] = [
    ['pino + express + helmet', ['pino', 'express', 'helmet']],
    ['config (zod)', [`${dist}/config.js`]],
    ['progress store (better-sqlite3)', [`${dist}/progress/store.js`]],
    ['http app', [`${dist}/http/app.js`]],
    ['lessons (marked, sanitize-html, shiki)', [`${dist}/http/lesson-library.js`]],
    ['terminal (node-pty, @xterm/headless, ws)', [`${dist}/terminal/sessions.js`, `${dist}/terminal/ws.js`]],
    ['check engine (@kubernetes/client-node)', [`${dist}/checks/engine.js`, `${dist}/checks/context.js`]],
    ['playground wiring (as started)', [`${dist}/playground.js`]],
    ['embedded cluster + plugins', [`${dist}/cluster/sim-backend.js`, `${dist}/sim/registry/plugins.js`]],
  ];
  const script = `
    const groups = ${JSON.stringify(groups.map(([label, specs]) => [label, specs.map((s) => (s.startsWith('/') ? pathToFileURL(s).href : s))]))};
    const measure = () => { gc(); gc(); const m = process.memoryUsage(); return { rss: m.rss / 1048576, heap: m.heapUsed / 1048576 }; };
    const out = [{ label: 'bare node', ...measure() }];
    for (const [label, specs] of groups) {
      for (const s of specs) await import(s);
      if (label === 'embedded cluster + plugins') await (await import(specs[1])).loadPlugins();
      out.push({ label, ...measure() });
    }
    console.log(JSON.stringify(out));`;
  const result = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { cwd: projectRoot, encoding: 'utf8', timeout: 30_000 });
  if (result.status !== 0) throw new Error(`module breakdown failed: ${result.stderr}`);
  return JSON.parse(result.stdout.trim().split('\n').pop()!) as { label: string; rss: number; heap: number }[];
}

export default async function run(): Promise<void> {
  const built = spawnSync(process.execPath, [path.join(projectRoot, 'scripts', 'build-server.mjs')], { cwd: projectRoot, encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`server build failed:\n${built.stdout}${built.stderr}`);
  const f = (n: number) => n.toFixed(1).padStart(6);
  const flags = startScriptNodeFlags();

  const baseline = await bareNodeRss();
  const measured = await phases(flags);
  const lines = [
    `playground RSS per phase (node ${flags.join(' ') || '(no flags)'} dist/server/main.js, embedded cluster)`,
    `  ${'phase'.padEnd(58)}    RSS   anon   file   x bare node`,
    `  ${'bare node process (baseline)'.padEnd(58)} ${f(baseline.rss)} ${f(baseline.anon)} ${f(baseline.file)}`,
    ...measured.map(([label, r]) => `  ${label.padEnd(58)} ${f(r.rss)} ${f(r.anon)} ${f(r.file)}   ${(r.rss / baseline.rss).toFixed(2)}`),
    `  target: <= 80 MB with one idle terminal`,
    ``,
    `module groups imported one after another (fresh process, after full GC; MB, cumulative / added)`,
  ];
  let previous: { rss: number; heap: number } | undefined;
  for (const m of moduleBreakdown()) {
    const signed = (n: number) => `${n < 0 ? '-' : '+'}${Math.abs(n).toFixed(1)}`;
    const added = previous ? `${signed(m.rss - previous.rss)} RSS, ${signed(m.heap - previous.heap)} heap` : 'baseline';
    lines.push(`  ${m.label.padEnd(44)} RSS ${f(m.rss)}  heap ${f(m.heap)}   ${added}`);
    previous = m;
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}
