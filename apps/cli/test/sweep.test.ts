import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeSweepSnapshot, fromCsv } from "@turtles/engine";
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
    expect(second[2].scenarioHash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(second[2].unplaced).toBe(0);
    // Rows of another duration (or seed, or file) are not mixed in: the command stops and says why.
    const other = turtles("sweep", overload, "--param", "services.checkout.replicas=1,2,3", "--duration", "6s", "--out", out, "--resume");
    expect(other.code).toBe(2);
    expect(other.stderr).toContain(`--resume: ${out} holds point 1 (services.checkout.replicas=1) computed from another scenario, or other --seed, --duration or --replications, than now`);
    expect(readFileSync(out, "utf8")).toBe(`${JSON.stringify(second, null, 2)}\n`);
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
    expect(r.stderr).toMatch(/point 1\/2 \(defaults.stack=crashy\) failed: replication \d \(seed \d+, from root seed 1\) of defaults.stack=crashy failed in its worker 2 times: the crash plugin killed its worker/);
    expect(r.stderr).toMatch(/point 2\/2 \(defaults.stack=plain\) done at/);
    const rows = JSON.parse(readFileSync(out, "utf8"));
    expect(rows[0].error).toMatch(/the crash plugin killed its worker/);
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

  it("refuses up front a point that is bad input, placing its problems in the file and naming the point", () => {
    const dir = mkdtempSync(join(tmpdir(), "turtles-sweep-"));
    writeFileSync(
      join(dir, "nonic.yaml"),
      `duration: 2s
hostTypes:
  h: { cores: 4, memory: 16GiB }
hosts: [{ type: h, count: 1 }]
tenants:
  - name: t
    services:
      - { name: a, load: { open: { rate: 10/s } }, request: [{ cpu: 1ms }, { call: b }] }
      - { name: b, request: [{ cpu: 1ms }] }
`,
    );
    // One host: every call is loopback; two: calls cross hosts, and the host type has no NIC.
    const r = spawnSync(process.execPath, [bin, "sweep", "nonic.yaml", "--param", "hosts.0.count=1,2", "--out", "s.json"], { encoding: "utf8", cwd: dir });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe(
      "nonic.yaml:3:6: hostTypes.h: services make calls and there are 2 hosts, so a call can cross hosts (a NIC carries it): give this host type nic: { bandwidth, latency } (with --param hosts.0.count=2)",
    );
    expect(existsSync(join(dir, "s.json"))).toBe(false);
  });

  it("explains a parameter it cannot apply", () => {
    const r = turtles("sweep", overload, "--param", "services.nope.replicas=1,2");
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('--param services.nope.replicas: no service is named "nope" (a path is services.<service>.<field>)');
    const bad = turtles("sweep", overload, "--param", "services.checkout.replicas=0");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("replicas: must be at least 1, found 0");
    // Placed at the field in the file (not a line of the point's rewritten text), naming the point.
    expect(turtles("sweep", overload, "--param", "services.checkout.replicas=a").stderr).toBe(
      `${overload}:19:19: tenants.api.services.checkout.replicas: expected a count such as 32 or 100k, found "a" (with --param services.checkout.replicas=a)\n`,
    );
    expect(turtles("sweep", overload, "--param", "services.checkout.replica=1").stderr).toBe(
      `${overload}: tenants.api.services.checkout.replica: unknown key "replica"; did you mean "replicas"? (with --param services.checkout.replica=1)\n`,
    );
    // --out may not be the points file or the checkpoint (the rows would replace the one, be removed with the other).
    const dir = mkdtempSync(join(tmpdir(), "turtles-sweep-"));
    const pts = join(dir, "pts.json");
    writeFileSync(pts, '[{ "services.checkout.replicas": 1 }]');
    expect(turtles("sweep", overload, "--points", pts, "--out", pts).code).toBe(2);
    expect(readFileSync(pts, "utf8")).toBe('[{ "services.checkout.replicas": 1 }]');
    // Points that set different fields resume like any (a row without a field matches a point without it), CSV or JSON.
    const mixed = join(dir, "mixed.json");
    writeFileSync(mixed, '[{ "services.checkout.replicas": 1 }, { "placement.policy": "spread" }]');
    for (const out of [join(dir, "m.json"), join(dir, "m.csv")]) {
      expect(turtles("sweep", overload, "--points", mixed, "--duration", "2s", "--out", out).code).toBe(0);
      const again = turtles("sweep", overload, "--points", mixed, "--duration", "2s", "--out", out, "--resume");
      expect(again.code).toBe(0);
      expect(again.stderr).toContain(`resuming: 2 points already in ${out}`);
    }
    const same = turtles("sweep", overload, "--points", pts, "--out", join(dir, "s.csv"), "--checkpoint", join(dir, "s.csv"));
    expect(same.code).toBe(2);
    expect(same.stderr).toContain("is another file of this command");
    const twice = turtles("sweep", overload, "--param", "services.checkout.replicas=1", "--param", "services.checkout.replicas=2");
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain("--param services.checkout.replicas is given twice");
  });

  it("saves the points in progress on Ctrl-C with --checkpoint, and --resume continues them to the rows of an uninterrupted sweep", async () => {
    const dir = mkdtempSync(join(tmpdir(), "turtles-sweep-"));
    const file = join(dir, "long.yaml");
    // Points of seconds each (one replication of 20,000 simulated seconds), so the sweep is stopped inside them.
    writeFileSync(
      file,
      `duration: 20000s
hostTypes: { h: { cores: 4, memory: 8GiB } }
hosts: [{ type: h, count: 2 }]
tenants:
  - name: t
    services:
      - { name: api, replicas: 2, threads: 2, load: { open: { rate: 100/s } }, request: [{ cpu: { exp: 10ms } }, { sleep: 1ms }] }
`,
    );
    const snap = join(dir, "sweep.snap");
    const args = ["sweep", file, "--param", "services.api.replicas=1,2,3", "--workers", "2"];
    const out = join(dir, "s.csv");
    const child = spawn(process.execPath, [bin, ...args, "--out", out, "--checkpoint", snap, "--checkpoint-every", "1s"], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    // Once a save holds both points under way (a loaded machine may start the second worker after the first save).
    while (!(existsSync(snap) && decodeSweepSnapshot(readFileSync(snap), snap).points.length === 2)) await new Promise((r) => setTimeout(r, 100));
    child.kill("SIGINT");
    expect(await new Promise((resolve) => child.on("exit", resolve))).toBe(130);
    expect(stderr).toContain(`the points in progress are saved in ${snap}; continue with the same command and --resume`);
    // The points under way, each with the state of its replication in progress.
    const saved = decodeSweepSnapshot(readFileSync(snap), snap).points;
    expect(saved.map((p) => p.point["services.api.replicas"])).toEqual(["1", "2"]);
    for (const p of saved) expect(p.run.running.map((r) => r.replication)).toEqual([0]);
    // Without --resume the saved points are not overwritten; with other settings they are refused.
    expect(turtles(...args, "--out", out, "--checkpoint", snap).stderr).toMatch(/already exists; continue that sweep with --resume/);
    expect(turtles(...args, "--out", out, "--checkpoint", snap, "--resume", "--seed", "5").stderr).toMatch(/holds point 1 \(services.api.replicas=1\) of another scenario/);
    const resumed = turtles(...args, "--out", out, "--checkpoint", snap, "--resume");
    expect(resumed.code).toBe(0);
    expect(existsSync(snap)).toBe(false);
    const straight = join(dir, "straight.csv");
    expect(turtles(...args, "--out", straight).code).toBe(0);
    expect(readFileSync(out, "utf8")).toBe(readFileSync(straight, "utf8"));
  }, 120_000);

  it("needs --out for --checkpoint, and says what is wrong with a file that is not a saved sweep", () => {
    const dir = mkdtempSync(join(tmpdir(), "turtles-sweep-"));
    const args = ["sweep", overload, "--param", "services.checkout.replicas=1", "--duration", "5s"];
    expect(turtles(...args, "--checkpoint", join(dir, "x.snap")).stderr).toMatch(/^--checkpoint needs --out/);
    writeFileSync(join(dir, "bad.snap"), "not msgpack");
    const bad = turtles(...args, "--out", join(dir, "o.csv"), "--checkpoint", join(dir, "bad.snap"), "--resume");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/bad\.snap: damaged or not a Turtles saved run \(it is not a turtles-sweep\/2 file\)/);
  });
});
