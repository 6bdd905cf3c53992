/**
 * Image → behaviour. Each known image family is one file under behaviours/ exporting an
 * ImageBehaviourEntry; behaviours/index.ts lists them in match order.
 */
import { parseImage, type ImageRef } from './image.js';
import type { ContainerBehaviour } from './types.js';
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
  for (const entry of imageBehaviours) {
    if (entry.matches(ref)) return entry.create(ref);
  }
  return defaultBehaviour(ref);
}

/** The entry that handles this image, or null when it falls back to the do-nothing default. */
export function behaviourEntryForImage(image: string): ImageBehaviourEntry | null {
  const ref = parseImage(image);
  return imageBehaviours.find((e) => e.matches(ref)) ?? null;
}
