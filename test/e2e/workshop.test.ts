/**
 * A workshop in a real browser: the instructor creates it on the admin page, two learners join by
 * its link in browsers of their own, one completes a step and the dashboard's grid shows it (pushed,
 * measured against the learner's own page), the grid works by keyboard, the instructor watches a
 * learner type, a broadcast reaches both learners (announced, dismissible), and the CSV export
 * holds the results. The dashboard passes axe's WCAG 2.1 AA rules.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Playground, startPlayground } from '../../server/playground.js';
import type { Dashboard } from '../../server/workshops/dashboard.js';
import type {} from '../../client/admin/main.js';
import { joinWorkshop, launchBrowser, openRecordedPage, screenshot, waitForConnected, waitForTerminal } from './browser.js';

const lessonsDir = path.join(path.dirname(new URL(import.meta.url).pathname), '../fixtures/lessons/workshop');
const axeSource = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let playground: Playground;
let browser: Browser;
let dataDir: string;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-e2e-workshop-'));
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

/** When (epoch ms, by the page's clock) the selector first matched; the observer starts now. */
function whenMatches(page: Page, selector: string): Promise<number> {
  return page.evaluate(
    (sel) =>
      new Promise<number>((resolve) => {
        const seen = () => document.querySelector(sel);
        if (seen()) return resolve(Date.now());
        const observer = new MutationObserver(() => {
          if (seen()) {
            observer.disconnect();
            resolve(Date.now());
          }
        });
        observer.observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
      }),
    selector,
  );
}

async function audit(page: Page): Promise<string[]> {
  await page.evaluate(axeSource);
  const violations = (await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(context: unknown, options: unknown): Promise<{ violations: unknown[] }> } }).axe;
    const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, exclude: [['.xterm-rows'], ['.xterm-helper-textarea']] });
    return result.violations;
  })) as { id: string; help: string; nodes: { target: string[] }[] }[];
  return violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

describe('a workshop, instructor and two learners', { timeout: 180_000 }, () => {
  test('create, join, live grid, keyboard, terminal view, broadcast, export', async () => {
    // The instructor opens the URL printed for instructors and creates the workshop.
    const instructor = await open();
    const admin = instructor.page;
    await admin.goto(playground.adminUrl);
    await admin.waitForURL(/\/admin$/);
    await admin.getByLabel('Title').fill('Mesh & friends');
    await admin.getByTestId('ws-track-demo').check();
    await admin.getByLabel('Seats').fill('5');
    await admin.getByTestId('ws-create').click();
    const joinLink = (await admin.getByTestId('join-link').textContent())!;
    expect(joinLink).toMatch(new RegExp(`^${playground.baseUrl}join/[A-Za-z0-9_-]{22}$`));

    const ada = await joinAs(joinLink, 'Ada');
    const grace = await joinAs(joinLink, 'Grace <3');
    // Only the workshop's tracks are offered.
    await ada.page.getByText('Workshop demo').first().waitFor();
    expect(await ada.page.getByText('Another track').count()).toBe(0);

    const rows = admin.getByTestId('learner-row-header');
    await expect.poll(() => rows.allTextContents()).toEqual(['Ada', 'Grace <3']);

    // Ada completes the first step; her page and the dashboard both hear it from the server.
    await ada.page.goto(new URL('#/track/demo/configmap', playground.baseUrl).href);
    await waitForConnected(ada.page);
    const adaRow = await admin.locator('tr[data-learner]').first().getAttribute('data-learner');
    const dashboardDone = whenMatches(admin, `td[data-learner="${adaRow}"][data-step="configmap"][data-state="done"]`);
    const learnerDone = whenMatches(ada.page, '[data-testid="checks-chip"][data-state="passed"]');
    await ada.page.locator('.xterm').click();
    await ada.page.keyboard.type('kubectl create configmap greeting --from-literal=message=hello\n');
    const [seenByLearner, seenByInstructor] = await Promise.all([learnerDone, dashboardDone]);
    const lag = seenByInstructor - seenByLearner;
    console.log(`dashboard behind the learner's own page by ${lag} ms`);
    // Pushed, not polled (the dashboard has no periodic refresh). The issue's < 1 s is measured by
    // `npm run bench -- workshop`; here a loaded CI machine's stalls get room.
    expect(lag).toBeLessThan(5000);

    // The grid by keyboard: one tab stop, arrows move, Enter opens the learner.
    await admin.locator('[data-row="0"][data-col="0"]').focus();
    await admin.keyboard.press('ArrowDown');
    expect(await admin.evaluate(() => document.activeElement?.textContent)).toBe('Grace <3');
    await admin.keyboard.press('ArrowRight');
    await admin.keyboard.press('ArrowRight');
    expect(await admin.evaluate(() => (document.activeElement as HTMLElement).dataset.step)).toBe('configmap');
    await admin.keyboard.press('Home');
    await admin.keyboard.press('ArrowUp');
    expect(await admin.evaluate(() => document.activeElement?.textContent)).toBe('Ada');
    expect(await admin.locator('.learner-grid [tabindex="0"]').count()).toBe(1);
    await admin.keyboard.press('Enter');
    await expect.poll(() => admin.evaluate(() => document.activeElement?.tagName + ':' + document.activeElement?.textContent)).toBe('H2:Ada');

    // The instructor watches Ada's terminal and sees her type.
    await admin.getByTestId('watch-toggle').click();
    await expect.poll(() => admin.evaluate(() => window.__admin!.watchText()), { timeout: 10_000 }).toContain('configmap/greeting created');
    await ada.page.keyboard.type('echo watched-$((6*7))\n');
    await waitForTerminal(ada.page, (t) => t.includes('watched-42'));
    await expect.poll(() => admin.evaluate(() => window.__admin!.watchText()), { timeout: 10_000 }).toContain('watched-42');

    // Grace opens a hint on the next step: the dashboard counts it.
    await grace.page.goto(new URL('#/track/demo/secret', playground.baseUrl).href);
    await grace.page.getByTestId('show-hint').click();
    const graceHints = () =>
      admin.evaluate(async () => {
        const id = location.hash.slice('#/w/'.length);
        const d = (await (await fetch(`api/admin/workshops/${id}/dashboard`)).json()) as Dashboard;
        return d.learners.find((l) => l.name === 'Grace <3')?.hintsOpened;
      });
    await expect.poll(graceHints, { timeout: 10_000 }).toBe(1);

    // A broadcast reaches both learners, as an alert they can dismiss.
    await admin.getByTestId('broadcast-input').fill('Break until 11:00 — back in 10 <b>min</b>');
    await admin.getByTestId('broadcast-send').click();
    for (const learner of [ada, grace]) {
      const banner = learner.page.getByTestId('broadcast');
      await banner.waitFor({ timeout: 10_000 });
      expect(await banner.getByRole('alert').textContent()).toContain('Break until 11:00 — back in 10 <b>min</b>');
    }
    await ada.page.getByTestId('broadcast-dismiss').click();
    expect(await ada.page.getByTestId('broadcast').count()).toBe(0);

    // The CSV export, as the link downloads it.
    const href = (await admin.getByTestId('export-csv').getAttribute('href'))!;
    const csv = await admin.evaluate(async (h) => (await fetch(h)).text(), href);
    expect(csv).toContain('Ada,demo,configmap,Create a ConfigMap,done,yes');
    expect(csv).toContain('Grace <3,demo,configmap,Create a ConfigMap,todo,no');
    expect(csv).toContain('Grace <3,demo,secret,Create a Secret,current,no');

    await screenshot(admin, 'workshop-dashboard');
    await screenshot(grace.page, 'workshop-learner-broadcast');
    expect(await audit(admin)).toEqual([]);
    expect({ instructor: instructor.errors, ada: ada.errors, grace: grace.errors }).toEqual({ instructor: [], ada: [], grace: [] });
  });

  test('the instructor pages and the join page pass axe in the dark theme too, and keyboard focus is visible in the grid', async () => {
    const { page, errors } = await open('dark');
    await page.goto(playground.adminUrl);
    await page.getByTestId('workshop-list').waitFor();
    expect(await audit(page)).toEqual([]);
    // The learners' join page, in the same (dark) scheme.
    const link = (await page.locator('.join-link').first().textContent())!;
    const joinTab = await page.context().newPage();
    expect((await joinTab.goto(link))?.status()).toBe(200);
    expect(await audit(joinTab)).toEqual([]);
    await joinTab.close();
    await page.getByTestId('workshop-list').getByRole('link').first().click();
    await page.getByTestId('learner-grid').locator('[data-row="0"][data-col="0"]').focus();
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    expect(outline).toBe('solid');
    expect(await audit(page)).toEqual([]);
    expect(errors).toEqual([]);
  });
});
