import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const bin = join(import.meta.dirname, "..", "bin", "run.js");
const traces = join(import.meta.dirname, "..", "..", "..", "..", "shared", "data", "traces");

function turtles(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("turtles trace inspect", () => {
  it("prints rows, span, VMs and the per-column summary of a PlanetLab day, its format told from the first file", () => {
    const r = turtles("trace", "inspect", join(traces, "planetlab-cloudsim", "20110303"));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("planetlab trace");
    expect(r.stdout).toMatch(/rows\s+302976/);
    expect(r.stdout).toMatch(/vms\s+1052/);
    expect(r.stdout).toMatch(/span\s+0 s to 86400 s \(24 h\)/);
    expect(r.stdout).toMatch(/cpu \[%\]\s+0\s+12\.3144\s+99/);
    expect(r.stdout).toContain("no bad rows");
  });

  it("gives the summary as JSON with --json, for one Bitbrains file with --format", () => {
    const r = turtles("trace", "inspect", join(traces, "bitbrains-rnd", "2013-7", "41.csv"), "--format", "bitbrains", "--json");
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ format: "bitbrains", files: 1, rows: 8251, entities: { kind: "vms", count: 1 }, skipped: 0 });
    expect(s.columns.find((c: { name: string }) => c.name === "cpu [%]").max).toBeGreaterThan(100);
  });

  it("lists bad rows with file, line and field, and how many there are", () => {
    const dir = mkdtempSync(join(tmpdir(), "trace-"));
    writeFileSync(join(dir, "vm1"), ["5", "x", ...Array.from({ length: 6 }, () => "101"), "7"].join("\n"));
    const r = turtles("trace", "inspect", dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("7 bad rows, the first 5:");
    expect(r.stdout).toContain(`${join(dir, "vm1")}:2: utilisation: expected a CPU utilisation in percent (0 to 100), found "x"`);
  });

  it("exits 2 with one line, no stack trace, for a missing path or a file of no known format", () => {
    const missing = turtles("trace", "inspect", "/no/such/trace");
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toBe("/no/such/trace: no such file or folder");
    const dir = mkdtempSync(join(tmpdir(), "trace-"));
    writeFileSync(join(dir, "odd.txt"), "hello\n");
    const odd = turtles("trace", "inspect", join(dir, "odd.txt"));
    expect(odd.code).toBe(2);
    expect(odd.stderr).toMatch(/odd\.txt: cannot tell its trace format from its first line; give it with --format \(planetlab, bitbrains/);
    expect(odd.stderr).not.toMatch(/\bat .*\.js:\d+/);
  });
});
