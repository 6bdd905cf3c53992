/**
 * The lesson compiler as a program of its own, so the server never loads marked, shiki or
 * sanitize-html: the server runs it once at start-up (when its cache misses) and keeps only
 * the JSON it prints.
 *
 * Usage: node dist/server/lessons/compile-main.js LESSONS_DIR [--out FILE]
 *   Writes CompiledLessons as JSON to stdout, or to FILE. Lesson problems are part of that
 *   output, not failures. Exits 1 with a message on stderr when it cannot compile at all
 *   (unreadable folder, bad arguments, a bug).
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { compileLessons } from './compile.js';

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({ allowPositionals: true, options: { out: { type: 'string' } } });
  if (positionals.length !== 1) throw new Error(`expected one argument, the lessons folder (got ${positionals.length}); usage: compile-main LESSONS_DIR [--out FILE]`);
  const json = JSON.stringify(await compileLessons(positionals[0]!));
  if (values.out) await writeFile(values.out, json);
  else process.stdout.write(json);
}

main().then(
  // No process.exit(): it could cut off stdout while a pipe still holds part of the output.
  () => (process.exitCode = 0),
  (error: unknown) => {
    process.stderr.write(`lesson compiler: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
