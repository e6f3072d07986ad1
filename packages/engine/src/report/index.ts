/**
 * `@turtles/engine/report`: results as a reader sees them. Pure functions from results (and sweep rows) to table
 * rows, chart data and a self-contained HTML document; no DOM and no charting library at import time (the HTML
 * report takes the library's source as an argument).
 */
export { formatDifference, formatFigure, formatPairedDifference, formatSeconds, sig } from "./format.js";
export type { FigureUnit } from "./format.js";
export { comparisonOf, reportSections, withHalfWidth } from "./rows.js";
export type { ReportCell, ReportSection } from "./rows.js";
export { pointsOf, resultsCharts, sweepCharts } from "./charts.js";
export type { ChartData, SweepRow } from "./charts.js";
export { htmlReport, sweepHtmlReport } from "./html.js";
export type { ChartLibrary } from "./html.js";
