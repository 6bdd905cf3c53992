/**
 * What a new learner's walk through the tracks found, in a real browser: check hints and results
 * read as text (markdown rendered, no raw JSON or regexes), a step's own clean-up does not make
 * its chip disagree with the step list, and the lesson scrolls by keyboard from the first moment.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Playground, startPlayground } from '../../server/playground.js';
import { collectPageErrors, launchBrowser, newContext, waitForConnected, waitForTerminal } from './browser.js';

let playground: Playground;
let browser: Browser;
let dataDir: string;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-e2e-walk-'));
  [playground, browser] = await Promise.all([startPlayground({ port: 0, dataDir, logLevel: 'silent' }), launchBrowser()]);
});

afterAll(async () => {
  await browser?.close();
  await playground?.close();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

async function openStep(page: Page, trackId: string, stepId: string): Promise<void> {
  await page.goto(playground.url);
  await page.goto(new URL(`#/track/${trackId}/${stepId}`, playground.baseUrl).toString());
  await page.getByTestId('lesson-body').waitFor();
}

const lessonScrollTop = (page: Page) => page.locator('.lesson-scroll').evaluate((el) => el.scrollTop);

describe('a learner walking the tracks', () => {
  test('check hints render their markdown and results say what is missing in words', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await openStep(page, 'welcome', 'kubectl-version');
    await waitForConnected(page);
    await page.locator('.xterm').click();
    await page.keyboard.type('echo "Client Version: v1.2.3 Server Version: v1.2.3"\n');
    await waitForTerminal(page, (text) => /^Client Version: v1\.2\.3 Server/m.test(text));
    await page.getByTestId('check-now').click();
    const found = page.locator('.check-found').first();
    await expect.poll(() => found.textContent(), { timeout: 20_000 }).toBe('you have not run kubectl version in this step yet');
    await expect(found.locator('code').textContent()).resolves.toBe('kubectl version');
    const panel = (await page.getByTestId('checks').textContent()) ?? '';
    expect(panel).not.toMatch(/\\d|\/Client Version/);

    await openStep(page, 'welcome', 'terminal-and-run-buttons');
    const hint = page.locator('.check-hint').first();
    await expect.poll(() => hint.textContent(), { timeout: 20_000 }).toBe('Click Run on the first code block, or type the command yourself and press Enter.');
    await expect(hint.locator('strong').textContent()).resolves.toBe('Run');
    expect(errors).toEqual([]);
    await context.close();
  });

  test("a step that passed stays done in its chip when the step's own clean-up undoes its checks", async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await openStep(page, 'warm-up', 'scale');
    await waitForConnected(page);
    await page.locator('.xterm').click();
    await page.keyboard.type('kubectl create deployment web --image=nginx --replicas=3 && kubectl expose deployment web --port=80\n');
    const chip = page.getByTestId('checks-chip');
    await expect.poll(() => chip.textContent(), { timeout: 60_000 }).toBe('Checks pass');
    await expect.poll(() => page.locator('.step-segment.is-done').count()).toBeGreaterThan(0);
    await page.keyboard.type('kubectl delete service web && kubectl delete deployment web\n');
    const status = page.getByTestId('checks-status');
    await expect.poll(() => status.textContent(), { timeout: 60_000 }).toBe('Step done · 0 of 2 pass now');
    await expect(chip.textContent()).resolves.toBe('Step done');
    await expect(chip.getAttribute('data-state')).resolves.toBe('passed');
    expect(errors).toEqual([]);
    await context.close();
  });

  test('on first opening a track the lesson scrolls by keyboard, and Skip to content focuses it', async () => {
    const context = await newContext(browser, { height: 420 });
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    // A link straight to a track, as a bookmark or a reload opens it.
    await openStep(page, 'warm-up', 'scale');
    await expect.poll(() => page.evaluate(() => !!document.activeElement?.closest('.lesson-scroll'))).toBe(true);
    await page.keyboard.press('PageDown');
    await expect.poll(() => lessonScrollTop(page)).toBeGreaterThan(0);

    await page.reload();
    await page.getByTestId('lesson-body').waitFor();
    // The first stop of the page's tab order (the lesson title has focus now, so reach it directly).
    await page.locator('.skip-link').focus();
    await expect(page.evaluate(() => document.activeElement?.textContent)).resolves.toBe('Skip to content');
    await page.keyboard.press('Enter');
    await expect(page.evaluate(() => document.activeElement?.className)).resolves.toBe('lesson-scroll');
    await page.keyboard.press('PageDown');
    await expect.poll(() => lessonScrollTop(page)).toBeGreaterThan(0);

    // Enter on a track card on the list.
    await page.goto(new URL('#/', playground.baseUrl).toString());
    const card = page.locator('a[href="#/track/warm-up"]').first();
    await card.focus();
    await page.keyboard.press('Enter');
    await page.getByTestId('lesson-body').waitFor();
    await expect.poll(() => page.evaluate(() => !!document.activeElement?.closest('.lesson-scroll'))).toBe(true);
    await page.keyboard.press('PageDown');
    await expect.poll(() => lessonScrollTop(page)).toBeGreaterThan(0);
    expect(errors).toEqual([]);
    await context.close();
  });
});
