/**
 * Runs parsed shell scripts: expansions, pipelines (concurrent, streaming), && || ;,
 * redirections, loops, and the builtins a script needs. Programs come from programs.ts.
 */
import type { ContainerContext, ShellFlavour } from '../types.js';
import { ContainerFs, FsFailure, fsErrorText } from './fs.js';
import {
  parseScript,
  ShellSyntaxError,
  type AndOr,
  type Command,
  type List,
  type Pipeline,
  type Redirect,
  type SimpleCommand,
  type Word,
} from './parser.js';
import { ProgramExit, type Program, type ProgramIO } from './program.js';
import { Collector, DISCARD, EMPTY_INPUT, Pipe, inputFrom, type InputStream, type OutputStream } from './streams.js';
import { evalArithmetic } from './arith.js';

/** Ends the shell (the `exit` builtin, or a fatal error in a non-interactive shell). */
export class ShellExit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}
/** The foreground job was interrupted (Ctrl-C, or the exec session went away). */
export class Interrupted extends Error {
  constructor() {
    super('interrupted');
  }
}
class LoopControl extends Error {
  constructor(
    readonly kind: 'break' | 'continue',
    readonly levels: number,
  ) {
    super(kind);
  }
}

export interface Streams {
  stdin: InputStream;
  stdout: OutputStream;
  stderr: OutputStream;
}

export interface ShellOptions {
  ctx: ContainerContext;
  fs: ContainerFs;
  flavour: ShellFlavour;
  /** Programs by name (what is on $PATH in this image). */
  programs: Map<string, Program>;
  /** How the shell was invoked (`sh`, `/bin/sh`, `bash`): prefixes its error messages. */
  name: string;
  interactive: boolean;
  tty: boolean;
  /** The user the image runs as (`id`, `whoami`). */
  user: string;
  signal: AbortSignal;
  env: Record<string, string>;
  cwd?: string;
  positional?: string[];
}

const PATH_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

export class Shell {
  readonly vars = new Map<string, string>();
  readonly exported = new Set<string>();
  cwd: string;
  lastStatus = 0;
  positional: string[];
  /** The line of the script being run, for dash's `sh: 3: foo: not found`. */
  private line = 1;
  private readonly opts: ShellOptions;
  /** Interrupt for the command in the foreground (Ctrl-C in an interactive shell). */
  private fgSignal: AbortSignal;

  constructor(opts: ShellOptions) {
    this.opts = opts;
    this.cwd = opts.cwd ?? '/';
    this.positional = opts.positional ?? [];
    this.fgSignal = opts.signal;
    for (const [k, v] of Object.entries(opts.env)) {
      this.vars.set(k, v);
      this.exported.add(k);
    }
    if (!this.vars.has('PWD')) {
      this.vars.set('PWD', this.cwd);
      this.exported.add('PWD');
    }
    if (!this.vars.has('IFS')) this.vars.set('IFS', ' \t\n');
    if (!this.vars.has('PS1')) this.vars.set('PS1', '');
  }

  get flavour(): ShellFlavour {
    return this.opts.flavour;
  }

  get fs(): ContainerFs {
    return this.opts.fs;
  }

  /** How the shell was invoked (`sh`, `bash`), which prefixes its messages. */
  get name(): string {
    return this.opts.name;
  }

  /** Runs a whole script; `exit` and syntax errors end it. Returns the exit status. */
  async runScript(source: string, streams: Streams, signal?: AbortSignal): Promise<number> {
    const prev = this.fgSignal;
    if (signal) this.fgSignal = signal;
    try {
      let ast: List;
      try {
        ast = parseScript(source);
      } catch (e) {
        if (e instanceof ShellSyntaxError) {
          streams.stderr.write(this.syntaxErrorText(e) + '\n');
          this.lastStatus = 2;
          return 2;
        }
        throw e;
      }
      try {
        this.lastStatus = await this.runList(ast, streams);
      } catch (e) {
        if (e instanceof LoopControl) this.lastStatus = 0;
        else if (e instanceof Interrupted) this.lastStatus = 130;
        else throw e;
      }
      return this.lastStatus;
    } finally {
      this.fgSignal = prev;
    }
  }

  syntaxErrorText(e: ShellSyntaxError): string {
    switch (this.opts.flavour) {
      case 'busybox':
        return `${this.opts.name}: ${e.message.replace(/^Syntax error: /, 'syntax error: ').toLowerCase()}`;
      case 'bash':
        return `${this.opts.name}: ${this.opts.interactive ? '' : '-c: '}line ${e.line}: ${e.message.replace(/^Syntax error: /, 'syntax error: ')}`;
      default:
        return `${this.opts.name}: ${e.line}: ${e.message}`;
    }
  }

  exportedEnv(): Record<string, string> {
    const env: Record<string, string> = {};
    for (const k of this.exported) {
      const v = this.vars.get(k);
      if (v !== undefined) env[k] = v;
    }
    return env;
  }

  private get signal(): AbortSignal {
    return this.fgSignal;
  }

  private checkAborted(): void {
    if (this.signal.aborted) throw new Interrupted();
  }

  async runList(list: List, streams: Streams): Promise<number> {
    let status = this.lastStatus;
    for (const item of list.items) {
      this.checkAborted();
      if (item.background) {
        streams.stderr.write(`${this.opts.name}: background jobs (&) are not supported by the embedded cluster\n`);
        status = 2;
        this.lastStatus = status;
        continue;
      }
      status = await this.runAndOr(item, streams);
      this.lastStatus = status;
    }
    return status;
  }

  private async runAndOr(ao: AndOr, streams: Streams): Promise<number> {
    let status = await this.runPipeline(ao.first, streams);
    this.lastStatus = status;
    for (const { op, pipeline } of ao.rest) {
      if ((op === '&&' && status !== 0) || (op === '||' && status === 0)) continue;
      status = await this.runPipeline(pipeline, streams);
      this.lastStatus = status;
    }
    return status;
  }

  private async runPipeline(p: Pipeline, streams: Streams): Promise<number> {
    let status: number;
    if (p.commands.length === 1) {
      status = await this.runCommand(p.commands[0], streams);
    } else {
      const pipes = p.commands.slice(1).map(() => new Pipe());
      const runs = p.commands.map(async (cmd, idx) => {
        const stdin = idx === 0 ? streams.stdin : pipes[idx - 1];
        const stdout = idx === p.commands.length - 1 ? streams.stdout : pipes[idx];
        // Each pipeline element runs in a subshell: its variable changes do not leak.
        const sub = this.subshell();
        try {
          return await sub.runCommand(cmd, { stdin, stdout, stderr: streams.stderr });
        } catch (e) {
          if (e instanceof ShellExit) return e.code;
          if (e instanceof LoopControl) return 0;
          if (e instanceof Interrupted) return 130;
          throw e;
        } finally {
          if (idx < pipes.length) pipes[idx].end();
          if (idx > 0) pipes[idx - 1].closeReader();
        }
      });
      const results = await Promise.all(runs);
      status = results[results.length - 1];
    }
    return p.bang ? (status === 0 ? 1 : 0) : status;
  }

  private subshell(): Shell {
    const sub = new Shell({ ...this.opts, env: {}, cwd: this.cwd, positional: [...this.positional], signal: this.fgSignal });
    sub.vars.clear();
    for (const [k, v] of this.vars) sub.vars.set(k, v);
    for (const k of this.exported) sub.exported.add(k);
    sub.lastStatus = this.lastStatus;
    return sub;
  }

  private async runCommand(cmd: Command, streams: Streams): Promise<number> {
    this.checkAborted();
    if (cmd.type === 'simple') return this.runSimple(cmd, streams);
    const redirected = await this.applyRedirects(cmd.redirects, streams);
    if (redirected === null) return 1;
    try {
      return await this.runCompound(cmd, redirected.streams);
    } finally {
      redirected.close();
    }
  }

  private async runCompound(cmd: Exclude<Command, SimpleCommand>, streams: Streams): Promise<number> {
    switch (cmd.type) {
      case 'group':
        return this.runList(cmd.body, streams);
      case 'subshell': {
        const sub = this.subshell();
        try {
          return await sub.runList(cmd.body, streams);
        } catch (e) {
          if (e instanceof ShellExit) return e.code;
          throw e;
        }
      }
      case 'if': {
        for (const b of cmd.branches) {
          if ((await this.runList(b.cond, streams)) === 0) return this.runList(b.body, streams);
        }
        return cmd.elseBody ? this.runList(cmd.elseBody, streams) : 0;
      }
      case 'for': {
        const items: string[] = [];
        if (cmd.items === null) items.push(...this.positional);
        else for (const w of cmd.items) items.push(...(await this.expandWord(w, streams)));
        let status = 0;
        for (const item of items) {
          this.checkAborted();
          this.vars.set(cmd.name, item);
          try {
            status = await this.runList(cmd.body, streams);
          } catch (e) {
            if (!(e instanceof LoopControl)) throw e;
            if (e.levels > 1) throw new LoopControl(e.kind, e.levels - 1);
            if (e.kind === 'break') break;
          }
        }
        return status;
      }
      case 'while':
      case 'until': {
        let status = 0;
        for (;;) {
          this.checkAborted();
          const c = await this.runList(cmd.cond, streams);
          if ((c === 0) !== (cmd.type === 'while')) break;
          try {
            status = await this.runList(cmd.body, streams);
          } catch (e) {
            if (!(e instanceof LoopControl)) throw e;
            if (e.levels > 1) throw new LoopControl(e.kind, e.levels - 1);
            if (e.kind === 'break') break;
          }
          // A tight loop of builtins must not starve the event loop (and Ctrl-C).
          await new Promise((r) => setImmediate(r));
        }
        return status;
      }
    }
  }

  // ---- expansion ----------------------------------------------------------------------

  private param(name: string): string | undefined {
    switch (name) {
      case '?':
        return String(this.lastStatus);
      case '$':
        return '1';
      case '#':
        return String(this.positional.length);
      case '@':
      case '*':
        return this.positional.join(' ');
      case '0':
        return this.opts.name;
      case '!':
        return '';
      case '-':
        return this.opts.interactive ? 'i' : '';
    }
    if (/^[1-9]$/.test(name)) return this.positional[Number(name) - 1];
    return this.vars.get(name);
  }

  /** Expands a word into fields (field splitting applies to unquoted expansions only). */
  async expandWord(word: Word, streams: Streams): Promise<string[]> {
    // Brace expansion is bash's: `for i in {1..5}` is common in tutorials.
    if (this.opts.flavour === 'bash' && word.parts.length === 1 && word.parts[0].kind === 'lit' && !word.parts[0].quoted) {
      const braced = expandBraces(word.parts[0].text);
      if (braced.length > 1 || braced[0] !== word.parts[0].text) return braced;
    }
    const fields: string[] = [];
    let cur = '';
    let hasQuoted = false;
    let started = false;
    const ifs = this.vars.get('IFS') ?? ' \t\n';
    const pushSplit = (text: string) => {
      if (!ifs) {
        cur += text;
        started = true;
        return;
      }
      const pieces = text.split(new RegExp(`[${ifs.replace(/[\\\]^-]/g, '\\$&').replace(/\t/g, '\\t').replace(/\n/g, '\\n')}]+`));
      pieces.forEach((piece, idx) => {
        if (idx > 0) {
          if (started || cur || hasQuoted) fields.push(cur);
          cur = '';
          hasQuoted = false;
          started = false;
        }
        if (piece) {
          cur += piece;
          started = true;
        }
      });
    };
    for (let idx = 0; idx < word.parts.length; idx++) {
      const part = word.parts[idx];
      if (part.kind === 'lit') {
        let text = part.text;
        if (idx === 0 && !part.quoted && (text === '~' || text.startsWith('~/'))) text = (this.vars.get('HOME') ?? '/root') + text.slice(1);
        cur += text;
        started = true;
        if (part.quoted) hasQuoted = true;
        continue;
      }
      if (part.kind === 'param' && part.name === '@' && part.quoted && !part.op) {
        // "$@": one field per positional parameter, glued to the text around it.
        if (this.positional.length === 0) {
          continue;
        }
        this.positional.forEach((p, i) => {
          if (i > 0) {
            fields.push(cur);
            cur = '';
          }
          cur += p;
        });
        started = true;
        continue;
      }
      let value: string;
      if (part.kind === 'param') value = await this.expandParam(part.name, part.op, part.arg, streams);
      else if (part.kind === 'cmdsub') value = await this.commandSubstitution(part.source, streams);
      else value = String(evalArithmetic(await this.expandArithText(part.expr, streams), (n) => this.vars.get(n), (n, v) => this.vars.set(n, String(v))));
      if (part.quoted) {
        cur += value;
        hasQuoted = true;
        started = true;
      } else pushSplit(value);
    }
    if (started || cur || hasQuoted) fields.push(cur);
    return fields;
  }

  /** Expands a word to one string (redirection targets, assignments). */
  async expandToString(word: Word, streams: Streams): Promise<string> {
    const parts: string[] = [];
    for (const part of word.parts) {
      if (part.kind === 'lit') parts.push(part.text);
      else if (part.kind === 'param') parts.push(await this.expandParam(part.name, part.op, part.arg, streams));
      else if (part.kind === 'cmdsub') parts.push(await this.commandSubstitution(part.source, streams));
      else parts.push(String(evalArithmetic(await this.expandArithText(part.expr, streams), (n) => this.vars.get(n), (n, v) => this.vars.set(n, String(v)))));
    }
    return parts.join('');
  }

  private async expandArithText(expr: string, streams: Streams): Promise<string> {
    // $VAR and $(...) inside $((...)) expand first; bare names are read by the evaluator.
    if (!expr.includes('$')) return expr;
    const word = parseScript(`: "${expr.replace(/"/g, '\\"')}"`).items[0].first.commands[0] as SimpleCommand;
    return this.expandToString(word.words[1], streams);
  }

  private async expandParam(name: string, op: string | undefined, arg: Word | undefined, streams: Streams): Promise<string> {
    const value = this.param(name);
    if (!op) return value ?? '';
    if (op === '#len') return String((value ?? '').length);
    const argText = async () => (arg ? this.expandToString(arg, streams) : '');
    const unsetOrEmpty = op.startsWith(':') ? !value : value === undefined;
    switch (op.replace(':', '')) {
      case '-':
        return unsetOrEmpty ? argText() : value!;
      case '=':
        if (unsetOrEmpty) {
          const v = await argText();
          this.vars.set(name, v);
          return v;
        }
        return value!;
      case '+':
        return unsetOrEmpty ? '' : argText();
      case '?':
        if (unsetOrEmpty) {
          streams.stderr.write(`${this.opts.name}: ${name}: ${(await argText()) || 'parameter not set'}\n`);
          throw new ShellExit(2);
        }
        return value!;
      case '#':
      case '##':
      case '%':
      case '%%': {
        const pattern = globToRegex(await argText());
        const v = value ?? '';
        const greedy = op.length === 2;
        if (op.startsWith('#')) {
          for (let len = greedy ? v.length : 0; greedy ? len >= 0 : len <= v.length; len += greedy ? -1 : 1) {
            if (pattern.test(v.slice(0, len))) return v.slice(len);
          }
        } else {
          for (let start = greedy ? 0 : v.length; greedy ? start <= v.length : start >= 0; start += greedy ? 1 : -1) {
            if (pattern.test(v.slice(start))) return v.slice(0, start);
          }
        }
        return v;
      }
    }
    return value ?? '';
  }

  private async commandSubstitution(source: string, streams: Streams): Promise<string> {
    const out = new Collector();
    const sub = this.subshell();
    try {
      await sub.runScript(source, { stdin: EMPTY_INPUT, stdout: out, stderr: streams.stderr }, this.fgSignal);
      this.lastStatus = sub.lastStatus;
    } catch (e) {
      if (e instanceof ShellExit) this.lastStatus = e.code;
      else throw e;
    }
    return out.text().replace(/\n+$/, '');
  }

  // ---- redirections -------------------------------------------------------------------

  /** Applies redirections; null (after printing the shell's message) when a file cannot be opened. */
  private async applyRedirects(redirects: Redirect[], streams: Streams): Promise<{ streams: Streams; close(): void } | null> {
    if (redirects.length === 0) return { streams, close: () => {} };
    const fds: (InputStream | OutputStream)[] = [streams.stdin, streams.stdout, streams.stderr];
    for (const r of redirects) {
      const target = await this.expandToString(r.target, streams);
      if (r.op === '>&' || r.op === '<&') {
        if (target === '-') {
          fds[r.fd] = r.fd === 0 ? EMPTY_INPUT : DISCARD;
          continue;
        }
        const src = Number(target);
        if (!/^[0-2]$/.test(target)) {
          streams.stderr.write(this.redirectError(target, r.op === '<&' ? 'open' : 'create', 'Bad fd number'));
          return null;
        }
        fds[r.fd] = fds[src];
        continue;
      }
      const path = ContainerFs.resolve(this.cwd, target);
      if (r.op === '<') {
        try {
          fds[r.fd] = inputFrom(this.opts.fs.read(path));
        } catch (e) {
          if (!(e instanceof FsFailure)) throw e;
          streams.stderr.write(this.redirectError(target, 'open', e.code === 'ENOENT' ? 'No such file' : fsErrorText(e.code)));
          return null;
        }
        continue;
      }
      try {
        this.opts.fs.write(path, Buffer.alloc(0), r.op === '>>');
      } catch (e) {
        if (!(e instanceof FsFailure)) throw e;
        streams.stderr.write(this.redirectError(target, 'create', e.code === 'ENOENT' ? 'Directory nonexistent' : fsErrorText(e.code)));
        return null;
      }
      const fs = this.opts.fs;
      fds[r.fd] = { write: (chunk) => fs.write(path, typeof chunk === 'string' ? Buffer.from(chunk) : chunk, true) };
    }
    return { streams: { stdin: fds[0] as InputStream, stdout: fds[1] as OutputStream, stderr: fds[2] as OutputStream }, close: () => {} };
  }

  private redirectError(target: string, verb: 'open' | 'create', reason: string): string {
    switch (this.opts.flavour) {
      case 'busybox':
        return `${this.opts.name}: can't ${verb} ${target}: ${reason === 'Directory nonexistent' ? 'nonexistent directory' : reason === 'No such file' ? 'no such file' : reason}\n`;
      case 'bash':
        return `${this.opts.name}: ${target}: ${reason === 'Directory nonexistent' || reason === 'No such file' ? 'No such file or directory' : reason}\n`;
      default:
        return `${this.opts.name}: ${this.line}: cannot ${verb} ${target}: ${reason}\n`;
    }
  }

  // ---- simple commands ----------------------------------------------------------------

  private async runSimple(cmd: SimpleCommand, outer: Streams): Promise<number> {
    this.line = cmd.line;
    const argv: string[] = [];
    for (const w of cmd.words) argv.push(...(await this.expandWord(w, outer)));
    const assigns: [string, string][] = [];
    for (const a of cmd.assigns) assigns.push([a.name, await this.expandToString(a.value, outer)]);
    const redirected = await this.applyRedirects(cmd.redirects, outer);
    if (redirected === null) return 1;
    const streams = redirected.streams;
    if (argv.length === 0) {
      for (const [k, v] of assigns) this.vars.set(k, v);
      return cmd.words.length > 0 ? this.lastStatus : 0;
    }
    const env = this.exportedEnv();
    for (const [k, v] of assigns) env[k] = v;
    return this.execute(argv, streams, env);
  }

  /** Runs a builtin or a program by name, with the shell's wording when it is not found. */
  async execute(argv: string[], streams: Streams, env: Record<string, string>): Promise<number> {
    const builtin = BUILTINS[argv[0]];
    if (builtin) return builtin(this, argv, streams);
    const program = this.lookup(argv[0]);
    if (!program) {
      streams.stderr.write(this.notFoundText(argv[0]));
      return 127;
    }
    const io: ProgramIO = {
      argv,
      stdin: streams.stdin,
      stdout: streams.stdout,
      stderr: streams.stderr,
      env,
      cwd: this.cwd,
      fs: this.opts.fs,
      ctx: this.opts.ctx,
      signal: this.fgSignal,
      tty: this.opts.tty,
      user: this.opts.user,
      flavour: this.opts.flavour,
      exec: async (a, over) => {
        // `env foo`, `timeout 5 foo`: the program execs a binary, builtins do not count.
        if (!this.lookup(a[0])) {
          (over.stderr ?? streams.stderr).write(`${argv[0].split('/').pop()}: '${a[0]}': No such file or directory\n`);
          return 127;
        }
        return this.execute(a, { stdin: over.stdin ?? streams.stdin, stdout: over.stdout ?? streams.stdout, stderr: over.stderr ?? streams.stderr }, over.env ?? env);
      },
    };
    try {
      return await program(io);
    } catch (e) {
      if (e instanceof ProgramExit) return e.code;
      throw e;
    }
  }

  lookup(name: string): Program | undefined {
    if (name.includes('/')) {
      const abs = ContainerFs.resolve(this.cwd, name);
      const dir = abs.slice(0, abs.lastIndexOf('/')) || '/';
      if (!PATH_DIRS.includes(dir)) return undefined;
      return this.opts.programs.get(abs.slice(abs.lastIndexOf('/') + 1));
    }
    return this.opts.programs.get(name);
  }

  notFoundText(name: string): string {
    switch (this.opts.flavour) {
      case 'busybox':
        return `${this.opts.name}: ${name}: not found\n`;
      case 'bash':
        return this.opts.interactive ? `${this.opts.name}: ${name}: command not found\n` : `${this.opts.name}: line ${this.line}: ${name}: command not found\n`;
      default:
        return `${this.opts.name}: ${this.line}: ${name}: not found\n`;
    }
  }

  /** Reads one line for the `read` builtin, keeping what follows it for the next read. */
  async readLine(stdin: InputStream): Promise<string | null> {
    let pending = leftovers.get(stdin) ?? '';
    for (;;) {
      const nl = pending.indexOf('\n');
      if (nl >= 0) {
        leftovers.set(stdin, pending.slice(nl + 1));
        return pending.slice(0, nl);
      }
      const chunk = this.fgSignal.aborted ? null : await stdin.read();
      if (chunk === null) {
        leftovers.set(stdin, '');
        return pending ? pending : null;
      }
      pending += chunk.toString('utf8');
    }
  }
}

/** Input read past a line by `read`, per stream, so `… | while read l` sees every line. */
const leftovers = new WeakMap<InputStream, string>();

type Builtin = (sh: Shell, argv: string[], streams: Streams) => Promise<number> | number;

const BUILTINS: Record<string, Builtin> = {
  ':': () => 0,
  true: () => 0,
  false: () => 1,
  exit: (sh, argv) => {
    throw new ShellExit(argv[1] !== undefined ? Number(argv[1]) & 255 : sh.lastStatus);
  },
  cd: (sh, argv, s) => {
    const target = argv[1] === undefined ? (sh.vars.get('HOME') ?? '/') : argv[1] === '-' ? (sh.vars.get('OLDPWD') ?? sh.cwd) : argv[1];
    const abs = ContainerFs.resolve(sh.cwd, target);
    const fs = sh.fs;
    if (!fs.isDir(abs)) {
      const why = fs.exists(abs) ? 'Not a directory' : 'No such file or directory';
      const name = sh.name;
      if (sh.flavour === 'busybox') s.stderr.write(`${name}: cd: can't cd to ${target}: ${why}\n`);
      else if (sh.flavour === 'bash') s.stderr.write(`${name}: cd: ${target}: ${why}\n`);
      else s.stderr.write(`${name}: 1: cd: can't cd to ${target}\n`);
      return sh.flavour === 'dash' ? 2 : 1;
    }
    sh.vars.set('OLDPWD', sh.cwd);
    sh.cwd = abs;
    sh.vars.set('PWD', abs);
    return 0;
  },
  pwd: (sh, _argv, s) => {
    s.stdout.write(sh.cwd + '\n');
    return 0;
  },
  export: (sh, argv, s) => {
    if (argv.length === 1 || argv[1] === '-p') {
      for (const k of [...sh.exported].sort()) s.stdout.write(`export ${k}='${(sh.vars.get(k) ?? '').replace(/'/g, `'"'"'`)}'\n`);
      return 0;
    }
    for (const a of argv.slice(1)) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a : a.slice(0, eq);
      if (eq >= 0) sh.vars.set(name, a.slice(eq + 1));
      sh.exported.add(name);
    }
    return 0;
  },
  unset: (sh, argv) => {
    for (const a of argv.slice(1)) {
      if (a.startsWith('-')) continue;
      sh.vars.delete(a);
      sh.exported.delete(a);
    }
    return 0;
  },
  set: (sh, argv, s) => {
    if (argv.length === 1) {
      for (const [k, v] of [...sh.vars].sort()) s.stdout.write(`${k}='${v}'\n`);
      return 0;
    }
    if (argv[1] === '--') {
      sh.positional = argv.slice(2);
      return 0;
    }
    s.stderr.write(`set ${argv.slice(1).join(' ')}: shell options are not supported by the embedded cluster\n`);
    return 2;
  },
  shift: (sh, argv) => {
    const n = argv[1] ? Number(argv[1]) : 1;
    if (n > sh.positional.length) return 1;
    sh.positional = sh.positional.slice(n);
    return 0;
  },
  break: (_sh, argv) => {
    throw new LoopControl('break', Number(argv[1] ?? 1));
  },
  continue: (_sh, argv) => {
    throw new LoopControl('continue', Number(argv[1] ?? 1));
  },
  read: async (sh, argv, s) => {
    const names = argv.slice(1).filter((a) => !a.startsWith('-'));
    if (argv.slice(1).some((a) => a.startsWith('-') && a !== '-r')) {
      s.stderr.write(`read: only 'read [-r] NAME…' is supported by the embedded cluster\n`);
      return 2;
    }
    const line = await sh.readLine(s.stdin);
    if (line === null) return 1;
    const targets = names.length ? names : ['REPLY'];
    const fields = line.trim().split(/[ \t]+/);
    targets.forEach((n, i) => sh.vars.set(n, i === targets.length - 1 ? fields.slice(i).join(' ') : (fields[i] ?? '')));
    return 0;
  },
  eval: (sh, argv, s) => sh.runScript(argv.slice(1).join(' '), s),
  exec: (sh, argv, s) => (argv.length > 1 ? sh.execute(argv.slice(1), s, sh.exportedEnv()) : 0),
  type: (sh, argv, s) => {
    let status = 0;
    for (const name of argv.slice(1)) {
      if (BUILTINS[name]) s.stdout.write(`${name} is a shell builtin\n`);
      else if (sh.lookup(name)) s.stdout.write(`${name} is ${name.includes('/') ? name : `/usr/bin/${name}`}\n`);
      else {
        s.stdout.write(`${name}: not found\n`);
        status = 1;
      }
    }
    return status;
  },
  command: (sh, argv, s) => {
    if (argv[1] === '-v') {
      const name = argv[2] ?? '';
      if (BUILTINS[name]) s.stdout.write(`${name}\n`);
      else if (sh.lookup(name)) s.stdout.write(`${name.includes('/') ? name : `/usr/bin/${name}`}\n`);
      else return 1;
      return 0;
    }
    return argv.length > 1 ? sh.execute(argv.slice(1), s, sh.exportedEnv()) : 0;
  },
};

export function isBuiltin(name: string): boolean {
  return name in BUILTINS;
}

function globToRegex(glob: string): RegExp {
  let re = '';
  for (const c of glob) {
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's');
}

/** bash brace expansion for the forms people type: {1..10}, {a..e}, {x,y,z}, with prefix/suffix. */
export function expandBraces(text: string): string[] {
  const m = /^(.*?)\{([^{}]*)\}(.*)$/s.exec(text);
  if (!m) return [text];
  const [, pre, body, post] = m;
  let items: string[] | null = null;
  const range = /^(-?\d+)\.\.(-?\d+)(?:\.\.(-?\d+))?$/.exec(body);
  const charRange = /^([a-zA-Z])\.\.([a-zA-Z])$/.exec(body);
  if (range) {
    const a = Number(range[1]);
    const b = Number(range[2]);
    const step = Math.abs(Number(range[3] ?? 1)) || 1;
    items = [];
    if (a <= b) for (let x = a; x <= b; x += step) items.push(String(x));
    else for (let x = a; x >= b; x -= step) items.push(String(x));
  } else if (charRange) {
    const a = charRange[1].charCodeAt(0);
    const b = charRange[2].charCodeAt(0);
    items = [];
    if (a <= b) for (let x = a; x <= b; x++) items.push(String.fromCharCode(x));
    else for (let x = a; x >= b; x--) items.push(String.fromCharCode(x));
  } else if (body.includes(',')) items = body.split(',');
  if (!items) return [text];
  return items.flatMap((it) => expandBraces(`${pre}${it}${post}`));
}
