/**
 * The tar archive format, as far as `kubectl cp` and people piping tar through `kubectl exec` need
 * it: GNU tar's default output (ustar headers with the GNU magic, `././@LongLink` for long names,
 * padded to 10 KiB records), and a reader of ustar, GNU and PAX archives (Go's archive/tar, which
 * kubectl writes with, uses PAX records for long names).
 */

export interface TarEntry {
  name: string;
  type: 'file' | 'dir' | 'symlink' | 'hardlink' | 'other';
  mode: number;
  mtime: number;
  data: Buffer;
  linkname: string;
}

const BLOCK = 512;
const RECORD = 20 * BLOCK;

function octal(n: number, width: number): string {
  // `width - 1` digits then NUL, as GNU tar writes numeric fields.
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

function put(buf: Buffer, offset: number, width: number, text: string): void {
  buf.write(text.slice(0, width), offset, width, 'utf8');
}

function header(name: string, typeflag: string, size: number, mode: number, mtime: number, linkname = ''): Buffer {
  const h = Buffer.alloc(BLOCK);
  put(h, 0, 100, name);
  put(h, 100, 8, octal(mode, 8));
  put(h, 108, 8, octal(0, 8));
  put(h, 116, 8, octal(0, 8));
  put(h, 124, 12, octal(size, 12));
  put(h, 136, 12, octal(mtime, 12));
  h.fill(' ', 148, 156);
  put(h, 156, 1, typeflag);
  put(h, 157, 100, linkname);
  put(h, 257, 8, 'ustar  \0');
  put(h, 265, 32, 'root');
  put(h, 297, 32, 'root');
  let sum = 0;
  for (const b of h) sum += b;
  put(h, 148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  return h;
}

function padded(data: Buffer): Buffer[] {
  const rest = data.length % BLOCK;
  return rest ? [data, Buffer.alloc(BLOCK - rest)] : [data];
}

/** Archive bytes of the entries, as `tar cf -` writes them (GNU format). */
export function writeTar(entries: Omit<TarEntry, 'linkname'>[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const name = e.type === 'dir' && !e.name.endsWith('/') ? `${e.name}/` : e.name;
    const typeflag = e.type === 'dir' ? '5' : '0';
    const size = e.type === 'dir' ? 0 : e.data.length;
    if (Buffer.byteLength(name) > 100) {
      const long = Buffer.from(name + '\0');
      parts.push(header('././@LongLink', 'L', long.length, 0o644, 0), ...padded(long));
    }
    parts.push(header(name, typeflag, size, e.mode, e.mtime));
    if (size) parts.push(...padded(e.data));
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  const total = parts.reduce((n, p) => n + p.length, 0);
  if (total % RECORD) parts.push(Buffer.alloc(RECORD - (total % RECORD)));
  return Buffer.concat(parts);
}

export class TarFormatError extends Error {}

function field(h: Buffer, offset: number, width: number): string {
  const raw = h.subarray(offset, offset + width);
  const nul = raw.indexOf(0);
  return raw.subarray(0, nul < 0 ? width : nul).toString('utf8');
}

function number(h: Buffer, offset: number, width: number): number {
  // GNU base-256 for values that do not fit in octal.
  if (h[offset]! & 0x80) {
    let n = 0;
    for (let i = offset + 1; i < offset + width; i++) n = n * 256 + h[i]!;
    return n;
  }
  const text = field(h, offset, width).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new TarFormatError('bad number');
  return parseInt(text, 8);
}

function checksumOk(h: Buffer): boolean {
  let unsigned = 0;
  for (let i = 0; i < BLOCK; i++) unsigned += i >= 148 && i < 156 ? 32 : h[i]!;
  const stored = field(h, 148, 8).trim();
  return /^[0-7]+$/.test(stored) && parseInt(stored, 8) === unsigned;
}

function paxRecords(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space < 0) break;
    const len = Number(data.subarray(pos, space).toString());
    if (!Number.isInteger(len) || len <= 0 || pos + len > data.length) throw new TarFormatError('bad pax record');
    const record = data.subarray(space + 1, pos + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    pos += len;
  }
  return out;
}

/**
 * Entries of an archive. Throws TarFormatError when the data is not a tar archive or ends inside
 * an entry; an archive that ends without its zero blocks is accepted, as GNU tar does.
 */
export function readTar(archive: Buffer): TarEntry[] {
  const entries: TarEntry[] = [];
  let pos = 0;
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax: Record<string, string> = {};
  let globalPax: Record<string, string> = {};
  while (pos + BLOCK <= archive.length) {
    const h = archive.subarray(pos, pos + BLOCK);
    if (h.every((b) => b === 0)) break;
    if (!checksumOk(h)) throw new TarFormatError(entries.length || pos ? 'Skipping to next header' : 'This does not look like a tar archive');
    const typeflag = String.fromCharCode(h[156]!);
    const size = number(h, 124, 12);
    const start = pos + BLOCK;
    if (start + size > archive.length) throw new TarFormatError('Unexpected EOF in archive');
    const data = archive.subarray(start, start + size);
    pos = start + Math.ceil(size / BLOCK) * BLOCK;
    if (typeflag === 'L') { longName = data.toString('utf8').replace(/\0+$/, ''); continue; }
    if (typeflag === 'K') { longLink = data.toString('utf8').replace(/\0+$/, ''); continue; }
    if (typeflag === 'x') { pax = paxRecords(data); continue; }
    if (typeflag === 'g') { globalPax = { ...globalPax, ...paxRecords(data) }; continue; }
    const magic = field(h, 257, 6);
    const prefix = magic === 'ustar' ? field(h, 345, 155) : '';
    const records = { ...globalPax, ...pax };
    const name = records.path ?? longName ?? (prefix ? `${prefix}/${field(h, 0, 100)}` : field(h, 0, 100));
    const linkname = records.linkpath ?? longLink ?? field(h, 157, 100);
    const type = typeflag === '5' ? 'dir' : typeflag === '2' ? 'symlink' : typeflag === '1' ? 'hardlink' : typeflag === '0' || typeflag === '\0' || typeflag === '7' ? 'file' : 'other';
    entries.push({ name, type, mode: number(h, 100, 8), mtime: number(h, 136, 12), data: Buffer.from(data), linkname });
    longName = longLink = undefined;
    pax = {};
  }
  // A partial block that is not padding: a truncated archive, or none at all.
  if (pos < archive.length && pos + BLOCK > archive.length && archive.subarray(pos).some((b) => b !== 0)) {
    throw new TarFormatError(pos === 0 ? 'This does not look like a tar archive' : 'Unexpected EOF in archive');
  }
  return entries;
}
