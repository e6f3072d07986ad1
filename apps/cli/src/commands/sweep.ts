import { existsSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, resolve } from "node:path";
import { Args, Flags } from "@oclif/core";
import {
  applyOverrides,
  applyPoint,
  decodeSweepSnapshot,
  encodeSweepSnapshot,
  formatBytes,
  formatProblems,
  fromCsv,
  grid,
  inShard,
  LIMITS,
  loadScenario,
  locateProblems,
  parseParam,
  parseShard,
  partRows,
  pointKey,
  printable,
  rowOf,
  scenarioHash,
  ScenarioError,
  shardPart,
  sweepId,
  toCsv,
  type RunSnapshot,
  type Scenario,
  type Shard,
} from "@turtles/engine";
import { runMany, type JobOutcome } from "@turtles/engine/pool";
import { sweepHtmlReport } from "@turtles/engine/report";
import { writeFileAtomic } from "../lib/atomic.js";
import { backendFlag, backendJobs, checkedBackend, queueFlag } from "../lib/backend-flags.js";
import { countProgress, jobsProgress } from "../lib/progress.js";
import { located, ScenarioCommand } from "../lib/base.js";
import { InputFileError, readInputFile } from "../lib/files.js";
import { besideFile, besidePath, builtinPluginModules, loadedPluginModules, loadPlugins, memoryLimits, readScenario, readScenarioSource, savedPluginsProblem, workersThatFit } from "../lib/scenario-file.js";

export default class Sweep extends ScenarioCommand {
  static override summary = "Run a scenario at every point of a parameter grid: one row of means and 95% half-widths per point.";

  static override description =
    "Each --param sets a field (DESIGN.md paths: services.<service>.<field>, tenants.<tenant>.services.<service>.<field>, " +
    "hostTypes.<type>.<field>, hosts.<i>.count, defaults.stack, ...) to each of its values; the grid is every combination " +
    "(or the points of --points, a JSON list of { path: value }). Rows are written after each point, atomically; --resume " +
    "keeps the rows an earlier run of the same file and flags already wrote (each row carries its scenarioHash) and computes only the others. With --checkpoint FILE the " +
    "points in progress are saved there too (every --checkpoint-every of wall time, and on Ctrl-C), and --resume continues " +
    "them where they stopped. Output is identical for any --workers, and whether the sweep was stopped and resumed or not.";

  static override examples = [
    "<%= config.bin %> sweep examples/web-tier.yaml --param services.frontend.replicas=12,24,48 --out sweep.csv",
    "<%= config.bin %> sweep examples/batch.yaml --param hostTypes.c6i.cores=8,16 --param services.render.replicas=16,32 --replications 3 --out sweep.json",
    "<%= config.bin %> sweep examples/overload.yaml --param services.checkout.replicas=1,2,4 --duration 1h --out sweep.csv --checkpoint sweep.snap",
    "<%= config.bin %> sweep examples/overload.yaml --param services.checkout.replicas=1,2,4,8 --shard 2/4 --out part-2.json",
  ];

  static override args = { file: Args.string({ description: "scenario file (YAML or JSON); not with --status or --cancel" }) };

  static override flags = {
    param: Flags.string({ description: "path=value1,value2,... (repeatable)", multiple: true, default: [] }),
    points: Flags.string({ description: "a JSON file with a list of points ({ path: value } objects) instead of the grid" }),
    seed: Flags.integer({ description: "root seed (replication seeds derive from it, the same at every point)", min: 0, max: Number.MAX_SAFE_INTEGER }),
    duration: Flags.string({ description: "measured simulated time at every point, e.g. 5m" }),
    replications: Flags.integer({ description: "replications per point", min: 1, max: 10000 }),
    workers: Flags.integer({ description: "worker threads (default: the machine's cores, at most one per replication, fewer if the models would not fit in memory together)", min: 1, max: 256 }),
    out: Flags.string({ description: "write the rows to this .csv or .json file (default: CSV on stdout)" }),
    resume: Flags.boolean({ description: "keep the points already in --out and compute only the others (continuing those saved in --checkpoint)" }),
    checkpoint: Flags.string({ description: "save the points in progress to this file as they go and on Ctrl-C (needs --out; removed at the end)" }),
    "checkpoint-every": ScenarioCommand.checkpointEveryFlag,
    retries: ScenarioCommand.retriesFlag,
    plugin: ScenarioCommand.pluginFlag,
    html: ScenarioCommand.htmlFlag,
    backend: backendFlag(),
    queue: queueFlag,
    status: Flags.boolean({ description: "list the sweeps in progress on --backend, with their jobs by state, and exit" }),
    cancel: Flags.string({ description: "cancel the sweep of this id (from --status) on --backend: its jobs not yet running are removed, and its submitter stops (exit 1)" }),
    shard: Flags.string({
      description: "run only shard i of N (points i, i+N, i+2N, ... of the grid) and write them to --out, a .json part file; `turtles merge` joins the parts into the rows of the whole sweep",
    }),
  };

  /**
   * On --resume, the rows of `out` that a point of this sweep can keep: those done (a failed point is computed again)
   * from the same scenario, file and flags (its row's scenarioHash). A row of another sweep stops the command.
   */
  private keepDone(
    out: string,
    json: boolean,
    points: readonly Record<string, string>[],
    paths: readonly string[],
    hashes: readonly string[],
    rows: (Record<string, unknown> | undefined)[],
    what: (point: Record<string, string>) => string,
  ): void {
    let old: Record<string, unknown>[];
    try {
      const text = readFileSync(out, "utf8");
      old = (partRows(text) ?? (json ? JSON.parse(text) : fromCsv(text))) as Record<string, unknown>[];
      if (!Array.isArray(old)) throw new Error("not a list of rows");
    } catch (err) {
      this.fail(`--resume: cannot read the rows in ${out} (${(err as Error).message}); give the --out of the sweep to continue, or remove it`);
    }
    const byKey = new Map(points.map((p, i) => [pointKey(p, paths), i]));
    const columns = new Set(old.flatMap((r) => Object.keys(r)));
    if (old.length > 0 && !paths.some((p) => columns.has(p))) {
      this.fail(`--resume: ${out} holds rows of another sweep (none of its columns is a parameter of this one); give another --out, or remove it`);
    }
    if (old.length > 0 && !columns.has("scenarioHash")) {
      this.fail(`--resume: ${out} was written by an older turtles, whose rows carry no scenarioHash to check them by; give another --out, or remove it`);
    }
    let kept = 0;
    for (const r of old) {
      if (!(r.error === undefined || r.error === null || r.error === "")) continue;
      const i = byKey.get(pointKey(r, paths));
      if (i === undefined || hashes[i] === "") continue; // not a point of this sweep, or of another shard
      if (r.scenarioHash !== hashes[i]) {
        this.fail(
          `--resume: ${out} holds point ${i + 1} (${what(points[i])}) computed from another scenario, or other --seed, --duration or ` +
            `--replications, than now; run with the same file and flags, or give another --out`,
        );
      }
      rows[i] = r;
      kept++;
    }
    this.note(`resuming: ${kept} point${kept === 1 ? "" : "s"} already in ${out}`);
  }

  /** The points of a --points file: a JSON list of objects, each a point's values by parameter path. */
  private readPoints(file: string): Record<string, string>[] {
    let text = "";
    try {
      const bytes = readInputFile(file, LIMITS.scenarioBytes);
      if (bytes.length > LIMITS.scenarioBytes) this.fail(`--points ${file}: it is larger than ${formatBytes(LIMITS.scenarioBytes)}, the most a file of points may be; give fewer points`);
      text = bytes.toString("utf8");
    } catch (err) {
      if (!(err instanceof InputFileError)) throw err;
      this.fail(`--points ${file}: cannot read it: ${err.message}`);
    }
    let list: unknown;
    try {
      list = JSON.parse(text);
    } catch (err) {
      this.fail(`--points ${file}: not JSON (${(err as Error).message})`);
    }
    const example = '[{ "services.api.replicas": 2, "placement.policy": "spread" }, ...]';
    if (!Array.isArray(list) || list.length === 0) this.fail(`--points ${file}: give a list of points, such as ${example}`);
    if (list.length > LIMITS.sweepPoints) {
      this.fail(
        `--points ${file}: it has ${list.length.toLocaleString("en-US")} points, more than the ${LIMITS.sweepPoints.toLocaleString("en-US")} a sweep may run; ` +
          "split them into several files, each swept with its own --out",
      );
    }
    return list.map((p, i) => {
      if (typeof p !== "object" || p === null || Array.isArray(p) || Object.keys(p).length === 0) {
        this.fail(`--points ${file}: point ${i + 1} is not an object of values by path, such as ${example}`);
      }
      return Object.fromEntries(Object.entries(p).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
    });
  }

  /** `--status` and `--cancel`: what a backend holds, with no scenario. */
  private async manage(flags: { backend?: string; queue: string; status: boolean; cancel?: string }): Promise<void> {
    if (!flags.backend) this.fail(`--${flags.status ? "status" : "cancel"} needs --backend redis://HOST:PORT: the sweeps in progress are there`);
    const backend = await checkedBackend((m) => this.fail(m), flags.backend, flags.queue);
    const { backendStatus, cancelSweep } = await import("../lib/backend.js");
    if (flags.cancel !== undefined) {
      if (!(await cancelSweep(backend, flags.queue, flags.cancel))) this.fail(`--cancel ${flags.cancel}: no sweep of that id is in progress on queue ${flags.queue} at ${backend.where}; --status lists them`);
      this.note(`cancelled sweep ${flags.cancel}`);
      return;
    }
    const sweeps = await backendStatus(backend, flags.queue);
    if (sweeps.length === 0) this.log(`no sweep in progress on queue ${flags.queue} at ${backend.where}`);
    for (const s of sweeps) {
      const counts = Object.entries(s.counts).map(([state, n]) => `${n} ${state}`).join(", ");
      this.log(`${s.id}  ${s.file}  started ${new Date(s.started).toISOString()}  ${s.jobs.length} jobs: ${counts}`);
    }
  }

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Sweep);
    if (flags.status || flags.cancel !== undefined) return this.manage(flags);
    const file = args.file ?? this.fail("give the scenario file: turtles sweep FILE --param path=value1,value2");
    if (flags.backend && flags.checkpoint) this.fail("--checkpoint is for a local sweep: with --backend the results of finished jobs stay in Redis; re-attach with --resume");
    const backend = flags.backend ? await checkedBackend((m) => this.fail(m), flags.backend, flags.queue) : undefined;
    this.writableFile("out", flags.out, ...[file, flags.points, flags.checkpoint].filter((f) => f !== undefined)); // before the work, not after it
    const html = this.htmlReporter(flags.html, file, flags.points, flags.checkpoint, flags.out);
    if (flags.resume && !flags.out) this.fail("--resume needs --out: the rows a sweep already wrote are read from it");
    let shard: Shard | undefined;
    if (flags.shard !== undefined) {
      try {
        shard = parseShard(flags.shard);
      } catch (err) {
        this.fail((err as Error).message);
      }
      if (!flags.out?.endsWith(".json")) this.fail(`--shard needs --out FILE.json: the shard's rows go to a part file, such as --out part-${shard.index}.json, which turtles merge reads`);
    }
    const plugins = await loadPlugins(flags.plugin);
    const base = readScenario(file, plugins); // the base scenario must be valid on its own
    const text = Buffer.from(readScenarioSource(file)).toString("utf8");
    let points: Record<string, string>[];
    let paths: string[];
    if (flags.points) {
      if (flags.param.length > 0) this.fail("give --param or --points, not both");
      points = this.readPoints(flags.points);
      paths = [...new Set(points.flatMap((p) => Object.keys(p)))];
    } else {
      if (flags.param.length === 0) this.fail("give at least one --param path=value1,value2 (or --points file.json)");
      let params: ReturnType<typeof parseParam>[] = [];
      try {
        params = flags.param.map(parseParam);
      } catch (err) {
        this.fail((err as Error).message);
      }
      paths = params.map((p) => p.path);
      const twice = paths.find((p, i) => paths.indexOf(p) !== i);
      if (twice !== undefined) this.fail(`--param ${twice} is given twice; give it once with all its values: ${twice}=a,b,c`);
      try {
        points = grid(params);
      } catch (err) {
        if (!(err instanceof RangeError)) throw err;
        this.fail(err.message);
      }
    }
    const duration = this.durationFlag("duration", flags.duration, base.warmup);
    const checkpointFile = flags.checkpoint;
    const every = this.durationFlag("checkpoint-every", flags["checkpoint-every"])!;
    // Saved points in progress, by point key.
    const savedRuns = new Map<string, RunSnapshot>();
    if (checkpointFile !== undefined) {
      if (!flags.out) this.fail("--checkpoint needs --out: the rows of the points done are kept there, the points in progress in the checkpoint");
      this.writableFile("checkpoint", checkpointFile, file);
      if (existsSync(checkpointFile)) {
        if (!flags.resume) this.fail(`--checkpoint: ${checkpointFile} already exists; continue that sweep with --resume, or remove it`);
        try {
          for (const p of decodeSweepSnapshot(readFileSync(checkpointFile), checkpointFile).points) savedRuns.set(pointKey(p.point, paths), p.run);
        } catch (err) {
          this.fail((err as Error).message);
        }
      }
    }
    const json = flags.out?.endsWith(".json") ?? false;
    // A point as its parameters, printed escaped (a --param or --points value may hold any text).
    const what = (point: Record<string, string>): string => printable(Object.entries(point).map(([k, v]) => `${k}=${v}`).join(" "));
    // Each point's scenario: its values applied to the file, then the flags. Its hash goes into its row, so that
    // --resume keeps only rows computed from the same scenario.
    const limits = memoryLimits();
    // A shard prepares and runs only its own points; the others stay holes in `scenarios` and `rows`.
    const mine = points.map((_, i) => shard === undefined || inShard(i, shard));
    const preparing = countProgress("preparing points:", mine.filter(Boolean).length);
    let prepared = 0;
    const prepare = (point: Record<string, string>, i: number): Scenario | undefined => {
      if (!mine[i]) return undefined;
      preparing.update(prepared++);
      let pointText = "";
      try {
        pointText = applyPoint(text, file, point);
      } catch (err) {
        if (err instanceof RangeError) this.fail(err.message);
        throw err;
      }
      try {
        return applyOverrides(loadScenario(pointText, { file, plugins, ...limits, readFile: besideFile(file), resolvePath: besidePath(file) }), { seed: flags.seed, duration, replications: flags.replications });
      } catch (err) {
        if (!(err instanceof ScenarioError)) throw err;
        // Lines of the point's text are not the file's: place each problem in the file (where its field is there)
        // and name the point whose values made it.
        const inFile = locateProblems(
          err.problems.map((p) => ({ ...p, line: 0, column: 0, message: `${p.message} (with --param ${what(point)})` })),
          text,
        );
        throw new ScenarioError(inFile);
      }
    };
    let scenarios: (Scenario | undefined)[];
    try {
      scenarios = points.map(prepare);
    } finally {
      preparing.done();
    }
    const hashes = scenarios.map((s) => (s ? scenarioHash(s) : ""));
    // One row per point, in point order; the file lists the points done so far.
    const rows: (Record<string, unknown> | undefined)[] = points.map(() => undefined);
    if (flags.resume && flags.out && existsSync(flags.out)) this.keepDone(flags.out, json, points, paths, hashes, rows, what);
    let failed = 0;
    let badInput = 0;
    const id = shard && sweepId(text, points, { seed: flags.seed, duration, replications: flags.replications });
    // A shard writes its part file (rows by point index, for `turtles merge`); a whole sweep its rows.
    const body = (list: readonly (Record<string, unknown> | undefined)[]): string =>
      shard ? shardPart(id!, shard, rows) : json ? `${JSON.stringify(list, null, 2)}\n` : toCsv(list as Record<string, string | number | null>[]);
    // Why the last write of --out failed (undefined: it holds every row done). The sweep goes on: its rows are kept
    // here and written after the next point, or printed at the end.
    let unwritten: string | undefined;
    const write = (): void => {
      if (!flags.out) return;
      const why = this.tryWrite(flags.out, body(rows.filter(Boolean)));
      if (why !== undefined && unwritten === undefined) {
        this.note(`warning: could not write the rows to ${flags.out}: ${why}; the sweep goes on, keeps its rows and writes them after the next point`);
      }
      unwritten = why;
    };
    const todo: { index: number; point: Record<string, string>; scenario: Scenario; resume?: RunSnapshot }[] = [];
    for (const [index, point] of points.entries()) {
      const scenario = scenarios[index];
      if (rows[index] || !scenario) continue;
      const resume = savedRuns.get(pointKey(point, paths));
      if (resume) {
        // A saved state continues only the scenario it was saved from, with the same plugins.
        if (resume.scenario !== JSON.stringify(scenario)) {
          this.fail(
            `${checkpointFile} holds point ${index + 1} (${what(point)}) of another scenario than ${file} and these flags give now; ` +
              `run with the same file and flags, or remove ${checkpointFile} to compute its points afresh`,
          );
        }
        const refused = savedPluginsProblem(checkpointFile!, resume, plugins, `remove ${checkpointFile} to compute its points afresh`);
        if (refused) this.fail(refused);
      }
      todo.push({ index, point, scenario, resume });
    }
    const started = Date.now();
    const progress = jobsProgress(
      todo.map((t) => ({ replications: t.scenario.replications, done: t.resume?.done.map((d) => d.replication), running: t.resume?.running.map((r) => r.replication) })),
    );
    const record = (index: number, outcome: JobOutcome): void => {
      progress.done();
      const point = points[index];
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      if (outcome.error === undefined) {
        rows[index] = rowOf(point, outcome.results);
        this.note(`point ${index + 1}/${points.length} (${what(point)}) done at ${seconds} s`);
        this.warnUnplaced(outcome.results, `point ${index + 1}/${points.length} (${what(point)}): `);
      } else {
        // A failed point is reported in its row and on stderr; the other points go on.
        failed++;
        if (outcome.problems) badInput++;
        // Bad input found by the build (a point without NICs or disks it needs) is placed in the file, as validate does.
        const error = outcome.problems ? formatProblems(located(outcome.problems)) : outcome.error;
        rows[index] = { ...point, scenarioHash: hashes[index], error };
        // Problems come formatted a line each (escaped); another error is one message.
        process.stderr.write(`point ${index + 1}/${points.length} (${what(point)}) failed: ${outcome.problems ? error : printable(error)}\n`);
      }
      write();
    };
    const replications = todo.reduce((n, t) => n + t.scenario.replications, 0);
    const workers = workersThatFit(
      todo.map((t) => t.scenario),
      Math.min(flags.workers ?? availableParallelism(), Math.max(1, replications)),
    );
    // Every replication of every point on one pool (also with --workers 1, so a failed point reads the same for any
    // number): a sweep of one-replication points uses all the workers too.
    const jobs = todo.map((t) => ({ scenario: t.scenario, label: what(t.point), resume: t.resume }));
    const kept = (): string => {
      const written = rows.filter(Boolean).length;
      if (!flags.out) return "nothing was written";
      if (written === 0) return "no point was done yet";
      const points = `the ${written} point${written === 1 ? "" : "s"} done`;
      if (unwritten === undefined) return `${points} ${written === 1 ? "is" : "are"} in ${flags.out}`;
      // Not in the file: on stdout, so they are not lost.
      this.print(body(rows.filter(Boolean)));
      return `${points} could not be written to ${flags.out} (${unwritten}) and ${written === 1 ? "is" : "are"} printed on stdout`;
    };
    const pluginModules = [...builtinPluginModules, ...loadedPluginModules];
    if (backend) {
      const { runOnBackend, CancelledError, Detached } = await import("../lib/backend.js");
      const sweep = (id ?? sweepId(text, points, { seed: flags.seed, duration, replications: flags.replications })).replace(/^sha256:/, "").slice(0, 12);
      let ended = 0;
      const stop = new AbortController();
      const onSigint = (): void => stop.abort();
      process.once("SIGINT", onSigint);
      try {
        await runOnBackend(jobs, plugins, {
          ...backendJobs(backend, flags.queue, sweep, file, flags.retries),
          points: todo.map((t) => t.index),
          resume: flags.resume,
          signal: stop.signal,
          onReplication: (k, r, state) => {
            if (state === "done" || state === "failed") ended++;
            progress.mark(k, r, state);
          },
          onJob: (k, outcome) => record(todo[k].index, outcome),
        });
      } catch (err) {
        progress.done();
        if (err instanceof Detached) {
          this.note(`stopped waiting by Ctrl-C after ${ended} of ${replications} replications: ${kept()}; the jobs go on in Redis: re-attach with the same command and --resume`);
          return this.exit(130);
        }
        if (!(err instanceof CancelledError)) throw err;
        // Someone else's decision, not bad input: the sweep did not complete (exit 1), and what it had done is kept.
        this.note(`sweep ${err.message}: it stopped after ${ended} of ${replications} replications; ${kept()}`);
        return this.exit(1);
      } finally {
        process.off("SIGINT", onSigint);
      }
    } else await this.interruptible(
      (signal) =>
        runMany(jobs, plugins, {
          workers,
          file,
          retries: flags.retries,
          pluginModules,
          signal,
          onProgress: progress.update,
          onJob: (k, outcome) => record(todo[k].index, outcome),
          checkpoint: checkpointFile
            ? {
                every,
                pluginModules: [...loadedPluginModules],
                // Only points under way: those done are rows of --out, those not started start afresh.
                save: (runs) =>
                  writeFileAtomic(
                    checkpointFile,
                    encodeSweepSnapshot(runs.flatMap((run, k) => (run && (run.done.length > 0 || run.running.length > 0) ? [{ point: todo[k].point, run }] : []))),
                  ),
                onSaveError: (err) => this.note(`warning: could not save the sweep to ${checkpointFile}: ${err.message}; trying again later`),
              }
            : undefined,
        }),
      (err, cancelled) => {
        progress.done();
        return checkpointFile === undefined
          ? [`stopped by Ctrl-C: ${kept()}`, 130]
          : cancelled
            ? [`stopped by Ctrl-C: ${kept()}, and the points in progress are saved in ${checkpointFile}; continue with the same command and --resume`, 130]
            : [`stopped by Ctrl-C, but the points in progress could not be saved to ${checkpointFile}: ${(err as Error).message}; ${kept()}`, 1];
      },
    );
    progress.done();
    // The sweep is complete: its saved points are of no more use.
    if (checkpointFile !== undefined) rmSync(checkpointFile, { force: true });
    if (!flags.out) this.print(json ? JSON.stringify(rows, null, 2) : toCsv(rows as Record<string, string | number | null>[]));
    else if (!this.writeResults(flags.out, body(rows.filter(Boolean)), "the rows")) this.print(body(rows.filter(Boolean)));
    html?.((chartLib) => sweepHtmlReport(rows.filter((r) => r !== undefined), { params: paths, chartLib, title: `${base.name}: sweep of ${paths.join(", ")}` }));
    if (failed > 0) {
      process.stderr.write(`${failed} of ${mine.filter(Boolean).length} points${shard ? ` of shard ${shard.index}/${shard.count}` : ""} failed\n`);
      // Every point run was bad input (a host type without the NIC or disk the scenario needs): as validate says, 2.
      process.exitCode = badInput === todo.length ? ScenarioCommand.BAD_INPUT : 1;
    }
  }
}
