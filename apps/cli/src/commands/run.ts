import { existsSync, rmSync } from "node:fs";
import { availableParallelism } from "node:os";
import { Args, Flags } from "@oclif/core";
import {
  applyOverrides,
  scenarioHash,
  ScenarioError,
  decodeRunSnapshot,
  encodeRunSnapshot,
  hasRateProfile,
  loadScenario,
  type CheckpointOptions,
  type Results,
  type RunSnapshot,
  type Scenario,
} from "@turtles/engine";
import { runScenarioOnWorkers } from "@turtles/engine/pool";
import { htmlReport } from "@turtles/engine/report";
import { writeFileAtomic } from "../lib/atomic.js";
import { readInputFile } from "../lib/files.js";
import { progressPrinter } from "../lib/progress.js";
import { ScenarioCommand } from "../lib/base.js";
import { backendFlag, backendJobs, checkedBackend, queueFlag } from "../lib/backend-flags.js";
import { formatResults, resultsText } from "../lib/render.js";
import { builtinPluginModules, loadedPluginModules, loadPlugins, readScenario, savedPluginsProblem, workersThatFit } from "../lib/scenario-file.js";

/** The largest saved run read: the msgpack of states a model of the largest supported size gives, with room. */
const SAVED_RUN_MAX_BYTES = 2 ** 31;

export default class Run extends ScenarioCommand {
  static override summary = "Simulate a scenario and report latency, throughput and utilisation.";

  static override description =
    "Runs every replication of the scenario (seeds derived from --seed) and prints a table per service and per host type. " +
    "--json prints the results (turtles-results/1) on stdout; --out writes them to a file, atomically (its extension picks the format: " +
    ".json, or .csv for one row per figure). Progress goes to stderr. " +
    "Ctrl-C stops the run cleanly and writes nothing, unless --checkpoint names a file: then the run is saved there (also every " +
    "--checkpoint-every of wall time) and `turtles run --resume FILE` continues it to the results an uninterrupted run gives.";

  static override examples = [
    "<%= config.bin %> run examples/web-tier.yaml",
    "<%= config.bin %> run examples/web-tier.yaml --duration 2m --replications 3 --out results.json",
    "<%= config.bin %> run examples/web-tier.yaml --seed 7 --json > results.json",
    "<%= config.bin %> run examples/web-tier.yaml --duration 1h --checkpoint run.snap",
    "<%= config.bin %> run examples/web-tier.yaml --rollout",
    "<%= config.bin %> run --resume run.snap --out results.json",
  ];

  static override args = { file: Args.string({ description: "scenario file (YAML or JSON); with --resume, the saved run's own" }) };

  static override flags = {
    seed: Flags.integer({ description: "root seed (replication seeds derive from it)", min: 0, max: Number.MAX_SAFE_INTEGER }),
    duration: Flags.string({ description: "measured simulated time, e.g. 10m (overrides the scenario)" }),
    replications: Flags.integer({ description: "independent replications (overrides the scenario)", min: 1, max: 10000 }),
    out: Flags.string({ description: "also write the results to this file: .json for the results JSON, .csv for one row per figure" }),
    workers: Flags.integer({
      description: "worker threads for the replications (default: the machine's cores, at most one per replication, fewer if the models would not fit in memory together). Results are identical for any number",
      min: 1,
      max: 256,
    }),
    retries: ScenarioCommand.retriesFlag,
    rollout: ScenarioCommand.rolloutFlag,
    "max-unavailable": ScenarioCommand.maxUnavailableFlag,
    plugin: ScenarioCommand.pluginFlag,
    html: ScenarioCommand.htmlFlag,
    checkpoint: Flags.string({ description: "save the run to this file as it goes and on Ctrl-C (removed once the run completes and its results are written)" }),
    "checkpoint-every": ScenarioCommand.checkpointEveryFlag,
    backend: backendFlag(),
    queue: queueFlag,
    resume: Flags.string({
      description: "continue the run saved in this file (by --checkpoint); it keeps saving there. Its plugins load only from --plugin (and the built-in ones)",
    }),
  };

  static override enableJsonFlag = true;

  async run(): Promise<Results> {
    const { args, flags } = await this.parse(Run);
    this.writableFile("out", flags.out, ...[args.file, flags.resume, flags.checkpoint].filter((f) => f !== undefined)); // before the work, not after it
    const format = this.outFormat("out", flags.out);
    const html = this.htmlReporter(flags.html, args.file, flags.resume, flags.checkpoint, flags.out);
    let saved: RunSnapshot | undefined;
    if (flags.resume !== undefined) {
      for (const f of ["seed", "duration", "replications", "rollout", "max-unavailable"] as const) {
        if (flags[f] !== undefined) this.fail(`--${f} cannot change a saved run: --resume continues ${flags.resume} with its own ${f}`);
      }
      let bytes: Uint8Array;
      try {
        // A regular file (a FIFO would block, /dev/zero never end), of any size a saved run can have.
        bytes = readInputFile(flags.resume, SAVED_RUN_MAX_BYTES);
      } catch (err) {
        return this.fail(`--resume: cannot read ${flags.resume}: ${(err as Error).message}`);
      }
      // (readInputFile stops one byte past the bound.)
      if (bytes.length > SAVED_RUN_MAX_BYTES) this.fail(`--resume: ${flags.resume} is larger than a saved run can be (2 GiB); it is not one`);
      try {
        saved = decodeRunSnapshot(bytes, flags.resume);
      } catch (err) {
        return this.fail((err as Error).message);
      }
    } else if (args.file === undefined) {
      this.fail("give a scenario file (turtles run scenario.yaml), or a saved run to continue (turtles run --resume run.snap)");
    }
    if (flags.backend && (flags.checkpoint || flags.resume)) this.fail("--checkpoint and --resume are for a local run: with --backend the replications done stay in Redis until the run has its results");
    const backend = flags.backend ? await checkedBackend((m) => this.fail(m), flags.backend, flags.queue) : undefined;
    // Only the built-in plugins and those of --plugin: a saved run is untrusted, and the modules it names are never imported.
    const plugins = await loadPlugins(flags.plugin);
    const refused = saved && savedPluginsProblem(flags.resume!, saved, plugins, "run the scenario again");
    if (refused) this.fail(refused);
    let scenario: Scenario;
    const file = args.file ?? saved!.file ?? flags.resume!;
    if (saved) {
      scenario = loadScenario(saved.scenario, { file: `${flags.resume} (its scenario)`, plugins });
      // A file given with --resume must be the saved run's scenario (with the run's seed, duration and replications).
      if (args.file !== undefined && JSON.stringify({ ...readScenario(args.file, plugins), ...pick(scenario) }) !== JSON.stringify(scenario)) {
        this.fail(`${flags.resume} is a run of another scenario than ${args.file} (or of an older version of it); run without the file to continue the saved one`);
      }
    } else {
      scenario = readScenario(args.file!, plugins);
    }
    const duration = this.durationFlag("duration", flags.duration, scenario.warmup);
    // The rollout becomes part of the scenario (a saved run keeps it); the other overrides are the run's, checked here.
    const rollout = this.rolloutOf(flags);
    if (rollout) scenario = this.overridden(file, scenario, { rollout });
    this.overridden(file, scenario, { duration });
    const checkpointFile = flags.checkpoint ?? flags.resume;
    let checkpoint: CheckpointOptions | undefined;
    if (checkpointFile !== undefined) {
      const every = this.durationFlag("checkpoint-every", flags["checkpoint-every"])!;
      this.writableFile("checkpoint", checkpointFile);
      if (flags.checkpoint !== undefined && flags.checkpoint !== flags.resume && existsSync(flags.checkpoint)) {
        this.fail(`--checkpoint: ${flags.checkpoint} already exists; continue that run with --resume ${flags.checkpoint}, or remove it`);
      }
      checkpoint = {
        every,
        pluginModules: [...loadedPluginModules],
        save: (snap) => writeFileAtomic(checkpointFile, encodeRunSnapshot(snap)),
        onSaveError: (err) => this.note(`warning: could not save the run to ${checkpointFile}: ${err.message}; trying again later`),
      };
    }
    const replications = flags.replications ?? scenario.replications;
    const workers = workersThatFit([scenario], Math.max(1, Math.min(flags.workers ?? availableParallelism(), replications - (saved?.done.length ?? 0))));
    const progress = progressPrinter(replications, { done: saved?.done.map((d) => d.replication), running: saved?.running.map((r) => r.replication) });
    const results = await this.interruptible(
      async (signal) => {
        try {
          const common = { file, seed: flags.seed, duration, replications: flags.replications, signal, resume: saved, checkpoint };
          if (backend) {
            const overridden = applyOverrides(scenario, common);
            const { runOnBackend } = await import("../lib/backend.js");
            const [outcome] = await runOnBackend([{ scenario: overridden }], plugins, {
              ...backendJobs(backend, flags.queue, `run-${scenarioHash(overridden).slice(7, 19)}`, file, flags.retries),
              signal,
              onReplication: (_, r, state) => progress.mark(r, state),
            });
            if (outcome.error !== undefined) throw outcome.problems ? new ScenarioError(outcome.problems) : new Error(outcome.error);
            return outcome.results;
          }
          // On worker threads also with --workers 1: plugin code that loops, exits or exhausts memory there stops only
          // its worker, so Ctrl-C always works and the failure is reported with its replication and seed.
          return await runScenarioOnWorkers(scenario, plugins, {
            ...common,
            workers,
            retries: flags.retries,
            pluginModules: [...builtinPluginModules, ...loadedPluginModules],
            onProgress: progress.update,
          });
        } finally {
          progress.done();
        }
      },
      (err, cancelled) =>
        checkpointFile === undefined
          ? ["stopped by Ctrl-C: nothing was written", 130]
          : cancelled
            ? [`stopped by Ctrl-C: the run is saved in ${checkpointFile}; continue it with: turtles run --resume ${checkpointFile}`, 130]
            : [`stopped by Ctrl-C, but the run could not be saved to ${checkpointFile}: ${(err as Error).message}`, 1],
    );
    this.warnUnplaced(results);
    const body = resultsText(results, format ?? "json");
    const written = flags.out === undefined || this.writeResults(flags.out, body, "the results");
    html?.((chartLib) => htmlReport(results, { chartLib }));
    if (checkpointFile !== undefined) {
      // The run is complete: its saved state is of no more use, unless the results could not be written.
      if (written) rmSync(checkpointFile, { force: true });
      else if (existsSync(checkpointFile)) {
        this.note(`the run is still saved in ${checkpointFile}: once ${flags.out} can be written, turtles run --resume ${checkpointFile} --out ${flags.out} gives these results again`);
      }
    }
    if (!this.jsonEnabled()) {
      this.log(formatResults(results, { series: hasRateProfile(scenario) }));
      if (!written) this.print(body);
    }
    return results;
  }
}

/** The run's own settings of a scenario (what --seed, --duration and --replications override). */
function pick(s: Scenario): Pick<Scenario, "seed" | "duration" | "replications"> {
  return { seed: s.seed, duration: s.duration, replications: s.replications };
}
