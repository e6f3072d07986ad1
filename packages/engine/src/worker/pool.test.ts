import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
// The pool starts dist/worker/node-worker.js, so this test runs against the build (turbo builds before testing).
import { runScenarioOnWorkers } from "../../dist/worker/index.js";
import { loadScenario } from "../scenario/load.js";
import { testHost } from "../testing/index.js";
import { runScenario } from "../workload/run.js";

const hostModule = pathToFileURL(join(import.meta.dirname, "..", "..", "dist", "testing", "index.js")).href;

const SCENARIO = `duration: 20s
warmup: 2s
replications: 4
hostTypes: { h: { cores: 2, memory: 4GiB } }
hosts: [{ type: h, count: 2 }]
tenants:
  - name: t
    services:
      - { name: a, replicas: 2, load: { open: { rate: 150/s } }, request: [{ cpu: { exp: 10ms } }, { sleep: 2ms }] }
`;

describe("replications on worker threads", () => {
  it("gives byte-identical results on 1 and 2 workers, equal to running in this thread", { timeout: 60_000 }, async () => {
    const s = loadScenario(SCENARIO, { plugins: [testHost] });
    const local = JSON.stringify(await runScenario(s, [testHost]));
    const one = JSON.stringify(await runScenarioOnWorkers(s, [testHost], { workers: 1, pluginModules: [hostModule] }));
    const two = JSON.stringify(await runScenarioOnWorkers(s, [testHost], { workers: 2, pluginModules: [hostModule] }));
    expect(one).toBe(local);
    expect(two).toBe(local);
  });

  it("reports a failing replication with its number and seed, and does not hang", { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "turtles-pool-"));
    const broken = join(dir, "broken.mjs");
    writeFileSync(broken, `export const x = 1;\nthrow new Error("plugin module is broken");\n`);
    const s = loadScenario(SCENARIO, { plugins: [testHost] });
    await expect(
      runScenarioOnWorkers(s, [testHost], { workers: 2, pluginModules: [hostModule, pathToFileURL(broken).href] }),
    ).rejects.toThrow(/replication \d \(seed 1\) failed in its worker: plugin module is broken/);
  });
});
