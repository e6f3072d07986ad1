import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";

const bin = join(import.meta.dirname, "..", "bin", "run.js");
const examples = join(import.meta.dirname, "..", "..", "..", "examples");

function turtles(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const SMALL = `duration: 20s
warmup: 2s
replications: 2
hostTypes: { h: { cores: 4, memory: 8GiB, power: { idle: 100W, max: 200W }, cost: { perHour: 3.6 } } }
hosts: [{ type: h, count: 2 }]
tenants:
  - name: t
    services:
      - { name: api, replicas: 2, threads: 2, load: { open: { rate: 100/s } }, request: [{ cpu: { exp: 10ms } }, { sleep: 1ms }], slo: { p99: 50ms } }
`;

/** Two VMs of 4 vCPUs, each with 4 busy threads, placed 2:1 on the first of two 4-core hosts. */
const OVERCOMMITTED = readFileSync(join(import.meta.dirname, "fixtures", "overcommitted.yaml"), "utf8");

/** Runs `turtles args`, presses Ctrl-C once it has printed its first progress line (so it is simulating, with its handler set). */
async function interrupted(...args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  await new Promise<void>((resolve) =>
    child.stderr.on("data", (d) => {
      stderr += d;
      if (/replications \d+\/\d+ done/.test(stderr)) resolve();
    }),
  );
  child.kill("SIGINT");
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  return { code, stderr };
}

function tmp(name: string, text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), "turtles-run-")), name);
  writeFileSync(file, text);
  return file;
}

describe("turtles run", () => {
  it("prints tables per service and per host type", () => {
    const r = turtles("run", tmp("small.yaml", SMALL));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^small: 2 replications of 20\.0s measured after 2\.00s warm-up \(seed 1\)/);
    expect(r.stdout).toMatch(/service\s+stack\s+completed\s+dropped\s+failed\s+req\/s\s+mean\s+p50\s+p90\s+p99\s+p99\.9\s+SLO miss/);
    expect(r.stdout).toMatch(/t\/api\s+baremetal\s+\d+\s+0\s+0\s+\d+/);
    expect(r.stdout).toMatch(/host type\s+hosts\s+used\s+cpu\s+memory used\s+reserved\s+peak\s+swapping\nh\s+2\s+1\s/); // first-fit: both 1-core replicas on the first host
    expect(r.stdout).toMatch(/energy [\d.]+ kWh, cost 0\.0400/);
  });

  it("shows steal per host type and per VM when VMs share overcommitted cores, and refuses a cpuOvercommit of 0 located, with exit code 2", () => {
    const r = turtles("run", tmp("oc.yaml", OVERCOMMITTED));
    expect(r.code).toBe(0);
    // Two 4-vCPU VMs with 4 busy threads each on the 4-core dense host (2:1): 2 cores of steal each over 4 s.
    expect(r.stdout).toMatch(/host type\s+hosts\s+used\s+cpu\s+memory used\s+reserved\s+peak\s+swapping\s+steal\ndense\s+1\s+1\s+100\.0%.*\s16\.0 core-s\nspare\s+1\s+0\s.*\s0\n/);
    expect(r.stdout).toMatch(/steal 16\.0 core-s, kernels 4/);
    expect(r.stdout).toMatch(/vm steal mean 2\.00 cores, p99 2\.00 cores/);
    const bad = turtles("run", tmp("oc.yaml", OVERCOMMITTED.replace("cpuOvercommit: 2", "cpuOvercommit: 0")));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/oc\.yaml:5:\d+: placement\.cpuOvercommit: must be more than 0, found 0/);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });

  it("runs a rate profile read from a CSV beside the scenario, and prints throughput and p99 per window as sparklines", () => {
    const file = tmp("ramp.yaml", SMALL.replace("rate: 100/s", "rate: { csv: rates.csv, shape: ramp }"));
    writeFileSync(join(file, "..", "rates.csv"), "t,rate\n0,20\n22,200\n");
    const r = turtles("run", file);
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.code).toBe(0);
    // A ramp from 20/s to 200/s: the windows' throughput rises from the first to the last bar.
    const line = r.stdout.split("\n").find((l) => l.startsWith("  req/s "))!;
    expect(line).toMatch(/^  req\/s ▁[▁▂].*[▇█]  \d+\.?\d* to \d+/);
    expect(r.stdout).toMatch(/per 333ms window:\n  req\/s .*\n  p99   [▁▂▃▄▅▆▇█]+  [\d.]+ms to [\d.]+ms/);
    // Without the file: the field, the file and what to do.
    const lost = tmp("lost.yaml", SMALL.replace("rate: 100/s", "rate: { csv: gone.csv }"));
    const bad = turtles("validate", lost);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/lost\.yaml:9:\d+: tenants\.t\.services\.api\.load\.open\.rate\.csv: cannot read gone\.csv: no such file/);
    // A constant rate prints no series.
    expect(turtles("run", tmp("flat.yaml", SMALL)).stdout).not.toMatch(/window:/);
  });

  it("prints results JSON alone on stdout with --json, and the same results with --out, written whole", () => {
    const file = tmp("small.yaml", SMALL);
    const out = join(file, "..", "results.json");
    const r = turtles("run", file, "--json", "--out", out);
    expect(r.code).toBe(0);
    const results = JSON.parse(r.stdout);
    expect(results.format).toBe("turtles-results/1");
    expect(results.manifest).toMatchObject({ engine: "0.1.0", plugins: { baremetal: "0.1.0" }, scenario: "small", seed: 1, replications: 2 });
    expect(results.manifest.scenarioHash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(results.manifest.replicationSeeds).toHaveLength(2);
    const svc = results.stacks.baremetal.services["t/api"];
    expect(svc.throughput).toBeGreaterThan(95);
    expect(svc.throughput).toBeLessThan(105);
    expect(results.stacks.baremetal.ci95.services["t/api"].throughput).toBeGreaterThan(0);
    expect(results.stacks.baremetal.series.t).toHaveLength(60);
    expect(JSON.parse(readFileSync(out, "utf8"))).toEqual(results);
    expect(readdirSync(join(file, "..")).filter((f) => f.endsWith(".turtles-tmp"))).toEqual([]);
  });

  it("gives byte-identical results for the same scenario and seed, and different ones for another seed", () => {
    const file = tmp("small.yaml", SMALL);
    const a = turtles("run", file, "--json").stdout;
    const b = turtles("run", file, "--json").stdout;
    const c = turtles("run", file, "--json", "--seed", "2").stdout;
    expect(b).toBe(a);
    expect(c).not.toBe(a);
  });

  it("gives the same bytes with --workers 1 and --workers 2", () => {
    const file = tmp("small.yaml", SMALL);
    const one = turtles("run", file, "--json", "--workers", "1");
    const two = turtles("run", file, "--json", "--workers", "2");
    expect(one.code).toBe(0);
    expect(two.stdout).toBe(one.stdout);
  });

  it("applies --seed, --duration and --replications, and refuses a bad duration with exit code 2", () => {
    const file = tmp("small.yaml", SMALL);
    const r = JSON.parse(turtles("run", file, "--json", "--seed", "9", "--duration", "5s", "--replications", "1").stdout);
    expect(r.manifest).toMatchObject({ seed: 9, duration: 5, replications: 1 });
    expect(r.stacks.baremetal.ci95).toBeNull();
    const bad = turtles("run", file, "--duration", "5 sec");
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe('--duration: expected a duration such as 250us, 10ms, 2s or 5m, found "5 sec" (units are case-sensitive: did you mean "5s"?)');
  });

  it("reports replicas that do not fit on the terminal and in the results", () => {
    const file = tmp("tight.yaml", SMALL.replace("replicas: 2,", "replicas: 3, cores: 4,"));
    const r = turtles("run", file, "--json");
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("warning: 1 replica of t/api not placed: no host has room (stack baremetal: a replica reserves 4 cores and 0 B)");
    expect(JSON.parse(r.stdout).unplaced).toEqual([{ tenant: "t", service: "api", replicas: 1, reason: "no host has room (stack baremetal: a replica reserves 4 cores and 0 B)" }]);
  });

  it("runs the DESIGN.md web shop: calls between services and disk reads, with a table of who calls whom", () => {
    const r = turtles("run", join(examples, "web-shop.yaml"), "--duration", "5s", "--replications", "1");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/caller\s+callee\s+calls\/s\s+call latency\nshop\/frontend\s+shop\/db\s+\d+/);
  });

  it("runs the starter that turtles init writes", () => {
    const file = join(mkdtempSync(join(tmpdir(), "turtles-init-run-")), "starter.yaml");
    expect(turtles("init", file).code).toBe(0);
    const r = turtles("run", file, "--duration", "5s", "--replications", "1", "--json");
    expect(r.code).toBe(0);
    const services = JSON.parse(r.stdout).stacks.scenario.services;
    expect(services["shop/web"].completed).toBeGreaterThan(1500);
    expect(services["shop/web"].failed).toBe(0);
  });

  it("stops cleanly on Ctrl-C and writes nothing", async () => {
    const file = tmp("long.yaml", SMALL.replace("duration: 20s", "duration: 100000s"));
    const out = join(file, "..", "results.json");
    const { code, stderr } = await interrupted("run", file, "--out", out);
    expect(code).toBe(130);
    expect(stderr).toContain("stopped by Ctrl-C: nothing was written");
    expect(existsSync(out)).toBe(false);
  }, 30_000);

  it("saves a run on Ctrl-C with --checkpoint, and --resume continues it to the results of an uninterrupted run", async () => {
    // Long enough (seconds a replication) to be stopped at its first progress, while both run on their workers.
    const file = tmp("long.yaml", SMALL.replace("duration: 20s", "duration: 20000s"));
    const snap = join(file, "..", "run.snap");
    const { code, stderr } = await interrupted("run", file, "--checkpoint", snap, "--workers", "2");
    expect(code).toBe(130);
    expect(stderr).toContain(`the run is saved in ${snap}; continue it with: turtles run --resume ${snap}`);
    expect(existsSync(snap)).toBe(true);
    expect(readdirSync(join(file, "..")).filter((f) => f.endsWith(".turtles-tmp"))).toEqual([]);
    // A started run's file is not overwritten by a new run; changing the saved run's settings is refused.
    expect(turtles("run", file, "--checkpoint", snap).stderr).toMatch(/already exists; continue that run with --resume/);
    expect(turtles("run", "--resume", snap, "--seed", "3").stderr).toMatch(/--seed cannot change a saved run/);
    expect(turtles("run", tmp("other.yaml", SMALL), "--resume", snap).stderr).toMatch(/is a run of another scenario/);
    const resumed = turtles("run", file, "--resume", snap, "--workers", "2", "--json");
    expect(resumed.code).toBe(0);
    expect(existsSync(snap)).toBe(false); // complete: the saved state is removed
    const straight = turtles("run", file, "--json");
    expect(resumed.stdout).toBe(straight.stdout);
  }, 120_000);

  it("says what is wrong with a file that is not a saved run", () => {
    const r = turtles("run", "--resume", tmp("x.snap", "not msgpack at all"));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/x\.snap: damaged or not a Turtles saved run \(it is not a turtles-snapshot\/2 file\)/);
    expect(turtles("run").stderr).toMatch(/give a scenario file .* or a saved run to continue/);
    const nowhere = turtles("run", tmp("small.yaml", SMALL), "--checkpoint", "/nonexistent/dir/run.snap");
    expect(nowhere.code).toBe(2);
    expect(nowhere.stderr).toMatch(/--checkpoint: cannot write \/nonexistent\/dir\/run.snap: its folder does not exist/);
  });

  describe("plugin code that misbehaves runs where it can always be stopped, with --workers 1 too", () => {
    const engine = pathToFileURL(join(import.meta.dirname, "..", "node_modules", "@turtles", "engine", "dist", "plugin", "index.js")).href;
    /** A plugin module of a layer whose cpu hook runs `body` from its 100,000th call (progress has shown by then), and an hour-long scenario on it. */
    function misbehaving(body: string): { plugin: string; file: string } {
      const dir = mkdtempSync(join(tmpdir(), "turtles-misbehaving-"));
      const plugin = join(dir, "plugin.mjs");
      writeFileSync(
        plugin,
        `import { definePlugin, fields } from ${JSON.stringify(engine)};
let calls = 0;
export const bad = definePlugin({ name: "bad", layer: "bad", version: "1.0.0", schema: fields({}), setup(api) {
  api.layerRules({ size: (_e, p) => ({ request: { cores: 0, memory: 0 }, capacity: p }), cpu: () => ({ weight: 1 }), path: () => ({}) });
  api.hook("cpu", () => { if (++calls > 100000) { ${body} } });
} });
`,
      );
      const file = join(dir, "s.yaml");
      writeFileSync(file, SMALL.replace("duration: 20s", "duration: 1h").replace("replications: 2", "replications: 1\nstacks: { b: [{ layer: bad }] }\ndefaults: { stack: b }"));
      return { plugin, file };
    }

    it("a hook that calls process.exit fails its replication, named with its seed and the plugin: exit 1, no output file", () => {
      const { plugin, file } = misbehaving("process.exit(7);");
      const out = join(file, "..", "out.json");
      const r = turtles("run", file, "--plugin", plugin, "--workers", "1", "--out", out);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/replication 0 \(seed \d+, from root seed 1\) failed in its worker: .*plugin bad, hook "cpu"/);
      expect(r.stderr).toMatch(/process\.exit\(7\) was called/);
      expect(existsSync(out)).toBe(false);
    });

    it("a hook that never returns still stops on Ctrl-C", { timeout: 60_000 }, async () => {
      const { plugin, file } = misbehaving("for (;;);");
      const { code, stderr } = await interrupted("run", file, "--plugin", plugin, "--workers", "1");
      expect(code).toBe(130);
      expect(stderr).toMatch(/stopped by Ctrl-C: nothing was written/);
    });
  });
});
