import { spawn } from 'node:child_process';
import type { z } from 'zod';
import type { commandCheck } from '../schema.js';
import type { CheckContext, CheckOutcome } from './types.js';

type CommandCheck = z.infer<typeof commandCheck>;

const MAX_OUTPUT = 64 * 1024;

/** The escape hatch: a shell command in the learner's environment must exit 0. */
export function evaluateCommand(spec: CommandCheck, ctx: CheckContext): Promise<CheckOutcome> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', spec.run], {
      cwd: ctx.shell.cwd,
      env: ctx.shell.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    const collect = (chunk: Buffer) => {
      if (output.length < MAX_OUTPUT) output += chunk.toString('utf8');
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const kill = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(kill, spec.timeoutSeconds * 1000);
    ctx.signal?.addEventListener('abort', kill, { once: true });
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ passed: false, found: `\`${spec.run}\` could not run: ${err.message}` });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const tail = output.trim().split('\n').slice(-3).join(' / ').slice(0, 300);
      if (code === 0) resolve({ passed: true, found: `\`${spec.run}\` succeeded` });
      else if (signal) resolve({ passed: false, found: `\`${spec.run}\` did not finish within ${spec.timeoutSeconds} s` });
      else resolve({ passed: false, found: `\`${spec.run}\` exited with ${code}${tail ? `: ${tail}` : ''}` });
    });
  });
}
