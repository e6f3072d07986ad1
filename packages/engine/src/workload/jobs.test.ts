import { describe, expect, it } from "vitest";
import { loadScenario } from "../scenario/load.js";
import { ScenarioError } from "../scenario/problems.js";
import { passLayer, testHost } from "../testing/index.js";
import { ReplicationRun, runScenario } from "./run.js";
import type { JobFigures } from "./jobs.js";

const plugins = [testHost];

/** A log of jobs [submit, run, procs] as SWF text. */
const swf = (jobs: number[][]): string => jobs.map(([submit, run, procs], i) => `${i + 1} ${submit} -1 ${run} ${procs} -1 -1 -1 -1 -1 -1 1 1 -1 -1 -1 -1 -1`).join("\n") + "\n";

/** Loads a scenario of `hosts` single-core hosts replaying `log` (a file of the fake file system below). */
function scenario(log: string, extra = "", hosts = 4, duration = "1000s"): ReturnType<typeof loadScenario> {
  return loadScenario(
    `duration: ${duration}
hostTypes: { h: { cores: 1, memory: 4GiB } }
hosts: [{ type: h, count: ${hosts} }]
tenants:
  - name: hpc
    trace: { format: swf, path: ${log}${extra} }
`,
    { plugins, file: "s.yaml" },
  );
}

const tmp = async (text: string): Promise<string> => {
  const { mkdtempSync, writeFileSync } = await import("node:fs");
  const { join } = await import("node:path");
  const { tmpdir } = await import("node:os");
  const file = join(mkdtempSync(join(tmpdir(), "swf-")), "log.swf");
  writeFileSync(file, text);
  return file;
};

const jobsOf = async (s: ReturnType<typeof loadScenario>): Promise<JobFigures> => {
  const r = await runScenario(s, plugins);
  return Object.values(r.stacks)[0].traces!.hpc as JobFigures;
};

describe("batch jobs from an SWF log", () => {
  it("runs jobs FIFO on free cores: a blocked head holds back later jobs that would fit, and the figures follow", async () => {
    // 4 cores: A (0 s, 100 s, 3 procs) runs; B (1 s, 10 s, 2 procs) waits for A; C (2 s, 10 s, 1 proc) waits behind B.
    const file = await tmp(swf([[0, 100, 3], [1, 10, 2], [2, 10, 1]]));
    const f = await jobsOf(scenario(file));
    expect(f.jobs).toBe(3);
    // A waits 0, B 99, C 98 (starts with B at 100, since B and C need 3 of the 4 cores).
    expect(f.wait.mean).toBeCloseTo((0 + 99 + 98) / 3, 9);
    // Bounded slowdown: A 1, B (99 + 10) / 10, C (98 + 10) / 10.
    expect(f.slowdown.mean).toBeCloseTo((1 + 10.9 + 10.8) / 3, 9);
    expect(f.utilisation).toBeCloseTo((3 * 100 + 2 * 10 + 1 * 10) / (4 * 1000), 12);
    expect([f.queued, f.running, f.tooLarge, f.skipped, f.cancelled]).toEqual([0, 0, 0, 0, 0]);
  });

  it("with EASY backfilling, starts a later job that ends before the head's reserved start, and no other", async () => {
    // 4 cores: A (3 procs, 100 s) runs; B needs 4 and waits for A (reserved at 100 s); C (1 proc, 50 s) ends by then
    // and backfills at 2 s; D (1 proc, 200 s) would delay B, so it waits for B.
    const log = swf([[0, 100, 3], [1, 10, 4], [2, 50, 1], [3, 200, 1]]);
    const file = await tmp(log);
    const fifo = await jobsOf(scenario(file));
    const easy = await jobsOf(scenario(file, ", backfill: easy"));
    // FIFO: B starts at 100, C and D at 110. EASY: C at 2 (waits 0), B at 100, D at 110.
    expect(fifo.wait.mean).toBeCloseTo((0 + 99 + 108 + 107) / 4, 9);
    expect(easy.wait.mean).toBeCloseTo((0 + 99 + 0 + 107) / 4, 9);
  });

  it("counts a job with more processors than the hosts have as too large, and does not let it block the queue", async () => {
    const f = await jobsOf(scenario(await tmp(swf([[0, 10, 8], [1, 10, 1]]))));
    expect(f.tooLarge).toBe(1);
    expect(f.jobs).toBe(1);
    expect(f.wait.mean).toBe(0);
  });

  it("maps time: start skips the log's beginning, speedup compresses submit and run times, speed scales work", async () => {
    const file = await tmp(swf([[0, 10, 1], [100, 40, 1], [120, 40, 1]]));
    const f = await jobsOf(scenario(file, ", start: 100, speedup: 2, speed: 0.5", 1));
    // Jobs 2 and 3 arrive at 0 and 10 s; each runs 40 x 0.5 / 2 = 10 s on the one core: job 3 waits 0.
    expect(f.jobs).toBe(2);
    expect(f.wait.mean).toBeCloseTo(0, 12);
    expect(f.utilisation).toBeCloseTo(20 / 1000, 12);
  });

  it("under onBadRow fail, refuses the scenario at load with the bad rows' file, line and field; skip counts them in the results", async () => {
    const file = await tmp(`${swf([[0, 10, 1]])}2 x -1 5 1 -1 -1 -1 -1 -1 -1 1 1 -1 -1 -1 -1 -1\n`);
    expect(() => scenario(file)).toThrow(ScenarioError);
    expect(() => scenario(file)).toThrow(new RegExp(`tenants.hpc.trace: 1 bad row in the trace: ${file}:2: submit: expected a number`));
    const f = await jobsOf(scenario(file, ", onBadRow: skip"));
    expect([f.jobs, f.skipped]).toEqual([1, 1]);
  });

  it("refuses a missing file, an unknown format and a tenant with both services and a trace, naming the field", () => {
    expect(() => scenario("nowhere.swf")).toThrow(/tenants.hpc.trace.path: nowhere.swf: no such file or folder/);
    const load = (tenant: string) => () =>
      loadScenario(`duration: 1s\nhostTypes: { h: { cores: 1, memory: 1GiB } }\nhosts: [{ type: h }]\ntenants:\n  - ${tenant}\n`, { plugins, file: "s.yaml" });
    expect(load("{ name: t, trace: { format: swff, path: x } }")).toThrow(/tenants.t.trace.format: expected a trace format: planetlab, bitbrains, swf, alibaba-pods; found "swff"; did you mean "swf"\?/);
    expect(load("{ name: t, trace: { format: swf, path: x, cores: 2 } }")).toThrow(/tenants.t.trace.cores: applies to planetlab and bitbrains traces, not swf/);
    expect(load("{ name: t, services: [{ name: a, request: [{ cpu: 1ms }] }], trace: { format: swf, path: x } }")).toThrow(/tenants.t: expected a tenant: only one of services, trace, found services and trace/);
    expect(load("{ name: t }")).toThrow(/tenants.t: expected a tenant: one of services, trace/);
    expect(load("{ name: t, trace: { format: swf, path: x } }\nfailures: { scripted: [{ at: 1s, host: 0 }] }")).toThrow(/tenants.t.trace.format: a swf trace cannot be replayed with failures yet/);
  });

  it("continues a saved run exactly: the reader's line position and the queue are in the snapshot", async () => {
    const jobs = Array.from({ length: 60 }, (_, i) => [i * 7, 20 + ((i * 13) % 50), 1 + (i % 3)]);
    const s = scenario(await tmp(swf(jobs)), ", backfill: easy", 4, "5000s");
    const straight = new ReplicationRun(s, plugins, 0);
    while (!straight.advance(1_000_000)) {
      /* runs to the end */
    }
    const first = new ReplicationRun(s, plugins, 0);
    first.advance(40);
    const resumed = ReplicationRun.resume(s, plugins, 0, first.snapshot());
    while (!resumed.advance(1_000_000)) {
      /* runs to the end */
    }
    expect(JSON.stringify(resumed.result().stack.traces)).toBe(JSON.stringify(straight.result().stack.traces));
    expect((straight.result().stack.traces!.hpc as JobFigures).jobs).toBe(60);
  });

  it("refuses a job log on a stack with layers, at the trace's stack, saying to give a bare-metal one", async () => {
    const log = await tmp(swf([[0, 10, 1]]));
    const vm = passLayer("vm", 0);
    const text = `duration: 100s
hostTypes: { h: { cores: 1, memory: 4GiB } }
hosts: [{ type: h, count: 1 }]
stacks: { vms: [{ layer: vm }] }
tenants:
  - name: hpc
    trace: { format: swf, path: ${JSON.stringify(log)}, stack: vms }
`;
    expect(() => loadScenario(text, { plugins: [testHost, vm], file: "s.yaml" })).toThrow(
      /s\.yaml:7:\d+: tenants\.hpc\.trace\.stack: swf jobs run their processors' threads on the hosts themselves: give a stack with no layers \(such as baremetal\), not "vms"/,
    );
  });
});
