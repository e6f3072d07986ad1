import { describe, expect, it } from "vitest";
import { detectFormat, inspectTrace, TRACE_FORMATS, type UtilisationAdapter } from "./index.js";
import { memoryTraceSource } from "./lines.js";
import { PLANETLAB_STEP } from "./planetlab.js";

const DAY = new URL("../../../../data/traces/planetlab-cloudsim/20110303", import.meta.url).pathname;
const planetlab = TRACE_FORMATS.planetlab as UtilisationAdapter;

describe("planetlab", () => {
  it("inspects the 2011-03-03 day as the README counts it: 1,052 VMs, 302,976 rows, 24 h, mean 12.3 %", () => {
    const s = inspectTrace(DAY);
    expect(s.format).toBe("planetlab");
    expect(s.files).toBe(1052);
    expect(s.entities).toEqual({ kind: "vms", count: 1052 });
    expect(s.rows).toBe(302_976);
    expect(s.span).toEqual({ start: 0, end: 86_400 });
    expect(s.columns[0].min).toBe(0);
    expect(s.columns[0].max).toBe(99);
    expect(s.columns[0].mean).toBeCloseTo(12.3, 1);
    expect(s.problems).toEqual([]);
    expect(s.skipped).toBe(0);
  });

  it("reads files whose names hold spaces, and keeps them as the VM names", () => {
    const t = planetlab.open(DAY, {});
    const spaced = t.vms.filter((v) => v.name.includes(" "));
    expect(spaced).toHaveLength(50);
    const c = t.cursor(t.vms.indexOf(spaced[0]));
    let n = 0;
    while (c.next()) n++;
    expect(n).toBe(288);
  });

  it("gives each sample its interval's start, as a share of the VM's cores, and the cores the scenario sets", () => {
    const t = planetlab.open("d", { source: memoryTraceSource({ "d/a": "10\n0\n100\n" }), cores: 4 });
    expect(t.vms).toEqual([{ name: "a", file: "d/a", cores: 4, memory: 0 }]);
    const c = t.cursor(0);
    const seen: number[][] = [];
    while (c.next()) seen.push([c.time, c.cpu]);
    expect(seen).toEqual([[0, 0.1], [PLANETLAB_STEP, 0], [2 * PLANETLAB_STEP, 1]]);
    expect(Number.isNaN(c.memory)).toBe(true);
  });

  it("samples every n-th file and stops at the limit", () => {
    const files = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`d/vm${i}`, "1\n"]));
    const t = planetlab.open("d", { source: memoryTraceSource(files), sample: 3, limit: 3 });
    expect(t.vms.map((v) => v.name)).toEqual(["vm0", "vm3", "vm6"]);
  });

  it("lists bad rows with file, line and field; skip leaves them out (later rows keep their times), fail stops", () => {
    const source = memoryTraceSource({ "d/a": "5\nabc\n150\n7\n", "d/b": "" });
    const s = planetlab.inspect("d", { source });
    expect(s.problems).toEqual([
      { file: "d/a", line: 2, field: "utilisation", message: 'expected a CPU utilisation in percent (0 to 100), found "abc"' },
      { file: "d/a", line: 3, field: "utilisation", message: "150 is above 100; expected a CPU utilisation in percent (0 to 100)" },
      { file: "d/b", line: 0, field: "", message: "an empty file; expected one CPU utilisation per line" },
    ]);
    expect(s.skipped).toBe(3);
    expect(s.columns[0]).toEqual({ name: "cpu [%]", min: 5, mean: 6, max: 7 });

    const skip = planetlab.open("d", { source, onBadRow: "skip" });
    const c = skip.cursor(0);
    const times: number[] = [];
    while (c.next()) times.push(c.time);
    expect(times).toEqual([0, 3 * PLANETLAB_STEP]);
    expect(skip.bad.skipped).toBe(2);

    const fail = planetlab.open("d", { source }).cursor(0);
    fail.next();
    expect(() => fail.next()).toThrow(/d\/a:2: utilisation: expected a CPU utilisation/);
  });


  it("is told apart from other formats by its first line", () => {
    expect(detectFormat("d", { source: memoryTraceSource({ "d/a": "12\n" }) })).toBe("planetlab");
    expect(() => detectFormat("d", { source: memoryTraceSource({ "d/a": "name,cpu\n" }) })).toThrow(/cannot tell its trace format.*--format/);
  });
});
