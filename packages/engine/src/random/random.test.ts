import { describe, expect, it } from "vitest";
import { RunningStats } from "../stats/summary.js";
import { constant, empirical, exponential, lognormal, normal, pareto, uniform, weibull, type Distribution } from "./distributions.js";
import { Random } from "./random.js";

describe("Random streams", () => {
  it("are a pure function of their key (golden values guard against accidental changes)", () => {
    const a = Random.fromKey(42, "svc", 3);
    const first = [a.nextU32(), a.nextU32(), a.nextU32()];
    const b = Random.fromKey(42, "svc", 3);
    expect([b.nextU32(), b.nextU32(), b.nextU32()]).toEqual(first);
    expect(first).toMatchInlineSnapshot(`
      [
        960297206,
        604659220,
        1394081429,
      ]
    `);
  });

  it("do not depend on which other streams exist or in what order they were made", () => {
    const x1 = Random.fromKey(1, "x");
    const before = [x1.float(), x1.float()];
    for (let i = 0; i < 100; i++) Random.fromKey(1, "other", i).float();
    const x2 = Random.fromKey(1, "x");
    expect([x2.float(), x2.float()]).toEqual(before);
  });

  it("differ for different keys, including a string and a number that print the same", () => {
    const firsts = new Set<number>();
    const keys: (string | number)[][] = [[1, "a"], [1, "b"], [2, "a"], [1, "a", 0], [1, "1"], [1, 1], [1, "a", 1]];
    for (const k of keys) firsts.add(Random.fromKey(...k).nextU32());
    expect(firsts.size).toBe(keys.length);
  });

  it("gives uncorrelated sequences for neighbouring keys", () => {
    const n = 20000;
    const a = Random.fromKey(7, "req", 1000);
    const b = Random.fromKey(7, "req", 1001);
    let sab = 0;
    for (let i = 0; i < n; i++) sab += (a.float() - 0.5) * (b.float() - 0.5);
    const corr = sab / n / (1 / 12);
    expect(Math.abs(corr)).toBeLessThan(4 / Math.sqrt(n));
  });

  it("draws floats in [0, 1) with mean 1/2 and integers in [0, n) with equal frequency", () => {
    const r = Random.fromKey(3);
    const s = new RunningStats();
    for (let i = 0; i < 100000; i++) s.push(r.float());
    expect(s.min).toBeGreaterThanOrEqual(0);
    expect(s.max).toBeLessThan(1);
    expect(Math.abs(s.mean - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / 100000));
    const counts = new Array(6).fill(0);
    for (let i = 0; i < 60000; i++) counts[r.below(6)]++;
    // chi-square with 5 degrees of freedom; 20.5 is its 0.999 quantile
    const chi2 = counts.reduce((acc, c) => acc + (c - 10000) ** 2 / 10000, 0);
    expect(chi2).toBeLessThan(20.5);
    for (let i = 0; i < 1000; i++) {
      const big = r.below(3e9);
      expect(Number.isInteger(big) && big >= 0 && big < 3e9).toBe(true);
    }
    expect(r.below(1)).toBe(0);
  });

  it("round-trips its state", () => {
    const r = Random.fromKey(9);
    r.nextU32();
    const copy = Random.fromState(r.state);
    expect(copy.nextU32()).toBe(r.nextU32());
    expect(() => Random.fromState([0, 0, 0, 0])).toThrow(/zero/);
    expect(() => Random.fromKey(NaN)).toThrow(/finite/);
  });
});

/** Sample mean within 5 standard errors, sample variance within `varTol` relative. */
function checkMoments(d: Distribution, n: number, varTol: number, seed = 11): void {
  const r = Random.fromKey(seed, d.label);
  const s = new RunningStats();
  for (let i = 0; i < n; i++) s.push(d.sample(r));
  expect(Math.abs(s.mean - d.mean)).toBeLessThan(5 * Math.sqrt(d.variance / n) + 1e-12);
  if (d.variance === 0) expect(s.variance).toBe(0);
  else expect(Math.abs(s.variance / d.variance - 1)).toBeLessThan(varTol);
}

describe("distributions match their analytic mean and variance", () => {
  it("exponential", () => checkMoments(exponential(0.002), 200000, 0.03));
  it("normal", () => checkMoments(normal(5, 2), 200000, 0.02));
  it("lognormal by mean and cv", () => {
    const d = lognormal(0.01, 0.5);
    expect(d.mean).toBe(0.01);
    expect(Math.sqrt(d.variance) / d.mean).toBeCloseTo(0.5, 12);
    checkMoments(d, 200000, 0.05);
  });
  it("uniform", () => checkMoments(uniform(2, 6), 200000, 0.02));
  it("pareto", () => {
    const d = pareto(5, 3);
    expect(d.mean).toBeCloseTo(3.75, 12);
    checkMoments(d, 400000, 0.1);
    expect(pareto(1, 1).mean).toBe(Infinity);
    expect(pareto(2, 1).variance).toBe(Infinity);
  });
  it("weibull", () => {
    const d = weibull(1.5, 2);
    expect(d.mean).toBeCloseTo(2 * 0.9027452929509336, 10);
    checkMoments(d, 200000, 0.03);
    // shape 1 is the exponential
    expect(weibull(1, 4).variance).toBeCloseTo(16, 10);
  });
  it("empirical", () => {
    const d = empirical([1, 2, 2, 10]);
    expect([d.mean, d.variance]).toEqual([3.75, 13.1875]);
    checkMoments(d, 200000, 0.03);
  });
  it("constant", () => checkMoments(constant(3), 10, 0));

  it("refuse impossible parameters with a message naming them", () => {
    expect(() => exponential(-1)).toThrow("exponential mean must be > 0, got -1");
    expect(() => lognormal(1, 0)).toThrow("lognormal cv must be > 0, got 0");
    expect(() => lognormal(-1, 1)).toThrow(/mean must be > 0/);
    expect(() => uniform(3, 2)).toThrow(/a <= b/);
    expect(() => normal(0, -1)).toThrow(/sd must be >= 0/);
    expect(() => pareto(0, 1)).toThrow(/shape/);
    expect(() => weibull(1, 0)).toThrow(/scale/);
    expect(() => empirical([])).toThrow(/at least one/);
    expect(() => empirical([1, NaN])).toThrow(/finite/);
  });
});
