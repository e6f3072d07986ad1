/**
 * The rows of a report: the comparison's figures (contract B, `Results.comparison`), grouped under the five
 * questions. Results without a comparison (a single run) get the figures their stacks' results hold, without
 * differences, so that a run's report and a comparison's read the same way.
 */
import type { Metric, Results, StackResults } from "../workload/measure.js";
import type { ComparedFigure, Comparison, Question } from "../workload/compare.js";
import { formatFigure } from "./format.js";

/** The questions in the order reports show them, with their headings. */
export const QUESTIONS: readonly { question: Question; title: string }[] = [
  { question: "performance", title: "Performance" },
  { question: "resources", title: "Resource consumption" },
  { question: "recreate", title: "Time to recreate" },
  { question: "maintenance", title: "Maintenance" },
  { question: "portability", title: "Portability" },
];

type Figure = Omit<ComparedFigure, "stacks"> & { read: (st: StackResults) => Metric | undefined };

/** A figure read at the same path of a stack's results and of its half-widths. */
const at = (path: readonly string[]) => (st: unknown): Metric | undefined => {
  let v: unknown = st;
  for (const k of path) v = typeof v === "object" && v !== null ? (v as Record<string, unknown>)[k] : undefined;
  return typeof v === "number" ? v : v === null ? null : undefined;
};

/** The figures every stack's results hold, in report order (per service first). */
function figuresOfStacks(stacks: readonly StackResults[]): Figure[] {
  const services = [...new Set(stacks.flatMap((st) => Object.keys(st.services ?? {})))];
  const figure = (question: Question, path: string[], label: string, unit: ComparedFigure["unit"], better: ComparedFigure["better"], service?: string): Figure => ({
    question,
    id: path.join("."),
    label,
    ...(service === undefined ? {} : { service }),
    unit,
    better,
    read: at(path),
  });
  const perService = services.flatMap((key) => [
    figure("performance", ["services", key, "throughput"], `${key} throughput`, "1/s", "higher", key),
    figure("performance", ["services", key, "latency", "mean"], `${key} mean`, "s", "lower", key),
    figure("performance", ["services", key, "latency", "p50"], `${key} p50`, "s", "lower", key),
    figure("performance", ["services", key, "latency", "p99"], `${key} p99`, "s", "lower", key),
    figure("performance", ["services", key, "sloViolations"], `${key} SLO misses`, "ratio", "lower", key),
    figure("performance", ["services", key, "failed"], `${key} failed`, "count", "lower", key),
    figure("performance", ["services", key, "dropped"], `${key} dropped`, "count", "lower", key),
  ]);
  return [
    ...perService,
    figure("resources", ["hosts", "used"], "hosts used", "count", "lower"),
    figure("resources", ["hosts", "cpuUtilization"], "CPU utilisation", "ratio", null),
    figure("resources", ["hosts", "steal"], "steal", "core-s", "lower"),
    figure("resources", ["hosts", "throttledTime"], "throttled time", "s", "lower"),
    figure("resources", ["hosts", "memoryUsed"], "memory used", "B", "lower"),
    figure("resources", ["hosts", "memoryReserved"], "memory reserved", "B", "lower"),
    figure("resources", ["hosts", "memoryOverhead"], "memory overhead", "B", "lower"),
    figure("resources", ["hosts", "diskUtilization"], "disk utilisation", "ratio", null),
    figure("resources", ["hosts", "nicTxUtilization"], "NIC transmit utilisation", "ratio", null),
    figure("resources", ["energy", "joules"], "energy", "J", "lower"),
    figure("resources", ["cost", "total"], "cost", "cost", "lower"),
    figure("recreate", ["lifecycle", "ready", "p50"], "ready p50", "s", "lower"),
    figure("recreate", ["lifecycle", "ready", "p99"], "ready p99", "s", "lower"),
    figure("recreate", ["lifecycle", "recovery", "p50"], "recovery p50", "s", "lower"),
    figure("recreate", ["lifecycle", "recovery", "p99"], "recovery p99", "s", "lower"),
    figure("maintenance", ["kernels"], "kernels to patch", "count", "lower"),
  ];
}

/**
 * The comparison a report renders: the results' own (`turtles compare`), or, for results without one (`turtles
 * run`), the figures their stacks hold, the first stack the baseline and no differences (no pairs to take them from).
 * Figures no stack has are left out.
 */
export function comparisonOf(results: Results): Comparison {
  if (results.comparison) return results.comparison;
  const names = Object.keys(results.stacks);
  const stacks = names.map((n) => results.stacks[n]);
  const figures = figuresOfStacks(stacks).flatMap(({ read, ...f }) => {
    const values = stacks.map((st) => read(st));
    if (values.every((v) => v === undefined)) return [];
    const entry = (st: StackResults, v: Metric | undefined): ComparedFigure["stacks"][string] => ({ value: v ?? null, ci95: read(st.ci95 as StackResults) ?? null, difference: null });
    return [{ ...f, stacks: Object.fromEntries(names.map((n, i) => [n, entry(stacks[i], values[i])])) }];
  });
  return { baseline: names[0] ?? "", stacks: names, figures };
}

/** A cell of a report table: its text, and for a difference whether its interval excludes zero. */
export interface ReportCell {
  text: string;
  /** Set on a difference whose 95% interval excludes zero (a difference the replications show). */
  excludesZero?: boolean;
}

/** The rows of one question: columns are the figure, then per stack its value, then per other stack its difference. */
export interface ReportSection {
  question: Question;
  title: string;
  columns: string[];
  rows: { id: string; cells: ReportCell[] }[];
}

/** `value ±half-width` when the half-width is known and not rounding noise (replications that agree give 1e-12 of the value, not 0). */
export function withHalfWidth(value: number | null | undefined, half: unknown, render: (x: number) => string): string {
  if (value === null || value === undefined) return "-";
  return typeof half === "number" && half > 1e-9 * Math.abs(value) ? `${render(value)} ±${render(half)}` : render(value);
}

/** The tables of a comparison, one per question that has figures, in `QUESTIONS` order. Pure and deterministic. */
export function reportSections(c: Comparison): ReportSection[] {
  const others = c.stacks.filter((s) => s !== c.baseline);
  const hasDifferences = c.figures.some((f) => others.some((s) => f.stacks[s]?.difference));
  return QUESTIONS.flatMap(({ question, title }) => {
    const figures = c.figures.filter((f) => f.question === question);
    if (figures.length === 0) return [];
    const columns = ["figure", ...c.stacks, ...(hasDifferences ? others.map((s) => `${s} − ${c.baseline}`) : [])];
    const rows = figures.map((f) => {
      const render = (x: number): string => formatFigure(x, f.unit);
      const values = c.stacks.map((s): ReportCell => ({ text: withHalfWidth(f.stacks[s]?.value ?? null, f.stacks[s]?.ci95 ?? null, render) }));
      const differences = !hasDifferences
        ? []
        : others.map((s): ReportCell => {
            const d = f.stacks[s]?.difference;
            if (!d) return { text: "-" };
            const sign = d.mean > 0 ? "+" : "";
            return { text: `${sign}${withHalfWidth(d.mean, d.ci95, render)}`, excludesZero: d.excludesZero };
          });
      return { id: f.id, cells: [{ text: f.label }, ...values, ...differences] };
    });
    return [{ question, title, columns, rows }];
  });
}
