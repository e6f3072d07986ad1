/**
 * Confidence intervals: Student's t over independent samples (replications),
 * and batch means over one long, autocorrelated run (Law and Kelton, ch. 9).
 */
import { studentTQuantile } from "./special.js";
import { RunningStats } from "./summary.js";

export interface Interval {
  mean: number;
  /** Half-width of the interval; NaN below two samples. */
  halfWidth: number;
  level: number;
  /** Number of samples (or batches) behind it. */
  n: number;
}

/** Student-t interval for the mean of independent samples summarised in `stats`. */
export function confidenceInterval(stats: RunningStats, level = 0.95): Interval {
  if (!(level > 0 && level < 1)) throw new RangeError(`confidence level must be in (0, 1), got ${level}`);
  const n = stats.count;
  const halfWidth = n < 2 ? NaN : studentTQuantile(1 - (1 - level) / 2, n - 1) * Math.sqrt(stats.variance / n);
  return { mean: stats.mean, halfWidth, level, n };
}

/**
 * Batch means with a fixed number of batches: observations fill batches of
 * `size`; when 2k batches are full, neighbours merge pairwise and the size
 * doubles. So any run length ends with between k and 2k equal batches and O(k)
 * memory, and the batch means are close to independent once batches are long.
 */
export class BatchMeans {
  private readonly sums: Float64Array;
  private readonly maxBatches: number;
  private full = 0;
  private size = 1;
  private current = 0;
  private inCurrent = 0;
  count = 0;

  /** `batches` is k, the least number of batches an interval will use (default 32). */
  constructor(batches = 32) {
    if (!(batches >= 2 && Number.isInteger(batches))) throw new RangeError(`batches must be an integer >= 2, got ${batches}`);
    this.maxBatches = 2 * batches;
    this.sums = new Float64Array(this.maxBatches);
  }

  push(x: number): void {
    this.count++;
    this.current += x;
    if (++this.inCurrent < this.size) return;
    this.sums[this.full++] = this.current;
    this.current = 0;
    this.inCurrent = 0;
    if (this.full === this.maxBatches) {
      for (let i = 0; i < this.maxBatches / 2; i++) this.sums[i] = this.sums[2 * i] + this.sums[2 * i + 1];
      this.full = this.maxBatches / 2;
      this.size *= 2;
    }
  }

  /** Number of complete batches. */
  get batches(): number {
    return this.full;
  }

  /** Interval for the long-run mean from the complete batches (a partial batch is left out). */
  interval(level = 0.95): Interval {
    const s = new RunningStats();
    for (let i = 0; i < this.full; i++) s.push(this.sums[i] / this.size);
    return confidenceInterval(s, level);
  }
}
