/**
 * Image → behaviour. Each known image family is one file under behaviours/ exporting an
 * ImageBehaviourEntry; behaviours/index.ts lists them in match order. Each cluster has its own
 * table (add-ons register their images there, matched before the built-in ones).
 */
import { parseImage } from './image.js';
import type { ContainerBehaviour, ImageBehaviourEntry } from './types.js';
import { respond } from './http.js';
import { builtinImageBehaviours } from './behaviours/index.js';
import { defaultBehaviour } from './behaviours/default.js';

export type { ImageBehaviourEntry } from './types.js';

export class ImageBehaviours {
  private added: ImageBehaviourEntry[] = [];

  /** Adds an image family, matched before those registered earlier and the built-in ones. */
  register(entry: ImageBehaviourEntry): () => void {
    if (this.added.some((e) => e.name === entry.name)) throw new Error(`image behaviour ${entry.name} already registered`);
    this.added = [entry, ...this.added];
    return () => {
      this.added = this.added.filter((e) => e !== entry);
    };
  }

  /** The entry that handles this image, or null when it falls back to the do-nothing default. */
  entryFor(image: string): ImageBehaviourEntry | null {
    const ref = parseImage(image);
    return this.added.find((e) => e.matches(ref)) ?? builtinImageBehaviours.find((e) => e.matches(ref)) ?? null;
  }

  /** What a container of this image does. Unknown images run and do nothing. */
  forImage(image: string): ContainerBehaviour {
    const ref = parseImage(image);
    const entry = this.entryFor(image);
    return guarded(entry ? entry.create(ref) : defaultBehaviour(ref));
  }
}

/** The built-in images only (no add-on's): what tests and tools outside a cluster use. */
const builtinOnly = new ImageBehaviours();

export function behaviourForImage(image: string): ContainerBehaviour {
  return builtinOnly.forImage(image);
}

export function behaviourEntryForImage(image: string): ImageBehaviourEntry | null {
  return builtinOnly.entryFor(image);
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
