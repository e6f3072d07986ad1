import { describe, expect, it } from "vitest";
import { Simulation } from "../kernel/simulation.js";
import { loadScenario } from "../scenario/load.js";
import { testHost } from "../testing/index.js";
import { runScenario } from "../workload/run.js";
import { EXTERNAL, Network } from "./network.js";

function net(hosts: number, bandwidth: number, latency: number, fabric = 0) {
  const sim = new Simulation();
  const n = new Network(sim, () => fabric);
  for (let h = 0; h < hosts; h++) n.setNic(h, { bandwidth, latency });
  const done: [number, number][] = [];
  const type = sim.on("done", (p) => done.push([p, sim.now]));
  return { sim, n, done, type };
}

describe("NICs shared fairly, computed locally per host", () => {
  it("sends one message alone in bytes/bandwidth plus both NIC latencies and the fabric's, exactly", () => {
    const w = net(2, 125e6, 10e-6, 5e-6);
    w.n.send(0, 1, 1e6, 1e-6, w.type, 7);
    w.sim.run();
    expect(w.done).toEqual([[7, expect.closeTo(0.008 + 10e-6 + 10e-6 + 5e-6 + 1e-6, 15)]]);
    expect(w.n.stats(0)).toMatchObject({ bytesSent: 1e6, txBusy: expect.closeTo(0.008, 15) });
    expect(w.n.stats(1)).toMatchObject({ bytesReceived: 1e6 });
  });

  it("gives n concurrent flows from one NIC to n distinct hosts 1/n of it each", () => {
    const w = net(5, 1e9, 0);
    for (let h = 1; h <= 4; h++) w.n.send(0, h, 1e9, 0, w.type, h);
    w.sim.run();
    expect(w.done.map(([, t]) => t)).toEqual([4, 4, 4, 4].map((t) => expect.closeTo(t, 12)));
  });

  it("limits a flow by the receiver's share when the receiver is the busier NIC", () => {
    const w = net(4, 1e9, 0);
    w.n.send(0, 3, 1e9, 0, w.type, 0); // host 3 receives from 0, 1 and 2: each gets a third of its receive side
    w.n.send(1, 3, 1e9, 0, w.type, 1);
    w.n.send(2, 3, 1e9, 0, w.type, 2);
    w.sim.run();
    expect(w.done.map(([, t]) => t)).toEqual([3, 3, 3].map((t) => expect.closeTo(t, 12)));
  });

  it("speeds a flow up when another one on its NIC finishes", () => {
    const w = net(3, 1e9, 0);
    w.n.send(0, 1, 0.5e9, 0, w.type, 1);
    w.n.send(0, 2, 1.5e9, 0, w.type, 2);
    w.sim.run();
    // both at 0.5 GB/s until 1 s; then the second alone: 1 GB left at 1 GB/s
    expect(w.done).toEqual([
      [1, expect.closeTo(1, 12)],
      [2, expect.closeTo(2, 12)],
    ]);
  });

  it("delivers a message alone on its NICs in one kernel event, and accounts its NICs at the end of its transfer", () => {
    const w = net(2, 1e9, 1e-3);
    w.n.send(0, 1, 1e9, 0, w.type, 1);
    w.sim.run({ until: 1.5 }); // transfer done at 1 s, delivery at 1.002 s
    expect(w.done).toEqual([[1, expect.closeTo(1.002, 12)]]);
    expect(w.sim.eventsProcessed).toBe(1);
    expect(w.n.stats(0)).toEqual({ txBusy: expect.closeTo(1, 12), rxBusy: 0, bytesSent: 1e9, bytesReceived: 0 });
    expect(w.n.stats(1)).toEqual({ txBusy: 0, rxBusy: expect.closeTo(1, 12), bytesSent: 0, bytesReceived: 1e9 });
  });

  it("slows a flow that was alone when another joins its NIC, and leaves a finished one's NIC free for the next", () => {
    const w = net(3, 1e9, 0);
    w.n.send(0, 1, 1e9, 0, w.type, 1);
    w.sim.schedule(w.sim.on("second", () => w.n.send(0, 2, 1e9, 0, w.type, 2)), 0.5);
    w.sim.schedule(w.sim.on("third", () => w.n.send(0, 1, 1e9, 0, w.type, 3)), 2.5);
    w.sim.run();
    // 0.5 GB alone, then both at 0.5 GB/s: the first ends at 1.5 s, the second has 0.5 GB left at full rate: 2 s;
    // the third starts after both have ended and has the NIC to itself
    expect(w.done).toEqual([
      [1, expect.closeTo(1.5, 12)],
      [2, expect.closeTo(2, 12)],
      [3, expect.closeTo(3.5, 12)],
    ]);
    expect(w.n.stats(0)).toMatchObject({ txBusy: expect.closeTo(3, 12), bytesSent: 3e9 });
  });

  it("cancels a flow in transfer: its NICs count what it moved, the rest is returned, the other flow speeds up", () => {
    // Two 1 MB flows into host 1 at 1 MB/s share its receive side: 0.5 MB/s each.
    const w = net(2, 1e6, 0);
    const a = w.n.send(EXTERNAL, 1, 1e6, 0, w.type, 1);
    w.n.send(EXTERNAL, 1, 1e6, 0, w.type, 2);
    let left = NaN;
    w.sim.scheduleAt(w.sim.on("cancel", () => (left = w.n.cancel(a, w.type, 1))), 1, 0);
    w.sim.run();
    expect(left).toBeCloseTo(500_000, 6);
    // The other has 0.5 MB left, now at the full 1 MB/s.
    expect(w.done).toEqual([[2, expect.closeTo(1.5, 12)]]);
    expect(w.n.stats(1).bytesReceived).toBeCloseTo(1.5e6, 6);
    // Once delivered, its id is nobody's to cancel.
    expect(w.n.cancel(a, w.type, 1)).toBe(0);
  });

  it("cancels a capped flow alone before its end, and not after (its delivery comes)", () => {
    const w = net(2, 1e9, 1e-3);
    const a = w.n.send(0, EXTERNAL, 3e6, 0, w.type, 1, 1e6);
    const results: number[] = [];
    const cancel = w.sim.on("cancel", () => results.push(w.n.cancel(a, w.type, 1)));
    w.sim.scheduleAt(cancel, 2, 0);
    w.sim.run();
    expect(results).toEqual([expect.closeTo(1e6, 6)]);
    expect(w.done).toEqual([]);
    const b = w.n.send(0, EXTERNAL, 1e6, 0, w.type, 2, 1e6);
    // Transfer ends at 3 s, delivery at 3.001 s: cancelling in between is too late.
    w.sim.scheduleAt(w.sim.on("late", () => results.push(w.n.cancel(b, w.type, 2))), 3.0005, 0);
    w.sim.run();
    expect(results[1]).toBe(0);
    expect(w.done).toEqual([[2, expect.closeTo(3.001, 12)]]);
  });

  it("uses loopback on one host, and no NIC for an external endpoint", () => {
    const w = net(1, 1e9, 1e-3);
    w.n.send(0, 0, 1e9, 2e-6, w.type, 1); // loopback: only the adders
    w.n.send(EXTERNAL, 0, 1e9, 0, w.type, 2); // ingress: host 0's receive side and latency only
    w.sim.run();
    expect(w.done).toEqual([
      [1, expect.closeTo(2e-6, 15)],
      [2, expect.closeTo(1 + 1e-3, 12)],
    ]);
  });
});

describe("calls between services (validation)", () => {
  const hosts = (nic: string) => `hostTypes: { h: { cores: 4, memory: 8GiB, nic: ${nic} } }
hosts: [{ type: h, count: 2 }]
network: { latency: 5us }
placement: { policy: spread }
`;

  it("one call alone: the caller's latency is its ingress, the request and response messages and the callee's work", async () => {
    const s = loadScenario(
      `duration: 100s
warmup: 0s
${hosts("{ bandwidth: 1Gb/s, latency: 10us }")}
tenants:
  - name: t
    services:
      - { name: a, load: { closed: { clients: 1, think: 10s } }, request: [{ call: { service: b, request: 1MB, response: 1kB } }] }
      - { name: b, request: [{ cpu: 3ms }] }
`,
      { plugins: [testHost] },
    );
    const r = await runScenario(s, [testHost], { seed: 1 });
    const a = r.stacks.baremetal.services["t/a"];
    const hop = 10e-6 + 5e-6 + 10e-6; // two NICs and the fabric
    const expected = 2 * 10e-6 + (1e6 / 125e6 + hop) + 0.003 + (1e3 / 125e6 + hop);
    expect(a.latency.mean).toBeCloseTo(expected, 12);
    expect(a.callTime).toBeCloseTo(expected - 2 * 10e-6, 12);
    expect(r.stacks.baremetal.calls).toEqual([{ from: "t/a", to: "t/b", rate: a.throughput, latencyMean: expect.closeTo(expected - 2 * 10e-6, 12) }]);
    expect(r.stacks.baremetal.hosts.nicBytesSent).toBe(a.completed! * (1e6 + 1e3));
  });

  it("two tiers: at low load the latency is the sum of its parts; at high load the callee's queue shows in the caller", async () => {
    const text = (rate: number, work: string) => `duration: 400s
warmup: 20s
${hosts("{ bandwidth: 10Gb/s, latency: 10us }")}
tenants:
  - name: t
    services:
      - { name: front, cores: 0, load: { open: { rate: ${rate}/s } }, request: [{ cpu: 1ms }, { call: db }] }
      - { name: db, cores: 0, threads: 1, request: [{ cpu: ${work} }] }
`;
    const low = await runScenario(loadScenario(text(2, "4ms"), { plugins: [testHost] }), [testHost], { seed: 3 });
    const parts = 2 * 10e-6 + 0.001 + 2 * (10e-6 + 5e-6 + 10e-6) + 0.004;
    const front = low.stacks.baremetal.services["t/front"];
    expect(Math.abs((front.latency.mean as number) / parts - 1)).toBeLessThan(0.01);
    const high = await runScenario(loadScenario(text(200, "{ exp: 4ms }"), { plugins: [testHost] }), [testHost], { seed: 3 });
    const db = high.stacks.baremetal.services["t/db"];
    const f = high.stacks.baremetal.services["t/front"];
    // db is an M/M/1 at load 0.8: 4 ms / (1 - 0.8) = 20 ms in all; the caller waits for it
    expect(db.latency.mean as number).toBeGreaterThan(0.016);
    expect(f.latency.mean as number).toBeGreaterThan((db.latency.mean as number) + 0.001);
    expect(Math.abs((f.latency.mean as number) - (db.latency.mean as number) - (parts - 0.004))).toBeLessThan(0.001);
  });

  it("fails the caller when its callee drops the call, and counts both", async () => {
    const s = loadScenario(
      `duration: 20s
warmup: 0s
${hosts("{ bandwidth: 10Gb/s, latency: 10us }")}
tenants:
  - name: t
    services:
      - { name: front, cores: 0, load: { open: { rate: 500/s } }, request: [{ call: db }] }
      - { name: db, cores: 0, threads: 1, queue: 2, request: [{ cpu: 10ms }] }
`,
      { plugins: [testHost] },
    );
    const r = await runScenario(s, [testHost], { seed: 1 });
    const front = r.stacks.baremetal.services["t/front"];
    const db = r.stacks.baremetal.services["t/db"];
    expect(db.dropped as number).toBeGreaterThan(0);
    expect(front.failed).toBe(db.dropped);
    expect(front.completed).toBe(db.completed);
    expect((front.completed as number) + (front.failed as number)).toBeLessThanOrEqual(front.completed! + front.failed! + 5);
  });
});
