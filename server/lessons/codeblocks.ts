/**
 * Runnable code blocks. A fenced block is runnable when its info string is a shell language
 * followed by the word `run`:
 *
 *     ```bash run
 *     kubectl get nodes
 *     ```
 *
 * Every other block only gets a Copy button. The language comes first so that editors and
 * other markdown viewers still highlight the block as shell.
 */

export const RUNNABLE_LANGUAGES: ReadonlySet<string> = new Set(['bash', 'sh', 'shell']);
const KNOWN_OPTIONS: ReadonlySet<string> = new Set(['run']);

export interface FenceInfo {
  lang: string;
  runnable: boolean;
  /** What is wrong with the info string, if anything. */
  problem?: string;
}

export function parseFenceInfo(info: string | undefined): FenceInfo {
  const words = (info ?? '').trim().split(/\s+/).filter(Boolean);
  const lang = (words[0] ?? '').toLowerCase();
  const options = words.slice(1);
  if (lang === 'run') {
    return { lang: '', runnable: false, problem: 'put the language before "run", e.g. ```bash run' };
  }
  const unknown = options.find((option) => !KNOWN_OPTIONS.has(option));
  if (unknown !== undefined) {
    return { lang, runnable: false, problem: `unknown code block option "${unknown}" (known: ${[...KNOWN_OPTIONS].join(', ')})` };
  }
  const wantsRun = options.includes('run');
  if (wantsRun && !RUNNABLE_LANGUAGES.has(lang)) {
    return {
      lang,
      runnable: false,
      problem: `only shell blocks can be runnable (${[...RUNNABLE_LANGUAGES].join(', ')}), not "${lang || 'a block without a language'}"`,
    };
  }
  return { lang, runnable: wantsRun };
}

export interface ScannedFence {
  info: string;
  code: string;
  /** 0-based line index of the opening fence within the scanned text. */
  lineIndex: number;
  /** False when the document ends before a closing fence. */
  closed: boolean;
}

/**
 * Finds fenced blocks line by line so each keeps its line number (marked's tokens carry none).
 * Fences may be indented, as they are inside list items.
 */
export function scanFences(markdown: string): ScannedFence[] {
  const lines = markdown.split('\n');
  const fences: ScannedFence[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const [, indent, marker, info] = open as unknown as [string, string, string, string];
    if (marker[0] === '`' && info.includes('`')) continue; // inline code, not a fence
    const closer = new RegExp(`^\\s*${marker[0] === '`' ? '`' : '~'}{${marker.length},}\\s*$`);
    let end = i + 1;
    while (end < lines.length && !closer.test(lines[end]!)) end++;
    const body = lines.slice(i + 1, end).map((line) => stripIndent(line, indent.length));
    fences.push({ info: info.trim(), code: body.join('\n'), lineIndex: i, closed: end < lines.length });
    i = end;
  }
  return fences;
}

function stripIndent(line: string, width: number): string {
  let cut = 0;
  while (cut < width && line[cut] === ' ') cut++;
  return line.slice(cut);
}
