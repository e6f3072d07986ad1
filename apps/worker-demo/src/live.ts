/**
 * Live throughput from progress packs: each entry says how many requests each
 * service had completed at a simulated time; the rate between two entries of
 * the same line (a job's replication) is the completions between them over the
 * simulated time between them. Lines are named by their job's label (a stack,
 * in a comparison) and replication, and read as the report's chart model.
 */
import { linesChart, type ChartData } from "@turtles/engine/report";
import type { ProgressEntry } from "@turtles/engine/worker";

export class LiveSeries {
  /** Points (`[simulated s, completed/s]`) per line, lines in order of their first entry. */
  private readonly lines = new Map<string, [number, number][]>();
  private readonly last = new Map<string, ProgressEntry>();

  /** `jobs`: the label of each job index the entries carry (none: lines are named by replication only). */
  constructor(private readonly jobs: readonly string[] = []) {}

  /** Adds a pack's entries; an entry that repeats or goes back in time adds no point. */
  add(entries: readonly ProgressEntry[]): void {
    for (const e of entries) {
      const job = e.job === undefined ? undefined : (this.jobs[e.job] ?? `job ${e.job}`);
      const key = `${job === undefined ? "" : `${job} `}replication ${e.replication + 1}`;
      const prev = this.last.get(key);
      this.last.set(key, e);
      if (!this.lines.has(key)) this.lines.set(key, []);
      if (!prev) continue;
      const dt = e.simTime - prev.simTime;
      if (dt <= 0) continue;
      this.lines.get(key)!.push([e.simTime, (total(e.completed) - total(prev.completed)) / dt]);
    }
  }

  /** The throughput of every line so far, as a chart of the report's model. */
  chart(): ChartData {
    return linesChart(
      { id: "live.throughput", title: "throughput while it runs", x: { label: "simulated time", unit: "s" }, y: { label: "completed requests", unit: "1/s" } },
      [...this.lines].map(([label, points]) => ({ label, points })),
    );
  }
}

function total(completed: Record<string, number>): number {
  let n = 0;
  for (const k in completed) n += completed[k];
  return n;
}
