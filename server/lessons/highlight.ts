/**
 * Syntax highlighting with shiki, server-side. One highlighter per process, created on first
 * use. The JavaScript regex engine avoids loading WebAssembly (~15 ms to create instead of
 * ~100 ms); grammars load on demand the first time a lesson uses their language.
 *
 * Output carries both themes as CSS variables and no default colour (`defaultColor: false`):
 * each token is `<span style="--shiki-light:#…;--shiki-dark:#…">`, the <pre> also gets
 * `--shiki-light-bg`/`--shiki-dark-bg`, and the page picks a theme with CSS alone.
 */
import { bundledLanguages, createHighlighter, createJavaScriptRegexEngine, type BundledLanguage, type Highlighter } from 'shiki';

export const LIGHT_THEME = 'github-light';
export const DARK_THEME = 'github-dark';

let highlighter: Promise<Highlighter> | undefined;

function getHighlighter(): Promise<Highlighter> {
  highlighter ??= createHighlighter({
    themes: [LIGHT_THEME, DARK_THEME],
    langs: [],
    engine: createJavaScriptRegexEngine(),
  });
  return highlighter;
}

function isBundled(lang: string): lang is BundledLanguage {
  return Object.hasOwn(bundledLanguages, lang);
}

let ready: Highlighter | undefined;

/**
 * Creates the highlighter if needed and loads these languages' grammars (names shiki does not
 * know are highlighted as plain text).
 */
export async function prepareHighlighter(langs: Iterable<string>): Promise<void> {
  const instance = await getHighlighter();
  const loaded = new Set(instance.getLoadedLanguages());
  const missing = [...new Set(langs)].filter((lang): lang is BundledLanguage => isBundled(lang) && !loaded.has(lang));
  if (missing.length > 0) await instance.loadLanguage(...missing);
  ready = instance;
}

/** A `<pre class="shiki …">…</pre>`. Synchronous, for marked's renderer; call prepareHighlighter first. */
export function highlight(code: string, lang: string): string {
  if (!ready) throw new Error('highlight() called before prepareHighlighter()');
  const known = ready.getLoadedLanguages().includes(lang) ? lang : 'text';
  return ready.codeToHtml(code, {
    lang: known,
    themes: { light: LIGHT_THEME, dark: DARK_THEME },
    defaultColor: false,
    // The first line in a language compiles its grammar's regexes; on a busy machine that
    // overran shiki's 500 ms default and left the first theme's tokens uncoloured, and compiled
    // lessons are cached, so that would last. Lessons are trusted text: no limit.
    tokenizeTimeLimit: 0,
  });
}
