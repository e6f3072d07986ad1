/**
 * Utilisation-driven services: a tenant replayed from a PlanetLab or
 * Bitbrains trace. Each VM of the trace is one service with one replica
 * (`withTraceServices`, so placement, stacks, energy and hosts used treat it
 * as any service), and its CPU demand, `utilisation x cores`, is background
 * work through the same CPU solver as requests: it contends, throttles and
 * steals like request work. Memory held follows the trace where it has it:
 * in the replica's process, which reserves the VM's provisioned memory, so
 * only use past the provisioned size reaches the host.
 *
 * Fluid demand as work. Over a sample's interval [t, t') the VM demands
 * `d (t' - t)` nominal core-seconds. They run as ceil(d / speed) threads
 * (at most the VM's vCPUs) on the replica's process, capped at d / speed
 * cores (speed: its host's speed times its path's CPU factor), so alone
 * they finish exactly at t'; under contention they get their fair share and
 * whatever is left at t' is demand not met (`cpuUnmet`): the load is lost,
 * not carried over, as in CloudSim's SLA figures. A replica that is not
 * ready (booting, lost with its host) meets none of its demand.
 *
 * Disk and network rates (Bitbrains) are traffic on the devices of the
 * replica's host, through the same solvers as request I/O and messages, so
 * they contend with co-located services (raw on the host's devices: the
 * layers' I/O costs are not charged). Received and transmitted bytes are one
 * flow each per interval, from and to outside the hosts, capped at the
 * trace's rate: alone it ends exactly at the interval's end. The disk has no
 * rate cap, so its reads and writes go in chunks of at most `DISK_PACE`
 * seconds' bytes, one sequential I/O each per chunk, submitted at the chunk's
 * start. As with CPU, what is not done when its time is up (a chunk's end,
 * the interval's end) is unmet and dropped. Without a disk (NIC) on any host
 * the trace's disk (network) traffic is not replayed, and not counted.
 *
 * Streaming. Each VM reads its own cursor one sample ahead (one event per
 * sample, payload the VM), so memory is one small buffer per VM whatever
 * the trace's length. All state is in typed columns and the cursors' fields,
 * so a snapshot saves and restores the replay with the rest of the model
 * (file offsets and line numbers included).
 */
import type { Simulation } from "../kernel/simulation.js";
import type { Model } from "../model/model.js";
import type { Scenario, Service, TraceSpec } from "../scenario/schema.js";
import { stackOf } from "../scenario/load.js";
import { TRACE_FORMATS, type UtilisationAdapter, type UtilisationCursor, type UtilisationTrace } from "../trace/index.js";
import type { TraceSource } from "../trace/lines.js";
import { NONE } from "../tree/nodes.js";
import { EXTERNAL } from "../net/network.js";

/** A trace tenant's figures in one replication (`stacks.<stack>.traces.<tenant>`): core-seconds over the measurement. */
export interface UtilisationFigures {
  kind: "utilisation";
  stack: string;
  vms: number;
  /** Trace samples replayed (the warm-up's included). */
  samples: number;
  /** CPU the trace asked for, and what of it the CPU solver did not serve, in nominal core-seconds. */
  cpuDemand: number;
  cpuUnmet: number;
  unmetFraction: number | null;
  /** Bad rows left out (`onBadRow: skip`). */
  skipped: number;
  /**
   * For traces with disk and network rates (Bitbrains): bytes read and written, received and sent, that the trace
   * asked for, and what of them the disk and NICs did not move in time.
   */
  diskDemand?: number;
  diskUnmet?: number;
  netDemand?: number;
  netUnmet?: number;
}

/** Whether the trace's format drives utilisation (PlanetLab, Bitbrains). */
function utilisationAdapter(t: TraceSpec): UtilisationAdapter | undefined {
  const a = TRACE_FORMATS[t.format];
  return a.kind === "utilisation" ? (a as UtilisationAdapter) : undefined;
}

/** Opens a utilisation tenant's trace as its scenario says. */
function openTrace(t: TraceSpec, source: TraceSource | undefined): UtilisationTrace | undefined {
  return utilisationAdapter(t)?.open(t.path, { source, cores: t.cores, sample: t.sample, limit: t.limit, onBadRow: t.onBadRow });
}

/** The service name of a trace tenant's VM `i` (0-based): trace names hold spaces and dots, so VMs go by number. */
export function traceVmService(i: number): string {
  return `vm${i + 1}`;
}

/**
 * The scenario with one service per VM in each utilisation trace tenant (one
 * replica reserving the VM's cores and memory, on the trace's stack, no
 * load); other tenants as they are. Reads each trace's file list and, for
 * Bitbrains, the rows up to each VM's size. The same scenario gives the same
 * services.
 */
export function withTraceServices(s: Scenario, source?: TraceSource): Scenario {
  if (!s.tenants.some((t) => t.trace && utilisationAdapter(t.trace))) return s;
  return {
    ...s,
    tenants: s.tenants.map((t) => {
      const trace = t.trace && openTrace(t.trace, source);
      if (!trace) return t;
      const services = trace.vms.map(
        (vm, i): Service => ({
          name: traceVmService(i),
          replicas: 1,
          queue: 0,
          cores: vm.cores,
          memory: vm.memory,
          ...(t.trace!.stack !== undefined ? { stack: t.trace!.stack } : {}),
          balance: "round-robin",
          // Never run: a trace VM has no load; its demand comes from the replay.
          request: [{ cpu: 0 }],
        }),
      );
      return { ...t, services };
    }),
  };
}

/** What the replay needs of the replication: each service's replicas and where they run. */
export interface ReplayHost {
  readonly services: readonly { readonly replicas: Int32Array }[];
  readonly replicaNode: Int32Array;
  readonly replicaService: Int32Array;
  readonly replicaReady: Int8Array;
}

/** Demand below this share of an interval's work is rounding, not unmet demand. */
const SERVED_TOLERANCE = 1e-9;

/** The longest disk chunk in simulated seconds: fine enough that a 300 s sample's traffic is spread, not a burst. */
const DISK_PACE = 10;

/** Whether a VM's disk or network traffic is off (none, or not modelled), on its host's device, or lost (not ready, no device on its host). */
const OFF = 0;
const ON = 1;
const LOST = 2;

/** One utilisation tenant of a replication: its trace, and its VMs' slice of the replay's columns. */
class TenantReplay {
  constructor(
    readonly name: string,
    readonly stack: string,
    readonly trace: UtilisationTrace,
    readonly cursors: UtilisationCursor[],
    /** Its first VM's index in the replay's columns, and its first service's in the replication. */
    readonly firstVm: number,
    readonly firstService: number,
    readonly start: number,
    readonly speedup: number,
  ) {}
  samples = 0;
  /** Demand and served core-seconds of intervals closed so far; and both at the start of the measurement. */
  demand = 0;
  served = 0;
  demandAtStart = 0;
  servedAtStart = 0;
  /** Disk and network bytes asked for in closed intervals, and those not moved in time (counted when their time is up). */
  diskDemand = 0;
  diskUnmet = 0;
  netDemand = 0;
  netUnmet = 0;
  /** The four at the start of the measurement. */
  trafficAtStart = [0, 0, 0, 0];
}

/** The replay of every utilisation tenant of one replication. */
export class TraceReplay {
  private readonly tenants: TenantReplay[] = [];
  /** Per VM: its tenant, the demand in cores now, since when, the threads running it (first in `acts`, and how many), each thread's work, memory held and where. */
  private readonly tenantOf: Int32Array;
  private readonly demandNow: Float64Array;
  private readonly since: Float64Array;
  private readonly actFirst: Int32Array;
  private readonly actCount: Int32Array;
  private readonly actWork: Float64Array;
  private readonly cores: Float64Array;
  /** Per VM: the CPU cap last set, and on which node (NONE: none yet), so an unchanged cap is not set again. */
  private readonly capNow: Float64Array;
  private readonly capNode: Int32Array;
  private readonly heldMemory: Float64Array;
  private readonly heldAt: Int32Array;
  /** Work of VM `v`'s threads that completed in the current interval. */
  private readonly servedDone: Float64Array;
  /** Activity ids, `ceil(cores)` slots per VM from `actFirst` (-1: none running), and each slot's VM. */
  private readonly acts: Int32Array;
  private readonly vmOfSlot: Int32Array;
  private readonly doneType: number;
  /** Per VM: its replica now (-1: none placed), the end of its current interval, and the memory its sample holds (NaN: none). */
  private readonly replica: Int32Array;
  private readonly until: Float64Array;
  private readonly memoryNow: Float64Array;
  /** The VM of each service of the replication (-1 for services not of a trace). */
  private readonly vmOfService: Int32Array;
  /** 1 once a VM's cursor has no more samples. */
  private readonly ended: Int8Array;
  private readonly sampleType: number;
  /** Per VM x 2: disk read and write, network received and sent, in bytes/s now; the I/O and flow carrying each (-1: none). */
  private readonly diskRate: Float64Array;
  private readonly netRate: Float64Array;
  private readonly diskIo: Int32Array;
  private readonly netFlow: Int32Array;
  /** Per VM: its traffic's state (OFF, ON, LOST), its host, its disk chunks' length, the current one's end, and the next one's event (-1: none). */
  private readonly diskMode: Int8Array;
  private readonly netMode: Int8Array;
  private readonly trafficHost: Int32Array;
  private readonly chunkLength: Float64Array;
  private readonly chunkEnd: Float64Array;
  private readonly chunkEvent: Float64Array;
  /** Whether any host has a disk, a NIC: without, the traffic is not modelled. */
  private readonly disks: boolean;
  private readonly nics: boolean;
  private readonly trafficType: number;
  private readonly chunkType: number;

  constructor(
    private readonly sim: Simulation,
    private readonly model: Model,
    s: Scenario,
    private readonly rep: ReplayHost,
    warmup: number,
    source?: TraceSource,
  ) {
    let vms = 0;
    let slots = 0;
    let service = 0;
    s.tenants.forEach((t) => {
      const trace = t.trace && openTrace(t.trace, source);
      if (trace) {
        const stack = stackOf(s, t.services[0] ?? { stack: t.trace!.stack });
        this.tenants.push(new TenantReplay(t.name, stack, trace, trace.vms.map((_, i) => trace.cursor(i)), vms, service, t.trace!.start, t.trace!.speedup));
        vms += trace.vms.length;
        for (const vm of trace.vms) slots += Math.ceil(vm.cores);
      }
      service += t.services.length;
    });
    this.tenantOf = new Int32Array(vms);
    this.demandNow = new Float64Array(vms);
    this.since = new Float64Array(vms);
    this.actFirst = new Int32Array(vms);
    this.actCount = new Int32Array(vms);
    this.actWork = new Float64Array(vms);
    this.cores = new Float64Array(vms);
    this.capNow = new Float64Array(vms);
    this.capNode = new Int32Array(vms).fill(NONE);
    this.heldMemory = new Float64Array(vms);
    this.heldAt = new Int32Array(vms).fill(NONE);
    this.servedDone = new Float64Array(vms);
    this.replica = new Int32Array(vms).fill(-1);
    this.until = new Float64Array(vms);
    this.memoryNow = new Float64Array(vms).fill(NaN);
    this.vmOfService = new Int32Array(rep.services.length).fill(-1);
    this.acts = new Int32Array(slots).fill(-1);
    this.vmOfSlot = new Int32Array(slots);
    this.ended = new Int8Array(vms);
    this.diskRate = new Float64Array(2 * vms);
    this.netRate = new Float64Array(2 * vms);
    this.diskIo = new Int32Array(2 * vms).fill(-1);
    this.netFlow = new Int32Array(2 * vms).fill(-1);
    this.diskMode = new Int8Array(vms);
    this.netMode = new Int8Array(vms);
    this.trafficHost = new Int32Array(vms).fill(NONE);
    this.chunkLength = new Float64Array(vms);
    this.chunkEnd = new Float64Array(vms);
    this.chunkEvent = new Float64Array(vms).fill(-1);
    this.disks = model.hosts.some((h) => model.disk.has(h));
    this.nics = model.hosts.some((h) => model.net.hasNic(h));
    // Deliveries need no handling: what an I/O or flow did not move is learnt by cancelling it when its time is up.
    this.trafficType = sim.on("trace.traffic", () => {});
    this.chunkType = sim.on("trace.chunk", (v) => this.chunk(v));
    // Completions tell which threads ended: solver activity ids are reused once done, so only live ones are asked.
    this.doneType = sim.on("trace.done", (slot) => this.onDone(slot));
    this.sampleType = sim.on("trace.sample", (v) => this.onSample(v));
    const measureType = sim.on("trace.measure", () => this.startMeasurement());
    let slot = 0;
    this.tenants.forEach((tr, ti) => {
      tr.trace.vms.forEach((vm, i) => {
        const v = tr.firstVm + i;
        this.tenantOf[v] = ti;
        this.cores[v] = vm.cores;
        this.vmOfService[tr.firstService + i] = v;
        const replicas = rep.services[tr.firstService + i].replicas;
        if (replicas.length > 0) this.replica[v] = replicas[0];
        this.actFirst[v] = slot;
        for (let j = 0; j < Math.ceil(vm.cores); j++) this.vmOfSlot[slot++] = v;
        // Samples before the replayed start are all due at 0, where the last of them holds.
        if (tr.cursors[i].next()) sim.scheduleAt(this.sampleType, Math.max(0, this.simTime(tr, tr.cursors[i].time)), v);
      });
    });
    sim.scheduleAt(measureType, warmup, 0);
  }

  /** Whether the scenario has a tenant this replays. */
  static wanted(s: Scenario): boolean {
    return s.tenants.some((t) => t.trace !== undefined && utilisationAdapter(t.trace) !== undefined);
  }

  /** Simulated time of trace time `t` (seconds from the trace's start). */
  private simTime(tr: TenantReplay, t: number): number {
    return (t - tr.start) / tr.speedup;
  }

  /**
   * Sample event of VM `v`: closes its interval, applies the last of its
   * samples due now (repeated timestamps last 0 s), and plans the next; after
   * the last sample's step, the VM demands nothing more.
   */
  private onSample(v: number): void {
    const tr = this.tenants[this.tenantOf[v]];
    const c = tr.cursors[v - tr.firstVm];
    const now = this.sim.now;
    this.close(tr, v, now);
    if (this.ended[v]) return;
    let next: number;
    for (;;) {
      const demand = c.cpu * this.cores[v];
      const memory = c.memory;
      // NaN (no such column) is no traffic.
      const diskRead = c.diskRead || 0;
      const diskWrite = c.diskWrite || 0;
      const netIn = c.netIn || 0;
      const netOut = c.netOut || 0;
      if (!c.next()) {
        // The cursor keeps its last sample, which holds for one sampling step.
        this.ended[v] = 1;
        next = Math.max(now, this.simTime(tr, c.time + tr.trace.step));
      } else {
        next = this.simTime(tr, c.time);
        if (next <= now) continue;
      }
      tr.samples++;
      this.diskRate[2 * v] = diskRead;
      this.diskRate[2 * v + 1] = diskWrite;
      this.netRate[2 * v] = netIn;
      this.netRate[2 * v + 1] = netOut;
      this.apply(v, demand, memory, next);
      break;
    }
    this.sim.scheduleAt(this.sampleType, next, v);
  }

  /** Ends VM `v`'s current interval at `now`: its demand and what its threads served go to its tenant's totals. */
  private close(tr: TenantReplay, v: number, now: number): void {
    this.closeTraffic(tr, v, now);
    tr.demand += this.demandNow[v] * (now - this.since[v]);
    tr.served += this.served(v);
    const first = this.actFirst[v];
    for (let j = 0; j < this.actCount[v]; j++) {
      if (this.acts[first + j] >= 0) this.model.cpu.abort(this.acts[first + j]);
      this.acts[first + j] = -1;
    }
    this.actCount[v] = 0;
    this.servedDone[v] = 0;
    this.demandNow[v] = 0;
  }

  /** Core-seconds VM `v`'s threads have served so far in their interval. */
  private served(v: number): number {
    let done = this.servedDone[v];
    const first = this.actFirst[v];
    for (let j = 0; j < this.actCount[v]; j++) if (this.acts[first + j] >= 0) done += this.actWork[v] - this.model.cpu.remaining(this.acts[first + j]);
    return done;
  }

  /** A thread finished its interval's work. */
  private onDone(slot: number): void {
    this.servedDone[this.vmOfSlot[slot]] += this.actWork[this.vmOfSlot[slot]];
    this.acts[slot] = -1;
  }

  /** A thread stopped with its node (a failure): what it had served is not known, so none of its work counts as served. */
  lost(type: number, slot: number): void {
    if (type === this.doneType) this.acts[slot] = -1;
  }

  /**
   * Replica `r` became ready (after its boot, or placed again after a
   * failure): a trace VM's demand of the current interval runs from now.
   */
  ready(r: number): void {
    const v = this.vmOfService[this.rep.replicaService[r]];
    if (v < 0) return;
    this.replica[v] = r;
    this.reapply(v);
  }

  /**
   * Replica `r` stopped (its host or a layer above it failed, or it restarts): a trace VM's disk and network traffic
   * in progress is taken back and the rest of its interval is unmet, as its CPU demand is (the devices of a failed
   * host know nothing of the failure, so the I/Os and flows would otherwise go on and count as met).
   */
  stopped(r: number): void {
    const v = this.vmOfService[this.rep.replicaService[r]];
    if (v < 0 || this.replica[v] !== r || (this.diskMode[v] !== ON && this.netMode[v] !== ON)) return;
    this.reapply(v);
  }

  /** Ends VM `v`'s interval so far at now and starts the rest of it on its replica as it is now (ready or not). */
  private reapply(v: number): void {
    const demand = this.demandNow[v];
    this.close(this.tenants[this.tenantOf[v]], v, this.sim.now);
    this.apply(v, demand, this.memoryNow[v], this.until[v]);
  }

  /** Starts VM `v`'s demand of `demand` cores until `until`, and sets the memory it holds. */
  private apply(v: number, demand: number, memory: number, until: number): void {
    const now = this.sim.now;
    this.since[v] = now;
    this.until[v] = until;
    this.demandNow[v] = demand;
    this.memoryNow[v] = memory;
    const r = this.replica[v];
    const node = r < 0 || !this.rep.replicaReady[r] ? NONE : this.rep.replicaNode[r];
    if (!Number.isNaN(memory) && node !== NONE) {
      // Held in the replica's process, as a program's allocations are: within its reservation (the VM's provisioned
      // memory) nothing changes above it; past it, the excess is used in the layers and host above.
      this.model.memory.allocate(node, this.heldAt[v] === node ? memory - this.heldMemory[v] : memory);
      this.heldMemory[v] = memory;
      this.heldAt[v] = node;
    }
    const span = until - now;
    if (span > 0 && span !== Infinity) this.startTraffic(v, r < 0 ? NONE : this.rep.replicaNode[r], node, span);
    if (node === NONE || !(demand > 0) || !(span > 0) || span === Infinity) return;
    const cpu = this.model.cpu;
    const factor = this.model.pipeline.cpuFactor(node);
    const cap = demand / (cpu.speedOf(node) * factor);
    const k = Math.max(1, Math.min(Math.ceil(this.cores[v]), Math.ceil(cap - SERVED_TOLERANCE)));
    // perf: a cap already in force is not set again (a rule change recomputes the host's shares, and setting the same
    // cap recomputes them to what they are): a busy VM often repeats its percentage. With the byte reads of
    // PlanetLab samples, 2.25 -> 2.0 us of CPU a sample on the PlanetLab day (alternating runs against main).
    if (cap !== this.capNow[v] || node !== this.capNode[v]) {
      cpu.updateRules(node, undefined, cap);
      this.capNow[v] = cap;
      this.capNode[v] = node;
    }
    const work = (demand * span) / k;
    this.actWork[v] = work;
    for (let j = 0; j < k; j++) this.acts[this.actFirst[v] + j] = cpu.start(node, work, factor, this.doneType, this.actFirst[v] + j);
    this.actCount[v] = k;
  }

  /**
   * Starts VM `v`'s disk and network traffic of its current rates for `span` seconds from now, on the devices of
   * the host of its replica's `placed` node; `node` is that node when the replica is ready (else NONE: all unmet).
   */
  private startTraffic(v: number, placed: number, node: number, span: number): void {
    const host = placed === NONE ? NONE : this.model.nodes.host[placed];
    this.trafficHost[v] = host;
    if (this.disks && this.diskRate[2 * v] + this.diskRate[2 * v + 1] > 0) {
      this.diskMode[v] = node !== NONE && this.model.disk.has(host) ? ON : LOST;
      if (this.diskMode[v] === ON) {
        // Equal chunks of at most DISK_PACE seconds, the last ending at the interval's end.
        this.chunkLength[v] = span / Math.ceil(span / DISK_PACE - SERVED_TOLERANCE);
        this.chunk(v);
      }
    }
    if (this.nics && this.netRate[2 * v] + this.netRate[2 * v + 1] > 0) {
      this.netMode[v] = node !== NONE && this.model.net.hasNic(host) ? ON : LOST;
      if (this.netMode[v] === ON) {
        const net = this.model.net;
        const rateIn = this.netRate[2 * v];
        const rateOut = this.netRate[2 * v + 1];
        if (rateIn > 0) this.netFlow[2 * v] = net.send(EXTERNAL, host, rateIn * span, 0, this.trafficType, 2 * v, rateIn);
        if (rateOut > 0) this.netFlow[2 * v + 1] = net.send(host, EXTERNAL, rateOut * span, 0, this.trafficType, 2 * v + 1, rateOut);
      }
    }
  }

  /** A disk chunk of VM `v` begins: the last one's bytes not yet moved are unmet; this one's are submitted. */
  private chunk(v: number): void {
    const now = this.sim.now;
    const tr = this.tenants[this.tenantOf[v]];
    tr.diskUnmet += this.cancelDisk(v);
    const left = this.until[v] - now;
    // The last chunk takes what is left (within rounding of a chunk).
    const length = left <= this.chunkLength[v] * (1 + SERVED_TOLERANCE) ? left : this.chunkLength[v];
    this.chunkEnd[v] = now + length;
    for (let k = 0; k < 2; k++) {
      const rate = this.diskRate[2 * v + k];
      if (rate > 0) this.diskIo[2 * v + k] = this.model.disk.submit(this.trafficHost[v], rate * length, false, k === 1, 0, this.trafficType, 2 * v + k);
    }
    this.chunkEvent[v] = length < left ? this.sim.scheduleAt(this.chunkType, now + length, v) : -1;
  }

  /** Takes back VM `v`'s disk I/Os in progress; returns the bytes they had not moved. */
  private cancelDisk(v: number): number {
    let left = 0;
    for (let k = 2 * v; k < 2 * v + 2; k++) {
      if (this.diskIo[k] >= 0) left += this.model.disk.cancel(this.diskIo[k], this.trafficType, k);
      this.diskIo[k] = -1;
    }
    return left;
  }

  /**
   * Ends VM `v`'s traffic of the current interval at `now`: what it asked for goes to its tenant's demand, and what
   * its I/Os and flows had not moved (all of it when lost) to the unmet.
   */
  private closeTraffic(tr: TenantReplay, v: number, now: number): void {
    const dt = now - this.since[v];
    if (this.diskMode[v] !== OFF) {
      const asked = (this.diskRate[2 * v] + this.diskRate[2 * v + 1]) * dt;
      tr.diskDemand += asked;
      if (this.diskMode[v] === LOST) tr.diskUnmet += asked;
      else {
        // Closed before its chunk's end (its replica stopped), an I/O's bytes not yet due are not demand yet.
        let left = 0;
        for (let k = 2 * v; k < 2 * v + 2; k++) {
          if (this.diskIo[k] >= 0) left += Math.max(0, this.model.disk.cancel(this.diskIo[k], this.trafficType, k) - this.diskRate[k] * Math.max(0, this.chunkEnd[v] - now));
          this.diskIo[k] = -1;
        }
        tr.diskUnmet += left;
        if (this.chunkEvent[v] >= 0) this.sim.cancel(this.chunkEvent[v]);
        this.chunkEvent[v] = -1;
      }
      this.diskMode[v] = OFF;
    }
    if (this.netMode[v] !== OFF) {
      const asked = (this.netRate[2 * v] + this.netRate[2 * v + 1]) * dt;
      tr.netDemand += asked;
      if (this.netMode[v] === LOST) tr.netUnmet += asked;
      else {
        for (let k = 2 * v; k < 2 * v + 2; k++) {
          if (this.netFlow[k] >= 0) tr.netUnmet += Math.max(0, this.model.net.cancel(this.netFlow[k], this.trafficType, k) - this.netRate[k] * (this.until[v] - now));
          this.netFlow[k] = -1;
        }
      }
      this.netMode[v] = OFF;
    }
  }

  /**
   * Disk demand, disk unmet, network demand and network unmet bytes of tenant `tr` up to now. Of the I/Os and flows
   * in progress, what is unmet so far is what they were asked to have moved by now and have not.
   */
  private traffic(tr: TenantReplay): number[] {
    const now = this.sim.now;
    const out = [tr.diskDemand, tr.diskUnmet, tr.netDemand, tr.netUnmet];
    for (let v = tr.firstVm; v < tr.firstVm + tr.cursors.length; v++) {
      const dt = now - this.since[v];
      const disk = this.diskMode[v] === OFF ? 0 : (this.diskRate[2 * v] + this.diskRate[2 * v + 1]) * dt;
      const net = this.netMode[v] === OFF ? 0 : (this.netRate[2 * v] + this.netRate[2 * v + 1]) * dt;
      out[0] += disk;
      out[2] += net;
      if (this.diskMode[v] === LOST) out[1] += disk;
      if (this.netMode[v] === LOST) out[3] += net;
      // A transfer asked to move `rate` bytes a second until its end is behind by what it has left beyond that.
      for (let k = 2 * v; k < 2 * v + 2; k++) {
        if (this.diskMode[v] === ON && this.diskIo[k] >= 0) {
          out[1] += Math.max(0, this.model.disk.remaining(this.diskIo[k], this.trafficType, k) - this.diskRate[k] * (this.chunkEnd[v] - now));
        }
        if (this.netMode[v] === ON && this.netFlow[k] >= 0) {
          out[3] += Math.max(0, this.model.net.remaining(this.netFlow[k], this.trafficType, k) - this.netRate[k] * (this.until[v] - now));
        }
      }
    }
    return out;
  }

  /** Demand and served core-seconds of tenant `tr` up to now. */
  private totals(tr: TenantReplay): [number, number] {
    const now = this.sim.now;
    let demand = tr.demand;
    let served = tr.served;
    for (let v = tr.firstVm; v < tr.firstVm + tr.cursors.length; v++) {
      demand += this.demandNow[v] * (now - this.since[v]);
      served += this.served(v);
    }
    return [demand, served];
  }

  /** The end of the warm-up: what each tenant demanded and got so far is left out of its figures. */
  private startMeasurement(): void {
    for (const tr of this.tenants) {
      [tr.demandAtStart, tr.servedAtStart] = this.totals(tr);
      tr.trafficAtStart = this.traffic(tr);
    }
  }

  /** Each trace tenant's figures over the measurement, by tenant name (read at the end of the replication). */
  figures(): Record<string, UtilisationFigures> {
    const out: Record<string, UtilisationFigures> = {};
    for (const tr of this.tenants) {
      const [demand, served] = this.totals(tr);
      const cpuDemand = demand - tr.demandAtStart;
      // Served within rounding of the demand is all of it.
      const unmet = Math.max(0, cpuDemand - (served - tr.servedAtStart));
      const cpuUnmet = unmet <= SERVED_TOLERANCE * cpuDemand ? 0 : unmet;
      out[tr.name] = { kind: "utilisation", stack: tr.stack, vms: tr.cursors.length, samples: tr.samples, cpuDemand, cpuUnmet, unmetFraction: cpuDemand > 0 ? cpuUnmet / cpuDemand : null, skipped: tr.trace.bad.skipped };
      if (tr.trace.traffic) {
        const [diskDemand, diskUnmet, netDemand, netUnmet] = this.traffic(tr).map((x, i) => x - tr.trafficAtStart[i]);
        // Unmet within rounding of the demand is none, as for CPU.
        const none = (unmet: number, demand: number) => (unmet <= SERVED_TOLERANCE * demand ? 0 : unmet);
        Object.assign(out[tr.name], { diskDemand, diskUnmet: none(diskUnmet, diskDemand), netDemand, netUnmet: none(netUnmet, netDemand) });
      }
    }
    return out;
  }
}
