import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { writeFileAtomic } from "../src/lib/atomic.js";

describe("writeFileAtomic", () => {
  it("writes text and bytes whole, replacing the old file, and leaves nothing beside it", () => {
    const dir = mkdtempSync(join(tmpdir(), "turtles-atomic-"));
    const file = join(dir, "out.json");
    writeFileSync(file, "old");
    const text = "x".repeat(3 << 20) + "é";
    writeFileAtomic(file, text);
    expect(readFileSync(file, "utf8")).toBe(text);
    writeFileAtomic(file, new Uint8Array([1, 2, 3]));
    expect([...readFileSync(file)]).toEqual([1, 2, 3]);
    expect(readdirSync(dir)).toEqual(["out.json"]);
  });

  it("leaves the target as it was and no temporary file when the write fails", () => {
    const dir = mkdtempSync(join(tmpdir(), "turtles-atomic-"));
    const target = join(dir, "taken");
    mkdirSync(join(target, "inside"), { recursive: true }); // renaming a file over a non-empty folder fails
    expect(() => writeFileAtomic(target, "data")).toThrow();
    expect(readdirSync(dir)).toEqual(["taken"]);
    expect(readdirSync(target)).toEqual(["inside"]);
  });
});
