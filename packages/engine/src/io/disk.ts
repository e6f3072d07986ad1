/**
 * Host disks (DESIGN.md, Resource models: Disk). An I/O of s bytes costs
 * max(1/IOPS, s/bandwidth) device-seconds when random and s/bandwidth when
 * sequential. Up to `queueDepth` I/Os are served at once in processor sharing
 * (each of n active I/Os advances at 1/n device-seconds per second); the rest
 * wait FIFO. `latency` is a pure delay added to each I/O after the device is
 * done with it, holding no device time.
 *
 * As in the CPU solver, each disk keeps a virtual clock (device-seconds done
 * per active I/O) and one completion event in the kernel queue; an I/O is the
 * clock value at which it is done.
 */
import type { EventType, Simulation } from "../kernel/simulation.js";
import { NONE } from "../tree/nodes.js";
import { grown } from "../util/typed.js";

const DONE_TOLERANCE = 1e-12;

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

export class DiskSolver {
  // Per disk (indexed by host node id).
  private iops = new Float64Array(64);
  private bandwidth = new Float64Array(64);
  private latency = new Float64Array(64);
  private depth = new Int32Array(64);
  private clock = new Float64Array(64);
  private last = new Float64Array(64);
  private active = new Int32Array(64);
  private minTarget = new Float64Array(64).fill(Infinity);
  private head = new Int32Array(64).fill(NONE); // active I/Os
  private waitHead = new Int32Array(64).fill(NONE); // FIFO of waiting I/Os
  private waitTail = new Int32Array(64).fill(NONE);
  private event = new Float64Array(64).fill(-1);
  private busy = new Float64Array(64);
  private completed = new Float64Array(64);
  private bytesRead = new Float64Array(64);
  private bytesWritten = new Float64Array(64);
  private hasDisk = new Int8Array(64);
  // I/Os.
  private ioCount = 0;
  private ioFree: number[] = [];
  private ioDisk = new Int32Array(64);
  private ioTarget = new Float64Array(64);
  private ioCost = new Float64Array(64);
  private ioBytes = new Float64Array(64);
  private ioWrite = new Int8Array(64);
  private ioDelay = new Float64Array(64);
  private ioDoneType = new Int32Array(64);
  private ioDonePayload = new Int32Array(64);
  private ioNext = new Int32Array(64);
  private ioPrev = new Int32Array(64);

  private readonly completeType: EventType;

  constructor(private readonly sim: Simulation) {
    this.completeType = sim.on("disk.complete", (disk) => this.onComplete(disk));
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
   * Submits one I/O; kernel event `doneType` fires with `donePayload` once the
   * device is done and its latency plus `extraDelay` (the path's adders) have
   * passed.
   */
  submit(disk: number, bytes: number, random: boolean, write: boolean, extraDelay: number, doneType: EventType, donePayload: number): void {
    if (!this.has(disk)) throw new Error(`node ${disk} has no disk`);
    this.advance(disk);
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
      this.ioNext[io] = NONE;
      if (this.waitTail[disk] === NONE) this.waitHead[disk] = io;
      else this.ioNext[this.waitTail[disk]] = io;
      this.waitTail[disk] = io;
    }
    this.reschedule(disk);
  }

  /** Counters of a disk, accrued to now. */
  stats(disk: number): DiskStats {
    this.advance(disk);
    return { busyTime: this.busy[disk], completed: this.completed[disk], bytesRead: this.bytesRead[disk], bytesWritten: this.bytesWritten[disk] };
  }

  private activate(io: number): void {
    const disk = this.ioDisk[io];
    const target = this.clock[disk] + this.ioCost[io];
    this.ioTarget[io] = target;
    this.ioPrev[io] = NONE;
    this.ioNext[io] = this.head[disk];
    if (this.head[disk] !== NONE) this.ioPrev[this.head[disk]] = io;
    this.head[disk] = io;
    if (this.active[disk] === 0 || target < this.minTarget[disk]) this.minTarget[disk] = target;
    this.active[disk]++;
  }

  private advance(disk: number): void {
    const now = this.sim.now;
    const dt = now - this.last[disk];
    if (dt <= 0) return;
    const n = this.active[disk];
    if (n > 0) {
      this.clock[disk] += dt / n;
      this.busy[disk] += dt;
    }
    this.last[disk] = now;
  }

  private reschedule(disk: number): void {
    const n = this.active[disk];
    const h = this.event[disk];
    if (n === 0) {
      if (h >= 0) this.sim.cancel(h);
      this.event[disk] = -1;
      return;
    }
    const t = this.sim.now + Math.max(0, this.minTarget[disk] - this.clock[disk]) * n;
    if (h >= 0 && this.sim.isPending(h)) this.sim.rescheduleAt(h, t);
    else this.event[disk] = this.sim.scheduleAt(this.completeType, t, disk);
  }

  private onComplete(disk: number): void {
    this.event[disk] = -1;
    this.advance(disk);
    const clock = this.clock[disk];
    const predicted = this.minTarget[disk];
    let forced = false;
    let min = Infinity;
    for (let io = this.head[disk]; io !== NONE; ) {
      const next = this.ioNext[io];
      const hit = this.ioTarget[io] - clock <= DONE_TOLERANCE * this.ioCost[io];
      if (hit || (!forced && this.ioTarget[io] === predicted)) {
        if (this.ioTarget[io] === predicted) forced = true;
        this.finish(io);
      } else if (this.ioTarget[io] < min) {
        min = this.ioTarget[io];
      }
      io = next;
    }
    this.minTarget[disk] = min;
    // An idle device restarts its clock at zero, keeping rounding far below any I/O's cost.
    if (this.active[disk] === 0) this.clock[disk] = 0;
    while (this.active[disk] < this.depth[disk] && this.waitHead[disk] !== NONE) {
      const io = this.waitHead[disk];
      this.waitHead[disk] = this.ioNext[io];
      if (this.waitHead[disk] === NONE) this.waitTail[disk] = NONE;
      this.activate(io);
    }
    this.reschedule(disk);
  }

  private finish(io: number): void {
    const disk = this.ioDisk[io];
    const p = this.ioPrev[io];
    const n = this.ioNext[io];
    if (p !== NONE) this.ioNext[p] = n;
    else this.head[disk] = n;
    if (n !== NONE) this.ioPrev[n] = p;
    this.active[disk]--;
    this.completed[disk]++;
    if (this.ioWrite[io]) this.bytesWritten[disk] += this.ioBytes[io];
    else this.bytesRead[disk] += this.ioBytes[io];
    this.sim.schedule(this.ioDoneType[io], this.ioDelay[io], this.ioDonePayload[io]);
    this.ioFree.push(io);
  }

  private allocIo(): number {
    if (this.ioFree.length > 0) return this.ioFree.pop()!;
    if (this.ioCount === this.ioDisk.length) {
      const c = this.ioCount * 2;
      this.ioDisk = grown(this.ioDisk, c);
      this.ioTarget = grown(this.ioTarget, c);
      this.ioCost = grown(this.ioCost, c);
      this.ioBytes = grown(this.ioBytes, c);
      this.ioWrite = grown(this.ioWrite, c);
      this.ioDelay = grown(this.ioDelay, c);
      this.ioDoneType = grown(this.ioDoneType, c);
      this.ioDonePayload = grown(this.ioDonePayload, c);
      this.ioNext = grown(this.ioNext, c);
      this.ioPrev = grown(this.ioPrev, c);
    }
    return this.ioCount++;
  }

  private ensure(disk: number): void {
    if (disk < this.iops.length) return;
    let c = this.iops.length;
    while (c <= disk) c *= 2;
    this.iops = grown(this.iops, c);
    this.bandwidth = grown(this.bandwidth, c);
    this.latency = grown(this.latency, c);
    this.depth = grown(this.depth, c);
    this.clock = grown(this.clock, c);
    this.last = grown(this.last, c);
    this.active = grown(this.active, c);
    this.minTarget = grown(this.minTarget, c, Infinity);
    this.head = grown(this.head, c, NONE);
    this.waitHead = grown(this.waitHead, c, NONE);
    this.waitTail = grown(this.waitTail, c, NONE);
    this.event = grown(this.event, c, -1);
    this.busy = grown(this.busy, c);
    this.completed = grown(this.completed, c);
    this.bytesRead = grown(this.bytesRead, c);
    this.bytesWritten = grown(this.bytesWritten, c);
    this.hasDisk = grown(this.hasDisk, c);
  }
}
