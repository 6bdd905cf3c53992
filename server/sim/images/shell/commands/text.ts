/** Text tools that scripts pipe into: cat, echo, printf, grep, head, tail, wc, sort, uniq, cut, tr, tee, seq. */
import { FsFailure, fsErrorText } from '../fs.js';
import { absPath, fail, type ProgramIO } from '../program.js';
import { readAll, type InputStream } from '../streams.js';

/** Reads the named files (or stdin for none / '-'), reporting unreadable ones as cat/grep do. */
async function readInputs(io: ProgramIO, files: string[], tool: string): Promise<{ name: string; data: Buffer }[] | { error: number; partial: { name: string; data: Buffer }[] }> {
  const out: { name: string; data: Buffer }[] = [];
  let error = 0;
  if (files.length === 0) files = ['-'];
  for (const f of files) {
    if (f === '-') {
      out.push({ name: '(standard input)', data: await readAll(io.stdin, io.signal) });
      continue;
    }
    try {
      out.push({ name: f, data: io.fs.read(absPath(io, f)) });
    } catch (e) {
      if (!(e instanceof FsFailure)) throw e;
      io.stderr.write(fileError(io, tool, f, e.code === 'ENOENT' ? 'No such file or directory' : fsErrorText(e.code)));
      error = tool === 'grep' ? 2 : 1;
    }
  }
  return error ? { error, partial: out } : out;
}

function fileError(io: ProgramIO, tool: string, file: string, reason: string): string {
  if (io.flavour === 'busybox' && (tool === 'cat' || tool === 'head' || tool === 'tail' || tool === 'wc')) return `${tool}: can't open '${file}': ${reason}\n`;
  return `${tool}: ${file}: ${reason}\n`;
}

function splitOpts(argv: string[], withArg: string): { flags: Set<string>; values: Map<string, string>; rest: string[]; bad?: string } {
  const flags = new Set<string>();
  const values = new Map<string, string>();
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      rest.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('-') && a.length > 1 && !/^-\d/.test(a)) {
      for (let j = 1; j < a.length; j++) {
        const c = a[j];
        if (withArg.includes(c)) {
          const v = a.slice(j + 1) || argv[++i];
          if (v === undefined) return { flags, values, rest, bad: `option requires an argument -- '${c}'` };
          values.set(c, v);
          break;
        }
        flags.add(c);
      }
    } else rest.push(a);
  }
  return { flags, values, rest };
}

function lines(data: Buffer | string): string[] {
  const text = typeof data === 'string' ? data : data.toString('utf8');
  if (!text) return [];
  const l = text.split('\n');
  if (l[l.length - 1] === '') l.pop();
  return l;
}

export async function cat(io: ProgramIO): Promise<number> {
  const args = io.argv.slice(1).filter((a) => a !== '-u');
  const unknown = args.find((a) => a.startsWith('-') && a !== '-');
  if (unknown) return fail(io, `option '${unknown}' is not supported by the embedded cluster`);
  const r = await readInputs(io, args, 'cat');
  const got = Array.isArray(r) ? r : r.partial;
  for (const f of got) io.stdout.write(f.data);
  return Array.isArray(r) ? 0 : r.error;
}

export async function echo(io: ProgramIO): Promise<number> {
  let args = io.argv.slice(1);
  let newline = true;
  let escapes = io.flavour === 'dash';
  while (args[0] && /^-[neE]+$/.test(args[0])) {
    if (args[0].includes('n')) newline = false;
    if (args[0].includes('e')) escapes = true;
    if (args[0].includes('E')) escapes = false;
    args = args.slice(1);
  }
  let text = args.join(' ');
  if (escapes) {
    const cut = text.indexOf('\\c');
    if (cut >= 0) {
      text = text.slice(0, cut);
      newline = false;
    }
    text = unescape(text);
  }
  io.stdout.write(text + (newline ? '\n' : ''));
  return 0;
}

function unescape(s: string): string {
  return s.replace(/\\(0[0-7]{0,3}|[abfnrtv\\])/g, (_m, c: string) => {
    if (c[0] === '0') return String.fromCharCode(parseInt(c.slice(1) || '0', 8));
    return { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' }[c] ?? c;
  });
}

export async function printf(io: ProgramIO): Promise<number> {
  const [format, ...args] = io.argv.slice(1);
  if (format === undefined) return fail(io, 'usage: printf format [arg ...]', 2);
  let out = '';
  let ai = 0;
  do {
    out += unescape(format).replace(/%([-0-9.]*)([sdiqxc%])/g, (_m, width: string, conv: string) => {
      if (conv === '%') return '%';
      const v = args[ai++] ?? '';
      let s = conv === 'd' || conv === 'i' ? String(Number.parseInt(v, 10) || 0) : conv === 'x' ? (Number.parseInt(v, 10) || 0).toString(16) : conv === 'c' ? v.slice(0, 1) : v;
      const w = Number.parseInt(width, 10);
      if (width.includes('.') && conv === 's') s = s.slice(0, Number(width.split('.')[1]));
      if (!Number.isNaN(w)) s = width.startsWith('-') ? s.padEnd(-w) : s.padStart(w);
      return s;
    });
  } while (ai > 0 && ai < args.length);
  io.stdout.write(out);
  return 0;
}

export async function grep(io: ProgramIO): Promise<number> {
  const argv = io.argv.slice(1).map((a) => (a === '--count' ? '-c' : a === '--only-matching' ? '-o' : a === '--ignore-case' ? '-i' : a === '--invert-match' ? '-v' : a === '--quiet' || a === '--silent' ? '-q' : a === '--extended-regexp' ? '-E' : a));
  const long = argv.find((a) => a.startsWith('--'));
  if (long) return fail(io, `unrecognized option '${long}' (not supported by the embedded cluster)`, 2);
  const { flags, values, rest, bad } = splitOpts(argv, 'eAB');
  if (bad) return fail(io, bad, 2);
  for (const f of flags) if (!'oicvqEFwnlshH'.includes(f)) return fail(io, `invalid option -- '${f}'`, 2);
  if (values.has('A') || values.has('B')) return fail(io, 'options -A/-B are not supported by the embedded cluster', 2);
  let pattern = values.get('e');
  if (pattern === undefined) {
    pattern = rest.shift();
    if (pattern === undefined) {
      io.stderr.write(io.flavour === 'busybox' ? 'BusyBox v1.36.1 multi-call binary.\n\nUsage: grep [-HhnlLoqvsrRiwFE] [-m N] [-A|B|C N] { PATTERN | -e PATTERN... | -f FILE... } [FILE]...\n' : "Usage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information.\n");
      return 2;
    }
  }
  let re: RegExp;
  try {
    const source = flags.has('F') ? pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : flags.has('E') ? pattern : basicToExtended(pattern);
    re = new RegExp(flags.has('w') ? `\\b(?:${source})\\b` : source, flags.has('i') ? 'gi' : 'g');
  } catch {
    return fail(io, `Invalid regular expression`, 2);
  }
  const test = new RegExp(re.source, flags.has('i') ? 'i' : '');
  const r = await readInputs(io, rest, 'grep');
  const inputs = Array.isArray(r) ? r : r.partial;
  const multi = (inputs.length > 1 || flags.has('H')) && !flags.has('h');
  let matchedAny = false;
  for (const input of inputs) {
    let count = 0;
    const prefix = multi ? `${input.name}:` : '';
    lines(input.data).forEach((line, idx) => {
      const matched = test.test(line);
      const matches = flags.has('o') && matched ? [...line.matchAll(re)].filter((m) => m[0] !== '') : [];
      const hit = flags.has('v') ? !matched : matched;
      if (!hit) return;
      count++;
      matchedAny = true;
      if (flags.has('q') || flags.has('c') || flags.has('l')) return;
      const n = flags.has('n') ? `${idx + 1}:` : '';
      if (flags.has('o') && !flags.has('v')) for (const m of matches) io.stdout.write(`${prefix}${n}${m[0]}\n`);
      else io.stdout.write(`${prefix}${n}${line}\n`);
    });
    if (flags.has('c') && !flags.has('q')) io.stdout.write(`${prefix}${count}\n`);
    if (flags.has('l') && count > 0 && !flags.has('q')) io.stdout.write(`${input.name}\n`);
  }
  if (!Array.isArray(r) && !(flags.has('q') && matchedAny)) return 2;
  return matchedAny ? 0 : 1;
}

/** POSIX basic regex → JS: in BRE, `\(`, `\)`, `\{`, `\}`, `\|`, `\+`, `\?` are the operators. */
function basicToExtended(p: string): string {
  let out = '';
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === '\\' && i + 1 < p.length) {
      const n = p[++i];
      out += '(){}|+?'.includes(n) ? n : `\\${n}`;
    } else if ('(){}|+?'.includes(c)) out += `\\${c}`;
    else out += c;
  }
  return out;
}

function countArg(io: ProgramIO, tool: string): { n: number; fromStart: boolean; bytes: boolean; files: string[] } | number {
  const argv = io.argv.slice(1);
  let n = 10;
  let fromStart = false;
  // -c counts bytes (`tail -c+N` is what kubectl cp --retries resumes with).
  let bytes = false;
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    let v: string | undefined;
    if (a === '-n' || a === '--lines') v = argv[++i];
    else if (a.startsWith('-n')) v = a.slice(2);
    else if (a.startsWith('--lines=')) v = a.slice(8);
    else if (/^-\d+$/.test(a)) v = a.slice(1);
    else if (a === '-c' || a === '--bytes') (v = argv[++i]), (bytes = true);
    else if (a.startsWith('-c')) (v = a.slice(2)), (bytes = true);
    else if (a.startsWith('--bytes=')) (v = a.slice(8)), (bytes = true);
    else if (a === '-f' && tool === 'tail') return fail(io, "option '-f' is not supported by the embedded cluster");
    else if (a.startsWith('-') && a !== '-') return fail(io, `invalid option -- '${a.slice(1)}'`);
    else files.push(a);
    if (v !== undefined) {
      if (v.startsWith('+')) {
        fromStart = true;
        v = v.slice(1);
      }
      if (!/^\d+$/.test(v)) return fail(io, `invalid number of ${bytes ? 'bytes' : 'lines'}: '${v}'`);
      n = Number(v);
    }
  }
  return { n, fromStart, bytes, files };
}

export async function head(io: ProgramIO): Promise<number> {
  const c = countArg(io, 'head');
  if (typeof c === 'number') return c;
  if (c.bytes) {
    const r = await readInputs(io, c.files, 'head');
    for (const f of Array.isArray(r) ? r : r.partial) io.stdout.write(f.data.subarray(0, c.n));
    return Array.isArray(r) ? 0 : r.error;
  }
  if (c.files.length === 0) {
    // Stop reading once enough lines arrived, so `curl … | head -1` ends without waiting.
    let got = 0;
    let pending = '';
    const stdin: InputStream = io.stdin;
    while (got < c.n) {
      const chunk = await stdin.read();
      if (chunk === null) break;
      pending += chunk.toString('utf8');
      let nl: number;
      while (got < c.n && (nl = pending.indexOf('\n')) >= 0) {
        io.stdout.write(pending.slice(0, nl + 1));
        pending = pending.slice(nl + 1);
        got++;
      }
    }
    if (got < c.n && pending) io.stdout.write(pending);
    return 0;
  }
  const r = await readInputs(io, c.files, 'head');
  for (const f of Array.isArray(r) ? r : r.partial) {
    const l = lines(f.data).slice(0, c.n);
    if (l.length) io.stdout.write(l.join('\n') + '\n');
  }
  return Array.isArray(r) ? 0 : r.error;
}

export async function tail(io: ProgramIO): Promise<number> {
  const c = countArg(io, 'tail');
  if (typeof c === 'number') return c;
  const r = await readInputs(io, c.files, 'tail');
  for (const f of Array.isArray(r) ? r : r.partial) {
    if (c.bytes) {
      io.stdout.write(c.fromStart ? f.data.subarray(Math.max(0, c.n - 1)) : c.n === 0 ? Buffer.alloc(0) : f.data.subarray(-c.n));
      continue;
    }
    const all = lines(f.data);
    const l = c.fromStart ? all.slice(Math.max(0, c.n - 1)) : c.n === 0 ? [] : all.slice(-c.n);
    if (l.length) io.stdout.write(l.join('\n') + '\n');
  }
  return Array.isArray(r) ? 0 : r.error;
}

export async function wc(io: ProgramIO): Promise<number> {
  const { flags, rest, bad } = splitOpts(io.argv.slice(1), '');
  if (bad) return fail(io, bad);
  for (const f of flags) if (!'lwc'.includes(f)) return fail(io, `invalid option -- '${f}'`);
  const r = await readInputs(io, rest, 'wc');
  const all = flags.size === 0 ? new Set(['l', 'w', 'c']) : flags;
  for (const f of Array.isArray(r) ? r : r.partial) {
    const text = f.data.toString('utf8');
    const counts: number[] = [];
    if (all.has('l')) counts.push((text.match(/\n/g) ?? []).length);
    if (all.has('w')) counts.push(text.split(/\s+/).filter(Boolean).length);
    if (all.has('c')) counts.push(f.data.length);
    const name = rest.length ? ` ${f.name}` : '';
    const width = io.flavour === 'busybox' ? 9 : 7;
    io.stdout.write((counts.length === 1 ? String(counts[0]) : counts.map((n) => String(n).padStart(width)).join(' ')) + name + '\n');
  }
  return Array.isArray(r) ? 0 : r.error;
}

export async function sort(io: ProgramIO): Promise<number> {
  const { flags, values, rest, bad } = splitOpts(io.argv.slice(1), 'kt');
  if (bad) return fail(io, bad, 2);
  for (const f of flags) if (!'rnu'.includes(f)) return fail(io, `invalid option -- '${f}'`, 2);
  const r = await readInputs(io, rest, 'sort');
  let l = (Array.isArray(r) ? r : r.partial).flatMap((f) => lines(f.data));
  const key = values.has('k') ? Number.parseInt(values.get('k')!, 10) : 0;
  const sep = values.get('t');
  const keyOf = (s: string) => (key ? (sep ? s.split(sep) : s.trim().split(/\s+/)).slice(key - 1).join(sep ?? ' ') : s);
  l.sort((a, b) => {
    const ka = keyOf(a);
    const kb = keyOf(b);
    if (flags.has('n')) return (Number.parseFloat(ka) || 0) - (Number.parseFloat(kb) || 0) || (ka < kb ? -1 : ka > kb ? 1 : 0);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
  if (flags.has('r')) l.reverse();
  if (flags.has('u')) l = l.filter((x, i) => i === 0 || x !== l[i - 1]);
  if (l.length) io.stdout.write(l.join('\n') + '\n');
  return Array.isArray(r) ? 0 : 2;
}

export async function uniq(io: ProgramIO): Promise<number> {
  const { flags, rest, bad } = splitOpts(io.argv.slice(1), '');
  if (bad) return fail(io, bad);
  for (const f of flags) if (!'cdu'.includes(f)) return fail(io, `invalid option -- '${f}'`);
  const r = await readInputs(io, rest.slice(0, 1), 'uniq');
  const l = (Array.isArray(r) ? r : r.partial).flatMap((f) => lines(f.data));
  const groups: { line: string; n: number }[] = [];
  for (const line of l) {
    const last = groups[groups.length - 1];
    if (last && last.line === line) last.n++;
    else groups.push({ line, n: 1 });
  }
  for (const g of groups) {
    if (flags.has('d') && g.n < 2) continue;
    if (flags.has('u') && g.n > 1) continue;
    io.stdout.write(flags.has('c') ? `${String(g.n).padStart(7)} ${g.line}\n` : `${g.line}\n`);
  }
  return Array.isArray(r) ? 0 : 1;
}

function parseList(spec: string): ((i: number) => boolean) | null {
  const ranges: [number, number][] = [];
  for (const part of spec.split(',')) {
    const m = /^(\d*)(-?)(\d*)$/.exec(part);
    if (!m || (!m[1] && !m[3])) return null;
    const a = m[1] ? Number(m[1]) : 1;
    const b = m[2] ? (m[3] ? Number(m[3]) : Infinity) : a;
    ranges.push([a, b]);
  }
  return (i) => ranges.some(([a, b]) => i >= a && i <= b);
}

export async function cut(io: ProgramIO): Promise<number> {
  const { values, flags, rest, bad } = splitOpts(io.argv.slice(1), 'dfc');
  if (bad) return fail(io, bad);
  if (flags.size) return fail(io, `invalid option -- '${[...flags][0]}'`);
  const spec = values.get('f') ?? values.get('c');
  if (!spec) return fail(io, 'you must specify a list of bytes, characters, or fields');
  const sel = parseList(spec);
  if (!sel) return fail(io, `invalid field value '${spec}'`);
  const delim = values.get('d') ?? '\t';
  const r = await readInputs(io, rest, 'cut');
  for (const f of Array.isArray(r) ? r : r.partial) {
    for (const line of lines(f.data)) {
      if (values.has('c')) io.stdout.write([...line].filter((_c, i) => sel(i + 1)).join('') + '\n');
      else if (!line.includes(delim)) io.stdout.write(line + '\n');
      else io.stdout.write(line.split(delim).filter((_x, i) => sel(i + 1)).join(delim) + '\n');
    }
  }
  return Array.isArray(r) ? 0 : 1;
}

function expandTrSet(set: string): string[] {
  const chars: string[] = [];
  const classes: Record<string, string> = {
    '[:upper:]': 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', '[:lower:]': 'abcdefghijklmnopqrstuvwxyz', '[:digit:]': '0123456789',
    '[:space:]': ' \t\n\r\f\v', '[:alpha:]': 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz',
  };
  let s = unescape(set);
  for (const [k, v] of Object.entries(classes)) s = s.split(k).join(v);
  for (let i = 0; i < s.length; i++) {
    if (s[i + 1] === '-' && i + 2 < s.length) {
      for (let c = s.charCodeAt(i); c <= s.charCodeAt(i + 2); c++) chars.push(String.fromCharCode(c));
      i += 2;
    } else chars.push(s[i]);
  }
  return chars;
}

export async function tr(io: ProgramIO): Promise<number> {
  const { flags, rest, bad } = splitOpts(io.argv.slice(1), '');
  if (bad) return fail(io, bad);
  for (const f of flags) if (!'ds'.includes(f)) return fail(io, `invalid option -- '${f}'`);
  const text = (await readAll(io.stdin, io.signal)).toString('utf8');
  const a = expandTrSet(rest[0] ?? '');
  if (flags.has('d')) {
    io.stdout.write([...text].filter((c) => !a.includes(c)).join(''));
    return 0;
  }
  const b = expandTrSet(rest[1] ?? '');
  if (!flags.has('s') && b.length === 0) return fail(io, 'missing operand');
  let out = '';
  for (const c of text) {
    const idx = a.indexOf(c);
    const mapped = idx >= 0 && b.length ? b[Math.min(idx, b.length - 1)] : c;
    if (flags.has('s') && out.endsWith(mapped) && (b.length ? b.includes(mapped) : a.includes(mapped))) continue;
    out += mapped;
  }
  io.stdout.write(out);
  return 0;
}

export async function tee(io: ProgramIO): Promise<number> {
  const append = io.argv.includes('-a');
  const files = io.argv.slice(1).filter((a) => a !== '-a');
  const data = await readAll(io.stdin, io.signal);
  io.stdout.write(data);
  let status = 0;
  for (const f of files) {
    try {
      io.fs.write(absPath(io, f), data, append);
    } catch (e) {
      if (!(e instanceof FsFailure)) throw e;
      status = fail(io, `${f}: ${fsErrorText(e.code)}`);
    }
  }
  return status;
}

export async function seq(io: ProgramIO): Promise<number> {
  const nums = io.argv.slice(1).map(Number);
  if (nums.length === 0 || nums.length > 3 || nums.some((n) => Number.isNaN(n))) return fail(io, `invalid argument`);
  const [first, step, last] = nums.length === 1 ? [1, 1, nums[0]] : nums.length === 2 ? [nums[0], 1, nums[1]] : nums;
  const out: string[] = [];
  if (step === 0) return fail(io, 'invalid Zero increment value');
  for (let x = first; step > 0 ? x <= last : x >= last; x += step) out.push(String(x));
  if (out.length) io.stdout.write(out.join('\n') + '\n');
  return 0;
}
