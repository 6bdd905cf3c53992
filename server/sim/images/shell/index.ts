/**
 * `kubectl exec` inside a simulated container: runs argv as the container runtime would (the
 * binary must exist in the image), with an optional tty, against the container's filesystem
 * and the pod's network.
 */
import type { ContainerBehaviour, ContainerContext, ShellFlavour } from '../types.js';
import { ContainerFs } from './fs.js';
import type { Program, ProgramIO } from './program.js';
import { ProgramExit } from './program.js';
import { programsFor } from './programs.js';
import { shellProgram } from './sh.js';
import { Interrupted } from './interpreter.js';
import { TtyDiscipline, onlcr, type ByteSource } from './tty.js';
import { EMPTY_INPUT, Pipe, type InputStream, type OutputStream } from './streams.js';

/**
 * The exec could not start: the binary is not in the image. kube-apiserver reports this as an
 * InternalError Status on the exec stream's error channel; kubectl prints `error: ` + message
 * and exits 1. `message` is the Status message, ready to send.
 */
export class ExecStartError extends Error {
  constructor(
    message: string,
    /** Status reason and code for the error channel. */
    readonly reason = 'InternalError',
    readonly code = 500,
  ) {
    super(message);
    this.name = 'ExecStartError';
  }
}

export interface RunInContainerOptions {
  argv: string[];
  /** The exec's stdin (kubectl exec -i), or null. */
  stdin: ByteSource | null;
  stdout: OutputStream;
  stderr: OutputStream;
  tty: boolean;
  ctx: ContainerContext;
  /** Aborts when the exec session ends (client gone, container stopped). */
  signal: AbortSignal;
  /** Terminal size changes (channel 4); the simulated programs do not lay out by width. */
  onResize?: (size: { width: number; height: number }) => void;
}

const filesystems = new WeakMap<ContainerContext, ContainerFs>();

/** A container whose context names no behaviour: a plain debian-like image, nothing of its own. */
const PLAIN: ContainerBehaviour = { ports: [] };

/** The container's filesystem: created on first use, kept for the container's life (its ctx). */
export function containerFs(ctx: ContainerContext, behaviour: ContainerBehaviour = ctx.behaviour ?? PLAIN): ContainerFs {
  let fs = filesystems.get(ctx);
  if (!fs) {
    fs = new ContainerFs(ctx, { files: { ...behaviour.files, ...ctx.mounted?.files }, workingDir: behaviour.workingDir, directories: ctx.mounted?.directories });
    filesystems.set(ctx, fs);
  }
  return fs;
}

const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The environment a container process starts with: what the runtime sets, then the pod spec's env. */
export function processEnv(ctx: ContainerContext, behaviour: ContainerBehaviour, tty: boolean): Record<string, string> {
  const user = behaviour.user ?? 'root';
  const env: Record<string, string> = { PATH, HOSTNAME: ctx.hostname, ...(tty ? { TERM: 'xterm' } : {}), ...behaviour.env, ...ctx.env };
  // The runtime sets HOME from /etc/passwd; a bare uid without an entry gets '/'.
  if (!env.HOME) env.HOME = user === 'root' ? '/root' : /^\d+$/.test(user) ? '/' : `/home/${user}`;
  return env;
}

function execId(ctx: ContainerContext): string {
  let id = '';
  for (let i = 0; i < 64; i++) id += Math.floor(ctx.random() * 16).toString(16);
  return id;
}

/** The containerd + runc wording for a missing binary (kubeadm clusters run containerd). */
export function notFoundMessage(ctx: ContainerContext, name: string): string {
  return (
    `Internal error occurred: error executing command in container: failed to exec in container: failed to start exec "${execId(ctx)}": ` +
    `OCI runtime exec failed: exec failed: unable to start container process: exec: "${name}": executable file not found in $PATH: unknown`
  );
}

/** Programs of this container, including its shells. */
export function containerPrograms(behaviour: ContainerBehaviour, tty: TtyDiscipline | null): Map<string, Program> {
  const userland = behaviour.userland ?? 'debian';
  const user = behaviour.user ?? 'root';
  let programs = new Map<string, Program>();
  const get = () => programs;
  const shell = (flavour: ShellFlavour) => shellProgram({ flavour, programs: get, tty, user });
  const shells: Record<string, Program> =
    userland === 'busybox' ? { sh: shell('busybox'), ash: shell('busybox') } : { sh: shell('dash'), dash: shell('dash'), bash: shell('bash') };
  programs = programsFor(userland, behaviour.missingPrograms, shells, behaviour.unsupportedPrograms);
  for (const [name, program] of Object.entries(behaviour.programs ?? {})) programs.set(name, program);
  return programs;
}

/** Runs one exec. Resolves to the exit code; rejects with ExecStartError when argv[0] does not exist. */
export async function runInContainer(opts: RunInContainerOptions): Promise<number> {
  const { ctx, argv } = opts;
  const behaviour = ctx.behaviour ?? PLAIN;
  if (argv.length === 0) throw new ExecStartError('Internal error occurred: error executing command in container: failed to exec in container: no command specified', 'InternalError', 500);
  const stdout = opts.tty ? onlcr(opts.stdout) : opts.stdout;
  const stderr = opts.tty ? onlcr(opts.stderr) : opts.stderr;
  let tty: TtyDiscipline | null = null;
  let stdin: InputStream = EMPTY_INPUT;
  if (opts.stdin && opts.tty) {
    tty = new TtyDiscipline(opts.stdin, opts.stdout);
    stdin = tty.asInput();
  } else if (opts.stdin) {
    const pipe = new Pipe();
    opts.stdin.on('data', (c) => pipe.write(c));
    opts.stdin.on('end', () => pipe.end());
    stdin = pipe;
  }
  const programs = containerPrograms(behaviour, tty);
  const name = argv[0];
  const base = name.split('/').pop()!;
  const dir = name.includes('/') ? name.slice(0, name.lastIndexOf('/')) || '/' : null;
  const program = dir === null || PATH.split(':').includes(dir) ? programs.get(base) : undefined;
  if (!program) throw new ExecStartError(notFoundMessage(ctx, name));

  // A foreground program (not a shell) with a tty: Ctrl-C interrupts it.
  const ac = new AbortController();
  const onOuter = () => ac.abort();
  opts.signal.addEventListener('abort', onOuter, { once: true });
  if (tty && base !== 'sh' && base !== 'bash' && base !== 'ash' && base !== 'dash') tty.onInterrupt = () => ac.abort();
  const fs = containerFs(ctx, behaviour);
  const env = processEnv(ctx, behaviour, opts.tty);
  const io: ProgramIO = {
    argv,
    stdin,
    stdout,
    stderr,
    env,
    cwd: behaviour.workingDir ?? '/',
    fs,
    ctx,
    signal: ac.signal,
    tty: opts.tty,
    user: behaviour.user ?? 'root',
    flavour: (behaviour.userland ?? 'debian') === 'busybox' ? 'busybox' : 'dash',
    exec: async (a, over) => {
      const p = programs.get(a[0]);
      if (!p) {
        (over.stderr ?? stderr).write(`${base}: '${a[0]}': No such file or directory\n`);
        return 127;
      }
      return p({ ...io, argv: a, ...over });
    },
  };
  try {
    return await program(io);
  } catch (e) {
    if (e instanceof ProgramExit) return e.code;
    if (e instanceof Interrupted) return 130;
    // A bug of the simulation must not pass for the program's behaviour: say so, loudly.
    stderr.write(`${base}: internal error of the embedded cluster: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  } finally {
    opts.signal.removeEventListener('abort', onOuter);
  }
}

/**
 * The Status the kubelet sends on the exec error channel (3) when the command ended: Success for
 * 0, else NonZeroExitCode with the code as cause, which makes kubectl print
 * `command terminated with exit code N` and exit N.
 */
export function execExitStatus(argv: string[], code: number): Record<string, unknown> {
  if (code === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${argv.join(' ')}], exit code ${code}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  };
}

/** The Status for an exec that could not start (kubectl prints `error: <message>` and exits 1). */
export function execStartFailureStatus(err: ExecStartError): Record<string, unknown> {
  return { metadata: {}, status: 'Failure', message: err.message, reason: err.reason, code: err.code };
}
