/**
 * The browser for end-to-end tests: Debian's chromium driven by playwright-core. A missing
 * browser fails the tests (never skips them): CI installs it, and a green run without a browser
 * would prove nothing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { type Browser, type BrowserContext, type Page, chromium } from 'playwright-core';
import type {} from '../../client/test-hooks.js';

export const CHROMIUM_PATH = process.env.PLAYGROUND_CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS_DIR = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'test-artifacts');

export async function launchBrowser(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `chromium not found at ${CHROMIUM_PATH}: browser tests need it (Debian: apt-get install chromium; or set PLAYGROUND_CHROMIUM)`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A fresh browser profile (cookies, storage) at a laptop-sized viewport, light scheme unless told. */
export async function newContext(browser: Browser, options: { colorScheme?: 'light' | 'dark'; width?: number; height?: number } = {}): Promise<BrowserContext> {
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1366, height: options.height ?? 820 },
    colorScheme: options.colorScheme ?? 'light',
    reducedMotion: 'reduce',
  });
  return context;
}

/** Fails a test on any uncaught page error or console error (a broken page must not pass). */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  return errors;
}

export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const file = path.join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** Everything the terminal shows, scrollback included (read from xterm's buffer via the app's hook). */
export function terminalText(page: Page): Promise<string> {
  return page.evaluate(() => window.__playground?.terminalText() ?? '');
}

export function terminalLines(text: string): string[] {
  return text.split('\n').map((line) => line.trimEnd());
}

export async function waitForTerminal(page: Page, predicate: (text: string) => boolean, timeout = 15_000): Promise<string> {
  const deadline = Date.now() + timeout;
  let text = '';
  while (Date.now() < deadline) {
    text = await terminalText(page);
    if (predicate(text)) return text;
    await page.waitForTimeout(100);
  }
  throw new Error(`terminal did not show what was expected within ${timeout} ms; it shows:\n${text}`);
}

export async function waitForConnected(page: Page, timeout = 15_000): Promise<void> {
  await page.waitForFunction(() => window.__playground?.connectionState() === 'connected', undefined, { timeout });
}

/** A page in a context of its own (kept in `contexts` for closing), its page errors and failed responses recorded. */
export async function openRecordedPage(browser: Browser, contexts: BrowserContext[], colorScheme: 'light' | 'dark' = 'light'): Promise<{ page: Page; errors: string[] }> {
  const context = await newContext(browser, { colorScheme });
  contexts.push(context);
  const page = await context.newPage();
  const errors = collectPageErrors(page);
  page.on('requestfinished', async (r) => {
    const res = await r.response();
    if (res && res.status() >= 400) errors.push(`${res.status()} ${r.url()}`);
  });
  return { page, errors };
}

/** A learner joins a workshop by its link under `name`, landing on the playground's front page. */
export async function joinWorkshop<T extends { page: Page }>(learner: T, link: string, name: string): Promise<T> {
  await learner.page.goto(link);
  await learner.page.getByLabel('Your display name').fill(name);
  await learner.page.getByRole('button', { name: 'Join the workshop' }).click();
  await learner.page.waitForURL((u) => u.pathname === '/').catch(async (e: unknown) => {
    throw new Error(`${String(e)}\n${learner.page.url()}\n${(await learner.page.content()).slice(0, 3000)}`);
  });
  return learner;
}
