/**
 * The lesson format as zod schemas: `track.yaml` and a step's front-matter.
 *
 * Objects are strict (an unknown field is an error) because a misspelt field such as `tilte`
 * or `hint` would otherwise be ignored silently and the author would never know. Check
 * declarations are the exception: they pass through with only `kind` required, so that the
 * check engine can define its own kinds (and stricter schemas per kind) without this module
 * knowing them.
 */
import * as z from 'zod';
import { parseCheck } from '../checks/schema.js';

export const BACKENDS = ['sim', 'kind', 'kubeconfig'] as const;
export type LessonBackend = (typeof BACKENDS)[number];

/** Track and step ids appear in URLs and progress records, so they stay URL-safe. */
export const ID_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;
export const VARIABLE_NAME_PATTERN = /^[A-Z][A-Z0-9_]*$/;

const idSchema = z
  .string({ error: 'must be a string' })
  .regex(ID_PATTERN, 'must be lower-case letters, digits and dashes, e.g. "kubectl-version"');

const textSchema = z.string({ error: 'must be a string' }).trim().min(1, 'must not be empty');

const variableValueSchema = z
  .union([z.string(), z.number().int(), z.boolean()], {
    // YAML reads `1.30` as the number 1.3: a version that silently lost a digit is worse
    // than an error asking for quotes.
    error: 'must be a string; quote version numbers (YAML reads 1.30 as the number 1.3)',
  })
  .transform((value) => String(value))
  .refine((value) => !/[\r\n]/.test(value), 'must be a single line');

export const variablesSchema = z.record(
  z.string().regex(VARIABLE_NAME_PATTERN, 'variable names are upper-case letters, digits and _, e.g. ISTIO_VERSION'),
  variableValueSchema,
);

/** A shell command list; each entry is typed into the terminal as it is written. */
const commandListSchema = z.array(textSchema);

/**
 * A check as declared in front-matter: any mapping here; the catalog then validates each with
 * the check engine's own schema (server/checks/schema.ts), which knows the kinds and their
 * fields, and reports problems at the check's line.
 */
export const checkDeclarationSchema = z
  .record(z.string(), z.unknown(), { error: 'a check must be a mapping with a title and one check kind' })
  .superRefine((raw, ctx) => {
    const parsed = parseCheck(raw);
    if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.error, path: parsed.path });
  });
export type { CheckSpec as CheckDeclaration } from '../checks/schema.js';

/** Seconds as a number, or a string such as "90s" or "2m". */
const MAX_TIMEOUT_SECONDS = 3600;
const TIMEOUT_FORMAT = 'must be a number of seconds or a duration such as "90s" or "2m"';
export const timeoutSchema = z
  .union([z.number().positive(), z.string().regex(/^\d+(?:\.\d+)?(?:s|m)$/, TIMEOUT_FORMAT)], { error: TIMEOUT_FORMAT })
  .transform((value) => {
    if (typeof value === 'number') return value;
    const amount = Number.parseFloat(value);
    return value.endsWith('m') ? amount * 60 : amount;
  })
  .refine((seconds) => seconds > 0 && seconds <= MAX_TIMEOUT_SECONDS, `must be between 0 and ${MAX_TIMEOUT_SECONDS} seconds`);

export const trackSchema = z.strictObject({
  id: idSchema,
  title: textSchema,
  summary: textSchema,
  /** Position in the track list; tracks without one come after, by id. */
  order: z.number({ error: 'must be a number' }).int('must be a whole number').optional(),
  /** Step file names (`01-intro.md`) or step ids, in the order learners take them. */
  steps: z.array(textSchema, { error: 'must be a list of step file names or step ids' }).min(1, 'a track needs at least one step'),
  backends: z
    .array(z.enum(BACKENDS, { error: `must be one of ${BACKENDS.join(', ')}` }), { error: `must be a list drawn from ${BACKENDS.join(', ')}` })
    .min(1, 'list at least one backend the track works on')
    .refine((list) => new Set(list).size === list.length, 'lists a backend twice'),
  variables: variablesSchema.default({}),
  /** Commands that undo what the track created (run by lesson validation). */
  cleanup: commandListSchema.default([]),
});
export type TrackDeclaration = z.infer<typeof trackSchema>;

export const PICTURES = ['mesh', 'split'] as const;
export type Picture = (typeof PICTURES)[number];

export const stepFrontMatterSchema = z.strictObject({
  id: idSchema,
  title: textSchema,
  checks: z.array(checkDeclarationSchema, { error: 'must be a list of checks' }).default([]),
  /** Progressive hints, shown one at a time; each is markdown. */
  hints: z.array(textSchema, { error: 'must be a list of hints (markdown strings)' }).default([]),
  /**
   * A list of commands, or one block of shell typed as-is (so a heredoc or a multi-line loop
   * stays one unit).
   */
  solution: z.union([z.array(textSchema), textSchema], { error: 'must be a list of commands or one block of shell' }).optional(),
  timeout: timeoutSchema.optional(),
  /**
   * Whether a step stays done once its checks passed (default), or follows its checks both ways
   * (for steps that ask to undo something).
   */
  sticky: z.boolean({ error: 'must be true or false' }).default(true),
  /**
   * Lesson validation requires every step's checks to fail before its solution runs. A step
   * whose checks legitimately pass already (e.g. "look around" steps) says why here.
   */
  alreadyPasses: textSchema.optional(),
  /**
   * The step changes the whole cluster (downloading and installing Istio). When learners share a
   * cluster (namespace-per-learner mode) the instructor has done it once: the page says so, and
   * the step's checks still verify the result.
   */
  clusterWide: z.boolean({ error: 'must be true or false' }).optional(),
  /**
   * The state the step starts from, named by the earlier steps whose solutions build it, run in
   * the order listed. Omitted: every earlier step's solution, in track order. `[]`: a fresh
   * cluster and an empty home. "Reset this step", "Jump to step" and lesson validation build it.
   */
  setup: z
    .array(idSchema, { error: 'must be a list of earlier step ids whose solutions build the state this step starts from ([] for a fresh cluster)' })
    .refine((ids) => new Set(ids).size === ids.length, 'lists a step twice')
    .optional(),
  /** Step-level variables, added to (and overriding) the track's. */
  variables: variablesSchema.optional(),
  /** Live pictures of the learner's mesh shown beside the step: `mesh` (topology), `split` (reviews' traffic split), or both as a list. */
  picture: z
    .union([z.enum(PICTURES), z.array(z.enum(PICTURES)).min(1)], { error: `must be one of ${PICTURES.join(', ')} or a list of them` })
    .transform((value) => [...new Set(Array.isArray(value) ? value : [value])])
    .optional(),
});
export type StepFrontMatter = z.infer<typeof stepFrontMatterSchema>;
