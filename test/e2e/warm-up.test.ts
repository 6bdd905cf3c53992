/**
 * The Cluster warm-up track in the browser: a learner types the step's command into the terminal
 * themselves, and the page's checks turn green on their own, without a click.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Playground, startPlayground } from '../../server/playground.js';
import { collectPageErrors, launchBrowser, newContext, screenshot, waitForConnected, waitForTerminal } from './browser.js';

let playground: Playground;
let browser: Browser;
let dataDir: string;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-e2e-warmup-'));
  playground = await startPlayground({ port: 0, dataDir, logLevel: 'silent' });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await playground?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('Cluster warm-up', () => {
  test('typing a step\'s command in the terminal turns its checks green without a click', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(playground.url);
    await page.goto(new URL('#/track/warm-up/deployment', playground.baseUrl).toString());
    await page.getByTestId('lesson-body').waitFor();
    await waitForConnected(page);

    const status = page.getByTestId('checks-status');
    await expect.poll(() => status.textContent(), { timeout: 30_000 }).toBe('0 of 2 passing');
    await expect(page.getByTestId('checks').textContent()).resolves.toContain('no Deployment "web" in namespace "default"');

    // Typed, not clicked: the page learns of it from the cluster alone.
    await page.locator('.xterm').click();
    await page.keyboard.type('kubectl create deployment web --image=nginx --replicas=2\n');
    await waitForTerminal(page, (text) => text.includes('deployment.apps/web created'), 30_000);
    await expect.poll(() => status.textContent(), { timeout: 30_000 }).toBe('All checks pass');
    await expect.poll(() => page.locator('.step-segment.is-done').count()).toBe(1);
    await screenshot(page, 'e2e-warm-up-deployment-passed');
    expect(errors).toEqual([]);
    await context.close();
  });
});
