/**
 * The pending-event set: a 4-ary min-heap on flat typed arrays, ordered by
 * (time, priority, sequence number), with versioned integer handles and lazy
 * deletion.
 *
 * Layout. Heap entries are (time, tie, slot) with the keys inline, so sifting
 * compares neighbouring memory and touches nothing else: per level it does what
 * a bare heap does. Every pending event owns a *slot*, one 16-byte record (tie,
 * type and version, payload or free-list link) found in O(1) from its handle,
 * so popping an event costs one cache line outside the heap (event types are
 * at most 1024). Cancel and reschedule do not search the heap: cancel frees the slot, reschedule gives it a new tie and pushes a new
 * entry; an entry whose tie no longer matches its slot's is garbage and is
 * dropped when it reaches the top. When garbage outnumbers half the live events
 * the heap is rebuilt without it (amortised O(1) per cancel). perf: PHOLD at 1e6
 * pending, keeping a heap position per slot (a scattered write per sift level)
 * was 1.45x a bare heap; slots as five separate arrays (five cache misses per
 * pop) 1.58x; one 16-byte record per slot is what `pnpm bench` measures.
 *
 * Ties. The tie key is `priority * 2^42 + seq`: lower priority first, then FIFO
 * by sequence number. Every schedule and every reschedule takes a new sequence
 * number, so a rescheduled event runs after those already scheduled for the
 * same time and priority. Ties are unique, so the pop order is a function of the
 * keys alone, whatever the heap's layout.
 *
 * Handles. A slot's version is bumped when its event runs or is cancelled, so a
 * handle to it is recognised as stale from then on, even after the slot is
 * reused.
 *
 * Nothing is allocated per event; arrays grow by doubling and never shrink.
 * Memory: 20 bytes per heap entry and 16 per slot.
 */

/** An event handle: `version * 2^26 + slot` (a 22-bit version), a non-negative integer below 2^48. */
export type EventHandle = number;

const SLOT_SPACE = 2 ** 26;
const VERSION_MASK = 2 ** 22 - 1;
const PRIORITY_SCALE = 2 ** 42;
const MAX_PRIORITY = 1023;
const MAX_SEQ = PRIORITY_SCALE - 1;
const INITIAL_CAPACITY = 64;

/** The arrays and counters that make up a queue's state, as stored in a snapshot. */
export interface QueueState {
  size: number;
  heapLength: number;
  slotHigh: number;
  freeHead: number;
  seq: number;
  heapTime: Float64Array;
  heapTie: Float64Array;
  heapSlot: Int32Array;
  /** The slot records, `slotHigh * 2` float64 words (mixed float and int32 fields). */
  slots: Float64Array;
}

// Slot record layout: 16 bytes, four to a cache line.
// float64 word 0: the tie of the slot's live heap entry, NaN when free;
// int32 word 2: version << 10 | type; int32 word 3: the payload, or the next free slot when free.
const TYPE_BITS = 10;
const TYPE_MASK = (1 << TYPE_BITS) - 1;
/** Most event types a queue can carry. */
export const MAX_EVENT_TYPES = 1 << TYPE_BITS;

export class EventQueue {
  private heapTime!: Float64Array;
  private heapTie!: Float64Array;
  private heapSlot!: Int32Array;
  private heapCapacity = 0;
  /** Heap entries, live and garbage. */
  private heapLength = 0;
  /** Slot records: float64 view (time, tie) and int32 view (type, payload, version, link) of one buffer. */
  private slotF!: Float64Array;
  private slotI!: Int32Array;
  private slotCapacity = 0;
  /** First free slot (a stack linked through the records), or -1. */
  private freeHead = -1;
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
    const c = Math.max(4, initialCapacity | 0);
    this.allocateHeap(c);
    this.allocateSlots(c);
  }

  /** Bytes held by the queue's arrays (its whole footprint, apart from a few fields). */
  get byteLength(): number {
    return this.heapCapacity * 20 + this.slotCapacity * 16;
  }

  /** Number of sequence numbers taken so far (schedules plus reschedules). */
  get sequence(): number {
    return this.seq;
  }

  /** Time of the earliest pending event, or `Infinity` when none is pending. Amortised O(1). */
  peekTime(): number {
    this.dropDeadTop();
    return this.heapLength > 0 ? this.heapTime[0] : Infinity;
  }

  /**
   * Adds an event. `type` and `payload` are int32; `priority` an integer in
   * [-1023, 1023], lower first. O(log n), amortised O(1) allocation.
   */
  push(time: number, type: number, payload: number, priority: number): EventHandle {
    let slot = this.freeHead;
    if (slot >= 0) this.freeHead = this.slotI[(slot << 2) + 3];
    else {
      if (this.slotHigh === this.slotCapacity) this.growSlots();
      slot = this.slotHigh++;
    }
    const tie = this.tie(priority);
    const i = slot << 2;
    this.slotF[slot << 1] = tie;
    const version = this.slotI[i + 2] >>> TYPE_BITS;
    this.slotI[i + 2] = (version << TYPE_BITS) | type;
    this.slotI[i + 3] = payload;
    this.size++;
    this.insert(time, tie, slot);
    return version * SLOT_SPACE + slot;
  }

  /**
   * Removes the earliest event if its time is before `until`, leaving its time,
   * type and payload in `poppedTime`, `poppedType` and `poppedPayload`. Returns
   * false (removing nothing live) when the queue is empty or the next event is
   * at or after `until`. The popped event's handle is stale from here on.
   */
  pop(until = Infinity): boolean {
    const sf = this.slotF;
    const ht = this.heapTime;
    const hk = this.heapTie;
    while (this.heapLength > 0) {
      const slot = this.heapSlot[0];
      const time = ht[0];
      if (sf[slot << 1] !== hk[0]) {
        this.removeTop(); // garbage left by a cancel or reschedule
        continue;
      }
      if (time >= until) return false;
      this.removeTop();
      const i = slot << 2;
      this.poppedTime = time;
      this.poppedType = this.slotI[i + 2] & TYPE_MASK;
      this.poppedPayload = this.slotI[i + 3];
      this.release(slot);
      this.size--;
      return true;
    }
    return false;
  }

  /** True while the event behind `handle` is pending. O(1). */
  isPending(handle: EventHandle): boolean {
    return this.slotOf(handle) >= 0;
  }

  /**
   * Time of a pending event; throws on a stale handle. O(n): a slot keeps no
   * time (perf: 16-byte slots instead of 32 took 5-10% off PHOLD at 1e6
   * pending), so this is for tests and debugging, not for model code.
   */
  timeOf(handle: EventHandle): number {
    const slot = this.slotOf(handle);
    if (slot < 0) throw staleHandle(handle, "timeOf");
    const tie = this.slotF[slot << 1];
    for (let i = 0; i < this.heapLength; i++) if (this.heapSlot[i] === slot && this.heapTie[i] === tie) return this.heapTime[i];
    throw new Error(`event queue corrupt: pending slot ${slot} has no heap entry`);
  }

  /** Removes a pending event. Returns false (and does nothing) for a stale handle. Amortised O(1). */
  cancel(handle: EventHandle): boolean {
    const slot = this.slotOf(handle);
    if (slot < 0) return false;
    this.release(slot);
    this.size--;
    this.collectGarbage();
    return true;
  }

  /**
   * Moves a pending event to `time` with a new sequence number, keeping its
   * handle, type and payload. Throws on a stale handle. O(log n).
   */
  reschedule(handle: EventHandle, time: number, priority: number): void {
    const slot = this.slotOf(handle);
    if (slot < 0) throw staleHandle(handle, "reschedule");
    const tie = this.tie(priority);
    this.slotF[slot << 1] = tie;
    this.insert(time, tie, slot);
    this.collectGarbage();
  }

  /** Copies of the arrays (only the used part) and counters. */
  exportState(): QueueState {
    const h = this.heapLength;
    return {
      size: this.size,
      heapLength: h,
      slotHigh: this.slotHigh,
      freeHead: this.freeHead,
      seq: this.seq,
      heapTime: this.heapTime.slice(0, h),
      heapTie: this.heapTie.slice(0, h),
      heapSlot: this.heapSlot.slice(0, h),
      slots: this.slotF.slice(0, this.slotHigh << 1),
    };
  }

  /** Replaces this queue's state with `state`; pops then continue exactly as in the exported queue. */
  importState(state: QueueState): void {
    const h = state.heapLength;
    const s = state.slotHigh;
    const consistent =
      state.heapTime?.length === h && state.heapTie?.length === h && state.heapSlot?.length === h &&
      state.slots?.length === s * 2 && state.size <= h && state.size <= s && state.freeHead < s;
    if (!consistent) throw new Error("event queue snapshot is inconsistent (array lengths and counters do not match)");
    this.allocateHeap(Math.max(4, h));
    this.allocateSlots(Math.max(4, s));
    this.heapTime.set(state.heapTime);
    this.heapTie.set(state.heapTie);
    this.heapSlot.set(state.heapSlot);
    this.slotF.set(state.slots);
    this.size = state.size;
    this.heapLength = h;
    this.slotHigh = s;
    this.freeHead = state.freeHead;
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
    // perf: an int32 truncation and a multiply instead of a floating-point modulo (handles are below 2^48).
    const version = (handle / SLOT_SPACE) | 0;
    const slot = handle - version * SLOT_SPACE;
    if (!(slot >= 0 && slot < this.slotHigh) || slot !== (slot | 0)) return -1;
    const tie = this.slotF[slot << 1];
    if (tie !== tie || version !== this.slotI[(slot << 2) + 2] >>> TYPE_BITS) return -1;
    return slot;
  }

  private release(slot: number): void {
    const i = slot << 2;
    this.slotF[slot << 1] = NaN;
    this.slotI[i + 2] = (((this.slotI[i + 2] >>> TYPE_BITS) + 1) & VERSION_MASK) << TYPE_BITS;
    this.slotI[i + 3] = this.freeHead;
    this.freeHead = slot;
  }

  /** Pops garbage entries off the top until a live one (or nothing) is there. */
  private dropDeadTop(): void {
    while (this.heapLength > 0 && this.slotF[this.heapSlot[0] << 1] !== this.heapTie[0]) this.removeTop();
  }

  /** Rebuilds the heap without garbage once it holds more garbage than half the live events. */
  private collectGarbage(): void {
    const garbage = this.heapLength - this.size;
    if (garbage <= 64 || garbage * 2 <= this.size) return;
    const ht = this.heapTime;
    const hk = this.heapTie;
    const hs = this.heapSlot;
    const sf = this.slotF;
    let n = 0;
    for (let i = 0; i < this.heapLength; i++) {
      if (sf[hs[i] << 1] === hk[i]) {
        ht[n] = ht[i];
        hk[n] = hk[i];
        hs[n] = hs[i];
        n++;
      }
    }
    this.heapLength = n;
    // Floyd's bottom-up heap construction, O(n).
    for (let i = (n - 2) >> 2; i >= 0; i--) this.siftDown(i, ht[i], hk[i], hs[i]);
  }

  private insert(time: number, tie: number, slot: number): void {
    if (this.heapLength === this.heapCapacity) this.growHeap();
    const ht = this.heapTime;
    const hk = this.heapTie;
    const hs = this.heapSlot;
    let pos = this.heapLength++;
    while (pos > 0) {
      const p = (pos - 1) >> 2;
      const pt = ht[p];
      if (pt < time || (pt === time && hk[p] < tie)) break;
      ht[pos] = pt;
      hk[pos] = hk[p];
      hs[pos] = hs[p];
      pos = p;
    }
    ht[pos] = time;
    hk[pos] = tie;
    hs[pos] = slot;
  }

  private removeTop(): void {
    const last = --this.heapLength;
    if (last > 0) this.siftDown(0, this.heapTime[last], this.heapTie[last], this.heapSlot[last]);
  }

  private siftDown(pos: number, time: number, tie: number, slot: number): void {
    const ht = this.heapTime;
    const hk = this.heapTie;
    const hs = this.heapSlot;
    const n = this.heapLength;
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
      hs[pos] = hs[c];
      pos = c;
    }
    ht[pos] = time;
    hk[pos] = tie;
    hs[pos] = slot;
  }

  private growHeap(): void {
    const ht = this.heapTime;
    const hk = this.heapTie;
    const hs = this.heapSlot;
    this.allocateHeap(this.heapCapacity * 2);
    this.heapTime.set(ht);
    this.heapTie.set(hk);
    this.heapSlot.set(hs);
  }

  private growSlots(): void {
    if (this.slotCapacity * 2 > SLOT_SPACE) throw new RangeError(`event queue full (${SLOT_SPACE} pending events)`);
    const old = this.slotF;
    this.allocateSlots(this.slotCapacity * 2);
    this.slotF.set(old);
  }

  private allocateHeap(c: number): void {
    this.heapCapacity = c;
    this.heapTime = new Float64Array(c);
    this.heapTie = new Float64Array(c);
    this.heapSlot = new Int32Array(c);
  }

  private allocateSlots(c: number): void {
    this.slotCapacity = c;
    const buffer = new ArrayBuffer(c * 16);
    this.slotF = new Float64Array(buffer);
    this.slotI = new Int32Array(buffer);
  }
}

function staleHandle(handle: EventHandle, op: string): Error {
  return new Error(`${op}: event handle ${handle} is stale (the event already ran or was cancelled)`);
}
