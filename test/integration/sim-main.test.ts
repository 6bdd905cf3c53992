/** `npm run sim`: a foreground cluster that writes a kubeconfig, says ready, and stops on SIGTERM. */
import { afterAll, expect, it } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let dir: string | undefined;
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('writes a kubeconfig kubectl uses, prints ready, and stops cleanly on SIGTERM', async () => {
  dir = await mkdtemp(join(tmpdir(), 'sim-main-'));
  const kubeconfig = join(dir, 'kubeconfig');
  // What `npm run sim` runs (package.json), without npm in between so the signal reaches it.
  const child = spawn(join('node_modules', '.bin', 'tsx'), ['server/sim/main.ts', '--kubeconfig', kubeconfig], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ready line: ${out}`)), 45_000);
    child.stdout.on('data', () => out.includes('ready') && (clearTimeout(t), resolve()));
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
  expect(out).toMatch(/ready at https:\/\/127\.0\.0\.1:\d+/);
  const ns = await new Promise<string>((resolve, reject) =>
    execFile('kubectl', ['get', 'ns', 'default', '-o', 'name'], { env: { PATH: process.env.PATH!, HOME: dir!, KUBECONFIG: kubeconfig } }, (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(stdout))),
  );
  expect(ns).toBe('namespace/default\n');
  const ctx = await new Promise<string>((resolve) => execFile('kubectl', ['config', 'current-context'], { env: { PATH: process.env.PATH!, KUBECONFIG: kubeconfig } }, (_e, stdout) => resolve(stdout)));
  expect(ctx.trim()).toBe('playground');
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  expect(await exited).toBe(0);
  expect(out).toContain('embedded cluster stopped (SIGTERM)');
}, 90_000);
