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
import { Random } from "../random/random.js";
import type { Scenario } from "../scenario/schema.js";
import { studentTQuantile } from "../stats/special.js";
import { sha256Hex } from "../util/sha256.js";
import { decodeSnapshot, encodeSnapshot } from "../kernel/codec.js";
import { captureState, restoreState, StateError } from "../kernel/state.js";
import { runSnapshot, statesOf, type CheckpointOptions, type RunningState, type RunSnapshot } from "./checkpoint.js";
import { Replication, SERIES_WINDOWS, type ReplicationOptions } from "./replication.js";

/** The engine's version, reported in every results manifest (kept equal to package.json by a test). */
export const ENGINE_VERSION = "0.1.0";

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
  /** File name for messages. */
  file?: string;
  onProgress?: (p: RunProgress) => void;
  /** Aborting stops the run between chunks with a `RunCancelled` error. */
  signal?: AbortSignal;
  /** Called for each measured completion: service key, latency, CPU work of the request. */
  onRequest?: (service: string, latency: number, work: number) => void;
  /** Events per chunk between progress reports and yields. Default 200,000. */
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

type Metric = number | null;

export interface ServiceResults {
  stack: string;
  /** Requests that arrived after the warm-up (root requests, or calls for a called service). */
  arrived: Metric;
  completed: Metric;
  failed: Metric;
  dropped: Metric;
  throughput: Metric;
  latency: { mean: Metric; p50: Metric; p90: Metric; p99: Metric; p999: Metric };
  sloViolations: Metric;
  ingressBytes: Metric;
  egressBytes: Metric;
  /** Mean seconds a completed request spent in io steps. */
  ioWait: Metric;
  /** Mean seconds a completed request spent waiting for its calls. */
  callTime: Metric;
  /** Requests that arrived after the warm-up and were still in flight at the end. */
  inFlight: Metric;
}

/** Host figures of a set of hosts (a host type, or all of a stack's). */
export interface HostFigures {
  hosts: Metric;
  used: Metric;
  /** Busy core-seconds over the cores of the used hosts times the measured duration. */
  cpuUtilization: Metric;
  memoryUsed: Metric;
  memoryPeak: Metric;
  /** Host-seconds spent with memory overcommitted (swapping). */
  pressureTime: Metric;
  /** Mean busy fraction of the disks of used hosts, their I/Os per second and bytes. */
  diskUtilization: Metric;
  diskIops: Metric;
  diskBytesRead: Metric;
  diskBytesWritten: Metric;
  /** Mean busy fraction of the NICs of used hosts (transmit and receive), and their bytes. */
  nicTxUtilization: Metric;
  nicRxUtilization: Metric;
  nicBytesSent: Metric;
  nicBytesReceived: Metric;
}

export interface StackResults {
  services: Record<string, ServiceResults>;
  /** The contract's host figures (`total` is every host) and the extensions of `HostFigures`. */
  hosts: Omit<HostFigures, "hosts"> & { total: Metric; steal: Metric; throttledTime: Metric; memoryOverhead: Metric };
  /** Who calls whom: calls per second and mean call latency per edge (an extension). */
  calls: { from: string; to: string; rate: Metric; latencyMean: Metric }[];
  /** The same host figures per host type (an extension of the contract). */
  hostTypes: Record<string, HostFigures>;
  /** Each host that was under memory pressure during the measurement, with its seconds (an extension). */
  pressure: { host: number; type: string; seconds: Metric }[];
  lifecycle: { ready: { p50: Metric; p99: Metric } | null; recovery: { p50: Metric; p99: Metric } | null };
  /** Core-seconds of failed hosts during the measurement (an extension). */
  capacityLost: Metric;
  /** Each host failure: when it failed, was found and repaired, replicas lost and ready again (an extension). */
  failures: { host: number; at: number; detected: number | null; repaired: number | null; replicas: number; recovered: number }[];
  energy: { joules: Metric };
  cost: { total: Metric };
  kernels: Metric;
  series: { window: number; t: number[]; throughput: Metric[]; latencyMean: Metric[]; cpuUtilization: Metric[] };
  ci95: unknown;
}

export interface Results {
  format: "turtles-results/1";
  manifest: {
    engine: string;
    plugins: Record<string, string>;
    scenario: string;
    scenarioHash: string;
    seed: number;
    replications: number;
    replicationSeeds: number[];
    duration: number;
    warmup: number;
  };
  stacks: Record<string, StackResults>;
  /** Replicas that could not be placed (in the first replication; placement does not depend on the seed). */
  unplaced: { tenant: string; service: string; replicas: number; reason: string; /** In a comparison of stacks. */ stack?: string }[];
}

/** `sha256:<hex>` of the scenario's JSON (loaded scenarios are normalised, so the same file gives the same hash). */
export function scenarioHash(s: Scenario): string {
  return `sha256:${sha256Hex(JSON.stringify(s))}`;
}

/** Replication seeds depend only on the scenario seed and the replication index, never on the stack. */
export function replicationSeeds(seed: number, replications: number): number[] {
  return Array.from({ length: replications }, (_, r) => Random.fromKey(seed, "replication", r).nextU32());
}

/** The scenario with the run's overrides applied (seed, duration, replications). */
export function applyOverrides(scenario: Scenario, options: Pick<RunScenarioOptions, "seed" | "duration" | "replications">): Scenario {
  return {
    ...scenario,
    seed: options.seed ?? scenario.seed,
    duration: options.duration ?? scenario.duration,
    replications: options.replications ?? scenario.replications,
  };
}

/** What one replication produces: its metrics, and the replicas placement could not fit. */
export interface ReplicationResult {
  replication: number;
  stack: StackResults;
  unplaced: Results["unplaced"];
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

  constructor(
    private readonly scenario: Scenario,
    private readonly plugins: readonly PluginDefinition[],
    readonly replication: number,
    options: Pick<RunScenarioOptions, "file" | "onRequest"> = {},
  ) {
    const s = scenario;
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

  /** Processes at most `events` more events; true once the replication has reached its end. */
  advance(events: number): boolean {
    if (this.finished) return true;
    return this.sim.run({ until: this.rep.end, maxEvents: events }).reason !== "maxEvents";
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
      this.rep.closeLifecycle();
      this.finished = { replication: this.replication, stack: measure(this.scenario, this.model, this.rep), unplaced: summariseUnplaced(this.model) };
    }
    return this.finished;
  }

  /** What the build supplies and a snapshot leaves out (with all they reach): the scenario, the plugins and the options. */
  private kept(): object[] {
    return [this.scenario, this.plugins, ...this.plugins, this.options];
  }
}

const REPLICATION_FORMAT = "turtles-replication/1";

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
  const started = options.startedAt ?? Date.now();
  let lastYield = Date.now();
  const run = options.resumeFrom ? ReplicationRun.resume(s, plugins, r, options.resumeFrom, options) : new ReplicationRun(s, plugins, r, options);
  for (;;) {
    const done = run.advance(chunk);
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
 * The results of a scenario from its replications' results, in replication
 * order: each metric the mean over replications, with 95% half-widths.
 */
export function assembleResults(s: Scenario, plugins: readonly PluginDefinition[], results: readonly ReplicationResult[]): Results {
  const ordered = [...results].sort((a, b) => a.replication - b.replication);
  const perReplication = ordered.map((x) => x.stack);
  const stackNames = [...new Set(perReplication[0] ? Object.values(perReplication[0].services).map((x) => x.stack) : [])];
  const key = stackNames.length === 1 ? stackNames[0] : "scenario";
  const mean = meanOf(perReplication) as StackResults;
  // Hosts under pressure: the union over replications, seconds averaged (0 where a replication had none).
  const seconds = new Map<number, { host: number; type: string; seconds: number }>();
  for (const rep of perReplication) {
    for (const p of rep.pressure) {
      const e = seconds.get(p.host) ?? { host: p.host, type: p.type, seconds: 0 };
      e.seconds += (p.seconds as number) / perReplication.length;
      seconds.set(p.host, e);
    }
  }
  mean.pressure = [...seconds.values()].sort((a, b) => a.host - b.host);
  // Failures differ between replications: the timeline is the first replication's.
  mean.failures = perReplication[0]?.failures ?? [];
  mean.ci95 = s.replications < 2 ? null : halfWidthOf(perReplication);
  return {
    format: "turtles-results/1",
    manifest: {
      engine: ENGINE_VERSION,
      plugins: Object.fromEntries(plugins.map((p) => [p.name, p.version])),
      scenario: s.name,
      scenarioHash: scenarioHash(s),
      seed: s.seed,
      replications: s.replications,
      replicationSeeds: replicationSeeds(s.seed, s.replications),
      duration: s.duration,
      warmup: s.warmup,
    },
    stacks: { [key]: mean },
    // Placement does not depend on the seed: the first replication's.
    unplaced: ordered[0]?.unplaced ?? [],
  };
}

/**
 * Runs every replication in this thread, one after another. With `resume`,
 * replications done in the snapshot are not run again and those in progress
 * continue from their state; with `checkpoint`, the run saves itself as it goes
 * and when it is cancelled.
 */
export async function runScenario(scenario: Scenario, plugins: readonly PluginDefinition[], options: RunScenarioOptions = {}): Promise<Results> {
  const s = applyOverrides(scenario, options);
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

const finite = (x: number): Metric => (Number.isFinite(x) ? x : null);

/** One replication's metrics, in the shape of the results. */
function measure(s: Scenario, model: Model, rep: Replication): StackResults {
  const d = s.duration;
  const services: Record<string, ServiceResults> = {};
  const inFlight = rep.inFlightMeasured();
  for (const [k, { measure: m }] of rep.services.entries()) {
    const h = m.histogram;
    services[m.key] = {
      stack: m.stack,
      arrived: m.arrived,
      completed: m.completed,
      failed: m.failed,
      dropped: m.dropped,
      throughput: m.completed / d,
      latency: {
        mean: m.completed > 0 ? m.latencySum / m.completed : null,
        p50: finite(h.quantile(0.5)),
        p90: finite(h.quantile(0.9)),
        p99: finite(h.quantile(0.99)),
        p999: finite(h.quantile(0.999)),
      },
      sloViolations: m.sloThreshold === Infinity ? null : m.completed > 0 ? m.sloViolations / m.completed : 0,
      ingressBytes: m.ingressBytes,
      egressBytes: m.egressBytes,
      ioWait: m.completed > 0 ? m.ioWait / m.completed : null,
      callTime: m.completed > 0 ? m.callTime / m.completed : null,
      inFlight: inFlight[k],
    };
  }
  const used = new Set<number>();
  for (const h of rep.hostsUsed) used.add(h);
  // Host figures, per host type and in all; disks and memory over the used hosts.
  const typeOf: string[] = s.hosts.flatMap((g) => Array.from({ length: g.count }, () => g.type));
  const zero = (): typeof all => ({ hosts: 0, used: 0, cores: 0, busy: 0, mem: 0, peak: 0, pressure: 0, disks: 0, diskBusy: 0, ios: 0, read: 0, written: 0, nics: 0, tx: 0, rx: 0, sent: 0, received: 0 });
  const all = { hosts: 0, used: 0, cores: 0, busy: 0, mem: 0, peak: 0, pressure: 0, disks: 0, diskBusy: 0, ios: 0, read: 0, written: 0, nics: 0, tx: 0, rx: 0, sent: 0, received: 0 };
  const sums = new Map<string, typeof all>();
  let joules: number | null = null;
  let cost: number | null = null;
  const pressure: StackResults["pressure"] = [];
  model.hosts.forEach((h, i) => {
    const rules = model.hostRules[i];
    const b = model.cpu.busyCoreSeconds(h) - rep.busyAtStart[i];
    let t = sums.get(typeOf[i]);
    if (!t) sums.set(typeOf[i], (t = zero()));
    for (const x of [t, all]) {
      x.hosts++;
      if (!used.has(h)) continue;
      x.used++;
      x.cores += rules.cores;
      x.busy += b;
      x.mem += model.nodes.usedMemory[h];
      x.peak += model.memoryPeak[i];
      const p = model.pressureSeconds(h) - rep.pressureAtStart[i];
      x.pressure += p;
      if (p > 0 && x === all) pressure.push({ host: i, type: typeOf[i], seconds: p });
      if (model.disk.has(h)) {
        const d0 = rep.diskAtStart[i];
        const d1 = model.disk.stats(h);
        x.disks++;
        x.diskBusy += d1.busyTime - d0.busyTime;
        x.ios += d1.completed - d0.completed;
        x.read += d1.bytesRead - d0.bytesRead;
        x.written += d1.bytesWritten - d0.bytesWritten;
      }
      if (model.net.hasNic(h)) {
        const n0 = rep.nicAtStart[i];
        const n1 = model.net.stats(h);
        x.nics++;
        x.tx += n1.txBusy - n0.txBusy;
        x.rx += n1.rxBusy - n0.rxBusy;
        x.sent += n1.bytesSent - n0.bytesSent;
        x.received += n1.bytesReceived - n0.bytesReceived;
      }
    }
    // Power: linear from idle to max in CPU utilisation (a powered-on host draws idle power when unused).
    // Hosts without a power or cost figure add nothing; with none at all the metric is null, not zero.
    if (rules.power) joules = (joules ?? 0) + rules.power.idle * d + ((rules.power.max - rules.power.idle) * b) / rules.cores;
    if (rules.costPerHour !== undefined) cost = (cost ?? 0) + (rules.costPerHour * d) / 3600;
  });
  const figures = (x: typeof all): HostFigures => ({
    hosts: x.hosts,
    used: x.used,
    cpuUtilization: x.cores > 0 ? x.busy / (x.cores * d) : null,
    memoryUsed: x.mem,
    memoryPeak: x.peak,
    pressureTime: x.pressure,
    diskUtilization: x.disks > 0 ? x.diskBusy / (x.disks * d) : null,
    diskIops: x.disks > 0 ? x.ios / d : null,
    diskBytesRead: x.disks > 0 ? x.read : null,
    diskBytesWritten: x.disks > 0 ? x.written : null,
    nicTxUtilization: x.nics > 0 ? x.tx / (x.nics * d) : null,
    nicRxUtilization: x.nics > 0 ? x.rx / (x.nics * d) : null,
    nicBytesSent: x.nics > 0 ? x.sent : null,
    nicBytesReceived: x.nics > 0 ? x.received : null,
  });
  const hostTypes: StackResults["hostTypes"] = Object.fromEntries([...sums].map(([name, x]) => [name, figures(x)]));
  const usedCores = all.cores;
  let overhead = 0;
  for (let n = 0; n < model.nodes.count; n++) if (!model.nodes.removed[n]) overhead += model.overheadMemory[n];
  const percentiles = (xs: number[]): { p50: Metric; p99: Metric } | null => {
    if (xs.length === 0) return null;
    const sorted = [...xs].sort((a, b) => a - b);
    return { p50: sorted[Math.floor(0.5 * (sorted.length - 1))], p99: sorted[Math.floor(0.99 * (sorted.length - 1))] };
  };
  const w = rep.windowLength;
  const series: StackResults["series"] = { window: w, t: [], throughput: [], latencyMean: [], cpuUtilization: [] };
  for (let k = 0; k < SERIES_WINDOWS; k++) {
    let done = 0;
    let lat = 0;
    for (const { measure: m } of rep.services) {
      done += m.windowCompleted[k];
      lat += m.windowLatency[k];
    }
    series.t.push(k * w);
    series.throughput.push(done / w);
    series.latencyMean.push(done > 0 ? lat / done : null);
    series.cpuUtilization.push(usedCores > 0 ? (rep.windowBusy[k + 1] - rep.windowBusy[k]) / (usedCores * w) : null);
  }
  const f = figures(all);
  const keys = rep.services.map((r) => r.measure.key);
  const calls: StackResults["calls"] = [...rep.edges]
    .sort((a, b) => a[0] - b[0])
    .map(([k, e]) => ({ from: keys[Math.floor(k / keys.length)], to: keys[k % keys.length], rate: e.count / d, latencyMean: e.latency / e.count }));
  return {
    services,
    hosts: {
      total: model.hosts.length,
      used: used.size,
      cpuUtilization: f.cpuUtilization,
      steal: model.cpu.totalSteal() - rep.stealAtStart,
      throttledTime: rep.throttledTime() - rep.throttledAtStart,
      memoryUsed: f.memoryUsed,
      memoryOverhead: overhead,
      memoryPeak: f.memoryPeak,
      pressureTime: f.pressureTime,
      diskUtilization: f.diskUtilization,
      diskIops: f.diskIops,
      diskBytesRead: f.diskBytesRead,
      diskBytesWritten: f.diskBytesWritten,
      nicTxUtilization: f.nicTxUtilization,
      nicRxUtilization: f.nicRxUtilization,
      nicBytesSent: f.nicBytesSent,
      nicBytesReceived: f.nicBytesReceived,
    },
    calls,
    hostTypes,
    pressure,
    lifecycle: { ready: percentiles(rep.readyTimes), recovery: percentiles(rep.recoveries) },
    capacityLost: rep.capacityLost,
    failures: rep.failures.map(({ lost: _lost, ...f }) => f),
    energy: { joules },
    cost: { total: cost },
    kernels: model.kernels(),
    series,
    ci95: null,
  };
}

/** Element-wise mean of same-shaped values: numbers average (null if any is null), strings and nulls pass. */
function meanOf(values: unknown[]): unknown {
  const first = values[0];
  if (typeof first === "number") return values.some((v) => v === null) ? null : (values as number[]).reduce((a, b) => a + b, 0) / values.length;
  if (Array.isArray(first)) {
    // Lists whose length differs between replications (hosts under pressure) are merged by their caller.
    if (values.some((v) => (v as unknown[]).length !== first.length)) return null;
    return first.map((_, i) => meanOf(values.map((v) => (v as unknown[])[i])));
  }
  if (first !== null && typeof first === "object") {
    return Object.fromEntries(Object.keys(first).map((k) => [k, meanOf(values.map((v) => (v as Record<string, unknown>)[k]))]));
  }
  return first;
}

/** Student-t 95% half-widths of same-shaped values (strings dropped, nulls kept). */
function halfWidthOf(values: unknown[]): unknown {
  const first = values[0];
  if (typeof first === "number" || (first === null && values.some((v) => typeof v === "number"))) {
    if (values.some((v) => v === null)) return null;
    const xs = values as number[];
    const n = xs.length;
    const mean = xs.reduce((a, b) => a + b, 0) / n;
    const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
    return studentTQuantile(0.975, n - 1) * Math.sqrt(variance / n);
  }
  if (Array.isArray(first)) {
    if (values.some((v) => (v as unknown[]).length !== first.length)) return null;
    return first.map((_, i) => halfWidthOf(values.map((v) => (v as unknown[])[i])));
  }
  if (first !== null && typeof first === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(first)) {
      if (k === "ci95" || k === "pressure" || k === "failures" || typeof (first as Record<string, unknown>)[k] === "string") continue;
      out[k] = halfWidthOf(values.map((v) => (v as Record<string, unknown>)[k]));
    }
    return out;
  }
  return null;
}
