/**
 * Measurement and results (DESIGN.md, Contracts: Results,
 * `turtles-results/1`), in one place: what a replication counts as it runs
 * (per service completions, latencies, failures; per window throughput and
 * CPU), what it reads from the model once the warm-up is over and at its end
 * (busy core-seconds, memory, disks, NICs, steal, throttling, plugin
 * metrics), the figures of one replication (`measure`), and the results of a
 * run: each figure the mean of its per-replication values, with 95%
 * half-widths over replications (`assembleResults`).
 */
import type { JobPodFigures } from "./job-pod-traces.js";
import type { Simulation } from "../kernel/simulation.js";
import { staticFigures } from "../model/figures.js";
import type { Migration, Model } from "../model/model.js";
import { killReasons, type KillReason, type PluginDefinition } from "../plugin/define.js";
import type { MetricFigure, MetricInfo } from "../plugin/metrics.js";
import { Random } from "../random/random.js";
import type { Scenario, Service } from "../scenario/schema.js";
import { nearestRank, Quantiles } from "../stats/quantiles.js";
import { studentTQuantile } from "../stats/special.js";
import { stackLayers } from "../scenario/load.js";
import { own } from "../util/own.js";
import { sha256Hex } from "../util/sha256.js";
import type { Comparison } from "./compare.js";
import type { Failure, Lifecycle } from "./lifecycle.js";
import type { RolloutFigures } from "./rollout.js";
import type { TraceReplay, UtilisationFigures } from "./traces.js";

/** The engine's version, reported in every results manifest (kept equal to package.json by a test). */
export const ENGINE_VERSION = "0.1.0";

/**
 * The probabilities at which each service's latency distribution is reported (`latency.cdf`), denser in the tail.
 * Keys of an object, not numbers in a list, so the mean over replications averages only latencies (the mean of three
 * 0.1s is not 0.1 in doubles). Neither 0 nor 1: integer keys would come first in a JSON object, out of order.
 */
export const LATENCY_CDF: readonly number[] = [0.001, 0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999];

/** Windows of the time series over the measured duration. */
export const SERIES_WINDOWS = 60;

/** What one service measured in one replication. */
export interface ServiceMeasure {
  key: string;
  stack: string;
  arrived: number;
  completed: number;
  dropped: number;
  failed: number;
  /** Failed requests per reason index (the replication's `reasons`). */
  failedBy: number[];
  latencySum: number;
  histogram: Quantiles;
  sloThreshold: number;
  sloViolations: number;
  /** Completions and latency sums per series window. */
  windowCompleted: Float64Array;
  windowLatency: Float64Array;
  ingressBytes: number;
  egressBytes: number;
  /** Seconds measured requests spent in io steps, and waiting for calls. */
  ioWait: number;
  callTime: number;
  /** Attempts retried, attempts their caller or client stopped waiting for, and of those the ones that completed anyway. */
  retries: number;
  timeouts: number;
  wasted: number;
}

/** A service's measure, empty. */
export function newServiceMeasure(key: string, stack: string, slo: Service["slo"]): ServiceMeasure {
  return {
    key,
    stack,
    arrived: 0,
    completed: 0,
    dropped: 0,
    failed: 0,
    failedBy: [],
    latencySum: 0,
    histogram: new Quantiles(),
    sloThreshold: slo ? Math.min(...Object.values(slo).filter((v): v is number => v !== undefined)) : Infinity,
    sloViolations: 0,
    windowCompleted: new Float64Array(SERIES_WINDOWS),
    windowLatency: new Float64Array(SERIES_WINDOWS),
    ingressBytes: 0,
    egressBytes: 0,
    ioWait: 0,
    callTime: 0,
    retries: 0,
    timeouts: 0,
    wasted: 0,
  };
}

/** What `measure` reads of a replication. */
export interface MeasuredReplication {
  readonly services: readonly { measure: ServiceMeasure; tenantIndex: number }[];
  readonly hostsUsed: ReadonlySet<number>;
  readonly lifecycle: Lifecycle;
  readonly measurement: Measurement;
  readonly edges: ReadonlyMap<number, { count: number; latency: number }>;
  readonly reasons: readonly string[];
  /** The replay of trace tenants, when the scenario has any. */
  readonly traces?: TraceReplay;
  /** The replay of trace tenants whose traces are jobs or pods. */
  readonly jobPods?: { readonly any: boolean; figures(): { traces: Record<string, JobPodFigures>; pendingPods: number[] | null } };
  inFlightMeasured(): number[];
}

/** Per replication: the window boundaries and what the model showed when the measurement started. */
export class Measurement {
  /** Busy core-seconds of each host at the start of the measurement. */
  readonly busyAtStart: Float64Array;
  /** Seconds CFS groups had spent throttled at the start of the measurement. */
  throttledAtStart = 0;
  /** Steal core-seconds of guest kernels at the start of the measurement, in all and per host. */
  stealAtStart = 0;
  readonly hostStealAtStart: Float64Array;
  /** Per host at the start of the measurement: seconds under memory pressure, and disk and NIC counters. */
  readonly pressureAtStart: Float64Array;
  readonly diskAtStart: { busyTime: number; completed: number; bytesRead: number; bytesWritten: number }[] = [];
  readonly nicAtStart: { txBusy: number; rxBusy: number; bytesSent: number; bytesReceived: number }[] = [];
  /** Busy core-seconds of all used hosts at each window boundary. */
  readonly windowBusy = new Float64Array(SERIES_WINDOWS + 1);
  /** Latencies of each window's completions, every service's: a p99 per window (exact below 1,000, else within 2% from 1 µs to 1 day). */
  readonly windowLatency: Quantiles[] = Array.from({ length: SERIES_WINDOWS }, () => new Quantiles(1000, { relativeError: 0.02, min: 1e-6, max: 1e5 }));
  readonly windowLength: number;
  private readonly windowType: number;

  constructor(
    private readonly sim: Simulation,
    private readonly model: Model,
    private readonly options: { warmup: number; duration: number },
    private readonly rep: { readonly hostsUsed: ReadonlySet<number> },
  ) {
    this.windowLength = options.duration / SERIES_WINDOWS;
    this.windowType = sim.on("workload.window", (w) => this.onWindow(w));
    this.busyAtStart = new Float64Array(model.hosts.length);
    this.pressureAtStart = new Float64Array(model.hosts.length);
    this.hostStealAtStart = new Float64Array(model.hosts.length);
  }

  /** Schedules the window boundaries (the first is the end of the warm-up). */
  scheduleWindows(): void {
    for (let w = 0; w <= SERIES_WINDOWS; w++) this.sim.scheduleAt(this.windowType, this.options.warmup + w * this.windowLength, w, -1);
  }

  /** A measured completion with `latency`: counted in its service and its window. Returns the latency. */
  record(m: ServiceMeasure, latency: number): number {
    const now = this.sim.now;
    m.completed++;
    m.latencySum += latency;
    m.histogram.record(latency);
    if (latency > m.sloThreshold) m.sloViolations++;
    const w = Math.min(SERIES_WINDOWS - 1, Math.floor((now - this.options.warmup) / this.windowLength));
    m.windowCompleted[w]++;
    m.windowLatency[w] += latency;
    this.windowLatency[w].record(latency);
    return latency;
  }

  /** Window boundary `w`: busy time so far; at the first (the end of the warm-up), every counter's start. */
  onWindow(w: number): void {
    const m = this.model;
    if (w === 0) {
      m.hosts.forEach((h, i) => {
        this.busyAtStart[i] = m.cpu.busyCoreSeconds(h);
        this.pressureAtStart[i] = m.memory.pressureSeconds(h);
        this.hostStealAtStart[i] = m.cpu.hostSteal(h);
        m.memory.peak[i] = m.nodes.usedMemory[h];
        this.diskAtStart[i] = m.disk.has(h) ? m.disk.stats(h) : { busyTime: 0, completed: 0, bytesRead: 0, bytesWritten: 0 };
        this.nicAtStart[i] = m.net.hasNic(h) ? m.net.stats(h) : { txBusy: 0, rxBusy: 0, bytesSent: 0, bytesReceived: 0 };
      });
      this.throttledAtStart = this.throttledTime();
      this.stealAtStart = m.cpu.totalSteal();
      m.driver.metrics.start(this.sim.now);
      m.driver.measured(0);
    }
    let busy = 0;
    for (const h of this.rep.hostsUsed) busy += m.cpu.busyCoreSeconds(h);
    this.windowBusy[w] = busy;
  }

  /** Seconds all CFS groups have spent throttled so far. */
  throttledTime(): number {
    let t = 0;
    for (let n = 0; n < this.model.nodes.count; n++) if (this.model.cpu.hasBandwidth(n)) t += this.model.cpu.bandwidthStats(n).throttledTime;
    return t;
  }
}

export type Metric = number | null;

export interface ServiceResults {
  stack: string;
  /** Requests that arrived after the warm-up (root requests, or calls for a called service). */
  arrived: Metric;
  completed: Metric;
  failed: Metric;
  /** Failed requests by reason: a layer's reject reason, or the engine's (host-failure, no-ready-replica, call-failed, call-dropped, restart, ...). */
  failedBy: Record<string, Metric>;
  dropped: Metric;
  throughput: Metric;
  /** `cdf`: the latency at each probability of `LATENCY_CDF` (keyed by it, as "0.5"), for drawing the distribution. */
  latency: { mean: Metric; p50: Metric; p90: Metric; p99: Metric; p999: Metric; cdf: Record<string, Metric> };
  sloViolations: Metric;
  ingressBytes: Metric;
  egressBytes: Metric;
  /** Mean seconds a completed request spent in io steps. */
  ioWait: Metric;
  /** Mean seconds a completed request spent waiting for its calls. */
  callTime: Metric;
  /** Requests that arrived after the warm-up and were still in flight at the end. */
  inFlight: Metric;
  /** Replicas restarted in place during the measurement (a layer's restartNode, a kill its layer restarts: an OOM kill). */
  restarts: Metric;
  /**
   * Replicas stopped by a kill during the measurement, by the reason their layer gave `ctx.failNode` (the container
   * plugin's `oom`: a process past its container's memory limit), reasons with kills only.
   */
  kills: Record<string, Metric>;
  /** Kill counts plugins also publish under a key of their own (`KillReason.field`; 0 without kills): `oomKills`. */
  [field: `${string}Kills`]: Metric;
  /** Attempts retried (the service's `retry`), attempts timed out, and timed-out attempts that completed anyway (their work wasted). */
  retries: Metric;
  timeouts: Metric;
  wasted: Metric;
}

/** Host figures of a set of hosts (a host type, or all of a stack's). */
export interface HostFigures {
  hosts: Metric;
  used: Metric;
  /** Busy core-seconds over the cores of the used hosts times the measured duration. */
  cpuUtilization: Metric;
  /** Bytes held at the end of the measurement (processes, allocations, overheads, backed guest RAM). */
  memoryUsed: Metric;
  /** Bytes reserved at the end (requests and limits placement counted, overheads, allocations). */
  memoryReserved: Metric;
  memoryPeak: Metric;
  /** Host-seconds spent with memory overcommitted (swapping). */
  pressureTime: Metric;
  /** Bytes of use past each host's memory at its peak in the measurement (what it swapped out at worst), summed. */
  swapPeak: Metric;
  /** Core-seconds the vCPUs of the hosts' guests were runnable but not running (`trackSteal`), over the measurement. */
  steal: Metric;
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
  /** The same host figures per host type (an extension of the contract), with the plugin metrics kept per host (`layers`, where there are some). */
  hostTypes: Record<string, HostFigures & { layers?: Record<string, Record<string, Metric>> }>;
  /** Each host that was under memory pressure during the measurement, with its seconds (an extension). */
  pressure: { host: number; type: string; seconds: Metric }[];
  /** Seconds to ready and to recover; and the plugins' lifecycle figures (`MetricSpec.lifecycle`: `pull`), where they have samples. */
  lifecycle: { ready: { p50: Metric; p99: Metric } | null; recovery: { p50: Metric; p99: Metric } | null; [figure: string]: { p50: Metric; p99: Metric } | null };
  /** Core-seconds of failed hosts during the measurement (an extension). */
  capacityLost: Metric;
  /** Each failure (of a host, or of a layer node): when it failed, was found and repaired, replicas lost and ready again (an extension). */
  failures: Failure[];
  /** Failures after the first 1,000 of the replication, left out of `failures` (an extension). */
  failuresOmitted: number;
  energy: { joules: Metric };
  cost: { total: Metric };
  kernels: Metric;
  /**
   * The kernel patch rollout's figures when the scenario has one (`rollout:`, CLI `--rollout`), else null: its
   * duration (null when the run ended first), requests failed and slowed during it, its width (rollout.ts).
   */
  rollout: RolloutFigures | null;
  /**
   * With scenario `actions` only: each live migration in the order it ended (its node and layer, host indices `from`
   * and `to`, `start`, `total` and `downtime` in seconds, pre-copy `rounds`, `bytes` copied), the first replication's;
   * and nodes an action could not move (no host with room, the target down or without the disk they need).
   */
  migrations?: Migration[];
  unmigrated?: Metric;
  /**
   * Static figures, from the model and the placement rules (the same in every replication, so they have no `ci95`),
   * per service key: distinct images to maintain (a host OS image per host type, and the images of the services'
   * layers); the most replicas one host of each type holds (null: nothing placement checks bounds it); seconds to a
   * ready replica on a host that never ran the service; bytes of one replica's images and the seconds to copy them
   * over the host's NIC and start it there (null when a replica fits no host type, or its images cannot be copied:
   * the host has no NIC).
   */
  images: number;
  density: Record<string, Record<string, number | null>>;
  coldStart: Record<string, number | null>;
  portability: Record<string, { bytes: number; seconds: number | null }>;
  /** The metrics plugins declare, per layer of the stack (and the host's): `layers.<layer>.<metric>`. */
  layers: Record<string, Record<string, MetricFigure>>;
  /**
   * Per window of the measured time: its start, throughput, mean and p99 latency (every service's), CPU utilisation;
   * with pod traces, the mean pods pending (`pendingPods`, every pod tenant's).
   */
  series: { window: number; t: number[]; throughput: Metric[]; latencyMean: Metric[]; latencyP99: Metric[]; cpuUtilization: Metric[]; pendingPods?: Metric[] };
  /** Per trace tenant, what its replay measured, by its trace's kind (`utilisation`, `jobs`, `pods`); only in scenarios with trace tenants. */
  traces?: Record<string, UtilisationFigures | JobPodFigures>;
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
    /** The plugin metrics under `layers`, by `<layer>.<metric>`: kind, unit, whether tables show it. */
    metrics: Record<string, Pick<MetricInfo, "kind" | "unit" | "show" | "description">>;
    /** The kill reasons plugins declare (`PluginDefinition.kills`): each one's label in tables, and its own per-service key if any (absent from results made before it). */
    kills?: Record<string, KillReason>;
  };
  stacks: Record<string, StackResults>;
  /** Replicas that could not be placed (in the first replication; placement does not depend on the seed). */
  unplaced: { tenant: string; service: string; replicas: number; reason: string; /** In a comparison of stacks. */ stack?: string }[];
  /** The stacks compared figure by figure, with paired differences from a baseline (`turtles compare` only). */
  comparison?: Comparison;
}

/** The figures `assembleResults` adds once, from the scenario and the plugins: a replication does not measure them. */
const STATIC_FIGURE_NAMES = ["images", "density", "coldStart", "portability"] as const;
export type StaticStackFigure = (typeof STATIC_FIGURE_NAMES)[number];
/** The names of the static figures, as a set (a comparison's difference of one is exact). */
export const STATIC_FIGURES: ReadonlySet<string> = new Set(STATIC_FIGURE_NAMES);

/** What one replication measures of a stack. */
export type ReplicationStack = Omit<StackResults, StaticStackFigure>;

/** What one replication produces: its metrics, and the replicas placement could not fit. */
export interface ReplicationResult {
  replication: number;
  /** Its seed (from the scenario's seed and `replication`): a saved run's results are checked against it. */
  seed: number;
  stack: ReplicationStack;
  unplaced: Results["unplaced"];
  /** The plugin metrics of its `layers` (the same in every replication). */
  metrics?: Results["manifest"]["metrics"];
}

/** `sha256:<hex>` of the scenario's JSON (loaded scenarios are normalised, so the same file gives the same hash). */
export function scenarioHash(s: Scenario): string {
  return `sha256:${sha256Hex(JSON.stringify(hashedForm(s)))}`;
}

/** The scenario with each trace's paths as its file wrote them (resolved paths differ between machines) and what its files hold. */
function hashedForm(s: Scenario): Scenario {
  if (!s.tenants.some((t) => t.trace?.written)) return s;
  return {
    ...s,
    tenants: s.tenants.map((t) => {
      const w = t.trace?.written;
      // `written: undefined` leaves the key out of the JSON; `path` and `nodes` keep their places in it.
      return w ? { ...t, trace: { ...t.trace!, path: w.path, ...(w.nodes !== undefined ? { nodes: w.nodes } : {}), written: undefined, ...(w.content !== undefined ? { content: w.content } : {}) } } : t;
    }),
  };
}

/** Replication seeds depend only on the scenario seed and the replication index, never on the stack. */
export function replicationSeeds(seed: number, replications: number): number[] {
  return Array.from({ length: replications }, (_, r) => Random.fromKey(seed, "replication", r).nextU32());
}

const finite = (x: number): Metric => (Number.isFinite(x) ? x : null);

/** The layers whose metrics a scenario's results report: the host's and those of the stacks its services use. */
function layersOf(s: Scenario): Set<string> {
  const layers = new Set(["host"]);
  for (const t of s.tenants) for (const svc of t.services) for (const e of stackLayers(s, svc)) layers.add(e.layer);
  return layers;
}

/** The metrics a replication's `layers` hold, for the manifest. */
export function metricsOf(s: Scenario, model: Model): Results["manifest"]["metrics"] {
  const layers = layersOf(s);
  return Object.fromEntries(
    model.driver.metrics.info.filter((m) => layers.has(m.layer) && !m.lifecycle).map((m) => [`${m.layer}.${m.name}`, { kind: m.kind, unit: m.unit, show: m.show, description: m.description }]),
  );
}

/** One replication's figures, in the shape of the results. */
export function measure(s: Scenario, model: Model, rep: MeasuredReplication): ReplicationStack {
  // Plugins record their per-node figures as the measurement ends, before any figure is read.
  model.driver.measured(1);
  const d = s.duration;
  const at = rep.measurement;
  const life = rep.lifecycle;
  const services: Record<string, ServiceResults> = {};
  const inFlight = rep.inFlightMeasured();
  // The kill counts plugins publish under keys of their own, beside `kills` (the container plugin's `oomKills`).
  const fields = Object.entries(model.driver.kills).flatMap(([reason, d]) => (d.field === undefined ? [] : [[reason, d.field] as const]));
  for (const [k, { measure: m, tenantIndex }] of rep.services.entries()) {
    // A trace tenant's VMs are figures of its own (`traces`), not a service each.
    if (s.tenants[tenantIndex].trace) continue;
    const h = m.histogram;
    const failedBy: Record<string, Metric> = {};
    m.failedBy.forEach((n, r) => {
      if (n > 0) failedBy[rep.reasons[r]] = n;
    });
    const kills: Record<string, Metric> = {};
    life.kills[k].forEach((n, r) => {
      if (n > 0) kills[rep.reasons[r]] = n;
    });
    services[m.key] = {
      stack: m.stack,
      arrived: m.arrived,
      completed: m.completed,
      failed: m.failed,
      failedBy,
      dropped: m.dropped,
      throughput: m.completed / d,
      latency: {
        mean: m.completed > 0 ? m.latencySum / m.completed : null,
        p50: finite(h.quantile(0.5)),
        p90: finite(h.quantile(0.9)),
        p99: finite(h.quantile(0.99)),
        p999: finite(h.quantile(0.999)),
        cdf: Object.fromEntries(LATENCY_CDF.map((q) => [String(q), finite(h.quantile(q))])),
      },
      sloViolations: m.sloThreshold === Infinity ? null : m.completed > 0 ? m.sloViolations / m.completed : 0,
      ingressBytes: m.ingressBytes,
      egressBytes: m.egressBytes,
      ioWait: m.completed > 0 ? m.ioWait / m.completed : null,
      callTime: m.completed > 0 ? m.callTime / m.completed : null,
      inFlight: inFlight[k],
      restarts: life.restarts[k],
      kills,
      ...Object.fromEntries(fields.map(([reason, field]) => [field, own(kills, reason) ?? 0])),
      retries: m.retries,
      timeouts: m.timeouts,
      wasted: m.wasted,
    };
  }
  const used = new Set<number>();
  for (const h of rep.hostsUsed) used.add(h);
  // Host figures, per host type and in all; disks and memory over the used hosts.
  const typeOf: string[] = s.hosts.flatMap((g) => Array.from({ length: g.count }, () => g.type));
  const zero = (): typeof all => ({ hosts: 0, used: 0, cores: 0, busy: 0, mem: 0, reserved: 0, peak: 0, pressure: 0, steal: 0, swap: 0, disks: 0, diskBusy: 0, ios: 0, read: 0, written: 0, nics: 0, tx: 0, rx: 0, sent: 0, received: 0 });
  const all = { hosts: 0, used: 0, cores: 0, busy: 0, mem: 0, reserved: 0, peak: 0, pressure: 0, steal: 0, swap: 0, disks: 0, diskBusy: 0, ios: 0, read: 0, written: 0, nics: 0, tx: 0, rx: 0, sent: 0, received: 0 };
  const sums = new Map<string, typeof all>();
  let joules: number | null = null;
  let cost: number | null = null;
  const pressure: StackResults["pressure"] = [];
  model.hosts.forEach((h, i) => {
    const rules = model.hostRules[i];
    const b = model.cpu.busyCoreSeconds(h) - at.busyAtStart[i];
    let t = sums.get(typeOf[i]);
    if (!t) sums.set(typeOf[i], (t = zero()));
    for (const x of [t, all]) {
      x.hosts++;
      if (!used.has(h)) continue;
      x.used++;
      x.cores += rules.cores;
      x.busy += b;
      x.mem += model.nodes.usedMemory[h];
      x.reserved += model.nodes.reservedMemory[h];
      x.peak += model.memory.peak[i];
      const p = model.memory.pressureSeconds(h) - at.pressureAtStart[i];
      x.pressure += p;
      x.swap += Math.max(0, model.memory.peak[i] - model.nodes.capacityMemory[h]);
      if (p > 0 && x === all) pressure.push({ host: i, type: typeOf[i], seconds: p });
      x.steal += model.cpu.hostSteal(h) - at.hostStealAtStart[i];
      if (model.disk.has(h)) {
        const d0 = at.diskAtStart[i];
        const d1 = model.disk.stats(h);
        x.disks++;
        x.diskBusy += d1.busyTime - d0.busyTime;
        x.ios += d1.completed - d0.completed;
        x.read += d1.bytesRead - d0.bytesRead;
        x.written += d1.bytesWritten - d0.bytesWritten;
      }
      if (model.net.hasNic(h)) {
        const n0 = at.nicAtStart[i];
        const n1 = model.net.stats(h);
        x.nics++;
        x.tx += n1.txBusy - n0.txBusy;
        x.rx += n1.rxBusy - n0.rxBusy;
        x.sent += n1.bytesSent - n0.bytesSent;
        x.received += n1.bytesReceived - n0.bytesReceived;
      }
    }
    // Energy by the host plugin's power curve (a powered-on host draws its idle power when unused). Hosts without a
    // power or cost figure add nothing; with none at all the metric is null, not zero.
    if (rules.energy) joules = (joules ?? 0) + rules.energy(b, d);
    if (rules.costPerHour !== undefined) cost = (cost ?? 0) + (rules.costPerHour * d) / 3600;
  });
  const figures = (x: typeof all): HostFigures => ({
    hosts: x.hosts,
    used: x.used,
    cpuUtilization: x.cores > 0 ? x.busy / (x.cores * d) : null,
    memoryUsed: x.mem,
    memoryReserved: x.reserved,
    memoryPeak: x.peak,
    pressureTime: x.pressure,
    swapPeak: x.swap,
    steal: x.steal,
    diskUtilization: x.disks > 0 ? x.diskBusy / (x.disks * d) : null,
    diskIops: x.disks > 0 ? x.ios / d : null,
    diskBytesRead: x.disks > 0 ? x.read : null,
    diskBytesWritten: x.disks > 0 ? x.written : null,
    nicTxUtilization: x.nics > 0 ? x.tx / (x.nics * d) : null,
    nicRxUtilization: x.nics > 0 ? x.rx / (x.nics * d) : null,
    nicBytesSent: x.nics > 0 ? x.sent : null,
    nicBytesReceived: x.nics > 0 ? x.received : null,
  });
  const layers = layersOf(s);
  const hostTypes: StackResults["hostTypes"] = Object.fromEntries(
    [...sums].map(([name, x]) => {
      const perHost = model.driver.metrics.hostFigures(
        model.hosts.filter((_, i) => typeOf[i] === name),
        layers,
      );
      return [name, Object.keys(perHost).length > 0 ? { ...figures(x), layers: perHost } : figures(x)];
    }),
  );
  const usedCores = all.cores;
  let overhead = 0;
  for (let n = 0; n < model.nodes.count; n++) if (!model.nodes.removed[n]) overhead += model.memory.overhead[n];
  // Lifecycle times are few: exact order statistics (the p99 of two is the larger).
  const percentiles = (xs: number[]): { p50: Metric; p99: Metric } | null => {
    if (xs.length === 0) return null;
    const sorted = [...xs].sort((a, b) => a - b);
    return { p50: nearestRank(sorted, 0.5), p99: nearestRank(sorted, 0.99) };
  };
  const w = at.windowLength;
  const series: StackResults["series"] = { window: w, t: [], throughput: [], latencyMean: [], latencyP99: [], cpuUtilization: [] };
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
    series.latencyP99.push(done > 0 ? at.windowLatency[k].quantile(0.99) : null);
    series.cpuUtilization.push(usedCores > 0 ? (at.windowBusy[k + 1] - at.windowBusy[k]) / (usedCores * w) : null);
  }
  const f = figures(all);
  const replayed = rep.jobPods?.any ? rep.jobPods.figures() : undefined;
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
      steal: model.cpu.totalSteal() - at.stealAtStart,
      throttledTime: at.throttledTime() - at.throttledAtStart,
      memoryUsed: f.memoryUsed,
      memoryReserved: f.memoryReserved,
      memoryOverhead: overhead,
      memoryPeak: f.memoryPeak,
      pressureTime: f.pressureTime,
      swapPeak: f.swapPeak,
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
    lifecycle: {
      ready: percentiles(life.readyTimes),
      recovery: life.recoveries.count === 0 ? null : { p50: life.recoveries.quantile(0.5), p99: life.recoveries.quantile(0.99) },
      // Plugins' lifecycle figures (an image pull), where they have samples.
      ...Object.fromEntries(model.driver.metrics.lifecycleSamples(layers).map(([name, sorted]) => [name, { p50: nearestRank(sorted, 0.5), p99: nearestRank(sorted, 0.99) }])),
    },
    capacityLost: life.capacityLost,
    failures: life.failures,
    failuresOmitted: life.failuresOmitted,
    energy: { joules },
    cost: { total: cost },
    kernels: model.kernels(),
    rollout: life.rollout?.figures() ?? null,
    ...(s.actions ? { migrations: model.migrations, unmigrated: model.unmigrated } : {}),
    layers: model.driver.metrics.figures(model.sim.now, d, layers),
    series: replayed?.pendingPods ? { ...series, pendingPods: replayed.pendingPods } : series,
    ...(rep.traces || replayed ? { traces: { ...rep.traces?.figures(), ...replayed?.traces } } : {}),
    ci95: null,
  };
}

/**
 * The results of a scenario from its replications' results, in replication
 * order: each metric the mean over replications, with 95% half-widths.
 */
export function assembleResults(s: Scenario, plugins: readonly PluginDefinition[], results: readonly ReplicationResult[]): Results {
  const ordered = [...results].sort((a, b) => a.replication - b.replication);
  const perReplication = ordered.map((x) => x.stack);
  // Failure and kill reasons differ between replications: each replication reports every reason any of them saw (0 if
  // none). A replication without the record at all (or with a reason's count missing) keeps that gap: the merged
  // figure is null.
  const services = perReplication.map((rep) => (isRecord(rep.services) ? rep.services : {}));
  for (const figure of ["failedBy", "kills"]) {
    const byReason = (x: Dict, key: string): Dict | undefined => {
      const svc = own(x, key);
      const by = isRecord(svc) ? own(svc, figure) : undefined;
      return isRecord(by) ? by : undefined;
    };
    for (const key of new Set(services.flatMap((x) => Object.keys(x)))) {
      const reasons = [...new Set(services.flatMap((x) => Object.keys(byReason(x, key) ?? {})))].sort();
      for (const x of services) {
        const by = byReason(x, key);
        if (by) (x[key] as unknown as Dict)[figure] = Object.fromEntries(reasons.map((r) => [r, Object.hasOwn(by, r) ? by[r] : 0]));
      }
    }
  }
  const traces = isRecord(perReplication[0]?.traces) ? perReplication[0].traces : {};
  const stackNames = [...new Set([...Object.values(services[0] ?? {}), ...Object.values(traces)].flatMap((x) => (isRecord(x) && typeof x.stack === "string" ? [x.stack] : [])))];
  const key = stackNames.length === 1 ? stackNames[0] : "scenario";
  const mean = meanOf(perReplication) as StackResults;
  // Hosts under pressure: the union over replications, seconds averaged (0 where a replication had none; null
  // where one that had it lacks the figure).
  const seconds = new Map<number, { host: number; type: string; seconds: Metric }>();
  for (const rep of perReplication) {
    for (const p of Array.isArray(rep.pressure) ? rep.pressure : []) {
      if (!isRecord(p) || typeof p.host !== "number") continue;
      const e = seconds.get(p.host) ?? { host: p.host, type: p.type, seconds: 0 };
      e.seconds = e.seconds === null || missing(p.seconds) ? null : e.seconds + (p.seconds as number) / perReplication.length;
      seconds.set(p.host, e);
    }
  }
  mean.pressure = [...seconds.values()].sort((a, b) => a.host - b.host).map((e) => finiteOrNull(e) as (typeof mean.pressure)[number]);
  // Failures differ between replications: the timeline is the first replication's.
  mean.failures = Array.isArray(perReplication[0]?.failures) ? (finiteOrNull(perReplication[0].failures) as typeof mean.failures) : [];
  // Migrations differ between replications (their times do): the list is the first replication's.
  if (Array.isArray(perReplication[0]?.migrations)) mean.migrations = finiteOrNull(perReplication[0].migrations) as typeof mean.migrations;
  const omitted = perReplication[0]?.failuresOmitted;
  mean.failuresOmitted = typeof omitted === "number" && Number.isFinite(omitted) ? omitted : 0;
  mean.ci95 = s.replications < 2 ? null : halfWidthOf(perReplication);
  // The static figures go beside `kernels`, the other maintenance figure (at the end if no replication had it).
  const figures = Object.entries(staticFigures(s, plugins));
  const entries = Object.entries(mean).flatMap(([k, v]) => (k === "kernels" ? [[k, v], ...figures] : [[k, v]]));
  const stack = Object.fromEntries(Object.hasOwn(mean, "kernels") ? entries : [...entries, ...figures]) as StackResults;
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
      metrics: ordered[0]?.metrics ?? {},
      kills: killReasons(plugins),
    },
    stacks: { [key]: stack },
    // Placement does not depend on the seed: the first replication's.
    unplaced: ordered[0]?.unplaced ?? [],
  };
}

/** Results as the merge sees them: of any shape, since any figure may be missing. */
type Dict = Record<string, unknown>;

function isRecord(v: unknown): v is Dict {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A figure that a replication does not have: null, absent, or not a finite number. */
function missing(v: unknown): boolean {
  return v === null || v === undefined || (typeof v === "number" && !Number.isFinite(v));
}

/** A copy of `v` with every figure that is missing (not a finite number, or absent from a list) as null. */
function finiteOrNull(v: unknown): unknown {
  if (missing(v)) return null;
  if (Array.isArray(v)) return Array.from(v, finiteOrNull);
  if (isRecord(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, finiteOrNull(x)]));
  return v;
}

/** Every key any of the objects has: the first's in its order, then the others' as they appear. */
function keysOf(values: readonly Dict[]): string[] {
  return [...new Set(values.flatMap((v) => Object.keys(v)))];
}

/**
 * Element-wise mean of same-shaped values, for any mix of present and absent figures: a figure (a number, or an
 * object or list of them) that is null, absent or not finite in some replication is null, as the mean of the others
 * would be another quantity; lists of different lengths are null; strings pass (the first's).
 */
function meanOf(values: readonly unknown[]): unknown {
  if (values.length === 0 || values.some(missing)) return null;
  const first = values[0];
  if (typeof first === "number") return values.every((v) => typeof v === "number") ? meanOfNumbers(values as number[]) : null;
  if (Array.isArray(first)) {
    // Lists whose length differs between replications (hosts under pressure) are merged by their caller.
    if (!values.every((v) => Array.isArray(v) && v.length === first.length)) return null;
    return first.map((_, i) => meanOf(values.map((v) => (v as unknown[])[i])));
  }
  if (isRecord(first)) {
    if (!values.every(isRecord)) return null;
    return Object.fromEntries(keysOf(values as Dict[]).map((k) => [k, meanOf(values.map((v) => own(v as Dict, k)))]));
  }
  return first;
}

/** The mean of finite numbers, finite even where their sum is not (null only if no double holds it). */
function meanOfNumbers(xs: readonly number[]): Metric {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  if (Number.isFinite(mean)) return mean;
  // perf: the sum overflowed (figures near 1e308): the slower sum of shares, only then, so other results keep their bits.
  const shares = xs.reduce((a, b) => a + b / xs.length, 0);
  return Number.isFinite(shares) ? shares : null;
}

/** Student-t 95% half-widths of same-shaped values (strings dropped), null where a figure is missing in any replication. */
function halfWidthOf(values: readonly unknown[]): unknown {
  if (values.length === 0 || values.some(missing)) return null;
  const first = values[0];
  if (typeof first === "number") return values.every((v) => typeof v === "number") ? halfWidthOfNumbers(values as number[]) : null;
  if (Array.isArray(first)) {
    if (!values.every((v) => Array.isArray(v) && v.length === first.length)) return null;
    return first.map((_, i) => halfWidthOf(values.map((v) => (v as unknown[])[i])));
  }
  if (isRecord(first)) {
    if (!values.every(isRecord)) return null;
    const out: Record<string, unknown> = {};
    for (const k of keysOf(values as Dict[])) {
      if (k === "ci95" || k === "pressure" || k === "failures" || k === "failuresOmitted" || k === "migrations" || values.some((v) => typeof own(v as Dict, k) === "string")) continue;
      out[k] = halfWidthOf(values.map((v) => own(v as Dict, k)));
    }
    return out;
  }
  return null;
}

/** The half-width of finite numbers (at least two), or null when it is not a finite double. */
function halfWidthOfNumbers(xs: readonly number[]): Metric {
  const half = (ys: readonly number[]): number => {
    const n = ys.length;
    const mean = ys.reduce((a, b) => a + b, 0) / n;
    const variance = ys.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
    return studentTQuantile(0.975, n - 1) * Math.sqrt(variance / n);
  };
  const h = half(xs);
  if (Number.isFinite(h) || xs.length < 2) return finite(h);
  // The squares overflowed (figures near 1e308): the same on values scaled to at most 1, then scaled back.
  const scale = xs.reduce((a, b) => Math.max(a, Math.abs(b)), 0);
  return finite(half(xs.map((x) => x / scale)) * scale);
}
