/**
 * The learner's side of a step state: the files earlier solutions left in the home folder (the
 * downloaded Istio release) and the shell state they left (working folder, exported variables
 * such as GATEWAY_URL, PATH additions), which every new shell of the learner reads from
 * ~/.playground/step-env.sh (terminal/rcfiles.ts sources it).
 *
 * Only what the track's solutions create is replaced; the learner's other files are kept.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ShellState } from './states.js';

export const STEP_ENV_DIR = '.playground';
export const STEP_ENV_FILE = 'step-env.sh';

/** A shell word for `value`, where each `$HOME` stays an expansion and everything else is literal. */
function shellWord(value: string): string {
  return value
    .split('$HOME')
    .map((part) => (part === '' ? '' : `'${part.replace(/'/g, `'\\''`)}'`))
    .join('"$HOME"') || "''";
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The script a new shell sources: cd into the working folder, export the variables, prepend PATH. */
export function stepEnvScript(shell: ShellState, what: string): string {
  const lines = [`# ${what}`, '# Written by "Reset this step" / "Jump to step"; the next reset or jump rewrites it.'];
  if (shell.pathPrepend.length) lines.push(`export PATH=${shell.pathPrepend.map(shellWord).join(':')}:"$PATH"`);
  for (const [name, value] of Object.entries(shell.env)) if (NAME.test(name)) lines.push(`export ${name}=${shellWord(value)}`);
  if (shell.cwd !== undefined) lines.push(`cd ${shell.cwd === '' ? '"$HOME"' : `"$HOME"/${shellWord(shell.cwd)}`} 2>/dev/null || true`);
  return `${lines.join('\n')}\n`;
}

export interface HomeTarget {
  home: string;
  /** Owner of what is written (the learner's uid when the server runs as root). */
  uid?: number;
  gid?: number;
}

/**
 * Makes the home folder hold the state's files: `managed` (every top-level entry the track's
 * solutions create) is removed first, then the state's entries are copied in, and the shell
 * state is written. Symlinks are copied as links and never followed.
 */
export function applyHome(target: HomeTarget, state: { homeDir: string; homeEntries: string[]; shell: ShellState; what: string }, managed: Iterable<string>): void {
  const safe = (name: string) => name !== '' && name !== '.' && name !== '..' && !name.includes('/') && name !== STEP_ENV_DIR;
  for (const name of new Set([...managed, ...state.homeEntries])) {
    if (safe(name)) fs.rmSync(path.join(target.home, name), { recursive: true, force: true });
  }
  for (const name of state.homeEntries) {
    if (!safe(name)) continue;
    fs.cpSync(path.join(state.homeDir, name), path.join(target.home, name), { recursive: true, verbatimSymlinks: true });
    if (target.uid !== undefined) chownTree(path.join(target.home, name), target.uid, target.gid ?? target.uid);
  }
  const dir = path.join(target.home, STEP_ENV_DIR);
  // A learner may have put a link here: replaced, never written through.
  if (fs.lstatSync(dir, { throwIfNoEntry: false })?.isSymbolicLink()) fs.rmSync(dir);
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  const file = path.join(dir, STEP_ENV_FILE);
  fs.rmSync(file, { force: true });
  fs.writeFileSync(file, stepEnvScript(state.shell, state.what), { mode: 0o644 });
  if (target.uid !== undefined) chownTree(dir, target.uid, target.gid ?? target.uid);
}

function chownTree(p: string, uid: number, gid: number): void {
  fs.lchownSync(p, uid, gid);
  const st = fs.lstatSync(p);
  if (!st.isDirectory()) return;
  for (const name of fs.readdirSync(p)) chownTree(path.join(p, name), uid, gid);
}
