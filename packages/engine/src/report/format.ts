/**
 * Figures as text, in the unit that reads best: the one way the terminal tables and the HTML report write a value.
 */
import { formatBytes } from "../scenario/estimate.js";
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

/** A value in its figure's unit ("12.3ms", "1.5 GiB", "61.2%", "2000/s"); "-" for none. Negative values (differences) keep their sign. */
export function formatFigure(x: number | null, unit: FigureUnit): string {
  if (x === null) return "-";
  if (x < 0 && unit !== "ratio" && unit !== "") return `-${formatFigure(-x, unit)}`;
  switch (unit) {
    case "s":
      return formatSeconds(x);
    case "B":
      return formatBytes(x);
    case "ratio":
      return `${(100 * x).toFixed(1)}%`;
    case "1/s":
      return `${sig(x)}/s`;
    case "core-s":
      return `${sig(x)} core-s`;
    case "J":
      return `${sig(x / 3.6e6)} kWh`;
    default:
      // Counts as they are: 3 hosts, not 3.00.
      return Number.isInteger(x) ? String(x) : sig(x);
  }
}
