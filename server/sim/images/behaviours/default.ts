/**
 * Any image without a behaviour of its own: it runs (and serves nothing). When the pod spec
 * gives a command, that command runs through the simulated userland, so `sleep 3600` or a
 * `sh -c` loop behave as they would.
 */
import type { ImageRef } from '../image.js';
import type { ContainerBehaviour } from '../types.js';
import { processBehaviour } from './process.js';

export function defaultBehaviour(_image: ImageRef): ContainerBehaviour {
  const b = processBehaviour({ readyAfterMs: 0 }, {});
  const run = b.run!;
  return {
    ...b,
    run: async (ctx, signal) => {
      if (!ctx.command && !ctx.args) {
        await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
        return 0;
      }
      return run(ctx, signal);
    },
  };
}
