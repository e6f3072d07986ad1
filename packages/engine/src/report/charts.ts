/**
 * The data of a report's charts, as plain values: what each chart plots, not how (the page hands it to the charting
 * library). Every chart is x values shared by its series, each series a value (or null: nothing plotted) per x, as
 * uPlot takes them; categorical charts number their categories 0, 1, ... Pure and deterministic.
 */
import type { Metric, Results, StackResults } from "../workload/measure.js";
import { LATENCY_CDF } from "../workload/measure.js";
import type { FigureUnit } from "./format.js";
import { comparisonOf } from "./rows.js";

/** One chart: lines over a numeric x, or dots (with intervals) over categories. */
export interface ChartData {
  /** Stable and unique in a report: "latency-cdf.t/web", "series.throughput", "differences". */
  id: string;
  title: string;
  /** "lines": a line per series; "dots": a dot per value, with its interval where `lower`/`upper` are given. */
  kind: "lines" | "dots";
  x: { label: string; unit: FigureUnit; log?: boolean; categories?: string[] };
  y: { label: string; unit: FigureUnit; log?: boolean };
  xs: number[];
  series: { label: string; values: Metric[]; lower?: Metric[]; upper?: Metric[] }[];
}

/** The values a chart plots: those that are not null, over all its series. */
export function pointsOf(chart: ChartData): number {
  return chart.series.reduce((n, s) => n + s.values.filter((v) => v !== null).length, 0);
}

/** Lines sharing their x values: each series' points placed on the union of every series' x, null elsewhere. */
function aligned(lines: readonly { label: string; points: readonly [number, number][] }[]): Pick<ChartData, "xs" | "series"> {
  const xs = [...new Set(lines.flatMap((l) => l.points.map((p) => p[0])))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  return {
    xs,
    series: lines.map((l) => {
      const values: Metric[] = xs.map(() => null);
      // A step of the distribution (several probabilities at one latency): the highest probability, as a CDF reads.
      for (const [x, y] of l.points) values[index.get(x)!] = Math.max(values[index.get(x)!] ?? -Infinity, y);
      return { label: l.label, values };
    }),
  };
}

/** The latency distribution of each service, a line per stack that runs it: probability against latency. */
function latencyCdfs(names: readonly string[], stacks: readonly StackResults[]): ChartData[] {
  const services = [...new Set(stacks.flatMap((st) => Object.keys(st.services ?? {})))];
  return services.flatMap((key) => {
    const lines = names.flatMap((name, i) => {
      const cdf = stacks[i].services?.[key]?.latency?.cdf;
      if (!cdf) return [];
      const points = LATENCY_CDF.flatMap((q): [number, number][] => {
        const x = cdf[String(q)];
        return typeof x === "number" ? [[x, q]] : [];
      });
      return points.length > 0 ? [{ label: name, points }] : [];
    });
    if (lines.length === 0) return [];
    const data = aligned(lines);
    return [{ id: `latency-cdf.${key}`, title: `${key} latency distribution`, kind: "lines" as const, x: { label: "latency", unit: "s" as const, log: data.xs.length > 0 && data.xs[0] > 0 }, y: { label: "fraction of requests", unit: "ratio" as const }, ...data }];
  });
}

/** Throughput, p99 and CPU utilisation per window of the measured time, a line per stack. */
function seriesCharts(names: readonly string[], stacks: readonly StackResults[]): ChartData[] {
  const which: [keyof StackResults["series"], string, FigureUnit][] = [
    ["throughput", "throughput", "1/s"],
    ["latencyP99", "p99 latency", "s"],
    ["cpuUtilization", "CPU utilisation", "ratio"],
  ];
  const xs = stacks.find((st) => st.series?.t)?.series.t ?? [];
  if (xs.length === 0) return [];
  return which.map(([field, label, unit]) => ({
    id: `series.${field}`,
    title: `${label} over time`,
    kind: "lines" as const,
    x: { label: "measured time", unit: "s" as const },
    y: { label, unit },
    xs: [...xs],
    series: names.map((name, i) => {
      const v = stacks[i].series?.[field];
      return { label: name, values: xs.map((_, k) => (Array.isArray(v) && typeof v[k] === "number" ? v[k] : null)) };
    }),
  }));
}

/** Dots per stack: one series per figure (a label and how to read it). */
function perStack(id: string, title: string, unit: FigureUnit, names: readonly string[], stacks: readonly StackResults[], figures: [string, (st: StackResults) => Metric | undefined][]): ChartData {
  return {
    id,
    title,
    kind: "dots",
    x: { label: "stack", unit: "", categories: [...names] },
    y: { label: title, unit },
    xs: names.map((_, i) => i),
    series: figures.map(([label, read]) => ({ label, values: stacks.map((st) => read(st) ?? null) })),
  };
}

/**
 * The paired differences of every figure against the baseline, relative to the baseline's value (so that figures in
 * seconds and bytes share an axis), with their 95% intervals: a series per other stack, a category per figure.
 * Undefined when no figure has a difference.
 */
function differences(results: Results): ChartData | undefined {
  const c = comparisonOf(results);
  const others = c.stacks.filter((s) => s !== c.baseline);
  const relative = (mean: number, base: number | null): Metric => (base === null || base === 0 ? null : mean / Math.abs(base));
  const figures = c.figures.filter((f) => others.some((s) => f.stacks[s]?.difference && relative(f.stacks[s].difference!.mean, f.stacks[c.baseline]?.value ?? null) !== null));
  if (figures.length === 0) return undefined;
  return {
    id: "differences",
    title: `difference from ${c.baseline}, relative to its value (95% intervals)`,
    kind: "dots",
    x: { label: "figure", unit: "", categories: figures.map((f) => f.label) },
    y: { label: `difference / ${c.baseline}`, unit: "ratio" },
    xs: figures.map((_, i) => i),
    series: others.map((s) => {
      const one = (f: (typeof figures)[number], pick: (d: { mean: number; ci95: number | null }) => number | null): Metric => {
        const d = f.stacks[s]?.difference;
        const base = f.stacks[c.baseline]?.value ?? null;
        if (!d) return null;
        const v = pick(d);
        return v === null ? null : relative(v, base);
      };
      return {
        label: s,
        values: figures.map((f) => one(f, (d) => d.mean)),
        lower: figures.map((f) => one(f, (d) => (d.ci95 === null ? null : d.mean - d.ci95))),
        upper: figures.map((f) => one(f, (d) => (d.ci95 === null ? null : d.mean + d.ci95))),
      };
    }),
  };
}

/**
 * The charts of a run's or a comparison's report: latency distribution per service, throughput, p99 and CPU
 * utilisation over time, ready and recovery times, memory used, reserved and overhead per stack, and (with a
 * comparison) the paired differences.
 */
export function resultsCharts(results: Results): ChartData[] {
  const names = Object.keys(results.stacks);
  const stacks = names.map((n) => results.stacks[n]);
  const life = (which: "ready" | "recovery", q: "p50" | "p99") => (st: StackResults): Metric | undefined => st.lifecycle?.[which]?.[q];
  const charts: ChartData[] = [
    ...latencyCdfs(names, stacks),
    ...seriesCharts(names, stacks),
    perStack("lifecycle", "ready and recovery times", "s", names, stacks, [
      ["ready p50", life("ready", "p50")],
      ["ready p99", life("ready", "p99")],
      ["recovery p50", life("recovery", "p50")],
      ["recovery p99", life("recovery", "p99")],
    ]),
    perStack("memory", "memory", "B", names, stacks, [
      ["used", (st) => st.hosts?.memoryUsed],
      ["reserved", (st) => st.hosts?.memoryReserved],
      ["overhead", (st) => st.hosts?.memoryOverhead],
    ]),
  ];
  const diff = differences(results);
  return diff ? [...charts, diff] : charts;
}

/** A sweep's row as `rowOf` writes it (values by column) or as read back from its CSV (text). */
export type SweepRow = Record<string, unknown>;

/** Columns of a sweep row that are not figures. */
const NOT_FIGURES = new Set(["scenarioHash", "error", "unplaced"]);

/** The figures a stack's own columns hold (`<stack>.hosts.used`, ...), as `rowOf` names them. */
const STACK_FIGURE = /^(.+)\.(hosts\.cpuUtilization|hosts\.used|energy\.joules|cost\.total)$/;

/** A cell as a number: a number, or text that is one (a CSV's); else null. */
function numeric(v: unknown): number | null {
  if (typeof v === "number") return Number.isFinite(v) ? v : null;
  if (typeof v !== "string" || v.trim() === "") return null;
  const x = Number(v);
  return Number.isFinite(x) ? x : null;
}

/**
 * A chart per figure of a sweep against the swept parameter `x` (the first of `params` by default): a line per stack
 * and per value of the other parameters. The x axis is numeric when every value of `x` is a number, else its values
 * in order of first appearance. Failed points (a row with an error) are left out.
 */
export function sweepCharts(rows: readonly SweepRow[], params: readonly string[], x: string = params[0]): ChartData[] {
  const done = rows.filter((r) => r.error === undefined || r.error === null || r.error === "");
  const rawX = done.map((r) => String(r[x] ?? ""));
  const isNumeric = rawX.every((v) => numeric(v) !== null);
  const categories = isNumeric ? undefined : [...new Set(rawX)];
  const xOf = (i: number): number => (isNumeric ? numeric(rawX[i])! : categories!.indexOf(rawX[i]));
  // Each row's stack (from its stack columns) and the values of the other parameters name its line.
  const lineOf = done.map((r) => {
    const stack = Object.keys(r).map((k) => STACK_FIGURE.exec(k)?.[1]).find((s) => s !== undefined);
    const named = stack !== undefined && stack !== "scenario";
    // A parameter that sets the stack (defaults.stack, services.<s>.stack) is said by the stack's name already.
    const rest = params.filter((p) => p !== x && !(named && String(r[p] ?? "") === stack)).map((p) => `${p}=${String(r[p] ?? "")}`);
    return [...(named ? [stack] : []), ...rest].join(" ") || "all";
  });
  const lineNames = [...new Set(lineOf)];
  // Figures by name, stack columns under their figure's name.
  const figures = new Map<string, Map<number, string>>();
  done.forEach((r, i) => {
    for (const col of Object.keys(r)) {
      if (params.includes(col) || NOT_FIGURES.has(col) || col.endsWith(".ci95")) continue;
      const name = STACK_FIGURE.exec(col)?.[2] ?? col;
      if (!figures.has(name)) figures.set(name, new Map());
      figures.get(name)!.set(i, col);
    }
  });
  return [...figures].flatMap(([name, cols]) => {
    const lines = lineNames.map((label) => ({
      label,
      points: done.flatMap((r, i): [number, number][] => {
        const v = cols.has(i) && lineOf[i] === label ? numeric(r[cols.get(i)!]) : null;
        return v === null ? [] : [[xOf(i), v]];
      }),
    }));
    if (lines.every((l) => l.points.length === 0)) return [];
    const data = aligned(lines.filter((l) => l.points.length > 0));
    return [{ id: `sweep.${name}`, title: `${name} against ${x}`, kind: "lines" as const, x: { label: x, unit: "" as const, ...(categories ? { categories } : {}) }, y: { label: name, unit: unitOf(name) }, ...data }];
  });
}

/** The unit of a sweep column, by the figure it names. */
function unitOf(name: string): FigureUnit {
  if (/latency\.|\.mean$|\.p\d+$/.test(name)) return "s";
  if (/throughput$/.test(name)) return "1/s";
  if (/Utilization$/.test(name)) return "ratio";
  if (/joules$/.test(name)) return "J";
  if (/cost\.total$/.test(name)) return "cost";
  return "";
}
