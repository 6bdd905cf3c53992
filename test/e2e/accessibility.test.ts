/**
 * Accessibility audit (axe-core, WCAG 2.1 A/AA rules) of each screen in both themes, plus the
 * keyboard path a learner without a mouse takes: reach a Run button, run it, move on.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { type Playground, startPlayground } from '../../server/playground.js';
import { collectPageErrors, launchBrowser, newContext, terminalLines, waitForConnected, waitForTerminal } from './browser.js';

const axeSource = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let playground: Playground;
let browser: Browser;
let dataDir: string;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-e2e-a11y-'));
  [playground, browser] = await Promise.all([startPlayground({ port: 0, dataDir, logLevel: 'silent' }), launchBrowser()]);
});

afterAll(async () => {
  await browser?.close();
  await playground?.close();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

afterEach(async () => {
  await Promise.all(contexts.splice(0).map((context) => context.close()));
});

interface AxeViolation {
  id: string;
  impact: string;
  help: string;
  nodes: { target: string[]; failureSummary: string }[];
}

async function audit(page: Page): Promise<string[]> {
  // Evaluated over the DevTools protocol: the page's CSP (rightly) refuses injected script tags.
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(context: unknown, options: unknown): Promise<{ violations: unknown[] }> } }).axe;
    const result = await axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
      // xterm's own canvas-free DOM rows are presentational; its accessibility tree is audited instead.
      exclude: [['.xterm-rows'], ['.xterm-helper-textarea']],
    });
    return result.violations;
  });
  return (violations as AxeViolation[]).map(
    (v) => `${v.id} (${v.impact}): ${v.help}\n${v.nodes.map((n) => `  ${n.target.join(' ')}: ${n.failureSummary}`).join('\n')}`,
  );
}

async function openPage(colorScheme: 'light' | 'dark'): Promise<{ page: Page; errors: string[] }> {
  const context = await newContext(browser, { colorScheme });
  contexts.push(context);
  const page = await context.newPage();
  return { page, errors: collectPageErrors(page) };
}

describe('accessibility', { timeout: 60_000 }, () => {
  for (const scheme of ['light', 'dark'] as const) {
    test(`the track list and a lesson pass axe's WCAG 2.1 AA rules (${scheme})`, async () => {
      const { page, errors } = await openPage(scheme);
      await page.goto(playground.url);
      await page.getByTestId('track-list').waitFor();
      expect(await audit(page)).toEqual([]);

      await page.goto(new URL('#/track/welcome', playground.baseUrl).toString());
      await page.getByTestId('lesson-body').waitFor();
      await waitForConnected(page);
      // A step with code blocks, the hints revealed and the solution open: every control on screen.
      await page.getByTestId('next-step').click();
      await page.locator('[data-testid=lesson-body] .codeblock').first().waitFor();
      await page.getByTestId('show-hint').click();
      await page.getByTestId('solution').locator('summary').click();
      expect(await audit(page)).toEqual([]);
      expect(errors).toEqual([]);
    });
  }

  test('a keyboard-only learner can reach a Run button, run it, and leave the terminal again', async () => {
    const { page, errors } = await openPage('light');
    await page.goto(new URL('#/track/welcome', playground.url).toString());
    await page.getByTestId('lesson-body').waitFor();
    await waitForConnected(page);
    await page.getByTestId('next-step').click();
    const firstRun = page.locator('[data-testid=lesson-body] button.code-run').first();
    await firstRun.waitFor();
    const command = (await firstRun.getAttribute('data-command'))!;

    // Tab from the top of the page until the Run button has focus; each stop must show focus.
    await page.locator('body').focus();
    let reached = false;
    for (let i = 0; i < 40 && !reached; i++) {
      await page.keyboard.press('Tab');
      const focus = await page.evaluate(() => {
        const element = document.activeElement as HTMLElement | null;
        if (!element || element === document.body) return null;
        const style = getComputedStyle(element);
        return {
          isRun: element.matches('[data-testid=lesson-body] button.code-run'),
          visible: style.boxShadow !== 'none' || style.outlineStyle !== 'none',
          what: element.outerHTML.slice(0, 80),
        };
      });
      if (!focus) continue;
      expect(focus.visible, `focus is not visible on ${focus.what}`).toBe(true);
      reached = focus.isRun;
    }
    expect(reached).toBe(true);
    await page.keyboard.press('Enter');
    await waitForTerminal(page, (text) => terminalLines(text).some((line) => line.endsWith(command.split('\n')[0]!)));
    // Run hands the keyboard to the terminal; Tab belongs to the shell there, Ctrl+Shift+L leads back.
    expect(await page.evaluate(() => document.activeElement?.classList.contains('xterm-helper-textarea'))).toBe(true);
    await page.keyboard.press('Control+Shift+L');
    await expect.poll(() => page.evaluate(() => document.activeElement?.className)).toBe('lesson-title');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Shift+Tab');
    expect(await page.evaluate(() => document.activeElement?.closest('#lesson-pane') !== null)).toBe(true);
    expect(errors).toEqual([]);
  });
});
