/**
 * Running a scenario: replications with derived seeds, each a fresh kernel
 * and model, then the results of DESIGN.md (Contracts: Results,
 * `turtles-results/1`): every metric the mean of its per-replication values,
 * with 95% confidence half-widths over replications.
 *
 * The run advances in chunks of events and yields between them (so a UI or a
 * Ctrl-C handler stays responsive); progress reads wall time outside the model
 * and never schedules events.
 */
import { Simulation } from "../kernel/simulation.js";
import { buildModel, type Model } from "../model/model.js";
import type { PluginDefinition } from "../plugin/define.js";
import { checkOverrides, rolloutTooLate, type Scenario } from "../scenario/schema.js";
import { decodeSnapshot, encodeSnapshot } from "../kernel/codec.js";
import { captureState, restoreState, StateError } from "../kernel/state.js";
import { checkResume, runSnapshot, statesOf, type CheckpointOptions, type RunningState, type RunSnapshot } from "./checkpoint.js";
import { withTraceServices } from "./traces.js";
import { assembleResults, measure, metricsOf, replicationSeeds, scenarioHash, type ReplicationResult, type Results } from "./measure.js";
import { Replication, type ReplicationOptions } from "./replication.js";

export { assembleResults, ENGINE_VERSION, replicationSeeds, scenarioHash } from "./measure.js";
export type { HostFigures, ReplicationResult, ReplicationStack, Results, ServiceResults, StackResults } from "./measure.js";

export interface RunProgress {
  /** Of `runMany`: the job (its index in the jobs given) the replication belongs to. */
  job?: number;
  replication: number;
  replications: number;
  /** Simulated time reached in this replication, and where it ends. */
  simTime: number;
  end: number;
  /** Events processed so far in this replication. */
  events: number;
  /** Wall seconds since the run started. */
  wallSeconds: number;
  /** Completed requests so far (warm-up included), per service key. */
  completed: Record<string, number>;
}

export interface RunScenarioOptions {
  /** Overrides of the scenario's own values. */
  seed?: number;
  duration?: number;
  replications?: number;
  /** Adds a kernel patch rollout where the scenario has none (CLI `--rollout`); `maxUnavailable` overrides its width. */
  rollout?: { maxUnavailable?: number };
  /** File name for messages. */
  file?: string;
  onProgress?: (p: RunProgress) => void;
  /** Aborting stops the run between chunks with a `RunCancelled` error. */
  signal?: AbortSignal;
  /** Called for each measured completion: service key, latency, CPU work of the request. */
  onRequest?: (service: string, latency: number, work: number) => void;
  /** Events per chunk between progress reports and yields (a chunk also ends after 200 ms of wall time). Default 200,000. */
  chunk?: number;
  /** Wall-clock start of the whole run (for progress across replications). Default: when the replication starts. */
  startedAt?: number;
  /** Continue this saved run: done replications are kept, those in progress continue from their state. */
  resume?: RunSnapshot;
  /** Save the run as it goes, and when it is cancelled. */
  checkpoint?: CheckpointOptions;
}

/** The run was cancelled through its signal; nothing was produced. */
export class RunCancelled extends Error {
  constructor() {
    super("run cancelled");
    this.name = "RunCancelled";
  }
}

/**
 * The scenario with the run's overrides applied (seed, duration, replications, a rollout), each checked as the
 * scenario's own field: a bad one is a RangeError naming it, as is a rollout that would start after the measurement.
 */
export function applyOverrides(scenario: Scenario, options: Pick<RunScenarioOptions, "seed" | "duration" | "replications" | "rollout">): Scenario {
  const o = checkOverrides(options);
  const s: Scenario = {
    ...scenario,
    seed: o.seed ?? scenario.seed,
    duration: o.duration ?? scenario.duration,
    replications: o.replications ?? scenario.replications,
  };
  if (o.rollout) s.rollout = { at: scenario.rollout?.at ?? 0, maxUnavailable: o.rollout.maxUnavailable ?? scenario.rollout?.maxUnavailable ?? 1 };
  const late = rolloutTooLate(s);
  if (late) throw new RangeError(`rollout.at: ${late}`);
  return s;
}

/**
 * One replication as a run that advances in chunks of events and can be
 * saved between them (DESIGN.md, Snapshots): a fresh kernel and model seeded
 * from the scenario seed and `r` alone, so it gives the same result in any
 * process or worker, and a resumed run continues exactly as the saved one.
 */
export class ReplicationRun {
  private readonly sim: Simulation;
  private readonly model: Model;
  private readonly rep: Replication;
  private readonly options: ReplicationOptions;
  private finished: ReplicationResult | undefined;

  /** The scenario as built: with a service per VM of each utilisation trace tenant. */
  private readonly built: Scenario;

  constructor(
    private readonly scenario: Scenario,
    private readonly plugins: readonly PluginDefinition[],
    readonly replication: number,
    options: Pick<RunScenarioOptions, "file" | "onRequest"> = {},
  ) {
    const s = withTraceServices(scenario);
    this.built = s;
    const seed = replicationSeeds(s.seed, s.replications)[replication];
    this.sim = new Simulation({ seed });
    this.model = buildModel(this.sim, s, plugins);
    this.options = { seed, warmup: s.warmup, duration: s.duration, onRequest: options.onRequest, file: options.file };
    this.rep = new Replication(this.sim, this.model, s, this.options);
  }

  /** Replicas placement could not fit (placement does not depend on the seed). */
  unplaced(): Results["unplaced"] {
    return summariseUnplaced(this.model);
  }

  /** A run of replication `r` continued from `state` (from `snapshot()` of a run of the same scenario and plugins). */
  static resume(s: Scenario, plugins: readonly PluginDefinition[], r: number, saved: Uint8Array, options: Pick<RunScenarioOptions, "file" | "onRequest"> = {}): ReplicationRun {
    const run = new ReplicationRun(s, plugins, r, options);
    let header: Partial<SavedReplication> | undefined;
    try {
      header = decodeSnapshot(saved) as Partial<SavedReplication>;
    } catch {
      header = undefined;
    }
    if (header?.format !== REPLICATION_FORMAT) throw new StateError(`not a saved replication (expected format ${REPLICATION_FORMAT})`);
    const expected = run.identity();
    if (header.replication !== r) throw new StateError(`the saved state is of replication ${header.replication}, not ${r}`);
    if (header.scenarioHash !== expected.scenarioHash) throw new StateError(`the saved state is of another scenario than replication ${r}'s (or of another version of it)`);
    const versions = (m: Record<string, string>): string => Object.entries(m).map(([n, v]) => `${n} ${v}`).join(", ");
    if (versions(header.plugins ?? {}) !== versions(expected.plugins)) {
      throw new StateError(`the saved state was made with plugins ${versions(header.plugins ?? {})}, not ${versions(expected.plugins)}`);
    }
    const types = JSON.stringify(run.sim.eventTypeNames);
    try {
      restoreState([run.sim, run.model, run.rep], header.state!, run.kept());
    } catch (err) {
      if (!(err instanceof StateError)) throw err;
      throw new StateError(`the saved state does not fit replication ${r} of this scenario: ${err.message}`);
    }
    if (JSON.stringify(run.sim.eventTypeNames) !== types) throw new StateError("the saved state registered its event types in another order than this build");
    return run;
  }

  /** Simulated time reached, where the replication ends, and events processed so far. */
  get simTime(): number {
    return this.sim.now;
  }
  get end(): number {
    return this.rep.end;
  }
  get events(): number {
    return this.sim.eventsProcessed;
  }
  /** Completed requests so far (measured or not), per service key. */
  completed(): Record<string, number> {
    return Object.fromEntries(this.rep.services.map((x) => [x.measure.key, x.measure.completed]));
  }

  /**
   * Processes at most `events` more events, and stops sooner once `wallMs`
   * milliseconds of wall time have passed (checked every 4,096 events, so a
   * chunk of slow events still returns soon to whoever must see a Ctrl-C or a
   * pause); true once the replication has reached its end. Where a chunk ends
   * changes nothing in the results.
   */
  advance(events: number, wallMs = Infinity): boolean {
    if (this.finished) return true;
    const deadline = performance.now() + wallMs;
    for (let left = events; left > 0; ) {
      const slice = Math.min(left, wallMs === Infinity ? left : SLICE_EVENTS);
      if (this.sim.run({ until: this.rep.end, maxEvents: slice }).reason !== "maxEvents") return true;
      left -= slice;
      if (performance.now() >= deadline) break;
    }
    return false;
  }

  /** The whole state of the running replication (between chunks), as msgpack. */
  snapshot(): Uint8Array {
    if (this.finished) throw new Error(`replication ${this.replication} has finished; its result is final`);
    const saved: SavedReplication = { ...this.identity(), format: REPLICATION_FORMAT, state: captureState([this.sim, this.model, this.rep], this.kept()) };
    return encodeSnapshot(saved);
  }

  /** What a saved state must match to continue here: the replication, the scenario and the plugins' versions. */
  private identity(): Pick<SavedReplication, "replication" | "scenarioHash" | "plugins"> {
    return {
      replication: this.replication,
      scenarioHash: scenarioHash(this.scenario),
      plugins: Object.fromEntries(this.plugins.map((p) => [p.name, p.version])),
    };
  }

  /** Its metrics, once it has reached its end. */
  result(): ReplicationResult {
    if (!this.finished) {
      if (this.sim.now < this.rep.end && this.sim.pending > 0) throw new Error(`replication ${this.replication} has not reached its end`);
      this.rep.closeWindows();
      this.rep.lifecycle.close();
      this.finished = { replication: this.replication, seed: this.options.seed, stack: measure(this.built, this.model, this.rep), unplaced: summariseUnplaced(this.model), metrics: metricsOf(this.built, this.model) };
    }
    return this.finished;
  }

  /** What the build supplies and a snapshot leaves out (with all they reach): the scenario, the plugins and the options. */
  private kept(): object[] {
    return [this.scenario, this.built, this.plugins, ...this.plugins, this.options];
  }
}

const REPLICATION_FORMAT = "turtles-replication/1";

/** Events between two looks at the clock in a time-bounded `advance` (a look costs about what 10 events do). */
const SLICE_EVENTS = 4096;
/** Wall time a chunk of a run takes at most, so that progress, pauses, snapshots and Ctrl-C are seen within it. */
export const CHUNK_WALL_MS = 200;

/** A saved replication: what it belongs to, and its model's state (`captureState`). */
interface SavedReplication {
  format: typeof REPLICATION_FORMAT;
  replication: number;
  scenarioHash: string;
  plugins: Record<string, string>;
  state: Uint8Array;
}

/** Options of `runReplication`: the run's, plus a state to resume from and a call between chunks. */
export interface ReplicationRunOptions extends RunScenarioOptions {
  /** Continue from this state of the replication (`ReplicationRun.snapshot`). */
  resumeFrom?: Uint8Array;
  /** Called between chunks (after progress): may save the run, or wait (a pause). */
  between?: (run: ReplicationRun) => void | Promise<void>;
}

/** Runs replication `r` of a scenario (overrides already applied) in this thread, in chunks. */
export async function runReplication(s: Scenario, plugins: readonly PluginDefinition[], r: number, options: ReplicationRunOptions = {}): Promise<ReplicationResult> {
  const chunk = options.chunk ?? 200_000;
  if (!(Number.isInteger(chunk) && chunk >= 1)) throw new RangeError(`chunk must be a whole number of events, at least 1, found ${chunk}`);
  const started = options.startedAt ?? Date.now();
  let lastYield = Date.now();
  const run = options.resumeFrom ? ReplicationRun.resume(s, plugins, r, options.resumeFrom, options) : new ReplicationRun(s, plugins, r, options);
  for (;;) {
    const done = run.advance(chunk, CHUNK_WALL_MS);
    options.onProgress?.({ replication: r, replications: s.replications, simTime: run.simTime, end: run.end, events: run.events, wallSeconds: (Date.now() - started) / 1000, completed: run.completed() });
    if (done) break;
    if (Date.now() - lastYield > 50) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      lastYield = Date.now();
    }
    await options.between?.(run); // before a cancel, so that a cancelled run can save itself
    if (options.signal?.aborted) throw new RunCancelled();
  }
  if (options.signal?.aborted) throw new RunCancelled();
  return run.result();
}

/**
 * Runs every replication in this thread, one after another. With `resume`,
 * replications done in the snapshot are not run again and those in progress
 * continue from their state; with `checkpoint`, the run saves itself as it goes
 * and when it is cancelled.
 */
export async function runScenario(scenario: Scenario, plugins: readonly PluginDefinition[], options: RunScenarioOptions = {}): Promise<Results> {
  const s = applyOverrides(scenario, options);
  checkResume(options.resume, s);
  const results: ReplicationResult[] = [...(options.resume?.done ?? [])];
  const states = statesOf(options.resume);
  const startedAt = Date.now();
  const checkpoint = options.checkpoint;
  let lastSave = Date.now();
  const save = async (running: RunningState[]): Promise<void> => {
    await checkpoint!.save(runSnapshot(s, plugins, results, running, { file: options.file, pluginModules: checkpoint!.pluginModules }));
    lastSave = Date.now();
  };
  for (let r = 0; r < s.replications; r++) {
    if (results.some((x) => x.replication === r)) continue;
    const between = checkpoint
      ? async (run: ReplicationRun): Promise<void> => {
          if (!options.signal?.aborted && Date.now() - lastSave < checkpoint.every * 1000) return;
          // This replication's state now, and the saved states of those not started yet (a resumed run).
          const running = (): RunningState[] => [{ replication: r, state: run.snapshot() }, ...[...states].filter(([q]) => q > r).map(([replication, state]) => ({ replication, state }))];
          if (options.signal?.aborted) return save(running()); // a cancelled run's last save: its error is the run's
          try {
            await save(running());
          } catch (err) {
            lastSave = Date.now(); // try again after another interval
            checkpoint.onSaveError?.(err as Error);
          }
        }
      : undefined;
    results.push(await runReplication(s, plugins, r, { ...options, startedAt, resumeFrom: states.get(r), between }));
  }
  return assembleResults(s, plugins, results);
}

/**
 * Builds replication 0 of a scenario without running it, so that the
 * problems only a built model shows (replicas that do not fit; calls across
 * hosts without NICs, io steps without a disk: a `ScenarioError`) come out
 * once, before any worker starts, rather than from every replication.
 * Returns the replicas placement could not fit.
 */
export function preflight(scenario: Scenario, plugins: readonly PluginDefinition[], options: Pick<RunScenarioOptions, "file"> = {}): Results["unplaced"] {
  return new ReplicationRun(scenario, plugins, 0, options).unplaced();
}

function summariseUnplaced(model: Model): Results["unplaced"] {
  const out = new Map<string, Results["unplaced"][number]>();
  for (const u of model.unplaced) {
    const k = `${u.tenant}/${u.service}`;
    const e = out.get(k);
    if (e) e.replicas++;
    else out.set(k, { tenant: u.tenant, service: u.service, replicas: 1, reason: u.reason });
  }
  return [...out.values()];
}
