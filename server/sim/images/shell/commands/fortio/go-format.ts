/**
 * Go's fmt verbs and time.Duration as fortio prints them (%g with and without precision, %f,
 * Duration.String, ParseDuration), so the simulated fortio's numbers read like the real one's.
 */

/** Go's exponent: sign and at least two digits (`1e-05`, `1.5e+06`). */
function goExp(exp: number): string {
  return (exp < 0 ? '-' : '+') + String(Math.abs(exp)).padStart(2, '0');
}

/** Decimal digits (no trailing zeros) and the exponent of the first digit, rounded to `prec` digits (shortest when undefined). */
function digitsOf(v: number, prec?: number): { digits: string; exp: number } {
  const s = prec === undefined ? v.toExponential() : v.toExponential(Math.max(prec, 1) - 1);
  const [mant, e] = s.split('e');
  const digits = mant.replace('.', '').replace(/0+$/, '') || '0';
  return { digits, exp: Number(e) };
}

/** fmt's %g (prec undefined) and %.Ng. */
export function goG(v: number, prec?: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const sign = v < 0 ? '-' : '';
  const { digits, exp } = digitsOf(Math.abs(v), prec);
  const nd = digits.length;
  const dp = exp + 1;
  let eprec = prec === undefined ? 6 : Math.max(prec, 1);
  if (prec !== undefined && eprec > nd && nd >= dp) eprec = nd;
  if (prec === undefined) eprec = 6;
  if (exp < -4 || exp >= eprec) {
    const mant = nd > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${mant}e${goExp(exp)}`;
  }
  if (dp <= 0) return `${sign}0.${'0'.repeat(-dp)}${digits}`;
  if (dp >= nd) return `${sign}${digits}${'0'.repeat(dp - nd)}`;
  return `${sign}${digits.slice(0, dp)}.${digits.slice(dp)}`;
}

/** fmt's %.Nf. */
export function goF(v: number, prec: number): string {
  return v.toFixed(prec);
}

/** time.Duration.String() of a duration in nanoseconds: `59.046958ms`, `1.5s`, `2m0.25s`. */
export function goDuration(ns: number): string {
  ns = Math.round(ns);
  if (ns === 0) return '0s';
  const neg = ns < 0;
  let u = Math.abs(ns);
  const frac = (value: number, digits: number) => {
    const whole = Math.floor(value / 10 ** digits);
    const rest = String(value % 10 ** digits).padStart(digits, '0').replace(/0+$/, '');
    return rest ? `${whole}.${rest}` : String(whole);
  };
  let out: string;
  if (u < 1000) out = `${u}ns`;
  else if (u < 1e6) out = `${frac(u, 3)}µs`;
  else if (u < 1e9) out = `${frac(u, 6)}ms`;
  else {
    const h = Math.floor(u / 3.6e12);
    u -= h * 3.6e12;
    const m = Math.floor(u / 6e10);
    u -= m * 6e10;
    out = `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${frac(u, 9)}s`;
  }
  return (neg ? '-' : '') + out;
}

const UNITS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 6e10, h: 3.6e12 };

/** time.ParseDuration: nanoseconds, or null when Go would reject it. */
export function parseGoDuration(s: string): number | null {
  if (s === '0' || s === '+0' || s === '-0') return 0;
  const m = /^([-+]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/.exec(s);
  if (!m) return null;
  let total = 0;
  for (const part of s.replace(/^[-+]/, '').matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) total += Number(part[1]) * UNITS[part[2]];
  return m[1] === '-' ? -total : total;
}
