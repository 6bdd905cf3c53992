import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { formatProblem, loadCatalog } from '../../server/lessons/catalog.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** A track "t" with steps a, b, c, d; `extra` is front-matter added to the step of that id. */
async function track(extra: Partial<Record<'a' | 'b' | 'c' | 'd', string>>): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'pg-setup-'));
  dirs.push(root);
  await mkdir(path.join(root, 't'));
  await writeFile(path.join(root, 't', 'track.yaml'), 'id: t\ntitle: T\nsummary: S\nbackends: [sim]\nsteps: [a.md, b.md, c.md, d.md]\n');
  for (const id of ['a', 'b', 'c', 'd'] as const) {
    await writeFile(path.join(root, 't', `${id}.md`), `---\nid: ${id}\ntitle: Step ${id}\nsolution:\n  - echo ${id}\n${extra[id] ?? ''}---\n\nBody.\n`);
  }
  return root;
}

describe('step setup', () => {
  it('defaults to every earlier step, in track order', async () => {
    const { tracks, problems } = await loadCatalog(await track({}));
    expect(problems).toEqual([]);
    expect(tracks[0]!.steps.map((s) => [s.id, s.setup])).toEqual([
      ['a', []],
      ['b', ['a']],
      ['c', ['a', 'b']],
      ['d', ['a', 'b', 'c']],
    ]);
  });

  it('takes a declared list of earlier steps as written, and [] for a fresh start', async () => {
    const { tracks, problems } = await loadCatalog(await track({ c: 'setup: []\n', d: 'setup: [b, a]\n' }));
    expect(problems).toEqual([]);
    const steps = tracks[0]!.steps;
    expect(steps[2]!.setup).toEqual([]);
    expect(steps[2]!.setupDeclared).toBe(true);
    expect(steps[3]!.setup).toEqual(['b', 'a']);
  });

  it('refuses later steps, the step itself, unknown ids and repeats, at the line of the entry', async () => {
    const root = await track({ b: 'setup:\n  - c\n', c: 'setup: [c]\n', d: 'setup: [a, nope]\n' });
    const { problems } = await loadCatalog(root);
    const text = problems.map(formatProblem);
    expect(text).toContain('t/b.md:7: setup[0]: "c" is a later step; setup lists earlier steps only');
    expect(text).toContain('t/c.md:6: setup[0]: "c" is this step; setup lists earlier steps only');
    expect(text).toContain('t/d.md:6: setup[1]: no step "nope" in this track (earlier steps: a, b, c)');

    const repeated = await loadCatalog(await track({ c: 'setup: [a, a]\n' }));
    expect(repeated.problems.map(formatProblem).join('\n')).toMatch(/t\/c\.md:6: .*setup.*lists a step twice/);
    const wrongType = await loadCatalog(await track({ c: 'setup: a\n' }));
    expect(wrongType.problems.map(formatProblem).join('\n')).toMatch(/t\/c\.md:6: .*setup.*must be a list of earlier step ids/);
  });
});
