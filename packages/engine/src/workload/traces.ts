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
      if (!c.next()) {
        // The cursor keeps its last sample, which holds for one sampling step.
        this.ended[v] = 1;
        next = Math.max(now, this.simTime(tr, c.time + tr.trace.step));
      } else {
        next = this.simTime(tr, c.time);
        if (next <= now) continue;
      }
      tr.samples++;
      this.apply(v, demand, memory, next);
      break;
    }
    this.sim.scheduleAt(this.sampleType, next, v);
  }

  /** Ends VM `v`'s current interval at `now`: its demand and what its threads served go to its tenant's totals. */
  private close(tr: TenantReplay, v: number, now: number): void {
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
    if (node === NONE || !(demand > 0) || !(span > 0) || span === Infinity) return;
    const cpu = this.model.cpu;
    const factor = this.model.pipeline.cpuFactor(node);
    const cap = demand / (cpu.speedOf(node) * factor);
    const k = Math.min(Math.ceil(this.cores[v]), Math.ceil(cap - SERVED_TOLERANCE));
    cpu.updateRules(node, undefined, cap);
    const work = (demand * span) / k;
    this.actWork[v] = work;
    for (let j = 0; j < k; j++) this.acts[this.actFirst[v] + j] = cpu.start(node, work, factor, this.doneType, this.actFirst[v] + j);
    this.actCount[v] = k;
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
    for (const tr of this.tenants) [tr.demandAtStart, tr.servedAtStart] = this.totals(tr);
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
    }
    return out;
  }
}
