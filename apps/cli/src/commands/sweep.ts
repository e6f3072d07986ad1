import { existsSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { Args, Flags } from "@oclif/core";
import { applyPoint, fromCsv, grid, loadScenario, parseParam, pointKey, rowOf, runScenario, toCsv, unit } from "@turtles/engine";
import { runScenarioOnWorkers } from "@turtles/engine/pool";
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
    const duration = flags.duration === undefined ? undefined : unit("duration", flags.duration);
    const json = flags.out?.endsWith(".json") ?? false;
    // Rows already written by an earlier run of this sweep, by point.
    const done = new Map<string, Record<string, unknown>>();
    if (flags.resume && flags.out && existsSync(flags.out)) {
      const old = readFileSync(flags.out, "utf8");
      const rows = (json ? JSON.parse(old) : fromCsv(old)) as Record<string, unknown>[];
      for (const r of rows) done.set(pointKey(r, paths), r);
      process.stderr.write(`resuming: ${done.size} point${done.size === 1 ? "" : "s"} already in ${flags.out}\n`);
    }
    const rows: Record<string, unknown>[] = [];
    let failed = 0;
    const write = (): void => {
      const body = json ? `${JSON.stringify(rows, null, 2)}\n` : toCsv(rows as Record<string, string | number | null>[]);
      if (flags.out) writeFileAtomic(flags.out, body);
    };
    for (const [i, point] of points.entries()) {
      const key = pointKey(point, paths);
      const previous = done.get(key);
      if (previous) {
        rows.push(previous);
        continue;
      }
      const started = Date.now();
      let pointText: string;
      try {
        pointText = applyPoint(text, args.file, point);
      } catch (err) {
        if (err instanceof RangeError) this.fail(err.message);
        throw err;
      }
      const scenario = loadScenario(pointText, { file: args.file, plugins });
      const replications = flags.replications ?? scenario.replications;
      const workers = Math.min(flags.workers ?? availableParallelism(), replications);
      const common = { file: args.file, seed: flags.seed, duration, replications: flags.replications };
      const what = Object.entries(point).map(([k, v]) => `${k}=${v}`).join(" ");
      try {
        const results =
          workers > 1
            ? await runScenarioOnWorkers(scenario, plugins, { ...common, workers, retries: flags.retries, pluginModules: [...builtinPluginModules, ...loadedPluginModules] })
            : await runScenario(scenario, plugins, common);
        rows.push(rowOf(point, results));
        process.stderr.write(`point ${i + 1}/${points.length} (${what}) done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
      } catch (err) {
        // A failed point is reported in its row and on stderr; the other points go on.
        failed++;
        rows.push({ ...point, error: (err as Error).message });
        process.stderr.write(`point ${i + 1}/${points.length} (${what}) failed: ${(err as Error).message}\n`);
      }
      write();
    }
    write();
    if (!flags.out) process.stdout.write(json ? JSON.stringify(rows, null, 2) : toCsv(rows as Record<string, string | number | null>[]));
    if (failed > 0) {
      process.stderr.write(`${failed} of ${points.length} points failed\n`);
      process.exitCode = 1;
    }
  }
}
