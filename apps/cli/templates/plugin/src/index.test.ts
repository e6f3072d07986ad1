// The layer as its users see it: a scenario run with and without it, on the engine's test host.
import { loadScenario, runScenario } from "@turtles/engine";
import { testHost } from "@turtles/engine/testing";
import { describe, expect, it } from "vitest";
import { plugin } from "./index.js";

const plugins = [testHost, plugin];

async function run(stack: string) {
  const s = loadScenario(
    `duration: 10s
hostTypes: { h: { cores: 4, memory: 8GiB, nic: { bandwidth: 10Gb/s } } }
hosts: [{ type: h }]
stacks: { layered: [{ layer: __LAYER__, latency: 100us }] }
tenants:
  - name: t
    services:
      - { name: web, stack: ${stack}, load: { open: { rate: 100/s } }, request: [{ cpu: 1ms }] }
`,
    { plugins },
  );
  return (await runScenario(s, plugins)).stacks[stack];
}

describe("the __LAYER__ layer", () => {
  it("adds its latency to both message ends of each request and counts them", async () => {
    const bare = await run("baremetal");
    const layered = await run("layered");
    const svc = layered.services["t/web"];
    // A request crosses the layer twice: its request comes in, its response goes out.
    expect((svc.latency.mean as number) - (bare.services["t/web"].latency.mean as number)).toBeCloseTo(2 * 100e-6, 9);
    expect(layered.layers["__LAYER__"].messages).toBeGreaterThanOrEqual(2 * (svc.completed as number));
  });
});
