/** Asking a playground for a step reset as the learner's page does, and following it to its end. */
import { expect } from 'vitest';
import type { ResetStatus } from '../../server/steps/reset.js';
import type { TestPlayground } from './playground.js';

/** A POST from the playground's own page (its origin), with the learner's cookies. */
export const postFromPage = (pg: TestPlayground, p: string) => pg.fetchAuthed(p, { method: 'POST', headers: { origin: pg.baseUrl.replace(/\/$/, '') } });

/** Starts a reset and follows its server-sent events until it is done or failed, as the page does. */
export async function resetTo(pg: TestPlayground, trackId: string, stepId: string, whileRunning?: () => Promise<void>): Promise<{ final: ResetStatus; seen: ResetStatus[] }> {
  const events = await pg.fetchAuthed('/api/steps/reset/events');
  const asked = Date.now();
  const res = await postFromPage(pg, `/api/steps/${trackId}/${stepId}/reset`);
  expect(res.status, await res.clone().text()).toBe(202);
  await whileRunning?.();
  const seen: ResetStatus[] = [];
  const reader = events.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error('the event stream ended before the reset finished');
    buffer += decoder.decode(value, { stream: true });
    let cut: number;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const frame = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const data = /^data: (.*)$/m.exec(frame)?.[1];
      if (!data) continue;
      const status = JSON.parse(data) as ResetStatus;
      if (status.stepId !== stepId || status.startedAt < asked) continue;
      seen.push(status);
      if (status.phase === 'done' || status.phase === 'failed') {
        await reader.cancel();
        return { final: status, seen };
      }
    }
  }
}
