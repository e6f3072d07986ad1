/**
 * Bad rows in trace files, and what a scenario says to do with them
 * (`trace: { onBadRow: fail | skip }`): `fail` stops with the first
 * `MAX_LISTED` problems listed, `skip` leaves such rows out and counts them
 * (the count is in the results as `skipped`). Every problem names the file,
 * the 1-based line and the column (field) it is about.
 */
import { printable } from "../util/printable.js";

/** One bad row (or file): `line` is 1-based, 0 for the whole file; `field` is the column's name, or "" for the row. */
export interface TraceProblem {
  file: string;
  line: number;
  field: string;
  message: string;
}

/** What to do with a malformed row: stop (`fail`, the default) or leave it out and count it (`skip`). */
export type OnBadRow = "fail" | "skip";

/** The values `onBadRow` takes, default first. */
export const ON_BAD_ROW: readonly OnBadRow[] = ["fail", "skip"];

/** How many problems a failure lists (and an inspection keeps). */
export const MAX_LISTED = 5;

/** `file:line: field: message`, one line, control characters escaped. */
export function formatTraceProblem(p: TraceProblem): string {
  const where = p.line > 0 ? `${p.file}:${p.line}` : p.file;
  return printable(`${where}: ${p.field ? `${p.field}: ` : ""}${p.message}`);
}

/** A trace that cannot be used: lists the first problems, and says how to go on (the CLI exits 2 on it). */
export class TraceError extends Error {
  constructor(
    readonly problems: readonly TraceProblem[],
    /** How many bad rows were found in all (at least `problems.length`). */
    readonly total = problems.length,
  ) {
    const more = total > problems.length ? `\n... and ${total - problems.length} more` : "";
    const hint = problems.some((p) => p.line > 0) ? "\nfix these rows, or set trace: { onBadRow: skip } to leave bad rows out (they are counted as skipped)" : "";
    super(problems.map(formatTraceProblem).join("\n") + more + hint);
    this.name = "TraceError";
  }
}

/**
 * Collects the bad rows of one trace under a policy. `report` returns so the
 * caller goes on to the next row either way: under `fail` the first
 * `MAX_LISTED` problems are kept and `check()` throws them; under `skip` they
 * are counted, and the first few kept for an inspection to show.
 */
export class BadRows {
  readonly listed: TraceProblem[] = [];
  /** Bad rows met so far. */
  count = 0;

  constructor(readonly policy: OnBadRow = "fail") {}

  /** Records one bad row. O(1). */
  report(file: string, line: number, field: string, message: string): void {
    this.count++;
    if (this.listed.length < MAX_LISTED) this.listed.push({ file, line, field, message });
  }

  /** Bad rows left out (all of them under `skip`, none under `fail`, which stops instead). */
  get skipped(): number {
    return this.policy === "skip" ? this.count : 0;
  }

  /** Under `fail`, throws `TraceError` with the problems listed once any was reported; else nothing. */
  check(): void {
    if (this.policy === "fail" && this.count > 0) throw new TraceError(this.listed, this.count);
  }
}
