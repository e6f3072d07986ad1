/** A small line chart on a canvas: one line per replication, axes from 0 to the largest values seen. */
import type { LiveSeries } from "./live.js";

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];

export function drawChart(canvas: HTMLCanvasElement, series: LiveSeries, end: number): void {
  const ctx = canvas.getContext("2d");
  if (!ctx) return;
  const { width, height } = canvas;
  const pad = { left: 60, right: 10, top: 10, bottom: 24 };
  ctx.clearRect(0, 0, width, height);
  const { rate } = series.extent();
  const maxRate = rate > 0 ? rate * 1.1 : 1;
  const x = (t: number): number => pad.left + (t / end) * (width - pad.left - pad.right);
  const y = (r: number): number => height - pad.bottom - (r / maxRate) * (height - pad.top - pad.bottom);
  ctx.strokeStyle = "#999";
  ctx.fillStyle = "#444";
  ctx.font = "11px system-ui, sans-serif";
  ctx.beginPath();
  ctx.moveTo(pad.left, pad.top);
  ctx.lineTo(pad.left, height - pad.bottom);
  ctx.lineTo(width - pad.right, height - pad.bottom);
  ctx.stroke();
  ctx.fillText(`${maxRate.toFixed(0)} req/s`, 4, pad.top + 10);
  ctx.fillText("0", pad.left - 12, height - pad.bottom);
  ctx.fillText(`${end.toFixed(0)} s simulated`, width - pad.right - 90, height - 6);
  series.replications.forEach((points, i) => {
    if (!points || points.length === 0) return;
    ctx.strokeStyle = COLORS[i % COLORS.length];
    ctx.beginPath();
    points.forEach((p, k) => (k === 0 ? ctx.moveTo(x(p.t), y(p.rate)) : ctx.lineTo(x(p.t), y(p.rate))));
    ctx.stroke();
  });
}
