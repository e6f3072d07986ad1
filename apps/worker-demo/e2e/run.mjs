// Browser end-to-end checks of the demo: the built app served by `vite preview`,
// driven in headless Chromium by playwright-core. Writes test-results/e2e.json
// ({ numPassedTests, numFailedTests }) for the summary line of `npm test`.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { comparisonCsv } from "@turtles/engine";
import { comparisonOf, htmlReport, pointsOf, reportSections, resultsCharts } from "@turtles/engine/report";
import { chromium } from "playwright-core";
import { preview } from "vite";

const root = join(import.meta.dirname, "..");
const report = (passed, failed, note) => {
  mkdirSync(join(root, "test-results"), { recursive: true });
  writeFileSync(join(root, "test-results", "e2e.json"), JSON.stringify({ numPassedTests: passed, numFailedTests: failed, note }));
};
const executablePath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
if (!existsSync(executablePath)) {
  // npm run setup installs Debian's chromium when it runs as root; elsewhere: sudo apt-get install chromium.
  console.log(`e2e skipped: no browser at ${executablePath} (install chromium, or set CHROMIUM_PATH)`);
  report(0, 0, "skipped: no chromium");
  process.exit(0);
}

// The files the page offers are those `turtles compare --out/--csv/--html` would write from its results: the same
// engine functions, run here on the results the page shows, with the uPlot build the page bundles.
const uplot = (file) => readFileSync(createRequire(import.meta.url).resolve(`uplot/dist/${file}`), "utf8");
const chartLib = { js: uplot("uPlot.iife.min.js"), css: uplot("uPlot.min.css") };
const downloadsDir = mkdtempSync(join(tmpdir(), "turtles-e2e-downloads-"));

/** Text of a download the link `selector` starts. */
async function downloaded(page, selector) {
  const [file] = await Promise.all([page.waitForEvent("download"), page.click(selector)]);
  const path = join(downloadsDir, file.suggestedFilename());
  await file.saveAs(path);
  return { name: file.suggestedFilename(), text: readFileSync(path, "utf8") };
}

/** The report in the page's frame, once its charts are drawn: its tables' rows and its charts' points. */
async function shownReport(page) {
  const frame = await (await page.waitForSelector("#report.shown")).contentFrame();
  await frame.waitForSelector("body[data-state=drawn]");
  return frame.evaluate(() => ({
    rows: [...document.querySelectorAll("h2[id] + table tr")].filter((tr) => tr.querySelector("td")).map((tr) => [...tr.cells].map((td) => td.textContent)),
    charts: [...document.querySelectorAll(".chart")].map((c) => ({ id: c.dataset.chart, points: Number(c.dataset.points) })),
  }));
}

/** The report's rows and charts must be those of the results, cell by cell and point by point. */
function checkReport(shown, results) {
  const rows = reportSections(comparisonOf(results)).flatMap((s) => s.rows.map((r) => r.cells.map((c) => c.text)));
  if (rows.length === 0) throw new Error("the results have no figures to show");
  if (JSON.stringify(shown.rows) !== JSON.stringify(rows)) throw new Error(`the table's rows differ from the results': ${JSON.stringify(shown.rows.slice(0, 3))} vs ${JSON.stringify(rows.slice(0, 3))}`);
  const charts = resultsCharts(results).map((c) => ({ id: c.id, points: pointsOf(c) }));
  if (JSON.stringify(shown.charts) !== JSON.stringify(charts)) throw new Error(`the charts' points differ from the results': ${JSON.stringify(shown.charts)} vs ${JSON.stringify(charts)}`);
  if (charts.some((c) => c.points === 0)) throw new Error(`a chart has no points: ${JSON.stringify(charts)}`);
}

const server = await preview({ root, logLevel: "warn", preview: { host: "127.0.0.1", port: 0, strictPort: false } });
const url = server.resolvedUrls.local[0];
const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "turtles-e2e-")), {
  executablePath,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});

const checks = [
  [
    "runs the example in a Web Worker: progress in packs, a live chart, then the results",
    async (page) => {
      await page.click("#run");
      await page.waitForSelector("body[data-state=running]");
      await page.waitForSelector("body[data-state=done]", { timeout: 180_000 });
      const results = JSON.parse(await page.textContent("#results-json"));
      const web = results.stacks[Object.keys(results.stacks)[0]].services["shop/frontend"];
      if (!(web.completed > 1000)) throw new Error(`shop/frontend completed ${web.completed} requests`);
      if (results.manifest.replications !== 2) throw new Error(`ran ${results.manifest.replications} replications, not 2`);
      const packs = Number(/(\d+) progress packs/.exec(await page.textContent("#status"))?.[1]);
      if (!(packs >= 2)) throw new Error(`${packs} progress packs`);
      // The live chart has a line per replication, with points from the packs.
      const liveChart = await page.$eval("#live", (el) => ({ series: Number(el.dataset.series), points: Number(el.dataset.points), canvas: el.querySelector("canvas") !== null }));
      if (!(liveChart.canvas && liveChart.series === 2 && liveChart.points >= 2)) throw new Error(`live chart: ${JSON.stringify(liveChart)}`);
      checkReport(await shownReport(page), results);
    },
  ],
  [
    "compares the stacks of a bundled example in the worker: the report's table and charts as they finish, then the JSON, CSV and HTML",
    async (page) => {
      // An example that reads a rate profile from a CSV beside it loads too: its stacks are offered.
      await page.selectOption("#example", { label: "flash-sale.yaml" });
      const flash = await page.$$eval("#stacks input", (boxes) => boxes.map((b) => b.value));
      if (JSON.stringify(flash) !== JSON.stringify(["baremetal", "containers"])) throw new Error(`flash-sale.yaml's stacks: ${flash}`);
      await page.selectOption("#example", { label: "compare-stacks.yaml" });
      // Shorter than the example (1 s measured, 2 replications), so the five stacks answer in seconds.
      const text = (await page.inputValue("#scenario")).replace(/^duration: .*$/m, "duration: 1s").replace(/^replications: .*$/m, "replications: 2");
      await page.fill("#scenario", text);
      const stacks = await page.$$eval("#stacks input:checked", (boxes) => boxes.map((b) => b.value));
      const expected = ["baremetal", "container", "vm", "container-in-vm", "microvm"];
      if (JSON.stringify(stacks) !== JSON.stringify(expected)) throw new Error(`stack picker: ${stacks}`);
      // Every results the page shows on its way, as (stacks, replications of the last stack).
      await page.evaluate(() => {
        window.shown = [];
        let last = "";
        new MutationObserver(() => {
          const text = document.getElementById("results-json")?.textContent;
          if (!text || text === last) return;
          last = text;
          const r = JSON.parse(text);
          window.shown.push(`${r.comparison.stacks.length}:${r.stacks[r.comparison.stacks.at(-1)].ci95 === null ? 1 : 2}`);
        }).observe(document.getElementById("result"), { childList: true });
      });
      await page.click("#compare");
      await page.waitForSelector("body[data-state=running]");
      await page.waitForSelector("body[data-state=done]", { timeout: 120_000 });
      // The table fills in as each replication of each stack finishes.
      const shown = (await page.evaluate(() => window.shown)).join(" ");
      if (shown !== "1:1 1:2 2:1 2:2 3:1 3:2 4:1 4:2 5:1 5:2") throw new Error(`results shown on the way (stacks:replications): ${shown}`);
      const resultsText = await page.textContent("#results-json");
      const results = JSON.parse(resultsText);
      const c = results.comparison;
      if (JSON.stringify(c.stacks) !== JSON.stringify(expected) || c.baseline !== "baremetal") throw new Error(`compared ${c.stacks} against ${c.baseline}`);
      if (results.manifest.replications !== 2 || results.manifest.duration !== 1) throw new Error(`ran ${results.manifest.replications} x ${results.manifest.duration} s`);
      // Paired over replications: the memory overhead of a VM is more than bare metal's, by an interval the runs give.
      const overhead = c.figures.find((f) => f.id === "hosts.memoryOverhead");
      if (!(overhead?.stacks.vm.difference?.mean > 0)) throw new Error(`memory overhead: ${JSON.stringify(overhead)}`);
      checkReport(await shownReport(page), results);
      const liveChart = await page.$eval("#live", (el) => ({ series: Number(el.dataset.series), points: Number(el.dataset.points) }));
      if (!(liveChart.series === 10 && liveChart.points >= 10)) throw new Error(`live chart (a line per stack and replication): ${JSON.stringify(liveChart)}`);
      const json = await downloaded(page, "#download-json");
      if (json.name !== "compare-stacks.json" || json.text !== resultsText) throw new Error(`${json.name} is not the results`);
      const csv = await downloaded(page, "#download-csv");
      if (csv.text !== comparisonCsv(c)) throw new Error(`${csv.name} is not the comparison's CSV`);
      const html = await downloaded(page, "#download-html");
      if (html.text !== htmlReport(results, { chartLib })) throw new Error(`${html.name} is not the report of the results`);
      // Kept as a test artefact: what the page shows at the end of a comparison.
      mkdirSync(join(root, "test-results"), { recursive: true });
      await page.screenshot({ path: join(root, "test-results", "compare.png"), fullPage: true });
    },
  ],
  [
    "pauses (nothing moves), saves a snapshot, resumes, and cancels",
    async (page) => {
      await page.fill("#scenario", (await page.inputValue("#scenario")).replace(/^duration: .*$/m, "duration: 1h"));
      await page.click("#run");
      await page.waitForFunction(() => /events/.test(document.getElementById("status").textContent));
      await page.click("#pause");
      await page.waitForSelector("body[data-state=paused]");
      await page.waitForTimeout(300); // packs already sent arrive
      const held = await page.textContent("#status");
      await page.waitForTimeout(700);
      if ((await page.textContent("#status")) !== held) throw new Error("progress moved while paused");
      await page.click("#snapshot");
      const link = await page.waitForSelector("#snapshot-link");
      if (!/snapshot of replication 1 \(\d+ KiB\)/.test(await link.textContent())) throw new Error(`snapshot link: ${await link.textContent()}`);
      await page.click("#resume");
      await page.waitForSelector("body[data-state=running]");
      await page.waitForFunction((h) => document.getElementById("status").textContent !== h, held);
      await page.click("#cancel");
      await page.waitForSelector("body[data-state=cancelled]", { timeout: 10_000 });
    },
  ],
  [
    "refuses to compare fewer than two stacks, naming those the scenario has, and runs nothing",
    async (page) => {
      await page.selectOption("#example", { label: "overload.yaml" });
      await page.click("#compare");
      await page.waitForSelector("body[data-state=error]");
      const text = await page.textContent("#problems");
      if (!/pick two stacks or more .* the scenario has: baremetal$/.test(text)) throw new Error(`problems: ${text}`);
      if ((await page.$("#results-json")) !== null) throw new Error("results shown for a comparison that did not run");
    },
  ],
  [
    "shows a bad scenario's problems with file, line and field, and runs nothing",
    async (page) => {
      await page.fill("#scenario", "duration: 1m\nhostTypes: { h: { cores: 4, memory: 8GiB } }\nhosts: [{ type: h }]\ntenants: [{ name: t, services: [{ name: a, replicas: 1, request: [{ cpu: fast }] }] }]\n");
      await page.click("#run");
      await page.waitForSelector("body[data-state=error]");
      const text = await page.textContent("#problems");
      if (!/scenario\.yaml:4:\d+: .*cpu/.test(text)) throw new Error(`problems: ${text}`);
    },
  ],
];

let passed = 0;
let failed = 0;
for (const [name, check] of checks) {
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (err) => errors.push(err.message));
  page.on("console", (msg) => msg.type() === "error" && errors.push(msg.text()));
  const t0 = Date.now();
  try {
    await page.goto(url);
    await page.waitForSelector("body[data-state=idle]");
    await check(page);
    if (errors.length > 0) throw new Error(`errors in the page: ${errors.join("; ")}`);
    passed++;
    console.log(`  ✓ ${name} (${Date.now() - t0} ms)`);
  } catch (err) {
    failed++;
    console.log(`  × ${name}: ${err.message}`);
  } finally {
    await page.close();
  }
}
await context.close();
await new Promise((resolve) => server.httpServer.close(resolve));
console.log(`e2e: ${passed} passed, ${failed} failed`);
report(passed, failed);
process.exit(failed > 0 ? 1 : 0);
