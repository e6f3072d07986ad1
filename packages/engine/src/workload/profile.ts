/**
 * Load that changes over time: an open load's rate as a profile of simulated
 * time (piecewise constant `steps`, piecewise linear `ramp`, a sinusoidal
 * `diurnal` cycle), and its arrivals, a non-homogeneous Poisson process
 * sampled exactly by inversion: with Λ(t) the expected arrivals by time t,
 * the next arrival after one at Λ = λ is at Λ⁻¹(λ + E), E a unit exponential
 * drawn from the next request's own stream. Each request draws one number
 * whatever the profile, so the same arrivals come on every stack (common
 * random numbers).
 */
import type { ClientsProfileSpec, RateProfileSpec, Scenario } from "../scenario/schema.js";

/** Whether any load of `s` changes over time: an open load's rate profile, or a closed load's clients profile. */
export function hasRateProfile(s: Scenario): boolean {
  return s.tenants.some((t) =>
    t.services.some((svc) => svc.load !== undefined && ("open" in svc.load ? typeof svc.load.open.rate !== "number" : typeof svc.load.closed.clients !== "number")),
  );
}

/** The most closed-loop clients a count or a clients profile has at once. */
export function mostClients(clients: number | ClientsProfileSpec): number {
  return typeof clients === "number" ? clients : Math.max(...clients.steps.map(([, n]) => n));
}

/** The clients a profile has at time `t`: the count of the last point at or before `t` (the first one's before it). */
export function clientsAt(steps: readonly (readonly [number, number])[], t: number): number {
  let n = steps[0][1];
  for (const [at, count] of steps) if (at <= t) n = count;
  return n;
}

/** The mean rate over the first `seconds` of a rate or a profile. */
export function meanRate(rate: number | RateProfileSpec, seconds: number): number {
  return typeof rate === "number" ? rate : new RateProfile(rate).expected(seconds) / seconds;
}

export class RateProfile {
  /** Breakpoints (steps and ramps): times, rates, and Λ at each. */
  private readonly times: number[] = [];
  private readonly rates: number[] = [];
  private readonly cumulative: number[] = [];
  private readonly linear: boolean;
  private readonly diurnal: { mean: number; amplitude: number; period: number; phase: number } | undefined;

  /** Times are simulated time from 0, the warm-up included (as a scripted failure's `at`). */
  constructor(spec: RateProfileSpec) {
    if ("diurnal" in spec) {
      this.linear = false;
      this.diurnal = spec.diurnal;
      return;
    }
    const points = "steps" in spec ? spec.steps : spec.ramp;
    this.linear = "ramp" in spec;
    // The first rate holds from time 0 to the first point, the last one after the last point.
    const pts = points[0][0] > 0 ? [[0, points[0][1]] as [number, number], ...points] : points;
    let total = 0;
    pts.forEach(([t, r], i) => {
      if (i > 0) {
        const [t0, r0] = pts[i - 1];
        total += this.linear ? ((r0 + r) / 2) * (t - t0) : r0 * (t - t0);
      }
      this.times.push(t);
      this.rates.push(r);
      this.cumulative.push(total);
    });
  }

  /** The rate at time t (per second). */
  rate(t: number): number {
    if (this.diurnal) {
      const d = this.diurnal;
      return d.mean * (1 + d.amplitude * Math.sin((2 * Math.PI * (t - d.phase)) / d.period));
    }
    const i = this.segment(t);
    if (!this.linear || i === this.times.length - 1) return this.rates[i];
    const [t0, t1] = [this.times[i], this.times[i + 1]];
    return this.rates[i] + ((this.rates[i + 1] - this.rates[i]) * (t - t0)) / (t1 - t0);
  }

  /** Λ(t): the expected arrivals from 0 to t. */
  expected(t: number): number {
    if (this.diurnal) {
      const d = this.diurnal;
      const w = (2 * Math.PI) / d.period;
      return d.mean * (t + (d.amplitude / w) * (Math.cos(-w * d.phase) - Math.cos(w * (t - d.phase))));
    }
    const i = this.segment(t);
    const dt = t - this.times[i];
    if (!this.linear || i === this.times.length - 1) return this.cumulative[i] + this.rates[i] * dt;
    const slope = (this.rates[i + 1] - this.rates[i]) / (this.times[i + 1] - this.times[i]);
    return this.cumulative[i] + this.rates[i] * dt + (slope * dt * dt) / 2;
  }

  /** The time t ≥ `after` at which Λ(t) = target (Infinity when the rate stays 0). */
  inverse(target: number, after: number): number {
    if (this.diurnal) return this.invertDiurnal(target, after);
    // The segment holding the target (the last breakpoint whose Λ is at most it, and not before `after`'s).
    let i = this.segment(after);
    while (i + 1 < this.times.length && this.cumulative[i + 1] <= target) i++;
    const left = target - this.cumulative[i];
    const r0 = this.rates[i];
    if (!this.linear || i === this.times.length - 1) return r0 > 0 ? this.times[i] + left / r0 : Infinity;
    const slope = (this.rates[i + 1] - r0) / (this.times[i + 1] - this.times[i]);
    // r0 dt + slope dt² / 2 = left, the root in the segment.
    const dt = slope === 0 ? left / r0 : (-r0 + Math.sqrt(Math.max(0, r0 * r0 + 2 * slope * left))) / slope;
    return this.times[i] + dt;
  }

  /** The breakpoint segment that holds t: the last point at or before it. O(log points). */
  private segment(t: number): number {
    let lo = 0;
    let hi = this.times.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.times[mid] <= t) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Λ is increasing (the rate is at least 0): bisection on a bracket, refined by Newton steps where they stay inside it. */
  private invertDiurnal(target: number, after: number): number {
    const d = this.diurnal!;
    if (d.mean === 0) return Infinity;
    // Λ grows by exactly mean × period in every period: the target is reached within one period of where the mean rate would reach it.
    const guess = after + (target - this.expected(after)) / d.mean;
    let lo = after;
    let hi = guess + d.period;
    let t = guess;
    for (let k = 0; k < 100; k++) {
      const f = this.expected(t) - target;
      if (Math.abs(f) <= 1e-12 * Math.max(1, target)) return t;
      if (f > 0) hi = t;
      else lo = t;
      const r = this.rate(t);
      const next = r > 0 ? t - f / r : (lo + hi) / 2;
      t = next > lo && next < hi ? next : (lo + hi) / 2;
    }
    return t;
  }
}
