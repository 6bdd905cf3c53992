/**
 * Where the real Istio/Bookinfo reference material lives (manifests, documented outputs): the
 * `shared/` folder beside the repository (as CI lays it out), or PLAYGROUND_REFERENCE_DIR. It is
 * read in place, never copied into the project. Missing material fails loudly.
 */
import path from 'node:path';
import { findReferenceDir, referenceDirCandidates } from './reference-dir.js';

function locate(): string {
  const found = findReferenceDir();
  if (!found) throw new Error(`the Istio reference material is missing: looked in ${referenceDirCandidates().join(', ')} (set PLAYGROUND_REFERENCE_DIR)`);
  return found;
}

/** Absolute path of the reference/istio folder. */
export const REFERENCE_DIR = locate();
export const BOOKINFO_YAML = path.join(REFERENCE_DIR, 'samples', 'bookinfo.yaml');
