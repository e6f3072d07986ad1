// Pre-copy live migration against its closed form: the rounds, bytes, total time and downtime of a 4 GiB guest
// dirtying 100 MB/s over 10 Gb/s NICs, and its requests during the stop-and-copy, late but none lost.
import { loadScenario, runScenario } from "@turtles/engine";
import { baremetal } from "@turtles/plugin-baremetal";
import { describe, expect, it } from "vitest";
import { DEFAULT_DOWNTIME, guestKernelReservation, hypervisor } from "./index.js";

const plugins = [baremetal, hypervisor];

const scenario = (actions: string, extra = "", cpu = "10ms") =>
  loadScenario(
    `duration: 30s
hostTypes: { h: { cores: 8, memory: 64GiB, nic: { bandwidth: 10Gb/s } }, target: { cores: 8, memory: 64GiB, nic: { bandwidth: 10Gb/s } } }
hosts: [{ type: h, count: 2 }, { type: target }]
stacks: { vm: [{ layer: vm, vcpus: 2, memory: 8GiB${extra} }] }
${actions}
tenants:
  - name: t
    services:
      - { name: web, stack: vm, cores: 0, memory: 4GiB, dirtyRate: 100MB/s, load: { closed: { clients: 1, think: 0s } }, request: [{ cpu: ${cpu} }] }
`,
    { plugins },
  );

/** The pre-copy series: rounds until the dirty set copies within the target, then the stop-and-copy. */
function preCopy(M: number, D: number, B: number, target: number) {
  let rounds = 0;
  let bytes = 0;
  let total = 0;
  let size = M;
  for (;;) {
    const t = size / B;
    total += t;
    bytes += size;
    rounds++;
    size = Math.min(M, D * t);
    if (size <= B * target) break;
  }
  return { rounds, bytes: bytes + size, total: total + size / B, downtime: size / B };
}

describe("live migration", () => {
  it("copies a 4 GiB guest dirtying 100 MB/s over 10 Gb/s NICs in the closed-form pre-copy rounds, its requests late, none lost", async () => {
    const results = (await runScenario(scenario("actions: [{ at: 10s, migrate: { host: 0, to: 2 } }]"), plugins)).stacks.vm;
    // The guest touched its process's 4 GiB and its guest kernel's reservation (206 MiB of its 8 GiB).
    const touched = 4 * 2 ** 30 + guestKernelReservation(8 * 2 ** 30);
    const expected = preCopy(touched, 100e6, 10e9 / 8, DEFAULT_DOWNTIME);
    // Round 1 copies 4.2 GiB in 3.61 s; the 361 MB dirtied meanwhile copy in 0.289 s, within 300 ms: the stop.
    expect(expected.rounds).toBe(1);
    expect(results.migrations).toHaveLength(1);
    const m = results.migrations![0];
    expect(m).toMatchObject({ layer: "vm", from: 0, to: 2, start: 10, rounds: expected.rounds });
    expect(m.bytes).toBeCloseTo(expected.bytes, 0);
    expect(m.total).toBeCloseTo(expected.total, 9);
    expect(m.downtime).toBeCloseTo(expected.downtime, 9);
    // Its one request in flight at the stop waited the downtime: the client's time is its requests' latencies.
    expect(results.services["t/web"].failed).toBe(0);
    // Requests of 1 s of CPU: the one running through the stop-and-copy takes the downtime longer, the others not.
    const slow = (await runScenario(scenario("actions: [{ at: 10s, migrate: { host: 0, to: 2 } }]", "", "1s"), plugins)).stacks.vm.services["t/web"];
    expect(slow.failed).toBe(0);
    // (A request takes 1 / 0.98 s of CPU plus KVM's 15 us per message end: the same for all but the slowest of 29.)
    expect(slow.latency.p50).toBeCloseTo(1 / 0.98 + 30e-6, 9);
    expect((slow.latency.p999 as number) - (slow.latency.p50 as number)).toBeCloseTo(m.downtime, 9);
    expect(results.unmigrated).toBe(0);
    // It runs on host 2 (type target) from then on: one of its 8 cores busy (but for its messages' 30 us per request).
    const after = (30 - m.start - m.total) / 30 / 8;
    expect(Math.abs((results.hostTypes.target.cpuUtilization as number) / after - 1)).toBeLessThan(0.01);
  });

  it("iterates while the dirty set is too large to stop: a tighter downtime target takes more rounds", async () => {
    const results = (await runScenario(scenario("actions: [{ at: 10s, migrate: { host: 0, to: 1 } }]", ", downtime: 20ms"), plugins)).stacks.vm;
    const expected = preCopy(4 * 2 ** 30 + guestKernelReservation(8 * 2 ** 30), 100e6, 10e9 / 8, 0.02);
    // 4.2 GiB in 3.61 s; 361 MB in 289 ms; 28.9 MB in 23 ms, still above 20 ms; then 2.3 MB: the stop.
    expect(expected.rounds).toBe(3);
    const m = results.migrations![0];
    expect(m.rounds).toBe(expected.rounds);
    expect(m.total).toBeCloseTo(expected.total, 9);
    expect(m.downtime).toBeCloseTo(expected.downtime, 9);
  });

  it("shares both hosts' NICs with the services' traffic: a flow on the source's or the target's NIC halves the copy's rate, and the copy slows that flow by half its length", async () => {
    // Host 0: a bare-metal service `src` (4 cores) and the VM (4 vCPUs); host 1: a bare-metal service `sink`. One
    // client of `src` downloads 10 GB (host 0's NIC sends it), or one client of `sink` uploads 10 GB (host 1's NIC
    // receives it): 8 s alone at 10 Gb/s, under way when the VM migrates from host 0 to host 1 at 2 s.
    const run = async (traffic: "src" | "sink") => {
      const load = "load: { closed: { clients: 1, think: 0s } }, ";
      const s = loadScenario(
        `duration: 30s
hostTypes: { h: { cores: 8, memory: 64GiB, nic: { bandwidth: 10Gb/s } } }
hosts: [{ type: h, count: 2 }]
stacks: { vm: [{ layer: vm, vcpus: 4, memory: 4GiB }] }
actions: [{ at: 2s, migrate: { host: 0, to: 1 } }]
tenants:
  - name: t
    services:
      - { name: src, cores: 4, ${traffic === "src" ? load : ""}ingress: { response: 10GB }, request: [{ cpu: 1ms }] }
      - { name: guest, stack: vm, cores: 0, memory: 1GiB, dirtyRate: 10MB/s, request: [{ cpu: 1ms }] }
      - { name: sink, cores: 4, ${traffic === "sink" ? load : ""}ingress: { request: 10GB }, request: [{ cpu: 1ms }] }
`,
        { plugins },
      );
      return (await runScenario(s, plugins)).stacks.scenario;
    };
    // Each NIC splits its bandwidth fairly among its flows, and a flow goes at the lesser of its two ends' shares:
    // two flows on one side of a NIC get B / 2 each, whichever host's NIC it is.
    const B = 10e9 / 8;
    const touched = 2 ** 30 + guestKernelReservation(4 * 2 ** 30);
    const expected = preCopy(touched, 10e6, B / 2, DEFAULT_DOWNTIME);
    const alone = preCopy(touched, 10e6, B, DEFAULT_DOWNTIME);
    expect(expected.total).toBeGreaterThan(1.9 * alone.total);
    for (const traffic of ["src", "sink"] as const) {
      const results = await run(traffic);
      expect(results.migrations).toHaveLength(1);
      const m = results.migrations![0];
      expect(m).toMatchObject({ from: 0, to: 1, start: 2, rounds: expected.rounds });
      expect(m.total).toBeCloseTo(expected.total, 9);
      expect(m.downtime).toBeCloseTo(expected.downtime, 9);
      // The 10 GB flow under way went at B / 2 for the copy's whole length (its rounds and its stop-and-copy) and at
      // B otherwise: it ends m.total / 2 later than the requests after it, which had the NIC to themselves.
      const latency = results.services[`t/${traffic}`].latency;
      expect((latency.p999 as number) - (latency.p50 as number)).toBeCloseTo(m.total / 2, 9);
      expect(latency.p50 as number).toBeGreaterThan(10e9 / B);
    }
  });

  it("drains a host to where placement puts each VM, counting the VMs already sent there", async () => {
    const s = loadScenario(
      `duration: 20s
hostTypes: { h: { cores: 8, memory: 64GiB, nic: { bandwidth: 10Gb/s } } }
hosts: [{ type: h, count: 4 }]
stacks: { vm: [{ layer: vm, vcpus: 4, memory: 4GiB }] }
actions: [{ at: 5s, drain: { host: 0 } }]
tenants:
  - name: t
    services:
      - { name: web, stack: vm, replicas: 5, cores: 0, memory: 1GiB, load: { closed: { clients: 5, think: 1ms } }, request: [{ cpu: 1ms }] }
`,
      { plugins },
    );
    const results = (await runScenario(s, plugins)).stacks.vm;
    // First-fit put two VMs on hosts 0 and 1 and one on host 2: host 2 has room for one of host 0's, host 3 for the other.
    // (In the order the copies finish.)
    expect(results.migrations!.map((m) => [m.from, m.to]).sort((a, b) => a[1] - b[1])).toEqual([
      [0, 2],
      [0, 3],
    ]);
    expect(results.services["t/web"].failed).toBe(0);
    expect(results.unmigrated).toBe(0);
  });

  it("leaves a VM where it is when a drain finds no host with room for it, and counts it", async () => {
    const s = loadScenario(
      `duration: 5s
hostTypes: { h: { cores: 8, memory: 64GiB, nic: { bandwidth: 10Gb/s } } }
hosts: [{ type: h, count: 2 }]
stacks: { vm: [{ layer: vm, vcpus: 8, memory: 4GiB }] }
actions: [{ at: 1s, drain: { host: 0 } }]
tenants:
  - name: t
    services:
      - { name: web, stack: vm, replicas: 2, cores: 0, load: { closed: { clients: 2, think: 1ms } }, request: [{ cpu: 1ms }] }
`,
      { plugins },
    );
    const results = (await runScenario(s, plugins)).stacks.vm;
    expect(results.migrations).toEqual([]);
    expect(results.unmigrated).toBe(1);
    expect(results.services["t/web"].failed).toBe(0);
  });

  it("refuses an action on a host that does not exist, naming the field", () => {
    expect(() => scenario("actions: [{ at: 10s, migrate: { host: 0, to: 9 } }]")).toThrow(/actions\[0\]\.migrate\.to|host 9 does not exist/);
  });
});
