// A Kata pod as a microVM (kata.ts) against closed forms: its boot as work (alone: Kata's cited "to-workload"; a storm
// shares the host's cores), its vCPU cap, its guest kernel, and its virtio back ends for what leaves the pod only.
import { loadScenario, runScenario } from "@turtles/engine";
import { baremetal } from "@turtles/plugin-baremetal";
import { describe, expect, it } from "vitest";
import { container, KATA_BOOT, KATA_PATH, KATA_VIRTIO, pod, POD_SANDBOX, RUNTIME_DEFAULTS } from "./index.js";

const plugins = [baremetal, container, pod];

/** Results of stack `pod` (tenant t's `services`) on one host of `hostType`. */
async function run(stack: string, services: string, hostType: string, duration = "20s", warmup = "0s") {
  const s = loadScenario(
    `duration: ${duration}
warmup: ${warmup}
hostTypes: { h: ${hostType} }
hosts: [{ type: h }]
stacks: { pod: ${stack} }
tenants:
  - name: t
    services:
${services}
`,
    { plugins },
  );
  return (await runScenario(s, plugins, { replications: 1 })).stacks.pod;
}

describe("a Kata pod", () => {
  it("boots as work: alone on an idle host it and its container are ready in Kata's 0.66 s; N on one core take N times its CPU", async () => {
    const stack = "[{ layer: pod, per: replica, runtime: kata }, { layer: container }]";
    const ready = async (n: number, host: string) =>
      (await run(stack, `      - { name: a, stack: pod, replicas: ${n}, cores: 0, memory: 64MiB, load: { open: { rate: 1/s } }, request: [{ cpu: 1ms }] }`, host, "5s")).lifecycle.ready!;
    // The VMM's setup, the guest kernel and the agent (0.6266 s of CPU), then the container's runc start (33.4 ms).
    expect((await ready(1, "{ cores: 16, memory: 64GiB, processStart: 0s }")).p99).toBeCloseTo(0.66, 12);
    // A disk reading the 16 MiB boot set within the guest kernel's 193 ms changes nothing.
    expect((await ready(1, "{ cores: 16, memory: 64GiB, processStart: 0s, disk: { iops: 10k, bandwidth: 200MB/s } }")).p99).toBeCloseTo(0.66, 12);
    // Four on one core: each part of the four boots shares the core, so all four are ready after 4 x 0.6266 s + 33.4 ms.
    const cpu = KATA_BOOT.vmm + KATA_BOOT.guest + KATA_BOOT.agent;
    expect(await ready(4, "{ cores: 1, memory: 64GiB, processStart: 0s }")).toEqual({ p50: expect.closeTo(4 * cpu + RUNTIME_DEFAULTS.runc.provisioning, 9), p99: expect.closeTo(4 * cpu + RUNTIME_DEFAULTS.runc.provisioning, 9) });
  });

  it("runs its containers on its vCPUs: 1 without a CPU limit, 1 + ceil(limit) with one (the budget still holds it to the limit)", async () => {
    const services = `      - { name: a, stack: pod, cores: 0, load: { closed: { clients: 4, think: 0s } }, request: [{ cpu: 10ms }] }`;
    const host = "{ cores: 8, memory: 64GiB }";
    // Work runs at KVM's factor 0.98: a core serves 98 requests of 10 ms a second (measured after a 2 s warm-up).
    const one = await run("[{ layer: pod, runtime: kata }, { layer: container }]", services, host, "20s", "2s");
    expect(one.services["t/a"].throughput).toBeCloseTo(KATA_PATH.cpuFactor * 100, 0);
    const limited = await run("[{ layer: pod, runtime: kata, cpu: { limit: 2 } }, { layer: container }]", services, host, "20s", "2s");
    expect(limited.services["t/a"].throughput).toBeCloseTo(2 * KATA_PATH.cpuFactor * 100, 0);
    const runc = await run("[{ layer: pod }, { layer: container }]", services, host, "20s", "2s");
    expect(runc.services["t/a"].throughput).toBeCloseTo(400, 0);
  });

  it("is one guest kernel and one Kata footprint for all its containers", async () => {
    const services = `      - { name: a, stack: pod, cores: 0, memory: 64MiB, request: [{ cpu: 1ms }] }
      - { name: b, stack: pod, cores: 0, memory: 64MiB, request: [{ cpu: 1ms }] }`;
    const st = await run("[{ layer: pod, per: ordinal, runtime: kata }, { layer: container }]", services, "{ cores: 8, memory: 64GiB }", "1s");
    expect(st.kernels).toBe(2); // the host's and the pod's guest
    expect(st.hosts.memoryOverhead).toBe(KATA_PATH.memoryOverhead + 2 * RUNTIME_DEFAULTS.runc.memoryOverhead);
    expect(KATA_PATH.memoryOverhead).not.toBe(POD_SANDBOX.memoryOverhead);
  });

  it("sends what leaves the pod through vhost-net, +15 us each way, and what stays in it over its loopback at no cost", async () => {
    // front calls back (1 ms of CPU each, one client). Both in one Kata pod: only the CPU factor differs from runc.
    // front in a Kata pod and back in another: front's two message ends (the call out, its response in) each take
    // vhost-net's per-byte work and 15 us; back's pod likewise.
    const services = (stack: string, backStack: string) => `      - { name: front, stack: ${stack}, cores: 0, load: { closed: { clients: 1, think: 10ms } }, request: [{ cpu: 1ms }, { call: { service: back, request: 1000B, response: 1000B } }] }
      - { name: back, stack: ${backStack}, cores: 0, request: [{ cpu: 1ms }] }`;
    const host = "{ cores: 8, memory: 64GiB }";
    const latency = async (stacks: string, stack: string, back: string): Promise<number> => {
      const s = loadScenario(
        `duration: 20s
hostTypes: { h: ${host} }
hosts: [{ type: h }]
stacks: ${stacks}
tenants:
  - name: t
    services:
${services(stack, back)}
`,
        { plugins },
      );
      const r = await runScenario(s, plugins, { replications: 1 });
      return r.stacks[stack === back ? stack : "scenario"].services["t/front"].latency.mean as number;
    };
    // Host networking: the bridge's cost per message end (network.ts) is not what this test measures.
    const stacks = "{ kata: [{ layer: pod, per: ordinal, runtime: kata }, { layer: container, network: host }], runc: [{ layer: pod, per: ordinal }, { layer: container, network: host }], kata2: [{ layer: pod, runtime: kata }, { layer: container, network: host }] }";
    const runc = await latency(stacks, "runc", "runc");
    const together = await latency(stacks, "kata", "kata");
    expect(together - runc).toBeCloseTo(2e-3 * (1 / KATA_PATH.cpuFactor - 1), 9);
    // Apart: each of the two messages leaves one Kata pod and enters the other: both ends' 15 us, and the two pods'
    // vhost-net threads serve its 1000 B side by side (the message waits for both).
    const apart = await latency(stacks, "kata", "kata2");
    expect(apart - together).toBeCloseTo(2 * (2 * KATA_VIRTIO.netOneWay + 1000 * KATA_VIRTIO.netCpuPerByte), 9);
  });

  it("hands each I/O to QEMU's I/O thread: a lone random read takes 2.4x native, a write 4.0x (Felter, KVM at QD16)", async () => {
    // One client that never rests: 100 us of disk latency and 100 us on the device (10k IOPS) natively.
    const host = "{ cores: 8, memory: 64GiB, disk: { iops: 10k, bandwidth: 1GB/s, latency: 100us, queueDepth: 32 } }";
    for (const write of [false, true]) {
      const io = `      - { name: a, stack: pod, cores: 0, load: { closed: { clients: 1, think: 0s } }, request: [{ io: { ${write ? "write" : "read"}: 4KiB, random: true } }] }`;
      const native = (await run("[{ layer: pod }, { layer: container }]", io, host, "2s", "1s")).services["t/a"].latency.mean as number;
      expect(native).toBeCloseTo(200e-6, 9);
      const kata = (await run("[{ layer: pod, runtime: kata }, { layer: container }]", io, host, "2s", "1s")).services["t/a"].latency.mean as number;
      expect(kata / native).toBeCloseTo(write ? 831 / 207 : 633 / 260.5, 6);
    }
  });
});
