/** Rendering results as tables for the terminal. */
import { formatBytes, formatTable, type Results } from "@turtles/engine";

type Metric = number | null;

/** A duration in the unit that reads best (ms for most latencies). */
export function formatSeconds(x: Metric): string {
  if (x === null) return "-";
  if (x === 0) return "0";
  if (x < 1e-3) return `${(x * 1e6).toPrecision(3)}us`;
  if (x < 1) return `${(x * 1e3).toPrecision(3)}ms`;
  if (x < 600) return `${x.toPrecision(3)}s`;
  return `${(x / 60).toPrecision(3)}m`;
}

const num = (x: Metric, digits = 1): string => (x === null ? "-" : x.toFixed(digits));
/** Three significant digits, no exponent: 0.497, 12.3, 2000. */
const sig = (x: number): string => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toPrecision(3));
const pct = (x: Metric): string => (x === null ? "-" : `${(100 * x).toFixed(1)}%`);

/** `value ±half-width` when the half-width is known. */
function withCi(value: string, half: unknown, render: (x: number) => string): string {
  return typeof half === "number" && half > 0 ? `${value} ±${render(half)}` : value;
}

export function formatResults(r: Results): string {
  const out: string[] = [];
  const m = r.manifest;
  out.push(`${m.scenario}: ${m.replications} replication${m.replications === 1 ? "" : "s"} of ${formatSeconds(m.duration)} measured after ${formatSeconds(m.warmup)} warm-up (seed ${m.seed})`);
  for (const [stackName, st] of Object.entries(r.stacks)) {
    const ci = (st.ci95 ?? null) as { services?: Record<string, { throughput?: number; latency?: { mean?: number } }> } | null;
    out.push("", `stack ${stackName}`);
    const io = Object.values(st.services).some((s) => s.ioWait !== null && s.ioWait > 0);
    const calls = Object.values(st.services).some((s) => s.callTime !== null && s.callTime > 0);
    const rows = Object.entries(st.services).map(([key, s]) => [
      key,
      s.stack,
      num(s.completed, 0),
      num(s.dropped, 0),
      num(s.failed, 0),
      withCi(s.throughput === null ? "-" : sig(s.throughput), ci?.services?.[key]?.throughput, sig),
      withCi(formatSeconds(s.latency.mean), ci?.services?.[key]?.latency?.mean, formatSeconds),
      formatSeconds(s.latency.p50),
      formatSeconds(s.latency.p90),
      formatSeconds(s.latency.p99),
      formatSeconds(s.latency.p999),
      pct(s.sloViolations),
      ...(io ? [formatSeconds(s.ioWait)] : []),
      ...(calls ? [formatSeconds(s.callTime)] : []),
    ]);
    out.push(
      formatTable(
        ["service", "stack", "completed", "dropped", "failed", "req/s", "mean", "p50", "p90", "p99", "p99.9", "SLO miss", ...(io ? ["io wait"] : []), ...(calls ? ["in calls"] : [])],
        rows,
      ),
    );
    if (st.calls.length > 0) {
      out.push("");
      out.push(formatTable(["caller", "callee", "calls/s", "call latency"], st.calls.map((c) => [c.from, c.to, c.rate === null ? "-" : sig(c.rate), formatSeconds(c.latencyMean)])));
    }
    out.push("");
    const bytes = (x: Metric): string => (x === null ? "-" : formatBytes(x));
    const disks = Object.values(st.hostTypes).some((t) => t.diskIops !== null && t.diskIops > 0);
    const nics = Object.values(st.hostTypes).some((t) => t.nicBytesSent !== null && (t.nicBytesSent > 0 || (t.nicBytesReceived ?? 0) > 0));
    const typeRows = Object.entries(st.hostTypes).map(([name, t]) => [
      name,
      num(t.hosts, 0),
      num(t.used, 0),
      pct(t.cpuUtilization),
      bytes(t.memoryUsed),
      bytes(t.memoryPeak),
      formatSeconds(t.pressureTime),
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
          "peak",
          "swapping",
          ...(disks ? ["disk", "IOPS", "read", "written"] : []),
          ...(nics ? ["nic tx", "nic rx", "sent", "received"] : []),
        ],
        typeRows,
      ),
    );
    for (const p of st.pressure) out.push(`host ${p.host} (${p.type}) swapped for ${formatSeconds(p.seconds)}: its CPU work ran slower`);
    const lc = st.lifecycle;
    out.push(
      "",
      `replicas ready after ${formatSeconds(lc.ready?.p50 ?? null)} (p50), ${formatSeconds(lc.ready?.p99 ?? null)} (p99)` +
        (st.failures.length > 0
          ? `; ${st.failures.length} host failure${st.failures.length === 1 ? "" : "s"}, recovery ${formatSeconds(lc.recovery?.p50 ?? null)} (p50), ` +
            `${formatSeconds(lc.recovery?.p99 ?? null)} (p99), ${num(st.capacityLost, 0)} core-seconds lost`
          : ""),
    );
    const shown = st.failures.slice(0, 5);
    for (const f of shown) {
      out.push(
        `  host ${f.host} failed at ${formatSeconds(f.at)}, found at ${formatSeconds(f.detected)}, ` +
          `${f.repaired === null ? "not repaired" : `repaired at ${formatSeconds(f.repaired)}`}: ${f.replicas} replica${f.replicas === 1 ? "" : "s"} lost, ${f.recovered} ready again`,
      );
    }
    if (st.failures.length > shown.length) out.push(`  ... and ${st.failures.length - shown.length} more (in the results JSON)`);
    const h = st.hosts;
    out.push(
      "",
      `hosts ${num(h.total, 0)} (${num(h.used, 0)} used), cpu ${pct(h.cpuUtilization)} of used cores, memory ${h.memoryUsed === null ? "-" : formatBytes(h.memoryUsed)} ` +
        `(overhead ${h.memoryOverhead === null ? "-" : formatBytes(h.memoryOverhead)}), throttled ${formatSeconds(h.throttledTime)}, ` +
        `steal ${h.steal === null ? "-" : h.steal === 0 ? "0" : `${sig(h.steal)} core-s`}, kernels ${num(st.kernels, 0)}`,
      `energy ${st.energy.joules === null ? "- (no host type has a power figure)" : `${sig(st.energy.joules / 3.6e6)} kWh`}, ` +
        `cost ${st.cost.total === null ? "- (no host type has a cost)" : sig(st.cost.total)}`,
    );
  }
  return out.join("\n");
}
