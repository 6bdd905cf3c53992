/**
 * Cron schedules as the CronJob controller reads them (robfig/cron v3's ParseStandard): five
 * fields (minute hour day-of-month month day-of-week) with lists, ranges, steps, `*`/`?` and month
 * and weekday names, or a descriptor (@yearly … @hourly, @every <duration>); times are computed on
 * the wall clock of an IANA time zone. Errors are worded as robfig's, which kube quotes.
 */

/** Go's zero time.Time (0001-01-01T00:00:00Z): what a schedule that never fires gives as its next time. */
export const ZERO_TIME = -62135596800000;

interface Bounds {
  min: number;
  max: number;
  names?: Record<string, number>;
}

const MINUTES: Bounds = { min: 0, max: 59 };
const HOURS: Bounds = { min: 0, max: 23 };
const DOM: Bounds = { min: 1, max: 31 };
const MONTHS: Bounds = { min: 1, max: 12, names: { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 } };
const DOW: Bounds = { min: 0, max: 6, names: { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 } };

interface Field {
  values: Set<number>;
  /** Written as `*` or `?`: robfig's star bit, which decides how day-of-month and day-of-week combine. */
  star: boolean;
}

export interface CronSchedule {
  /** The first activation strictly after `t`. */
  next(t: Date): Date;
}

class SpecSchedule implements CronSchedule {
  constructor(
    private readonly minute: Field,
    private readonly hour: Field,
    private readonly dom: Field,
    private readonly month: Field,
    private readonly dow: Field,
    private readonly timeZone: string,
  ) {}

  private dayMatches(day: number, weekday: number): boolean {
    const d = this.dom.values.has(day);
    const w = this.dow.values.has(weekday);
    // robfig: when either field is a star, both must match; otherwise either may.
    return this.dom.star || this.dow.star ? d && w : d || w;
  }

  next(t: Date): Date {
    // Whole minutes after t; steps jump by what the wall clock says is left of the month, day or hour.
    let ms = Math.floor(t.getTime() / 60_000) * 60_000 + 60_000;
    const limit = ms + 5 * 366 * 24 * 3600_000;
    while (ms < limit) {
      const w = wallClock(ms, this.timeZone);
      if (!this.month.values.has(w.month)) {
        ms += ((w.daysInMonth - w.day) * 1440 + (24 - w.hour) * 60 - w.minute) * 60_000;
        continue;
      }
      if (!this.dayMatches(w.day, w.weekday)) {
        ms += ((24 - w.hour) * 60 - w.minute) * 60_000;
        continue;
      }
      if (!this.hour.values.has(w.hour)) {
        ms += (60 - w.minute) * 60_000;
        continue;
      }
      if (!this.minute.values.has(w.minute)) {
        ms += 60_000;
        continue;
      }
      return new Date(ms);
    }
    // robfig returns the zero time when nothing matches within five years (Feb 30th).
    return new Date(ZERO_TIME);
  }
}

/** @every <duration>: robfig's ConstantDelaySchedule (at least a second, whole seconds). */
class EverySchedule implements CronSchedule {
  constructor(private readonly delayMs: number) {}
  next(t: Date): Date {
    return new Date(t.getTime() - (t.getTime() % 1000) + this.delayMs);
  }
}

interface Wall {
  month: number;
  day: number;
  hour: number;
  minute: number;
  weekday: number;
  daysInMonth: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

function wallClock(ms: number, timeZone: string): Wall {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', weekday: 'short' });
    formatters.set(timeZone, f);
  }
  const parts: Record<string, string> = {};
  for (const p of f.formatToParts(new Date(ms))) parts[p.type] = p.value;
  const year = Number(parts.year);
  const month = Number(parts.month);
  return {
    month,
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    weekday: WEEKDAYS[parts.weekday!] ?? 0,
    daysInMonth: new Date(Date.UTC(year, month, 0)).getUTCDate(),
  };
}

/** Whether `name` is a time zone the controller can load (Go's time.LoadLocation; "" and "UTC" are UTC). */
export function isTimeZone(name: string): boolean {
  if (name === '' || name === 'UTC') return true;
  // Go's loader takes names as files under zoneinfo: no case folding, no offsets.
  if (!/^[A-Za-z0-9_+\-]+(\/[A-Za-z0-9_+\-]+)*$/.test(name)) return false;
  try {
    const resolved = new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
    // ICU folds case ("europe/berlin"); Go's loader, reading files, does not. Aliases resolve elsewhere.
    return resolved.toLowerCase() !== name.toLowerCase() || resolved === name;
  } catch {
    return false;
  }
}

const goFields = (fields: string[]) => `[${fields.join(' ')}]`;

function parseInt10(expr: string): number {
  if (!/^[+-]?\d+$/.test(expr)) throw new Error(`failed to parse int from ${expr}: strconv.Atoi: parsing "${expr}": invalid syntax`);
  const n = Number(expr);
  if (n < 0) throw new Error(`negative number (${n}) not allowed: ${expr}`);
  return n;
}

function parseIntOrName(expr: string, names?: Record<string, number>): number {
  const named = names?.[expr.toLowerCase()];
  return named !== undefined ? named : parseInt10(expr);
}

function parseRange(expr: string, r: Bounds, into: Field): void {
  const rangeAndStep = expr.split('/');
  const lowAndHigh = rangeAndStep[0]!.split('-');
  const single = lowAndHigh.length === 1;
  let start: number;
  let end: number;
  let star = false;
  if (lowAndHigh[0] === '*' || lowAndHigh[0] === '?') {
    start = r.min;
    end = r.max;
    star = true;
  } else {
    start = parseIntOrName(lowAndHigh[0]!, r.names);
    if (lowAndHigh.length === 1) end = start;
    else if (lowAndHigh.length === 2) end = parseIntOrName(lowAndHigh[1]!, r.names);
    else throw new Error(`too many hyphens: ${expr}`);
  }
  let step = 1;
  if (rangeAndStep.length === 2) {
    step = parseInt10(rangeAndStep[1]!);
    // "N/step" means "N-max/step".
    if (single) end = r.max;
    if (step > 1) star = false;
  } else if (rangeAndStep.length > 2) {
    throw new Error(`too many slashes: ${expr}`);
  }
  if (start < r.min) throw new Error(`beginning of range (${start}) below minimum (${r.min}): ${expr}`);
  if (end > r.max) throw new Error(`end of range (${end}) above maximum (${r.max}): ${expr}`);
  if (start > end) throw new Error(`beginning of range (${start}) beyond end of range (${end}): ${expr}`);
  if (step === 0) throw new Error(`step of range should be a positive number: ${expr}`);
  for (let i = start; i <= end; i += step) into.values.add(i);
  into.star ||= star;
}

function parseField(text: string, r: Bounds): Field {
  const f: Field = { values: new Set(), star: false };
  for (const expr of text.split(',').filter((x) => x !== '')) parseRange(expr, r, f);
  return f;
}

const every = (b: Bounds): Field => ({ values: new Set(Array.from({ length: b.max - b.min + 1 }, (_, i) => b.min + i)), star: true });
const only = (n: number): Field => ({ values: new Set([n]), star: false });

/** Go's time.ParseDuration for the units a schedule would use. */
function parseDuration(s: string): number | undefined {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  if (!/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(s)) return undefined;
  let total = 0;
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) total += Number(m[1]) * units[m[2]!]!;
  return total;
}

/** cron.ParseStandard; throws an Error worded as robfig's. `timeZone` is an IANA name ("" is UTC). */
export function parseSchedule(spec: string, timeZone = ''): CronSchedule {
  const tz = timeZone === '' ? 'UTC' : timeZone;
  if (spec.length === 0) throw new Error('empty spec string');
  if (spec.startsWith('@')) {
    const m = MINUTES.min;
    const h = HOURS.min;
    switch (spec) {
      case '@yearly':
      case '@annually':
        return new SpecSchedule(only(m), only(h), only(1), only(1), every(DOW), tz);
      case '@monthly':
        return new SpecSchedule(only(m), only(h), only(1), every(MONTHS), every(DOW), tz);
      case '@weekly':
        return new SpecSchedule(only(m), only(h), every(DOM), every(MONTHS), only(0), tz);
      case '@daily':
      case '@midnight':
        return new SpecSchedule(only(m), only(h), every(DOM), every(MONTHS), every(DOW), tz);
      case '@hourly':
        return new SpecSchedule(only(m), every(HOURS), every(DOM), every(MONTHS), every(DOW), tz);
    }
    if (spec.startsWith('@every ')) {
      const d = parseDuration(spec.slice('@every '.length));
      if (d === undefined) throw new Error(`failed to parse duration ${spec}: time: invalid duration "${spec.slice('@every '.length)}"`);
      return new EverySchedule(Math.max(1000, d - (d % 1000)));
    }
    throw new Error(`unrecognized descriptor: ${spec}`);
  }
  const fields = spec.trim().split(/\s+/).filter(Boolean);
  if (fields.length !== 5) throw new Error(`expected exactly 5 fields, found ${fields.length}: ${goFields(fields)}`);
  return new SpecSchedule(parseField(fields[0]!, MINUTES), parseField(fields[1]!, HOURS), parseField(fields[2]!, DOM), parseField(fields[3]!, MONTHS), parseField(fields[4]!, DOW), tz);
}
