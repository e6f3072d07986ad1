// Bridge against host networking (issue 15): the calibrated adder at low load, the softirq path's ceiling under load,
// one path per kernel shared by every bridged container on it.
import { runScenario } from "@turtles/engine";
import { baremetal } from "@turtles/plugin-baremetal";
import { definePlugin, fields } from "@turtles/engine/plugin";
import { describe, expect, it } from "vitest";
import { container } from "./index.js";
import { BRIDGE } from "./network.js";
import { hostScenario } from "./scenario.fixture.js";

/** A guest: a one-core node that runs its own kernel and adds nothing else (a VM without a VMM's costs). */
const guest = definePlugin({
  name: "guest",
  layer: "guest",
  version: "1.0.0",
  schema: fields({}),
  setup(api) {
    api.layerRules({
      size: (_e, parent) => ({ request: { cores: 1, memory: 0 }, capacity: { cores: 1, memory: parent.memory } }),
      cpu: () => ({ weight: 1, cap: 1 }),
      kernel: true,
    });
  },
});

const plugins = [baremetal, guest, container];

/** One 16-core host with a NIC; `stacks` and `services` as a scenario writes them. Measured once the containers have started. */
function scenario(stacks: string, services: string, duration = "20s"): ReturnType<typeof hostScenario> {
  return hostScenario({ stacks, services, duration, warmup: "200ms", hostType: "{ cores: 16, memory: 64GiB, nic: { bandwidth: 100Gb/s } }" }, plugins);
}

describe("container network modes", () => {
  it("bridge adds the calibrated 78.3 - 60.9 = 17.4 us to a request at low load; host adds nothing", async () => {
    const s = scenario(
      "{ bridged: [{ layer: container }], hostnet: [{ layer: container, network: host }] }",
      `      - { name: b, stack: bridged, load: { open: { rate: 200/s } }, request: [{ cpu: 100us }] }
      - { name: h, stack: hostnet, load: { open: { rate: 200/s } }, request: [{ cpu: 100us }] }
      - { name: m, stack: baremetal, load: { open: { rate: 200/s } }, request: [{ cpu: 100us }] }`,
    );
    const st = (await runScenario(s, plugins)).stacks.scenario.services;
    const latency = (name: string): number => st[`t/${name}`].latency.mean as number;
    expect(Math.abs((latency("b") - latency("h")) / 17.4e-6 - 1)).toBeLessThan(0.01);
    expect(latency("h")).toBeCloseTo(latency("m"), 9);
  });

  it("caps a host's bridged traffic at its one softirq core: four containers together reach 1 / (2 x 5.56 us) = 90,000 requests/s", async () => {
    const s = scenario(
      "{ bridged: [{ layer: container }] }",
      `      - { name: b, stack: bridged, replicas: 4, cores: 0, load: { closed: { clients: 200, think: 0s } }, request: [{ cpu: 1us }] }`,
      "1s",
    );
    const b = (await runScenario(s, plugins)).stacks.bridged.services["t/b"];
    const ceiling = 1 / (2 * BRIDGE.packetCpu);
    // A path per container would allow four times as much.
    expect(Math.abs((b.throughput as number) / ceiling - 1)).toBeLessThan(0.02);
  });

  it("serves containers in a guest on the guest kernel's softirq path, inside the guest's one core", async () => {
    // The guest's softirq path and the containers' work share its core, so a request takes 2 x 5.56 us + 1 us of it.
    const s = scenario(
      "{ nested: [{ layer: guest }, { layer: container }] }",
      "      - { name: v, stack: nested, replicas: 2, cores: 0, load: { closed: { clients: 200, think: 0s } }, request: [{ cpu: 1us }] }",
      "1s",
    );
    const v = (await runScenario(s, plugins)).stacks.nested.services["t/v"];
    expect(Math.abs((v.throughput as number) * (2 * BRIDGE.packetCpu + 1e-6) - 1)).toBeLessThan(0.02);
  });
});
