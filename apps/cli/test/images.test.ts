// Image pulls through the CLI (issue 15): a scenario naming an image it does not define is bad input at its field
// (exit 2, nothing written); one with a registry runs, and `turtles run` prints how long containers waited for their
// layers beside the ready times.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const bin = join(import.meta.dirname, "..", "bin", "run.js");

function turtles(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const scenario = (image: string): string => `duration: 2s
warmup: 0s
hostTypes: { h: { cores: 4, memory: 8GiB, nic: { bandwidth: 10Gb/s }, disk: { iops: 100k, bandwidth: 500MB/s } } }
hosts: [{ type: h }]
images: { web: { layers: [{ id: base, size: 125MB }, { id: app, size: 25MB }] } }
registry: { bandwidth: 1Gb/s, latency: 20ms }
stacks: { docker: [{ layer: container, image: ${image} }] }
tenants: [{ name: t, services: [{ name: a, stack: docker, replicas: 2, load: { open: { rate: 10/s } }, request: [{ cpu: 1ms }] }] }]
`;

describe("container images in a scenario", () => {
  it("refuses an image name the scenario does not define, at its line, with the nearest name: exit 2, no output file", () => {
    const d = mkdtempSync(join(tmpdir(), "turtles-images-"));
    const file = join(d, "s.yaml");
    writeFileSync(file, scenario("wbe"));
    const out = join(d, "results.json");
    const r = turtles("run", file, "--out", out);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`${file}:7:47: stacks.docker[0].image: unknown image "wbe"; did you mean "web"?\n`);
    expect(existsSync(out)).toBe(false);
  });

  it("prints the pull times of a run with a registry: two replicas on one host wait for one download, 1.27 s", () => {
    const d = mkdtempSync(join(tmpdir(), "turtles-images-"));
    const file = join(d, "s.yaml");
    writeFileSync(file, scenario("web"));
    const r = turtles("run", file, "--replications", "1");
    expect(r.code).toBe(0);
    // 20 ms + 125 MB at 125 MB/s, then 125 MB written at 500 MB/s.
    expect(r.stdout).toContain("replicas ready after 1.30s (p50), 1.30s (p99)\nlifecycle pull: 1.27s (p50), 1.27s (p99)\n");
  });
});
