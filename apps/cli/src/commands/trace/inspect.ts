import { Args, Flags } from "@oclif/core";
import { formatTable, formatTraceProblem, inspectTrace, printable, TRACE_FORMAT_NAMES, type TraceFormat, type TraceSummary } from "@turtles/engine";
import { ScenarioCommand } from "../../lib/base.js";

export default class TraceInspect extends ScenarioCommand {
  static override summary = "Show what a trace adapter reads from a trace file or folder.";

  static override description =
    "Reads a trace once, streaming, and prints its rows, time span, VMs, jobs or pods, a min/mean/max summary per column, " +
    "and the first bad rows found (file:line: field: message) with how many there are in all. The format is told from the " +
    "first file unless --format gives it. Exit code 2 when the path cannot be read or its format cannot be told.";

  static override examples = [
    "<%= config.bin %> trace inspect data/traces/planetlab-cloudsim/20110303",
    "<%= config.bin %> trace inspect data/traces/bitbrains-rnd/2013-7/41.csv --format bitbrains --json",
  ];

  static override args = { path: Args.string({ description: "a trace file, or a folder of trace files (one per VM)", required: true }) };

  static override flags = { format: Flags.string({ description: "the trace's format (default: told from its first line)", options: TRACE_FORMAT_NAMES }) };

  static override enableJsonFlag = true;

  async run(): Promise<TraceSummary> {
    const { args, flags } = await this.parse(TraceInspect);
    let summary: TraceSummary;
    try {
      summary = inspectTrace(args.path, { format: flags.format as TraceFormat | undefined });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // A path that cannot be read, or a trace of no known format: bad input.
      return this.fail(code === "ENOENT" ? `${args.path}: no such file or folder` : code ? `${args.path}: cannot read it (${code})` : (err as Error).message);
    }
    this.log(formatSummary(args.path, summary));
    return summary;
  }
}

/** Trace time as the format counts it: Unix seconds as UTC dates, else seconds. */
function when(s: number): string {
  return s >= 1e8 ? `${new Date(s * 1000).toISOString().replace(".000Z", "Z")} (${s})` : `${s} s`;
}

/** The summary a person reads: one line each for the counts and span, a table of columns, then the problems. */
export function formatSummary(path: string, s: TraceSummary): string {
  const num = (x: number): string => String(Number(x.toPrecision(6)));
  const lines = [
    printable(`${path}: ${s.format} trace`),
    `  files     ${s.files}`,
    `  rows      ${s.rows}`,
    `  ${s.entities.kind.padEnd(9)} ${s.entities.count}`,
    `  span      ${when(s.span.start)} to ${when(s.span.end)} (${num((s.span.end - s.span.start) / 3600)} h)`,
    "",
    formatTable(["column", "min", "mean", "max"], s.columns.map((c) => [c.name, num(c.min), num(c.mean), num(c.max)])),
  ];
  if (s.skipped === 0) lines.push("", "no bad rows");
  else {
    lines.push("", `${s.skipped} bad row${s.skipped === 1 ? "" : "s"}${s.skipped > s.problems.length ? `, the first ${s.problems.length}:` : ":"}`);
    for (const p of s.problems) lines.push(`  ${formatTraceProblem(p)}`);
  }
  return lines.join("\n");
}
