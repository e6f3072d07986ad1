/**
 * Figures as text, in the unit that reads best: the one way the terminal tables and the HTML report write a value.
 */
import { formatBytes } from "../scenario/estimate.js";
import { printable } from "../util/printable.js";
import type { ComparedFigure } from "../workload/compare.js";

/** A figure's unit, as a comparison names it. */
export type FigureUnit = ComparedFigure["unit"];

/** Three significant digits, no exponent: 0.497, 12.3, 2000. */
export function sig(x: number): string {
  return x === 0 ? "0" : Math.abs(x) >= 100 ? x.toFixed(0) : x.toPrecision(3);
}

/** A duration in the unit that reads best (ms for most latencies), three significant digits; "-" for none. */
export function formatSeconds(x: number | null): string {
  if (x === null) return "-";
  if (x === 0) return "0";
  if (x < 0) return `-${formatSeconds(-x)}`;
  // The unit follows the rounded value: 999.7 us is 1.00ms, not 1.00e+3us.
  const r = Number(x.toPrecision(3));
  if (r < 1e-3) return `${(r * 1e6).toPrecision(3)}us`;
  if (r < 1) return `${(r * 1e3).toPrecision(3)}ms`;
  if (r < 600) return `${r.toPrecision(3)}s`;
  return `${sig(r / 60)}m`;
}

/** Energy in the unit that reads best: J, kJ, MJ (a short run's differences are a few kJ, not 0.00000438 kWh). */
function joules(x: number): string {
  return Math.abs(x) >= 1e6 ? `${sig(x / 1e6)} MJ` : Math.abs(x) >= 1e3 ? `${sig(x / 1e3)} kJ` : `${sig(x)} J`;
}

/**
 * A value in its figure's unit: seconds and bytes scaled ("12.3ms", "1.5 GiB"), ratios as percentages with three
 * significant digits (a 0.02% miss rate is not "0.0%"), counts whole where they are, a plugin metric with its own
 * unit name; "-" for none.
 */
export function formatFigure(x: number | null, unit: FigureUnit, unitName?: string): string {
  if (x === null) return "-";
  switch (unit) {
    case "s":
      return formatSeconds(x);
    case "B":
      return x < 0 ? `-${formatBytes(-x)}` : formatBytes(x);
    case "ratio":
      return `${sig(100 * x)}%`;
    case "count":
      return Number.isInteger(x) ? String(x) : sig(x);
    case "1/s":
      return `${sig(x)}/s`;
    case "core-s":
      return x === 0 ? "0" : `${sig(x)} core-s`;
    case "J":
      return joules(x);
    default:
      return `${sig(x)}${unitName ? ` ${printable(unitName)}` : ""}`;
  }
}

/** A difference with its sign: "+12.3ms", "-1.0 GiB"; ratios in percentage points ("+4.1pp"), which a "%" would misread as relative. */
export function formatDifference(x: number, unit: FigureUnit, unitName?: string): string {
  if (x === 0) return "0";
  const magnitude = unit === "ratio" ? `${sig(100 * Math.abs(x))}pp` : formatFigure(Math.abs(x), unit, unitName);
  return `${x < 0 ? "-" : "+"}${magnitude}`;
}

/**
 * A paired difference with its 95% half-width, "+12.3ms ±2.00ms" or "+4.10pp ±0.500pp"; the half-width is left out
 * when unknown or rounding noise (the same figure in every pair gives 1e-12 of the mean, not 0).
 */
export function formatPairedDifference(d: { mean: number; ci95: number | null }, unit: FigureUnit, unitName?: string): string {
  const half = d.ci95 !== null && d.ci95 > 1e-9 * Math.abs(d.mean) ? ` ±${formatDifference(d.ci95, unit, unitName).slice(1)}` : "";
  return `${formatDifference(d.mean, unit, unitName)}${half}`;
}
