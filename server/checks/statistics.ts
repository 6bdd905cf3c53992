/**
 * Statistics for sampled traffic checks ("50% of requests reach v1, 50% reach v3").
 *
 * Routing by weight is random per request, so the observed split of N requests varies. For each
 * expected share p we accept the observed count k when it lies inside the central binomial
 * interval of Binomial(N, p) whose tails together hold at most alpha / K (K = number of keys,
 * a Bonferroni correction). With alpha = 1e-4 a correctly configured split fails fewer than
 * 1 in 10,000 evaluations. The power to tell splits apart then depends on N: with N = 100 the
 * 50/50 interval is about 31..69 and a true 80/20 split still lands inside it about 1 time in
 * 200; with N = 200 (interval about 72..128, expected 160 ± 5.7) that drops below 1 in 10^7,
 * so sampled checks default to 200 requests.
 * Exact binomial tails are used instead of a normal approximation so small N and shares
 * near 0 or 1 (e.g. "100% to v3") stay correct.
 */

export const DEFAULT_FALSE_FAILURE_RATE = 1e-4;

/** log(n choose k) via log-gamma, accurate for the N (≤ 10,000) checks use. */
function logChoose(n: number, k: number): number {
  return logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1);
}

/** Lanczos approximation of log Γ(x) for x > 0. */
function logGamma(x: number): number {
  const g = 7;
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  x -= 1;
  let a = c[0]!;
  const t = x + g + 0.5;
  for (let i = 1; i < g + 2; i++) a += c[i]! / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

export function binomialPmf(n: number, k: number, p: number): number {
  if (p <= 0) return k === 0 ? 1 : 0;
  if (p >= 1) return k === n ? 1 : 0;
  return Math.exp(logChoose(n, k) + k * Math.log(p) + (n - k) * Math.log(1 - p));
}

/**
 * The smallest interval [lo, hi] of counts such that P(X < lo) ≤ alpha/2 and P(X > hi) ≤ alpha/2
 * for X ~ Binomial(n, p).
 */
export function acceptanceInterval(n: number, p: number, alpha: number): { lo: number; hi: number } {
  const half = alpha / 2;
  let lo = 0;
  let tail = 0;
  while (lo < n && tail + binomialPmf(n, lo, p) <= half) tail += binomialPmf(n, lo++, p);
  let hi = n;
  tail = 0;
  while (hi > 0 && tail + binomialPmf(n, hi, p) <= half) tail += binomialPmf(n, hi--, p);
  return { lo, hi };
}

export interface ShareVerdict {
  key: string;
  expected: number;
  observed: number;
  count: number;
  lo: number;
  hi: number;
  ok: boolean;
}

/**
 * Judges observed counts per key against expected shares (which should sum to 1; keys seen but
 * not expected count as expected share 0, so stray traffic fails the check).
 */
export function judgeShares(
  counts: Record<string, number>,
  expected: Record<string, number>,
  falseFailureRate = DEFAULT_FALSE_FAILURE_RATE,
): { ok: boolean; total: number; verdicts: ShareVerdict[] } {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const keys = [...new Set([...Object.keys(expected), ...Object.keys(counts)])];
  const alpha = falseFailureRate / Math.max(1, keys.length);
  const verdicts = keys.map((key) => {
    const p = expected[key] ?? 0;
    const count = counts[key] ?? 0;
    const { lo, hi } = acceptanceInterval(total, p, alpha);
    return { key, expected: p, observed: total ? count / total : 0, count, lo, hi, ok: total > 0 && count >= lo && count <= hi };
  });
  return { ok: verdicts.every((v) => v.ok), total, verdicts };
}

/**
 * The most each key may reach out of `total` before `judgeShares` must fail, whatever the
 * remaining samples bring (counts only grow). Keys not expected may not appear at all. The
 * Bonferroni factor is the expected keys': any other key appearing fails the check anyway.
 */
export function shareCeilings(total: number, expected: Record<string, number>, falseFailureRate = DEFAULT_FALSE_FAILURE_RATE): (key: string) => number {
  const alpha = falseFailureRate / Math.max(1, Object.keys(expected).length);
  const ceilings = new Map(Object.entries(expected).map(([key, p]) => [key, acceptanceInterval(total, p, alpha).hi]));
  return (key) => ceilings.get(key) ?? 0;
}
