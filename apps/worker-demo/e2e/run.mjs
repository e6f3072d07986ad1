// Browser end-to-end checks of the demo: the built app served by `vite preview`,
// driven in headless Chromium by playwright-core. Writes test-results/e2e.json
// ({ numPassedTests, numFailedTests }) for the summary line of `npm test`.
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
      // The chart has lines: some non-white pixels inside the plot area.
      const drawn = await page.evaluate(() => {
        const c = document.getElementById("chart");
        const d = c.getContext("2d").getImageData(70, 10, c.width - 80, c.height - 40).data;
        let n = 0;
        for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
        return n;
      });
      if (drawn < 100) throw new Error(`the chart has ${drawn} drawn pixels`);
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
