/**
 * Lesson markdown → sanitized HTML, server-side (marked + shiki), cached by content.
 *
 * Every fenced code block becomes (the contract the client relies on):
 *
 *   <div class="codeblock" data-runnable="true">
 *     <div class="codeblock-actions">
 *       <button type="button" class="code-run" data-command="COMMAND">Run</button>
 *       <button type="button" class="code-copy" data-copy="TEXT">Copy</button>
 *     </div>
 *     <pre class="shiki shiki-themes github-light github-dark" …>…</pre>
 *   </div>
 *
 * (no whitespace between the tags). Blocks that are not runnable have data-runnable="false"
 * and no Run button. COMMAND and TEXT are the block's text exactly, newlines included and
 * variables substituted; attribute values are HTML-escaped, so reading
 * `button.dataset.command` in the browser gives the text back unchanged.
 *
 * Headings get ids "<step id>--<slug>" so that all steps of a track can share one page; links
 * to "#slug" inside a step are rewritten to match.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Marked, type Tokens } from 'marked';
import { parseFenceInfo } from './codeblocks.js';
import { highlight, prepareHighlighter } from './highlight.js';
import { sanitizeLessonHtml } from './sanitize.js';
import type { Step, Track } from './types.js';

/** Bump when the output format changes, so cached HTML from the old format is never served. */
const RENDER_FORMAT = 1;

const SLOT_PREFIX = 'highlighted-code-slot-';

interface RenderContext {
  marker: string;
  /** Finished code blocks, in document order. */
  blocks: string[];
  idPrefix: string;
  slugCounts: Map<string, number>;
}

// marked's renderer is synchronous and shared; the context of the render in progress.
let context: RenderContext | undefined;

const marked = new Marked({
  gfm: true,
  renderer: {
    code({ text, lang }: Tokens.Code): string {
      const info = parseFenceInfo(lang);
      return codeBlockPlaceholder(text, info.lang, info.runnable, current());
    },
    heading({ tokens, depth, text }: Tokens.Heading): string {
      const id = current().idPrefix + uniqueSlug(text);
      return `<h${depth} id="${escapeAttribute(id)}">${this.parser.parseInline(tokens)}</h${depth}>\n`;
    },
    link({ href, title, tokens }: Tokens.Link): string {
      const target = href.startsWith('#') && href.length > 1 ? `#${current().idPrefix}${slugify(decodeURIComponentSafe(href.slice(1)))}` : href;
      const titleAttribute = title ? ` title="${escapeAttribute(title)}"` : '';
      return `<a href="${escapeAttribute(target)}"${titleAttribute}>${this.parser.parseInline(tokens)}</a>`;
    },
  },
});

function current(): RenderContext {
  if (!context) throw new Error('lesson renderer used outside renderMarkdown()');
  return context;
}

/**
 * Code blocks are built here but inserted after sanitizing (see renderMarkdown): only a
 * placeholder that raw HTML cannot guess (it holds the render's random marker) goes through
 * the sanitizer, so commands reach the page byte for byte and no lesson HTML can forge a block.
 */
function codeBlockPlaceholder(code: string, lang: string, runnable: boolean, render: RenderContext): string {
  const text = escapeAttribute(code);
  const run = runnable ? `<button type="button" class="code-run" data-command="${text}">Run</button>` : '';
  render.blocks.push(
    `<div class="codeblock" data-runnable="${runnable}">` +
      `<div class="codeblock-actions">${run}<button type="button" class="code-copy" data-copy="${text}">Copy</button></div>` +
      `${highlight(code, lang || 'text')}</div>`,
  );
  return `${SLOT_PREFIX}${render.marker}-${render.blocks.length - 1}\n`;
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/'/g, '&#39;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function slugify(text: string): string {
  const slug = text
    .toLowerCase()
    .replace(/<[^>]*>/g, '')
    .replace(/[^\p{L}\p{N}\s-]/gu, '')
    .trim()
    .replace(/\s+/g, '-');
  return slug || 'section';
}

function uniqueSlug(text: string): string {
  const slug = slugify(text);
  const counts = current().slugCounts;
  const seen = counts.get(slug) ?? 0;
  counts.set(slug, seen + 1);
  return seen === 0 ? slug : `${slug}-${seen}`;
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

const cache = new Map<string, { hash: string; html: Promise<string> }>();
const stats = { hits: 0, misses: 0 };

/** Cache counters, for tests and diagnostics. */
export function renderCacheStats(): { hits: number; misses: number; entries: number } {
  return { ...stats, entries: cache.size };
}

/**
 * One cache slot per key (track/step): a lesson edited while the server runs replaces its old
 * entry instead of piling up versions.
 */
function cached(key: string, idPrefix: string, markdown: string): Promise<string> {
  const hash = createHash('sha256').update(`${RENDER_FORMAT}\0${idPrefix}\0${markdown}`).digest('hex');
  const entry = cache.get(key);
  if (entry && entry.hash === hash) {
    stats.hits++;
    return entry.html;
  }
  stats.misses++;
  const html = renderMarkdown(markdown, idPrefix);
  cache.set(key, { hash, html });
  html.catch(() => {
    if (cache.get(key)?.html === html) cache.delete(key);
  });
  return html;
}

async function renderMarkdown(markdown: string, idPrefix: string): Promise<string> {
  const langs = new Set<string>();
  marked.walkTokens(marked.lexer(markdown), (token) => {
    if (token.type === 'code') langs.add(parseFenceInfo((token as Tokens.Code).lang).lang);
  });
  await prepareHighlighter(langs);
  const marker = randomBytes(12).toString('hex');
  const render: RenderContext = { marker, idPrefix, slugCounts: new Map(), blocks: [] };
  context = render;
  let html: string;
  try {
    html = marked.parse(markdown, { async: false });
  } finally {
    context = undefined;
  }
  // Code blocks are made of escaped text and shiki's theme colours only. Keeping them out of
  // the sanitizer means commands are never altered by it, no style attribute is ever accepted
  // from a lesson, and sanitizing stays cheap (it never sees every token's style).
  const slot = new RegExp(`${SLOT_PREFIX}${marker}-(\\d+)`, 'g');
  return sanitizeLessonHtml(html).replace(slot, (_, index: string) => render.blocks[Number(index)] ?? '');
}

/** The step's body as HTML (the title is not included: the page shows it itself). */
export function renderStep(track: Track, step: Step): Promise<string> {
  return cached(`step\0${track.id}\0${step.id}`, `${step.id}--`, step.markdown);
}

/** Each hint as HTML, in order. */
export function renderHints(track: Track, step: Step): Promise<string[]> {
  return Promise.all(step.hints.map((hint, index) => cached(`hint\0${track.id}\0${step.id}\0${index}`, `${step.id}--hint-${index}--`, hint)));
}

/** The track's summary as HTML, for the track list. */
export function renderTrackSummary(track: Track): Promise<string> {
  return cached(`summary\0${track.id}`, `${track.id}--summary--`, track.summary);
}
