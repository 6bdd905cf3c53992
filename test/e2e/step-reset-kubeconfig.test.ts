/**
 * "Jump to step" in Chromium on a real cluster (`--backend kubeconfig`; an embedded cluster
 * started as the external cluster stands in for it): the earlier steps' solutions are replayed
 * on the learner's cluster with progress, the fresh terminal has the variables they exported,
 * and a solution that fails is shown with its command and output, the terminal back for a look.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Playground, startPlayground } from '../../server/playground.js';
import { EmbeddedCluster } from '../../server/sim/cluster.js';
import { collectPageErrors, launchBrowser, newContext, screenshot, waitForConnected, waitForTerminal } from './browser.js';

const fixtureLessons = path.join(path.dirname(new URL(import.meta.url).pathname), '../fixtures/lessons/replay');

let cluster: EmbeddedCluster;
let browser: Browser;
let work: string;
const playgrounds: Playground[] = [];

beforeAll(async () => {
  const clientIndex = path.join(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'dist', 'client', 'index.html');
  if (!fs.existsSync(clientIndex)) throw new Error('the client is not built: run `npm run build` first (npm test does)');
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-e2e-reset-kubeconfig-'));
  [cluster, browser] = await Promise.all([EmbeddedCluster.start({ host: '127.0.0.1', port: 0, workloads: true }), launchBrowser()]);
  await cluster.writeKubeconfig(path.join(work, 'admin.kubeconfig'));
}, 60_000);

afterAll(async () => {
  await browser?.close();
  for (const pg of playgrounds) await pg.close();
  await cluster?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

async function playground(name: string, lessonsDir?: string): Promise<Playground> {
  const pg = await startPlayground({ port: 0, dataDir: path.join(work, name), logLevel: 'silent', backend: 'kubeconfig', kubeconfig: path.join(work, 'admin.kubeconfig'), ...(lessonsDir ? { lessonsDir } : {}) });
  playgrounds.push(pg);
  return pg;
}

describe('Jump to step on --backend kubeconfig', () => {
  test('jumping to warm-up step 6 replays steps 1–5 on the cluster; the new shell reaches the NodePort', { timeout: 300_000 }, async () => {
    const pg = await playground('data');
    const context = await newContext(browser);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(pg.url);
    await page.goto(new URL('#/track/warm-up/nodes', pg.baseUrl).toString());
    await page.getByTestId('lesson-body').waitFor();
    await waitForConnected(page);
    // Everything the announcer says and the progress line shows from here on.
    await page.evaluate(() => {
      const w = window as unknown as { __announced: string[]; __shown: string[] };
      const region = document.querySelector('[data-testid="announcer"]')!;
      const status = document.querySelector('[data-testid="reset-status"]')!;
      w.__announced = [];
      w.__shown = [];
      new MutationObserver(() => w.__announced.push(region.textContent ?? '')).observe(region, { childList: true, characterData: true, subtree: true });
      new MutationObserver(() => w.__shown.push(status.textContent ?? '')).observe(status, { childList: true, characterData: true, subtree: true });
    });
    const announced = () => page.evaluate(() => (window as unknown as { __announced: string[] }).__announced.join('\n'));
    const shown = () => page.evaluate(() => (window as unknown as { __shown: string[] }).__shown.join('\n'));

    await page.getByTestId('step-picker').click();
    await page.getByTestId('jump-scale').click();
    const dialog = page.getByTestId('reset-dialog');
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain('its clean-up runs, then those solutions are replayed, command by command');
    await page.getByTestId('reset-confirm').click();

    const status = page.getByTestId('reset-status');
    await expect.poll(() => status.textContent(), { timeout: 240_000 }).toMatch(/^Ready: your cluster and files are at the start of/);
    // Progress as it went: which step of five, and the command.
    expect(await shown()).toContain('Replaying on your cluster: step 3 of 5, A Service in front of the pods: kubectl expose deployment web --port=80');
    await expect.poll(announced).toMatch(/Replaying on your cluster/);
    await screenshot(page, 'e2e-step-reset-kubeconfig-ready');

    await waitForConnected(page, 30_000);
    await page.locator('.xterm').click();
    await page.keyboard.type('kubectl get deployment web --no-headers; curl -sS --max-time 5 "http://$NODE_IP:$NODE_PORT/" | grep -o "<title>.*</title>"\n');
    await waitForTerminal(page, (text) => /web\s+2\/2\s+2\s+2/.test(text) && text.includes('<title>Welcome to nginx!</title>'), 30_000);
    expect(errors).toEqual([]);
  });

  test('a solution that fails midway: the failing command and its output are shown, and the terminal is back', { timeout: 180_000 }, async () => {
    const pg = await playground('data-fails', fixtureLessons);
    const context = await newContext(browser);
    const page = await context.newPage();
    await page.goto(pg.url);
    await page.goto(new URL('#/track/fails-midway/first', pg.baseUrl).toString());
    await page.getByTestId('lesson-body').waitFor();
    await waitForConnected(page);
    await page.getByTestId('step-picker').click();
    await page.getByTestId('jump-target').click();
    await page.getByTestId('reset-dialog').waitFor();
    await page.getByTestId('reset-confirm').click();

    const status = page.getByTestId('reset-status');
    await expect.poll(() => status.textContent(), { timeout: 120_000 }).toContain('`kubectl get deployment does-not-exist` exited with status 1');
    expect(await status.getAttribute('role')).toBe('alert');
    expect(await status.textContent()).toContain('exited with status 1:\nError from server (NotFound): deployments.apps "does-not-exist" not foundDismiss');
    await screenshot(page, 'e2e-step-reset-kubeconfig-failed');
    await waitForConnected(page, 30_000);
    await page.locator('.xterm').click();
    await page.keyboard.type('kubectl get configmap -o name\n');
    await waitForTerminal(page, (text) => text.includes('configmap/replay-first'), 30_000);
  });
});
