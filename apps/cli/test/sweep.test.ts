import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromCsv } from "@turtles/engine";
import { describe, expect, it } from "vitest";

const bin = join(import.meta.dirname, "..", "bin", "run.js");
const overload = join(import.meta.dirname, "..", "..", "..", "examples", "overload.yaml");

function turtles(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("turtles sweep", () => {
  it("writes one row per grid point, the same bytes on 1 and 2 workers", () => {
    const dir = mkdtempSync(join(tmpdir(), "turtles-sweep-"));
    const args = ["sweep", overload, "--param", "services.checkout.replicas=1,2", "--param", "placement.policy=spread,first-fit", "--duration", "5s"];
    expect(turtles(...args, "--workers", "1", "--out", join(dir, "one.csv")).code).toBe(0);
    expect(turtles(...args, "--workers", "2", "--out", join(dir, "two.csv")).code).toBe(0);
    const one = readFileSync(join(dir, "one.csv"), "utf8");
    expect(readFileSync(join(dir, "two.csv"), "utf8")).toBe(one);
    const rows = fromCsv(one);
    expect(rows.map((r) => [r["services.checkout.replicas"], r["placement.policy"]])).toEqual([
      ["1", "spread"],
      ["1", "first-fit"],
      ["2", "spread"],
      ["2", "first-fit"],
    ]);
    // Two replicas spread over two 4-core hosts serve twice what one replica (4 threads) does.
    expect(Number(rows[2]["api/checkout.throughput"]) / Number(rows[0]["api/checkout.throughput"])).toBeGreaterThan(1.8);
    expect(rows[0]["api/checkout.throughput.ci95"]).not.toBe("");
  });

  it("resumes: keeps the rows already written and computes only the new points", () => {
    const dir = mkdtempSync(join(tmpdir(), "turtles-sweep-"));
    const out = join(dir, "s.json");
    expect(turtles("sweep", overload, "--param", "services.checkout.replicas=1,2", "--duration", "5s", "--out", out).code).toBe(0);
    const first = JSON.parse(readFileSync(out, "utf8"));
    const r = turtles("sweep", overload, "--param", "services.checkout.replicas=1,2,3", "--duration", "5s", "--out", out, "--resume");
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("resuming: 2 points already in");
    expect(r.stderr.match(/^point \d\/3/gm)).toEqual(["point 3/3"]);
    const second = JSON.parse(readFileSync(out, "utf8"));
    expect(second.slice(0, 2)).toEqual(first);
    expect(second[2]["services.checkout.replicas"]).toBe("3");
  });

  it("reports a point whose worker died, finishes the others, and exits", () => {
    const dir = mkdtempSync(join(tmpdir(), "turtles-sweep-"));
    const fixtures = join(import.meta.dirname, "fixtures");
    const out = join(dir, "s.json");
    const r = turtles(
      "sweep",
      join(fixtures, "crashy.yaml"),
      "--plugin",
      join(fixtures, "crash-plugin.mjs"),
      "--param",
      "defaults.stack=crashy,plain",
      "--workers",
      "2",
      "--retries",
      "1",
      "--out",
      out,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/point 1\/2 \(defaults.stack=crashy\) failed: replication \d \(seed 1\) of defaults.stack=crashy failed in its worker 2 times: its worker exited with code 3/);
    expect(r.stderr).toMatch(/point 2\/2 \(defaults.stack=plain\) done at/);
    const rows = JSON.parse(readFileSync(out, "utf8"));
    expect(rows[0].error).toMatch(/its worker exited with code 3/);
    expect(rows[1]["t/a.throughput"]).toBeGreaterThan(90);
    // The same rows, failed point included, on one worker; --resume computes the failed point again (and fails again).
    const one = join(dir, "one.json");
    const common = [join(fixtures, "crashy.yaml"), "--plugin", join(fixtures, "crash-plugin.mjs"), "--param", "defaults.stack=crashy,plain", "--retries", "1"];
    expect(turtles("sweep", ...common, "--workers", "1", "--out", one).code).toBe(1);
    expect(readFileSync(one, "utf8")).toBe(readFileSync(out, "utf8"));
    const again = turtles("sweep", ...common, "--workers", "2", "--out", out, "--resume");
    expect(again.stderr).toMatch(/resuming: 1 point already in/);
    expect(again.stderr).toMatch(/point 1\/2 \(defaults.stack=crashy\) failed/);
    expect(again.code).toBe(1);
  });

  it("explains a parameter it cannot apply", () => {
    const r = turtles("sweep", overload, "--param", "services.nope.replicas=1,2");
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('--param services.nope.replicas: no service is named "nope"');
    const bad = turtles("sweep", overload, "--param", "services.checkout.replicas=0");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("replicas: must be at least 1, found 0");
  });
});
