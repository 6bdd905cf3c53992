/**
 * Image → behaviour. Each known image family is one file under behaviours/ exporting an
 * ImageBehaviourEntry; behaviours/index.ts lists them in match order.
 */
import { parseImage, type ImageRef } from './image.js';
import type { ContainerBehaviour } from './types.js';
import { respond } from './http.js';
import { imageBehaviours } from './behaviours/index.js';
import { defaultBehaviour } from './behaviours/default.js';

export interface ImageBehaviourEntry {
  /** For error messages and listings, e.g. 'bookinfo-productpage'. */
  name: string;
  matches(image: ImageRef): boolean;
  create(image: ImageRef): ContainerBehaviour;
}

/** What a container of this image does. Unknown images run and do nothing. */
export function behaviourForImage(image: string): ContainerBehaviour {
  const ref = parseImage(image);
  const entry = imageBehaviours.find((e) => e.matches(ref));
  return guarded(entry ? entry.create(ref) : defaultBehaviour(ref));
}

/**
 * A request that trips a behaviour bug gets a 500, as a real server's uncaught exception does,
 * and a log line naming it; it never takes the cluster down.
 */
function guarded(b: ContainerBehaviour): ContainerBehaviour {
  const serve = b.serve;
  if (!serve) return b;
  return {
    ...b,
    serve: async (req, ctx, conn) => {
      try {
        return await serve(req, ctx, conn);
      } catch (e) {
        ctx.log(`internal error of the simulated workload while serving ${req.method} ${req.path}: ${e instanceof Error ? e.message : String(e)}`);
        return respond(ctx, 500, 'Internal Server Error', { 'content-type': 'text/plain' });
      }
    },
  };
}

/** The entry that handles this image, or null when it falls back to the do-nothing default. */
export function behaviourEntryForImage(image: string): ImageBehaviourEntry | null {
  const ref = parseImage(image);
  return imageBehaviours.find((e) => e.matches(ref)) ?? null;
}
