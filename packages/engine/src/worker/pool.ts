/**
 * `@turtles/engine/pool`: run a scenario's replications on a pool of Node
 * worker threads, each exposing the engine API of `@turtles/engine/worker`.
 * Replication r's result depends only on the scenario, its seed and r (and a
 * saved state of it continues exactly), and results are assembled in
 * replication order, so the output is byte-identical whatever the number of
 * workers, and whether the run was saved and continued or not.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { proxy, wrap, type Remote } from "comlink";
import { nodeEndpoint } from "./node-endpoint.js";
import { decodeSnapshot } from "../kernel/codec.js";
import type { PluginDefinition } from "../plugin/define.js";
import type { Scenario } from "../scenario/schema.js";
import { checkResume, runSnapshot, statesOf, type CheckpointOptions, type RunningState, type RunSnapshot } from "../workload/checkpoint.js";
import { formatProblems, ScenarioError, type Problem } from "../scenario/problems.js";
import { applyOverrides, assembleResults, preflight, replicationSeeds, RunCancelled, type ReplicationResult, type Results, type RunProgress, type ReplicationStack, type RunScenarioOptions } from "../workload/run.js";
import { pluginsFrom } from "./api.js";
import type { EngineApi, LoadRequest } from "./protocol.js";

/** One replication for a worker: the scenario (of job `job` of a `runMany`), and the state to continue from, if any. */
interface Job {
  job: number;
  load: LoadRequest;
  replication: number;
  resume?: Uint8Array;
}

export { nodeEndpoint, type NodePort } from "./node-endpoint.js";

export interface PoolOptions extends Pick<RunScenarioOptions, "seed" | "duration" | "replications" | "file" | "resume" | "checkpoint" | "onProgress"> {
  /** Worker threads; default: as many as replications, at most the machine's cores. */
  workers?: number;
  /**
   * Module URLs of the plugins, which each worker imports (a plugin object cannot cross to a worker), such as
   * `import.meta.resolve("@turtles/plugin-baremetal")`. Every plugin given must come from one of them.
   */
  pluginModules: string[];
  /** Each worker's JavaScript heap limit in MiB (default: Node's, as the main thread's); a worker that exceeds it fails its replication. */
  maxHeapMb?: number;
  /** How many times a replication whose worker failed or died is run again on a fresh worker. Default 0. */
  retries?: number;
  /** Called when a replication is done (replications done so far, out of all). */
  onReplication?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/** How long a checkpoint waits for a worker's state (a chunk takes well under a second); then that replication keeps its older state. */
const SNAPSHOT_TIMEOUT_MS = 30_000;

/** Runs replication jobs on one worker thread at a time; a failed or dead worker is replaced. */
class WorkerSlot {
  private worker: Worker | undefined;
  private api: Remote<EngineApi> | undefined;
  /** Rejects when the worker dies, or when this slot closes it: whatever waits on the worker then stops waiting. */
  private died: Promise<never> | undefined;
  private kill: ((err: Error) => void) | undefined;
  /** The replication this slot's worker is running, if any, and its job. */
  running: number | undefined;
  private runningJob = 0;

  constructor(
    private readonly all: Set<Worker>,
    private readonly onProgress?: (p: RunProgress) => void,
    private readonly maxHeapMb?: number,
  ) {}

  async run(job: Job): Promise<ReplicationResult> {
    if (!this.worker) {
      const worker = new Worker(new URL("./node-worker.js", import.meta.url), this.maxHeapMb ? { resourceLimits: { maxOldGenerationSizeMb: this.maxHeapMb } } : {});
      this.all.add(worker);
      this.worker = worker;
      this.api = wrap<EngineApi>(nodeEndpoint(worker));
      this.died = new Promise<never>((_, reject) => {
        this.kill = reject;
        worker.once("error", (err: Error & { code?: string }) =>
          reject(
            err.code === "ERR_WORKER_OUT_OF_MEMORY"
              ? new Error(`it ran out of JavaScript heap (${err.message}): the model, or a plugin holding memory without bound; a smaller scenario or more heap (NODE_OPTIONS=--max-old-space-size=MiB) may help`)
              : err,
          ),
        );
        worker.once("exit", (code) => reject(new Error(`its worker exited with code ${code}`)));
      });
      this.died.catch(() => {}); // observed through run(); never an unhandled rejection
      const onProgress = this.onProgress;
      // Each entry carries its job (the worker echoes the run's label), also a pack that arrives after the slot moved on.
      if (onProgress) void this.api.subscribe(proxy((pack: Uint8Array) => (decodeSnapshot(pack) as RunProgress[]).forEach(onProgress)));
    }
    this.running = job.replication;
    this.runningJob = job.job;
    try {
      const api = this.api!;
      const work = (async () => {
        await api.load(job.load);
        return api.run({ replications: [job.replication], resume: job.resume ? [{ replication: job.replication, state: job.resume }] : [], job: job.job });
      })();
      const [result] = decodeSnapshot(await Promise.race([work, this.died!])) as ReplicationResult[];
      return result;
    } catch (err) {
      await this.close(); // a worker that failed once is not trusted with the next job
      throw err;
    } finally {
      this.running = undefined;
    }
  }

  /**
   * The state of the replication this slot runs, and its job, taken between
   * chunks; undefined if none (or its worker cannot answer). The worker answers
   * for the run it was asked during, or null once that run is over: the next
   * job's load and run reach it after this request.
   */
  async snapshot(): Promise<(RunningState & { job: number }) | undefined> {
    const api = this.api;
    const job = this.runningJob;
    if (this.running === undefined || !api) return undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), SNAPSHOT_TIMEOUT_MS)));
    try {
      const pack = await Promise.race([api.snapshot(), this.died!, late]);
      return pack ? { job, ...(decodeSnapshot(pack) as RunningState) } : undefined;
    } catch {
      return undefined; // a dead or closed worker: its replication keeps its older state, or starts afresh
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    this.api = undefined;
    if (!w) return;
    w.removeAllListeners("exit");
    this.kill?.(new Error("its worker was closed"));
    this.all.delete(w);
    await w.terminate();
  }
}

/** One job of `runMany`: a scenario (overrides already applied) and what names it in messages. */
export interface PoolJob {
  scenario: Scenario;
  /** The job's parameters, for messages (a sweep point: "services.a.replicas=4"). */
  label?: string;
  /** A saved run of this job's scenario to continue: its done replications are not run again, its states continue. */
  resume?: RunSnapshot;
}

/**
 * What became of a job: its results and each replication's stack figures (in
 * replication order, for paired comparisons: `comparisonResults`), or why it
 * failed; `problems` when the job's scenario is bad input that only a built
 * model shows (no NIC for calls across hosts, no disk for io steps).
 */
export type JobOutcome =
  | { results: Results; replications: ReplicationStack[]; error?: undefined; problems?: undefined }
  | { results?: undefined; replications?: undefined; error: string; problems?: Problem[] };

/** How `runMany` saves itself: like a run's checkpoint, with a snapshot per job not yet settled (undefined for the others). */
export interface ManyCheckpointOptions extends Omit<CheckpointOptions, "save"> {
  save(snapshots: (RunSnapshot | undefined)[]): void | Promise<void>;
}

export interface ManyOptions extends Omit<PoolOptions, "seed" | "duration" | "replications" | "onReplication" | "resume" | "checkpoint"> {
  /** Saves every job in progress every `every` seconds and when the run is cancelled. */
  checkpoint?: ManyCheckpointOptions;
  /** Called as each job completes (in completion order; the outcomes come back in job order). */
  onJob?: (index: number, outcome: JobOutcome) => void;
  /** Called when a replication is done (replications done so far, out of all jobs'). */
  onReplication?: (done: number, total: number) => void;
}

/**
 * Runs the replications of many jobs (replications of a run, points of a
 * sweep) on one pool of `workers` worker threads, each taking the next
 * replication not yet started, and assembles each job's results in
 * replication order: byte-identical for any number of workers. A replication
 * whose worker throws or dies runs again (up to `retries` times) on a fresh
 * worker; if it still fails, its job fails with the error, the replication,
 * its seed and the job's parameters, and the other jobs go on; so does a job
 * whose results cannot be assembled. A job whose
 * scenario a worker found bad when it built it (a `ScenarioError`: the same
 * in every replication) fails at once, with the located problems, which its
 * model built here once more gives. A job with
 * `resume` continues a saved run; `checkpoint` saves every job not yet
 * settled (its done replications and the states of those in progress or
 * carried from its `resume`). The pool always exits.
 */
export async function runMany(jobs: readonly PoolJob[], plugins: readonly PluginDefinition[], options: ManyOptions): Promise<JobOutcome[]> {
  for (const j of jobs) checkResume(j.resume, j.scenario);
  await checkPluginModules(plugins, options.pluginModules ?? []);
  const done: ReplicationResult[][] = jobs.map((j) => [...(j.resume?.done ?? [])]);
  const failures: { replication: number; message: string }[][] = jobs.map(() => []);
  /** The problems of jobs whose scenario is bad input (null: checked, and it is not). */
  const badInput: (Problem[] | null | undefined)[] = jobs.map(() => undefined);
  const loads: LoadRequest[] = jobs.map((j) => ({ scenario: JSON.stringify(j.scenario), pluginModules: options.pluginModules, file: options.file }));
  const remaining = jobs.map((j, k) => j.scenario.replications - done[k].length);
  const tasks = jobs.flatMap((j, k) =>
    Array.from({ length: j.scenario.replications }, (_, r) => ({ job: k, replication: r })).filter((t) => !done[k].some((x) => x.replication === t.replication)),
  );
  const total = tasks.length;
  let finished = 0;
  const outcomes: JobOutcome[] = new Array(jobs.length);
  const settle = (k: number): void => {
    const j = jobs[k];
    // In replication order, so the message is the same for any number of workers.
    const failed = failures[k].sort((a, b) => a.replication - b.replication).map((f) => f.message);
    const problems = badInput[k] ?? undefined;
    outcomes[k] = problems ? { error: formatProblems(problems), problems } : failed.length > 0 ? { error: failed.join("; ") } : assembled(j, plugins, done[k]);
    latest[k].clear();
    options.onJob?.(k, outcomes[k]);
  };
  const n = Math.max(1, Math.min(options.workers ?? availableParallelism(), tasks.length));
  const workers = new Set<Worker>();
  const slots = Array.from({ length: n }, () => new WorkerSlot(workers, options.onProgress, options.maxHeapMb));
  // A callback that throws stops every slot (the pool still closes all its workers), and its error is the run's.
  let failure: { error: unknown } | undefined;

  // Checkpoints: every `every` seconds, and once more when the run is cancelled (before its workers stop).
  // `latest[k]` holds the newest state of each replication of job k: from its worker at the last save, or the one it was resumed from.
  const checkpoint = options.checkpoint;
  const latest = jobs.map((j) => statesOf(j.resume));
  const resumeStates = latest.map((m) => new Map(m));
  let saving: Promise<void> | undefined;
  let closing = false;
  const save = (): Promise<void> =>
    (saving ??= (async () => {
      for (const x of await Promise.all(slots.map((slot) => slot.snapshot()))) if (x) latest[x.job].set(x.replication, x.state);
      const pluginModules = checkpoint!.pluginModules ?? options.pluginModules;
      await checkpoint!.save(
        jobs.map((j, k) => {
          if (outcomes[k] !== undefined) return undefined; // settled: its outcome went to onJob
          const running = [...latest[k]].map(([replication, state]) => ({ replication, state }));
          return runSnapshot(j.scenario, plugins, done[k], running, { file: options.file, pluginModules });
        }),
      );
    })().finally(() => (saving = undefined)));
  const timer = checkpoint
    ? setInterval(() => void (closing || save().catch((err: Error) => checkpoint.onSaveError?.(err))), Math.max(checkpoint.every, 0.1) * 1000)
    : undefined;
  let stopped: Promise<void> | undefined;
  const onAbort = (): void => {
    // No periodic save after this one: it would find the workers gone and write older states over it.
    closing = true;
    clearInterval(timer);
    stopped = (async () => {
      if (checkpoint) {
        await saving?.catch(() => {});
        await save();
      }
    })().finally(() => Promise.all([...workers].map((w) => w.terminate())));
    stopped.catch(() => {}); // its error is thrown below
  };
  options.signal?.addEventListener("abort", onAbort);
  try {
    jobs.forEach((_, k) => remaining[k] === 0 && settle(k));
    await Promise.allSettled(
      slots.map(async (slot) => {
        try {
          while (tasks.length > 0 && !options.signal?.aborted && !failure) {
            const { job: k, replication: r } = tasks.shift()!;
            for (let attempt = 0; ; attempt++) {
              try {
                // A retry starts afresh, in case the saved state was what failed.
                done[k].push(await slot.run({ job: k, load: loads[k], replication: r, resume: attempt === 0 ? resumeStates[k].get(r) : undefined }));
                // Its states are of no more use (a sweep's would pile up, each as big as its model).
                latest[k].delete(r);
                resumeStates[k].delete(r);
                break;
              } catch (err) {
                if (options.signal?.aborted || failure) return;
                // Bad input that a build here shows too, the same in every replication: no retry, and the job's
                // replications not started are dropped. (Otherwise, such as a plugin module the worker lacks, it is
                // an ordinary failure.)
                if ((err as Error).name === "ScenarioError") {
                  if (badInput[k] === undefined) badInput[k] = problemsOf(jobs[k].scenario, plugins, options.file);
                  if (badInput[k]) {
                    for (let i = tasks.length - 1; i >= 0; i--) {
                      if (tasks[i].job !== k) continue;
                      tasks.splice(i, 1);
                      remaining[k]--;
                      options.onReplication?.(++finished, total);
                    }
                    break;
                  }
                }
                if (attempt < (options.retries ?? 0)) continue;
                failures[k].push({ replication: r, message: replicationFailure(jobs[k], r, attempt + 1, (err as Error).message) });
                break;
              }
            }
            options.onReplication?.(++finished, total);
            if (--remaining[k] === 0) settle(k);
          }
        } catch (error) {
          failure ??= { error };
        }
      }),
    );
  } catch (error) {
    failure ??= { error };
  } finally {
    closing = true;
    clearInterval(timer);
    options.signal?.removeEventListener("abort", onAbort);
    if (!options.signal?.aborted) await Promise.all(slots.map((slot) => slot.close()));
  }
  if (options.signal?.aborted) {
    await Promise.all(slots.map((slot) => slot.close()));
    const complete = !failure && jobs.every((_, k) => outcomes[k] !== undefined); // (every() would skip the holes)
    // Cancelled after the last replication ended: the run is complete, and nothing was left to save.
    if (!complete) {
      await stopped; // a failed save is the run's error
      throw new RunCancelled();
    }
    await stopped?.catch(() => {});
  }
  if (failure) throw failure.error;
  await saving?.catch(() => {}); // the run is complete: its checkpoint no longer matters
  return outcomes;
}

/** Why replication `r` of `job` failed after `tries` runs: its seed, root seed and the job's parameters, then `message`. */
export function replicationFailure(job: PoolJob, r: number, tries: number, message: string): string {
  const label = job.label ? ` of ${job.label}` : "";
  const seed = job.scenario.seed;
  return `replication ${r} (seed ${replicationSeeds(seed, r + 1)[r]}, from root seed ${seed})${label} failed in its worker${tries > 1 ? ` ${tries} times` : ""}: ${message}`;
}

/** A job's results from its replications', or, if assembling them throws, its failure: the other jobs go on. */
export function assembled(job: PoolJob, plugins: readonly PluginDefinition[], done: readonly ReplicationResult[]): JobOutcome {
  try {
    const results = assembleResults(job.scenario, plugins, done);
    return { results, replications: [...done].sort((a, b) => a.replication - b.replication).map((x) => x.stack) };
  } catch (err) {
    const label = job.label ? ` of ${job.label}` : "";
    return { error: `assembling the results${label} failed after its ${done.length} replications ran: ${(err as Error).message}` };
  }
}

/**
 * Workers import the plugins from their modules: each plugin given must come from one of them (else every
 * replication would fail in its worker with a puzzling "no plugin provides the host layer").
 */
async function checkPluginModules(plugins: readonly PluginDefinition[], modules: readonly string[]): Promise<void> {
  const provided = new Set<string>();
  for (const url of modules) {
    try {
      for (const p of await pluginsFrom([url])) provided.add(p.name);
    } catch (err) {
      const cause = (err as Error).cause;
      // A module refused before any import says why itself.
      if (cause === undefined) throw err;
      throw new Error(`pluginModules: cannot import ${url}: ${cause instanceof Error ? cause.message : String(cause)}`);
    }
  }
  const missing = plugins.filter((p) => !provided.has(p.name)).map((p) => p.name);
  if (missing.length > 0) {
    throw new Error(
      `pluginModules: no module provides plugin${missing.length === 1 ? "" : "s"} ${missing.join(", ")}; workers import plugins from module URLs ` +
        `(a plugin object cannot cross to a worker): add its module, e.g. import.meta.resolve("@turtles/plugin-baremetal")`,
    );
  }
}

/**
 * The problems of a scenario a worker found bad when it built its model, as
 * its model built here gives them (only when a worker reported one); null
 * when this build finds none.
 */
function problemsOf(scenario: Scenario, plugins: readonly PluginDefinition[], file: string | undefined): Problem[] | null {
  try {
    preflight(scenario, plugins, { file });
  } catch (err) {
    if (err instanceof ScenarioError) return err.problems;
  }
  return null;
}

/**
 * Runs one scenario's replications on the pool (`runMany` with one job) and
 * returns its results, or throws the error of its failed replications.
 */
export async function runScenarioOnWorkers(scenario: Scenario, plugins: readonly PluginDefinition[], options: PoolOptions): Promise<Results> {
  const { resume, checkpoint, ...rest } = options;
  const [outcome] = await runMany(
    [{ scenario: applyOverrides(scenario, options), resume }],
    plugins,
    // One job: its snapshot is the run's; once it has settled there is nothing to save (and no cancel: it is complete).
    { ...rest, checkpoint: checkpoint && { ...checkpoint, save: async (snapshots) => snapshots[0] && (await checkpoint.save(snapshots[0])) } },
  );
  if (outcome.error !== undefined) throw outcome.problems ? new ScenarioError(outcome.problems) : new Error(outcome.error);
  return outcome.results;
}
