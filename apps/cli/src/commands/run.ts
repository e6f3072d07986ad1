import { renameSync, writeFileSync } from "node:fs";
import { Args, Flags } from "@oclif/core";
import { availableParallelism } from "node:os";
import { RunCancelled, runScenario, unit, type Results, type RunProgress } from "@turtles/engine";
import { runScenarioOnWorkers } from "@turtles/engine/worker";
import { ScenarioCommand } from "../lib/base.js";
import { formatResults } from "../lib/render.js";
import { builtinPluginModules, loadedPluginModules, loadPlugins, readScenario } from "../lib/scenario-file.js";

export default class Run extends ScenarioCommand {
  static override summary = "Simulate a scenario and report latency, throughput and utilisation.";

  static override description =
    "Runs every replication of the scenario (seeds derived from --seed) and prints a table per service and per host type. " +
    "--json prints the results (turtles-results/1) on stdout; --out writes them to a file, atomically. Progress goes to stderr. " +
    "Ctrl-C stops the run cleanly and writes nothing.";

  static override examples = [
    "<%= config.bin %> run examples/web-tier.yaml",
    "<%= config.bin %> run examples/web-tier.yaml --duration 2m --replications 3 --out results.json",
    "<%= config.bin %> run examples/web-tier.yaml --seed 7 --json > results.json",
  ];

  static override args = { file: Args.string({ description: "scenario file (YAML or JSON)", required: true }) };

  static override flags = {
    seed: Flags.integer({ description: "root seed (replication seeds derive from it)", min: 0 }),
    duration: Flags.string({ description: "measured simulated time, e.g. 10m (overrides the scenario)" }),
    replications: Flags.integer({ description: "independent replications (overrides the scenario)", min: 1, max: 10000 }),
    out: Flags.string({ description: "also write the results as JSON to this file" }),
    workers: Flags.integer({
      description: "worker threads for the replications (default: the machine's cores; 1 runs in this process). Results are identical for any number",
      min: 1,
      max: 256,
    }),
    retries: Flags.integer({ description: "run a replication whose worker failed or died again, this many times", min: 0, max: 10, default: 0 }),
    plugin: ScenarioCommand.pluginFlag,
  };

  static override enableJsonFlag = true;

  async run(): Promise<Results> {
    const { args, flags } = await this.parse(Run);
    const plugins = await loadPlugins(flags.plugin);
    const scenario = readScenario(args.file, plugins);
    let duration: number | undefined;
    if (flags.duration !== undefined) {
      try {
        duration = unit("duration", flags.duration);
        if (!(duration > 0)) throw new RangeError(`must be more than 0 s, found "${flags.duration}"`);
      } catch (err) {
        this.fail(`--duration: ${(err as Error).message}`);
      }
    }
    const controller = new AbortController();
    const onSigint = (): void => controller.abort();
    process.once("SIGINT", onSigint);
    const progress = progressPrinter();
    let results: Results;
    const replications = flags.replications ?? scenario.replications;
    const workers = Math.min(flags.workers ?? availableParallelism(), replications);
    try {
      const common = { file: args.file, seed: flags.seed, duration, replications: flags.replications, signal: controller.signal };
      results =
        workers > 1
          ? await runScenarioOnWorkers(scenario, plugins, {
              ...common,
              workers,
              retries: flags.retries,
              pluginModules: [...builtinPluginModules, ...loadedPluginModules],
              onReplication: (done, total) => process.stderr.write(`${process.stderr.isTTY ? "\r" : ""}replications done: ${done}/${total} on ${workers} workers${process.stderr.isTTY ? "\u001b[K" : "\n"}`),
            })
          : await runScenario(scenario, plugins, { ...common, onProgress: progress.update });
      if (workers > 1 && process.stderr.isTTY) process.stderr.write("\r\u001b[K");
    } catch (err) {
      progress.done();
      if (err instanceof RunCancelled || controller.signal.aborted) {
        process.stderr.write("stopped by Ctrl-C: nothing was written\n");
        this.exit(130);
      }
      throw err;
    } finally {
      process.off("SIGINT", onSigint);
    }
    progress.done();
    // Straight to stderr: oclif silences its own log helpers under --json, and this warning must always show.
    for (const u of results.unplaced) {
      process.stderr.write(`warning: ${u.replicas} replica${u.replicas === 1 ? "" : "s"} of ${u.tenant}/${u.service} not placed: ${u.reason}\n`);
    }
    if (flags.out) {
      // Written beside the target and renamed, so the file is whole or absent.
      const tmp = `${flags.out}.tmp-${process.pid}`;
      writeFileSync(tmp, `${JSON.stringify(results, null, 2)}\n`);
      renameSync(tmp, flags.out);
    }
    if (!this.jsonEnabled()) this.log(formatResults(results));
    return results;
  }
}

/** Progress on stderr: one rewritten line on a terminal, a plain line every 5 s otherwise. */
function progressPrinter(): { update: (p: RunProgress) => void; done: () => void } {
  const tty = process.stderr.isTTY === true;
  let lastPrint = 0;
  let lastEvents = 0;
  let lastWall = 0;
  let rate = 0;
  let shown = false;
  return {
    update(p) {
      const now = Date.now();
      if (p.wallSeconds > lastWall) {
        const instant = (p.events - lastEvents) / (p.wallSeconds - lastWall);
        rate = instant > 0 ? instant : rate;
      }
      lastEvents = p.events;
      lastWall = p.wallSeconds;
      if (now - lastPrint < (tty ? 200 : 5000)) return;
      lastPrint = now;
      const done = (p.replication + p.simTime / p.end) / p.replications;
      const eta = done > 0 ? (p.wallSeconds / done) * (1 - done) : NaN;
      const line =
        `replication ${p.replication + 1}/${p.replications}  simulated ${p.simTime.toFixed(1)} of ${p.end} s  ` +
        `${(rate / 1e6).toFixed(2)}M events/s  ${(100 * done).toFixed(0)}%  ETA ${Number.isFinite(eta) ? `${eta.toFixed(0)} s` : "-"}`;
      if (tty) {
        process.stderr.write(`\r${line}\u001b[K`);
        shown = true;
      } else {
        process.stderr.write(`${line}\n`);
      }
    },
    done() {
      if (shown) process.stderr.write("\r\u001b[K");
      shown = false;
    },
  };
}
