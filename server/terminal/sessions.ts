/**
 * Terminal sessions: one node-pty shell per learner session, attached to at most one
 * WebSocket at a time, outliving its sockets (a refresh or a network blip reattaches and
 * replays the screen) until it exits, is ended, or stays detached and silent too long.
 *
 * Output path (the hot one): PTY Buffer → binary WebSocket frame as it arrives, and the same
 * Buffer queued for the screen mirror, which parses it off the output path. Flow control
 * counts bytes the browser has not acknowledged and pauses the PTY above FLOW_HIGH_WATER,
 * resuming below FLOW_LOW_WATER, so a slow browser slows the shell instead of growing
 * buffers. The mirror can pause the PTY too (see scrollback.ts), so a detached session's
 * memory stays bounded as well.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, writeSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type IPty } from 'node-pty';
import type { Logger } from 'pino';
import { WebSocket } from 'ws';
import { FLOW_HIGH_WATER, FLOW_LOW_WATER, encodeMessage, type ServerMessage } from './protocol.js';
import { killSession } from './process-tree.js';
import { RC_FILES, interactiveShell } from './rcfiles.js';
import type { LearnerShell, ShellSandbox } from './sandbox.js';
import { LEARNER_WORK_NICE } from '../scheduling.js';
import { ScreenMirror } from './scrollback.js';
import { Transcript, type OutputMark } from './transcript.js';
import { MARK_ENV, parseCommands, type TerminalCommand } from './commands.js';
import { randomBytes } from 'node:crypto';

export interface ShellSpec {
  /** Working directory of the shell (created if missing). */
  cwd: string;
  /** The shell's whole environment besides TERM/LANG/HOME defaults: nothing of the server's leaks in. */
  env: Record<string, string>;
  /** Printed in the terminal before the first prompt (lines separated by \n or \r\n). */
  banner?: string;
  cols?: number;
  rows?: number;
  /**
   * A learner's shell: run in the sessions' sandbox (see sandbox.ts), which maps cwd and the
   * environment's paths to what the learner sees. Without it the shell runs as the server does.
   */
  learner?: LearnerShell;
}

export interface TerminalSessionsOptions {
  /** A session with no socket attached and no input for this long is ended. */
  idleTimeoutMs: number;
  /** Lines of scrollback kept for the replay on reconnect. */
  scrollbackLines: number;
  logger: Logger;
  /** Shell to run; default bash (interactive, with our rcfile), else sh. */
  shell?: string;
  /** Time between SIGHUP and SIGKILL when ending a session. */
  killGraceMs?: number;
  /** Bytes of recent output kept for transcript(). */
  transcriptBytes?: number;
  /** Where learners' shells (specs with `learner`) run; required for them. */
  sandbox?: ShellSandbox;
}

/**
 * Told that a session printed something. A signal, not the text: decoding and stripping
 * every chunk of a flood for listeners that only need to know "something happened" halved
 * its throughput; whoever wants the words reads transcript(sessionId).
 */
export type ActivityListener = (sessionId: string) => void;

/** A read-only viewer of a session's output (the instructor's live view): never a writer. */
export interface TerminalWatcher {
  data(chunk: Buffer): void;
  resize(cols: number, rows: number): void;
}

/** Close code sent to a socket whose session was opened in another tab. */
export const CLOSE_TAKEN_OVER = 4000;
const CLOSE_SHELL_EXITED = 1000;
const CLOSE_START_FAILED = 1011;

const DEFAULT_COLS = 80;
const DEFAULT_ROWS = 24;
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/**
 * Acks bound what the browser has not processed; this bounds what the kernel has not even
 * sent, should a client ack bytes it never read.
 */
const MAX_SOCKET_BUFFER = 4 * 1024 * 1024;
const SOCKET_DRAIN_POLL_MS = 50;
/** What one read of a Linux PTY returns at most (its line-discipline buffer, less one). */
const FULL_PTY_READ = 4095;
/** Output held for one frame at most: big enough to amortize a frame, small next to the flow window. */
const MAX_FRAME_BYTES = 64 * 1024;
/** Keystrokes typed before the shell exists are kept up to this size. */
const MAX_EARLY_INPUT = 64 * 1024;

interface Session {
  readonly id: string;
  pty: IPty | null;
  starting: Promise<void> | null;
  ending: Promise<void> | null;
  /** Clean-up of what an exited shell left running. */
  sweeping: Promise<void> | null;
  readonly mirror: ScreenMirror;
  readonly transcript: Transcript;
  /** Nonce of the shell integration's command marks (commands.ts), the same for every shell of the session. */
  readonly markNonce: string;
  ws: WebSocket | null;
  /** Attaches in progress; the PTY stays paused meanwhile so the replay and live output don't interleave. */
  replaying: number;
  unacked: number;
  /** Hysteresis state of the ack-based flow control. */
  flowBlocked: boolean;
  /** The socket itself is not draining (a client that acks what it never read). */
  socketBlocked: boolean;
  paused: boolean;
  cols: number;
  rows: number;
  sizeFromClient: boolean;
  lastActiveAt: number;
  idleTimer: NodeJS.Timeout | null;
  earlyInput: string[];
  earlyInputBytes: number;
  /** Output read in this event-loop turn, sent as one frame at its end. */
  pending: Buffer[];
  pendingBytes: number;
  /** A full read arrived since the last look for a lull. */
  readThisTurn: boolean;
  flushScheduled: boolean;
}

export class TerminalSessions {
  private readonly sessions = new Map<string, Session>();
  private readonly activityListeners: ActivityListener[] = [];
  private readonly endListeners: ((sessionId: string) => void)[] = [];
  /** By session id, whether or not the session exists yet: a viewer sees a shell that starts later. */
  private readonly watchers = new Map<string, Set<TerminalWatcher>>();
  private readonly logger: Logger;
  private readonly shell: string;
  private readonly idleTimeoutMs: number;
  private readonly scrollbackLines: number;
  private readonly killGraceMs: number;
  private readonly transcriptBytes: number;
  private readonly sandbox: ShellSandbox | undefined;
  private rcDir: string | null = null;

  constructor(options: TerminalSessionsOptions) {
    this.logger = options.logger;
    this.idleTimeoutMs = options.idleTimeoutMs;
    this.scrollbackLines = options.scrollbackLines;
    this.killGraceMs = options.killGraceMs ?? 1500;
    this.transcriptBytes = options.transcriptBytes ?? 64 * 1024;
    this.shell = options.shell ?? defaultShell();
    this.sandbox = options.sandbox;
  }

  has(sessionId: string): boolean {
    return this.sessions.has(sessionId);
  }

  /** Session ids that currently exist (live shell or kept screen). */
  ids(): string[] {
    return [...this.sessions.keys()];
  }

  /** Pid of the session's shell (leader of its process session), if it is running. */
  shellPid(sessionId: string): number | undefined {
    return this.sessions.get(sessionId)?.pty?.pid;
  }

  /** Listens for terminal output (see ActivityListener); transcript() has the text. */
  onActivity(listener: ActivityListener): () => void {
    this.activityListeners.push(listener);
    return () => {
      const i = this.activityListeners.indexOf(listener);
      if (i !== -1) this.activityListeners.splice(i, 1);
    };
  }

  /** Listens for sessions that ended (their shell gone and the session forgotten). */
  onEnd(listener: (sessionId: string) => void): void {
    this.endListeners.push(listener);
  }

  /** Prints a line from the playground itself into the session's terminal (if it exists). */
  notice(sessionId: string, text: string): void {
    const session = this.sessions.get(sessionId);
    if (session) this.output(session, Buffer.from(`\r\n\x1b[1m${text.replace(/\r?\n/g, '\r\n')}\x1b[0m\r\n`, 'utf8'));
  }

  /** Recent output of the session as plain text (bounded); '' for an unknown session. */
  transcript(sessionId: string): string {
    return this.sessions.get(sessionId)?.transcript.text() ?? '';
  }

  /** The end of the session's output so far: commandsSince() of it counts only what runs later. */
  outputMark(sessionId: string): OutputMark {
    return this.sessions.get(sessionId)?.transcript.mark() ?? Transcript.nextMark();
  }

  /** Commands the session's shell ran after `mark` (as far as the transcript still holds them), with their output. */
  commandsSince(sessionId: string, mark: OutputMark): TerminalCommand[] {
    const session = this.sessions.get(sessionId);
    if (!session) return [];
    return parseCommands(session.transcript.rawSince(mark), [session.markNonce]);
  }

  /** The session's screen as the replay would show it, one string per row (for tests and checks). */
  async screen(sessionId: string): Promise<string[]> {
    const session = this.sessions.get(sessionId);
    if (!session) return [];
    await session.mirror.drain();
    return session.mirror.screenText();
  }

  /**
   * Watches a session's output without any way to type into it: the screen as it is now, then
   * live output. Registered right as the snapshot resolves (no output can run in between).
   */
  async watch(sessionId: string, watcher: TerminalWatcher): Promise<{ cols: number; rows: number; screen: string; stop(): void }> {
    const session = this.sessions.get(sessionId);
    const screen = session ? await session.mirror.snapshot() : '';
    let set = this.watchers.get(sessionId);
    if (!set) this.watchers.set(sessionId, (set = new Set()));
    set.add(watcher);
    const current = set;
    const now = this.sessions.get(sessionId);
    return {
      cols: now?.cols ?? DEFAULT_COLS,
      rows: now?.rows ?? DEFAULT_ROWS,
      screen,
      stop: () => {
        current.delete(watcher);
        if (current.size === 0 && this.watchers.get(sessionId) === current) this.watchers.delete(sessionId);
      },
    };
  }

  /**
   * Attaches `ws` to the session, starting its shell if there is none (first attach, or the
   * previous shell exited). A socket already attached is told `detached` and closed. Sends
   * `hello`, the replay of the screen, then live output.
   */
  async attach(sessionId: string, ws: WebSocket, spec: () => Promise<ShellSpec>): Promise<void> {
    let session = this.sessions.get(sessionId);
    if (session?.ending) {
      await session.ending.catch(() => {});
      // Closed while we waited: there is nothing to attach (and no close event left to detach on).
      if (ws.readyState !== WebSocket.OPEN) return;
    }
    session = this.sessions.get(sessionId) ?? this.create(sessionId);
    const previous = session.ws;
    if (previous && previous !== ws) {
      send(previous, { t: 'detached', reason: 'this terminal was opened in another window' });
      previous.close(CLOSE_TAKEN_OVER, 'taken over by another connection');
    }
    session.ws = ws;
    session.unacked = 0;
    session.flowBlocked = false;
    session.lastActiveAt = Date.now();
    this.clearIdle(session);
    ws.once('close', () => this.detach(session, ws));
    session.replaying++;
    this.updateFlow(session);
    try {
      if (!session.pty) {
        session.starting ??= this.start(session, spec).finally(() => {
          session.starting = null;
        });
        await session.starting;
      }
      if (session.ws !== ws || ws.readyState !== WebSocket.OPEN) return;
      const replay = await session.mirror.snapshot();
      if (session.ws !== ws || ws.readyState !== WebSocket.OPEN) return;
      send(ws, { t: 'hello', sessionId, cols: session.cols, rows: session.rows });
      ws.send(Buffer.from(replay, 'utf8'));
    } catch (err) {
      this.logger.error({ err, sessionId }, 'terminal session could not start');
      if (session.ws === ws) {
        send(ws, { t: 'error', message: `the terminal could not start: ${(err as Error).message}` });
        ws.close(CLOSE_START_FAILED, 'shell failed to start');
      }
    } finally {
      session.replaying--;
      this.updateFlow(session);
    }
  }

  /** Keystrokes from the attached socket `from` (ignored from a socket that was taken over). */
  input(sessionId: string, from: WebSocket, data: string): void {
    const session = this.sessions.get(sessionId);
    if (!session || session.ws !== from) return;
    session.lastActiveAt = Date.now();
    if (session.pty) {
      writeInput(session.pty, data);
    } else if (session.starting && session.earlyInputBytes + data.length <= MAX_EARLY_INPUT) {
      session.earlyInput.push(data);
      session.earlyInputBytes += data.length;
    }
  }

  resize(sessionId: string, from: WebSocket, cols: number, rows: number): void {
    const session = this.sessions.get(sessionId);
    if (!session || session.ws !== from) return;
    session.sizeFromClient = true;
    if (cols === session.cols && rows === session.rows) return;
    session.cols = cols;
    session.rows = rows;
    session.mirror.resize(cols, rows);
    for (const w of this.watchers.get(sessionId) ?? []) w.resize(cols, rows);
    try {
      session.pty?.resize(cols, rows);
    } catch (err) {
      // The PTY can be closing (shell just exited): the size no longer matters.
      this.logger.debug({ err, sessionId }, 'resize of a closing terminal');
    }
  }

  /** The browser parsed `bytes` more bytes of output. */
  ack(sessionId: string, from: WebSocket, bytes: number): void {
    const session = this.sessions.get(sessionId);
    if (!session || session.ws !== from) return;
    // The replay is not counted, so a client that acks it too over-acks a little: clamp.
    session.unacked = Math.max(0, session.unacked - bytes);
    if (session.flowBlocked || session.paused) this.updateFlow(session);
  }

  /** Kills the session's shell and everything it started, and forgets the session. */
  end(sessionId: string): Promise<void> {
    const session = this.sessions.get(sessionId);
    if (!session) return Promise.resolve();
    session.ending ??= this.finish(session).finally(() => {
      if (this.sessions.get(sessionId) === session) this.sessions.delete(sessionId);
      for (const l of this.endListeners) l(sessionId);
    });
    return session.ending;
  }

  async closeAll(): Promise<void> {
    await Promise.allSettled([...this.sessions.keys()].map((id) => this.end(id)));
    this.removeRcFiles();
    process.off('exit', this.removeRcFiles);
  }

  private readonly removeRcFiles = (): void => {
    if (!this.rcDir) return;
    rmSync(this.rcDir, { recursive: true, force: true });
    this.rcDir = null;
  };

  private create(sessionId: string): Session {
    const session: Session = {
      id: sessionId,
      pty: null,
      starting: null,
      ending: null,
      sweeping: null,
      mirror: new ScreenMirror({
        cols: DEFAULT_COLS,
        rows: DEFAULT_ROWS,
        scrollbackLines: this.scrollbackLines,
        onThrottleChange: () => this.updateFlow(session),
      }),
      transcript: new Transcript(this.transcriptBytes),
      markNonce: randomBytes(12).toString('hex'),
      ws: null,
      replaying: 0,
      unacked: 0,
      flowBlocked: false,
      socketBlocked: false,
      paused: false,
      cols: DEFAULT_COLS,
      rows: DEFAULT_ROWS,
      sizeFromClient: false,
      lastActiveAt: Date.now(),
      idleTimer: null,
      earlyInput: [],
      earlyInputBytes: 0,
      pending: [],
      pendingBytes: 0,
      readThisTurn: false,
      flushScheduled: false,
    };
    this.sessions.set(sessionId, session);
    return session;
  }

  private async start(session: Session, specOf: () => Promise<ShellSpec>): Promise<void> {
    const spec = await specOf();
    if (session.ending || this.sessions.get(session.id) !== session) throw new Error('the session was ended');
    mkdirSync(spec.cwd, { recursive: true });
    if (!session.sizeFromClient) {
      session.cols = spec.cols ?? session.cols;
      session.rows = spec.rows ?? session.rows;
    }
    if (session.mirror.cols !== session.cols || session.mirror.rows !== session.rows) {
      session.mirror.resize(session.cols, session.rows);
    }
    const env: Record<string, string> = {
      PATH: DEFAULT_PATH,
      LANG: 'C.UTF-8',
      ...spec.env,
      HOME: spec.env.HOME ?? spec.cwd,
      SHELL: this.shell,
      TERM: 'xterm-256color',
      COLORTERM: 'truecolor',
      [MARK_ENV]: session.markNonce,
    };
    let launch: { file: string; args: string[]; env: Record<string, string>; cwd: string; notice?: string };
    if (spec.learner) {
      // Never a learner's shell as the server runs: without a sandbox there is no shell.
      if (!this.sandbox) throw new Error('no sandbox is configured for learner shells');
      launch = this.sandbox.launch(spec.learner, this.shell, env, spec.cwd);
      // The learner's shell and all it runs behind the server that relays it (scheduling.ts).
      if (existsSync(NICE)) launch = { ...launch, file: NICE, args: ['-n', String(LEARNER_WORK_NICE), launch.file, ...launch.args] };
    } else {
      const { args, env: rcEnv } = interactiveShell(this.shell, this.rcFiles());
      launch = { file: this.shell, args, env: { ...env, ...rcEnv }, cwd: spec.cwd };
    }
    const file = launch.file;
    const pty = spawn(file, launch.args, {
      name: 'xterm-256color',
      cols: session.cols,
      rows: session.rows,
      cwd: launch.cwd,
      env: launch.env,
      // Buffers, not strings: no decode/encode on the output path.
      encoding: null,
    });
    session.pty = pty;
    session.paused = false;
    this.logger.info({ sessionId: session.id, pid: pty.pid, shell: file }, 'terminal shell started');
    const banner = [spec.banner, launch.notice].filter(Boolean).join('\n');
    if (banner) {
      // Before any output of the shell: it cannot have printed anything within this tick.
      this.output(session, Buffer.from(`${banner.replace(/\r?\n/g, '\r\n')}\r\n`, 'utf8'));
    }
    // With encoding: null node-pty hands out Buffers; its typings still say string.
    pty.onData((data) => this.collect(session, data as unknown as Buffer));
    pty.onExit(({ exitCode, signal }) => this.exited(session, pty, exitCode, signal));
    for (const data of session.earlyInput.splice(0)) pty.write(data);
    session.earlyInputBytes = 0;
    this.updateFlow(session);
  }

  /**
   * The PTY hands out at most 4 KiB per read, one read per event-loop turn (libuv stops
   * reading at a short read of its 64 KiB buffer). A frame per 4 KiB costs a syscall and a
   * client wake-up each, which halves the throughput of a flood. So full reads are held and
   * go out together, as soon as one of these says the burst is over or big enough:
   *  - a short read (the PTY is drained: the rest of the burst goes out with it at once);
   *  - MAX_FRAME_BYTES held;
   *  - an event-loop turn that brought no new read (setImmediate, checked again each turn:
   *    no timer, so a lull costs at most one turn of the loop, microseconds).
   * A short read with nothing held (a keystroke's echo, a prompt) goes out at once.
   */
  private collect(session: Session, chunk: Buffer): void {
    if (session.pendingBytes === 0 && chunk.length < FULL_PTY_READ) {
      this.output(session, chunk);
      return;
    }
    session.pending.push(chunk);
    session.pendingBytes += chunk.length;
    if (chunk.length < FULL_PTY_READ || session.pendingBytes >= MAX_FRAME_BYTES) {
      this.flush(session);
      return;
    }
    session.readThisTurn = true;
    if (session.flushScheduled) return;
    session.flushScheduled = true;
    setImmediate(() => this.flushIfLull(session));
  }

  private flushIfLull(session: Session): void {
    if (session.readThisTurn && session.pendingBytes > 0) {
      session.readThisTurn = false;
      setImmediate(() => this.flushIfLull(session));
      return;
    }
    session.flushScheduled = false;
    this.flush(session);
  }

  private flush(session: Session): void {
    const chunks = session.pending;
    if (chunks.length === 0) return;
    session.pending = [];
    session.pendingBytes = 0;
    session.readThisTurn = false;
    this.output(session, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
  }

  private output(session: Session, chunk: Buffer): void {
    const ws = session.ws;
    if (ws && session.replaying === 0 && ws.readyState === WebSocket.OPEN) {
      ws.send(chunk);
      session.unacked += chunk.length;
      if (session.unacked > FLOW_HIGH_WATER && !session.flowBlocked) this.updateFlow(session);
      if (ws.bufferedAmount > MAX_SOCKET_BUFFER && !session.socketBlocked) this.waitForSocketDrain(session, ws);
    }
    session.mirror.write(chunk);
    session.transcript.append(chunk);
    const watchers = this.watchers.get(session.id);
    if (watchers) for (const w of watchers) w.data(chunk);
    if (this.activityListeners.length > 0) {
      for (const listener of this.activityListeners) {
        try {
          listener(session.id);
        } catch (err) {
          this.logger.error({ err, sessionId: session.id }, 'terminal activity listener failed');
        }
      }
    }
  }

  private waitForSocketDrain(session: Session, ws: WebSocket): void {
    session.socketBlocked = true;
    this.updateFlow(session);
    const check = () => {
      if (session.ws === ws && ws.readyState === WebSocket.OPEN && ws.bufferedAmount > FLOW_LOW_WATER) {
        setTimeout(check, SOCKET_DRAIN_POLL_MS).unref();
        return;
      }
      session.socketBlocked = false;
      this.updateFlow(session);
    };
    setTimeout(check, SOCKET_DRAIN_POLL_MS).unref();
  }

  /** Pauses the PTY while anything needs it paused; resumes it when nothing does. */
  private updateFlow(session: Session): void {
    if (session.unacked > FLOW_HIGH_WATER) session.flowBlocked = true;
    else if (session.unacked < FLOW_LOW_WATER) session.flowBlocked = false;
    const pause = session.replaying > 0 || session.flowBlocked || session.socketBlocked || session.mirror.throttled;
    const pty = session.pty;
    if (!pty || pause === session.paused) return;
    session.paused = pause;
    if (pause) pty.pause();
    else pty.resume();
  }

  private detach(session: Session, ws: WebSocket): void {
    if (session.ws !== ws) return;
    session.ws = null;
    session.unacked = 0;
    session.flowBlocked = false;
    session.lastActiveAt = Date.now();
    this.updateFlow(session);
    if (!session.ending) this.armIdle(session);
  }

  private exited(session: Session, pty: IPty, exitCode: number, signal: number | undefined): void {
    if (session.pty !== pty) return;
    this.flush(session);
    session.pty = null;
    session.paused = false;
    this.logger.info({ sessionId: session.id, pid: pty.pid, exitCode, signal }, 'terminal shell exited');
    const ws = session.ws;
    if (ws) {
      send(ws, { t: 'exit', code: signal ? null : exitCode, signal: signal || null });
      ws.close(CLOSE_SHELL_EXITED, 'shell exited');
    }
    // Background jobs outlive a shell that exits by itself (no hangup for them): clean up.
    session.sweeping = killSession(pty.pid, this.killGraceMs).catch((err) =>
      this.logger.error({ err, sessionId: session.id }, 'terminal processes left behind'),
    );
    if (!session.ending) this.armIdle(session);
  }

  private async finish(session: Session): Promise<void> {
    this.clearIdle(session);
    await session.starting?.catch(() => {});
    const pty = session.pty;
    try {
      if (pty) {
        const exited = new Promise<void>((resolve) => {
          pty.onExit(() => resolve());
        });
        // Let it drain so node-pty sees the PTY close.
        pty.resume();
        await killSession(pty.pid, this.killGraceMs);
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
        if (session.pty === pty) this.exited(session, pty, 0, 1);
      }
      await session.sweeping;
    } finally {
      if (session.ws) session.ws.close(CLOSE_SHELL_EXITED, 'session ended');
      session.mirror.dispose();
      this.logger.info({ sessionId: session.id }, 'terminal session ended');
    }
  }

  private armIdle(session: Session): void {
    this.clearIdle(session);
    const due = Math.max(0, session.lastActiveAt + this.idleTimeoutMs - Date.now());
    session.idleTimer = setTimeout(() => {
      session.idleTimer = null;
      if (session.ws || session.ending) return;
      if (Date.now() - session.lastActiveAt < this.idleTimeoutMs) return this.armIdle(session);
      this.logger.info({ sessionId: session.id }, 'terminal session idle: ending it');
      this.end(session.id).catch((err) => this.logger.error({ err, sessionId: session.id }, 'idle terminal not ended cleanly'));
    }, due);
    session.idleTimer.unref();
  }

  private clearIdle(session: Session): void {
    if (session.idleTimer) clearTimeout(session.idleTimer);
    session.idleTimer = null;
  }

  private rcFiles(): string {
    if (this.rcDir && existsSync(this.rcDir)) return this.rcDir;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'istio-playground-shell-'));
    for (const [name, text] of Object.entries(RC_FILES)) writeFileSync(path.join(dir, name), text);
    this.rcDir = dir;
    // Also when the process ends without closeAll (a crash, a test runner's exit).
    process.once('exit', this.removeRcFiles);
    return dir;
  }
}

const NICE = '/usr/bin/nice';

/** What writeInput() relies on in node-pty 1.1's UnixTerminal (absent elsewhere, e.g. Windows). */
interface PtyInternals {
  _fd?: unknown;
  _writeStream?: { _writeQueue?: unknown[] };
}

/**
 * Keystrokes straight into the PTY. node-pty's own write hands every keystroke to libuv's
 * thread pool (fs.write): a thread wake-up and a later completion wake-up, measured at
 * ~30 µs of a ~250 µs echo on the shared 2-core machine. The master fd is non-blocking, so
 * whatever the kernel does not take at once (EAGAIN: a paste into a busy shell; or an error)
 * goes to node-pty's queue, which retries or reports it; so does everything while that queue
 * still holds earlier input, keeping the order.
 */
export function writeInput(pty: IPty, data: string): void {
  const { _fd: fd, _writeStream: stream } = pty as unknown as PtyInternals;
  if (typeof fd !== 'number' || !Array.isArray(stream?._writeQueue) || stream._writeQueue.length > 0) {
    pty.write(data);
    return;
  }
  const bytes = Buffer.from(data, 'utf8');
  let written = 0;
  try {
    written = writeSync(fd, bytes);
  } catch {
    // EAGAIN or the PTY closing: node-pty's queue below deals with it as with any write.
  }
  if (written < bytes.length) pty.write(bytes.subarray(written));
}

function defaultShell(): string {
  for (const candidate of ['/bin/bash', '/usr/bin/bash', '/usr/local/bin/bash', '/opt/homebrew/bin/bash']) {
    if (existsSync(candidate)) return candidate;
  }
  return '/bin/sh';
}

function send(ws: WebSocket, message: ServerMessage): void {
  if (ws.readyState === WebSocket.OPEN) ws.send(encodeMessage(message));
}
