/**
 * Envoy's access log as Istio configures it (meshConfig.accessLogFile): one line per request (or
 * TCP connection) in Istio's default TEXT format, a custom `accessLogFormat`, or JSON; `-` for
 * empty fields. Learners read these lines in `kubectl logs POD -c istio-proxy`.
 */
import type { HttpRequest } from '../../../images/types.js';

/** Istio's EnvoyTextLogFormat (pilot/pkg/model/telemetry_logging.go), without its trailing newline. */
export const DEFAULT_TEXT_FORMAT =
  '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% "%UPSTREAM_TRANSPORT_FAILURE_REASON%" %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER_RAW% %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% %ROUTE_NAME%';

/** Istio's EnvoyJSONLogFormatIstio: the same fields by name. */
const JSON_FIELDS: Record<string, string> = {
  start_time: '%START_TIME%',
  route_name: '%ROUTE_NAME%',
  method: '%REQ(:METHOD)%',
  path: '%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%',
  protocol: '%PROTOCOL%',
  response_code: '%RESPONSE_CODE%',
  response_flags: '%RESPONSE_FLAGS%',
  response_code_details: '%RESPONSE_CODE_DETAILS%',
  connection_termination_details: '%CONNECTION_TERMINATION_DETAILS%',
  bytes_received: '%BYTES_RECEIVED%',
  bytes_sent: '%BYTES_SENT%',
  duration: '%DURATION%',
  upstream_service_time: '%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%',
  x_forwarded_for: '%REQ(X-FORWARDED-FOR)%',
  user_agent: '%REQ(USER-AGENT)%',
  request_id: '%REQ(X-REQUEST-ID)%',
  authority: '%REQ(:AUTHORITY)%',
  upstream_host: '%UPSTREAM_HOST%',
  upstream_cluster: '%UPSTREAM_CLUSTER_RAW%',
  upstream_local_address: '%UPSTREAM_LOCAL_ADDRESS%',
  downstream_local_address: '%DOWNSTREAM_LOCAL_ADDRESS%',
  downstream_remote_address: '%DOWNSTREAM_REMOTE_ADDRESS%',
  requested_server_name: '%REQUESTED_SERVER_NAME%',
  upstream_transport_failure_reason: '%UPSTREAM_TRANSPORT_FAILURE_REASON%',
};

/** Envoy's flag order (ResponseFlagUtils): several flags print comma-joined in this order. */
const FLAG_ORDER = ['LH', 'UH', 'UT', 'LR', 'UR', 'UF', 'UC', 'UO', 'NR', 'DI', 'FI', 'RL', 'UAEX', 'RLSE', 'DC', 'URX', 'SI', 'IH', 'DPE', 'UMSDR', 'RFCF', 'NFCF', 'DT', 'UPE', 'NC', 'OM', 'DF', 'DO', 'DR', 'UDO'];

export function formatFlags(flags: readonly string[]): string {
  if (!flags.length) return '-';
  const uniq = [...new Set(flags)];
  uniq.sort((a, b) => FLAG_ORDER.indexOf(a) - FLAG_ORDER.indexOf(b));
  return uniq.join(',');
}

/** What one access log line is made of. Absent values print `-`. */
export interface AccessLogEntry {
  start: Date;
  /** The downstream request as the filters left it (x-envoy-original-path, generated x-request-id); absent for TCP. */
  req?: HttpRequest;
  responseHeaders?: Record<string, string>;
  /** 0 for TCP and for a request the client gave up on. */
  responseCode: number;
  flags: readonly string[];
  details?: string;
  connectionTerminationDetails?: string;
  transportFailureReason?: string;
  bytesReceived: number;
  bytesSent: number;
  durationMs: number;
  upstreamHost?: string;
  upstreamCluster?: string;
  upstreamLocalAddress?: string;
  downstreamLocalAddress?: string;
  downstreamRemoteAddress?: string;
  requestedServerName?: string;
  routeName?: string;
}

type Value = string | number | undefined;

const altCache = new Map<string, string[]>();
/** `X-ENVOY-ORIGINAL-PATH?:PATH` → the header names to try, lower-case (split once per format). */
function alternatives(arg: string): string[] {
  let alts = altCache.get(arg);
  if (!alts) {
    alts = arg.split('?').map((a) => a.toLowerCase());
    if (altCache.size > 200) altCache.clear();
    altCache.set(arg, alts);
  }
  return alts;
}

function operator(e: AccessLogEntry, op: string, arg: string | undefined): Value {
  switch (op) {
    case 'START_TIME':
      return e.start.toISOString();
    case 'REQ':
    case 'RESP': {
      const headers = op === 'REQ' ? e.req?.headers : e.responseHeaders;
      if (!headers || !arg) return undefined;
      for (const name of alternatives(arg)) {
        const v = name === ':method' ? e.req?.method : name === ':path' ? e.req?.path : name === ':authority' ? headers.host : headers[name];
        if (v !== undefined && v !== '') return v;
      }
      return undefined;
    }
    case 'PROTOCOL':
      return e.req ? 'HTTP/1.1' : undefined;
    case 'RESPONSE_CODE':
      return e.responseCode;
    case 'RESPONSE_FLAGS':
      return formatFlags(e.flags);
    case 'RESPONSE_CODE_DETAILS':
      return e.details;
    case 'CONNECTION_TERMINATION_DETAILS':
      return e.connectionTerminationDetails;
    case 'UPSTREAM_TRANSPORT_FAILURE_REASON':
      return e.transportFailureReason;
    case 'BYTES_RECEIVED':
      return e.bytesReceived;
    case 'BYTES_SENT':
      return e.bytesSent;
    case 'DURATION':
      return Math.max(0, Math.round(e.durationMs));
    case 'UPSTREAM_HOST':
      return e.upstreamHost;
    case 'UPSTREAM_CLUSTER':
    case 'UPSTREAM_CLUSTER_RAW':
      return e.upstreamCluster;
    case 'UPSTREAM_LOCAL_ADDRESS':
      return e.upstreamLocalAddress;
    case 'DOWNSTREAM_LOCAL_ADDRESS':
      return e.downstreamLocalAddress;
    case 'DOWNSTREAM_REMOTE_ADDRESS':
    case 'DOWNSTREAM_PEER_ADDRESS':
      return e.downstreamRemoteAddress;
    case 'DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT':
      return e.downstreamRemoteAddress?.replace(/:\d+$/, '');
    case 'REQUESTED_SERVER_NAME':
      return e.requestedServerName;
    case 'ROUTE_NAME':
      return e.routeName;
    default:
      return undefined;
  }
}

const OPERATOR = /%([A-Z_]+)(?:\(([^)]*)\))?(?::\d+)?%/g;

/** A command operator compiled to what reads it from an entry. */
type Getter = (e: AccessLogEntry) => Value;
type Part = string | Getter;
const compiled = new Map<string, Part[]>();

// %START_TIME% of requests in the same millisecond is the same text: formatted once.
let lastStartMs = NaN;
let lastStartText = '';
function startTime(e: AccessLogEntry): string {
  const ms = e.start.getTime();
  if (ms !== lastStartMs) {
    lastStartText = e.start.toISOString();
    lastStartMs = ms;
  }
  return lastStartText;
}

/** The header (or pseudo-header) alternatives of REQ/RESP, looked up without re-reading the operator. */
function headerGetter(response: boolean, names: string[]): Getter {
  return (e) => {
    const headers = response ? e.responseHeaders : e.req?.headers;
    if (!headers) return undefined;
    for (const name of names) {
      const v = name === ':method' ? e.req?.method : name === ':path' ? e.req?.path : name === ':authority' ? headers.host : headers[name];
      if (v !== undefined && v !== '') return v;
    }
    return undefined;
  };
}

/** Same values as operator(), with the operator's name and argument read once per format. */
function getter(op: string, arg: string | undefined): Getter {
  switch (op) {
    case 'START_TIME':
      return startTime;
    case 'REQ':
    case 'RESP':
      if (!arg) return () => undefined;
      return headerGetter(op === 'RESP', alternatives(arg));
    default:
      return (e) => operator(e, op, arg);
  }
}

/** A format string split once into literal text and command operators. */
function compile(format: string): Part[] {
  let parts = compiled.get(format);
  if (!parts) {
    parts = [];
    let last = 0;
    for (const m of format.matchAll(OPERATOR)) {
      if (m.index! > last) parts.push(format.slice(last, m.index));
      parts.push(getter(m[1]!, m[2]));
      last = m.index! + m[0].length;
    }
    if (last < format.length) parts.push(format.slice(last));
    if (compiled.size > 100) compiled.clear();
    compiled.set(format, parts);
  }
  return parts;
}

/** One line in a TEXT format (Envoy's command operators; `-` for what is empty or unknown). */
export function formatText(e: AccessLogEntry, format: string = DEFAULT_TEXT_FORMAT): string {
  let out = '';
  for (const p of compile(format)) {
    if (typeof p === 'string') out += p;
    else {
      const v = p(e);
      out += v === undefined || v === '' ? '-' : typeof v === 'string' ? v : String(v);
    }
  }
  return out;
}

/** One line in Istio's JSON encoding: Envoy writes the keys sorted, numbers as numbers, empty as null. */
export function formatJson(e: AccessLogEntry): string {
  const out: Record<string, string | number | null> = {};
  for (const key of Object.keys(JSON_FIELDS).sort()) {
    const m = /^%([A-Z_]+)(?:\(([^)]*)\))?%$/.exec(JSON_FIELDS[key]!)!;
    const v = operator(e, m[1]!, m[2]);
    out[key] = v === undefined || v === '' || v === '-' ? null : v;
  }
  return JSON.stringify(out);
}

/** The line this proxy's access log config writes, or undefined when access logging is off. */
export function accessLogLine(config: { path: string; format?: string; encoding: 'TEXT' | 'JSON' } | undefined, e: AccessLogEntry): string | undefined {
  if (!config || !config.path) return undefined;
  if (config.encoding === 'JSON') return formatJson(e);
  const f = config.format;
  return formatText(e, (f && f.endsWith('\n') ? f.slice(0, -1) : f) || DEFAULT_TEXT_FORMAT);
}
