// The report renders what the results hold and nothing else: its charts plot exactly the figures there are (a point
// per value that is not null), names from scenario files cannot break out of the page, no request leaves the file,
// and the same results give the same bytes.
import { describe, expect, it } from "vitest";
import { loadScenario } from "../scenario/load.js";
import { testHost } from "../testing/index.js";
import { comparisonResults, onStack, type Comparison } from "../workload/compare.js";
import { LATENCY_CDF, type Results } from "../workload/measure.js";
import { runScenario } from "../workload/run.js";
import { rowOf } from "../workload/sweep.js";
import { comparisonOf, formatDifference, formatFigure, htmlReport, pointsOf, reportSections, resultsCharts, sweepCharts, sweepHtmlReport } from "./index.js";

const plugins = [testHost];
// A stand-in library: the report only inlines it (the browser test uses uPlot itself).
const chartLib = { js: "window.uPlot = function () {}; /* </script> in a comment */", css: ".u-legend { color: red }" };

const scenario = () =>
  loadScenario(
    `duration: 4s
warmup: 1s
replications: 2
hostTypes: { h: { cores: 4, memory: 8GiB } }
hosts: [{ type: h, count: 2 }]
tenants:
  - name: t
    services:
      - { name: web, replicas: 2, load: { open: { rate: 200/s } }, request: [{ cpu: { exp: 2ms } }] }
`,
    { plugins },
  );

async function run(): Promise<Results> {
  return runScenario(scenario(), plugins);
}

describe("report rows", () => {
  it("without a comparison, reads each stack's figures with their half-widths and no differences", async () => {
    const r = await run();
    const c = comparisonOf(r);
    expect(c.stacks).toEqual(Object.keys(r.stacks));
    const p99 = c.figures.find((f) => f.id === "services.t/web.latency.p99")!;
    const st = Object.values(r.stacks)[0];
    expect(p99.stacks[c.baseline]).toEqual({ value: st.services["t/web"].latency.p99, ci95: (st.ci95 as typeof st).services["t/web"].latency.p99, difference: null });
    const sections = reportSections(c);
    expect(sections.map((s) => s.question)).toEqual(["performance", "resources", "recreate", "maintenance", "portability"]);
    expect(sections[0].columns).toEqual(["figure", c.baseline]);
  });

  it("with a comparison, adds a difference column per other stack, marked where the interval excludes zero", () => {
    const comparison: Comparison = {
      baseline: "a",
      stacks: ["a", "b"],
      figures: [
        { question: "performance", id: "x", label: "x p99", unit: "s", better: "lower", stacks: { a: { value: 0.01, ci95: 0.001, difference: null }, b: { value: 0.02, ci95: 0.001, difference: { mean: 0.01, ci95: 0.002, excludesZero: true } } } },
        { question: "resources", id: "y", label: "memory", unit: "B", better: "lower", stacks: { a: { value: 1024, ci95: null, difference: null }, b: { value: 1024, ci95: null, difference: { mean: 0, ci95: 0, excludesZero: false } } } },
      ],
    };
    const [perf, res] = reportSections(comparison);
    expect(perf.columns).toEqual(["figure", "a", "b", "b − a"]);
    expect(perf.rows[0].cells).toEqual([{ text: "x p99" }, { text: "10.0ms ±1.00ms" }, { text: "20.0ms ±1.00ms" }, { text: "+10.0ms ±2.00ms", excludesZero: true, verdict: "worse" }]);
    expect(res.rows[0].cells[3]).toEqual({ text: "0", excludesZero: false });
    // Throughput up is better, latency down is better; a figure with no better direction is only marked.
    const verdict = (better: "lower" | "higher" | null, mean: number): string | undefined =>
      reportSections({ ...comparison, figures: [{ ...comparison.figures[0], better, stacks: { ...comparison.figures[0].stacks, b: { value: 1, ci95: null, difference: { mean, ci95: 0.001, excludesZero: true } } } }] })[0].rows[0].cells[3].verdict;
    expect([verdict("higher", 1), verdict("higher", -1), verdict("lower", -1), verdict(null, 1)]).toEqual(["better", "worse", "better", undefined]);
  });
});

describe("figures as text", () => {
  it("writes each unit as the compare table does: percentages to three digits, differences of ratios in points, energy scaled, counts whole", () => {
    expect([formatFigure(0.0002, "ratio"), formatFigure(0.612, "ratio"), formatFigure(3, "count"), formatFigure(2.5, "count")]).toEqual(["0.0200%", "61.2%", "3", "2.50"]);
    expect([formatFigure(2500, "J"), formatFigure(3.2e6, "J"), formatFigure(1536, "B"), formatFigure(12, "", "ops")]).toEqual(["2.50 kJ", "3.20 MJ", "1.5 KiB", "12.0 ops"]);
    expect([formatDifference(0.041, "ratio"), formatDifference(-0.0123, "s"), formatDifference(-1536, "B"), formatDifference(0, "s")]).toEqual(["+4.10pp", "-12.3ms", "-1.5 KiB", "0"]);
  });
});

describe("report charts", () => {
  it("plots a point per value the results hold: the latency distribution's distinct latencies, each window's figure, each lifecycle and memory figure", async () => {
    const r = await run();
    const st = Object.values(r.stacks)[0];
    const charts = resultsCharts(r);
    const byId = new Map(charts.map((c) => [c.id, c]));
    const cdf = byId.get("latency-cdf.t/web")!;
    const latencies = LATENCY_CDF.map((q) => st.services["t/web"].latency.cdf[String(q)]).filter((x) => x !== null);
    expect(pointsOf(cdf)).toBe(new Set(latencies).size);
    // Read as a CDF: the fraction rises with the latency.
    const ys = cdf.series[0].values.filter((v): v is number => v !== null);
    expect(ys).toEqual([...ys].sort((a, b) => a - b));
    expect(pointsOf(byId.get("series.throughput")!)).toBe(st.series.throughput.filter((x) => x !== null).length);
    expect(byId.get("series.throughput")!.xs).toEqual(st.series.t);
    expect(pointsOf(byId.get("memory")!)).toBe(3);
    expect(pointsOf(byId.get("lifecycle")!)).toBe(st.lifecycle.recovery === null ? 2 : 4);
    expect(byId.has("differences")).toBe(false);
  });

  it("draws the paired differences relative to the baseline with their intervals, leaving out figures whose baseline is zero", () => {
    const base = { manifest: { scenario: "s" }, stacks: { a: {}, b: {} }, unplaced: [] } as unknown as Results;
    base.comparison = {
      baseline: "a",
      stacks: ["a", "b"],
      figures: [
        { question: "performance", id: "x", label: "x", unit: "s", better: "lower", stacks: { a: { value: 2, ci95: null, difference: null }, b: { value: 3, ci95: null, difference: { mean: 1, ci95: 0.5, excludesZero: true } } } },
        { question: "performance", id: "z", label: "z", unit: "count", better: "lower", stacks: { a: { value: 0, ci95: null, difference: null }, b: { value: 1, ci95: null, difference: { mean: 1, ci95: 0, excludesZero: true } } } },
      ],
    };
    const diff = resultsCharts(base).find((c) => c.id === "differences")!;
    expect(diff.x.categories).toEqual(["x"]);
    expect(diff.series).toEqual([{ label: "b", values: [0.5], lower: [0.25], upper: [0.75] }]);
  });

  it("sweeps: a chart per figure against the parameter, a line per stack, stack columns under one figure, failed points left out", () => {
    const row = (stack: string, n: number, used: number) => ({ "defaults.stack": stack, "services.web.replicas": String(n), scenarioHash: "h", "t/web.throughput": 10 * n, "t/web.throughput.ci95": 1, [`${stack}.hosts.used`]: used, unplaced: 0 });
    const rows = [row("vm", 1, 1), row("vm", 2, 2), row("ct", 1, 1), row("ct", 2, 1), { "defaults.stack": "ct", "services.web.replicas": "4", scenarioHash: "h", error: "boom" }];
    const charts = sweepCharts(rows, ["services.web.replicas", "defaults.stack"]);
    expect(charts.map((c) => c.id)).toEqual(["sweep.t/web.throughput", "sweep.hosts.used"]);
    const used = charts[1];
    expect(used.xs).toEqual([1, 2]);
    expect(used.series).toEqual([
      { label: "vm", values: [1, 2] },
      { label: "ct", values: [1, 1] },
    ]);
    expect(pointsOf(charts[0])).toBe(4);
  });
});

describe("the HTML report", () => {
  it("is one self-contained file, byte-identical for the same results, with the library inlined and no request out of it", async () => {
    const a = htmlReport(await run(), { chartLib });
    const b = htmlReport(await run(), { chartLib });
    expect(a).toBe(b);
    expect(a).toContain("window.uPlot = function () {}; /* <\\/script> in a comment */");
    expect(a).toContain(".u-legend { color: red }");
    expect(a.match(/<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)=/g)).toEqual(['<link rel="icon" href=']);
    expect(a).toContain('<link rel="icon" href="data:,">');
    for (const c of resultsCharts(await run())) expect(a).toContain(`data-chart="${c.id}"`);
  });

  it("escapes names in the results (stacks, services, reasons) in text, attributes and the charts' JSON", async () => {
    const evil = "</script><img src=x onerror=alert(1)>";
    const r = await run();
    const st = Object.values(r.stacks)[0];
    st.services = { [evil]: st.services["t/web"] };
    r.stacks = { [evil]: st };
    const html = htmlReport(r, { chartLib });
    expect(html).not.toContain("<img");
    expect(html).not.toMatch(/<\/script><img/);
    expect(html).toContain("&#60;/script&#62;&#60;img");
    const json = /<script type="application\/json" id="turtles-charts">(.*?)<\/script>/s.exec(html)![1];
    expect(JSON.parse(json)[0].title).toContain(evil);
  });

  it("of a comparison built from runs on each stack, and of a sweep's rows, renders every stack", async () => {
    const s = scenario();
    const runs = await Promise.all(["baremetal"].map(async (stack) => ({ stack, results: await runScenario(onStack(s, stack), plugins) })));
    const html = htmlReport(comparisonResults(s, runs), { chartLib });
    expect(html).toContain("<th>baremetal</th>");
    const rows = [rowOf({ "services.web.replicas": "2" }, runs[0].results)];
    const sweep = sweepHtmlReport(rows, { params: ["services.web.replicas"], chartLib });
    expect(sweep).toBe(sweepHtmlReport(rows, { params: ["services.web.replicas"], chartLib }));
    expect(sweep).toContain('data-chart="sweep.t/web.latency.p99"');
  });
});
