/**
 * The pending-event set: a 4-ary min-heap on flat typed arrays, ordered by
 * (time, priority, sequence number), with versioned integer handles.
 *
 * Layout. The heap arrays hold the keys inline (`heapTime`, `heapTie`) so that
 * sifting compares neighbouring memory instead of chasing slot indices; that is
 * what keeps it within a few percent of a bare heap at 1e6 pending events.
 * Every pending event also owns a *slot* (type, payload, version and its heap
 * position), so cancel and reschedule find it in O(1) and fix the heap in
 * O(log n). Slots are recycled through a free stack; a slot's version is bumped
 * each time it is released, so a handle to an event that already ran or was
 * cancelled is recognised as stale.
 *
 * Ties. The second key is `priority * 2^42 + seq`: lower priority first, then
 * FIFO by sequence number. Every schedule and every reschedule takes a new
 * sequence number, so a rescheduled event runs after those already scheduled for
 * the same time and priority.
 *
 * Nothing is allocated per event; arrays grow by doubling and never shrink.
 * Memory is 40 bytes per slot of capacity (at most 80 per pending event).
 */

/** An event handle: `version * 2^26 + slot`, a non-negative integer below 2^53. */
export type EventHandle = number;

const SLOT_SPACE = 2 ** 26;
const VERSION_MASK = 2 ** 27 - 1;
const PRIORITY_SCALE = 2 ** 42;
const MAX_PRIORITY = 1023;
const MAX_SEQ = PRIORITY_SCALE - 1;
const INITIAL_CAPACITY = 64;

/** The arrays and counters that make up a queue's state, as stored in a snapshot. */
export interface QueueState {
  size: number;
  slotHigh: number;
  freeCount: number;
  seq: number;
  heapTime: Float64Array;
  heapTie: Float64Array;
  heapSlot: Int32Array;
  slotPos: Int32Array;
  slotType: Int32Array;
  slotPayload: Int32Array;
  slotVersion: Uint32Array;
  freeSlots: Int32Array;
}

export class EventQueue {
  private heapTime!: Float64Array;
  private heapTie!: Float64Array;
  private heapSlot!: Int32Array;
  private slotPos!: Int32Array;
  private slotType!: Int32Array;
  private slotPayload!: Int32Array;
  private slotVersion!: Uint32Array;
  private freeSlots!: Int32Array;
  private capacity = 0;
  private freeCount = 0;
  /** Slots ever handed out; slots at or above it have never been used. */
  private slotHigh = 0;
  private seq = 0;
  /** Number of pending events. */
  size = 0;

  /** Time of the event last returned by `pop`. */
  poppedTime = 0;
  /** Type of the event last returned by `pop`. */
  poppedType = 0;
  /** Payload of the event last returned by `pop`. */
  poppedPayload = 0;

  constructor(initialCapacity = INITIAL_CAPACITY) {
    this.allocate(Math.max(4, initialCapacity | 0));
  }

  /** Bytes held by the queue's arrays (its whole footprint, apart from a few fields). */
  get byteLength(): number {
    return this.capacity * 40;
  }

  /** Time of the earliest pending event, or `Infinity` when none is pending. O(1). */
  peekTime(): number {
    return this.size > 0 ? this.heapTime[0] : Infinity;
  }

  /** Number of sequence numbers taken so far (schedules plus reschedules). */
  get sequence(): number {
    return this.seq;
  }

  /**
   * Adds an event. `type` and `payload` are int32; `priority` an integer in
   * [-1023, 1023], lower first. O(log n), amortised O(1) allocation.
   */
  push(time: number, type: number, payload: number, priority: number): EventHandle {
    if (this.size === this.capacity) this.grow();
    let slot: number;
    if (this.freeCount > 0) slot = this.freeSlots[--this.freeCount];
    else slot = this.slotHigh++;
    this.slotType[slot] = type;
    this.slotPayload[slot] = payload;
    this.siftUp(this.size++, time, this.tie(priority), slot);
    return this.slotVersion[slot] * SLOT_SPACE + slot;
  }

  /**
   * Removes the earliest event, leaving its time, type and payload in
   * `poppedTime`, `poppedType` and `poppedPayload`. Returns false when empty.
   * The popped event's handle is stale from here on.
   */
  pop(): boolean {
    const n = this.size;
    if (n === 0) return false;
    const slot = this.heapSlot[0];
    this.poppedTime = this.heapTime[0];
    this.poppedType = this.slotType[slot];
    this.poppedPayload = this.slotPayload[slot];
    this.release(slot);
    const last = n - 1;
    this.size = last;
    if (last > 0) this.siftDown(0, this.heapTime[last], this.heapTie[last], this.heapSlot[last]);
    return true;
  }

  /** True while the event behind `handle` is pending. O(1). */
  isPending(handle: EventHandle): boolean {
    return this.slotOf(handle) >= 0;
  }

  /** Time of a pending event; throws on a stale handle. */
  timeOf(handle: EventHandle): number {
    const slot = this.slotOf(handle);
    if (slot < 0) throw staleHandle(handle, "timeOf");
    return this.heapTime[this.slotPos[slot]];
  }

  /** Removes a pending event. Returns false (and does nothing) for a stale handle. O(log n). */
  cancel(handle: EventHandle): boolean {
    const slot = this.slotOf(handle);
    if (slot < 0) return false;
    const pos = this.slotPos[slot];
    this.release(slot);
    const last = --this.size;
    if (pos !== last) this.fix(pos, this.heapTime[last], this.heapTie[last], this.heapSlot[last]);
    return true;
  }

  /**
   * Moves a pending event to `time` with a new sequence number, keeping its
   * handle, type and payload. Throws on a stale handle. O(log n).
   */
  reschedule(handle: EventHandle, time: number, priority: number): void {
    const slot = this.slotOf(handle);
    if (slot < 0) throw staleHandle(handle, "reschedule");
    this.fix(this.slotPos[slot], time, this.tie(priority), slot);
  }

  /** Copies of the arrays (only the used part) and counters. */
  exportState(): QueueState {
    const n = this.size;
    const s = this.slotHigh;
    return {
      size: n,
      slotHigh: s,
      freeCount: this.freeCount,
      seq: this.seq,
      heapTime: this.heapTime.slice(0, n),
      heapTie: this.heapTie.slice(0, n),
      heapSlot: this.heapSlot.slice(0, n),
      slotPos: this.slotPos.slice(0, s),
      slotType: this.slotType.slice(0, s),
      slotPayload: this.slotPayload.slice(0, s),
      slotVersion: this.slotVersion.slice(0, s),
      freeSlots: this.freeSlots.slice(0, this.freeCount),
    };
  }

  /** Replaces this queue's state with `state`; pops then continue exactly as in the exported queue. */
  importState(state: QueueState, capacity = state.slotHigh): void {
    const c = Math.max(4, capacity, state.slotHigh);
    if (state.size > state.slotHigh || state.freeCount > state.slotHigh || state.heapTime.length !== state.size) {
      throw new Error("event queue snapshot is inconsistent (sizes do not match)");
    }
    this.allocate(c);
    this.heapTime.set(state.heapTime);
    this.heapTie.set(state.heapTie);
    this.heapSlot.set(state.heapSlot);
    this.slotPos.set(state.slotPos);
    this.slotType.set(state.slotType);
    this.slotPayload.set(state.slotPayload);
    this.slotVersion.set(state.slotVersion);
    this.freeSlots.set(state.freeSlots);
    this.size = state.size;
    this.slotHigh = state.slotHigh;
    this.freeCount = state.freeCount;
    this.seq = state.seq;
  }

  private tie(priority: number): number {
    if (priority !== (priority | 0) || priority < -MAX_PRIORITY || priority > MAX_PRIORITY) {
      throw new RangeError(`event priority must be an integer in [-${MAX_PRIORITY}, ${MAX_PRIORITY}], got ${priority}`);
    }
    const seq = this.seq++;
    if (seq > MAX_SEQ) throw new RangeError("event sequence numbers exhausted (2^42 events scheduled)");
    return priority * PRIORITY_SCALE + seq;
  }

  /** Slot of a pending event, or -1 when the handle is stale or malformed. */
  private slotOf(handle: EventHandle): number {
    const slot = handle % SLOT_SPACE;
    if (!(slot >= 0 && slot < this.slotHigh) || slot !== Math.floor(slot)) return -1;
    if (this.slotPos[slot] < 0 || (handle - slot) / SLOT_SPACE !== this.slotVersion[slot]) return -1;
    return slot;
  }

  private release(slot: number): void {
    this.slotPos[slot] = -1;
    this.slotVersion[slot] = (this.slotVersion[slot] + 1) & VERSION_MASK;
    this.freeSlots[this.freeCount++] = slot;
  }

  /** Puts (time, tie, slot) at heap position `pos` and restores heap order in whichever direction it is broken. */
  private fix(pos: number, time: number, tie: number, slot: number): void {
    if (pos > 0) {
      const p = (pos - 1) >> 2;
      const pt = this.heapTime[p];
      if (time < pt || (time === pt && tie < this.heapTie[p])) {
        this.siftUp(pos, time, tie, slot);
        return;
      }
    }
    this.siftDown(pos, time, tie, slot);
  }

  private siftUp(pos: number, time: number, tie: number, slot: number): void {
    const ht = this.heapTime;
    const hk = this.heapTie;
    const hs = this.heapSlot;
    const sp = this.slotPos;
    while (pos > 0) {
      const p = (pos - 1) >> 2;
      const pt = ht[p];
      if (pt < time || (pt === time && hk[p] < tie)) break;
      ht[pos] = pt;
      hk[pos] = hk[p];
      const ps = hs[p];
      hs[pos] = ps;
      sp[ps] = pos;
      pos = p;
    }
    ht[pos] = time;
    hk[pos] = tie;
    hs[pos] = slot;
    sp[slot] = pos;
  }

  private siftDown(pos: number, time: number, tie: number, slot: number): void {
    const ht = this.heapTime;
    const hk = this.heapTie;
    const hs = this.heapSlot;
    const sp = this.slotPos;
    const n = this.size;
    for (;;) {
      const first = (pos << 2) + 1;
      if (first >= n) break;
      // Smallest of up to four children.
      let c = first;
      let ct = ht[first];
      let ck = hk[first];
      const end = first + 4 < n ? first + 4 : n;
      for (let i = first + 1; i < end; i++) {
        const t = ht[i];
        if (t < ct || (t === ct && hk[i] < ck)) {
          c = i;
          ct = t;
          ck = hk[i];
        }
      }
      if (time < ct || (time === ct && tie < ck)) break;
      ht[pos] = ct;
      hk[pos] = ck;
      const cs = hs[c];
      hs[pos] = cs;
      sp[cs] = pos;
      pos = c;
    }
    ht[pos] = time;
    hk[pos] = tie;
    hs[pos] = slot;
    sp[slot] = pos;
  }

  private grow(): void {
    if (this.capacity * 2 > SLOT_SPACE) throw new RangeError(`event queue full (${SLOT_SPACE} pending events)`);
    const state = this.exportState();
    this.importState(state, this.capacity * 2);
  }

  private allocate(c: number): void {
    this.capacity = c;
    this.heapTime = new Float64Array(c);
    this.heapTie = new Float64Array(c);
    this.heapSlot = new Int32Array(c);
    this.slotPos = new Int32Array(c);
    this.slotType = new Int32Array(c);
    this.slotPayload = new Int32Array(c);
    this.slotVersion = new Uint32Array(c);
    this.freeSlots = new Int32Array(c);
  }
}

function staleHandle(handle: EventHandle, op: string): Error {
  return new Error(`${op}: event handle ${handle} is stale (the event already ran or was cancelled)`);
}
