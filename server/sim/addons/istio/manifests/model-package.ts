/**
 * Reading a `@kubernetes-models/*` package's generated schemas: where the package is installed
 * (found from this module upward, as Node resolves it), and the generator's `nullable` markers the
 * projects' own CRDs (Istio's, the Gateway API's) do not have.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function modelsPackageDir(name: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'node_modules', '@kubernetes-models', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`npm package @kubernetes-models/${name} is not installed (run npm install)`);
    dir = parent;
  }
}

export function stripNullable(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(stripNullable);
  if (s === null || typeof s !== 'object') return s;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) if (k !== 'nullable') out[k] = stripNullable(v);
  return out;
}
