/**
 * Lesson features in the browser, on a lessons folder made for the test: hints and solutions,
 * multi-line Run blocks, copy and paste, tracks for another backend, lessons that fail to load.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { type Playground, startPlayground } from '../../server/playground.js';
import { collectPageErrors, launchBrowser, newContext, screenshot, terminalLines, waitForConnected, waitForTerminal } from './browser.js';

let playground: Playground;
let browser: Browser;
let workDir: string;
const contexts: BrowserContext[] = [];

function writeLessons(root: string): void {
  const write = (file: string, content: string) => {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), content);
  };
  write(
    'basics/track.yaml',
    ['id: basics', 'title: Shell basics', 'summary: Variables and files.', 'order: 1', 'backends: [sim, kind, kubeconfig]', 'steps:', '  - 01-variables.md', '  - 02-files.md', ''].join('\n'),
  );
  write(
    'basics/01-variables.md',
    [
      '---',
      'id: variables',
      'title: Variables',
      'checks: []',
      'hints:',
      '  - Use `export` so **child processes** see it.',
      '  - The name is `ANSWER`.',
      'solution:',
      '  - export ANSWER=$((6*7))',
      '---',
      '',
      'Two commands in one block:',
      '',
      '```bash run',
      'GREETING=multi',
      'echo "$GREETING-line-$((1+1))"',
      '```',
      '',
    ].join('\n'),
  );
  write(
    'basics/02-files.md',
    ['---', 'id: files', 'title: Files', 'checks: []', 'hints: []', 'solution: []', '---', '', 'Copy this (see [the docs](https://istio.io/latest/docs/)):', '', '```text', 'copied-text-123', '```', ''].join('\n'),
  );
  write(
    'elsewhere/track.yaml',
    ['id: elsewhere', 'title: Real clusters only', 'summary: Needs a kind cluster.', 'order: 2', 'backends: [kind]', 'steps:', '  - 01-only.md', ''].join('\n'),
  );
  write('elsewhere/01-only.md', ['---', 'id: only', 'title: Only on kind', 'checks: []', 'hints: []', 'solution: []', '---', '', 'Hello.', ''].join('\n'));
  write(
    'cluster/track.yaml',
    ['id: cluster', 'title: Cluster state', 'summary: Checked live.', 'order: 3', 'backends: [sim, kind, kubeconfig]', 'steps:', '  - 01-configmap.md', ''].join('\n'),
  );
  write(
    'cluster/01-configmap.md',
    [
      '---',
      'id: configmap',
      'title: Create a ConfigMap',
      'checks:',
      '  - title: ConfigMap greeting says hello',
      '    resource:',
      '      apiVersion: v1',
      '      kind: ConfigMap',
      '      name: greeting',
      '      fields:',
      '        - path: data.message',
      '          equals: hello',
      'solution:',
      '  - kubectl create configmap greeting --from-literal=message=hello',
      '---',
      '',
      '```bash run',
      'kubectl create configmap greeting --from-literal=message=hello',
      '```',
      '',
    ].join('\n'),
  );
  write('broken/track.yaml', ['id: broken', 'title: Broken', 'summary: x', 'order: 3', 'backends: [sim]', 'steps:', '  - missing.md', ''].join('\n'));
}

beforeAll(async () => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-e2e-lessons-'));
  const lessonsDir = path.join(workDir, 'lessons');
  writeLessons(lessonsDir);
  [playground, browser] = await Promise.all([
    startPlayground({ port: 0, dataDir: path.join(workDir, 'data'), lessonsDir, logLevel: 'silent' }),
    launchBrowser(),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await playground?.close();
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
});

afterEach(async () => {
  await Promise.all(contexts.splice(0).map((context) => context.close()));
});

async function openPage(): Promise<{ page: Page; errors: string[]; context: BrowserContext }> {
  const context = await newContext(browser);
  contexts.push(context);
  const page = await context.newPage();
  return { page, errors: collectPageErrors(page), context };
}

describe('lessons in the browser', { timeout: 60_000 }, () => {
  test('the track list marks tracks for another backend and lists lessons that failed to load', async () => {
    const { page, errors } = await openPage();
    await page.goto(playground.url);
    await page.getByTestId('track-list').waitFor();
    const titles = await page.locator('.track-title').allTextContents();
    expect(titles).toEqual(['Shell basics', 'Real clusters only', 'Cluster state']);

    const elsewhere = page.locator('[data-track="elsewhere"]');
    await expect(elsewhere.locator('.badge-warning').textContent()).resolves.toBe('Needs kind');
    await expect(page.locator('[data-track="basics"] .badge-warning').count()).resolves.toBe(0);

    const problems = page.getByTestId('lesson-problems');
    await problems.locator('summary').click();
    await expect(problems.textContent()).resolves.toMatch(/broken/);
    await screenshot(page, 'e2e-lessons-list');

    await elsewhere.locator('.track-link').click();
    await page.getByTestId('lesson-body').waitFor();
    await expect(page.locator('.lesson .callout-warning').textContent()).resolves.toContain('written for kind');
    expect(errors).toEqual([]);
  });

  test('a multi-line Run block runs every line; hints come one at a time; the solution runs too', async () => {
    const { page, errors } = await openPage();
    await page.goto(new URL('#/track/basics/variables', playground.url).toString());
    await page.getByTestId('lesson-body').waitFor();
    await waitForConnected(page);

    await page.locator('[data-testid=lesson-body] button.code-run').click();
    await waitForTerminal(page, (text) => terminalLines(text).includes('multi-line-2'));

    const hints = page.locator('.hint-list li');
    await expect(hints.count()).resolves.toBe(0);
    await page.getByTestId('show-hint').click();
    await expect(hints.count()).resolves.toBe(1);
    // Inline markdown is rendered, as elements.
    await expect(hints.first().locator('code').textContent()).resolves.toBe('export');
    await expect(hints.first().locator('strong').textContent()).resolves.toBe('child processes');
    await page.getByTestId('show-hint').click();
    await expect(hints.count()).resolves.toBe(2);
    await expect(page.getByTestId('show-hint').isHidden()).resolves.toBe(true);

    const solution = page.getByTestId('solution');
    await solution.locator('summary').click();
    await solution.locator('button.code-run').click();
    await page.keyboard.type('bash -c \'echo "child sees $ANSWER"\'\n');
    await waitForTerminal(page, (text) => terminalLines(text).includes('child sees 42'));
    await screenshot(page, 'e2e-hints-solution');
    expect(errors).toEqual([]);
  });

  test('checks turn green live when the learner does the step, and the step counts as done', async () => {
    const { page, errors } = await openPage();
    await page.goto(new URL('#/track/cluster/configmap', playground.url).toString());
    await page.getByTestId('lesson-body').waitFor();
    await waitForConnected(page);

    const checks = page.getByTestId('checks');
    const status = page.getByTestId('checks-status');
    await expect.poll(() => status.textContent(), { timeout: 20_000 }).toBe('0 of 1 passing');
    await expect(checks.locator('.check-found').textContent()).resolves.toContain('no ConfigMap "greeting"');
    // With checks, the step is done when they pass: no manual "mark done".
    await expect(page.getByTestId('mark-done').count()).resolves.toBe(0);
    await expect(page.getByTestId('checks-chip').textContent()).resolves.toBe('0/1 checks');

    await page.locator('[data-testid=lesson-body] button.code-run').click();
    await expect.poll(() => status.textContent(), { timeout: 20_000 }).toBe('All checks pass');
    await expect(page.getByTestId('checks-chip').textContent()).resolves.toBe('Checks pass');
    await expect.poll(() => page.locator('.step-segment.is-done').count()).toBe(1);
    await expect.poll(() => page.getByTestId('announcer').textContent()).toBe('All checks pass. Step complete.');
    await screenshot(page, 'e2e-checks-passed');

    await page.getByTestId('check-now').click();
    await expect.poll(() => status.textContent()).toBe('All checks pass');
    const progress = (await (await page.request.get(new URL('api/progress/cluster', playground.baseUrl).toString())).json()) as { done: string[] };
    expect(progress.done).toEqual(['configmap']);
    expect(errors).toEqual([]);
  });

  test('Copy puts a block on the clipboard and Paste types the clipboard into the terminal', async () => {
    const { page, context, errors } = await openPage();
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(playground.baseUrl).origin });
    await page.goto(new URL('#/track/basics/files', playground.url).toString());
    await page.getByTestId('lesson-body').waitFor();
    await waitForConnected(page);

    // A link out of the playground opens beside it, never in place of the lesson and shell.
    const external = page.locator('[data-testid=lesson-body] a[href^="https://istio.io"]');
    await expect(external.getAttribute('target')).resolves.toBe('_blank');
    await expect(external.getAttribute('rel')).resolves.toBe('noopener noreferrer');

    const copy = page.locator('[data-testid=lesson-body] button.code-copy');
    await copy.click();
    await expect.poll(() => copy.textContent()).toBe('Copied');
    await expect(page.evaluate(() => navigator.clipboard.readText())).resolves.toBe('copied-text-123');

    await page.evaluate(() => navigator.clipboard.writeText('echo pasted-$((2*3))'));
    await page.getByRole('button', { name: 'Paste (Ctrl+Shift+V)' }).click();
    await page.keyboard.press('Enter');
    const pasted = await waitForTerminal(page, (text) => terminalLines(text).includes('pasted-6'));
    // Pasted once: the Enter went to the shell, not to the Paste button (which would paste again).
    expect(terminalLines(pasted).filter((line) => line.includes('echo pasted-'))).toEqual([expect.stringMatching(/\$ echo pasted-\$\(\(2\*3\)\)$/)]);

    // A slow clipboard read (a permission prompt, a busy machine): what the learner types meanwhile
    // lands in the shell after the pasted text, never on the button.
    await page.evaluate(() => {
      const w = window as unknown as { releaseClipboard?: () => void };
      Object.defineProperty(navigator.clipboard, 'readText', {
        configurable: true,
        value: () => new Promise<string>((resolve) => (w.releaseClipboard = () => resolve('echo slow-$((3*4))'))),
      });
    });
    await page.getByRole('button', { name: 'Paste (Ctrl+Shift+V)' }).click();
    await page.keyboard.type(' && echo typed-after');
    await page.keyboard.press('Enter');
    await page.evaluate(() => {
      (window as unknown as { releaseClipboard: () => void }).releaseClipboard();
      delete (navigator.clipboard as { readText?: unknown }).readText; // the real one again
    });
    const slow = terminalLines(await waitForTerminal(page, (text) => terminalLines(text).includes('typed-after')));
    const command = slow.findIndex((line) => line.includes('echo slow-'));
    expect(slow.slice(command, command + 3)).toEqual([expect.stringMatching(/\$ echo slow-\$\(\(3\*4\)\) && echo typed-after$/), 'slow-12', 'typed-after']);

    // Selecting text in the terminal copies it, as in most terminals.
    await page.evaluate(() => navigator.clipboard.writeText(''));
    const row = page.locator('.xterm-rows > div', { hasText: /^pasted-6\s*$/ });
    const box = (await row.boundingBox())!;
    await page.mouse.dblclick(box.x + 8, box.y + box.height / 2);
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe('pasted-6');
    expect(errors).toEqual([]);
  });
});
