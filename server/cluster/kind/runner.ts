/**
 * Runs the kind command line with a deadline: a kind that hangs (a stuck image pull, a Docker
 * that never answers) is killed and reported, never waited on forever.
 */
import { spawn } from 'node:child_process';
import { KindError } from './errors.js';

export interface KindRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runKind(kind: string, args: string[], options: { timeoutMs: number; env?: NodeJS.ProcessEnv; onOutput?: (chunk: string) => void }): Promise<KindRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(kind, args, { env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      // kind's own children (docker) die with its process group.
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
      reject(new KindError(`\`kind ${args.join(' ')}\` did not finish within ${Math.round(options.timeoutMs / 1000)} s and was stopped. Last output:\n${(stderr + stdout).trim().split('\n').slice(-5).join('\n') || '(none)'}`, 'timeout'));
    }, options.timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
      options.onOutput?.(c);
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
      options.onOutput?.(c);
    });
    child.on('error', (err) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
