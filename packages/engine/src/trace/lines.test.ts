import { describe, expect, it } from "vitest";
import { LineReader, MAX_LINE_BYTES, memoryTraceSource, nodeTraceSource, TraceUnavailable, type TraceSource } from "./lines.js";

/** A source that counts reads, to show chunking and that no file stays open. */
function counted(files: Record<string, string>): TraceSource & { reads: number } {
  const inner = memoryTraceSource(files);
  const out = { ...inner, reads: 0, read: (p: string, into: Uint8Array, pos: number) => (out.reads++, inner.read(p, into, pos)) };
  return out;
}

function all(r: LineReader): string[] {
  const out: string[] = [];
  for (let l = r.next(); l !== undefined; l = r.next()) out.push(l);
  return out;
}

describe("nodeTraceSource", () => {
  // First in this file: the source is made once per process, on first use.
  it("says traces need Node where there is no file system (a Web worker has no process.getBuiltinModule)", () => {
    const proc = process as { getBuiltinModule?: unknown };
    const builtin = proc.getBuiltinModule;
    proc.getBuiltinModule = undefined;
    try {
      expect(() => nodeTraceSource()).toThrow(TraceUnavailable);
      expect(() => nodeTraceSource()).toThrow("this runtime has no file system: traces are read from files, which only Node can do; run this scenario with the turtles CLI or a Node worker");
    } finally {
      proc.getBuiltinModule = builtin;
    }
    expect(nodeTraceSource().join("a", "b")).toBe("a/b");
  });
});

describe("LineReader", () => {
  it("returns lines without their endings, \\n or \\r\\n, and a last line without one", () => {
    const r = new LineReader(memoryTraceSource({ f: "a\r\nbb\n\nccc" }), "f");
    expect(all(r)).toEqual(["a", "bb", "", "ccc"]);
    expect(r.line).toBe(4);
  });

  it("reads in chunks of the size given, carrying lines across chunk boundaries", () => {
    const text = Array.from({ length: 100 }, (_, i) => `line ${i}`).join("\n") + "\n";
    const src = counted({ f: text });
    const lines = all(new LineReader(src, "f", 16));
    expect(lines).toHaveLength(100);
    expect(lines[57]).toBe("line 57");
    // 790 bytes in 16-byte reads (the unread tail is kept, so a read brings fewer new bytes): far more than one read.
    expect(src.reads).toBeGreaterThan(790 / 16);
  });

  it("keeps multi-byte characters whole when a chunk ends inside one", () => {
    const r = new LineReader(memoryTraceSource({ f: "ééééé\nß\n" }), "f", 3);
    expect(all(r)).toEqual(["ééééé", "ß"]);
  });

  it("gives the same lines whichever way it makes strings: ASCII and not, short and long, endings split across chunks", () => {
    const lines = ["42", "caf\u00e9 \u2603", "y".repeat(3000), "\u00df".repeat(700), ""];
    const text = lines.join("\r\n") + "\r\nlast";
    for (const chunk of [2, 5, 64, 16384]) expect(all(new LineReader(memoryTraceSource({ f: text }), "f", chunk))).toEqual([...lines, "last"]);
  });

  it("reads whole numbers without a string: Number()'s value, NaN for anything else (its text() kept), -1 at the end", () => {
    const r = new LineReader(memoryTraceSource({ f: "42\n 007 \r\n12.5\nabc\n\n1234567890123456\n\t9" }), "f", 4);
    const got: (number | string)[] = [];
    for (let v = r.nextWhole(); v !== -1; v = r.nextWhole()) got.push(Number.isNaN(v) ? r.text() : v);
    expect(got).toEqual([42, 7, "12.5", "abc", "", "1234567890123456", 9]);
    expect(r.line).toBe(7);
  });

  it("grows its buffer for a line longer than a chunk, and refuses a line over the limit", () => {
    const long = "x".repeat(100);
    expect(all(new LineReader(memoryTraceSource({ f: `${long}\ny` }), "f", 8))).toEqual([long, "y"]);
    const huge = new LineReader(memoryTraceSource({ f: "z".repeat(MAX_LINE_BYTES + 1) }), "f", 1024);
    expect(() => huge.next()).toThrow(/f, line 1: longer than 1048576 bytes/);
  });

  it("resumes from a saved position exactly, in a fresh reader too", () => {
    const src = memoryTraceSource({ f: "1\n22\n333\n4444\n" });
    const r = new LineReader(src, "f", 4);
    r.next();
    r.next();
    const p = r.position();
    expect(p).toEqual({ offset: 5, line: 3 });
    expect(all(r)).toEqual(["333", "4444"]);
    const fresh = new LineReader(src, "f", 4);
    fresh.seek(p);
    expect(fresh.next()).toBe("333");
    expect(fresh.line).toBe(3);
  });

  it("reads real files through Node with no descriptor left open", async () => {
    const { mkdtempSync, writeFileSync, readdirSync } = await import("node:fs");
    const { join } = await import("node:path");
    const dir = mkdtempSync(join((await import("node:os")).tmpdir(), "lines-"));
    writeFileSync(join(dir, "a b"), "1\n2\n");
    const src = nodeTraceSource();
    expect(src.list(dir)).toEqual(["a b"]);
    expect(src.list(join(dir, "a b"))).toBeUndefined();
    const fdsBefore = readdirSync("/proc/self/fd").length;
    const readers = Array.from({ length: 50 }, () => new LineReader(src, join(dir, "a b"), 1));
    for (const r of readers) r.next();
    expect(readdirSync("/proc/self/fd").length).toBe(fdsBefore);
    expect(all(readers[0])).toEqual(["2"]);
  });
});
