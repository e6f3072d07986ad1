// gVisor as a mechanism (issue 15): a syscall-heavy service against runc by the ratio of the per-call costs, a
// CPU-only one unchanged, the KVM platform's calls at native cost, and its netstack's cost per byte.
import { runScenario } from "@turtles/engine";
import { baremetal } from "@turtles/plugin-baremetal";
import { describe, expect, it } from "vitest";
import { container } from "./index.js";
import { GVISOR_NETSTACK, GVISOR_SYSCALL } from "./gvisor.js";
import { hostScenario } from "./scenario.fixture.js";

const plugins = [baremetal, container];
// The bare-metal host's own cost of a system call (its syscallCost default: runc's 1.94 us, calibration.md 2.10).
const NATIVE = 1.94e-6;

/** Each stack on a one-core host of its own (no NIC: no message ends), one replica each, four clients that never rest. */
async function throughputs(request: string): Promise<Record<string, number>> {
  const stacks = { runc: "runtime: runc", ptrace: "runtime: gvisor", kvm: "runtime: gvisor, platform: kvm" };
  const s = hostScenario(
    {
      stacks: `{ ${Object.entries(stacks).map(([k, v]) => `${k}: [{ layer: container, ${v} }]`).join(", ")} }`,
      services: Object.keys(stacks).map((k) => `      - { name: ${k}, stack: ${k}, load: { closed: { clients: 4, think: 0s } }, request: ${request} }`).join("\n"),
      hosts: 3,
      duration: "3s",
      warmup: "500ms",
    },
    plugins,
  );
  const st = (await runScenario(s, plugins)).stacks.scenario.services;
  return Object.fromEntries(Object.keys(stacks).map((k) => [k, st[`t/${k}`].throughput as number]));
}

describe("gVisor", () => {
  it("costs a syscall-heavy service the ratio of its calls' costs (100 us and 100 calls: 294 us under runc, 3,920 us under ptrace)", async () => {
    const t = await throughputs("[{ cpu: 100us }, { syscall: 100 }]");
    const ptrace = GVISOR_SYSCALL.ptrace;
    // The trap on the calling thread and the Sentry's work share the one core with the application's.
    const expected = (100e-6 + 100 * NATIVE) / (100e-6 + 100 * (NATIVE + ptrace.thread + ptrace.sentry));
    expect(ptrace.thread + ptrace.sentry + NATIVE).toBeCloseTo(38.2e-6, 12);
    expect(Math.abs(t.ptrace / t.runc / expected - 1)).toBeLessThan(0.02);
    // The KVM platform's call was measured below runc's: it costs what a native one does.
    expect(Math.abs(t.kvm / t.runc - 1)).toBeLessThan(0.02);
  });

  it("leaves a CPU-only service as fast as under runc", async () => {
    const t = await throughputs("[{ cpu: 1ms }]");
    expect(Math.abs(t.ptrace / t.runc - 1)).toBeLessThan(0.01);
  });

  it("serves each message end's bytes in the Sentry's netstack, and counts every intercepted call", async () => {
    // One request at a time of 1 MB in and 1 MB out over a 100 Gb/s NIC: the Sentry adds 1e6 x (1.78 + 5.33) ns of
    // netstack, and its two ends' traps (ptrace: 36.26 us each), to a request against host networking under runc.
    const s = hostScenario(
      {
        stacks: "{ runc: [{ layer: container, network: host }], gvisor: [{ layer: container, runtime: gvisor, network: host }] }",
        services: ["r: runc", "g: gvisor"]
          .map((x) => x.split(": "))
          .map(([name, stack]) => `      - { name: ${name}, stack: ${stack}, load: { closed: { clients: 1, think: 10ms } }, ingress: { request: 1MB, response: 1MB }, request: [{ cpu: 100us }] }`)
          .join("\n"),
        hostType: "{ cores: 4, memory: 16GiB, nic: { bandwidth: 100Gb/s } }",
        hosts: 2,
        duration: "10s",
        warmup: "1s",
      },
      plugins,
    );
    const r = await runScenario(s, plugins);
    const svc = r.stacks.scenario.services;
    const added = (svc["t/g"].latency.mean as number) - (svc["t/r"].latency.mean as number);
    const expected = 1e6 * (GVISOR_NETSTACK.receivePerByte + GVISOR_NETSTACK.sendPerByte) + 2 * GVISOR_SYSCALL.ptrace.sentry;
    expect(Math.abs(added / expected - 1)).toBeLessThan(0.01);
    // Two message ends a request, each one intercepted call.
    const calls = (r.stacks.scenario.layers as Record<string, Record<string, number>>).container.syscalls;
    expect(calls / (svc["t/g"].completed as number)).toBeCloseTo(2, 1);
  });

  it("refuses a platform on another runtime, naming the field and the fix", () => {
    const bad = (): unknown => hostScenario({ stacks: "{ c: [{ layer: container, platform: kvm }] }", services: "      - { name: a, stack: c, request: [{ cpu: 1ms }] }" }, plugins);
    expect(bad).toThrow(/stacks\.c\[0\]\.platform[^]*runtime is runc: remove platform, or set runtime: gvisor/);
  });
});
