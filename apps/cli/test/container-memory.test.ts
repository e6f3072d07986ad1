// Containers' memory limits and CFS counters as users see them (issue 15): OOM kills and restarts in the results and
// in the `run` and `compare` tables, and the cpu.stat counters of a CPU limit among the shown plugin metrics.
import { loadScenario, onStack, runScenario, type Results } from "@turtles/engine";
import { describe, expect, it } from "vitest";
import { formatComparison, formatResults } from "../src/lib/render.js";
import { builtinPlugins } from "../src/lib/scenario-file.js";

// Two clients whose requests each hold 600 MiB for 2 s: past a 1 GiB limit together, within 2 GiB.
const SCENARIO = `duration: 60s
hostTypes: { h: { cores: 4, memory: 16GiB } }
hosts: [{ type: h }]
stacks:
  tight: [{ layer: container, cpu: { limit: 0.5 }, memory: { limit: 1GiB } }]
  roomy: [{ layer: container, cpu: { limit: 0.5 }, memory: { limit: 2GiB } }]
tenants:
  - name: t
    services:
      - { name: a, cores: 0.5, load: { closed: { clients: 2, think: 1s } }, request: [{ mem: { alloc: 600MiB } }, { sleep: 2s }, { cpu: 100ms }] }
`;

describe("a container's memory limit in results and tables", () => {
  it("counts OOM kills and restarts per service, and shows them with the CFS counters in run and compare", async () => {
    const s = loadScenario(SCENARIO, { file: "limits.yaml", plugins: builtinPlugins });
    // As `turtles compare` runs it: the service on each stack, with the same seeds.
    const [a, b] = await Promise.all(["tight", "roomy"].map((stack) => runScenario(onStack(s, stack), builtinPlugins, { replications: 1 })));
    const r: Results = { ...a, stacks: { tight: a.stacks.tight, roomy: b.stacks.roomy } };
    const tight = r.stacks.tight.services["t/a"];
    const roomy = r.stacks.roomy.services["t/a"];
    // Killed at 1 s, 12.03 s and 33.07 s (back-offs of 10 s and 20 s, each restart then a 34.4 ms start), the third
    // restart due after the end.
    expect([tight.oomKills, tight.restarts, roomy.oomKills, roomy.restarts]).toEqual([3, 3, 0, 0]);
    expect(tight.failedBy).toEqual({ oom: 6 });
    // 100 ms of work under 50 ms of quota a period: throttled in some periods, never in more than it ran.
    const cfs = r.stacks.roomy.layers.container as Record<string, number>;
    expect(cfs.nrThrottled).toBeGreaterThan(0);
    expect(cfs.nrThrottled).toBeLessThanOrEqual(cfs.nrPeriods);
    const run = formatResults(r);
    expect(run).toMatch(/OOM kills\s+restarts/);
    expect(run).toMatch(/nrThrottled/);
    const compare = formatComparison(r);
    expect(compare).toMatch(/t\/a OOM kills\s+3\s+0/);
    expect(compare).toMatch(/t\/a restarts\s+3\s+0/);
    expect(compare).toMatch(/nrThrottled/);
  });
});
