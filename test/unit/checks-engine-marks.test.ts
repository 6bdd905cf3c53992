import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { CheckEngine } from '../../server/checks/engine.js';
import type { CheckContext } from '../../server/checks/kinds/index.js';
import type { OutputMark } from '../../server/terminal/transcript.js';

describe('where output checks start counting', () => {
  it('is where the terminal stood when the step was opened: kept across a reload of it, new for another step', async () => {
    let now = 0;
    const seen: (number | undefined)[] = [];
    const engine = new CheckEngine({
      logger: pino({ level: 'silent' }),
      persistence: { isStepDone: () => false, setStepDone: () => {}, saveCheckResults: () => {}, checkResults: () => undefined },
      stepChecks: () => ({ checks: [{ title: 'printed', output: { contains: 'x' } }], sticky: true }),
      outputMark: (): OutputMark => ({ transcript: 1, offset: now }),
      contextFor: async (_learner, since) => {
        seen.push(since?.offset);
        return { commands: () => [], transcript: () => '', shell: { cwd: '/', env: {} } } as unknown as CheckContext;
      },
    });
    now = 10;
    await engine.runNow('a', 't', 'one');
    now = 20;
    // Reopened (a reload): the same mark, so what ran meanwhile still counts.
    await engine.runNow('a', 't', 'one');
    now = 30;
    await engine.runNow('a', 't', 'two');
    now = 40;
    // Back to the first step: opened afresh.
    await engine.runNow('a', 't', 'one');
    expect(seen).toEqual([10, 10, 30, 40]);
    engine.close();
  });
});
