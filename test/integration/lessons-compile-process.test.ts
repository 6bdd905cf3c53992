/**
 * The lesson compiler as the built server runs it: a child process (here the entry run from
 * source with tsx) whose JSON becomes the server's lesson library. What learners and authors
 * see must not depend on where the lessons were compiled.
 */
import { spawnSync } from 'node:child_process';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LessonLibrary } from '../../server/http/lesson-library.js';
import { formatProblem, loadCatalog } from '../../server/lessons/catalog.js';
import { childProcessCompiler, inProcessCompiler, type LessonCompiler } from '../../server/lessons/compiler.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const projectRoot = path.join(here, '../..');
const fixtures = path.join(here, '../fixtures/lessons');
const entry = path.join(projectRoot, 'server/lessons/compile-main.ts');

const childCompiler = (): LessonCompiler & { spawns: number } => {
  const inner = childProcessCompiler({ command: process.execPath, args: ['--import', 'tsx', entry], codeDir: path.dirname(entry) });
  const compiler = {
    spawns: 0,
    description: inner.description,
    identity: () => inner.identity(),
    compile: (dir: string) => {
      compiler.spawns++;
      return inner.compile(dir);
    },
  };
  return compiler;
};

/** Everything the API and the check engine can ask a library. */
function everything(library: LessonLibrary) {
  return {
    summaries: library.summaries(),
    problems: library.problems(),
    tracks: library.summaries().map((t) => library.renderedTrack(t.id)),
    checks: library.summaries().flatMap((t) => t.steps.map((s) => library.stepChecks(t.id, s.id))),
  };
}

describe('compiling lessons in a child process', () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'lessons-child-'));
  });
  afterAll(() => rm(work, { recursive: true, force: true }));

  it('yields the same library as compiling in-process, for the real lessons and the fixtures', async () => {
    for (const dir of [path.join(projectRoot, 'lessons'), path.join(fixtures, 'render'), path.join(fixtures, 'good')]) {
      const child = await LessonLibrary.load(dir, 'sim', { compiler: childCompiler() });
      expect(child.loadReport()).toMatchObject({ source: 'compiled', compiler: expect.stringContaining('compile-main.ts') });
      expect(child.loadReport().error).toBeUndefined();
      expect(child.trackCount()).toBeGreaterThan(0);
      const inProcess = await LessonLibrary.load(dir, 'sim', { compiler: inProcessCompiler() });
      expect(everything(child)).toEqual(everything(inProcess));
    }
  }, 60_000);

  it('reports a malformed lesson with its file and line, and still serves the other tracks', async () => {
    const library = await LessonLibrary.load(path.join(fixtures, 'broken'), 'sim', { compiler: childCompiler() });
    const expected = (await loadCatalog(path.join(fixtures, 'broken'))).problems.map(formatProblem);
    expect(library.problems().map(formatProblem)).toEqual(expected);
    expect(expected).toContain('missing-title/a.md:2: title: is required');
    expect(library.summaries().map((t) => t.id)).toEqual(['fine']);
  }, 30_000);

  it('is spawned once: a restart with unchanged lessons reads the cache', async () => {
    const lessonsDir = path.join(work, 'lessons');
    const cacheDir = path.join(work, 'cache');
    await cp(path.join(fixtures, 'good'), lessonsDir, { recursive: true });
    const compiler = childCompiler();
    const first = await LessonLibrary.load(lessonsDir, 'sim', { cacheDir, compiler });
    const second = await LessonLibrary.load(lessonsDir, 'sim', { cacheDir, compiler });
    expect(compiler.spawns).toBe(1);
    expect(second.loadReport().source).toBe('cache');
    expect(everything(second)).toEqual(everything(first));
    expect(await readdir(cacheDir)).toHaveLength(1);
  }, 30_000);

  it('turns a failing child into a clear error and a library with no tracks', async () => {
    const crashing = childProcessCompiler({ command: process.execPath, args: ['-e', 'process.stderr.write("kaboom: out of cheese\\n"); process.exit(3)'], codeDir: here });
    const crashed = await LessonLibrary.load(path.join(fixtures, 'good'), 'sim', { compiler: crashing });
    expect(crashed.trackCount()).toBe(0);
    expect(crashed.loadReport().source).toBe('none');
    expect(crashed.loadReport().error).toMatch(/^the lesson compiler \(.*\) failed \(exit code 3\): kaboom: out of cheese$/);

    const garbage = childProcessCompiler({ command: process.execPath, args: ['-e', 'process.stdout.write("{\\"format\\":1,")'], codeDir: here });
    expect((await LessonLibrary.load(path.join(fixtures, 'good'), 'sim', { compiler: garbage })).loadReport().error).toMatch(/printed output that is not JSON/);

    const hanging = childProcessCompiler({ command: process.execPath, args: ['-e', 'setTimeout(() => {}, 60000)'], codeDir: here, timeoutMs: 300 });
    expect((await LessonLibrary.load(path.join(fixtures, 'good'), 'sim', { compiler: hanging })).loadReport().error).toMatch(/was stopped after 0.3 s without finishing/);

    const missing = childProcessCompiler({ command: path.join(work, 'no-such-node'), args: [], codeDir: here });
    expect((await LessonLibrary.load(path.join(fixtures, 'good'), 'sim', { compiler: missing })).loadReport().error).toMatch(/could not be started: spawn .*ENOENT/);
  }, 30_000);

  it('as a program: exits 1 with a message when it cannot compile, and writes to --out', async () => {
    const run = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', entry, ...args], { cwd: projectRoot, encoding: 'utf8' });
    const unreadable = run(path.join(work, 'nope'));
    expect(unreadable.status).toBe(1);
    expect(unreadable.stdout).toBe('');
    expect(unreadable.stderr).toMatch(/^lesson compiler: cannot read the lessons folder .*nope/);

    const usage = run();
    expect(usage.status).toBe(1);
    expect(usage.stderr).toMatch(/expected one argument, the lessons folder/);

    const out = path.join(work, 'compiled.json');
    const written = run(path.join(fixtures, 'good'), '--out', out);
    expect(written.status).toBe(0);
    expect(written.stdout).toBe('');
    const { readFile } = await import('node:fs/promises');
    expect(JSON.parse(await readFile(out, 'utf8')).tracks.map((t: { id: string }) => t.id)).toEqual(['beta', 'alpha']);
  }, 30_000);
});
