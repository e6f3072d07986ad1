/**
 * The operation pipeline (DESIGN.md, The layered path): every operation a
 * request performs (a cpu, mem or syscall step, each I/O, each message end)
 * passes through `pass`, which applies the path from the process outwards:
 * the static record first (the latency adders, the CPU charged to auxiliary
 * nodes), then the operation hooks of the layers on the path, innermost
 * first, each returning a verdict: pass, delay, charge or reject.
 *
 * The static record is resolved once per process (`resolve`, when it is
 * placed): its CPU factor, one-way latency per kind, and for each kind a run
 * of (auxiliary node, work) charges and a run of (hook, node) pairs in flat
 * tables. So an operation on a path without hooks costs a few array reads,
 * and one with hooks a call per hook by index: no names, maps or closures per
 * operation. perf: the CPU factor, the latencies, the cold-start time and a
 * mask of the kinds with charges or hooks are one record of 8 float64 per
 * process (one cache line), so an operation on a plain path reads one line,
 * not one in each of four columns: the many-hosts benchmark's requests touch
 * 10,000 processes, more than the caches hold. `syscall` latency and charges are per system call; each I/O and
 * each message end counts as one, so a layer's `syscall` hooks, latency and
 * charges also apply to `io` and `net`.
 *
 * Use: `begin()`, then `pass(...)` once per path the operation crosses (a
 * message: the sender's, then the receiver's), then read `rejected` and
 * `delay`, and `startCharges(type, payload)`: the charges start, and those
 * that wait fire `type` with `payload` when served (`waiting` of them). An I/O
 * whose hook charged a back end `serial` (`serialNode`) may have to wait its
 * turn there: `deferCharges()` keeps its charges until `startDeferred`.
 */
import type { EventType } from "../kernel/simulation.js";
import { OP_KINDS, type Operation, type OpKind, type PathContribution } from "../plugin/define.js";
import type { NodeStore } from "../tree/nodes.js";
import { NONE } from "../tree/nodes.js";
import { allocColumns, growColumns, type ColumnSpec } from "../util/typed.js";

export const OPS = OP_KINDS.length;
export const CPU_OP = 0;
export const MEM_OP = 1;
export const IO_OP = 2;
export const NET_OP = 3;
export const SYSCALL_OP = 4;
/** Message ends, for `Operation.direction`. */
export const NO_DIRECTION = 0;
export const SEND = 1;
export const RECEIVE = 2;
const DIRECTIONS = ["none", "send", "receive"] as const;

/** What the pipeline needs of the model. */
export interface PipelineOwner {
  readonly nodes: NodeStore;
  /** The static contribution of a layer node (undefined for other nodes). */
  contributionOf(node: number): PathContribution | undefined;
  /** The auxiliary node named `name` that `owner` created, or undefined. */
  auxiliaryOf(owner: number, name: string): number | undefined;
  /** Plugin name of a layer node (for messages). */
  pluginOf(node: number): string;
  /** Seconds to start a process on the host of `process`. */
  processStart(process: number): number;
  /** Indices of the operation hooks of layer `kind` for op kind `k` (in their order), and of its `syscall` hooks. */
  operationHooks(k: number, kind: number): readonly number[];
  /** Calls operation hook `hook` for `node` with the operation. */
  callOperationHook(hook: number, node: number, op: Operation): void;
  /** Starts CPU work on a leaf: an activity firing `doneType(donePayload)` when done (none if negative). */
  startCpu(node: number, work: number, doneType: EventType, donePayload: number): void;
}

/** The operation a hook sees: one object, refilled for each operation that has hooks. */
class OperationState implements Operation {
  kind: OpKind = "cpu";
  process = NONE;
  request = NONE;
  amount = 0;
  syscalls = 0;
  write = false;
  random = false;
  direction: Operation["direction"] = "none";
  peer = NONE;
}

/** A process's record: its CPU factor, its latency per kind, its cold-start time, the kinds with charges or hooks. */
const RECORD = 8;
const FACTOR = 0;
const LATENCY = 1;
const PROVISIONING = 1 + OPS;
const DYNAMIC = 2 + OPS;

/** Per-process path columns (indexed by node id; grown with the node store). */
const PATH_COLUMNS: readonly ColumnSpec[] = [
  ["record", Float64Array, 0, RECORD],
  ["chargeStart", Int32Array, 0, OPS],
  ["chargeCount", Int32Array, 0, OPS],
  ["hookStart", Int32Array, 0, OPS],
  ["hookCount", Int32Array, 0, OPS],
];

/** Charges collected by the operation in progress. */
const SCRATCH_COLUMNS: readonly ColumnSpec[] = [
  ["pendingNode", Int32Array],
  ["pendingWork", Float64Array],
  ["pendingWait", Int8Array],
];

/** Charges of operations waiting for a serial back end: cells linked per operation, freed cells in a free list. */
const DEFERRED_COLUMNS: readonly ColumnSpec[] = [
  ["deferredNode", Int32Array],
  ["deferredWork", Float64Array],
  ["deferredWait", Int8Array],
  ["deferredNext", Int32Array, NONE],
];

export class Pipeline {
  /** Each process's record (`RECORD` float64 per node). */
  private record = new Float64Array(0);
  private chargeStart = new Int32Array(0);
  private chargeCount = new Int32Array(0);
  private hookStart = new Int32Array(0);
  private hookCount = new Int32Array(0);
  /** Static charges of every resolved path, in runs: the auxiliary node, the work, whether the operation waits. */
  private readonly chargeNode: number[] = [];
  private readonly chargeWork: number[] = [];
  private readonly chargeWait: number[] = [];
  /** Hooks of every resolved path, in runs: the hook's index and the node it runs for. */
  private readonly hookIndex: number[] = [];
  private readonly hookNode: number[] = [];

  // The operation in progress (between begin and startCharges).
  /** Seconds the operation takes beyond its own work: the paths' latency and the hooks' delays. */
  delay = 0;
  /** The reject reason's index (`reasons`), or -1. */
  rejected = -1;
  /** Charges collected that the operation waits for. */
  waiting = 0;
  /** True while operation hooks run (verdicts are valid only then). */
  active = false;
  /** The auxiliary node a hook charged `serial` (the operation is served there one at a time), or NONE. */
  serialNode = NONE;
  private pending = 0;
  private pendingNode = new Int32Array(0);
  private pendingWork = new Float64Array(0);
  private pendingWait = new Int8Array(0);
  private deferredNode = new Int32Array(0);
  private deferredWork = new Float64Array(0);
  private deferredWait = new Int8Array(0);
  private deferredNext = new Int32Array(0);
  private deferredCount = 0;
  private deferredFree = NONE;
  private readonly op = new OperationState();
  /** Reasons given to `reject`, by index. */
  readonly reasons: string[] = [];
  private readonly reasonIndex = new Map<string, number>();

  constructor(private readonly owner: PipelineOwner) {
    allocColumns(this, PATH_COLUMNS, 64);
    allocColumns(this, SCRATCH_COLUMNS, 8);
    allocColumns(this, DEFERRED_COLUMNS, 8);
  }

  /** Grows the per-process columns to `capacity` nodes. */
  grow(capacity: number): void {
    growColumns(this, PATH_COLUMNS, capacity);
  }

  /** Clears a new node's record. */
  reset(node: number): void {
    this.record.fill(0, node * RECORD, (node + 1) * RECORD);
    this.record[node * RECORD + FACTOR] = 1;
    for (let k = 0; k < OPS; k++) {
      this.chargeCount[node * OPS + k] = 0;
      this.hookCount[node * OPS + k] = 0;
    }
  }

  /** Throughput factor of a process's path (work / factor is charged to the host). */
  cpuFactor(process: number): number {
    return this.record[process * RECORD + FACTOR];
  }

  /** One-way latency the path of `process` adds to an operation of kind `op`. */
  latencyOf(process: number, op: OpKind): number {
    return this.record[process * RECORD + LATENCY + OP_KINDS.indexOf(op)];
  }

  /** Cold-start time of a process's path: its layers' provisioning and its process start. */
  provisioning(process: number): number {
    return this.record[process * RECORD + PROVISIONING];
  }

  /** Resolves a process's record from the contributions and hooks of the layers above it (innermost first). */
  resolve(p: number): void {
    const o = this.owner;
    const nodes = o.nodes;
    let factor = 1;
    let provisioning = 0;
    const base = p * OPS;
    const r = p * RECORD;
    for (let n = nodes.parent[p]; n !== NONE; n = nodes.parent[n]) {
      const c = o.contributionOf(n);
      if (!c) continue;
      factor *= c.cpuFactor ?? 1;
      provisioning += c.provisioning ?? 0;
      OP_KINDS.forEach((op, k) => {
        this.record[r + LATENCY + k] += c.latency?.[op] ?? 0;
        // Each I/O and each message end is one system call.
        if (k === IO_OP || k === NET_OP) this.record[r + LATENCY + k] += c.latency?.syscall ?? 0;
      });
    }
    for (let k = 0; k < OPS; k++) {
      const perCall = k === IO_OP || k === NET_OP;
      this.chargeStart[base + k] = this.chargeNode.length;
      this.hookStart[base + k] = this.hookIndex.length;
      for (let n = nodes.parent[p]; n !== NONE; n = nodes.parent[n]) {
        const c = o.contributionOf(n);
        if (c?.charge) {
          this.addCharge(n, OP_KINDS[k], c.charge[OP_KINDS[k]]);
          if (perCall) this.addCharge(n, "syscall", c.charge.syscall);
        }
        for (const h of o.operationHooks(k, nodes.kind[n])) {
          this.hookIndex.push(h);
          this.hookNode.push(n);
        }
        if (perCall) {
          for (const h of o.operationHooks(SYSCALL_OP, nodes.kind[n])) {
            this.hookIndex.push(h);
            this.hookNode.push(n);
          }
        }
      }
      this.chargeCount[base + k] = this.chargeNode.length - this.chargeStart[base + k];
      this.hookCount[base + k] = this.hookIndex.length - this.hookStart[base + k];
      if (this.chargeCount[base + k] + this.hookCount[base + k] > 0) this.record[r + DYNAMIC] += 1 << k;
    }
    this.record[r + FACTOR] = factor;
    this.record[r + PROVISIONING] = provisioning + o.processStart(p);
  }

  private addCharge(n: number, op: OpKind, charge: { aux: string; work: number; wait?: boolean } | undefined): void {
    if (!charge) return;
    const aux = this.owner.auxiliaryOf(n, charge.aux);
    if (aux === undefined) {
      throw new Error(`plugin ${this.owner.pluginOf(n)} charges ${op} CPU to auxiliary node "${charge.aux}" of node ${n}, but its create hook added none of that name`);
    }
    this.chargeNode.push(aux);
    this.chargeWork.push(charge.work);
    this.chargeWait.push(charge.wait ? 1 : 0);
  }

  /** Starts an operation: no delay, no charges, not rejected. */
  begin(): void {
    // An operation hook cannot start an operation: what could (failing a node) acts in an event of its own.
    if (this.active) throw new Error("an operation started inside an operation hook");
    this.delay = 0;
    this.rejected = -1;
    this.waiting = 0;
    this.pending = 0;
    this.serialNode = NONE;
  }

  /**
   * Passes an operation of kind `k` through the path of `process`: its static
   * latency and charges, then its hooks (until one rejects). `amount` is the
   * work, the bytes or the system calls; `direction` a message's end and `peer` the process at its other end (NONE:
   * a client outside, or not a message).
   */
  pass(k: number, process: number, request: number, amount: number, write: boolean, random: boolean, direction: number, peer = NONE): void {
    // perf: the common path (no charges, no hooks) is a few array reads, small enough to inline into every caller;
    // the rest is in functions of its own.
    const r = process * RECORD;
    const latency = this.record[r + LATENCY + k];
    this.delay += k === SYSCALL_OP ? latency * amount : latency;
    if ((this.record[r + DYNAMIC] & (1 << k)) === 0) return;
    const i = process * OPS + k;
    if (this.chargeCount[i] !== 0) this.staticCharges(i, k === SYSCALL_OP ? amount : 1);
    if (this.hookCount[i] !== 0) this.hooks(i, k, process, request, amount, write, random, direction, peer);
  }

  /** The static charges of record `i`, `calls` times each (system calls). */
  private staticCharges(i: number, calls: number): void {
    for (let c = this.chargeStart[i], end = c + this.chargeCount[i]; c < end; c++) this.collect(this.chargeNode[c], calls === 1 ? this.chargeWork[c] : this.chargeWork[c] * calls, this.chargeWait[c] === 1);
  }

  /** The hooks of record `i`, innermost layer first, until one rejects. */
  private hooks(i: number, k: number, process: number, request: number, amount: number, write: boolean, random: boolean, direction: number, peer: number): void {
    const op = this.op;
    op.kind = OP_KINDS[k];
    op.process = process;
    op.request = request;
    op.amount = amount;
    op.syscalls = k === SYSCALL_OP ? amount : k === IO_OP || k === NET_OP ? 1 : 0;
    op.write = write;
    op.random = random;
    op.direction = DIRECTIONS[direction];
    op.peer = peer;
    this.active = true;
    try {
      for (let h = this.hookStart[i], end = h + this.hookCount[i]; h < end && this.rejected < 0; h++) this.owner.callOperationHook(this.hookIndex[h], this.hookNode[h], op);
    } finally {
      this.active = false;
    }
  }

  /** The process whose operation the hooks see now (a charge may go on it: its calling thread). */
  get process(): number {
    return this.op.process;
  }

  /** A verdict: `seconds` more. */
  addDelay(seconds: number): void {
    this.delay += seconds;
  }

  /** A verdict: `work` core-seconds on leaf `node`, waited for or not. */
  collect(node: number, work: number, wait: boolean): void {
    if (this.pending === this.pendingNode.length) growColumns(this, SCRATCH_COLUMNS, this.pending * 2);
    this.pendingNode[this.pending] = node;
    this.pendingWork[this.pending] = work;
    this.pendingWait[this.pending++] = wait ? 1 : 0;
    if (wait) this.waiting++;
  }

  /** A verdict: the operation (an I/O) is served by auxiliary `node` one at a time; one such node per operation. */
  serial(node: number): void {
    if (this.op.kind !== "io") throw new Error(`a serial charge is for io operations (their completion frees the back end), not ${this.op.kind}`);
    if (this.serialNode !== NONE && this.serialNode !== node) throw new Error(`an operation is served serially by one node: ${this.serialNode} already, not also ${node}`);
    this.serialNode = node;
  }

  /** A verdict: the operation fails with `reason`. */
  reject(reason: string): void {
    let r = this.reasonIndex.get(reason);
    if (r === undefined) {
      r = this.reasons.push(reason) - 1;
      this.reasonIndex.set(reason, r);
    }
    if (this.rejected < 0) this.rejected = r;
  }

  /** Starts the charges collected (none if the operation was rejected); those waited for fire `doneType(donePayload)`. */
  startCharges(doneType: EventType, donePayload: number): void {
    if (this.pending === 0 || this.rejected >= 0) return;
    const o = this.owner;
    for (let c = 0; c < this.pending; c++) o.startCpu(this.pendingNode[c], this.pendingWork[c], this.pendingWait[c] === 1 ? doneType : NONE, donePayload);
    this.pending = 0;
  }

  /** Keeps the charges collected (the operation waits for its serial back end); returns their handle, NONE if none. */
  deferCharges(): number {
    let head = NONE;
    for (let c = this.pending - 1; c >= 0; c--) {
      let cell = this.deferredFree;
      if (cell !== NONE) this.deferredFree = this.deferredNext[cell];
      else {
        if (this.deferredCount === this.deferredNode.length) growColumns(this, DEFERRED_COLUMNS, this.deferredCount * 2);
        cell = this.deferredCount++;
      }
      this.deferredNode[cell] = this.pendingNode[c];
      this.deferredWork[cell] = this.pendingWork[c];
      this.deferredWait[cell] = this.pendingWait[c];
      this.deferredNext[cell] = head;
      head = cell;
    }
    this.pending = 0;
    return head;
  }

  /** Starts charges `deferCharges` kept (or only frees them, with `start` false), in the order they were collected. */
  startDeferred(head: number, doneType: EventType, donePayload: number, start = true): void {
    const o = this.owner;
    for (let cell = head; cell !== NONE; ) {
      const next = this.deferredNext[cell];
      if (start) o.startCpu(this.deferredNode[cell], this.deferredWork[cell], this.deferredWait[cell] === 1 ? doneType : NONE, donePayload);
      this.deferredNext[cell] = this.deferredFree;
      this.deferredFree = cell;
      cell = next;
    }
  }
}
