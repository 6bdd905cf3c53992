/** System tools: env, printenv, hostname, ls, sleep, date, uname, mkdir, rm, touch, test, nslookup. */
import { FsFailure, fsErrorText } from '../fs.js';
import { absPath, fail, type ProgramIO } from '../program.js';
import { sleepAbortable } from '../streams.js';
import { isBuiltin } from '../interpreter.js';

export async function env(io: ProgramIO): Promise<number> {
  const args = io.argv.slice(1);
  const vars = { ...io.env };
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i];
    if (a === '-i' || a === '-') {
      for (const k of Object.keys(vars)) delete vars[k];
    } else if (a.startsWith('-u')) {
      delete vars[a.length > 2 ? a.slice(2) : args[++i]];
    } else if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(a)) {
      const eq = a.indexOf('=');
      vars[a.slice(0, eq)] = a.slice(eq + 1);
    } else if (a.startsWith('-')) return fail(io, `unrecognized option '${a}'`, 125);
    else break;
  }
  if (i < args.length) return io.exec(args.slice(i), { env: vars });
  for (const [k, v] of Object.entries(vars)) io.stdout.write(`${k}=${v}\n`);
  return 0;
}

export async function printenv(io: ProgramIO): Promise<number> {
  const names = io.argv.slice(1);
  if (names.length === 0) {
    for (const [k, v] of Object.entries(io.env)) io.stdout.write(`${k}=${v}\n`);
    return 0;
  }
  let status = 0;
  for (const n of names) {
    if (n in io.env) io.stdout.write(`${io.env[n]}\n`);
    else status = 1;
  }
  return status;
}

export async function hostname(io: ProgramIO): Promise<number> {
  const a = io.argv[1];
  if (a === undefined) io.stdout.write(`${io.ctx.hostname}\n`);
  else if (a === '-i' || a === '-I') io.stdout.write(`${io.ctx.podIP}${a === '-I' ? ' ' : ''}\n`);
  else if (a === '-f' || a === '--fqdn') io.stdout.write(`${io.ctx.hostname}\n`);
  else if (a.startsWith('-')) return fail(io, `invalid option -- '${a.slice(1)}'`);
  else return fail(io, 'you must be root to change the host name');
  return 0;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const p2 = (n: number) => String(n).padStart(2, '0');

export function formatDate(d: Date, fmt: string): string {
  return fmt.replace(/%([a-zA-Z%])/g, (_m, c: string) => {
    switch (c) {
      case 'Y': return String(d.getUTCFullYear());
      case 'm': return p2(d.getUTCMonth() + 1);
      case 'd': return p2(d.getUTCDate());
      case 'e': return String(d.getUTCDate()).padStart(2, ' ');
      case 'H': return p2(d.getUTCHours());
      case 'M': return p2(d.getUTCMinutes());
      case 'S': return p2(d.getUTCSeconds());
      case 's': return String(Math.floor(d.getTime() / 1000));
      case 'N': return String(d.getUTCMilliseconds() * 1_000_000).padStart(9, '0');
      case 'T': return `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`;
      case 'F': return `${d.getUTCFullYear()}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())}`;
      case 'Z': return 'UTC';
      case 'z': return '+0000';
      case 'a': return DAYS[d.getUTCDay()];
      case 'b': return MONTHS[d.getUTCMonth()];
      case 'y': return p2(d.getUTCFullYear() % 100);
      case '%': return '%';
      default: return `%${c}`;
    }
  });
}

export async function date(io: ProgramIO): Promise<number> {
  let fmt = '%a %b %e %H:%M:%S %Z %Y';
  for (const a of io.argv.slice(1)) {
    if (a === '-u' || a === '--utc') continue;
    if (a.startsWith('+')) fmt = a.slice(1);
    else if (a === '-I' || a === '--iso-8601') fmt = '%F';
    else if (a === '-R') fmt = '%a, %d %b %Y %H:%M:%S %z';
    else return fail(io, `option '${a}' is not supported by the embedded cluster`);
  }
  io.stdout.write(formatDate(io.ctx.now(), fmt) + '\n');
  return 0;
}

export async function sleep(io: ProgramIO): Promise<number> {
  const args = io.argv.slice(1);
  if (args.length === 0) {
    io.stderr.write(io.flavour === 'busybox' ? 'BusyBox v1.36.1 multi-call binary.\n\nUsage: sleep [N]...\n' : "sleep: missing operand\nTry 'sleep --help' for more information.\n");
    return 1;
  }
  let ms = 0;
  for (const a of args) {
    if (a === 'infinity' || a === 'inf') {
      ms = Infinity;
      continue;
    }
    const m = /^(\d+(?:\.\d+)?|\.\d+)([smhd]?)$/.exec(a);
    if (!m) return fail(io, io.flavour === 'busybox' ? `invalid number '${a}'` : `invalid time interval '${a}'`);
    ms += Number(m[1]) * { '': 1000, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
  }
  if (ms === Infinity) {
    await new Promise<void>((resolve) => {
      if (io.signal.aborted) return resolve();
      io.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    return 130;
  }
  return (await sleepAbortable(ms, io.signal)) ? 0 : 130;
}

export async function uname(io: ProgramIO): Promise<number> {
  const a = io.argv[1];
  if (a === undefined || a === '-s') io.stdout.write('Linux\n');
  else if (a === '-a') io.stdout.write(`Linux ${io.ctx.hostname} 6.8.0-sim #1 SMP x86_64 GNU/Linux\n`);
  else if (a === '-r') io.stdout.write('6.8.0-sim\n');
  else if (a === '-m') io.stdout.write('x86_64\n');
  else if (a === '-n') io.stdout.write(`${io.ctx.hostname}\n`);
  else return fail(io, `invalid option -- '${a.replace(/^-/, '')}'`);
  return 0;
}

export async function ls(io: ProgramIO): Promise<number> {
  const flags = new Set<string>();
  const paths: string[] = [];
  for (const a of io.argv.slice(1)) {
    if (a.startsWith('-') && a.length > 1) for (const c of a.slice(1)) flags.add(c);
    else paths.push(a);
  }
  for (const f of flags) if (!'laA1hd'.includes(f)) return fail(io, `invalid option -- '${f}'`, io.flavour === 'busybox' ? 1 : 2);
  if (paths.length === 0) paths.push('.');
  let status = 0;
  const now = io.ctx.now();
  const when = `${MONTHS[now.getUTCMonth()]} ${String(now.getUTCDate()).padStart(2)} ${p2(now.getUTCHours())}:${p2(now.getUTCMinutes())}`;
  const long = (abs: string, name: string) => {
    const dir = io.fs.isDir(abs);
    const size = dir ? 4096 : io.fs.size(abs);
    return `${dir ? 'drwxr-xr-x' : '-rw-r--r--'} ${dir ? 2 : 1} root root ${String(size).padStart(5)} ${when} ${name}`;
  };
  paths.forEach((p, idx) => {
    const abs = absPath(io, p);
    if (!io.fs.exists(abs)) {
      io.stderr.write(io.flavour === 'busybox' ? `ls: ${p}: No such file or directory\n` : `ls: cannot access '${p}': No such file or directory\n`);
      status = io.flavour === 'busybox' ? 1 : 2;
      return;
    }
    if (!io.fs.isDir(abs) || flags.has('d')) {
      io.stdout.write((flags.has('l') ? long(abs, p) : p) + '\n');
      return;
    }
    if (paths.length > 1) io.stdout.write(`${idx > 0 ? '\n' : ''}${p}:\n`);
    let names = io.fs.list(abs);
    if (flags.has('a')) names = ['.', '..', ...names];
    if (flags.has('l')) {
      io.stdout.write(`total ${names.length * 4}\n`);
      for (const n of names) io.stdout.write(long(n === '.' ? abs : n === '..' ? abs.replace(/\/[^/]*$/, '') || '/' : `${abs === '/' ? '' : abs}/${n}`, n) + '\n');
    } else if (names.length) io.stdout.write(io.tty && !flags.has('1') ? names.join('  ') + '\n' : names.join('\n') + '\n');
  });
  return status;
}

export async function mkdir(io: ProgramIO): Promise<number> {
  const parents = io.argv.includes('-p');
  let status = 0;
  for (const p of io.argv.slice(1).filter((a) => !a.startsWith('-'))) {
    const abs = absPath(io, p);
    try {
      if (parents) {
        let cur = '';
        for (const seg of abs.split('/').filter(Boolean)) {
          cur += `/${seg}`;
          if (!io.fs.isDir(cur)) io.fs.mkdir(cur);
        }
      } else io.fs.mkdir(abs);
    } catch (e) {
      if (!(e instanceof FsFailure)) throw e;
      status = fail(io, `cannot create directory '${p}': ${e.code === 'EACCES' ? 'File exists' : fsErrorText(e.code)}`);
    }
  }
  return status;
}

export async function rm(io: ProgramIO): Promise<number> {
  const force = io.argv.some((a) => /^-[a-zA-Z]*f/.test(a));
  let status = 0;
  for (const p of io.argv.slice(1).filter((a) => !a.startsWith('-'))) {
    try {
      io.fs.remove(absPath(io, p));
    } catch (e) {
      if (!(e instanceof FsFailure)) throw e;
      if (e.code === 'ENOENT' && force) continue;
      status = fail(io, `cannot remove '${p}': ${fsErrorText(e.code)}`);
    }
  }
  return status;
}

export async function touch(io: ProgramIO): Promise<number> {
  let status = 0;
  for (const p of io.argv.slice(1).filter((a) => !a.startsWith('-'))) {
    const abs = absPath(io, p);
    try {
      if (!io.fs.exists(abs)) io.fs.write(abs, Buffer.alloc(0));
    } catch (e) {
      if (!(e instanceof FsFailure)) throw e;
      status = fail(io, `cannot touch '${p}': ${fsErrorText(e.code)}`);
    }
  }
  return status;
}

export async function test(io: ProgramIO): Promise<number> {
  let args = io.argv.slice(1);
  if (io.argv[0] === '[') {
    if (args[args.length - 1] !== ']') return fail(io, "missing ']'", 2);
    args = args.slice(0, -1);
  }
  const evalExpr = (a: string[]): boolean | number => {
    if (a.length === 0) return false;
    if (a[0] === '!') {
      const r = evalExpr(a.slice(1));
      return typeof r === 'number' ? r : !r;
    }
    const andIdx = a.indexOf('-a');
    if (andIdx > 0) {
      const l = evalExpr(a.slice(0, andIdx));
      const r = evalExpr(a.slice(andIdx + 1));
      return typeof l === 'number' ? l : typeof r === 'number' ? r : l && r;
    }
    const orIdx = a.indexOf('-o');
    if (orIdx > 0) {
      const l = evalExpr(a.slice(0, orIdx));
      const r = evalExpr(a.slice(orIdx + 1));
      return typeof l === 'number' ? l : typeof r === 'number' ? r : l || r;
    }
    if (a.length === 1) return a[0] !== '';
    if (a.length === 2) {
      const [op, v] = a;
      const abs = absPath(io, v);
      switch (op) {
        case '-z': return v === '';
        case '-n': return v !== '';
        case '-e': return io.fs.exists(abs);
        case '-f': return io.fs.exists(abs) && !io.fs.isDir(abs);
        case '-d': return io.fs.isDir(abs);
        case '-s': return io.fs.exists(abs) && io.fs.size(abs) > 0;
        case '-r': case '-w': return io.fs.exists(abs);
        case '-x': return false;
      }
      fail(io, `${op}: unary operator expected`, 2);
      return 2;
    }
    if (a.length === 3) {
      const [l, op, r] = a;
      const num = (s: string) => (/^\s*-?\d+\s*$/.test(s) ? Number(s) : NaN);
      switch (op) {
        case '=': case '==': return l === r;
        case '!=': return l !== r;
        case '-eq': case '-ne': case '-lt': case '-le': case '-gt': case '-ge': {
          const x = num(l);
          const y = num(r);
          if (Number.isNaN(x) || Number.isNaN(y)) {
            fail(io, `${Number.isNaN(x) ? l : r}: integer expression expected`, 2);
            return 2;
          }
          return op === '-eq' ? x === y : op === '-ne' ? x !== y : op === '-lt' ? x < y : op === '-le' ? x <= y : op === '-gt' ? x > y : x >= y;
        }
      }
    }
    fail(io, 'too many arguments', 2);
    return 2;
  };
  const r = evalExpr(args);
  return typeof r === 'number' ? r : r ? 0 : 1;
}

/** Names a lookup tries, in resolv.conf order (search path first: ndots is 5). */
export function dnsCandidates(name: string, namespace: string, domain: string): string[] {
  if (name.endsWith('.')) return [name.slice(0, -1)];
  const search = [`${namespace}.svc.${domain}`, `svc.${domain}`, domain].map((s) => `${name}.${s}`);
  return (name.split('.').length - 1 >= 5 ? [name, ...search] : [...search, name]);
}

export async function nslookup(io: ProgramIO): Promise<number> {
  const args = io.argv.slice(1).filter((a) => !a.startsWith('-'));
  const name = args[0];
  if (!name) {
    io.stderr.write('BusyBox v1.36.1 multi-call binary.\n\nUsage: nslookup [-type=QUERY_TYPE] [-debug] HOST [DNS_SERVER]\n');
    return 1;
  }
  const dns = io.ctx.clusterDNS ?? '10.96.0.10';
  const domain = io.ctx.clusterDomain ?? 'cluster.local';
  io.stdout.write(`Server:\t\t${dns}\nAddress:\t${dns}${io.flavour === 'busybox' ? ':53' : '#53'}\n\n`);
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) {
    io.stdout.write(`** server can't find ${name.split('.').reverse().join('.')}.in-addr.arpa: NXDOMAIN\n\n`);
    return 1;
  }
  for (const candidate of dnsCandidates(name, io.ctx.namespace, domain)) {
    const ip = io.ctx.net.resolve(candidate);
    if (ip) {
      io.stdout.write(`Name:\t${candidate}\nAddress: ${ip}\n\n`);
      return 0;
    }
  }
  io.stdout.write(`** server can't find ${name}: NXDOMAIN\n\n`);
  return 1;
}

export async function which(io: ProgramIO, known: (name: string) => boolean): Promise<number> {
  let status = 0;
  for (const n of io.argv.slice(1)) {
    if (known(n) && !isBuiltin(n)) io.stdout.write(`/usr/bin/${n}\n`);
    else status = 1;
  }
  return status;
}

/** uids of the users the simulated images run as; a bare number is a uid without a passwd entry. */
const KNOWN_USERS: Record<string, { uid: number; gid: number; group: string }> = {
  root: { uid: 0, gid: 0, group: 'root' },
  default: { uid: 1001, gid: 0, group: 'root' },
  curl_user: { uid: 100, gid: 101, group: 'curl_group' },
};

export async function id(io: ProgramIO): Promise<number> {
  const u = io.user;
  if (/^\d+$/.test(u)) io.stdout.write(`uid=${u} gid=0(root) groups=0(root)\n`);
  else {
    const k = KNOWN_USERS[u] ?? { uid: 1000, gid: 1000, group: u };
    io.stdout.write(`uid=${k.uid}(${u}) gid=${k.gid}(${k.group}) groups=${k.gid}(${k.group})\n`);
  }
  return 0;
}

export async function whoami(io: ProgramIO): Promise<number> {
  if (/^\d+$/.test(io.user)) {
    io.stderr.write(`whoami: cannot find name for user ID ${io.user}\n`);
    return 1;
  }
  io.stdout.write(`${io.user}\n`);
  return 0;
}

/** A real binary of the image that the simulation does not run (python, node, ruby, java, nginx…). */
export function unsupportedProgram(name: string) {
  return async (io: ProgramIO): Promise<number> => {
    io.stderr.write(`${name}: running ${name} is not supported by the embedded cluster (its image behaviour is simulated)\n`);
    return 126;
  };
}
