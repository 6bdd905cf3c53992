/**
 * The live mesh picture beside a step that asks for it (`picture: [mesh, split]`): a learner
 * opens the step, Istio and Bookinfo come up in their cluster, and the panel draws the gateway,
 * services and versions with their pods; traffic then shows on the edges, in the split chart
 * and in the text alternative a screen reader reads. Screenshot: test-artifacts/e2e-mesh-picture.png.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Playground, startPlayground } from '../../server/playground.js';
import type { SimBackend } from '../../server/cluster/sim-backend.js';
import { bundleIstioctl } from '../../server/sim/addons/istio/release/build.js';
import { sampleFiles } from '../../server/sim/addons/istio/release/samples.js';
import { collectPageErrors, launchBrowser, newContext, screenshot, waitForConnected } from './browser.js';

let playground: Playground;
let browser: Browser;
let workDir: string;
let env: Record<string, string>;

function sh(script: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('bash', ['-c', script], { cwd: workDir, env, timeout: 120_000 }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

beforeAll(async () => {
  const clientIndex = path.join(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'dist', 'client', 'index.html');
  if (!fs.existsSync(clientIndex)) throw new Error('the client is not built: run `npm run build` first (npm test does)');
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-e2e-mesh-'));
  const lessons = path.join(workDir, 'lessons', 'pictures');
  fs.mkdirSync(lessons, { recursive: true });
  fs.writeFileSync(path.join(lessons, 'track.yaml'), ['id: pictures', 'title: Pictures', 'summary: The mesh, live.', 'backends: [sim]', 'steps:', '  - 01-mesh.md', ''].join('\n'));
  fs.writeFileSync(path.join(lessons, '01-mesh.md'), ['---', 'id: mesh', 'title: Look at the mesh', 'picture: [mesh, split]', '---', '', 'Send some requests and watch.', ''].join('\n'));
  for (const [rel, text] of Object.entries(sampleFiles())) {
    fs.mkdirSync(path.join(workDir, path.dirname(rel)), { recursive: true });
    fs.writeFileSync(path.join(workDir, rel), text);
  }
  fs.mkdirSync(path.join(workDir, 'bin'));
  fs.writeFileSync(path.join(workDir, 'bin', 'istioctl'), await bundleIstioctl(), { mode: 0o755 });
  [playground, browser] = await Promise.all([startPlayground({ port: 0, dataDir: path.join(workDir, 'data'), lessonsDir: path.join(workDir, 'lessons'), logLevel: 'silent' }), launchBrowser()]);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await playground?.close();
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
});

describe('the live mesh picture', { timeout: 240_000 }, () => {
  test('draws the learner’s mesh beside the step and follows their traffic, in words too', async () => {
    const context = await newContext(browser, { width: 1500, height: 950 });
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(`${playground.url}#/track/pictures`);
    await waitForConnected(page);
    const panel = page.getByTestId('mesh-panel');
    await panel.waitFor();
    await expect(panel.getByRole('heading', { name: 'Your mesh, live' }).count()).resolves.toBe(1);

    // The learner's cluster (their terminal started it): Istio and Bookinfo as a learner installs them.
    const [learnerId] = [...(playground.backend as SimBackend).pids().keys()];
    const access = await playground.backend.acquire(learnerId!);
    env = { PATH: `${path.join(workDir, 'bin')}:${process.env.PATH!}`, HOME: workDir, KUBECONFIG: access.kubeconfigPath, KUBECACHEDIR: path.join(workDir, 'kcache') };
    const install = await sh(
      'istioctl install --set profile=demo -y && kubectl wait --for=condition=Ready pod --all -n istio-system --timeout=60s && kubectl label namespace default istio-injection=enabled && kubectl apply -f samples/bookinfo/platform/kube/bookinfo.yaml && kubectl wait --for=condition=Ready pod --all --timeout=90s',
    );
    expect(install.code, install.stderr).toBe(0);

    // Within a couple of reads: the gateway, services and the three reviews versions, each pod ready with a sidecar.
    const reviewsV2 = panel.locator('[data-testid=mesh-node][data-node="wl:default/reviews-v2"]');
    await reviewsV2.waitFor({ timeout: 15_000 });
    await panel.locator('[data-testid=mesh-node][data-node="wl:istio-system/istio-ingressgateway"]').waitFor();
    await panel.locator('[data-testid=mesh-node][data-node="svc:default/reviews"]').waitFor();
    // The picture is at most a read behind the cluster: wait for the state, never read one snapshot.
    await reviewsV2.locator('[data-testid=mesh-pod][data-ready="true"][data-sidecar="true"]').waitFor({ timeout: 10_000 });
    const text = page.getByTestId('mesh-text');
    await expect.poll(() => text.textContent(), { timeout: 10_000 }).toContain('Workload reviews-v2: 1/1 ready, with sidecar');
    await expect(text.textContent()).resolves.toContain('No traffic seen yet.');

    const traffic = await sh(
      `P=$(kubectl get pod -l app=ratings -o jsonpath='{.items[0].metadata.name}'); for i in 1 2 3 4 5 6; do kubectl exec "$P" -c ratings -- curl -sS -o /dev/null -w '%{http_code}\\n' productpage:9080/productpage || exit 1; done`,
    );
    expect(traffic.code, traffic.stderr).toBe(0);

    // The text alternative and the drawing follow: productpage → reviews has a rate, and the split adds up to 100 %.
    const row = text.locator('tr[data-edge="wl:default/productpage-v1>svc:default/reviews"]');
    await row.waitFor({ timeout: 10_000 });
    await expect(row.locator('td').nth(2).textContent()).resolves.toMatch(/^\d+\.\d req\/s$/);
    await expect(row.locator('td').nth(3).textContent()).resolves.toBe('0 %');
    await panel.locator('[data-testid=mesh-edge].is-live[data-edge="wl:default/productpage-v1>svc:default/reviews"]').waitFor();
    const shares = await page.getByTestId('mesh-split-table').locator('tr').evaluateAll((rows) => rows.map((r) => r.querySelector('td')?.textContent ?? ''));
    expect(shares).toHaveLength(3);
    expect(shares.reduce((sum, s) => sum + Number.parseInt(s, 10), 0)).toBeGreaterThanOrEqual(99);
    await expect.poll(() => page.getByTestId('mesh-live').textContent(), { timeout: 10_000 }).toMatch(/^reviews traffic: v1 \d+ %, v2 \d+ %, v3 \d+ %\.$/);
    await expect(page.getByTestId('mesh-split').locator('.mesh-split-part').count()).resolves.toBeGreaterThan(0);
    await screenshot(page, 'e2e-mesh-picture');
    // The dark theme (the system's choice) recolours the drawing through the theme's custom properties.
    await page.emulateMedia({ colorScheme: 'dark' });
    await expect.poll(() => page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    await screenshot(page, 'e2e-mesh-picture-dark');
    expect(errors).toEqual([]);
    await context.close();
  });
});
