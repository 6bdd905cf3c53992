/**
 * `GET .../pods/NAME/log`: PodLogOptions parsing and validation worded as kube-apiserver words
 * them, and the writer that streams a container's log the way the kubelet does (tail first,
 * then the since filter, fixed-width RFC3339Nano timestamps, limitBytes counting everything
 * written, follow until the container stops or the client leaves).
 */
import type { ServerResponse } from 'node:http';
import { ApiError, type FieldError } from '../../errors.js';

export interface PodLogOptions {
  container: string;
  follow: boolean;
  previous: boolean;
  timestamps: boolean;
  tailLines?: number;
  limitBytes?: number;
  sinceSeconds?: number;
  /** From `sinceTime` (RFC3339). */
  sinceTime?: Date;
}

const falsy = new Set(['0', 'f', 'false']);

function queryBool(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  return v !== null && !falsy.has(v.toLowerCase());
}

/** An int64 query parameter, failing as Go's strconv.ParseInt does inside the parameter codec. */
function queryInt(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  if (!/^[+-]?\d+$/.test(v)) throw ApiError.badRequest(`strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`);
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw ApiError.badRequest(`strconv.ParseInt: parsing ${JSON.stringify(v)}: value out of range`);
  return n;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function queryTime(q: URLSearchParams, name: string): Date | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const parsed = RFC3339.test(v) ? new Date(v) : undefined;
  if (!parsed || Number.isNaN(parsed.getTime())) {
    throw ApiError.badRequest(`parsing time ${JSON.stringify(v)} as "2006-01-02T15:04:05Z07:00": cannot parse ${JSON.stringify(v)} as "2006"`);
  }
  return parsed;
}

/**
 * PodLogOptions from the request URL. Throws ApiError: 400 for values that do not parse,
 * 422 (`PodLogOptions "NAME" is invalid: ...`) for values ValidatePodLogOptions rejects.
 * The container is returned as sent; resolve it with resolveContainer (containers.ts).
 */
export function parsePodLogOptions(url: string | URL, podName: string): PodLogOptions {
  const q = typeof url === 'string' ? new URL(url, 'http://localhost').searchParams : url.searchParams;
  const opts: PodLogOptions = {
    container: q.get('container') ?? '',
    follow: queryBool(q, 'follow'),
    previous: queryBool(q, 'previous'),
    timestamps: queryBool(q, 'timestamps'),
    tailLines: queryInt(q, 'tailLines'),
    limitBytes: queryInt(q, 'limitBytes'),
    sinceSeconds: queryInt(q, 'sinceSeconds'),
    sinceTime: queryTime(q, 'sinceTime'),
  };
  const errs: FieldError[] = [];
  if (opts.tailLines !== undefined && opts.tailLines < 0) {
    errs.push({ type: 'FieldValueInvalid', field: 'tailLines', value: opts.tailLines, detail: 'must be greater than or equal to 0' });
  }
  if (opts.limitBytes !== undefined && opts.limitBytes < 1) {
    errs.push({ type: 'FieldValueInvalid', field: 'limitBytes', value: opts.limitBytes, detail: 'must be greater than 0' });
  }
  if (opts.sinceSeconds !== undefined && opts.sinceTime !== undefined) {
    errs.push({ type: 'FieldValueForbidden', field: '', detail: 'at most one of `sinceTime` or `sinceSeconds` may be specified' });
  } else if (opts.sinceSeconds !== undefined && opts.sinceSeconds < 1) {
    errs.push({ type: 'FieldValueInvalid', field: 'sinceSeconds', value: opts.sinceSeconds, detail: 'must be greater than 0' });
  }
  if (errs.length) throw ApiError.invalid({ group: '', kind: 'PodLogOptions' }, podName, errs);
  return opts;
}

/** The kubelet's refusals, as kubectl prints them after `Error from server (BadRequest): `. */
export const logErrors = {
  previousNotFound: (container: string, pod: string) =>
    ApiError.badRequest(`previous terminated container "${container}" in pod "${pod}" not found`),
  waitingToStart: (container: string, pod: string, reason: string) =>
    ApiError.badRequest(`container "${container}" in pod "${pod}" is waiting to start: ${reason}`),
};

export interface LogEntry {
  time: Date;
  /** One line without its trailing newline. */
  line: string;
}

/** One container instance's log (the current one, or the previous one for `previous`). */
export interface LogSource {
  entries(): readonly LogEntry[];
  /** Whether more can come: false once the container has stopped. */
  running(): boolean;
  /**
   * Calls onEntry for each line logged from now on and onEnd once the container stops.
   * Returns an unsubscribe function.
   */
  subscribe(onEntry: (entry: LogEntry) => void, onEnd: () => void): () => void;
}

/** RFC3339Nano with all nine fraction digits, as the kubelet's --timestamps output has them. */
export function formatLogTimestamp(time: Date): string {
  const iso = time.toISOString(); // 2024-01-02T03:04:05.678Z
  return `${iso.slice(0, 19)}.${iso.slice(20, 23)}000000Z`;
}

/**
 * Writes the log to `res` (status 200, text/plain, chunked) and resolves when done: at once
 * without `follow`; with it, when the container stops, the client goes away, or limitBytes
 * is reached.
 */
export function writeLogs(res: ServerResponse, source: LogSource, opts: PodLogOptions, now: () => Date = () => new Date()): Promise<void> {
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });

  const since = opts.sinceTime ?? (opts.sinceSeconds !== undefined ? new Date(now().getTime() - opts.sinceSeconds * 1000) : undefined);
  let budget = opts.limitBytes ?? Infinity;

  const emit = (entry: LogEntry): boolean => {
    if (since && entry.time.getTime() < since.getTime()) return true;
    const prefix = opts.timestamps ? `${formatLogTimestamp(entry.time)} ` : '';
    let buf = Buffer.from(`${prefix}${entry.line}\n`);
    if (buf.length > budget) buf = buf.subarray(0, budget);
    budget -= buf.length;
    if (buf.length) res.write(buf);
    return budget > 0;
  };

  let existing = source.entries();
  if (opts.tailLines !== undefined) existing = opts.tailLines === 0 ? [] : existing.slice(-opts.tailLines);
  for (const entry of existing) {
    if (!emit(entry)) {
      res.end();
      return Promise.resolve();
    }
  }
  if (!opts.follow || !source.running()) {
    res.end();
    return Promise.resolve();
  }

  return new Promise((resolve) => {
    let unsubscribe: (() => void) | undefined;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      unsubscribe?.();
      res.off('close', finish);
      if (!res.writableEnded) res.end();
      resolve();
    };
    res.on('close', finish);
    unsubscribe = source.subscribe(
      (entry) => {
        if (!done && !emit(entry)) finish();
      },
      finish,
    );
    if (done) unsubscribe();
  });
}
