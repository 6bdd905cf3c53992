/**
 * `tar`: create (`c`), extract (`x`) and list (`t`) uncompressed archives, with `f`, `-C`, `v`
 * and the ownership/permission flags `kubectl cp` passes (`tar cf - PATH` in the source pod,
 * `tar [--no-same-permissions --no-same-owner] -xmf - -C DIR` in the target). GNU tar's wording
 * in debian-based images, busybox's in busybox/alpine ones. Compression is not simulated and says
 * so.
 */
import { FsFailure, fsErrorText } from '../fs.js';
import { absPath, type ProgramIO } from '../program.js';
import { readTar, TarFormatError, writeTar, type TarEntry } from '../tar-format.js';

/** Archives a learner can push into a container's memory. */
const MAX_ARCHIVE = 32 * 1024 * 1024;

interface Options {
  mode?: 'c' | 'x' | 't';
  file?: string;
  dir?: string;
  verbose: boolean;
  paths: string[];
}

class Usage extends Error {}

function parse(argv: string[]): Options {
  const o: Options = { verbose: false, paths: [] };
  const args = [...argv];
  // The first argument may be a bundle without dash (`tar cf - x`).
  if (args[0] && !args[0].startsWith('-')) args[0] = `-${args[0]}`;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') { o.paths.push(...args.slice(i + 1)); break; }
    if (a.startsWith('--')) {
      const [name, value] = a.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
      const arg = () => value ?? args[++i] ?? missingArg(name);
      switch (name) {
        case 'create': setMode(o, 'c'); break;
        case 'extract': case 'get': setMode(o, 'x'); break;
        case 'list': setMode(o, 't'); break;
        case 'file': o.file = arg(); break;
        case 'directory': o.dir = arg(); break;
        case 'verbose': o.verbose = true; break;
        case 'no-same-owner': case 'no-same-permissions': case 'same-owner': case 'same-permissions': case 'preserve-permissions': case 'touch': case 'overwrite': break;
        case 'gzip': case 'gunzip': case 'bzip2': case 'xz': case 'zstd': case 'auto-compress':
          throw new Usage(`option '--${name}' is not supported by the embedded cluster (archives are uncompressed)`);
        default: throw new Usage(`unrecognized option '${a}'`);
      }
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const c = a[j]!;
        const arg = () => {
          const rest = a.slice(j + 1);
          j = a.length;
          return rest || (args[++i] ?? missingArg(c));
        };
        if (c === 'c' || c === 'x' || c === 't') setMode(o, c);
        else if (c === 'f') o.file = arg();
        else if (c === 'C') o.dir = arg();
        else if (c === 'v') o.verbose = true;
        else if (c === 'm' || c === 'o' || c === 'p') continue;
        else if ('zjJaZ'.includes(c)) throw new Usage(`option -${c} is not supported by the embedded cluster (archives are uncompressed)`);
        else throw new Usage(`invalid option -- '${c}'`);
      }
      continue;
    }
    o.paths.push(a);
  }
  return o;
}

function setMode(o: Options, m: 'c' | 'x' | 't'): void {
  if (o.mode && o.mode !== m) throw new Usage("You may not specify more than one '-Acdtrux', '--delete' or  '--test-label' option");
  o.mode = m;
}

function missingArg(name: string): never {
  throw new Usage(name.length === 1 ? `option requires an argument -- '${name}'` : `option '--${name}' requires an argument`);
}

export async function tar(io: ProgramIO): Promise<number> {
  const gnu = io.flavour !== 'busybox';
  const err = (m: string) => io.stderr.write(`tar: ${m}\n`);
  let o: Options;
  try {
    o = parse(io.argv.slice(1));
    if (!o.mode) throw new Usage("You must specify one of the '-Acdtrux', '--delete' or '--test-label' options");
  } catch (e) {
    if (!(e instanceof Usage)) throw e;
    err(e.message);
    io.stderr.write(gnu ? "Try 'tar --help' or 'tar --usage' for more information.\n" : 'BusyBox v1.36.1 multi-call binary.\n\nUsage: tar c|x|t [-ZzJjahmvokO] [-f TARFILE] [-C DIR] [-T FILE] [-X FILE] [LONGOPT]... [FILE]...\n');
    return gnu ? 2 : 1;
  }
  // Under -C, names resolve in that directory; it must exist.
  let cwd = io.cwd;
  if (o.dir !== undefined) {
    const d = absPath(io, o.dir);
    if (!io.fs.isDir(d)) {
      const why = fsErrorText(io.fs.exists(d) ? 'ENOTDIR' : 'ENOENT');
      if (gnu) {
        err(`${o.dir}: Cannot open: ${why}`);
        err('Error is not recoverable: exiting now');
        return 2;
      }
      err(`can't change directory to '${o.dir}': ${why}`);
      return 1;
    }
    cwd = d;
  }
  const file = o.file ?? '-';
  return o.mode === 'c' ? create(io, o, cwd, file, gnu, err) : extractOrList(io, o, cwd, file, gnu, err);
}

function memberName(path: string, warned: { done: boolean }, gnu: boolean, err: (m: string) => void): string {
  // Both tars drop a leading `/` and `../` parts, and say so once.
  const m = /^(?:\/|\.\.\/|.*\/\.\.\/)+/.exec(path);
  if (!m) return path;
  if (!warned.done) {
    warned.done = true;
    err(gnu ? `Removing leading \`${m[0]}' from member names` : `removing leading '${m[0]}' from member names`);
  }
  return path.slice(m[0].length);
}

function create(io: ProgramIO, o: Options, cwd: string, file: string, gnu: boolean, err: (m: string) => void): number {
  if (o.paths.length === 0) {
    err('Cowardly refusing to create an empty archive');
    if (gnu) io.stderr.write("Try 'tar --help' or 'tar --usage' for more information.\n");
    return gnu ? 2 : 1;
  }
  const entries: Omit<TarEntry, 'linkname'>[] = [];
  const mtime = Math.floor(io.ctx.now().getTime() / 1000);
  const warned = { done: false };
  let failed = false;
  const verbose = (name: string) => {
    // With the archive on stdout, GNU tar lists members on stderr.
    if (o.verbose) (file === '-' ? io.stderr : io.stdout).write(`${name}\n`);
  };
  const add = (abs: string, name: string) => {
    if (io.fs.isDir(abs)) {
      entries.push({ name, type: 'dir', mode: 0o755, mtime, data: Buffer.alloc(0) });
      verbose(`${name}/`);
      for (const child of io.fs.list(abs)) add(abs === '/' ? `/${child}` : `${abs}/${child}`, name ? `${name.replace(/\/$/, '')}/${child}` : child);
    } else {
      entries.push({ name, type: 'file', mode: 0o644, mtime, data: io.fs.read(abs) });
      verbose(name);
    }
  };
  for (const p of o.paths) {
    const abs = p.startsWith('/') ? absPath({ ...io, cwd: '/' }, p) : absPath({ ...io, cwd }, p);
    // GNU tar names the member before it stats the file (so it warns about the slash first); busybox after.
    const name = () => memberName(p.replace(/\/+$/, '') || p, warned, gnu, err) || './';
    const gnuName = gnu ? name() : undefined;
    if (!io.fs.exists(abs)) {
      err(gnu ? `${p}: Cannot stat: No such file or directory` : `${p}: No such file or directory`);
      failed = true;
      continue;
    }
    add(abs, gnuName ?? name());
  }
  const archive = writeTar(entries);
  if (file === '-') io.stdout.write(archive);
  // The archive's own path is not under -C: tar opens it before changing directory.
  else io.fs.write(absPath(io, file), archive);
  if (failed) {
    err(gnu ? 'Exiting with failure status due to previous errors' : 'error exit delayed from previous errors');
    return gnu ? 2 : 1;
  }
  return 0;
}

async function readArchive(io: ProgramIO, file: string): Promise<Buffer | FsFailure | 'too-large'> {
  if (file !== '-') {
    try {
      return io.fs.read(absPath(io, file));
    } catch (e) {
      if (e instanceof FsFailure) return e;
      throw e;
    }
  }
  const parts: Buffer[] = [];
  let size = 0;
  for (;;) {
    const chunk = await io.stdin.read();
    if (chunk === null) break;
    size += chunk.length;
    if (size > MAX_ARCHIVE) return 'too-large';
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}

async function extractOrList(io: ProgramIO, o: Options, cwd: string, file: string, gnu: boolean, err: (m: string) => void): Promise<number> {
  const code = gnu ? 2 : 1;
  const data = await readArchive(io, file);
  if (data === 'too-large') {
    err(`archive larger than ${MAX_ARCHIVE / 1024 / 1024} MiB: not supported by the embedded cluster`);
    return code;
  }
  if (data instanceof FsFailure) {
    err(gnu ? `${file}: Cannot open: ${fsErrorText(data.code)}` : `can't open '${file}': ${fsErrorText(data.code)}`);
    if (gnu) err('Error is not recoverable: exiting now');
    return code;
  }
  let entries: TarEntry[];
  try {
    entries = readTar(data);
  } catch (e) {
    if (!(e instanceof TarFormatError)) throw e;
    if (gnu) {
      err(e.message);
      err('Exiting with failure status due to previous errors');
    } else err(e.message === 'Unexpected EOF in archive' ? 'short read' : 'invalid tar magic');
    return code;
  }
  const warned = { done: false };
  let failed = false;
  const wanted = o.paths.map((p) => p.replace(/\/+$/, ''));
  for (const e of entries) {
    const name = memberName(e.name, warned, gnu, err);
    if (wanted.length && !wanted.some((w) => name === w || name.startsWith(`${w}/`) || name.replace(/\/$/, '') === w)) continue;
    if (o.mode === 't') {
      io.stdout.write(`${e.name}\n`);
      continue;
    }
    if (o.verbose) io.stdout.write(`${e.name}\n`);
    if (!name || name === './') continue;
    const target = absPath({ ...io, cwd }, name);
    try {
      if (e.type === 'dir') {
        mkdirs(io, target);
      } else if (e.type === 'file') {
        mkdirs(io, target.slice(0, target.lastIndexOf('/')) || '/');
        io.fs.write(target, e.data);
      } else {
        err(`${name}: ${e.type === 'other' ? 'special files' : e.type === 'symlink' ? 'symbolic links' : 'hard links'} are not supported by the embedded cluster`);
        failed = true;
      }
    } catch (x) {
      if (!(x instanceof FsFailure)) throw x;
      err(gnu ? `${name}: Cannot open: ${fsErrorText(x.code)}` : `can't create '${name}': ${fsErrorText(x.code)}`);
      failed = true;
    }
  }
  for (const w of wanted) {
    if (!entries.some((e) => memberName(e.name, { done: true }, gnu, err).replace(/\/$/, '') === w || e.name.startsWith(`${w}/`))) {
      err(gnu ? `${w}: Not found in archive` : `${w}: not found in archive`);
      failed = true;
    }
  }
  if (failed) {
    if (gnu) err('Exiting with failure status due to previous errors');
    return code;
  }
  return 0;
}

function mkdirs(io: ProgramIO, dir: string): void {
  let cur = '';
  for (const seg of dir.split('/').filter(Boolean)) {
    cur += `/${seg}`;
    if (!io.fs.isDir(cur)) io.fs.mkdir(cur);
  }
}
