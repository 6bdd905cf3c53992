/**
 * Lesson lint, run by validation before anything touches a cluster: what the catalog refused
 * (malformed front-matter, unknown check kinds, …) plus steps that cannot be validated (checks
 * without a solution), runnable blocks bash cannot parse, and links to nothing.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { marked, type Token } from 'marked';
import type { LessonProblem, Step, Track } from '../lessons/types.js';
import { slugify } from '../lessons/render.js';

/** `bash -n`: parses without running. */
function bashSyntaxError(code: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-n'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (status) => resolve(status === 0 ? undefined : err.trim().replace(/^bash: /, '').replace(/^line (\d+): /, 'line $1 of the block: ')));
    child.on('error', (e) => resolve(`bash could not run: ${e.message}`));
    child.stdin.end(code);
  });
}

function collectLinks(tokens: Token[], out: { href: string; raw: string }[]): void {
  for (const t of tokens) {
    if (t.type === 'link' || t.type === 'image') out.push({ href: (t as { href: string }).href, raw: t.raw });
    const children = (t as { tokens?: Token[] }).tokens;
    if (children) collectLinks(children, out);
    const items = (t as { items?: { tokens?: Token[] }[] }).items;
    if (items) for (const item of items) collectLinks(item.tokens ?? [], out);
  }
}

function headingSlugs(tokens: Token[]): Set<string> {
  const slugs = new Set<string>();
  for (const t of tokens) if (t.type === 'heading') slugs.add(slugify((t as { text: string }).text));
  return slugs;
}

function lineOf(step: Step, raw: string): number {
  const index = step.markdown.indexOf(raw);
  return index < 0 ? step.bodyLine : step.bodyLine + step.markdown.slice(0, index).split('\n').length - 1;
}

export async function lintStep(track: Track, step: Step): Promise<LessonProblem[]> {
  const problems: LessonProblem[] = [];
  if (step.checks.length > 0 && step.solution.length === 0) {
    problems.push({ file: step.file, line: 1, message: 'the step has checks but no solution, so validation cannot prove it can be done' });
  }
  for (const block of step.codeBlocks.filter((b) => b.runnable)) {
    const error = await bashSyntaxError(block.code);
    if (error) problems.push({ file: step.file, line: block.line, message: `runnable block does not parse: ${error}` });
  }
  for (const [i, entry] of step.solution.entries()) {
    const error = await bashSyntaxError(entry);
    if (error) problems.push({ file: step.file, line: 1, message: `solution[${i}] does not parse: ${error}` });
  }
  const tokens = marked.lexer(step.markdown);
  const links: { href: string; raw: string }[] = [];
  collectLinks(tokens, links);
  const slugs = headingSlugs(tokens);
  for (const link of links) {
    const href = link.href.trim();
    if (/^[a-z][a-z0-9+.-]*:/i.test(href)) continue; // external: cannot be checked offline
    if (href.startsWith('#')) {
      if (!slugs.has(slugify(decodeURIComponent(href.slice(1))))) problems.push({ file: step.file, line: lineOf(step, link.raw), message: `dead link ${href}: no heading with that anchor in this step` });
      continue;
    }
    const lessonsDir = path.dirname(track.dir);
    const target = path.resolve(lessonsDir, path.dirname(step.file), decodeURIComponent(href.split('#')[0]!));
    if (!fs.existsSync(target)) problems.push({ file: step.file, line: lineOf(step, link.raw), message: `dead link ${href}: ${path.relative(lessonsDir, target)} does not exist` });
  }
  return problems;
}
