/**
 * Helpers every trace adapter shares: which files a trace path names, which
 * of them a scenario samples, the source to read with, and per-column
 * summaries for `inspect`. (Apart from index.ts so adapters can import them
 * while index.ts imports the adapters.)
 */
import { RunningStats } from "../stats/summary.js";
import { nodeTraceSource, type TraceSource } from "./lines.js";
import type { TraceColumn, TraceReadOptions } from "./index.js";

/** Which rows (jobs, pods) a replay takes: those at or after trace time `start`, every `sample`-th of them, at most `limit`. */
export interface RowSelection extends TraceReadOptions {
  start?: number;
  sample?: number;
  limit?: number;
}

/** The source to read with: the one given, else Node's file system (throws `TraceUnavailable` without one). */
export function sourceOf(options: TraceReadOptions): TraceSource {
  return options.source ?? nodeTraceSource();
}

/**
 * The files of a trace: `path` itself when it is a file, else the files in
 * folder `path` in code-unit order, skipping hidden files and the
 * `README`/`SHA256SUMS` files that ship beside traces.
 */
export function traceFiles(source: TraceSource, path: string): string[] {
  const names = source.list(path);
  if (names === undefined) return [path];
  return names.filter((n) => !n.startsWith(".") && !/^(readme|sha256sums)/i.test(n)).map((n) => source.join(path, n));
}

/** The last part of a path (either slash). */
export function baseName(path: string): string {
  return path.slice(Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\")) + 1);
}

/** Every `sample`-th of `items` from the first, at most `limit` of them. */
export function sampled<T>(items: readonly T[], sample = 1, limit = Infinity): T[] {
  const out: T[] = [];
  for (let i = 0; i < items.length && out.length < limit; i += sample) out.push(items[i]);
  return out;
}

/** Running min/mean/max per named column, for an adapter's `inspect`. */
export class ColumnStats {
  private readonly stats: RunningStats[];

  constructor(readonly names: readonly string[]) {
    this.stats = names.map(() => new RunningStats());
  }

  /** Adds `x` to column `i`. O(1). */
  push(i: number, x: number): void {
    this.stats[i].push(x);
  }

  /** The columns' summaries (zeros for a column that saw no value). */
  columns(): TraceColumn[] {
    return this.names.map((name, i) => {
      const s = this.stats[i];
      return s.count === 0 ? { name, min: 0, mean: 0, max: 0 } : { name, min: s.min, mean: s.mean, max: s.max };
    });
  }
}

/**
 * Applies a `RowSelection` to rows read in time order: `full` once `limit` rows are taken, `take(time)` whether the
 * row at `time` is taken. Its state is two counters (saved with a snapshot of the reader holding it).
 */
export class RowSelector {
  /** Rows taken so far, and rows at or after `start` seen (the sampling count). */
  taken = 0;
  private seen = 0;

  constructor(private readonly selection: RowSelection) {}

  get full(): boolean {
    return this.taken >= (this.selection.limit ?? Infinity);
  }

  /** Whether the row at trace time `time` is taken (counting it if so). O(1). */
  take(time: number): boolean {
    if (time < (this.selection.start ?? 0)) return false;
    if (this.seen++ % (this.selection.sample ?? 1) !== 0) return false;
    this.taken++;
    return true;
  }
}
