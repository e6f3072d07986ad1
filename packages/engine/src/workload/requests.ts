/**
 * The request store: every request in flight is an integer id into typed
 * columns (its service, replica, step, caller, stream, times), recycled
 * through a free list. Event payloads that name a request carry its
 * generation too (10 bits above its 21-bit index): a request failed while its
 * I/Os, charges or messages are still in flight is released at once, and
 * their events must then be ignored (`live`).
 */
import { allocColumns, growColumns, type ColumnSpec } from "../util/typed.js";

const REQ_BITS = 21;
const REQ_MASK = (1 << REQ_BITS) - 1;
/** Requests a replication can have in flight at once (ids fit REQ_BITS bits of an event payload). */
export const MAX_REQUESTS_IN_FLIGHT = REQ_MASK + 1;
const GEN_MASK = 1023;

/** Request columns: the store's one layout list. */
const REQUEST_COLUMNS: readonly ColumnSpec[] = [
  ["service", Int32Array],
  ["replica", Int32Array],
  ["step", Int32Array],
  ["client", Int32Array],
  ["arrival", Float64Array],
  ["work", Float64Array],
  ["amount", Float64Array],
  ["pending", Int32Array],
  ["stepStart", Float64Array],
  ["ioTime", Float64Array],
  ["alloc", Float64Array],
  ["parent", Int32Array],
  ["parentGen", Int32Array],
  ["key", Int32Array, 0, 4],
  ["rng", Int32Array, 0, 4],
  ["callTime", Float64Array],
  ["measured", Int8Array],
  ["gen", Int32Array],
  ["at", Int8Array],
  ["recorded", Int8Array],
  ["timer", Float64Array, -1],
  ["attempt", Int32Array],
  ["abandoned", Int8Array],
];

export class RequestStore {
  /** Service index. */
  service = new Int32Array(0);
  /** The replica it is at (or travels to). */
  replica = new Int32Array(0);
  /** Index of its current step. */
  step = new Int32Array(0);
  /** Its closed-loop client, -1 for an open-loop arrival, CALLED for a call. */
  client = new Int32Array(0);
  arrival = new Float64Array(0);
  /** CPU work done so far (for validation and traces). */
  work = new Float64Array(0);
  /** A cpu or syscall step's work, kept while a path's latency passes before it starts. */
  amount = new Float64Array(0);
  /** I/Os of the current io step not yet done. */
  pending = new Int32Array(0);
  stepStart = new Float64Array(0);
  ioTime = new Float64Array(0);
  /** Bytes the request holds (freed when it ends). */
  alloc = new Float64Array(0);
  /** The calling request, or -1 for a root request; the caller's generation when it called. */
  parent = new Int32Array(0);
  parentGen = new Int32Array(0);
  /** The request's stream key (its first state, 4 per request), for its calls' keys; and its stream's state. */
  key = new Int32Array(0);
  rng = new Int32Array(0);
  callTime = new Float64Array(0);
  /** 1 when it arrived after the warm-up. */
  measured = new Int8Array(0);
  /** Bumped on release. */
  gen = new Int32Array(0);
  /** 1 while at its replica (in service or queued). */
  at = new Int8Array(0);
  /** 1 once counted as completed (a call whose response is still travelling). */
  recorded = new Int8Array(0);
  /** Which attempt of its request it is (0: the first; retries follow), and 1 once its caller or client gave up on it. */
  attempt = new Int32Array(0);
  abandoned = new Int8Array(0);
  /** Its pending timer event (a sleep, a mem step, a delayed cpu start). */
  timer = new Float64Array(0);
  /** Ids handed out (live or free). */
  count = 0;
  private readonly free: number[] = [];

  constructor() {
    allocColumns(this, REQUEST_COLUMNS, 1024);
  }

  /** Requests in flight. */
  get inFlight(): number {
    return this.count - this.free.length;
  }

  /** A fresh request id (its columns hold stale values: the caller sets them). */
  take(): number {
    if (this.free.length > 0) return this.free.pop()!;
    if (this.count === this.service.length) growColumns(this, REQUEST_COLUMNS, this.count * 2);
    if (this.count > REQ_MASK) {
      throw new Error(
        `more than ${MAX_REQUESTS_IN_FLIGHT} requests in flight at once: the load outruns the services and their queues grow ` +
          "without bound; bound them (a service's queue), add replicas, or lower the rate",
      );
    }
    return this.count++;
  }

  /** Gives a request's id back; events naming it are ignored from now. */
  release(req: number): void {
    this.gen[req]++;
    this.at[req] = 0;
    this.free.push(req);
  }

  /** The ids that are free now (for scans over all ids). */
  freeIds(): Set<number> {
    return new Set(this.free);
  }

  /** The payload naming request `req` at its current generation. */
  tag(req: number): number {
    return ((this.gen[req] & GEN_MASK) << REQ_BITS) | req;
  }

  /** The request a payload names, or -1 when that request has since been released. */
  live(tag: number): number {
    const req = tag & REQ_MASK;
    return (this.gen[req] & GEN_MASK) === tag >>> REQ_BITS ? req : -1;
  }
}
