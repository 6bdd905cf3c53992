/**
 * Replaying solutions on a real cluster (`--backend kubeconfig` / kind), for "Reset this step" /
 * "Jump to step": each command typed in a shell of the learner's (sandboxed like their terminal),
 * reported before it starts; the first failing one stops the replay. What the solutions left in
 * that shell (exported variables such as NODE_IP, PATH additions, the working folder) is read
 * back, for the learner's next shell to source (home.ts writes it).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { STEP_ENV_DIR } from './home.js';
import { shellDiff, type ShellState } from './states.js';

export interface ReplayCommand {
  stepId: string;
  stepTitle: string;
  command: string;
  /** The track's clean-up: undoes what may not exist yet, so its failures are not the learner's problem. */
  cleanup?: boolean;
}

export interface ReplayShell {
  ready(): Promise<void>;
  run(entry: string, timeoutMs: number): Promise<{ exitCodes: number[]; timedOut: boolean; output: string }>;
  close(): Promise<void>;
  /** Nonce of the learner rcfile's command marks (OSC 633 C/D), which bracket each command's own output. */
  readonly markNonce?: string;
}

const COMMAND_TIMEOUT_MS = 300_000;

/**
 * Runs `commands` in `shell` (started in the learner's home, `hostHome` as the server sees it);
 * throws on the first failure, naming the command with the end of its output.
 */
export async function replayCommands(shell: ReplayShell, hostHome: string, commands: ReplayCommand[], progress: (index: number) => void): Promise<ShellState> {
  await shell.ready();
  const before = await captureShell(shell, hostHome);
  for (const [i, c] of commands.entries()) {
    progress(i);
    const result = await shell.run(c.command, COMMAND_TIMEOUT_MS);
    if (c.cleanup) continue;
    const bad = result.exitCodes.find((code) => code !== 0);
    if (result.timedOut || bad !== undefined) {
      const output = stripTerminal(commandOutput(result.output, shell.markNonce)).trim().split('\n').slice(-6).join('\n');
      throw new Error(`step "${c.stepTitle}": \`${c.command}\` ${result.timedOut ? `did not finish within ${COMMAND_TIMEOUT_MS / 60_000} minutes` : `exited with status ${bad}`}${output ? `:\n${output}` : ''}`);
    }
  }
  const after = await captureShell(shell, hostHome);
  // Paths as the shell sees its home (the sandbox mounts it elsewhere): those become `$HOME/...`.
  const home = after.env.HOME ?? hostHome;
  return shellDiff(before, after, home, before.env.PATH ?? '');
}

/**
 * What the entry's commands printed: the text between each command's start and end marks, without
 * the echoed command line, the prompts or the replay's own bookkeeping typed after it.
 */
export function commandOutput(transcript: string, nonce: string | undefined): string {
  if (!nonce) return transcript;
  const marks = new RegExp(`\\x1b\\]633;([CD]);${nonce};[^\\x07\\x1b]*(?:\\x07|\\x1b\\\\)`, 'g');
  const parts: string[] = [];
  let start: number | undefined;
  for (const m of transcript.matchAll(marks)) {
    if (m[1] === 'C') start = m.index + m[0].length;
    else if (start !== undefined) {
      parts.push(transcript.slice(start, m.index));
      start = undefined;
    }
  }
  // The tty echoes what is typed while a command runs: the shell's end-of-entry printf (scripted-shell.ts).
  return (parts.length ? parts.join('') : transcript).replace(/printf '\\033\]777;pg;done;%s\\007' '[0-9-]+'\r?\n?/g, '');
}

/** Escapes and carriage returns a terminal transcript holds; the text is left. */
function stripTerminal(s: string): string {
  return s.replace(/\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\r/g, '');
}

/**
 * The shell's working folder and exported environment, written by the shell into the learner's
 * ~/.playground and read here without following links (the folder is the learner's).
 */
async function captureShell(shell: ReplayShell, hostHome: string): Promise<{ cwd: string; env: Record<string, string> }> {
  const name = `.replay-${randomBytes(8).toString('hex')}`;
  const result = await shell.run(`builtin pwd > "$HOME/${STEP_ENV_DIR}/${name}.cwd"; env -0 > "$HOME/${STEP_ENV_DIR}/${name}.env"`, 10_000);
  const dir = path.join(hostHome, STEP_ENV_DIR);
  try {
    if (result.timedOut || result.exitCodes.some((c) => c !== 0)) throw new Error(`the replay shell did not report its state: ${stripTerminal(result.output).trim()}`);
    if (!fs.lstatSync(dir).isDirectory()) throw new Error(`~/${STEP_ENV_DIR} is not a folder`);
    const env: Record<string, string> = {};
    for (const pair of readNoFollow(path.join(dir, `${name}.env`)).split('\0')) {
      const eq = pair.indexOf('=');
      if (eq > 0) env[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
    return { cwd: readNoFollow(path.join(dir, `${name}.cwd`)).trim(), env };
  } finally {
    for (const ext of ['.cwd', '.env']) fs.rmSync(path.join(dir, name + ext), { force: true });
  }
}

function readNoFollow(file: string): string {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  try {
    if (!fs.fstatSync(fd).isFile()) throw new Error(`${file} is not a file`);
    return fs.readFileSync(fd, 'utf8');
  } finally {
    fs.closeSync(fd);
  }
}
