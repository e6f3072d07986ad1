// --html FILE writes the self-contained report of run, compare and sweep: checked before any work as --out is (bad
// input, exit 2, nothing written), written atomically after it, the same bytes for the same command, and a failed
// write is said with exit code 1 while the other outputs stay. The browser opens these reports in e2e/report.mjs.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";

const bin = join(import.meta.dirname, "..", "bin", "run.js");
const examples = join(import.meta.dirname, "..", "..", "..", "examples");
const webTier = join(examples, "web-tier.yaml");
const fullDisk = pathToFileURL(join(import.meta.dirname, "fixtures", "full-disk.mjs")).href;
const short = ["--duration", "2s", "--replications", "2"];

function turtles(args: string[], options: { full?: string } = {}): { code: number | null; stdout: string; stderr: string } {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
  if (options.full !== undefined) Object.assign(env, { NODE_OPTIONS: `--import=${fullDisk}`, FULL_DISK: options.full });
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const dir = (): string => mkdtempSync(join(tmpdir(), "turtles-html-"));
const uplot = readFileSync(createRequire(import.meta.url).resolve("uplot/dist/uPlot.iife.min.js"), "utf8");

describe("--html", () => {
  it("compare: one file with the library inlined and a chart per figure, byte-identical for any --workers, the --out results unchanged by it", () => {
    const d = dir();
    const a = turtles(["compare", webTier, ...short, "--workers", "2", "--html", join(d, "a.html"), "--out", join(d, "a.json")]);
    expect(a.code, a.stderr).toBe(0);
    const b = turtles(["compare", webTier, ...short, "--workers", "1", "--html", join(d, "b.html"), "--out", join(d, "b.json")]);
    const html = readFileSync(join(d, "a.html"), "utf8");
    expect(readFileSync(join(d, "b.html"), "utf8")).toBe(html);
    expect(html.length).toBeGreaterThan(uplot.length);
    expect(html).toContain(uplot.slice(0, 200));
    for (const id of ["latency-cdf.shop/frontend", "series.throughput", "series.latencyP99", "series.cpuUtilization", "lifecycle", "memory"]) expect(html).toContain(`data-chart="${id}"`);
    expect(html).toMatch(/<th>baremetal<\/th><th>containers<\/th>/);
    expect(readFileSync(join(d, "a.json"), "utf8")).toBe(turtles(["compare", webTier, ...short, "--json"]).stdout);
    expect(b.stdout).toBe(a.stdout);
  });

  it("run and sweep: the report of the run, and of every point (a chart per figure against the parameter)", () => {
    const d = dir();
    const run = turtles(["run", webTier, ...short, "--html", join(d, "run.html")]);
    expect(run.code, run.stderr).toBe(0);
    expect(readFileSync(join(d, "run.html"), "utf8")).toContain('data-chart="latency-cdf.shop/frontend"');
    const sweep = turtles(["sweep", webTier, "--param", "services.frontend.replicas=12,24", "--duration", "2s", "--replications", "1", "--out", join(d, "rows.csv"), "--html", join(d, "sweep.html")]);
    expect(sweep.code, sweep.stderr).toBe(0);
    const html = readFileSync(join(d, "sweep.html"), "utf8");
    expect(html).toContain('data-chart="sweep.shop/frontend.throughput"');
    expect(html).toContain("<title>web-tier: sweep of services.frontend.replicas</title>");
    expect(readdirSync(d).sort()).toEqual(["rows.csv", "run.html", "sweep.html"]);
  });

  it("refuses, before any work, a folder, a device, a missing folder and the file of --out or the scenario: exit 2, nothing written", () => {
    const d = dir();
    mkdirSync(join(d, "sub"));
    const cases: [string[], string][] = [
      [["run", webTier, ...short, "--html", join(d, "sub")], `--html: ${join(d, "sub")} is a folder; give a file in it, such as ${join(d, "sub", "report.html")}\n`],
      [["compare", webTier, ...short, "--html", "/dev/null"], "--html: /dev/null is a character device, not a regular file: writing would replace it; give the name of a file\n"],
      [["sweep", webTier, "--param", "services.frontend.replicas=1", ...short, "--html", join(d, "none", "r.html")], `--html: cannot write ${join(d, "none", "r.html")}: its folder does not exist\n`],
      [["run", webTier, ...short, "--out", join(d, "r.json"), "--html", join(d, "r.json")], `--html: ${join(d, "r.json")} is another file of this command (its scenario, points or checkpoint); give another file\n`],
      [["compare", webTier, ...short, "--html", webTier], `--html: ${webTier} is another file of this command (its scenario, points or checkpoint); give another file\n`],
    ];
    for (const [args, message] of cases) {
      const r = turtles(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toBe(message);
      expect(r.stdout).toBe("");
    }
    expect(readdirSync(d)).toEqual(["sub"]);
    expect(readdirSync(join(d, "sub"))).toEqual([]);
  });

  it("a write that fails at the end (a full disk): says which file and why, exit 1, the results in --out and on stdout stay", () => {
    const d = dir();
    const r = turtles(["run", webTier, ...short, "--out", join(d, "r.json"), "--html", join(d, "r.html")], { full: "r\\.html" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error: could not write the report to ${join(d, "r.html")}: no space left on the device (ENOSPC)\n`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toMatch(/^web-tier: 2 replications/);
    expect(existsSync(join(d, "r.html"))).toBe(false);
    expect(readdirSync(d)).toEqual(["r.json"]);
  });
});
