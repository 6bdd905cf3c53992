/**
 * Lessons compiled to plain data and served from it: the library built from compiled lessons
 * serves what the renderer renders, the on-disk cache spares a restart any compiling and follows
 * every lesson edit, and the server's own code does not pull the renderer in.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LessonLibrary } from '../../server/http/lesson-library.js';
import { loadCatalog } from '../../server/lessons/catalog.js';
import { compileLessons } from '../../server/lessons/compile.js';
import { inProcessCompiler, type LessonCompiler } from '../../server/lessons/compiler.js';
import { renderHints, renderStep } from '../../server/lessons/render.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const projectRoot = path.join(here, '../..');
const fixtures = path.join(here, '../fixtures/lessons');

/** The in-process compiler, counting its runs. */
function countingCompiler(identity?: string): LessonCompiler & { runs: number } {
  const inner = inProcessCompiler();
  const compiler = {
    runs: 0,
    description: 'counting',
    identity: () => (identity !== undefined ? Promise.resolve(identity) : inner.identity()),
    compile: (dir: string) => {
      compiler.runs++;
      return inner.compile(dir);
    },
  };
  return compiler;
}

describe('a library built from compiled lessons', () => {
  it('serves the HTML, hints, solution and checks the renderer makes from the catalog', async () => {
    const dir = path.join(fixtures, 'render');
    const { tracks } = await loadCatalog(dir);
    const library = LessonLibrary.fromCompiled(await compileLessons(dir), 'sim');
    const track = tracks[0]!;
    const served = library.renderedTrack(track.id)!;
    expect(served.steps.map((s) => s.id)).toEqual(track.steps.map((s) => s.id));
    for (const [index, step] of track.steps.entries()) {
      expect(served.steps[index]!.html).toBe(await renderStep(track, step));
      expect(served.steps[index]!.hints).toEqual(await renderHints(track, step));
      expect(served.steps[index]!.solution).toEqual(step.solution);
      expect(library.stepChecks(track.id, step.id)).toEqual({ checks: step.checks, sticky: step.sticky });
    }
    // Run buttons and substituted variables come through as rendered.
    expect(served.steps.some((s) => s.html.includes('class="code-run" data-command='))).toBe(true);
    expect(JSON.stringify(served)).not.toMatch(/\{\{\s*[A-Z]/);
  });

  it('survives JSON unchanged (what the child process and the cache hand over)', async () => {
    const compiled = await compileLessons(path.join(fixtures, 'good'));
    expect(JSON.parse(JSON.stringify(compiled))).toEqual(compiled);
    const summaries = LessonLibrary.fromCompiled(JSON.parse(JSON.stringify(compiled)), 'kubeconfig').summaries();
    expect(summaries.map((t) => [t.id, t.supported])).toEqual([
      ['beta', false],
      ['alpha', true],
    ]);
  });

  it('keeps the catalog problems, file and line included', async () => {
    const compiled = await compileLessons(path.join(fixtures, 'broken'));
    expect(compiled.problems).toEqual((await loadCatalog(path.join(fixtures, 'broken'))).problems);
    expect(compiled.problems.length).toBeGreaterThan(5);
    expect(compiled.tracks.map((t) => t.id)).toEqual(['fine']);
  });
});

describe('LessonLibrary.load and its cache', () => {
  let work: string;
  let lessonsDir: string;
  let cacheDir: string;

  beforeEach(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'lessons-compiled-'));
    lessonsDir = path.join(work, 'lessons');
    cacheDir = path.join(work, 'data', 'cache');
    await cp(path.join(fixtures, 'good'), lessonsDir, { recursive: true });
  });
  afterEach(() => rm(work, { recursive: true, force: true }));

  const cacheFiles = async () => (await readdir(cacheDir)).filter((name) => name.endsWith('.json'));

  it('compiles once, then serves the same lessons from the cache without compiling', async () => {
    const compiler = countingCompiler();
    const first = await LessonLibrary.load(lessonsDir, 'sim', { cacheDir, compiler });
    expect(first.loadReport()).toMatchObject({ source: 'compiled', compiler: 'counting', warnings: [] });
    expect(await cacheFiles()).toHaveLength(1);

    const second = await LessonLibrary.load(lessonsDir, 'sim', { cacheDir, compiler });
    expect(compiler.runs).toBe(1);
    expect(second.loadReport()).toMatchObject({ source: 'cache', warnings: [] });
    expect(second.summaries()).toEqual(first.summaries());
    expect(second.renderedTrack('alpha')).toEqual(first.renderedTrack('alpha'));
    expect(second.stepChecks('alpha', 'first')).toEqual(first.stepChecks('alpha', 'first'));
  });

  it('compiles again when a lesson file changes, is added or removed, and keeps one cache file', async () => {
    const compiler = countingCompiler();
    await LessonLibrary.load(lessonsDir, 'sim', { cacheDir, compiler });

    const step = path.join(lessonsDir, 'alpha', '01-first.md');
    await writeFile(step, (await readFile(step, 'utf8')).replace('with {{ REPLICAS }} replicas', 'with {{ REPLICAS }} edited replicas'));
    const edited = await LessonLibrary.load(lessonsDir, 'sim', { cacheDir, compiler });
    expect(compiler.runs).toBe(2);
    expect(edited.renderedTrack('alpha')!.steps[0]!.html).toContain('with 3 edited replicas');

    await writeFile(path.join(lessonsDir, '_assets', 'new-picture.txt'), 'x');
    await LessonLibrary.load(lessonsDir, 'sim', { cacheDir, compiler });
    expect(compiler.runs).toBe(3);
    await rm(path.join(lessonsDir, '_assets', 'new-picture.txt'));
    await LessonLibrary.load(lessonsDir, 'sim', { cacheDir, compiler });
    expect(compiler.runs).toBe(4);
    expect(await cacheFiles()).toHaveLength(1);
  });

  it('compiles again when the compiler changes', async () => {
    await LessonLibrary.load(lessonsDir, 'sim', { cacheDir, compiler: countingCompiler('v1') });
    const other = countingCompiler('v2');
    expect((await LessonLibrary.load(lessonsDir, 'sim', { cacheDir, compiler: other })).loadReport().source).toBe('compiled');
    expect(other.runs).toBe(1);
  });

  it('ignores a corrupt cache file, says so, and rewrites it', async () => {
    const compiler = countingCompiler();
    const good = await LessonLibrary.load(lessonsDir, 'sim', { cacheDir, compiler });
    const [name] = await cacheFiles();
    const file = path.join(cacheDir, name!);
    const text = await readFile(file, 'utf8');

    for (const corrupt of [text.slice(0, text.length / 2), JSON.stringify({ format: 999, tracks: [], problems: [] }), '{"format":1,"tracks":[{"id":1}],"problems":[]}']) {
      await writeFile(file, corrupt);
      const recovered = await LessonLibrary.load(lessonsDir, 'sim', { cacheDir, compiler });
      expect(recovered.loadReport().source).toBe('compiled');
      expect(recovered.loadReport().warnings).toEqual([expect.stringContaining(`ignored the lesson cache ${file} and compiled afresh`)]);
      expect(recovered.renderedTrack('alpha')).toEqual(good.renderedTrack('alpha'));
      expect(await readFile(file, 'utf8')).toBe(text);
    }
    expect((await LessonLibrary.load(lessonsDir, 'sim', { cacheDir, compiler })).loadReport().source).toBe('cache');
  });

  it('still serves lessons when the cache cannot be written, and says why', async () => {
    await writeFile(path.join(work, 'data'), 'a file where the data folder should be');
    const library = await LessonLibrary.load(lessonsDir, 'sim', { cacheDir, compiler: countingCompiler() });
    expect(library.trackCount()).toBe(2);
    expect(library.loadReport().warnings).toEqual([expect.stringMatching(/^could not write the lesson cache .*the next start compiles again/)]);
  });

  it('serves no tracks, with the reason, when the compiler fails; nothing is cached', async () => {
    const failing: LessonCompiler = { description: 'broken', identity: async () => 'x', compile: () => Promise.reject(new Error('the lesson compiler (broken) failed (exit code 1): boom')) };
    const library = await LessonLibrary.load(lessonsDir, 'sim', { cacheDir, compiler: failing });
    expect(library.trackCount()).toBe(0);
    expect(library.summaries()).toEqual([]);
    expect(library.renderedTrack('alpha')).toBeUndefined();
    expect(library.loadReport()).toMatchObject({ source: 'none', compiler: 'broken', error: expect.stringContaining('boom') });
    await expect(readdir(cacheDir)).rejects.toThrow(/ENOENT/);
  });

  it('refuses a missing lessons folder with the error the server has always stopped with', async () => {
    await expect(LessonLibrary.load(path.join(work, 'nope'), 'sim', { cacheDir, compiler: countingCompiler() })).rejects.toThrow(
      /cannot read the lessons folder .*nope/,
    );
    await expect(LessonLibrary.load(path.join(work, 'nope'), 'sim', { compiler: countingCompiler() })).rejects.toThrow(/cannot read the lessons folder/);
  });
});

describe('what the server process loads for lessons', () => {
  const RENDERER = /node_modules\/(?:shiki|@shikijs|marked|sanitize-html|htmlparser2|postcss)\/|server\/lessons\/(?:render|highlight|sanitize|schema|catalog|compile)\.ts$/;

  it('bundled as the build bundles it, loads no renderer at start-up: marked, shiki, sanitize-html and the lesson schemas are only in the compiler', async () => {
    const outdir = path.join(os.tmpdir(), `lessons-bundle-${process.pid}`);
    const result = await build({
      entryPoints: [path.join(projectRoot, 'server/main.ts'), path.join(projectRoot, 'server/lessons/compile-main.ts')],
      outdir,
      outbase: path.join(projectRoot, 'server'),
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      external: ['node-pty', 'better-sqlite3', 'spdy-transport'],
      metafile: true,
      write: false,
      logLevel: 'silent',
    });
    const outputs = result.metafile.outputs;
    /** An output and everything it imports statically: what node evaluates when it starts. */
    const loadedAtStart = (entry: string): Set<string> => {
      const seen = new Set<string>();
      const visit = (file: string) => {
        if (seen.has(file)) return;
        seen.add(file);
        for (const imported of outputs[file]?.imports ?? []) if (imported.kind === 'import-statement' && !imported.external) visit(imported.path);
      };
      visit(entry);
      return seen;
    };
    const inputsOf = (files: Set<string>) => [...files].flatMap((file) => Object.keys(outputs[file]?.inputs ?? {}));
    const entryOutput = (name: string) => Object.keys(outputs).find((file) => outputs[file]!.entryPoint?.endsWith(name))!;

    const server = inputsOf(loadedAtStart(entryOutput('server/main.ts')));
    expect(server).toContain('server/http/lesson-library.ts');
    expect(server.filter((input) => RENDERER.test(input))).toEqual([]);
    // The compiler, on the other hand, has all of them: the check above could fail.
    const compiler = inputsOf(loadedAtStart(entryOutput('server/lessons/compile-main.ts')));
    expect(compiler.filter((input) => RENDERER.test(input)).length).toBeGreaterThan(10);
  }, 60_000);

  it('imports no renderer module when the lesson library is imported (as run from source)', () => {
    // A resolve hook after tsx's records every module that gets resolved.
    const hook = `data:text/javascript,${encodeURIComponent(`
      import { appendFileSync } from 'node:fs';
      export async function resolve(specifier, context, next) {
        const result = await next(specifier, context);
        appendFileSync(process.env.LOADED_LOG, result.url + '\\n');
        return result;
      }`)}`;
    const log = path.join(os.tmpdir(), `lessons-loaded-${process.pid}.log`);
    const script = `
      import { register } from 'node:module';
      register(${JSON.stringify(hook)});
      await import(${JSON.stringify(path.join(projectRoot, 'server/http/lesson-library.ts'))});`;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: projectRoot,
      encoding: 'utf8',
      env: { ...process.env, LOADED_LOG: log },
    });
    expect(run.stderr).toBe('');
    const loaded = readFileSync(log, 'utf8').split('\n').filter(Boolean);
    rmSync(log);
    expect(loaded).toContainEqual(expect.stringContaining('server/lessons/compiled-cache.ts'));
    expect(loaded.filter((url) => RENDERER.test(url) || /\/node_modules\/(?:shiki|marked|sanitize-html)\//.test(url))).toEqual([]);
  });
});
