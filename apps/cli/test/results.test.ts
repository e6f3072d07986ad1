// The end of a run never throws work away: with random host failures, replications that saw a recovery and
// replications that did not are assembled into results (the merge once threw "Cannot read properties of null
// (reading 'p50')" after every replication ran, and a sweep lost every row).
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromCsv, type Results } from "@turtles/engine";
import { describe, expect, it } from "vitest";

const bin = join(import.meta.dirname, "..", "bin", "run.js");

function turtles(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// Hosts fail about once a minute each and are found after 5 s: some replications see their replicas recover, some not.
const FAILING = `duration: 1m
replications: 4
hostTypes: { small: { cores: 4, memory: 16GiB } }
hosts: [{ type: small, count: 2 }]
failures: { hosts: { mtbf: 1m, repair: { exp: 20s } }, detection: 5s }
tenants:
  - name: api
    services:
      - { name: checkout, replicas: 2, load: { open: { rate: 50/s } }, request: [{ cpu: { exp: 2ms } }] }
`;

describe("results of replications with and without a recovery", () => {
  const file = join(mkdtempSync(join(tmpdir(), "turtles-results-")), "failing.yaml");
  writeFileSync(file, FAILING);

  it("run: assembles them, with recovery null where a replication had none", () => {
    const r = turtles("run", file, "--seed", "2", "--workers", "1", "--json");
    expect(r.stderr).not.toContain("Cannot read properties");
    expect(r.code).toBe(0);
    const st = (JSON.parse(r.stdout) as Results).stacks.baremetal;
    expect(st.failures.length).toBeGreaterThan(0);
    expect(st.lifecycle.recovery).toBeNull();
    expect(st.services["api/checkout"].completed).toBeGreaterThan(0);
  });

  it("sweep: every point gets its row of figures, none an error", () => {
    const r = turtles("sweep", file, "--param", "seed=1,2,3", "--workers", "2");
    expect(r.code).toBe(0);
    const rows = fromCsv(r.stdout);
    expect(rows.map((row) => [row.seed, row.error ?? ""])).toEqual([
      ["1", ""],
      ["2", ""],
      ["3", ""],
    ]);
    for (const row of rows) expect(Number(row["api/checkout.throughput"])).toBeGreaterThan(0);
  });
});
