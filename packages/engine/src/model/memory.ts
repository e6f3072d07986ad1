/**
 * Memory accounting over the tree (DESIGN.md, Resource models: Memory), in two
 * columns of the node store:
 *
 * - reserved: what placement counts. A node reserves its request in its
 *   parent, beside its fixed overhead (VMM, guest kernel, runtime); use
 *   beyond a node's own reservation spills into its parent (a container
 *   without a memory request reserves its processes' memory in its host), so
 *   a node's footprint in its parent is the larger of its request and what
 *   its children reserve.
 * - used: what is really held. Processes hold their memory and what their
 *   requests allocate, auxiliary nodes theirs, every layer node its overhead;
 *   a layer whose rules say `holds: "reserved"` holds its whole request in
 *   its parent, whatever its children use; `holds: "touched"` (a VM, whose
 *   guest RAM is backed as the guest touches it) holds the most its subtree
 *   has used, since a guest kernel does not give freed pages back, until its
 *   plugin reclaims the part not in use (`reclaim`: a balloon); any other
 *   layer (a container) holds just what its children use, so a container's
 *   limit or request costs its host nothing until it is used. A layer node
 *   may use memory itself inside its capacity (`useOwn`: a guest kernel's
 *   reservation), counted in its use, never in its reservation.
 *
 * A node whose use exceeds its capacity is under pressure: its layer's
 * `pressure` hooks run on each crossing (a host plugin swaps; a container
 * plugin kills). A plugin may also watch a node's use against a threshold of
 * its own (`watch`: a balloon manager acting before its host swaps).
 * Placement asks `fits` of the reservations.
 */
import type { NodeStore } from "../tree/nodes.js";
import { NONE } from "../tree/nodes.js";
import { growColumns, type ColumnSpec } from "../util/typed.js";

/** What memory accounting needs of the model. */
export interface MemoryOwner {
  readonly nodes: NodeStore;
  readonly now: number;
  /** Host index of a host node (its position in scenario order). */
  hostIndex(host: number): number;
  /** A node crossed its limit (over = 1) or came back under (0). */
  pressureChanged(node: number, over: number): void;
  /** A watched node's use crossed its watch threshold (over = 1) or came back to it or under (0); `event` is the watch's. */
  watchCrossed(node: number, event: number, over: number): void;
}

/** How a node holds memory in its parent (the `held` column): what its subtree uses, its whole request, or what it touched. */
export const HOLDS_USED = 0;
export const HOLDS_RESERVED = 1;
export const HOLDS_TOUCHED = 2;

const MEMORY_COLUMNS: readonly ColumnSpec[] = [
  ["overhead", Float64Array],
  ["held", Int8Array],
  ["touched", Float64Array],
  ["own", Float64Array],
  ["watchAt", Float64Array],
  ["watchEvent", Int32Array],
  ["watchOver", Int8Array],
];

export class Memory {
  /** Fixed memory overhead of each layer node (VMM, guest kernel, runtime), held in its parent beside its request. */
  overhead = new Float64Array(64);
  /** How each node holds memory in its parent: HOLDS_RESERVED for a process, an auxiliary node or a layer holding its reservation. */
  held = new Int8Array(64);
  /** Bytes a HOLDS_TOUCHED node holds in its parent: the most its subtree has used, less what was reclaimed. */
  touched = new Float64Array(64);
  /** Bytes a layer node uses itself, inside its capacity (a guest kernel's reservation). */
  own = new Float64Array(64);
  /** Per node: its watch's threshold, bytes (meaningful while watchEvent > 0). */
  watchAt = new Float64Array(64);
  /** Per node: 1 + the plugin event its watch fires, or 0 for no watch. */
  watchEvent = new Int32Array(64);
  /** Per node: 1 while its use is above its watch threshold. */
  watchOver = new Int8Array(64);
  /** Seconds each node has spent over its limit, up to the start of the ongoing episode. */
  readonly pressureTime = new Map<number, number>();
  private readonly pressureSince = new Map<number, number>();
  /** Peak memory use of each host, by host index. */
  peak = new Float64Array(0);
  /** False while the tree is first built: use is only accounted (pressure is checked once it is built). */
  checking = false;

  constructor(private readonly owner: MemoryOwner) {}

  /** Grows the per-node columns to `capacity` nodes. */
  grow(capacity: number): void {
    growColumns(this, MEMORY_COLUMNS, capacity);
  }

  /**
   * Records that `child` reserves `cores` and `memory` of `parent`, and holds
   * `overhead` beside it; `holds` says how it holds memory in `parent`
   * (HOLDS_RESERVED: that memory at once, as a process or an auxiliary node).
   */
  take(parent: number, child: number, cores: number, memory: number, overhead: number, holds: number): void {
    const n = this.owner.nodes;
    n.requestCores[child] = cores;
    n.requestMemory[child] = memory;
    n.usedCores[parent] += cores;
    this.overhead[child] = overhead;
    this.held[child] = holds;
    this.touched[child] = 0;
    this.own[child] = 0;
    this.watchEvent[child] = 0;
    this.watchOver[child] = 0;
    this.reserve(parent, memory);
    this.reserve(parent, overhead);
    if (holds === HOLDS_RESERVED) this.use(parent, memory);
    this.use(parent, overhead);
  }

  /** Gives back what `child` took of `parent` (its subtree already gone: what it holds now is its own use, or what it touched). */
  giveBack(parent: number, child: number): void {
    const n = this.owner.nodes;
    n.usedCores[parent] -= n.requestCores[child];
    this.reserve(parent, -n.requestMemory[child] - this.overhead[child]);
    const holds = this.held[child];
    const held = holds === HOLDS_RESERVED ? n.requestMemory[child] : holds === HOLDS_TOUCHED ? this.touched[child] : this.own[child];
    this.use(parent, -held - this.overhead[child]);
  }

  /** Bytes layer node `node` uses itself (or gives back, negative), inside its capacity: its use, never its reservation. */
  useOwn(node: number, delta: number): void {
    this.own[node] += delta;
    this.use(node, delta);
  }

  /** Gives back to its parent up to `bytes` that a HOLDS_TOUCHED `node` touched and no longer uses; returns the bytes reclaimed. */
  reclaim(node: number, bytes: number): number {
    const nodes = this.owner.nodes;
    const r = Math.min(bytes, this.touched[node] - Math.max(0, nodes.usedMemory[node]));
    if (!(r > 0)) return 0;
    this.touched[node] -= r;
    this.use(nodes.parent[node], -r);
    return r;
  }

  /** Watches `node`'s use against `threshold` bytes: crossings call `watchCrossed` with `event` (a threshold of Infinity ends it). */
  watch(node: number, threshold: number, event: number): void {
    this.watchAt[node] = threshold;
    this.watchEvent[node] = threshold === Infinity ? 0 : event + 1;
    this.watchOver[node] = 0;
    if (this.checking) this.checkWatch(node);
  }

  /**
   * Moves `child`'s footprint (its cores, its overhead, what it reserves and holds) from its parent to `parent`:
   * `relink` moves it in the tree between the two. Pressure and peaks are checked on both paths.
   */
  move(child: number, parent: number, relink: () => void): void {
    const n = this.owner.nodes;
    const reserved = this.overhead[child] + Math.max(n.reservedMemory[child], n.requestMemory[child]);
    const used = this.overhead[child] + (this.held[child] ? Math.max(n.usedMemory[child], n.requestMemory[child]) : n.usedMemory[child]);
    const from = n.parent[child];
    n.usedCores[from] -= n.requestCores[child];
    this.reserve(from, -reserved);
    this.use(from, -used);
    relink();
    n.usedCores[parent] += n.requestCores[child];
    this.reserve(parent, reserved);
    this.use(parent, used);
  }

  /** Bytes a request allocates (or frees, negative) in `node`: reserved and used. */
  allocate(node: number, delta: number): void {
    this.reserve(node, delta);
    this.use(node, delta);
  }

  /** Adds `delta` bytes to what `node` reserves; what goes past a node's own request spills into its parent. */
  private reserve(node: number, delta: number): void {
    const nodes = this.owner.nodes;
    for (let n = node; n !== NONE && delta !== 0; n = nodes.parent[n]) {
      const before = Math.max(nodes.reservedMemory[n], nodes.requestMemory[n]);
      nodes.reservedMemory[n] += delta;
      delta = Math.max(nodes.reservedMemory[n], nodes.requestMemory[n]) - before;
    }
  }

  /**
   * Adds `delta` bytes to what `node` uses, and up the tree: a node holding
   * its reservation passes on only what goes past it. Crossing a node's
   * capacity is a `pressure` event (once the tree is built).
   */
  private use(node: number, delta: number): void {
    const nodes = this.owner.nodes;
    for (let n = node; n !== NONE && delta !== 0; n = nodes.parent[n]) {
      const before = nodes.usedMemory[n];
      nodes.usedMemory[n] += delta;
      if (this.checking) {
        this.checkPressure(n);
        if (nodes.parent[n] === NONE) {
          const i = this.owner.hostIndex(n);
          if (nodes.usedMemory[n] > this.peak[i]) this.peak[i] = nodes.usedMemory[n];
        }
      }
      if (nodes.parent[n] === NONE) continue;
      const holds = this.held[n];
      if (holds === HOLDS_RESERVED) delta = Math.max(nodes.usedMemory[n], nodes.requestMemory[n]) - Math.max(before, nodes.requestMemory[n]);
      else if (holds === HOLDS_TOUCHED) {
        // Pages once touched stay backed: only use past the most touched so far reaches the parent.
        const t = this.touched[n];
        delta = Math.max(0, nodes.usedMemory[n] - t);
        this.touched[n] = t + delta;
      }
    }
  }

  /**
   * Would `node` fit `cores` and `memory` more? Memory is checked against the
   * reservations where it lands: in `node`, and in each ancestor the part that
   * spills past a node's own request, as it will be accounted. A host takes
   * `overcommit` times its memory (`memoryOvercommitRatio`: guest memory per
   * host byte); a node inside one takes its own memory, unless `overcommit` is
   * Infinity (no bound anywhere, as `memoryOvercommit: true` always meant).
   * Cores are checked against the node's cores times `coresPerCore` (a host's
   * `placement.cpuOvercommit`).
   */
  fits(node: number, cores: number, memory: number, overcommit: number, coresPerCore = 1): boolean {
    const n = this.owner.nodes;
    const eps = 1e-9;
    if (n.usedCores[node] + cores > n.capacityCores[node] * coresPerCore + eps) return false;
    if (overcommit === Infinity) return true;
    let delta = memory;
    for (let a = node; a !== NONE && delta > 0; a = n.parent[a]) {
      const ratio = n.parent[a] === NONE ? overcommit : 1;
      if (n.reservedMemory[a] + delta > n.capacityMemory[a] * ratio + eps) return false;
      const before = Math.max(n.reservedMemory[a], n.requestMemory[a]);
      delta = Math.max(n.reservedMemory[a] + delta, n.requestMemory[a]) - before;
    }
    return true;
  }

  /** Seconds a node has been over its limit, to now. */
  pressureSeconds(node: number): number {
    const since = this.pressureSince.get(node);
    return (this.pressureTime.get(node) ?? 0) + (since === undefined ? 0 : this.owner.now - since);
  }

  /** Starts or ends a pressure episode when a node's use crossed its capacity (and reports a crossing of its watch). */
  checkPressure(n: number): void {
    if (this.watchEvent[n] !== 0) this.checkWatch(n);
    const nodes = this.owner.nodes;
    const over = nodes.usedMemory[n] > nodes.capacityMemory[n] + 1e-9;
    const was = this.pressureSince.has(n);
    if (over === was) return;
    const now = this.owner.now;
    if (over) this.pressureSince.set(n, now);
    else {
      this.pressureTime.set(n, (this.pressureTime.get(n) ?? 0) + now - this.pressureSince.get(n)!);
      this.pressureSince.delete(n);
    }
    this.owner.pressureChanged(n, over ? 1 : 0);
  }

  /** Reports a crossing of `n`'s watch threshold. */
  private checkWatch(n: number): void {
    const over = this.owner.nodes.usedMemory[n] > this.watchAt[n] + 1e-9 ? 1 : 0;
    if (over === this.watchOver[n]) return;
    this.watchOver[n] = over;
    this.owner.watchCrossed(n, this.watchEvent[n] - 1, over);
  }
}
