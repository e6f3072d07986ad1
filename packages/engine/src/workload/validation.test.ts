import { describe, expect, it } from "vitest";
import { loadScenario } from "../scenario/load.js";
import { testHost } from "../testing/index.js";
import { BatchMeans } from "../stats/confidence.js";
import { mmcMeanWait } from "../stats/queueing.js";
import { runScenario } from "./run.js";

// The workload model checked against queueing theory: each closed form lies
// inside the 99% batch-means confidence interval of a long seeded run, and the
// interval is tight (half-width under 2% of the mean).

const host = testHost;
const plugins = [host];

function scenario(cores: number, service: string, duration: string): string {
  return `duration: ${duration}
warmup: 100s
hostTypes: { h: { cores: ${cores}, memory: 64GiB } }
hosts: [{ type: h }]
tenants: [{ name: t, services: [${service}] }]
`;
}

describe("validation against closed forms", () => {
  it("M/G/1-PS with lognormal sizes (cv 2): E[T] = E[S]/(1 - rho), and E[T | S = x] = x/(1 - rho) per size", { timeout: 120_000 }, async () => {
    const rho = 0.5;
    const s = loadScenario(
      scenario(1, `{ name: ps, cores: 0, load: { open: { rate: 50/s } }, request: [{ cpu: { lognormal: { mean: 10ms, cv: 2 } } }] }`, "60000s"),
      { plugins },
    );
    const all = new BatchMeans(32);
    const buckets = [
      { lo: 0.002, hi: 0.004, bm: new BatchMeans(32) },
      { lo: 0.008, hi: 0.012, bm: new BatchMeans(32) },
      { lo: 0.03, hi: 0.05, bm: new BatchMeans(32) },
    ];
    await runScenario(s, plugins, {
      seed: 3,
      onRequest: (_svc, latency, work) => {
        all.push(latency);
        for (const b of buckets) if (work >= b.lo && work < b.hi) b.bm.push(latency / work);
      },
    });
    const ci = all.interval(0.99);
    const expected = 0.01 / (1 - rho);
    expect(ci.halfWidth / ci.mean).toBeLessThan(0.02);
    expect(Math.abs(ci.mean - expected)).toBeLessThanOrEqual(ci.halfWidth);
    // Processor sharing: the slowdown T/S is 1/(1 - rho) = 2 whatever the size (FCFS would punish small jobs).
    for (const b of buckets) {
      const c = b.bm.interval(0.99);
      expect(c.halfWidth / c.mean).toBeLessThan(0.02);
      expect(Math.abs(c.mean - 1 / (1 - rho))).toBeLessThanOrEqual(c.halfWidth);
    }
  });

  it("M/M/c with threads: c on c cores: mean response = Erlang C wait + 1/mu", { timeout: 120_000 }, async () => {
    const c = 4;
    const s = loadScenario(
      scenario(c, `{ name: mmc, threads: ${c}, cores: 0, load: { open: { rate: 280/s } }, request: [{ cpu: { exp: 10ms } }] }`, "20000s"),
      { plugins },
    );
    const bm = new BatchMeans(32);
    await runScenario(s, plugins, { seed: 5, onRequest: (_svc, latency) => bm.push(latency) });
    const ci = bm.interval(0.99);
    const expected = mmcMeanWait(280, 100, c) + 0.01;
    expect(ci.halfWidth / ci.mean).toBeLessThan(0.02);
    expect(Math.abs(ci.mean - expected)).toBeLessThanOrEqual(ci.halfWidth);
  });

  it("closed loop: throughput = clients / (response + think) (the interactive response-time law)", { timeout: 120_000 }, async () => {
    const s = loadScenario(
      scenario(2, `{ name: loop, cores: 0, load: { closed: { clients: 20, think: { exp: 50ms } } }, request: [{ cpu: { exp: 10ms } }] }`, "2000s"),
      { plugins },
    );
    const r = await runScenario(s, plugins, { seed: 7 });
    const svc = r.stacks.baremetal.services["t/loop"];
    const law = 20 / ((svc.latency.mean as number) + 0.05);
    expect(Math.abs((svc.throughput as number) / law - 1)).toBeLessThan(0.01);
    // and the host is saturated: 2 cores at 10 ms per request serve at most 200/s
    expect(svc.throughput as number).toBeLessThanOrEqual(200);
    expect(svc.throughput as number).toBeGreaterThan(190);
  });
});
