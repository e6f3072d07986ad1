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
 *   a layer whose rules say `holds: "reserved"` (a VM, whose guest RAM is
 *   backed) holds its whole request in its parent, whatever its guests use;
 *   any other layer (a container) holds just what its children use, so a
 *   container's limit or request costs its host nothing until it is used.
 *
 * A node whose use exceeds its capacity is under pressure: its layer's
 * `pressure` hooks run on each crossing (a host plugin swaps; a container
 * plugin kills). Placement asks `fits` of the reservations.
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
}

const MEMORY_COLUMNS: readonly ColumnSpec[] = [
  ["overhead", Float64Array],
  ["held", Int8Array],
];

export class Memory {
  /** Fixed memory overhead of each layer node (VMM, guest kernel, runtime), held in its parent beside its request. */
  overhead = new Float64Array(64);
  /** 1 for a node that holds its whole request in its parent (a process, an auxiliary node, a layer holding its reservation). */
  held = new Int8Array(64);
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
   * `overhead` beside it; `held`: it holds that memory too (a process, an
   * auxiliary node, a layer holding its reservation).
   */
  take(parent: number, child: number, cores: number, memory: number, overhead: number, held: boolean): void {
    const n = this.owner.nodes;
    n.requestCores[child] = cores;
    n.requestMemory[child] = memory;
    n.usedCores[parent] += cores;
    this.overhead[child] = overhead;
    this.held[child] = held ? 1 : 0;
    this.reserve(parent, memory);
    this.reserve(parent, overhead);
    if (held) this.use(parent, memory);
    this.use(parent, overhead);
  }

  /** Gives back what `child` took of `parent` (its subtree already gone). */
  giveBack(parent: number, child: number): void {
    const n = this.owner.nodes;
    n.usedCores[parent] -= n.requestCores[child];
    this.reserve(parent, -n.requestMemory[child] - this.overhead[child]);
    this.use(parent, -(this.held[child] ? n.requestMemory[child] : 0) - this.overhead[child]);
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
      if (this.held[n] && nodes.parent[n] !== NONE) delta = Math.max(nodes.usedMemory[n], nodes.requestMemory[n]) - Math.max(before, nodes.requestMemory[n]);
    }
  }

  /**
   * Would `node` fit `cores` and `memory` more? Memory is checked against the
   * reservations where it lands: in `node`, and in each ancestor the part that
   * spills past a node's own request, as it will be accounted.
   */
  fits(node: number, cores: number, memory: number, overcommitMemory: boolean): boolean {
    const n = this.owner.nodes;
    const eps = 1e-9;
    if (n.usedCores[node] + cores > n.capacityCores[node] + eps) return false;
    if (overcommitMemory) return true;
    let delta = memory;
    for (let a = node; a !== NONE && delta > 0; a = n.parent[a]) {
      if (n.reservedMemory[a] + delta > n.capacityMemory[a] + eps) return false;
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

  /** Starts or ends a pressure episode when a node's use crossed its capacity. */
  checkPressure(n: number): void {
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
}
