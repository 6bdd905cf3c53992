/**
 * The page while a kind cluster is being created: a progress bar with kind's stage in the top bar,
 * gone once the cluster is ready; the reason when it fails. `kind` is a STAND-IN
 * (test/fixtures/stand-ins/kind, first on PATH for this file) answering as kind v0.27 does: no
 * Docker on these machines.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Playground, startPlayground } from '../../server/playground.js';
import { freePortPair } from '../helpers/ports.js';
import { collectPageErrors, launchBrowser, newContext, screenshot } from './browser.js';

const STAND_INS = path.resolve(import.meta.dirname, '../fixtures/stand-ins');
const savedPath = process.env.PATH;
let browser: Browser;
let work: string;

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-e2e-kind-'));
  process.env.PATH = `${STAND_INS}${path.delimiter}${process.env.PATH}`;
  browser = await launchBrowser();
});
afterAll(async () => {
  process.env.PATH = savedPath;
  delete process.env.KIND_STANDIN_GATE;
  delete process.env.KIND_STANDIN_MODE;
  await browser?.close();
  fs.rmSync(work, { recursive: true, force: true });
});


describe('cluster progress in the page (--backend kind, stand-in kind)', () => {
  test('a progress bar with kind\'s stage while the cluster is created, gone when it is ready', async () => {
    const gate = path.join(work, 'gate');
    process.env.KIND_STANDIN_GATE = gate;
    let playground: Playground | undefined;
    try {
      playground = await startPlayground({ port: 0, dataDir: path.join(work, 'ok'), logLevel: 'silent', backend: 'kind', kindHostPort: await freePortPair() });
      const context = await newContext(browser);
      const page = await context.newPage();
      const errors = collectPageErrors(page);
      await page.goto(playground.url);
      const status = page.getByTestId('cluster-status');
      await expect.poll(() => status.textContent(), { timeout: 15_000 }).toMatch(/^Preparing your cluster: Joining worker nodes \(\d+%\)$/);
      expect(await status.getAttribute('role')).toBe('status');
      const value = Number(await page.locator('.cluster-progress-bar').getAttribute('value'));
      expect(value).toBeGreaterThan(70);
      expect(value).toBeLessThan(100);
      await screenshot(page, 'cluster-progress-kind');
      fs.writeFileSync(gate, '');
      await expect.poll(() => status.isHidden(), { timeout: 15_000 }).toBe(true);
      expect(errors).toEqual([]);
      await context.close();
    } finally {
      delete process.env.KIND_STANDIN_GATE;
      await playground?.close();
    }
  });

  test('the reason, when the cluster cannot be created', async () => {
    process.env.KIND_STANDIN_MODE = 'no-docker';
    let playground: Playground | undefined;
    try {
      playground = await startPlayground({ port: 0, dataDir: path.join(work, 'failed'), logLevel: 'silent', backend: 'kind' });
      const context = await newContext(browser);
      const page = await context.newPage();
      await page.goto(playground.url);
      const status = page.getByTestId('cluster-status');
      await expect.poll(() => status.textContent(), { timeout: 15_000 }).toMatch(/^The cluster could not be prepared: Docker is not installed: kind needs the docker command line/);
      expect(await status.isVisible()).toBe(true);
      await context.close();
    } finally {
      delete process.env.KIND_STANDIN_MODE;
      await playground?.close();
    }
  });
});
