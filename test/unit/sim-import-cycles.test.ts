/**
 * server/sim has no import cycles, type-only imports included: layers only point down, so a
 * reader can follow any module's imports to the bottom without coming back. A regex over the
 * import/export statements is enough here: the sources are ours and use one style.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../server/sim');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return sources(p);
    return /\.ts$/.test(f) && !f.endsWith('.d.ts') ? [p] : [];
  });
}

/** Relative specifiers of static imports, `export … from`, and dynamic import() calls. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  const re = /(?:^|\n)\s*(?:import|export)\s[^;'"]*?from\s*['"](\.[^'"]+)['"]|(?:^|\n)\s*import\s*['"](\.[^'"]+)['"]|\bimport\(\s*['"](\.[^'"]+)['"]\s*\)/g;
  for (const m of text.matchAll(re)) out.push((m[1] ?? m[2] ?? m[3])!);
  return out;
}

function resolveSpecifier(from: string, spec: string): string | undefined {
  const base = resolve(dirname(from), spec).replace(/\.js$/, '');
  for (const cand of [`${base}.ts`, join(base, 'index.ts')]) {
    try {
      if (statSync(cand).isFile()) return cand;
    } catch {
      /* not this one */
    }
  }
  return undefined;
}

export function importGraph(root: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const f of sources(root)) {
    const deps = importsOf(f)
      .map((s) => resolveSpecifier(f, s))
      .filter((d): d is string => !!d && d.startsWith(root));
    graph.set(f, [...new Set(deps)]);
  }
  return graph;
}

/** Every elementary cycle found by a DFS (one representative per back edge). */
export function findCycles(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string) => {
    state.set(n, 'open');
    stack.push(n);
    for (const d of graph.get(n) ?? []) {
      if (state.get(d) === 'open') cycles.push([...stack.slice(stack.indexOf(d)), d]);
      else if (!state.has(d)) visit(d);
    }
    stack.pop();
    state.set(n, 'done');
  };
  for (const n of [...graph.keys()].sort()) if (!state.has(n)) visit(n);
  return cycles;
}

describe('server/sim import graph', () => {
  it('finds a cycle when there is one (the walker itself works)', () => {
    const g = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['a']],
    ]);
    expect(findCycles(g)).toEqual([['a', 'b', 'c', 'a']]);
  });

  it('reads the real imports (type-only and dynamic ones included)', () => {
    const g = importGraph(ROOT);
    const cluster = g.get(join(ROOT, 'cluster.ts')) ?? [];
    expect(cluster.map((f) => relative(ROOT, f))).toContain('storage/store.ts');
    expect(g.size).toBeGreaterThan(100);
  });

  it('nothing but the entry point imports the composition root: controllers and add-ons get the ClusterApi', () => {
    const importers = [...importGraph(ROOT)].filter(([, deps]) => deps.includes(join(ROOT, 'cluster.ts'))).map(([f]) => relative(ROOT, f));
    expect(importers).toEqual(['main.ts']);
  });

  it('has no import cycles, type-only ones included', () => {
    const cycles = findCycles(importGraph(ROOT)).map((c) => c.map((f) => relative(ROOT, f)).join(' → '));
    expect(cycles).toEqual([]);
  });
});
