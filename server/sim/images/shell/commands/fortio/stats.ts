/**
 * fortio's stats package (stats/stats.go @ v1.69.5): Counter, the fixed-bucket Histogram, its
 * export with percentiles, and the exact text it prints, so summaries read like fortio's.
 */
import { goG } from './go-format.js';

/** Bucket upper bounds, in units of the histogram's divider (stats.go histogramBucketValues). */
const BUCKETS = [
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 16, 18, 20, 25, 30, 35, 40, 45, 50, 60, 70, 80, 90, 100, 120, 140, 160, 180, 200, 250, 300,
  350, 400, 450, 500, 600, 700, 800, 900, 1000, 2000, 3000, 4000, 5000, 7500, 10000, 20000, 30000, 40000, 50000, 75000, 100000,
];
const NUM_BUCKETS = BUCKETS.length + 1;

export class Counter {
  count = 0;
  min = 0;
  max = 0;
  sum = 0;
  private sumOfSquares = 0;

  record(v: number): void {
    if (this.count === 0) {
      this.min = v;
      this.max = v;
    } else if (v < this.min) this.min = v;
    else if (v > this.max) this.max = v;
    this.count++;
    this.sum += v;
    this.sumOfSquares += v * v;
  }

  avg(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  stdDev(): number {
    if (this.count === 0) return 0;
    const sigma = (this.sumOfSquares - (this.sum * this.sum) / this.count) / this.count;
    return sigma < 0 ? 0 : Math.sqrt(sigma);
  }

  transfer(src: Counter): void {
    if (src.count === 0) return;
    if (this.count === 0) {
      this.min = src.min;
      this.max = src.max;
    } else {
      this.min = Math.min(this.min, src.min);
      this.max = Math.max(this.max, src.max);
    }
    this.count += src.count;
    this.sum += src.sum;
    this.sumOfSquares += src.sumOfSquares;
  }

  /** `msg : count N avg A +/- S min m max M sum s` (Counter.Print). */
  line(msg: string): string {
    return `${msg} : count ${this.count} avg ${goG(this.avg(), 8)} +/- ${goG(this.stdDev(), 4)} min ${goG(this.min)} max ${goG(this.max)} sum ${goG(this.sum, 9)}\n`;
  }
}

interface Bucket {
  start: number;
  end: number;
  percent: number;
  count: number;
}

export class Histogram extends Counter {
  private readonly hdata = new Array<number>(NUM_BUCKETS).fill(0);

  constructor(
    private readonly offset = 0,
    private readonly divider = 0.001,
  ) {
    super();
  }

  override record(v: number): void {
    super.record(v);
    const scaled = (v - this.offset) / this.divider;
    let idx: number;
    if (scaled <= BUCKETS[0]) idx = 0;
    else if (scaled > BUCKETS[BUCKETS.length - 1]) idx = NUM_BUCKETS - 1;
    else {
      // Intervals are ]prev, cur]: a value exactly on a bound belongs to the lower bucket.
      let sv = Math.trunc(scaled);
      if (scaled - sv < 1e-12) sv--;
      idx = BUCKETS.findIndex((b) => b > sv);
    }
    this.hdata[idx]++;
  }

  /** Values at or below the first bound (for sleep times: calls that were already late). */
  firstBucketCount(): number {
    return this.hdata[0];
  }

  transferHist(src: Histogram): void {
    this.transfer(src);
    for (let i = 0; i < NUM_BUCKETS; i++) this.hdata[i] += src.hdata[i];
  }

  private buckets(): Bucket[] {
    const out: Bucket[] = [];
    let last = -1;
    for (let i = NUM_BUCKETS - 1; i >= 0; i--) if (this.hdata[i] > 0) {
      last = i;
      break;
    }
    let prev = BUCKETS[0];
    let total = 0;
    for (let i = 0; i <= last; i++) {
      if (this.hdata[i] === 0) {
        if (i < BUCKETS.length) prev = BUCKETS[i];
        continue;
      }
      total += this.hdata[i];
      const b: Bucket = { start: out.length === 0 ? this.min : this.divider * prev + this.offset, end: 0, percent: (100 * total) / this.count, count: this.hdata[i] };
      if (i < BUCKETS.length) {
        b.end = this.divider * BUCKETS[i] + this.offset;
        prev = BUCKETS[i];
      } else {
        b.start = this.divider * prev + this.offset;
        b.end = this.max;
      }
      out.push(b);
    }
    if (out.length) out[out.length - 1].end = this.max;
    return out;
  }

  percentile(data: Bucket[], p: number): number {
    if (data.length === 0) return 0;
    if (p >= 100) return this.max;
    let pp = 100 / this.count;
    if (p <= pp) return this.min;
    for (const cur of data) {
      if (p <= cur.percent) return cur.start + ((p - pp) / (cur.percent - pp)) * (cur.end - cur.start);
      pp = cur.percent;
    }
    return this.max;
  }

  /** HistogramData.Print with the given percentiles (`no data` when empty). */
  text(msg: string, percentiles: number[]): string {
    const data = this.buckets();
    if (data.length === 0) return `${msg} : no data\n`;
    let out = this.line(msg);
    out += '# range, mid point, percentile, count\n';
    data.forEach((b, i) => {
      out += `${i > 0 ? '>' : '>='} ${goG(b.start, 6)} <= ${goG(b.end, 6)} , ${goG((b.start + b.end) / 2, 6)} , ${b.percent.toFixed(2)}, ${b.count}\n`;
    });
    for (const p of percentiles) out += `# target ${goG(p)}% ${goG(this.percentile(data, p), 6)}\n`;
    return out;
  }
}
