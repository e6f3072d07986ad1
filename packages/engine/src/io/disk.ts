/**
 * Host disks (DESIGN.md, Resource models: Disk). An I/O of s bytes costs
 * max(1/IOPS, s/bandwidth) device-seconds when random and s/bandwidth when
 * sequential. Up to `queueDepth` I/Os are served at once in processor sharing
 * (each of n active I/Os advances at 1/n device-seconds per second); the rest
 * wait FIFO. `latency` is a pure delay added to each I/O after the device is
 * done with it, holding no device time.
 *
 * As in the CPU solver, each disk keeps a virtual clock (device-seconds done
 * per active I/O); an I/O is the clock value at which it is done.
 *
 * One kernel event per disk, at the time its next I/O is delivered. What the
 * device does is seen by nobody until an I/O's latency has passed, so its
 * steps (the times an I/O is done, computed as a completion event at that time
 * would) are committed lazily: when the disk's event runs, and before an I/O
 * is submitted or counters are read. The event is at the next step plus the
 * shortest delay of the I/Os that step may finish (the soonest one of them can
 * be delivered), or at the earliest delivery of an I/O already done; so an I/O
 * costs one event instead of two (its device completion, then its delivery),
 * with the same times.
 */
import type { EventType, Simulation } from "../kernel/simulation.js";
import { NONE } from "../tree/nodes.js";
import { allocColumns, growColumns, type ColumnSpec } from "../util/typed.js";

const DONE_TOLERANCE = 1e-12;

/** Where an I/O is: a free slot, waiting for a place on the device, on it, or done and waiting for its latency. */
const FREE = 0;
const WAITING = 1;
const ACTIVE = 2;
const DONE = 3;

export interface DiskSpec {
  iops: number;
  /** Bytes per second. */
  bandwidth: number;
  /** Seconds added to each I/O. */
  latency: number;
  queueDepth: number;
}

/** Counters of one disk since its start. */
export interface DiskStats {
  /** Seconds with at least one I/O on the device. */
  busyTime: number;
  completed: number;
  bytesRead: number;
  bytesWritten: number;
}

/** Per-disk columns (indexed by host node id), with the value a new slot starts with. */
const DISK_COLUMNS: readonly ColumnSpec[] = [
  ["iops", Float64Array],
  ["bandwidth", Float64Array],
  ["latency", Float64Array],
  ["depth", Int32Array],
  ["clock", Float64Array],
  ["last", Float64Array],
  ["active", Int32Array],
  ["minTarget", Float64Array, Infinity],
  ["head", Int32Array, NONE],
  ["waitHead", Int32Array, NONE],
  ["waitTail", Int32Array, NONE],
  ["due", Float64Array, Infinity],
  ["doneHead", Int32Array, NONE],
  ["doneTail", Int32Array, NONE],
  ["event", Float64Array, -1],
  ["eventTime", Float64Array],
  ["busy", Float64Array],
  ["completed", Float64Array],
  ["bytesRead", Float64Array],
  ["bytesWritten", Float64Array],
  ["hasDisk", Int8Array],
];

/** Per-I/O columns. */
const IO_COLUMNS: readonly ColumnSpec[] = [
  ["ioDisk", Int32Array],
  ["ioTarget", Float64Array],
  ["ioCost", Float64Array],
  ["ioBytes", Float64Array],
  ["ioWrite", Int8Array],
  ["ioDelay", Float64Array],
  ["ioDeliver", Float64Array],
  ["ioDoneType", Int32Array],
  ["ioDonePayload", Int32Array],
  ["ioNext", Int32Array],
  ["ioPrev", Int32Array],
  ["ioState", Int8Array],
];

export class DiskSolver {
  // Per disk (indexed by host node id).
  private iops = new Float64Array(0);
  private bandwidth = new Float64Array(0);
  private latency = new Float64Array(0);
  private depth = new Int32Array(0);
  private clock = new Float64Array(0);
  private last = new Float64Array(0);
  private active = new Int32Array(0);
  private minTarget = new Float64Array(0);
  private head = new Int32Array(0); // active I/Os
  private waitHead = new Int32Array(0); // FIFO of waiting I/Os
  private waitTail = new Int32Array(0);
  /** When the device's next step is due (its next I/O done), Infinity when idle. */
  private due = new Float64Array(0);
  /** I/Os the device is done with, waiting for their latency: a FIFO in the order they were done. */
  private doneHead = new Int32Array(0);
  private doneTail = new Int32Array(0);
  private event = new Float64Array(0);
  private eventTime = new Float64Array(0);
  private busy = new Float64Array(0);
  private completed = new Float64Array(0);
  private bytesRead = new Float64Array(0);
  private bytesWritten = new Float64Array(0);
  private hasDisk = new Int8Array(0);
  // I/Os.
  private ioCount = 0;
  private ioFree: number[] = [];
  private ioDisk = new Int32Array(0);
  private ioTarget = new Float64Array(0);
  private ioCost = new Float64Array(0);
  private ioBytes = new Float64Array(0);
  private ioWrite = new Int8Array(0);
  private ioDelay = new Float64Array(0);
  /** When a done I/O is delivered to its owner. */
  private ioDeliver = new Float64Array(0);
  private ioDoneType = new Int32Array(0);
  private ioDonePayload = new Int32Array(0);
  private ioNext = new Int32Array(0);
  private ioPrev = new Int32Array(0);
  private ioState = new Int8Array(0);

  private readonly eventType: EventType;

  constructor(private readonly sim: Simulation) {
    allocColumns(this, DISK_COLUMNS, 64);
    allocColumns(this, IO_COLUMNS, 64);
    this.eventType = sim.on("disk.deliver", (disk) => this.onEvent(disk));
  }

  /** Gives host node `disk` a device. */
  setDisk(disk: number, spec: DiskSpec): void {
    this.ensure(disk);
    if (!(spec.iops > 0 && spec.bandwidth > 0 && spec.latency >= 0 && spec.queueDepth >= 1)) {
      throw new RangeError(`disk of node ${disk}: iops and bandwidth must be > 0, latency >= 0, queueDepth >= 1`);
    }
    this.iops[disk] = spec.iops;
    this.bandwidth[disk] = spec.bandwidth;
    this.latency[disk] = spec.latency;
    this.depth[disk] = spec.queueDepth;
    this.last[disk] = this.sim.now;
    this.hasDisk[disk] = 1;
  }

  has(disk: number): boolean {
    return disk < this.hasDisk.length && this.hasDisk[disk] === 1;
  }

  /** Device-seconds one I/O of `bytes` costs on `disk`. */
  cost(disk: number, bytes: number, random: boolean): number {
    const transfer = bytes / this.bandwidth[disk];
    return random ? Math.max(1 / this.iops[disk], transfer) : transfer;
  }

  /**
   * Submits one I/O; the handler of kernel event type `doneType` runs with
   * `donePayload` (inside the disk's event) once the device is done and its
   * latency plus `extraDelay` (the path's adders) have passed. Returns the
   * I/O's id, valid until its delivery (ids are reused after).
   */
  submit(disk: number, bytes: number, random: boolean, write: boolean, extraDelay: number, doneType: EventType, donePayload: number): number {
    if (!this.has(disk)) throw new Error(`node ${disk} has no disk`);
    // The disk's event relies on it: no I/O is delivered sooner than the disk's latency after the device is done.
    if (!(extraDelay >= 0)) throw new RangeError(`I/O on node ${disk}: extra delay must be >= 0, got ${extraDelay}`);
    this.settle(disk, this.sim.now);
    this.advance(disk, this.sim.now);
    const io = this.allocIo();
    this.ioDisk[io] = disk;
    this.ioCost[io] = this.cost(disk, bytes, random);
    this.ioBytes[io] = bytes;
    this.ioWrite[io] = write ? 1 : 0;
    this.ioDelay[io] = this.latency[disk] + extraDelay;
    this.ioDoneType[io] = doneType;
    this.ioDonePayload[io] = donePayload;
    if (this.active[disk] < this.depth[disk]) this.activate(io);
    else {
      this.ioState[io] = WAITING;
      this.ioNext[io] = NONE;
      if (this.waitTail[disk] === NONE) this.waitHead[disk] = io;
      else this.ioNext[this.waitTail[disk]] = io;
      this.waitTail[disk] = io;
    }
    this.planStep(disk, this.sim.now);
    this.placeEvent(disk);
    return io;
  }

  /**
   * The bytes I/O `io` has not done yet if it is still the one submitted with (`doneType`, `donePayload`); 0 when
   * the device has finished it or the id is another I/O's now. Changes nothing that can be observed. O(1) amortised.
   */
  remaining(io: number, doneType: EventType, donePayload: number): number {
    if (!this.owns(io, doneType, donePayload)) return 0;
    const disk = this.ioDisk[io];
    // Settling first: the device may have finished it by now.
    this.settle(disk, this.sim.now);
    this.advance(disk, this.sim.now);
    const state = this.ioState[io];
    if (state === WAITING) return this.ioBytes[io];
    if (state !== ACTIVE || !(this.ioCost[io] > 0)) return 0;
    return this.ioBytes[io] * Math.min(1, Math.max(0, (this.ioTarget[io] - this.clock[disk]) / this.ioCost[io]));
  }

  /**
   * Takes back I/O `io` if it is still the one submitted with (`doneType`,
   * `donePayload`) and the device has not finished it: it is never delivered,
   * the part done counts as read or written, and the rest of the device goes
   * to the other I/Os. Returns the bytes it had not done: 0 when the device
   * had finished it (its delivery still comes) or the id is another I/O's now.
   * O(I/Os on the disk).
   */
  cancel(io: number, doneType: EventType, donePayload: number): number {
    const left = this.remaining(io, doneType, donePayload);
    const state = this.ioState[io];
    if (!this.owns(io, doneType, donePayload) || (state !== WAITING && state !== ACTIVE)) return 0;
    const disk = this.ioDisk[io];
    const now = this.sim.now;
    if (state === WAITING) {
      let prev = NONE;
      for (let x = this.waitHead[disk]; x !== io; x = this.ioNext[x]) prev = x;
      if (prev === NONE) this.waitHead[disk] = this.ioNext[io];
      else this.ioNext[prev] = this.ioNext[io];
      if (this.waitTail[disk] === io) this.waitTail[disk] = prev;
    } else {
      this.unlinkActive(io);
      if (this.ioWrite[io]) this.bytesWritten[disk] += this.ioBytes[io] - left;
      else this.bytesRead[disk] += this.ioBytes[io] - left;
      let min = Infinity;
      for (let x = this.head[disk]; x !== NONE; x = this.ioNext[x]) if (this.ioTarget[x] < min) min = this.ioTarget[x];
      this.minTarget[disk] = min;
      this.refill(disk);
    }
    this.ioState[io] = FREE;
    this.ioFree.push(io);
    this.planStep(disk, now);
    this.placeEvent(disk);
    return left;
  }

  /** Counters of a disk, accrued to now. */
  stats(disk: number): DiskStats {
    this.settle(disk, this.sim.now);
    this.advance(disk, this.sim.now);
    return { busyTime: this.busy[disk], completed: this.completed[disk], bytesRead: this.bytesRead[disk], bytesWritten: this.bytesWritten[disk] };
  }

  private activate(io: number): void {
    const disk = this.ioDisk[io];
    const target = this.clock[disk] + this.ioCost[io];
    this.ioState[io] = ACTIVE;
    this.ioTarget[io] = target;
    this.ioPrev[io] = NONE;
    this.ioNext[io] = this.head[disk];
    if (this.head[disk] !== NONE) this.ioPrev[this.head[disk]] = io;
    this.head[disk] = io;
    if (this.active[disk] === 0 || target < this.minTarget[disk]) this.minTarget[disk] = target;
    this.active[disk]++;
  }

  /** Advances the disk's clock and busy time to `now` at the current number of active I/Os. */
  private advance(disk: number, now: number): void {
    const dt = now - this.last[disk];
    if (dt <= 0) return;
    const n = this.active[disk];
    if (n > 0) {
      this.clock[disk] += dt / n;
      this.busy[disk] += dt;
    }
    this.last[disk] = now;
  }

  /** When the device's next I/O is done, from its state at `now`. */
  private planStep(disk: number, now: number): void {
    const n = this.active[disk];
    this.due[disk] = n === 0 ? Infinity : now + Math.max(0, this.minTarget[disk] - this.clock[disk]) * n;
  }

  /** Commits every device step due by `now`, each at its own time, as a completion event then would have. */
  private settle(disk: number, now: number): void {
    while (this.due[disk] <= now) this.step(disk, this.due[disk]);
  }

  /**
   * The device's step at time `t`: every active I/O whose target the clock has
   * reached (within 1e-12 of its cost) is done, and the predicted one in any
   * case, so rounding can never leave an I/O pending forever; waiting I/Os take
   * the freed places.
   */
  private step(disk: number, t: number): void {
    this.advance(disk, t);
    const clock = this.clock[disk];
    const predicted = this.minTarget[disk];
    let forced = false;
    let min = Infinity;
    for (let io = this.head[disk]; io !== NONE; ) {
      const next = this.ioNext[io];
      const hit = this.ioTarget[io] - clock <= DONE_TOLERANCE * this.ioCost[io];
      if (hit || (!forced && this.ioTarget[io] === predicted)) {
        if (this.ioTarget[io] === predicted) forced = true;
        this.finish(io, t);
      } else if (this.ioTarget[io] < min) {
        min = this.ioTarget[io];
      }
      io = next;
    }
    this.minTarget[disk] = min;
    this.refill(disk);
    this.planStep(disk, t);
  }

  /** Whether `io` is an I/O in use, submitted with (`doneType`, `donePayload`). */
  private owns(io: number, doneType: EventType, donePayload: number): boolean {
    return io >= 0 && io < this.ioCount && this.ioState[io] !== FREE && this.ioDoneType[io] === doneType && this.ioDonePayload[io] === donePayload;
  }

  /** Waiting I/Os take the device's free places (after I/Os left it). */
  private refill(disk: number): void {
    // An idle device restarts its clock at zero, keeping rounding far below any I/O's cost.
    if (this.active[disk] === 0) this.clock[disk] = 0;
    while (this.active[disk] < this.depth[disk] && this.waitHead[disk] !== NONE) {
      const io = this.waitHead[disk];
      this.waitHead[disk] = this.ioNext[io];
      if (this.waitHead[disk] === NONE) this.waitTail[disk] = NONE;
      this.activate(io);
    }
  }

  /** Takes an I/O off the device's active list. */
  private unlinkActive(io: number): void {
    const disk = this.ioDisk[io];
    const p = this.ioPrev[io];
    const n = this.ioNext[io];
    if (p !== NONE) this.ioNext[p] = n;
    else this.head[disk] = n;
    if (n !== NONE) this.ioPrev[n] = p;
    this.active[disk]--;
  }

  /**
   * Keeps the disk's one event at its next delivery: a done I/O's, or the
   * soonest one of the next step (the step's time plus the shortest delay of
   * the I/Os on the device; with I/Os waiting, which may have shorter ones,
   * plus the disk's own latency).
   */
  private placeEvent(disk: number): void {
    let delay = this.latency[disk];
    if (this.waitHead[disk] === NONE && this.head[disk] !== NONE) {
      delay = Infinity;
      for (let io = this.head[disk]; io !== NONE; io = this.ioNext[io]) if (this.ioDelay[io] < delay) delay = this.ioDelay[io];
    }
    let t = this.due[disk] + delay;
    for (let io = this.doneHead[disk]; io !== NONE; io = this.ioNext[io]) if (this.ioDeliver[io] < t) t = this.ioDeliver[io];
    const h = this.event[disk];
    if (t === Infinity) {
      if (h >= 0) this.sim.cancel(h);
      this.event[disk] = -1;
    } else if (h < 0) {
      this.event[disk] = this.sim.scheduleAt(this.eventType, t, disk);
    } else if (this.eventTime[disk] !== t) {
      this.sim.rescheduleAt(h, t);
    }
    this.eventTime[disk] = t;
  }

  /**
   * The disk's event: steps due by now are committed, then the I/Os due are
   * delivered in the order the device finished them. An owner may submit
   * again meanwhile; I/Os done after this event began wait for the next one.
   */
  private onEvent(disk: number): void {
    this.event[disk] = -1;
    const now = this.sim.now;
    this.settle(disk, now);
    const last = this.doneTail[disk];
    let prev = NONE;
    for (let io = this.doneHead[disk]; io !== NONE; ) {
      const next = this.ioNext[io];
      if (this.ioDeliver[io] <= now) {
        if (prev === NONE) this.doneHead[disk] = next;
        else this.ioNext[prev] = next;
        if (this.doneTail[disk] === io) this.doneTail[disk] = prev;
        this.ioState[io] = FREE;
        this.ioFree.push(io);
        this.sim.dispatch(this.ioDoneType[io], this.ioDonePayload[io]);
      } else {
        prev = io;
      }
      if (io === last) break;
      io = next;
    }
    this.placeEvent(disk);
  }

  /** The device is done with an I/O at time `t`: it is counted and waits for its latency. */
  private finish(io: number, t: number): void {
    const disk = this.ioDisk[io];
    this.unlinkActive(io);
    this.ioState[io] = DONE;
    this.completed[disk]++;
    if (this.ioWrite[io]) this.bytesWritten[disk] += this.ioBytes[io];
    else this.bytesRead[disk] += this.ioBytes[io];
    this.ioDeliver[io] = t + this.ioDelay[io];
    this.ioNext[io] = NONE;
    if (this.doneTail[disk] === NONE) this.doneHead[disk] = io;
    else this.ioNext[this.doneTail[disk]] = io;
    this.doneTail[disk] = io;
  }

  private allocIo(): number {
    if (this.ioFree.length > 0) return this.ioFree.pop()!;
    if (this.ioCount === this.ioDisk.length) growColumns(this, IO_COLUMNS, this.ioCount * 2);
    return this.ioCount++;
  }

  private ensure(disk: number): void {
    if (disk < this.iops.length) return;
    let c = this.iops.length;
    while (c <= disk) c *= 2;
    growColumns(this, DISK_COLUMNS, c);
  }
}
