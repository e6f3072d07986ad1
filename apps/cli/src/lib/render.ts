/**
 * Rendering results as tables for the terminal. Names in them come from files and plugins: table cells are printed
 * escaped by formatTable, and every name written into a line here goes through `printable` (`p`).
 */
import { compareStacks, comparisonCsv, formatBytes, formatTable, printable as p, QUESTIONS, type ComparedFigure, type Results, type StackResults } from "@turtles/engine";
import { formatFigure, formatPairedDifference, formatSeconds, sig, withHalfWidth as withCi } from "@turtles/engine/report";

type Metric = number | null;

export { formatSeconds } from "@turtles/engine/report";

const num = (x: Metric, digits = 1): string => (x === null ? "-" : x.toFixed(digits));
const pct = (x: Metric): string => (x === null ? "-" : `${(100 * x).toFixed(1)}%`);

const bytes = (x: Metric): string => (x === null ? "-" : formatBytes(x));
const coreSeconds = (x: Metric): string => (x === null ? "-" : x === 0 ? "0" : `${sig(x)} core-s`);
const kwh = (joules: Metric): string => (joules === null ? "-" : `${sig(joules / 3.6e6)} kWh`);

type Figure = Results["stacks"][string]["layers"][string][string];

/** A plugin metric's figure in its unit: seconds and bytes as the other figures are, a histogram as its mean and p99. */
function metricFigure(x: Figure | undefined, unitName: string, half?: unknown): string {
  if (x === undefined || x === null) return "-";
  const render = (v: number): string => (unitName === "s" ? formatSeconds(v) : unitName === "B" ? formatBytes(v) : `${sig(v)}${unitName ? ` ${p(unitName)}` : ""}`);
  if (typeof x === "number") return withCi(x, half, render);
  return x.count === 0 ? "-" : `mean ${render(x.mean ?? 0)}, p99 ${render(x.p99 ?? 0)} (${sig(x.count)})`;
}

/** The metrics plugins mark `show`, as [label, layer, name, unit]. */
function shownMetrics(r: Results): [string, string, string, string][] {
  return Object.entries(r.manifest.metrics ?? {})
    .filter(([, m]) => m.show)
    .map(([key, m]) => {
      const [layer, name] = [key.slice(0, key.indexOf(".")), key.slice(key.indexOf(".") + 1)];
      return [p(`${layer} ${name}`), layer, name, m.unit];
    });
}

/** "web-tier: 3 replications of 60.0s measured after 10.0s warm-up (seed 1)". */
function runLine(m: Results["manifest"]): string {
  return `${p(m.scenario)}: ${m.replications} replication${m.replications === 1 ? "" : "s"} of ${formatSeconds(m.duration)} measured after ${formatSeconds(m.warmup)} warm-up (seed ${m.seed})`;
}

const BARS = "▁▂▃▄▅▆▇█";

/** Values as a line of bars from the smallest to the largest (a blank where there is none). */
export function sparkline(values: readonly Metric[]): string {
  const xs = values.filter((x): x is number => x !== null);
  const [lo, hi] = [Math.min(...xs), Math.max(...xs)];
  return values.map((x) => (x === null ? " " : BARS[hi > lo ? Math.round(((x - lo) / (hi - lo)) * (BARS.length - 1)) : 0])).join("");
}

/** A series' sparkline with its range: "▁▁▃█  91.8 to 514". */
function seriesLine(label: string, values: readonly Metric[], render: (x: number) => string): string {
  const xs = values.filter((x): x is number => x !== null);
  if (xs.length === 0) return `${label} -`;
  return `${label} ${sparkline(values)}  ${render(Math.min(...xs))} to ${render(Math.max(...xs))}`;
}

export interface FormatOptions {
  /** Print each stack's throughput and p99 per window as sparklines (a load that changes over time). */
  series?: boolean;
}

export function formatResults(r: Results, options: FormatOptions = {}): string {
  const out: string[] = [];
  out.push(runLine(r.manifest));
  for (const [stackName, st] of Object.entries(r.stacks)) {
    const ci = (st.ci95 ?? null) as { services?: Record<string, { throughput?: number; latency?: { mean?: number } }> } | null;
    out.push("", `stack ${p(stackName)}`);
    const io = Object.values(st.services).some((s) => s.ioWait !== null && s.ioWait > 0);
    const calls = Object.values(st.services).some((s) => s.callTime !== null && s.callTime > 0);
    const retried = Object.values(st.services).some((s) => (s.retries ?? 0) > 0 || (s.timeouts ?? 0) > 0);
    // Kills per reason (with the restarts they lead to) only where a service had some: most stacks set no memory
    // limit. A reason a plugin declares has its label (the container plugin's "OOM kills").
    const killed = [...new Set(Object.values(st.services).flatMap((s) => Object.keys(s.kills ?? {}).filter((reason) => (s.kills[reason] ?? 0) > 0)))];
    const rows = Object.entries(st.services).map(([key, s]) => [
      key,
      s.stack,
      num(s.completed, 0),
      num(s.dropped, 0),
      num(s.failed, 0),
      withCi(s.throughput, ci?.services?.[key]?.throughput, sig),
      withCi(s.latency.mean, ci?.services?.[key]?.latency?.mean, formatSeconds),
      formatSeconds(s.latency.p50),
      formatSeconds(s.latency.p90),
      formatSeconds(s.latency.p99),
      formatSeconds(s.latency.p999),
      pct(s.sloViolations),
      ...(io ? [formatSeconds(s.ioWait)] : []),
      ...(calls ? [formatSeconds(s.callTime)] : []),
      ...(retried ? [num(s.retries, 0), num(s.timeouts, 0), num(s.wasted, 0)] : []),
      ...killed.map((reason) => num(s.kills && Object.hasOwn(s.kills, reason) ? s.kills[reason] : 0, 0)),
      ...(killed.length > 0 ? [num(s.restarts, 0)] : []),
    ]);
    // A scenario of trace tenants alone has no services to list.
    if (rows.length > 0 || Object.keys(st.traces ?? {}).length === 0) out.push(
      formatTable(
        [
          "service",
          "stack",
          "completed",
          "dropped",
          "failed",
          "req/s",
          "mean",
          "p50",
          "p90",
          "p99",
          "p99.9",
          "SLO miss",
          ...(io ? ["io wait"] : []),
          ...(calls ? ["in calls"] : []),
          ...(retried ? ["retries", "timeouts", "wasted"] : []),
          ...killed.map((reason) => (r.manifest.kills && Object.hasOwn(r.manifest.kills, reason) ? r.manifest.kills[reason].label : `${reason} kills`)),
          ...(killed.length > 0 ? ["restarts"] : []),
        ],
        rows,
      ),
    );
    out.push(...traceTables(st));
    if (options.series) {
      const s = st.series;
      out.push(
        "",
        `per ${formatSeconds(s.window)} window:`,
        seriesLine("  req/s", s.throughput, sig),
        seriesLine("  p99  ", s.latencyP99 ?? [], formatSeconds),
      );
    }
    if (st.calls.length > 0) {
      out.push("");
      out.push(formatTable(["caller", "callee", "calls/s", "call latency"], st.calls.map((c) => [c.from, c.to, c.rate === null ? "-" : sig(c.rate), formatSeconds(c.latencyMean)])));
    }
    out.push("");
    const disks = Object.values(st.hostTypes).some((t) => t.diskIops !== null && t.diskIops > 0);
    const nics = Object.values(st.hostTypes).some((t) => t.nicBytesSent !== null && (t.nicBytesSent > 0 || (t.nicBytesReceived ?? 0) > 0));
    // Bytes swapped out at worst, only where some host swapped (older results have none).
    const swapped = Object.values(st.hostTypes).some((t) => (t.swapPeak ?? 0) > 0);
    // Steal per host type only where guests stole (results from before it have none).
    const steal = Object.values(st.hostTypes).some((t) => (t.steal ?? 0) > 0);
    const typeRows = Object.entries(st.hostTypes).map(([name, t]) => [
      name,
      num(t.hosts, 0),
      num(t.used, 0),
      pct(t.cpuUtilization),
      bytes(t.memoryUsed),
      bytes(t.memoryReserved ?? null),
      bytes(t.memoryPeak),
      formatSeconds(t.pressureTime),
      ...(swapped ? [bytes(t.swapPeak ?? null)] : []),
      ...(steal ? [coreSeconds(t.steal ?? null)] : []),
      ...(disks ? [pct(t.diskUtilization), t.diskIops === null ? "-" : sig(t.diskIops), bytes(t.diskBytesRead), bytes(t.diskBytesWritten)] : []),
      ...(nics ? [pct(t.nicTxUtilization), pct(t.nicRxUtilization), bytes(t.nicBytesSent), bytes(t.nicBytesReceived)] : []),
    ]);
    out.push(
      formatTable(
        [
          "host type",
          "hosts",
          "used",
          "cpu",
          "memory used",
          "reserved",
          "peak",
          "swapping",
          ...(swapped ? ["swapped"] : []),
          ...(steal ? ["steal"] : []),
          ...(disks ? ["disk", "IOPS", "read", "written"] : []),
          ...(nics ? ["nic tx", "nic rx", "sent", "received"] : []),
        ],
        typeRows,
      ),
    );
    for (const h of st.pressure) out.push(`host ${h.host} (${p(h.type)}) swapped for ${formatSeconds(h.seconds)}: its CPU work ran slower`);
    const lc = st.lifecycle;
    const restarts = Object.values(st.services).reduce((n, s) => n + (s.restarts ?? 0), 0);
    const omitted = st.failuresOmitted ?? 0;
    const failures = st.failures.length + omitted;
    out.push(
      "",
      `replicas ready after ${formatSeconds(lc.ready?.p50 ?? null)} (p50), ${formatSeconds(lc.ready?.p99 ?? null)} (p99)` +
        (failures > 0 || restarts > 0
          ? `; ${failures} failure${failures === 1 ? "" : "s"}${restarts > 0 ? `, ${sig(restarts)} restart${restarts === 1 ? "" : "s"} in place` : ""}, ` +
            `recovery ${formatSeconds(lc.recovery?.p50 ?? null)} (p50), ${formatSeconds(lc.recovery?.p99 ?? null)} (p99), ${num(st.capacityLost, 0)} core-seconds lost`
          : ""),
    );
    // Plugins' lifecycle figures (a container's image pull), where the stack has them.
    for (const [name, figure] of Object.entries(lc)) {
      if (name !== "ready" && name !== "recovery" && figure) out.push(`lifecycle ${p(name)}: ${formatSeconds(figure.p50)} (p50), ${formatSeconds(figure.p99)} (p99)`);
    }
    const shown = st.failures.slice(0, 5);
    for (const f of shown) {
      const what = f.layer ? `a ${p(f.layer)} on host ${f.host} failed (${p(String(f.reason))})` : f.reason === "rollout" ? `host ${f.host} restarted by the rollout` : `host ${f.host} failed`;
      out.push(
        `  ${what} at ${formatSeconds(f.at)}, found at ${formatSeconds(f.detected)}, ` +
          `${f.layer ? "" : f.repaired === null ? "not repaired, " : `repaired at ${formatSeconds(f.repaired)}, `}${f.replicas} replica${f.replicas === 1 ? "" : "s"} lost, ${f.recovered} ready again` +
          Object.entries(f.services ?? {})
            .filter(([, n]) => n.failed > 0 || n.timeouts > 0)
            .map(([key, n]) => `; ${p(key)} ${n.failed} failed, ${n.timeouts} timed out`)
            .join(""),
      );
    }
    if (failures > shown.length) {
      out.push(`  ... and ${failures - shown.length} more (${omitted > 0 ? `the first ${st.failures.length} in the results JSON` : "in the results JSON"})`);
    }
    if (st.rollout) out.push(rolloutLine(st.rollout));
    // Why requests failed, where any did.
    for (const [key, svc] of Object.entries(st.services)) {
      const reasons = Object.entries(svc.failedBy ?? {}).filter(([, n]) => (n ?? 0) > 0);
      if (reasons.length > 0) out.push(`${p(key)} failed: ${reasons.map(([reason, n]) => `${sig(n as number)} ${p(reason)}`).join(", ")}`);
    }
    const h = st.hosts;
    out.push(
      "",
      `hosts ${num(h.total, 0)} (${num(h.used, 0)} used), cpu ${pct(h.cpuUtilization)} of used cores, memory ${bytes(h.memoryUsed)} used, ` +
        `${bytes(h.memoryReserved ?? null)} reserved (overhead ${bytes(h.memoryOverhead)}), throttled ${formatSeconds(h.throttledTime)}, steal ${coreSeconds(h.steal)}, kernels ${num(st.kernels, 0)}`,
      `energy ${st.energy.joules === null ? "- (no host type has a power figure)" : kwh(st.energy.joules)}, ` +
        `cost ${st.cost.total === null ? "- (no host type has a cost)" : sig(st.cost.total)}`,
    );
    const metrics = shownMetrics(r).filter(([, layer, name]) => st.layers?.[layer]?.[name] !== undefined);
    if (metrics.length > 0) {
      const half = (st.ci95 ?? null) as { layers?: Record<string, Record<string, unknown>> } | null;
      out.push(metrics.map(([label, layer, name, u]) => `${label} ${metricFigure(st.layers[layer][name], u, half?.layers?.[layer]?.[name])}`).join(", "));
    }
  }
  return out.join("\n");
}

type TraceFigures = NonNullable<StackResults["traces"]>[string];

/** Trace tenants' figures (`traces`), a table per kind of trace, each figure with its 95% half-width where there is one. */
function traceTables(st: StackResults): string[] {
  const traces = Object.entries(st.traces ?? {});
  if (traces.length === 0) return [];
  const half = ((st.ci95 ?? null) as { traces?: Record<string, Record<string, unknown>> } | null)?.traces ?? {};
  const ci = (name: string, ...path: string[]): unknown => path.reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], half[name]);
  const of = <K extends TraceFigures["kind"]>(kind: K) => traces.filter((e): e is [string, Extract<TraceFigures, { kind: K }>] => e[1].kind === kind);
  // A table per kind of trace that some tenant has, each after a blank line.
  const table = <T>(rows: T[], headers: string[], cells: (row: T) => string[]): string[] => (rows.length === 0 ? [] : ["", formatTable(headers, rows.map(cells))]);
  // Disk and network columns only where a trace has such rates (Bitbrains).
  const traffic = of("utilisation").some(([, t]) => t.diskDemand !== undefined);
  return [
    // Utilisation traces: their VMs' CPU demand and what of it was not served.
    ...table(of("utilisation"), ["trace tenant", "stack", "vms", "samples", "cpu demand", "not met", ...(traffic ? ["disk not met", "net not met"] : []), "skipped"], ([name, t]) => [
      name,
      t.stack,
      num(t.vms, 0),
      num(t.samples, 0),
      withCi(t.cpuDemand, ci(name, "cpuDemand"), coreSeconds),
      withCi(t.unmetFraction, ci(name, "unmetFraction"), pct),
      ...(traffic ? [withCi(t.diskUnmet ?? null, ci(name, "diskUnmet"), bytes), withCi(t.netUnmet ?? null, ci(name, "netUnmet"), bytes)] : []),
      num(t.skipped, 0),
    ]),
    ...table(of("jobs"), ["trace (jobs)", "jobs", "wait mean", "p50", "p99", "slowdown mean", "p99", "core share", "too large", "skipped"], ([name, f]) => [
      name,
      num(f.jobs, 0),
      withCi(f.wait.mean, ci(name, "wait", "mean"), formatSeconds),
      formatSeconds(f.wait.p50),
      formatSeconds(f.wait.p99),
      withCi(f.slowdown.mean, ci(name, "slowdown", "mean"), sig),
      f.slowdown.p99 === null ? "-" : sig(f.slowdown.p99),
      withCi(f.utilisation, ci(name, "utilisation"), pct),
      num(f.tooLarge, 0),
      num(f.skipped, 0),
    ]),
    ...table(of("pods"), ["trace (pods)", "pods", "pending peak", "fragmentation", "hosts used", "never placed", "skipped"], ([name, f]) => [
      name,
      num(f.pods, 0),
      withCi(f.pendingPeak, ci(name, "pendingPeak"), sig),
      withCi(f.fragmentation, ci(name, "fragmentation"), pct),
      withCi(f.hostsUsed, ci(name, "hostsUsed"), sig),
      num(f.neverPlaced, 0),
      num(f.skipped, 0),
    ]),
  ];
}

/** The kernel patch rollout of a run, in one line. */
function rolloutLine(r: NonNullable<StackResults["rollout"]>): string {
  // Means over replications: whole where every replication agreed.
  const n = (x: Metric, one: string, many = `${one}s`): string => `${x === null ? "-" : Number.isInteger(x) ? x : sig(x)} ${x === 1 ? one : many}`;
  const took = r.duration === null ? "not finished by the end of the run" : `in ${formatSeconds(r.duration)} (${formatSeconds(r.draining)} draining)`;
  return (
    `rollout: ${n(r.instances, "kernel instance")} restarted, ${n(r.maxUnavailable, "at a time", "at a time")}, ${took}; ` +
    `${n(r.failed, "request")} failed and ${Number.isInteger(r.slowed) ? r.slowed : sig(r.slowed)} slower than their p99 outside it; at most ${n(r.maxDown, "replica")} of a service down`
  );
}

/**
 * A comparison of stacks (`turtles compare`), from its row model
 * (`Results.comparison`): a table of each stack's figures (± the 95%
 * half-width where there are replications enough) under the five questions'
 * headings, then a table of each stack's paired difference from the baseline,
 * marked `*` where its interval excludes zero.
 */
export function formatComparison(r: Results): string {
  const c = r.comparison ?? compareStacks(r);
  const sections = (cells: (f: ComparedFigure) => string[] | null): string[][] =>
    QUESTIONS.flatMap(({ question, heading }) => {
      const rows = c.figures.filter((f) => f.question === question).flatMap((f) => {
        const row = cells(f);
        return row ? [[`  ${f.label}`, ...row]] : [];
      });
      return rows.length > 0 ? [[heading], ...rows] : [];
    });
  const pad = (row: string[], n: number): string[] => [...row, ...Array<string>(n - row.length).fill("")];
  const values = sections((f) => {
    const render = (x: number): string => formatFigure(x, f.unit, f.unitName);
    return c.stacks.map((name) => withCi(f.stacks[name]?.value, f.stacks[name]?.ci95, render));
  });
  const others = c.stacks.filter((name) => name !== c.baseline);
  const differences = sections((f) => {
    if (others.every((name) => !f.stacks[name]?.difference)) return null;
    return others.map((name) => {
      const d = f.stacks[name]?.difference;
      return d ? `${formatPairedDifference(d, f.unit, f.unitName)}${d.excludesZero ? " *" : ""}` : "-";
    });
  });
  const unplaced = c.stacks.flatMap((name) => {
    const n = r.unplaced.filter((u) => u.stack === name).reduce((k, u) => k + u.replicas, 0);
    return n > 0 ? [`${p(name)} ${n}`] : [];
  });
  const replications = r.manifest.replications;
  return [
    `${runLine(r.manifest)}, the same seeds on every stack`,
    "",
    formatTable(["", ...c.stacks], values.map((row) => pad(row, c.stacks.length + 1))),
    ...(unplaced.length > 0 ? ["", `replicas not placed: ${unplaced.join(", ")}`] : []),
    ...(others.length > 0 && differences.length > 0
      ? [
          "",
          `difference from ${p(c.baseline)}, paired replication by replication` +
            (replications > 1 ? ` (± the 95% half-width; * where the interval excludes zero)` : " (one replication: no interval)"),
          "",
          formatTable(["", ...others], differences.map((row) => pad(row, others.length + 1))),
        ]
      : []),
  ].join("\n");
}

/**
 * The results as the file `format` names: the results JSON (`turtles-results/1`), or the comparison's CSV, one row
 * per stack and figure (a run's single stack has no difference columns filled).
 */
export function resultsText(r: Results, format: OutFormat): string {
  return format === "json" ? `${JSON.stringify(r, null, 2)}\n` : comparisonCsv(r.comparison ?? compareStacks(r));
}

/** The formats results files can have, by their extension. */
export type OutFormat = "json" | "csv";
