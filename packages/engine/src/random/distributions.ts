/**
 * Probability distributions with their analytic moments. A distribution is built
 * once (parameters validated there) and sampled many times from a caller's
 * stream; sampling allocates nothing and keeps no state of its own, so the
 * stream alone determines the numbers (and is all a snapshot needs).
 */
import { gamma } from "../stats/special.js";
import type { Random } from "./random.js";

export interface Distribution {
  /** Short description, e.g. `exp(mean=0.002)`. */
  readonly label: string;
  readonly mean: number;
  readonly variance: number;
  /** One variate drawn from `rng`. */
  sample(rng: Random): number;
}

function check(ok: boolean, message: string): void {
  if (!ok) throw new RangeError(message);
}

function finite(name: string, value: number): void {
  check(Number.isFinite(value), `${name} must be a finite number, got ${value}`);
}

/** Always `value`. */
export function constant(value: number): Distribution {
  finite("constant value", value);
  return { label: `${value}`, mean: value, variance: 0, sample: () => value };
}

/** Exponential with the given mean (> 0). */
export function exponential(mean: number): Distribution {
  finite("exponential mean", mean);
  check(mean > 0, `exponential mean must be > 0, got ${mean}`);
  return {
    label: `exp(mean=${mean})`,
    mean,
    variance: mean * mean,
    sample: (rng) => -mean * Math.log(1 - rng.float()),
  };
}

/** A standard normal variate by Box-Muller (two uniforms per variate, no cached spare: stateless). */
function standardNormal(rng: Random): number {
  const u1 = 1 - rng.float();
  const u2 = rng.float();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** Normal with mean and standard deviation (>= 0). */
export function normal(mean: number, sd: number): Distribution {
  finite("normal mean", mean);
  finite("normal sd", sd);
  check(sd >= 0, `normal sd must be >= 0, got ${sd}`);
  return { label: `normal(mean=${mean}, sd=${sd})`, mean, variance: sd * sd, sample: (rng) => mean + sd * standardNormal(rng) };
}

/**
 * Lognormal given by its own mean (> 0) and coefficient of variation (> 0), the
 * way service times are quoted: sigma^2 = ln(1 + cv^2), mu = ln(mean) - sigma^2 / 2.
 */
export function lognormal(mean: number, cv: number): Distribution {
  finite("lognormal mean", mean);
  finite("lognormal cv", cv);
  check(mean > 0, `lognormal mean must be > 0, got ${mean}`);
  check(cv > 0, `lognormal cv must be > 0, got ${cv}`);
  const s2 = Math.log(1 + cv * cv);
  const sigma = Math.sqrt(s2);
  const mu = Math.log(mean) - s2 / 2;
  return {
    label: `lognormal(mean=${mean}, cv=${cv})`,
    mean,
    variance: (cv * mean) ** 2,
    sample: (rng) => Math.exp(mu + sigma * standardNormal(rng)),
  };
}

/** Uniform on [a, b], a <= b. */
export function uniform(a: number, b: number): Distribution {
  finite("uniform lower bound", a);
  finite("uniform upper bound", b);
  check(a <= b, `uniform bounds must satisfy a <= b, got [${a}, ${b}]`);
  const w = b - a;
  return { label: `uniform(${a}, ${b})`, mean: (a + b) / 2, variance: (w * w) / 12, sample: (rng) => a + w * rng.float() };
}

/**
 * Pareto (type I) with shape alpha (> 0) and scale xm (> 0, the minimum).
 * The mean is infinite for alpha <= 1 and the variance for alpha <= 2.
 */
export function pareto(shape: number, scale: number): Distribution {
  finite("pareto shape", shape);
  finite("pareto scale", scale);
  check(shape > 0, `pareto shape must be > 0, got ${shape}`);
  check(scale > 0, `pareto scale must be > 0, got ${scale}`);
  const mean = shape > 1 ? (shape * scale) / (shape - 1) : Infinity;
  const variance = shape > 2 ? (scale * scale * shape) / ((shape - 1) ** 2 * (shape - 2)) : Infinity;
  const inv = -1 / shape;
  return {
    label: `pareto(shape=${shape}, scale=${scale})`,
    mean,
    variance,
    sample: (rng) => scale * Math.pow(1 - rng.float(), inv),
  };
}

/** Weibull with shape k (> 0) and scale lambda (> 0). */
export function weibull(shape: number, scale: number): Distribution {
  finite("weibull shape", shape);
  finite("weibull scale", scale);
  check(shape > 0, `weibull shape must be > 0, got ${shape}`);
  check(scale > 0, `weibull scale must be > 0, got ${scale}`);
  const g1 = gamma(1 + 1 / shape);
  const g2 = gamma(1 + 2 / shape);
  const inv = 1 / shape;
  return {
    label: `weibull(shape=${shape}, scale=${scale})`,
    mean: scale * g1,
    variance: scale * scale * (g2 - g1 * g1),
    sample: (rng) => scale * Math.pow(-Math.log(1 - rng.float()), inv),
  };
}

/** Each of the observed `values` with equal probability (a bootstrap of measurements). */
export function empirical(values: readonly number[]): Distribution {
  check(values.length > 0, "empirical distribution needs at least one value");
  const v = Float64Array.from(values);
  let sum = 0;
  for (const x of v) {
    finite("empirical value", x);
    sum += x;
  }
  const mean = sum / v.length;
  let ss = 0;
  for (const x of v) ss += (x - mean) ** 2;
  const n = v.length;
  return {
    label: `empirical(${n} values)`,
    mean,
    variance: ss / n,
    sample: (rng) => v[rng.below(n)],
  };
}
