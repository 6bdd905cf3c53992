/** `sh` / `bash` as programs: `-c SCRIPT`, a script file, commands on stdin, or an interactive prompt. */
import type { ShellFlavour } from '../types.js';
import { ArithmeticError } from './arith.js';
import { FsFailure } from './fs.js';
import { Interrupted, Shell, ShellExit, type ShellOptions } from './interpreter.js';
import { ShellSyntaxError, parseScript } from './parser.js';
import { absPath, type Program, type ProgramIO } from './program.js';
import { readLines, type OutputStream } from './streams.js';
import type { TtyDiscipline } from './tty.js';

export interface ShellProgramDeps {
  /** The shell flavour this program name runs (busybox sh, dash, bash). */
  flavour: ShellFlavour;
  programs: () => ShellOptions['programs'];
  /** The tty, when the exec has one: an interactive shell reads its lines from it. */
  tty: TtyDiscipline | null;
  /** Raw (not ONLCR-translated) output, for the prompt. */
  user: string;
}

export function shellProgram(deps: ShellProgramDeps): Program {
  return async (io: ProgramIO) => {
    const name = io.argv[0];
    const args = io.argv.slice(1);
    let script: string | undefined;
    let positional: string[] = [];
    let forceInteractive = false;
    let dollarZero = name;
    let i = 0;
    for (; i < args.length; i++) {
      const a = args[i];
      if (a === '-c') {
        script = args[i + 1];
        if (script === undefined) {
          io.stderr.write(deps.flavour === 'bash' ? `${name}: -c: option requires an argument\n` : `${name}: -c requires an argument\n`);
          return 2;
        }
        // `sh -c SCRIPT NAME ARGS…`: NAME becomes $0 (and prefixes messages), ARGS are $1….
        if (args[i + 2] !== undefined) dollarZero = args[i + 2];
        positional = args.slice(i + 3);
        break;
      }
      if (a === '-i') forceInteractive = true;
      else if (a === '-l' || a === '--login' || a === '-s') continue;
      else if (/^-[a-z]*c[a-z]*$/.test(a)) {
        io.stderr.write(`${name}: options ${a.replace('c', '')} are not supported by the embedded cluster\n`);
        return 2;
      } else if (a.startsWith('-')) {
        io.stderr.write(`${name}: ${a}: shell options are not supported by the embedded cluster\n`);
        return 2;
      } else {
        // `sh script.sh args…`
        try {
          script = io.fs.read(absPath(io, a)).toString('utf8');
        } catch (e) {
          if (!(e instanceof FsFailure)) throw e;
          io.stderr.write(deps.flavour === 'dash' ? `${name}: 0: cannot open ${a}: No such file\n` : deps.flavour === 'bash' ? `${name}: ${a}: No such file or directory\n` : `${name}: can't open '${a}': No such file or directory\n`);
          return deps.flavour === 'dash' ? 2 : 127;
        }
        positional = args.slice(i + 1);
        break;
      }
    }
    const interactive = script === undefined && (deps.tty !== null || forceInteractive);
    const shell = new Shell({
      ctx: io.ctx,
      fs: io.fs,
      flavour: deps.flavour,
      programs: deps.programs(),
      // Shells prefix their messages with $0 as invoked: `/bin/sh: 1: foo: not found`.
      name: dollarZero,
      interactive,
      tty: io.tty,
      user: io.user,
      signal: io.signal,
      env: io.env,
      cwd: io.cwd,
      positional,
    });
    const streams = { stdin: io.stdin, stdout: io.stdout, stderr: io.stderr };
    const run = async (src: string, signal?: AbortSignal): Promise<number> => {
      try {
        return await shell.runScript(src, streams, signal);
      } catch (e) {
        if (e instanceof ShellExit) throw e;
        if (e instanceof Interrupted) return 130;
        if (e instanceof ShellSyntaxError) {
          io.stderr.write(shell.syntaxErrorText(e) + '\n');
          return 2;
        }
        if (e instanceof ArithmeticError) {
          io.stderr.write(`${name}: ${deps.flavour === 'dash' ? '1: ' : ''}${e.message}\n`);
          return 2;
        }
        throw e;
      }
    };
    try {
      if (script !== undefined) return await run(script);
      if (!interactive || !deps.tty) {
        // Commands on stdin (kubectl exec -i POD -- sh < script), no prompt.
        let buffered = '';
        for await (const line of readLines(io.stdin, io.signal)) {
          buffered += line + '\n';
          if (incomplete(buffered)) continue;
          await run(buffered);
          buffered = '';
        }
        if (buffered) await run(buffered);
        return shell.lastStatus;
      }
      return await interactiveLoop(shell, deps, io, run);
    } catch (e) {
      if (e instanceof ShellExit) return e.code;
      throw e;
    }
  };
}

function incomplete(src: string): boolean {
  try {
    parseScript(src);
    return false;
  } catch (e) {
    return e instanceof ShellSyntaxError && /end of file unexpected|Unterminated|EOF in/.test(e.message);
  }
}

function prompt(shell: Shell, deps: ShellProgramDeps, hostname: string): string {
  const root = deps.user === 'root';
  // bash shows this for a uid /etc/passwd does not know (images run with `USER 1000`).
  const who = /^\d+$/.test(deps.user) ? 'I have no name!' : deps.user;
  const home = shell.vars.get('HOME') ?? '/root';
  const cwd = home === '/' ? shell.cwd : shell.cwd === home ? '~' : shell.cwd.startsWith(home + '/') ? '~' + shell.cwd.slice(home.length) : shell.cwd;
  switch (deps.flavour) {
    case 'busybox':
      return `${cwd} ${root ? '#' : '$'} `;
    case 'bash':
      return `${who}@${hostname}:${cwd}${root ? '#' : '$'} `;
    default:
      return root ? '# ' : '$ ';
  }
}

async function interactiveLoop(shell: Shell, deps: ShellProgramDeps, io: ProgramIO, run: (src: string, signal?: AbortSignal) => Promise<number>): Promise<number> {
  const tty = deps.tty!;
  const out: OutputStream = io.stdout;
  for (;;) {
    if (io.signal.aborted) return 130;
    out.write(prompt(shell, deps, io.ctx.hostname));
    let src = '';
    for (;;) {
      const line = await tty.readLine();
      if (line === null) {
        // Ctrl-D at the prompt: bash says `exit`, busybox ash and dash just end the line.
        if (src === '') {
          out.write(deps.flavour === 'bash' ? 'exit\n' : '\n');
          return shell.lastStatus;
        }
        break;
      }
      if (line === '\x03') {
        src = '';
        shell.lastStatus = 130;
        break;
      }
      src += line + '\n';
      if (!incomplete(src)) break;
      out.write('> ');
    }
    if (!src.trim()) continue;
    const ac = new AbortController();
    const onOuter = () => ac.abort();
    io.signal.addEventListener('abort', onOuter, { once: true });
    tty.onInterrupt = () => ac.abort();
    try {
      await run(src, ac.signal);
    } finally {
      tty.onInterrupt = null;
      io.signal.removeEventListener('abort', onOuter);
    }
  }
}
