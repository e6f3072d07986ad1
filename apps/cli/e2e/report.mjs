// Browser check of the HTML reports: `turtles run`, `compare` and `sweep` write a report of a bundled example (short
// duration); headless Chromium (Debian's, driven by playwright-core) opens each file from disk and checks that the
// page logs no error, requests nothing, and that each chart plots as many points as the results hold values for it
// (counted here from the results JSON, independently of the report code). Screenshots go to test-results/ as
// artefacts. Writes test-results/e2e.json ({ numPassedTests, numFailedTests }) for the summary line of `npm test`.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";

const root = join(import.meta.dirname, "..");
const results = join(root, "test-results");
mkdirSync(results, { recursive: true });
const report = (passed, failed, note) => writeFileSync(join(results, "e2e.json"), JSON.stringify({ numPassedTests: passed, numFailedTests: failed, note }));
const executablePath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
if (!existsSync(executablePath)) {
  console.log(`e2e skipped: no browser at ${executablePath} (install chromium, or set CHROMIUM_PATH)`);
  report(0, 0, "skipped: no chromium");
  process.exit(0);
}

const work = mkdtempSync(join(tmpdir(), "turtles-report-e2e-"));
const example = join(root, "..", "..", "examples", "web-tier.yaml");
const turtles = (...args) => execFileSync(process.execPath, [join(root, "bin", "run.js"), ...args], { stdio: ["ignore", "ignore", "pipe"] });
// Short runs: web-tier's warm-up (10 s) is most of the simulated time anyway.
const short = ["--duration", "3s", "--workers", "2"];
const json = (file) => JSON.parse(readFileSync(join(work, file), "utf8"));

const count = (values) => values.filter((v) => v !== null && v !== undefined).length;

/** The points each chart of a run's or a comparison's report should have, by chart id, read from the results. */
function expectedOfResults(r) {
  const out = {};
  const stacks = Object.entries(r.stacks);
  const services = [...new Set(stacks.flatMap(([, st]) => Object.keys(st.services)))];
  // The distribution's steps: several probabilities at one latency are one point.
  for (const key of services) out[`latency-cdf.${key}`] = stacks.reduce((n, [, st]) => n + new Set(Object.values(st.services[key]?.latency.cdf ?? {}).filter((v) => v !== null)).size, 0);
  for (const f of ["throughput", "latencyP99", "cpuUtilization"]) out[`series.${f}`] = stacks.reduce((n, [, st]) => n + count(st.series[f]), 0);
  out.lifecycle = stacks.reduce((n, [, st]) => n + count([st.lifecycle.ready?.p50, st.lifecycle.ready?.p99, st.lifecycle.recovery?.p50, st.lifecycle.recovery?.p99]), 0);
  out.memory = stacks.reduce((n, [, st]) => n + count([st.hosts.memoryUsed, st.hosts.memoryReserved, st.hosts.memoryOverhead]), 0);
  const c = r.comparison;
  if (c) {
    const shown = c.figures.filter((f) => c.stacks.some((s) => s !== c.baseline && f.stacks[s]?.difference) && f.stacks[c.baseline]?.value);
    if (shown.length > 0) out.differences = shown.reduce((n, f) => n + c.stacks.filter((s) => s !== c.baseline && f.stacks[s]?.difference).length, 0);
  }
  return out;
}

/** The points of each chart of a sweep's report: a figure's values over the points done (stack columns together). */
function expectedOfSweep(rows, params) {
  const out = {};
  for (const r of rows.filter((r) => !r.error)) {
    for (const [col, v] of Object.entries(r)) {
      if (params.includes(col) || ["scenarioHash", "error", "unplaced"].includes(col) || col.endsWith(".ci95") || typeof v !== "number") continue;
      const name = col.replace(/^.+\.(hosts\.cpuUtilization|hosts\.used|energy\.joules|cost\.total)$/, "$1");
      out[`sweep.${name}`] = (out[`sweep.${name}`] ?? 0) + 1;
    }
  }
  return out;
}

const checks = [
  [
    "a comparison's report (web-tier on baremetal and containers)",
    "compare.png",
    () => {
      turtles("compare", example, ...short, "--replications", "2", "--out", join(work, "compare.json"), "--html", join(work, "compare.html"));
      return { file: "compare.html", expected: expectedOfResults(json("compare.json")) };
    },
  ],
  [
    "a run's report (web-tier)",
    "run.png",
    () => {
      turtles("run", example, ...short, "--replications", "1", "--out", join(work, "run.json"), "--html", join(work, "run.html"));
      return { file: "run.html", expected: expectedOfResults(json("run.json")) };
    },
  ],
  [
    "a sweep's report (web-tier: replicas by stack)",
    "sweep.png",
    () => {
      const params = ["services.frontend.replicas", "services.frontend.stack"];
      turtles("sweep", example, "--param", `${params[0]}=12,24`, "--param", `${params[1]}=baremetal,containers`, "--duration", "2s", "--replications", "1", "--workers", "2", "--out", join(work, "sweep.json"), "--html", join(work, "sweep.html"));
      return { file: "sweep.html", expected: expectedOfSweep(json("sweep.json"), params) };
    },
  ],
];

const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "turtles-e2e-")), {
  executablePath,
  headless: true,
  viewport: { width: 1280, height: 900 },
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});

let passed = 0;
let failed = 0;
for (const [name, screenshot, make] of checks) {
  const t0 = Date.now();
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (err) => errors.push(err.message));
  page.on("console", (msg) => msg.type() === "error" && errors.push(msg.text()));
  // A self-contained report asks for nothing but its own file.
  page.on("request", (req) => req.url().startsWith("file:") || req.url().startsWith("data:") || errors.push(`request to ${req.url()}`));
  try {
    const { file, expected } = make();
    await page.goto(pathToFileURL(join(work, file)).href);
    await page.waitForSelector("body[data-state=drawn]", { timeout: 10_000 });
    const charts = await page.$$eval(".chart", (els) => els.map((e) => ({ id: e.dataset.chart, points: Number(e.dataset.points), canvas: e.querySelector("canvas") !== null })));
    const ids = charts.map((c) => c.id).sort();
    if (JSON.stringify(ids) !== JSON.stringify(Object.keys(expected).sort())) throw new Error(`charts ${ids.join(", ")}; expected ${Object.keys(expected).sort().join(", ")}`);
    for (const c of charts) {
      if (!c.canvas) throw new Error(`chart ${c.id} drew no canvas`);
      if (c.points !== expected[c.id]) throw new Error(`chart ${c.id} plots ${c.points} points; the results hold ${expected[c.id]}`);
    }
    if (!charts.some((c) => c.points > 0)) throw new Error("no chart has a point");
    const tables = await page.$$eval("table tr", (rows) => rows.length);
    if (tables < 5) throw new Error(`the tables have ${tables} rows`);
    await page.screenshot({ path: join(results, screenshot), fullPage: true });
    if (errors.length > 0) throw new Error(`errors in the page: ${errors.join("; ")}`);
    passed++;
    console.log(`  ✓ ${name}: ${charts.length} charts, ${charts.reduce((n, c) => n + c.points, 0)} points (${Date.now() - t0} ms)`);
  } catch (err) {
    failed++;
    console.log(`  × ${name}: ${err.stderr ? String(err.stderr).trim() : err.message}`);
  } finally {
    await page.close();
  }
}
await context.close();
console.log(`report e2e: ${passed} passed, ${failed} failed`);
report(passed, failed);
process.exit(failed > 0 ? 1 : 0);
