import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EventQueue } from "./queue.js";

/** Drains the queue, returning [time, type, payload] triples in pop order. */
function drain(q: EventQueue): [number, number, number][] {
  const out: [number, number, number][] = [];
  while (q.pop()) out.push([q.poppedTime, q.poppedType, q.poppedPayload]);
  return out;
}

describe("EventQueue ordering", () => {
  it("pops in time order", () => {
    const q = new EventQueue();
    for (const [i, t] of [5, 1, 4, 2, 3].entries()) q.push(t, 0, i, 0);
    expect(drain(q).map((e) => e[0])).toEqual([1, 2, 3, 4, 5]);
  });

  it("runs events with equal time and priority first-in first-out", () => {
    const q = new EventQueue();
    for (let i = 0; i < 100; i++) q.push(7, 0, i, 0);
    expect(drain(q).map((e) => e[2])).toEqual([...Array(100).keys()]);
  });

  it("orders equal times by priority, lower first, then FIFO", () => {
    const q = new EventQueue();
    q.push(1, 0, 0, 1);
    q.push(1, 0, 1, -1);
    q.push(1, 0, 2, 0);
    q.push(1, 0, 3, -1);
    q.push(0.5, 0, 4, 5);
    expect(drain(q).map((e) => e[2])).toEqual([4, 1, 3, 2, 0]);
  });

  it("keeps type and payload with their event across growth", () => {
    const q = new EventQueue(4);
    for (let i = 0; i < 1000; i++) q.push(1000 - i, i % 7, -i, 0);
    const out = drain(q);
    expect(out).toHaveLength(1000);
    expect(out[0]).toEqual([1, 999 % 7, -999]);
    expect(out[999]).toEqual([1000, 0, 0]);
  });

  it("refuses a priority outside [-1023, 1023] or not an integer", () => {
    const q = new EventQueue();
    expect(() => q.push(0, 0, 0, 1024)).toThrow(/priority/);
    expect(() => q.push(0, 0, 0, 0.5)).toThrow(/priority/);
  });
});

describe("EventQueue handles", () => {
  it("cancels a pending event and reports a stale handle as not cancelled", () => {
    const q = new EventQueue();
    const a = q.push(1, 0, 1, 0);
    const b = q.push(2, 0, 2, 0);
    expect(q.cancel(a)).toBe(true);
    expect(q.cancel(a)).toBe(false);
    expect(q.size).toBe(1);
    expect(drain(q).map((e) => e[2])).toEqual([2]);
    expect(q.isPending(b)).toBe(false);
    expect(q.cancel(b)).toBe(false);
  });

  it("detects a stale handle even after its slot is reused", () => {
    const q = new EventQueue();
    const a = q.push(1, 0, 1, 0);
    q.pop();
    const b = q.push(2, 0, 2, 0);
    expect(b).not.toBe(a);
    expect(q.isPending(a)).toBe(false);
    expect(q.cancel(a)).toBe(false);
    expect(() => q.reschedule(a, 3, 0)).toThrow(/stale/);
    expect(q.isPending(b)).toBe(true);
    expect(q.timeOf(b)).toBe(2);
  });

  it("rejects malformed handles", () => {
    const q = new EventQueue();
    q.push(1, 0, 0, 0);
    for (const h of [-1, 0.5, 2 ** 26 - 1, NaN, 2 ** 60]) expect(q.isPending(h)).toBe(false);
  });

  it("reschedules with a new sequence number: it runs after events already at that time", () => {
    const q = new EventQueue();
    const a = q.push(1, 0, 0, 0);
    q.push(5, 0, 1, 0);
    q.reschedule(a, 5, 0);
    q.push(5, 0, 2, 0);
    expect(q.timeOf(a)).toBe(5);
    expect(drain(q).map((e) => e[2])).toEqual([1, 0, 2]);
  });

  it("reschedules earlier and later, keeping the handle valid", () => {
    const q = new EventQueue();
    const hs = [10, 20, 30].map((t, i) => q.push(t, 0, i, 0));
    q.reschedule(hs[2], 5, 0);
    q.reschedule(hs[0], 40, 0);
    expect(q.isPending(hs[0])).toBe(true);
    expect(drain(q).map((e) => [e[0], e[2]])).toEqual([
      [5, 2],
      [20, 1],
      [40, 0],
    ]);
  });

  it("rebuilds the heap when cancellations leave much garbage, without changing the order", () => {
    const q = new EventQueue();
    const handles: number[] = [];
    for (let i = 0; i < 5000; i++) handles.push(q.push((i * 7919) % 5000, 0, i, 0));
    for (let i = 0; i < 5000; i += 3) if (i % 2 === 0) q.cancel(handles[i]);
    for (let i = 1; i < 5000; i += 3) q.reschedule(handles[i], 10000 - i, 0);
    const expected: number[] = [];
    for (let i = 0; i < 5000; i++) if (!(i % 3 === 0 && i % 2 === 0)) expected.push(i);
    const out = drain(q);
    expect(out).toHaveLength(expected.length);
    for (let k = 1; k < out.length; k++) expect(out[k][0]).toBeGreaterThanOrEqual(out[k - 1][0]);
    expect(new Set(out.map((e) => e[2]))).toEqual(new Set(expected));
    expect(q.byteLength / 5000).toBeLessThan(100);
  });

  it("exports and imports its state so pops continue identically", () => {
    const q = new EventQueue();
    const hs: number[] = [];
    for (let i = 0; i < 300; i++) hs.push(q.push((i * 37) % 101, i % 3, i, (i % 5) - 2));
    for (let i = 0; i < 300; i += 4) q.cancel(hs[i]);
    for (let i = 0; i < 50; i++) q.pop();
    const copy = new EventQueue();
    copy.importState(q.exportState());
    expect(copy.size).toBe(q.size);
    expect(copy.isPending(hs[299])).toBe(q.isPending(hs[299]));
    expect(drain(copy)).toEqual(drain(q));
  });

  it("refuses an inconsistent state", () => {
    const state = new EventQueue().exportState();
    expect(() => new EventQueue().importState({ ...state, heapLength: 3 })).toThrow(/inconsistent/);
  });
});

/** A deliberately naive reference: a sorted list searched linearly. */
class ReferenceQueue {
  private items: { time: number; prio: number; seq: number; id: number; payload: number }[] = [];
  private seq = 0;
  private nextId = 0;

  push(time: number, payload: number, prio: number): number {
    const id = this.nextId++;
    this.items.push({ time, prio, seq: this.seq++, id, payload });
    return id;
  }
  pop(): { time: number; payload: number } | undefined {
    if (this.items.length === 0) return undefined;
    let best = 0;
    for (let i = 1; i < this.items.length; i++) {
      const a = this.items[i];
      const b = this.items[best];
      if (a.time < b.time || (a.time === b.time && (a.prio < b.prio || (a.prio === b.prio && a.seq < b.seq)))) best = i;
    }
    return this.items.splice(best, 1)[0];
  }
  cancel(id: number): boolean {
    const i = this.items.findIndex((x) => x.id === id);
    if (i < 0) return false;
    this.items.splice(i, 1);
    return true;
  }
  reschedule(id: number, time: number, prio: number): boolean {
    const x = this.items.find((e) => e.id === id);
    if (!x) return false;
    x.time = time;
    x.prio = prio;
    x.seq = this.seq++;
    return true;
  }
  get size(): number {
    return this.items.length;
  }
}

type Op =
  | { kind: "push"; time: number; prio: number }
  | { kind: "pop" }
  | { kind: "cancel"; which: number }
  | { kind: "reschedule"; which: number; time: number; prio: number };

const time = fc.integer({ min: 0, max: 20 }).map((t) => t / 4); // few distinct times: many ties
const prio = fc.integer({ min: -2, max: 2 });
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("push" as const), time, prio }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("pop" as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("cancel" as const), which: fc.nat(200) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("reschedule" as const), which: fc.nat(200), time, prio }) },
);

describe("EventQueue against a naive reference", () => {
  it("agrees on every pop, cancel and reschedule of random operation sequences", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
        const q = new EventQueue(4);
        const ref = new ReferenceQueue();
        const handles: number[] = []; // reference id i -> queue handle
        let payload = 0;
        for (const o of ops) {
          if (o.kind === "push") {
            handles.push(q.push(o.time, 0, payload, o.prio));
            ref.push(o.time, payload++, o.prio);
          } else if (o.kind === "pop") {
            const expected = ref.pop();
            expect(q.pop()).toBe(expected !== undefined);
            if (expected) expect([q.poppedTime, q.poppedPayload]).toEqual([expected.time, expected.payload]);
          } else if (handles.length > 0) {
            const id = o.which % handles.length;
            if (o.kind === "cancel") {
              expect(q.cancel(handles[id])).toBe(ref.cancel(id));
            } else {
              const ok = ref.reschedule(id, o.time, o.prio);
              if (ok) q.reschedule(handles[id], o.time, o.prio);
              else expect(() => q.reschedule(handles[id], o.time, o.prio)).toThrow(/stale/);
            }
          }
          expect(q.size).toBe(ref.size);
        }
        for (let e = ref.pop(); e; e = ref.pop()) {
          expect(q.pop()).toBe(true);
          expect([q.poppedTime, q.poppedPayload]).toEqual([e.time, e.payload]);
        }
        expect(q.pop()).toBe(false);
      }),
      { numRuns: 300, seed: 20261130 },
    );
  });
});
