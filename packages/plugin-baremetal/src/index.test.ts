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

  it("bounds power, price, speed and hardware so energy and cost stay finite: 1e308 and denormals are refused, the bounds run", async () => {
    const bad = "{ cores: 4, memory: 8GiB, power: { idle: 1e-320, max: 1e308 }, cost: { perHour: 1e308 }, speed: 1e-320, nic: { bandwidth: 1e-320 }, disk: { iops: 1e-320, bandwidth: 1e308 } }";
    expect(() => scenario(bad, "{ name: a, request: [{ cpu: 1ms }] }")).toThrow(
      [
        "scenario:2:58: hostTypes.h.power.idle: must be 0 or at least 0.001 W, found 1e-320",
        "scenario:2:71: hostTypes.h.power.max: must be at most 1000000 W, found 1e+308",
        "scenario:2:97: hostTypes.h.cost.perHour: must be at most 1000000, found 1e+308",
        "scenario:2:113: hostTypes.h.speed: must be at least 0.001, found 1e-320",
        "scenario:2:139: hostTypes.h.nic.bandwidth: must be at least 0.125 B/s, found 1e-320",
        "scenario:2:163: hostTypes.h.disk.iops: must be at least 1e-8, found 1e-320",
        "scenario:2:182: hostTypes.h.disk.bandwidth: must be at most 1000000000000000 B/s, found 1e+308",
      ].join("\n"),
    );
    // At the bounds: 1 MW for 10 s is 1e7 J; 1e6 an hour for 10 s is 2,778.
    const top = "{ cores: 4096, memory: 1PB, power: { idle: 1MW, max: 1MW }, cost: { perHour: 1e6 }, speed: 1000, processStart: 0s }";
    const r = await runScenario(scenario(top, "{ name: a, load: { closed: { clients: 1, think: 0s } }, request: [{ cpu: 1e8s }] }"), plugins);
    expect(r.stacks.baremetal.energy.joules).toBeCloseTo(1e7, 3);
    expect(r.stacks.baremetal.cost.total).toBeCloseTo(1e6 / 360, 6);
  });
});
