/**
 * Compiled lessons: the lessons folder loaded, validated and rendered into plain data, which is
 * all the long-running server holds. Compiling needs marked, shiki, sanitize-html and the lesson
 * schemas (~13-20 MB of memory that would stay for the server's life), so it happens once, in a
 * child process or from a cache (see server/http/lesson-library.ts); this module stays free of
 * them so that the server can import it.
 *
 * Everything here survives JSON.stringify/JSON.parse unchanged.
 */
import type { CheckSpec } from '../checks/schema.js';
import type { LessonBackend, LessonProblem } from './types.js';

/**
 * Bump when the shape below or the rendered HTML changes in a way the compiler's own code does
 * not show (the cache is also keyed by the compiler's code, see compiler.ts).
 */
export const COMPILED_FORMAT = 3;

export interface CompiledStep {
  id: string;
  title: string;
  /** Relative to the lessons folder, e.g. "welcome/01-the-playground.md". */
  file: string;
  /** The body rendered to sanitized HTML (title excluded). */
  html: string;
  /** Each hint rendered to HTML, in order. */
  hints: string[];
  solution: string[];
  checks: CheckSpec[];
  sticky: boolean;
  alreadyPasses?: string;
  clusterWide?: boolean;
  timeoutSeconds?: number;
  pictures?: ('mesh' | 'split')[];
  /** Ids of the earlier steps whose solutions build the state this step starts from, in order. */
  setup: string[];
}

export interface CompiledTrack {
  id: string;
  title: string;
  summary: string;
  backends: LessonBackend[];
  /** Relative to the lessons folder, e.g. "welcome/track.yaml". */
  file: string;
  steps: CompiledStep[];
  /** Commands that undo what the track created (track.yaml `cleanup`): replays on a real cluster start with them. */
  cleanup: string[];
}

export interface CompiledLessons {
  format: typeof COMPILED_FORMAT;
  /** In the order the track list shows them. */
  tracks: CompiledTrack[];
  /** What the catalog refused, with file and line: logged at start-up and shown by the API. */
  problems: LessonProblem[];
}

/**
 * The value as CompiledLessons when it has that shape (a cache file or a child's output is
 * outside data: a truncated or foreign file must be refused, not served half).
 */
export function asCompiledLessons(value: unknown): CompiledLessons | undefined {
  if (!isRecord(value) || value.format !== COMPILED_FORMAT) return undefined;
  const { tracks, problems } = value;
  if (!Array.isArray(tracks) || !Array.isArray(problems)) return undefined;
  if (!problems.every((p) => isRecord(p) && typeof p.file === 'string' && typeof p.line === 'number' && typeof p.message === 'string')) return undefined;
  if (!tracks.every(isCompiledTrack)) return undefined;
  return value as unknown as CompiledLessons;
}

function isCompiledTrack(track: unknown): boolean {
  return (
    isRecord(track) &&
    typeof track.id === 'string' &&
    typeof track.title === 'string' &&
    typeof track.summary === 'string' &&
    isStringArray(track.backends) &&
    Array.isArray(track.steps) &&
    isStringArray(track.cleanup) &&
    track.steps.every(isCompiledStep)
  );
}

function isCompiledStep(step: unknown): boolean {
  return (
    isRecord(step) &&
    typeof step.id === 'string' &&
    typeof step.title === 'string' &&
    typeof step.html === 'string' &&
    isStringArray(step.hints) &&
    isStringArray(step.solution) &&
    Array.isArray(step.checks) &&
    step.checks.every((check) => isRecord(check) && typeof check.title === 'string') &&
    typeof step.sticky === 'boolean' &&
    isStringArray(step.setup)
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}
