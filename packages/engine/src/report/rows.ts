/**
 * The rows of a report: the comparison's figures (contract B, `Results.comparison`), grouped under the five
 * questions. Results without a comparison (a single run) get the comparison of their stacks, so that a run's report
 * and a comparison's read the same way.
 */
import type { Results } from "../workload/measure.js";
import { compareStacks, QUESTIONS, type Comparison, type Question } from "../workload/compare.js";
import { formatFigure, formatPairedDifference } from "./format.js";

/**
 * The comparison a report renders: the results' own (`turtles compare`), or, for results without one (`turtles run`),
 * the one `compareStacks` makes of their stacks (the first the baseline; no pairs, so differences of means only).
 */
export function comparisonOf(results: Results): Comparison {
  return results.comparison ?? compareStacks(results);
}

/** A cell of a report table: its text, and for a difference whether its interval excludes zero. */
export interface ReportCell {
  text: string;
  /** Set on a difference whose 95% interval excludes zero (a difference the replications show). */
  excludesZero?: boolean;
  /** On such a difference of a figure with a better direction: whether the stack is better or worse than the baseline. */
  verdict?: "better" | "worse";
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
  return QUESTIONS.flatMap(({ question, heading: title }) => {
    const figures = c.figures.filter((f) => f.question === question);
    if (figures.length === 0) return [];
    const columns = ["figure", ...c.stacks, ...(hasDifferences ? others.map((s) => `${s} − ${c.baseline}`) : [])];
    const rows = figures.map((f) => {
      const render = (x: number): string => formatFigure(x, f.unit, f.unitName);
      const values = c.stacks.map((s): ReportCell => ({ text: withHalfWidth(f.stacks[s]?.value ?? null, f.stacks[s]?.ci95 ?? null, render) }));
      const differences = !hasDifferences
        ? []
        : others.map((s): ReportCell => {
            const d = f.stacks[s]?.difference;
            if (!d) return { text: "-" };
            const text = formatPairedDifference(d, f.unit, f.unitName);
            if (!d.excludesZero || f.better === null) return { text, excludesZero: d.excludesZero };
            return { text, excludesZero: true, verdict: (d.mean < 0) === (f.better === "lower") ? "better" : "worse" };
          });
      return { id: f.id, cells: [{ text: f.label }, ...values, ...differences] };
    });
    return [{ question, title, columns, rows }];
  });
}
