/**
 * curl over the simulated network, with the flags people use against a cluster and curl's own
 * wording of errors and exit codes (curl 7.88, as Debian bookworm-based images ship it).
 * An option this does not implement is refused like an unknown option, never ignored.
 */
import { NetworkError, type HttpRequest, type HttpResponse } from '../../types.js';
import { reasonPhrase } from '../../http.js';
import { FsFailure, fsErrorText } from '../fs.js';
import { absPath, type ProgramIO } from '../program.js';
import { readAll } from '../streams.js';

export const CURL_VERSION = '7.88.1';
/** curlimages/curl's latest release as Istio's samples/curl pulls it (untagged). */
export const CURLIMAGES_LATEST = '8.16.0';

/** The curl an image ships: curlimages/curl:X.Y.Z is curl X.Y.Z; Debian bookworm-based images ship 7.88.1. */
export function curlVersion(image: string): string {
  const m = /(?:^|\/)curlimages\/curl(?::([^@]+))?(?:@.*)?$/.exec(image);
  if (!m) return CURL_VERSION;
  return m[1] && /^\d+\.\d+\.\d+$/.test(m[1]) ? m[1] : CURLIMAGES_LATEST;
}

/** A failure with curl's exit code and message (`curl: (N) message`). */
class CurlError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

interface CurlOptions {
  urls: string[];
  silent: boolean;
  showError: boolean;
  verbose: boolean;
  head: boolean;
  include: boolean;
  output?: string;
  remoteName: boolean;
  writeOut?: string;
  headers: string[];
  method?: string;
  data: string[];
  dataIsSet: boolean;
  get: boolean;
  location: boolean;
  maxRedirs: number;
  maxTimeMs?: number;
  connectTimeoutMs?: number;
  fail: boolean;
  failWithBody: boolean;
  cookies: string[];
  cookieJar?: string;
  userAgent?: string;
  user?: string;
  referer?: string;
  dumpHeader?: string;
  retry: number;
  noProgress: boolean;
}

type Handler = (o: CurlOptions, value: string) => void;
interface OptSpec {
  takesArg: boolean;
  apply: Handler;
}

/** Value errors are worded by the caller with the option as the user typed it (`-m`, `--max-time`). */
class BadValue extends Error {}
const parseSeconds = (value: string): number => {
  if (!/^\d+(\.\d+)?$/.test(value)) throw new BadValue('expected a proper numerical parameter');
  return Math.round(Number(value) * 1000);
};
const parseInteger = (value: string): number => {
  if (!/^-?\d+$/.test(value)) throw new BadValue('expected a proper numerical parameter');
  return Number(value);
};

class CurlUsage extends Error {}

const flag = (apply: (o: CurlOptions) => void): OptSpec => ({ takesArg: false, apply: (o) => apply(o) });
const arg = (apply: Handler): OptSpec => ({ takesArg: true, apply });
const accepted = flag(() => {});

const LONG: Record<string, OptSpec> = {
  silent: flag((o) => (o.silent = true)),
  'show-error': flag((o) => (o.showError = true)),
  verbose: flag((o) => (o.verbose = true)),
  head: flag((o) => (o.head = true)),
  include: flag((o) => (o.include = true)),
  output: arg((o, v) => (o.output = v)),
  'remote-name': flag((o) => (o.remoteName = true)),
  'write-out': arg((o, v) => (o.writeOut = v)),
  header: arg((o, v) => o.headers.push(v)),
  request: arg((o, v) => (o.method = v)),
  data: arg((o, v) => (o.data.push(v), (o.dataIsSet = true))),
  'data-ascii': arg((o, v) => (o.data.push(v), (o.dataIsSet = true))),
  'data-raw': arg((o, v) => (o.data.push(`\0raw${v}`), (o.dataIsSet = true))),
  'data-binary': arg((o, v) => (o.data.push(v), (o.dataIsSet = true))),
  'data-urlencode': arg((o, v) => (o.data.push(`\0enc${v}`), (o.dataIsSet = true))),
  get: flag((o) => (o.get = true)),
  location: flag((o) => (o.location = true)),
  'max-redirs': arg((o, v) => (o.maxRedirs = parseInteger(v))),
  'max-time': arg((o, v) => (o.maxTimeMs = parseSeconds(v))),
  'connect-timeout': arg((o, v) => (o.connectTimeoutMs = parseSeconds(v))),
  fail: flag((o) => (o.fail = true)),
  'fail-with-body': flag((o) => (o.failWithBody = true)),
  insecure: accepted,
  cookie: arg((o, v) => o.cookies.push(v)),
  'cookie-jar': arg((o, v) => (o.cookieJar = v)),
  'user-agent': arg((o, v) => (o.userAgent = v)),
  user: arg((o, v) => (o.user = v)),
  referer: arg((o, v) => (o.referer = v)),
  'dump-header': arg((o, v) => (o.dumpHeader = v)),
  retry: arg((o, v) => (o.retry = parseInteger(v))),
  url: arg((o, v) => o.urls.push(v)),
  'no-progress-meter': flag((o) => (o.noProgress = true)),
  'http1.1': accepted,
  'http1.0': accepted,
  compressed: accepted,
  'no-buffer': accepted,
  'no-keepalive': accepted,
  ipv4: accepted,
};

const SHORT: Record<string, string> = {
  s: 'silent', S: 'show-error', v: 'verbose', I: 'head', i: 'include', o: 'output', O: 'remote-name',
  w: 'write-out', H: 'header', X: 'request', d: 'data', G: 'get', L: 'location', m: 'max-time',
  f: 'fail', k: 'insecure', b: 'cookie', c: 'cookie-jar', A: 'user-agent', u: 'user', e: 'referer',
  D: 'dump-header', N: 'no-buffer', '4': 'ipv4',
};

const TRY_HELP = "curl: try 'curl --help' or 'curl --manual' for more information\n";

function applyValue(spec: OptSpec, o: CurlOptions, value: string, typed: string): void {
  try {
    spec.apply(o, value);
  } catch (e) {
    if (e instanceof BadValue) throw new CurlUsage(`option ${typed}: ${e.message}`);
    throw e;
  }
}

function parseArgs(argv: string[]): CurlOptions {
  const o: CurlOptions = {
    urls: [], silent: false, showError: false, verbose: false, head: false, include: false, remoteName: false,
    headers: [], data: [], dataIsSet: false, get: false, location: false, maxRedirs: 50, fail: false,
    failWithBody: false, cookies: [], retry: 0, noProgress: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      o.urls.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const name = a.slice(2);
      const negated = name.startsWith('no-') && LONG[name.slice(3)] && !LONG[name];
      const spec = LONG[name] ?? (negated ? LONG[name.slice(3)] : undefined);
      if (!spec) throw new CurlUsage(`option ${a}: is unknown`);
      if (spec.takesArg) {
        if (i + 1 >= argv.length) throw new CurlUsage(`option ${a}: requires parameter`);
        applyValue(spec, o, argv[++i], a);
      } else if (!negated) spec.apply(o, '');
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const long = SHORT[a[j]];
        if (!long) throw new CurlUsage(`option -${a.slice(j)}: is unknown`);
        const spec = LONG[long];
        if (spec.takesArg) {
          const rest = a.slice(j + 1);
          if (rest) applyValue(spec, o, rest, `-${a[j]}`);
          else {
            if (i + 1 >= argv.length) throw new CurlUsage(`option -${a[j]}: requires parameter`);
            applyValue(spec, o, argv[++i], `-${a[j]}`);
          }
          break;
        }
        spec.apply(o, '');
      }
      continue;
    }
    o.urls.push(a);
  }
  return o;
}

interface Target {
  scheme: string;
  host: string;
  port: number;
  path: string;
  /** What curl shows as the effective URL. */
  url: string;
}

function parseUrl(raw: string): Target {
  let rest = raw;
  let scheme = 'http';
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(rest);
  if (m) {
    scheme = m[1].toLowerCase();
    rest = rest.slice(m[0].length);
  }
  if (scheme !== 'http') {
    if (scheme === 'https') throw new CurlError(1, 'Protocol "https" not supported or disabled in libcurl (TLS is not simulated by the embedded cluster)');
    throw new CurlError(1, `Protocol "${scheme}" not supported or disabled in libcurl`);
  }
  const slash = rest.search(/[/?#]/);
  const authority = slash < 0 ? rest : rest.slice(0, slash);
  let path = slash < 0 ? '/' : rest.slice(slash);
  if (path.startsWith('?')) path = '/' + path;
  path = path.replace(/#.*$/, '') || '/';
  const hostPort = authority.includes('@') ? authority.slice(authority.lastIndexOf('@') + 1) : authority;
  const hp = /^([^:]*)(?::(\d*))?$/.exec(hostPort);
  if (!hp || !hp[1] || /[\s<>"{}|\\^`]/.test(hp[1])) throw new CurlError(3, 'URL using bad/illegal format or missing URL');
  const port = hp[2] ? Number(hp[2]) : 80;
  if (port > 65535) throw new CurlError(3, 'URL using bad/illegal format or missing URL');
  const host = hp[1].toLowerCase();
  return { scheme, host, port, path: encodeURI(decodeURIComponentSafe(path)), url: `${scheme}://${host}${hp[2] ? `:${port}` : ''}${path}` };
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURI(s);
  } catch {
    return s;
  }
}

function resolveLocation(base: Target, location: string): string {
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(location)) return location;
  const origin = `${base.scheme}://${base.host}:${base.port}`;
  if (location.startsWith('//')) return `${base.scheme}:${location}`;
  if (location.startsWith('/')) return origin + location;
  const dir = base.path.replace(/\?.*$/, '').replace(/[^/]*$/, '');
  return origin + dir + location;
}

/** Header names as HTTP/1.1 servers send them; Envoy sends them lower-case. */
function displayHeaderName(name: string, envoy: boolean): string {
  return envoy ? name : name.replace(/(^|-)([a-z])/g, (_m, d: string, c: string) => d + c.toUpperCase());
}

function headerLines(res: HttpResponse): string[] {
  const envoy = res.headers['server'] === 'istio-envoy' || Object.keys(res.headers).some((k) => k.startsWith('x-envoy-'));
  const lines = [`HTTP/1.1 ${res.status} ${reasonPhrase(res.status)}`];
  for (const [k, v] of Object.entries(res.headers)) {
    for (const one of k === 'set-cookie' ? v.split('\n') : [v]) lines.push(`${displayHeaderName(k, envoy)}: ${one}`);
  }
  return lines;
}

interface Cookie {
  name: string;
  value: string;
  domain: string;
  path: string;
  httpOnly: boolean;
  expires: number;
}

class CookieJar {
  cookies: Cookie[] = [];
  enabled = false;

  loadFile(text: string): void {
    this.enabled = true;
    for (let line of text.split('\n')) {
      let httpOnly = false;
      if (line.startsWith('#HttpOnly_')) {
        httpOnly = true;
        line = line.slice('#HttpOnly_'.length);
      } else if (line.startsWith('#') || !line.trim()) continue;
      const f = line.split('\t');
      if (f.length < 7) continue;
      this.cookies.push({ domain: f[0], path: f[2], expires: Number(f[4]), name: f[5], value: f[6], httpOnly });
    }
  }

  store(host: string, setCookie: string): void {
    const [pair, ...attrs] = setCookie.split(';');
    const eq = pair.indexOf('=');
    if (eq <= 0) return;
    const c: Cookie = { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), domain: host, path: '/', httpOnly: false, expires: 0 };
    let remove = false;
    for (const a of attrs) {
      const [k, v = ''] = a.split('=');
      const key = k.trim().toLowerCase();
      if (key === 'path') c.path = v.trim();
      else if (key === 'httponly') c.httpOnly = true;
      else if (key === 'max-age' && Number(v) <= 0) remove = true;
      else if (key === 'expires' && Date.parse(v) < Date.now()) remove = true;
    }
    this.cookies = this.cookies.filter((x) => !(x.name === c.name && x.domain === c.domain && x.path === c.path));
    if (!remove) this.cookies.push(c);
  }

  headerFor(host: string, path: string): string {
    return this.cookies
      .filter((c) => c.domain.replace(/^\./, '') === host && path.startsWith(c.path))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  serialize(): string {
    let out = '# Netscape HTTP Cookie File\n# https://curl.se/docs/http-cookies.html\n# This file was generated by libcurl! Edit at your own risk.\n\n';
    for (const c of this.cookies) {
      out += `${c.httpOnly ? '#HttpOnly_' : ''}${c.domain}\tFALSE\t${c.path}\tFALSE\t${c.expires}\t${c.name}\t${c.value}\n`;
    }
    return out;
  }
}

function formatSize(n: number): string {
  if (n < 100000) return String(n);
  if (n < 10000 * 1024) return `${Math.round(n / 1024)}k`;
  return `${(n / 1024 / 1024).toFixed(1)}M`;
}

/** curl's meter: the two header lines, the first zero row, then the final row after '\r'. */
function progressMeter(total: number, received: number, elapsedMs: number): string {
  const speed = elapsedMs > 0 ? formatSize(Math.round((received * 1000) / elapsedMs)) : formatSize(received);
  const row = (pct: number, tot: number, got: number, dl: string) =>
    `${String(pct).padStart(3)} ${formatSize(tot).padStart(5)}  ${String(pct).padStart(3)} ${formatSize(got).padStart(5)}    0     0  ${dl.padStart(5)}      0 --:--:-- --:--:-- --:--:-- ${dl.padStart(5)}`;
  const head =
    '  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current\n' +
    '                                 Dload  Upload   Total   Spent    Left  Speed\n';
  const zero = `\r${row(0, 0, 0, '0')}`;
  if (received === 0 && total === 0) return head + zero;
  return head + zero + `\r${row(total > 0 && received === total ? 100 : 0, total, received, speed)}`;
}

export async function curl(io: ProgramIO): Promise<number> {
  let o: CurlOptions;
  try {
    o = parseArgs(io.argv.slice(1));
  } catch (e) {
    if (!(e instanceof CurlUsage)) throw e;
    io.stderr.write(`curl: ${e.message}\n${TRY_HELP}`);
    return 2;
  }
  if (o.urls.length === 0) {
    // Bare `curl` only points at the help; with options it names what is missing.
    io.stderr.write(io.argv.length === 1 ? TRY_HELP : `curl: no URL specified!\n${TRY_HELP}`);
    return 2;
  }
  if (o.remoteName) {
    io.stderr.write(`curl: option -O: is not supported by the embedded cluster; use -o FILE\n`);
    return 2;
  }
  const jar = new CookieJar();
  const cookieHeaders: string[] = [];
  for (const c of o.cookies) {
    if (c.includes('=')) cookieHeaders.push(c);
    else {
      jar.enabled = true;
      try {
        jar.loadFile(io.fs.read(absPath(io, c)).toString('utf8'));
      } catch {
        // curl silently starts an empty cookie engine when the file cannot be read.
      }
    }
  }
  if (o.cookieJar) jar.enabled = true;

  let status = 0;
  for (const url of o.urls) {
    status = await transfer(io, o, url, jar, cookieHeaders);
  }
  if (o.cookieJar) {
    try {
      if (o.cookieJar === '-') io.stdout.write(jar.serialize());
      else io.fs.write(absPath(io, o.cookieJar), Buffer.from(jar.serialize()));
    } catch {
      if (!o.silent || o.showError) io.stderr.write(`curl: (23) Failed to save cookies in ${o.cookieJar}\n`);
    }
  }
  return status;
}

async function buildBody(io: ProgramIO, o: CurlOptions): Promise<string> {
  const parts: string[] = [];
  for (const d of o.data) {
    if (d.startsWith('\0raw')) parts.push(d.slice(4));
    else if (d.startsWith('\0enc')) {
      const v = d.slice(4);
      const eq = v.indexOf('=');
      parts.push(eq < 0 ? encodeURIComponent(v) : `${v.slice(0, eq + 1)}${encodeURIComponent(v.slice(eq + 1))}`);
    } else if (d.startsWith('@')) {
      const file = d.slice(1);
      const text = file === '-' ? (await readAll(io.stdin, io.signal)).toString('utf8') : io.fs.read(absPath(io, file)).toString('utf8');
      parts.push(text.replace(/[\r\n]/g, ''));
    } else parts.push(d);
  }
  return parts.join('&');
}

async function transfer(io: ProgramIO, o: CurlOptions, rawUrl: string, jar: CookieJar, cookieHeaders: string[]): Promise<number> {
  const started = io.ctx.now().getTime();
  const elapsed = () => Math.max(0, io.ctx.now().getTime() - started);
  const showErrors = !o.silent || o.showError;
  const meter = !o.silent && !o.noProgress && !o.verbose && (!io.tty || o.output !== undefined);
  const info = (line: string) => o.verbose && io.stderr.write(`* ${line}\n`);
  const version = curlVersion(io.ctx.image);
  // curl 8 words a refused connection with curl_easy_strerror's text instead of the OS error.
  const modern = Number(version.split('.')[0]) >= 8;
  const refused = modern ? 'Could not connect to server' : 'Connection refused';
  // curl 8.16's verbose lines (hostip.c, cf-socket.c, cfilters.c, multi.c); 7.88's otherwise.
  const localPort = 32768 + Math.floor(io.ctx.random() * 28000);
  let target: Target | undefined;
  let last: HttpResponse | undefined;
  let redirects = 0;
  let headerBytes = 0;
  let remoteIp = '';
  let body: Buffer = Buffer.alloc(0);
  let exit = 0;
  let errorMessage = '';

  let payload = '';
  try {
    payload = o.dataIsSet ? await buildBody(io, o) : '';
  } catch (e) {
    if (!(e instanceof FsFailure)) throw e;
    io.stderr.write(`Warning: Couldn't read data from file "${e.path}", this makes an empty POST.\n`);
  }
  let method = o.method ?? (o.head ? 'HEAD' : o.dataIsSet && !o.get ? 'POST' : 'GET');
  let url = rawUrl;
  if (o.get && payload) url += (url.includes('?') ? '&' : '?') + payload;

  try {
    for (;;) {
      target = parseUrl(url);
      const ip = /^\d+\.\d+\.\d+\.\d+$/.test(target.host) ? target.host : target.host === 'localhost' ? '127.0.0.1' : io.ctx.net.resolve(target.host);
      if (ip === null) {
        info(`Could not resolve host: ${target.host}`);
        throw new CurlError(6, `Could not resolve host: ${target.host}`);
      }
      remoteIp = ip;
      if (o.verbose && modern && !/^\d+\.\d+\.\d+\.\d+$/.test(target.host)) io.stderr.write(`* Host ${target.host}:${target.port} was resolved.\n* IPv6: (none)\n* IPv4: ${ip}\n`);
      if (o.verbose) io.stderr.write(`*   Trying ${ip}:${target.port}...\n`);
      const headers: Record<string, string> = {
        host: target.port === 80 ? target.host : `${target.host}:${target.port}`,
        'user-agent': o.userAgent ?? `curl/${version}`,
        accept: '*/*',
      };
      if (o.referer) headers['referer'] = o.referer.replace(/;auto$/, '');
      if (o.user) headers['authorization'] = `Basic ${Buffer.from(o.user.includes(':') ? o.user : `${o.user}:`).toString('base64')}`;
      const sendBody = payload && method !== 'GET' && method !== 'HEAD' && !o.get ? payload : '';
      if (sendBody || (o.dataIsSet && !o.get)) {
        headers['content-type'] = 'application/x-www-form-urlencoded';
        headers['content-length'] = String(Buffer.byteLength(sendBody));
      }
      const cookie = [...cookieHeaders, ...(jar.enabled ? [jar.headerFor(target.host, target.path)] : [])].filter(Boolean).join('; ');
      if (cookie) headers['cookie'] = cookie;
      const order = ['host', 'authorization', 'user-agent', 'accept', 'referer', 'cookie', 'content-length', 'content-type'];
      for (const h of o.headers) {
        const colon = h.indexOf(':');
        const semi = h.indexOf(';');
        if (colon < 0 && semi === h.length - 1) {
          headers[h.slice(0, -1).toLowerCase()] = '';
          continue;
        }
        if (colon <= 0) continue;
        const name = h.slice(0, colon).trim().toLowerCase();
        const value = h.slice(colon + 1).trim();
        if (value === '') delete headers[name];
        else headers[name] = value;
        if (!order.includes(name)) order.push(name);
      }
      const req: HttpRequest = { method, path: target.path, headers, body: Buffer.from(sendBody) };
      const remaining = o.maxTimeMs !== undefined ? o.maxTimeMs - elapsed() : undefined;
      const timeoutMs = [remaining, o.connectTimeoutMs].filter((x): x is number => x !== undefined).reduce<number | undefined>((a, b) => (a === undefined ? b : Math.min(a, b)), undefined);
      let res: HttpResponse;
      try {
        res = await withAbort(io.ctx.net.request({ host: target.host, port: target.port, scheme: 'http' }, req, timeoutMs !== undefined ? { timeoutMs } : undefined), io.signal);
      } catch (e) {
        if (!(e instanceof NetworkError)) throw e;
        const ms = elapsed();
        switch (e.code) {
          case 'ENOTFOUND':
            info(`Could not resolve host: ${target.host}`);
            throw new CurlError(6, `Could not resolve host: ${target.host}`);
          case 'ECONNREFUSED':
            info(modern ? `connect to ${ip} port ${target.port} from ${io.ctx.podIP} port ${localPort} failed: Connection refused` : `connect to ${ip} port ${target.port} failed: Connection refused`);
            info(`Failed to connect to ${target.host} port ${target.port} after ${ms} ms: ${refused}`);
            throw new CurlError(7, `Failed to connect to ${target.host} port ${target.port} after ${ms} ms: ${refused}`);
          case 'ETIMEDOUT':
            if (o.maxTimeMs !== undefined && (o.connectTimeoutMs === undefined || o.maxTimeMs <= o.connectTimeoutMs)) {
              throw new CurlError(28, `Operation timed out after ${Math.max(ms, o.maxTimeMs)} milliseconds with 0 bytes received`);
            }
            if (o.connectTimeoutMs !== undefined) throw new CurlError(28, `Failed to connect to ${target.host} port ${target.port} after ${Math.max(ms, o.connectTimeoutMs)} ms: Timeout was reached`);
            throw new CurlError(28, `Failed to connect to ${target.host} port ${target.port} after ${ms} ms: Couldn't connect to server`);
          case 'ECONNRESET':
            throw new CurlError(56, 'Recv failure: Connection reset by peer');
        }
      }
      if (o.verbose) {
        io.stderr.write(
          modern
            ? `* Established connection to ${target.host} (${ip} port ${target.port}) from ${io.ctx.podIP} port ${localPort} \n`
            : `* Connected to ${target.host} (${ip}) port ${target.port} (#0)\n`,
        );
        io.stderr.write(`> ${method} ${target.path} HTTP/1.1\r\n`);
        const names = Object.keys(headers).sort((a, b) => order.indexOf(a) - order.indexOf(b));
        for (const k of names) io.stderr.write(`> ${displayHeaderName(k, false)}: ${headers[k]}\r\n`);
        io.stderr.write('> \r\n');
        if (modern) io.stderr.write('* Request completely sent off\n');
        for (const l of headerLines(res)) io.stderr.write(`< ${l}\r\n`);
        io.stderr.write('< \r\n');
      }
      const lines = headerLines(res);
      const headText = lines.join('\r\n') + '\r\n\r\n';
      headerBytes += Buffer.byteLength(headText);
      if (jar.enabled && res.headers['set-cookie']) for (const sc of res.headers['set-cookie'].split('\n')) jar.store(target.host, sc);
      if (o.dumpHeader) {
        if (o.dumpHeader === '-') io.stdout.write(headText);
        else {
          try {
            io.fs.write(absPath(io, o.dumpHeader), Buffer.from(headText), redirects > 0);
          } catch (e) {
            if (!(e instanceof FsFailure)) throw e;
            throw new CurlError(23, 'Failed writing header');
          }
        }
      }
      if (o.include || o.head) io.stdout.write(headText);
      last = res;
      const location = res.headers['location'];
      if (o.location && location && [301, 302, 303, 307, 308].includes(res.status)) {
        if (redirects >= o.maxRedirs) throw new CurlError(47, `Maximum (${o.maxRedirs}) redirects followed`);
        redirects++;
        url = resolveLocation(target, location);
        info(`Issue another request to this URL: '${url}'`);
        if ((res.status === 303 || res.status === 301 || res.status === 302) && method === 'POST' && !o.method) {
          method = 'GET';
          payload = '';
        }
        continue;
      }
      break;
    }
    body = last!.body;
    if ((o.fail || o.failWithBody) && last!.status >= 400) {
      if (o.failWithBody) writeBody(io, o, body);
      throw new CurlError(22, `The requested URL returned error: ${last!.status}`);
    }
    if (!o.head) writeBody(io, o, body);
    info(modern ? `Connection #0 to host ${target!.host}:${target!.port} left intact` : `Connection #0 to host ${target!.host} left intact`);
  } catch (e) {
    if (e instanceof CurlError) {
      exit = e.code;
      errorMessage = e.message;
      if (o.verbose && (exit === 7 || exit === 6 || exit === 28 || exit === 56 || exit === 22)) info(modern ? 'closing connection #0' : 'Closing connection 0');
    } else if (e instanceof AbortedTransfer) {
      return 130;
    } else throw e;
  }
  if (meter) io.stderr.write(progressMeter(last?.body.length ?? 0, exit === 0 ? (last?.body.length ?? 0) : 0, elapsed()) + '\n');
  // post_per_transfer: the error message first, then the write-out (curl 7.88 and 8.x alike).
  if (exit !== 0 && showErrors) io.stderr.write(`curl: (${exit}) ${errorMessage}\n`);
  if (o.writeOut !== undefined) {
    io.stdout.write(
      renderWriteOut(o.writeOut, {
        http_code: String(last?.status ?? 0).padStart(3, '0'),
        response_code: String(last?.status ?? 0).padStart(3, '0'),
        size_download: String(exit === 0 ? (last?.body.length ?? 0) : 0),
        size_header: String(headerBytes),
        size_upload: '0',
        time_total: (elapsed() / 1000).toFixed(6),
        time_connect: (elapsed() / 1000).toFixed(6),
        time_namelookup: '0.000000',
        time_starttransfer: (elapsed() / 1000).toFixed(6),
        url_effective: target?.url ?? rawUrl,
        url: rawUrl,
        content_type: last?.headers['content-type'] ?? '',
        remote_ip: remoteIp,
        remote_port: target ? String(target.port) : '',
        num_redirects: String(redirects),
        redirect_url: last && !o.location && last.headers['location'] && target ? resolveLocation(target, last.headers['location']) : '',
        method,
        http_version: last ? '1.1' : '0',
        exitcode: String(exit),
        errormsg: errorMessage,
        scheme: 'HTTP',
      }, io),
    );
  }
  return exit;
}

class AbortedTransfer extends Error {}

function withAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new AbortedTransfer());
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(new AbortedTransfer());
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => (signal.removeEventListener('abort', onAbort), resolve(v)),
      (e) => (signal.removeEventListener('abort', onAbort), reject(e)),
    );
  });
}

function writeBody(io: ProgramIO, o: CurlOptions, body: Buffer): void {
  if (o.output === undefined || o.output === '-') {
    io.stdout.write(body);
    return;
  }
  const path = absPath(io, o.output);
  try {
    io.fs.write(path, body);
  } catch (e) {
    if (!(e instanceof FsFailure)) throw e;
    if (!o.silent || o.showError) io.stderr.write(`Warning: Failed to open the file ${o.output}: ${fsErrorText(e.code)}\n`);
    throw new CurlError(23, 'Failure writing output to destination');
  }
}

function renderWriteOut(format: string, vars: Record<string, string>, io: ProgramIO): string {
  let out = '';
  for (let i = 0; i < format.length; i++) {
    const c = format[i];
    if (c === '\\' && i + 1 < format.length) {
      const n = format[++i];
      out += n === 'n' ? '\n' : n === 'r' ? '\r' : n === 't' ? '\t' : n === '\\' ? '\\' : `\\${n}`;
    } else if (c === '%' && format[i + 1] === '{') {
      const end = format.indexOf('}', i);
      if (end < 0) {
        out += format.slice(i);
        break;
      }
      const name = format.slice(i + 2, end);
      if (name in vars) out += vars[name];
      else io.stderr.write(`curl: unknown --write-out variable: '${name}'\n`);
      i = end;
    } else if (c === '%' && format[i + 1] === '%') {
      out += '%';
      i++;
    } else out += c;
  }
  return out;
}
