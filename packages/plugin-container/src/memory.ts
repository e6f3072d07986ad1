/**
 * Memory limits, restart policies and CFS counters of containers (issue 15, part C2).
 *
 * - memory.max (`memory.limit`): a container's capacity is its limit, so the engine's `pressure` hook fires when its
 *   processes' use (their `memory` and what their `mem` steps hold) rises past it. That is the kernel's OOM killer in
 *   the container's cgroup: the container fails with reason `oom` (`OOM`: its in-flight requests fail with it, and
 *   its replicas count in the services' `kills.oom`, published as `oomKills` too: the plugin's `kills` declaration). (A process whose own `memory` is larger than the limit is never
 *   placed in it: placement counts it against the limit.)
 * - restartPolicy: `always` (the default) and `on-failure` restart an OOM-killed container in place with Kubernetes'
 *   CrashLoopBackOff (`nextBackoff`); an OOM kill is a failure (exit code 137), and a simulated service never exits
 *   on its own, so the two behave alike here. `never` leaves it down in place: its replicas neither serve again nor
 *   move (a pod that failed).
 * - memory.high: an allocation that takes the container's use above it first waits for reclaim, a delay per byte
 *   above it (`RECLAIM_DELAY`).
 * - CFS counters: a container with a CPU limit has the engine's per-period budget; its `cpu.stat` counters
 *   (`nr_periods`, `nr_throttled`, `throttled_time`) over the measured time are the metrics `layers.container.nrPeriods`,
 *   `nrThrottled` and `throttledTime`, shown in `turtles run` and `compare`.
 *
 * Signals used: `ready` (a container runs: the start of its running time), `pressure` (use
 * crossed the limit), `fail` (the restart decision, and the counters of a container that goes), `mem` (memory.high),
 * `measure` (the counters' start and end). State is in extension columns, so a saved run continues it.
 */
import type { KillReason, PluginContext, PluginSetup } from "@turtles/engine/plugin";

/** The reason of a kill by the kernel's OOM killer (a process past its container's memory limit), in `failedBy` and `kills`. */
export const OOM = "oom";

/**
 * The container plugin's kills as results and tables name them: OOM kills, counted per service under `kills.oom`
 * and, as they were before the engine counted kills of any reason, under `oomKills`.
 */
export const CONTAINER_KILLS: Readonly<Record<string, KillReason>> = { [OOM]: { label: "OOM kills", field: "oomKills" } };

/** Restart policies of a container (Kubernetes' `restartPolicy`, in lower case). */
export const RESTART_POLICIES = ["always", "on-failure", "never"] as const;
export type RestartPolicy = (typeof RESTART_POLICIES)[number];

/**
 * Kubernetes' CrashLoopBackOff, in seconds: the first restart after `initial`, each next one after twice the previous
 * delay up to `max`, back to `initial` once the container has run `reset` without a crash. [assumed: calibration.md
 * has no figure for it; these are the kubelet's documented defaults (Pod lifecycle, "Container restarts"), which
 * the issue specifies.]
 */
export const CRASH_LOOP_BACKOFF = { initial: 10, max: 300, reset: 600 } as const;

/**
 * Seconds of reclaim per byte an allocation takes above memory.high: 2.5 ns/B, that is writing the pages reclaimed
 * out at 400 MB/s (an SSD's swap). [assumed: calibration.md has no measurement of memory.high throttling; the
 * kernel reclaims before the allocation returns, and at worst pages anonymous memory out to swap.]
 */
export const RECLAIM_DELAY = 2.5e-9;

/**
 * The delay before a container's next restart: `previous` is the delay of its last one (0 for none yet), `ranFor`
 * the seconds it ran since it was last ready. O(1).
 */
export function nextBackoff(previous: number, ranFor: number): number {
  const b = CRASH_LOOP_BACKOFF;
  if (previous === 0 || ranFor >= b.reset) return b.initial;
  return Math.min(2 * previous, b.max);
}

/** The fields of a container entry these mechanisms read. */
interface MemoryEntry {
  memory?: { limit?: number; high?: number };
  restartPolicy?: RestartPolicy;
}

// A container's state for its limit: not running (provisioning, or down), running, or killed (its failure pending).
const NOT_RUNNING = 0;
const RUNNING = 1;
const KILLED = 2;

/** Registers memory.max (OOM kills), restartPolicy with CrashLoopBackOff, and memory.high's reclaim delay. */
export function memoryLimits(api: PluginSetup<MemoryEntry>): void {
  const state = api.extension("memoryState", "i32", NOT_RUNNING);
  const runningSince = api.extension("runningSince", "f64", 0);
  const backoff = api.extension("backoff", "f64", 0);

  const kill = (ctx: PluginContext<MemoryEntry>, node: number): void => {
    state.data[node] = KILLED;
    ctx.failNode(node, OOM);
  };

  api.hook("ready", (ctx, node) => {
    state.data[node] = RUNNING;
    runningSince.data[node] = ctx.now;
  });
  api.hook("pressure", (ctx, node, up) => {
    // Only a running container is killed: one starting holds no request's memory yet, one killed is going already.
    if (up === 1 && state.data[node] === RUNNING && ctx.entry(node).memory?.limit !== undefined) kill(ctx, node);
  });
  api.hook("fail", (ctx, node) => {
    const killed = state.data[node] === KILLED;
    state.data[node] = NOT_RUNNING;
    // A container that goes with its host or a layer above it is theirs to restart or place again.
    if (!killed) return;
    if (ctx.entry(node).restartPolicy === "never") {
      ctx.restartNode(node, { after: Infinity });
      return;
    }
    const delay = nextBackoff(backoff.data[node], ctx.now - runningSince.data[node]);
    backoff.data[node] = delay;
    ctx.restartNode(node, { after: delay });
  });
  api.hook("mem", (ctx, node, op) => {
    const high = ctx.entry(node).memory?.high;
    if (high === undefined || !op.write) return;
    // The bytes of this allocation that land above memory.high (the hook runs before the use changes).
    const used = ctx.memoryUsed(node);
    const above = used + op.amount - Math.max(used, high);
    if (above > 0) return ctx.delay(above * RECLAIM_DELAY);
  });
}

/** Registers the CFS counters of each container with a CPU limit over the measured time (cgroup v2 `cpu.stat`). */
export function cfsCounters(api: PluginSetup<unknown>): void {
  const counters = [
    api.metric("nrPeriods", { kind: "counter", unit: "periods", show: true, description: "CFS periods in which a limited container was runnable (cpu.stat nr_periods)" }),
    api.metric("nrThrottled", { kind: "counter", unit: "periods", show: true, description: "CFS periods in which a container ran out of quota (cpu.stat nr_throttled)" }),
    api.metric("throttledTime", { kind: "counter", unit: "s", show: true, description: "seconds containers spent throttled (cpu.stat throttled_usec)" }),
  ] as const;
  // The counters as last read for each container: what is added next is what they grew since.
  const seen = [api.extension("seenPeriods", "f64"), api.extension("seenThrottled", "f64"), api.extension("seenThrottledTime", "f64")] as const;

  const read = (ctx: PluginContext<unknown>, node: number, add: boolean): void => {
    const st = ctx.bandwidthStats(node);
    const now = [st.nrPeriods, st.nrThrottled, st.throttledTime];
    for (let i = 0; i < 3; i++) {
      if (add && now[i] !== seen[i].data[node]) counters[i].add(node, now[i] - seen[i].data[node]);
      seen[i].data[node] = now[i];
    }
  };
  // At the measurement's start only the baseline moves (counters added then would count in it); at its end, and when a
  // container fails (it may go before the end), what grew is added.
  api.hook("measure", (ctx, node, end) => read(ctx, node, end === 1));
  api.hook("fail", (ctx, node) => read(ctx, node, true));
}
