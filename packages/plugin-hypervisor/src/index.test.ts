// The hypervisor plugin's mechanisms, against the measurements they reproduce and closed forms: the I/O thread
// that halves random IOPS, steal of vCPUs that want more than the host has, and backed guest RAM.
import { loadScenario, preflight, runScenario } from "@turtles/engine";
import { baremetal } from "@turtles/plugin-baremetal";
import { describe, expect, it } from "vitest";
import { hypervisor, VIRTIO_BLK_CPU_PER_IO } from "./index.js";

const plugins = [baremetal, hypervisor];

/** Two services, on stacks `a` and `b`, each of one replica with 4 clients that keep 4 threads busy. */
const fourBusyThreadsEach = (a: string, b: string): string => `tenants:
  - name: t
    services:
      - { name: a, stack: ${a}, cores: 0, load: { closed: { clients: 4, think: 0s } }, request: [{ cpu: 100ms }] }
      - { name: b, stack: ${b}, cores: 0, load: { closed: { clients: 4, think: 0s } }, request: [{ cpu: 100ms }] }
`;

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
    expect(Math.abs(guest * VIRTIO_BLK_CPU_PER_IO - 1)).toBeLessThan(0.01);
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

  it("share an overcommitted host 2:1: two 4-vCPU VMs with 4 busy threads each on 4 cores get 2 cores and 2 cores of steal each", async () => {
    const s = loadScenario(
      `duration: 10s
warmup: 1s
placement: { cpuOvercommit: 2 }
hostTypes: { h: { cores: 4, memory: 64GiB } }
hosts: [{ type: h, count: 2 }]
stacks: { vm: [{ layer: vm, vcpus: 4, memory: 4GiB }] }
${fourBusyThreadsEach("vm", "vm")}`,
      { plugins },
    );
    const st = (await runScenario(s, plugins)).stacks.vm;
    // 8 vCPUs on 4 cores: first-fit puts both VMs on host 0, each weighs its 4 runnable vCPUs, so each gets 2 cores
    // and could use 2 more: 2 core-seconds of steal a second per VM, 40 over the 10 s measured on host type h.
    expect(st.hosts.used).toBe(1);
    expect(st.hosts.cpuUtilization).toBeCloseTo(1, 9);
    expect(st.layers.vm.steal).toEqual({ count: 2, mean: expect.closeTo(2, 9), p50: expect.closeTo(2, 9), p99: expect.closeTo(2, 9) });
    expect(st.hostTypes.h.steal).toBeCloseTo(40, 9);
    expect(st.hosts.steal).toBeCloseTo(40, 9);
  });

  it("without overcommit take one host core per vCPU: the second 4-vCPU VM goes on the next host, and none steals", async () => {
    const s = loadScenario(
      `duration: 2s
hostTypes: { h: { cores: 4, memory: 64GiB }, g: { cores: 4, memory: 64GiB } }
hosts: [{ type: h }, { type: g }]
stacks: { vm: [{ layer: vm, vcpus: 4, memory: 4GiB }] }
${fourBusyThreadsEach("vm", "vm")}`,
      { plugins },
    );
    const st = (await runScenario(s, plugins)).stacks.vm;
    expect(st.hosts.used).toBe(2);
    expect(st.hostTypes.h.steal).toBe(0);
    expect(st.hostTypes.g.steal).toBe(0);
    expect(st.layers.vm.steal).toEqual({ count: 2, mean: 0, p50: 0, p99: 0 });
  });

  it("share the host by weight per runnable vCPU: weight 2 against 1 gets two thirds of 4 cores", async () => {
    const s = loadScenario(
      `duration: 10s
warmup: 1s
placement: { cpuOvercommit: 2 }
hostTypes: { h: { cores: 4, memory: 64GiB } }
hosts: [{ type: h }]
stacks:
  heavy: [{ layer: vm, vcpus: 4, memory: 4GiB, weight: 2 }]
  light: [{ layer: vm, vcpus: 4, memory: 4GiB }]
${fourBusyThreadsEach("heavy", "light")}`,
      { plugins },
    );
    const st = (await runScenario(s, plugins)).stacks.scenario;
    // Weights 2 x 4 and 1 x 4 runnable vCPUs: 8/3 and 4/3 cores, so steal 4/3 and 8/3 core-seconds a second.
    const vm = st.layers.vm.steal as { count: number; mean: number; p50: number; p99: number };
    expect(vm.count).toBe(2);
    expect(vm.mean).toBeCloseTo(2, 9);
    expect(vm.p50).toBeCloseTo(4 / 3, 9);
    expect(vm.p99).toBeCloseTo(8 / 3, 9);
    expect(st.hostTypes.h.steal).toBeCloseTo(40, 9);
  });

  it("refuse a VM with more vCPUs than its host's cores times cpuOvercommit, saying which field to raise", () => {
    const text = (overcommit: string) => `duration: 1s
${overcommit}
hostTypes: { h: { cores: 4, memory: 64GiB } }
hosts: [{ type: h }]
stacks: { vm: [{ layer: vm, vcpus: 8, memory: 4GiB }] }
tenants:
  - name: t
    services:
      - { name: a, stack: vm, request: [{ cpu: 1ms }] }
`;
    const [u] = preflight(loadScenario(text(""), { plugins }), plugins);
    expect(u.reason).toContain("a vm takes 8 cores");
    expect(u.reason).toContain("raise placement.cpuOvercommit, now 1");
    expect(preflight(loadScenario(text("placement: { cpuOvercommit: 2 }"), { plugins }), plugins)).toEqual([]);
    expect(() => loadScenario(text("placement: { cpuOvercommit: 0 }"), { plugins })).toThrow(/placement\.cpuOvercommit.*must be more than 0/s);
  });
});
