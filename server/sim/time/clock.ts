/**
 * The cluster's clock: what controllers that act on time of day (the CronJob controller) read and
 * wait on. The real one is the machine's; tests pass a ManualClock and advance it, so a schedule
 * "every minute" runs without waiting real minutes (k8s.io/utils/clock/testing's FakeClock).
 */

export interface Clock {
  now(): Date;
  /** Calls `fn` once `ms` of this clock's time have passed; returns the cancel. */
  after(ms: number, fn: () => void): () => void;
}

/** Node's timers fire at once past 2^31-1 ms (~24.8 days): longer waits re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export const realClock: Clock = {
  now: () => new Date(),
  after(ms, fn) {
    let t: NodeJS.Timeout;
    const arm = (left: number) => {
      t = setTimeout(() => (left > MAX_TIMER_MS ? arm(left - MAX_TIMER_MS) : fn()), Math.min(Math.max(0, left), MAX_TIMER_MS));
      t.unref?.();
    };
    arm(ms);
    return () => clearTimeout(t);
  },
};

interface Waiter {
  at: number;
  fn: () => void;
}

/** A clock that moves only when told to; timers due by then fire, earliest first. */
export class ManualClock implements Clock {
  private t: number;
  private waiters: Waiter[] = [];

  constructor(start: Date | number = Date.now()) {
    this.t = typeof start === 'number' ? start : start.getTime();
  }

  now(): Date {
    return new Date(this.t);
  }

  after(ms: number, fn: () => void): () => void {
    const w: Waiter = { at: this.t + Math.max(0, ms), fn };
    this.waiters.push(w);
    return () => {
      this.waiters = this.waiters.filter((x) => x !== w);
    };
  }

  /** Moves time forward by `ms`, firing every timer due on the way (a timer set by one that fires counts too). */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = this.waiters.filter((w) => w.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.waiters = this.waiters.filter((w) => w !== due);
      this.t = Math.max(this.t, due.at);
      due.fn();
    }
    this.t = end;
  }

  /** Timers not yet due (tests check that a controller is waiting for something). */
  get pending(): number {
    return this.waiters.length;
  }
}
