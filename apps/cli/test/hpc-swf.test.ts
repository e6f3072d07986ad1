import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { runScenario, type JobFigures } from "@turtles/engine";
import { describe, expect, it } from "vitest";
import { builtinPlugins, readScenario } from "../src/lib/scenario-file.js";

const example = join(import.meta.dirname, "..", "..", "..", "examples", "hpc-swf.yaml");

/**
 * Plain FIFO over the log's jobs on `cores` cores: each job starts when it is first in line and enough cores are
 * free, and holds its processors for its run time. Mean wait of the jobs that end by `end`, and core-seconds held
 * in [0, end] over cores x end.
 */
function plainFifo(file: string, cores: number, end: number): { jobs: number; meanWait: number; utilisation: number } {
  const jobs = readFileSync(file, "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith(";"))
    .map((l) => l.split(/\s+/).map(Number));
  const running: { end: number; procs: number }[] = [];
  let free = cores;
  let clock = 0;
  let waits = 0;
  let n = 0;
  let held = 0;
  for (const f of jobs) {
    const [submit, run, procs] = [f[1], f[3], f[4]];
    clock = Math.max(clock, submit);
    for (;;) {
      running.sort((a, b) => a.end - b.end);
      while (running.length > 0 && running[0].end <= clock) free += running.shift()!.procs;
      if (free >= procs) break;
      clock = running[0].end;
    }
    free -= procs;
    running.push({ end: clock + run, procs });
    held += procs * (Math.min(clock + run, end) - Math.min(clock, end));
    if (clock + run <= end) {
      waits += clock - submit;
      n++;
    }
  }
  return { jobs: n, meanWait: waits / n, utilisation: held / (cores * end) };
}

describe("examples/hpc-swf.yaml", () => {
  it("gives the mean wait and utilisation of a plain FIFO computation over the same log (exact without backfilling)", { timeout: 120_000 }, async () => {
    const s = readScenario(example);
    const trace = s.tenants[0].trace!;
    // The path resolves against the scenario's folder.
    expect(trace.path).toBe(resolve(dirname(example), "../data/traces/pwa-swf-nasa-ipsc/NASA-iPSC-1993-3.1-cln.swf"));
    const results = await runScenario(s, builtinPlugins);
    const f = results.stacks.baremetal.traces!.nasa as JobFigures;
    const fifo = plainFifo(trace.path, 128, s.duration);
    expect(f.jobs).toBe(fifo.jobs);
    expect(f.wait.mean! / fifo.meanWait).toBeCloseTo(1, 9);
    expect(f.utilisation / fifo.utilisation).toBeCloseTo(1, 9);
  });

  it("starts jobs sooner with EASY backfilling: a lower mean wait, the same work done", { timeout: 120_000 }, async () => {
    const s = readScenario(example);
    const easy = { ...s, tenants: [{ ...s.tenants[0], trace: { ...s.tenants[0].trace!, backfill: "easy" as const } }] };
    const [fifo, backfilled] = await Promise.all([runScenario(s, builtinPlugins), runScenario(easy, builtinPlugins)]);
    const a = fifo.stacks.baremetal.traces!.nasa as JobFigures;
    const b = backfilled.stacks.baremetal.traces!.nasa as JobFigures;
    expect(b.wait.mean!).toBeLessThan(a.wait.mean!);
    expect(b.jobs).toBe(a.jobs);
    expect(b.utilisation).toBeCloseTo(a.utilisation, 9);
  });
});
