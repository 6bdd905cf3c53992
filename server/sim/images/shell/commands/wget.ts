/** busybox wget: what small images (busybox, alpine) offer instead of curl, with its wording. */
import { NetworkError, type HttpResponse } from '../../types.js';
import { reasonPhrase } from '../../http.js';
import { FsFailure, fsErrorText } from '../fs.js';
import { absPath, type ProgramIO } from '../program.js';

const USAGE = 'BusyBox v1.36.1 multi-call binary.\n\nUsage: wget [-cqS] [--spider] [-O FILE] [-o LOGFILE] [--header STR]\n\t[--post-data STR | --post-file FILE] [-Y on/off]\n\t[-P DIR] [-U AGENT] [-T SEC] URL...\n';

export async function wget(io: ProgramIO): Promise<number> {
  const argv = io.argv.slice(1);
  let quiet = false;
  let serverResponse = false;
  let spider = false;
  let output: string | undefined;
  let timeoutMs: number | undefined;
  let userAgent = 'Wget';
  let postData: string | undefined;
  const headers: Record<string, string> = {};
  const urls: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (inline: string) => inline || argv[++i];
    if (a === '--spider') spider = true;
    else if (a === '-q' || a === '--quiet') quiet = true;
    else if (a === '-S' || a === '--server-response') serverResponse = true;
    else if (a.startsWith('--header')) {
      const h = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i] ?? '';
      const c = h.indexOf(':');
      if (c > 0) headers[h.slice(0, c).trim().toLowerCase()] = h.slice(c + 1).trim();
    } else if (a.startsWith('--post-data')) postData = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
    else if (a.startsWith('--timeout')) timeoutMs = Number(a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i]) * 1000;
    else if (a.startsWith('--user-agent')) userAgent = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i] ?? userAgent;
    else if (/^-[qS]*O/.test(a)) {
      if (a.includes('q')) quiet = true;
      if (a.includes('S')) serverResponse = true;
      output = value(a.slice(a.indexOf('O') + 1));
    } else if (a.startsWith('-T')) timeoutMs = Number(value(a.slice(2))) * 1000;
    else if (a.startsWith('-U')) userAgent = value(a.slice(2)) ?? userAgent;
    else if (/^-[qS]+$/.test(a)) {
      if (a.includes('q')) quiet = true;
      if (a.includes('S')) serverResponse = true;
    } else if (a.startsWith('-')) {
      io.stderr.write(`wget: unrecognized option '${a}'\n${USAGE}`);
      return 1;
    } else urls.push(a);
  }
  if (urls.length === 0) {
    io.stderr.write(USAGE);
    return 1;
  }
  let status = 0;
  for (const raw of urls) status = (await fetchOne(io, raw, { quiet, serverResponse, spider, output, timeoutMs, userAgent, postData, headers })) || status;
  return status;
}

interface WgetOpts {
  quiet: boolean;
  serverResponse: boolean;
  spider: boolean;
  output?: string;
  timeoutMs?: number;
  userAgent: string;
  postData?: string;
  headers: Record<string, string>;
}

async function fetchOne(io: ProgramIO, raw: string, o: WgetOpts): Promise<number> {
  const m = /^(?:([a-z]+):\/\/)?([^/:?#]+)(?::(\d+))?([^#]*)/i.exec(raw);
  if (!m || (m[1] && m[1].toLowerCase() !== 'http')) {
    io.stderr.write(m?.[1]?.toLowerCase() === 'https' ? `wget: not an http or ftp url: ${raw} (TLS is not simulated by the embedded cluster)\n` : `wget: not an http or ftp url: ${raw}\n`);
    return 1;
  }
  const host = m[2].toLowerCase();
  const port = m[3] ? Number(m[3]) : 80;
  const path = m[4] ? (m[4].startsWith('/') ? m[4] : `/${m[4]}`) : '/';
  const ip = /^\d+\.\d+\.\d+\.\d+$/.test(host) ? host : host === 'localhost' ? '127.0.0.1' : io.ctx.net.resolve(host);
  if (ip === null) {
    io.stderr.write(`wget: bad address '${host}${m[3] ? `:${port}` : ''}'\n`);
    return 1;
  }
  if (!o.quiet) io.stderr.write(`Connecting to ${host}${m[3] ? `:${port}` : ''} (${ip}:${port})\n`);
  const headers: Record<string, string> = { host: port === 80 ? host : `${host}:${port}`, 'user-agent': o.userAgent, ...o.headers };
  if (o.postData !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
  let res: HttpResponse;
  try {
    res = await io.ctx.net.request(
      { host, port, scheme: 'http' },
      { method: o.spider ? 'HEAD' : o.postData !== undefined ? 'POST' : 'GET', path, headers, body: Buffer.from(o.postData ?? '') },
      o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : undefined,
    );
  } catch (e) {
    if (!(e instanceof NetworkError)) throw e;
    if (e.code === 'ENOTFOUND') io.stderr.write(`wget: bad address '${host}${m[3] ? `:${port}` : ''}'\n`);
    else if (e.code === 'ECONNREFUSED') io.stderr.write(`wget: can't connect to remote host (${ip}): Connection refused\n`);
    else if (e.code === 'ETIMEDOUT') io.stderr.write('wget: download timed out\n');
    else io.stderr.write('wget: error getting response: Connection reset by peer\n');
    return 1;
  }
  if (o.serverResponse) {
    io.stderr.write(`  HTTP/1.1 ${res.status} ${reasonPhrase(res.status)}\n`);
    for (const [k, v] of Object.entries(res.headers)) for (const one of v.split('\n')) io.stderr.write(`  ${k.replace(/(^|-)([a-z])/g, (_x, d: string, c: string) => d + c.toUpperCase())}: ${one}\n`);
  }
  if (res.status >= 400) {
    io.stderr.write(`wget: server returned error: HTTP/1.1 ${res.status} ${reasonPhrase(res.status)}\n`);
    return 1;
  }
  if (o.spider) {
    if (!o.quiet) io.stderr.write('remote file exists\n');
    return 0;
  }
  const file = o.output ?? (path.replace(/\?.*$/, '').split('/').pop() || 'index.html');
  const bar = (name: string) => `${name.padEnd(20).slice(0, 20)} 100% |********************************| ${String(res.body.length).padStart(5)}  0:00:00 ETA\n`;
  if (file === '-') {
    if (!o.quiet) io.stderr.write('writing to stdout\n');
    io.stdout.write(res.body);
    if (!o.quiet) io.stderr.write(bar('-') + 'written to stdout\n');
    return 0;
  }
  try {
    if (!o.output && io.fs.exists(absPath(io, file))) {
      io.stderr.write(`wget: can't open '${file}': File exists\n`);
      return 1;
    }
    if (!o.quiet) io.stderr.write(`saving to '${file}'\n`);
    io.fs.write(absPath(io, file), res.body);
  } catch (e) {
    if (!(e instanceof FsFailure)) throw e;
    io.stderr.write(`wget: can't open '${file}': ${fsErrorText(e.code)}\n`);
    return 1;
  }
  if (!o.quiet) io.stderr.write(bar(file) + `'${file}' saved\n`);
  return 0;
}
