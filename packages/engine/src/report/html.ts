/**
 * The self-contained HTML report: the tables and charts of a run, a comparison or a sweep in one file that opens
 * offline (the charting library's script and styles inlined, the data as JSON in the page). The engine does not
 * depend on the library: the caller passes its source text. The same input gives the same bytes (no time, no random
 * id), so reports can be compared and kept under version control.
 */
import { printable } from "../util/printable.js";
import type { Results } from "../workload/measure.js";
import { pointsOf, resultsCharts, sweepCharts, type ChartData, type SweepRow } from "./charts.js";
import { formatSeconds } from "./format.js";
import { comparisonOf, reportSections, type ReportCell } from "./rows.js";

/** The charting library's source, as the page inlines it: uPlot's IIFE build (it defines `uPlot`) and its CSS. */
export interface ChartLibrary {
  js: string;
  css: string;
}

/** Text as HTML text or an attribute value (names come from scenario files and plugins). */
function esc(text: string): string {
  return printable(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Text inside a <script> or <style> element, which ends at the first `</script` or `</style` whatever the context. */
function raw(text: string, tag: "script" | "style"): string {
  // In JavaScript `<\/` is `</` inside strings, regular expressions and templates (the only places it can occur).
  return text.replace(new RegExp(`</(${tag})`, "gi"), "<\\/$1");
}

/** JSON inside a <script type="application/json">: `<` escaped so no text closes the element. */
function jsonIn(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; }
h1 { font-size: 20px; } h2 { font-size: 17px; margin-top: 28px; }
.meta { color: #555; }
table { border-collapse: collapse; margin: 8px 0 16px; }
th, td { border-bottom: 1px solid #ddd; padding: 3px 10px; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
td.sig { font-weight: 600; }
td.better { color: #0a5; } td.worse { color: #c22; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
.chart { border: 1px solid #eee; padding: 6px; }
.chart h3 { font-size: 14px; margin: 0 0 4px; }
`;

/**
 * The page's script: draws each chart of the JSON with uPlot and sets on its container `data-points`, the values
 * it was given to plot (not null), which the browser test checks against the results. Dots charts draw each
 * interval as a vertical line between its series' lower and upper values.
 */
const SCRIPT = `
(function () {
  var charts = JSON.parse(document.getElementById("turtles-charts").textContent);
  var colours = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
  var fmt = window.turtlesFormat;
  charts.forEach(function (c) {
    var box = document.getElementById("chart-" + c.index);
    var dots = c.kind === "dots";
    var cats = c.x.categories;
    var data = [c.xs].concat(c.series.map(function (s) { return s.values; }));
    var series = [{ label: c.x.label }].concat(c.series.map(function (s, i) {
      return {
        label: s.label, stroke: colours[i % colours.length], width: dots ? 0 : 1.5, spanGaps: true,
        points: { show: dots || c.xs.length < 30, size: dots ? 9 : 5, fill: colours[i % colours.length] },
        paths: dots ? function () { return null; } : undefined,
        value: function (u, v) { return v == null ? "-" : fmt(v, c.y.unit); }
      };
    }));
    var xAxis = { label: c.x.label + (c.x.unit ? " (" + c.x.unit + ")" : "") };
    if (cats) {
      xAxis.splits = function () { return cats.map(function (_, i) { return i; }); };
      xAxis.values = function (u, splits) { return splits.map(function (i) { return cats[i] == null ? "" : cats[i]; }); };
      xAxis.rotate = cats.length > 4 ? -30 : 0;
      xAxis.size = cats.length > 4 ? 90 : 40;
    } else {
      xAxis.values = function (u, splits) { return splits.map(function (v) { return v == null ? "" : fmt(v, c.x.unit); }); };
    }
    var opts = {
      width: cats && cats.length > 8 ? Math.min(1200, 60 * cats.length + 120) : 560, height: 320,
      scales: {
        x: cats ? { time: false, range: [-0.5, cats.length - 0.5] } : { time: false, distr: c.x.log ? 3 : 1 },
        y: { distr: c.y.log ? 3 : 1 }
      },
      axes: [xAxis, { label: c.y.label, size: 70, values: function (u, splits) { return splits.map(function (v) { return v == null ? "" : fmt(v, c.y.unit); }); } }],
      series: series,
      legend: { live: false },
      cursor: { show: false },
      hooks: { draw: [function (u) {
        if (!dots) return;
        var ctx = u.ctx;
        c.series.forEach(function (s, si) {
          if (!s.lower) return;
          ctx.save(); ctx.strokeStyle = colours[si % colours.length]; ctx.lineWidth = 2;
          c.xs.forEach(function (x, i) {
            if (s.lower[i] == null || s.upper[i] == null) return;
            var px = u.valToPos(x, "x", true);
            ctx.beginPath(); ctx.moveTo(px, u.valToPos(s.lower[i], "y", true)); ctx.lineTo(px, u.valToPos(s.upper[i], "y", true)); ctx.stroke();
          });
          ctx.restore();
        });
      }] }
    };
    var plot = new uPlot(opts, data, box.querySelector(".plot"));
    var n = 0;
    plot.data.slice(1).forEach(function (vs) { vs.forEach(function (v) { if (v != null) n++; }); });
    box.setAttribute("data-points", String(n));
  });
  document.body.setAttribute("data-state", "drawn");
})();
`;

/** Axis ticks in the page, in the tables' units (`formatFigure`'s rules, shorter: ticks are round numbers). */
const FORMAT_SCRIPT = `
window.turtlesFormat = function (x, unit) {
  function sig(v) { return v === 0 ? "0" : Math.abs(v) >= 100 ? v.toFixed(0) : String(Number(v.toPrecision(3))); }
  if (unit === "ratio") return sig(100 * x) + "%";
  if (x < 0) return "-" + window.turtlesFormat(-x, unit);
  if (unit === "s") return x === 0 ? "0" : x < 1e-3 ? sig(x * 1e6) + "us" : x < 1 ? sig(x * 1e3) + "ms" : sig(x) + "s";
  if (unit === "B") { var u = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"], i = 0; while (x >= 1024 && i < 5) { x /= 1024; i++; } return sig(x) + " " + u[i]; }
  if (unit === "1/s") return sig(x) + "/s";
  if (unit === "J") return x >= 1e6 ? sig(x / 1e6) + " MJ" : x >= 1e3 ? sig(x / 1e3) + " kJ" : sig(x) + " J";
  return Number.isInteger(x) ? String(x) : sig(x);
};
`;

/** The page around its sections and charts. */
function page(title: string, meta: string, body: string, charts: readonly ChartData[], lib: ChartLibrary): string {
  const boxes = charts
    .map((c, i) => `<div class="chart" id="chart-${i}" data-chart="${esc(c.id)}" data-series="${c.series.length}" data-expected="${pointsOf(c)}"><h3>${esc(c.title)}</h3><div class="plot"></div></div>`)
    .join("\n");
  const data = charts.map((c, i) => ({ ...c, index: i }));
  return [
    "<!DOCTYPE html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    // No request leaves the file: not even the favicon's.
    '<link rel="icon" href="data:,">',
    `<title>${esc(title)}</title>`,
    `<style>${raw(lib.css, "style")}</style>`,
    `<style>${STYLE}</style>`,
    "</head>",
    "<body>",
    `<h1>${esc(title)}</h1>`,
    `<p class="meta">${meta}</p>`,
    body,
    "<h2>Charts</h2>",
    `<div class="charts">\n${boxes}\n</div>`,
    `<script type="application/json" id="turtles-charts">${jsonIn(data)}</script>`,
    `<script>${raw(lib.js, "script")}</script>`,
    `<script>${FORMAT_SCRIPT}${SCRIPT}</script>`,
    "</body>",
    "</html>",
    "",
  ].join("\n");
}

/** A table of rows of cells, the first row its header. */
function table(columns: readonly string[], rows: readonly { cells: readonly ReportCell[] }[]): string {
  const head = `<tr>${columns.map((c) => `<th>${esc(c)}</th>`).join("")}</tr>`;
  // Bold where the interval excludes zero; green or red where the figure has a better direction.
  const cell = (c: ReportCell): string =>
    c.excludesZero ? `<td class="sig${c.verdict ? ` ${c.verdict}` : ""}" title="95% interval excludes zero${c.verdict ? `: ${c.verdict} than the baseline` : ""}">` : "<td>";
  const body = rows.map((r) => `<tr>${r.cells.map((c) => `${cell(c)}${esc(c.text)}</td>`).join("")}</tr>`);
  return `<table>\n${head}\n${body.join("\n")}\n</table>`;
}

/**
 * The report of a run or a comparison as one HTML document: the figures under the five questions (values with 95%
 * half-widths, and paired differences where the results have a comparison) and the charts of `resultsCharts`.
 * Byte-identical for the same results and library.
 */
export function htmlReport(results: Results, options: { chartLib: ChartLibrary; title?: string }): string {
  const m = results.manifest;
  const c = comparisonOf(results);
  const title = options.title ?? `${m.scenario}: ${c.stacks.length > 1 ? `${c.stacks.join(" vs ")}` : "run"}`;
  const meta = esc(
    `${m.replications} replication${m.replications === 1 ? "" : "s"} of ${formatSeconds(m.duration)} after ${formatSeconds(m.warmup)} warm-up, seed ${m.seed}, ` +
      `engine ${m.engine}, scenario ${m.scenarioHash}` +
      (results.comparison ? `; differences against ${c.baseline}, paired over replications (common random numbers), bold where the 95% interval excludes zero` : ""),
  );
  const sections = reportSections(c)
    .map((s) => `<h2 id="${esc(s.question)}">${esc(s.title)}</h2>\n${table(s.columns, s.rows)}`)
    .join("\n");
  const unplaced =
    results.unplaced.length === 0
      ? ""
      : `<h2>Not placed</h2>\n${table(
          ["stack", "service", "replicas", "reason"],
          results.unplaced.map((u) => ({ cells: [{ text: u.stack ?? "" }, { text: `${u.tenant}/${u.service}` }, { text: String(u.replicas) }, { text: u.reason }] })),
        )}`;
  return page(title, meta, sections + unplaced, resultsCharts(results), options.chartLib);
}

/**
 * The report of a sweep as one HTML document: each figure against the swept parameter (`sweepCharts`), a line per
 * stack, and the rows as a table. Byte-identical for the same rows and library.
 */
export function sweepHtmlReport(rows: readonly SweepRow[], options: { params: readonly string[]; chartLib: ChartLibrary; title?: string; x?: string }): string {
  const { params } = options;
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter((k) => !k.endsWith(".ci95") && k !== "scenarioHash");
  const failed = rows.filter((r) => !(r.error === undefined || r.error === null || r.error === "")).length;
  const title = options.title ?? `sweep of ${params.join(", ")}`;
  const meta = esc(`${rows.length} point${rows.length === 1 ? "" : "s"}${failed > 0 ? `, ${failed} failed (left out of the charts)` : ""}`);
  const cell = (v: unknown): string => (v === null || v === undefined ? "-" : typeof v === "number" ? String(Number(v.toPrecision(6))) : String(v));
  const body = `<h2>Points</h2>\n${table(columns, rows.map((r) => ({ cells: columns.map((k) => ({ text: cell(r[k]) })) })))}`;
  return page(title, meta, body, sweepCharts(rows, params, options.x), options.chartLib);
}
