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
import { NONE } from "../tree/nodes.js";
import { grown } from "../util/typed.js";

const CPU = 0;
const SLEEP = 1;
const IO = 2;
const MEM = 3;
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
  /** Seconds measured requests spent in io steps. */
  ioWait: number;
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
  threads: number;
  queueCap: number;
  balance: number;
  replicas: Int32Array; // global replica indices
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
  /** Per host at the start of the measurement: seconds under memory pressure, and disk counters. */
  readonly pressureAtStart: Float64Array;
  readonly diskAtStart: { busyTime: number; completed: number; bytesRead: number; bytesWritten: number }[] = [];
  /** Busy core-seconds of all used hosts at each window boundary. */
  readonly windowBusy = new Float64Array(SERIES_WINDOWS + 1);
  readonly windowLength: number;
  readonly end: number;

  // Replicas.
  private readonly replicaNode: Int32Array;
  private readonly replicaService: Int32Array;
  private readonly inService: Int32Array;
  private readonly queues: Int32Array[];
  private readonly queueHead: Int32Array;
  private readonly queueLen: Int32Array;
  /** Closed-loop clients whose request was dropped, per replica, waiting for it to finish one. */
  private readonly parked: number[][];
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
  // I/O operations of io steps.
  private opReq = new Int32Array(256);
  private opBytes = new Float64Array(256);
  private opCharges = new Int32Array(256);
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

  private readonly rng = Random.fromKey(0);
  private readonly arrivalType: number;
  private readonly clientType: number;
  private readonly stepType: number;
  private readonly ioChargedType: number;
  private readonly ioDoneType: number;
  private readonly usedHosts: number[];

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
    this.stepType = sim.on("workload.step", (req) => this.onStepDone(req));
    this.ioChargedType = sim.on("workload.ioCharged", (op) => this.onIoCharged(op));
    this.ioDoneType = sim.on("workload.ioDone", (op) => this.onIoDone(op));
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
          },
          kinds: Int8Array.from(svc.request.map((st) => ("cpu" in st ? CPU : "sleep" in st ? SLEEP : "io" in st ? IO : MEM))),
          dists: svc.request.map((st) =>
            toDistribution("cpu" in st ? st.cpu : "sleep" in st ? st.sleep : "io" in st ? (st.io.read ?? st.io.write)! : 0),
          ),
          ioWrite: Int8Array.from(svc.request.map((st) => ("io" in st && st.io.write !== undefined ? 1 : 0))),
          ioRandom: Int8Array.from(svc.request.map((st) => ("io" in st && st.io.random ? 1 : 0))),
          ioCount: Int32Array.from(svc.request.map((st) => ("io" in st ? st.io.count : 0))),
          memOp: Int8Array.from(svc.request.map((st) => ("mem" in st ? MEM_OPS[Object.keys(st.mem)[0] as keyof typeof MEM_OPS] : 0))),
          memBytes: Float64Array.from(svc.request.map((st) => ("mem" in st ? (Object.values(st.mem)[0] as number) : 0))),
          threads: svc.threads ?? Infinity,
          queueCap: svc.queue,
          balance: BALANCE[svc.balance],
          replicas,
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
    this.replicaNode = Int32Array.from(nodes);
    this.replicaService = Int32Array.from(owners);
    this.inService = new Int32Array(nodes.length);
    this.queues = nodes.map(() => new Int32Array(4));
    this.parked = nodes.map(() => []);
    this.queueHead = new Int32Array(nodes.length);
    this.queueLen = new Int32Array(nodes.length);
    this.clientService = new Int32Array(clients);
    this.clientIndex = new Int32Array(clients);
    this.clientK = new Float64Array(clients);
    this.clientState = new Int32Array(clients * 4);
    this.usedHosts = [...new Set(nodes.map((n) => model.nodes.host[n]))];
    this.busyAtStart = new Float64Array(model.hosts.length);
    this.pressureAtStart = new Float64Array(model.hosts.length);
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

  private scheduleClient(client: number): void {
    const service = this.clientService[client];
    const run = this.services[service];
    Random.deriveInto(run.base, this.clientIndex[client], this.clientK[client] + 2 ** 32, this.clientState, client * 4);
    const t = run.think.sample(this.rng.load(this.clientState, client * 4));
    this.rng.store(this.clientState, client * 4);
    this.sim.schedule(this.clientType, t, client);
  }

  private onArrival(service: number): void {
    const run = this.services[service];
    const req = this.newRequest(service, -1, run.nextState, 0);
    run.next++;
    this.scheduleArrival(service);
    this.dispatch(req, this.pickReplica(run));
  }

  /** Records the last window boundary (the kernel stops before events at the end time). */
  closeWindows(): void {
    this.onWindow(SERIES_WINDOWS);
  }

  private onClient(client: number): void {
    const service = this.clientService[client];
    const run = this.services[service];
    const req = this.newRequest(service, client, this.clientState, client * 4);
    this.clientK[client]++;
    // Sticky: client i goes to replica i mod R.
    this.dispatch(req, run.replicas[this.clientIndex[client] % run.replicas.length]);
  }

  private pickReplica(run: ServiceRun): number {
    const n = run.replicas.length;
    if (run.balance === 0) return run.replicas[run.rr++ % n];
    if (run.balance === 1) return run.replicas[run.balanceRng.below(n)];
    let best = run.replicas[0];
    let bestLoad = Infinity;
    for (let i = 0; i < n; i++) {
      const r = run.replicas[i];
      const load = this.inService[r] + this.queueLen[r];
      if (load < bestLoad) {
        best = r;
        bestLoad = load;
      }
    }
    return best;
  }

  private newRequest(service: number, client: number, state: Int32Array, offset: number): number {
    let req: number;
    if (this.reqFree.length > 0) req = this.reqFree.pop()!;
    else {
      if (this.reqCount === this.reqService.length) this.growRequests();
      req = this.reqCount++;
    }
    this.reqService[req] = service;
    this.reqClient[req] = client;
    this.reqArrival[req] = this.sim.now;
    this.reqStep[req] = 0;
    this.reqWork[req] = 0;
    this.reqIoTime[req] = 0;
    this.reqAlloc[req] = 0;
    for (let i = 0; i < 4; i++) this.reqRng[req * 4 + i] = state[offset + i];
    const m = this.services[service].measure;
    if (this.sim.now >= this.options.warmup) {
      m.arrived++;
      m.ingressBytes += this.services[service].ingressRequest;
    }
    return req;
  }

  private dispatch(req: number, replica: number): void {
    const run = this.services[this.reqService[req]];
    this.reqReplica[req] = replica;
    if (this.inService[replica] < run.threads) {
      this.inService[replica]++;
      this.runStep(req);
    } else if (this.queueLen[replica] < run.queueCap) {
      this.enqueue(replica, req);
    } else {
      if (this.reqArrival[req] >= this.options.warmup) run.measure.dropped++;
      const client = this.reqClient[req];
      this.release(req);
      // A closed-loop client whose request was dropped waits until its replica finishes a request, then thinks and
      // tries again (retrying at once could repeat forever within one instant when think is 0).
      if (client >= 0) this.parked[replica].push(client);
    }
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
    const rng = this.rng.load(this.reqRng, req * 4);
    const x = run.dists[step].sample(rng);
    rng.store(this.reqRng, req * 4);
    if (kind === CPU) {
      this.reqWork[req] += x;
      this.model.startCpu(this.replicaNode[this.reqReplica[req]], x, this.stepType, req);
    } else {
      this.sim.schedule(this.stepType, x, req);
    }
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
    if (--this.opCharges[op] === 0) this.submitIo(op);
  }

  private submitIo(op: number): void {
    const req = this.opReq[op];
    const run = this.services[this.reqService[req]];
    const step = this.reqStep[req];
    const node = this.replicaNode[this.reqReplica[req]];
    const host = this.model.nodes.host[node];
    this.model.disk.submit(host, this.opBytes[op], run.ioRandom[step] === 1, run.ioWrite[step] === 1, this.model.latency(node, "io"), this.ioDoneType, op);
  }

  private onIoDone(op: number): void {
    const req = this.opReq[op];
    this.opFree.push(op);
    if (--this.reqPending[req] > 0) return;
    this.reqIoTime[req] += this.sim.now - this.reqStepStart[req];
    this.onStepDone(req);
  }

  /** alloc, free or touch: the replica's memory changes at once; what a request allocates is freed when it ends. */
  private memStep(req: number, run: ServiceRun, step: number): void {
    const node = this.replicaNode[this.reqReplica[req]];
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
    this.sim.schedule(this.stepType, 0, req);
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
      }
      op = this.opCount++;
    }
    this.opReq[op] = req;
    this.opBytes[op] = bytes;
    return op;
  }

  private onStepDone(req: number): void {
    this.reqStep[req]++;
    this.runStep(req);
  }

  private complete(req: number): void {
    const service = this.reqService[req];
    const run = this.services[service];
    const m = run.measure;
    const now = this.sim.now;
    const arrival = this.reqArrival[req];
    if (arrival >= this.options.warmup) {
      const latency = now - arrival;
      m.completed++;
      m.latencySum += latency;
      m.histogram.record(latency);
      if (latency > m.sloThreshold) m.sloViolations++;
      const w = Math.min(SERIES_WINDOWS - 1, Math.floor((now - this.options.warmup) / this.windowLength));
      m.windowCompleted[w]++;
      m.windowLatency[w] += latency;
      m.egressBytes += run.ingressResponse;
      m.ioWait += this.reqIoTime[req];
      this.options.onRequest?.(m.key, latency, this.reqWork[req]);
    }
    const replica = this.reqReplica[req];
    const client = this.reqClient[req];
    if (this.reqAlloc[req] > 0) this.model.changeMemory(this.replicaNode[replica], -this.reqAlloc[req]);
    this.release(req);
    if (this.queueLen[replica] > 0) this.runStep(this.dequeue(replica));
    else this.inService[replica]--;
    if (client >= 0) this.scheduleClient(client);
    if (this.parked[replica].length > 0) this.scheduleClient(this.parked[replica].shift()!);
  }

  private release(req: number): void {
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
      });
      this.throttledAtStart = this.throttledTime();
    }
    let busy = 0;
    for (const h of this.usedHosts) busy += this.model.cpu.busyCoreSeconds(h);
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
    this.reqRng = grown(this.reqRng, 4 * c);
  }
}
