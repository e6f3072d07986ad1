import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toCsv } from "@turtles/engine";
import { describe, expect, it } from "vitest";

const bin = join(import.meta.dirname, "..", "bin", "run.js");
const overload = join(import.meta.dirname, "..", "..", "..", "examples", "overload.yaml");

function turtles(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("turtles sweep --shard and turtles merge", () => {
  const sweep = ["sweep", overload, "--param", "services.checkout.replicas=1,2,3", "--duration", "2s", "--replications", "2", "--workers", "1"];

  it("merges the parts of every shard into the bytes of the unsharded sweep, as CSV and JSON", () => {
    const dir = mkdtempSync(join(tmpdir(), "turtles-shard-"));
    expect(turtles(...sweep, "--out", join(dir, "all.json")).code).toBe(0);
    for (const i of [1, 2]) expect(turtles(...sweep, "--shard", `${i}/2`, "--out", join(dir, `part-${i}.json`)).code).toBe(0);
    // Shard 1 of 2 ran points 1 and 3, shard 2 point 2.
    expect(JSON.parse(readFileSync(join(dir, "part-1.json"), "utf8")).rows.map((r: { point: number }) => r.point)).toEqual([0, 2]);
    const parts = [join(dir, "part-2.json"), join(dir, "part-1.json")];
    expect(turtles("merge", ...parts, "--out", join(dir, "merged.csv")).code).toBe(0);
    expect(turtles("merge", ...parts, "--out", join(dir, "merged.json")).code).toBe(0);
    const all = readFileSync(join(dir, "all.json"), "utf8");
    expect(readFileSync(join(dir, "merged.json"), "utf8")).toBe(all);
    // The CSV a sweep writes is toCsv of its rows (commands/sweep.ts).
    expect(readFileSync(join(dir, "merged.csv"), "utf8")).toBe(toCsv(JSON.parse(all)));
    const missing = turtles("merge", join(dir, "part-1.json"), "--out", join(dir, "m.csv"));
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toBe("merge: shard 2/2 missing; give every part file of the sweep");
    expect(existsSync(join(dir, "m.csv"))).toBe(false);
    // A shard run again with --resume keeps its rows and computes nothing.
    const again = turtles(...sweep, "--shard", "1/2", "--out", join(dir, "part-1.json"), "--resume");
    expect(again.code).toBe(0);
    expect(again.stderr).toContain("resuming: 2 points already in");
    expect(again.stderr).not.toMatch(/^point \d\/3 .* done/m);
  });

  it("refuses a bad --shard with one line and exit 2, writing nothing", () => {
    const dir = mkdtempSync(join(tmpdir(), "turtles-shard-"));
    const bad = turtles(...sweep, "--shard", "3/2", "--out", join(dir, "p.json"));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^--shard 3\/2: expected i\/N with 1 <= i <= N/);
    const csv = turtles(...sweep, "--shard", "1/2", "--out", join(dir, "p.csv"));
    expect(csv.code).toBe(2);
    expect(csv.stderr).toContain("--shard needs --out FILE.json");
    expect(existsSync(join(dir, "p.json")) || existsSync(join(dir, "p.csv"))).toBe(false);
  });
});
