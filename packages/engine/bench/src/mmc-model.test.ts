import { describe, expect, it } from "vitest";
import { runMmc } from "./mmc-model.js";

// The kernel validated against queueing theory: the closed-form mean wait lies
// inside the 99% batch-means confidence interval of a long seeded run, and the
// run is long enough that the interval is tight (half-width under 2% of the mean).
describe("M/M/1 and M/M/c against their closed forms", () => {
  it("M/M/1 at load 0.5: mean wait rho / (mu - lambda) = 1", () => {
    const r = runMmc({ servers: 1, load: 0.5, customers: 1_000_000, seed: 1 });
    expect(r.expectedWait).toBeCloseTo(1, 12);
    expect(r.ci99.halfWidth / r.meanWait).toBeLessThan(0.02);
    expect(Math.abs(r.meanWait - r.expectedWait)).toBeLessThanOrEqual(r.ci99.halfWidth);
  });

  it("M/M/4 at load 0.6: mean wait from Erlang C", () => {
    const r = runMmc({ servers: 4, load: 0.6, customers: 3_000_000, seed: 2 });
    expect(r.ci99.halfWidth / r.meanWait).toBeLessThan(0.02);
    expect(Math.abs(r.meanWait - r.expectedWait)).toBeLessThanOrEqual(r.ci99.halfWidth);
  });
});
