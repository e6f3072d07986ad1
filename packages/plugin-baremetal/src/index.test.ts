// The bare-metal plugin's own policy, against closed forms: its power curve, its swapping, its system call cost.
import { loadScenario, runScenario } from "@turtles/engine";
import { describe, expect, it } from "vitest";
import { baremetal, linearPower } from "./index.js";

const plugins = [baremetal];

function scenario(hostType: string, service: string, duration = "10s"): ReturnType<typeof loadScenario> {
  return loadScenario(
    `duration: ${duration}
hostTypes: { h: ${hostType} }
hosts: [{ type: h }]
tenants:
  - name: t
    services:
      - ${service}
`,
    { plugins },
  );
}

describe("the bare-metal host", () => {
  it("draws idle power all the time and the span to max power in proportion to CPU utilisation", async () => {
    // One of 4 cores busy all the time: 100 W + 200 W x 1/4 = 150 W for 10 s = 1,500 J.
    const s = scenario("{ cores: 4, memory: 8GiB, power: { idle: 100W, max: 300W }, processStart: 0s }", "{ name: a, load: { closed: { clients: 1, think: 0s } }, request: [{ cpu: 10ms }] }");
    const r = await runScenario(s, plugins);
    expect(r.stacks.baremetal.energy.joules).toBeCloseTo(1500, 6);
    expect(linearPower({ idle: 100, max: 300 }, 4, 10, 10)).toBe(1500);
  });

  it("swaps while its memory is overcommitted: CPU work runs swapSlowdown times slower, then normally again", async () => {
    // The request allocates 2 GiB of a 1 GiB host for its 100 ms of CPU: at 4x slower, 400 ms.
    const s = scenario(
      "{ cores: 4, memory: 1GiB, swapSlowdown: 4, processStart: 0s }",
      "{ name: a, load: { closed: { clients: 1, think: 1s } }, request: [{ mem: { alloc: 2GiB } }, { cpu: 100ms }, { mem: { free: 2GiB } }, { cpu: 100ms }] }",
      "20s",
    );
    const r = await runScenario(s, plugins);
    const svc = r.stacks.baremetal.services["t/a"];
    expect(svc.latency.mean).toBeCloseTo(0.4 + 0.1, 9);
    expect(r.stacks.baremetal.hosts.pressureTime).toBeCloseTo((svc.completed as number) * 0.4, 6);
  });

  it("costs 1.94 us of the thread's CPU per system call by default (calibration.md, 2.10), or the host type's syscallCost", async () => {
    for (const [type, perCall] of [["{ cores: 1, memory: 1GiB, processStart: 0s }", 1.94e-6], ["{ cores: 1, memory: 1GiB, processStart: 0s, syscallCost: 5us }", 5e-6]] as const) {
      const r = await runScenario(scenario(type, "{ name: a, load: { closed: { clients: 1, think: 1s } }, request: [{ syscall: 1000 }] }"), plugins);
      expect(r.stacks.baremetal.services["t/a"].latency.mean).toBeCloseTo(1000 * perCall, 12);
    }
  });
});
