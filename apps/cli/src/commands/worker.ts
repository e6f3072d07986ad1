import { availableParallelism } from "node:os";
import { Flags } from "@oclif/core";
import { ENGINE_VERSION } from "@turtles/engine";
import { ScenarioCommand } from "../lib/base.js";
import { backendFlag, checkedBackend, queueFlag } from "../lib/backend-flags.js";
import { runWorker } from "../lib/backend.js";

export default class WorkerCommand extends ScenarioCommand {
  static override summary = "Run replications of sweeps, runs and comparisons submitted with --backend, on this machine.";

  static override description =
    "Takes jobs (one replication each) from a BullMQ queue in Redis and runs up to --concurrency at once, each in its own " +
    "worker thread, until Ctrl-C or SIGTERM (the jobs in hand finish first). Start one on every machine that should help; a " +
    "worker killed mid-job has its job run again by another after BullMQ's stalled-job detection (--lock). Plugins a job names " +
    "must resolve here, and a job of another engine version is refused: its results could differ.";

  static override examples = ["<%= config.bin %> worker --backend redis://10.0.0.5:6379", "<%= config.bin %> worker --backend redis://:secret@queue.lan:6379 --concurrency 8"];

  static override flags = {
    backend: backendFlag({ required: true }),
    queue: queueFlag,
    concurrency: Flags.integer({ description: "jobs run at once (default: the machine's cores)", min: 1, max: 256 }),
    lock: Flags.string({ description: "how long a job's lock lasts without renewal before the job counts as stalled and runs elsewhere, e.g. 30s", default: "30s" }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(WorkerCommand);
    const lock = this.durationFlag("lock", flags.lock)!;
    const backend = await checkedBackend((m) => this.fail(m), flags.backend, flags.queue);
    const concurrency = flags.concurrency ?? availableParallelism();
    const stop = new AbortController();
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => stop.abort());
    await runWorker(backend, flags.queue, {
      concurrency,
      lockMs: lock * 1000,
      signal: stop.signal,
      // Once it listens: a script (or a benchmark) that waits for this line knows the worker takes jobs.
      onReady: () => this.note(`worker: engine ${ENGINE_VERSION}, taking jobs of queue ${flags.queue} at ${backend.where}, ${concurrency} at a time (Ctrl-C stops after the jobs in hand)`),
      onEvent: (line) => this.note(line),
    });
  }
}
