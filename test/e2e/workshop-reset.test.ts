/**
 * The instructor resets a learner's step from the dashboard, in Chromium, while the learner's page
 * is open: on the track (the page says so in an alert, shows the reset's progress as for the
 * learner's own reset, moves to the step and gives a fresh terminal whose cluster is the step's
 * start), and on the track list (the page opens the track and follows the reset there). The
 * instructor's page says when the reset is done, or what failed (the learner's shell then stays).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Playground, startPlayground } from '../../server/playground.js';
import type {} from '../../client/admin/main.js';
import { joinWorkshop, launchBrowser, openRecordedPage, screenshot, terminalText, waitForConnected, waitForTerminal } from './browser.js';

const lessonsDir = path.join(path.dirname(new URL(import.meta.url).pathname), '../fixtures/lessons/workshop');

let playground: Playground;
let browser: Browser;
let dataDir: string;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  const clientIndex = path.join(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'dist', 'client', 'index.html');
  if (!fs.existsSync(clientIndex)) throw new Error('the client is not built: run `npm run build` first (npm test does)');
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-e2e-workshop-reset-'));
  [playground, browser] = await Promise.all([startPlayground({ port: 0, dataDir, lessonsDir, logLevel: 'silent' }), launchBrowser()]);
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await playground?.close();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

const open = (colorScheme: 'light' | 'dark' = 'light') => openRecordedPage(browser, contexts, colorScheme);
const joinAs = async (link: string, name: string) => joinWorkshop(await open(), link, name);

/** Records every text the reset's status element shows from now on (progress flashes by on a fast reset). */
async function recordResetStatus(page: Page): Promise<() => Promise<string[]>> {
  await page.evaluate(() => {
    const seen: string[] = ((window as unknown as { __resetTexts: string[] }).__resetTexts = []);
    new MutationObserver(() => {
      const el = document.querySelector('[data-testid="reset-status"]');
      const text = el && !(el as HTMLElement).hidden ? (el.textContent ?? '') : '';
      if (text && seen.at(-1) !== text) seen.push(text);
    }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  });
  return () => page.evaluate(() => (window as unknown as { __resetTexts: string[] }).__resetTexts);
}

/** The instructor selects the learner in the grid and resets the step chosen by its label. */
async function resetFromDashboard(admin: Page, learner: string, stepLabel: string): Promise<void> {
  await admin.getByTestId('learner-row-header').filter({ hasText: learner }).click();
  await expect.poll(() => admin.getByTestId('learner-detail').locator('h2').textContent()).toBe(learner);
  await admin.getByTestId('reset-step-select').selectOption({ label: stepLabel });
  await admin.getByTestId('reset-step').click();
}

describe('the instructor resets a learner’s step', { timeout: 300_000 }, () => {
  test('the learner’s open page is told, shows the progress, moves to the step and gets a fresh terminal', async () => {
    const instructor = await open();
    const admin = instructor.page;
    await admin.goto(playground.adminUrl);
    await admin.waitForURL(/\/admin$/);
    await admin.getByLabel('Title').fill('Reset day');
    await admin.getByTestId('ws-track-demo').check();
    await admin.getByTestId('ws-create').click();
    const joinLink = (await admin.getByTestId('join-link').textContent())!;

    // Ada works on the first step and goes further than the second step's start.
    const ada = await joinAs(joinLink, 'Ada');
    await ada.page.goto(new URL('#/track/demo/configmap', playground.baseUrl).href);
    await waitForConnected(ada.page);
    await ada.page.locator('.xterm').click();
    await ada.page.keyboard.type('kubectl create configmap greeting --from-literal=message=hello && kubectl create secret generic api-key --from-literal=token=early\n');
    await waitForTerminal(ada.page, (t) => t.includes('secret/api-key created'), 60_000);
    const adaStatus = await recordResetStatus(ada.page);

    await resetFromDashboard(admin, 'Ada', 'Workshop demo: Create a Secret');

    // The page says who reset what, in an alert.
    const notice = ada.page.getByTestId('instructor-reset');
    await notice.waitFor({ timeout: 10_000 });
    expect(await notice.getByRole('alert').textContent()).toBe('Your instructor reset step “Create a Secret” of Workshop demo: your cluster, files and terminal go back to the start of that step.');
    // The reset's progress, then its end, in the reset's own status region; the page is on the step.
    const status = ada.page.getByTestId('reset-status');
    await expect.poll(() => status.textContent(), { timeout: 120_000 }).toBe('Ready: your cluster and files are at the start of "Create a Secret".Dismiss');
    expect((await adaStatus())[0]).toBe('Your instructor reset “Create a Secret”: preparing its start…');
    expect(await status.getAttribute('class')).toContain('is-done');
    await expect.poll(() => ada.page.evaluate(() => location.hash)).toBe('#/track/demo/secret');
    expect(await ada.page.getByTestId('step-picker').textContent()).toContain('Create a Secret');

    // A fresh shell, on the step's start: the first step's ConfigMap, not the Secret made early.
    await waitForConnected(ada.page, 30_000);
    await ada.page.locator('.xterm').click();
    const command = 'kubectl get secret api-key; kubectl get configmap greeting -o jsonpath="{.data.message}-$((6*7))"; echo';
    await ada.page.keyboard.type(`${command}\n`);
    await expect
      .poll(async () => (await terminalText(ada.page)).split(command).at(-1) ?? '', { timeout: 30_000 })
      .toMatch(/Error from server \(NotFound\): secrets "api-key" not found\s+hello-42/);

    // The instructor's page says it is done, and the row shows Ada on the step, not done.
    await expect.poll(() => admin.getByTestId('action-status').textContent(), { timeout: 10_000 }).toBe('Ada: “Create a Secret” reset; their cluster and files are at its start, and they have a fresh terminal.');
    const adaId = await admin.getByTestId('learner-row-header').filter({ hasText: 'Ada' }).getAttribute('data-learner');
    await expect.poll(() => admin.locator(`td[data-learner="${adaId}"][data-step="secret"]`).getAttribute('data-state')).toMatch(/^(current|failing)$/);
    expect(await admin.getByTestId('learner-detail').textContent()).toContain('On “Create a Secret”.');
    expect(await admin.getByTestId('action-error').textContent()).toBe('');
    await screenshot(ada.page, 'e2e-workshop-reset-learner');
    await screenshot(admin, 'e2e-workshop-reset-instructor');

    // Grace is on the track list: her page opens the track and follows the reset there.
    const grace = await joinAs(joinLink, 'Grace');
    await grace.page.getByText('Workshop demo').first().waitFor();
    const graceStatus = await recordResetStatus(grace.page);
    await resetFromDashboard(admin, 'Grace', 'Workshop demo: Create a ConfigMap');
    await grace.page.getByTestId('instructor-reset').waitFor({ timeout: 10_000 });
    await expect.poll(() => grace.page.evaluate(() => location.hash), { timeout: 10_000 }).toBe('#/track/demo/configmap');
    await expect.poll(() => grace.page.getByTestId('reset-status').textContent(), { timeout: 120_000 }).toBe('Ready: your cluster and files are at the start of "Create a ConfigMap".Dismiss');
    expect((await graceStatus())[0]).toBe('Your instructor reset “Create a ConfigMap”: preparing its start…');
    await waitForConnected(grace.page, 30_000);
    await grace.page.locator('.xterm').click();
    await grace.page.keyboard.type('kubectl get configmaps --no-headers; echo grace-$((7*6))\n');
    await waitForTerminal(grace.page, (t) => t.includes('grace-42'), 30_000);
    expect(await terminalText(grace.page)).toContain('kube-root-ca.crt');

    expect({ instructor: instructor.errors, ada: ada.errors, grace: grace.errors }).toEqual({ instructor: [], ada: [], grace: [] });
  });

  test('a reset that fails says what failed, to the instructor and the learner, and leaves the learner’s shell as it was', async () => {
    const instructor = await open();
    const admin = instructor.page;
    await admin.goto(playground.adminUrl);
    await admin.waitForURL(/\/admin$/);
    await admin.getByLabel('Title').fill('Trouble day');
    await admin.getByTestId('ws-track-trouble').check();
    await admin.getByTestId('ws-create').click();
    const joinLink = (await admin.getByTestId('join-link').textContent())!;

    const bea = await joinAs(joinLink, 'Bea');
    await bea.page.goto(new URL('#/track/trouble/slow', playground.baseUrl).href);
    await waitForConnected(bea.page);
    await bea.page.locator('.xterm').click();
    await bea.page.keyboard.type('export MARK=kept; echo marked-$((1+1))\n');
    await waitForTerminal(bea.page, (t) => t.includes('marked-2'));

    // The last step's start needs the second step's solution, which fails.
    await resetFromDashboard(admin, 'Bea', 'Trouble: After the failure');
    const failure = admin.getByTestId('action-error');
    await expect.poll(() => failure.textContent(), { timeout: 120_000 }).toMatch(/^Bea: the reset of “After the failure” failed: step "broken" \(Fail on purpose\) failed while its solution was replayed: /);
    expect(await failure.getAttribute('role')).toBe('alert');

    const status = bea.page.getByTestId('reset-status');
    await expect.poll(() => status.getAttribute('class'), { timeout: 30_000 }).toContain('is-failed');
    expect(await status.getAttribute('role')).toBe('alert');
    expect(await status.textContent()).toMatch(/^The reset to "After the failure" failed: step "broken"/);
    // Nothing was replaced: the page stays on its step, and the shell is the one Bea had.
    expect(await bea.page.evaluate(() => location.hash)).toBe('#/track/trouble/slow');
    await bea.page.locator('.xterm').click();
    await bea.page.keyboard.type('echo "$MARK-still"\n');
    await waitForTerminal(bea.page, (t) => t.includes('kept-still'));
    // And the panel is not left waiting to replace it: when Bea ends her shell, the page says so (no silent new shell).
    await bea.page.keyboard.type('exit\n');
    await bea.page.getByText('The shell has ended', { exact: true }).waitFor({ timeout: 15_000 });
    expect(await bea.page.evaluate(() => window.__playground?.connectionState())).toBe('ended');
    expect({ instructor: instructor.errors, bea: bea.errors }).toEqual({ instructor: [], bea: [] });
  });
});
