import { describe, expect, it } from "vitest";
import { HandlerError, Simulation } from "./simulation.js";

describe("Simulation scheduling and run", () => {
  it("advances the clock to each event and dispatches by type", () => {
    const sim = new Simulation();
    const log: string[] = [];
    const a = sim.on("a", (p) => log.push(`a${p}@${sim.now}`));
    const b = sim.on("b", (p) => log.push(`b${p}@${sim.now}`));
    sim.schedule(b, 2, 7);
    sim.schedule(a, 1, 3);
    sim.scheduleAt(a, 1.5, 4);
    expect(sim.run()).toEqual({ reason: "empty", events: 3 });
    expect(log).toEqual(["a3@1", "a4@1.5", "b7@2"]);
    expect(sim.eventsProcessed).toBe(3);
  });

  it("runs events strictly before `until`, then sets the clock to `until`", () => {
    const sim = new Simulation();
    const seen: number[] = [];
    const t = sim.on("t", () => seen.push(sim.now));
    for (const at of [1, 2, 3, 4]) sim.scheduleAt(t, at);
    expect(sim.run({ until: 3 })).toEqual({ reason: "until", events: 2 });
    expect(sim.now).toBe(3);
    expect(seen).toEqual([1, 2]);
    expect(sim.run({ until: 10 })).toEqual({ reason: "until", events: 2 });
    expect(sim.now).toBe(10);
    expect(seen).toEqual([1, 2, 3, 4]);
    expect(() => sim.run({ until: 5 })).toThrow(/before now/);
  });

  it("stops after maxEvents, on stop(), and steps one event at a time", () => {
    const sim = new Simulation();
    let n = 0;
    const t = sim.on("t", () => {
      n++;
      if (n === 5) sim.stop();
      sim.schedule(t, 1);
    });
    sim.schedule(t, 0);
    expect(sim.run({ maxEvents: 3 })).toEqual({ reason: "maxEvents", events: 3 });
    expect(sim.run()).toEqual({ reason: "stopped", events: 2 });
    expect(sim.now).toBe(4);
    expect(sim.step()).toBe(true);
    expect(sim.now).toBe(5);
    expect(sim.pending).toBe(1);
  });

  it("cancels and reschedules through handles", () => {
    const sim = new Simulation();
    const seen: number[] = [];
    const t = sim.on("t", (p) => seen.push(p));
    const h1 = sim.schedule(t, 1, 1);
    const h2 = sim.schedule(t, 2, 2);
    sim.schedule(t, 3, 3);
    expect(sim.cancel(h1)).toBe(true);
    sim.reschedule(h2, 5);
    expect(sim.timeOf(h2)).toBe(5);
    sim.run();
    expect(seen).toEqual([3, 2]);
    expect(sim.isPending(h2)).toBe(false);
    expect(() => sim.reschedule(h2, 1)).toThrow(/stale/);
  });

  it("refuses times in the past, infinite times, unknown types and non-integer payloads", () => {
    const sim = new Simulation();
    const t = sim.on("t", () => {});
    sim.schedule(t, 1);
    sim.run();
    expect(() => sim.scheduleAt(t, 0.5)).toThrow(/at or after now/);
    expect(() => sim.schedule(t, -1)).toThrow(/>= 0/);
    expect(() => sim.schedule(t, NaN)).toThrow(/>= 0/);
    expect(() => sim.schedule(t, Infinity)).toThrow(/finite/);
    expect(() => sim.schedule(99, 1)).toThrow(/unknown event type/);
    expect(() => sim.schedule(t, 1, 1.5)).toThrow(/int32/);
    expect(() => sim.on("t", () => {})).toThrow(/already registered/);
  });

  it("stops the run when a handler throws, naming the handler, the event type and the time", () => {
    const sim = new Simulation();
    const fine = sim.on("fine", () => {});
    const bad = sim.on("disk.complete", function onDiskComplete() {
      throw new Error("queue underflow");
    });
    sim.schedule(fine, 1);
    sim.schedule(bad, 2.5);
    sim.schedule(fine, 3);
    let err: unknown;
    try {
      sim.run();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HandlerError);
    const h = err as HandlerError;
    expect(h.message).toBe('handler onDiskComplete for event type "disk.complete" failed at simulated time 2.5s: queue underflow');
    expect([h.handlerName, h.eventType, h.time]).toEqual(["onDiskComplete", "disk.complete", 2.5]);
    expect((h.cause as Error).message).toBe("queue underflow");
    expect(sim.pending).toBe(1);
    expect(sim.eventsProcessed).toBe(2);
  });
});

/**
 * A small stochastic model whose trace depends on every random number and on
 * event order. Its own state (the handles it keeps) is saved beside the kernel's.
 */
function model(seed: number): { sim: Simulation; trace: string[]; handles: number[] } {
  const sim = new Simulation({ seed });
  const trace: string[] = [];
  const rng = sim.random("jobs");
  const handles: number[] = [];
  const job = sim.on("job", (k) => {
    trace.push(`${k}:${sim.now.toFixed(12)}`);
    handles[k] = sim.schedule(job, rng.exp(1), k, k % 3);
    const other = rng.below(handles.length);
    if (other !== k && sim.isPending(handles[other])) {
      if (rng.float() < 0.5) sim.reschedule(handles[other], rng.exp(2));
      else {
        sim.cancel(handles[other]);
        handles[other] = sim.schedule(job, rng.exp(3), other);
      }
    }
  });
  for (let k = 0; k < 50; k++) handles.push(sim.schedule(job, rng.exp(1), k));
  return { sim, trace, handles };
}

describe("Simulation determinism and snapshots", () => {
  it("gives the identical event trace for the same seed and a different one for another seed", () => {
    const a = model(42);
    a.sim.run({ maxEvents: 5000 });
    const b = model(42);
    b.sim.run({ maxEvents: 5000 });
    const c = model(43);
    c.sim.run({ maxEvents: 5000 });
    expect(b.trace).toEqual(a.trace);
    expect(c.trace).not.toEqual(a.trace);
  });

  it("continues identically after snapshot and restore into a fresh kernel", () => {
    const original = model(7);
    original.sim.run({ maxEvents: 3000 });
    const bytes = original.sim.snapshot();
    const savedHandles = original.handles.slice();
    original.trace.length = 0;
    original.sim.run({ maxEvents: 3000 });

    const restored = model(7);
    restored.sim.restore(bytes);
    restored.handles.splice(0, Infinity, ...savedHandles);
    restored.trace.length = 0;
    restored.sim.run({ maxEvents: 3000 });
    expect(restored.trace).toEqual(original.trace);
    expect(restored.sim.now).toBe(original.sim.now);
    expect(restored.sim.eventsProcessed).toBe(6000);
  });

  it("refuses a snapshot from another seed, other event types or other bytes", () => {
    const bytes = model(7).sim.snapshot();
    expect(() => model(8).sim.restore(bytes)).toThrow(/seed/);
    const other = new Simulation({ seed: 7 });
    other.on("something-else", () => {});
    expect(() => other.restore(bytes)).toThrow(/event types/);
    expect(() => other.restore(new Uint8Array([0x93, 1, 2, 3]))).toThrow(/not a kernel snapshot/);
  });
});
