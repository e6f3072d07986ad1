// The hypervisor plugin's mechanisms, against the measurements they reproduce and closed forms: the I/O thread
// that halves random IOPS, steal of vCPUs that want more than the host has, and backed guest RAM.
import { loadScenario, runScenario } from "@turtles/engine";
import { baremetal } from "@turtles/plugin-baremetal";
import { describe, expect, it } from "vitest";
import { hypervisor, VMM_BACK_ENDS } from "./index.js";

const plugins = [baremetal, hypervisor];

describe("virtual machines", () => {
  it("serve random I/O through one host thread: 0.55 of native IOPS (Felter et al., calibration.md 1.2)", async () => {
    const run = async (stack: string): Promise<number> => {
      const s = loadScenario(
        `duration: 4s
warmup: 1s
hostTypes: { h: { cores: 16, memory: 64GiB, disk: { iops: 84044, bandwidth: 2GB/s, queueDepth: 128 } } }
hosts: [{ type: h }]
stacks: { vm: [{ layer: vm, vcpus: 8, memory: 16GiB }] }
tenants:
  - name: t
    services:
      - { name: fio, stack: ${stack}, load: { closed: { clients: 128, think: { exp: 10us } } }, request: [{ io: { read: 4KiB, random: true } }] }
`,
        { plugins },
      );
      return (await runScenario(s, plugins)).stacks[stack].services["t/fio"].throughput as number;
    };
    const native = await run("baremetal");
    const guest = await run("vm");
    // (fio's jobs are never in lockstep: the clients' think times of about 10 us keep them apart.)
    expect(Math.abs(native / 84044 - 1)).toBeLessThan(0.01);
    expect(Math.abs(guest * VMM_BACK_ENDS.kvm.blk.read.cpu - 1)).toBeLessThan(0.01);
    expect(guest / native).toBeCloseTo(0.55, 2);
  });

  it("keep the steal of their vCPUs: a busy 2-vCPU VM beside two busy host threads on a 2-core host gets one core", async () => {
    const s = loadScenario(
      `duration: 10s
warmup: 1s
hostTypes: { h: { cores: 2, memory: 64GiB } }
hosts: [{ type: h }]
stacks: { vm: [{ layer: vm, vcpus: 2, memory: 4GiB }] }
tenants:
  - name: t
    services:
      - { name: guest, stack: vm, cores: 0, load: { closed: { clients: 2, think: 0s } }, request: [{ cpu: 100ms }] }
      - { name: native, stack: baremetal, cores: 0, load: { closed: { clients: 2, think: 0s } }, request: [{ cpu: 100ms }] }
`,
      { plugins },
    );
    const st = (await runScenario(s, plugins)).stacks.scenario;
    // The VM weighs its 2 runnable vCPUs, the host process its 2 threads: a core each, so the VM's vCPUs could use
    // one core more than they get: 1 core-second of steal a second.
    expect(st.hosts.steal).toBeCloseTo(10, 6);
    expect(st.kernels).toBe(2);
  });

  it("hold their whole guest RAM and the VMM's overhead in the host, whatever the guest uses", async () => {
    const s = loadScenario(
      `duration: 1s
hostTypes: { h: { cores: 8, memory: 64GiB } }
hosts: [{ type: h }]
stacks: { vm: [{ layer: vm, profile: firecracker, vcpus: 2, memory: 4GiB }] }
tenants:
  - name: t
    services:
      - { name: a, stack: vm, memory: 1GiB, request: [{ cpu: 1ms }] }
`,
      { plugins },
    );
    const hosts = (await runScenario(s, plugins)).stacks.vm.hosts;
    // Firecracker maps 2.5 MiB beyond guest RAM (calibration.md, 1.1).
    expect(hosts.memoryUsed).toBe(4 * 2 ** 30 + 2.5 * 2 ** 20);
    expect(hosts.memoryReserved).toBe(4 * 2 ** 30 + 2.5 * 2 ** 20);
  });
});
