import { describe, expect, it } from "vitest";
import { Simulation } from "../kernel/simulation.js";
import { DiskSolver, type DiskSpec } from "./disk.js";

/** One disk (node 0) with 1,000 IOPS and 1 GB/s: a 4 KiB random read costs 1 ms of device time. */
function disk(spec: Partial<DiskSpec> = {}) {
  const sim = new Simulation();
  const d = new DiskSolver(sim);
  d.setDisk(0, { iops: 1000, bandwidth: 1e9, latency: 0.1e-3, queueDepth: 32, ...spec });
  const done: [number, number][] = [];
  const type = sim.on("done", (p) => done.push([p, sim.now]));
  const read = (payload: number, extra = 0) => d.submit(0, 4096, true, false, extra, type, payload);
  return { sim, d, done, type, read };
}

describe("disks: processor sharing up to the queue depth, then FIFO, plus a pure latency", () => {
  it("delivers one I/O after its cost and the latencies, in one kernel event, and counts it", () => {
    const w = disk();
    w.read(1, 0.05e-3);
    w.sim.run();
    expect(w.done).toEqual([[1, expect.closeTo(1e-3 + 0.1e-3 + 0.05e-3, 15)]]);
    expect(w.sim.eventsProcessed).toBe(1);
    expect(w.d.stats(0)).toEqual({ busyTime: expect.closeTo(1e-3, 15), completed: 1, bytesRead: 4096, bytesWritten: 0 });
  });

  it("shares the device between concurrent I/Os and delivers those done together in one event, in the order they were done", () => {
    const w = disk();
    w.read(1);
    w.read(2);
    w.sim.run();
    // both at half speed: done at 2 ms; the most recently started is found first
    expect(w.done.map(([p]) => p)).toEqual([2, 1]);
    expect(w.done.map(([, t]) => t)).toEqual([2.1e-3, 2.1e-3].map((t) => expect.closeTo(t, 15)));
    expect(w.sim.eventsProcessed).toBe(1);
  });

  it("frees the device at the end of an I/O's device time, not at its delivery", () => {
    const w = disk();
    w.read(1);
    // The second read starts during the first one's latency: it has the device to itself.
    w.sim.schedule(w.sim.on("second", () => w.read(2)), 1.05e-3);
    w.sim.run();
    expect(w.done).toEqual([
      [1, expect.closeTo(1.1e-3, 15)],
      [2, expect.closeTo(1.05e-3 + 1e-3 + 0.1e-3, 15)],
    ]);
    expect(w.d.stats(0).busyTime).toBeCloseTo(2e-3, 15);
  });

  it("serves I/Os beyond the queue depth in FIFO order", () => {
    const w = disk({ queueDepth: 1 });
    for (let i = 1; i <= 3; i++) w.read(i);
    w.sim.run();
    expect(w.done).toEqual([1, 2, 3].map((p) => [p, expect.closeTo(p * 1e-3 + 0.1e-3, 15)]));
  });

  it("delivers an I/O with a longer path latency later than one done with it", () => {
    const w = disk();
    w.read(1, 0.5e-3);
    w.read(2);
    w.sim.run();
    expect(w.done).toEqual([
      [2, expect.closeTo(2.1e-3, 15)],
      [1, expect.closeTo(2.6e-3, 15)],
    ]);
  });

  it("cancels an I/O: the part done counts, the rest is returned, and the device goes to the others", () => {
    // 1 MB sequential reads cost 1 ms alone at 1 GB/s; two share the device.
    const w = disk();
    const mb = (payload: number) => w.d.submit(0, 1e6, false, false, 0, w.type, payload);
    const a = mb(1);
    mb(2);
    let left = NaN;
    w.sim.scheduleAt(w.sim.on("cancel", () => (left = w.d.cancel(a, w.type, 1))), 0.5e-3, 0);
    w.sim.run();
    // Half speed for 0.5 ms: a quarter of each done; the second then has the device for its last 0.75 ms.
    expect(left).toBeCloseTo(750_000, 6);
    expect(w.done).toEqual([[2, expect.closeTo(0.5e-3 + 0.75e-3 + 0.1e-3, 15)]]);
    expect(w.d.stats(0).bytesRead).toBeCloseTo(250_000 + 1e6, 6);
  });

  it("cancels a waiting I/O whole, and leaves a finished one to be delivered or an id reused by another I/O alone", () => {
    const w = disk({ queueDepth: 1 });
    const a = w.read(1);
    const b = w.read(2);
    expect(w.d.cancel(b, w.type, 2)).toBe(4096);
    // Not the owner's (payload 9): nothing happens.
    expect(w.d.cancel(a, w.type, 9)).toBe(0);
    let late = NaN;
    // At 1.05 ms the device is done with the read and its latency runs: too late to cancel.
    w.sim.scheduleAt(w.sim.on("cancel", () => (late = w.d.cancel(a, w.type, 1))), 1.05e-3, 0);
    w.sim.run();
    expect(late).toBe(0);
    expect(w.done).toEqual([[1, expect.closeTo(1.1e-3, 15)]]);
  });
});
