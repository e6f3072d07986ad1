// Load that changes over time: the profile's Λ against a brute-force integral of its rate, its inverse, and the
// arrivals of whole runs against the profile (per window, and over a diurnal period).
import { describe, expect, it } from "vitest";
import { loadScenario } from "../scenario/load.js";
import { ScenarioError } from "../scenario/problems.js";
import type { RateProfileSpec } from "../scenario/schema.js";
import { testHost } from "../testing/index.js";
import { meanRate, RateProfile } from "./profile.js";
import { runScenario } from "./run.js";

const plugins = [testHost];

/** ∫₀ᵗ rate by the trapezoid rule on a fine grid: the reference for Λ. */
function integral(p: RateProfile, t: number, steps = 200_000): number {
  const h = t / steps;
  let sum = (p.rate(0) + p.rate(t)) / 2;
  for (let i = 1; i < steps; i++) sum += p.rate(i * h);
  return sum * h;
}

/** Profiles, with the sum of their jumps: each costs the trapezoid rule up to half a grid step × the jump. */
const SPECS: [string, RateProfileSpec, number][] = [
  ["steps", { steps: [[0, 100], [10, 500], [25, 0], [30, 50]] }, 1000],
  ["steps starting late", { steps: [[5, 20], [12, 80]] }, 60],
  ["ramp", { ramp: [[0, 100], [20, 1000], [30, 1000], [40, 0], [45, 10]] }, 0],
  ["diurnal", { diurnal: { mean: 1000, amplitude: 0.5, period: 17, phase: 3 } }, 0],
  ["diurnal touching 0", { diurnal: { mean: 10, amplitude: 1, period: 9, phase: 0 } }, 0],
];

describe("rate profiles", () => {
  for (const [name, spec, jumps] of SPECS) {
    it(`${name}: Λ(t) is the integral of the rate, and inverse(Λ(t)) = t`, () => {
      const p = new RateProfile(spec);
      for (const t of [0.5, 3.3, 10, 11.7, 26, 33, 44.9, 61]) {
        const lambda = p.expected(t);
        expect(Math.abs(lambda - integral(p, t))).toBeLessThan(1e-6 * Math.max(1, lambda) + (jumps * t) / 200_000);
        // Where the rate is 0 just before t, Λ is flat there: the inverse is the earliest time it reaches the value.
        const back = p.inverse(lambda, 0);
        expect(p.expected(back)).toBeCloseTo(lambda, 6);
        if (p.rate(t - 1e-9) > 0) expect(back).toBeCloseTo(t, 6);
        // Searching from a later time finds the same point.
        expect(p.inverse(lambda, t / 2)).toBeCloseTo(back, 6);
      }
    });
  }

  it("a last rate of 0 ends the arrivals: the inverse past the last Λ is Infinity", () => {
    const p = new RateProfile({ steps: [[0, 10], [5, 0]] });
    expect(p.expected(100)).toBe(50);
    expect(p.inverse(50.5, 6)).toBe(Infinity);
    expect(meanRate({ steps: [[0, 10], [5, 0]] }, 10)).toBe(5);
    expect(meanRate(250, 10)).toBe(250);
  });
});

/** One service of 1 ms requests on 4 hosts, open load `rate`. */
function scenario(rate: string, extra = "") {
  return loadScenario(
    `duration: 120s
warmup: 10s
replications: 5
hostTypes: { h: { cores: 4, memory: 8GiB } }
hosts: [{ type: h, count: 4 }]
tenants:
  - name: t
    services:
      - { name: a, replicas: 8, cores: 1, load: { open: { rate: ${rate} } }, request: [{ cpu: 1ms }] }
${extra}`,
    { file: "profile.yaml", plugins },
  );
}

describe("arrivals under a profile", () => {
  it("a step from 100/s to 500/s (70 s into the run, 60 s into the measurement): each window's throughput is the profile's within the window's 95% CI", async () => {
    const r = await runScenario(scenario("{ steps: [[0s, 100/s], [70s, 500/s]] }"), plugins);
    const st = r.stacks.baremetal;
    const ci = (st.ci95 as { series: { throughput: number[] } }).series.throughput;
    const { t, window, throughput } = st.series;
    expect(window).toBe(2);
    let outside = 0;
    for (let k = 0; k < t.length; k++) {
      const want = t[k] < 60 ? 100 : 500;
      const miss = Math.abs((throughput[k] as number) - want);
      // A 95% interval misses now and then: a few windows may lie outside it, none far outside.
      if (miss > ci[k]) outside++;
      expect(miss).toBeLessThan(2.5 * ci[k]);
    }
    expect(outside).toBeLessThanOrEqual(6);
    // The step is in the windows' arrivals, not smeared: the windows either side of it are the two rates.
    expect(throughput[29]).toBeLessThan(150);
    expect(throughput[30]).toBeGreaterThan(400);
    expect(st.services["t/a"].arrived).toBeCloseTo(100 * 60 + 500 * 60, -3);
  });

  it("a diurnal profile's arrivals over one period are mean x period within 1%", async () => {
    const r = await runScenario(scenario("{ diurnal: { mean: 1000/s, amplitude: 0.5, period: 120s, phase: 50s } }"), plugins);
    const arrived = r.stacks.baremetal.services["t/a"].arrived as number;
    expect(Math.abs(arrived / (1000 * 120) - 1)).toBeLessThan(0.01);
    // And the cycle shows: the busiest window is a quarter period after the phase (80 s into the run, 70 s measured), the quietest half a period on.
    const tp = r.stacks.baremetal.series.throughput as number[];
    const peak = tp.indexOf(Math.max(...tp)) * 2;
    const trough = tp.indexOf(Math.min(...tp)) * 2;
    expect(Math.abs(peak - 70)).toBeLessThanOrEqual(8);
    expect(Math.abs(trough - 10)).toBeLessThanOrEqual(8);
  });

  it("the same arrivals for a profile as for the constant rate it equals (one draw per request either way)", async () => {
    const constant = await runScenario(scenario("300/s"), plugins);
    const flat = await runScenario(scenario("{ steps: [[0s, 300/s]] }"), plugins);
    expect(flat.stacks.baremetal.services["t/a"].arrived).toBe(constant.stacks.baremetal.services["t/a"].arrived);
  });

  /** Closed-loop clients (think 90 ms, 10 ms of CPU, cores to spare: each client makes 10 requests a second). */
  function closed(clients: string) {
    return loadScenario(
      `duration: 60s
warmup: 0s
replications: 2
hostTypes: { h: { cores: 16, memory: 8GiB } }
hosts: [{ type: h, count: 2 }]
tenants:
  - name: t
    services:
      - { name: a, replicas: 4, threads: 64, cores: 1, load: { closed: { clients: ${clients}, think: 90ms } }, request: [{ cpu: 10ms }] }
`,
      { file: "clients.yaml", plugins },
    );
  }

  it("closed-loop clients that change in steps: throughput follows the count (5, then 20 from 20 s, then 2 from 40 s)", async () => {
    const r = await runScenario(closed("{ steps: [[0s, 5], [20s, 20], [40s, 2]] }"), plugins);
    const { window: w, throughput } = r.stacks.baremetal.series;
    const tp = throughput as number[];
    // The mean over the windows of [from, to) but the first (the step's, when requests begun before it complete).
    const mean = (from: number, to: number): number => tp.slice(from / w + 1, to / w).reduce((a, b) => a + b, 0) / (to / w - from / w - 1);
    // 10 requests a second per client; the window of each step (and the one after) is left out.
    expect(mean(0, 20)).toBeCloseTo(50, -1);
    expect(mean(20, 40)).toBeCloseTo(200, -1);
    expect(mean(40, 60)).toBeCloseTo(20, -1);
    expect(Math.abs(mean(20, 40) / 200 - 1)).toBeLessThan(0.05);
    expect(Math.abs(mean(40, 60) / 20 - 1)).toBeLessThan(0.1);
  });

  it("a clients profile of one constant count gives the results of that count, byte for byte", async () => {
    const constant = await runScenario(closed("12"), plugins);
    const flat = await runScenario(closed("{ steps: [[0s, 12]] }"), plugins);
    expect(JSON.stringify(flat.stacks)).toBe(JSON.stringify(constant.stacks));
    expect(() => closed("{ steps: [[0s, 0], [10s, 0]] }")).toThrow(/clients\.yaml:\d+:\d+: .*clients\.steps: every count of the profile is 0/);
    expect(() => closed("{ steps: [[10s, 3], [5s, 4]] }")).toThrow(/times must increase: 5 s follows 10 s/);
  });

  it("refuses bad profiles with the field and a fix", () => {
    const problems = (rate: string, readFile?: (p: string) => string): string => {
      try {
        loadScenario(
          `duration: 1m\nhostTypes: { h: { cores: 1, memory: 1GiB } }\nhosts: [{ type: h }]\ntenants: [{ name: t, services: [{ name: a, load: { open: { rate: ${rate} } }, request: [{ cpu: 1ms }] }] }]\n`,
          { file: "p.yaml", plugins, readFile },
        );
      } catch (err) {
        if (err instanceof ScenarioError) return err.message;
        throw err;
      }
      return "";
    };
    expect(problems("{ steps: [[0s, 100/s], [10s, 5/s], [5s, 1/s]] }")).toContain("tenants.t.services.a.load.open.rate.steps[2][0]: times must increase: 5 s follows 10 s");
    expect(problems("{ ramp: [[0s, 0/s]] }")).toContain("every rate of the profile is 0");
    expect(problems("{ steps: [], ramp: [[0s, 1/s]] }")).toMatch(/p\.yaml:4:\d+: .*rate/);
    expect(problems("{ diurnal: { mean: 10/s, amplitude: 2 } }")).toMatch(/rate\.diurnal\.amplitude: .*at most 1/);
    expect(problems("{ csv: load.csv }")).toContain("cannot read load.csv here: give the profile inline as steps");
    const file = (text: string) => (path: string) => {
      if (path !== "load.csv") throw Object.assign(new Error("no"), { code: "ENOENT" });
      return text;
    };
    expect(problems("{ csv: other.csv }", file(""))).toContain("rate.csv: cannot read other.csv: no such file");
    expect(problems("{ csv: load.csv, column: rps }", file("t,rate\n0,100\n"))).toContain('load.csv has no rate column "rps" in its header (t, rate)');
    expect(problems("{ csv: load.csv }", file("t,rate\n0,100\n10,abc\n"))).toContain('load.csv, line 3: the rate must be a number, found "abc"');
    expect(problems("{ csv: load.csv }", file("t,rate\n0,100\n10,5\n10,6\n"))).toContain("load.csv, line 4: time 10 does not follow 10 (times must increase)");
    // Cells keep the bounds of an inline profile: no denormal rate (its gap would be Infinity), no time past 1e8 s.
    expect(problems("{ csv: load.csv }", file("t,rate\n0,100\n10,1e-320\n"))).toContain('load.csv, line 3: the rate must be 0 or at least 1e-8, found "1e-320"');
    expect(problems("{ csv: load.csv }", file("t,rate\n0,100\n1e9,5\n"))).toContain('load.csv, line 3: the time must be at most 100000000 s, found "1e9"');
    expect(problems("{ csv: load.csv }", file("t,rate\n0,100\n30,500\n"))).toBe("");
  });

  it("reads a csv profile into the scenario as steps or a ramp", () => {
    const text = "# seconds, requests per second\ntime,rps,other\n0, 100, x\n30, 500, y\n";
    const load = (shape: string) =>
      loadScenario(
        `duration: 1m\nhostTypes: { h: { cores: 1, memory: 1GiB } }\nhosts: [{ type: h }]\ntenants: [{ name: t, services: [{ name: a, load: { open: { rate: { csv: load.csv, time: time, column: rps${shape} } } }, request: [{ cpu: 1ms }] }] }]\n`,
        { file: "p.yaml", plugins, readFile: () => text },
      ).tenants[0].services[0].load;
    expect(load("")).toEqual({ open: { rate: { steps: [[0, 100], [30, 500]] } } });
    expect(load(", shape: ramp")).toEqual({ open: { rate: { ramp: [[0, 100], [30, 500]] } } });
  });
});
