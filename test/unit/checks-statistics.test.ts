import { describe, expect, it } from 'vitest';
import { acceptanceInterval, binomialPmf, judgeShares } from '../../server/checks/statistics.js';

/** A small deterministic PRNG (mulberry32) so the simulations below are repeatable. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sample(n: number, weights: Record<string, number>, random: () => number): Record<string, number> {
  const counts: Record<string, number> = {};
  const entries = Object.entries(weights);
  for (let i = 0; i < n; i++) {
    let r = random();
    let key = entries[entries.length - 1]![0];
    for (const [k, w] of entries) {
      if (r < w) {
        key = k;
        break;
      }
      r -= w;
    }
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

describe('sampled traffic statistics', () => {
  it('computes binomial probabilities that sum to one', () => {
    let sum = 0;
    for (let k = 0; k <= 100; k++) sum += binomialPmf(100, k, 0.5);
    expect(sum).toBeCloseTo(1, 10);
    expect(binomialPmf(10, 10, 1)).toBe(1);
    expect(binomialPmf(10, 0, 0)).toBe(1);
  });

  it('gives 50/50 over 100 requests an interval of roughly 31..69', () => {
    const { lo, hi } = acceptanceInterval(100, 0.5, 1e-4 / 2);
    expect(lo).toBeGreaterThanOrEqual(29);
    expect(lo).toBeLessThanOrEqual(32);
    expect(hi).toBe(100 - lo);
  });

  it('passes a correct 50/50 split in every one of 2,000 seeded runs', () => {
    const random = rng(42);
    for (let run = 0; run < 2000; run++) {
      const verdict = judgeShares(sample(200, { v1: 0.5, v3: 0.5 }, random), { v1: 0.5, v3: 0.5 });
      expect(verdict.ok).toBe(true);
    }
  });

  it('fails an 80/20 split judged as 50/50 in every one of 2,000 seeded runs', () => {
    const random = rng(7);
    for (let run = 0; run < 2000; run++) {
      const verdict = judgeShares(sample(200, { v1: 0.8, v3: 0.2 }, random), { v1: 0.5, v3: 0.5 });
      expect(verdict.ok).toBe(false);
    }
  });

  it('keeps the false-failure rate of a correct split below 1 in 10,000', () => {
    // Exact: the probability mass outside each key's interval, summed over keys.
    const n = 200;
    const { lo, hi } = acceptanceInterval(n, 0.5, 1e-4 / 2);
    let outside = 0;
    for (let k = 0; k <= n; k++) if (k < lo || k > hi) outside += binomialPmf(n, k, 0.5);
    expect(2 * outside).toBeLessThan(1e-4);
  });

  it('treats 100% as exact: a single stray request fails it', () => {
    expect(judgeShares({ v3: 50 }, { v3: 1 }).ok).toBe(true);
    const stray = judgeShares({ v3: 49, v1: 1 }, { v3: 1 });
    expect(stray.ok).toBe(false);
    expect(stray.verdicts.find((v) => v.key === 'v1')).toMatchObject({ expected: 0, count: 1, ok: false });
  });

  it('fails when nothing was observed', () => {
    expect(judgeShares({}, { v1: 0.5, v3: 0.5 }).ok).toBe(false);
  });
});
