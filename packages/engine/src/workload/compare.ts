/**
 * Comparing stacks: the same scenario, load and seeds with every service on
 * one stack, then the next ("bare metal, VMs, containers, or Kubernetes on
 * VMs?"). Replication seeds depend only on the seed and the replication, so
 * each stack sees the same random arrivals and work (common random numbers):
 * differences come from the stacks, not from the noise.
 *
 * The results are one `turtles-results/1` document whose `stacks` holds each
 * stack's figures under its name (DESIGN.md, Results).
 */
import { didYouMean } from "../scenario/fields.js";
import { BAREMETAL_STACK } from "../scenario/load.js";
import type { Scenario } from "../scenario/schema.js";
import { confidenceInterval } from "../stats/confidence.js";
import { RunningStats } from "../stats/summary.js";
import { own } from "../util/own.js";
import { STATIC_FIGURES, type ReplicationStack, type StackResults } from "./measure.js";
import { scenarioHash, type Results } from "./run.js";
import { toCsv } from "./sweep.js";

/** The stacks a scenario can put its services on: bare metal, then those of its `stacks`, in file order. */
export function stacksOf(s: Scenario): string[] {
  return [...new Set([BAREMETAL_STACK, ...Object.keys(s.stacks)])];
}

/** The scenario with every service on `stack`. Throws a RangeError naming the stacks there are. */
export function onStack(s: Scenario, stack: string): Scenario {
  const known = stacksOf(s);
  if (!known.includes(stack)) {
    throw new RangeError(`unknown stack "${stack}"${didYouMean(stack, known)}; the scenario has: ${known.join(", ")}`);
  }
  return {
    ...s,
    defaults: { ...s.defaults, stack },
    // A job log's jobs run on the hosts themselves (workload/jobs.ts): its tenant keeps its own stack.
    tenants: s.tenants.map((t) => ({ ...t, services: t.services.map((svc) => ({ ...svc, stack })), ...(t.trace && t.trace.format !== "swf" ? { trace: { ...t.trace, stack } } : {}) })),
  };
}

/**
 * One results document from the runs of `base` on each stack (each run's
 * results from `onStack(base, stack)`): the base scenario's manifest (with the plugin metrics of every run), each
 * stack's figures under its name, the replicas each could not place, marked
 * with their stack, and the `comparison` of the stacks against `baseline`
 * (default: the first), its differences paired over each run's
 * `replications` (its per-replication stack results, as the pool's job
 * outcome gives them). Throws a RangeError for no runs or an unknown baseline.
 */
export function comparisonResults(
  base: Scenario,
  runs: readonly { stack: string; results: Results; replications?: readonly ReplicationStack[] }[],
  options: { baseline?: string } = {},
): Results {
  if (runs.length === 0) throw new RangeError("comparisonResults: no runs to compare");
  const first = runs[0].results;
  const results: Results = {
    format: "turtles-results/1",
    // Every stack's plugin metrics: a layer only some stacks have (a VM's steal) still gets its rows.
    manifest: { ...first.manifest, scenarioHash: scenarioHash(base), metrics: Object.assign({}, ...runs.map(({ results }) => results.manifest.metrics)) },
    stacks: Object.fromEntries(runs.map(({ stack, results }) => [stack, Object.values(results.stacks)[0]])),
    unplaced: runs.flatMap(({ stack, results }) => results.unplaced.map((u) => ({ stack, ...u }))),
  };
  const replications = Object.fromEntries(runs.flatMap(({ stack, replications }) => (replications ? [[stack, replications]] : [])));
  results.comparison = compareStacks(results, { baseline: options.baseline, replications });
  return results;
}

/** The five questions a comparison answers, in the order its tables show them. */
export type Question = "performance" | "resources" | "recreate" | "maintenance" | "portability";

/** The questions in table order, with their headings. */
export const QUESTIONS: readonly { question: Question; heading: string }[] = [
  { question: "performance", heading: "Performance" },
  { question: "resources", heading: "Resource consumption" },
  { question: "recreate", heading: "Time to recreate" },
  { question: "maintenance", heading: "Maintenance" },
  { question: "portability", heading: "Portability" },
];

/** A paired difference of a stack from the baseline over replications: its mean, 95% half-width (null below two replications) and whether the interval excludes zero. */
export interface PairedDifference {
  mean: number;
  ci95: number | null;
  excludesZero: boolean;
}

/** One row of a comparison: a figure of every stack, with its half-width and its paired difference from the baseline. */
export interface ComparedFigure {
  question: Question;
  /** Stable: the figure's path in a stack's results, joined by dots ("services.t/web.latency.p99", "density.t/web.small"). */
  id: string;
  /** For tables: "t/web p99". */
  label: string;
  /** The service key, when the figure is per service. */
  service?: string;
  unit: "s" | "B" | "1/s" | "ratio" | "count" | "core-s" | "J" | "cost" | "";
  /** A plugin metric's own unit when it is none of `unit`'s (then `unit` is ""). */
  unitName?: string;
  better: "lower" | "higher" | null;
  /** Per stack: the figure (the results' mean), its 95% half-width, and its difference from the baseline (null for the baseline itself). */
  stacks: Record<string, { value: number | null; ci95: number | null; difference: PairedDifference | null }>;
}

/** The comparison of stacks in a results document: the baseline, the stacks in column order, and the rows by question. */
export interface Comparison {
  baseline: string;
  stacks: string[];
  figures: ComparedFigure[];
}

/**
 * The mean of `xs[r] - ys[r]` over replications r with a paired 95% Student-t
 * interval (the pairs share their seeds, so their noise cancels). Identical
 * samples give exactly { mean: 0, ci95: 0 }. Throws a RangeError for lists of
 * different lengths or none.
 */
export function pairedDifference(xs: readonly number[], ys: readonly number[]): PairedDifference {
  if (xs.length !== ys.length || xs.length === 0) throw new RangeError(`pairedDifference: needs pairs, got ${xs.length} and ${ys.length} values`);
  const d = new RunningStats();
  xs.forEach((x, r) => d.push(x - ys[r]));
  const { mean, halfWidth } = confidenceInterval(d, 0.95);
  const ci95 = Number.isFinite(halfWidth) ? halfWidth : null;
  return { mean, ci95, excludesZero: ci95 !== null && (mean - ci95 > 0 || mean + ci95 < 0) };
}

/**
 * What a row is, before the stacks' values: where it is in a stack's results, and how to show it. `byReason`: a count
 * in a record by reason (`kills`), which holds only the reasons that happened, so a reason absent from it is 0.
 */
type Row = Omit<ComparedFigure, "id" | "stacks"> & { path: string[]; byReason?: boolean };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** What is at `path` in a results tree, by own keys only (a service may be called "constructor"). */
function node(tree: unknown, path: readonly string[]): unknown {
  let v = tree;
  for (const k of path) v = isRecord(v) ? own(v, k) : undefined;
  return v;
}

/** The value at `path` in a results tree, when it is a finite number. */
function at(tree: unknown, path: readonly string[]): number | null {
  const v = node(tree, path);
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/** The value at `path`, or for a count by reason (`byReason`) 0 where the record is there without the reason. */
function valueAt(tree: unknown, path: readonly string[], byReason = false): number | null {
  const v = at(tree, path);
  return v === null && byReason && isRecord(node(tree, path.slice(0, -1))) ? 0 : v;
}

/** The keys of the records at `path` in any of `trees`, the first's in its order, then the others'. */
function keysAt(trees: readonly unknown[], path: readonly string[]): string[] {
  const keys = new Set<string>();
  for (const t of trees) {
    const v = node(t, path);
    if (isRecord(v)) for (const k of Object.keys(v)) keys.add(k);
  }
  return [...keys];
}

const UNITS = new Set<string>(["s", "B", "1/s", "ratio", "count", "core-s", "J", "cost"]);

/**
 * The rows a comparison of these stacks' results has, by question (the issue's
 * order). Figures that other parts of the engine add (density, cold start,
 * images, rollout, portability) are read where present, so results without
 * them simply have no such rows.
 */
function rowsOf(stacks: readonly StackResults[], metrics: Results["manifest"]["metrics"], kills: Results["manifest"]["kills"]): Row[] {
  const rows: Row[] = [];
  const add = (question: Question, path: string[], label: string, unit: Row["unit"], better: Row["better"], service?: string, byReason = false): void => {
    rows.push({ question, path, label, unit, better, ...(service === undefined ? {} : { service }), ...(byReason ? { byReason } : {}) });
  };
  const services = keysAt(stacks, ["services"]);
  for (const key of services) {
    const s = ["services", key];
    add("performance", [...s, "throughput"], `${key} req/s`, "1/s", "higher", key);
    add("performance", [...s, "latency", "mean"], `${key} mean`, "s", "lower", key);
    add("performance", [...s, "latency", "p50"], `${key} p50`, "s", "lower", key);
    add("performance", [...s, "latency", "p99"], `${key} p99`, "s", "lower", key);
    add("performance", [...s, "sloViolations"], `${key} SLO misses`, "ratio", "lower", key);
    add("performance", [...s, "failed"], `${key} failed`, "count", "lower", key);
    add("performance", [...s, "dropped"], `${key} dropped`, "count", "lower", key);
    // Retries and timeouts only where a stack had any: most scenarios configure none.
    if (stacks.some((st) => (at(st, [...s, "retries"]) ?? 0) > 0 || (at(st, [...s, "timeouts"]) ?? 0) > 0)) {
      add("performance", [...s, "retries"], `${key} retries`, "count", "lower", key);
      add("performance", [...s, "timeouts"], `${key} timeouts`, "count", "lower", key);
      add("performance", [...s, "wasted"], `${key} wasted`, "count", "lower", key);
    }
    // Kills by reason (the container plugin's OOM kills, a balloon's, a watchdog's) and the restarts in place they
    // cause, only where a stack had some (a memory limit set too low). A reason a plugin declares is shown by its
    // label, read from the key it publishes the count under if it has one.
    const killed = keysAt(stacks, [...s, "kills"]).filter((reason) => stacks.some((st) => (at(st, [...s, "kills", reason]) ?? 0) > 0));
    for (const reason of killed) {
      const declared = own(kills, reason);
      if (declared?.field !== undefined) add("performance", [...s, declared.field], `${key} ${declared.label}`, "count", "lower", key);
      else add("performance", [...s, "kills", reason], `${key} ${declared?.label ?? `${reason} kills`}`, "count", "lower", key, true);
    }
    if (killed.length > 0) add("performance", [...s, "restarts"], `${key} restarts`, "count", "lower", key);
  }
  // Trace tenants' figures, by the kind of their trace: utilisation's CPU their VMs asked for and did not get (the
  // SLO of a consolidation), a job log's waits, pods' pending and packing.
  for (const name of keysAt(stacks, ["traces"])) {
    const t = ["traces", name];
    const kind = stacks.map((st) => node(st, [...t, "kind"])).find((k) => typeof k === "string");
    if (kind === "utilisation") {
      add("performance", [...t, "unmetFraction"], `${name} CPU demand not met`, "ratio", "lower");
      add("performance", [...t, "cpuUnmet"], `${name} CPU not met`, "core-s", "lower");
      // Disk and network traffic, where the trace has rates for them (Bitbrains).
      if (stacks.some((st) => node(st, [...t, "diskDemand"]) !== undefined)) {
        add("performance", [...t, "diskUnmet"], `${name} disk traffic not met`, "B", "lower");
        add("performance", [...t, "netUnmet"], `${name} network traffic not met`, "B", "lower");
      }
    } else if (kind === "jobs") {
      add("performance", [...t, "wait", "mean"], `${name} job wait mean`, "s", "lower");
      add("performance", [...t, "wait", "p99"], `${name} job wait p99`, "s", "lower");
      add("performance", [...t, "slowdown", "mean"], `${name} bounded slowdown`, "", "lower");
      add("resources", [...t, "utilisation"], `${name} jobs' share of cores`, "ratio", null);
    } else if (kind === "pods") {
      add("performance", [...t, "pendingPeak"], `${name} pods pending (peak)`, "count", "lower");
      add("resources", [...t, "fragmentation"], `${name} fragmentation`, "ratio", "lower");
      add("resources", [...t, "hostsUsed"], `${name} hosts with pods (peak)`, "count", "lower");
    }
  }
  add("resources", ["hosts", "used"], "hosts used", "count", "lower");
  add("resources", ["hosts", "cpuUtilization"], "cpu of used cores", "ratio", null);
  add("resources", ["hosts", "steal"], "steal", "core-s", "lower");
  // Steal per host type where guests stole on it (an overcommitted type), when there is more than one type.
  const types = keysAt(stacks, ["hostTypes"]);
  if (types.length > 1) {
    for (const type of types) if (stacks.some((st) => (at(st, ["hostTypes", type, "steal"]) ?? 0) > 0)) add("resources", ["hostTypes", type, "steal"], `steal on ${type}`, "core-s", "lower");
  }
  add("resources", ["hosts", "throttledTime"], "throttled", "s", "lower");
  add("resources", ["hosts", "memoryUsed"], "memory used", "B", "lower");
  add("resources", ["hosts", "memoryReserved"], "memory reserved", "B", "lower");
  add("resources", ["hosts", "memoryOverhead"], "memory overhead", "B", "lower");
  add("resources", ["hosts", "diskUtilization"], "disk busy", "ratio", null);
  add("resources", ["hosts", "nicTxUtilization"], "nic tx busy", "ratio", null);
  add("resources", ["hosts", "nicRxUtilization"], "nic rx busy", "ratio", null);
  add("resources", ["energy", "joules"], "energy", "J", "lower");
  add("resources", ["cost", "total"], "cost", "cost", "lower");
  // Plugin metrics marked `show`: a number as it is, a histogram as its mean and p99.
  for (const [name, m] of Object.entries(metrics ?? {})) {
    if (!m.show) continue;
    const dot = name.indexOf(".");
    const path = ["layers", name.slice(0, dot), name.slice(dot + 1)];
    const unit = UNITS.has(m.unit) ? (m.unit as Row["unit"]) : "";
    const row = (p: string[], label: string): void => {
      rows.push({ question: "resources", path: p, label, unit, ...(unit === "" && m.unit ? { unitName: m.unit } : {}), better: null });
    };
    if (m.kind === "histogram") {
      row([...path, "mean"], `${path[1]} ${path[2]} mean`);
      row([...path, "p99"], `${path[1]} ${path[2]} p99`);
    } else row(path, `${path[1]} ${path[2]}`);
  }
  for (const key of keysAt(stacks, ["density"])) {
    for (const type of keysAt(stacks, ["density", key])) add("resources", ["density", key, type], `${key} per ${type} host`, "count", "higher", key);
  }
  add("recreate", ["lifecycle", "ready", "p50"], "ready p50", "s", "lower");
  add("recreate", ["lifecycle", "ready", "p99"], "ready p99", "s", "lower");
  add("recreate", ["lifecycle", "recovery", "p50"], "recovery p50", "s", "lower");
  add("recreate", ["lifecycle", "recovery", "p99"], "recovery p99", "s", "lower");
  // Plugins' lifecycle figures (a container's image pull), where some stack has them.
  for (const name of keysAt(stacks, ["lifecycle"])) {
    if (name === "ready" || name === "recovery") continue;
    add("recreate", ["lifecycle", name, "p50"], `${name} p50`, "s", "lower");
    add("recreate", ["lifecycle", name, "p99"], `${name} p99`, "s", "lower");
  }
  for (const key of keysAt(stacks, ["coldStart"])) add("recreate", ["coldStart", key], `${key} cold start`, "s", "lower", key);
  add("maintenance", ["kernels"], "kernels", "count", "lower");
  add("maintenance", ["images"], "images", "count", "lower");
  add("maintenance", ["rollout", "duration"], "rollout duration", "s", "lower");
  add("maintenance", ["rollout", "failed"], "rollout failed", "count", "lower");
  add("maintenance", ["rollout", "slowed"], "rollout slowed", "count", "lower");
  for (const key of keysAt(stacks, ["portability"])) {
    add("portability", ["portability", key, "bytes"], `${key} bytes to move`, "B", "lower", key);
    add("portability", ["portability", key, "seconds"], `${key} start elsewhere`, "s", "lower", key);
  }
  // A figure no stack has (no disks, no SLO, no rollout) is no row.
  return rows.filter((r) => stacks.some((st) => at(st, r.path) !== null));
}

/**
 * The comparison of the stacks of `results` (its row model: the compare table,
 * CSV and HTML report render from it), each against `baseline` (default: the
 * first stack). Values and half-widths are the results' own; a difference is
 * paired over `replications` (each stack's per-replication results, in
 * replication order); without them, or when a stack's count differs from the
 * baseline's, it is the difference of the means with no interval. Throws a
 * RangeError for a baseline that is not one of the stacks.
 */
export function compareStacks(
  results: Pick<Results, "stacks" | "manifest">,
  options: { baseline?: string; replications?: Readonly<Record<string, readonly ReplicationStack[]>> } = {},
): Comparison {
  const names = Object.keys(results.stacks);
  if (names.length === 0) throw new RangeError("compareStacks: the results have no stack");
  const baseline = options.baseline ?? names[0];
  if (!names.includes(baseline)) throw new RangeError(`unknown baseline "${baseline}"${didYouMean(baseline, names)}; the stacks compared are: ${names.join(", ")}`);
  const replications = (stack: string): readonly ReplicationStack[] | undefined => own(options.replications, stack);
  const figures = rowsOf(
    names.map((n) => results.stacks[n]),
    results.manifest.metrics,
    results.manifest.kills,
  ).map(({ path, byReason, ...row }): ComparedFigure => {
    const read = (tree: unknown): number | null => valueAt(tree, path, byReason);
    const base = read(results.stacks[baseline]);
    const stacks: ComparedFigure["stacks"] = {};
    for (const name of names) {
      const st = results.stacks[name];
      const value = read(st);
      stacks[name] = { value, ci95: read(st.ci95), difference: name === baseline ? null : differenceOf(path, read, value, base, replications(name), replications(baseline)) };
    }
    // In the contract's order of keys, so the JSON reads as it is documented.
    const { question, label, service, unit, unitName, better } = row;
    return { question, id: path.join("."), label, ...(service === undefined ? {} : { service }), unit, ...(unitName === undefined ? {} : { unitName }), better, stacks };
  });
  return { baseline, stacks: names, figures };
}

/** A stack's difference from the baseline at `path`: paired over replications when both have them all, else of the means; null where either lacks the figure. */
function differenceOf(
  path: readonly string[],
  read: (tree: unknown) => number | null,
  value: number | null,
  base: number | null,
  reps: readonly ReplicationStack[] | undefined,
  baseReps: readonly ReplicationStack[] | undefined,
): PairedDifference | null {
  if (value === null || base === null) return null;
  // A static figure (density, cold start...) is the same in every replication: its difference is exact.
  if (STATIC_FIGURES.has(path[0])) return { mean: value - base, ci95: 0, excludesZero: value !== base };
  if (reps && baseReps && reps.length === baseReps.length && reps.length > 0) {
    const xs = reps.map(read);
    const ys = baseReps.map(read);
    if (xs.every((x) => x !== null) && ys.every((y) => y !== null)) return pairedDifference(xs as number[], ys as number[]);
  }
  return { mean: value - base, ci95: null, excludesZero: false };
}

/** The columns of `comparisonCsv`, in order. */
export const COMPARISON_CSV_COLUMNS = ["question", "id", "label", "service", "unit", "stack", "value", "ci95", "difference", "differenceCi95", "excludesZero"] as const;

/**
 * A comparison as CSV: one row per figure and stack (figures in table order,
 * stacks in column order), empty cells for what a stack does not have (the
 * baseline's difference, a half-width of one replication). Text is escaped
 * against spreadsheet formulas as a sweep's CSV is (`toCsv`).
 */
export function comparisonCsv(c: Comparison): string {
  const rows = c.figures.flatMap((f) =>
    c.stacks.map((stack) => {
      const x = own(f.stacks, stack);
      const d = x?.difference ?? null;
      const row: Record<(typeof COMPARISON_CSV_COLUMNS)[number], string | number | null> = {
        question: f.question,
        id: f.id,
        label: f.label,
        service: f.service ?? null,
        unit: f.unitName ?? f.unit,
        stack,
        value: x?.value ?? null,
        ci95: x?.ci95 ?? null,
        difference: d?.mean ?? null,
        differenceCi95: d?.ci95 ?? null,
        excludesZero: d === null ? null : String(d.excludesZero),
      };
      return row;
    }),
  );
  // The header even when there is no row, so that a reader always finds the columns.
  return rows.length > 0 ? toCsv(rows) : `${COMPARISON_CSV_COLUMNS.join(",")}\n`;
}
