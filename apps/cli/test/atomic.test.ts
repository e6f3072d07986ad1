import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir, hostname } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { NotAFileError, temporaryOf, writeFileAtomic, writeTarget } from "../src/lib/atomic.js";

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

  it("writes through links to the file they lead to (even one not there yet), and the links stay", () => {
    const dir = mkdtempSync(join(tmpdir(), "turtles-atomic-"));
    mkdirSync(join(dir, "sub"));
    symlinkSync("sub/b.json", join(dir, "a.json")); // a.json -> sub/b.json -> ../c.json (relative to sub), not there yet
    symlinkSync("../c.json", join(dir, "sub", "b.json"));
    expect(writeTarget(join(dir, "a.json"))).toBe(join(dir, "c.json"));
    writeFileAtomic(join(dir, "a.json"), "data");
    expect(readFileSync(join(dir, "c.json"), "utf8")).toBe("data");
    expect(readlinkSync(join(dir, "a.json"))).toBe("sub/b.json");
    expect(lstatSync(join(dir, "sub", "b.json")).isSymbolicLink()).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(["a.json", "c.json", "sub"]);
  });

  it("never replaces a device, a folder or a loop of links, whatever links lead there", () => {
    const dir = mkdtempSync(join(tmpdir(), "turtles-atomic-"));
    symlinkSync("/dev/null", join(dir, "null"));
    symlinkSync("loop2", join(dir, "loop1"));
    symlinkSync("loop1", join(dir, "loop2"));
    expect(() => writeFileAtomic("/dev/null", "x")).toThrow(new NotAFileError("/dev/null", "a character device"));
    expect(() => writeFileAtomic(join(dir, "null"), "x")).toThrow(`${join(dir, "null")} is a character device, not a regular file`);
    expect(() => writeFileAtomic(dir, "x")).toThrow(`${dir} is a folder, not a regular file`);
    expect(() => writeFileAtomic(join(dir, "loop1"), "x")).toThrow("is a symbolic link in a loop of links, not a regular file");
    expect(statSync("/dev/null").isCharacterDevice()).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(["loop1", "loop2", "null"]);
  });

  it("names its temporary file .NAME.HOST.PID.turtles-tmp, and removes those of the target that dead processes of this machine left, not those of live ones, other machines or other files", () => {
    const dir = mkdtempSync(join(tmpdir(), "turtles-atomic-"));
    const file = join(dir, "out.json");
    const host = hostname().replace(/[^A-Za-z0-9-]/g, "-");
    expect(temporaryOf(file, 42)).toBe(join(dir, `.out.json.${host}.42.turtles-tmp`));
    // A process that has exited: its pid is free (and not reused this soon).
    const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }).stdout;
    // The names before, too: without a machine, taken as this one's.
    const stale = [temporaryOf(file, Number(dead)), join(dir, `.out.json.${dead}.turtles-tmp`), join(dir, `out.json.tmp-${dead}`)];
    const kept = [
      temporaryOf(file, process.ppid),
      temporaryOf(join(dir, "other.json"), Number(dead)),
      join(dir, "out.json.tmp-notapid"),
      // Another machine's, in a shared folder: its process cannot be checked from here, so it may be saving now.
      join(dir, `.out.json.other-machine.${dead}.turtles-tmp`),
    ];
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
