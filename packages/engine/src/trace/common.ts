/**
 * Helpers every trace adapter shares: which files a trace path names, which
 * of them a scenario samples, the source to read with, and per-column
 * summaries for `inspect`. (Apart from index.ts so adapters can import them
 * while index.ts imports the adapters.)
 */
import { RunningStats } from "../stats/summary.js";
import { CHUNK_BYTES, LineReader, nodeTraceSource, type TraceSource } from "./lines.js";
import type { TraceColumn, TraceEntityKind, TraceFormat, TraceReadOptions, TraceSummary } from "./index.js";
import type { BadRows } from "./problems.js";

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

/**
 * What an adapter's `inspect` gathers while it reads a trace once: running
 * min/mean/max per named column, the good rows and the trace time they
 * cover; `summary` turns it into the `TraceSummary` every format returns.
 * O(columns) memory whatever the trace's length.
 */
export class TraceTally {
  private readonly stats: RunningStats[];
  /** Good rows counted so far. */
  rows = 0;
  private start = Infinity;
  private end = -Infinity;

  constructor(readonly names: readonly string[]) {
    this.stats = names.map(() => new RunningStats());
  }

  /** Adds `x` to column `i`. O(1). */
  push(i: number, x: number): void {
    this.stats[i].push(x);
  }

  /** Counts one good row covering trace times [from, to]. O(1). */
  row(from: number, to = from): void {
    this.rows++;
    if (from < this.start) this.start = from;
    if (to > this.end) this.end = to;
  }

  /**
   * The summary: `bad`'s problems (all bad rows count as skipped), `rows` the good rows plus `otherRows` (bad rows,
   * rows the format passes over); span from the rows counted (0 to 0 without any) unless `span` is given; entities
   * the good rows unless `count` is given.
   */
  summary(
    format: TraceFormat,
    files: number,
    kind: TraceEntityKind,
    bad: BadRows,
    { otherRows = 0, count = this.rows, span }: { otherRows?: number; count?: number; span?: TraceSummary["span"] } = {},
  ): TraceSummary {
    const columns = this.names.map((name, i): TraceColumn => {
      const s = this.stats[i];
      return s.count === 0 ? { name, min: 0, mean: 0, max: 0 } : { name, min: s.min, mean: s.mean, max: s.max };
    });
    return {
      format,
      files,
      rows: this.rows + otherRows,
      span: span ?? (this.start <= this.end ? { start: this.start, end: this.end } : { start: 0, end: 0 }),
      entities: { kind, count },
      columns,
      problems: bad.listed,
      skipped: bad.count,
    };
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

/**
 * The part every forward-only reader of selected rows (SWF jobs, Alibaba pods) shares: its file's lines, where its bad
 * rows go, and which rows it returns. Its state is numbers (line position, counters), so a snapshot keeps it.
 */
export abstract class SelectedRows {
  /** Which rows it returns (`start`, `sample`, `limit`). */
  protected readonly selector: RowSelector;
  protected readonly reader: LineReader;

  constructor(
    source: TraceSource,
    readonly file: string,
    readonly bad: BadRows,
    options: RowSelection = {},
  ) {
    this.selector = new RowSelector(options);
    this.reader = new LineReader(source, file, CHUNK_BYTES);
  }

  /** Loads the next selected row into the reader's own fields; false at the end (or after `limit`). */
  abstract next(): boolean;
}
