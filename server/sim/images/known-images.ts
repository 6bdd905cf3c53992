/**
 * The images the embedded cluster knows: each family is one file under behaviours/ exporting an
 * ImageBehaviourEntry, listed in behaviours/index.ts in match order; any other image gets the
 * default behaviour (it runs, serving nothing).
 */
import type { ContainerBehaviour, ImageBehaviourEntry } from './types.js';
import { builtinImageBehaviours } from './behaviours/index.js';
import { defaultBehaviour } from './behaviours/default.js';
import { ImageBehaviours, type BuiltinImages } from './image-table.js';

export const BUILTIN_IMAGES: BuiltinImages = { entries: builtinImageBehaviours, fallback: defaultBehaviour };

/** The built-in images only (no add-on's): what tests and tools outside a cluster use. */
const builtinOnly = new ImageBehaviours(BUILTIN_IMAGES);

export function behaviourForImage(image: string): ContainerBehaviour {
  return builtinOnly.forImage(image);
}

export function behaviourEntryForImage(image: string): ImageBehaviourEntry | null {
  return builtinOnly.entryFor(image);
}
