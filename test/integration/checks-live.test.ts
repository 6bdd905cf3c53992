import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { encodeMessage } from '../../server/terminal/protocol.js';
import { startTestPlayground, type TestPlayground } from '../helpers/playground.js';

const lessonsDir = path.join(path.dirname(new URL(import.meta.url).pathname), '../fixtures/lessons/live');

interface CheckState {
  state: string;
  done: boolean;
  checks: { title: string; passed: boolean; found: string }[];
}

/** Reads server-sent `checks` events from the playground. */
async function openEvents(pg: TestPlayground, pathname: string) {
  const controller = new AbortController();
  const res = await pg.fetchAuthed(pathname, { signal: controller.signal });
  expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
  const states: CheckState[] = [];
  const waiters: (() => void)[] = [];
  void (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const event = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = event.split('\n').find((l) => l.startsWith('data: '));
          if (event.startsWith('event: checks') && data) {
            states.push(JSON.parse(data.slice(6)) as CheckState);
            waiters.splice(0).forEach((w) => w());
          }
        }
      }
    } catch {
      // aborted
    }
  })();
  const until = async (pred: (s: CheckState) => boolean, timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = states.find(pred);
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error(`no matching check state; saw ${JSON.stringify(states.map((s) => s.state))}`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 500);
      });
    }
  };
  return { states, until, close: () => controller.abort() };
}

let pg: TestPlayground;
beforeAll(async () => {
  pg = await startTestPlayground({ lessonsDir });
});
afterAll(async () => {
  await pg?.close();
});

describe('live step checks', () => {
  it('turn green when the learner does the step in the terminal, without a click', async () => {
    const events = await openEvents(pg, '/api/checks/demo/configmap/events');
    const failing = await events.until((s) => s.state === 'failed');
    expect(failing.checks[0]).toMatchObject({ title: 'ConfigMap greeting says hello', passed: false, found: 'no ConfigMap "greeting" in namespace "default"' });

    const ws: WebSocket = await pg.openTerminal();
    ws.send(encodeMessage({ t: 'input', d: 'kubectl create configmap greeting --from-literal=message=hi\r' }));
    const wrong = await events.until((s) => s.checks[0]?.found.includes('data.message is "hi"') ?? false);
    expect(wrong.state).toBe('failed');
    expect(wrong.checks[0]!.found).toBe('ConfigMap "greeting": data.message is "hi", expected "hello"');

    ws.send(encodeMessage({ t: 'input', d: 'kubectl create configmap greeting --from-literal=message=hello --dry-run=client -o yaml | kubectl replace -f -\r' }));
    const passed = await events.until((s) => s.state === 'passed');
    expect(passed.done).toBe(true);
    expect((await (await pg.fetchAuthed('/api/progress/demo')).json()) as { done: string[] }).toMatchObject({ done: ['configmap'] });
    ws.close();
    events.close();
  });

  it('answers "Check now" with the verdict and 404s an unknown step', async () => {
    const run = await pg.fetchAuthed('/api/checks/demo/configmap/run', { method: 'POST', headers: { cookie: pg.cookies, origin: pg.baseUrl.replace(/\/$/, '') } });
    expect(run.status).toBe(200);
    expect(await run.json()).toMatchObject({ state: 'passed', done: true });
    const missing = await pg.fetchAuthed('/api/checks/demo/nope/run', { method: 'POST', headers: { cookie: pg.cookies } });
    expect(missing.status).toBe(404);
  });
});
