import { describe, expect, it } from "vitest";
import { captureState, restoreState, StateError } from "./state.js";

class Counter {
  count = 0;
  constructor(readonly label: string) {}
  bump(): number {
    return ++this.count;
  }
}

class Store {
  column = new Float64Array(2);
  shared: Float64Array;
  counters: Counter[] = [new Counter("a")];
  byId = new Map<number, { n: number }>();
  seen = new Set<number>();
  sparse: (number[] | undefined)[] = [];
  self: Store;
  onEvent = (): number => this.counters[0].bump();
  constructor(readonly config: { size: number }) {
    this.shared = this.column;
    this.self = this;
  }
}

describe("model state snapshots", () => {
  it("restores fields, grown arrays, shared references, cycles, Maps, Sets, holes and new instances; keeps functions and kept objects", () => {
    const config = { size: 2 };
    const a = new Store(config);
    a.column = new Float64Array([1, 2, 3, 4]); // grown during the run: `shared` still holds the old one
    a.shared[0] = 9;
    a.counters.push(new Counter("b"));
    a.counters[1].count = 5;
    a.byId.set(3, { n: 4 });
    a.seen.add(7);
    a.sparse[2] = [1];
    const bytes = captureState(a, [config]);

    const b = new Store(config);
    const handler = b.onEvent;
    const oldShared = b.shared;
    restoreState(b, bytes, [config]);
    expect([...b.column]).toEqual([1, 2, 3, 4]);
    expect(b.shared).toBe(oldShared); // same length as the saved one: restored in place
    expect([...b.shared]).toEqual([9, 0]);
    expect(b.counters[1]).toBeInstanceOf(Counter);
    expect(b.counters[1].count).toBe(5);
    expect(b.counters[1].bump()).toBe(6);
    expect(b.byId.get(3)).toEqual({ n: 4 });
    expect([...b.seen]).toEqual([7]);
    expect(b.sparse).toEqual([undefined, undefined, [1]]);
    expect(b.self).toBe(b);
    expect(b.config).toBe(config);
    expect(b.onEvent).toBe(handler); // the fresh closure, which acts on the restored state
    expect(b.onEvent()).toBe(1);
  });

  it("keeps views of one buffer on one buffer, also when the buffer grew during the run", () => {
    const make = (n: number) => {
      const buffer = new ArrayBuffer(n * 16);
      return { f: new Float64Array(buffer), i: new Int32Array(buffer) };
    };
    const a = make(8); // grown from the fresh build's 2
    a.i[3] = 42;
    a.f[5] = 2.5;
    for (const b of [make(2), make(8)]) {
      restoreState(b, captureState(a));
      expect(b.f.buffer).toBe(b.i.buffer);
      expect(b.i[3]).toBe(42);
      expect(b.f[5]).toBe(2.5);
      b.i[0] = 7; // still one memory
      expect(new Int32Array(b.f.buffer)[0]).toBe(7);
    }
  });

  it("refuses values that are not state, and states of another shape", () => {
    expect(() => captureState({ when: new Date(0) })).toThrow(/cannot save the Date at root.when/);
    expect(() => restoreState({}, new Uint8Array([0xc0]))).toThrow(StateError);
    const withFn = { items: [] as unknown[] };
    withFn.items.push(() => 1);
    expect(() => restoreState({ items: [] }, captureState(withFn))).toThrow(/root.items\[0\]: it held a function/);
  });
});
