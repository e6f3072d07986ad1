/**
 * Quantiles of a stream of samples: exact order statistics (nearest rank)
 * while there are fewer than `exact` of them, a log histogram's (within its
 * relative error) beyond. With few samples a histogram's answer can be far
 * off (the p99 of two values is the larger one), and the first samples cost
 * little to keep.
 */
import { LogHistogram, type HistogramOptions } from "./histogram.js";

/** The q-quantile of sorted values by nearest rank: the value of rank ceil(q n) (1-based). NaN when empty. */
export function nearestRank(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  return sorted[Math.min(n - 1, Math.max(0, Math.ceil(Math.min(1, Math.max(0, q)) * n) - 1))];
}

export class Quantiles {
  readonly histogram: LogHistogram;
  private readonly first: Float64Array;

  constructor(
    readonly exact = 1000,
    histogram: HistogramOptions = {},
  ) {
    this.first = new Float64Array(exact);
    this.histogram = new LogHistogram(histogram);
  }

  /** Records `x`. O(1). */
  record(x: number): void {
    if (this.histogram.count < this.exact) this.first[this.histogram.count] = x;
    this.histogram.record(x);
  }

  get count(): number {
    return this.histogram.count;
  }

  /** Exact mean of the recorded values. */
  get mean(): number {
    return this.histogram.mean;
  }

  /** The q-quantile: exact while fewer than `exact` samples, else within the histogram's relative error. NaN when empty. */
  quantile(q: number): number {
    const n = this.histogram.count;
    if (n >= this.exact) return this.histogram.quantile(q);
    return nearestRank(this.first.slice(0, n).sort(), q);
  }
}
