/**
 * "Jump to step" from the step list and "Reset this step" from the toolbar, in Chromium, as a
 * learner uses them (the keyboard for the confirmation): the page says what will be replaced,
 * shows progress, announces the result, and the fresh terminal has the earlier steps' cluster
 * and variables (warm-up: Deployment web, its NodePort Service, NODE_IP and NODE_PORT).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Playground, startPlayground } from '../../server/playground.js';
import { collectPageErrors, launchBrowser, newContext, screenshot, terminalText, waitForConnected, waitForTerminal } from './browser.js';

let playground: Playground;
let browser: Browser;
let dataDir: string;

beforeAll(async () => {
  const clientIndex = path.join(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'dist', 'client', 'index.html');
  if (!fs.existsSync(clientIndex)) throw new Error('the client is not built: run `npm run build` first (npm test does)');
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-e2e-reset-'));
  [playground, browser] = await Promise.all([startPlayground({ port: 0, dataDir, logLevel: 'silent' }), launchBrowser()]);
});

afterAll(async () => {
  await browser?.close();
  await playground?.close();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('Jump to step and Reset this step', () => {
  test('jumping to warm-up step 6 builds its start; resetting it undoes the learner’s change', { timeout: 300_000 }, async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(playground.url);
    await page.goto(new URL('#/track/warm-up/nodes', playground.baseUrl).toString());
    await page.getByTestId('lesson-body').waitFor();
    await waitForConnected(page);

    // Everything the screen-reader live region says from here on.
    await page.evaluate(() => {
      const region = document.querySelector('[data-testid="announcer"]')!;
      const said: string[] = ((window as unknown as { __announced: string[] }).__announced = []);
      (window as unknown as { __said: string[] }).__said = said;
      new MutationObserver(() => said.push(region.textContent ?? '')).observe(region, { childList: true, characterData: true, subtree: true });
    });
    const announced = () => page.evaluate(() => (window as unknown as { __announced: string[] }).__announced.join('\n'));

    // Jump, from the step list, by keyboard: the confirmation says what it replaces.
    await page.getByTestId('step-picker').click();
    await page.getByTestId('jump-scale').focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByTestId('reset-dialog');
    await dialog.waitFor();
    const said = (await dialog.textContent()) ?? '';
    expect(await page.locator('#reset-dialog-title').textContent()).toMatch(/^Jump to step 6: “.+”\?$/);
    expect(said).toContain('everything in your cluster');
    expect(said).toContain('your terminal: its shell restarts');
    expect(said).toContain('Step 6 and the steps after it are marked not done.');
    await screenshot(page, 'e2e-step-reset-confirm');
    // Cancel has the focus first (nothing is replaced by a stray Enter); Tab reaches the action.
    await expect.poll(() => page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.testid)).toBe('reset-cancel');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');

    const status = page.getByTestId('reset-status');
    await expect.poll(() => status.textContent(), { timeout: 240_000 }).toMatch(/^Ready: your cluster and files are at the start of/);
    await expect.poll(() => page.evaluate(() => location.hash)).toBe('#/track/warm-up/scale');
    await expect.poll(announced).toMatch(/(Preparing|Building|Restoring).* the start of "/);
    await expect.poll(announced, { timeout: 10_000 }).toMatch(/Ready: your cluster and files are at the start of/);
    await screenshot(page, 'e2e-step-reset-ready');

    // The new shell has the earlier steps' variables, and the cluster their objects.
    await waitForConnected(page, 30_000);
    await page.locator('.xterm').click();
    await page.keyboard.type('echo "node=[$NODE_IP] port=[$NODE_PORT]"; kubectl get svc web -o jsonpath="{.spec.type}/{.spec.ports[0].nodePort}{\\"\\n\\"}"; kubectl get deployment web --no-headers\n');
    const shown = await waitForTerminal(page, (text) => /node=\[127\.\d+\.\d+\.\d+\] port=\[\d+\]/.test(text) && /web\s+2\/2\s+2\s+2/.test(text), 30_000);
    // The variables name this learner's cluster: its nodes' addresses and the Service's NodePort.
    const port = /port=\[(\d+)\]/.exec(shown)![1];
    expect(shown).toContain(`NodePort/${port}`);
    // And the restored Service answers there, as step 5 showed before the jump.
    await page.keyboard.type('curl -sS --max-time 5 "http://$NODE_IP:$NODE_PORT/" | grep -o "<title>.*</title>"\n');
    await waitForTerminal(page, (text) => text.includes('<title>Welcome to nginx!</title>'), 30_000);

    // The learner scales it (the step's own work), then resets the step: back to two replicas.
    await page.keyboard.type('kubectl scale deployment web --replicas=3 && kubectl rollout status deployment/web --timeout=60s\n');
    await waitForTerminal(page, (text) => text.includes('successfully rolled out'), 60_000);
    const checks = page.getByTestId('checks-status');
    await expect.poll(() => checks.textContent(), { timeout: 30_000 }).toBe('All checks pass');

    await page.getByTestId('reset-step').click();
    await dialog.waitFor();
    expect(await page.locator('#reset-dialog-title').textContent()).toMatch(/^Reset this step: “/);
    await page.getByTestId('reset-confirm').click();
    await expect.poll(() => status.textContent(), { timeout: 60_000 }).toMatch(/^Ready: /);
    // Checks ran again on the restored cluster: the step is not done any more.
    await expect.poll(() => checks.textContent(), { timeout: 30_000 }).not.toBe('All checks pass');
    await waitForConnected(page, 30_000);
    await page.locator('.xterm').click();
    await page.keyboard.type('kubectl get deployment web --no-headers\n');
    await expect.poll(async () => (await terminalText(page)).split('kubectl get deployment web --no-headers').at(-1) ?? '', { timeout: 30_000 }).toMatch(/web\s+2\/2\s+2\s+2/);
    await screenshot(page, 'e2e-step-reset-after-reset');
    expect(errors).toEqual([]);
  });
});
