/**
 * The fortio binary's client modes (fortio/fortio v1.69.5, cli/fortio_main.go): `fortio curl URL`
 * (headers on stderr, body on stdout) and `fortio load` (c connections in parallel, each a
 * sequential loop, qps 0 = as fast as the answers come), printing the summary fortio prints.
 * Requests go out through the pod's network, so a sidecar sees and shapes every one of them.
 * Server modes and the other commands say they are not run here.
 */
import { NetworkError, type HttpResponse } from '../../../types.js';
import { reasonPhrase } from '../../../http.js';
import type { ImageProgramIO as ProgramIO } from '../../../types.js';
import { sleepAbortable } from '../../streams.js';
import { goDuration, goG, parseGoDuration } from './go-format.js';
import { Counter, Histogram } from './stats.js';

export const FORTIO_VERSION = '1.69.5';
/** GOMAXPROCS fortio reports: the simulated nodes have 2 CPUs. */
const GOMAXPROCS = 2;
const LEVELS = ['Debug', 'Verbose', 'Info', 'Warning', 'Error', 'Critical', 'Fatal'];
const JSON_LEVELS = ['dbug', 'trace', 'info', 'warn', 'err', 'crit', 'fatal'];
const INFO = 2;
const WARNING = 3;
const ERROR = 4;
const SOCKET_ERROR = -1;

interface Flags {
  c: number;
  qps: number;
  n: number;
  t: number | null; // ns
  timeoutNs: number;
  percentiles: number[];
  resolution: number;
  headers: string[];
  allowInitialErrors: boolean;
  level: number;
  levelChanged: 'loud' | 'quiet' | null;
}

class UsageError extends Error {}

/** fortio.org/log: JSON lines for servers and `load`, `HH:MM:SS [E] msg` for client tools (`curl`). */
class FortioLog {
  constructor(
    private readonly io: ProgramIO,
    private readonly json: boolean,
    public level: number,
  ) {}

  enabled(lvl: number): boolean {
    return lvl >= this.level;
  }

  /** log.S / log.Printf: file and line are where the real call sits in v1.69.5 (and fortio.org/log v1.17.2). */
  /** Attribute values as fortio.org/log renders them: numbers bare, strings quoted, structs (a net.TCPAddr) as JSON. */
  write(lvl: number, file: string, line: number, msg: string, attrs: [string, string | number | { json: unknown }][] = [], goroutine = 1): void {
    if (!this.enabled(lvl)) return;
    const now = this.io.ctx.now();
    if (this.json) {
      const ts = (Math.floor(now.getTime() * 1000) / 1e6).toFixed(6);
      const extra = attrs.map(([k, v]) => `,${JSON.stringify(k)}:${renderAttr(v)}`).join('');
      this.io.stderr.write(`{"ts":${ts},"level":"${JSON_LEVELS[lvl]}","r":${goroutine},"file":"${file}","line":${line},"msg":${JSON.stringify(msg)}${extra}}\n`);
    } else {
      const t = now.toISOString().slice(11, 19);
      const extra = attrs.map(([k, v]) => `, ${k}=${renderAttr(v)}`).join('');
      this.io.stderr.write(`${t} [${LEVELS[lvl][0]}] ${msg}${extra}\n`);
    }
  }
}

const renderAttr = (v: string | number | { json: unknown }) => (typeof v === 'number' ? String(v) : typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v.json));

function parseFlags(args: string[]): { flags: Flags; rest: string[] } {
  const f: Flags = { c: 4, qps: 8, n: 0, t: 5e9, timeoutNs: 3e9, percentiles: [50, 75, 90, 99, 99.9], resolution: 0.001, headers: [], allowInitialErrors: false, level: INFO, levelChanged: null };
  const bools = new Set(['quiet', 'allow-initial-errors', 'k', 'https-insecure', 'stdclient', 'h2', 'sequential-warmup', 'jitter', 'uniform', 'nocatchup']);
  const valued = new Set(['c', 'qps', 'n', 't', 'timeout', 'p', 'r', 'H', 'loglevel', 'labels', 'payload', 'content-type', 'offset']);
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    const body = a.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    let value: string | undefined = eq >= 0 ? body.slice(eq + 1) : undefined;
    if (bools.has(name)) {
      const on = value === undefined || value === 'true' || value === '1';
      if (name === 'quiet' && on) {
        f.level = ERROR;
        f.levelChanged = 'quiet';
      } else if (name === 'allow-initial-errors') f.allowInitialErrors = on;
      else if (name !== 'quiet' && on) throw new UsageError(`-${name} is not supported by the embedded cluster's fortio`);
      continue;
    }
    if (!valued.has(name)) throw new UsageError(`flag provided but not defined: -${name}`);
    if (value === undefined) {
      if (i + 1 >= args.length) throw new UsageError(`flag needs an argument: -${name}`);
      value = args[++i];
    }
    const bad = (kind: string) => new UsageError(`invalid value "${value}" for flag -${name}: parse error${kind ? ` (${kind})` : ''}`);
    const num = () => {
      const v = Number(value);
      if (value === '' || Number.isNaN(v)) throw bad('');
      return v;
    };
    const dur = () => {
      const v = parseGoDuration(value!);
      if (v === null) throw bad('');
      return v;
    };
    switch (name) {
      case 'c':
        f.c = Math.trunc(num());
        break;
      case 'qps':
        f.qps = num();
        break;
      case 'n':
        f.n = Math.trunc(num());
        break;
      case 't':
        f.t = dur();
        break;
      case 'timeout':
        f.timeoutNs = dur();
        break;
      case 'r':
        f.resolution = num();
        break;
      case 'p':
        f.percentiles = value.split(',').map((s) => {
          const v = Number(s.trim());
          if (s.trim() === '' || Number.isNaN(v)) throw new UsageError(`Unable to extract percentiles from -p: strconv.ParseFloat: parsing "${s.trim()}": invalid syntax`);
          return v;
        });
        break;
      case 'H':
        f.headers.push(value);
        break;
      case 'loglevel': {
        const lvl = LEVELS.findIndex((l) => l.toLowerCase() === value!.toLowerCase());
        if (lvl < 0) throw new UsageError(`invalid value "${value}" for flag -loglevel: invalid log level "${value}" (valid: ${LEVELS.join(', ')})`);
        if (lvl !== f.level) f.levelChanged = 'loud';
        f.level = lvl;
        break;
      }
      default:
        // -labels, -payload, -content-type, -offset: accepted with no effect on the simulated run.
        if (name === 'payload' || name === 'content-type') throw new UsageError(`-${name} is not supported by the embedded cluster's fortio`);
    }
  }
  return { flags: f, rest: args.slice(i) };
}

interface Target {
  url: string;
  host: string;
  port: number;
  path: string;
  hostHeader: string;
}

function parseUrl(raw: string, log: FortioLog): Target | string {
  let url = raw;
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    log.write(WARNING, 'http_client.go', 172, `Assuming http:// on missing scheme for '${raw}'`);
    url = `http://${url}`;
  }
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `parse "${url}": invalid URL`;
  }
  if (u.protocol !== 'http:') return `${u.protocol.replace(':', '')}:// is not supported by the embedded cluster's fortio (only http://)`;
  const port = u.port ? Number(u.port) : 80;
  return { url, host: u.hostname, port, path: (u.pathname || '/') + u.search, hostHeader: u.port ? `${u.hostname}:${u.port}` : u.hostname };
}

/** The raw response header block as it came over the wire (its size is what fortio counts). */
function headerBlock(res: HttpResponse): string {
  let s = `HTTP/1.1 ${res.status} ${reasonPhrase(res.status)}\r\n`;
  for (const [k, v] of Object.entries(res.headers)) for (const one of k === 'set-cookie' ? v.split('\n') : [v]) s += `${k}: ${one}\r\n`;
  return s + '\r\n';
}

const codeIsOK = (code: number) => (code >= 200 && code <= 299) || code === 304;
/** Seconds since t0 as Go measures them: whole nanoseconds (so %g prints 0.000932857, not float noise). */
const elapsedSince = (t0: number) => Math.round((performance.now() - t0) * 1e6) / 1e9;

/** One connection's worth of client ("thread"): keep-alive until the server says close or an error. */
class FastClient {
  connected = false;
  /** Connection (dial) times, a histogram as in fortio (its counter prints on the per-thread line). */
  readonly connStats: Histogram;
  readonly ips = new Map<string, number>();
  constructor(
    readonly id: number,
    private readonly io: ProgramIO,
    private readonly target: Target,
    private readonly flags: Flags,
    private readonly log: FortioLog,
    private readonly ip: string,
  ) {
    this.connStats = new Histogram(0, flags.resolution);
  }

  /** One fetch: status code (-1 for a socket error), header and total sizes, and the response. */
  async fetch(): Promise<{ code: number; headerSize: number; size: number; res?: HttpResponse }> {
    const dest = `${this.ip}:${this.target.port}`;
    const tcpAddr = { json: { IP: this.ip, Port: this.target.port, Zone: '' } };
    if (!this.connected) {
      // The simulated network has no handshake: a connection costs no measurable time.
      const t0 = performance.now();
      this.connected = true;
      this.connStats.record(elapsedSince(t0));
      this.ips.set(dest, (this.ips.get(dest) ?? 0) + 1);
    }
    const headers: Record<string, string> = { host: this.target.hostHeader, 'user-agent': `fortio.org/fortio-${FORTIO_VERSION}` };
    for (const h of this.flags.headers) {
      const colon = h.indexOf(':');
      if (colon <= 0) continue;
      const name = h.slice(0, colon).trim().toLowerCase();
      const value = h.slice(colon + 1).trim();
      if (name === 'host') headers.host = value;
      else headers[name] = value;
    }
    try {
      const res = await this.io.ctx.net.request(
        { host: this.ip, port: this.target.port, scheme: 'http' },
        { method: 'GET', path: this.target.path, headers, body: Buffer.alloc(0) },
        { timeoutMs: Math.max(1, Math.round(this.flags.timeoutNs / 1e6)) },
      );
      const head = headerBlock(res);
      if (!codeIsOK(res.status)) {
        this.log.write(WARNING, 'http_client.go', 1151, 'Non ok http code', [['code', res.status], ['status', `HTTP/1.1 ${res.status}`], ['thread', this.id], ['run', 0]], 9 + this.id);
      }
      if ((res.headers['connection'] ?? '').toLowerCase() === 'close') this.connected = false;
      const headerSize = Buffer.byteLength(head);
      return { code: res.status, headerSize, size: headerSize + res.body.length, res };
    } catch (e) {
      if (!(e instanceof NetworkError)) throw e;
      this.connected = false;
      const local = `${this.io.ctx.podIP}:${40000 + this.id}`;
      if (e.code === 'ECONNREFUSED') {
        this.log.write(ERROR, 'http_client.go', 954, 'Unable to connect', [['dest', tcpAddr], ['err', `dial tcp ${dest}: connect: connection refused`], ['numfd', 10], ['thread', this.id], ['run', 0]], 9 + this.id);
      } else if (e.code === 'ECONNRESET') {
        this.log.write(ERROR, 'http_client.go', 1130, 'Read error', [['err', `read tcp ${local}->${dest}: read: connection reset by peer`], ['size', 0], ['header_len', 0], ['dest', tcpAddr], ['url', this.target.url], ['thread', this.id], ['run', 0]], 9 + this.id);
      } else if (e.code === 'ETIMEDOUT') {
        this.log.write(ERROR, 'http_client.go', 1130, 'Timeout error (incomplete/invalid response)', [['err', `read tcp ${local}->${dest}: i/o timeout`], ['size', 0], ['header_len', 0], ['dest', tcpAddr], ['url', this.target.url], ['thread', this.id], ['run', 0]], 9 + this.id);
      } else {
        this.log.write(ERROR, 'http_client.go', 934, 'Unable to resolve hostname', [['hostname', this.target.host], ['err', `lookup ${this.target.host}: no such host`], ['thread', this.id], ['run', 0]], 9 + this.id);
      }
      return { code: SOCKET_ERROR, headerSize: 0, size: 0 };
    }
  }
}

export async function fortio(io: ProgramIO): Promise<number> {
  const args = io.argv.slice(1);
  const command = args[0];
  if (command === undefined || command === 'help' || command === '-h' || command === '--help' || command === '-help') {
    io.stderr.write(usage());
    return command === undefined ? 1 : 0;
  }
  if (command === 'version' || command === '-version' || command === '--version') {
    io.stdout.write(`${FORTIO_VERSION}\n`);
    return 0;
  }
  if (command !== 'load' && command !== 'curl') {
    const known = ['server', 'report', 'redirect', 'proxies', 'nc', 'tcp-echo', 'udp-echo', 'grpcping', 'script'];
    if (known.includes(command)) {
      io.stderr.write(`fortio ${command}: not supported by the embedded cluster (it runs fortio's load and curl clients; the image's own server answers on port 8080)\n`);
      return 126;
    }
    io.stderr.write(`Error: unknown command "${command}"\n` + usage());
    return 1;
  }
  let parsed: { flags: Flags; rest: string[] };
  try {
    parsed = parseFlags(args.slice(1));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.stderr.write(`${e.message}\n`);
    return 1;
  }
  const { flags, rest } = parsed;
  const log = new FortioLog(io, command === 'load', flags.level);
  if (flags.levelChanged === 'loud' && flags.level !== INFO) {
    // SetLogLevelStr (dflag) logs the change at Info, i.e. only when the previous level shows Info.
    log.level = INFO;
    log.write(INFO, 'logger.go', 298, `Log level is now ${flags.level} ${LEVELS[flags.level]} (was ${INFO} ${LEVELS[INFO]})`);
    log.level = flags.level;
  }
  if (rest.length !== 1) {
    io.stderr.write(`Error: fortio load/curl needs a URL or destination\n` + usage());
    return 1;
  }
  const target = parseUrl(rest[0], log);
  if (typeof target === 'string') {
    log.write(ERROR, 'http_client.go', 818, 'Bad url', [['url', rest[0]], ['err', target]]);
    return 1;
  }
  const ip = io.ctx.net.resolve(target.host);
  return command === 'curl' ? curlMode(io, flags, target, log, ip) : loadMode(io, flags, target, log, ip);
}

async function curlMode(io: ProgramIO, flags: Flags, target: Target, log: FortioLog, ip: string | null): Promise<number> {
  if (ip === null) {
    log.write(ERROR, 'network.go', 431, `Unable to lookup "${target.host}": ${lookupError(io, target.host)}`);
    return 1;
  }
  const client = new FastClient(0, io, target, flags, log, ip);
  const r = await client.fetch();
  if (r.res) {
    // bincommon.FetchURL: the fast client writes the headers to stderr and the body to stdout.
    io.stderr.write(headerBlock(r.res));
    io.stdout.write(r.res.body);
  }
  if (r.code !== 200) {
    log.write(ERROR, 'commonflags.go', 160, `Error status ${r.code}`);
    return 1;
  }
  return 0;
}

async function loadMode(io: ProgramIO, flags: Flags, target: Target, log: FortioLog, ip: string | null): Promise<number> {
  const out = io.stderr;
  let qps = flags.qps;
  out.write(`Fortio ${FORTIO_VERSION} running at ${goG(qps)} queries per second, ${GOMAXPROCS}->${GOMAXPROCS} procs`);
  let durationNs = flags.t ?? 5e9;
  if (flags.n > 0) out.write(`, for ${flags.n} calls: ${target.url}\n`);
  else if (durationNs <= 0) {
    durationNs = -1;
    out.write(`, until interrupted: ${target.url}\n`);
  } else out.write(`, for ${goDuration(durationNs)}: ${target.url}\n`);
  if (qps <= 0) qps = -1;
  log.write(INFO, 'httprunner.go', 121, 'Starting http test', [['run', 0], ['url', target.url], ['threads', flags.c], ['qps', qps.toFixed(1)], ['warmup', 'parallel'], ['conn-reuse', '']]);
  if (ip === null) {
    log.write(ERROR, 'network.go', 431, `Unable to lookup "${target.host}": ${lookupError(io, target.host)}`);
    out.write(`Aborting because of ${lookupError(io, target.host)}\n`);
    return 1;
  }
  let threads = Math.max(1, flags.c);
  const clients: FastClient[] = [];
  for (let i = 0; i < threads; i++) clients.push(new FastClient(i, io, target, flags, log, ip));
  const retCodes = new Map<number, number>();
  const headerSizes = new Counter();
  const sizes = new Counter();
  const record = (r: { code: number; headerSize: number; size: number }) => {
    retCodes.set(r.code, (retCodes.get(r.code) ?? 0) + 1);
    headerSizes.record(r.headerSize);
    sizes.record(r.size);
  };

  // Warmup (duration mode only): one parallel fetch per connection, not counted.
  const exactly = flags.n > 0;
  if (!exactly) {
    const warm = await Promise.all(clients.map((c) => c.fetch()));
    const bad = warm.findIndex((r) => !codeIsOK(r.code));
    if (bad >= 0 && !flags.allowInitialErrors) {
      out.write(`Aborting because of error ${warm[bad].code} for ${target.url} (${warm[bad].size} bytes)\n`);
      return 1;
    }
  }

  // periodic.Run's setup lines and per-thread call counts.
  let perThread = 0;
  let leftOver = 0;
  const warn = log.enabled(WARNING);
  const useDuration = !exactly && durationNs > 0;
  if (qps > 0 && (exactly || useDuration)) {
    let numCalls = exactly ? flags.n : Math.trunc(qps * (durationNs / 1e9));
    if (numCalls < 2) {
      log.write(WARNING, 'periodic.go', 436, 'Increasing the number of calls to the minimum of 2 with 1 thread. total duration will increase');
      numCalls = 2;
      threads = 1;
    }
    if (2 * threads > numCalls) {
      const n = Math.trunc(numCalls / 2);
      log.write(WARNING, 'periodic.go', 443, `Lowering number of threads - total call ${numCalls} -> lowering from ${threads} to ${n} threads`);
      threads = n;
    }
    perThread = Math.trunc(numCalls / threads);
    const total = perThread * threads;
    if (exactly) {
      leftOver = flags.n - total;
      if (warn) out.write(`Starting at ${goG(qps)} qps with ${threads} thread(s) [gomax ${GOMAXPROCS}] : exactly ${flags.n}, ${perThread} calls each (total ${total} + ${leftOver})\n`);
    } else if (warn) out.write(`Starting at ${goG(qps)} qps with ${threads} thread(s) [gomax ${GOMAXPROCS}] for ${goDuration(durationNs)} : ${perThread} calls each (total ${total})\n`);
  } else if (qps > 0) {
    out.write(`Starting at ${goG(qps)} qps with ${threads} thread(s) [gomax ${GOMAXPROCS}] until interrupted\n`);
  } else if (!exactly && !useDuration) {
    out.write(`Starting at max qps with ${threads} thread(s) [gomax ${GOMAXPROCS}] until interrupted\n`);
  } else if (exactly) {
    perThread = Math.trunc(flags.n / threads);
    leftOver = flags.n % threads;
    if (warn) out.write(`Starting at max qps with ${threads} thread(s) [gomax ${GOMAXPROCS}] for exactly ${flags.n} calls (${perThread} per thread + ${leftOver})\n`);
  } else if (warn) out.write(`Starting at max qps with ${threads} thread(s) [gomax ${GOMAXPROCS}] for ${goDuration(durationNs)}\n`);

  const functionDuration = new Histogram(0, flags.resolution);
  const errorsDuration = new Histogram(0, flags.resolution);
  const sleepTime = new Histogram(-0.001, 0.001);
  const start = performance.now();
  const deadline = useDuration && qps <= 0 ? start + durationNs / 1e6 : Infinity;
  const bounded = exactly || (useDuration && qps > 0);

  // periodic.go runOne's closing line per thread (Info).
  const callsOf = new Array<number>(threads).fill(0);
  const done = (t: number) => {
    const el = elapsedSince(start);
    log.write(INFO, 'periodic.go', 851, `T${String(t).padStart(3, '0')} ended after ${goDuration(el * 1e9)} : ${callsOf[t]} calls. qps=${goG(callsOf[t] / el)}`, [], 9 + t);
  };
  // Each thread: a sequential loop of calls; at a set qps, call i is due at start + i/(qps/threads).
  const runThread = async (t: number) => {
    const calls = bounded ? perThread + (t === 0 ? leftOver : 0) : Infinity;
    const interval = qps > 0 ? (1000 * threads) / qps : 0;
    calls: for (let i = 0; i < calls; i++) {
      if (io.signal.aborted) break;
      if (performance.now() >= deadline) break;
      if (interval > 0) {
        const due = start + i * interval;
        sleepTime.record((due - performance.now()) / 1000);
        // Like Go's time.Sleep, never wake before the due time (timers may fire a fraction early).
        for (let wait = due - performance.now(); wait > 0; wait = due - performance.now()) {
          if (!(await sleepAbortable(Math.ceil(wait), io.signal))) break calls;
        }
      }
      const t0 = performance.now();
      const r = await clients[t].fetch();
      const d = elapsedSince(t0);
      callsOf[t]++;
      functionDuration.record(d);
      if (!codeIsOK(r.code)) errorsDuration.record(d);
      record(r);
    }
    done(t);
  };
  await Promise.all(Array.from({ length: threads }, (_, t) => runThread(t)));
  const elapsedS = elapsedSince(start);
  const actualQps = functionDuration.count / elapsedS;
  if (warn) {
    out.write(`Ended after ${goDuration(elapsedS * 1e9)} : ${functionDuration.count} calls. qps=${goG(actualQps, 5)}\n`);
    log.write(INFO, 'periodic.go', 581, 'Run ended', [['run', 0], ['elapsed', Math.round(elapsedS * 1e9)], ['calls', functionDuration.count], ['qps', actualQps]]);
  }
  if (qps > 0 && sleepTime.count > 0) {
    const behind = sleepTime.text('Aggregated Sleep Time', [50]);
    const negative = (100 * countNegative(sleepTime)) / sleepTime.count;
    if (negative > 5) out.write(behind + `WARNING ${negative.toFixed(2)}% of sleep were falling behind\n`);
    else if (warn) out.write(sleepTime.line('Sleep times'));
  }
  if (warn) {
    out.write(functionDuration.text('Aggregated Function Time', flags.percentiles));
    out.write(errorsDuration.text('Error cases', flags.percentiles));
  } else {
    out.write(functionDuration.line('Aggregated Function Time'));
    out.write(errorsDuration.line('Error cases'));
  }

  // httprunner.RunHTTPTest's connection report and totals.
  out.write('# Socket and IP used for each connection:\n');
  const connectionStats = new Histogram(0, flags.resolution);
  const ipTotals = new Map<string, number>();
  let socketCount = 0;
  for (let i = 0; i < threads; i++) {
    const c = clients[i];
    const used = c.connStats.count;
    const ipList = [...c.ips.entries()];
    for (const [k, v] of ipList) ipTotals.set(k, (ipTotals.get(k) ?? 0) + v);
    const where = ipList.length === 1 ? ipList[0][0] : `[${ipList.map(([k, v]) => `${k} (${v})`).join(', ')}]`;
    out.write(`[${i}] ${String(used).padStart(3)} socket used, resolved to ${where}` + c.connStats.line(', connection timing'));
    socketCount += used;
    connectionStats.transferHist(c.connStats);
  }
  if (log.enabled(INFO)) out.write(connectionStats.text('Connection time histogram (s)', flags.percentiles));
  else if (warn) out.write(connectionStats.line('Connection time (s)'));
  out.write(`Sockets used: ${socketCount} (for perfect keepalive, would be ${threads})\n`);
  out.write(`Uniform: false, Jitter: false, Catchup allowed: true\n`);
  out.write('IP addresses distribution:\n');
  for (const [k, v] of [...ipTotals.entries()].sort((a, b) => b[1] - a[1])) out.write(`${k}: ${v}\n`);
  const total = functionDuration.count;
  for (const k of [...retCodes.keys()].sort((a, b) => a - b)) {
    out.write(`Code ${String(k).padStart(3)} : ${retCodes.get(k)} (${((100 * retCodes.get(k)!) / total).toFixed(1)} %)\n`);
  }
  if (warn) {
    out.write(headerSizes.line('Response Header Sizes'));
    out.write(sizes.line('Response Body/Total Sizes'));
  }
  out.write(`All done ${total} calls (plus ${exactly ? 0 : flags.c} warmup) ${(1000 * functionDuration.avg()).toFixed(3)} ms avg, ${actualQps.toFixed(1)} qps\n`);
  return 0;
}

/** Go's resolver error for a name cluster DNS does not know (fnet.ResolveAll passes it on). */
function lookupError(io: ProgramIO, host: string): string {
  return `lookup ${host} on ${io.ctx.clusterDNS ?? '10.96.0.10'}:53: no such host`;
}

/** Calls that were already late (negative sleep) land in the histogram's first bucket. */
function countNegative(h: Histogram): number {
  return h.firstBucketCount();
}

function usage(): string {
  return (
    `Φορτίο ${FORTIO_VERSION} usage:\n` +
    `        fortio command [flags] target\n` +
    `where command is one of: load (load testing), server (starts ui, rest api,\n` +
    ` http-echo, redirect, proxies, tcp-echo, udp-echo and grpc ping servers),\n` +
    ` tcp-echo (only the tcp-echo server), udp-echo (only udp-echo server),\n` +
    ` report (report only UI server), redirect (only the redirect server),\n` +
    ` proxies (only the -M and -P configured proxies), grpcping (gRPC client),\n` +
    ` or curl (single URL debug), or nc (single tcp or udp:// connection),\n` +
    ` or script (interactive grol script mode or script file),\n` +
    ` or version (prints the full version and build details).\n` +
    `where target is a URL (http load tests) or host:port (grpc health test),\n` +
    ` or tcp://host:port (tcp load test), or udp://host:port (udp load test).\n`
  );
}
