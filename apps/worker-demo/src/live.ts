/**
 * Live throughput from progress packs: each entry says how many requests each
 * service had completed at a simulated time; the rate between two entries of
 * the same replication is the completions between them over the simulated
 * time between them.
 */
import type { ProgressEntry } from "@turtles/engine/worker";

export interface Point {
  /** Simulated seconds. */
  t: number;
  /** Completed requests per simulated second, all services together. */
  rate: number;
}

export class LiveSeries {
  /** Points per replication, in arrival order. */
  readonly replications: Point[][] = [];
  private last: ProgressEntry | undefined;

  add(entries: readonly ProgressEntry[]): void {
    for (const e of entries) {
      const prev = this.last;
      this.last = e;
      if (!prev || prev.replication !== e.replication) {
        this.replications[e.replication] ??= [];
        continue;
      }
      const dt = e.simTime - prev.simTime;
      if (dt <= 0) continue;
      const done = total(e.completed) - total(prev.completed);
      this.replications[e.replication].push({ t: e.simTime, rate: done / dt });
    }
  }

  /** The largest rate and time seen, for the axes. */
  extent(): { t: number; rate: number } {
    let t = 0;
    let rate = 0;
    for (const points of this.replications) {
      for (const p of points ?? []) {
        t = Math.max(t, p.t);
        rate = Math.max(rate, p.rate);
      }
    }
    return { t, rate };
  }
}

function total(completed: Record<string, number>): number {
  let n = 0;
  for (const k in completed) n += completed[k];
  return n;
}
