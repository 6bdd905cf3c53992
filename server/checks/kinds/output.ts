import type { z } from 'zod';
import type { outputCheck } from '../schema.js';
import { outputLike } from '../tolerant-match.js';
import type { CheckContext, CheckOutcome } from './types.js';

type OutputCheck = z.infer<typeof outputCheck>;

export async function evaluateOutput(spec: OutputCheck, ctx: CheckContext): Promise<CheckOutcome> {
  const transcript = ctx.transcript();
  if (spec.contains !== undefined) {
    return transcript.includes(spec.contains)
      ? { passed: true, found: `the terminal shows ${JSON.stringify(spec.contains)}` }
      : { passed: false, found: `the terminal has not shown ${JSON.stringify(spec.contains)} yet` };
  }
  if (spec.matches !== undefined) {
    return new RegExp(spec.matches, 'm').test(transcript)
      ? { passed: true, found: `the terminal shows output matching /${spec.matches}/` }
      : { passed: false, found: `the terminal has not shown output matching /${spec.matches}/ yet` };
  }
  const result = outputLike(spec.like!, transcript);
  return result.ok
    ? { passed: true, found: 'the terminal shows the expected output' }
    : { passed: false, found: `the terminal has not shown a line like ${JSON.stringify(result.missing?.trim())} yet` };
}
