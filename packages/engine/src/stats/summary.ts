/**
 * Streaming statistics that update on state change, never on a timer, and
 * keep O(1) memory whatever the simulated time.
 */

/** A monotone count (completions, drops). */
export class Counter {
  value = 0;

  add(n = 1): void {
    this.value += n;
  }

  /** Rate over an interval of `seconds`. */
  rate(seconds: number): number {
    return seconds > 0 ? this.value / seconds : 0;
  }
}

/**
 * Mean and variance by Welford's algorithm (numerically stable for long runs),
 * mergeable with Chan et al.'s pairwise formula.
 */
export class RunningStats {
  count = 0;
  mean = 0;
  /** Sum of squared deviations from the mean. */
  m2 = 0;
  min = Infinity;
  max = -Infinity;

  push(x: number): void {
    const n = ++this.count;
    const d = x - this.mean;
    this.mean += d / n;
    this.m2 += d * (x - this.mean);
    if (x < this.min) this.min = x;
    if (x > this.max) this.max = x;
  }

  /** Unbiased sample variance (n - 1 denominator); 0 below two samples. */
  get variance(): number {
    return this.count > 1 ? this.m2 / (this.count - 1) : 0;
  }

  get sd(): number {
    return Math.sqrt(this.variance);
  }

  /** Adds another summary's samples to this one. */
  merge(other: RunningStats): void {
    if (other.count === 0) return;
    if (this.count === 0) {
      this.count = other.count;
      this.mean = other.mean;
      this.m2 = other.m2;
      this.min = other.min;
      this.max = other.max;
      return;
    }
    const n = this.count + other.count;
    const d = other.mean - this.mean;
    this.mean += (d * other.count) / n;
    this.m2 += other.m2 + (d * d * this.count * other.count) / n;
    this.count = n;
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
  }
}

/**
 * A piecewise-constant quantity integrated over simulated time (queue length,
 * busy cores): call `set` whenever it changes; the area since the last change
 * is accrued then, so nothing ticks.
 */
export class TimeWeighted {
  private value: number;
  private since: number;
  private readonly start: number;
  private area = 0;
  max: number;

  constructor(initial = 0, now = 0) {
    this.value = initial;
    this.since = now;
    this.start = now;
    this.max = initial;
  }

  get current(): number {
    return this.value;
  }

  /** The quantity becomes `value` at time `now` (>= the last change). */
  set(value: number, now: number): void {
    this.area += this.value * (now - this.since);
    this.since = now;
    this.value = value;
    if (value > this.max) this.max = value;
  }

  add(delta: number, now: number): void {
    this.set(this.value + delta, now);
  }

  /** Integral from the start to `now`. */
  integral(now: number): number {
    return this.area + this.value * (now - this.since);
  }

  /** Time average from the start to `now`. */
  mean(now: number): number {
    const span = now - this.start;
    return span > 0 ? this.integral(now) / span : this.value;
  }
}
