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
 * touches its runnable nodes, neither its idle ones (each node keeps a list of
 * its runnable children in sibling order, so the walks visit what runs however
 * many replicas a host holds; perf: the web shop's hosts hold ten or more
 * processes, rarely more than one running) nor its activities: the threads of
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
];

/** Scratch of water-filling, and the completions of one event (grown by doubling). */
const SCRATCH_COLUMNS: readonly ColumnSpec[] = [
  ["scratch", Int32Array],
  ["scratchKey", Float64Array],
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

  private readonly completeType: EventType;
  private readonly exhaustType: EventType;
  private readonly restoreType: EventType;

  constructor(
    private readonly sim: Simulation,
    private readonly nodes: NodeStore,
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
  }

  /** Sets a node's weight (see `CpuWeight`) and cap in cores. Call before the node runs work. */
  setRules(node: number, weight: CpuWeight, cap = Infinity): void {
    this.ensure();
    if (!(cap > 0)) throw new RangeError(`node ${node}: CPU cap must be > 0 cores, got ${cap}`);
    this.weight[node] = encodeWeight(node, weight);
    this.cap[node] = cap;
    const parent = this.nodes.parent[node];
    if (parent !== NONE) this.speed[node] = this.speed[parent] / this.slow[node];
  }

  /** Changes a running node's weight and cap (absent: unchanged); its host is recomputed now. */
  updateRules(node: number, weight: CpuWeight | undefined, cap: number | undefined): void {
    const host = this.nodes.host[node];
    this.advance(host);
    if (weight !== undefined) this.weight[node] = encodeWeight(node, weight);
    if (cap !== undefined) {
      if (!(cap > 0)) throw new RangeError(`node ${node}: CPU cap must be > 0 cores, got ${cap}`);
      this.cap[node] = cap;
    }
    this.recompute(host);
  }

  /** Puts a node under CFS bandwidth control: `quota` core-seconds per `period`, periods starting now. */
  setBandwidth(node: number, quota: number, period: number): void {
    this.ensure();
    if (!(quota > 0 && period > 0)) throw new RangeError(`node ${node}: CFS quota and period must be > 0`);
    const host = this.nodes.host[node];
    this.advance(host);
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
    this.recompute(host);
  }

  /** Takes a node out of CFS bandwidth control (its counters stay); its host is recomputed now. */
  clearBandwidth(node: number): void {
    if (!this.hasBandwidth(node)) return;
    const host = this.nodes.host[node];
    this.advance(host);
    if (this.bwEvent[node] >= 0) this.sim.cancel(this.bwEvent[node]);
    this.bwEvent[node] = -1;
    if (this.throttled[node]) {
      this.bwStats[3 * node + 2] += this.sim.now - this.throttledSince[node];
      this.throttled[node] = 0;
    }
    this.quota[node] = 0;
    this.unlinkList(this.hostCfsHead, this.cfsNext, host, node);
    this.recompute(host);
  }

  /**
   * Starts `work` nominal core-seconds on a new thread of leaf `node` (a
   * process or an auxiliary node); when done, kernel event `doneType` is
   * scheduled with `donePayload` (none if `doneType` is negative). `cpuFactor` is the path's throughput factor
   * (the same for every thread of a node). Returns the activity id. O(nodes of
   * the host).
   */
  start(node: number, work: number, cpuFactor: number, doneType: EventType, donePayload: number): number {
    if (!(work >= 0) || !Number.isFinite(work)) throw new RangeError(`cpu work must be a finite number >= 0, got ${work}`);
    if (this.nodes.firstChild[node] !== NONE) throw new Error(`node ${node} has child nodes; threads run only on leaves (processes, auxiliary nodes)`);
    const host = this.nodes.host[node];
    this.advance(host);
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
    this.threads[node]++;
    this.heapPush(node, a);
    this.recompute(host);
    return a;
  }

  /** Stops an activity without completing it (its node failed). */
  abort(activity: number): void {
    if (!this.actLive[activity]) return;
    const host = this.nodes.host[this.actNode[activity]];
    this.advance(host);
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

  /** Cores currently allocated to a node (a host: all its busy cores). */
  allocation(node: number): number {
    return this.alloc[node];
  }

  /** Cores currently allocated to an activity's thread (0 once it is done). */
  rate(activity: number): number {
    if (!this.actLive[activity]) return 0;
    const node = this.actNode[activity];
    return this.alloc[node] / this.threads[node];
  }

  /** Remaining work of an activity now (nominal core-seconds). */
  remaining(activity: number): number {
    if (!this.actLive[activity]) return 0;
    const node = this.actNode[activity];
    const host = this.nodes.host[node];
    const clock = this.clock[node] + (this.alloc[node] / this.threads[node]) * this.factor[node] * (this.sim.now - this.hostLast[host]);
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
    this.frozen[node] = on ? 1 : 0;
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
    relink();
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
    this.retiredSteal += this.stealSeconds[node];
    this.stealRetired[host] += this.stealSeconds[node];
    this.stealNodes.splice(i, 1);
    this.unlinkList(this.hostStealHead, this.stealNext, host, node);
  }

  /** Steal of every tracked node (and of the guests of failed hosts), summed, in core-seconds from its start to now. */
  totalSteal(): number {
    let t = this.retiredSteal;
    for (const n of this.stealNodes) {
      const host = this.nodes.host[n];
      t += this.stealSeconds[n] + this.stealRate(n) * (this.sim.now - this.hostLast[host]);
    }
    return t;
  }

  /** Steal of a node, core-seconds from when it was tracked to now (what it had when it stopped being tracked). O(1). */
  stealOf(node: number): number {
    this.ensure();
    if (!this.stealTracked[node]) return this.stealSeconds[node];
    return this.stealSeconds[node] + this.stealRate(node) * (this.sim.now - this.hostLast[this.nodes.host[node]]);
  }

  /** Steal of the guests of one host, those gone included, core-seconds to now. O(guests of the host). */
  hostSteal(host: number): number {
    this.ensure();
    let t = this.stealRetired[host];
    const dt = this.sim.now - this.hostLast[host];
    for (let g = this.hostStealHead[host]; g !== NONE; g = this.stealNext[g]) t += this.stealSeconds[g] + this.stealRate(g) * dt;
    return t;
  }

  private stealRate(n: number): number {
    return this.runnable[n] > 0 ? Math.max(0, this.bound[n] - this.alloc[n]) : 0;
  }

  /** Recomputes a host's allocation now (after a rule change). */
  refresh(host: number): void {
    this.advance(host);
    this.recompute(host);
  }

  // --- the fluid model ---

  /** Advances leaf clocks, busy time and CFS budgets of a host to now, at the rates in force. */
  private advance(host: number): void {
    this.ensure();
    const now = this.sim.now;
    const dt = now - this.hostLast[host];
    if (dt <= 0) return;
    this.advanceClocks(host, dt);
    this.hostBusy[host] += this.alloc[host] * dt;
    for (let g = this.hostCfsHead[host]; g !== NONE; g = this.cfsNext[g]) this.accrue(g, this.hostLast[host], now);
    for (let g = this.hostStealHead[host]; g !== NONE; g = this.stealNext[g]) this.stealSeconds[g] += this.stealRate(g) * dt;
    this.hostLast[host] = now;
  }

  private advanceClocks(n: number, dt: number): void {
    const k = this.threads[n];
    if (k > 0) this.clock[n] += (this.alloc[n] / k) * this.factor[n] * dt;
    for (let c = this.firstRun[n]; c !== NONE; c = this.nextRun[c]) if (this.alloc[c] > 0) this.advanceClocks(c, dt);
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
    this.computeBound(host);
    this.alloc[host] = Math.min(this.hostCores[host], this.bound[host]);
    this.distribute(host);
    this.nextTime = Infinity;
    this.nextLeaf = NONE;
    this.findNext(host);
    this.hostNextLeaf[host] = this.nextLeaf;
    this.place(this.hostEvent, this.hostEventTime, host, this.nextTime, this.completeType);
    for (let g = this.hostCfsHead[host]; g !== NONE; g = this.cfsNext[g]) this.scheduleExhaustion(g);
  }

  private nextTime = Infinity;
  private nextLeaf = NONE;

  /** The earliest time a leaf's clock reaches its smallest target. */
  private findNext(n: number): void {
    const k = this.threads[n];
    if (k > 0) {
      const speed = (this.alloc[n] / k) * this.factor[n];
      const left = this.leafMin[n] - this.clock[n];
      const t = left <= 0 ? this.sim.now : speed > 0 ? this.sim.now + left / speed : Infinity;
      if (t < this.nextTime) {
        this.nextTime = t;
        this.nextLeaf = n;
      }
    }
    for (let c = this.firstRun[n]; c !== NONE; c = this.nextRun[c]) this.findNext(c);
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

  /** Post-order: runnable counts are maintained incrementally; bounds computed here. */
  private computeBound(n: number): number {
    if (this.runnable[n] === 0) {
      // An idle subtree is bounded by zero (only a host gets here: idle children are not in the runnable lists).
      this.bound[n] = 0;
      return 0;
    }
    let sum = this.threads[n]; // each runnable thread is bounded by one core
    for (let c = this.firstRun[n]; c !== NONE; c = this.nextRun[c]) sum += this.computeBound(c);
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
   * recurses. Threads live only on leaves (processes and auxiliary nodes),
   * which split their allocation equally among their runnable threads. Idle
   * children are not visited: their allocation was zeroed when they went idle.
   */
  private distribute(n: number): void {
    const nodes = this.nodes;
    let C = this.alloc[n];
    let k = 0;
    let sumBound = 0;
    for (let c = this.firstRun[n]; c !== NONE; c = this.nextRun[c]) {
      if (this.bound[c] > 0) {
        if (k === this.scratch.length) growColumns(this, SCRATCH_COLUMNS, k * 2);
        this.scratch[k++] = c;
        sumBound += this.bound[c];
      } else if (this.alloc[c] !== 0) {
        this.zero(c);
      }
    }
    if (sumBound <= C) {
      for (let i = 0; i < k; i++) this.alloc[this.scratch[i]] = this.bound[this.scratch[i]];
    } else {
      // Saturate children in increasing bound/weight order; the rest share what remains by weight.
      let W = 0;
      for (let i = 0; i < k; i++) {
        const w = this.weightOf(this.scratch[i]);
        this.scratchKey[i] = this.bound[this.scratch[i]] / w;
        W += w;
      }
      for (let i = 1; i < k; i++) {
        const c = this.scratch[i];
        const key = this.scratchKey[i];
        let j = i - 1;
        while (j >= 0 && this.scratchKey[j] > key) {
          this.scratch[j + 1] = this.scratch[j];
          this.scratchKey[j + 1] = this.scratchKey[j];
          j--;
        }
        this.scratch[j + 1] = c;
        this.scratchKey[j + 1] = key;
      }
      for (let i = 0; i < k; i++) {
        const c = this.scratch[i];
        const w = this.weightOf(c);
        if (this.bound[c] * W <= C * w) {
          this.alloc[c] = this.bound[c];
          C -= this.bound[c];
          W -= w;
        } else {
          const level = C / W;
          for (let j = i; j < k; j++) this.alloc[this.scratch[j]] = level * this.weightOf(this.scratch[j]);
          break;
        }
      }
    }
    for (let c = this.firstRun[n]; c !== NONE; c = this.nextRun[c]) {
      if (this.bound[c] > 0 && nodes.firstChild[c] !== NONE) this.distribute(c);
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
    this.recompute(host);
    // perf: the owners hear of their completions now, in this event, rather than through one more kernel event each
    // (a third fewer events per request in the web shop); the host's state is consistent again at this point.
    const n = this.doneCount;
    for (let i = 0; i < n; i++) this.sim.dispatch(this.doneTypes[i], this.donePayloads[i]);
  }

  private doneCount = 0;
  private doneTypes = new Int32Array(16);
  private donePayloads = new Int32Array(16);

  /**
   * Completes every activity whose leaf clock reached its target (within
   * 1e-12 of its size), and the predicted leaf's earliest one in any case, so
   * rounding can never leave a completion pending forever.
   */
  private completeLeaves(n: number, forced: number): void {
    if (this.threads[n] > 0) {
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
    // A child's subtree may go idle (and leave this list) while it completes: take its successor first.
    for (let c = this.firstRun[n]; c !== NONE; ) {
      const next = this.nextRun[c];
      this.completeLeaves(c, forced);
      c = next;
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
    this.recompute(host);
  }

  /** Removes an activity from its leaf. */
  private finish(a: number): void {
    const node = this.actNode[a];
    for (let n = node; n !== NONE; n = this.nodes.parent[n]) if (--this.runnable[n] === 0) this.unlinkRunnable(n);
    this.threads[node]--;
    this.heapRemove(node, a);
    this.actLive[a] = 0;
    this.actFree.push(a);
    // An idle leaf restarts its clock at zero, which keeps clocks small and their rounding far below any work size.
    if (this.threads[node] === 0) this.clock[node] = 0;
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
