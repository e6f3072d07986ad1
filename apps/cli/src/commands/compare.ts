import { availableParallelism } from "node:os";
import { Args, Flags } from "@oclif/core";
import { BAREMETAL_STACK, comparisonResults, didYouMean, onStack, scenarioHash, ScenarioError, stacksOf, type Results } from "@turtles/engine";
import { runMany, type JobOutcome } from "@turtles/engine/pool";
import { htmlReport } from "@turtles/engine/report";
import { jobsProgress } from "../lib/progress.js";
import { ScenarioCommand } from "../lib/base.js";
import { backendFlag, backendJobs, checkedBackend, queueFlag } from "../lib/backend-flags.js";
import { formatComparison, resultsText } from "../lib/render.js";
import { builtinPluginModules, loadedPluginModules, loadPlugins, readScenario, workersThatFit } from "../lib/scenario-file.js";

export default class Compare extends ScenarioCommand {
  static override summary = "Run a scenario with all its services on each stack in turn, and compare the stacks side by side.";

  static override description =
    "Every stack runs the same load with the same replication seeds (common random numbers), so the differences are the " +
    "stacks'. Without --stack, compares bare metal and every stack the scenario defines; a single --stack is compared " +
    "with bare metal. Prints the figures under five questions (performance, resource consumption, time to recreate, " +
    "maintenance, portability), a column per stack, then each stack's difference from the baseline (the first stack, " +
    "or --baseline), paired replication by replication, marked * where its 95% interval excludes zero. --json prints " +
    "the results (turtles-results/1, one entry per stack under `stacks`, the rows under `comparison`); --out writes " +
    "them to a .json or .csv file and --csv writes the CSV rows (one per stack and figure), atomically. Results are " +
    "identical for any --workers.";

  static override examples = [
    "<%= config.bin %> compare examples/web-tier.yaml",
    "<%= config.bin %> compare examples/three-tier.yaml --stack vms",
    "<%= config.bin %> compare examples/batch.yaml --replications 5 --baseline vms --out compare.json --csv compare.csv",
    "<%= config.bin %> compare examples/web-tier.yaml --rollout --max-unavailable 2",
  ];

  static override args = { file: Args.string({ description: "scenario file (YAML or JSON)", required: true }) };

  static override flags = {
    stack: Flags.string({
      description: "a stack to compare (repeatable; one alone is compared with baremetal; default: baremetal and every stack of the scenario)",
      multiple: true,
      default: [],
    }),
    baseline: Flags.string({ description: "the stack the others' differences are from (default: the first)" }),
    seed: Flags.integer({ description: "root seed (replication seeds derive from it, the same on every stack)", min: 0, max: Number.MAX_SAFE_INTEGER }),
    duration: Flags.string({ description: "measured simulated time, e.g. 10m (overrides the scenario)" }),
    replications: Flags.integer({ description: "replications per stack (overrides the scenario)", min: 1, max: 10000 }),
    workers: Flags.integer({ description: "worker threads (default: the machine's cores, at most one per replication, fewer if the models would not fit in memory together)", min: 1, max: 256 }),
    retries: ScenarioCommand.retriesFlag,
    rollout: ScenarioCommand.rolloutFlag,
    "max-unavailable": ScenarioCommand.maxUnavailableFlag,
    out: Flags.string({ description: "also write the results to this file: .json for the results JSON, .csv for one row per stack and figure" }),
    csv: Flags.string({ description: "also write the comparison to this file as CSV, one row per stack and figure" }),
    plugin: ScenarioCommand.pluginFlag,
    html: ScenarioCommand.htmlFlag,
    backend: backendFlag(),
    queue: queueFlag,
  };

  static override enableJsonFlag = true;

  async run(): Promise<Results> {
    const { args, flags } = await this.parse(Compare);
    // Before the work, not after it.
    this.writableFile("out", flags.out, args.file);
    const format = this.outFormat("out", flags.out);
    this.writableFile("csv", flags.csv, ...[args.file, flags.out].filter((f) => f !== undefined));
    const html = this.htmlReporter(flags.html, args.file, flags.out, flags.csv);
    const backend = flags.backend ? await checkedBackend((m) => this.fail(m), flags.backend, flags.queue) : undefined;
    const plugins = await loadPlugins(flags.plugin);
    const scenario = readScenario(args.file, plugins);
    const duration = this.durationFlag("duration", flags.duration, scenario.warmup);
    const base = this.overridden(args.file, scenario, { seed: flags.seed, duration, replications: flags.replications, rollout: this.rolloutOf(flags) });
    const given = [...new Set(flags.stack)];
    if (given.length === 1 && given[0] === BAREMETAL_STACK) {
      this.fail(`--stack: a single --stack is compared with ${BAREMETAL_STACK}; give another stack, or two`);
    }
    // A single stack is compared with bare metal, the baseline of every stack.
    const stacks = given.length === 0 ? stacksOf(base) : given.length === 1 ? [BAREMETAL_STACK, given[0]] : given;
    // Unknown stacks first: a single misspelt --stack is that, not too few stacks.
    const jobs = stacks.map((stack) => {
      try {
        return { scenario: onStack(base, stack), label: `stack ${stack}` };
      } catch (err) {
        return this.fail(`--stack: ${(err as Error).message}`);
      }
    });
    // (Only without --stack: one given is compared with bare metal.) --stack names only the scenario's stacks, so it cannot help here.
    if (stacks.length < 2) {
      this.fail(`${args.file} defines no stack besides bare metal: add stacks to compare with it (e.g. vms: [{ layer: vm, vcpus: 4, memory: 8GiB }])`);
    }
    const baseline = flags.baseline ?? stacks[0];
    if (!stacks.includes(baseline)) {
      this.fail(`--baseline: "${baseline}" is not among the stacks compared${didYouMean(baseline, stacks)}; they are: ${stacks.join(", ")}`);
    }
    const started = Date.now();
    const progress = jobsProgress(jobs.map(() => ({ replications: base.replications })));
    const onJob = (k: number, outcome: JobOutcome): void => {
      progress.done();
      if (outcome.problems) return; // bad input: reported once, below
      this.note(outcome.error === undefined ? `stack ${stacks[k]} done at ${((Date.now() - started) / 1000).toFixed(1)} s` : `stack ${stacks[k]} failed: ${outcome.error}`);
    };
    const runOnBackend = backend && (await import("../lib/backend.js")).runOnBackend;
    const outcomes = await this.interruptible(
      (signal) =>
        backend && runOnBackend
          ? runOnBackend(jobs, plugins, {
              ...backendJobs(backend, flags.queue, `compare-${scenarioHash(base).slice(7, 19)}`, args.file, flags.retries),
              signal,
              onJob,
              onReplication: progress.mark,
            })
          : runMany(jobs, plugins, {
          workers: workersThatFit(
            jobs.map((j) => j.scenario),
            Math.min(flags.workers ?? availableParallelism(), stacks.length * base.replications),
          ),
          file: args.file,
          retries: flags.retries,
          pluginModules: [...builtinPluginModules, ...loadedPluginModules],
          signal,
          onProgress: progress.update,
          onJob,
        }),
      () => {
        progress.done();
        return ["stopped by Ctrl-C: nothing was written", 130];
      },
    );
    progress.done();
    // Bad input that only a built model shows (the same on every stack, or on one): located, exit 2.
    const bad = outcomes.find((o) => o.problems);
    if (bad?.problems) throw new ScenarioError(bad.problems);
    const failed = outcomes.flatMap((o, k) => (o.error === undefined ? [] : [stacks[k]]));
    if (failed.length > 0) {
      this.note(`the comparison is incomplete (${failed.join(", ")} failed): nothing was written`);
      this.exit(1);
    }
    const results = comparisonResults(
      base,
      outcomes.map((o, k) => ({ stack: stacks[k], results: o.results!, replications: o.replications })),
      { baseline },
    );
    this.warnUnplaced(results);
    const body = resultsText(results, format ?? "json");
    const written = flags.out === undefined || this.writeResults(flags.out, body, "the results");
    const rows = flags.csv === undefined ? undefined : resultsText(results, "csv");
    const csvWritten = flags.csv === undefined || this.writeResults(flags.csv, rows!, "the CSV rows");
    html?.((chartLib) => htmlReport(results, { chartLib }));
    if (!this.jsonEnabled()) {
      this.log(formatComparison(results));
      if (!written) this.print(body);
      if (!csvWritten && (written || format !== "csv")) this.print(rows!);
    }
    return results;
  }
}
