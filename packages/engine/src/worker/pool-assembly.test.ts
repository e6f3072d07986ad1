// A job whose results cannot be assembled (after every replication ran) fails alone: it gets an error, naming its
// parameters, and the other jobs of the pool (a sweep's other points) go on to their results.
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it, vi } from "vitest";
import { loadScenario } from "../scenario/load.js";
import { testHost } from "../testing/index.js";
import type { Scenario } from "../scenario/schema.js";
import { runReplication } from "../workload/run.js";
// The pool starts dist/worker/node-worker.js, so this test runs against the build (turbo builds before testing).
import { runMany } from "../../dist/worker/pool.js";

// Assembly as the pool (in this thread) calls it, throwing for the scenario named "breaks" as a bug in it would.
vi.mock("../../dist/workload/run.js", async (importOriginal) => {
  const real = await importOriginal<typeof import("../../dist/workload/run.js")>();
  return {
    ...real,
    assembleResults: (s: Scenario, ...rest: [never, never]) => {
      if (s.name === "breaks") throw new TypeError("Cannot read properties of null (reading 'p50')");
      return real.assembleResults(s, ...rest);
    },
  };
});

const hostModule = pathToFileURL(join(import.meta.dirname, "..", "..", "dist", "testing", "index.js")).href;

const SCENARIO = `duration: 2s
replications: 2
hostTypes: { h: { cores: 2, memory: 4GiB } }
hosts: [{ type: h }]
tenants:
  - name: t
    services:
      - { name: a, load: { open: { rate: 100/s } }, request: [{ cpu: { exp: 5ms } }] }
`;

describe("a job whose results cannot be assembled", () => {
  it("fails alone with an error naming it, after its replications ran, while the other jobs get their results and their replications' figures in order", { timeout: 60_000 }, async () => {
    const base = loadScenario(SCENARIO, { plugins: [testHost] });
    const jobs = ["first", "breaks", "last"].map((name) => ({ scenario: { ...base, name }, label: `point ${name}` }));
    const settled: number[] = [];
    const outcomes = await runMany(jobs, [testHost], { workers: 2, pluginModules: [hostModule], onJob: (k) => void settled.push(k) });
    expect(settled.sort()).toEqual([0, 1, 2]);
    expect(outcomes[1].error).toBe("assembling the results of point breaks failed after its 2 replications ran: Cannot read properties of null (reading 'p50')");
    for (const k of [0, 2]) {
      expect(outcomes[k].error).toBeUndefined();
      expect(outcomes[k].results?.manifest.scenario).toBe(jobs[k].scenario.name);
      expect(outcomes[k].results?.stacks.baremetal.services["t/a"].completed).toBeGreaterThan(100);
      // Each replication's own figures, in replication order, for paired comparisons.
      const each = await Promise.all([0, 1].map(async (r) => JSON.stringify((await runReplication(jobs[k].scenario, [testHost], r)).stack)));
      expect(outcomes[k].replications?.map((x) => JSON.stringify(x))).toEqual(each);
    }
    expect(outcomes[1].replications).toBeUndefined();
  });
});
