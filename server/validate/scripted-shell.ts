/**
 * A real interactive bash in a PTY, driven the way a learner types: each solution entry is typed
 * as written, and bash reports every command's exit status through an invisible terminal escape
 * (OSC 777) from PROMPT_COMMAND, so "each command's exit status is checked" holds even for
 * entries with several commands.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pty, { type IPty } from 'node-pty';
import { randomBytes } from 'node:crypto';
import { killSession } from '../terminal/process-tree.js';

const MARK = '\x1b]777;pg;';
const MAX_TRANSCRIPT = 2 * 1024 * 1024;

export interface EntryResult {
  /** Exit status of each command the entry ran, in order. */
  exitCodes: number[];
  timedOut: boolean;
  output: string;
}

export class ScriptedShell {
  private readonly pty: IPty;
  private buffer = '';
  private transcriptText = '';
  private readonly waiters = new Set<() => void>();
  private sequence = 0;
  private exited = false;
  private readonly rcDir: string;
  /** Nonce of the learner shell's command marks (terminal/commands.ts), which output checks read. */
  readonly markNonce = randomBytes(12).toString('hex');

  /** Exit statuses come from the learner rcfile's end-of-command marks (terminal/rcfiles.ts) instead of our own. */
  private readonly learnerMarks: boolean;

  /**
   * `launch`, when given, starts the shell instead (a learner's sandboxed shell, with the
   * learner's rcfile and `PLAYGROUND_SHELL_MARK` set to markNonce): exit statuses are then read
   * from that rcfile's end-of-command marks.
   */
  constructor(options: { cwd: string; env: Record<string, string>; launch?: (env: Record<string, string>) => { file: string; args: string[]; env: Record<string, string>; cwd: string } }) {
    this.learnerMarks = !!options.launch;
    this.rcDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-validate-rc-'));
    const rc = path.join(this.rcDir, 'bashrc');
    fs.writeFileSync(
      rc,
      [
        `PS1='$ '`,
        `PS2='> '`,
        // Emitted before every prompt: the status of the command that just finished, then the
        // learner terminal's end-of-command mark (history is on, in memory only, for its command line).
        `PROMPT_COMMAND='__pg_s=$?; printf "\\033]777;pg;exit;%s\\007" "$__pg_s"; printf "\\033]633;D;${this.markNonce};%s;" "$__pg_s"; HISTTIMEFORMAT= builtin history 1; printf "\\007"'`,
        `PS0='\\e]633;C;${this.markNonce};\\!\\a'`,
        'HISTFILE=/dev/null',
        '',
      ].join('\n'),
    );
    const launch = options.launch?.({ ...options.env, TERM: 'xterm-256color', PLAYGROUND_SHELL_MARK: this.markNonce }) ?? {
      file: 'bash',
      args: ['--noprofile', '--rcfile', rc, '-i'],
      cwd: options.cwd,
      env: { ...options.env, TERM: 'xterm-256color' },
    };
    this.pty = pty.spawn(launch.file, launch.args, { name: 'xterm-256color', cols: 200, rows: 50, cwd: launch.cwd, env: launch.env });
    this.pty.onData((d) => {
      this.buffer += d;
      this.transcriptText += d;
      if (this.transcriptText.length > MAX_TRANSCRIPT) this.transcriptText = this.transcriptText.slice(-MAX_TRANSCRIPT / 2);
      for (const w of this.waiters) w();
    });
    this.pty.onExit(() => {
      this.exited = true;
      for (const w of this.waiters) w();
    });
  }

  /** Everything the shell printed, escapes included (output checks strip them). */
  transcript(): string {
    return this.transcriptText;
  }

  private async waitFor(pred: () => boolean, deadline: number): Promise<boolean> {
    while (!pred()) {
      if (this.exited || Date.now() > deadline) return pred();
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.waiters.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(wake, 200);
        this.waiters.add(wake);
      });
    }
    return true;
  }

  /** Waits for the first prompt, so nothing typed is lost to bash's start-up. */
  async ready(timeoutMs = 10_000): Promise<void> {
    const ok = await this.waitFor(() => this.buffer.includes(this.learnerMarks ? `\x1b]633;D;${this.markNonce};` : `${MARK}exit;`), Date.now() + timeoutMs);
    if (!ok) throw new Error(`the shell did not start within ${timeoutMs / 1000} s`);
    this.buffer = '';
  }

  /** Types one solution entry and waits until every command in it has finished. */
  async run(entry: string, timeoutMs: number): Promise<EntryResult> {
    const id = `${process.pid}-${++this.sequence}`;
    const done = `${MARK}done;${id}\x07`;
    this.buffer = '';
    this.pty.write(`${entry.replace(/\r?\n/g, '\r')}\r`);
    // Typed separately so that it runs after the entry, even if the entry reads stdin.
    this.pty.write(`printf '\\033]777;pg;done;%s\\007' '${id}'\r`);
    const finished = await this.waitFor(() => this.buffer.includes(done), Date.now() + timeoutMs);
    const upTo = finished ? this.buffer.slice(0, this.buffer.indexOf(done)) : this.buffer;
    const marks = this.learnerMarks ? new RegExp(`\\x1b\\]633;D;${this.markNonce};(\\d+);`, 'g') : /\x1b\]777;pg;exit;(\d+)\x07/g;
    const exitCodes = [...upTo.matchAll(marks)].map((m) => Number(m[1]));
    if (!finished) {
      // Interrupt whatever hangs so the next entry starts at a prompt.
      this.pty.write('\x03');
    }
    return { exitCodes, timedOut: !finished, output: upTo.replace(/\x1b\]777;[^\x07]*\x07/g, '') };
  }

  async close(): Promise<void> {
    if (!this.exited) await killSession(this.pty.pid, 2000);
    fs.rmSync(this.rcDir, { recursive: true, force: true });
  }
}
