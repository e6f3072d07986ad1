/**
 * A generator-based process API in the style of SimPy, for examples and tests:
 *
 *   const procs = new Processes(sim);
 *   procs.spawn(function* () { yield timeout(5); console.log(sim.now); }());
 *
 * It is built on `schedule` like everything else and the kernel does not depend
 * on it. Generators cannot be serialised, so it is not snapshot-able: engine and
 * plugin code use handlers and integer payloads instead.
 */
import type { EventType, Simulation } from "./simulation.js";

/** Suspends a process for `delay` seconds. */
export class Timeout {
  constructor(readonly delay: number) {}
}

/** `yield timeout(d)` resumes the process `d` seconds later. */
export function timeout(delay: number): Timeout {
  if (!(delay >= 0)) throw new RangeError(`timeout: delay must be >= 0, got ${delay}`);
  return new Timeout(delay);
}

/** A one-shot condition: processes that `yield` it resume when it fires (at once if it already has). */
export class Signal {
  private waiters: number[] = [];
  private firedFlag = false;

  constructor(private readonly procs: Processes) {}

  get fired(): boolean {
    return this.firedFlag;
  }

  /** Resumes every waiting process at the current time, in the order they waited. */
  fire(): void {
    if (this.firedFlag) return;
    this.firedFlag = true;
    for (const pid of this.waiters) this.procs.wake(pid);
    this.waiters = [];
  }

  /** @internal */
  addWaiter(pid: number): void {
    if (this.firedFlag) this.procs.wake(pid);
    else this.waiters.push(pid);
  }
}

/** What a process body may yield. */
export type Yieldable = Timeout | Signal;

/** A process body: a generator started by `Processes.spawn`. */
export type ProcessBody = Generator<Yieldable, void, void>;

/** FIFO servers with `capacity` slots: `yield res.request()`, later `res.release()`. */
export class Resource {
  inUse = 0;
  private readonly waiting: Signal[] = [];
  private head = 0;

  constructor(
    private readonly procs: Processes,
    readonly capacity: number,
  ) {
    if (!(capacity >= 1 && Number.isInteger(capacity))) throw new RangeError(`capacity must be an integer >= 1, got ${capacity}`);
  }

  /** Number of requests waiting for a slot. */
  get queueLength(): number {
    return this.waiting.length - this.head;
  }

  /** A signal that fires when the caller holds a slot. */
  request(): Signal {
    const s = this.procs.signal();
    if (this.inUse < this.capacity) {
      this.inUse++;
      s.fire();
    } else {
      this.waiting.push(s);
    }
    return s;
  }

  /** Frees a slot, handing it to the longest waiting request. */
  release(): void {
    if (this.inUse === 0) throw new Error("release: no slot is held");
    if (this.head < this.waiting.length) {
      const next = this.waiting[this.head++];
      if (this.head > 1024 && this.head * 2 > this.waiting.length) {
        this.waiting.splice(0, this.head);
        this.head = 0;
      }
      next.fire();
    } else {
      this.inUse--;
    }
  }
}

export class Processes {
  private readonly bodies: (ProcessBody | undefined)[] = [];
  private readonly free: number[] = [];
  private readonly resume: EventType;

  constructor(private readonly sim: Simulation) {
    this.resume = sim.on("process.resume", (pid) => this.advance(pid));
  }

  /** Starts a process at the current time (after events already scheduled for now). Returns its id. */
  spawn(body: ProcessBody): number {
    const pid = this.free.length > 0 ? this.free.pop()! : this.bodies.length;
    this.bodies[pid] = body;
    this.wake(pid);
    return pid;
  }

  signal(): Signal {
    return new Signal(this);
  }

  resource(capacity: number): Resource {
    return new Resource(this, capacity);
  }

  /** @internal Schedules process `pid` to resume now. */
  wake(pid: number): void {
    this.sim.schedule(this.resume, 0, pid);
  }

  private advance(pid: number): void {
    const body = this.bodies[pid];
    if (body === undefined) return;
    const r = body.next();
    if (r.done) {
      this.bodies[pid] = undefined;
      this.free.push(pid);
    } else if (r.value instanceof Timeout) {
      this.sim.schedule(this.resume, r.value.delay, pid);
    } else if (r.value instanceof Signal) {
      r.value.addWaiter(pid);
    } else {
      throw new TypeError(`process ${pid} yielded ${String(r.value)}; yield timeout(d) or a Signal`);
    }
  }
}
