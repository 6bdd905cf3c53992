/**
 * What the catalog hands to the rest of the server. Every `file` is relative to the lessons
 * folder with forward slashes (e.g. "welcome/03-kubectl-version.md"), in problems and in
 * steps alike, so messages read the same on every machine; `Track.dir` is the one absolute path.
 *
 * Variables are already substituted in every string here (markdown, titles, hints, solution,
 * checks), so consumers never see `{{NAME}}` placeholders.
 */
import type { CheckDeclaration, LessonBackend } from './schema.js';

export type { CheckDeclaration, LessonBackend } from './schema.js';

export interface LessonProblem {
  /** Relative to the lessons folder, forward slashes. */
  file: string;
  /** 1-based line of the offending text. */
  line: number;
  message: string;
}

/** A fenced code block of a step body, as found by the catalog. */
export interface CodeBlock {
  /** First word of the info string, lower-case; '' when none. */
  lang: string;
  runnable: boolean;
  /** The block's text without the fences, variables substituted. */
  code: string;
  /** 1-based line of the opening fence in the step file. */
  line: number;
}

export interface Step {
  id: string;
  title: string;
  /** Relative to the lessons folder, e.g. "welcome/01-the-playground.md". */
  file: string;
  /** The markdown body after the front-matter. */
  markdown: string;
  /** 1-based line of the step file where `markdown` starts. */
  bodyLine: number;
  hints: string[];
  /** Commands typed into a shell to solve the step; an entry may span several lines. */
  solution: string[];
  checks: CheckDeclaration[];
  /** Whether the step stays done once its checks passed. */
  sticky: boolean;
  /** Why the step's checks may already pass before its solution (lesson validation). */
  alreadyPasses?: string;
  /** The step changes the whole cluster: done by the instructor when learners share one. */
  clusterWide?: boolean;
  /** 1-based line where each entry of `checks` starts, for messages about a check. */
  checkLines: number[];
  codeBlocks: CodeBlock[];
  timeoutSeconds?: number;
  /** Live pictures shown beside the step (front-matter `picture`). */
  pictures?: ('mesh' | 'split')[];
  /** Ids of the earlier steps whose solutions build this step's starting state, in order (front-matter `setup`, resolved). */
  setup: string[];
  /** Whether `setup` was declared (otherwise it is every earlier step). */
  setupDeclared: boolean;
}

export interface Track {
  id: string;
  title: string;
  summary: string;
  order?: number;
  backends: LessonBackend[];
  /** Effective values (track.yaml, overridden by loadCatalog's options). */
  variables: Record<string, string>;
  /** Absolute path of the track folder. */
  dir: string;
  /** Relative to the lessons folder, e.g. "welcome/track.yaml". */
  file: string;
  steps: Step[];
  cleanup: string[];
}

export interface Catalog {
  tracks: Track[];
  problems: LessonProblem[];
}
