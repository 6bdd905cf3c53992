/**
 * The playground as `npm start` runs it, for benchmarks: the built bundle (dist/server/main.js)
 * on plain node with the environment and node flags of the "start" script, so what is measured
 * is what users run.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface Rss {
  rss: number;
  anon: number;
  file: number;
}

/** VmRSS, RssAnon (heaps, malloc) and RssFile (mapped code: node, addons) of a process, in MiB. */
export function rssOf(pid: number): Rss {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN) / 1024;
  return { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile') };
}

/** How the "start" script of package.json runs node: environment assignments and node flags. */
export function startScript(): { env: Record<string, string>; flags: string[] } {
  const pkg = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const match = /((?:\b[A-Z_]+=\S+\s+)*)\bnode\s+((?:--\S+\s+)*)dist\/server\/main\.js/.exec(pkg.scripts.start ?? '');
  if (!match) throw new Error('package.json\'s start script does not run node dist/server/main.js');
  const env = Object.fromEntries((match[1] ?? '').trim().split(/\s+/).filter(Boolean).map((a) => [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]));
  return { env, flags: (match[2] ?? '').trim().split(/\s+/).filter(Boolean) };
}

/** The start script's launch as a command line, for reports. */
export function startCommand(): string {
  const { env, flags } = startScript();
  return [...Object.entries(env).map(([k, v]) => `${k}=${v}`), 'node', ...flags, 'dist/server/main.js'].join(' ');
}

/** Builds the server bundle as `npm start` does (client assets are not needed by the benches). */
export function buildServer(): void {
  const built = spawnSync(process.execPath, [path.join(projectRoot, 'scripts', 'build-server.mjs')], { cwd: projectRoot, encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`server build failed:\n${built.stdout}${built.stderr}`);
}

export interface PlaygroundProcess {
  child: ChildProcess;
  /** The URL printed at start, token included. */
  url: URL;
  /** Cookies of a browser that opened the URL. */
  cookie: string;
  stop(): Promise<void>;
}

export async function startPlayground(args: string[] = [], options: { nodeFlags?: string[]; cgroup?: string } = {}): Promise<PlaygroundProcess> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bench-playground-'));
  const { env, flags } = startScript();
  const argv = [process.execPath, ...flags, ...(options.nodeFlags ?? []), path.join(projectRoot, 'dist', 'server', 'main.js'), '--port', '0', '--data-dir', dataDir, '--log-level', 'warn', ...args];
  // In a cgroup of its own from its first instruction on, as a container runtime starts a pod's
  // process (everything it starts stays there): the shell joins it, then becomes the server.
  const [file, ...rest] = options.cgroup ? ['/bin/sh', '-c', 'echo $$ > "$CGROUP_PROCS" && exec "$@"', 'sh', ...argv] : argv;
  const child = spawn(file!, rest, {
    stdio: ['ignore', 'pipe', 'inherit'],
    cwd: projectRoot,
    env: { ...process.env, ...env, PLAYGROUND_TOKEN: '', ...(options.cgroup ? { CGROUP_PROCS: path.join(options.cgroup, 'cgroup.procs') } : {}) },
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      // Long enough for a server with hundreds of learners to close them (and write a CPU profile).
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
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
    const exchange = await fetch(url, { redirect: 'manual' });
    const cookie = exchange.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    return { child, url, cookie, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
