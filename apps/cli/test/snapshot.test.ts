import { join } from "node:path";
import { applyOverrides, ReplicationRun } from "@turtles/engine";
import { describe, expect, it } from "vitest";
import { builtinPlugins, readScenario } from "../src/lib/scenario-file.js";

const examples = join(import.meta.dirname, "..", "..", "..", "examples");

/**
 * Every example with the built-in plugins (VMs, containers, their I/O threads,
 * CFS budgets, disks, the network, calls): saved in the middle and continued
 * in a fresh model, each ends exactly where the uninterrupted run does.
 */
describe("snapshots of the examples with the built-in plugins", () => {
  for (const name of ["web-tier", "batch", "overload", "three-tier", "web-shop"]) {
    it(`${name}: saved at 40% of its events and continued, gives the uninterrupted results`, { timeout: 120_000 }, () => {
      // Shortened: the state, not the length, is what is checked.
      const base = readScenario(join(examples, `${name}.yaml`), builtinPlugins);
      const s = applyOverrides(base, { duration: Math.min(base.duration, 30), replications: 1 });
      const straight = new ReplicationRun(s, builtinPlugins, 0);
      while (!straight.advance(100_000));
      const cut = Math.floor(straight.events * 0.4);
      const first = new ReplicationRun(s, builtinPlugins, 0);
      first.advance(cut);
      const resumed = ReplicationRun.resume(s, builtinPlugins, 0, first.snapshot());
      expect(resumed.events).toBe(cut);
      while (!resumed.advance(100_000));
      expect(JSON.stringify(resumed.result())).toBe(JSON.stringify(straight.result()));
    });
  }
});
