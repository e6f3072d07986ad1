import { describe, expect, it } from "vitest";
import { Random } from "../random/random.js";
import { BatchMeans, confidenceInterval } from "./confidence.js";
import { LogHistogram } from "./histogram.js";
import { erlangC, mmcMeanWait } from "./queueing.js";
import { gamma, studentTQuantile } from "./special.js";
import { Counter, RunningStats, TimeWeighted } from "./summary.js";

describe("RunningStats (Welford)", () => {
  it("matches the two-pass mean and unbiased variance, and merges exactly", () => {
    const xs = [1e9 + 4, 1e9 + 7, 1e9 + 13, 1e9 + 16];
    const s = new RunningStats();
    for (const x of xs) s.push(x);
    expect(s.mean).toBe(1e9 + 10);
    expect(s.variance).toBe(30);
    expect([s.min, s.max]).toEqual([1e9 + 4, 1e9 + 16]);
    const a = new RunningStats();
    const b = new RunningStats();
    xs.slice(0, 1).forEach((x) => a.push(x));
    xs.slice(1).forEach((x) => b.push(x));
    a.merge(b);
    expect([a.count, a.mean, a.variance]).toEqual([4, 1e9 + 10, 30]);
  });
});

describe("Counter and TimeWeighted", () => {
  it("count and integrate a piecewise-constant value over time", () => {
    const c = new Counter();
    c.add();
    c.add(4);
    expect(c.rate(10)).toBe(0.5);
    const busy = new TimeWeighted(0, 0);
    busy.set(2, 1); // 0 on [0,1)
    busy.add(1, 3); // 2 on [1,3)
    busy.set(0, 4); // 3 on [3,4)
    expect(busy.integral(10)).toBe(7);
    expect(busy.mean(10)).toBe(0.7);
    expect(busy.max).toBe(3);
  });
});

describe("LogHistogram", () => {
  it("reports p50, p90, p99 and p99.9 within 1% of the exact sample quantiles", () => {
    const r = Random.fromKey(5, "latency");
    const h = new LogHistogram();
    const xs: number[] = [];
    for (let i = 0; i < 100000; i++) {
      const x = Math.exp(-7 + 1.5 * Math.sqrt(-2 * Math.log(1 - r.float())) * Math.cos(2 * Math.PI * r.float()));
      xs.push(x);
      h.record(x);
    }
    xs.sort((a, b) => a - b);
    for (const q of [0.5, 0.9, 0.99, 0.999]) {
      const exact = xs[Math.floor(q * (xs.length - 1))];
      expect(Math.abs(h.quantile(q) / exact - 1)).toBeLessThanOrEqual(0.01);
    }
    expect(h.mean).toBeCloseTo(xs.reduce((a, b) => a + b, 0) / xs.length, 12);
  });

  it("merges into the same counts as recording everything in one", () => {
    const all = new LogHistogram();
    const a = new LogHistogram();
    const b = new LogHistogram();
    for (let i = 1; i <= 1000; i++) {
      all.record(i / 1000);
      (i % 2 ? a : b).record(i / 1000);
    }
    a.merge(b);
    for (const q of [0, 0.25, 0.5, 0.99, 1]) expect(a.quantile(q)).toBe(all.quantile(q));
    expect(a.count).toBe(1000);
    expect(() => a.merge(new LogHistogram({ relativeError: 0.01 }))).toThrow(/different/);
  });

  it("counts zeros, clamps values outside its range and is NaN when empty", () => {
    const h = new LogHistogram({ min: 1e-3, max: 1 });
    expect(h.quantile(0.5)).toBeNaN();
    h.record(0);
    h.record(1e-6);
    h.record(100);
    expect(h.quantile(0)).toBe(0);
    expect(h.quantile(0.5)).toBeLessThan(1.01e-3);
    expect(h.quantile(1)).toBeGreaterThan(0.99);
  });
});

describe("confidence intervals", () => {
  it("uses Student-t quantiles that match published tables", () => {
    const table: [number, number, number][] = [
      [0.975, 1, 12.706],
      [0.975, 2, 4.303],
      [0.975, 10, 2.228],
      [0.975, 30, 2.042],
      [0.995, 30, 2.75],
      [0.995, 4, 4.604],
      [0.975, 1e6, 1.96],
    ];
    for (const [p, df, t] of table) expect(studentTQuantile(p, df)).toBeCloseTo(t, 3);
    expect(studentTQuantile(0.025, 10)).toBeCloseTo(-2.228, 3);
    expect(gamma(5)).toBeCloseTo(24, 10);
    expect(gamma(0.5)).toBeCloseTo(Math.sqrt(Math.PI), 12);
  });

  it("covers the true mean of independent samples about 95% of the time", () => {
    let covered = 0;
    for (let rep = 0; rep < 400; rep++) {
      const r = Random.fromKey(1, "coverage", rep);
      const s = new RunningStats();
      for (let i = 0; i < 5; i++) s.push(-Math.log(1 - r.float()));
      const ci = confidenceInterval(s, 0.95);
      if (Math.abs(ci.mean - 1) <= ci.halfWidth) covered++;
    }
    // binomial(400, ~0.95 for normal data, lower for skewed exponential samples of 5)
    expect(covered / 400).toBeGreaterThan(0.88);
    expect(covered / 400).toBeLessThan(0.99);
    expect(confidenceInterval(new RunningStats()).halfWidth).toBeNaN();
  });

  it("batch means keep between k and 2k equal batches whatever the run length", () => {
    const bm = new BatchMeans(8);
    for (let i = 0; i < 1000; i++) bm.push(i % 10);
    expect(bm.batches).toBeGreaterThanOrEqual(8);
    expect(bm.batches).toBeLessThan(16);
    const ci = bm.interval(0.99);
    expect(ci.n).toBe(bm.batches);
    expect(Math.abs(ci.mean - 4.5)).toBeLessThan(0.2);
  });
});

describe("queueing closed forms", () => {
  it("Erlang C matches known values", () => {
    expect(erlangC(1, 0.5)).toBeCloseTo(0.5, 12); // M/M/1: P(wait) = rho
    expect(erlangC(2, 1)).toBeCloseTo(1 / 3, 12);
    expect(erlangC(10, 8)).toBeCloseTo(0.4092, 4);
    expect(mmcMeanWait(0.9, 1, 1)).toBeCloseTo(9, 10); // rho / (mu - lambda)
    expect(() => erlangC(2, 2)).toThrow(/offered load/);
  });
});

describe("quantiles of few samples", () => {
  it("are exact order statistics by nearest rank below the threshold, and the histogram's beyond", async () => {
    const { Quantiles, nearestRank } = await import("./quantiles.js");
    expect(nearestRank([1, 245], 0.99)).toBe(245);
    expect(nearestRank([1, 245], 0.5)).toBe(1);
    expect(nearestRank([3, 5, 7], 0.5)).toBe(5);
    const q = new Quantiles(10);
    for (const x of [0.004, 0.001, 0.009]) q.record(x);
    expect([q.quantile(0.5), q.quantile(0.99), q.quantile(0)]).toEqual([0.004, 0.009, 0.001]);
    for (let i = 0; i < 100; i++) q.record(0.002);
    // Beyond 10 samples: the histogram's bucket for 2 ms, within 1%.
    expect(q.quantile(0.5)).not.toBe(0.002);
    expect(q.quantile(0.5)).toBeCloseTo(0.002, 4);
  });
});
