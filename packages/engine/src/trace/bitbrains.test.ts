import { describe, expect, it } from "vitest";
import { detectFormat, inspectTrace, TRACE_FORMATS, type UtilisationAdapter, type UtilisationCursor } from "./index.js";
import { BITBRAINS_COLUMNS } from "./bitbrains.js";
import { memoryTraceSource } from "./lines.js";

const MONTH = new URL("../../../../data/traces/bitbrains-rnd/2013-7", import.meta.url).pathname;
const bitbrains = TRACE_FORMATS.bitbrains as UtilisationAdapter;
const HEADER = BITBRAINS_COLUMNS.join(";\t");
const row = (...v: number[]): string => v.join(";\t");

function samples(c: UtilisationCursor): number[][] {
  const out: number[][] = [];
  while (c.next()) out.push([c.time, c.cpu, c.memory]);
  return out;
}

describe("bitbrains", () => {
  it("inspects the eight VMs as the README counts them: 66,900 rows, 2013-07-01 to 07-30 in Unix seconds, CPU above 100 %", () => {
    expect(detectFormat(MONTH)).toBe("bitbrains");
    const s = inspectTrace(MONTH);
    expect(s).toMatchObject({ format: "bitbrains", files: 8, rows: 66_900, entities: { kind: "vms", count: 8 }, problems: [], skipped: 0 });
    expect(s.span).toEqual({ start: 1372629804, end: 1375221457 });
    const cpu = s.columns.find((c) => c.name === "cpu [%]")!;
    expect(cpu.max).toBeCloseTo(107.3, 1);
    const cores = s.columns.find((c) => c.name === "cores")!;
    expect([cores.min, cores.max]).toEqual([0, 32]);
    // Repeated timestamps are zero-length steps, not errors.
    expect(s.columns.find((c) => c.name === "step [s]")!.min).toBe(0);
  });

  it("sizes each VM from the first row that provisions cores, and starts late VMs late (14.csv: 8 zero rows, from 07-29)", () => {
    const t = bitbrains.open(MONTH, {});
    const vm14 = t.vms.findIndex((v) => v.name === "14");
    expect(t.vms[vm14].cores).toBeGreaterThan(0);
    const c = t.cursor(vm14);
    c.next();
    expect(c.time).toBe(1375093346 - 1372629804);
    expect(c.cpu).toBe(0);
    expect(t.vms.find((v) => v.name === "1")).toMatchObject({ cores: 2, memory: 8218624 * 1024 });
  });

  it("reads timestamps as seconds despite the [ms] label, CPU % of the row's cores, and usage above 100 % as demand above the cores", () => {
    const source = memoryTraceSource({
      "d/a.csv": [HEADER, row(1000, 2, 5000, 2500, 50, 1024, 512, 1, 2, 3, 4), row(1300, 2, 5000, 5500, 110, 1024, 512, 0, 0, 0, 0), row(1600, 4, 10000, 5000, 50, 1024, 512, 0, 0, 0, 0)].join("\n") + "\n",
    });
    const t = bitbrains.open("d", { source });
    expect(t.vms).toEqual([{ name: "a", file: "d/a.csv", cores: 2, memory: 1024 * 1024 }]);
    const c = t.cursor(0);
    expect(samples(c)).toEqual([
      [0, 0.5, 512 * 1024],
      [300, 1.1, 512 * 1024],
      // The row provisions 4 cores at 50 %: 2 cores' worth, all of the 2 the VM has.
      [600, 1, 512 * 1024],
    ]);
  });

  it("takes a timestamp past year 5000 as milliseconds", () => {
    const source = memoryTraceSource({ "a.csv": [HEADER, row(1372629804000, 1, 1, 0, 10, 1, 1, 0, 0, 0, 0), row(1372630104000, 1, 1, 0, 10, 1, 1, 0, 0, 0, 0)].join("\n") });
    expect(samples(bitbrains.open("a.csv", { source }).cursor(0)).map((s) => s[0])).toEqual([0, 300]);
    expect(bitbrains.inspect("a.csv", { source }).span).toEqual({ start: 1372629804, end: 1372630104 });
  });

  it("gives zero-provisioned rows no CPU demand but keeps their memory, and keeps repeated timestamps in order", () => {
    const source = memoryTraceSource({
      "a.csv": [HEADER, row(0, 0, 0, 0, 0, 0, 100, 0, 0, 0, 0), row(300, 1, 2600, 1300, 50, 4, 200, 0, 0, 0, 0), row(300, 1, 2600, 2600, 100, 4, 300, 0, 0, 0, 0), row(600, 0, 0, 0, 0, 4, 400, 0, 0, 0, 7)].join("\n"),
    });
    const t = bitbrains.open("a.csv", { source, cores: 4 });
    expect(t.vms[0]).toMatchObject({ cores: 4, memory: 4096 });
    expect(samples(t.cursor(0))).toEqual([
      [0, 0, 102400],
      [300, 0.5, 204800],
      [300, 1, 307200],
      [600, 0, 409600],
    ]);
  });

  it("refuses a VM no row sizes unless the scenario gives cores, and a file without the header, naming file and field", () => {
    const zero = memoryTraceSource({ "a.csv": [HEADER, row(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)].join("\n") });
    expect(() => bitbrains.open("a.csv", { source: zero })).toThrow("a.csv: CPU cores: no row provisions any cores; give the VM's size with trace: { cores: n }");
    expect(bitbrains.open("a.csv", { source: zero, cores: 2 }).vms[0].cores).toBe(2);
    const headless = memoryTraceSource({ "d/b.csv": "1;\t2\n" });
    expect(() => bitbrains.open("d", { source: headless })).toThrow(/d\/b\.csv:1: Timestamp \[ms\]: no such column in the header/);
    expect(bitbrains.inspect("d", { source: headless }).problems[0]).toMatchObject({ file: "d/b.csv", line: 1, field: "Timestamp [ms]" });
  });

  it("lists bad rows (not a number, too few fields, time going back) by file, line and field; skip counts them, fail stops", () => {
    const source = memoryTraceSource({
      "a.csv": [HEADER, row(500, 1, 1, 0, 10, 1, 1, 0, 0, 0, 0), "300;\t1;\t1;\t0;\tNaN%;\t1;\t1;\t0;\t0;\t0;\t0", "600;\t1", row(100, 1, 1, 0, 10, 1, 1, 0, 0, 0, 0), row(900, 1, 1, 0, 20, 1, 1, 0, 0, 0, 0), ""].join("\n"),
    });
    const s = bitbrains.inspect("a.csv", { source });
    expect(s.problems.map((p) => [p.line, p.field])).toEqual([
      [3, "CPU usage [%]"],
      [4, "CPU capacity provisioned [MHZ]"],
      [5, "Timestamp [ms]"],
    ]);
    expect(s.problems[2].message).toBe("100 is before the row above (500); rows go forward in time");
    expect(s.rows).toBe(5);
    expect(s.skipped).toBe(3);
    const skip = bitbrains.open("a.csv", { source, onBadRow: "skip" });
    expect(samples(skip.cursor(0)).map((x) => x[1])).toEqual([0.1, 0.2]);
    expect(skip.bad.skipped).toBe(3);
    const fail = bitbrains.open("a.csv", { source }).cursor(0);
    fail.next();
    expect(() => fail.next()).toThrow(/a\.csv:3: CPU usage \[%\]: expected a number from 0, found "NaN%"/);
  });

});
