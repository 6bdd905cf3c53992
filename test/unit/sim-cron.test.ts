/** The CronJob controller's schedules (robfig/cron v3 ParseStandard semantics) and the manual clock tests drive it with. */
import { describe, expect, it } from 'vitest';
import { parseSchedule, isTimeZone } from '../../server/sim/time/cron.js';
import { ManualClock } from '../../server/sim/time/clock.js';

const at = (iso: string) => new Date(iso);
const nexts = (spec: string, from: string, n: number, tz = '') => {
  const s = parseSchedule(spec, tz);
  const out: string[] = [];
  let t = at(from);
  for (let i = 0; i < n; i++) out.push((t = s.next(t)).toISOString());
  return out;
};

describe('cron schedules', () => {
  it('steps, ranges, lists and names', () => {
    expect(nexts('*/15 * * * *', '2026-12-06T07:35:20Z', 3)).toEqual(['2026-12-06T07:45:00.000Z', '2026-12-06T08:00:00.000Z', '2026-12-06T08:15:00.000Z']);
    // 4 December 2026 is a Friday: 17:00 that day, then Monday.
    expect(nexts('0 9-17/4 * * MON-FRI', '2026-12-04T16:00:00Z', 3)).toEqual(['2026-12-04T17:00:00.000Z', '2026-12-07T09:00:00.000Z', '2026-12-07T13:00:00.000Z']);
    expect(nexts('30 2 1 jan,jul *', '2026-12-06T00:00:00Z', 2)).toEqual(['2027-01-01T02:30:00.000Z', '2027-07-01T02:30:00.000Z']);
  });

  it('day-of-month and day-of-week: either matches when both are restricted, both when one is a star', () => {
    // The 13th, or any Friday.
    expect(nexts('0 0 13 * 5', '2026-12-06T00:00:00Z', 3)).toEqual(['2026-12-11T00:00:00.000Z', '2026-12-13T00:00:00.000Z', '2026-12-18T00:00:00.000Z']);
    expect(nexts('0 0 * * 5', '2026-12-06T00:00:00Z', 1)).toEqual(['2026-12-11T00:00:00.000Z']);
  });

  it('descriptors', () => {
    expect(nexts('@hourly', '2026-12-06T07:35:00Z', 1)).toEqual(['2026-12-06T08:00:00.000Z']);
    expect(nexts('@daily', '2026-12-06T07:35:00Z', 1)).toEqual(['2026-12-07T00:00:00.000Z']);
    expect(nexts('@weekly', '2026-12-06T07:35:00Z', 1)).toEqual(['2026-12-13T00:00:00.000Z']);
    expect(nexts('@monthly', '2026-12-06T07:35:00Z', 1)).toEqual(['2027-01-01T00:00:00.000Z']);
    expect(nexts('@yearly', '2026-12-06T07:35:00Z', 1)).toEqual(['2027-01-01T00:00:00.000Z']);
    expect(nexts('@every 90s', '2026-12-06T07:35:20.500Z', 1)).toEqual(['2026-12-06T07:36:50.000Z']);
  });

  it('runs on the wall clock of a time zone, across a daylight-saving change', () => {
    expect(nexts('0 9 * * *', '2026-12-06T00:00:00Z', 1, 'Europe/Berlin')).toEqual(['2026-12-06T08:00:00.000Z']);
    // Berlin leaves summer time on 25 October 2026.
    expect(nexts('0 9 * * *', '2026-10-24T12:00:00Z', 2, 'Europe/Berlin')).toEqual(['2026-10-25T08:00:00.000Z', '2026-10-26T08:00:00.000Z']);
    expect(isTimeZone('Europe/Berlin')).toBe(true);
    expect(isTimeZone('europe/berlin')).toBe(false);
    expect(isTimeZone('Mars/Olympus_Mons')).toBe(false);
  });

  it('refuses what robfig refuses, in its words', () => {
    const err = (s: string) => {
      try {
        parseSchedule(s);
        return '';
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(err('* * * *')).toBe('expected exactly 5 fields, found 4: [* * * *]');
    expect(err('0 24 * * *')).toBe('end of range (24) above maximum (23): 24');
    expect(err('0 0 0 * *')).toBe('beginning of range (0) below minimum (1): 0');
    expect(err('5-1 * * * *')).toBe('beginning of range (5) beyond end of range (1): 5-1');
    expect(err('@fortnightly')).toBe('unrecognized descriptor: @fortnightly');
    expect(err('x * * * *')).toBe('failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax');
  });
});

describe('ManualClock', () => {
  it('fires timers in order as time is advanced past them, including ones they set', () => {
    const c = new ManualClock(0);
    const fired: string[] = [];
    c.after(2000, () => fired.push(`b@${c.now().getTime()}`));
    c.after(1000, () => {
      fired.push(`a@${c.now().getTime()}`);
      c.after(500, () => fired.push(`c@${c.now().getTime()}`));
    });
    const cancel = c.after(1200, () => fired.push('never'));
    cancel();
    c.advance(1999);
    expect(fired).toEqual(['a@1000', 'c@1500']);
    c.advance(1);
    expect(fired).toEqual(['a@1000', 'c@1500', 'b@2000']);
    expect(c.pending).toBe(0);
  });
});
