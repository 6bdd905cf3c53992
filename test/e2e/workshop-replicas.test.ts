/**
 * Two replicas on one PostgreSQL in a real browser: the instructor's dashboard on A offers the
 * live view of a learner working on B (no "elsewhere" note, buttons enabled) and shows her typing
 * through A; once B stops, A's dashboard says her pod is unreachable and disables the view and
 * the resets, the note naming the pod and saying why.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Playground, startPlayground } from '../../server/playground.js';
import type {} from '../../client/admin/main.js';
import { startPostgres, type Postgres } from '../helpers/postgres.js';
import { joinWorkshop, launchBrowser, openRecordedPage, waitForConnected, waitForTerminal } from './browser.js';

const lessonsDir = path.join(path.dirname(new URL(import.meta.url).pathname), '../fixtures/lessons/workshop');
const ADMIN_TOKEN = 'shared-instructor-token-0002';

let postgres: Postgres;
let a: Playground;
let b: Playground;
let browser: Browser;
const dataDirs: string[] = [];
const contexts: BrowserContext[] = [];

const replica = (databaseUrl: string) => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-e2e-replica-'));
  dataDirs.push(dataDir);
  return startPlayground({ port: 0, dataDir, lessonsDir, logLevel: 'silent', databaseUrl, adminToken: ADMIN_TOKEN, replicaHeartbeatSeconds: 0.5, replicaTimeoutSeconds: 2 });
};

beforeAll(async () => {
  postgres = await startPostgres();
  const url = await postgres.newDatabase();
  a = await replica(url);
  [b, browser] = await Promise.all([replica(url), launchBrowser()]);
}, 120_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await a?.close();
  await b?.close();
  await postgres?.stop();
  for (const d of dataDirs) fs.rmSync(d, { recursive: true, force: true });
});

describe('the dashboard with learners on another replica', { timeout: 180_000 }, () => {
  test('watches a learner of the other replica through this one, and says when her replica is gone', async () => {
    const created = await fetch(new URL('/api/admin/workshops', a.baseUrl), {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Two pods', tracks: ['demo'], capacity: 5, expiresInMinutes: 60 }),
    });
    const w = (await created.json()) as { id: string; joinPath: string };

    // Ada joins through B and types in her terminal there.
    const ada = await joinWorkshop(await openRecordedPage(browser, contexts), new URL(w.joinPath, b.baseUrl).href, 'Ada');
    await ada.page.goto(new URL('#/track/demo/configmap', b.baseUrl).href);
    await waitForConnected(ada.page);
    await ada.page.locator('.xterm').click();
    await ada.page.keyboard.type('echo on-b-$((6*7))\n');
    await waitForTerminal(ada.page, (t) => t.includes('on-b-42'));

    // The instructor, on A, opens Ada: nothing disabled, no note; the live view shows her screen and her typing.
    const { page: admin } = await openRecordedPage(browser, contexts);
    await admin.goto(a.adminUrl);
    await admin.waitForURL(/\/admin$/);
    await admin.getByTestId('workshop-list').getByRole('link', { name: 'Two pods' }).click();
    await expect.poll(() => admin.getByTestId('learner-row-header').allTextContents(), { timeout: 15_000 }).toEqual(['Ada']);
    await admin.locator('[data-row="0"][data-col="0"]').focus();
    await admin.keyboard.press('Enter');
    await expect.poll(() => admin.getByText('Terminal open.').count(), { timeout: 15_000 }).toBe(1);
    expect(await admin.getByTestId('elsewhere-note').count()).toBe(0);
    for (const id of ['watch-toggle', 'reset-step', 'reset-cluster']) expect(await admin.getByTestId(id).isEnabled(), id).toBe(true);
    await admin.getByTestId('watch-toggle').click();
    await expect.poll(() => admin.evaluate(() => window.__admin!.watchText()), { timeout: 15_000 }).toContain('on-b-42');
    await ada.page.keyboard.type('echo through-a-$((7*6))\n');
    await expect.poll(() => admin.evaluate(() => window.__admin!.watchText()), { timeout: 15_000 }).toContain('through-a-42');

    // B stops: A's dashboard says Ada's pod is unreachable, naming it, and offers nothing that needs it.
    const bName = `${os.hostname()}:${b.port}`;
    await b.close();
    const note = admin.getByTestId('elsewhere-note');
    await note.waitFor({ timeout: 15_000 });
    expect(await note.textContent()).toBe(
      `Ada works on a playground pod that is unreachable (${bName}: it stopped answering). Their terminal, cluster and files are there: watching their terminal and resetting their step or cluster work again once it is back.`,
    );
    for (const id of ['watch-toggle', 'reset-step', 'reset-cluster']) {
      expect(await admin.getByTestId(id).isDisabled(), id).toBe(true);
      expect(await admin.getByTestId(id).getAttribute('aria-describedby'), id).toBe('elsewhere-note');
    }
    expect(await admin.getByText('No terminal open yet.').count()).toBe(1);
  });
});
