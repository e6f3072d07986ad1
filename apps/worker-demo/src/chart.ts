/**
 * A live chart in the page: a "lines" chart of the report's model (`ChartData`) drawn with uPlot, the library the
 * HTML report inlines. Redrawn in place while its lines stay the same, rebuilt when a line appears. Its box carries
 * `data-points` (the values plotted, `pointsOf`) and `data-series`, which the browser test checks.
 */
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { pointsOf, type ChartData } from "@turtles/engine/report";

const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

export class LiveChart {
  private plot: uPlot | undefined;
  private lines = "";

  constructor(private readonly box: HTMLElement) {}

  /** Draws `chart` (lines over a numeric x) in the box, in place of what it showed. */
  show(chart: ChartData): void {
    const data = [chart.xs, ...chart.series.map((s) => s.values)] as uPlot.AlignedData;
    const lines = chart.series.map((s) => s.label).join("\n");
    if (this.plot && lines === this.lines) {
      this.plot.setData(data);
    } else {
      this.clear();
      this.lines = lines;
      this.plot = new uPlot(
        {
          title: chart.title,
          width: Math.max(320, this.box.clientWidth - 10),
          height: 240,
          scales: { x: { time: false } },
          // The legend names the lines; values under a cursor would change under it at every pack.
          legend: { live: false },
          cursor: { show: false },
          axes: [{ label: `${chart.x.label} (${chart.x.unit})` }, { label: `${chart.y.label} (${chart.y.unit})`, size: 60 }],
          series: [{ label: chart.x.label }, ...chart.series.map((s, i) => ({ label: s.label, stroke: COLOURS[i % COLOURS.length], width: 1.5, spanGaps: true }))],
        },
        data,
        this.box,
      );
    }
    this.box.dataset.series = String(chart.series.length);
    this.box.dataset.points = String(pointsOf(chart));
  }

  /** Removes the chart (a new run starts). */
  clear(): void {
    this.plot?.destroy();
    this.plot = undefined;
    this.lines = "";
    this.box.dataset.series = "0";
    this.box.dataset.points = "0";
  }
}
