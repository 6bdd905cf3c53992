/**
 * `npm run validate -- [--track ID]... [--backend sim|kubeconfig] [--kubeconfig FILE --context NAME]
 *                      [--junit FILE] [--lessons-dir DIR]`
 * Proves every lesson works; ends with `N passed, N failed` and a non-zero exit on failure.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { projectToolsDir } from '../server/cluster/tools.js';
import { validateLessons } from '../server/validate/index.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

const argsSchema = z
  .object({
    track: z.array(z.string()).default([]),
    backend: z.enum(['sim', 'kubeconfig']).default('sim'),
    kubeconfig: z.string().optional(),
    context: z.string().optional(),
    junit: z.string().optional(),
    'lessons-dir': z.string().default(path.join(root, 'lessons')),
  })
  .refine((a) => a.backend !== 'kubeconfig' || a.kubeconfig, { message: '--kubeconfig FILE is required with --backend kubeconfig', path: ['kubeconfig'] });

async function main(): Promise<number> {
  let args: z.infer<typeof argsSchema>;
  try {
    const { values } = parseArgs({
      options: {
        track: { type: 'string', multiple: true },
        backend: { type: 'string' },
        kubeconfig: { type: 'string' },
        context: { type: 'string' },
        junit: { type: 'string' },
        'lessons-dir': { type: 'string' },
      },
      strict: true,
    });
    const parsed = argsSchema.safeParse(values);
    if (!parsed.success) throw new Error(parsed.error.issues.map((i) => `${i.path.join('.') ? `--${i.path.join('.')}: ` : ''}${i.message}`).join('; '));
    args = parsed.data;
  } catch (err) {
    process.stderr.write(`validate: ${(err as Error).message}\n`);
    return 2;
  }
  const report = await validateLessons({
    lessonsDir: path.resolve(args['lessons-dir']),
    tracks: args.track,
    backend: args.backend,
    ...(args.kubeconfig ? { kubeconfig: path.resolve(args.kubeconfig) } : {}),
    ...(args.context ? { context: args.context } : {}),
    ...(args.junit ? { junitFile: path.resolve(args.junit) } : {}),
    pathPrepend: [projectToolsDir(root)],
    log: (line) => process.stdout.write(`${line}\n`),
  });
  process.stdout.write(`\n${report.passed} passed, ${report.failed} failed${report.skipped ? `, ${report.skipped} skipped` : ''}\n`);
  return report.failed > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`validate: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
