/**
 * The Standard Workload Format (SWF v2.2, Parallel Workloads Archive): one
 * job per line, 18 whitespace-separated fields, `-1` for unknown, header
 * comments starting with `;`. A job arrives at its submit time, holds its
 * processors for its run time and leaves (workload/jobs.ts replays it).
 *
 * Quirks handled as the format says: padded columns (split on runs of
 * blanks), blank and trailing lines, comment lines anywhere; allocated
 * processors unknown (-1) fall back to requested processors; a run time of
 * -1 is a job that never ran (status 5, cancelled) and is left out, counted
 * as `cancelled`; requested time unknown (-1, as in the NASA log) makes the
 * run time the backfilling estimate. Jobs must come in submit-time order (the
 * archive sorts them): one that goes back is a bad row, as the replay reads
 * forward only.
 */
import { SelectedRows, TraceTally, sourceOf, traceFiles, type RowSelection } from "./common.js";
import type { TraceAdapter, TraceReadOptions, TraceSummary } from "./index.js";
import type { LinePosition, TraceSource } from "./lines.js";
import { BadRows } from "./problems.js";

/** SWF field names, in column order (1-based in the format's own text). */
export const SWF_FIELDS = [
  "job",
  "submit",
  "wait",
  "runTime",
  "allocatedProcs",
  "cpuTime",
  "memory",
  "requestedProcs",
  "requestedTime",
  "requestedMemory",
  "status",
  "user",
  "group",
  "executable",
  "queue",
  "partition",
  "precedingJob",
  "thinkTime",
] as const;

/** One job as the replay needs it (fields reused per row: the reader allocates nothing per job). */
export interface SwfJob {
  id: number;
  /** Submit time, seconds from the log's start. */
  submit: number;
  /** Run time in seconds (>= 0). */
  run: number;
  /** Processors it holds: allocated, else requested. */
  procs: number;
  /** What a scheduler may assume it runs for: requested time, else the run time (perfect estimate). */
  estimate: number;
}

/** What a row is: a job, a line to pass over (comment, blank, cancelled job), or a problem (its field and message). */
const JOB = 0;
const PASS = 1;
const CANCELLED = 2;
const BAD = 3;

/**
 * Parses one SWF line into `out`; returns JOB, PASS (comment or blank), CANCELLED (run time -1: the job never ran)
 * or BAD with `problem` set to [field, message]. `previousSubmit` is the last good job's submit time (order check).
 */
function parseLine(text: string, out: SwfJob, previousSubmit: number, problem: [string, string]): number {
  const t = text.trim();
  if (t === "" || t.startsWith(";")) return PASS;
  const parts = t.split(/\s+/);
  if (parts.length < SWF_FIELDS.length) {
    problem[0] = "";
    problem[1] = `expected ${SWF_FIELDS.length} whitespace-separated fields, found ${parts.length}; is this an SWF file?`;
    return BAD;
  }
  const num = (i: number): number => {
    const v = Number(parts[i]);
    // SWF fields are whole numbers or -1; the archive's times are whole seconds, but fractions are harmless.
    if (!Number.isFinite(v) || parts[i] === "") return NaN;
    return v;
  };
  for (const i of [0, 1, 3, 4, 7, 8, 10]) {
    if (Number.isNaN(num(i))) {
      problem[0] = SWF_FIELDS[i];
      problem[1] = `expected a number (or -1 for unknown), found ${JSON.stringify(parts[i])}`;
      return BAD;
    }
  }
  const bad = (i: number, message: string): number => {
    problem[0] = SWF_FIELDS[i];
    problem[1] = message;
    return BAD;
  };
  out.id = num(0);
  out.submit = num(1);
  if (out.submit < 0) return bad(1, `submit time ${out.submit} is before the log's start; SWF times count from 0`);
  if (out.submit < previousSubmit) return bad(1, `submit time ${out.submit} is before the previous job's (${previousSubmit}); SWF jobs come in submit-time order`);
  const run = num(3);
  if (run === -1) return CANCELLED;
  if (run < 0) return bad(3, `run time ${run} is negative (only -1, unknown, is allowed)`);
  out.run = run;
  const allocated = num(4);
  const requested = num(7);
  const procs = allocated > 0 ? allocated : requested;
  if (!(procs > 0) || !Number.isInteger(procs)) {
    return bad(4, allocated === -1 && requested === -1 ? "processors unknown: both allocated (field 5) and requested (field 8) are -1" : `processors must be a whole number above 0, found ${procs}`);
  }
  out.procs = procs;
  const requestedTime = num(8);
  out.estimate = requestedTime >= 0 ? Math.max(requestedTime, 0) : run;
  return JOB;
}

/**
 * The jobs of one SWF file, forward only. `next()` loads the following job
 * into `job` (the same object each time) and returns false at the end. Its
 * state is its line position and counters, all numbers, so a snapshot of the
 * simulation saves and restores it with the model (no descriptor is held).
 */
export class SwfReader extends SelectedRows {
  readonly job: SwfJob = { id: 0, submit: 0, run: 0, procs: 0, estimate: 0 };
  /** Rows left out: bad ones (under `skip`) and jobs that never ran (run time -1). */
  cancelled = 0;
  private lastSubmit = 0;
  private readonly problem: [string, string] = ["", ""];

  /** Loads the next job the options select; false at the end (or after `limit`). O(line) per row read. */
  next(): boolean {
    if (this.selector.full) return false;
    for (let text = this.reader.next(); text !== undefined; text = this.reader.next()) {
      const kind = parseLine(text, this.job, this.lastSubmit, this.problem);
      if (kind === PASS) continue;
      if (kind === BAD) {
        this.bad.report(this.file, this.reader.position().line - 1, this.problem[0], this.problem[1]);
        continue;
      }
      this.lastSubmit = this.job.submit;
      if (kind === CANCELLED) {
        this.cancelled++;
        continue;
      }
      if (this.selector.take(this.job.submit)) return true;
    }
    return false;
  }

  /** Where the reader is (for tests; a snapshot saves the reader's fields directly). */
  position(): LinePosition {
    return this.reader.position();
  }
}

/**
 * Reads a whole SWF file once (streaming) as the replay would, with the replay's selection, and checks it: under
 * `fail`, throws its first problems (`TraceError`). Returns the jobs selected, those that never ran, and bad rows skipped.
 */
export function checkSwf(path: string, options: RowSelection): { jobs: number; cancelled: number; skipped: number } {
  const bad = new BadRows(options.onBadRow ?? "fail");
  const reader = openSwf(path, options, bad);
  let jobs = 0;
  while (reader.next()) jobs++;
  bad.check();
  return { jobs, cancelled: reader.cancelled, skipped: bad.skipped };
}

/** Opens the SWF log at `path` for replay: a file, or a folder holding one log (beside a README). */
export function openSwf(path: string, options: RowSelection, bad: BadRows): SwfReader {
  const source = sourceOf(options);
  const files = traceFiles(source, path);
  if (files.length !== 1) throw new Error(`${path}: a folder of ${files.length} files; an SWF log is one file: give its path`);
  return new SwfReader(source, files[0], bad, options);
}

/** The SWF adapter: jobs with submit time, run time and processors. */
export const swf: TraceAdapter = {
  kind: "jobs",
  detect: (name, firstLine) => /\.swf$/i.test(name) || /^\s*;\s*(Version|Computer|UnixStartTime)\b/.test(firstLine),
  inspect(path: string, options: TraceReadOptions): TraceSummary {
    const bad = new BadRows("skip");
    const reader = openSwf(path, { ...options, onBadRow: "skip" }, bad);
    const tally = new TraceTally(["submit s", "runTime s", "procs", "estimate s"]);
    while (reader.next()) {
      const j = reader.job;
      tally.push(0, j.submit);
      tally.push(1, j.run);
      tally.push(2, j.procs);
      tally.push(3, j.estimate);
      tally.row(j.submit, j.submit + j.run);
    }
    // Jobs that never ran (run time -1) are rows too; they are valid SWF, so neither problems nor skipped.
    return tally.summary("swf", 1, "jobs", bad, { otherRows: reader.cancelled + bad.count });
  },
};
