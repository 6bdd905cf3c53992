/**
 * Loads and lints the lessons folder. A track with any problem (in track.yaml or in one of
 * its steps) is refused as a whole, since a track with a step missing would mislead learners;
 * every problem found is reported with file and line, and the other tracks still load.
 *
 * Layout: <lessons>/<track folder>/track.yaml plus one markdown file per step. Folders whose
 * names start with "_" or "." are ignored (shared assets, drafts); README.md files are not steps.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { z } from 'zod';
import { parseFenceInfo, scanFences } from './codeblocks.js';
import { stepFrontMatterSchema, trackSchema, type StepFrontMatter, type TrackDeclaration } from './schema.js';
import { describeCheckError, parseCheck, type CheckSpec } from '../checks/schema.js';
import { lineOfPath, normaliseSource, parseYaml, splitFrontMatter, stringScalars, type ParsedYaml } from './source.js';
import type { Catalog, CodeBlock, LessonProblem, Step, Track } from './types.js';
import { findVariableReferences, substituteDeep, substituteVariables } from './variables.js';

export type { Catalog, CheckDeclaration, CodeBlock, LessonBackend, LessonProblem, Step, Track } from './types.js';

export interface LoadCatalogOptions {
  /**
   * Values that replace a track's own (e.g. ISTIO_VERSION set by an instructor). They only
   * apply to variables a track declares, so a lesson's validity never depends on server config.
   */
  variables?: Readonly<Record<string, string>>;
}

/** "welcome/03-kubectl-version.md:7: title: is required" */
export function formatProblem(problem: LessonProblem): string {
  return `${problem.file}:${problem.line}: ${problem.message}`;
}

/**
 * Throws only when `dir` itself cannot be read (a configuration error); everything wrong
 * inside it is returned as problems.
 */
export async function loadCatalog(dir: string, options: LoadCatalogOptions = {}): Promise<Catalog> {
  const root = path.resolve(dir);
  let entries;
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch (error) {
    throw new Error(`cannot read the lessons folder ${root}: ${(error as Error).message}`);
  }
  const folders = entries
    .filter((entry) => entry.isDirectory() && !/^[._]/.test(entry.name) && entry.name !== 'node_modules')
    .map((entry) => entry.name)
    .sort();

  const results = await Promise.all(folders.map((folder) => loadTrack(root, folder, options)));
  const problems: LessonProblem[] = [];
  const tracks: Track[] = [];
  const trackIdLines = new Map<string, string>();
  for (const result of results) {
    problems.push(...result.problems);
    const track = result.track;
    if (!track) continue;
    const first = trackIdLines.get(track.id);
    if (first !== undefined) {
      problems.push({ file: track.file, line: result.idLine, message: `duplicate track id "${track.id}" (already used by ${first})` });
      continue;
    }
    trackIdLines.set(track.id, `${track.file}:${result.idLine}`);
    tracks.push(track);
  }
  tracks.sort((a, b) => (a.order ?? Infinity) - (b.order ?? Infinity) || a.id.localeCompare(b.id));
  return { tracks, problems };
}

interface TrackResult {
  track?: Track;
  idLine: number;
  problems: LessonProblem[];
}

interface ParsedStep {
  fileName: string;
  file: string;
  frontMatter: StepFrontMatter;
  parsed: ParsedYaml;
  body: string;
  bodyLine: number;
}

async function loadTrack(root: string, folder: string, options: LoadCatalogOptions): Promise<TrackResult> {
  const dir = path.join(root, folder);
  const trackFile = `${folder}/track.yaml`;
  const problems: LessonProblem[] = [];
  const fileNames = (await readdir(dir, { withFileTypes: true }))
    .filter((entry) => entry.isFile() && entry.name.endsWith('.md') && entry.name.toLowerCase() !== 'readme.md')
    .map((entry) => entry.name)
    .sort();

  // Steps are parsed even when track.yaml is broken, so an author sees every problem at once.
  const steps = (await Promise.all(fileNames.map((name) => parseStepFile(dir, folder, name, problems)))).filter(
    (step): step is ParsedStep => step !== undefined,
  );

  const trackText = await readText(path.join(dir, 'track.yaml'));
  if (trackText === undefined) {
    problems.push({ file: trackFile, line: 1, message: 'missing: every track folder needs a track.yaml (id, title, summary, steps, backends)' });
    return { idLine: 1, problems };
  }
  const parsed = parseYaml(normaliseSource(trackText), 1);
  const declaration = validate(trackSchema, parsed, trackFile, 'track.yaml', problems);
  if (!declaration) return { idLine: 1, problems };
  const idLine = lineOfPath(parsed, ['id']);

  const variables = effectiveVariables(declaration.variables, options.variables);
  checkVariableReferences(parsed, trackFile, variables, problems);

  const ordered = resolveStepOrder(declaration, parsed, steps, folder, trackFile, problems);
  const builtSteps: Step[] = [];
  const idLines = new Map<string, string>();
  for (const step of ordered) {
    const firstUse = idLines.get(step.frontMatter.id);
    const line = lineOfPath(step.parsed, ['id']);
    if (firstUse !== undefined) {
      problems.push({ file: step.file, line, message: `duplicate step id "${step.frontMatter.id}" in this track (already used by ${firstUse})` });
      continue;
    }
    idLines.set(step.frontMatter.id, `${step.file}:${line}`);
    const stepVariables = { ...variables, ...effectiveVariables(step.frontMatter.variables ?? {}, options.variables) };
    const built = buildStep(step, stepVariables, problems);
    if (built) builtSteps.push(built);
  }
  resolveSetups(builtSteps, new Map(ordered.map((s) => [s.frontMatter.id, s.parsed])), problems);

  if (problems.length > 0) return { idLine, problems };
  const track: Track = {
    id: declaration.id,
    title: substituteVariables(declaration.title, variables),
    summary: substituteVariables(declaration.summary, variables),
    ...(declaration.order !== undefined ? { order: declaration.order } : {}),
    backends: declaration.backends,
    variables,
    dir,
    file: trackFile,
    steps: builtSteps,
    cleanup: substituteDeep(declaration.cleanup, variables),
  };
  return { track, idLine, problems };
}

async function parseStepFile(dir: string, folder: string, fileName: string, problems: LessonProblem[]): Promise<ParsedStep | undefined> {
  const file = `${folder}/${fileName}`;
  const text = await readText(path.join(dir, fileName));
  if (text === undefined) {
    problems.push({ file, line: 1, message: 'cannot be read' });
    return undefined;
  }
  const split = splitFrontMatter(normaliseSource(text));
  if ('error' in split) {
    problems.push({ file, line: split.line, message: split.error });
    return undefined;
  }
  const parsed = parseYaml(split.yaml, split.yamlLine);
  const frontMatter = validate(stepFrontMatterSchema, parsed, file, 'front-matter', problems);
  if (!frontMatter) return undefined;
  return { fileName, file, frontMatter, parsed, body: split.body, bodyLine: split.bodyLine };
}

/** Each entry of `steps` names a file ("01-intro.md") or a step id ("intro"). */
function resolveStepOrder(
  declaration: TrackDeclaration,
  parsed: ParsedYaml,
  steps: ParsedStep[],
  folder: string,
  trackFile: string,
  problems: LessonProblem[],
): ParsedStep[] {
  const ordered: ParsedStep[] = [];
  const used = new Set<ParsedStep>();
  declaration.steps.forEach((reference, index) => {
    const line = lineOfPath(parsed, ['steps', index]);
    const step = reference.endsWith('.md')
      ? steps.find((candidate) => candidate.fileName === reference)
      : steps.find((candidate) => candidate.frontMatter.id === reference);
    if (!step) {
      // A file that exists but failed to parse already has its own problem.
      const exists = reference.endsWith('.md') && problems.some((problem) => problem.file === `${folder}/${reference}`);
      if (!exists) {
        const available = steps.map((candidate) => candidate.fileName).join(', ') || 'none';
        const unreadable = problems.some((problem) => problem.file.startsWith(`${folder}/`) && problem.file.endsWith('.md'));
        const note = unreadable ? '; files with problems of their own are not counted' : '';
        problems.push({ file: trackFile, line, message: `steps[${index}]: no step "${reference}" in ${folder}/ (step files: ${available}${note})` });
      }
      return;
    }
    if (used.has(step)) {
      problems.push({ file: trackFile, line, message: `steps[${index}]: "${reference}" is listed twice` });
      return;
    }
    used.add(step);
    ordered.push(step);
  });
  for (const step of steps) {
    if (!used.has(step)) {
      problems.push({ file: step.file, line: 1, message: `not listed in ${trackFile} steps (add "${step.fileName}" there, or move the file out of the track)` });
    }
  }
  return ordered;
}

function buildStep(step: ParsedStep, variables: Record<string, string>, problems: LessonProblem[]): Step | undefined {
  const before = problems.length;
  checkVariableReferences(step.parsed, step.file, variables, problems);
  for (const reference of findVariableReferences(step.body)) {
    if (!(reference.name in variables)) {
      problems.push({ file: step.file, line: step.bodyLine + reference.lineIndex, message: unknownVariable(reference.name, variables) });
    }
  }
  const codeBlocks: CodeBlock[] = [];
  for (const fence of scanFences(step.body)) {
    const line = step.bodyLine + fence.lineIndex;
    if (!fence.closed) {
      problems.push({ file: step.file, line, message: 'code block opened here is never closed' });
      continue;
    }
    const info = parseFenceInfo(fence.info);
    if (info.problem) problems.push({ file: step.file, line, message: info.problem });
    else if (info.runnable && fence.code.trim() === '') problems.push({ file: step.file, line, message: 'runnable code block is empty' });
    else codeBlocks.push({ lang: info.lang, runnable: info.runnable, code: fence.code, line });
  }
  const frontMatter = step.frontMatter;
  const checks: CheckSpec[] = [];
  frontMatter.checks.forEach((raw, index) => {
    // The schema validated the declaration; substituting variables can still break it (a
    // number field given as {{VAR}}).
    const parsed = parseCheck(substituteDeep(raw, variables));
    if (parsed.ok) checks.push(parsed.check);
    else problems.push({ file: step.file, line: lineOfPath(step.parsed, ['checks', index, ...parsed.path]), message: `checks[${index}].${describeCheckError(parsed)}` });
  });
  if (problems.length > before) return undefined;

  const resolve = (text: string) => substituteVariables(text, variables);
  const solution = frontMatter.solution === undefined ? [] : typeof frontMatter.solution === 'string' ? [frontMatter.solution.trimEnd()] : frontMatter.solution;
  return {
    id: frontMatter.id,
    title: resolve(frontMatter.title),
    file: step.file,
    markdown: resolve(step.body),
    bodyLine: step.bodyLine,
    hints: frontMatter.hints.map(resolve),
    solution: solution.map(resolve),
    checks,
    sticky: frontMatter.sticky,
    ...(frontMatter.alreadyPasses !== undefined ? { alreadyPasses: frontMatter.alreadyPasses } : {}),
    ...(frontMatter.clusterWide ? { clusterWide: true } : {}),
    checkLines: frontMatter.checks.map((_, index) => lineOfPath(step.parsed, ['checks', index])),
    codeBlocks: codeBlocks.map((block) => ({ ...block, code: resolve(block.code) })),
    ...(frontMatter.timeout !== undefined ? { timeoutSeconds: frontMatter.timeout } : {}),
    ...(frontMatter.picture !== undefined ? { pictures: frontMatter.picture } : {}),
    // Resolved against the track once every step is known (resolveSetups).
    setup: frontMatter.setup ?? [],
    setupDeclared: frontMatter.setup !== undefined,
  };
}

/**
 * Each step's `setup` names earlier steps of its track (a later one would be a cycle, an unknown
 * one a typo); undeclared, it is every earlier step.
 */
function resolveSetups(steps: Step[], parsedById: Map<string, ParsedYaml>, problems: LessonProblem[]): void {
  steps.forEach((step, index) => {
    const earlier = steps.slice(0, index).map((s) => s.id);
    if (!step.setupDeclared) {
      step.setup = earlier;
      return;
    }
    const parsed = parsedById.get(step.id);
    step.setup.forEach((id, i) => {
      if (earlier.includes(id)) return;
      const line = parsed ? lineOfPath(parsed, ['setup', i]) : 1;
      const later = steps.slice(index).some((s) => s.id === id);
      problems.push({
        file: step.file,
        line,
        message: later
          ? `setup[${i}]: "${id}" is ${id === step.id ? 'this step' : 'a later step'}; setup lists earlier steps only`
          : `setup[${i}]: no step "${id}" in this track${earlier.length ? ` (earlier steps: ${earlier.join(', ')})` : ' (this is its first step: use setup: [])'}`,
      });
    });
  });
}

function effectiveVariables(declared: Record<string, string>, overrides: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const variables = { ...declared };
  for (const name of Object.keys(variables)) {
    const override = overrides?.[name];
    if (override !== undefined) variables[name] = override;
  }
  return variables;
}

function checkVariableReferences(parsed: ParsedYaml, file: string, variables: Record<string, string>, problems: LessonProblem[]): void {
  for (const scalar of stringScalars(parsed)) {
    for (const reference of findVariableReferences(scalar.value)) {
      if (reference.name in variables) continue;
      // Block scalars start on the line after their `|` or `>` header.
      const line = scalar.blockScalar ? scalar.line + 1 + reference.lineIndex : scalar.line;
      problems.push({ file, line, message: unknownVariable(reference.name, variables) });
    }
  }
}

function unknownVariable(name: string, variables: Record<string, string>): string {
  const known = Object.keys(variables);
  return `unknown variable {{${name}}} (${known.length ? `declared: ${known.join(', ')}` : 'the track declares no variables'}; declare it under variables: in track.yaml, or write \\{{${name}}} for the literal text)`;
}

function validate<T extends z.ZodType>(schema: T, parsed: ParsedYaml, file: string, rootName: string, problems: LessonProblem[]): z.output<T> | undefined {
  if (parsed.errors.length > 0) {
    for (const error of parsed.errors) problems.push({ file, ...error });
    return undefined;
  }
  const result = schema.safeParse(parsed.doc.toJS(), { reportInput: true });
  if (result.success) return result.data;
  const allowed = 'shape' in schema ? Object.keys((schema as unknown as z.ZodObject).shape) : [];
  for (const issue of result.error.issues) {
    for (const { path: issuePath, message } of describeIssue(issue, allowed)) {
      problems.push({ file, line: lineOfPath(parsed, issuePath), message: `${pathText(issuePath, rootName)}: ${message}` });
    }
  }
  return undefined;
}

function describeIssue(issue: z.core.$ZodIssue, allowedRootKeys: string[]): { path: PropertyKey[]; message: string }[] {
  const issuePath = issue.path as PropertyKey[];
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({
        path: [...issuePath, key],
        message: `unknown field${issuePath.length === 0 && allowedRootKeys.length ? ` (known fields: ${allowedRootKeys.join(', ')})` : ''}`,
      }));
    case 'invalid_type': {
      if (!('input' in issue) || issue.input === undefined) return [{ path: issuePath, message: 'is required' }];
      if (!issue.message.startsWith('Invalid input')) return [{ path: issuePath, message: issue.message }];
      return [{ path: issuePath, message: `must be ${typeName(issue.expected)}, not ${describeValue(issue.input)}` }];
    }
    case 'invalid_key':
      return [{ path: issuePath, message: `bad name: ${issue.issues[0]?.message ?? issue.message}` }];
    default:
      return [{ path: issuePath, message: issue.message }];
  }
}

function typeName(expected: string): string {
  const names: Record<string, string> = { object: 'a mapping (key: value lines)', array: 'a list', string: 'a string', number: 'a number' };
  return names[expected] ?? expected;
}

function describeValue(value: unknown): string {
  if (value === null) return 'empty';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}

function pathText(issuePath: readonly PropertyKey[], rootName: string): string {
  if (issuePath.length === 0) return rootName;
  return issuePath.map((segment, index) => (typeof segment === 'number' ? `[${segment}]` : `${index ? '.' : ''}${String(segment)}`)).join('');
}

async function readText(file: string): Promise<string | undefined> {
  try {
    if (!(await stat(file)).isFile()) return undefined;
    return await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}
