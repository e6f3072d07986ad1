/**
 * PlanetLab per-VM CPU utilisation, as CloudSim ships it: a folder with one
 * file per VM (names may hold spaces), no header, one integer percentage
 * (0-100) per line, line k (1-based) the mean over [(k-1)*300 s, k*300 s).
 * A sample holds for its whole interval (it is that interval's mean; CloudSim
 * interpolates between samples instead, which moves demand between intervals).
 * A bad row is left out under `skip`: its interval keeps the previous value,
 * and later rows keep their times (time comes from the line number).
 */
import { baseName, sampled, sourceOf, traceFiles, TraceTally } from "./common.js";
import type { TraceReadOptions, TraceSummary, UtilisationAdapter, UtilisationCursor, UtilisationOpenOptions, UtilisationTrace } from "./index.js";
import { LineReader, type TraceSource } from "./lines.js";
import { BadRows } from "./problems.js";

/** Seconds each PlanetLab sample covers. */
export const PLANETLAB_STEP = 300;

/** Files are about 700 bytes: one small buffer per VM keeps 1,052 VMs in about 1 MB. */
const CHUNK = 1024;
const NUMBER = /^\s*\d+(\.\d*)?\s*$/;

/** The row's percentage, or the problem with it. */
function parse(line: string): number | string {
  if (!NUMBER.test(line)) return line.trim() === "" ? "an empty line; expected a CPU utilisation in percent" : `expected a CPU utilisation in percent (0 to 100), found "${line.slice(0, 40)}"`;
  const v = Number(line);
  return v <= 100 ? v : `${v} is above 100; expected a CPU utilisation in percent (0 to 100)`;
}

class PlanetLabCursor implements UtilisationCursor {
  time = 0;
  cpu = 0;
  memory = NaN;
  diskRead = NaN;
  diskWrite = NaN;
  netIn = NaN;
  netOut = NaN;
  private readonly reader: LineReader;

  constructor(
    source: TraceSource,
    file: string,
    private readonly bad: BadRows,
  ) {
    this.reader = new LineReader(source, file, CHUNK);
  }

  next(): boolean {
    for (;;) {
      // perf: a whole percentage is read from the line's bytes, with no string, regular expression or Number() (a fifth
      // of the replay's CPU was reading); anything else (decimals, bad rows) is parsed from the line's text.
      const whole = this.reader.nextWhole();
      if (whole === -1) return false;
      const v = whole <= 100 ? whole : parse(this.reader.text());
      if (typeof v === "number") {
        this.time = (this.reader.line - 1) * PLANETLAB_STEP;
        this.cpu = v / 100;
        return true;
      }
      this.bad.report(this.reader.file, this.reader.line, "utilisation", v);
      this.bad.check();
    }
  }

}

/** The PlanetLab adapter (CloudSim's `workload/planetlab/<day>/` folders). */
export const planetlab: UtilisationAdapter = {
  kind: "utilisation",

  detect: (_name, firstLine) => NUMBER.test(firstLine),

  inspect(path: string, options: TraceReadOptions): TraceSummary {
    const source = sourceOf(options);
    const files = traceFiles(source, path);
    const bad = new BadRows(options.onBadRow);
    const tally = new TraceTally(["cpu [%]"]);
    let badRows = 0;
    let end = 0;
    for (const file of files) {
      const reader = new LineReader(source, file, CHUNK);
      for (let line = reader.next(); line !== undefined; line = reader.next()) {
        const v = parse(line);
        if (typeof v === "number") {
          tally.push(0, v);
          tally.row(0);
        } else {
          badRows++;
          bad.report(file, reader.line, "utilisation", v);
        }
      }
      if (reader.line === 0) bad.report(file, 0, "", "an empty file; expected one CPU utilisation per line");
      end = Math.max(end, reader.line * PLANETLAB_STEP);
    }
    // Time comes from line numbers: the span is the longest file's.
    return tally.summary("planetlab", files.length, "vms", bad, { otherRows: badRows, count: files.length, span: { start: 0, end } });
  },

  open(path: string, options: UtilisationOpenOptions): UtilisationTrace {
    const source = sourceOf(options);
    const files = sampled(traceFiles(source, path), options.sample, options.limit);
    const bad = new BadRows(options.onBadRow);
    const cores = options.cores ?? 1;
    return {
      step: PLANETLAB_STEP,
      traffic: false,
      vms: files.map((file) => ({ name: baseName(file), file, cores, memory: 0 })),
      bad,
      cursor: (vm) => new PlanetLabCursor(source, files[vm], bad),
    };
  },
};
