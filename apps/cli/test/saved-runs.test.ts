import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import {
  decodeRunSnapshot,
  encodeRunSnapshot,
  encodeSweepSnapshot,
  ENGINE_VERSION,
  fromCsv,
  Random,
  RUN_SNAPSHOT_FORMAT,
  type RunSnapshot,
} from "@turtles/engine";
import { savedRunOf } from "@turtles/engine/testing";
import { describe, expect, it } from "vitest";
import { builtinPlugins, readScenario } from "../src/lib/scenario-file.js";

const bin = join(import.meta.dirname, "..", "bin", "run.js");
const markerPlugin = join(import.meta.dirname, "fixtures", "marker-plugin.mjs");

/** Runs the CLI; `env` adds to this process's environment. */
function turtles(args: string[], env: Record<string, string> = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", env: { ...process.env, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const SMALL = `duration: 20s
warmup: 2s
replications: 2
hostTypes: { h: { cores: 4, memory: 8GiB } }
hosts: [{ type: h, count: 2 }]
tenants:
  - name: t
    services:
      - { name: api, replicas: 2, threads: 2, load: { open: { rate: 100/s } }, request: [{ cpu: { exp: 10ms } }, { sleep: 1ms }] }
`;

function folder(): string {
  return mkdtempSync(join(tmpdir(), "turtles-saved-"));
}

/** A saved run of `file` with nothing done yet, written as `turtles run --checkpoint` writes one (checksum included). */
function craftedRun(file: string, fields: Partial<RunSnapshot>): RunSnapshot {
  return {
    format: RUN_SNAPSHOT_FORMAT,
    engine: ENGINE_VERSION,
    scenario: JSON.stringify(readScenario(file)),
    file,
    plugins: Object.fromEntries(builtinPlugins.map((p) => [p.name, p.version])),
    pluginModules: [],
    done: [],
    running: [],
    ...fields,
  };
}

/**
 * Runs `turtles args` and kills it with SIGKILL `ms` after it first wrote one of `files` (a save it made, not one of
 * an earlier run), unless it has ended by then.
 */
async function killedAfterSave(args: string[], files: string[], ms: number): Promise<void> {
  const started = Date.now();
  const child = spawn(process.execPath, [bin, ...args], { stdio: "ignore" });
  let timer: NodeJS.Timeout | undefined;
  const poll = setInterval(() => {
    if (timer || !files.some((f) => (statSync(f, { throwIfNoEntry: false })?.mtimeMs ?? 0) >= started)) return;
    timer = setTimeout(() => child.kill("SIGKILL"), ms);
  }, 20);
  await new Promise((resolve) => child.on("exit", resolve));
  clearInterval(poll);
  clearTimeout(timer);
}

/** Temporary files left in `dir`. */
function temporaries(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith(".turtles-tmp") || f.includes(".tmp-"));
}

describe("saved runs are untrusted input", () => {
  it("a saved run naming a plugin module not passed with --plugin is refused, says what to pass, and imports nothing", () => {
    const dir = folder();
    const file = join(dir, "small.yaml");
    writeFileSync(file, SMALL);
    const marker = join(dir, "imported");
    const env = { TURTLES_TEST_MARKER: marker };
    const module = pathToFileURL(markerPlugin).href;
    // Naming the module and its plugin: the plugin is not loaded.
    const withPlugin = join(dir, "with-plugin.snap");
    writeFileSync(withPlugin, encodeRunSnapshot(craftedRun(file, { pluginModules: [module], plugins: { ...craftedRun(file, {}).plugins, marker: "1.0.0" } })));
    const r = turtles(["run", "--resume", withPlugin], env);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      `${withPlugin} was saved with plugin marker 1.0.0, which is not loaded (a saved run loads only the plugins named on the command line); ` +
        `pass --plugin ${markerPlugin} to load it, or run the scenario again`,
    );
    expect(existsSync(marker)).toBe(false);
    // Naming only the module (its code would run at import): refused all the same.
    const moduleOnly = join(dir, "module-only.snap");
    writeFileSync(moduleOnly, encodeRunSnapshot(craftedRun(file, { pluginModules: [module] })));
    const m = turtles(["run", "--resume", moduleOnly], env);
    expect(m.code).toBe(2);
    expect(m.stderr).toContain(`${moduleOnly}: this run was saved with plugin module ${markerPlugin} (a saved run loads only the plugins named on the command line); pass --plugin ${markerPlugin} to load it`);
    expect(existsSync(marker)).toBe(false);
    // A sweep's checkpoint too.
    const out = join(dir, "sweep.csv");
    const sweepSnap = join(dir, "sweep.snap");
    writeFileSync(sweepSnap, encodeSweepSnapshot([{ point: { "services.api.replicas": "2" }, run: craftedRun(file, { pluginModules: [module] }) }]));
    const s = turtles(["sweep", file, "--param", "services.api.replicas=2", "--out", out, "--checkpoint", sweepSnap, "--resume"], env);
    expect(s.code).toBe(2);
    expect(s.stderr).toContain(`pass --plugin ${markerPlugin} to load it, or remove ${sweepSnap} to compute its points afresh`);
    expect(existsSync(marker)).toBe(false);
    // Passing it, as the message says, continues the run (and now the module is imported: the marker would have shown it).
    const resumed = turtles(["run", "--resume", withPlugin, "--plugin", markerPlugin, "--json"], env);
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout).manifest.replications).toBe(2);
    expect(existsSync(marker)).toBe(true);
  });

  it("a damaged or hand-edited saved run says 'damaged or not a Turtles saved run' with its name, exit 2, no stack trace", async () => {
    const dir = folder();
    const file = join(dir, "small.yaml");
    writeFileSync(file, SMALL);
    // A real saved run, made in this process: replication 0 done, 1 in progress.
    const bytes = encodeRunSnapshot(await savedRunOf(readScenario(file), builtinPlugins, 1, { file }));
    const flipped = join(dir, "flipped.snap");
    const bad = bytes.slice();
    bad[Math.floor(bad.length / 2)] ^= 4;
    writeFileSync(flipped, bad);
    const f = turtles(["run", "--resume", flipped]);
    expect(f.code).toBe(2);
    expect(f.stderr.trim()).toBe(
      `${flipped}: damaged or not a Turtles saved run (its checksum does not match its content: it was cut short or altered); ` +
        `run snapshots are written by 'turtles run --checkpoint FILE': run the scenario again without --resume`,
    );
    // Edited by hand with its checksum made to match: the same finished replication twice.
    const doubled = decodeRunSnapshot(bytes, "x");
    doubled.done.push(doubled.done[0]);
    const twice = join(dir, "twice.snap");
    writeFileSync(twice, encodeRunSnapshot(doubled));
    const t = turtles(["run", "--resume", twice, "--json"]);
    expect(t.code).toBe(2);
    expect(t.stderr).toMatch(new RegExp(`^${twice}: damaged or not a Turtles saved run \\(done lists replication 0 twice\\)`));
    expect(t.stdout).toBe("");
    for (const r of [f, t]) expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it("a checkpointed run killed with SIGKILL at random moments and resumed gives the uninterrupted results; --out is absent or whole", { timeout: 120_000 }, async () => {
    const dir = folder();
    const file = join(dir, "long.yaml");
    writeFileSync(file, SMALL.replace("duration: 20s", "duration: 200s"));
    const straight = join(dir, "straight.json");
    // Temporaries a killed run left beside the target go on the next run in that folder.
    writeFileSync(join(dir, ".straight.json.999999999.turtles-tmp"), "half");
    writeFileSync(join(dir, "straight.json.tmp-999999999"), "half");
    expect(turtles(["run", file, "--out", straight, "--workers", "2"]).code).toBe(0);
    expect(temporaries(dir)).toEqual([]);
    const expected = readFileSync(straight, "utf8");
    const out = join(dir, "out.json");
    const snap = join(dir, "run.snap");
    const args = (): string[] => [...(existsSync(snap) ? ["run", "--resume", snap] : ["run", file, "--checkpoint", snap]), "--out", out, "--workers", "2", "--checkpoint-every", "100ms"];
    const random = Random.fromKey(11, "kill-run");
    let resumed = 0;
    for (let k = 0; k < 3; k++) {
      if (existsSync(snap)) resumed++;
      await killedAfterSave(args(), [snap, out], random.below(1000));
      if (existsSync(out)) expect(readFileSync(out, "utf8"), `after kill ${k + 1}`).toBe(expected);
    }
    // Killed after a save, each run left one for the next to continue (unless it completed first).
    if (existsSync(snap)) resumed++;
    expect(resumed).toBeGreaterThan(0);
    const last = turtles(args());
    expect(last.code, last.stderr).toBe(0);
    expect(readFileSync(out, "utf8")).toBe(expected);
    expect(existsSync(snap)).toBe(false);
    expect(temporaries(dir)).toEqual([]);
  });

  it("a checkpointed sweep killed with SIGKILL at random moments and resumed gives the uninterrupted rows; --out is absent or whole", { timeout: 120_000 }, async () => {
    const dir = folder();
    const file = join(dir, "small.yaml");
    // Long enough (about 5 s of work) that a kill up to a second after a save lands before the sweep ends.
    writeFileSync(file, SMALL.replace("duration: 20s", "duration: 300s"));
    const grid = ["--param", "services.api.replicas=1,2,3", "--workers", "2"];
    const straight = join(dir, "straight.csv");
    expect(turtles(["sweep", file, ...grid, "--out", straight]).code).toBe(0);
    const expected = readFileSync(straight, "utf8");
    const rows = fromCsv(expected);
    const out = join(dir, "out.csv");
    const snap = join(dir, "sweep.snap");
    const args = ["sweep", file, ...grid, "--out", out, "--checkpoint", snap, "--checkpoint-every", "100ms", "--resume"];
    const random = Random.fromKey(11, "kill-sweep");
    let resumed = 0;
    for (let k = 0; k < 3; k++) {
      if (existsSync(snap)) resumed++;
      await killedAfterSave(args, [snap, out], random.below(1000));
      if (!existsSync(out)) continue;
      // Whole: the rows of the points done so far, each as the uninterrupted sweep has it.
      const text = readFileSync(out, "utf8");
      expect(text.endsWith("\n"), `after kill ${k + 1}`).toBe(true);
      for (const row of fromCsv(text)) expect(row, `after kill ${k + 1}`).toEqual(rows.find((r) => r["services.api.replicas"] === row["services.api.replicas"]));
    }
    if (existsSync(snap)) resumed++;
    expect(resumed).toBeGreaterThan(0);
    const last = turtles(args);
    expect(last.code, last.stderr).toBe(0);
    expect(readFileSync(out, "utf8")).toBe(expected);
    expect(existsSync(snap)).toBe(false);
    expect(temporaries(dir)).toEqual([]);
  });
});
