/**
 * The lesson catalog as the HTTP API and the check engine see it: compiled lessons (plain data,
 * HTML already rendered), obtained once at start-up from the cache or from a compiler. Nothing
 * here imports the renderer, so the server never holds marked, shiki or sanitize-html.
 */
import path from 'node:path';
import type { BackendName } from '../cluster/backend.js';
import type { StepChecks } from '../checks/engine.js';
import { COMPILED_FORMAT, type CompiledLessons, type CompiledTrack } from '../lessons/compiled.js';
import { cacheFile, lessonsCacheKey, readCachedLessons, writeCachedLessons } from '../lessons/compiled-cache.js';
import { defaultLessonCompiler, type LessonCompiler } from '../lessons/compiler.js';
import type { LessonProblem } from '../lessons/types.js';

export interface TrackSummary {
  id: string;
  title: string;
  summary: string;
  backends: string[];
  supported: boolean;
  steps: { id: string; title: string }[];
}

export interface RenderedTrack {
  id: string;
  title: string;
  summary: string;
  steps: { id: string; title: string; html: string; hints: string[]; solution: string[]; checks: { title: string }[]; pictures?: ('mesh' | 'split')[]; clusterWide?: boolean; setup: string[] }[];
}

export interface LessonLoadOptions {
  /** Where compiled lessons are kept between starts; without it every start compiles. */
  cacheDir?: string;
  /** Defaults to a child process when running built, in-process from source. */
  compiler?: LessonCompiler;
}

/** How the lessons were obtained, for the start-up log. */
export interface LessonLoadReport {
  source: 'cache' | 'compiled' | 'none';
  /** The compiler's description when source is "compiled" or "none". */
  compiler?: string;
  ms: number;
  /** Why no lessons are served (source "none"): the compiler failed. */
  error?: string;
  /** Cache trouble that did not stop anything (an unreadable cache file, a read-only data dir). */
  warnings: string[];
}

export class LessonLibrary {
  private constructor(
    private readonly compiled: CompiledLessons,
    private readonly backend: BackendName,
    private readonly report: LessonLoadReport,
  ) {}

  /**
   * Throws only when the lessons folder itself cannot be read (as loading always has: the server
   * refuses to start). A compiler that fails gives a library with no tracks and the reason in
   * loadReport().error, so the server still starts.
   */
  static async load(dir: string, backend: BackendName, options: LessonLoadOptions = {}): Promise<LessonLibrary> {
    const started = performance.now();
    const compiler = options.compiler ?? defaultLessonCompiler();
    const warnings: string[] = [];
    const done = (compiled: CompiledLessons, source: LessonLoadReport['source'], error?: string) =>
      new LessonLibrary(compiled, backend, {
        source,
        ...(source !== 'cache' ? { compiler: compiler.description } : {}),
        ms: Math.round(performance.now() - started),
        ...(error !== undefined ? { error } : {}),
        warnings,
      });

    // Without an identity the compiler's output cannot be told from an older compiler's: no cache.
    const identity = options.cacheDir
      ? await compiler.identity().catch((error: Error) => void warnings.push(`lesson cache not used: ${error.message}`))
      : undefined;
    // Hashing the lessons folder also refuses an unreadable one, with the catalog's message.
    const key = await lessonsCacheKey(dir, identity ?? '');
    const file = options.cacheDir && identity ? cacheFile(options.cacheDir, key) : undefined;
    if (file) {
      const cached = await readCachedLessons(file);
      if ('lessons' in cached) return done(cached.lessons, 'cache');
      if ('unusable' in cached) warnings.push(`ignored the lesson cache ${file} and compiled afresh: ${cached.unusable}`);
    }

    let compiled: CompiledLessons;
    try {
      compiled = await compiler.compile(path.resolve(dir));
    } catch (error) {
      return done({ format: COMPILED_FORMAT, tracks: [], problems: [] }, 'none', (error as Error).message);
    }
    if (file) {
      await writeCachedLessons(file, compiled).catch((error: Error) =>
        warnings.push(`could not write the lesson cache ${file} (the next start compiles again): ${error.message}`),
      );
    }
    return done(compiled, 'compiled');
  }

  static fromCompiled(compiled: CompiledLessons, backend: BackendName): LessonLibrary {
    return new LessonLibrary(compiled, backend, { source: 'compiled', ms: 0, warnings: [] });
  }

  loadReport(): LessonLoadReport {
    return this.report;
  }

  problems(): LessonProblem[] {
    return this.compiled.problems;
  }

  trackCount(): number {
    return this.compiled.tracks.length;
  }

  summaries(): TrackSummary[] {
    return this.compiled.tracks.map((t) => ({
      id: t.id,
      title: t.title,
      summary: t.summary,
      backends: [...t.backends],
      supported: (t.backends as string[]).includes(this.backend),
      steps: t.steps.map((s) => ({ id: s.id, title: s.title })),
    }));
  }

  stepChecks(trackId: string, stepId: string): StepChecks | undefined {
    const step = this.track(trackId)?.steps.find((s) => s.id === stepId);
    return step ? { checks: step.checks, sticky: step.sticky } : undefined;
  }

  hasTrack(trackId: string): boolean {
    return this.track(trackId) !== undefined;
  }

  hasStep(trackId: string, stepId: string): boolean {
    return this.track(trackId)?.steps.some((s) => s.id === stepId) ?? false;
  }

  renderedTrack(trackId: string): RenderedTrack | undefined {
    const track = this.track(trackId);
    if (!track) return undefined;
    return {
      id: track.id,
      title: track.title,
      summary: track.summary,
      steps: track.steps.map((s) => ({
        id: s.id,
        title: s.title,
        html: s.html,
        hints: s.hints,
        solution: s.solution,
        checks: s.checks.map((c) => ({ title: c.title })),
        ...(s.pictures ? { pictures: s.pictures } : {}),
        ...(s.clusterWide ? { clusterWide: true } : {}),
        setup: s.setup,
      })),
    };
  }

  /** The compiled track (solutions, setups, cleanup) for step resets. */
  compiledTrack(trackId: string): CompiledTrack | undefined {
    return this.track(trackId);
  }

  private track(trackId: string): CompiledTrack | undefined {
    return this.compiled.tracks.find((t) => t.id === trackId);
  }
}
