/**
 * Image → behaviour, per cluster: add-ons' images (matched first, latest registration first),
 * then the built-in ones (known-images.ts, given once the cluster runs containers), then a
 * default for any other image. Kept free of the behaviours themselves, so an API-only cluster
 * never loads them.
 */
import { parseImage, type ImageRef } from './image.js';
import { NetworkError, type ContainerBehaviour, type ImageBehaviourEntry } from './types.js';
import { respond } from './http.js';
import { registryPull, type PullFailure } from './registry.js';

export interface BuiltinImages {
  entries: readonly ImageBehaviourEntry[];
  /** What any other image does. */
  fallback(image: ImageRef): ContainerBehaviour;
}

export class ImageBehaviours {
  private added: ImageBehaviourEntry[] = [];

  constructor(private builtins?: BuiltinImages) {}

  useBuiltins(builtins: BuiltinImages): void {
    this.builtins = builtins;
  }

  /** Adds an image family, matched before those registered earlier and the built-in ones. */
  register(entry: ImageBehaviourEntry): () => void {
    if (this.added.some((e) => e.name === entry.name)) throw new Error(`image behaviour ${entry.name} already registered`);
    this.added = [entry, ...this.added];
    return () => {
      this.added = this.added.filter((e) => e !== entry);
    };
  }

  /** The entry that handles this image, or null when it falls back to the default. */
  entryFor(image: string): ImageBehaviourEntry | null {
    const ref = parseImage(image);
    return this.added.find((e) => e.matches(ref)) ?? this.builtins?.entries.find((e) => e.matches(ref)) ?? null;
  }

  /**
   * Whether pulling this image succeeds: an add-on's images come with it (its entry matching is
   * enough); any other image must be in a registry's catalogue (registry.ts).
   */
  pull(image: string): PullFailure | undefined {
    const ref = parseImage(image);
    if (this.added.some((e) => e.matches(ref))) return undefined;
    return registryPull(image);
  }

  /** What a container of this image does. */
  forImage(image: string): ContainerBehaviour {
    const ref = parseImage(image);
    const entry = this.entryFor(image);
    if (!entry && !this.builtins) throw new Error(`no behaviour for image ${image}: this cluster runs no containers (start it with workloads)`);
    return guarded(entry ? entry.create(ref) : this.builtins!.fallback(ref));
  }
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
        // A refused or reset connection is the behaviour's answer (Envoy's loopback-only admin), not a bug.
        if (e instanceof NetworkError) throw e;
        ctx.log(`internal error of the simulated workload while serving ${req.method} ${req.path}: ${e instanceof Error ? e.message : String(e)}`);
        return respond(ctx, 500, 'Internal Server Error', { 'content-type': 'text/plain' });
      }
    },
  };
}
