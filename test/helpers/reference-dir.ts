/**
 * Where the real Istio/Bookinfo reference material may live: PLAYGROUND_REFERENCE_DIR, the
 * `shared/` folder beside the repository (as CI lays it out), or the development machine's copy.
 */
import fs from 'node:fs';
import path from 'node:path';

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

export function referenceDirCandidates(): string[] {
  return [process.env.PLAYGROUND_REFERENCE_DIR, path.join(repo, '..', 'shared', 'reference', 'istio'), '/work/shared/reference/istio'].filter((c): c is string => !!c);
}

/** The reference/istio folder, or undefined when none of the candidates has it. */
export function findReferenceDir(): string | undefined {
  return referenceDirCandidates().find((c) => fs.existsSync(path.join(c, 'samples', 'bookinfo.yaml')));
}
