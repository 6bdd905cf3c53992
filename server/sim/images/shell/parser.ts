/**
 * A POSIX-shell subset: simple commands with quoting and expansions ($VAR, ${VAR:-x}, $(...),
 * `...`, $((...))), pipes, && || ; &, redirections, if/for/while/until, { } and ( ).
 * Enough for what people type into `kubectl exec … -- sh -c '…'`; anything else is a
 * syntax error worded as dash words it, never a silent misreading.
 */

export type WordPart =
  | { kind: 'lit'; text: string; quoted: boolean }
  | { kind: 'param'; name: string; quoted: boolean; op?: string; arg?: Word }
  | { kind: 'cmdsub'; source: string; quoted: boolean }
  | { kind: 'arith'; expr: string; quoted: boolean };

export interface Word {
  parts: WordPart[];
  /** The word as written, for messages. */
  raw: string;
}

export interface Redirect {
  fd: number;
  op: '>' | '>>' | '<' | '>&' | '<&';
  target: Word;
}

export interface SimpleCommand {
  type: 'simple';
  assigns: { name: string; value: Word }[];
  words: Word[];
  redirects: Redirect[];
  line: number;
}

export interface IfCommand {
  type: 'if';
  branches: { cond: List; body: List }[];
  elseBody?: List;
  redirects: Redirect[];
}
export interface ForCommand {
  type: 'for';
  name: string;
  items: Word[] | null;
  body: List;
  redirects: Redirect[];
}
export interface LoopCommand {
  type: 'while' | 'until';
  cond: List;
  body: List;
  redirects: Redirect[];
}
export interface GroupCommand {
  type: 'group' | 'subshell';
  body: List;
  redirects: Redirect[];
}

export type Command = SimpleCommand | IfCommand | ForCommand | LoopCommand | GroupCommand;

export interface Pipeline {
  bang: boolean;
  commands: Command[];
}
export interface AndOr {
  first: Pipeline;
  rest: { op: '&&' | '||'; pipeline: Pipeline }[];
  background: boolean;
}
export interface List {
  items: AndOr[];
}

export class ShellSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

type Op = '|' | '||' | '&&' | ';' | ';;' | '&' | '(' | ')' | '>' | '>>' | '<' | '>&' | '<&' | '<<' | '&>';
type Token =
  | { t: 'word'; word: Word; line: number; ioNumber?: number }
  | { t: 'op'; op: Op; line: number; fd?: number }
  | { t: 'nl'; line: number }
  | { t: 'eof'; line: number };

const KEYWORDS = new Set(['if', 'then', 'elif', 'else', 'fi', 'for', 'in', 'do', 'done', 'while', 'until', 'case', 'esac', '{', '}', '!']);
/** Keywords that can only close a construct: one of them where a command starts is a syntax error. */
const CLOSERS = new Set(['then', 'elif', 'else', 'fi', 'do', 'done', 'esac', '}']);
const SPECIAL_PARAMS = new Set(['?', '$', '#', '@', '*', '!', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);

/** Tokenizes a whole script. */
export function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  const n = src.length;

  const isMeta = (c: string) => c === ' ' || c === '\t' || c === '\n' || c === ';' || c === '&' || c === '|' || c === '<' || c === '>' || c === '(' || c === ')';

  /** Scans from an opening `(` (already consumed) to its matching `)`, honouring quotes. */
  const scanBalanced = (open: string, close: string): string => {
    let depth = 1;
    const start = i;
    while (i < n) {
      const c = src[i];
      if (c === '\\') {
        i += 2;
        continue;
      }
      if (c === "'") {
        const end = src.indexOf("'", i + 1);
        if (end < 0) throw new ShellSyntaxError('Unterminated quoted string', line);
        i = end + 1;
        continue;
      }
      if (c === '"') {
        i++;
        while (i < n && src[i] !== '"') i += src[i] === '\\' ? 2 : 1;
        if (i >= n) throw new ShellSyntaxError('Unterminated quoted string', line);
        i++;
        continue;
      }
      if (c === '\n') line++;
      if (c === open) depth++;
      else if (c === close) {
        depth--;
        if (depth === 0) {
          i++;
          return src.slice(start, i - 1);
        }
      }
      i++;
    }
    throw new ShellSyntaxError(`Syntax error: end of file unexpected (expecting "${close}")`, line);
  };

  /** After a `$`: a parameter, command substitution or arithmetic. */
  const scanDollar = (quoted: boolean): WordPart => {
    const c = src[i];
    if (c === '(') {
      if (src[i + 1] === '(') {
        i += 2;
        const inner = scanBalanced('(', ')');
        if (src[i] !== ')') throw new ShellSyntaxError('Syntax error: missing ))', line);
        i++;
        return { kind: 'arith', expr: inner, quoted };
      }
      i++;
      return { kind: 'cmdsub', source: scanBalanced('(', ')'), quoted };
    }
    if (c === '{') {
      i++;
      const inner = scanBalanced('{', '}');
      const m = /^(#?)([A-Za-z_][A-Za-z0-9_]*|[?$#@*!0-9-])(?:(:?[-=+?]|##?|%%?)([\s\S]*))?$/.exec(inner);
      if (!m) throw new ShellSyntaxError(`Bad substitution`, line);
      if (m[1]) return { kind: 'param', name: m[2], quoted, op: '#len' };
      const part: WordPart = { kind: 'param', name: m[2], quoted };
      if (m[3]) {
        part.op = m[3];
        part.arg = parseWordText(m[4] ?? '', line, quoted);
      }
      return part;
    }
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
    if (m) {
      i += m[0].length;
      return { kind: 'param', name: m[0], quoted };
    }
    if (c !== undefined && SPECIAL_PARAMS.has(c)) {
      i++;
      return { kind: 'param', name: c, quoted };
    }
    return { kind: 'lit', text: '$', quoted };
  };

  const scanWord = (): Word => {
    const start = i;
    const parts: WordPart[] = [];
    const lit = (text: string, quoted: boolean) => {
      const last = parts[parts.length - 1];
      if (last && last.kind === 'lit' && last.quoted === quoted) last.text += text;
      else parts.push({ kind: 'lit', text, quoted });
    };
    while (i < n && !isMeta(src[i])) {
      const c = src[i];
      if (c === '\\') {
        if (src[i + 1] === '\n') {
          i += 2;
          line++;
          continue;
        }
        if (i + 1 < n) lit(src[i + 1], true);
        i += 2;
      } else if (c === "'") {
        const end = src.indexOf("'", i + 1);
        if (end < 0) throw new ShellSyntaxError('Syntax error: Unterminated quoted string', line);
        lit(src.slice(i + 1, end), true);
        line += (src.slice(i + 1, end).match(/\n/g) ?? []).length;
        if (end === i + 1) parts.push({ kind: 'lit', text: '', quoted: true });
        i = end + 1;
      } else if (c === '"') {
        i++;
        let any = false;
        while (i < n && src[i] !== '"') {
          any = true;
          const d = src[i];
          if (d === '\\' && i + 1 < n && '$`"\\\n'.includes(src[i + 1])) {
            if (src[i + 1] !== '\n') lit(src[i + 1], true);
            i += 2;
          } else if (d === '$') {
            i++;
            parts.push(scanDollar(true));
          } else if (d === '`') {
            i++;
            const end = src.indexOf('`', i);
            if (end < 0) throw new ShellSyntaxError('Syntax error: EOF in backquote substitution', line);
            parts.push({ kind: 'cmdsub', source: src.slice(i, end), quoted: true });
            i = end + 1;
          } else {
            if (d === '\n') line++;
            lit(d, true);
            i++;
          }
        }
        if (i >= n) throw new ShellSyntaxError('Syntax error: Unterminated quoted string', line);
        if (!any) parts.push({ kind: 'lit', text: '', quoted: true });
        i++;
      } else if (c === '$') {
        i++;
        parts.push(scanDollar(false));
      } else if (c === '`') {
        i++;
        const end = src.indexOf('`', i);
        if (end < 0) throw new ShellSyntaxError('Syntax error: EOF in backquote substitution', line);
        parts.push({ kind: 'cmdsub', source: src.slice(i, end), quoted: false });
        i = end + 1;
      } else {
        lit(c, false);
        i++;
      }
    }
    return { parts, raw: src.slice(start, i) };
  };

  while (i < n) {
    const c = src[i];
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (c === '\\' && src[i + 1] === '\n') {
      i += 2;
      line++;
      continue;
    }
    if (c === '#') {
      while (i < n && src[i] !== '\n') i++;
      continue;
    }
    if (c === '\n') {
      tokens.push({ t: 'nl', line });
      line++;
      i++;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (two === '&&' || two === '||' || two === ';;' || two === '>>' || two === '>&' || two === '<&' || two === '<<' || two === '&>') {
      tokens.push({ t: 'op', op: two as Op, line });
      i += 2;
      if (two === '&>' && src[i] === '>') i++; // `&>>` appends both; treated as &>
      continue;
    }
    if (c === '|' || c === '&' || c === ';' || c === '(' || c === ')' || c === '<' || c === '>') {
      tokens.push({ t: 'op', op: c as Op, line });
      i++;
      continue;
    }
    const w = scanWord();
    // `2>file`, `2>&1`: a digit-only word glued to a redirection operator is the fd number.
    if ((src[i] === '>' || src[i] === '<') && /^[0-9]$/.test(w.raw)) {
      tokens.push({ t: 'word', word: w, line, ioNumber: Number(w.raw) });
    } else tokens.push({ t: 'word', word: w, line });
  }
  tokens.push({ t: 'eof', line });
  return tokens;
}

/** Parses the text of a `${x:-text}` operand as a word. */
function parseWordText(text: string, line: number, quoted: boolean): Word {
  if (!text) return { parts: [{ kind: 'lit', text: '', quoted: true }], raw: '' };
  const toks = tokenize(quoted ? `"${text.replace(/"/g, '\\"')}"` : text).filter((t) => t.t === 'word');
  const parts: WordPart[] = [];
  toks.forEach((t, idx) => {
    if (t.t !== 'word') return;
    if (idx > 0) parts.push({ kind: 'lit', text: ' ', quoted: true });
    parts.push(...t.word.parts);
  });
  void line;
  return { parts, raw: text };
}

function keywordOf(tok: Token): string | null {
  if (tok.t !== 'word' || tok.ioNumber !== undefined) return null;
  const p = tok.word.parts;
  if (p.length === 1 && p[0].kind === 'lit' && !p[0].quoted && KEYWORDS.has(p[0].text)) return p[0].text;
  return null;
}

const describe = (tok: Token): string =>
  tok.t === 'eof' ? 'end of file' : tok.t === 'nl' ? 'newline' : tok.t === 'op' ? tok.op : tok.word.raw;

export function parseScript(src: string): List {
  const tokens = tokenize(src);
  let pos = 0;
  const peek = () => tokens[pos];
  const next = () => tokens[pos++];

  const unexpected = (tok: Token, expecting?: string): never => {
    if (tok.t === 'eof') throw new ShellSyntaxError(`Syntax error: end of file unexpected${expecting ? ` (expecting "${expecting}")` : ''}`, tok.line);
    throw new ShellSyntaxError(`Syntax error: "${describe(tok)}" unexpected${expecting ? ` (expecting "${expecting}")` : ''}`, tok.line);
  };

  const skipNewlines = () => {
    while (peek().t === 'nl') pos++;
  };

  const expectKeyword = (kw: string) => {
    skipNewlines();
    const tok = next();
    if (keywordOf(tok) !== kw) unexpected(tok, kw);
  };

  const isListEnd = (tok: Token, terminators: string[]) => {
    if (tok.t === 'eof') return true;
    if (tok.t === 'op' && (tok.op === ')' || tok.op === ';;')) return true;
    const kw = keywordOf(tok);
    return kw !== null && terminators.includes(kw);
  };

  const parseList = (terminators: string[]): List => {
    const items: AndOr[] = [];
    for (;;) {
      skipNewlines();
      const tok = peek();
      if (isListEnd(tok, terminators)) break;
      if (tok.t === 'op' && (tok.op === ';' || tok.op === '&')) unexpected(tok);
      const ao = parseAndOr(terminators);
      items.push(ao);
      const sep = peek();
      if (sep.t === 'op' && (sep.op === ';' || sep.op === '&')) {
        pos++;
        if (sep.op === '&') ao.background = true;
      } else if (sep.t === 'nl') {
        pos++;
      } else if (!isListEnd(sep, terminators)) {
        unexpected(sep);
      }
    }
    return { items };
  };

  const parseAndOr = (terminators: string[]): AndOr => {
    const first = parsePipeline(terminators);
    const rest: AndOr['rest'] = [];
    for (;;) {
      const tok = peek();
      if (tok.t === 'op' && (tok.op === '&&' || tok.op === '||')) {
        pos++;
        skipNewlines();
        rest.push({ op: tok.op, pipeline: parsePipeline(terminators) });
      } else break;
    }
    return { first, rest, background: false };
  };

  const parsePipeline = (terminators: string[]): Pipeline => {
    let bang = false;
    if (keywordOf(peek()) === '!') {
      pos++;
      bang = true;
    }
    const commands = [parseCommand(terminators)];
    while (peek().t === 'op' && (peek() as { op: Op }).op === '|') {
      pos++;
      skipNewlines();
      commands.push(parseCommand(terminators));
    }
    return { bang, commands };
  };

  const parseRedirect = (redirects: Redirect[]): boolean => {
    const tok = peek();
    let fd: number | undefined;
    let opTok = tok;
    if (tok.t === 'word' && tok.ioNumber !== undefined) {
      fd = tok.ioNumber;
      opTok = tokens[pos + 1];
    }
    if (opTok.t !== 'op') return false;
    const op = opTok.op;
    if (op === '<<') throw new ShellSyntaxError('here-documents (<<) are not supported by the embedded cluster', opTok.line);
    if (op !== '>' && op !== '>>' && op !== '<' && op !== '>&' && op !== '<&' && op !== '&>') return false;
    pos += fd === undefined ? 1 : 2;
    const target = next();
    if (target.t !== 'word') unexpected(target);
    const word = (target as { word: Word }).word;
    if (op === '&>') {
      redirects.push({ fd: 1, op: '>', target: word });
      redirects.push({ fd: 2, op: '>&', target: { parts: [{ kind: 'lit', text: '1', quoted: false }], raw: '1' } });
    } else {
      redirects.push({ fd: fd ?? (op === '<' || op === '<&' ? 0 : 1), op, target: word });
    }
    return true;
  };

  const parseTrailingRedirects = (): Redirect[] => {
    const r: Redirect[] = [];
    while (parseRedirect(r));
    return r;
  };

  const parseCommand = (terminators: string[]): Command => {
    const tok = peek();
    const kw = keywordOf(tok);
    if (tok.t === 'op' && tok.op === '(') {
      pos++;
      const body = parseList([]);
      const close = next();
      if (close.t !== 'op' || close.op !== ')') unexpected(close, ')');
      return { type: 'subshell', body, redirects: parseTrailingRedirects() };
    }
    if (kw === '{') {
      pos++;
      const body = parseList(['}']);
      expectKeyword('}');
      return { type: 'group', body, redirects: parseTrailingRedirects() };
    }
    if (kw === 'if') {
      pos++;
      const branches: IfCommand['branches'] = [];
      let elseBody: List | undefined;
      const cond = parseList(['then']);
      expectKeyword('then');
      branches.push({ cond, body: parseList(['elif', 'else', 'fi']) });
      for (;;) {
        skipNewlines();
        const k = keywordOf(next());
        if (k === 'elif') {
          const c = parseList(['then']);
          expectKeyword('then');
          branches.push({ cond: c, body: parseList(['elif', 'else', 'fi']) });
        } else if (k === 'else') {
          elseBody = parseList(['fi']);
          expectKeyword('fi');
          break;
        } else if (k === 'fi') break;
        else unexpected(tokens[pos - 1], 'fi');
      }
      return { type: 'if', branches, elseBody, redirects: parseTrailingRedirects() };
    }
    if (kw === 'while' || kw === 'until') {
      pos++;
      const cond = parseList(['do']);
      expectKeyword('do');
      const body = parseList(['done']);
      expectKeyword('done');
      return { type: kw, cond, body, redirects: parseTrailingRedirects() };
    }
    if (kw === 'for') {
      pos++;
      const nameTok = next();
      if (nameTok.t !== 'word' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(nameTok.word.raw)) {
        throw new ShellSyntaxError(`Syntax error: Bad for loop variable`, nameTok.line);
      }
      let items: Word[] | null = null;
      skipNewlines();
      if (keywordOf(peek()) === 'in') {
        pos++;
        items = [];
        while (peek().t === 'word') items.push((next() as { word: Word }).word);
        const sep = peek();
        if (sep.t === 'op' && sep.op === ';') pos++;
        else if (sep.t === 'nl') pos++;
        else unexpected(sep, 'do');
      } else if (peek().t === 'op' && (peek() as { op: Op }).op === ';') pos++;
      expectKeyword('do');
      const body = parseList(['done']);
      expectKeyword('done');
      return { type: 'for', name: nameTok.word.raw, items, body, redirects: parseTrailingRedirects() };
    }
    if (kw === 'case') throw new ShellSyntaxError('case … esac is not supported by the embedded cluster', tok.line);
    if (kw !== null && CLOSERS.has(kw)) unexpected(tok);

    const cmd: SimpleCommand = { type: 'simple', assigns: [], words: [], redirects: [], line: tok.line };
    for (;;) {
      if (parseRedirect(cmd.redirects)) continue;
      const t = peek();
      if (t.t !== 'word') break;
      pos++;
      const m = cmd.words.length === 0 ? /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(t.word.raw) : null;
      const first = t.word.parts[0];
      if (m && first?.kind === 'lit' && !first.quoted && first.text.startsWith(m[0])) {
        const valueParts = [...t.word.parts];
        valueParts[0] = { ...first, text: first.text.slice(m[0].length) };
        cmd.assigns.push({ name: m[1], value: { parts: valueParts, raw: t.word.raw.slice(m[0].length) } });
      } else cmd.words.push(t.word);
    }
    if (cmd.words.length === 0 && cmd.assigns.length === 0 && cmd.redirects.length === 0) unexpected(peek());
    return cmd;
  };

  const list = parseList([]);
  const tail = peek();
  if (tail.t !== 'eof') unexpected(tail);
  return list;
}
