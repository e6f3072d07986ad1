import { describe, expect, it } from "vitest";
import type { ProgressEntry } from "@turtles/engine/worker";
import { LiveSeries } from "./live.js";

const entry = (replication: number, simTime: number, completed: Record<string, number>): ProgressEntry => ({
  replication,
  replications: 2,
  simTime,
  end: 10,
  events: 0,
  wallSeconds: 0,
  completed,
});

describe("live throughput from progress packs", () => {
  it("is the completions of all services between entries over the simulated time between them, per replication", () => {
    const s = new LiveSeries();
    s.add([entry(0, 1, { a: 10, b: 5 }), entry(0, 3, { a: 50, b: 25 })]);
    s.add([entry(0, 3, { a: 50, b: 25 }), entry(1, 0.5, { a: 4, b: 0 }), entry(1, 1.5, { a: 24, b: 10 })]);
    expect(s.replications[0]).toEqual([{ t: 3, rate: 30 }]); // (75 - 15) / 2
    expect(s.replications[1]).toEqual([{ t: 1.5, rate: 30 }]); // a new replication starts afresh
    expect(s.extent()).toEqual({ t: 3, rate: 30 });
  });
});
