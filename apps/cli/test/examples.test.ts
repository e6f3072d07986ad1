import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { runScenario } from "@turtles/engine";
import { describe, expect, it } from "vitest";
import { builtinPlugins, readScenario } from "../src/lib/scenario-file.js";

const examples = join(import.meta.dirname, "..", "..", "..", "examples");
const goldens = readdirSync(join(examples, "golden")).filter((f) => f.endsWith(".json"));

interface Golden {
  scenario: string;
  checks: { path: string[]; min: number; max: number; why: string }[];
}

describe("the examples against their golden summaries", () => {
  it("has a golden summary for each runnable example", () => {
    expect(goldens.map((g) => g.replace(".json", "")).sort()).toEqual(["batch", "compare-stacks", "flash-sale", "kubernetes", "overload", "three-tier", "web-tier"]);
  });

  for (const file of goldens) {
    const golden = JSON.parse(readFileSync(join(examples, "golden", file), "utf8")) as Golden;
    it(`runs ${golden.scenario} inside its bands`, { timeout: 120_000 }, async () => {
      const results = await runScenario(readScenario(join(examples, golden.scenario)), builtinPlugins);
      for (const check of golden.checks) {
        const value = check.path.reduce<unknown>((v, k) => (v as Record<string, unknown>)?.[k], results) as number;
        expect.soft(value, `${check.path.join(".")} (${check.why})`).toBeGreaterThanOrEqual(check.min);
        expect.soft(value, `${check.path.join(".")} (${check.why})`).toBeLessThanOrEqual(check.max);
      }
    });
  }
});
