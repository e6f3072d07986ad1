import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { temporaryOf, writeFileAtomic } from "../src/lib/atomic.js";

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

  it("names its temporary file .NAME.PID.turtles-tmp, and removes those of the target that dead processes left, not those of live ones or of other files", () => {
    const dir = mkdtempSync(join(tmpdir(), "turtles-atomic-"));
    const file = join(dir, "out.json");
    expect(temporaryOf(file, 42)).toBe(join(dir, ".out.json.42.turtles-tmp"));
    // A process that has exited: its pid is free (and not reused this soon).
    const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }).stdout;
    const stale = [temporaryOf(file, Number(dead)), join(dir, `out.json.tmp-${dead}`)]; // the name before, too
    const kept = [temporaryOf(file, process.ppid), temporaryOf(join(dir, "other.json"), Number(dead)), join(dir, "out.json.tmp-notapid")];
    for (const f of [...stale, ...kept]) writeFileSync(f, "half");
    // A folder staged by plugin init goes the same way.
    const staged = temporaryOf(file, Number(spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }).stdout));
    mkdirSync(join(staged, "src"), { recursive: true });
    writeFileSync(join(staged, "src", "index.ts"), "half");
    writeFileAtomic(file, "whole");
    expect(readFileSync(file, "utf8")).toBe("whole");
    expect(readdirSync(dir).sort()).toEqual(["out.json", ...kept.map((f) => f.slice(dir.length + 1))].sort());
  });
});
