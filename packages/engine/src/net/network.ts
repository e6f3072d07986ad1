/**
 * The network (DESIGN.md, Resource models: Network). Each host has a
 * full-duplex NIC: its transmit and its receive bandwidth are each split
 * fairly among the flows using them, and a message's rate is the minimum of
 * its sender's transmit share and its receiver's receive share. Shares are
 * computed locally per NIC, not by a global max-min solver: a documented
 * approximation of max-min fairness, chosen so that a change touches only the
 * flows of the NICs it involves and hosts stay independent.
 *
 * The fabric is non-blocking; a message then waits the NIC latencies of both
 * ends and the fabric latency between their zones. External clients (ingress)
 * are an endpoint with no NIC of their own. Messages between processes on one
 * host use loopback: no NIC, no transfer time.
 *
 * One kernel event per flow, rescheduled when its rate changes. A flow alone
 * on both its NICs (the common case at moderate load) has nobody whose rate
 * depends on it, so its event is its delivery: the end of its transfer plus
 * the latencies, one event per message instead of two. It leaves its NICs
 * lazily, with its accounting at the time its transfer ended: when its
 * delivery runs, or earlier when another flow comes to one of its NICs after
 * that time. A flow that gets company before its transfer ends goes back to an
 * event at the end of its transfer, and one left alone to a delivery event;
 * the times are computed exactly as with two events, so results do not change.
 */
import type { EventType, Simulation } from "../kernel/simulation.js";
import { NONE } from "../tree/nodes.js";
import { allocColumns, growColumns, type ColumnSpec } from "../util/typed.js";

/** The endpoint of a message outside the modelled hosts (an external client). */
export const EXTERNAL = -1;

const SHARED = 0;
const ALONE = 1;
const LEFT = 2;
/** A free flow slot (delivered, or cancelled). */
const FREE = 3;

export interface NicSpec {
  /** Bytes per second, each way. */
  bandwidth: number;
  /** Seconds added to each message crossing it. */
  latency: number;
}

export interface NicStats {
  /** Seconds with at least one flow sending / receiving. */
  txBusy: number;
  rxBusy: number;
  bytesSent: number;
  bytesReceived: number;
}

/** Per-NIC columns (indexed by host node id), with the value a new slot starts with. */
const NIC_COLUMNS: readonly ColumnSpec[] = [
  ["bandwidth", Float64Array],
  ["latency", Float64Array],
  ["has", Int8Array],
  ["txFlows", Int32Array],
  ["rxFlows", Int32Array],
  ["txHead", Int32Array, NONE],
  ["rxHead", Int32Array, NONE],
  ["txBusy", Float64Array],
  ["rxBusy", Float64Array],
  ["txSince", Float64Array],
  ["rxSince", Float64Array],
  ["sent", Float64Array],
  ["received", Float64Array],
];

/** Per-flow columns. */
const FLOW_COLUMNS: readonly ColumnSpec[] = [
  ["fSrc", Int32Array],
  ["fDst", Int32Array],
  ["fRemaining", Float64Array],
  ["fBytes", Float64Array],
  ["fRate", Float64Array],
  ["fCap", Float64Array],
  ["fLast", Float64Array],
  ["fEvent", Float64Array],
  ["fEnd", Float64Array],
  ["fAlone", Int8Array],
  ["fDelay", Float64Array],
  ["fDoneType", Int32Array],
  ["fDonePayload", Int32Array],
  ["fTxNext", Int32Array],
  ["fTxPrev", Int32Array],
  ["fRxNext", Int32Array],
  ["fRxPrev", Int32Array],
];

export class Network {
  // Per NIC (indexed by host node id).
  private bandwidth = new Float64Array(0);
  private latency = new Float64Array(0);
  private has = new Int8Array(0);
  private txFlows = new Int32Array(0);
  private rxFlows = new Int32Array(0);
  private txHead = new Int32Array(0);
  private rxHead = new Int32Array(0);
  private txBusy = new Float64Array(0);
  private rxBusy = new Float64Array(0);
  private txSince = new Float64Array(0);
  private rxSince = new Float64Array(0);
  private sent = new Float64Array(0);
  private received = new Float64Array(0);
  // Flows.
  private count = 0;
  private free: number[] = [];
  private fSrc = new Int32Array(0);
  private fDst = new Int32Array(0);
  private fRemaining = new Float64Array(0);
  private fBytes = new Float64Array(0);
  private fRate = new Float64Array(0);
  /** The most bytes/s the flow may take whatever its NICs' shares (Infinity: none; a registry's bandwidth). */
  private fCap = new Float64Array(0);
  private fLast = new Float64Array(0);
  private fEvent = new Float64Array(0);
  /** When the flow's transfer ends, as last computed (its event's time, or that time minus its delay). */
  private fEnd = new Float64Array(0);
  /**
   * SHARED: its event is the end of its transfer; ALONE: alone on its NICs, its
   * event is its delivery; LEFT: alone, taken off its NICs, its delivery pending.
   */
  private fAlone = new Int8Array(0);
  private fDelay = new Float64Array(0);
  private fDoneType = new Int32Array(0);
  private fDonePayload = new Int32Array(0);
  private fTxNext = new Int32Array(0);
  private fTxPrev = new Int32Array(0);
  private fRxNext = new Int32Array(0);
  private fRxPrev = new Int32Array(0);

  private readonly doneType: EventType;

  constructor(
    private readonly sim: Simulation,
    /** Fabric latency between the zones of two hosts. */
    private readonly fabric: (a: number, b: number) => number,
  ) {
    allocColumns(this, NIC_COLUMNS, 64);
    allocColumns(this, FLOW_COLUMNS, 64);
    this.doneType = sim.on("net.flow", (f) => (this.fAlone[f] === SHARED ? this.onFlowDone(f) : this.onDelivered(f)));
  }

  setNic(host: number, spec: NicSpec): void {
    this.ensure(host);
    if (!(spec.bandwidth > 0 && spec.latency >= 0)) throw new RangeError(`NIC of node ${host}: bandwidth must be > 0 and latency >= 0`);
    this.bandwidth[host] = spec.bandwidth;
    this.latency[host] = spec.latency;
    this.has[host] = 1;
  }

  hasNic(host: number): boolean {
    return host >= 0 && host < this.has.length && this.has[host] === 1;
  }

  /**
   * Sends `bytes` from host `src` to host `dst` (either may be EXTERNAL); when
   * the transfer is done and the latencies (NICs, fabric, plus `extraDelay`,
   * the layers' adders) have passed, the handler of kernel event type
   * `doneType` runs with `donePayload` (in an event of its own, or inside the
   * network's delivery event for a flow that was alone). `cap` bounds the
   * flow's rate (bytes/s); what it leaves of a NIC's share is not given to
   * the others (the local-share approximation above). Returns the flow's id,
   * valid until its delivery, or -1 when no flow is made (loopback, no bytes).
   */
  send(src: number, dst: number, bytes: number, extraDelay: number, doneType: EventType, donePayload: number, cap = Infinity): number {
    if (src === dst) {
      // Loopback: no NIC, no transfer time.
      this.sim.schedule(doneType, extraDelay, donePayload);
      return -1;
    }
    if (src !== EXTERNAL && !this.hasNic(src)) throw noNic(src);
    if (dst !== EXTERNAL && !this.hasNic(dst)) throw noNic(dst);
    const delay =
      extraDelay +
      (src === EXTERNAL ? 0 : this.latency[src]) +
      (dst === EXTERNAL ? 0 : this.latency[dst]) +
      (src === EXTERNAL || dst === EXTERNAL ? 0 : this.fabric(src, dst));
    if (bytes <= 0) {
      this.sim.schedule(doneType, delay, donePayload);
      return -1;
    }
    if (src !== EXTERNAL) this.settle(this.txHead[src]);
    if (dst !== EXTERNAL) this.settle(this.rxHead[dst]);
    const f = this.alloc();
    this.fSrc[f] = src;
    this.fDst[f] = dst;
    this.fRemaining[f] = bytes;
    this.fBytes[f] = bytes;
    this.fRate[f] = 0;
    this.fCap[f] = cap;
    this.fLast[f] = this.sim.now;
    this.fEvent[f] = -1;
    this.fAlone[f] = SHARED;
    this.fDelay[f] = delay;
    this.fDoneType[f] = doneType;
    this.fDonePayload[f] = donePayload;
    // perf: a flow that finds both its NICs idle is alone: no other flow to advance or give a new rate.
    const alone = (src === EXTERNAL || this.txFlows[src] === 0) && (dst === EXTERNAL || this.rxFlows[dst] === 0);
    if (src !== EXTERNAL) {
      if (!alone) this.advanceNic(src, true, this.sim.now);
      if (this.txFlows[src]++ === 0) this.txSince[src] = this.sim.now;
      this.fTxPrev[f] = NONE;
      this.fTxNext[f] = this.txHead[src];
      if (this.txHead[src] !== NONE) this.fTxPrev[this.txHead[src]] = f;
      this.txHead[src] = f;
    }
    if (dst !== EXTERNAL) {
      if (!alone) this.advanceNic(dst, false, this.sim.now);
      if (this.rxFlows[dst]++ === 0) this.rxSince[dst] = this.sim.now;
      this.fRxPrev[f] = NONE;
      this.fRxNext[f] = this.rxHead[dst];
      if (this.rxHead[dst] !== NONE) this.fRxPrev[this.rxHead[dst]] = f;
      this.rxHead[dst] = f;
    }
    if (alone) this.update(f);
    else this.refresh(src, dst);
    return f;
  }

  /** The bytes flow `f` has not moved yet if it is still the one sent with (`doneType`, `donePayload`) and in transfer; else 0. O(1). */
  remaining(f: number, doneType: EventType, donePayload: number): number {
    if (!this.inTransfer(f, doneType, donePayload)) return 0;
    return Math.max(0, this.fRemaining[f] - this.fRate[f] * (this.sim.now - this.fLast[f]));
  }

  /** Whether flow `f` is the one sent with (`doneType`, `donePayload`) and its transfer has not ended. */
  private inTransfer(f: number, doneType: EventType, donePayload: number): boolean {
    if (f < 0 || f >= this.count || this.fDoneType[f] !== doneType || this.fDonePayload[f] !== donePayload) return false;
    const state = this.fAlone[f];
    return state === SHARED || (state === ALONE && this.fEnd[f] > this.sim.now);
  }

  /**
   * Takes back flow `f` if it is still the one sent with (`doneType`,
   * `donePayload`) and its transfer has not ended: it is never delivered, the
   * bytes it moved count as sent and received, and its NICs' shares go to the
   * other flows. Returns the bytes it had not moved: 0 when its transfer had
   * ended (its delivery still comes) or the id is another flow's now.
   * O(flows on its NICs).
   */
  cancel(f: number, doneType: EventType, donePayload: number): number {
    if (!this.inTransfer(f, doneType, donePayload)) return 0;
    const now = this.sim.now;
    const src = this.fSrc[f];
    const dst = this.fDst[f];
    const left = this.remaining(f, doneType, donePayload);
    // Its NICs count what it moved.
    this.fBytes[f] -= left;
    this.depart(f, now);
    this.sim.cancel(this.fEvent[f]);
    this.fAlone[f] = FREE;
    this.free.push(f);
    this.refresh(src, dst);
    return left;
  }

  /** Counters of a host's NIC, accrued to now. */
  stats(host: number): NicStats {
    this.settle(this.txHead[host]);
    this.settle(this.rxHead[host]);
    const now = this.sim.now;
    return {
      txBusy: this.txBusy[host] + (this.txFlows[host] > 0 ? now - this.txSince[host] : 0),
      rxBusy: this.rxBusy[host] + (this.rxFlows[host] > 0 ? now - this.rxSince[host] : 0),
      bytesSent: this.sent[host],
      bytesReceived: this.received[host],
    };
  }

  /** Flows on either NIC of a change get new rates and completion times. */
  private refresh(src: number, dst: number): void {
    if (src !== EXTERNAL) for (let f = this.txHead[src]; f !== NONE; f = this.fTxNext[f]) this.update(f);
    if (dst !== EXTERNAL) for (let f = this.rxHead[dst]; f !== NONE; f = this.fRxNext[f]) this.update(f);
  }

  /**
   * Advances a flow at its old rate, then gives it its new rate and its event:
   * the end of its transfer, or its delivery when it is alone on its NICs.
   */
  private update(f: number): void {
    const now = this.sim.now;
    this.fRemaining[f] = Math.max(0, this.fRemaining[f] - this.fRate[f] * (now - this.fLast[f]));
    this.fLast[f] = now;
    const src = this.fSrc[f];
    const dst = this.fDst[f];
    const tx = src === EXTERNAL ? Infinity : this.bandwidth[src] / this.txFlows[src];
    const rx = dst === EXTERNAL ? Infinity : this.bandwidth[dst] / this.rxFlows[dst];
    const rate = Math.min(tx, rx, this.fCap[f]);
    const alone = (src === EXTERNAL || this.txFlows[src] === 1) && (dst === EXTERNAL || this.rxFlows[dst] === 1) ? ALONE : SHARED;
    const h = this.fEvent[f];
    if (rate === this.fRate[f] && h >= 0) {
      // Same rate: the transfer still ends when last computed; only the event's meaning may change.
      if (alone !== this.fAlone[f]) {
        this.fAlone[f] = alone;
        this.sim.rescheduleAt(h, alone ? this.fEnd[f] + this.fDelay[f] : this.fEnd[f]);
      }
      return;
    }
    this.fRate[f] = rate;
    const t = now + this.fRemaining[f] / rate;
    this.fEnd[f] = t;
    this.fAlone[f] = alone;
    const at = alone ? t + this.fDelay[f] : t;
    if (h >= 0) this.sim.rescheduleAt(h, at);
    else this.fEvent[f] = this.sim.scheduleAt(this.doneType, at, f);
  }

  /** A shared flow's transfer is done: it leaves its NICs, the others speed up, and its delivery follows its delay. */
  private onFlowDone(f: number): void {
    const src = this.fSrc[f];
    const dst = this.fDst[f];
    this.depart(f, this.sim.now);
    this.sim.schedule(this.fDoneType[f], this.fDelay[f], this.fDonePayload[f]);
    this.fAlone[f] = FREE;
    this.free.push(f);
    this.refresh(src, dst);
  }

  /** A flow that was alone is delivered: it leaves its NICs if it has not yet, and its owner hears of it now. */
  private onDelivered(f: number): void {
    if (this.fAlone[f] === ALONE) this.leave(f);
    this.fAlone[f] = FREE;
    this.free.push(f);
    this.sim.dispatch(this.fDoneType[f], this.fDonePayload[f]);
  }

  /**
   * Takes an alone flow whose transfer has ended off its NICs (the first flow
   * of a NIC direction, which is alone there if it is alone anywhere), before
   * another flow joins that NIC.
   */
  private settle(f: number): void {
    if (f !== NONE && this.fAlone[f] === ALONE && this.fEnd[f] <= this.sim.now) this.leave(f);
  }

  /** An alone flow leaves its NICs, accounted at the end of its transfer (as its own event then would have); its delivery stays pending. */
  private leave(f: number): void {
    this.depart(f, this.fEnd[f]);
    this.fAlone[f] = LEFT;
  }

  /** Unlinks a flow from its NICs at time `at` (now, or the end of an alone flow's transfer) and accounts its bytes and the NICs' busy time. */
  private depart(f: number, at: number): void {
    const src = this.fSrc[f];
    const dst = this.fDst[f];
    if (src !== EXTERNAL) {
      this.sent[src] += this.fBytes[f];
      const p = this.fTxPrev[f];
      const n = this.fTxNext[f];
      if (p !== NONE) this.fTxNext[p] = n;
      else this.txHead[src] = n;
      if (n !== NONE) this.fTxPrev[n] = p;
      this.advanceNic(src, true, at);
      if (--this.txFlows[src] === 0) this.txBusy[src] += at - this.txSince[src];
    }
    if (dst !== EXTERNAL) {
      this.received[dst] += this.fBytes[f];
      const p = this.fRxPrev[f];
      const n = this.fRxNext[f];
      if (p !== NONE) this.fRxNext[p] = n;
      else this.rxHead[dst] = n;
      if (n !== NONE) this.fRxPrev[n] = p;
      this.advanceNic(dst, false, at);
      if (--this.rxFlows[dst] === 0) this.rxBusy[dst] += at - this.rxSince[dst];
    }
  }

  /** Advances every flow of one NIC direction at its current rate to `now` (before the flow count changes). */
  private advanceNic(host: number, tx: boolean, now: number): void {
    for (let f = tx ? this.txHead[host] : this.rxHead[host]; f !== NONE; f = tx ? this.fTxNext[f] : this.fRxNext[f]) {
      this.fRemaining[f] = Math.max(0, this.fRemaining[f] - this.fRate[f] * (now - this.fLast[f]));
      this.fLast[f] = now;
    }
  }

  private alloc(): number {
    if (this.free.length > 0) return this.free.pop()!;
    if (this.count === this.fSrc.length) growColumns(this, FLOW_COLUMNS, this.count * 2);
    return this.count++;
  }

  private ensure(host: number): void {
    if (host < this.bandwidth.length) return;
    let c = this.bandwidth.length;
    while (c <= host) c *= 2;
    growColumns(this, NIC_COLUMNS, c);
  }
}

function noNic(host: number): Error {
  return new Error(`host node ${host} has no NIC: give its host type nic: { bandwidth, latency }`);
}
