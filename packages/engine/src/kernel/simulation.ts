/**
 * The simulation kernel: a clock, the pending-event queue and integer dispatch.
 * It is the only thing that advances time; resources, layers and workloads are
 * built on `schedule` and handlers.
 *
 * Event types are registered once (`on`) and get a small integer id; an event
 * is (time, priority, type, int32 payload), and dispatch is an array index, so
 * the loop allocates nothing and all state can be snapshotted.
 */
import { Random, type KeyPart } from "../random/random.js";
import { decodeSnapshot, encodeSnapshot } from "./codec.js";
import { EventQueue, MAX_EVENT_TYPES, type EventHandle, type QueueState } from "./queue.js";

export type { EventHandle } from "./queue.js";

/** Handles an event's payload. Runs synchronously at `sim.now`. */
export type EventHandler = (payload: number, sim: Simulation) => void;

/** An event type id returned by `Simulation.on`. */
export type EventType = number;

export interface RunOptions {
  /** Run events strictly before this time, then set the clock to it. Default: until the queue is empty. */
  until?: number;
  /** Stop after this many events in this call. */
  maxEvents?: number;
}

export interface RunResult {
  /** Why the run returned. */
  reason: "until" | "empty" | "maxEvents" | "stopped";
  /** Events processed by this call. */
  events: number;
}

export interface SimulationOptions {
  /** Root seed of every random stream of this simulation. Default 0. */
  seed?: number;
  /** Initial capacity of the event queue (it grows by doubling). */
  capacity?: number;
}

/** An error thrown by an event handler, with where and when it happened. */
export class HandlerError extends Error {
  constructor(
    readonly handlerName: string,
    readonly eventType: string,
    readonly time: number,
    override readonly cause: unknown,
  ) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    super(`${handlerName === "(anonymous)" ? "the handler" : `handler ${handlerName}`} for event type "${eventType}" failed at simulated time ${time}s: ${detail}`);
    this.name = "HandlerError";
  }
}

const SNAPSHOT_FORMAT = "turtles-kernel/1";

interface KernelSnapshot {
  format: string;
  now: number;
  seed: number;
  eventsProcessed: number;
  types: string[];
  queue: QueueState;
  streams: [string, Int32Array][];
}

export class Simulation {
  /** Current simulated time in seconds. */
  now = 0;
  /** Events processed since the start (restored by snapshots). */
  eventsProcessed = 0;
  readonly seed: number;

  private readonly queue: EventQueue;
  private readonly handlers: EventHandler[] = [];
  private readonly typeNames: string[] = [];
  private readonly streams = new Map<string, Random>();
  private stopRequested = false;

  constructor(options: SimulationOptions = {}) {
    this.seed = options.seed ?? 0;
    this.queue = new EventQueue(options.capacity);
  }

  /**
   * Registers the handler of a new event type and returns its id. Each name
   * once; register types in the same order in a kernel that restores a snapshot.
   */
  on(name: string, handler: EventHandler): EventType {
    if (this.typeNames.includes(name)) throw new Error(`event type "${name}" is already registered`);
    if (this.typeNames.length === MAX_EVENT_TYPES) throw new Error(`at most ${MAX_EVENT_TYPES} event types can be registered`);
    this.typeNames.push(name);
    this.handlers.push(handler);
    return this.handlers.length - 1;
  }

  /** Names of the registered event types, in registration order. */
  get eventTypeNames(): readonly string[] {
    return this.typeNames;
  }

  /** Name of a registered event type. */
  typeName(type: EventType): string {
    return this.typeNames[type] ?? `#${type}`;
  }

  /** Schedules an event `delay` (>= 0) seconds from now. Lower `priority` runs first among equal times. */
  schedule(type: EventType, delay: number, payload = 0, priority = 0): EventHandle {
    if (!(delay >= 0)) throw new RangeError(`schedule: delay must be >= 0, got ${delay}`);
    return this.scheduleAt(type, this.now + delay, payload, priority);
  }

  /** Schedules an event at absolute time `time` (>= now). */
  scheduleAt(type: EventType, time: number, payload = 0, priority = 0): EventHandle {
    if (!(time >= this.now) || time === Infinity) {
      throw new RangeError(`schedule: time ${time} is not a finite time at or after now (${this.now})`);
    }
    if (!(type >= 0 && type < this.handlers.length)) throw new RangeError(`schedule: unknown event type ${type}`);
    if (payload !== (payload | 0)) throw new RangeError(`schedule: payload must be an int32, got ${payload}`);
    return this.queue.push(time, type, payload, priority);
  }

  /** Cancels a pending event. False when the handle is stale (the event ran or was cancelled). */
  cancel(handle: EventHandle): boolean {
    return this.queue.cancel(handle);
  }

  /** Moves a pending event to `delay` from now; it takes a new sequence number. Throws on a stale handle. */
  reschedule(handle: EventHandle, delay: number, priority = 0): void {
    if (!(delay >= 0)) throw new RangeError(`reschedule: delay must be >= 0, got ${delay}`);
    this.rescheduleAt(handle, this.now + delay, priority);
  }

  /** Moves a pending event to absolute time `time` (>= now). */
  rescheduleAt(handle: EventHandle, time: number, priority = 0): void {
    if (!(time >= this.now) || time === Infinity) {
      throw new RangeError(`reschedule: time ${time} is not a finite time at or after now (${this.now})`);
    }
    this.queue.reschedule(handle, time, priority);
  }

  /** True while the event is pending. */
  isPending(handle: EventHandle): boolean {
    return this.queue.isPending(handle);
  }

  /** Time of a pending event; throws on a stale handle. O(pending): for tests and debugging. */
  timeOf(handle: EventHandle): number {
    return this.queue.timeOf(handle);
  }

  /** Time of the next event, or `Infinity`. */
  peek(): number {
    return this.queue.peekTime();
  }

  /** Number of pending events. */
  get pending(): number {
    return this.queue.size;
  }

  /** Bytes held by the event queue. */
  get queueBytes(): number {
    return this.queue.byteLength;
  }

  /** Processes the next event. Returns false when none is pending. */
  step(): boolean {
    return this.run({ maxEvents: 1 }).events === 1;
  }

  /**
   * Runs the handler of `type` with `payload` at once, inside the current
   * event: for a resource model telling its owner of a completion it has just
   * processed, without a kernel event of its own. Handler errors propagate to
   * the run, which reports them against the event being processed.
   */
  dispatch(type: EventType, payload: number): void {
    this.handlers[type](payload, this);
  }

  /** Makes the current `run` return after the event being processed. */
  stop(): void {
    this.stopRequested = true;
  }

  /**
   * Processes events in (time, priority, sequence) order until the queue is
   * empty, the next event is at or after `until` (then the clock moves to
   * `until`), `maxEvents` have run, or a handler calls `stop()`. A handler that
   * throws stops the run with a `HandlerError`.
   */
  run(options: RunOptions = {}): RunResult {
    const until = options.until ?? Infinity;
    const maxEvents = options.maxEvents ?? Infinity;
    if (!(until >= this.now)) throw new RangeError(`run: until (${until}) is before now (${this.now})`);
    if (!(maxEvents >= 0)) throw new RangeError(`run: maxEvents must be >= 0, got ${maxEvents}`);
    const q = this.queue;
    const handlers = this.handlers;
    this.stopRequested = false;
    let events = 0;
    let reason: RunResult["reason"] = "empty";
    try {
      for (;;) {
        if (events >= maxEvents) {
          reason = "maxEvents";
          break;
        }
        if (!q.pop(until)) {
          if (until !== Infinity) {
            this.now = until;
            reason = "until";
          }
          break;
        }
        this.now = q.poppedTime;
        events++;
        handlers[q.poppedType](q.poppedPayload, this);
        if (this.stopRequested) {
          reason = "stopped";
          break;
        }
      }
    } catch (err) {
      const type = q.poppedType;
      throw new HandlerError(handlers[type]?.name || "(anonymous)", this.typeName(type), this.now, err);
    } finally {
      this.eventsProcessed += events;
      this.stopRequested = false;
    }
    return { reason, events };
  }

  /**
   * The random stream of this simulation for `key` (hashed with the seed),
   * created on first use. Its state is part of snapshots.
   */
  random(...key: KeyPart[]): Random {
    const id = JSON.stringify(key);
    let r = this.streams.get(id);
    if (r === undefined) {
      r = Random.fromKey(this.seed, ...key);
      this.streams.set(id, r);
    }
    return r;
  }

  /** Serialises the clock, the queue and every stream from `random` to msgpack. */
  snapshot(): Uint8Array {
    const snap: KernelSnapshot = {
      format: SNAPSHOT_FORMAT,
      now: this.now,
      seed: this.seed,
      eventsProcessed: this.eventsProcessed,
      types: this.typeNames.slice(),
      queue: this.queue.exportState(),
      streams: [...this.streams].map(([id, r]) => [id, r.state]),
    };
    return encodeSnapshot(snap);
  }

  /**
   * Restores a snapshot into this kernel, which must have the same event types
   * registered in the same order. The run then continues exactly as the
   * original would have.
   */
  restore(bytes: Uint8Array): void {
    const snap = decodeSnapshot(bytes) as KernelSnapshot;
    if (snap?.format !== SNAPSHOT_FORMAT) throw new Error(`not a kernel snapshot (expected format ${SNAPSHOT_FORMAT})`);
    if (snap.seed !== this.seed) throw new Error(`snapshot seed ${snap.seed} differs from this simulation's seed ${this.seed}`);
    if (JSON.stringify(snap.types) !== JSON.stringify(this.typeNames)) {
      throw new Error(
        `snapshot event types [${snap.types.join(", ")}] differ from the registered ones [${this.typeNames.join(", ")}]`,
      );
    }
    this.queue.importState(snap.queue);
    this.now = snap.now;
    this.eventsProcessed = snap.eventsProcessed;
    // Streams are restored in place, so handlers that hold a stream keep using it.
    const saved = new Map(snap.streams);
    for (const [id, r] of this.streams) {
      const state = saved.get(id);
      r.state.set(state ?? Random.fromKey(this.seed, ...JSON.parse(id)).state);
    }
    for (const [id, state] of saved) {
      if (!this.streams.has(id)) this.streams.set(id, Random.fromState(state));
    }
  }
}
