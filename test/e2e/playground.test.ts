/**
 * The playground in a real browser against the real server (started in-process, its own data
 * dir, the repository's lessons): what a learner sees and does.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { type Playground, startPlayground } from '../../server/playground.js';
import {
  collectPageErrors,
  launchBrowser,
  newContext,
  screenshot,
  terminalLines,
  terminalText,
  waitForConnected,
  waitForTerminal,
} from './browser.js';

const HELLO = 'Hello from the playground';

let playground: Playground;
let browser: Browser;
let dataDir: string;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  const clientIndex = path.join(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'dist', 'client', 'index.html');
  if (!fs.existsSync(clientIndex)) throw new Error('the client is not built: run `npm run build` first (npm test does)');
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-e2e-'));
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

async function openPage(options: Parameters<typeof newContext>[1] = {}): Promise<{ page: Page; errors: string[]; context: BrowserContext }> {
  const context = await newContext(browser, options);
  contexts.push(context);
  const page = await context.newPage();
  const errors = collectPageErrors(page);
  return { page, errors, context };
}

/** Opens the printed URL (token exchange), then the Welcome track at its first step. */
async function openWelcome(page: Page): Promise<void> {
  await page.goto(playground.url);
  await page.getByTestId('track-list').waitFor();
  await page.locator('[data-track="welcome"] .track-link').click();
  await page.getByTestId('lesson-body').waitFor();
  await waitForConnected(page);
}

describe('a learner in the browser', { timeout: 60_000 }, () => {
  test('sees the tracks, opens Welcome, runs a command from the lesson, and finds the same screen after a reload', async () => {
    const { page, errors } = await openPage();
    await page.goto(playground.url);

    // The token leaves the address bar (it was exchanged for a cookie).
    expect(page.url()).not.toContain('token=');
    const card = page.locator('[data-track="welcome"]');
    await card.waitFor();
    const tracks = (await (await page.request.get(new URL('api/tracks', playground.baseUrl).toString())).json()) as {
      tracks: { id: string; title: string; steps: { id: string; title: string }[] }[];
    };
    const welcome = tracks.tracks.find((track) => track.id === 'welcome')!;
    await expect(card.locator('.track-title').textContent()).resolves.toBe(welcome.title);
    await expect(card.getByTestId('step-count').textContent()).resolves.toBe(`${welcome.steps.length} steps`);
    await expect(card.getByTestId('done-count').textContent()).resolves.toBe(`0 of ${welcome.steps.length} done`);
    await screenshot(page, 'e2e-track-list');

    await card.locator('.track-link').click();
    await page.getByTestId('lesson-body').waitFor();
    expect(new URL(page.url()).hash).toBe(`#/track/welcome/${welcome.steps[0]!.id}`);
    await expect(page.locator('.lesson-title').textContent()).resolves.toBe(welcome.steps[0]!.title);
    await waitForConnected(page);
    await expect(page.getByTestId('connection-status').textContent()).resolves.toBe('Connected');

    // Step navigation: Next until the step with the Run button for the greeting.
    const run = page.locator(`[data-testid=lesson-body] button.code-run[data-command='echo "${HELLO}"']`);
    for (let step = 1; step < welcome.steps.length && (await run.count()) === 0; step++) {
      await page.getByTestId('next-step').click();
      await expect.poll(() => page.locator('.lesson-title').textContent()).toBe(welcome.steps[step]!.title);
      await expect.poll(() => page.getByTestId('step-picker').textContent()).toContain(`Step ${step + 1} of ${welcome.steps.length}`);
    }
    await run.click();

    // The command ran in the shell: its output is a line of its own (the typed command line
    // also holds `echo "…"`, but never the bare text).
    // And the prompt after it: the screen compared after the reload is the one the command left.
    const ranAndPrompted = (text: string) => {
      const lines = terminalLines(text);
      const at = lines.indexOf(HELLO);
      return at >= 0 && lines.slice(at + 1).some((l) => l.startsWith('playground:'));
    };
    const before = await waitForTerminal(page, ranAndPrompted);
    // Run focuses the terminal so the learner can go on typing.
    await expect.poll(() => page.evaluate(() => document.activeElement?.classList.contains('xterm-helper-textarea'))).toBe(true);
    // The step's live check saw the greeting in the terminal.
    await expect.poll(() => page.getByTestId('checks-chip').textContent(), { timeout: 20_000 }).toBe('Checks pass');
    await screenshot(page, 'e2e-run-command');
    const hashBefore = new URL(page.url()).hash;

    await page.reload();
    await page.getByTestId('lesson-body').waitFor();
    await waitForConnected(page);
    expect(new URL(page.url()).hash).toBe(hashBefore);
    const after = await waitForTerminal(page, ranAndPrompted);
    // The replay restores the screen: every line seen before the reload, in order.
    expect(normalize(after)).toBe(normalize(before));
    await screenshot(page, 'e2e-after-reload');
    expect(errors).toEqual([]);
  });

  test('the current step and done marks are saved and restored', async () => {
    const { page, errors } = await openPage();
    await openWelcome(page);
    // The first step has no checks: the learner marks it done by hand.
    const firstTitle = await page.locator('.lesson-title').textContent();
    await page.getByTestId('mark-done').click();
    await expect.poll(() => page.getByTestId('mark-done').getAttribute('aria-pressed')).toBe('true');
    await expect.poll(() => page.locator('.step-segment.is-done').count()).toBe(1);
    await page.getByTestId('next-step').click();
    // The next step renders once its lesson arrives: wait for it rather than read the title at once.
    await expect.poll(() => page.locator('.lesson-title').textContent()).not.toBe(firstTitle);
    const secondTitle = await page.locator('.lesson-title').textContent();

    // A fresh page on the track without a step resumes where the learner was.
    await page.goto(new URL('#/track/welcome', playground.baseUrl).toString());
    await page.reload();
    await expect.poll(() => page.locator('.lesson-title').textContent()).toBe(secondTitle);
    await expect.poll(() => page.locator('.step-segment.is-done').count()).toBe(1);
    await page.getByTestId('prev-step').click();
    await expect.poll(() => page.locator('.lesson-title').textContent()).toBe(firstTitle);
    await expect.poll(() => page.getByTestId('mark-done').getAttribute('aria-pressed')).toBe('true');

    await waitForConnected(page);
    await page.locator('.xterm-helper-textarea').focus();
    await page.keyboard.type('echo still-$((40+2))\n');
    await waitForTerminal(page, (text) => terminalLines(text).includes('still-42'));

    await page.locator('.brand').click();
    await expect.poll(() => page.locator('[data-track="welcome"]').getByTestId('done-count').textContent()).toMatch(/^1 of \d+ done$/);

    // Back in the track, the same terminal is still there, still connected.
    await page.locator('[data-track="welcome"] .track-link').click();
    await expect.poll(() => page.locator('.lesson-title').textContent()).toBe(firstTitle);
    await waitForConnected(page);
    expect(terminalLines(await terminalText(page))).toContain('still-42');
    expect(errors).toEqual([]);
  });

  test('without the token the server refuses, and a page that loses its cookie says to open the printed URL', async () => {
    const { page } = await openPage();
    const response = await page.goto(playground.baseUrl);
    expect(response?.status()).toBe(401);
    await expect(page.locator('body').textContent()).resolves.toMatch(/open the URL/i);

    const authed = await openPage();
    await authed.page.goto(playground.url);
    await authed.page.getByTestId('track-list').waitFor();
    await authed.context.clearCookies();
    await authed.page.evaluate(() => {
      location.hash = '#/track/welcome';
    });
    const message = authed.page.getByTestId('unauthorized');
    await message.waitFor();
    await expect(message.locator('h1').textContent()).resolves.toBe('Open the URL printed by the server');
  });

  test('the theme toggle switches the page and the terminal, and is remembered', async () => {
    const { page, errors } = await openPage({ colorScheme: 'light' });
    await openWelcome(page);
    const html = page.locator('html');
    await expect(html.getAttribute('data-theme')).resolves.toBe('light');
    const terminalColour = () => page.locator('.xterm-rows').evaluate((rows) => getComputedStyle(rows).color);
    const pageBackground = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const [lightText, lightBackground] = [await terminalColour(), await pageBackground()];

    await page.getByTestId('theme-toggle').click();
    await expect(html.getAttribute('data-theme')).resolves.toBe('dark');
    await expect(page.getByTestId('theme-toggle').getAttribute('aria-pressed')).resolves.toBe('true');
    await expect.poll(terminalColour).not.toBe(lightText);
    expect(await pageBackground()).not.toBe(lightBackground);
    await screenshot(page, 'e2e-dark-theme');

    await page.reload();
    await page.getByTestId('lesson-body').waitFor();
    await expect(html.getAttribute('data-theme')).resolves.toBe('dark');
    expect(errors).toEqual([]);
  });

  test('follows the system colour scheme until the learner chooses', async () => {
    const { page } = await openPage({ colorScheme: 'dark' });
    await page.goto(playground.url);
    await page.getByTestId('track-list').waitFor();
    await expect(page.locator('html').getAttribute('data-theme')).resolves.toBe('dark');
  });

  test('the divider resizes the panes from the keyboard, and the shell learns the new width', async () => {
    const { page, errors } = await openPage();
    await openWelcome(page);
    const splitter = page.getByTestId('splitter');
    await expect(splitter.getAttribute('role')).resolves.toBe('separator');
    const lessonWidth = () => page.locator('#lesson-pane').evaluate((pane) => pane.getBoundingClientRect().width);
    const start = Number(await splitter.getAttribute('aria-valuenow'));
    const widthBefore = await lessonWidth();
    const colsBefore = (await page.evaluate(() => window.__playground!.terminalSize()))!.cols;

    await splitter.focus();
    for (let i = 0; i < 5; i++) await page.keyboard.press('ArrowRight');
    await expect.poll(() => splitter.getAttribute('aria-valuenow')).toBe(String(start + 10));
    expect(await lessonWidth()).toBeGreaterThan(widthBefore + 50);
    await expect.poll(async () => (await page.evaluate(() => window.__playground!.terminalSize()))!.cols).toBeLessThan(colsBefore);

    // The PTY was resized too: the shell reports the terminal's new size.
    const size = (await page.evaluate(() => window.__playground!.terminalSize()))!;
    await page.locator('.xterm-helper-textarea').focus();
    await page.keyboard.type('stty size\n');
    await waitForTerminal(page, (text) => terminalLines(text).includes(`${size.rows} ${size.cols}`));

    await splitter.focus();
    await page.keyboard.press('Home');
    await expect.poll(() => splitter.getAttribute('aria-valuenow')).toBe('20');
    await page.keyboard.press('End');
    await expect.poll(() => splitter.getAttribute('aria-valuenow')).toBe('80');

    // Dragging with the pointer works too.
    const box = (await splitter.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(683, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    const dragged = Number(await splitter.getAttribute('aria-valuenow'));
    expect(dragged).toBeGreaterThan(45);
    expect(dragged).toBeLessThan(55);
    expect(errors).toEqual([]);
  });

  test('when the shell exits the terminal says so and starts a new shell on request', async () => {
    const { page, errors } = await openPage();
    await openWelcome(page);
    await page.locator('.xterm-helper-textarea').focus();
    await page.keyboard.type('exit 3\n');
    const notice = page.getByTestId('terminal-notice');
    await expect.poll(() => notice.textContent()).toContain('The shell has ended');
    await expect(notice.textContent()).resolves.toContain('exit code 3');
    await expect(page.getByTestId('connection-status').textContent()).resolves.toBe('Ended');
    await expect.poll(() => page.getByTestId('announcer').textContent()).toContain('The shell has ended');

    await notice.getByRole('button', { name: 'Start a new shell' }).click();
    await waitForConnected(page);
    await expect(notice.isHidden()).resolves.toBe(true);
    await page.locator('.xterm-helper-textarea').focus();
    await page.keyboard.type('echo new-$((40+2))\n');
    await waitForTerminal(page, (text) => terminalLines(text).includes('new-42'));
    expect(errors).toEqual([]);
  });

  test('opening the terminal in a second tab takes it over, and the first tab can take it back', async () => {
    const { page, context, errors } = await openPage();
    await openWelcome(page);
    const second = await context.newPage();
    await second.goto(new URL('#/track/welcome', playground.baseUrl).toString());
    await waitForConnected(second);

    const notice = page.getByTestId('terminal-notice');
    await expect.poll(() => notice.textContent()).toContain('Opened in another tab');
    await expect(page.getByTestId('connection-status').textContent()).resolves.toBe('In another tab');
    await notice.getByRole('button', { name: 'Use it here' }).click();
    await waitForConnected(page);
    await expect.poll(() => second.evaluate(() => window.__playground!.connectionState())).toBe('detached');
    expect(errors).toEqual([]);
  });

  test('after a dropped connection the terminal reconnects by itself and keeps the shell', async () => {
    const { page, errors } = await openPage();
    const sockets: { close(): Promise<void> }[] = [];
    await page.routeWebSocket(/\/ws\/terminal$/, (ws) => {
      ws.connectToServer();
      sockets.push(ws);
    });
    await openWelcome(page);
    await page.locator('.xterm-helper-textarea').focus();
    await page.keyboard.type('export MARK=kept-$((20+3))\n');

    // The status the learner sees, every state it shows: reconnecting may last only ~250 ms, less
    // than a poll's round trip on a loaded machine, so it is recorded as it happens.
    await page.evaluate(() => {
      const status = document.querySelector('[data-testid="connection-status"]')!;
      const seen: string[] = ((window as unknown as { seenStates: string[] }).seenStates = []);
      new MutationObserver(() => seen.push(status.getAttribute('data-state') ?? '')).observe(status, { attributes: true, attributeFilter: ['data-state'] });
    });
    await sockets.at(-1)!.close();
    // The learner saw it reconnecting, then connected again.
    await page.waitForFunction(
      () => {
        const seen = (window as unknown as { seenStates: string[] }).seenStates;
        const lost = seen.findIndex((s) => s === 'reconnecting' || s === 'connecting');
        return lost >= 0 && seen.slice(lost).includes('connected');
      },
      undefined,
      { timeout: 15_000 },
    );
    await waitForConnected(page);
    expect(sockets.length).toBeGreaterThan(1);
    await page.locator('.xterm-helper-textarea').focus();
    await page.keyboard.type('echo $MARK\n');
    await waitForTerminal(page, (text) => terminalLines(text).includes('kept-23'));
    expect(errors).toEqual([]);
  });

  test('a flood of output streams through to the end (flow control acknowledges what the browser rendered)', async () => {
    const { page, errors } = await openPage();
    await openWelcome(page);
    await page.locator('.xterm-helper-textarea').focus();
    // ~3.4 MB: more than the server lets through unacknowledged (FLOW_HIGH_WATER), several times over.
    await page.keyboard.type('seq 1 500000; echo flood-$((2+3))\n');
    const text = await waitForTerminal(page, (t) => terminalLines(t).includes('flood-5'), 60_000);
    const lines = terminalLines(text);
    expect(lines[lines.indexOf('flood-5') - 1]).toBe('500000');
    expect(errors).toEqual([]);
  }, 90_000);

  test('terminal search, screen-reader mode and the live region', async () => {
    const { page, errors } = await openPage();
    await openWelcome(page);
    await page.locator('.xterm-helper-textarea').focus();
    await page.keyboard.type('for i in 1 2 3; do echo needle-$i; done\n');
    await waitForTerminal(page, (text) => terminalLines(text).includes('needle-3'));

    await page.keyboard.press('Control+Shift+F');
    const search = page.getByTestId('terminal-search');
    await search.waitFor();
    await page.keyboard.type('needle-');
    // The typed command line holds "needle-" once more than the three output lines.
    await expect.poll(() => search.locator('.search-count').textContent()).toMatch(/^\d of 4$/);
    await page.keyboard.press('Escape');
    await expect(search.isHidden()).resolves.toBe(true);

    const srToggle = page.getByTestId('screen-reader-toggle');
    await expect(srToggle.getAttribute('aria-pressed')).resolves.toBe('false');
    await srToggle.click();
    await expect(srToggle.getAttribute('aria-pressed')).resolves.toBe('true');
    // xterm's accessibility tree mirrors the terminal's rows for screen readers.
    await expect.poll(() => page.locator('.xterm-accessibility-tree').textContent()).toContain('needle-3');
    await expect.poll(() => page.getByTestId('announcer').textContent()).toContain('screen reader mode on');
    expect(errors).toEqual([]);
  });
});

/** Screen text as compared across a reload: trailing blanks are not part of what one sees. */
function normalize(text: string): string {
  return terminalLines(text).join('\n').trimEnd();
}
