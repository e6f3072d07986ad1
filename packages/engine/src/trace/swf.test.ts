import { describe, expect, it } from "vitest";
import { detectFormat, inspectTrace } from "./index.js";
import { memoryTraceSource } from "./lines.js";
import { BadRows, TraceError } from "./problems.js";
import { checkSwf, openSwf } from "./swf.js";

const NASA = new URL("../../../../data/traces/pwa-swf-nasa-ipsc/NASA-iPSC-1993-3.1-cln.swf", import.meta.url).pathname;

/** An SWF line from its first fields; the rest -1. */
const row = (...fields: number[]): string => [...fields, ...Array(18 - fields.length).fill(-1)].join("   ");

const jobsOf = (text: string, options: Parameters<typeof openSwf>[1] = {}, bad = new BadRows("skip")) => {
  const r = openSwf("log.swf", { source: memoryTraceSource({ "log.swf": text }), ...options }, bad);
  const jobs: number[][] = [];
  while (r.next()) jobs.push([r.job.id, r.job.submit, r.job.run, r.job.procs, r.job.estimate]);
  return { jobs, cancelled: r.cancelled, bad };
};

describe("swf", () => {
  it("inspects the NASA iPSC log as its README counts it: 18,239 jobs after a 32-line header, 1 to 128 processors", () => {
    expect(detectFormat(NASA)).toBe("swf");
    const s = inspectTrace(NASA);
    expect(s.format).toBe("swf");
    expect(s.rows).toBe(18_239);
    expect(s.entities).toEqual({ kind: "jobs", count: 18_239 });
    expect(s.span.start).toBe(0);
    const procs = s.columns.find((c) => c.name === "procs")!;
    expect([procs.min, procs.max]).toEqual([1, 128]);
    expect(s.columns.find((c) => c.name === "submit s")!.max).toBe(7_948_936);
    expect(s.problems).toEqual([]);
    expect(s.skipped).toBe(0);
  });

  it("passes over header comments, comments anywhere, padded columns and trailing blank lines", () => {
    const text = `; Version: 2.2\n;\n   ${row(1, 0, -1, 100, 4)}\n; a note\n\n${row(2, 10, -1, 5, 1)}\n\n\n  \n`;
    expect(jobsOf(text).jobs).toEqual([
      [1, 0, 100, 4, 100],
      [2, 10, 5, 1, 5],
    ]);
  });

  it("reads -1 as SWF says: allocated processors fall back to requested, requested time is the estimate when known, run time -1 never ran", () => {
    const text = [row(1, 0, -1, 50, -1, -1, -1, 8, 120), row(2, 5, -1, -1, 2), row(3, 6, -1, 30, 2, -1, -1, 4, -1)].join("\n");
    const { jobs, cancelled, bad } = jobsOf(text);
    expect(jobs).toEqual([
      [1, 0, 50, 8, 120],
      [3, 6, 30, 2, 30],
    ]);
    expect(cancelled).toBe(1);
    expect(bad.count).toBe(0);
  });

  it("reports each malformed row with its file, line and field, and goes on to the next", () => {
    const text = [row(1, 0, -1, 10, 1), "1 2 3", row(3, 5, -1, 10, -1, -1, -1, -1), row(4, "x" as unknown as number, -1, 1, 1), row(5, 1, -1, 10, 1), row(6, 7, -1, -2, 1), row(7, 9, -1, 3, 2), row(8, 3, -1, 3, 2)].join("\n");
    const { jobs, bad } = jobsOf(text);
    expect(jobs.map((j) => j[0])).toEqual([1, 5, 7]);
    expect(bad.listed.map((p) => [p.line, p.field])).toEqual([
      [2, ""],
      [3, "allocatedProcs"],
      [4, "submit"],
      [6, "runTime"],
      [8, "submit"],
    ]);
    expect(bad.count).toBe(5);
    expect(bad.listed[0].message).toMatch(/expected 18 whitespace-separated fields, found 3/);
    expect(bad.listed[1].message).toMatch(/both allocated .* and requested .* are -1/);
    expect(bad.listed[2].message).toMatch(/expected a number \(or -1 for unknown\), found "x"/);
    expect(bad.listed[4].message).toMatch(/before the previous job's \(9\)/);
  });

  it("under onBadRow fail, stops before the run with the first 5 problems and the way out", () => {
    const source = memoryTraceSource({ "log.swf": Array.from({ length: 7 }, (_, i) => `${i} bad`).join("\n") });
    expect(() => checkSwf("log.swf", { source })).toThrow(TraceError);
    try {
      checkSwf("log.swf", { source });
    } catch (e) {
      const lines = (e as Error).message.split("\n");
      expect(lines.slice(0, 5).map((l) => l.split(":").slice(0, 2).join(":"))).toEqual(["log.swf:1", "log.swf:2", "log.swf:3", "log.swf:4", "log.swf:5"]);
      expect((e as Error).message).toMatch(/and 2 more/);
      expect((e as Error).message).toMatch(/onBadRow: skip/);
    }
    expect(checkSwf("log.swf", { source, onBadRow: "skip" })).toEqual({ jobs: 0, cancelled: 0, skipped: 7 });
  });

  it("selects jobs from `start`, every `sample`-th, at most `limit`", () => {
    const text = Array.from({ length: 10 }, (_, i) => row(i + 1, i * 10, -1, 1, 1)).join("\n");
    expect(jobsOf(text, { start: 20, sample: 2, limit: 3 }).jobs.map((j) => j[0])).toEqual([3, 5, 7]);
  });

  it("reads a folder holding one log beside its README, and refuses a folder of several logs", () => {
    const one = memoryTraceSource({ "d/README.md": "# a log", "d/a.swf": row(1, 0, -1, 1, 1) });
    const r = openSwf("d", { source: one }, new BadRows());
    expect([r.next(), r.file]).toEqual([true, "d/a.swf"]);
    const two = memoryTraceSource({ "d/a.swf": row(1, 0, -1, 1, 1), "d/b.swf": row(1, 0, -1, 1, 1) });
    expect(() => openSwf("d", { source: two }, new BadRows())).toThrow(/d: a folder of 2 files; an SWF log is one file: give its path/);
    expect(inspectTrace(NASA.slice(0, NASA.lastIndexOf("/"))).entities).toEqual({ kind: "jobs", count: 18_239 });
  });
});
