import { describe, expect, it } from "vitest";
import { BadRows, MAX_LISTED, TraceError } from "./problems.js";

describe("BadRows", () => {
  it("under fail, stops with the first five problems listed, naming file, line and field, and says how to go on", () => {
    const bad = new BadRows("fail");
    for (let i = 1; i <= 7; i++) bad.report("vm.csv", i + 1, "CPU usage [%]", `row ${i} is wrong`);
    expect(bad.skipped).toBe(0);
    let err: unknown;
    try {
      bad.check();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TraceError);
    const te = err as TraceError;
    expect(te.problems).toHaveLength(MAX_LISTED);
    expect(te.total).toBe(7);
    expect(te.message.split("\n")[0]).toBe("vm.csv:2: CPU usage [%]: row 1 is wrong");
    expect(te.message).toContain("... and 2 more");
    expect(te.message).toContain("onBadRow: skip");
  });

  it("under skip, counts every bad row and never throws", () => {
    const bad = new BadRows("skip");
    for (let i = 0; i < 9; i++) bad.report("f", i + 1, "", "bad");
    expect(() => bad.check()).not.toThrow();
    expect(bad.skipped).toBe(9);
    expect(bad.listed).toHaveLength(MAX_LISTED);
  });

  it("defaults to fail, and passes when nothing was reported", () => {
    const bad = new BadRows();
    expect(bad.policy).toBe("fail");
    expect(() => bad.check()).not.toThrow();
  });

  it("escapes control characters a file name or row holds", () => {
    const err = new TraceError([{ file: "a\u001b[2Jb", line: 0, field: "", message: "x" }]);
    expect(err.message).toBe("a\\x1b[2Jb: x");
  });
});
