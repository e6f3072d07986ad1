/** The base of commands that read scenarios: scenario problems print as located lines and exit with code 2. */
import { accessSync, closeSync, constants, existsSync, openSync, readFileSync, realpathSync, rmSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { Command, Flags } from "@oclif/core";
import { formatProblems, LIMITS, locateProblems, printable, RunCancelled, ScenarioError, unit, unitRangeProblem, type Problem, type Results } from "@turtles/engine";
import { removeStaleTemporaries, temporaryOf } from "./atomic.js";
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

  /** `--checkpoint-every`, shared by the commands that save as they go. */
  static checkpointEveryFlag = Flags.string({ description: "wall time between saves with --checkpoint, e.g. 30s or 5m", default: "1m" });

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
   * beside it is created and removed), that is not a folder and not one of `inputs` (the other files it reads or writes):
   * or bad input, exit 2. Temporaries of that file left by killed runs are removed.
   */
  protected writableFile(name: string, file: string | undefined, ...inputs: string[]): void {
    if (file === undefined) return;
    if (file === "") this.fail(`--${name}: give a file name`);
    if (/[/\\]$/.test(file)) this.fail(`--${name}: ${file} names a folder; give a file in it, such as ${join(file, "results.json")}`);
    const target = resolve(file);
    if (existsSync(target) && statSync(target).isDirectory()) this.fail(`--${name}: ${file} is a folder; give a file in it, such as ${join(file, "results.json")}`);
    // The real file a path names (through links), or the path itself when nothing is there yet.
    const real = (path: string): string => (existsSync(path) ? realpathSync(path) : resolve(path));
    if (inputs.some((input) => real(input) === real(target))) this.fail(`--${name}: ${file} is another file of this command (its scenario, points or checkpoint); give another file`);
    removeStaleTemporaries(target); // left by a run killed while it saved
    const probe = temporaryOf(target);
    try {
      closeSync(openSync(probe, "wx"));
      rmSync(probe);
      if (existsSync(target)) accessSync(target, constants.W_OK);
    } catch (err) {
      rmSync(probe, { force: true });
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === "ENOENT" ? (existsSync(dirname(target)) ? "no file can be created there" : "its folder does not exist") : code === "EACCES" || code === "EPERM" || code === "EROFS" ? "permission denied" : (err as Error).message;
      this.fail(`--${name}: cannot write ${file}: ${why}`);
    }
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
      return locateProblems(list, readFileSync(file, "utf8"));
    } catch {
      return list; // not a file (a saved run's scenario): as they are
    }
  });
}
