/**
 * Metrics that plugins declare (`api.metric`), kept per node and in total, and
 * reported per stack under `layers.<layer>.<metric>` for the measured time.
 *
 * Statistics update on state change, never on a timer: a counter adds to its
 * total; a gauge or time-weighted level keeps each node's value in a column
 * and the sum over nodes, a time-weighted one also the integral of that sum
 * since its last change; a histogram records samples once the warm-up is
 * over. All of it is numbers and typed arrays, so a saved run continues it.
 */
import type { MetricKind, MetricSpec } from "./define.js";
import { Quantiles } from "../stats/quantiles.js";
import { own } from "../util/own.js";
import { grown } from "../util/typed.js";

/** One declared metric. */
export interface MetricInfo {
  plugin: string;
  layer: string;
  name: string;
  kind: MetricKind;
  unit: string;
  per: "node" | "host";
  show: boolean;
  description: string;
  /** Reported as the stack's `lifecycle.<name>` rather than under `layers` (`MetricSpec.lifecycle`). */
  lifecycle: boolean;
  /** A counter counting from the run's start, not the measurement's (`MetricSpec.since`). */
  wholeRun: boolean;
}

/** A metric's figure for one replication: a number, or a histogram's summary. */
export type MetricFigure = number | null | { count: number; mean: number | null; p50: number | null; p99: number | null };

const KIND: Record<MetricKind, number> = { counter: 0, gauge: 1, timeWeighted: 2, histogram: 3 };

export class MetricStore {
  readonly info: MetricInfo[] = [];
  private kind: number[] = [];
  /** Per metric: its total (counter) or its sum over nodes (levels); the integral of that sum to `last`. */
  private total: number[] = [];
  private integral: number[] = [];
  private last: number[] = [];
  /** At the start of the measurement: each total, and each integral. */
  private totalAtStart: number[] = [];
  private integralAtStart: number[] = [];
  private readonly histograms: (Quantiles | null)[] = [];
  /** Per metric, the samples of a lifecycle histogram (every one: lifecycle figures are exact order statistics), else null. */
  private readonly samples: (number[] | null)[] = [];
  /** Per metric, each node's level (levels only; columns grown with the nodes). */
  private readonly levels: Float64Array[] = [];
  /** Per metric, each host's total (counters kept per host only, for figures per host type), and at the measurement's start. */
  private readonly byHost: Float64Array[] = [];
  private byHostAtStart: Float64Array[] = [];
  private capacity = 64;
  /** True once the warm-up is over (histograms record from then). */
  measuring = false;

  /** Declares a metric; returns its index. */
  declare(plugin: string, layer: string, name: string, spec: MetricSpec): number {
    if (!/^[a-z][A-Za-z0-9-]*$/.test(name)) throw new Error(`metric name "${name}" must start with a lower-case letter and hold only letters, digits and '-'`);
    if (this.info.some((m) => m.layer === layer && m.name === name)) throw new Error(`metric "${name}" of layer ${layer} is already declared`);
    if (own(KIND, spec.kind) === undefined) throw new Error(`metric ${name}: kind must be one of ${Object.keys(KIND).join(", ")}, got ${JSON.stringify(spec.kind)}`);
    const lifecycle = spec.lifecycle === true;
    if (lifecycle) {
      if (spec.kind !== "histogram") throw new Error(`metric ${name}: a lifecycle figure is a histogram (seconds per start), not a ${spec.kind}`);
      // lifecycle.<name> is one key per stack, beside the engine's own figures.
      if (name === "ready" || name === "recovery") throw new Error(`metric ${name}: lifecycle.${name} is the engine's own figure; give another name`);
      const twin = this.info.find((m) => m.lifecycle && m.name === name);
      if (twin) throw new Error(`metric ${name}: lifecycle.${name} is already reported by layer ${twin.layer}`);
    }
    if (spec.since !== undefined && spec.since !== "measurement" && spec.since !== "run") throw new Error(`metric ${name}: since must be "measurement" or "run", got ${JSON.stringify(spec.since)}`);
    if (spec.since === "run" && spec.kind !== "counter") throw new Error(`metric ${name}: since: "run" is for counters (a level is read at the end; a histogram's samples are measured, or lifecycle)`);
    const m = this.info.length;
    this.info.push({ plugin, layer, name, kind: spec.kind, unit: spec.unit ?? "", per: spec.per ?? "node", show: spec.show ?? false, description: spec.description ?? "", lifecycle, wholeRun: spec.since === "run" });
    this.samples.push(lifecycle ? [] : null);
    this.kind.push(KIND[spec.kind]);
    this.total.push(0);
    this.integral.push(0);
    this.last.push(0);
    this.totalAtStart.push(0);
    this.integralAtStart.push(0);
    this.histograms.push(spec.kind === "histogram" ? new Quantiles() : null);
    this.levels.push(new Float64Array(spec.kind === "gauge" || spec.kind === "timeWeighted" ? this.capacity : 0));
    this.byHost.push(new Float64Array(spec.kind === "counter" && spec.per === "host" ? this.capacity : 0));
    this.byHostAtStart.push(new Float64Array(0));
    return m;
  }

  /** Grows the level columns to `capacity` nodes. */
  grow(capacity: number): void {
    this.capacity = capacity;
    this.levels.forEach((col, m) => {
      if (col.length > 0) this.levels[m] = grown(col, capacity);
    });
    this.byHost.forEach((col, m) => {
      if (col.length > 0) this.byHost[m] = grown(col, capacity);
    });
  }

  /** A counter: adds `x` (for `node`, kept by node when the counter is kept per host). */
  add(m: number, x: number, node: number): void {
    this.total[m] += x;
    if (node < this.byHost[m].length) this.byHost[m][node] += x;
  }

  /** A level: node's value is `x` from `now`. */
  set(m: number, node: number, x: number, now: number): void {
    if (this.kind[m] === KIND.timeWeighted) this.advance(m, now);
    const col = this.levels[m];
    this.total[m] += x - col[node];
    col[node] = x;
  }

  /** A histogram: records `x` (once measuring). */
  record(m: number, x: number): void {
    const samples = this.samples[m];
    if (samples) samples.push(x);
    else if (this.measuring) this.histograms[m]!.record(x);
  }

  /**
   * The lifecycle histograms of `layers` that have samples, by name: each one's samples, sorted (a new array).
   * O(samples log samples).
   */
  lifecycleSamples(layers: ReadonlySet<string>): [name: string, sorted: number[]][] {
    const out: [string, number[]][] = [];
    this.info.forEach((info, m) => {
      const samples = this.samples[m];
      if (samples && samples.length > 0 && layers.has(info.layer)) out.push([info.name, [...samples].sort((a, b) => a - b)]);
    });
    return out;
  }

  /** A node is gone: its levels drop to zero. */
  removed(node: number, now: number): void {
    for (let m = 0; m < this.info.length; m++) if (this.levels[m].length > node && this.levels[m][node] !== 0) this.set(m, node, 0, now);
  }

  /** The measurement starts now. */
  start(now: number): void {
    this.measuring = true;
    for (let m = 0; m < this.info.length; m++) {
      this.advance(m, now);
      this.totalAtStart[m] = this.total[m];
      this.integralAtStart[m] = this.integral[m];
    }
    this.byHostAtStart = this.byHost.map((col) => col.slice());
  }

  /**
   * The figures of the counters and gauges kept per host (`per: "host"`) over the measured time, summed over `hosts`
   * (the hosts of one type), by layer then name; the layers with none are left out. O(metrics x hosts).
   */
  hostFigures(hosts: readonly number[], layers: ReadonlySet<string>): Record<string, Record<string, number>> {
    const out = new Map<string, Record<string, number>>();
    this.info.forEach((info, m) => {
      if (info.per !== "host" || !layers.has(info.layer) || (this.kind[m] !== KIND.counter && this.kind[m] !== KIND.gauge)) return;
      let figure = 0;
      for (const h of hosts) figure += this.kind[m] === KIND.counter ? this.byHost[m][h] - (info.wholeRun ? 0 : (this.byHostAtStart[m][h] ?? 0)) : this.levels[m][h];
      let layer = out.get(info.layer);
      if (!layer) out.set(info.layer, (layer = {}));
      layer[info.name] = figure;
    });
    return Object.fromEntries(out);
  }

  /** Each metric's figure over the measured `duration` ending now, by `layer` then name. */
  figures(now: number, duration: number, layers: ReadonlySet<string>): Record<string, Record<string, MetricFigure>> {
    // By layer in a Map: a layer named like an Object member ("constructor") must not find the prototype's.
    const out = new Map<string, Record<string, MetricFigure>>();
    this.info.forEach((info, m) => {
      if (!layers.has(info.layer) || info.lifecycle) return;
      let figure: MetricFigure;
      if (this.kind[m] === KIND.counter) figure = this.total[m] - (info.wholeRun ? 0 : this.totalAtStart[m]);
      else if (this.kind[m] === KIND.gauge) figure = this.total[m];
      else if (this.kind[m] === KIND.timeWeighted) {
        this.advance(m, now);
        figure = duration > 0 ? (this.integral[m] - this.integralAtStart[m]) / duration : null;
      } else {
        const h = this.histograms[m]!;
        const q = (p: number): number | null => (h.count > 0 ? h.quantile(p) : null);
        figure = { count: h.count, mean: h.count > 0 ? h.mean : null, p50: q(0.5), p99: q(0.99) };
      }
      let layer = out.get(info.layer);
      if (!layer) out.set(info.layer, (layer = {}));
      layer[info.name] = figure;
    });
    return Object.fromEntries(out);
  }

  private advance(m: number, now: number): void {
    this.integral[m] += this.total[m] * (now - this.last[m]);
    this.last[m] = now;
  }
}
