/**
 * The CPU solver: weighted, capped, hierarchical fair share (a fluid model of
 * generalised processor sharing) over each host's tree of nodes, as DESIGN.md
 * states it (Resource models: CPU and CFS).
 *
 * Activities. A running `cpu` step is an activity: a thread of a process node
 * with remaining work in nominal core-seconds. A thread uses at most one core;
 * the work it does per core-second is the host's speed times its path's CPU
 * factor (work / 0.98 charged to the host under a 0.98 layer).
 *
 * Water-filling. Bounds bottom-up: a process is bounded by its runnable
 * threads, every other node by min(its cap, the sum of its children's bounds),
 * a throttled group by zero. Shares top-down: a node's allocation is divided
 * among its children in proportion to their weights, never giving a child more
 * than its bound, the surplus redistributed (work-conserving). Weights follow
 * Linux: a process weighs its runnable threads (each thread 1), a container
 * `cpu.weight / 100`, a VM its runnable vCPUs (runnable threads capped at its
 * vCPUs).
 *
 * Incremental and lazy. A change on one host recomputes that host only, and
 * there only what the change reaches. Bounds are recomputed on the paths from
 * the changed nodes to the host (`dirty`), and shares below the nodes whose
 * bound or allocation changed (`redo`); every other node keeps values a full
 * recomputation would give again bit for bit, the same operations on the same
 * inputs. Idle nodes are never visited (each node keeps a list of its runnable
 * children in sibling order; perf: the web shop's hosts hold ten or more
 * processes, rarely more than one running). Leaf clocks advance and the next
 * completion is found by flat loops over the host's runnable leaves. Results
 * do not depend on how much is skipped: in this flat model a leaf's clock is
 * the sum of its steps, one per change of its host, each exactly what a full
 * recomputation gives.
 *
 * Virtual time. A host with many runnable children (`VIRTUAL_FROM`), each a
 * chain (one runnable child per node down to one leaf: a VM and its one busy
 * process), more demand than cores, no CFS group and no child saturated, gives
 * every child its weight times one level, cores / total weight. It then keeps
 * a virtual time, the integral of the level (GPS): a chain's nodes are
 * allocated `weight x level` without being written, a leaf's clock is its
 * clock when its chain joined plus its work per unit of virtual time times the
 * virtual time since, and the leaves wait in one heap per host by the virtual
 * time at which each reaches its smallest target. A change of one child (a
 * thread starting or finishing) takes that chain off the virtual time (its
 * clock, allocations and steal written out), recomputes its bound and puts it
 * back: O(depth + log children), where the flat model is O(children). Any
 * other change (rules, CFS, pauses, moves, aborts, steal bookkeeping), or a
 * state outside the conditions, writes every chain out and goes on flat; a
 * full recomputation enters virtual time again when the conditions hold.
 * What is exact and what is rounded: bounds, weights and the choice of
 * saturated children are the flat model's, exactly; allocations, clocks,
 * steal and completion times under virtual time are the same quantities
 * summed in another order (a product per interval between changes of the
 * chain rather than a step per change of the host, the level over a running
 * total of weights), so they agree with the flat model to rounding (tests:
 * within 1e-9 relative; the examples within 1e-14), deterministically. Hosts
 * that never meet the conditions keep the flat model's results bit for bit.
 *
 * Activities are not touched either: the threads of
 * one leaf (a process or an auxiliary node) share one rate, so each leaf keeps
 * a virtual clock, the work one of its threads has done since the leaf
 * started, and an activity is the target its leaf's clock must reach (its
 * start clock plus its work). One completion event per host sits in the
 * kernel queue, at the earliest time a leaf's clock reaches its smallest
 * target. A completion sets the finished activity's remaining work to exactly
 * zero (and any other within 1e-12 of its size).
 *
 * CFS bandwidth control is a per-period budget: an event when a group's budget
 * runs out (it is then throttled: its bound is zero) and one when the period
 * ends and the budget is restored; budgets are accrued lazily at each
 * recomputation of the host, never by a timer per period.
 */
import type { EventType, Simulation } from "../kernel/simulation.js";
import { NONE, type NodeStore } from "../tree/nodes.js";
import { allocColumns, grown, growColumns, type ColumnSpec } from "../util/typed.js";

const DONE_TOLERANCE = 1e-12;

/**
 * A node's CPU weight: a number, `"runnable"` (its runnable threads, capped at its cap: a VM's runnable vCPUs), or
 * `{ runnable: w }`, w per runnable thread (a VM's `weight`: its shares per runnable vCPU).
 */
export type CpuWeight = number | "runnable" | { runnable: number };

/** The weight column's value: the weight, or minus the weight per runnable thread. Throws on a weight <= 0. */
function encodeWeight(node: number, weight: CpuWeight): number {
  const w = weight === "runnable" ? 1 : typeof weight === "number" ? weight : weight.runnable;
  if (!(w > 0 && Number.isFinite(w))) throw new RangeError(`node ${node}: CPU weight must be > 0, got ${typeof weight === "object" ? `{ runnable: ${w} }` : w}`);
  return typeof weight === "number" ? w : -w;
}

/** Counters of a CFS group, as in cgroup v2 `cpu.stat`. */
export interface BandwidthStats {
  nrPeriods: number;
  nrThrottled: number;
  /** Seconds spent throttled. */
  throttledTime: number;
}

/**
 * Per-node columns (indexed by node id; grown with the node store), with the
 * value a new node starts with: the one list of the solver's node layout.
 */
const NODE_COLUMNS: readonly ColumnSpec[] = [
  ["weight", Float64Array, -1],
  ["cap", Float64Array, Infinity],
  ["bound", Float64Array],
  ["alloc", Float64Array],
  ["runnable", Int32Array],
  ["threads", Int32Array],
  ["firstRun", Int32Array, NONE],
  ["nextRun", Int32Array, NONE],
  ["prevRun", Int32Array, NONE],
  ["hostCores", Float64Array],
  ["hostSpeed", Float64Array],
  ["slow", Float64Array, 1],
  ["speed", Float64Array],
  ["hostEventTime", Float64Array],
  ["hostLast", Float64Array],
  ["hostEvent", Float64Array, -1],
  ["hostNextLeaf", Int32Array, NONE],
  ["hostBusy", Float64Array],
  ["quota", Float64Array],
  ["period", Float64Array],
  ["phase", Float64Array],
  ["budget", Float64Array],
  ["throttled", Int8Array],
  ["throttledSince", Float64Array],
  ["frozen", Int8Array],
  ["bwEvent", Float64Array, -1],
  ["bwEventTime", Float64Array],
  ["bwStats", Float64Array, 0, 3],
  ["hostCfsHead", Int32Array, NONE],
  ["cfsNext", Int32Array, NONE],
  ["stealSeconds", Float64Array],
  ["hostStealHead", Int32Array, NONE],
  ["stealNext", Int32Array, NONE],
  ["stealTracked", Int8Array],
  ["stealRetired", Float64Array],
  ["clock", Float64Array],
  ["factor", Float64Array],
  ["leafCpuFactor", Float64Array],
  ["leafMin", Float64Array, Infinity],
  ["heapStart", Int32Array],
  ["heapCap", Int32Array],
  ["hostLeafHead", Int32Array, NONE],
  ["leafNext", Int32Array, NONE],
  ["leafPrev", Int32Array, NONE],
  ["dirty", Int8Array, 1],
  ["redo", Int8Array, 1],
  ["childBound", Float64Array],
  ["virt", Int8Array],
  ["vLevel", Float64Array],
  ["vTime", Float64Array],
  ["vWeight", Float64Array],
  ["vBound", Float64Array],
  ["vMinKey", Float64Array],
  ["vCount", Int32Array],
  ["vHead", Int32Array, NONE],
  ["vNext", Int32Array, NONE],
  ["vChanged", Int8Array],
  ["vSelf", Int8Array],
  ["vShare", Float64Array],
  ["leafRate", Float64Array],
  ["leafV", Float64Array],
  ["leafEnd", Float64Array],
  ["leafPos", Int32Array],
  ["stealAt", Float64Array],
  ["stealV", Float64Array],
];

/**
 * Runnable children from which a host's shares follow a virtual time (see the header). Not a speed threshold:
 * `node bench/dist/vms.js --solver` has virtual time at 0.43 of the flat time per completion at 4 VMs, 0.21 at 16
 * and 0.05 at 100; a host of fewer keeps the flat model's exact sums (every example's hosts but compare-stacks'
 * bare-metal one, whose results so stay byte-identical), where a change costs little either way.
 */
const VIRTUAL_FROM = 16;

/** Scratch of water-filling, and the completions of one event (grown by doubling). */
const SCRATCH_COLUMNS: readonly ColumnSpec[] = [
  ["scratch", Int32Array],
  ["scratchKey", Float64Array],
  ["scratchWeight", Float64Array],
];
const DONE_COLUMNS: readonly ColumnSpec[] = [
  ["doneTypes", Int32Array],
  ["donePayloads", Int32Array],
];

/** Per-activity columns (grown by doubling). */
const ACTIVITY_COLUMNS: readonly ColumnSpec[] = [
  ["actNode", Int32Array],
  ["actTarget", Float64Array],
  ["actSize", Float64Array],
  ["actDoneType", Int32Array],
  ["actDonePayload", Int32Array],
  ["actPos", Int32Array],
  ["actLive", Int8Array],
];

export class CpuSolver {
  // Per node: see NODE_COLUMNS.
  private weight = new Float64Array(0); // fixed weight, or -1 for "runnable"
  private cap = new Float64Array(0);
  private bound = new Float64Array(0);
  private alloc = new Float64Array(0);
  private runnable = new Int32Array(0); // runnable threads in the subtree
  private threads = new Int32Array(0); // runnable threads of this node itself (a process)
  /** Runnable children of each node, a doubly linked list in sibling order (decreasing node id). */
  private firstRun = new Int32Array(0);
  private nextRun = new Int32Array(0);
  private prevRun = new Int32Array(0);
  // Per host node.
  private hostCores = new Float64Array(0);
  private hostSpeed = new Float64Array(0); // nominal, before any slowdown
  /** Per node: its slowdown (1 = normal; > 1 while a host swaps, say), and the host's speed divided by the slowdowns on its path. */
  private slow = new Float64Array(0);
  private speed = new Float64Array(0);
  private hostEventTime = new Float64Array(0);
  private hostLast = new Float64Array(0);
  private hostEvent = new Float64Array(0); // kernel handle of the next completion, or -1
  private hostNextLeaf = new Int32Array(0); // the leaf whose activity completes next
  private hostBusy = new Float64Array(0); // core-seconds allocated up to hostLast
  // CFS groups (per node; quota 0 = none).
  private quota = new Float64Array(0);
  private period = new Float64Array(0);
  private phase = new Float64Array(0);
  private budget = new Float64Array(0);
  private throttled = new Int8Array(0);
  private throttledSince = new Float64Array(0);
  /** 1 while a node's subtree is paused (`freeze`): bounded by zero like a throttled group, its work waiting. */
  private frozen = new Int8Array(0);
  private bwEvent = new Float64Array(0);
  private bwEventTime = new Float64Array(0);
  private bwStats = new Float64Array(0); // 3 per node: nrPeriods, nrThrottled, throttledTime
  private hostCfsHead = new Int32Array(0);
  private cfsNext = new Int32Array(0);
  // Steal of guest kernels (per node; a list per host of the nodes it is kept for).
  private stealSeconds = new Float64Array(0);
  private hostStealHead = new Int32Array(0);
  private stealNext = new Int32Array(0);
  private stealTracked = new Int8Array(0);
  /** Per host: steal of its guests that are gone (removed, or failed with it). */
  private stealRetired = new Float64Array(0);
  /** Every node steal is kept for, in the order tracked (until its host fails). */
  private stealNodes: number[] = [];
  /** Steal of the guests of failed hosts. */
  private retiredSteal = 0;
  // Per leaf (a node with threads): virtual clock, work per core-second, smallest target, its activities.
  private clock = new Float64Array(0);
  private factor = new Float64Array(0);
  /** The path's CPU factor of each leaf's threads (its work per core-second is the host's speed times this). */
  private leafCpuFactor = new Float64Array(0);
  /**
   * Each leaf's activities (one per runnable thread), a binary min-heap by
   * target (so a completion costs O(log threads)) in a block of one shared
   * pool (perf: an array per leaf cost a scattered object on every start and
   * completion). A block that fills up moves to the end of the pool at twice
   * its size; the one it leaves is not reused.
   */
  private heapPool = new Int32Array(256);
  private poolUsed = 0;
  private heapStart = new Int32Array(0);
  private heapCap = new Int32Array(0);
  /** The smallest target of each leaf (its heap's top), in a column so a recomputation need not open the heaps. */
  private leafMin = new Float64Array(0);
  /**
   * Each host's runnable leaves (threads > 0), a doubly linked list in no particular order: advancing clocks and
   * finding the next completion are flat loops over them, not walks of the tree (perf: on one host of 100 VMs the
   * walks visited each VM too, a call per node; `node packages/engine/bench/versus.mjs main` on vms-one-host). Where
   * order matters (equal completion times, completions in one event) it is the tree's order, `before`.
   */
  private hostLeafHead = new Int32Array(0);
  private leafNext = new Int32Array(0);
  private leafPrev = new Int32Array(0);
  /**
   * 1 where a node's bound must be recomputed: something in its subtree changed (runnable threads, a cap, a weight,
   * throttling, a pause, a move); set on the whole path to the host (`touch`), cleared by `computeBound`.
   */
  private dirty = new Int8Array(0);
  /**
   * 1 where a node's children's shares must be recomputed: its bound was recomputed or its allocation changed;
   * cleared by `distribute`. A node that is neither keeps its children's allocations, which a recomputation would
   * give again bit for bit (same inputs, same order), so the walks visit only what changed.
   */
  private redo = new Int8Array(0);
  /** Per node: the sum of its runnable children's bounds, as `computeBound` last found it. */
  private childBound = new Float64Array(0);
  /**
   * Virtual time, per host (see the header). `virt` is 1 while the host's shares follow it: `vLevel` is the cores
   * each unit of its children's weight gets, `vTime` the integral of the level up to `hostLast`, `vWeight` and
   * `vBound` the sums of its children's weights and bounds, `vMinKey` at most the smallest bound / weight of a child
   * (while the level stays below it, no child is saturated), `vCount` the leaves in the host's heap (a block of the
   * pool, keyed by `leafEnd`). The host children changed since the last recomputation are a list (`vHead`, `vNext`,
   * `vChanged`); `vSelf` is 1 when the host node itself was touched.
   */
  private virt = new Int8Array(0);
  private vLevel = new Float64Array(0);
  private vTime = new Float64Array(0);
  private vWeight = new Float64Array(0);
  private vBound = new Float64Array(0);
  private vMinKey = new Float64Array(0);
  private vCount = new Int32Array(0);
  private vHead = new Int32Array(0);
  private vNext = new Int32Array(0);
  private vChanged = new Int8Array(0);
  private vSelf = new Int8Array(0);
  /**
   * Per node of a chain under virtual time: the weight of its host child (its allocation is `vShare * vLevel`; 0
   * outside virtual time). Per leaf: its clock's work per unit of virtual time (`leafRate`), the virtual time at
   * which `clock` holds (`leafV`), the one at which it reaches its smallest target (`leafEnd`), its heap position.
   * Per node whose steal is kept: the time and virtual time at which `stealSeconds` holds.
   */
  private vShare = new Float64Array(0);
  private leafRate = new Float64Array(0);
  private leafV = new Float64Array(0);
  private leafEnd = new Float64Array(0);
  private leafPos = new Int32Array(0);
  private stealAt = new Float64Array(0);
  private stealV = new Float64Array(0);
  // Activities: see ACTIVITY_COLUMNS.
  private actCount = 0;
  private actFree: number[] = [];
  private actNode = new Int32Array(0);
  private actTarget = new Float64Array(0); // the leaf clock at which it is done
  private actSize = new Float64Array(0);
  private actDoneType = new Int32Array(0);
  private actDonePayload = new Int32Array(0);
  private actPos = new Int32Array(0); // index in its leaf's heap
  private actLive = new Int8Array(0);
  // Scratch for water-filling.
  private scratch = new Int32Array(64);
  private scratchKey = new Float64Array(64);
  private scratchWeight = new Float64Array(64);

  private readonly completeType: EventType;
  private readonly exhaustType: EventType;
  private readonly restoreType: EventType;

  /** `virtualFrom`: runnable children from which a host follows a virtual time (Infinity: never; tests compare both). */
  constructor(
    private readonly sim: Simulation,
    private readonly nodes: NodeStore,
    private readonly virtualFrom = VIRTUAL_FROM,
  ) {
    this.completeType = sim.on("cpu.complete", (host) => this.onComplete(host));
    this.exhaustType = sim.on("cpu.budgetExhausted", (node) => this.onExhausted(node));
    this.restoreType = sim.on("cpu.budgetRestored", (node) => this.onRestored(node));
    allocColumns(this, NODE_COLUMNS, 0);
    allocColumns(this, ACTIVITY_COLUMNS, 64);
    this.ensure();
  }

  /** Declares a host node: its cores and speed. */
  setHost(host: number, cores: number, speed: number): void {
    this.ensure();
    this.hostCores[host] = cores;
    this.hostSpeed[host] = speed;
    this.slow[host] = 1;
    this.speed[host] = speed;
    this.hostLast[host] = this.sim.now;
    this.hostEvent[host] = -1;
    this.hostCfsHead[host] = NONE;
    this.hostStealHead[host] = NONE;
    this.weight[host] = 1;
    this.cap[host] = cores;
    this.touch(host);
  }

  /** Sets a node's weight (see `CpuWeight`) and cap in cores. Call before the node runs work. */
  setRules(node: number, weight: CpuWeight, cap = Infinity): void {
    this.ensure();
    if (!(cap > 0)) throw new RangeError(`node ${node}: CPU cap must be > 0 cores, got ${cap}`);
    this.real(this.nodes.host[node]);
    this.weight[node] = encodeWeight(node, weight);
    this.cap[node] = cap;
    this.touch(node);
    const parent = this.nodes.parent[node];
    if (parent !== NONE) this.speed[node] = this.speed[parent] / this.slow[node];
  }

  /** Changes a running node's weight and cap (absent: unchanged); its host is recomputed now. */
  updateRules(node: number, weight: CpuWeight | undefined, cap: number | undefined): void {
    const host = this.nodes.host[node];
    this.advance(host);
    this.real(host);
    if (weight !== undefined) this.weight[node] = encodeWeight(node, weight);
    if (cap !== undefined) {
      if (!(cap > 0)) throw new RangeError(`node ${node}: CPU cap must be > 0 cores, got ${cap}`);
      this.cap[node] = cap;
    }
    this.touch(node);
    this.recompute(host);
  }

  /** Puts a node under CFS bandwidth control: `quota` core-seconds per `period`, periods starting now. */
  setBandwidth(node: number, quota: number, period: number): void {
    this.ensure();
    if (!(quota > 0 && period > 0)) throw new RangeError(`node ${node}: CFS quota and period must be > 0`);
    const host = this.nodes.host[node];
    this.advance(host);
    this.real(host);
    if (this.quota[node] === 0) {
      this.cfsNext[node] = this.hostCfsHead[host];
      this.hostCfsHead[host] = node;
    } else {
      // A new limit on a group already under one: close its current period's events and throttling.
      if (this.bwEvent[node] >= 0) this.sim.cancel(this.bwEvent[node]);
      if (this.throttled[node]) {
        this.bwStats[3 * node + 2] += this.sim.now - this.throttledSince[node];
        this.throttled[node] = 0;
      }
    }
    this.quota[node] = quota;
    this.period[node] = period;
    this.phase[node] = this.sim.now;
    this.budget[node] = quota;
    this.bwEvent[node] = -1;
    this.touch(node);
    this.recompute(host);
  }

  /** Takes a node out of CFS bandwidth control (its counters stay); its host is recomputed now. */
  clearBandwidth(node: number): void {
    if (!this.hasBandwidth(node)) return;
    const host = this.nodes.host[node];
    this.advance(host);
    this.real(host);
    if (this.bwEvent[node] >= 0) this.sim.cancel(this.bwEvent[node]);
    this.bwEvent[node] = -1;
    if (this.throttled[node]) {
      this.bwStats[3 * node + 2] += this.sim.now - this.throttledSince[node];
      this.throttled[node] = 0;
    }
    this.quota[node] = 0;
    this.unlinkList(this.hostCfsHead, this.cfsNext, host, node);
    this.touch(node);
    this.recompute(host);
  }

  /**
   * Starts `work` nominal core-seconds on a new thread of leaf `node` (a
   * process or an auxiliary node); when done, kernel event `doneType` is
   * scheduled with `donePayload` (none if `doneType` is negative). `cpuFactor` is the path's throughput factor
   * (the same for every thread of a node). Returns the activity id. O(nodes of
   * the host); under virtual time O(depth + log children).
   */
  start(node: number, work: number, cpuFactor: number, doneType: EventType, donePayload: number): number {
    if (!(work >= 0) || !Number.isFinite(work)) throw new RangeError(`cpu work must be a finite number >= 0, got ${work}`);
    if (this.nodes.firstChild[node] !== NONE) throw new Error(`node ${node} has child nodes; threads run only on leaves (processes, auxiliary nodes)`);
    const host = this.nodes.host[node];
    this.advance(host);
    if (this.virt[host]) this.leaveChainOf(host, node);
    if (this.threads[node] > 0 && this.leafCpuFactor[node] !== cpuFactor) throw new Error(`node ${node}: every thread of a node must have the same CPU factor`);
    this.leafCpuFactor[node] = cpuFactor;
    this.factor[node] = this.speed[node] * cpuFactor;
    const a = this.allocActivity();
    this.actNode[a] = node;
    this.actTarget[a] = this.clock[node] + work;
    this.actSize[a] = work;
    this.actDoneType[a] = doneType;
    this.actDonePayload[a] = donePayload;
    this.actLive[a] = 1;
    for (let n = node; n !== NONE; n = this.nodes.parent[n]) if (this.runnable[n]++ === 0) this.linkRunnable(n);
    if (this.threads[node]++ === 0) this.linkLeaf(host, node);
    this.touch(node);
    this.heapPush(node, a);
    this.recompute(host);
    return a;
  }

  /** Stops an activity without completing it (its node failed). */
  abort(activity: number): void {
    if (!this.actLive[activity]) return;
    const host = this.nodes.host[this.actNode[activity]];
    this.advance(host);
    this.real(host);
    this.finish(activity);
    this.recompute(host);
  }

  /**
   * Stops every activity below `node` (a failed host or layer node), without
   * completion events; `lost` hears of each completion that will not come.
   */
  abortSubtree(node: number, lost?: (doneType: EventType, donePayload: number) => void): void {
    const host = this.nodes.host[node];
    this.advance(host);
    this.real(host);
    const stop = (n: number): void => {
      while (this.threads[n] > 0) {
        const a = this.heapPool[this.heapStart[n] + this.threads[n] - 1];
        if (lost && this.actDoneType[a] >= 0) lost(this.actDoneType[a], this.actDonePayload[a]);
        this.finish(a);
      }
      for (let c = this.nodes.firstChild[n]; c !== NONE; c = this.nodes.nextSibling[c]) stop(c);
    };
    stop(node);
    this.recompute(host);
  }

  /** Whether a host's shares follow one virtual time now (see the header), as tests and diagnostics ask. O(1). */
  followsVirtualTime(host: number): boolean {
    return this.virt[host] === 1;
  }

  /** Cores currently allocated to a node (a host: all its busy cores). */
  allocation(node: number): number {
    return this.vShare[node] > 0 ? this.vShare[node] * this.vLevel[this.nodes.host[node]] : this.alloc[node];
  }

  /** Cores currently allocated to an activity's thread (0 once it is done). */
  rate(activity: number): number {
    if (!this.actLive[activity]) return 0;
    const node = this.actNode[activity];
    return this.allocation(node) / this.threads[node];
  }

  /** Remaining work of an activity now (nominal core-seconds). */
  remaining(activity: number): number {
    if (!this.actLive[activity]) return 0;
    const node = this.actNode[activity];
    const host = this.nodes.host[node];
    const dt = this.sim.now - this.hostLast[host];
    const clock =
      this.vShare[node] > 0
        ? this.clock[node] + this.leafRate[node] * (this.vTime[host] + this.vLevel[host] * dt - this.leafV[node])
        : this.clock[node] + (this.alloc[node] / this.threads[node]) * this.factor[node] * dt;
    return Math.max(0, this.actTarget[activity] - clock);
  }

  /** Nominal work one thread of `node` does per core-second before its path's CPU factor: its host's speed over the slowdowns above it. O(1). */
  speedOf(node: number): number {
    return this.speed[node];
  }

  /** Busy core-seconds of a host from its start to now. */
  busyCoreSeconds(host: number): number {
    return this.hostBusy[host] + this.alloc[host] * (this.sim.now - this.hostLast[host]);
  }

  /**
   * Makes CPU work below `node` run `slowdown` times slower (1 = normal), as
   * when a host swaps: every leaf's progress per core-second is divided by the
   * slowdowns on its path.
   */
  setSlowdown(node: number, slowdown: number): void {
    if (!(slowdown >= 1)) throw new RangeError(`node ${node}: slowdown must be >= 1, got ${slowdown}`);
    const host = this.nodes.host[node];
    this.advance(host);
    this.real(host);
    this.slow[node] = slowdown;
    const parent = this.nodes.parent[node];
    this.respeed(node, (parent === NONE ? this.hostSpeed[host] : this.speed[parent]) / slowdown);
    this.recompute(host);
  }

  /** Sets the effective speed of `n` and below, and each leaf's work per core-second from it and its own CPU factor. */
  private respeed(n: number, speed: number): void {
    this.speed[n] = speed;
    this.factor[n] = speed * this.leafCpuFactor[n];
    for (let c = this.nodes.firstChild[n]; c !== NONE; c = this.nodes.nextSibling[c]) this.respeed(c, speed / this.slow[c]);
  }

  /**
   * Pauses (`on`) or resumes a node's subtree: while paused it is bounded by zero, so its threads stay runnable and
   * their work waits (a VM stopped for the last copy of a live migration); its host is recomputed now.
   */
  freeze(node: number, on: boolean): void {
    const host = this.nodes.host[node];
    this.advance(host);
    this.real(host);
    this.frozen[node] = on ? 1 : 0;
    this.touch(node);
    this.recompute(host);
  }

  /**
   * Moves `node` and its subtree under `parent` on another host, with their threads, remaining work, CFS groups and
   * steal: both hosts are advanced to now, `relink` moves the node in the tree (its `parent` and `host` columns), then
   * both are recomputed. O(subtree + runnable path).
   */
  move(node: number, parent: number, relink: () => void): void {
    this.ensure();
    const from = this.nodes.host[node];
    const to = this.nodes.host[parent];
    this.advance(from);
    this.advance(to);
    this.real(from);
    this.real(to);
    const r = this.runnable[node];
    if (r > 0) {
      this.unlinkRunnable(node);
      for (let p = this.nodes.parent[node]; p !== NONE; p = this.nodes.parent[p]) {
        this.runnable[p] -= r;
        if (this.runnable[p] === 0) this.unlinkRunnable(p);
      }
    }
    // CFS groups and tracked steal are kept in per-host lists: the subtree's leave the old host's for the new one's.
    const moved: number[] = [];
    const walk = (n: number): void => {
      moved.push(n);
      for (let c = this.nodes.firstChild[n]; c !== NONE; c = this.nodes.nextSibling[c]) walk(c);
    };
    walk(node);
    for (const n of moved) {
      if (this.threads[n] > 0) this.unlinkLeaf(from, n);
      if (this.quota[n] > 0) {
        this.unlinkList(this.hostCfsHead, this.cfsNext, from, n);
        this.cfsNext[n] = this.hostCfsHead[to];
        this.hostCfsHead[to] = n;
      }
      if (this.stealTracked[n]) {
        this.unlinkList(this.hostStealHead, this.stealNext, from, n);
        this.stealNext[n] = this.hostStealHead[to];
        this.hostStealHead[to] = n;
      }
    }
    this.touch(this.nodes.parent[node]);
    relink();
    this.touch(node);
    for (const n of moved) if (this.threads[n] > 0) this.linkLeaf(to, n);
    if (r > 0) {
      this.linkRunnable(node);
      for (let p = parent; p !== NONE; p = this.nodes.parent[p]) {
        if (this.runnable[p] === 0) this.linkRunnable(p);
        this.runnable[p] += r;
      }
    }
    this.respeed(node, this.speed[parent] / this.slow[node]);
    this.recompute(from);
    this.recompute(to);
  }

  /** Takes `n` out of a per-host singly linked list (`head[host]`, `next[n]`). */
  private unlinkList(head: Int32Array, next: Int32Array, host: number, n: number): void {
    if (head[host] === n) head[host] = next[n];
    else for (let g = head[host]; g !== NONE; g = next[g]) if (next[g] === n) next[g] = next[n];
    next[n] = NONE;
  }

  /** Whether a node is under CFS bandwidth control. */
  hasBandwidth(node: number): boolean {
    return node < this.quota.length && this.quota[node] > 0;
  }

  /** CFS counters of a group, accrued to now. */
  bandwidthStats(node: number): BandwidthStats {
    const host = this.nodes.host[node];
    this.advance(host);
    const throttledNow = this.throttled[node] ? this.sim.now - this.throttledSince[node] : 0;
    return { nrPeriods: this.bwStats[3 * node], nrThrottled: this.bwStats[3 * node + 1], throttledTime: this.bwStats[3 * node + 2] + throttledNow };
  }

  /**
   * Keeps the steal of a node whose threads run on virtual CPUs (a guest
   * kernel's VM): core-seconds its vCPUs were runnable but not running, the
   * time the guest's `steal` counter shows. In the fluid model that is the
   * cores it could use (its bound: runnable threads up to its vCPUs, zero
   * while throttled) minus the cores it gets.
   */
  trackSteal(node: number): void {
    this.ensure();
    if (this.stealTracked[node]) return;
    this.stealTracked[node] = 1;
    const host = this.nodes.host[node];
    this.advance(host);
    this.real(host);
    this.stealNext[node] = this.hostStealHead[host];
    this.hostStealHead[host] = node;
    this.stealNodes.push(node);
  }

  /**
   * A failed host's guests are gone (its activities aborted): their steal is
   * kept in the total, and they are tracked no more.
   */
  retireSteal(host: number): void {
    this.advance(host);
    this.real(host);
    if (this.hostStealHead[host] === NONE) return;
    for (let g = this.hostStealHead[host]; g !== NONE; g = this.stealNext[g]) {
      this.retiredSteal += this.stealSeconds[g];
      this.stealRetired[host] += this.stealSeconds[g];
      this.stealTracked[g] = 0; // its steal stays what it was (stealOf)
    }
    this.hostStealHead[host] = NONE;
    this.stealNodes = this.stealNodes.filter((n) => this.nodes.host[n] !== host);
  }

  /** A guest is gone (its node removed): its steal stays in the total, and it is tracked no more. */
  untrackSteal(node: number): void {
    if (!this.stealTracked[node]) return;
    this.stealTracked[node] = 0;
    const i = this.stealNodes.indexOf(node);
    const host = this.nodes.host[node];
    this.advance(host);
    this.real(host);
    this.retiredSteal += this.stealSeconds[node];
    this.stealRetired[host] += this.stealSeconds[node];
    this.stealNodes.splice(i, 1);
    this.unlinkList(this.hostStealHead, this.stealNext, host, node);
  }

  /** Steal of every tracked node (and of the guests of failed hosts), summed, in core-seconds from its start to now. */
  totalSteal(): number {
    let t = this.retiredSteal;
    for (const n of this.stealNodes) t += this.stealNow(n);
    return t;
  }

  /** Steal of a node, core-seconds from when it was tracked to now (what it had when it stopped being tracked). O(1). */
  stealOf(node: number): number {
    this.ensure();
    return this.stealTracked[node] ? this.stealNow(node) : this.stealSeconds[node];
  }

  /** Steal of the guests of one host, those gone included, core-seconds to now. O(guests of the host). */
  hostSteal(host: number): number {
    this.ensure();
    let t = this.stealRetired[host];
    for (let g = this.hostStealHead[host]; g !== NONE; g = this.stealNext[g]) t += this.stealNow(g);
    return t;
  }

  /** Steal of a tracked node to now: under virtual time its bound over the time less its share of the virtual time. */
  private stealNow(n: number): number {
    const host = this.nodes.host[n];
    const dt = this.sim.now - this.hostLast[host];
    if (this.vShare[n] > 0) {
      const v = this.vTime[host] + this.vLevel[host] * dt;
      return this.stealSeconds[n] + this.bound[n] * (this.sim.now - this.stealAt[n]) - this.vShare[n] * (v - this.stealV[n]);
    }
    return this.stealSeconds[n] + this.stealRate(n) * dt;
  }

  private stealRate(n: number): number {
    return this.runnable[n] > 0 ? Math.max(0, this.bound[n] - this.alloc[n]) : 0;
  }

  /** Recomputes a host's allocation now (after a rule change). */
  refresh(host: number): void {
    this.advance(host);
    this.real(host);
    this.recompute(host);
  }

  // --- virtual time ---

  /** The host's child on the path from `n` (`n` itself when its parent is the host); NONE for a host. O(depth). */
  private topOf(n: number): number {
    const parent = this.nodes.parent;
    if (parent[n] === NONE) return NONE;
    while (parent[parent[n]] !== NONE) n = parent[n];
    return n;
  }

  /**
   * The leaf at the end of host child `c`'s chain: from `c` down, each node has one runnable child and a bound > 0,
   * and the leaf works (factor > 0). NONE when its runnable subtree is not such a chain. O(depth).
   */
  private chainLeaf(c: number): number {
    for (let m = c; ; ) {
      if (!(this.bound[m] > 0)) return NONE;
      if (this.threads[m] > 0) return this.factor[m] > 0 ? m : NONE; // threads live only on leaves
      const f = this.firstRun[m];
      if (f === NONE || this.nextRun[f] !== NONE) return NONE;
      m = f;
    }
  }

  /**
   * Puts host child `c`, a chain to `leaf`, under its host's virtual time from `hostLast`: the chain's every node is
   * allocated its weight times the level (no node below `c` is bounded below that: `c`'s bound is the least on the
   * chain), and the leaf's clock advances by its work per unit of virtual time. O(depth + log leaves).
   */
  private join(host: number, c: number, leaf: number): void {
    const w = this.weightOf(c);
    this.vWeight[host] += w;
    this.vBound[host] += this.bound[c];
    const key = this.bound[c] / w;
    if (key < this.vMinKey[host]) this.vMinKey[host] = key;
    const t = this.hostLast[host];
    const v = this.vTime[host];
    for (let m = c; ; m = this.firstRun[m]) {
      this.vShare[m] = w;
      if (this.stealTracked[m]) {
        this.stealAt[m] = t;
        this.stealV[m] = v;
      }
      if (m === leaf) break;
    }
    const rate = (w / this.threads[leaf]) * this.factor[leaf];
    this.leafRate[leaf] = rate;
    this.leafV[leaf] = v;
    this.leafEnd[leaf] = v + (this.leafMin[leaf] - this.clock[leaf]) / rate;
    const n = ++this.vCount[host];
    if (n > this.heapCap[host]) this.growHeap(host, n);
    this.leafUp(this.heapStart[host], n - 1, leaf);
  }

  /**
   * Takes host child `c` off its host's virtual time: its chain's allocations, steal and leaf clock are written out
   * as they are at `hostLast`, so the flat model can go on from them. `heap`: also take its leaf out of the heap.
   */
  private leave(host: number, c: number, heap: boolean): void {
    const w = this.vShare[c];
    const a = w * this.vLevel[host];
    const t = this.hostLast[host];
    const v = this.vTime[host];
    this.vWeight[host] -= w;
    this.vBound[host] -= this.bound[c];
    for (let m = c; ; m = this.firstRun[m]) {
      this.vShare[m] = 0;
      this.alloc[m] = a;
      if (this.stealTracked[m]) this.stealSeconds[m] += this.bound[m] * (t - this.stealAt[m]) - w * (v - this.stealV[m]);
      if (this.threads[m] > 0) {
        this.clock[m] += this.leafRate[m] * (v - this.leafV[m]);
        if (heap) this.leafRemove(host, m);
        return;
      }
    }
  }

  /** Takes the chain of `node` (a leaf about to change) off its host's virtual time, if it is under it. */
  private leaveChainOf(host: number, node: number): void {
    const c = this.topOf(node);
    if (c !== NONE && this.vShare[c] > 0) this.leave(host, c, true);
  }

  /**
   * Leaves virtual time on `host` (every value written out as at `hostLast`) before a change it does not follow
   * (rules, limits, pauses, moves, aborts, steal bookkeeping); the next recomputation is a full one. O(children).
   */
  private real(host: number): void {
    if (!this.virt[host]) return;
    for (let c = this.firstRun[host]; c !== NONE; c = this.nextRun[c]) if (this.vShare[c] > 0) this.leave(host, c, false);
    for (let c = this.vHead[host]; c !== NONE; ) {
      const next = this.vNext[c];
      this.vChanged[c] = 0;
      this.vNext[c] = NONE;
      c = next;
    }
    this.vHead[host] = NONE;
    this.vSelf[host] = 0;
    this.vCount[host] = 0;
    this.virt[host] = 0;
    this.dirty[host] = 1;
    this.redo[host] = 1;
  }

  /**
   * After a full recomputation: puts the host under virtual time when it has at least `virtualFrom` runnable
   * children, each a chain (`chainLeaf`), more demand than cores (and some cores), no CFS group, no threads of its
   * own, and no child saturated (each gets its weight times the level, below its bound). O(children) when it does,
   * less when it does not.
   */
  private enterVirtual(host: number): boolean {
    // A host's own threads (a host used as a leaf) are no chain; a paused host has no level.
    if (this.hostCfsHead[host] !== NONE || this.threads[host] > 0 || !(this.childBound[host] > this.alloc[host] && this.alloc[host] > 0)) return false;
    let count = 0;
    let W = 0;
    let minKey = Infinity;
    for (let c = this.firstRun[host]; c !== NONE; c = this.nextRun[c]) {
      if (this.chainLeaf(c) === NONE) return false;
      const w = this.weightOf(c);
      W += w;
      minKey = Math.min(minKey, this.bound[c] / w);
      count++;
    }
    const level = this.alloc[host] / W;
    if (count < this.virtualFrom || !(minKey > level)) return false;
    this.virt[host] = 1;
    this.vLevel[host] = level;
    this.vTime[host] = 0; // a virtual time starts at zero, which keeps it small and its rounding far below any work
    this.vWeight[host] = 0;
    this.vBound[host] = 0;
    this.vMinKey[host] = Infinity;
    this.vCount[host] = 0;
    for (let c = this.firstRun[host]; c !== NONE; c = this.nextRun[c]) this.join(host, c, this.chainLeaf(c));
    return true;
  }

  /**
   * Recomputes a host under virtual time: only the changed children leave and join again, and the level is the
   * host's allocation over its children's weights. False (the host left virtual time) when the change takes it out
   * of what virtual time follows: a child not a chain, demand within the cores, a child saturated, the host touched.
   * O(changed children x (depth + log leaves)).
   */
  private virtualRecompute(host: number): boolean {
    let ok = !this.vSelf[host];
    for (let c = this.vHead[host]; c !== NONE; ) {
      const next = this.vNext[c];
      this.vChanged[c] = 0;
      this.vNext[c] = NONE;
      if (ok) {
        if (this.vShare[c] > 0) this.leave(host, c, true);
        if (this.runnable[c] > 0) {
          if (this.dirty[c]) this.computeBound(c);
          const leaf = this.chainLeaf(c);
          if (leaf === NONE) ok = false;
          else this.join(host, c, leaf);
        }
      }
      c = next;
    }
    this.vHead[host] = NONE;
    this.vSelf[host] = 0;
    if (ok) {
      const b = Math.min(this.cap[host], this.vBound[host]);
      const a = Math.min(this.hostCores[host], b);
      const level = a / this.vWeight[host];
      ok = this.vBound[host] > a && this.vMinKey[host] > level;
      if (ok) {
        this.dirty[host] = 0;
        this.bound[host] = b;
        this.childBound[host] = this.vBound[host];
        this.alloc[host] = a;
        this.vLevel[host] = level;
      }
    }
    if (!ok) {
      this.real(host);
      return false;
    }
    this.virtualNext(host);
    return true;
  }

  /** Places a host's completion event under virtual time: its heap's first leaf, when the level brings it there. */
  private virtualNext(host: number): void {
    const now = this.sim.now;
    let t = Infinity;
    let leaf = NONE;
    if (this.vCount[host] > 0) {
      leaf = this.heapPool[this.heapStart[host]];
      const left = this.leafEnd[leaf] - this.vTime[host];
      t = left <= 0 ? now : now + left / this.vLevel[host];
    }
    this.hostNextLeaf[host] = leaf;
    this.place(this.hostEvent, this.hostEventTime, host, t, this.completeType);
  }

  /**
   * The leaves of a host under virtual time whose clock reached its smallest target (within 1e-12 of its size), and
   * `forced`, into `scratch`, each taken off the virtual time (its clock written out); returns how many. Only heap
   * entries ending by the forced leaf's end (and rounding) are visited.
   */
  private virtualDue(host: number, forced: number): number {
    const v = this.vTime[host];
    const end = forced === NONE ? v : Math.max(v, this.leafEnd[forced]);
    this.dueCount = 0;
    this.collectDue(this.heapStart[host], 0, this.vCount[host], end + 1e-9 * Math.abs(end), v, forced);
    const m = this.dueCount;
    for (let i = 0; i < m; i++) this.leave(host, this.topOf(this.scratch[i]), true);
    return m;
  }

  private dueCount = 0;

  private collectDue(base: number, i: number, n: number, limit: number, v: number, forced: number): void {
    if (i >= n) return;
    const leaf = this.heapPool[base + i];
    if (this.leafEnd[leaf] > limit) return;
    const a = this.heapPool[this.heapStart[leaf]];
    const clock = this.clock[leaf] + this.leafRate[leaf] * (v - this.leafV[leaf]);
    if (leaf === forced || this.actTarget[a] - clock <= DONE_TOLERANCE * this.actSize[a]) {
      if (this.dueCount === this.scratch.length) growColumns(this, SCRATCH_COLUMNS, this.dueCount * 2);
      this.scratch[this.dueCount++] = leaf;
    }
    this.collectDue(base, 2 * i + 1, n, limit, v, forced);
    this.collectDue(base, 2 * i + 2, n, limit, v, forced);
  }

  /** Whether leaf `x` ends before leaf `y` in virtual time (on equal ends, in the tree's order). */
  private endsBefore(x: number, y: number): boolean {
    const a = this.leafEnd[x];
    const b = this.leafEnd[y];
    return a < b || (a === b && this.before(x, y));
  }

  /** Takes leaf `leaf` out of its host's heap. */
  private leafRemove(host: number, leaf: number): void {
    const base = this.heapStart[host];
    const n = --this.vCount[host];
    const last = this.heapPool[base + n];
    if (last !== leaf) {
      this.leafUp(base, this.leafPos[leaf], last);
      this.leafDown(base, n, this.leafPos[last], last);
    }
  }

  /** Places leaf `x` at position `i` of the host heap at `base`, or above it. */
  private leafUp(base: number, i: number, x: number): void {
    const pool = this.heapPool;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const b = pool[base + p];
      if (!this.endsBefore(x, b)) break;
      pool[base + i] = b;
      this.leafPos[b] = i;
      i = p;
    }
    pool[base + i] = x;
    this.leafPos[x] = i;
  }

  /** Places leaf `x` at position `i` of the host heap at `base` (of `n` entries), or below it. */
  private leafDown(base: number, n: number, i: number, x: number): void {
    const pool = this.heapPool;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && this.endsBefore(pool[base + c + 1], pool[base + c])) c++;
      const b = pool[base + c];
      if (!this.endsBefore(b, x)) break;
      pool[base + i] = b;
      this.leafPos[b] = i;
      i = c;
    }
    pool[base + i] = x;
    this.leafPos[x] = i;
  }

  // --- the fluid model ---

  /** Advances leaf clocks, busy time and CFS budgets of a host to now, at the rates in force. */
  private advance(host: number): void {
    this.ensure();
    const now = this.sim.now;
    const dt = now - this.hostLast[host];
    if (dt <= 0) return;
    if (this.virt[host]) {
      // Leaf clocks and steal follow the virtual time; a host under it has no CFS group.
      this.vTime[host] += this.vLevel[host] * dt;
      this.hostBusy[host] += this.alloc[host] * dt;
      this.hostLast[host] = now;
      return;
    }
    this.advanceClocks(host, dt);
    this.hostBusy[host] += this.alloc[host] * dt;
    for (let g = this.hostCfsHead[host]; g !== NONE; g = this.cfsNext[g]) this.accrue(g, this.hostLast[host], now);
    for (let g = this.hostStealHead[host]; g !== NONE; g = this.stealNext[g]) this.stealSeconds[g] += this.stealRate(g) * dt;
    this.hostLast[host] = now;
  }

  /**
   * Advances the clock of each runnable leaf of a host by its threads' work over `dt`. A leaf under a node with no
   * allocation has none itself (`distribute` and `zero` keep that), so it is skipped as the tree walk skipped it.
   */
  private advanceClocks(host: number, dt: number): void {
    const alloc = this.alloc;
    const threads = this.threads;
    const clock = this.clock;
    const factor = this.factor;
    const next = this.leafNext;
    for (let n = this.hostLeafHead[host]; n !== NONE; n = next[n]) {
      const a = alloc[n];
      if (a > 0) clock[n] += (a / threads[n]) * factor[n] * dt;
    }
  }

  /** Accrues a CFS group's budget from t0 to t1 at its current allocation, refilling at period boundaries. */
  private accrue(g: number, t0: number, t1: number): void {
    const P = this.period[g];
    const k0 = Math.floor((t0 - this.phase[g]) / P + 1e-12);
    const k1 = Math.floor((t1 - this.phase[g]) / P + 1e-12);
    const a = this.alloc[g];
    if (k1 === k0) {
      this.budget[g] = Math.max(0, this.budget[g] - a * (t1 - t0));
    } else {
      if (this.runnable[g] > 0) this.bwStats[3 * g] += k1 - k0;
      const boundary = this.phase[g] + k1 * P;
      this.budget[g] = Math.max(0, this.quota[g] - a * (t1 - boundary));
    }
  }

  /** Recomputes bounds and shares of a host and its next events. */
  private recompute(host: number): void {
    if (host === this.holding) return;
    if (this.virt[host] && this.virtualRecompute(host)) return;
    if (this.dirty[host]) this.computeBound(host);
    const a = Math.min(this.hostCores[host], this.bound[host]);
    if (a !== this.alloc[host]) {
      this.alloc[host] = a;
      this.redo[host] = 1;
    }
    if (this.redo[host]) this.distribute(host);
    if (this.enterVirtual(host)) {
      this.virtualNext(host);
      return;
    }
    this.findNext(host);
    this.hostNextLeaf[host] = this.nextLeaf;
    this.place(this.hostEvent, this.hostEventTime, host, this.nextTime, this.completeType);
    for (let g = this.hostCfsHead[host]; g !== NONE; g = this.cfsNext[g]) this.scheduleExhaustion(g);
  }

  private nextTime = Infinity;
  private nextLeaf = NONE;

  /**
   * The earliest time a leaf's clock reaches its smallest target, and that leaf (on equal times, the first in the
   * tree's order, as a walk of the tree finds it).
   */
  private findNext(host: number): void {
    const now = this.sim.now;
    const alloc = this.alloc;
    const threads = this.threads;
    const clock = this.clock;
    const factor = this.factor;
    const leafMin = this.leafMin;
    const next = this.leafNext;
    let best = Infinity;
    let bestLeaf = NONE;
    for (let n = this.hostLeafHead[host]; n !== NONE; n = next[n]) {
      const speed = (alloc[n] / threads[n]) * factor[n];
      const left = leafMin[n] - clock[n];
      const t = left <= 0 ? now : speed > 0 ? now + left / speed : Infinity;
      if (t < best || (t === best && t !== Infinity && this.before(n, bestLeaf))) {
        best = t;
        bestLeaf = n;
      }
    }
    this.nextTime = best;
    this.nextLeaf = bestLeaf;
  }

  /**
   * Whether node `a` comes before node `b` in the tree's order: depth first, siblings in decreasing id (the order of
   * the runnable lists). Neither is the other's ancestor (both are leaves). O(depth).
   */
  private before(a: number, b: number): boolean {
    const parent = this.nodes.parent;
    let da = 0;
    let db = 0;
    for (let n = a; parent[n] !== NONE; n = parent[n]) da++;
    for (let n = b; parent[n] !== NONE; n = parent[n]) db++;
    for (; da > db; da--) a = parent[a];
    for (; db > da; db--) b = parent[b];
    while (parent[a] !== parent[b]) {
      a = parent[a];
      b = parent[b];
    }
    return a > b;
  }

  /**
   * Keeps the kernel event of entity `i` (a host's completion, a group's budget
   * event) at `time`, cancelling it for Infinity; nothing is rescheduled when the
   * time is unchanged (most recomputations move only one group's events).
   */
  private place(handles: Float64Array, times: Float64Array, i: number, time: number, type: EventType): void {
    const handle = handles[i];
    const pending = handle >= 0 && this.sim.isPending(handle);
    if (time === Infinity) {
      if (pending) this.sim.cancel(handle);
      handles[i] = -1;
      return;
    }
    if (pending) {
      if (times[i] !== time) this.sim.rescheduleAt(handle, time);
    } else {
      handles[i] = this.sim.scheduleAt(type, time, i);
    }
    times[i] = time;
  }

  private scheduleExhaustion(g: number): void {
    if (this.throttled[g]) return; // the restore event is pending
    const a = this.alloc[g];
    let t = Infinity;
    if (a > 0) {
      const now = this.sim.now;
      const P = this.period[g];
      const k = Math.floor((now - this.phase[g]) / P + 1e-12);
      const nextBoundary = this.phase[g] + (k + 1) * P;
      const out = now + this.budget[g] / a;
      if (out < nextBoundary) t = out;
      else if (this.quota[g] / a < P) t = nextBoundary + this.quota[g] / a;
    }
    this.place(this.bwEvent, this.bwEventTime, g, t, this.exhaustType);
  }

  /**
   * Post-order over the dirty nodes: runnable counts are maintained incrementally; bounds computed here. A clean
   * node keeps its bound (its inputs are unchanged).
   */
  private computeBound(n: number): number {
    this.dirty[n] = 0;
    this.redo[n] = 1;
    if (this.runnable[n] === 0) {
      // An idle subtree is bounded by zero (only a host gets here: idle children are not in the runnable lists).
      this.bound[n] = 0;
      this.childBound[n] = 0;
      return 0;
    }
    let sum = this.threads[n]; // each runnable thread is bounded by one core
    for (let c = this.firstRun[n]; c !== NONE; c = this.nextRun[c]) sum += this.dirty[c] ? this.computeBound(c) : this.bound[c];
    this.childBound[n] = sum;
    const b = this.throttled[n] || this.frozen[n] ? 0 : Math.min(this.cap[n], sum);
    this.bound[n] = b;
    return b;
  }

  private weightOf(n: number): number {
    const w = this.weight[n];
    // A negative weight is -(weight per runnable thread); -1 * x is x exactly, so plain "runnable" is unchanged.
    return w >= 0 ? w : -w * Math.min(this.runnable[n], this.cap[n]);
  }

  /**
   * Divides `alloc[n]` among n's children by weighted water-filling, then
   * recurses into the children whose allocation or bound changed (`redo`).
   * Threads live only on leaves (processes and auxiliary nodes), which split
   * their allocation equally among their runnable threads. Idle children are
   * not visited: their allocation was zeroed when they went idle.
   */
  private distribute(n: number): void {
    this.redo[n] = 0;
    const bound = this.bound;
    let C = this.alloc[n];
    const only = this.firstRun[n];
    if (only !== NONE && this.nextRun[only] === NONE && bound[only] > 0) {
      // perf: one runnable child (a VM's guest process): the water-filling below, in the same operations, without
      // its scratch and loops (on one host of 100 VMs, each event gives every VM a new share).
      const b = bound[only];
      if (b <= C) this.give(only, b);
      else {
        const w = this.weightOf(only);
        this.give(only, b * w <= C * w ? b : (C / w) * w);
      }
      if (this.redo[only] && this.nodes.firstChild[only] !== NONE) this.distribute(only);
      return;
    }
    let k = 0;
    let sumBound = 0;
    for (let c = this.firstRun[n]; c !== NONE; c = this.nextRun[c]) {
      if (bound[c] > 0) {
        if (k === this.scratch.length) growColumns(this, SCRATCH_COLUMNS, k * 2);
        this.scratch[k++] = c;
        sumBound += bound[c];
      } else if (this.alloc[c] !== 0) {
        this.zero(c);
      }
    }
    const scratch = this.scratch;
    if (sumBound <= C) {
      for (let i = 0; i < k; i++) this.give(scratch[i], bound[scratch[i]]);
    } else {
      // Saturate children in increasing bound/weight order; the rest share what remains by weight.
      const keys = this.scratchKey;
      const ws = this.scratchWeight;
      let W = 0;
      let sorted = true;
      for (let i = 0; i < k; i++) {
        const w = this.weightOf(scratch[i]);
        const key = bound[scratch[i]] / w;
        ws[i] = w;
        keys[i] = key;
        if (i > 0 && keys[i - 1] > key) sorted = false;
        W += w;
      }
      // perf: on a host of like VMs every key is equal, and the insertion sort is skipped (an unchanged order).
      if (!sorted) {
        for (let i = 1; i < k; i++) {
          const c = scratch[i];
          const key = keys[i];
          const w = ws[i];
          let j = i - 1;
          while (j >= 0 && keys[j] > key) {
            scratch[j + 1] = scratch[j];
            keys[j + 1] = keys[j];
            ws[j + 1] = ws[j];
            j--;
          }
          scratch[j + 1] = c;
          keys[j + 1] = key;
          ws[j + 1] = w;
        }
      }
      for (let i = 0; i < k; i++) {
        const c = scratch[i];
        const w = ws[i];
        if (bound[c] * W <= C * w) {
          this.give(c, bound[c]);
          C -= bound[c];
          W -= w;
        } else {
          const level = C / W;
          for (let j = i; j < k; j++) this.give(scratch[j], level * ws[j]);
          break;
        }
      }
    }
    const firstChild = this.nodes.firstChild;
    for (let c = this.firstRun[n]; c !== NONE; c = this.nextRun[c]) {
      if (this.redo[c] && bound[c] > 0 && firstChild[c] !== NONE) this.distribute(c);
    }
  }

  /** Sets a child's allocation; a change marks it for new shares of its own children. */
  private give(c: number, a: number): void {
    if (this.alloc[c] !== a) {
      this.alloc[c] = a;
      this.redo[c] = 1;
    }
  }

  /** Zeroes the allocation of a throttled subtree (only where it is not zero already). */
  private zero(n: number): void {
    this.alloc[n] = 0;
    for (let c = this.firstRun[n]; c !== NONE; c = this.nextRun[c]) if (this.alloc[c] !== 0) this.zero(c);
  }

  private onComplete(host: number): void {
    this.hostEvent[host] = -1;
    this.advance(host);
    this.doneCount = 0;
    this.completeLeaves(host, this.hostNextLeaf[host]);
    const n = this.doneCount;
    if (this.virt[host] && n > 0) {
      // perf: under virtual time the owners' new work (a closed loop's next request) joins the finished chains in one
      // recomputation after they hear of their completions, not one before and one per start (vms.js --solver: 100
      // VMs). Meanwhile the host is read only at this instant: work done, steal and busy time need no new share.
      this.holding = host;
      try {
        for (let i = 0; i < n; i++) this.sim.dispatch(this.doneTypes[i], this.donePayloads[i]);
      } finally {
        this.holding = NONE;
      }
      this.recompute(host);
      return;
    }
    this.recompute(host);
    // perf: the owners hear of their completions now, in this event, rather than through one more kernel event each
    // (a third fewer events per request in the web shop); the host's state is consistent again at this point.
    for (let i = 0; i < n; i++) this.sim.dispatch(this.doneTypes[i], this.donePayloads[i]);
  }

  /** The host whose recomputation waits until its owners have heard of its completions (NONE: none). */
  private holding = NONE;

  private doneCount = 0;
  private doneTypes = new Int32Array(16);
  private donePayloads = new Int32Array(16);

  /**
   * Completes every activity whose leaf clock reached its target (within
   * 1e-12 of its size), and the predicted leaf's earliest one in any case, so
   * rounding can never leave a completion pending forever. Leaves complete in
   * the tree's order (their owners hear of it in that order).
   */
  private completeLeaves(host: number, forced: number): void {
    const pool = this.heapPool;
    let m = 0;
    if (this.virt[host]) m = this.virtualDue(host, forced);
    else {
      for (let n = this.hostLeafHead[host]; n !== NONE; n = this.leafNext[n]) {
        const a = pool[this.heapStart[n]];
        if (n === forced || this.actTarget[a] - this.clock[n] <= DONE_TOLERANCE * this.actSize[a]) {
          if (m === this.scratch.length) growColumns(this, SCRATCH_COLUMNS, m * 2);
          this.scratch[m++] = n;
        }
      }
    }
    const leaves = this.scratch;
    for (let i = 1; i < m; i++) {
      const n = leaves[i];
      let j = i - 1;
      while (j >= 0 && this.before(n, leaves[j])) {
        leaves[j + 1] = leaves[j];
        j--;
      }
      leaves[j + 1] = n;
    }
    for (let i = 0; i < m; i++) {
      const n = leaves[i];
      const top = this.heapStart[n];
      const clock = this.clock[n];
      let force = n === forced;
      while (this.threads[n] > 0) {
        const a = this.heapPool[top];
        if (!(force || this.actTarget[a] - clock <= DONE_TOLERANCE * this.actSize[a])) break;
        force = false;
        if (this.actDoneType[a] >= 0) {
          if (this.doneCount === this.doneTypes.length) growColumns(this, DONE_COLUMNS, this.doneCount * 2);
          this.doneTypes[this.doneCount] = this.actDoneType[a];
          this.donePayloads[this.doneCount++] = this.actDonePayload[a];
        }
        this.finish(a);
      }
    }
  }

  private onExhausted(g: number): void {
    this.bwEvent[g] = -1;
    const host = this.nodes.host[g];
    this.advance(host);
    this.budget[g] = 0;
    this.throttled[g] = 1;
    this.throttledSince[g] = this.sim.now;
    this.bwStats[3 * g + 1]++;
    this.touch(g);
    const P = this.period[g];
    const k = Math.floor((this.sim.now - this.phase[g]) / P + 1e-12);
    this.bwEventTime[g] = this.phase[g] + (k + 1) * P;
    this.bwEvent[g] = this.sim.scheduleAt(this.restoreType, this.bwEventTime[g], g);
    this.recompute(host);
  }

  private onRestored(g: number): void {
    this.bwEvent[g] = -1;
    const host = this.nodes.host[g];
    this.advance(host);
    this.throttled[g] = 0;
    this.bwStats[3 * g + 2] += this.sim.now - this.throttledSince[g];
    this.budget[g] = this.quota[g];
    this.touch(g);
    this.recompute(host);
  }

  /** Removes an activity from its leaf. */
  private finish(a: number): void {
    const node = this.actNode[a];
    for (let n = node; n !== NONE; n = this.nodes.parent[n]) if (--this.runnable[n] === 0) this.unlinkRunnable(n);
    if (--this.threads[node] === 0) this.unlinkLeaf(this.nodes.host[node], node);
    this.touch(node);
    this.heapRemove(node, a);
    this.actLive[a] = 0;
    this.actFree.push(a);
    // An idle leaf restarts its clock at zero, which keeps clocks small and their rounding far below any work size.
    if (this.threads[node] === 0) this.clock[node] = 0;
  }

  /** Adds leaf `n` to its host's runnable leaves. */
  private linkLeaf(host: number, n: number): void {
    const head = this.hostLeafHead[host];
    this.leafPrev[n] = NONE;
    this.leafNext[n] = head;
    if (head !== NONE) this.leafPrev[head] = n;
    this.hostLeafHead[host] = n;
  }

  /** Takes leaf `n` out of its host's runnable leaves. */
  private unlinkLeaf(host: number, n: number): void {
    const prev = this.leafPrev[n];
    const next = this.leafNext[n];
    if (prev === NONE) this.hostLeafHead[host] = next;
    else this.leafNext[prev] = next;
    if (next !== NONE) this.leafPrev[next] = prev;
    this.leafNext[n] = NONE;
    this.leafPrev[n] = NONE;
  }

  /** Marks `n` and its path to the host for a new bound and new shares at the next recomputation. O(depth). */
  private touch(n: number): void {
    const host = this.nodes.host[n];
    if (this.virt[host]) {
      const c = this.topOf(n);
      if (c === NONE) this.vSelf[host] = 1;
      else if (!this.vChanged[c]) {
        this.vChanged[c] = 1;
        this.vNext[c] = this.vHead[host];
        this.vHead[host] = c;
      }
    }
    for (let m = n; m !== NONE; m = this.nodes.parent[m]) this.dirty[m] = 1;
  }

  /** A node has become runnable: it joins its parent's runnable children at its sibling position (decreasing id). */
  private linkRunnable(n: number): void {
    const p = this.nodes.parent[n];
    if (p === NONE) return;
    let prev = NONE;
    let c = this.firstRun[p];
    while (c !== NONE && c > n) {
      prev = c;
      c = this.nextRun[c];
    }
    this.prevRun[n] = prev;
    this.nextRun[n] = c;
    if (prev === NONE) this.firstRun[p] = n;
    else this.nextRun[prev] = n;
    if (c !== NONE) this.prevRun[c] = n;
  }

  /**
   * A node has gone idle: it leaves its parent's runnable children, and its
   * bound and allocation are zero from now (as the next recomputation would
   * make them, had it visited the node).
   */
  private unlinkRunnable(n: number): void {
    const p = this.nodes.parent[n];
    if (p === NONE) return;
    const prev = this.prevRun[n];
    const next = this.nextRun[n];
    if (prev === NONE) this.firstRun[p] = next;
    else this.nextRun[prev] = next;
    if (next !== NONE) this.prevRun[next] = prev;
    this.bound[n] = 0;
    this.alloc[n] = 0;
  }

  /** Adds activity `a` to its leaf's heap, which holds `threads[node]` activities with it. */
  private heapPush(node: number, a: number): void {
    const n = this.threads[node];
    if (n > this.heapCap[node]) this.growHeap(node, n);
    const base = this.heapStart[node];
    this.siftUp(base, n - 1, a);
    this.leafMin[node] = this.actTarget[this.heapPool[base]];
  }

  /** Removes activity `a` from its leaf's heap, which holds `threads[node]` activities without it. */
  private heapRemove(node: number, a: number): void {
    const base = this.heapStart[node];
    const n = this.threads[node];
    const last = this.heapPool[base + n];
    if (last !== a) {
      const i = this.actPos[a];
      this.siftUp(base, i, last);
      this.siftDown(base, n, this.actPos[last], last);
    }
    this.leafMin[node] = n > 0 ? this.actTarget[this.heapPool[base]] : Infinity;
  }

  /** Places activity `a` at heap position `i` (of the heap at `base`) or above it. */
  private siftUp(base: number, i: number, a: number): void {
    const pool = this.heapPool;
    const t = this.actTarget[a];
    while (i > 0) {
      const p = (i - 1) >> 1;
      const b = pool[base + p];
      if (this.actTarget[b] <= t) break;
      pool[base + i] = b;
      this.actPos[b] = i;
      i = p;
    }
    pool[base + i] = a;
    this.actPos[a] = i;
  }

  /** Places activity `a` at heap position `i` (of the heap at `base`, of `n` entries) or below it. */
  private siftDown(base: number, n: number, i: number, a: number): void {
    const pool = this.heapPool;
    const t = this.actTarget[a];
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && this.actTarget[pool[base + c + 1]] < this.actTarget[pool[base + c]]) c++;
      const b = pool[base + c];
      if (t <= this.actTarget[b]) break;
      pool[base + i] = b;
      this.actPos[b] = i;
      i = c;
    }
    pool[base + i] = a;
    this.actPos[a] = i;
  }

  /** Moves a leaf's heap to a block of at least `need` entries at the end of the pool. */
  private growHeap(node: number, need: number): void {
    const cap = Math.max(4, 2 * this.heapCap[node], need);
    if (this.poolUsed + cap > this.heapPool.length) {
      let c = this.heapPool.length * 2;
      while (c < this.poolUsed + cap) c *= 2;
      this.heapPool = grown(this.heapPool, c);
    }
    const from = this.heapStart[node];
    this.heapPool.copyWithin(this.poolUsed, from, from + this.heapCap[node]);
    this.heapStart[node] = this.poolUsed;
    this.heapCap[node] = cap;
    this.poolUsed += cap;
  }

  private allocActivity(): number {
    if (this.actFree.length > 0) return this.actFree.pop()!;
    if (this.actCount === this.actNode.length) growColumns(this, ACTIVITY_COLUMNS, this.actCount * 2);
    return this.actCount++;
  }



  /** Grows the per-node columns to the node store's size. */
  private ensure(): void {
    const n = Math.max(64, this.nodes.kind.length);
    if (this.weight.length < n) growColumns(this, NODE_COLUMNS, n);
  }
}
