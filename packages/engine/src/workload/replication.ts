/**
 * One replication of a scenario: requests arrive (open-loop Poisson per
 * service, or closed-loop clients with think time), are balanced over the
 * service's replicas, wait FIFO for a thread, run their program of `cpu` and
 * `sleep` steps through the model (CPU on the fair-share solver), and are
 * measured once the warm-up is over (DESIGN.md, Requests and operations).
 *
 * Common random numbers: every number a request needs (its arrival gap or
 * think time, then its steps in order) comes from its own stream, keyed by
 * (replication seed, service, request index) or (replication seed, service,
 * client, k), so the same request sees the same demand on any stack and under
 * any routing. Routing draws (balance: random) have a stream of their own.
 *
 * All request state is in typed columns; event payloads are request, service
 * or client indices.
 */
import type { Simulation } from "../kernel/simulation.js";
import type { Model } from "../model/model.js";
import type { Distribution } from "../random/distributions.js";
import { Random } from "../random/random.js";
import { toDistribution } from "../scenario/distribution.js";
import type { Scenario } from "../scenario/schema.js";
import { stackOf } from "../scenario/load.js";
import { ScenarioError } from "../scenario/problems.js";
import { LogHistogram } from "../stats/histogram.js";
import { EXTERNAL } from "../net/network.js";
import { OP_KINDS } from "../plugin/define.js";
import { NONE } from "../tree/nodes.js";
import { grown } from "../util/typed.js";

const CPU = 0;
const SLEEP = 1;
const IO = 2;
const MEM = 3;
const CALL = 4;
/** Path latencies per replica, and where each operation kind's is (`OP_KINDS` order). */
const OPS = OP_KINDS.length;
const CPU_OP = OP_KINDS.indexOf("cpu");
const MEM_OP = OP_KINDS.indexOf("mem");
const IO_OP = OP_KINDS.indexOf("io");
const NET = OP_KINDS.indexOf("net");
/**
 * Event payloads that name a request carry its generation too (10 bits above
 * its 21-bit index): a request failed by a host failure is released while its
 * I/Os and messages are still in flight, and their events must then be ignored.
 */
const REQ_BITS = 21;
const REQ_MASK = (1 << REQ_BITS) - 1;
const GEN_MASK = 1023;
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
const MEM_OPS = { alloc: 0, free: 1, touch: 2 } as const;
const BALANCE = { "round-robin": 0, random: 1, "least-outstanding": 2 } as const;
/** Windows of the time series over the measured duration. */
export const SERIES_WINDOWS = 60;

/** What one service measured in one replication. */
export interface ServiceMeasure {
  key: string;
  stack: string;
  arrived: number;
  completed: number;
  dropped: number;
  failed: number;
  latencySum: number;
  histogram: LogHistogram;
  sloThreshold: number;
  sloViolations: number;
  /** Completions and latency sums per series window. */
  windowCompleted: Float64Array;
  windowLatency: Float64Array;
  ingressBytes: number;
  egressBytes: number;
  /** Seconds measured requests spent in io steps, and waiting for calls. */
  ioWait: number;
  callTime: number;
}

interface ServiceRun {
  measure: ServiceMeasure;
  kinds: Int8Array;
  /** Per step: the distribution of its cpu work, sleep time or I/O size. */
  dists: Distribution[];
  /** Per io step: write, random, concurrent count; per mem step: the operation and its bytes. */
  ioWrite: Int8Array;
  ioRandom: Int8Array;
  ioCount: Int32Array;
  memOp: Int8Array;
  memBytes: Float64Array;
  /** Per call step: the callee's service index and the request and response bytes. */
  callTarget: Int32Array;
  callRequest: Float64Array;
  callResponse: Float64Array;
  threads: number;
  queueCap: number;
  balance: number;
  replicas: Int32Array; // global replica indices, one slot per scenario replica (a re-placed replica takes its slot)
  ready: number[]; // replicas that take requests now
  parkedClients: number[]; // closed-loop clients waiting for a replica to be ready
  tenantIndex: number;
  serviceIndex: number;
  rr: number;
  rate: number; // open-loop rate, 0 if none
  think: Distribution; // closed-loop think time
  base: Int32Array; // stream key base of its requests
  next: number; // open-loop: index of the next request
  nextState: Int32Array; // open-loop: the next request's stream, already started (its gap drawn)
  balanceRng: Random;
  ingressRequest: number;
  ingressResponse: number;
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

export class Replication {
  readonly services: ServiceRun[] = [];
  /** Busy core-seconds of each host at the start of the measurement. */
  readonly busyAtStart: Float64Array;
  /** Seconds CFS groups had spent throttled at the start of the measurement. */
  throttledAtStart = 0;
  /** Steal core-seconds of guest kernels at the start of the measurement. */
  stealAtStart = 0;
  /** Per host at the start of the measurement: seconds under memory pressure, and disk counters. */
  readonly pressureAtStart: Float64Array;
  readonly diskAtStart: { busyTime: number; completed: number; bytesRead: number; bytesWritten: number }[] = [];
  readonly nicAtStart: { txBusy: number; rxBusy: number; bytesSent: number; bytesReceived: number }[] = [];
  /** Busy core-seconds of all used hosts at each window boundary. */
  readonly windowBusy = new Float64Array(SERIES_WINDOWS + 1);
  readonly windowLength: number;
  readonly end: number;

  // Replicas.
  private replicaNode: Int32Array;
  private replicaService: Int32Array;
  /**
   * The one-way latency a replica's path adds to each operation kind
   * (`OPS` per replica, in `OP_KINDS` order), copied once from its process's
   * path record (static for the process's life: a re-placed replica is a new
   * one). perf: no lookup by operation name per message.
   */
  private replicaDelay: Float64Array;
  private inService: Int32Array;
  private readonly queues: Int32Array[];
  private queueHead: Int32Array;
  private queueLen: Int32Array;
  /**
   * Closed-loop clients whose request was dropped, per replica, waiting for it
   * to finish one: a FIFO linked through `clientNext` (perf: a typed head per
   * replica instead of an array each, whose check on every finished request
   * reached a scattered object).
   */
  private parkedHead: Int32Array;
  private parkedTail: Int32Array;
  private replicaReady: Int8Array;
  private replicaDown: Int8Array;
  private readyIndex: Int32Array; // position in its service's ready list, or -1
  private readonly replicaOfNode = new Map<number, number>();
  // Lifecycle.
  /** Seconds from the start to ready, of each replica placed at the start. */
  readonly readyTimes: number[] = [];
  /** Seconds from a host failure to a lost replica ready again elsewhere. */
  readonly recoveries: number[] = [];
  /** Each host failure: when, when detected and repaired, replicas lost and recovered. */
  readonly failures: { host: number; at: number; detected: number | null; repaired: number | null; replicas: number; recovered: number; lost: number[] }[] = [];
  private readonly recoveringSince = new Map<number, number>(); // new replica -> failure time
  private readonly waiting: { service: number; slot: number; since: number }[] = [];
  /** Core-seconds of failed hosts within the measurement. */
  capacityLost = 0;
  private readonly downSince = new Map<number, number>();
  private readonly failureRngs: Random[] = [];
  /** Each host's pending random failure event (one sequence per host). */
  private readonly nextFailure = new Map<number, number>();
  private readonly scriptedType: number;
  // Requests.
  private reqService = new Int32Array(1024);
  private reqReplica = new Int32Array(1024);
  private reqStep = new Int32Array(1024);
  private reqClient = new Int32Array(1024);
  private reqArrival = new Float64Array(1024);
  private reqWork = new Float64Array(1024);
  private reqPending = new Int32Array(1024); // I/Os of the current io step not yet done
  private reqStepStart = new Float64Array(1024);
  private reqIoTime = new Float64Array(1024);
  private reqAlloc = new Float64Array(1024); // bytes the request holds (freed when it ends)
  private reqParent = new Int32Array(1024); // the calling request, or -1 for a root request
  private reqParentGen = new Int32Array(1024); // the caller's generation when it called
  private reqKey = new Int32Array(1024 * 4); // the request's stream key (its first state), for its calls' keys
  private reqCallTime = new Float64Array(1024);
  private reqMeasured = new Int8Array(1024); // arrived after the warm-up
  private reqGen = new Int32Array(1024); // bumped on release
  private reqAt = new Int8Array(1024); // 1 while at its replica (in service or queued)
  private reqRecorded = new Int8Array(1024); // counted as completed (a call whose response is still travelling)
  private reqActivity = new Int32Array(1024).fill(-1); // its running CPU activity
  private reqTimer = new Float64Array(1024).fill(-1); // its pending sleep event
  // I/O operations of io steps.
  private opReq = new Int32Array(256);
  private opBytes = new Float64Array(256);
  private opCharges = new Int32Array(256);
  private opGen = new Int32Array(256);
  private opFree: number[] = [];
  private opCount = 0;
  private reqRng = new Int32Array(1024 * 4);
  private reqFree: number[] = [];
  private reqCount = 0;
  // Closed-loop clients.
  private readonly clientService: Int32Array;
  private readonly clientIndex: Int32Array; // index within its service
  private readonly clientK: Float64Array; // requests issued so far
  private readonly clientState: Int32Array; // the next request's stream (think time drawn)
  private readonly clientNext: Int32Array; // the next client parked on the same replica

  private readonly rng = Random.fromKey(0);
  private readonly arrivalType: number;
  private readonly clientType: number;
  private readonly stepType: number;
  private readonly cpuStartType: number;
  private readonly readyType: number;
  private readonly failType: number;
  private readonly detectType: number;
  private readonly repairType: number;
  private readonly repairDist: Distribution | undefined;
  private readonly ioChargedType: number;
  private readonly ioDoneType: number;
  private readonly callArriveType: number;
  private readonly callReturnType: number;
  private readonly ingressArriveType: number;
  private readonly ingressDoneType: number;
  private readonly keyScratch = new Int32Array(4);
  /** Calls per edge (caller service * services + callee service): count and summed latency. */
  readonly edges = new Map<number, { count: number; latency: number }>();

  constructor(
    private readonly sim: Simulation,
    private readonly model: Model,
    private readonly scenario: Scenario,
    private readonly options: ReplicationOptions,
  ) {
    const s = scenario;
    this.end = options.warmup + options.duration;
    this.windowLength = options.duration / SERIES_WINDOWS;
    this.arrivalType = sim.on("workload.arrival", (svc) => this.onArrival(svc));
    this.clientType = sim.on("workload.client", (client) => this.onClient(client));
    this.stepType = sim.on("workload.step", (tag) => {
      const req = this.live(tag);
      if (req < 0) return;
      this.reqTimer[req] = -1;
      this.reqActivity[req] = -1;
      this.onStepDone(req);
    });
    this.cpuStartType = sim.on("workload.cpuStart", (tag) => {
      const req = this.live(tag);
      if (req < 0) return;
      this.reqTimer[req] = -1;
      this.startCpu(req);
    });
    this.ioChargedType = sim.on("workload.ioCharged", (op) => this.onIoCharged(op));
    this.ioDoneType = sim.on("workload.ioDone", (op) => this.onIoDone(op));
    // perf: no closure or fn.call per event.
    this.callArriveType = sim.on("workload.callArrive", (tag) => {
      const req = this.live(tag);
      if (req >= 0) this.onCallArrive(req);
    });
    this.callReturnType = sim.on("workload.callReturn", (tag) => {
      const req = this.live(tag);
      if (req >= 0) this.onCallReturn(req);
    });
    this.ingressArriveType = sim.on("workload.ingressArrive", (tag) => {
      const req = this.live(tag);
      if (req >= 0) this.dispatch(req, this.reqReplica[req]);
    });
    this.ingressDoneType = sim.on("workload.ingressDone", (tag) => {
      const req = this.live(tag);
      if (req >= 0) this.finish(req);
    });
    const windowType = sim.on("workload.window", (w) => this.onWindow(w));

    // Replicas, in service order.
    const nodes: number[] = [];
    const owners: number[] = [];
    let clients = 0;
    s.tenants.forEach((tenant) =>
      tenant.services.forEach((svc) => {
        const key = `${tenant.name}/${svc.name}`;
        const index = this.services.length;
        const placed = (model.processes.get(key) ?? []).filter((p) => p !== NONE);
        const replicas = new Int32Array(placed.length);
        placed.forEach((p, i) => {
          replicas[i] = nodes.length;
          nodes.push(p);
          owners.push(index);
        });
        const slo = svc.slo ? Math.min(...Object.values(svc.slo).filter((v): v is number => v !== undefined)) : Infinity;
        this.services.push({
          measure: {
            key,
            stack: stackOf(s, svc),
            arrived: 0,
            completed: 0,
            dropped: 0,
            failed: 0,
            latencySum: 0,
            histogram: new LogHistogram(),
            sloThreshold: slo,
            sloViolations: 0,
            windowCompleted: new Float64Array(SERIES_WINDOWS),
            windowLatency: new Float64Array(SERIES_WINDOWS),
            ingressBytes: 0,
            egressBytes: 0,
            ioWait: 0,
            callTime: 0,
          },
          kinds: Int8Array.from(svc.request.map((st) => ("cpu" in st ? CPU : "sleep" in st ? SLEEP : "io" in st ? IO : "mem" in st ? MEM : CALL))),
          dists: svc.request.map((st) =>
            toDistribution("cpu" in st ? st.cpu : "sleep" in st ? st.sleep : "io" in st ? (st.io.read ?? st.io.write)! : 0),
          ),
          ioWrite: Int8Array.from(svc.request.map((st) => ("io" in st && st.io.write !== undefined ? 1 : 0))),
          ioRandom: Int8Array.from(svc.request.map((st) => ("io" in st && st.io.random ? 1 : 0))),
          ioCount: Int32Array.from(svc.request.map((st) => ("io" in st ? st.io.count : 0))),
          memOp: Int8Array.from(svc.request.map((st) => ("mem" in st ? MEM_OPS[Object.keys(st.mem)[0] as keyof typeof MEM_OPS] : 0))),
          memBytes: Float64Array.from(svc.request.map((st) => ("mem" in st ? (Object.values(st.mem)[0] as number) : 0))),
          // Callees are resolved once every service has an index (below).
          callTarget: new Int32Array(svc.request.length).fill(-1),
          callRequest: Float64Array.from(svc.request.map((st) => ("call" in st ? (st.call.request ?? 0) : 0))),
          callResponse: Float64Array.from(svc.request.map((st) => ("call" in st ? (st.call.response ?? 0) : 0))),
          threads: svc.threads ?? Infinity,
          queueCap: svc.queue,
          balance: BALANCE[svc.balance],
          replicas,
          ready: [],
          parkedClients: [],
          tenantIndex: s.tenants.indexOf(tenant),
          serviceIndex: tenant.services.indexOf(svc),
          rr: 0,
          rate: svc.load && "open" in svc.load ? svc.load.open.rate : 0,
          think: toDistribution(svc.load && "closed" in svc.load ? svc.load.closed.think : 0),
          base: Random.fromKey(options.seed, "requests", key).state,
          next: 0,
          nextState: new Int32Array(4),
          balanceRng: Random.fromKey(options.seed, "balance", key),
          ingressRequest: svc.ingress?.request ?? 0,
          ingressResponse: svc.ingress?.response ?? 0,
        });
        if (svc.load && "closed" in svc.load) clients += svc.load.closed.clients;
      }),
    );
    const byKey = new Map(this.services.map((run, i) => [run.measure.key, i]));
    s.tenants.forEach((tenant) =>
      tenant.services.forEach((svc) => {
        const run = this.services[byKey.get(`${tenant.name}/${svc.name}`)!];
        svc.request.forEach((st, k) => {
          if ("call" in st) run.callTarget[k] = byKey.get(st.call.service)!;
        });
      }),
    );
    this.replicaNode = Int32Array.from(nodes);
    this.replicaDelay = new Float64Array(nodes.length * OPS);
    nodes.forEach((n, r) => this.copyDelays(r, n));
    this.replicaService = Int32Array.from(owners);
    this.inService = new Int32Array(nodes.length);
    this.queues = nodes.map(() => new Int32Array(4));
    this.parkedHead = new Int32Array(nodes.length).fill(NONE);
    this.parkedTail = new Int32Array(nodes.length).fill(NONE);
    this.queueHead = new Int32Array(nodes.length);
    this.queueLen = new Int32Array(nodes.length);
    this.replicaReady = new Int8Array(nodes.length);
    this.replicaDown = new Int8Array(nodes.length);
    this.readyIndex = new Int32Array(nodes.length).fill(-1);
    nodes.forEach((n, r) => this.replicaOfNode.set(n, r));
    // Replicas take requests once ready (their stack's provisioning and a process start from t = 0).
    this.readyType = sim.on("lifecycle.ready", (r) => this.onReplicaReady(r));
    nodes.forEach((n, r) => sim.scheduleAt(this.readyType, Math.max(sim.now, model.readyAt[n]), r, -1));
    this.failType = sim.on("lifecycle.hostFail", (h) => this.onHostFail(h));
    this.detectType = sim.on("lifecycle.detect", (f) => this.onDetect(f));
    this.repairType = sim.on("lifecycle.repair", (f) => this.onRepair(f));
    const fl = s.failures;
    model.hosts.forEach((_, i) => {
      this.failureRngs.push(Random.fromKey(options.seed, "failures", i));
        if (fl.hosts) this.nextFailure.set(i, sim.schedule(this.failType, this.failureRngs[i].exp(fl.hosts.mtbf), i));
    });
    // Scripted failures carry their own index (their repair is theirs, not the host's).
    this.scriptedType = sim.on("lifecycle.scriptedFail", (k) => this.onHostFail(fl.scripted[k].host, fl.scripted[k].repair));
    fl.scripted.forEach((f, k) => sim.scheduleAt(this.scriptedType, f.at, k));
    this.repairDist = fl.hosts ? toDistribution(fl.hosts.repair) : undefined;
    this.clientService = new Int32Array(clients);
    this.clientIndex = new Int32Array(clients);
    this.clientK = new Float64Array(clients);
    this.clientState = new Int32Array(clients * 4);
    this.clientNext = new Int32Array(clients).fill(NONE);
    for (const n of nodes) this.hostsUsed.add(model.nodes.host[n]);
    this.busyAtStart = new Float64Array(model.hosts.length);
    this.pressureAtStart = new Float64Array(model.hosts.length);
    // Calls cross hosts: with more than one host, every host type needs a NIC.
    if (model.hosts.length > 1 && this.services.some((run) => run.kinds.includes(CALL))) {
      const missing = [...new Set(s.hosts.filter((_, i) => !model.net.hasNic(model.hosts[s.hosts.slice(0, i).reduce((a, g) => a + g.count, 0)])).map((g) => g.type))];
      if (missing.length > 0) {
        throw new ScenarioError([
          {
            file: options.file ?? scenario.name,
            line: 0,
            column: 0,
            path: `hostTypes.${missing[0]}`,
            message: `services make calls and there are ${model.hosts.length} hosts, so a call can cross hosts (a NIC carries it): give this host type nic: { bandwidth, latency }`,
          },
        ]);
      }
    }
    // io steps need a disk on every host their replicas run on.
    this.services.forEach((run) => {
      if (!run.kinds.includes(IO)) return;
      for (const r of run.replicas) {
        const host = model.nodes.host[this.replicaNode[r]];
        if (!model.disk.has(host)) {
          const [tenant, service] = run.measure.key.split("/");
          throw new ScenarioError([
            {
              file: options.file ?? scenario.name,
              line: 0,
              column: 0,
              path: `tenants.${tenant}.services.${service}`,
              message: `has io steps, but host ${model.hosts.indexOf(host)} it runs on has no disk: give its host type a disk ({ iops, bandwidth })`,
            },
          ]);
        }
      }
    });

    // Start the load: first open-loop arrivals, then every client's first think.
    let c = 0;
    let index = 0;
    s.tenants.forEach((tenant) =>
      tenant.services.forEach((svc) => {
        const run = this.services[index++];
        if (run.replicas.length === 0) return;
        if (run.rate > 0) this.scheduleArrival(index - 1);
        if (svc.load && "closed" in svc.load) {
          for (let i = 0; i < svc.load.closed.clients; i++, c++) {
            this.clientService[c] = index - 1;
            this.clientIndex[c] = i;
            this.scheduleClient(c);
          }
        }
      }),
    );
    for (let w = 0; w <= SERIES_WINDOWS; w++) sim.scheduleAt(windowType, options.warmup + w * this.windowLength, w, -1);
  }

  /** Requests in flight now (admitted or queued, not finished). */
  get inFlight(): number {
    return this.reqCount - this.reqFree.length;
  }


  private scheduleArrival(service: number): void {
    const run = this.services[service];
    Random.deriveInto(run.base, run.next, 0, run.nextState, 0);
    const gap = this.rng.load(run.nextState, 0).exp(1 / run.rate);
    this.rng.store(run.nextState, 0);
    this.sim.schedule(this.arrivalType, gap, service);
  }

  private scheduleClient(client: number, extra = 0): void {
    const service = this.clientService[client];
    const run = this.services[service];
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
    const replica = this.pickReplica(run);
    if (replica < 0) {
      // No replica is ready (all starting or lost): the request fails.
      if (this.reqMeasured[req]) run.measure.failed++;
      this.release(req);
      return;
    }
    this.enter(req, replica);
  }

  /**
   * A root request enters through the ingress: with a NIC on its replica's host,
   * its request bytes cross it (and the layers' network adders) first.
   */
  private enter(req: number, replica: number): void {
    this.reqReplica[req] = replica;
    const node = this.replicaNode[replica];
    const host = this.model.nodes.host[node];
    if (!this.model.net.hasNic(host)) {
      this.dispatch(req, replica);
      return;
    }
    this.model.runHooks("net", node, req);
    this.model.chargeOperation(node, "net");
    this.model.net.send(EXTERNAL, host, this.services[this.reqService[req]].ingressRequest, this.replicaDelay[replica * OPS + NET], this.ingressArriveType, this.tag(req));
  }

  /** The payload naming request `req` at its current generation. */
  private tag(req: number): number {
    return ((this.reqGen[req] & GEN_MASK) << REQ_BITS) | req;
  }

  /** The request a payload names, or -1 when that request has since been released. */
  private live(tag: number): number {
    const req = tag & REQ_MASK;
    return (this.reqGen[req] & GEN_MASK) === tag >>> REQ_BITS ? req : -1;
  }

  /** Records the last window boundary (the kernel stops before events at the end time). */
  closeWindows(): void {
    this.onWindow(SERIES_WINDOWS);
  }

  private onClient(client: number): void {
    const service = this.clientService[client];
    const run = this.services[service];
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
    this.enter(req, replica);
  }

  /** A ready replica of the service by its balancing policy, or -1 when none is ready. */
  private pickReplica(run: ServiceRun): number {
    const ready = run.ready;
    const n = ready.length;
    if (n === 0) return -1;
    if (run.balance === 0) return ready[run.rr++ % n];
    if (run.balance === 1) return ready[run.balanceRng.below(n)];
    let best = ready[0];
    let bestLoad = Infinity;
    for (let i = 0; i < n; i++) {
      const r = ready[i];
      const load = this.inService[r] + this.queueLen[r];
      if (load < bestLoad) {
        best = r;
        bestLoad = load;
      }
    }
    return best;
  }

  // --- lifecycle: readiness, host failures, detection, re-placement, repair ---

  private onReplicaReady(r: number): void {
    if (this.replicaDown[r]) return;
    this.model.nodeReady(this.replicaNode[r]);
    const run = this.services[this.replicaService[r]];
    this.replicaReady[r] = 1;
    this.readyIndex[r] = run.ready.length;
    run.ready.push(r);
    const since = this.recoveringSince.get(r);
    if (since === undefined) this.readyTimes.push(this.sim.now);
    else {
      this.recoveries.push(this.sim.now - since);
      this.recoveringSince.delete(r);
      const f = this.failures.find((x) => x.lost.includes(r));
      if (f) f.recovered++;
    }
    while (run.parkedClients.length > 0) this.scheduleClient(run.parkedClients.shift()!);
  }

  private notReady(r: number): void {
    if (!this.replicaReady[r]) return;
    const run = this.services[this.replicaService[r]];
    const i = this.readyIndex[r];
    const last = run.ready.pop()!;
    if (last !== r) {
      run.ready[i] = last;
      this.readyIndex[last] = i;
    }
    this.readyIndex[r] = -1;
    this.replicaReady[r] = 0;
  }

  /** A host fails: its replicas stop taking requests, the requests on them fail, and it is found after `detection`. */
  private onHostFail(h: number, scriptedRepair?: number): void {
    if (this.model.hostDown.has(h)) return;
    // Down hosts do not fail again; the random sequence resumes after the repair.
    const pending = this.nextFailure.get(h);
    if (pending !== undefined) this.sim.cancel(pending);
    this.nextFailure.delete(h);
    const now = this.sim.now;
    const lostNodes = this.model.failHost(h);
    const lost = lostNodes.map((n) => this.replicaOfNode.get(n)!).filter((r) => r !== undefined);
    const parkedClients: number[] = [];
    for (const r of lost) {
      this.notReady(r);
      this.replicaDown[r] = 1;
      this.inService[r] = 0;
      this.queueLen[r] = 0;
      while (this.parkedHead[r] !== NONE) parkedClients.push(this.unpark(r));
    }
    const down = new Set(lost);
    for (let q = 0; q < this.reqCount; q++) if (this.reqAt[q] && down.has(this.reqReplica[q])) this.failLost(q);
    for (const c of parkedClients) this.scheduleClient(c);
    this.downSince.set(h, now);
    this.failures.push({ host: h, at: now, detected: null, repaired: null, replicas: lost.length, recovered: 0, lost: [] });
    const index = this.failures.length - 1;
    this.sim.schedule(this.detectType, this.scenario.failures.detection, index);
    const repair = scriptedRepair ?? (this.repairDist ? this.repairDist.sample(this.failureRngs[h]) : undefined);
    if (repair !== undefined) this.sim.schedule(this.repairType, repair, index);
    this.lostByFailure.set(index, lost);
  }

  private readonly lostByFailure = new Map<number, number[]>();

  /** A request on a failed host fails at once; its caller fails too, a client goes on. */
  private failLost(req: number): void {
    if (this.reqMeasured[req]) this.services[this.reqService[req]].measure.failed++;
    if (this.reqTimer[req] >= 0) this.sim.cancel(this.reqTimer[req]);
    const parent = this.reqParent[req];
    const parentAlive = parent >= 0 && this.reqGen[parent] === this.reqParentGen[req];
    const client = this.reqClient[req];
    if (this.reqAlloc[req] > 0) this.reqAlloc[req] = 0; // the host's memory is gone with it
    this.release(req);
    if (parentAlive) this.fail(parent);
    else if (parent < 0 && client >= 0) this.scheduleClient(client, RETRY_AFTER_FAILURE);
  }

  /** The failure is found: the lost replicas are placed again on surviving hosts, or wait for a repair. */
  private onDetect(index: number): void {
    const f = this.failures[index];
    f.detected = this.sim.now;
    for (const r of this.lostByFailure.get(index) ?? []) {
      const service = this.replicaService[r];
      const run = this.services[service];
      const slot = run.replicas.indexOf(r);
      this.replace(service, slot, f.at, f);
    }
  }

  /** Places a lost replica's successor in its slot; false when nothing fits (it waits for a repair). */
  private replace(service: number, slot: number, since: number, f?: { lost: number[] }): boolean {
    const run = this.services[service];
    const node = this.model.placeReplica(run.tenantIndex, run.serviceIndex);
    if (node === NONE) {
      this.waiting.push({ service, slot, since });
      return false;
    }
    const r = this.addReplica(service, node);
    run.replicas[slot] = r;
    this.recoveringSince.set(r, since);
    const failure = f ?? this.failures.find((x) => x.at === since);
    failure?.lost.push(r);
    this.sim.scheduleAt(this.readyType, Math.max(this.sim.now, this.model.readyAt[node]), r, -1);
    return true;
  }

  private onRepair(index: number): void {
    const f = this.failures[index];
    f.repaired = this.sim.now;
    this.model.repairHost(f.host);
    const since = this.downSince.get(f.host)!;
    this.downSince.delete(f.host);
    this.addCapacityLost(f.host, since, this.sim.now);
    const waiting = this.waiting.splice(0);
    for (const w of waiting) this.replace(w.service, w.slot, w.since);
    if (this.scenario.failures.hosts) this.nextFailure.set(f.host, this.sim.schedule(this.failType, this.failureRngs[f.host].exp(this.scenario.failures.hosts.mtbf), f.host));
  }

  private addCapacityLost(host: number, from: number, to: number): void {
    const a = Math.max(from, this.options.warmup);
    const b = Math.min(to, this.end);
    if (b > a) this.capacityLost += this.model.hostRules[host].cores * (b - a);
  }

  /** Closes the down time of hosts still failed at the end. */
  closeLifecycle(): void {
    for (const [host, since] of this.downSince) this.addCapacityLost(host, since, this.end);
  }

  /** Requests arrived after the warm-up and not yet completed, failed or dropped, per service. */
  inFlightMeasured(): number[] {
    const counts = this.services.map(() => 0);
    const free = new Set(this.reqFree);
    for (let q = 0; q < this.reqCount; q++) if (!free.has(q) && this.reqMeasured[q] && !this.reqRecorded[q]) counts[this.reqService[q]]++;
    return counts;
  }

  private addReplica(service: number, node: number): number {
    const r = this.replicaNode.length;
    const c = r + 1;
    this.replicaNode = grown(this.replicaNode, c);
    this.replicaDelay = grown(this.replicaDelay, c * OPS);
    this.replicaService = grown(this.replicaService, c);
    this.inService = grown(this.inService, c);
    this.queueHead = grown(this.queueHead, c);
    this.queueLen = grown(this.queueLen, c);
    this.replicaReady = grown(this.replicaReady, c);
    this.replicaDown = grown(this.replicaDown, c);
    this.readyIndex = grown(this.readyIndex, c, -1);
    this.queues.push(new Int32Array(4));
    this.parkedHead = grown(this.parkedHead, c, NONE);
    this.parkedTail = grown(this.parkedTail, c, NONE);
    this.replicaNode[r] = node;
    this.copyDelays(r, node);
    this.replicaService[r] = service;
    this.replicaOfNode.set(node, r);
    this.hostsUsed.add(this.model.nodes.host[node]);
    return r;
  }

  /** Hosts that held a replica at some time of the run. */
  readonly hostsUsed = new Set<number>();

  /** A new request; it is measured when it arrives after the warm-up (a call: when its caller is measured). */
  private newRequest(service: number, client: number, state: Int32Array, offset: number, measured = this.sim.now >= this.options.warmup): number {
    let req: number;
    if (this.reqFree.length > 0) req = this.reqFree.pop()!;
    else {
      if (this.reqCount === this.reqService.length) this.growRequests();
      if (this.reqCount > REQ_MASK) throw new Error(`more than ${REQ_MASK + 1} requests in flight at once`);
      req = this.reqCount++;
    }
    this.reqService[req] = service;
    this.reqClient[req] = client;
    this.reqArrival[req] = this.sim.now;
    this.reqStep[req] = 0;
    this.reqWork[req] = 0;
    this.reqIoTime[req] = 0;
    this.reqAlloc[req] = 0;
    this.reqParent[req] = -1;
    this.reqCallTime[req] = 0;
    this.reqRecorded[req] = 0;
    for (let i = 0; i < 4; i++) {
      this.reqRng[req * 4 + i] = state[offset + i];
      this.reqKey[req * 4 + i] = state[offset + i];
    }
    this.reqMeasured[req] = measured ? 1 : 0;
    const m = this.services[service].measure;
    if (measured) {
      m.arrived++;
      if (client !== CALLED) m.ingressBytes += this.services[service].ingressRequest;
    }
    return req;
  }

  private dispatch(req: number, replica: number): void {
    const run = this.services[this.reqService[req]];
    if (!this.replicaReady[replica]) {
      // Its replica was lost while the request travelled to it.
      this.reqAt[req] = 0;
      this.fail(req);
      return;
    }
    this.reqReplica[req] = replica;
    this.reqAt[req] = 1;
    if (this.inService[replica] < run.threads) {
      this.inService[replica]++;
      this.runStep(req);
    } else if (this.queueLen[replica] < run.queueCap) {
      this.enqueue(replica, req);
    } else {
      if (this.reqMeasured[req]) run.measure.dropped++;
      const client = this.reqClient[req];
      const parent = this.reqParent[req];
      const parentAlive = parent >= 0 && this.reqGen[parent] === this.reqParentGen[req];
      this.release(req);
      // A dropped call fails its caller.
      if (parentAlive) this.fail(parent);
      else if (parent >= 0) return;
      // A closed-loop client whose request was dropped waits until its replica finishes a request, then thinks and
      // tries again (retrying at once could repeat forever within one instant when think is 0).
      else if (client >= 0) this.park(replica, client);
    }
  }

  /**
   * A request whose call failed: it fails too, giving back its thread and its
   * memory, and fails its own caller in turn; a closed-loop client goes on.
   */
  private fail(req: number): void {
    const run = this.services[this.reqService[req]];
    if (this.reqMeasured[req]) run.measure.failed++;
    const parent = this.reqParent[req];
    const parentAlive = parent >= 0 && this.reqGen[parent] === this.reqParentGen[req];
    const client = this.reqClient[req];
    if (this.reqAt[req]) this.leaveReplica(req);
    this.release(req);
    if (parentAlive) this.fail(parent);
    else if (parent < 0 && client >= 0) this.scheduleClient(client, RETRY_AFTER_FAILURE);
  }

  /** A call step: a request for the callee goes over the network to one of its replicas; the caller's thread waits. */
  private startCall(req: number, run: ServiceRun, step: number): void {
    const calleeIndex = run.callTarget[step];
    const callee = this.services[calleeIndex];
    this.reqStepStart[req] = this.sim.now;
    const replica = this.pickReplica(callee);
    if (replica < 0) {
      this.fail(req);
      return;
    }
    // The callee request's numbers come from a stream keyed by its caller's key and the call's position.
    for (let i = 0; i < 4; i++) this.keyScratch[i] = this.reqKey[req * 4 + i];
    const state = this.callState;
    Random.deriveInto(this.keyScratch, step, CALL_KEY, state, 0);
    const c = this.newRequest(calleeIndex, CALLED, state, 0, this.reqMeasured[req] === 1);
    this.reqParent[c] = req;
    this.reqParentGen[c] = this.reqGen[req];
    this.reqReplica[c] = replica;
    this.message(this.reqReplica[req], replica, run.callRequest[step], this.callArriveType, this.tag(c));
  }

  private readonly callState = new Int32Array(4);

  /** A message between the processes of two replicas: the layers' hooks, CPU and adders at both ends, and the network between. */
  private message(fromReplica: number, toReplica: number, bytes: number, doneType: number, payload: number): void {
    const m = this.model;
    const from = this.replicaNode[fromReplica];
    const to = this.replicaNode[toReplica];
    m.runHooks("net", from, payload);
    m.runHooks("net", to, payload);
    m.chargeOperation(from, "net");
    m.chargeOperation(to, "net");
    m.net.send(m.nodes.host[from], m.nodes.host[to], bytes, this.replicaDelay[fromReplica * OPS + NET] + this.replicaDelay[toReplica * OPS + NET], doneType, payload);
  }

  private onCallArrive(c: number): void {
    this.reqArrival[c] = this.sim.now;
    this.dispatch(c, this.reqReplica[c]);
  }

  /** The callee's response reached the caller: the call step is done. */
  private onCallReturn(c: number): void {
    const parent = this.reqParent[c];
    if (this.reqGen[parent] !== this.reqParentGen[c]) {
      this.release(c); // the caller failed meanwhile
      return;
    }
    const caller = this.reqService[parent];
    const elapsed = this.sim.now - this.reqStepStart[parent];
    this.reqCallTime[parent] += elapsed;
    if (this.reqMeasured[parent]) {
      const key = caller * this.services.length + this.reqService[c];
      const e = this.edges.get(key);
      if (e) {
        e.count++;
        e.latency += elapsed;
      } else {
        this.edges.set(key, { count: 1, latency: elapsed });
      }
    }
    this.release(c);
    this.onStepDone(parent);
  }

  private runStep(req: number): void {
    const run = this.services[this.reqService[req]];
    const step = this.reqStep[req];
    if (step === run.kinds.length) {
      this.complete(req);
      return;
    }
    const kind = run.kinds[step];
    if (kind === IO) {
      this.startIo(req, run, step);
      return;
    }
    if (kind === MEM) {
      this.memStep(req, run, step);
      return;
    }
    if (kind === CALL) {
      this.startCall(req, run, step);
      return;
    }
    if (kind === CPU) {
      // The layers' cpu hooks and charges run as the step starts; their latency (a wake-up) passes before its work does.
      const replica = this.reqReplica[req];
      const node = this.replicaNode[replica];
      this.model.runHooks("cpu", node, req);
      this.model.chargeOperation(node, "cpu");
      const delay = this.replicaDelay[replica * OPS + CPU_OP];
      if (delay > 0) this.reqTimer[req] = this.sim.schedule(this.cpuStartType, delay, this.tag(req));
      else this.startCpu(req);
      return;
    }
    const rng = this.rng.load(this.reqRng, req * 4);
    const x = run.dists[step].sample(rng);
    rng.store(this.reqRng, req * 4);
    this.reqTimer[req] = this.sim.schedule(this.stepType, x, this.tag(req));
  }

  /** Replica r's path latencies, from its process node's path record. */
  private copyDelays(r: number, node: number): void {
    OP_KINDS.forEach((op, k) => (this.replicaDelay[r * OPS + k] = this.model.latency(node, op)));
  }

  /** A cpu step's work starts on a thread of its replica's process. */
  private startCpu(req: number): void {
    const rng = this.rng.load(this.reqRng, req * 4);
    const x = this.services[this.reqService[req]].dists[this.reqStep[req]].sample(rng);
    rng.store(this.reqRng, req * 4);
    this.reqWork[req] += x;
    this.reqActivity[req] = this.model.startCpu(this.replicaNode[this.reqReplica[req]], x, this.stepType, this.tag(req));
  }

  /** Issues the step's I/Os at once; each runs the path's io hooks and charges, then goes to the host's disk. */
  private startIo(req: number, run: ServiceRun, step: number): void {
    const node = this.replicaNode[this.reqReplica[req]];
    const n = run.ioCount[step];
    this.reqPending[req] = n;
    this.reqStepStart[req] = this.sim.now;
    const rng = this.rng.load(this.reqRng, req * 4);
    for (let i = 0; i < n; i++) {
      const op = this.newOp(req, run.dists[step].sample(rng));
      this.model.runHooks("io", node, req);
      const charges = this.model.chargeOperation(node, "io", this.ioChargedType, op);
      this.opCharges[op] = charges;
      if (charges === 0) this.submitIo(op);
    }
    rng.store(this.reqRng, req * 4);
  }

  private onIoCharged(op: number): void {
    if (--this.opCharges[op] > 0) return;
    if (this.opGen[op] !== this.reqGen[this.opReq[op]]) {
      this.opFree.push(op); // its request failed meanwhile
      return;
    }
    this.submitIo(op);
  }

  private submitIo(op: number): void {
    const req = this.opReq[op];
    const run = this.services[this.reqService[req]];
    const step = this.reqStep[req];
    const replica = this.reqReplica[req];
    const host = this.model.nodes.host[this.replicaNode[replica]];
    this.model.disk.submit(host, this.opBytes[op], run.ioRandom[step] === 1, run.ioWrite[step] === 1, this.replicaDelay[replica * OPS + IO_OP], this.ioDoneType, op);
  }

  private onIoDone(op: number): void {
    const req = this.opReq[op];
    this.opFree.push(op);
    if (this.opGen[op] !== this.reqGen[req]) return; // its request failed meanwhile
    if (--this.reqPending[req] > 0) return;
    this.reqIoTime[req] += this.sim.now - this.reqStepStart[req];
    this.onStepDone(req);
  }

  /** alloc, free or touch: the replica's memory changes at once; what a request allocates is freed when it ends. */
  private memStep(req: number, run: ServiceRun, step: number): void {
    const replica = this.reqReplica[req];
    const node = this.replicaNode[replica];
    this.model.runHooks("mem", node, req);
    this.model.chargeOperation(node, "mem");
    const bytes = run.memBytes[step];
    const op = run.memOp[step];
    if (op === 0) {
      this.model.changeMemory(node, bytes);
      this.reqAlloc[req] += bytes;
    } else if (op === 1) {
      const freed = Math.min(bytes, this.reqAlloc[req]);
      this.model.changeMemory(node, -freed);
      this.reqAlloc[req] -= freed;
    }
    // touch: resident memory is used, not changed; under pressure its cost shows as the host's CPU slowdown.
    // The step takes the layers' mem latency (a page fault's exit to the hypervisor, say).
    this.reqTimer[req] = this.sim.schedule(this.stepType, this.replicaDelay[replica * OPS + MEM_OP], this.tag(req));
  }

  private newOp(req: number, bytes: number): number {
    let op: number;
    if (this.opFree.length > 0) op = this.opFree.pop()!;
    else {
      if (this.opCount === this.opReq.length) {
        const c = this.opCount * 2;
        this.opReq = grown(this.opReq, c);
        this.opBytes = grown(this.opBytes, c);
        this.opCharges = grown(this.opCharges, c);
        this.opGen = grown(this.opGen, c);
      }
      op = this.opCount++;
    }
    this.opReq[op] = req;
    this.opBytes[op] = bytes;
    this.opGen[op] = this.reqGen[req];
    return op;
  }

  private onStepDone(req: number): void {
    this.reqStep[req]++;
    this.runStep(req);
  }

  /** The program is done at the replica: free the thread, then answer the caller or the external client. */
  private complete(req: number): void {
    const parent = this.reqParent[req];
    const replica = this.reqReplica[req];
    this.leaveReplica(req);
    if (parent >= 0) {
      // A called request is measured at its callee: from its arrival there to its end there.
      this.record(req);
      if (this.reqGen[parent] !== this.reqParentGen[req]) {
        this.release(req); // its caller failed meanwhile: no one waits for the response
        return;
      }
      const step = this.reqStep[parent];
      this.message(replica, this.reqReplica[parent], this.services[this.reqService[parent]].callResponse[step], this.callReturnType, this.tag(req));
      return;
    }
    const node = this.replicaNode[replica];
    const host = this.model.nodes.host[node];
    if (this.model.net.hasNic(host)) {
      this.model.runHooks("net", node, req);
      this.model.chargeOperation(node, "net");
      this.model.net.send(host, EXTERNAL, this.services[this.reqService[req]].ingressResponse, this.replicaDelay[replica * OPS + NET], this.ingressDoneType, this.tag(req));
    } else {
      this.finish(req);
    }
  }

  /** Gives back the request's thread (to the next queued request) and its memory. */
  private leaveReplica(req: number): void {
    const replica = this.reqReplica[req];
    this.reqAt[req] = 0;
    if (this.replicaDown[replica]) return; // its host failed: nothing left to give back
    if (this.reqAlloc[req] > 0) this.model.changeMemory(this.replicaNode[replica], -this.reqAlloc[req]);
    this.reqAlloc[req] = 0;
    if (this.queueLen[replica] > 0) this.runStep(this.dequeue(replica));
    else this.inService[replica]--;
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
    const client = this.reqClient[req];
    this.record(req);
    this.release(req);
    if (client >= 0) this.scheduleClient(client);
  }

  private record(req: number): void {
    this.reqRecorded[req] = 1;
    if (!this.reqMeasured[req]) return;
    const run = this.services[this.reqService[req]];
    const m = run.measure;
    const now = this.sim.now;
    const latency = now - this.reqArrival[req];
    m.completed++;
    m.latencySum += latency;
    m.histogram.record(latency);
    if (latency > m.sloThreshold) m.sloViolations++;
    const w = Math.min(SERIES_WINDOWS - 1, Math.floor((now - this.options.warmup) / this.windowLength));
    m.windowCompleted[w]++;
    m.windowLatency[w] += latency;
    if (this.reqParent[req] < 0) m.egressBytes += run.ingressResponse;
    m.ioWait += this.reqIoTime[req];
    m.callTime += this.reqCallTime[req];
    this.options.onRequest?.(m.key, latency, this.reqWork[req]);
  }

  private release(req: number): void {
    this.reqGen[req]++;
    this.reqAt[req] = 0;
    this.reqFree.push(req);
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

  private onWindow(w: number): void {
    if (w === 0) {
      const m = this.model;
      m.hosts.forEach((h, i) => {
        this.busyAtStart[i] = m.cpu.busyCoreSeconds(h);
        this.pressureAtStart[i] = m.pressureSeconds(h);
        m.memoryPeak[i] = m.nodes.usedMemory[h];
        this.diskAtStart[i] = m.disk.has(h) ? m.disk.stats(h) : { busyTime: 0, completed: 0, bytesRead: 0, bytesWritten: 0 };
        this.nicAtStart[i] = m.net.hasNic(h) ? m.net.stats(h) : { txBusy: 0, rxBusy: 0, bytesSent: 0, bytesReceived: 0 };
      });
      this.throttledAtStart = this.throttledTime();
      this.stealAtStart = m.cpu.totalSteal();
    }
    let busy = 0;
    for (const h of this.hostsUsed) busy += this.model.cpu.busyCoreSeconds(h);
    this.windowBusy[w] = busy;
  }

  /** Seconds all CFS groups have spent throttled so far. */
  throttledTime(): number {
    let t = 0;
    for (let n = 0; n < this.model.nodes.count; n++) if (this.model.cpu.hasBandwidth(n)) t += this.model.cpu.bandwidthStats(n).throttledTime;
    return t;
  }

  private growRequests(): void {
    const c = this.reqService.length * 2;
    this.reqService = grown(this.reqService, c);
    this.reqReplica = grown(this.reqReplica, c);
    this.reqStep = grown(this.reqStep, c);
    this.reqClient = grown(this.reqClient, c);
    this.reqArrival = grown(this.reqArrival, c);
    this.reqWork = grown(this.reqWork, c);
    this.reqPending = grown(this.reqPending, c);
    this.reqStepStart = grown(this.reqStepStart, c);
    this.reqIoTime = grown(this.reqIoTime, c);
    this.reqAlloc = grown(this.reqAlloc, c);
    this.reqParent = grown(this.reqParent, c);
    this.reqParentGen = grown(this.reqParentGen, c);
    this.reqKey = grown(this.reqKey, 4 * c);
    this.reqCallTime = grown(this.reqCallTime, c);
    this.reqMeasured = grown(this.reqMeasured, c);
    this.reqGen = grown(this.reqGen, c);
    this.reqAt = grown(this.reqAt, c);
    this.reqRecorded = grown(this.reqRecorded, c);
    this.reqActivity = grown(this.reqActivity, c, -1);
    this.reqTimer = grown(this.reqTimer, c, -1);
    this.reqRng = grown(this.reqRng, 4 * c);
  }
}
