/**
 * Command boundaries in a learner's terminal output, from the shell integration in rcfiles.ts:
 * bash prints an OSC 633 mark from PS0 as a command starts (after its command line was echoed)
 * and another from PROMPT_COMMAND as it ends (before the next prompt), both carrying a nonce
 * the shell got at start, so output a program prints cannot pose as a boundary by accident.
 * Step checks count only what lies between such marks: never the echo of what was typed,
 * never a prompt.
 */
import { toPlainText } from './transcript.js';

/** One command the learner ran and what it printed. */
export interface TerminalCommand {
  /** The command line as bash recorded it in its history; undefined when bash did not record it (history off). */
  line: string | undefined;
  /** What the command printed, as plain text (escapes removed, lines as the terminal shows them). */
  output: string;
  /** Its exit status; undefined while it still runs. */
  exitCode: number | undefined;
}

/** The OSC number VS Code's shell integration uses; terminals ignore OSCs they do not know. */
export const MARK_OSC = '633';
/** Environment variable that hands the shell its nonce (the rcfile moves it into a shell variable). */
export const MARK_ENV = 'PLAYGROUND_SHELL_MARK';

const MARK = /\x1b\]633;([CD]);([A-Za-z0-9]+);([^\x07\x1b]*)(?:\x07|\x1b\\)/g;

/**
 * The commands in raw terminal output `raw` whose start mark carries one of `nonces`. Output
 * before the first start mark (a command whose start was cut off, a banner, prompts) is not a
 * command's and is left out.
 */
export function parseCommands(raw: string, nonces: readonly string[]): TerminalCommand[] {
  const commands: TerminalCommand[] = [];
  let open: { from: number; historyNumber: string } | null = null;
  for (const m of raw.matchAll(MARK)) {
    const [whole, kind, nonce, payload] = m as unknown as [string, string, string, string];
    if (!nonces.includes(nonce)) continue;
    const at = m.index!;
    if (kind === 'C') {
      // A start without an end (the shell was killed mid-command): that command is over.
      if (open) commands.push({ line: undefined, output: toPlainText(raw.slice(open.from, at)), exitCode: undefined });
      open = { from: at + whole.length, historyNumber: payload };
      continue;
    }
    // An end with no start is an empty command line (Enter on an empty prompt).
    if (!open) continue;
    const semi = payload.indexOf(';');
    const status = Number(payload.slice(0, semi === -1 ? undefined : semi));
    const history = semi === -1 ? '' : payload.slice(semi + 1);
    commands.push({ line: commandLine(history, open.historyNumber), output: toPlainText(raw.slice(open.from, at)), exitCode: Number.isInteger(status) ? status : undefined });
    open = null;
  }
  if (open) commands.push({ line: undefined, output: toPlainText(raw.slice(open.from)), exitCode: undefined });
  // A running command's line comes with its end mark; until then it is unknown.
  return commands;
}

/**
 * `history 1` prints "  <n>  <line>". The line is this command's only if <n> is the number PS0
 * announced: with history off (`set +o history`) it is some earlier command's.
 */
function commandLine(history: string, expectedNumber: string): string | undefined {
  const m = /^\s*(\d+)\*?\s+([\s\S]*)$/.exec(history.replace(/\r\n/g, '\n'));
  if (!m || m[1] !== expectedNumber) return undefined;
  return m[2]!.replace(/\n+$/, '');
}

/** Programs that only filter or page what they are given: a pipe into them keeps a command's output honest. */
const FILTERS = new Set(['grep', 'egrep', 'fgrep', 'head', 'tail', 'less', 'more']);
/** Aliases the playground's rcfile defines. */
const ALIASES: Record<string, string> = { k: 'kubectl' };

export type CommandMatch = 'yes' | 'no' | 'not-alone';

/**
 * Whether command line `line` ran `expected` (words, e.g. "kubectl get nodes"): its program is
 * the same (the `k` alias and a path to it count), and the expected words appear among its
 * words in order (so flags may be added anywhere). `not-alone`: it did, but together with other
 * commands (`;`, `&&`, a pipe into anything but a filter, `$(…)`), whose output could be anything.
 */
export function matchCommand(line: string | undefined, expected: string): CommandMatch {
  if (line === undefined) return 'no';
  const want = expected.trim().split(/\s+/);
  const parsed = splitCommandLine(line);
  const first = parsed.segments[0];
  if (!first) return 'no';
  const words = first.words.slice(first.words.findIndex((w) => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(w)));
  if (words.length === 0) return 'no';
  const program = words[0]!.split('/').pop()!;
  if ((ALIASES[program] ?? program) !== want[0]) return 'no';
  let i = 1;
  for (const w of words.slice(1)) if (i < want.length && w === want[i]) i++;
  if (i < want.length) return 'no';
  if (parsed.substitution) return 'not-alone';
  for (const s of parsed.segments.slice(1)) {
    if (s.after !== '|' || !FILTERS.has((s.words[0] ?? '').split('/').pop()!)) return 'not-alone';
  }
  return 'yes';
}

interface Segment {
  words: string[];
  /** The operator before this segment. */
  after: string;
}

/** Splits a command line into simple commands at unquoted ; & && || | and newlines, words unquoted. */
function splitCommandLine(line: string): { segments: Segment[]; substitution: boolean } {
  const segments: Segment[] = [];
  let words: string[] = [];
  let word: string | null = null;
  let after = '';
  let quote: '' | "'" | '"' = '';
  let substitution = false;
  const endWord = () => {
    if (word !== null) words.push(word);
    word = null;
  };
  const endSegment = (op: string) => {
    endWord();
    segments.push({ words, after });
    words = [];
    after = op;
  };
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote === "'") {
      if (c === "'") quote = '';
      else word += c;
      continue;
    }
    if (c === '\\' && i + 1 < line.length) {
      word = (word ?? '') + line[++i];
      continue;
    }
    if (c === '`' || (c === '$' && line[i + 1] === '(') || ((c === '<' || c === '>') && line[i + 1] === '(' && !quote)) substitution = true;
    if (quote === '"') {
      if (c === '"') quote = '';
      else word += c;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      word ??= '';
    } else if (c === ' ' || c === '\t') endWord();
    else if (c === '\n' || c === ';') endSegment(';');
    else if (c === '&' || c === '|') {
      // Redirections like 2>&1 and &> are not separators.
      if (c === '&' && (line[i - 1] === '>' || line[i + 1] === '>')) {
        word = (word ?? '') + c;
        continue;
      }
      const double = line[i + 1] === c;
      endSegment(double ? c + c : c);
      if (double) i++;
    } else word = (word ?? '') + c;
  }
  endSegment('');
  return { segments: segments.filter((s) => s.words.length > 0 || s.after === ''), substitution };
}
