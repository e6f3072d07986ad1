/**
 * Bitbrains GWA-T-12 VM usage: one file per VM, a header, then one row per
 * (about) 300 s, fields split by `;` and a tab. The quirks the README lists,
 * and what is done with each:
 * - `Timestamp [ms]` holds Unix seconds: read as seconds (a value too large to
 *   be seconds, past year 5000, is taken as milliseconds, as the label says).
 * - `CPU usage [%]` above 100: kept; the VM asks for more than its vCPUs, and
 *   the CPU solver leaves the excess unserved (it shows as unmet demand).
 * - rows provisioning 0 cores (and 0 MHz) still report memory and network:
 *   their CPU demand is 0 (nothing measured), their other columns are used.
 *   The VM's size is the first row that provisions cores.
 * - repeated timestamps: both rows are samples at the same time; the replay
 *   applies them in order, so the later one holds (the earlier lasts 0 s).
 * - a timestamp earlier than the row before is a bad row.
 * Times are seconds from the trace's start: the earliest first timestamp over
 * the VMs opened, so VMs that start late (14.csv) start late in the replay.
 */
import { baseName, sampled, sourceOf, traceFiles, TraceTally } from "./common.js";
import type { TraceReadOptions, TraceSummary, TraceVm, UtilisationAdapter, UtilisationCursor, UtilisationOpenOptions, UtilisationTrace } from "./index.js";
import { LineReader, type TraceSource } from "./lines.js";
import { BadRows, TraceError } from "./problems.js";

/** The header names read (verbatim from GWA-T-12), in the order `Row` holds them. */
export const BITBRAINS_COLUMNS = [
  "Timestamp [ms]",
  "CPU cores",
  "CPU capacity provisioned [MHZ]",
  "CPU usage [MHZ]",
  "CPU usage [%]",
  "Memory capacity provisioned [KB]",
  "Memory usage [KB]",
  "Disk read throughput [KB/s]",
  "Disk write throughput [KB/s]",
  "Network received throughput [KB/s]",
  "Network transmitted throughput [KB/s]",
] as const;

/** Seconds between samples as GWA-T-12 takes them (jittered, with gaps and repeats in practice). */
export const BITBRAINS_STEP = 300;

const TIME = 0;
const CORES = 1;
const CPU_PCT = 4;
const MEM_CAP = 5;
const MEM = 6;
const DISK_R = 7;
const DISK_W = 8;
const NET_IN = 9;
const NET_OUT = 10;
const KB = 1024;
/** Unix seconds stay below this until the year 5138; a larger timestamp is milliseconds. */
const MS_THRESHOLD = 1e11;
const FIELD_SPLIT = /;\s*/;

/** A file's header: the index of each needed column in its rows, or the problem with it. */
function columnsOf(file: string, header: string | undefined): number[] | TraceError {
  const names = (header ?? "").split(FIELD_SPLIT).map((s) => s.trim());
  const at = BITBRAINS_COLUMNS.map((c) => names.indexOf(c));
  const missing = BITBRAINS_COLUMNS.filter((_, i) => at[i] < 0);
  if (missing.length === 0) return at;
  return new TraceError(missing.map((m) => ({ file, line: 1, field: m, message: `no such column in the header; a Bitbrains file starts with the GWA-T-12 header (${BITBRAINS_COLUMNS[0]};\t${BITBRAINS_COLUMNS[1]};\t...)` })));
}

/**
 * Reads one file's rows into `row` (the values in `BITBRAINS_COLUMNS` order,
 * timestamps in seconds), reporting bad rows to `bad` and passing over them.
 */
class RowReader {
  readonly reader: LineReader;
  readonly row = new Float64Array(BITBRAINS_COLUMNS.length);
  private readonly at: number[];
  /** The last good row's timestamp (a row before it is bad). */
  last = -Infinity;

  constructor(
    source: TraceSource,
    readonly file: string,
    private readonly bad: BadRows,
  ) {
    this.reader = new LineReader(source, file);
    const cols = columnsOf(file, this.reader.next());
    if (cols instanceof TraceError) throw cols;
    this.at = cols;
  }

  /** Loads the next good row; false at the end. Blank lines are passed over uncounted. */
  next(): boolean {
    for (let line = this.reader.next(); line !== undefined; line = this.reader.next()) {
      if (line.trim() === "") continue;
      // perf: split on ";" alone (Number() passes over the tab after it), not a regular expression: the split and its
      // garbage led the profile of inspecting the 2013-7 folder.
      const problem = this.parse(line.split(";"));
      if (problem === undefined) return true;
      this.bad.report(this.file, this.reader.line, problem[0], problem[1]);
      this.bad.check();
    }
    return false;
  }

  /** Fills `row`; returns [field, message] for a bad row. */
  private parse(fields: string[]): [string, string] | undefined {
    for (let c = 0; c < this.at.length; c++) {
      const text = fields[this.at[c]];
      if (text === undefined) return [BITBRAINS_COLUMNS[c], `missing: the row has ${fields.length} fields, the header ${BITBRAINS_COLUMNS.length} or more`];
      const v = Number(text);
      // Number() of blanks is 0: only a 0 may be an empty field.
      if (!Number.isFinite(v) || v < 0 || (v === 0 && text.trim() === "")) return [BITBRAINS_COLUMNS[c], `expected a number from 0, found "${text.trim().slice(0, 40)}"`];
      this.row[c] = v;
    }
    if (this.row[TIME] >= MS_THRESHOLD) this.row[TIME] /= 1000;
    if (this.row[TIME] < this.last) return [BITBRAINS_COLUMNS[TIME], `${this.row[TIME]} is before the row above (${this.last}); rows go forward in time`];
    this.last = this.row[TIME];
    return undefined;
  }
}

/** The VM's size: the first row that provisions cores (its cores, memory and MHz per core). Reads only that far. */
function sizeOf(source: TraceSource, file: string, bad: BadRows): { start: number; cores: number; memory: number } | undefined {
  const r = new RowReader(source, file, bad);
  if (!r.next()) return undefined;
  const start = r.row[TIME];
  do {
    if (r.row[CORES] > 0) return { start, cores: r.row[CORES], memory: r.row[MEM_CAP] * KB };
  } while (r.next());
  return { start, cores: 0, memory: 0 };
}

class BitbrainsCursor implements UtilisationCursor {
  time = 0;
  cpu = 0;
  memory = 0;
  diskRead = 0;
  diskWrite = 0;
  netIn = 0;
  netOut = 0;
  private readonly rows: RowReader;

  constructor(
    source: TraceSource,
    file: string,
    bad: BadRows,
    /** The cores the trace provisions (the CPU % is of the row's cores; the demand is a share of these). */
    private readonly traceCores: number,
    private readonly start: number,
  ) {
    this.rows = new RowReader(source, file, bad);
  }

  next(): boolean {
    if (!this.rows.next()) return false;
    const r = this.rows.row;
    this.time = r[TIME] - this.start;
    this.cpu = r[CORES] > 0 ? ((r[CPU_PCT] / 100) * r[CORES]) / this.traceCores : 0;
    this.memory = r[MEM] * KB;
    this.diskRead = r[DISK_R] * KB;
    this.diskWrite = r[DISK_W] * KB;
    this.netIn = r[NET_IN] * KB;
    this.netOut = r[NET_OUT] * KB;
    return true;
  }

}

/** The Bitbrains adapter (GWA-T-12 `fastStorage`/`Rnd` folders of `<vm>.csv`). */
export const bitbrains: UtilisationAdapter = {
  kind: "utilisation",

  detect: (_name, firstLine) => firstLine.startsWith(BITBRAINS_COLUMNS[0]),

  inspect(path: string, options: TraceReadOptions): TraceSummary {
    const source = sourceOf(options);
    const files = traceFiles(source, path);
    // Inspecting lists every bad row whatever the policy: it never stops at one.
    const bad = new BadRows("skip");
    const names = ["cores", "cpu [%]", "cpu [MHz]", "memory [KB]", "disk read [KB/s]", "disk write [KB/s]", "net in [KB/s]", "net out [KB/s]", "step [s]"];
    const from = [CORES, CPU_PCT, 3, MEM, DISK_R, DISK_W, NET_IN, NET_OUT];
    const tally = new TraceTally(names);
    // Bad rows are rows; a bad header is not.
    let badRows = 0;
    for (const file of files) {
      let r: RowReader;
      try {
        r = new RowReader(source, file, bad);
      } catch (e) {
        if (!(e instanceof TraceError)) throw e;
        for (const p of e.problems) bad.report(p.file, p.line, p.field, p.message);
        continue;
      }
      let prev = NaN;
      const badBefore = bad.count;
      while (r.next()) {
        const row = r.row;
        for (let i = 0; i < from.length; i++) tally.push(i, row[from[i]]);
        if (!Number.isNaN(prev)) tally.push(from.length, row[TIME] - prev);
        prev = row[TIME];
        tally.row(row[TIME]);
      }
      badRows += bad.count - badBefore;
    }
    return tally.summary("bitbrains", files.length, "vms", bad, { otherRows: badRows, count: files.length });
  },

  open(path: string, options: UtilisationOpenOptions): UtilisationTrace {
    const source = sourceOf(options);
    const files = sampled(traceFiles(source, path), options.sample, options.limit);
    const bad = new BadRows(options.onBadRow);
    // Sizing reads no further than the first row that provisions cores; its bad rows are met again by the cursor, so they are not counted here.
    const sizes = files.map((file) => {
      const size = sizeOf(source, file, new BadRows(bad.policy));
      if (!size) throw new TraceError([{ file, line: 0, field: "", message: "has no rows; a Bitbrains trace has a header and one row per sample" }]);
      if (size.cores === 0 && options.cores === undefined) {
        throw new TraceError([{ file, line: 0, field: BITBRAINS_COLUMNS[CORES], message: "no row provisions any cores; give the VM's size with trace: { cores: n }" }]);
      }
      return size;
    });
    const start = Math.min(...sizes.map((s) => s.start));
    const vms: TraceVm[] = files.map((file, i) => ({ name: baseName(file).replace(/\.csv$/i, ""), file, cores: options.cores ?? sizes[i].cores, memory: sizes[i].memory }));
    return {
      vms,
      step: BITBRAINS_STEP,
      traffic: true,
      bad,
      // A VM sized by `cores` alone (no row provisions any) gets no CPU demand: every row's CPU % is of 0 cores.
      cursor: (vm) => new BitbrainsCursor(source, files[vm], bad, sizes[vm].cores || 1, start),
    };
  },
};
