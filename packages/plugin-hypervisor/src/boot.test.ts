// A VM's boot as work on its host (boot.ts): alone it takes its profile's cited time; VMs booting together share the
// host's disk and cores, and their ready times are the closed form of that contention.
import { loadScenario, runScenario } from "@turtles/engine";
import { baremetal } from "@turtles/plugin-baremetal";
import { describe, expect, it } from "vitest";
import { DEFAULT_BOOT_READ, hypervisor, VM_BOOT } from "./index.js";

const plugins = [baremetal, hypervisor];

/** Ready times (p50, p99) of `n` one-vCPU VMs of `profile` started together on one host, each with one replica. */
async function boot(n: number, host: string, profile = "kvm", extra = ""): Promise<{ p50: number; p99: number }> {
  const s = loadScenario(
    `duration: 5s
hostTypes: { h: { ${host} } }
hosts: [{ type: h }]
stacks: { vm: [{ layer: vm, profile: ${profile}, vcpus: 1, memory: 1GiB }] }
tenants:
  - name: t
    services:
      - { name: a, stack: vm, replicas: ${n}, memory: 64MiB, load: { open: { rate: 1/s } }, request: [{ cpu: 1ms }] }
${extra}`,
    { plugins },
  );
  // A scenario with services on two stacks reports them together, as "scenario".
  const ready = (await runScenario({ ...s, warmup: 0 }, plugins, { replications: 1 })).stacks[extra ? "scenario" : "vm"].lifecycle.ready;
  expect(ready).not.toBeNull();
  return ready!;
}

describe("a VM's boot", () => {
  it("alone on an idle host takes its profile's cited time: KVM 244 ms, Firecracker 161 ms (calibration.md 1.1)", async () => {
    // No disk: the VMM's setup, then the guest kernel, on a host whose processes start at once.
    expect(await boot(1, "cores: 16, memory: 64GiB, processStart: 0s")).toEqual({ p50: 0.244, p99: 0.244 });
    expect(await boot(1, "cores: 16, memory: 64GiB, processStart: 0s", "firecracker")).toEqual({ p50: 0.161, p99: 0.161 });
    // Its 16 MiB boot read from a 100 MB/s disk (168 ms) is done before its guest kernel's 193 ms.
    const disk = "cores: 16, memory: 64GiB, processStart: 0s, disk: { iops: 10k, bandwidth: 100MB/s, latency: 100us }";
    const alone = await boot(1, disk);
    expect(alone.p99).toBeCloseTo(0.244, 12);
  });

  it("in a storm of N VMs on one host: the N-th ready time is the contention of their boot reads, exact for N = 1, 2, 10", async () => {
    // 16 cores: every VMM thread and guest kernel has a core of its own; the disk serves the N boot reads at once in
    // processor sharing, so each is done after N x 16 MiB / 100 MB/s, then its 100 us latency. A boot is ready when
    // its VMM's 51 ms, then the later of its guest kernel's 193 ms and its read, are done.
    const disk = "cores: 16, memory: 64GiB, processStart: 0s, disk: { iops: 10k, bandwidth: 100MB/s, latency: 100us }";
    const { vmm, guest } = VM_BOOT.kvm;
    const closedForm = (n: number): number => vmm + Math.max(guest, (n * DEFAULT_BOOT_READ) / 100e6 + 100e-6);
    const alone = await boot(1, disk);
    for (const n of [1, 2, 10]) {
      const r = n === 1 ? alone : await boot(n, disk);
      // They start together and contend alike, so all are ready at once: p50 = p99 = the N-th.
      expect(r.p50, `N = ${n}`).toBeCloseTo(closedForm(n), 9);
      expect(r.p99, `N = ${n}`).toBeCloseTo(closedForm(n), 9);
      expect(r.p99).toBeGreaterThanOrEqual(alone.p99 - 1e-12);
    }
    // 2 VMs read 33.6 MB: 336 ms, past the guest kernel's 193; 10 read 168 MB: 1.68 s, seven times one boot.
    expect(closedForm(2)).toBeCloseTo(0.051 + 0.33554432 + 0.0001, 12);
    expect(closedForm(10)).toBeCloseTo(0.051 + 1.6777216 + 0.0001, 12);
  });

  it("on a busy host waits for cores: two native threads that never rest on 2 cores leave the boot 2/3 of a core", async () => {
    // The VMM's thread weighs 1 against the native process's 2 runnable threads, then the VM its 1 runnable vCPU:
    // each part runs at 2/3 of a core, so the boot takes 1.5 x (51 + 193) ms = 366 ms (the p99 of the two replicas,
    // the native one ready at once).
    const r = await boot(
      1,
      "cores: 2, memory: 64GiB, processStart: 0s",
      "kvm",
      `      - { name: hog, stack: baremetal, cores: 0, load: { closed: { clients: 2, think: 0s } }, request: [{ cpu: 10s }] }`,
    );
    expect(r.p99).toBeCloseTo(1.5 * (VM_BOOT.kvm.vmm + VM_BOOT.kvm.guest), 9);
  });

  it("refuses a bad bootRead or nestedIo where it is written, with its bounds", () => {
    const bad = `duration: 1s
hostTypes: { h: { cores: 4, memory: 8GiB } }
hosts: [{ type: h }]
stacks: { vm: [{ layer: vm, vcpus: 1, memory: 1GiB, bootRead: -1MiB, nestedIo: 1.5 }] }
tenants: [{ name: t, services: [{ name: a, stack: vm, request: [{ cpu: 1ms }] }] }]
`;
    expect(() => loadScenario(bad, { plugins })).toThrow(/scenario:4:\d+: stacks\.vm\[0\]\.bootRead: .*\n.*scenario:4:\d+: stacks\.vm\[0\]\.nestedIo: must be at most 1/);
  });
});
