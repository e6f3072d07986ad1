/**
 * Trace formats: the registry `TRACE_FORMATS` and the contract every format's
 * adapter meets. An adapter reads its files through a `TraceSource` with
 * `LineReader`s (never a whole file into memory), reports malformed rows as
 * `TraceProblem`s under the `onBadRow` policy, and summarises a trace for
 * `turtles trace inspect`. Formats that drive utilisation (PlanetLab,
 * Bitbrains) also `open` a trace as per-VM sample cursors for the replay.
 */
import { baseName, sourceOf, traceFiles } from "./common.js";
import { TraceUnavailable, LineReader, type TraceSource } from "./lines.js";
import type { BadRows, OnBadRow, TraceProblem } from "./problems.js";
import { planetlab } from "./planetlab.js";
import { bitbrains } from "./bitbrains.js";
import { swf } from "./swf.js";
import { alibaba } from "./alibaba.js";

/** The trace formats the engine reads. */
export type TraceFormat = "planetlab" | "bitbrains" | "swf" | "alibaba-pods";

/** What a trace holds: VM utilisation series, batch jobs, or pods (or, for a node list beside pods, hosts). */
export type TraceEntityKind = "vms" | "jobs" | "pods" | "hosts";

/** What `inspect` saw in a trace: what it reads, its time span, and what is wrong with it. */
export interface TraceSummary {
  format: TraceFormat;
  /** Files read (one for a file, every file of a folder). */
  files: number;
  /** Data rows read, bad ones included (headers, comments and blank lines are not rows). */
  rows: number;
  /** Trace time in seconds, as the format counts it (PlanetLab from 0, Bitbrains in Unix seconds). */
  span: { start: number; end: number };
  entities: { kind: TraceEntityKind; count: number };
  /** Per column, over the good rows, in the units the summary names. */
  columns: TraceColumn[];
  /** The first bad rows (at most `MAX_LISTED`). */
  problems: TraceProblem[];
  /** Bad rows in all (left out of `columns`). */
  skipped: number;
}

/** One column's range over a trace. */
export interface TraceColumn {
  name: string;
  min: number;
  mean: number;
  max: number;
}

/** How a trace is read. */
export interface TraceReadOptions {
  /** Where files come from; default: Node's file system (`nodeTraceSource`). */
  source?: TraceSource;
  /** What to do with a malformed row; default `fail`. `inspect` lists problems either way. */
  onBadRow?: OnBadRow;
}

/** One trace format. Adapters hold no state: each call reads afresh. */
export interface TraceAdapter {
  /** What the trace's rows become in a simulation. */
  readonly kind: "utilisation" | "jobs" | "pods";
  /** Whether a file named `name` whose first line is `firstLine` looks like this format (for `trace inspect` without `--format`). */
  detect(name: string, firstLine: string): boolean;
  /** Reads the whole trace once, streaming, and summarises it; bad rows are listed, never thrown. Throws only when the path cannot be read. */
  inspect(path: string, options: TraceReadOptions): TraceSummary;
}

/** One VM of a utilisation trace. */
export interface TraceVm {
  /** The VM's name in the trace (its file name). */
  name: string;
  file: string;
  /** vCPUs: the scenario's `cores`, else what the trace provisions. */
  cores: number;
  /** Memory provisioned in bytes (0 when the trace does not say). */
  memory: number;
}

/**
 * The samples of one VM, forward only: `next()` loads the following sample
 * into the fields (reused, so the replay allocates nothing per sample) and
 * returns false at the end (the fields keep the last sample). A sample holds
 * from `time` until the next one's. Its state is its fields and its reader's
 * (file offset, line number, buffer), so a snapshot of the model saves it.
 */
export interface UtilisationCursor {
  /** Seconds since the trace's start (the earliest first sample over the VMs opened). */
  time: number;
  /** CPU demand as a share of the VM's `cores` (above 1 where the trace says it was over 100 %). */
  cpu: number;
  /** Memory held in bytes, or NaN when the format has no memory column. */
  memory: number;
  /** Disk read and write, network received and sent, in bytes per second (NaN without such columns). */
  diskRead: number;
  diskWrite: number;
  netIn: number;
  netOut: number;
  next(): boolean;
}

/** A utilisation trace opened for replay: its VMs and a cursor for each. */
export interface UtilisationTrace {
  vms: TraceVm[];
  /** The trace's sampling period in seconds: how long a VM's last sample holds. */
  step: number;
  /** Whether its samples carry disk and network rates (else those fields are NaN). */
  traffic: boolean;
  /** Bad rows met so far across all cursors (under `fail` the cursor throws instead). */
  bad: BadRows;
  cursor(vm: number): UtilisationCursor;
}

/** What to open: the VMs, and the VM size where the trace has none. */
export interface UtilisationOpenOptions extends TraceReadOptions {
  /** vCPUs per VM; default the trace's (Bitbrains) or 1 (PlanetLab). */
  cores?: number;
  /** Every n-th VM (file) of the folder, from the first; default 1. */
  sample?: number;
  /** At most this many VMs, after sampling. */
  limit?: number;
}

/** A format whose rows are VM utilisation samples. */
export interface UtilisationAdapter extends TraceAdapter {
  readonly kind: "utilisation";
  open(path: string, options: UtilisationOpenOptions): UtilisationTrace;
}

/** Every trace format by its scenario name. */
export const TRACE_FORMATS: Record<TraceFormat, TraceAdapter> = {
  planetlab,
  bitbrains,
  swf,
  "alibaba-pods": alibaba,
};

/** The format names, for messages and the scenario schema. */
export const TRACE_FORMAT_NAMES = Object.keys(TRACE_FORMATS) as TraceFormat[];

/**
 * The format of the trace at `path`, judged by the first file's name and
 * first line; throws naming the formats when none fits.
 */
export function detectFormat(path: string, options: TraceReadOptions = {}): TraceFormat {
  const source = sourceOf(options);
  const files = traceFiles(source, path);
  if (files.length === 0) throw new Error(`${path}: an empty folder; a trace is a file or a folder of trace files`);
  const first = new LineReader(source, files[0], 4096).next() ?? "";
  const name = baseName(files[0]);
  const fits = TRACE_FORMAT_NAMES.filter((f) => TRACE_FORMATS[f].detect(name, first));
  if (fits.length !== 1) {
    throw new Error(`${files[0]}: cannot tell its trace format from its first line; give it with --format (${TRACE_FORMAT_NAMES.join(", ")})`);
  }
  return fits[0];
}

/** Summarises the trace at `path` (its format detected when not given). Throws `TraceUnavailable` without a file system. */
export function inspectTrace(path: string, options: TraceReadOptions & { format?: TraceFormat } = {}): TraceSummary {
  const format = options.format ?? detectFormat(path, options);
  return TRACE_FORMATS[format].inspect(path, options);
}

export { baseName, TraceTally, sampled, sourceOf, traceFiles } from "./common.js";
export { TraceUnavailable };
