import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const bin = join(import.meta.dirname, "..", "bin", "run.js");
const traces = join(import.meta.dirname, "..", "..", "..", "data", "traces");

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

  it("names the folder to give when the one given holds the trace's folder (exit 2, one line)", () => {
    const r = turtles("trace", "inspect", join(traces, "bitbrains-rnd"));
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`${join(traces, "bitbrains-rnd", "2013-7")} is a folder where trace files were expected: give it as the trace's path (a trace is a file, or a folder of trace files)`);
  });
});

describe("turtles trace inspect and run on job logs and pod lists", () => {
  it("inspects the NASA SWF log: 18,239 jobs, 1 to 128 processors, no bad rows", () => {
    const r = turtles("trace", "inspect", join(traces, "pwa-swf-nasa-ipsc", "NASA-iPSC-1993-3.1-cln.swf"));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("swf trace");
    expect(r.stdout).toMatch(/jobs\s+18239/);
    expect(r.stdout).toMatch(/procs\s+1\s+16\.994\s+128/);
    expect(r.stdout).toContain("no bad rows");
  });

  it("inspects the Alibaba trace's folder as its pod list, and its node list as hosts, with --json", () => {
    const pods = JSON.parse(turtles("trace", "inspect", join(traces, "alibaba-gpu-v2023"), "--json").stdout);
    expect(pods).toMatchObject({ format: "alibaba-pods", rows: 8152, entities: { kind: "pods", count: 8152 }, skipped: 0 });
    const nodes = JSON.parse(turtles("trace", "inspect", join(traces, "alibaba-gpu-v2023", "openb_node_list_all_node.csv"), "--json").stdout);
    expect(nodes.entities).toEqual({ kind: "hosts", count: 1523 });
  });

  it("refuses to run a job log with a bad row: exit 2, the file, line and field, no stack trace and no results file", () => {
    const dir = mkdtempSync(join(tmpdir(), "swf-run-"));
    writeFileSync(join(dir, "log.swf"), "; a log\n1 0 -1 10 1 -1 -1 -1 -1 -1 -1 1 1 -1 -1 -1 -1 -1\n2 5 -1 ten 1 -1 -1 -1 -1 -1 -1 1 1 -1 -1 -1 -1 -1\n");
    const scenario = join(dir, "s.yaml");
    writeFileSync(scenario, "duration: 100s\nhostTypes: { h: { cores: 1, memory: 1GiB } }\nhosts: [{ type: h }]\ntenants:\n  - name: hpc\n    trace: { format: swf, path: log.swf }\n");
    const out = join(dir, "out.json");
    const r = turtles("run", scenario, "--out", out);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`tenants.hpc.trace: 1 bad row in the trace: ${join(dir, "log.swf")}:3: runTime: expected a number (or -1 for unknown), found "ten"`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(out)).toBe(false);
    // Skipped, the run counts it.
    writeFileSync(scenario, "duration: 100s\nhostTypes: { h: { cores: 1, memory: 1GiB } }\nhosts: [{ type: h }]\ntenants:\n  - name: hpc\n    trace: { format: swf, path: log.swf, onBadRow: skip }\n");
    const ok = turtles("run", scenario, "--out", out);
    expect(ok.code).toBe(0);
    expect(JSON.parse(readFileSync(out, "utf8")).stacks.baremetal.traces.hpc).toMatchObject({ kind: "jobs", jobs: 1, skipped: 1 });
  });
});
