/**
 * One replication of a scenario: requests arrive (open-loop Poisson per
 * service, or closed-loop clients with think time), are balanced over the
 * service's replicas, wait FIFO for a thread, run their program through the
 * model, and are measured once the warm-up is over (DESIGN.md, Requests and
 * operations). Its parts: the compiled programs (programs.ts), the request
 * store (requests.ts), the lifecycle of replicas and the failures
 * (lifecycle.ts), and the measurement (measure.ts).
 *
 * Operations. Every operation a request performs (a cpu, mem or syscall step,
 * each I/O, each message at each end) meets its path in one place,
 * `afterPipeline`: the model's pipeline applies the static path record and
 * the layers' hooks; the operation then fails its request (a hook rejected
 * it), waits for the CPU charges it must wait for (an operation slot, resumed
 * by `workload.charged`), or goes on at once after its delay.
 *
 * Common random numbers: every number a request needs (its arrival gap or
 * think time, then its steps in order) comes from its own stream, keyed by
 * (replication seed, service, request index) or (replication seed, service,
 * client, k), so the same request sees the same demand on any stack and under
 * any routing. Routing draws (balance: random) have a stream of their own.
 *
 * All request state is in typed columns; event payloads are request, service,
 * client or operation indices.
 */
import { JobPodReplays } from "./job-pod-traces.js";
import type { Simulation } from "../kernel/simulation.js";
import type { Model } from "../model/model.js";
import { CPU_OP, IO_OP, MEM_OP, NET_OP, NO_DIRECTION, RECEIVE, SEND, SYSCALL_OP, type Pipeline } from "../model/pipeline.js";
import type { Distribution } from "../random/distributions.js";
import { Random } from "../random/random.js";
import type { Scenario } from "../scenario/schema.js";
import { stackOf } from "../scenario/load.js";
import { EXTERNAL } from "../net/network.js";
import { NONE } from "../tree/nodes.js";
import { allocColumns, growColumns, type ColumnSpec } from "../util/typed.js";
import { Lifecycle } from "./lifecycle.js";
import { Measurement, newServiceMeasure, SERIES_WINDOWS, type ServiceMeasure } from "./measure.js";
import { ALLOC, CALL, compilePrograms, CPU, FREE, IO, LEAST_OUTSTANDING, MEM, SYSCALL, type Program } from "./programs.js";
import { clientsAt } from "./profile.js";
import { Balancer } from "./balance.js";
import { RequestStore } from "./requests.js";
import { TraceReplay } from "./traces.js";

export { SERIES_WINDOWS };

/**
 * A closed-loop client whose request failed thinks and waits this much more
 * before its next one, so that a failing path is never retried within one
 * instant (an assumption of the model, not a measurement: real clients back off).
 */
const RETRY_AFTER_FAILURE = 0.001;
/** The client of a called request (not an open- or closed-loop root). */
const CALLED = -2;
/** Separates the keys of called requests' streams from those of root requests. */
const CALL_KEY = 2 ** 45;
/** What an operation does once its charges are served: its continuation. */
const GO_CPU = 0;
const GO_MEM = 1;
const GO_IO = 2;
const GO_MESSAGE = 3;
/** Why requests fail besides a layer's reject (results: `failedBy`), by index. */
export const FAILED = ["host-failure", "no-ready-replica", "call-failed", "call-dropped", "unreachable", "timeout"] as const;
export const HOST_FAILED = 0;
const NO_REPLICA = 1;
const CALL_FAILED = 2;
const CALL_DROPPED = 3;
/** Routed to a dead replica that no probe or detection has taken out of its balancer yet. */
const UNREACHABLE = 4;
const TIMED_OUT = 5;

/** A service's program and its state in this replication. */
export interface ServiceRun extends Program {
  measure: ServiceMeasure;
  /** Global replica indices, one slot per scenario replica (a re-placed replica takes its slot). */
  replicas: Int32Array;
  /** Its endpoints (the replicas it routes to) and its balancing policy. */
  balancer: Balancer;
  /** Closed-loop clients waiting for a replica to be ready. */
  parkedClients: number[];
  /** Stream key base of its requests. */
  base: Int32Array;
  /** Open-loop: index of the next request, and its stream, already started (its gap drawn). */
  next: number;
  /** Open-loop with a profile: the expected arrivals (Λ) at the next arrival. */
  expected: number;
  nextState: Int32Array;
}

/** Options of a replication (all in seconds). */
export interface ReplicationOptions {
  seed: number;
  warmup: number;
  duration: number;
  /** File name for messages. */
  file?: string;
  /** Called for each measured completion (for validation and traces). */
  onRequest?: (service: string, latency: number, work: number) => void;
}

/** Per-replica columns (grown as replicas are placed again). */
const REPLICA_COLUMNS: readonly ColumnSpec[] = [
  ["replicaNode", Int32Array],
  ["replicaService", Int32Array],
  ["inService", Int32Array],
  ["queueHead", Int32Array],
  ["queueLen", Int32Array],
  ["parkedHead", Int32Array, NONE],
  ["parkedTail", Int32Array, NONE],
  ["replicaReady", Int8Array],
  ["replicaDown", Int8Array],
  ["draining", Int8Array],
  ["endpoint", Int8Array],
  ["memberPos", Int32Array],
  ["bucketPos", Int32Array],
  ["filed", Int32Array],
  ["readySince", Float64Array],
];

/** Operations in flight that need a slot: each I/O, and any operation waiting for its charges. */
const OP_COLUMNS: readonly ColumnSpec[] = [
  ["opReq", Int32Array],
  ["opGen", Int32Array],
  ["opGo", Int8Array],
  ["opFrom", Int32Array],
  ["opTo", Int32Array],
  ["opType", Int32Array],
  ["opPayload", Int32Array],
  ["opBytes", Float64Array],
  ["opDelay", Float64Array],
  ["opCharges", Int32Array],
  // An I/O's serial back end (NONE: none), the next I/O waiting for it, and its charges kept meanwhile.
  ["opSerial", Int32Array, NONE],
  ["opNext", Int32Array, NONE],
  ["opDeferred", Int32Array, NONE],
];

/**
 * Serial back ends, indexed by node: 1 while an I/O holds it, and the FIFO of I/Os waiting for it (through `opNext`).
 * perf: columns by node id, grown on demand, rather than a map: an I/O through a serial back end reads one slot.
 */
const SERIAL_COLUMNS: readonly ColumnSpec[] = [
  ["serialBusy", Int8Array],
  ["serialHead", Int32Array, NONE],
  ["serialTail", Int32Array, NONE],
];

export class Replication {
  readonly services: ServiceRun[] = [];
  readonly end: number;
  readonly measurement: Measurement;
  readonly lifecycle: Lifecycle;
  /** The replays of trace tenants whose traces are jobs or pods. */
  readonly jobPods: JobPodReplays;
  readonly requests = new RequestStore();
  /** The replay of the scenario's utilisation trace tenants (absent without any, so other scenarios' state is as before). */
  readonly traces?: TraceReplay;
  /** The model's operation pipeline (perf: one field read per operation). */
  private readonly pipeline: Pipeline;
  /** Reasons requests failed for, by index (the engine's, then layers' rejects as they occur). */
  readonly reasons: string[] = [...FAILED];
  private readonly reasonIndex = new Map<string, number>(this.reasons.map((r, i) => [r, i]));

  // Replicas: see REPLICA_COLUMNS.
  /** The process node of each replica. */
  replicaNode = new Int32Array(0);
  replicaService = new Int32Array(0);
  inService = new Int32Array(0);
  queueHead = new Int32Array(0);
  queueLen = new Int32Array(0);
  readonly queues: Int32Array[] = [];
  /**
   * Closed-loop clients whose request was dropped, per replica, waiting for it
   * to finish one: a FIFO linked through `clientNext` (perf: a typed head per
   * replica instead of an array each, whose check on every finished request
   * reached a scattered object).
   */
  parkedHead = new Int32Array(0);
  parkedTail = new Int32Array(0);
  replicaReady = new Int8Array(0);
  /** 1 while a replica is stopped: lost with its host or node (for good), or restarting. */
  replicaDown = new Int8Array(0);
  /** 1 while a planned restart drains a replica: out of its balancer, it still serves what reaches it (rollout.ts). */
  draining = new Int8Array(0);
  /** Balancing (balance.ts): 1 while an endpoint; its positions in its service's lists; the load it is filed under. */
  endpoint = new Int8Array(0);
  memberPos = new Int32Array(0);
  bucketPos = new Int32Array(0);
  filed = new Int32Array(0);
  /** When each replica was last ready (its readiness probes run every period from then). */
  readySince = new Float64Array(0);
  replicaCount = 0;
  readonly replicaOfNode = new Map<number, number>();
  /** Hosts that held a replica at some time of the run. */
  readonly hostsUsed = new Set<number>();
  /** Each host node's CPU cost of one system call (host nodes are the first ids). */
  private readonly syscallCost: Float64Array;

  // Operations: see OP_COLUMNS.
  private opReq = new Int32Array(0);
  private opGen = new Int32Array(0);
  private opGo = new Int8Array(0);
  private opFrom = new Int32Array(0);
  private opTo = new Int32Array(0);
  private opType = new Int32Array(0);
  private opPayload = new Int32Array(0);
  private opBytes = new Float64Array(0);
  private opDelay = new Float64Array(0);
  private opCharges = new Int32Array(0);
  private opSerial = new Int32Array(0);
  private opNext = new Int32Array(0);
  private opDeferred = new Int32Array(0);
  private readonly opFree: number[] = [];
  private opCount = 0;
  // Serial back ends: see SERIAL_COLUMNS.
  private serialBusy = new Int8Array(0);
  private serialHead = new Int32Array(0);
  private serialTail = new Int32Array(0);

  // Closed-loop clients.
  private readonly clientService: Int32Array;
  private readonly clientIndex: Int32Array; // index within its service
  private readonly clientK: Float64Array; // requests issued so far
  private readonly clientState: Int32Array; // the next request's stream (think time drawn)
  private readonly clientNext: Int32Array; // the next client parked on the same replica

  private readonly rng = Random.fromKey(0);
  private readonly arrivalType: number;
  private readonly clientType: number;
  private readonly clientsType: number;
  private readonly stepType: number;
  private readonly cpuStartType: number;
  private readonly chargedType: number;
  private readonly ioDoneType: number;
  private readonly callArriveType: number;
  private readonly callReturnType: number;
  private readonly ingressArriveType: number;
  private readonly ingressDoneType: number;
  private readonly retryType: number;
  private readonly timeoutType: number;
  private readonly keyScratch = new Int32Array(4);
  private readonly callState = new Int32Array(4);
  /** Calls per edge (caller service * services + callee service): count and summed latency. */
  readonly edges = new Map<number, { count: number; latency: number }>();

  constructor(
    private readonly sim: Simulation,
    readonly model: Model,
    readonly scenario: Scenario,
    readonly options: ReplicationOptions,
  ) {
    const s = scenario;
    this.end = options.warmup + options.duration;
    const rq = this.requests;
    this.pipeline = model.pipeline;
    this.arrivalType = sim.on("workload.arrival", (svc) => this.onArrival(svc));
    this.clientType = sim.on("workload.client", (client) => this.onClient(client));
    this.clientsType = sim.on("workload.clients", (service) => this.onClientsChange(service));
    this.stepType = sim.on("workload.step", (tag) => {
      const req = rq.live(tag);
      if (req < 0) return;
      rq.timer[req] = -1;
      this.onStepDone(req);
    });
    this.cpuStartType = sim.on("workload.cpuStart", (tag) => {
      const req = rq.live(tag);
      if (req < 0) return;
      rq.timer[req] = -1;
      this.startCpu(req, rq.amount[req]);
    });
    this.chargedType = sim.on("workload.charged", (op) => this.onCharged(op));
    this.ioDoneType = sim.on("workload.ioDone", (op) => this.onIoDone(op));
    // perf: no closure or fn.call per event.
    this.callArriveType = sim.on("workload.callArrive", (tag) => {
      const req = rq.live(tag);
      if (req >= 0) this.onCallArrive(req);
    });
    this.callReturnType = sim.on("workload.callReturn", (tag) => {
      const req = rq.live(tag);
      if (req >= 0) this.onCallReturn(req);
    });
    this.ingressArriveType = sim.on("workload.ingressArrive", (tag) => {
      const req = rq.live(tag);
      if (req >= 0) this.dispatch(req, rq.replica[req]);
    });
    this.ingressDoneType = sim.on("workload.ingressDone", (tag) => {
      const req = rq.live(tag);
      if (req >= 0) this.finish(req);
    });
    this.retryType = sim.on("workload.retry", (tag) => {
      const req = rq.live(tag);
      if (req >= 0) this.onRetry(req);
    });
    this.timeoutType = sim.on("workload.timeout", (tag) => {
      const req = rq.live(tag);
      if (req >= 0) this.onTimeout(req);
    });
    this.measurement = new Measurement(sim, model, options, this);
    allocColumns(this, OP_COLUMNS, 256);
    allocColumns(this, SERIAL_COLUMNS, 0);

    // Replicas, in service order.
    const programs = compilePrograms(s);
    const placed = programs.map((p) => (model.processes.get(p.key) ?? []).filter((n) => n !== NONE));
    allocColumns(this, REPLICA_COLUMNS, Math.max(1, placed.reduce((a, p) => a + p.length, 0)));
    programs.forEach((program, index) => {
      const svc = s.tenants[program.tenantIndex].services[program.serviceIndex];
      const nodes = placed[index];
      const replicas = new Int32Array(nodes.length);
      nodes.forEach((n, i) => (replicas[i] = this.addReplica(index, n)));
      this.services.push({
        ...program,
        measure: newServiceMeasure(program.key, stackOf(s, svc), svc.slo),
        replicas,
        balancer: new Balancer(
          program.balance,
          Random.fromKey(options.seed, "balance", program.key),
          () => this,
          (r) => this.inService[r] + this.queueLen[r],
          (r) => this.model.nodes.host[this.replicaNode[r]],
        ),
        parkedClients: [],
        base: Random.fromKey(options.seed, "requests", program.key).state,
        next: 0,
        expected: 0,
        nextState: new Int32Array(4),
      });
    });
    // Round-robin's endpoint order: hosts in turn, and on a host the layer nodes below it (a VM's replicas) in turn.
    const nodes = model.nodes;
    const below = (process: number): number => {
      let n = process;
      while (nodes.parent[n] !== nodes.host[n]) n = nodes.parent[n];
      return n;
    };
    for (const run of this.services) {
      run.balancer.setOrder(run.replicas.length, (slot) => nodes.host[this.replicaNode[run.replicas[slot]]], (slot) => below(this.replicaNode[run.replicas[slot]]));
    }
    this.syscallCost = Float64Array.from(model.hosts, (_, i) => model.hostRules[i].syscallCost ?? 0);
    // Replicas take requests once ready; hosts fail and are repaired.
    this.lifecycle = new Lifecycle(sim, model, this);
    this.jobPods = new JobPodReplays(sim, model, s, { warmup: options.warmup, end: this.end, windows: SERIES_WINDOWS }, this.hostsUsed);
    const clients = this.services.reduce((a, run) => a + run.clients, 0);
    this.clientService = new Int32Array(clients);
    this.clientIndex = new Int32Array(clients);
    this.clientK = new Float64Array(clients);
    this.clientState = new Int32Array(clients * 4);
    this.clientNext = new Int32Array(clients).fill(NONE);

    // Start the load: first open-loop arrivals, then every client's first think.
    let c = 0;
    this.services.forEach((run, index) => {
      if (run.replicas.length === 0) return;
      if (run.rate > 0 || run.profile) this.scheduleArrival(index);
      for (let i = 0; i < run.clients; i++, c++) {
        this.clientService[c] = index;
        this.clientIndex[c] = i;
        this.scheduleClient(c);
      }
      for (const [at] of run.clientSteps ?? []) if (at > 0) sim.scheduleAt(this.clientsType, at, index);
    });
    this.measurement.scheduleWindows();
    if (TraceReplay.wanted(s)) this.traces = new TraceReplay(sim, model, s, this, options.warmup);
  }

  /** Requests in flight now (admitted or queued, not finished). */
  get inFlight(): number {
    return this.requests.inFlight;
  }

  /** The index of a failure reason (registered on first use). */
  reason(name: string): number {
    let r = this.reasonIndex.get(name);
    if (r === undefined) {
      r = this.reasons.push(name) - 1;
      this.reasonIndex.set(name, r);
    }
    return r;
  }

  /**
   * The next arrival of an open load: an exponential gap at its rate, or with
   * a profile the next point of its non-homogeneous Poisson process (one unit
   * exponential from the request's stream, inverted through the profile).
   */
  private scheduleArrival(service: number): void {
    const run = this.services[service];
    Random.deriveInto(run.base, run.next, 0, run.nextState, 0);
    const rng = this.rng.load(run.nextState, 0);
    if (!run.profile) {
      const gap = rng.exp(1 / run.rate);
      this.rng.store(run.nextState, 0);
      this.sim.schedule(this.arrivalType, gap, service);
      return;
    }
    run.expected += rng.exp(1);
    this.rng.store(run.nextState, 0);
    const at = run.profile.inverse(run.expected, this.sim.now);
    if (at !== Infinity) this.sim.scheduleAt(this.arrivalType, Math.max(this.sim.now, at), service);
  }

  /** A closed-loop client thinks (and waits `extra` more), then issues its next request; above the count now, it waits for the count to rise. */
  scheduleClient(client: number, extra = 0): void {
    const service = this.clientService[client];
    const run = this.services[service];
    if (this.clientIndex[client] >= run.clientsActive) {
      run.idleClients.push(client);
      return;
    }
    Random.deriveInto(run.base, this.clientIndex[client], this.clientK[client] + 2 ** 32, this.clientState, client * 4);
    const t = run.think.sample(this.rng.load(this.clientState, client * 4));
    this.rng.store(this.clientState, client * 4);
    this.sim.schedule(this.clientType, t + extra, client);
  }

  private onArrival(service: number): void {
    const run = this.services[service];
    const req = this.newRequest(service, -1, run.nextState, 0);
    run.next++;
    this.scheduleArrival(service);
    this.route(req, this.pickReplica(run));
  }

  /**
   * Sends an attempt of request `req` to `replica` (-1: the service has no
   * endpoint, and the attempt fails at once): a root request through the
   * ingress, a call from its caller's replica. With a timeout, the caller or
   * client stops waiting after it. A dead replica nobody has taken out of the
   * balancer yet answers nothing: the attempt fails at once as unreachable,
   * or at its timeout.
   */
  private route(req: number, replica: number): void {
    const rq = this.requests;
    const run = this.services[rq.service[req]];
    rq.replica[req] = replica;
    if (replica < 0) {
      this.ended(req, NO_REPLICA, false, -1);
      return;
    }
    if (run.timeout !== Infinity) this.sim.schedule(this.timeoutType, run.timeout, rq.tag(req));
    if (this.replicaDown[replica]) {
      if (run.timeout === Infinity) this.ended(req, UNREACHABLE, false, replica);
      return;
    }
    const parent = rq.parent[req];
    if (parent < 0) this.enter(req, replica);
    else this.message(req, rq.replica[parent], replica, this.services[rq.service[parent]].callRequest[rq.step[parent]], this.callArriveType);
  }

  /**
   * A retry's backoff is over: the attempt is routed by the balancer, to
   * another host than the attempt before it if it can be (its caller must
   * still be waiting).
   */
  private onRetry(req: number): void {
    const rq = this.requests;
    const parent = rq.parent[req];
    if (parent >= 0 && rq.gen[parent] !== rq.parentGen[req]) {
      rq.release(req);
      return;
    }
    const run = this.services[rq.service[req]];
    const failed = rq.replica[req];
    this.route(req, run.balancer.pick(run.replicas, failed >= 0 ? this.model.nodes.host[this.replicaNode[failed]] : -1));
  }

  /**
   * An attempt's timeout: its caller or client gives up on it (and retries, or
   * the request fails), while the attempt goes on, abandoned: its work is
   * wasted. One that reached no one (a dead replica) is over.
   */
  private onTimeout(req: number): void {
    const rq = this.requests;
    if (rq.abandoned[req]) return;
    const run = this.services[rq.service[req]];
    if (rq.measured[req]) {
      run.measure.timeouts++;
      this.lifecycle.countInWindows(rq.service[req], 1);
    }
    rq.abandoned[req] = 1;
    this.giveUp(req, TIMED_OUT, false, rq.replica[req]);
    if (!rq.at[req] && this.replicaDown[rq.replica[req]]) rq.release(req);
  }

  /**
   * A root request enters through the ingress: with a NIC on its replica's host,
   * its request bytes cross it (and the path's network adders and hooks) first.
   */
  private enter(req: number, replica: number): void {
    const rq = this.requests;
    rq.replica[req] = replica;
    const node = this.replicaNode[replica];
    const host = this.model.nodes.host[node];
    if (!this.model.net.hasNic(host)) {
      this.dispatch(req, replica);
      return;
    }
    const bytes = this.services[rq.service[req]].ingressRequest;
    const pl = this.pipeline;
    pl.begin();
    pl.pass(NET_OP, node, req, bytes, false, false, RECEIVE);
    this.afterPipeline(req, GO_MESSAGE, EXTERNAL, host, bytes, this.ingressArriveType, rq.tag(req));
  }

  /** Records the last window boundary (the kernel stops before events at the end time). */
  closeWindows(): void {
    this.measurement.onWindow(SERIES_WINDOWS);
  }

  private onClient(client: number): void {
    const service = this.clientService[client];
    const run = this.services[service];
    // The count fell while it thought: it stops before issuing (its next request keeps its numbers).
    if (this.clientIndex[client] >= run.clientsActive) {
      run.idleClients.push(client);
      return;
    }
    // Sticky: client i goes to replica i mod R while it is ready, else to one the balancing picks.
    const sticky = run.replicas[this.clientIndex[client] % run.replicas.length];
    const replica = this.replicaReady[sticky] ? sticky : this.pickReplica(run);
    if (replica < 0) {
      // None is ready: the client waits for one (without issuing; its next request keeps its numbers).
      run.parkedClients.push(client);
      return;
    }
    const req = this.newRequest(service, client, this.clientState, client * 4);
    this.clientK[client]++;
    this.route(req, replica);
  }

  /**
   * A clients profile reaches a point: the count is the point's; clients
   * below it that waited think and issue again, those above it stop after
   * the request they are on.
   */
  private onClientsChange(service: number): void {
    const run = this.services[service];
    run.clientsActive = clientsAt(run.clientSteps!, this.sim.now);
    const idle = run.idleClients;
    run.idleClients = [];
    for (const c of idle) this.scheduleClient(c);
  }

  /** An endpoint of the service by its balancing policy, or -1 when it has none. */
  private pickReplica(run: ServiceRun): number {
    return run.balancer.pick(run.replicas);
  }

  // --- replicas ---

  /** Adds a replica of `service` on process node `node`; returns its index. */
  addReplica(service: number, node: number): number {
    const r = this.replicaCount++;
    if (r === this.replicaNode.length) growColumns(this, REPLICA_COLUMNS, r * 2);
    this.replicaNode[r] = node;
    this.replicaService[r] = service;
    this.queues.push(new Int32Array(4));
    this.replicaOfNode.set(node, r);
    this.hostsUsed.add(this.model.nodes.host[node]);
    return r;
  }

  /** A replica takes requests (it is ready). */
  setReady(r: number): void {
    const run = this.services[this.replicaService[r]];
    this.replicaReady[r] = 1;
    this.traces?.ready(r);
    run.balancer.add(r);
    while (run.parkedClients.length > 0) this.scheduleClient(run.parkedClients.shift()!);
  }

  /** A replica takes no more requests. */
  notReady(r: number): void {
    if (!this.replicaReady[r]) return;
    this.services[this.replicaService[r]].balancer.remove(r);
    this.replicaReady[r] = 0;
  }

  /**
   * Replicas stop (their host or a layer above them failed, or restarts): they
   * serve no more requests, and the requests on them fail with `reason` (their
   * callers and clients retry, or fail). `routable`: they died without anyone
   * noticing, and stay in their balancers until `unroute`. With `freeMemory`,
   * what those requests allocated is given back to the model (the tree is
   * still there).
   */
  stopReplicas(replicas: readonly number[], reason: number, freeMemory: boolean, routable = false): void {
    const parkedClients: number[] = [];
    const down = new Set(replicas);
    for (const r of replicas) {
      if (routable) this.replicaReady[r] = 0;
      else this.notReady(r);
      this.replicaDown[r] = 1;
      this.traces?.stopped(r);
      this.inService[r] = 0;
      this.queueLen[r] = 0;
      while (this.parkedHead[r] !== NONE) parkedClients.push(this.unpark(r));
    }
    const rq = this.requests;
    for (let q = 0; q < rq.count; q++) if (rq.at[q] && down.has(rq.replica[q])) this.failLost(q, reason, freeMemory);
    for (const c of parkedClients) this.scheduleClient(c);
  }

  /** A dead replica leaves its service's balancer (its failure was detected, or its readiness probe failed). */
  unroute(r: number): void {
    this.services[this.replicaService[r]].balancer.remove(r);
  }

  /** A request on a stopped replica fails at once (its caller or client retries, or fails too). */
  private failLost(req: number, reason: number, freeMemory: boolean): void {
    const rq = this.requests;
    // Its CPU work stopped with its node (the model aborted it); a pending timer is cancelled.
    if (rq.timer[req] >= 0) this.sim.cancel(rq.timer[req]);
    if (rq.alloc[req] > 0) {
      if (freeMemory) this.model.memory.allocate(this.model.nodes.parent[this.replicaNode[rq.replica[req]]], -rq.alloc[req]);
      rq.alloc[req] = 0; // else the host's memory is gone with it
    }
    rq.at[req] = 0;
    this.ended(req, reason, false, rq.replica[req]);
  }

  /**
   * An attempt of request `req` ended without completing: it failed with
   * `reason` or was dropped. Its caller or client retries the request, or the
   * request has failed (`giveUp`); the attempt is released. An abandoned
   * attempt (timed out) concerns nobody any more.
   */
  private ended(req: number, reason: number, dropped: boolean, replica: number): void {
    const rq = this.requests;
    if (!rq.abandoned[req]) this.giveUp(req, reason, dropped, replica);
    rq.release(req);
  }

  /**
   * The caller or client of attempt `req` gives up on it. While the service's
   * retries last, a new attempt goes out after its backoff (to another pick
   * of the balancer); else the request has failed (or was dropped): counted,
   * its caller fails, and a closed-loop client goes on (a dropped one waits
   * for its replica to finish a request). `req` itself is left as it is.
   */
  private giveUp(req: number, reason: number, dropped: boolean, replica: number): void {
    const rq = this.requests;
    const run = this.services[rq.service[req]];
    const parent = rq.parent[req];
    const parentAlive = parent >= 0 && rq.gen[parent] === rq.parentGen[req];
    // No retry for a call whose caller failed meanwhile: no one waits for it.
    if (rq.attempt[req] < run.retries && (parent < 0 || parentAlive)) {
      const next = this.nextAttempt(req);
      if (rq.measured[req]) run.measure.retries++;
      this.sim.schedule(this.retryType, run.backoff, rq.tag(next));
      return;
    }
    if (dropped) {
      if (rq.measured[req]) run.measure.dropped++;
    } else if (!rq.recorded[req]) this.countFailure(req, reason);
    const client = rq.client[req];
    if (parentAlive) this.fail(parent, dropped ? CALL_DROPPED : CALL_FAILED);
    else if (parent < 0 && client >= 0) {
      // A closed-loop client whose request was dropped waits until its replica finishes a request, then thinks and
      // tries again (retrying at once could repeat forever within one instant when think is 0).
      if (dropped && replica >= 0 && !this.replicaDown[replica]) this.park(replica, client);
      else this.scheduleClient(client, RETRY_AFTER_FAILURE);
    }
  }

  /** A new attempt of request `req`: the same request (its service, caller or client, arrival, numbers), one more try. */
  private nextAttempt(req: number): number {
    const rq = this.requests;
    const n = rq.take();
    rq.service[n] = rq.service[req];
    rq.client[n] = rq.client[req];
    rq.arrival[n] = rq.arrival[req];
    rq.parent[n] = rq.parent[req];
    rq.parentGen[n] = rq.parentGen[req];
    rq.measured[n] = rq.measured[req];
    rq.attempt[n] = rq.attempt[req] + 1;
    rq.replica[n] = rq.replica[req]; // the replica it failed on, which the retry avoids
    for (let i = 0; i < 4; i++) {
      rq.key[n * 4 + i] = rq.key[req * 4 + i];
      rq.rng[n * 4 + i] = rq.key[req * 4 + i]; // the same work as the first attempt's
    }
    this.resetAttempt(n);
    const run = this.services[rq.service[n]];
    if (rq.measured[n] && rq.client[n] !== CALLED) run.measure.ingressBytes += run.ingressRequest;
    return n;
  }

  /** An attempt's progress, from the start. */
  private resetAttempt(req: number): void {
    const rq = this.requests;
    rq.step[req] = 0;
    rq.work[req] = 0;
    rq.ioTime[req] = 0;
    rq.alloc[req] = 0;
    rq.callTime[req] = 0;
    rq.recorded[req] = 0;
    rq.abandoned[req] = 0;
    rq.at[req] = 0;
  }

  /** Requests arrived after the warm-up and not yet completed, failed or dropped, per service. */
  inFlightMeasured(): number[] {
    const rq = this.requests;
    const counts = this.services.map(() => 0);
    const free = rq.freeIds();
    for (let q = 0; q < rq.count; q++) if (!free.has(q) && rq.measured[q] && !rq.recorded[q] && !rq.abandoned[q]) counts[rq.service[q]]++;
    return counts;
  }

  /** A new request; it is measured when it arrives after the warm-up (a call: when its caller is measured). */
  private newRequest(service: number, client: number, state: Int32Array, offset: number, measured = this.sim.now >= this.options.warmup): number {
    const rq = this.requests;
    const req = rq.take();
    rq.service[req] = service;
    rq.client[req] = client;
    rq.arrival[req] = this.sim.now;
    rq.parent[req] = -1;
    rq.attempt[req] = 0;
    this.resetAttempt(req);
    for (let i = 0; i < 4; i++) {
      rq.rng[req * 4 + i] = state[offset + i];
      rq.key[req * 4 + i] = state[offset + i];
    }
    rq.measured[req] = measured ? 1 : 0;
    const m = this.services[service].measure;
    if (measured) {
      m.arrived++;
      if (client !== CALLED) m.ingressBytes += this.services[service].ingressRequest;
    }
    return req;
  }

  private dispatch(req: number, replica: number): void {
    const rq = this.requests;
    const run = this.services[rq.service[req]];
    // A draining replica is out of its balancer but still serves what was on its way to it (a planned restart).
    if (!this.replicaReady[replica] && !(this.draining[replica] && !this.replicaDown[replica])) {
      // Its replica died (or stopped) while the request travelled to it.
      this.ended(req, this.endpoint[replica] ? UNREACHABLE : NO_REPLICA, false, replica);
      return;
    }
    rq.replica[req] = replica;
    rq.at[req] = 1;
    if (this.inService[replica] < run.threads) {
      this.inService[replica]++;
      if (run.balance === LEAST_OUTSTANDING) run.balancer.loadChanged(replica);
      this.runStep(req);
    } else if (this.queueLen[replica] < run.queueCap) {
      this.enqueue(replica, req);
      if (run.balance === LEAST_OUTSTANDING) run.balancer.loadChanged(replica);
    } else {
      rq.at[req] = 0;
      this.ended(req, CALL_DROPPED, true, replica);
    }
  }

  /** Counts a failed request of a measured service under reason `reason`. */
  private countFailure(req: number, reason: number): void {
    const rq = this.requests;
    if (!rq.measured[req]) return;
    const m = this.services[rq.service[req]].measure;
    m.failed++;
    m.failedBy[reason] = (m.failedBy[reason] ?? 0) + 1;
    this.lifecycle.countInWindows(rq.service[req], 0);
    this.lifecycle.rollout?.failed();
  }

  /**
   * A request's attempt fails with `reason`: it gives back its thread and its
   * memory, and its caller or client retries or fails in turn (`ended`).
   */
  private fail(req: number, reason: number): void {
    const rq = this.requests;
    if (rq.at[req]) this.leaveReplica(req);
    this.ended(req, reason, false, rq.replica[req]);
  }

  /** A call step: a request for the callee goes over the network to one of its replicas; the caller's thread waits. */
  private startCall(req: number, run: ServiceRun, step: number): void {
    const rq = this.requests;
    const calleeIndex = run.callTarget[step];
    rq.stepStart[req] = this.sim.now;
    // The callee request's numbers come from a stream keyed by its caller's key and the call's position.
    for (let i = 0; i < 4; i++) this.keyScratch[i] = rq.key[req * 4 + i];
    const state = this.callState;
    Random.deriveInto(this.keyScratch, step, CALL_KEY, state, 0);
    const c = this.newRequest(calleeIndex, CALLED, state, 0, rq.measured[req] === 1);
    rq.parent[c] = req;
    rq.parentGen[c] = rq.gen[req];
    this.route(c, this.pickReplica(this.services[calleeIndex]));
  }

  /**
   * A message of request `req` between the processes of two replicas: both
   * ends pass the pipeline (the sender's, then the receiver's), then the
   * network carries it; `doneType` fires with the request's tag on delivery.
   */
  private message(req: number, fromReplica: number, toReplica: number, bytes: number, doneType: number): void {
    const m = this.model;
    const from = this.replicaNode[fromReplica];
    const to = this.replicaNode[toReplica];
    const pl = m.pipeline;
    pl.begin();
    pl.pass(NET_OP, from, req, bytes, false, false, SEND, to);
    pl.pass(NET_OP, to, req, bytes, false, false, RECEIVE, from);
    this.afterPipeline(req, GO_MESSAGE, m.nodes.host[from], m.nodes.host[to], bytes, doneType, this.requests.tag(req));
  }

  private onCallArrive(c: number): void {
    this.requests.arrival[c] = this.sim.now;
    this.dispatch(c, this.requests.replica[c]);
  }

  /** The callee's response reached the caller: the call step is done. */
  private onCallReturn(c: number): void {
    const rq = this.requests;
    const parent = rq.parent[c];
    if (rq.abandoned[c] || rq.gen[parent] !== rq.parentGen[c]) {
      rq.release(c); // the caller gave up on it, or failed, meanwhile
      return;
    }
    const caller = rq.service[parent];
    const elapsed = this.sim.now - rq.stepStart[parent];
    rq.callTime[parent] += elapsed;
    if (rq.measured[parent]) {
      const key = caller * this.services.length + rq.service[c];
      const e = this.edges.get(key);
      if (e) {
        e.count++;
        e.latency += elapsed;
      } else {
        this.edges.set(key, { count: 1, latency: elapsed });
      }
    }
    rq.release(c);
    this.onStepDone(parent);
  }

  private runStep(req: number): void {
    const rq = this.requests;
    const run = this.services[rq.service[req]];
    const step = rq.step[req];
    if (step === run.kinds.length) {
      this.complete(req);
      return;
    }
    const kind = run.kinds[step];
    if (kind === IO) {
      this.startIo(req, run, step);
      return;
    }
    if (kind === CALL) {
      this.startCall(req, run, step);
      return;
    }
    if (kind === MEM) {
      this.memStep(req);
      return;
    }
    const rng = this.rng.load(rq.rng, req * 4);
    const x = run.dists[step].sample(rng);
    rng.store(rq.rng, req * 4);
    if (kind === CPU) {
      // The work is known as the step starts (the request's stream is its own, so the number is the same whenever it
      // is drawn); the path's latency (a wake-up) passes before the work starts.
      const pl = this.pipeline;
      pl.begin();
      pl.pass(CPU_OP, this.replicaNode[rq.replica[req]], req, x, false, false, NO_DIRECTION);
      this.afterPipeline(req, GO_CPU, 0, 0, x, 0, 0);
      return;
    }
    if (kind === SYSCALL) {
      // n system calls on the request's thread: CPU work of n times the host's syscall cost.
      const calls = Math.round(x);
      const node = this.replicaNode[rq.replica[req]];
      const pl = this.pipeline;
      pl.begin();
      pl.pass(SYSCALL_OP, node, req, calls, false, false, NO_DIRECTION);
      this.afterPipeline(req, GO_CPU, 0, 0, calls * this.syscallCost[this.model.nodes.host[node]], 0, 0);
      return;
    }
    rq.timer[req] = this.sim.schedule(this.stepType, x, rq.tag(req));
  }

  /**
   * The one place an operation meets the result of its path: rejected, its
   * request fails with the reason; with charges to wait for, it waits in an
   * operation slot; else it goes on now (after its delay). `bytes` is a
   * message's or an I/O's size, or a cpu or syscall step's work; for a
   * message, `from`/`to` are hosts, `type`/`payload` its delivery event.
   */
  private afterPipeline(req: number, go: number, from: number, to: number, bytes: number, type: number, payload: number): void {
    const pl = this.pipeline;
    if (pl.waiting === 0 && pl.rejected < 0) {
      pl.startCharges(NONE, 0);
      this.proceed(req, go, from, to, bytes, type, payload, pl.delay);
      return;
    }
    if (pl.rejected >= 0) {
      this.rejected(req, go, pl.reasons[pl.rejected]);
      return;
    }
    const op = this.newOp(req, go, bytes);
    this.opFrom[op] = from;
    this.opTo[op] = to;
    this.opType[op] = type;
    this.opPayload[op] = payload;
    this.opDelay[op] = pl.delay;
    this.opCharges[op] = pl.waiting;
    pl.startCharges(this.chargedType, op);
  }

  /** An operation goes on, `delay` after now. */
  private proceed(req: number, go: number, from: number, to: number, bytes: number, type: number, payload: number, delay: number): void {
    if (go === GO_CPU) {
      // (bytes: the step's work)
      if (delay > 0) {
        this.requests.amount[req] = bytes;
        this.requests.timer[req] = this.sim.schedule(this.cpuStartType, delay, this.requests.tag(req));
      } else this.startCpu(req, bytes);
    } else if (go === GO_MEM) {
      this.applyMem(req);
      // The step takes the path's mem latency (a page fault's exit to the hypervisor, say).
      this.requests.timer[req] = this.sim.schedule(this.stepType, delay, this.requests.tag(req));
    } else {
      this.model.net.send(from, to, bytes, delay, type, payload);
    }
  }

  /** A layer rejected an operation of `req`: the request (for a response, its caller) fails with the reason. */
  private rejected(req: number, go: number, reason: string): void {
    this.failOperation(req, go, this.reason(reason));
  }

  /** An operation of `req` cannot go on: the request (for a response, its caller) fails with reason `r`. */
  private failOperation(req: number, go: number, r: number): void {
    const rq = this.requests;
    if (go === GO_MESSAGE && rq.recorded[req] && rq.parent[req] >= 0) {
      // A response that cannot leave: the callee is done (and counted so), its caller retries or fails.
      this.ended(req, r, false, rq.replica[req]);
      return;
    }
    this.fail(req, r);
  }

  /**
   * CPU work operations waited for was aborted (the node serving it stopped):
   * those operations cannot go on, and their requests fail with reason `r`
   * (a request at a stopped replica has failed already).
   */
  chargesLost(completions: readonly number[], r: number): void {
    for (let i = 0; i < completions.length; i += 2) {
      if (this.traces) this.traces.lost(completions[i], completions[i + 1]);
      if (completions[i] !== this.chargedType) continue;
      const op = completions[i + 1];
      const req = this.opReq[op];
      if (this.opGen[op] === this.requests.gen[req]) this.failOperation(req, this.opGo[op], r);
      // Its other charges, if any, find the request gone and free the slot when the last is done.
      if (--this.opCharges[op] === 0) this.freeOp(op);
    }
  }

  /** Charges an operation waited for are served: it goes on. */
  private onCharged(op: number): void {
    if (--this.opCharges[op] > 0) return;
    const req = this.opReq[op];
    if (this.opGen[op] !== this.requests.gen[req]) {
      this.freeOp(op); // its request failed meanwhile
      return;
    }
    const go = this.opGo[op];
    if (go === GO_IO) {
      this.submitIo(op);
      return;
    }
    this.opFree.push(op);
    this.proceed(req, go, this.opFrom[op], this.opTo[op], this.opBytes[op], this.opType[op], this.opPayload[op], this.opDelay[op]);
  }

  /** A cpu (or syscall) step's work `x` starts on a thread of its replica's process. */
  private startCpu(req: number, x: number): void {
    const rq = this.requests;
    rq.work[req] += x;
    const node = this.replicaNode[rq.replica[req]];
    this.model.cpu.start(node, x, this.pipeline.cpuFactor(node), this.stepType, rq.tag(req));
  }

  /** Issues the step's I/Os at once; each passes the path, then goes to the host's disk. */
  private startIo(req: number, run: ServiceRun, step: number): void {
    const rq = this.requests;
    const node = this.replicaNode[rq.replica[req]];
    const n = run.ioCount[step];
    const write = run.ioWrite[step] === 1;
    const random = run.ioRandom[step] === 1;
    rq.pending[req] = n;
    rq.stepStart[req] = this.sim.now;
    const gen = rq.gen[req];
    const pl = this.pipeline;
    // The sizes come from the request's stream in order (no hook draws from it).
    const rng = this.rng.load(rq.rng, req * 4);
    for (let i = 0; i < n && rq.gen[req] === gen; i++) {
      const bytes = run.dists[step].sample(rng);
      const op = this.newOp(req, GO_IO, bytes);
      pl.begin();
      pl.pass(IO_OP, node, req, bytes, write, random, NO_DIRECTION);
      if (pl.rejected >= 0) {
        rng.store(rq.rng, req * 4);
        this.opFree.push(op);
        this.rejected(req, GO_IO, pl.reasons[pl.rejected]);
        return;
      }
      this.opDelay[op] = pl.delay;
      this.opCharges[op] = pl.waiting;
      const serial = pl.serialNode;
      if (serial !== NONE) {
        if (serial >= this.serialBusy.length) growColumns(this, SERIAL_COLUMNS, Math.max(serial + 1, this.serialBusy.length * 2));
        this.opSerial[op] = serial;
        if (this.serialBusy[serial] === 1) {
          // Its back end serves another I/O: it waits its turn, its charges kept.
          this.opDeferred[op] = pl.deferCharges();
          this.opNext[op] = NONE;
          if (this.serialTail[serial] === NONE) this.serialHead[serial] = op;
          else this.opNext[this.serialTail[serial]] = op;
          this.serialTail[serial] = op;
          continue;
        }
        this.serialBusy[serial] = 1;
      }
      if (pl.waiting === 0) {
        pl.startCharges(NONE, 0);
        this.submitIo(op);
      } else {
        pl.startCharges(this.chargedType, op);
      }
    }
    rng.store(rq.rng, req * 4);
  }

  /**
   * An operation's slot is free; an I/O that held a serial back end hands it to the next I/O waiting there whose
   * request still runs (those whose request failed meanwhile are freed unstarted), or leaves it idle.
   */
  private freeOp(op: number): void {
    this.opFree.push(op);
    const serial = this.opSerial[op];
    if (serial === NONE) return;
    this.opSerial[op] = NONE;
    const pl = this.pipeline;
    for (let next = this.serialHead[serial]; next !== NONE; next = this.serialHead[serial]) {
      this.serialHead[serial] = this.opNext[next];
      if (this.serialHead[serial] === NONE) this.serialTail[serial] = NONE;
      const deferred = this.opDeferred[next];
      this.opDeferred[next] = NONE;
      if (this.opGen[next] !== this.requests.gen[this.opReq[next]]) {
        pl.startDeferred(deferred, NONE, 0, false);
        this.opSerial[next] = NONE;
        this.opFree.push(next);
        continue;
      }
      if (this.opCharges[next] === 0) {
        pl.startDeferred(deferred, NONE, 0);
        this.submitIo(next);
      } else {
        pl.startDeferred(deferred, this.chargedType, next);
      }
      return;
    }
    this.serialBusy[serial] = 0;
  }

  private submitIo(op: number): void {
    const rq = this.requests;
    const req = this.opReq[op];
    const run = this.services[rq.service[req]];
    const step = rq.step[req];
    const host = this.model.nodes.host[this.replicaNode[rq.replica[req]]];
    this.model.disk.submit(host, this.opBytes[op], run.ioRandom[step] === 1, run.ioWrite[step] === 1, this.opDelay[op], this.ioDoneType, op);
  }

  private onIoDone(op: number): void {
    const rq = this.requests;
    const req = this.opReq[op];
    this.freeOp(op);
    if (this.opGen[op] !== rq.gen[req]) return; // its request failed meanwhile
    if (--rq.pending[req] > 0) return;
    rq.ioTime[req] += this.sim.now - rq.stepStart[req];
    this.onStepDone(req);
  }

  /** A mem step passes its path; then its memory changes. */
  private memStep(req: number): void {
    const rq = this.requests;
    const run = this.services[rq.service[req]];
    const step = rq.step[req];
    const op = run.memOp[step];
    const pl = this.pipeline;
    pl.begin();
    pl.pass(MEM_OP, this.replicaNode[rq.replica[req]], req, run.memBytes[step], op === ALLOC, false, NO_DIRECTION);
    this.afterPipeline(req, GO_MEM, 0, 0, 0, 0, 0);
  }

  /** alloc, free or touch: the replica's memory changes at once; what a request allocates is freed when it ends. */
  private applyMem(req: number): void {
    const rq = this.requests;
    const run = this.services[rq.service[req]];
    const step = rq.step[req];
    const node = this.replicaNode[rq.replica[req]];
    const bytes = run.memBytes[step];
    const op = run.memOp[step];
    const parent = this.model.nodes.parent[node];
    if (op === ALLOC) {
      this.model.memory.allocate(parent, bytes);
      rq.alloc[req] += bytes;
    } else if (op === FREE) {
      const freed = Math.min(bytes, rq.alloc[req]);
      this.model.memory.allocate(parent, -freed);
      rq.alloc[req] -= freed;
    }
    // touch: resident memory is used, not changed; under pressure its cost shows as the host's CPU slowdown.
  }

  private newOp(req: number, go: number, bytes: number): number {
    let op: number;
    if (this.opFree.length > 0) op = this.opFree.pop()!;
    else {
      if (this.opCount === this.opReq.length) growColumns(this, OP_COLUMNS, this.opCount * 2);
      op = this.opCount++;
    }
    this.opReq[op] = req;
    this.opGen[op] = this.requests.gen[req];
    this.opGo[op] = go;
    this.opBytes[op] = bytes;
    return op;
  }

  private onStepDone(req: number): void {
    this.requests.step[req]++;
    this.runStep(req);
  }

  /** The program is done at the replica: free the thread, then answer the caller or the external client. */
  private complete(req: number): void {
    const rq = this.requests;
    const parent = rq.parent[req];
    const replica = rq.replica[req];
    this.leaveReplica(req);
    if (rq.abandoned[req]) {
      // Done, but its caller or client gave up on it: the work was wasted.
      if (rq.measured[req]) this.services[rq.service[req]].measure.wasted++;
      rq.release(req);
      return;
    }
    if (parent >= 0) {
      // A called request is measured at its callee: from its arrival there to its end there.
      this.record(req);
      if (rq.gen[parent] !== rq.parentGen[req]) {
        rq.release(req); // its caller failed meanwhile: no one waits for the response
        return;
      }
      const step = rq.step[parent];
      this.message(req, replica, rq.replica[parent], this.services[rq.service[parent]].callResponse[step], this.callReturnType);
      return;
    }
    const node = this.replicaNode[replica];
    const host = this.model.nodes.host[node];
    if (this.model.net.hasNic(host)) {
      const bytes = this.services[rq.service[req]].ingressResponse;
      const pl = this.pipeline;
      pl.begin();
      pl.pass(NET_OP, node, req, bytes, false, false, SEND);
      this.afterPipeline(req, GO_MESSAGE, host, EXTERNAL, bytes, this.ingressDoneType, rq.tag(req));
    } else {
      this.finish(req);
    }
  }

  /** Gives back the request's thread (to the next queued request) and its memory. */
  private leaveReplica(req: number): void {
    const rq = this.requests;
    const replica = rq.replica[req];
    rq.at[req] = 0;
    if (this.replicaDown[replica]) return; // its replica stopped: nothing left to give back
    if (rq.alloc[req] > 0) this.model.memory.allocate(this.model.nodes.parent[this.replicaNode[replica]], -rq.alloc[req]);
    rq.alloc[req] = 0;
    const run = this.services[this.replicaService[replica]];
    if (this.queueLen[replica] > 0) {
      const next = this.dequeue(replica);
      if (run.balance === LEAST_OUTSTANDING) run.balancer.loadChanged(replica);
      this.runStep(next);
    } else {
      this.inService[replica]--;
      if (run.balance === LEAST_OUTSTANDING) run.balancer.loadChanged(replica);
      if (this.draining[replica] && this.inService[replica] === 0) this.lifecycle.rollout!.idle(replica);
    }
    if (this.parkedHead[replica] !== NONE) this.scheduleClient(this.unpark(replica));
  }

  private park(replica: number, client: number): void {
    this.clientNext[client] = NONE;
    if (this.parkedTail[replica] === NONE) this.parkedHead[replica] = client;
    else this.clientNext[this.parkedTail[replica]] = client;
    this.parkedTail[replica] = client;
  }

  /** The first client parked on a replica, taken off its list. */
  private unpark(replica: number): number {
    const client = this.parkedHead[replica];
    this.parkedHead[replica] = this.clientNext[client];
    if (this.parkedHead[replica] === NONE) this.parkedTail[replica] = NONE;
    return client;
  }

  /** A root request's response reached its client: measure it, and the client goes on. */
  private finish(req: number): void {
    if (this.requests.abandoned[req]) {
      this.requests.release(req); // its client gave up on it on its way back
      return;
    }
    const client = this.requests.client[req];
    this.record(req);
    this.requests.release(req);
    if (client >= 0) this.scheduleClient(client);
  }

  private record(req: number): void {
    const rq = this.requests;
    rq.recorded[req] = 1;
    if (!rq.measured[req]) return;
    const run = this.services[rq.service[req]];
    const latency = this.measurement.record(run.measure, this.sim.now - rq.arrival[req]);
    this.lifecycle.rollout?.completed(rq.service[req], latency);
    const m = run.measure;
    if (rq.parent[req] < 0) m.egressBytes += run.ingressResponse;
    m.ioWait += rq.ioTime[req];
    m.callTime += rq.callTime[req];
    this.options.onRequest?.(m.key, latency, rq.work[req]);
  }

  private enqueue(replica: number, req: number): void {
    let q = this.queues[replica];
    const len = this.queueLen[replica];
    if (len === q.length) {
      const grown = new Int32Array(q.length * 2);
      for (let i = 0; i < len; i++) grown[i] = q[(this.queueHead[replica] + i) % q.length];
      this.queues[replica] = q = grown;
      this.queueHead[replica] = 0;
    }
    q[(this.queueHead[replica] + len) % q.length] = req;
    this.queueLen[replica] = len + 1;
  }

  private dequeue(replica: number): number {
    const q = this.queues[replica];
    const req = q[this.queueHead[replica]];
    this.queueHead[replica] = (this.queueHead[replica] + 1) % q.length;
    this.queueLen[replica]--;
    return req;
  }
}
