/**
 * The server as `npm start` runs it: compiled to plain JavaScript (dist/server/main.js) and started
 * by node alone, from the checkout, with no tsx. The built layout must find the lessons, the client
 * and the tools exactly as the source layout does.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { decodeServerMessage, encodeMessage } from '../../server/terminal/protocol.js';
import { alive, childrenOf } from '../helpers/processes.js';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const entry = path.join(projectRoot, 'dist', 'server', 'main.js');

function build(script: string): void {
  const result = spawnSync(process.execPath, [path.join(projectRoot, 'scripts', script)], { cwd: projectRoot, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${script} failed:\n${result.stdout}\n${result.stderr}`);
}

describe('the built server (npm start)', () => {
  let child: ChildProcess;
  let stdout = '';
  let url: URL;
  let dataDir: string;
  let clusterPids: number[] = [];

  beforeAll(async () => {
    // Always compile: the test must run today's sources (tsc is incremental, so this is cheap when fresh).
    build('build-server.mjs');
    if (!existsSync(path.join(projectRoot, 'dist', 'client', 'index.html'))) build('build-client.mjs');
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'pg-start-'));
    // From another directory: the built server must not depend on the caller's cwd.
    child = spawn(process.execPath, [entry, '--port', '0', '--data-dir', dataDir, '--log-level', 'warn'], {
      cwd: os.tmpdir(),
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PLAYGROUND_TOKEN: '' },
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    url = await new Promise<URL>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => {
        stdout += d.toString();
        const match = /Open (http:\/\/\S+)/.exec(stdout);
        if (match) resolve(new URL(match[1]!));
      });
      child.once('exit', (code) => reject(new Error(`server exited (${code}) before printing its URL:\n${stdout}\n${stderr}`)));
    });
  }, 180_000);

  afterAll(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints a loopback URL carrying a random access token', () => {
    expect(url.hostname).toBe('127.0.0.1');
    expect(Number(url.port)).toBeGreaterThan(0);
    expect(url.searchParams.get('token')).toMatch(/^[\w-]{16,}$/);
  });

  it('refuses the page and the API without the token', async () => {
    const base = new URL('/', url);
    expect((await fetch(base, { redirect: 'manual' })).status).toBe(401);
    expect((await fetch(new URL('/api/tracks', url), { redirect: 'manual' })).status).toBe(401);
    const wrong = new URL(url);
    wrong.searchParams.set('token', 'x'.repeat(32));
    expect((await fetch(wrong, { redirect: 'manual' })).status).toBe(401);
  });

  let cookies = '';
  it('serves the built page and the lessons once the token is presented', async () => {
    const exchange = await fetch(url, { redirect: 'manual' });
    expect(exchange.status).toBe(302);
    cookies = exchange.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    const page = await fetch(new URL('/', url), { headers: { cookie: cookies } });
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/assets\/app\.js\?v=/);
    // The lessons directory hangs off the project root, which the built server finds from dist/.
    const tracks = (await (await fetch(new URL('/api/tracks', url), { headers: { cookie: cookies } })).json()) as { tracks: { id: string }[] };
    expect(tracks.tracks.map((t) => t.id)).toContain('welcome');
  });

  it('opens a working terminal', async () => {
    expect(cookies).not.toBe('');
    const ws = new WebSocket(new URL('/ws/terminal', url.href.replace(/^http/, 'ws')), {
      headers: { cookie: cookies, origin: url.origin },
    });
    let output = '';
    let hello = false;
    ws.on('message', (data: Buffer, isBinary) => {
      if (isBinary) output += data.toString('utf8');
      else if (decodeServerMessage(data.toString('utf8')).ok) hello = true;
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.send(encodeMessage({ t: 'input', d: 'echo built-$((6*7))\r' }));
    const deadline = Date.now() + 15_000;
    while (!output.includes('built-42') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(hello).toBe(true);
    expect(output).toContain('built-42');

    // The bundle loads the embedded cluster's parts on first use (chunks): each must be found.
    const run = async (command: string, marker: string) => {
      const from = output.length;
      ws.send(encodeMessage({ t: 'input', d: `${command}; echo ${marker.slice(0, 4)}''${marker.slice(4)}\r` }));
      const until = Date.now() + 30_000;
      while (!output.slice(from).includes(marker) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      return output.slice(from);
    };
    // kubectl's typed create sends a protobuf body; apply reads OpenAPI and patches; get prints a table.
    expect(await run('kubectl create namespace built-ns', 'DONE-1')).toContain('namespace/built-ns created');
    const manifest = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: built-cm\n  namespace: built-ns\ndata:\n  a: b\n';
    expect(await run(`printf '${manifest}' | kubectl apply -f -`, 'DONE-2')).toContain('configmap/built-cm created');
    expect(await run(`printf '${manifest.replace('a: b', 'a: c')}' | kubectl apply -f -`, 'DONE-3')).toContain('configmap/built-cm configured');
    expect(await run('kubectl get configmap built-cm -n built-ns -o wide', 'DONE-4')).toMatch(/NAME\s+DATA\s+AGE[\s\S]*built-cm\s+1/);
    expect(await run('kubectl explain configmap.data | head -3', 'DONE-5')).toMatch(/KIND:\s+ConfigMap/);
    // kubeadm's system workloads come from YAML files the bundle carries next to its chunks.
    expect(await run('kubectl get deployment,daemonset,pod -n kube-system -o name | sort', 'DONE-6')).toMatch(/daemonset\.apps\/kube-proxy[\s\S]*deployment\.apps\/coredns[\s\S]*pod\/etcd-control-plane/);
    // The learner's cluster is a process of its own, started from the bundle's child entry (not tsx).
    const clusters = childrenOf(child.pid!).filter((p) => p.cmdline.includes('sim-child'));
    expect(clusters.map((p) => p.cmdline)).toEqual([expect.stringMatching(/--max-old-space-size=\d+ .*dist\/server\/cluster\/sim-child\.js$/)]);
    clusterPids = clusters.map((p) => p.pid);
    ws.close();
  }, 90_000);

  it('stops cleanly within a few seconds of SIGTERM', async () => {
    const started = Date.now();
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    child.kill('SIGTERM');
    const result = await exited;
    expect(result).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(5_000);
    await expect(fetch(new URL('/', url))).rejects.toThrow();
    // Its clusters' processes are gone with it.
    expect(clusterPids.length).toBe(1);
    expect(clusterPids.filter(alive)).toEqual([]);
  }, 15_000);
});
