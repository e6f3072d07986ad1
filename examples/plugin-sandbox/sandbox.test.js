// The sandbox as its users see it: a run with the real bare-metal host plugin, the Sentry's per-call CPU in the
// latency at low load and in the throughput ceiling under load, and the syscalls metric in the results.
import { loadScenario, runScenario } from "@turtles/engine";
import { baremetal } from "@turtles/plugin-baremetal";
import { describe, expect, it } from "vitest";
import { sandbox } from "./index.js";

const plugins = [baremetal, sandbox];

/** One service of 100 system calls per request, on `stack`, one host of `cores` cores. */
function scenario(stack, load, cores = 4) {
  return loadScenario(
    `duration: 20s
hostTypes: { h: { cores: ${cores}, memory: 16GiB, processStart: 0s } }
hosts: [{ type: h }]
stacks: { gvisor: [{ layer: sandbox }] }
tenants:
  - name: t
    services:
      - { name: api, stack: ${stack}, memory: 100MiB, load: ${load}, request: [{ syscall: 100 }] }
`,
    { plugins },
  );
}

async function service(stack, load, cores) {
  const r = await runScenario(scenario(stack, load, cores), plugins);
  return { svc: r.stacks[stack].services["t/api"], stack: r.stacks[stack] };
}

describe("the gVisor-style sandbox", () => {
  it("makes a system call cost 38.2 us instead of 1.94 us at low load (calibration.md, 2.10)", async () => {
    const load = "{ open: { rate: 20/s } }";
    const native = await service("baremetal", load);
    const boxed = await service("gvisor", load);
    expect(native.svc.latency.mean).toBeCloseTo(100 * 1.94e-6, 9);
    expect(Math.abs(boxed.svc.latency.mean / (100 * (1.94e-6 + 36.3e-6)) - 1)).toBeLessThan(0.01);
  });

  it("reports every call it served under layers.sandbox.syscalls", async () => {
    const { svc, stack } = await service("gvisor", "{ open: { rate: 20/s } }");
    // Each completed request made 100 calls; the few in flight at the end made some of theirs.
    expect(stack.layers.sandbox.syscalls).toBeGreaterThanOrEqual(100 * svc.completed);
    expect(stack.layers.sandbox.syscalls).toBeLessThanOrEqual(100 * (svc.completed + svc.inFlight));
  });

  it("caps throughput where the Sentry's CPU and the application's fill the host, a ceiling no constant gives", async () => {
    // One core and clients that never think: each request needs 100 x (1.94 + 36.3) us of that core.
    const load = "{ closed: { clients: 50, think: 0s } }";
    const native = await service("baremetal", load, 1);
    const boxed = await service("gvisor", load, 1);
    expect(Math.abs(native.svc.throughput * 100 * 1.94e-6 - 1)).toBeLessThan(0.02);
    expect(Math.abs(boxed.svc.throughput * 100 * (1.94e-6 + 36.3e-6) - 1)).toBeLessThan(0.02);
  });
});
