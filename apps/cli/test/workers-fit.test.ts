import { totalmem } from "node:os";
import { estimateScenario, loadScenario } from "@turtles/engine";
import { describe, expect, it } from "vitest";
import { builtinPlugins, workersThatFit } from "../src/lib/scenario-file.js";

/** A scenario of `replicas` replicas (set past the load's checks: the memory estimate charges each, nothing is built here). */
function withReplicas(replicas: number) {
  const s = loadScenario(
    `duration: 1m
hostTypes: { h: { cores: 64, memory: 1TiB } }
hosts: [{ type: h, count: 10 }]
tenants: [{ name: t, services: [{ name: a, replicas: 1, request: [{ cpu: 1ms }] }] }]
`,
    { plugins: builtinPlugins },
  );
  s.tenants[0].services[0].replicas = replicas;
  return s;
}

describe("workers that fit in memory", () => {
  it("runs as many workers as asked when their models fit together, fewer when they would not", () => {
    expect(workersThatFit([withReplicas(1000)], 2)).toBe(2);
    // A model of 60% of what the memory guard admits: one fits, two at once do not.
    const perReplica = estimateScenario(withReplicas(2000)).bytes / 2000;
    const big = withReplicas(Math.ceil((0.6 * 0.75 * totalmem()) / perReplica));
    expect(workersThatFit([big], 2)).toBe(1);
    expect(workersThatFit([withReplicas(1000), big], 4)).toBe(1);
    expect(workersThatFit([], 3)).toBe(3);
  });
});
