/**
 * Comparing stacks: the same scenario, load and seeds with every service on
 * one stack, then the next ("bare metal, VMs, containers, or Kubernetes on
 * VMs?"). Replication seeds depend only on the seed and the replication, so
 * each stack sees the same random arrivals and work (common random numbers):
 * differences come from the stacks, not from the noise.
 *
 * The results are one `turtles-results/1` document whose `stacks` holds each
 * stack's figures under its name (DESIGN.md, Results).
 */
import { didYouMean } from "../scenario/fields.js";
import { BAREMETAL_STACK } from "../scenario/load.js";
import type { Scenario } from "../scenario/schema.js";
import { scenarioHash, type Results } from "./run.js";

/** The stacks a scenario can put its services on: bare metal, then those of its `stacks`, in file order. */
export function stacksOf(s: Scenario): string[] {
  return [...new Set([BAREMETAL_STACK, ...Object.keys(s.stacks)])];
}

/** The scenario with every service on `stack`. Throws a RangeError naming the stacks there are. */
export function onStack(s: Scenario, stack: string): Scenario {
  const known = stacksOf(s);
  if (!known.includes(stack)) {
    throw new RangeError(`unknown stack "${stack}"${didYouMean(stack, known)}; the scenario has: ${known.join(", ")}`);
  }
  return {
    ...s,
    defaults: { ...s.defaults, stack },
    tenants: s.tenants.map((t) => ({ ...t, services: t.services.map((svc) => ({ ...svc, stack })) })),
  };
}

/**
 * One results document from the runs of `base` on each stack (each run's
 * results from `onStack(base, stack)`): the base scenario's manifest, each
 * stack's figures under its name, and the replicas each could not place,
 * marked with their stack.
 */
export function comparisonResults(base: Scenario, runs: readonly { stack: string; results: Results }[]): Results {
  if (runs.length === 0) throw new RangeError("comparisonResults: no runs to compare");
  const first = runs[0].results;
  return {
    format: "turtles-results/1",
    manifest: { ...first.manifest, scenarioHash: scenarioHash(base) },
    stacks: Object.fromEntries(runs.map(({ stack, results }) => [stack, Object.values(results.stacks)[0]])),
    unplaced: runs.flatMap(({ stack, results }) => results.unplaced.map((u) => ({ stack, ...u }))),
  };
}
