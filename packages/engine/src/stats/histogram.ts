/**
 * A log-bucketed histogram of positive values with a guaranteed relative error
 * (the DDSketch construction, Masson et al., VLDB 2019): bucket i holds
 * (gamma^(i-1), gamma^i] with gamma = (1 + a) / (1 - a), and a quantile is
 * reported as the bucket's point 2 gamma^i / (gamma + 1), within a relative
 * error `a` of the exact sample quantile. Dense buckets over a fixed range make
 * recording one logarithm and one increment, and merging an element-wise add.
 */

export interface HistogramOptions {
  /** Relative accuracy of quantiles. Default 0.005 (well inside 1%). */
  relativeError?: number;
  /** Smallest value resolved; smaller positive values count in the first bucket. Default 1e-9 (1 ns). */
  min?: number;
  /** Largest value resolved; larger values count in the last bucket. Default 1e7 (116 days). */
  max?: number;
}

export class LogHistogram {
  readonly relativeError: number;
  readonly min: number;
  readonly max: number;
  private readonly gamma: number;
  private readonly invLogGamma: number;
  private readonly offset: number;
  private readonly counts: Float64Array;
  /** Values <= 0 (zero latencies are legitimate). */
  private zeros = 0;
  count = 0;
  sum = 0;

  constructor(options: HistogramOptions = {}) {
    const a = options.relativeError ?? 0.005;
    const min = options.min ?? 1e-9;
    const max = options.max ?? 1e7;
    if (!(a > 0 && a < 1)) throw new RangeError(`histogram relativeError must be in (0, 1), got ${a}`);
    if (!(min > 0 && max > min)) throw new RangeError(`histogram range must satisfy 0 < min < max, got [${min}, ${max}]`);
    this.relativeError = a;
    this.min = min;
    this.max = max;
    this.gamma = (1 + a) / (1 - a);
    this.invLogGamma = 1 / Math.log(this.gamma);
    this.offset = Math.ceil(Math.log(min) * this.invLogGamma);
    this.counts = new Float64Array(Math.ceil(Math.log(max) * this.invLogGamma) - this.offset + 1);
  }

  /** Records `x` (`weight` times). O(1). */
  record(x: number, weight = 1): void {
    this.count += weight;
    this.sum += x * weight;
    if (x <= 0) {
      this.zeros += weight;
      return;
    }
    let i = Math.ceil(Math.log(x) * this.invLogGamma) - this.offset;
    if (i < 0) i = 0;
    else if (i >= this.counts.length) i = this.counts.length - 1;
    this.counts[i] += weight;
  }

  /** Exact mean of the recorded values. */
  get mean(): number {
    return this.count > 0 ? this.sum / this.count : 0;
  }

  /**
   * The q-quantile (0 <= q <= 1): the value of rank floor(q (n - 1)) in sorted
   * order, within the relative error. NaN when empty.
   */
  quantile(q: number): number {
    if (this.count === 0) return NaN;
    const rank = Math.floor(Math.min(1, Math.max(0, q)) * (this.count - 1));
    if (rank < this.zeros) return 0;
    let seen = this.zeros;
    const c = this.counts;
    for (let i = 0; i < c.length; i++) {
      seen += c[i];
      if (seen > rank) return (2 * Math.pow(this.gamma, i + this.offset)) / (this.gamma + 1);
    }
    return this.max;
  }

  /** Adds another histogram's counts; both must have the same configuration. */
  merge(other: LogHistogram): void {
    if (other.gamma !== this.gamma || other.offset !== this.offset || other.counts.length !== this.counts.length) {
      throw new Error("cannot merge histograms with different relativeError, min or max");
    }
    for (let i = 0; i < this.counts.length; i++) this.counts[i] += other.counts[i];
    this.zeros += other.zeros;
    this.count += other.count;
    this.sum += other.sum;
  }
}
