/**
 * Where the real Istio/Bookinfo reference material lives (manifests, documented outputs): the
 * `shared/` folder beside the repository (as CI lays it out), or PLAYGROUND_REFERENCE_DIR. It is
 * read in place, never copied into the project. Missing material fails loudly.
 */
import fs from 'node:fs';
import path from 'node:path';

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

function locate(): string {
  const candidates = [
    process.env.PLAYGROUND_REFERENCE_DIR,
    path.join(repo, '..', 'shared', 'reference', 'istio'),
    '/work/shared/reference/istio',
  ].filter((c): c is string => !!c);
  const found = candidates.find((c) => fs.existsSync(path.join(c, 'samples', 'bookinfo.yaml')));
  if (!found) throw new Error(`the Istio reference material is missing: looked in ${candidates.join(', ')} (set PLAYGROUND_REFERENCE_DIR)`);
  return found;
}

/** Absolute path of the reference/istio folder. */
export const REFERENCE_DIR = locate();
export const BOOKINFO_YAML = path.join(REFERENCE_DIR, 'samples', 'bookinfo.yaml');
