import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { StepVerdict } from '../../server/checks/evaluate.js';
import { parseCheck } from '../../server/checks/schema.js';
import { StepWatcher } from '../../server/checks/watcher.js';

describe('step checks without a cluster', () => {
  it('say why the learner\'s cluster is not available instead of staying at "checking"', async () => {
    const parsed = parseCheck({ title: 'web exists', hint: 'kubectl create deployment web', resource: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' } });
    if (!parsed.ok) throw new Error(`fixture check does not parse: ${parsed.error}`);
    const reason = 'The cluster is not available: your cluster stopped 3 times in the last 5 minutes (out of memory); it is not restarted for now.';
    const verdicts: StepVerdict[] = [];
    const watcher = new StepWatcher({
      checks: [parsed.check],
      context: () => Promise.reject(new Error(reason)),
      onVerdict: (v) => verdicts.push(v),
      logger: pino({ level: 'silent' }),
    });
    try {
      await watcher.runNow();
      expect(verdicts).toEqual([{ state: 'unreachable', message: reason, durationMs: 0, checks: [{ title: 'web exists', passed: false, found: 'the cluster is unreachable', hint: 'kubectl create deployment web' }] }]);
    } finally {
      watcher.stop();
    }
  });
});
