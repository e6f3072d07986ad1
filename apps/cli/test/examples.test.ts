import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { comparisonResults, onStack, runScenario, stacksOf } from "@turtles/engine";
import { describe, expect, it } from "vitest";
import { builtinPlugins, readScenario } from "../src/lib/scenario-file.js";

const examples = join(import.meta.dirname, "..", "..", "..", "examples");
const goldens = readdirSync(join(examples, "golden")).filter((f) => f.endsWith(".json"));

interface Golden {
  scenario: string;
  /** Run on every stack, as `turtles compare` does, and check `stacks.<stack>` of the comparison. */
  compare?: boolean;
  checks: { path: string[]; min: number; max: number; why: string }[];
}

describe("the examples against their golden summaries", () => {
  it("has a golden summary for each runnable example", () => {
    expect(goldens.map((g) => g.replace(".json", "")).sort()).toEqual(["batch", "compare-stacks", "flash-sale", "hpc-swf", "kubernetes", "overload", "planetlab-consolidation", "three-tier", "vm-consolidation", "web-tier"]);
  });

  for (const file of goldens) {
    const golden = JSON.parse(readFileSync(join(examples, "golden", file), "utf8")) as Golden;
    // A comparison runs the example once per stack (the PlanetLab day: three 24 h replays of 1,052 VMs).
    it(`runs ${golden.scenario} inside its bands`, { timeout: golden.compare ? 600_000 : 120_000 }, async () => {
      const scenario = readScenario(join(examples, golden.scenario));
      const results = golden.compare
        ? comparisonResults(scenario, await Promise.all(stacksOf(scenario).map(async (stack) => ({ stack, results: await runScenario(onStack(scenario, stack), builtinPlugins) }))))
        : await runScenario(scenario, builtinPlugins);
      for (const check of golden.checks) {
        const value = check.path.reduce<unknown>((v, k) => (v as Record<string, unknown>)?.[k], results) as number;
        expect.soft(value, `${check.path.join(".")} (${check.why})`).toBeGreaterThanOrEqual(check.min);
        expect.soft(value, `${check.path.join(".")} (${check.why})`).toBeLessThanOrEqual(check.max);
      }
    });
  }
});
