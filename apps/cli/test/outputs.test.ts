// Outputs never destroy or lose anything: --out and --checkpoint never replace a device, FIFO or socket (checked
// before any work), a link to a file is written through, and when writing fails at the end (a full disk) the
// command says which file and why, keeps what it computed (a sweep goes on) and prints it on stdout, exit code 1.
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, lstatSync, mkdtempSync, openSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { fromCsv, type Results } from "@turtles/engine";
import { describe, expect, it } from "vitest";

const bin = join(import.meta.dirname, "..", "bin", "run.js");
const examples = join(import.meta.dirname, "..", "..", "..", "examples");
const overload = join(examples, "overload.yaml");
const fullDisk = pathToFileURL(join(import.meta.dirname, "fixtures", "full-disk.mjs")).href;

/** Runs turtles; `full` is a regular expression of the paths whose writes fail with ENOSPC, `stdout` a file descriptor. */
function turtles(args: string[], options: { full?: string; times?: number; stdout?: number } = {}): { code: number | null; stdout: string; stderr: string } {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
  if (options.full !== undefined) Object.assign(env, { NODE_OPTIONS: `--import=${fullDisk}`, FULL_DISK: options.full, FULL_DISK_TIMES: String(options.times ?? Infinity) });
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", env, stdio: ["ignore", options.stdout ?? "pipe", "pipe"] });
  return { code: r.status, stdout: r.stdout ?? "", stderr: r.stderr };
}

const dir = (): string => mkdtempSync(join(tmpdir(), "turtles-outputs-"));
const short = ["--duration", "2s", "--workers", "1"];

/** A FIFO at `path` (mkfifo(1) is in coreutils). */
function fifo(path: string): string {
  expect(spawnSync("mkfifo", [path]).status).toBe(0);
  return path;
}

describe("--out and --checkpoint onto what is not a regular file", () => {
  it("refuses a device, before any work, leaving it a device; stdout is --json", () => {
    const r = turtles(["run", overload, ...short, "--out", "/dev/null"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("--out: /dev/null is a character device, not a regular file: writing would replace it; give the name of a file; to write the results to stdout, use --json\n");
    expect(r.stdout).toBe("");
    expect(statSync("/dev/null").isCharacterDevice()).toBe(true);
  });

  it("refuses a FIFO and a link to a device, for run, compare, sweep and --checkpoint, and leaves them as they were", () => {
    const d = dir();
    const pipe = fifo(join(d, "pipe"));
    const link = join(d, "null.json");
    symlinkSync("/dev/null", link);
    const cases: [string[], RegExp][] = [
      [["run", overload, ...short, "--out", pipe], /^--out: .*pipe is a FIFO \(named pipe\), not a regular file: .*use --json\n$/],
      [["compare", join(examples, "batch.yaml"), ...short, "--out", link], /^--out: .*null\.json is a character device, not a regular file/],
      [["sweep", overload, "--param", "services.checkout.replicas=1,2", ...short, "--out", pipe], /^--out: .*pipe is a FIFO .*; without --out the rows go to stdout\n$/],
      [["run", overload, ...short, "--checkpoint", pipe], /^--checkpoint: .*pipe is a FIFO \(named pipe\), not a regular file: writing would replace it; give the name of a file\n$/],
    ];
    for (const [args, message] of cases) {
      const r = turtles(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/replications \d|point \d/); // refused before any work
    }
    expect(lstatSync(pipe).isFIFO()).toBe(true);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readdirSync(d).sort()).toEqual(["null.json", "pipe"]);
  });

  it("writes through a link to a regular file: the link stays a link, the file it names gets the results", () => {
    const d = dir();
    writeFileSync(join(d, "real.json"), "old");
    symlinkSync("real.json", join(d, "link.json"));
    const r = turtles(["run", overload, ...short, "--out", join(d, "link.json")]);
    expect(r.code).toBe(0);
    expect(lstatSync(join(d, "link.json")).isSymbolicLink()).toBe(true);
    expect((JSON.parse(readFileSync(join(d, "real.json"), "utf8")) as Results).format).toBe("turtles-results/1");
    expect(readdirSync(d).sort()).toEqual(["link.json", "real.json"]);
  });
});

describe("a write that fails at the end (a full disk)", () => {
  it("run: says which file and why, prints the results on stdout after the table, keeps the checkpoint, exit 1", () => {
    const d = dir();
    const out = join(d, "r.json");
    const snap = join(d, "run.snap");
    // Saves during the run (every 1 ms of wall time, between chunks of events: the run has several), then every
    // write of r.json fails.
    const r = turtles(["run", overload, "--duration", "5m", "--workers", "1", "--out", out, "--checkpoint", snap, "--checkpoint-every", "1ms"], { full: "r\\.json" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error: could not write the results to ${out}: no space left on the device (ENOSPC); the results are printed on stdout instead\n`);
    expect(r.stderr).toContain(`the run is still saved in ${snap}: once ${out} can be written, turtles run --resume ${snap} --out ${out} gives these results again\n`);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(r.stdout).toMatch(/^overload: 2 replications/);
    const results = JSON.parse(r.stdout.slice(r.stdout.indexOf('{\n  "format"'))) as Results;
    expect(results.stacks.baremetal.services["api/checkout"].completed).toBeGreaterThan(0);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(d)).toEqual(["run.snap"]);
    // The saved run gives the same results once the disk has room.
    const again = turtles(["run", "--resume", snap, "--out", out, "--workers", "1"]);
    expect(again.code).toBe(0);
    expect(JSON.parse(readFileSync(out, "utf8"))).toEqual(results);
  });

  it("run --json: the results are on stdout already; the file's failure is said, exit 1", () => {
    const out = join(dir(), "r.json");
    const r = turtles(["run", overload, ...short, "--json", "--out", out], { full: "r\\.json" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error: could not write the results to ${out}: no space left on the device (ENOSPC); the results are on stdout (--json)\n`);
    expect((JSON.parse(r.stdout) as Results).format).toBe("turtles-results/1");
  });

  it("compare: every stack's results are printed on stdout, exit 1", () => {
    const out = join(dir(), "c.json");
    const r = turtles(["compare", join(examples, "batch.yaml"), ...short, "--out", out], { full: "c\\.json" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error: could not write the results to ${out}: no space left on the device (ENOSPC)`);
    const results = JSON.parse(r.stdout.slice(r.stdout.indexOf('{\n  "format"'))) as Results;
    expect(Object.keys(results.stacks)).toEqual(["baremetal", "vms"]);
  });

  it("sweep: goes on through every point, writes the rows once it can, and warns once", () => {
    const out = join(dir(), "s.csv");
    // The first two writes of the rows fail (after points 1 and 2), the third (after point 3) and the last succeed.
    const r = turtles(["sweep", overload, "--param", "services.checkout.replicas=1,2,3", ...short, "--out", out], { full: "s\\.csv", times: 2 });
    expect(r.code).toBe(0);
    expect(r.stderr.match(/warning: could not write the rows/g)).toHaveLength(1);
    expect(r.stderr).toContain(`warning: could not write the rows to ${out}: no space left on the device (ENOSPC); the sweep goes on, keeps its rows and writes them after the next point\n`);
    expect(r.stderr.match(/^point \d\/3 .* done/gm)).toHaveLength(3);
    expect(fromCsv(readFileSync(out, "utf8")).map((row) => row["services.checkout.replicas"])).toEqual(["1", "2", "3"]);
  });

  it("sweep: when the rows can never be written, they are printed on stdout at the end, exit 1", () => {
    const out = join(dir(), "s.csv");
    const r = turtles(["sweep", overload, "--param", "services.checkout.replicas=1,2", ...short, "--out", out], { full: "s\\.csv" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error: could not write the rows to ${out}: no space left on the device (ENOSPC); the rows are printed on stdout instead\n`);
    const rows = fromCsv(r.stdout);
    expect(rows.map((row) => row["services.checkout.replicas"])).toEqual(["1", "2"]);
    expect(rows.every((row) => Number(row["api/checkout.throughput"]) > 0)).toBe(true);
    expect(existsSync(out)).toBe(false);
  });

  it("stdout on a full device (--json > /dev/full): says so, with where the results are, no stack trace, exit 1", () => {
    const full = openSync("/dev/full", "w");
    try {
      const bare = turtles(["run", overload, ...short, "--json"], { stdout: full });
      expect(bare.code).toBe(1);
      expect(bare.stderr).toContain("error: cannot write to stdout: no space left on the device (ENOSPC); give --out FILE to keep them in a file\n");
      expect(bare.stderr).not.toMatch(/\n\s+at /);
      const out = join(dir(), "r.json");
      const kept = turtles(["run", overload, ...short, "--out", out], { stdout: full });
      expect(kept.code).toBe(1);
      expect(kept.stderr).toContain(`error: cannot write to stdout: no space left on the device (ENOSPC); the results are in ${out}\n`);
      expect((JSON.parse(readFileSync(out, "utf8")) as Results).format).toBe("turtles-results/1");
      const sweep = turtles(["sweep", overload, "--param", "services.checkout.replicas=1", ...short], { stdout: full });
      expect(sweep.code).toBe(1);
      expect(sweep.stderr).toContain("error: cannot write to stdout: no space left on the device (ENOSPC)");
    } finally {
      closeSync(full);
    }
  });
});
