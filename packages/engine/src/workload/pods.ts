/**
 * Pod churn from a pod list (Alibaba): each pod is created at its trace time
 * with CPU, memory (and GPU) requests, placed on a host by the scenario's
 * placement policy where its requests fit beside the pods already there, and
 * deleted at its trace time. A pod that fits nowhere waits (pending) until a
 * deletion frees room on a host it fits, or its own deletion time comes.
 *
 * Placement is request accounting, as the Kubernetes scheduler's is: pods
 * reserve, they do not run work. The hosts are the scenario's (what placement
 * left free of their cores and memory; they have no GPUs, so GPU requests are
 * not counted) or, with the trace's node list, those nodes with their GPUs
 * (pooled per node: a node offers its GPUs' thousandths, not per device).
 *
 * Fragmentation follows Weng et al. (ATC'23): the free CPU of a host counts
 * as unusable for a kind of pod that does not fit there (on cores, memory or
 * GPUs), weighted by that kind's share of the trace's pods; the figure is the
 * unusable share of all free CPU, time-weighted over the measured window,
 * updated host by host on each placement and deletion, never on a timer.
 *
 * The list is read forward: only the next pod waits before its creation;
 * live pods are typed columns recycled through a free list; deletions are
 * kernel events with the pod's slot as payload. Every field is a number or a
 * typed array, so a snapshot keeps the replay.
 */
import type { Simulation } from "../kernel/simulation.js";
import type { AlibabaNode, AlibabaPod } from "../trace/alibaba.js";
import { allocColumns, growColumns, type ColumnSpec } from "../util/typed.js";

/** Where pods come from: `next()` loads the following pod into `pod`, false at the end. */
export interface PodSource {
  readonly pod: AlibabaPod;
  next(): boolean;
}

/** How the list maps onto simulated time, and where pods go. */
export interface PodReplayOptions {
  start: number;
  speedup: number;
  policy: "first-fit" | "best-fit" | "spread";
  warmup: number;
  end: number;
  /** Windows of the measured time for `series.pendingPods`. */
  windows: number;
  /** Bytes each pod holds beside its memory request (its stack's layers' overheads: a container runtime's). */
  overhead: number;
}

/** What a replay of pods measured (results `traces.<tenant>`, kind `pods`). */
export interface PodFigures {
  kind: "pods";
  stack: string;
  /** Pods created in the measured window. */
  pods: number;
  /** The most pods pending at once in the measured window. */
  pendingPeak: number;
  /** Time-weighted mean share of free CPU that the trace's pods, by their mix, could not use (0..1). */
  fragmentation: number | null;
  /** The most hosts holding a pod at once in the measured window. */
  hostsUsed: number;
  /** Pods deleted while still pending (never placed). */
  neverPlaced: number;
  skipped: number;
  /** Mean pods pending per window of the measured time. */
  pendingSeries: number[];
}

const NONE = -1;

/** Pods alive (pending or placed), by slot: requests, host (NONE while pending), pending list links. */
const POD_SLOT_COLUMNS: readonly ColumnSpec[] = [
  ["pCpu", Float64Array],
  ["pMem", Float64Array],
  ["pGpu", Float64Array],
  ["pHost", Int32Array],
  ["pPrev", Int32Array],
  ["pNext", Int32Array],
];

/** The pod mix: each distinct request (cores, bytes, GPU thousandths) and its share of the pods. */
export interface PodMix {
  cpu: Float64Array;
  memory: Float64Array;
  gpu: Float64Array;
  share: Float64Array;
}

/** The mix of requests of the pods `source` yields (reads it to its end). O(pods + kinds). */
export function podMix(source: PodSource): PodMix {
  const counts = new Map<string, number>();
  let total = 0;
  while (source.next()) {
    const p = source.pod;
    const key = `${p.cpu},${p.memory},${p.gpu}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    total++;
  }
  // Sorted so the mix (and the float sums over it) do not depend on the file's order.
  const kinds = [...counts].map(([k, c]) => [...k.split(",").map(Number), c]).sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
  return {
    cpu: Float64Array.from(kinds, (k) => k[0]),
    memory: Float64Array.from(kinds, (k) => k[1]),
    gpu: Float64Array.from(kinds, (k) => k[2]),
    share: Float64Array.from(kinds, (k) => k[3] / total),
  };
}

/** The pod scheduler of one trace tenant. */
export class PodReplay {
  // Hosts: free requests, pods on each, unusable free CPU (fragmentation) of each.
  private readonly freeCpu: Float64Array;
  private readonly freeMem: Float64Array;
  private readonly freeGpu: Float64Array;
  private readonly podsOn: Int32Array;
  private readonly unusable: Float64Array;
  private freeCpuSum = 0;
  private unusableSum = 0;
  private readonly countGpu: boolean;
  // Pods: see POD_SLOT_COLUMNS.
  private pCpu!: Float64Array;
  private pMem!: Float64Array;
  private pGpu!: Float64Array;
  private pHost!: Int32Array;
  private pPrev!: Int32Array;
  private pNext!: Int32Array;
  private podFree: number[] = [];
  private podCount = 0;
  private pendingHead = NONE;
  private pendingTail = NONE;
  private pending = 0;
  private busyHosts = 0;
  private readonly createType: number;
  private readonly deleteType: number;

  // Measurement: peaks, time integrals since `since`.
  private since: number;
  private fragArea = 0;
  private fragTime = 0;
  private readonly pendingArea: Float64Array;
  private pendingPeak = 0;
  private hostsPeak = 0;
  private created = 0;
  private neverPlaced = 0;

  constructor(
    private readonly sim: Simulation,
    readonly name: string,
    private readonly source: PodSource,
    hosts: readonly AlibabaNode[],
    private readonly mix: PodMix,
    private readonly options: PodReplayOptions,
    /** When the hosts are the scenario's: their nodes, and the replication's `hostsUsed`, which a host joins with its first pod. */
    private readonly scenarioHosts?: { nodes: readonly number[]; used: Set<number> },
  ) {
    const n = hosts.length;
    allocColumns(this, POD_SLOT_COLUMNS, 64);
    this.freeCpu = Float64Array.from(hosts, (h) => h.cpu);
    this.freeMem = Float64Array.from(hosts, (h) => h.memory);
    this.freeGpu = Float64Array.from(hosts, (h) => h.gpu);
    this.countGpu = hosts.some((h) => h.gpu > 0);
    this.podsOn = new Int32Array(n);
    this.unusable = new Float64Array(n);
    for (let h = 0; h < n; h++) {
      this.freeCpuSum += this.freeCpu[h];
      this.refreshHost(h);
    }
    this.since = options.warmup;
    this.pendingArea = new Float64Array(options.windows);
    this.createType = sim.on(`trace.${name}.create`, () => this.onCreate());
    this.deleteType = sim.on(`trace.${name}.delete`, (slot) => this.onDelete(slot));
    this.loadNext();
  }

  /** Whether a request fits host h's free room. */
  private fits(h: number, cpu: number, mem: number, gpu: number): boolean {
    const eps = 1e-9;
    return cpu <= this.freeCpu[h] + eps && mem <= this.freeMem[h] + eps && (!this.countGpu || gpu <= this.freeGpu[h] + eps);
  }

  /** Recomputes host h's unusable free CPU from the mix. O(kinds). */
  private refreshHost(h: number): void {
    const m = this.mix;
    let share = 0;
    for (let k = 0; k < m.share.length; k++) if (!this.fits(h, m.cpu[k], m.memory[k] + this.options.overhead, m.gpu[k])) share += m.share[k];
    const u = this.freeCpu[h] * share;
    this.unusableSum += u - this.unusable[h];
    this.unusable[h] = u;
  }

  private loadNext(): void {
    if (!this.source.next()) return;
    const at = (this.source.pod.created - this.options.start) / this.options.speedup;
    this.sim.scheduleAt(this.createType, Math.max(at, this.sim.now), 0);
  }

  private onCreate(): void {
    const p = this.source.pod;
    const o = this.options;
    this.accrue();
    const slot = this.podFree.length > 0 ? this.podFree.pop()! : this.newSlot();
    this.pCpu[slot] = p.cpu;
    this.pMem[slot] = p.memory + o.overhead;
    this.pGpu[slot] = this.countGpu ? p.gpu : 0;
    this.pHost[slot] = NONE;
    if (this.sim.now >= o.warmup) this.created++;
    this.sim.scheduleAt(this.deleteType, Math.max((p.deleted - o.start) / o.speedup, this.sim.now), slot);
    const h = this.pick(slot);
    if (h >= 0) this.place(slot, h);
    else this.pushPending(slot);
    this.loadNext();
    this.peaks();
  }

  private newSlot(): number {
    const s = this.podCount++;
    if (s >= this.pCpu.length) growColumns(this, POD_SLOT_COLUMNS, 2 * this.pCpu.length);
    return s;
  }

  /** The host the policy picks for pod `slot`, or -1: first-fit the first that fits, best-fit the fewest free cores, spread the fewest pods then the most free cores. O(hosts). */
  private pick(slot: number): number {
    const cpu = this.pCpu[slot];
    const mem = this.pMem[slot];
    const gpu = this.pGpu[slot];
    const policy = this.options.policy;
    let best = -1;
    for (let h = 0; h < this.freeCpu.length; h++) {
      if (!this.fits(h, cpu, mem, gpu)) continue;
      if (policy === "first-fit") return h;
      if (best < 0) best = h;
      else if (policy === "best-fit" ? this.freeCpu[h] < this.freeCpu[best] : this.podsOn[h] < this.podsOn[best] || (this.podsOn[h] === this.podsOn[best] && this.freeCpu[h] > this.freeCpu[best])) best = h;
    }
    return best;
  }

  private place(slot: number, h: number): void {
    this.pHost[slot] = h;
    this.scenarioHosts?.used.add(this.scenarioHosts.nodes[h]);
    this.take(h, slot, -1);
    if (this.podsOn[h]++ === 0) this.busyHosts++;
  }

  /** Adds (sign 1) or takes (-1) pod `slot`'s requests to host h's free room. */
  private take(h: number, slot: number, sign: number): void {
    this.freeCpu[h] += sign * this.pCpu[slot];
    this.freeMem[h] += sign * this.pMem[slot];
    this.freeGpu[h] += sign * this.pGpu[slot];
    this.freeCpuSum += sign * this.pCpu[slot];
    this.refreshHost(h);
  }

  private pushPending(slot: number): void {
    this.pPrev[slot] = this.pendingTail;
    this.pNext[slot] = NONE;
    if (this.pendingTail === NONE) this.pendingHead = slot;
    else this.pNext[this.pendingTail] = slot;
    this.pendingTail = slot;
    this.pending++;
  }

  private unlinkPending(slot: number): void {
    const prev = this.pPrev[slot];
    const next = this.pNext[slot];
    if (prev === NONE) this.pendingHead = next;
    else this.pNext[prev] = next;
    if (next === NONE) this.pendingTail = prev;
    else this.pPrev[next] = prev;
    this.pending--;
  }

  private onDelete(slot: number): void {
    this.accrue();
    const h = this.pHost[slot];
    if (h === NONE) {
      this.unlinkPending(slot);
      if (this.sim.now >= this.options.warmup) this.neverPlaced++;
    } else {
      this.take(h, slot, 1);
      if (--this.podsOn[h] === 0) this.busyHosts--;
      // Only host h has more room than before: the pending pods that fit it now go there, oldest first.
      for (let q = this.pendingHead; q !== NONE; ) {
        const next = this.pNext[q];
        if (this.fits(h, this.pCpu[q], this.pMem[q], this.pGpu[q])) {
          this.unlinkPending(q);
          this.place(q, h);
        }
        q = next;
      }
    }
    this.podFree.push(slot);
    this.peaks();
  }

  private peaks(): void {
    if (this.sim.now < this.options.warmup || this.sim.now > this.options.end) return;
    if (this.pending > this.pendingPeak) this.pendingPeak = this.pending;
    if (this.busyHosts > this.hostsPeak) this.hostsPeak = this.busyHosts;
  }

  /** Integrates pending pods (per window) and fragmentation from `since` to now, within the measured window. */
  private accrue(): void {
    const o = this.options;
    const now = Math.min(this.sim.now, o.end);
    if (now <= this.since) return;
    const dt = now - this.since;
    if (this.freeCpuSum > 1e-9) {
      this.fragArea += (this.unusableSum / this.freeCpuSum) * dt;
      this.fragTime += dt;
    }
    const w = (o.end - o.warmup) / o.windows;
    for (let t = this.since; t < now; ) {
      const k = Math.min(o.windows - 1, Math.floor((t - o.warmup) / w));
      const stop = Math.min(now, o.warmup + (k + 1) * w);
      this.pendingArea[k] += this.pending * (stop - t);
      if (stop <= t) break;
      t = stop;
    }
    this.since = now;
  }

  /** The figures of the measured window (call once the run has reached its end). */
  figures(stack: string, skipped: number): PodFigures {
    this.accrue();
    const w = (this.options.end - this.options.warmup) / this.options.windows;
    // A window the whole measurement spent with no free CPU has no fragmentation to speak of.
    return {
      kind: "pods",
      stack,
      pods: this.created,
      pendingPeak: Math.max(this.pendingPeak, this.pending),
      fragmentation: this.fragTime > 0 ? this.fragArea / this.fragTime : null,
      hostsUsed: this.hostsPeak,
      neverPlaced: this.neverPlaced,
      skipped,
      pendingSeries: Array.from(this.pendingArea, (a) => a / w),
    };
  }
}
