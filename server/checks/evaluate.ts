/**
 * Evaluates one step's checks once: every check in parallel, each explained. A cluster that does
 * not answer yields one "unreachable" verdict instead of a wall of failures.
 */
import { evaluateCheck, ClusterUnreachableError, type CheckContext } from './kinds/index.js';
import type { CheckSpec } from './schema.js';

export interface CheckResult {
  title: string;
  passed: boolean;
  /** What was found, for the learner: why it failed, or what passing looked like. */
  found: string;
  hint?: string;
}

export type StepVerdict =
  | { state: 'passed' | 'failed'; checks: CheckResult[]; durationMs: number }
  | { state: 'unreachable'; message: string; checks: CheckResult[]; durationMs: number };

export async function evaluateStep(checks: CheckSpec[], ctx: CheckContext): Promise<StepVerdict> {
  const started = performance.now();
  let unreachable: string | undefined;
  const results = await Promise.all(
    checks.map(async (check): Promise<CheckResult> => {
      const base = { title: check.title, ...(check.hint ? { hint: check.hint } : {}) };
      try {
        const outcome = await evaluateCheck(check, ctx);
        return { ...base, passed: outcome.passed, found: outcome.found };
      } catch (err) {
        if (err instanceof ClusterUnreachableError) {
          unreachable ??= err.message;
          return { ...base, passed: false, found: 'the cluster is unreachable' };
        }
        return { ...base, passed: false, found: `the check could not run: ${(err as Error).message}` };
      }
    }),
  );
  const durationMs = performance.now() - started;
  if (unreachable) return { state: 'unreachable', message: unreachable, checks: results, durationMs };
  return { state: results.every((r) => r.passed) ? 'passed' : 'failed', checks: results, durationMs };
}
