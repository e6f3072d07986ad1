import { describe, expect, it } from "vitest";
import type { ProgressEntry } from "@turtles/engine/worker";
import { LiveSeries } from "./live.js";

const entry = (replication: number, simTime: number, completed: Record<string, number>, job?: number): ProgressEntry => ({
  replication,
  replications: 2,
  simTime,
  end: 10,
  events: 0,
  wallSeconds: 0,
  completed,
  ...(job === undefined ? {} : { job }),
});

describe("live throughput from progress packs", () => {
  it("is the completions of all services between entries over the simulated time between them, per replication", () => {
    const s = new LiveSeries();
    s.add([entry(0, 1, { a: 10, b: 5 }), entry(0, 3, { a: 50, b: 25 })]);
    s.add([entry(0, 3, { a: 50, b: 25 }), entry(1, 0.5, { a: 4, b: 0 }), entry(1, 1.5, { a: 24, b: 10 })]);
    const chart = s.chart();
    expect(chart.xs).toEqual([1.5, 3]);
    expect(chart.series).toEqual([
      { label: "replication 1", values: [null, 30] }, // (75 - 15) / 2
      { label: "replication 2", values: [30, null] }, // a new replication starts afresh
    ]);
  });

  it("keeps a line per job and replication, named by the job's label, when entries of jobs interleave", () => {
    const s = new LiveSeries(["baremetal", "vm"]);
    s.add([entry(0, 1, { a: 10 }, 0), entry(0, 1, { a: 8 }, 1), entry(0, 2, { a: 30 }, 0), entry(0, 3, { a: 48 }, 1)]);
    expect(s.chart().series).toEqual([
      { label: "baremetal replication 1", values: [20, null] },
      { label: "vm replication 1", values: [null, 20] },
    ]);
  });
});
