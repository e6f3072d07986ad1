/** The base of commands that read scenarios: scenario problems print as located lines and exit with code 2. */
import { accessSync, closeSync, constants, existsSync, openSync, readFileSync, realpathSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, extname, join, resolve } from "node:path";
import { Command, Flags } from "@oclif/core";
import { applyOverrides, formatProblems, LIMITS, locateProblems, printable, RunCancelled, ScenarioError, unit, unitRangeProblem, type Problem, type Results, type Scenario } from "@turtles/engine";
import type { ChartLibrary } from "@turtles/engine/report";
import { NotAFileError, removeStaleTemporaries, temporaryOf, writeFileAtomic, writeTarget } from "./atomic.js";
import { describeError, readInputFile } from "./files.js";
import type { OutFormat } from "./render.js";
import { PluginLoadError } from "./scenario-file.js";

export abstract class ScenarioCommand extends Command {
  /** Exit code for a scenario that cannot be used (bad input), as opposed to 1 for a failure of the tool. */
  static readonly BAD_INPUT = 2;

  /** `--plugin`, shared by the commands that read scenarios. */
  static pluginFlag = Flags.string({
    description: "also load this layer plugin (an npm package name or a path); repeatable",
    multiple: true,
    default: [],
  });

  /** `--retries`, shared by the commands that run replications on workers. */
  static retriesFlag = Flags.integer({ description: "run a replication whose worker failed or died again, this many times", min: 0, max: 10, default: 0 });

  /** `--rollout` and `--max-unavailable`, shared by the commands that run a scenario on its stacks (`rolloutOf` reads them). */
  static rolloutFlag = Flags.boolean({
    description: "simulate a kernel patch rollout from the start of the measurement: every host and guest kernel restarts in turn, its replicas drained first (the scenario's own rollout: if it has one)",
  });
  static maxUnavailableFlag = Flags.integer({ description: "kernel instances the rollout restarts at once (default 1; implies --rollout)", min: 1, max: LIMITS.hostsPerEntry });

  /** The rollout override of `--rollout` and `--max-unavailable`, or undefined when neither is given. */
  protected rolloutOf(flags: { rollout?: boolean; "max-unavailable"?: number }): { maxUnavailable?: number } | undefined {
    return flags.rollout || flags["max-unavailable"] !== undefined ? { maxUnavailable: flags["max-unavailable"] } : undefined;
  }

  /** The scenario with the run's overrides applied; one it cannot take (a rollout after the measurement) is bad input, named with its file. */
  protected overridden(file: string, scenario: Scenario, options: Parameters<typeof applyOverrides>[1]): Scenario {
    try {
      return applyOverrides(scenario, options);
    } catch (err) {
      if (err instanceof RangeError) return this.fail(`${file}: ${err.message}`);
      throw err;
    }
  }

  /** `--checkpoint-every`, shared by the commands that save as they go. */
  static checkpointEveryFlag = Flags.string({ description: "wall time between saves with --checkpoint, e.g. 30s or 5m", default: "1m" });

  /** `--html`, shared by the commands whose results a report shows (run, compare, sweep). */
  static htmlFlag = Flags.string({ description: "also write a self-contained HTML report (tables and charts; opens offline) to this file, atomically" });

  /** Set once stdout failed: later output to it is dropped (why was said once). */
  private stdoutFailed = false;

  /** The file the command wrote its results to, to say where they are if stdout fails. */
  private resultsIn: string | undefined;

  override log(message?: string, ...args: unknown[]): void {
    this.toStdout(() => super.log(message, ...args));
  }

  protected override logJson(json: unknown): void {
    this.toStdout(() => super.logJson(json));
  }

  /** Text on stdout (rows, results), as `log` writes it. */
  protected print(text: string): void {
    this.toStdout(() => process.stdout.write(text));
  }

  override async init(): Promise<void> {
    await super.init();
    // oclif's own handler rethrows every stdout error but EPIPE, as an uncaught exception with a stack trace.
    process.stdout.removeAllListeners("error");
    process.stdout.on("error", (err) => this.stdoutError(err));
  }

  /** Writes to stdout; a failure is reported by `stdoutError`, whether the stream throws it or emits it. */
  private toStdout(write: () => void): void {
    if (this.stdoutFailed) return;
    try {
      write();
    } catch (err) {
      this.stdoutError(err);
    }
  }

  /**
   * Stdout failed (`--json > /dev/full`, a full disk): said once on stderr, with where the results are if they were
   * written, and the command ends with exit code 1. A reader that went away (`| head`) is not an error.
   */
  private stdoutError(err: unknown): void {
    if (this.stdoutFailed) return;
    this.stdoutFailed = true;
    if ((err as NodeJS.ErrnoException).code === "EPIPE") return;
    const hasOut = "out" in ((this.constructor as typeof Command).flags ?? {});
    const kept = this.resultsIn !== undefined ? `; the results are in ${this.resultsIn}` : hasOut ? "; give --out FILE to keep them in a file" : "";
    process.stderr.write(`${printable(`error: cannot write to stdout: ${describeError(err)}${kept}`)}\n`);
    process.exitCode = 1;
  }

  /** Writes `body` to `file` atomically; undefined when written, else why not (in words). */
  protected tryWrite(file: string, body: string | Uint8Array): string | undefined {
    try {
      writeFileAtomic(file, body);
      this.resultsIn = file;
      return undefined;
    } catch (err) {
      return describeError(err);
    }
  }

  /**
   * Writes `what` (the results, the rows) to `file` atomically. If that fails (a full disk, its folder gone), says
   * which file and why on stderr, sets exit code 1 and returns false: the caller then shows `body` on stdout (unless
   * --json already prints it there), so that the work is not lost.
   */
  protected writeResults(file: string, body: string, what: string): boolean {
    const why = this.tryWrite(file, body);
    if (why === undefined) return true;
    process.stderr.write(`${printable(`error: could not write ${what} to ${file}: ${why}; ${what} ${this.jsonEnabled() ? "are on stdout (--json)" : "are printed on stdout instead"}`)}\n`);
    process.exitCode = 1;
    return false;
  }

  /** Bad input: the message on stderr (also under --json, where oclif mutes its loggers) and exit code 2. */
  protected fail(message: string): never {
    process.stderr.write(`${printable(message)}\n`); // it may quote a flag's or a file's text
    return this.exit(ScenarioCommand.BAD_INPUT);
  }

  /** A line of news on stderr (progress of points and stacks, warnings), with the names in it printed escaped. */
  protected note(line: string): void {
    process.stderr.write(`${printable(line)}\n`);
  }

  /**
   * A duration flag in seconds (more than 0), or undefined when it is not given; bad input exits 2. With the
   * scenario's `warmup`, it is checked against it as the file's own duration is (a warm-up 100 times longer).
   */
  protected durationFlag(name: string, value: string | undefined, warmup?: number): number | undefined {
    if (value === undefined) return undefined;
    try {
      const d = unit("duration", value);
      // The bounds of the scenario's own duration field.
      const outside = unitRangeProblem("duration", d, { above: 0, max: LIMITS.duration }, `"${value}"`);
      if (outside) throw new RangeError(outside);
      if (warmup !== undefined && warmup > 100 * d) throw new RangeError(`the scenario's warm-up (${warmup} s) is more than 100 times "${value}"; is a unit missing?`);
      return d;
    } catch (err) {
      return this.fail(`--${name}: ${(err as Error).message}`);
    }
  }

  /**
   * Checks, before any work, that a file flag names a file this command can write atomically (its temporary file
   * beside it is created and removed), that is not a folder, device, FIFO or socket (through symbolic links: a link
   * to a regular file is written through) and not one of `inputs` (the other files it reads or writes): or bad input,
   * exit 2. Temporaries of that file left by killed runs are removed.
   */
  protected writableFile(name: string, file: string | undefined, ...inputs: string[]): void {
    if (file === undefined) return;
    if (file === "") this.fail(`--${name}: give a file name`);
    // The file a folder could hold, for the suggestion.
    const example = name === "html" ? "report.html" : "results.json";
    if (/[/\\]$/.test(file)) this.fail(`--${name}: ${file} names a folder; give a file in it, such as ${join(file, example)}`);
    const target = resolve(file);
    if (existsSync(target) && statSync(target).isDirectory()) this.fail(`--${name}: ${file} is a folder; give a file in it, such as ${join(file, example)}`);
    // The real file a path names (through links), or the path itself when nothing is there yet.
    const real = (path: string): string => (existsSync(path) ? realpathSync(path) : resolve(path));
    if (inputs.some((input) => real(input) === real(target))) this.fail(`--${name}: ${file} is another file of this command (its scenario, points or checkpoint); give another file`);
    let written = target;
    let probe: string | undefined;
    try {
      written = writeTarget(file);
      removeStaleTemporaries(written); // left by a run killed while it saved
      probe = temporaryOf(written);
      closeSync(openSync(probe, "wx"));
      rmSync(probe);
      if (existsSync(written)) accessSync(written, constants.W_OK);
    } catch (err) {
      if (probe !== undefined) rmSync(probe, { force: true });
      if (err instanceof NotAFileError) {
        const stdout = name !== "out" ? "" : (this.constructor as typeof Command).enableJsonFlag ? "; to write the results to stdout, use --json" : "; without --out the rows go to stdout";
        this.fail(`--${name}: ${err.message}: writing would replace it; give the name of a file${stdout}`);
      }
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === "ENOENT" ? (existsSync(dirname(written)) ? "no file can be created there" : "its folder does not exist") : describeError(err);
      this.fail(`--${name}: cannot write ${file}: ${why}`);
    }
  }

  /**
   * For `--html FILE`, before the work: checks the file as `writableFile` does (not one of `inputs`) and reads the
   * charting library the report inlines. Returns what writes the report once the work is done (atomically; a failed
   * write is said on stderr with exit code 1, the other outputs stay), or undefined without --html.
   */
  protected htmlReporter(file: string | undefined, ...inputs: (string | undefined)[]): ((render: (chartLib: ChartLibrary) => string) => void) | undefined {
    if (file === undefined) return undefined;
    this.writableFile("html", file, ...inputs.filter((f) => f !== undefined));
    const chartLib = chartLibrary();
    return (render) => {
      const why = this.tryWrite(file, render(chartLib));
      if (why === undefined) return;
      this.note(`error: could not write the report to ${file}: ${why}`);
      process.exitCode = 1;
    };
  }

  /**
   * The format of a results file, by its extension (.json: the results JSON; .csv: one row per stack and figure), or
   * bad input, exit 2, naming both: an unknown extension would get a format the reader does not expect.
   */
  protected outFormat(name: string, file: string | undefined): OutFormat | undefined {
    if (file === undefined) return undefined;
    const ext = extname(file).toLowerCase();
    if (ext === ".json" || ext === ".csv") return ext.slice(1) as OutFormat;
    return this.fail(`--${name}: ${file} ends in neither .json nor .csv: give a .json file for the results, or .csv for one row per stack and figure`);
  }

  /**
   * Runs `work` with a signal that Ctrl-C aborts. If it fails after a Ctrl-C,
   * `stopped` gives what to say and the exit code (130, or 1 when a save on
   * the way out failed); `cancelled` is false when `err` is not the
   * cancellation itself.
   */
  protected async interruptible<T>(work: (signal: AbortSignal) => Promise<T>, stopped: (err: unknown, cancelled: boolean) => [message: string, code: number]): Promise<T> {
    const controller = new AbortController();
    const onSigint = (): void => controller.abort();
    process.once("SIGINT", onSigint);
    try {
      return await work(controller.signal);
    } catch (err) {
      if (!controller.signal.aborted && !(err instanceof RunCancelled)) throw err;
      const [message, code] = stopped(err, err instanceof RunCancelled);
      this.note(message);
      return this.exit(code);
    } finally {
      process.off("SIGINT", onSigint);
    }
  }

  /** Replicas that did not fit, on stderr (also under --json, where oclif mutes its loggers: the warning must show). */
  protected warnUnplaced(results: Pick<Results, "unplaced">, prefix = ""): void {
    for (const u of results.unplaced) {
      const where = u.stack === undefined ? "" : `on ${u.stack}, `;
      this.note(`${prefix}warning: ${where}${u.replicas} replica${u.replicas === 1 ? "" : "s"} of ${u.tenant}/${u.service} not placed: ${u.reason}`);
    }
  }

  protected override async catch(err: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    // A deliberate exit (bad input, Ctrl-C): its message is already on stderr; under --json print no error object either.
    if (err.oclif?.exit !== undefined && err.message.startsWith("EEXIT")) {
      process.exitCode = err.oclif.exit;
      return undefined;
    }
    if (err instanceof PluginLoadError) {
      this.note(err.message);
      process.exitCode = ScenarioCommand.BAD_INPUT;
      return undefined;
    }
    if (err instanceof ScenarioError) {
      const problems = located(err.problems);
      if (this.jsonEnabled()) this.logJson({ valid: false, problems });
      else process.stderr.write(`${formatProblems(problems)}\n`);
      process.exitCode = ScenarioCommand.BAD_INPUT;
      return undefined;
    }
    // Messages may quote a name or a file's text: printed escaped.
    err.message = printable(err.message);
    if (err.oclif !== undefined) return super.catch(err); // oclif's own (a bad flag): its message and exit code
    // A failure of the work (a replication that failed in its worker, a file that cannot be written): its message as
    // it is, unwrapped and without a stack, and exit code 1.
    process.stderr.write(`error: ${err.message}\n`);
    process.exitCode = 1;
    return undefined;
  }
}

/** Problems found by a model build (they carry a field, not a line) placed in their file, when it can be read. */
export function located(problems: readonly Problem[]): Problem[] {
  const files = new Map<string, Problem[]>();
  for (const p of problems) files.set(p.file, [...(files.get(p.file) ?? []), p]);
  return [...files].flatMap(([file, list]) => {
    try {
      return locateProblems(list, readInputFile(file, LIMITS.scenarioBytes).toString("utf8"));
    } catch {
      return list; // not a file (a saved run's scenario, a device): as they are
    }
  });
}

/** uPlot's browser build and styles, from the CLI's own dependencies, as the HTML report inlines them. */
export function chartLibrary(): ChartLibrary {
  const require = createRequire(import.meta.url);
  const read = (file: string): string => readFileSync(require.resolve(`uplot/dist/${file}`), "utf8");
  return { js: read("uPlot.iife.min.js"), css: read("uPlot.min.css") };
}
