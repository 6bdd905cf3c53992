/**
 * The tutorial track walked as a learner would: open each step, click its Run buttons in order
 * (typing into vi for `kubectl edit`), wait for the commands to finish in the terminal and for the
 * step's checks to turn green on their own, and keep a screenshot of every step in
 * test-artifacts/e2e-istio-bookinfo-NN-<step>.png (CI keeps test-artifacts/).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Playground, startPlayground } from '../../server/playground.js';
import { collectPageErrors, launchBrowser, newContext, screenshot, terminalLines, terminalText, waitForConnected, waitForTerminal } from './browser.js';

let playground: Playground;
let browser: Browser;
let dataDir: string;

beforeAll(async () => {
  const clientIndex = path.join(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'dist', 'client', 'index.html');
  if (!fs.existsSync(clientIndex)) throw new Error('the client is not built: run `npm run build` first (npm test does)');
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-e2e-istio-'));
  [playground, browser] = await Promise.all([startPlayground({ port: 0, dataDir, logLevel: 'silent' }), launchBrowser()]);
});

afterAll(async () => {
  await browser?.close();
  await playground?.close();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

/** Which Run buttons a learner clicks on each step (the alternatives for strict mTLS are left alone); `edit` types into vi. */
const PLAN: { step: string; run: (number | 'edit')[] }[] = [
  { step: 'service-mesh', run: [0] },
  { step: 'architecture-and-ports', run: [] },
  { step: 'download', run: [0, 1, 2] },
  { step: 'install', run: [0] },
  { step: 'verify', run: [0, 1] },
  { step: 'deploy-bookinfo', run: [0, 1] },
  { step: 'title-from-inside', run: [0] },
  { step: 'ingress-gateway', run: [0, 1, 2, 3] },
  { step: 'destination-rules', run: [0, 2] },
  { step: 'productpage-nodeport', run: ['edit', 1, 2] },
  { step: 'route-jason', run: [0, 1] },
  { step: 'canary-v3', run: [0, 1] },
  { step: 'all-to-v3', run: [0, 1] },
  { step: 'see-the-sidecars', run: [0, 1] },
  { step: 'clean-up', run: [0, 1, 2] },
  { step: 'since-istio-1-1', run: [] },
];

const PROMPT = /^playground:\S*\$\s*$/;
const lastLine = (text: string) => terminalLines(text).filter((l) => l.trim() !== '').at(-1) ?? '';

/** Waits until the shell is back at its prompt after what was typed (stable across two looks, since typed-ahead lines follow prompts). */
async function waitForPrompt(page: Page, before: string, timeout: number): Promise<void> {
  const deadline = Date.now() + timeout;
  let stableSince = 0;
  while (Date.now() < deadline) {
    const text = await terminalText(page);
    const idle = text !== before && PROMPT.test(lastLine(text));
    if (!idle) stableSince = 0;
    else if (!stableSince) stableSince = Date.now();
    else if (Date.now() - stableSince >= 750) return;
    await page.waitForTimeout(150);
  }
  throw new Error(`the terminal did not come back to its prompt within ${timeout} ms; it ends with:\n${terminalLines(await terminalText(page)).slice(-15).join('\n')}`);
}

async function clickRun(page: Page, index: number): Promise<void> {
  const before = await terminalText(page);
  await page.locator('[data-testid=lesson-body] button.code-run').nth(index).click();
  await waitForPrompt(page, before, 180_000);
}

/** `kubectl edit svc productpage` opens vi: change the type as a learner would, save and quit. */
async function editInVi(page: Page): Promise<void> {
  const before = await terminalText(page);
  await page.locator('[data-testid=lesson-body] button.code-run').nth(0).click();
  await waitForTerminal(page, (text) => text.includes('# Please edit the object below') && text.includes('type: ClusterIP'), 30_000);
  await page.locator('.xterm').click();
  await page.keyboard.type(':%s/type: ClusterIP/type: NodePort/\n');
  await page.keyboard.type(':wq\n');
  await waitForTerminal(page, (text) => text.includes('service/productpage edited'), 30_000);
  await waitForPrompt(page, before, 30_000);
}

describe('Istio on Kubernetes with Bookinfo, as a learner', () => {
  test('every step: click Run, the checks turn green, a screenshot', async () => {
    const context = await newContext(browser, { width: 1600, height: 1000 });
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(playground.url);
    await page.getByTestId('track-list').waitFor();

    for (const [n, { step, run }] of PLAN.entries()) {
      await page.goto(new URL(`#/track/istio-bookinfo/${step}`, playground.baseUrl).toString());
      await page.getByTestId('lesson-body').waitFor();
      await waitForConnected(page);
      const status = page.getByTestId('checks-status');
      const checked = (await status.count()) > 0;
      if (checked) await expect.poll(() => status.textContent(), { timeout: 30_000 }).not.toBe('All checks pass');

      for (const action of run) {
        if (action === 'edit') await editInVi(page);
        else await clickRun(page, action);
      }
      if (checked) {
        // Traffic checks are re-evaluated every 10 s; sampled ones send up to 200 requests.
        try {
          await expect.poll(() => status.textContent(), { timeout: 120_000 }).toBe('All checks pass');
        } catch {
          await screenshot(page, `e2e-istio-bookinfo-${String(n + 1).padStart(2, '0')}-${step}-FAILED`);
          throw new Error(`step ${step}: the checks did not all pass: ${await page.getByTestId('checks').textContent()}`);
        }
      }
      await screenshot(page, `e2e-istio-bookinfo-${String(n + 1).padStart(2, '0')}-${step}`);
    }
    expect(errors).toEqual([]);
    await context.close();
  }, 30 * 60_000);
});
