// Each VMM's virtio back ends (io-paths.ts) against the measurements they carry and closed forms: the disk latency
// factors, a network back end that saturates, and a VM in a VM paying the nested factors.
import { loadScenario, runScenario, type StackResults } from "@turtles/engine";
import { baremetal } from "@turtles/plugin-baremetal";
import { describe, expect, it } from "vitest";
import { hypervisor, NESTED_CPU_FACTOR, NESTED_IO_FACTOR, VMM_BACK_ENDS } from "./index.js";

const plugins = [baremetal, hypervisor];

/** One replication of a one-service scenario on `stack`, its stack's results. */
async function run(stacks: string, stack: string, service: string, host: string, duration = "4s"): Promise<StackResults> {
  const s = loadScenario(
    `duration: ${duration}
warmup: 1s
hostTypes: { h: { ${host} } }
hosts: [{ type: h }]
stacks: { ${stacks} }
tenants:
  - name: t
    services:
      - { name: s, stack: ${stack}, ${service} }
`,
    { plugins },
  );
  return (await runScenario(s, plugins, { replications: 1 })).stacks[stack];
}

describe("a VMM's block back end", () => {
  // A lone I/O (one client that never rests): 100 us of disk latency and 100 us on the device (10k IOPS).
  const host = "cores: 8, memory: 64GiB, disk: { iops: 10k, bandwidth: 1GB/s, latency: 100us, queueDepth: 32 }";
  const lone = (stack: string, write: boolean) =>
    run("kvm: [{ layer: vm, profile: kvm, vcpus: 2, memory: 4GiB }], fc: [{ layer: vm, profile: firecracker, vcpus: 2, memory: 4GiB }]", stack,
      `load: { closed: { clients: 1, think: 0s } }, request: [{ io: { ${write ? "write" : "read"}: 4KiB, random: true } }]`, host, "2s");

  it("makes a lone I/O take its profile's latency factor times native: KVM reads 2.4x, writes 4.0x (Felter, QD16), Firecracker 1.50x and 1.94x (NSDI'20, QD1)", async () => {
    for (const write of [false, true]) {
      const native = (await lone("baremetal", write)).services["t/s"].latency.mean as number;
      expect(native, "200 us on the disk").toBeCloseTo(200e-6, 9);
      for (const [stack, profile] of [["kvm", "kvm"], ["fc", "firecracker"]] as const) {
        const guest = (await lone(stack, write)).services["t/s"].latency.mean as number;
        const b = VMM_BACK_ENDS[profile].blk[write ? "write" : "read"];
        expect(guest / native, `${profile} ${write ? "write" : "read"}`).toBeCloseTo(b.latencyFactor, 6);
      }
    }
    expect(VMM_BACK_ENDS.kvm.blk.read.latencyFactor).toBeCloseTo(633 / 260.5, 12);
  });

  it("serves Firecracker's I/Os one at a time to their end: reads issued together complete a lone read apart, and its IOPS at queue depth are its IOPS at depth 1, where KVM's overlap on the disk", async () => {
    const stacks = "kvm: [{ layer: vm, profile: kvm, vcpus: 2, memory: 4GiB }], fc: [{ layer: vm, profile: firecracker, vcpus: 2, memory: 4GiB }]";
    const together = (stack: string, count: number, clients = 1) =>
      run(stacks, stack, `load: { closed: { clients: ${clients}, think: 0s } }, request: [{ io: { read: 4KiB, count: ${count}, random: true } }]`, host, "2s");
    // A lone read natively: 100 us of disk latency and 100 us on the device.
    const fc = VMM_BACK_ENDS.firecracker.blk.read;
    const lone = fc.latencyFactor * 200e-6;
    expect(VMM_BACK_ENDS.firecracker.serialBlk).toBe(true);
    for (const n of [1, 2, 4]) {
      // The step ends with its last read: the n-th in line, after n lone reads.
      expect((await together("fc", n)).services["t/s"].latency.mean as number, `${n} reads`).toBeCloseTo(n * lone, 9);
    }
    // 32 clients keep 32 reads outstanding (QD32): still one at a time, 1 / 300 us = 3,333 reads a second, a third
    // of the disk's 10k IOPS.
    const qd32 = (await together("fc", 1, 32)).services["t/s"].throughput as number;
    expect(Math.abs(qd32 * lone - 1)).toBeLessThan(0.01);
    // KVM's 4 reads share its I/O thread (4 x 21.6 us), then the device (4 x 100 us), then take their latency and
    // their latency factor's delay together: far less than 4 lone reads.
    const kvm = VMM_BACK_ENDS.kvm.blk.read;
    const overlapped = 4 * kvm.cpu + 4 * 100e-6 + 100e-6 + ((kvm.latencyFactor - 1) * 200e-6 - kvm.cpu);
    expect((await together("kvm", 4)).services["t/s"].latency.mean as number).toBeCloseTo(overlapped, 9);
    expect(overlapped).toBeLessThan(2 * kvm.latencyFactor * 200e-6);
  });
});

describe("a VMM's network back end", () => {
  // 1 KB requests and 1 MB responses over a 1 Tb/s NIC (8 us a response): the back end's per-byte CPU on its one
  // thread (0.44 ns a byte, Firecracker's 14.5 Gb/s at 80% of a core) holds the VM, 442 us a request.
  const host = "cores: 16, memory: 64GiB, nic: { bandwidth: 1000Gb/s, latency: 0s }";
  const stacks = "vm: [{ layer: vm, vcpus: 8, memory: 16GiB }]";
  const service = (clients: number) =>
    `cores: 0, load: { closed: { clients: ${clients}, think: { exp: 10us } } }, ingress: { request: 1kB, response: 1MB }, request: [{ cpu: 1us }]`;
  const perRequest = (1e3 + 1e6) * VMM_BACK_ENDS.kvm.netCpuPerByte;

  it("is a host thread charged per message byte with wait: the VM's throughput saturates at 1 / its work per request", async () => {
    const vm = (await run(stacks, "vm", service(16), host)).services["t/s"];
    expect(perRequest).toBeCloseTo(4.4179e-4, 7);
    expect(Math.abs((vm.throughput as number) * perRequest - 1)).toBeLessThan(0.01);
    // Saturated, a request waits for the other 15 clients' at the back end: latency is about 16 of its services.
    expect((vm.latency.mean as number) / (16 * perRequest)).toBeCloseTo(1, 1);
    // Alone, it waits for its own only: the back end's 442 us, the NIC's 8 us and the VM's 2 x 15 us net latency.
    const alone = (await run(stacks, "vm", service(1), host)).services["t/s"];
    expect(alone.latency.mean as number).toBeCloseTo(perRequest + 1.001e6 / 125e9 + 30e-6 + 1e-6 / 0.98, 6);
  });
});

describe("a VM in a VM", () => {
  const host = "cores: 16, memory: 64GiB, disk: { iops: 84044, bandwidth: 2GB/s, queueDepth: 128 }";
  const stacks =
    "vm: [{ layer: vm, vcpus: 8, memory: 16GiB }], nested: [{ layer: vm, vcpus: 8, memory: 16GiB }, { layer: vm, vcpus: 4, memory: 8GiB }]";

  it("serves random reads at the nested I/O factor of one VM's rate: its back end in the outer VM pays 1 / 0.6 per read", async () => {
    const fio = `load: { closed: { clients: 128, think: { exp: 10us } } }, request: [{ io: { read: 4KiB, random: true } }]`;
    const one = await run(stacks, "vm", fio, host);
    const two = await run(stacks, "nested", fio, host);
    // By hand: one VM's I/O thread serves a read in 1 / (0.55 x 84,044) s = 21.6 us: 46,224 reads/s. In the VM in a
    // VM, the inner VM's thread (in the outer VM) takes 21.6 / 0.6 = 36.1 us a read and the outer's 21.6 us on the
    // host: the inner one holds it, at 0.6 x 46,224 = 27,735 reads/s.
    const cpu = VMM_BACK_ENDS.kvm.blk.read.cpu;
    expect(Math.abs((one.services["t/s"].throughput as number) * cpu - 1)).toBeLessThan(0.01);
    expect(Math.abs((two.services["t/s"].throughput as number) * (cpu / NESTED_IO_FACTOR) - 1)).toBeLessThan(0.01);
    expect((two.services["t/s"].throughput as number) / (one.services["t/s"].throughput as number)).toBeCloseTo(0.6, 2);
    // The results say which VMs rest on the low-confidence nested factor.
    expect([one.layers.vm.nested, two.layers.vm.nested]).toEqual([0, 1]);
  });

  it("runs CPU work at its CPU factor times the nested penalty: 0.98 x 0.98 x 0.93 of native", async () => {
    const busy = `cores: 0, load: { closed: { clients: 1, think: 0s } }, request: [{ cpu: 10ms }]`;
    const one = (await run(stacks, "vm", busy, host)).services["t/s"].latency.mean as number;
    const two = (await run(stacks, "nested", busy, host)).services["t/s"].latency.mean as number;
    expect(one).toBeCloseTo(0.01 / 0.98, 9);
    expect(two).toBeCloseTo(0.01 / (0.98 * 0.98 * NESTED_CPU_FACTOR), 9);
  });
});
