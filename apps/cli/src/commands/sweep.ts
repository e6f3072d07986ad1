import { existsSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { Args, Flags } from "@oclif/core";
import { applyOverrides, applyPoint, fromCsv, grid, loadScenario, parseParam, pointKey, rowOf, toCsv, type Scenario } from "@turtles/engine";
import { runMany, type JobOutcome } from "@turtles/engine/pool";
import { writeFileAtomic } from "../lib/atomic.js";
import { ScenarioCommand } from "../lib/base.js";
import { builtinPluginModules, loadedPluginModules, loadPlugins, readScenario } from "../lib/scenario-file.js";

export default class Sweep extends ScenarioCommand {
  static override summary = "Run a scenario at every point of a parameter grid: one row of means and 95% half-widths per point.";

  static override description =
    "Each --param sets a field (DESIGN.md paths: services.<service>.<field>, tenants.<tenant>.services.<service>.<field>, " +
    "hostTypes.<type>.<field>, hosts.<i>.count, defaults.stack, ...) to each of its values; the grid is every combination " +
    "(or the points of --points, a JSON list of { path: value }). Rows are written after each point, atomically; --resume " +
    "keeps the rows an earlier run of the same file already wrote and computes only the others. Output is identical for any --workers.";

  static override examples = [
    "<%= config.bin %> sweep examples/web-tier.yaml --param services.frontend.replicas=12,24,48 --out sweep.csv",
    "<%= config.bin %> sweep examples/batch.yaml --param hostTypes.c6i.cores=8,16 --param services.render.replicas=16,32 --replications 3 --out sweep.json",
  ];

  static override args = { file: Args.string({ description: "scenario file (YAML or JSON)", required: true }) };

  static override flags = {
    param: Flags.string({ description: "path=value1,value2,... (repeatable)", multiple: true, default: [] }),
    points: Flags.string({ description: "a JSON file with a list of points ({ path: value } objects) instead of the grid" }),
    seed: Flags.integer({ description: "root seed (replication seeds derive from it, the same at every point)", min: 0 }),
    duration: Flags.string({ description: "measured simulated time at every point, e.g. 5m" }),
    replications: Flags.integer({ description: "replications per point", min: 1, max: 10000 }),
    workers: Flags.integer({ description: "worker threads (default: the machine's cores)", min: 1, max: 256 }),
    out: Flags.string({ description: "write the rows to this .csv or .json file (default: CSV on stdout)" }),
    resume: Flags.boolean({ description: "keep the points already in --out and compute only the others" }),
    retries: Flags.integer({ description: "run a replication whose worker failed or died again, this many times", min: 0, max: 10, default: 0 }),
    plugin: ScenarioCommand.pluginFlag,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Sweep);
    const plugins = await loadPlugins(flags.plugin);
    readScenario(args.file, plugins); // the base scenario must be valid on its own
    const text = readFileSync(args.file, "utf8");
    let points: Record<string, string>[];
    let paths: string[];
    try {
      if (flags.points) {
        points = (JSON.parse(readFileSync(flags.points, "utf8")) as Record<string, unknown>[]).map((p) =>
          Object.fromEntries(Object.entries(p).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)])),
        );
        paths = [...new Set(points.flatMap((p) => Object.keys(p)))];
      } else {
        const params = flags.param.map(parseParam);
        if (params.length === 0) this.fail("give at least one --param path=value1,value2 (or --points file.json)");
        points = grid(params);
        paths = params.map((p) => p.path);
      }
    } catch (err) {
      this.fail((err as Error).message);
    }
    const duration = this.durationFlag("duration", flags.duration);
    const json = flags.out?.endsWith(".json") ?? false;
    // Rows already written by an earlier run of this sweep, by point.
    const done = new Map<string, Record<string, unknown>>();
    if (flags.resume && flags.out && existsSync(flags.out)) {
      const old = readFileSync(flags.out, "utf8");
      const rows = (json ? JSON.parse(old) : fromCsv(old)) as Record<string, unknown>[];
      // A point that failed is computed again.
      for (const r of rows) if (r.error === undefined || r.error === null || r.error === "") done.set(pointKey(r, paths), r);
      process.stderr.write(`resuming: ${done.size} point${done.size === 1 ? "" : "s"} already in ${flags.out}\n`);
    }
    // One row per point, in point order; the file lists the points done so far.
    const rows: (Record<string, unknown> | undefined)[] = points.map((point) => done.get(pointKey(point, paths)));
    let failed = 0;
    const write = (): void => {
      const body = json ? `${JSON.stringify(rows.filter(Boolean), null, 2)}\n` : toCsv(rows.filter(Boolean) as Record<string, string | number | null>[]);
      if (flags.out) writeFileAtomic(flags.out, body);
    };
    const todo: { index: number; point: Record<string, string>; scenario: Scenario }[] = [];
    for (const [index, point] of points.entries()) {
      if (rows[index]) continue;
      let pointText: string;
      try {
        pointText = applyPoint(text, args.file, point);
      } catch (err) {
        if (err instanceof RangeError) this.fail(err.message);
        throw err;
      }
      const scenario = applyOverrides(loadScenario(pointText, { file: args.file, plugins }), { seed: flags.seed, duration, replications: flags.replications });
      todo.push({ index, point, scenario });
    }
    const what = (point: Record<string, string>): string => Object.entries(point).map(([k, v]) => `${k}=${v}`).join(" ");
    const started = Date.now();
    const record = (index: number, outcome: JobOutcome): void => {
      const point = points[index];
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      if (outcome.error === undefined) {
        rows[index] = rowOf(point, outcome.results);
        process.stderr.write(`point ${index + 1}/${points.length} (${what(point)}) done at ${seconds} s\n`);
      } else {
        // A failed point is reported in its row and on stderr; the other points go on.
        failed++;
        rows[index] = { ...point, error: outcome.error };
        process.stderr.write(`point ${index + 1}/${points.length} (${what(point)}) failed: ${outcome.error}\n`);
      }
      write();
    };
    const replications = todo.reduce((n, t) => n + t.scenario.replications, 0);
    const workers = Math.min(flags.workers ?? availableParallelism(), Math.max(1, replications));
    // Every replication of every point on one pool (also with --workers 1, so a failed point reads the same for any
    // number): a sweep of one-replication points uses all the workers too.
    const jobs = todo.map((t) => ({ scenario: t.scenario, label: what(t.point) }));
    await runMany(jobs, plugins, {
      workers,
      file: args.file,
      retries: flags.retries,
      pluginModules: [...builtinPluginModules, ...loadedPluginModules],
      onJob: (k, outcome) => record(todo[k].index, outcome),
    });
    write();
    if (!flags.out) process.stdout.write(json ? JSON.stringify(rows, null, 2) : toCsv(rows as Record<string, string | number | null>[]));
    if (failed > 0) {
      process.stderr.write(`${failed} of ${points.length} points failed\n`);
      process.exitCode = 1;
    }
  }
}
