/**
 * The tree of nodes: every host, VM, container, process and auxiliary node is
 * an integer id into struct-of-arrays columns (DESIGN.md, Stacks and the tree
 * of nodes). Children are an intrusive linked list (firstChild/nextSibling),
 * so walking a host's subtree allocates nothing. Plugins add their own
 * per-node state as extension columns (SimGrid's Extendable, as typed arrays),
 * and every column is part of the snapshot.
 */

import { allocColumns, grown, growColumns, type ColumnSpec } from "../util/typed.js";

/** Node states (DESIGN.md, Placement and lifecycle). */
export const NodeState = { provisioning: 0, booting: 1, running: 2, stopping: 3, failed: 4 } as const;
export type NodeStateName = keyof typeof NodeState;
export const NODE_STATE_NAMES = Object.keys(NodeState) as NodeStateName[];

/** No node: the parent of a root, the end of a child list. */
export const NONE = -1;

/** A typed per-node column a plugin declares; it grows with the store and is snapshotted with it. */
export interface ExtensionColumn {
  readonly name: string;
  readonly type: "f64" | "i32";
  /** The value a new node starts with. */
  readonly initial: number;
  /** The current array; re-read it after nodes are added (it is replaced when the store grows). */
  data: Float64Array | Int32Array;
}

const INITIAL = 64;

/** The node columns: the one list that drives the store's growth and its export. */
const NODE_COLUMNS: readonly ColumnSpec[] = [
  ["kind", Int32Array],
  ["parent", Int32Array],
  ["firstChild", Int32Array],
  ["nextSibling", Int32Array],
  ["host", Int32Array],
  ["tenant", Int32Array],
  ["state", Int8Array],
  ["entry", Int32Array],
  ["capacityCores", Float64Array],
  ["capacityMemory", Float64Array],
  ["requestCores", Float64Array],
  ["requestMemory", Float64Array],
  ["usedCores", Float64Array],
  ["usedMemory", Float64Array],
  ["reservedMemory", Float64Array],
  ["removed", Int8Array],
];

export class NodeStore {
  /** Number of node ids handed out (ids are 0 .. count-1; removed ones are marked, not reused). */
  count = 0;
  /** Index into the store's kind names: a layer, `process` or `aux`. */
  kind = new Int32Array(0);
  parent = new Int32Array(0);
  firstChild = new Int32Array(0);
  nextSibling = new Int32Array(0);
  /** The host at the root of the node's tree. */
  host = new Int32Array(0);
  /** Tenant index, or NONE for nodes shared by all tenants (hosts, `per: host` layers). */
  tenant = new Int32Array(0);
  state = new Int8Array(0);
  /** Index of the stack entry (or host type, or service) the node was built from; meaning depends on the kind. */
  entry = new Int32Array(0);
  /** Cores and bytes the node offers its children (placement capacity). */
  capacityCores = new Float64Array(0);
  capacityMemory = new Float64Array(0);
  /** Cores and bytes the node takes from its parent (placement request). */
  requestCores = new Float64Array(0);
  requestMemory = new Float64Array(0);
  /** Cores its children have taken; bytes held in its subtree (DESIGN.md: `used`), and bytes reserved there (placement). */
  usedCores = new Float64Array(0);
  usedMemory = new Float64Array(0);
  reservedMemory = new Float64Array(0);
  /** 1 once removed (ids are never reused, so stale ids cannot alias). */
  removed = new Int8Array(0);

  readonly kindNames: string[] = [];
  private readonly extensions: ExtensionColumn[] = [];

  constructor() {
    allocColumns(this, NODE_COLUMNS, INITIAL);
  }

  /** The id of a node kind, registered on first use. */
  kindId(name: string): number {
    let k = this.kindNames.indexOf(name);
    if (k < 0) {
      k = this.kindNames.length;
      this.kindNames.push(name);
    }
    return k;
  }

  /** Declares a per-node column, e.g. `vm.activeVcpus`. Names are unique. */
  extension(name: string, type: "f64" | "i32", initial = 0): ExtensionColumn {
    if (this.extensions.some((e) => e.name === name)) throw new Error(`node extension "${name}" is already declared`);
    const cap = this.kind.length;
    const data = type === "f64" ? new Float64Array(cap) : new Int32Array(cap);
    if (initial !== 0) data.fill(initial);
    const col: ExtensionColumn = { name, type, initial, data };
    this.extensions.push(col);
    return col;
  }

  /** Adds a node under `parent` (NONE for a host). O(1) amortised. */
  add(kind: number, parent: number, tenant: number, entry: number): number {
    if (this.count === this.kind.length) this.grow();
    const id = this.count++;
    this.kind[id] = kind;
    this.parent[id] = parent;
    this.firstChild[id] = NONE;
    this.tenant[id] = tenant;
    this.entry[id] = entry;
    this.state[id] = NodeState.provisioning;
    this.capacityCores[id] = 0;
    this.capacityMemory[id] = 0;
    this.requestCores[id] = 0;
    this.requestMemory[id] = 0;
    this.usedCores[id] = 0;
    this.usedMemory[id] = 0;
    this.reservedMemory[id] = 0;
    this.removed[id] = 0;
    if (parent === NONE) {
      this.host[id] = id;
      this.nextSibling[id] = NONE;
    } else {
      this.host[id] = this.host[parent];
      this.nextSibling[id] = this.firstChild[parent];
      this.firstChild[parent] = id;
    }
    for (const e of this.extensions) e.data[id] = e.initial;
    return id;
  }

  /** Children of `id`, most recently added first. */
  children(id: number): number[] {
    const out: number[] = [];
    if (id < 0 || id >= this.count) throw new RangeError(`no node ${id}`);
    for (let c = this.firstChild[id]; c !== NONE; c = this.nextSibling[c]) out.push(c);
    return out;
  }

  /** Detaches a leaf node from its parent and marks it removed. */
  remove(id: number): void {
    if (this.firstChild[id] !== NONE) throw new Error(`node ${id} still has children`);
    this.detach(id);
    this.removed[id] = 1;
    this.state[id] = NodeState.failed;
  }

  /** Moves node `id` with its subtree under `parent` (first among its children): the subtree's `host` is parent's. */
  reparent(id: number, parent: number): void {
    this.detach(id);
    this.parent[id] = parent;
    this.nextSibling[id] = this.firstChild[parent];
    this.firstChild[parent] = id;
    const host = this.host[parent];
    const walk = (n: number): void => {
      this.host[n] = host;
      for (let c = this.firstChild[n]; c !== NONE; c = this.nextSibling[c]) walk(c);
    };
    walk(id);
  }

  /** Takes node `id` out of its parent's child list. */
  private detach(id: number): void {
    const p = this.parent[id];
    if (p === NONE) return;
    if (this.firstChild[p] === id) this.firstChild[p] = this.nextSibling[id];
    else {
      let c = this.firstChild[p];
      while (this.nextSibling[c] !== id) c = this.nextSibling[c];
      this.nextSibling[c] = this.nextSibling[id];
    }
  }

  /** Ids on the path from `id` up to its host, `id` first. */
  ancestry(id: number): number[] {
    const out: number[] = [];
    for (let n = id; n !== NONE; n = this.parent[n]) out.push(n);
    return out;
  }

  /** The columns and extension columns (used part only), copied: for inspection and tests. */
  exportState(): Record<string, unknown> {
    const n = this.count;
    const cols: Record<string, Float64Array | Int32Array | Int8Array> = {};
    const self = this as unknown as Record<string, Float64Array | Int32Array | Int8Array>;
    for (const [name] of NODE_COLUMNS) cols[name] = self[name].slice(0, n);
    const ext: Record<string, Float64Array | Int32Array> = {};
    for (const e of this.extensions) ext[e.name] = e.data.slice(0, n);
    return { count: n, kindNames: this.kindNames.slice(), columns: cols, extensions: ext };
  }

  private grow(): void {
    const c = this.kind.length * 2;
    growColumns(this, NODE_COLUMNS, c);
    for (const e of this.extensions) e.data = grown(e.data, c, e.initial);
  }
}
