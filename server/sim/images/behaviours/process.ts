/** A container's main process run through the in-container shell, its output going to the log. */
import type { ContainerBehaviour, ContainerContext } from '../types.js';
import type { OutputStream } from '../shell/streams.js';

/** Thrown when the main process cannot start: the kubelet reports a StartError (exit code 128). */
export class ContainerStartError extends Error {
  readonly exitCode = 128;
  constructor(message: string) {
    super(message);
    this.name = 'ContainerStartError';
  }
}

/** A stream that turns written text into log lines. */
export function logLines(ctx: ContainerContext): OutputStream & { flush(): void } {
  let pending = '';
  return {
    write(chunk) {
      pending += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        ctx.log(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
      }
    },
    flush() {
      if (pending) ctx.log(pending);
      pending = '';
    },
  };
}

/**
 * Runs argv as PID 1: `command` + `args` from the pod spec, or the image's default. A missing
 * binary fails the way runc fails container creation.
 */
export async function runMainProcess(ctx: ContainerContext, argv: string[], signal: AbortSignal): Promise<number> {
  const { runInContainer, ExecStartError } = await import('../shell/index.js');
  const out = logLines(ctx);
  try {
    return await runInContainer({ argv, stdin: null, stdout: out, stderr: out, tty: false, ctx, signal });
  } catch (e) {
    if (e instanceof ExecStartError) {
      throw new ContainerStartError(
        `failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "${argv[0]}": executable file not found in $PATH: unknown`,
      );
    }
    throw e;
  } finally {
    out.flush();
  }
}

/** The argv a container runs: spec command (else image entrypoint) followed by spec args (else image cmd). */
export function containerArgv(ctx: ContainerContext, image: { entrypoint?: string[]; cmd?: string[] }): string[] {
  const entry = ctx.command ?? image.entrypoint ?? [];
  const args = ctx.args ?? (ctx.command ? [] : (image.cmd ?? []));
  return [...entry, ...args];
}

/** A behaviour that serves nothing and whose process is `argv` (idle images, unknown images with a command). */
export function processBehaviour(base: Partial<ContainerBehaviour>, image: { entrypoint?: string[]; cmd?: string[] }): ContainerBehaviour {
  return {
    ports: [],
    ...base,
    run: async (ctx, signal) => {
      const argv = containerArgv(ctx, image);
      if (argv.length === 0) {
        // No command at all: an image that just runs (the default behaviour's contract).
        await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
        return 0;
      }
      return runMainProcess(ctx, argv, signal);
    },
  };
}
