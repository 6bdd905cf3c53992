import type { z } from 'zod';
import type { outputCheck } from '../schema.js';
import { outputLike } from '../tolerant-match.js';
import { matchCommand } from '../../terminal/commands.js';
import type { CheckContext, CheckOutcome } from './types.js';

type OutputCheck = z.infer<typeof outputCheck>;

/**
 * Output checks look at the output of commands the learner ran in this step, one command at a
 * time (never what was typed, never prompts, never earlier steps); with `command`, only that
 * command's output counts.
 */
export async function evaluateOutput(spec: OutputCheck, ctx: CheckContext): Promise<CheckOutcome> {
  const commands = ctx.commands();
  const shows = (output: string): { ok: boolean; missing?: string } => {
    if (spec.contains !== undefined) return { ok: output.includes(spec.contains) };
    if (spec.matches !== undefined) return { ok: new RegExp(spec.matches, 'm').test(output) };
    const result = outputLike(spec.like!, output);
    return result.ok ? { ok: true } : { ok: false, ...(result.missing ? { missing: result.missing.trim() } : {}) };
  };
  const what = spec.expected ?? (spec.contains !== undefined ? `“${spec.contains}”` : spec.like !== undefined ? `a line like “${firstLine(spec.like)}”` : 'the expected output');

  if (spec.command === undefined) {
    if (commands.some((c) => shows(c.output).ok)) return { passed: true, found: `a command you ran printed ${what}` };
    return {
      passed: false,
      found: commands.length === 0 ? 'you have not run a command in this step yet' : `no command you ran in this step has printed ${what} yet`,
    };
  }

  const quoted = `\`${spec.command}\``;
  const ran = commands.filter((c) => matchCommand(c.line, spec.command!) === 'yes');
  if (ran.some((c) => shows(c.output).ok)) return { passed: true, found: `${quoted} printed ${what}` };
  if (ran.length > 0) {
    const last = ran[ran.length - 1]!;
    const running = last.exitCode === undefined ? ' (it is still running)' : last.exitCode !== 0 ? ` (it failed with exit status ${last.exitCode})` : '';
    return { passed: false, found: `${quoted} ran${running}, but its output does not show ${what}` };
  }
  const together = commands.find((c) => matchCommand(c.line, spec.command!) === 'not-alone');
  if (together) return { passed: false, found: `\`${together.line}\` runs ${quoted} together with other commands, so its output does not count: run ${quoted} on its own` };
  return { passed: false, found: `you have not run ${quoted} in this step yet` };
}

function firstLine(text: string): string {
  const line = text.trim().split('\n')[0]!.replace(/\s+/g, ' ');
  return line.length > 60 ? `${line.slice(0, 57)}…` : line;
}
