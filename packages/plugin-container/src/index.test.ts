// The container plugin's mechanisms against closed forms: cgroup v2 weights, the CFS budget of a CPU limit, the
// runtimes' overheads and Kata's guest kernel.
import { runScenario } from "@turtles/engine";
import { baremetal } from "@turtles/plugin-baremetal";
import { describe, expect, it } from "vitest";
import { container, RUNTIME_DEFAULTS } from "./index.js";
import { hostScenario } from "./scenario.fixture.js";

const plugins = [baremetal, container];

function scenario(stacks: string, services: string, hostType?: string): ReturnType<typeof hostScenario> {
  return hostScenario({ stacks, services, hostType }, plugins);
}

describe("containers", () => {
  it("share a core by cpu.weight: 200 against 100 gets two thirds", async () => {
    const s = scenario(
      "{ heavy: [{ layer: container, cpu: { weight: 200 } }], light: [{ layer: container, cpu: { weight: 100 } }] }",
      `      - { name: a, stack: heavy, cores: 0, load: { closed: { clients: 1, think: 0s } }, request: [{ cpu: 10ms }] }
      - { name: b, stack: light, cores: 0, load: { closed: { clients: 1, think: 0s } }, request: [{ cpu: 10ms }] }`,
    );
    const svc = (await runScenario(s, plugins)).stacks.scenario.services;
    expect((svc["t/a"].throughput as number) / (svc["t/b"].throughput as number)).toBeCloseTo(2, 1);
  });

  it("turn a CPU limit into a CFS budget: half a core per 100 ms period, throttled the other half", async () => {
    const s = scenario("{ c: [{ layer: container, cpu: { limit: 0.5 } }] }", "      - { name: a, stack: c, cores: 0.5, load: { closed: { clients: 1, think: 0s } }, request: [{ cpu: 10ms }] }", "{ cores: 2, memory: 16GiB }");
    const st = (await runScenario(s, plugins)).stacks.c;
    expect(st.services["t/a"].throughput).toBeCloseTo(50, 0);
    expect(st.hosts.throttledTime).toBeCloseTo(10, 1);
  });

  it("hold their runtime's overhead beside their processes; a Kata sandbox also runs a guest kernel", async () => {
    const s = scenario(
      "{ runc: [{ layer: container, runtime: runc }], kata: [{ layer: container, runtime: kata }] }",
      `      - { name: a, stack: runc, cores: 0, memory: 100MiB, request: [{ cpu: 1ms }] }
      - { name: b, stack: kata, cores: 0, memory: 100MiB, request: [{ cpu: 1ms }] }`,
    );
    const st = (await runScenario(s, plugins)).stacks.scenario;
    expect(st.hosts.memoryOverhead).toBe(RUNTIME_DEFAULTS.runc.memoryOverhead + RUNTIME_DEFAULTS.kata.memoryOverhead);
    expect(st.hosts.memoryUsed).toBe(2 * 100 * 2 ** 20 + RUNTIME_DEFAULTS.runc.memoryOverhead + RUNTIME_DEFAULTS.kata.memoryOverhead);
    expect(st.kernels).toBe(2);
  });
});
