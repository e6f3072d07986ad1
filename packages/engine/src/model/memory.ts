/**
 * Memory accounting over the tree (DESIGN.md, Resource models: Memory).
 *
 * Each node has a capacity (what it offers its children: a host's RAM, a
 * container's limit, a VM's guest RAM), a request (what it reserves in its
 * parent) and a use: the memory of its processes and their allocations, its
 * children's footprints and the fixed overheads (VMM, guest kernel, runtime)
 * held beside the reservations. A node's footprint in its parent is the larger
 * of its use and its request: use beyond a node's own reservation spills into
 * its parent (a container without a memory request holds host memory), while
 * a VM's guest RAM is reserved whole, so what its guests use stays inside it.
 *
 * A node whose use exceeds its capacity is under pressure: its layer's
 * `pressure` hooks run on each crossing (a host plugin swaps; a container
 * plugin kills). Placement asks `fits` with the same spill rule.
 */
import type { NodeStore } from "../tree/nodes.js";
import { NONE } from "../tree/nodes.js";
import { growColumns } from "../util/typed.js";

/** What memory accounting needs of the model. */
export interface MemoryOwner {
  readonly nodes: NodeStore;
  readonly now: number;
  /** Host index of a host node (its position in scenario order). */
  hostIndex(host: number): number;
  /** A node crossed its limit (over = 1) or came back under (0). */
  pressureChanged(node: number, over: number): void;
}

export class Memory {
  /** Fixed memory overhead of each layer node (VMM, guest kernel, runtime), held in its parent beside its request. */
  overhead: Float64Array = new Float64Array(64);
  /** Seconds each node has spent over its limit, up to the start of the ongoing episode. */
  readonly pressureTime = new Map<number, number>();
  private readonly pressureSince = new Map<number, number>();
  /** Peak memory use of each host, by host index. */
  peak = new Float64Array(0);
  /** False while the tree is first built: use is only accounted (pressure is checked once it is built). */
  checking = false;

  constructor(private readonly owner: MemoryOwner) {}

  /** Grows the per-node column to `capacity` nodes. */
  grow(capacity: number): void {
    growColumns(this, [["overhead", Float64Array]], capacity);
  }

  /** Records that `child` reserves `cores` and `memory` of `parent`, and adds that memory to the parent's use. */
  take(parent: number, child: number, cores: number, memory: number): void {
    const n = this.owner.nodes;
    n.requestCores[child] = cores;
    n.requestMemory[child] = memory;
    n.usedCores[parent] += cores;
    this.add(parent, memory);
  }

  /**
   * Adds `delta` bytes of use to `node`; what goes past a node's own
   * reservation spills into its parent, up to the host. Crossing a node's
   * capacity is a `pressure` event (once the tree is built).
   */
  add(node: number, delta: number): void {
    const nodes = this.owner.nodes;
    if (!this.checking) {
      for (let n = node; n !== NONE && delta !== 0; n = nodes.parent[n]) {
        const before = Math.max(nodes.usedMemory[n], nodes.requestMemory[n]);
        nodes.usedMemory[n] += delta;
        delta = Math.max(nodes.usedMemory[n], nodes.requestMemory[n]) - before;
      }
      return;
    }
    for (let n = node; n !== NONE && delta !== 0; n = nodes.parent[n]) {
      const before = Math.max(nodes.usedMemory[n], nodes.requestMemory[n]);
      nodes.usedMemory[n] += delta;
      this.checkPressure(n);
      delta = Math.max(nodes.usedMemory[n], nodes.requestMemory[n]) - before;
      if (nodes.parent[n] === NONE) {
        const i = this.owner.hostIndex(n);
        if (nodes.usedMemory[n] > this.peak[i]) this.peak[i] = nodes.usedMemory[n];
      }
    }
  }

  /**
   * Would `node` fit `cores` and `memory` more? Memory is checked where it
   * lands: in `node`, and in each ancestor the part that spills past a node's
   * own reservation, as `add` will account it.
   */
  fits(node: number, cores: number, memory: number, overcommitMemory: boolean): boolean {
    const n = this.owner.nodes;
    const eps = 1e-9;
    if (n.usedCores[node] + cores > n.capacityCores[node] + eps) return false;
    if (overcommitMemory) return true;
    let delta = memory;
    for (let a = node; a !== NONE && delta > 0; a = n.parent[a]) {
      if (n.usedMemory[a] + delta > n.capacityMemory[a] + eps) return false;
      const before = Math.max(n.usedMemory[a], n.requestMemory[a]);
      delta = Math.max(n.usedMemory[a] + delta, n.requestMemory[a]) - before;
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
