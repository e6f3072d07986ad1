/**
 * Request programs, compiled once per replication from the scenario's
 * services into typed arrays: per step its kind, the distribution of its
 * amount (cpu work, sleep time, I/O size, system calls), its I/O flags, its
 * memory operation, its callee; per service its load, its limits and its
 * balancing policy. The workload reads these by index on every step.
 */
import type { Distribution } from "../random/distributions.js";
import { toDistribution } from "../scenario/distribution.js";
import type { Scenario, Service } from "../scenario/schema.js";
import { clientsAt, mostClients, RateProfile } from "./profile.js";

/** Step kinds. */
export const CPU = 0;
export const SLEEP = 1;
export const IO = 2;
export const MEM = 3;
export const CALL = 4;
export const SYSCALL = 5;
/** Memory operations of `mem` steps. */
export const ALLOC = 0;
export const FREE = 1;
export const TOUCH = 2;
const MEM_OPS = { alloc: ALLOC, free: FREE, touch: TOUCH } as const;
/** Balancing policies. */
export const ROUND_ROBIN = 0;
export const RANDOM = 1;
export const LEAST_OUTSTANDING = 2;
export const P2C = 3;
const BALANCE = { "round-robin": ROUND_ROBIN, random: RANDOM, "least-outstanding": LEAST_OUTSTANDING, p2c: P2C } as const;

/** One service's compiled program and load. */
export interface Program {
  /** `tenant/service`. */
  key: string;
  tenantIndex: number;
  serviceIndex: number;
  kinds: Int8Array;
  /** Per step: the distribution of its cpu work, sleep time, I/O size or system calls. */
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
  /** Open-loop rate (0 if none or a profile), or its profile; closed-loop clients and think time. */
  rate: number;
  profile: RateProfile | undefined;
  /** The most clients at once; with a clients profile, its points ([time, clients]) and the count now. */
  clients: number;
  clientSteps: [number, number][] | undefined;
  clientsActive: number;
  /** Clients above the count now, waiting for it to rise (in the order they stopped). */
  idleClients: number[];
  think: Distribution;
  ingressRequest: number;
  ingressResponse: number;
  /** Retries of its requests (0: none), each attempt's timeout (Infinity: none), the wait before a retry. */
  retries: number;
  timeout: number;
  backoff: number;
  /** Its readiness probe's period (Infinity: none) and failure threshold. */
  probePeriod: number;
  probeThreshold: number;
}

/** A closed load's clients profile points, or undefined for a constant count (and for other loads). */
function clientSteps(load: Service["load"]): [number, number][] | undefined {
  return load && "closed" in load && typeof load.closed.clients !== "number" ? load.closed.clients.steps : undefined;
}

function kindOf(step: Service["request"][number]): number {
  if ("cpu" in step) return CPU;
  if ("sleep" in step) return SLEEP;
  if ("io" in step) return IO;
  if ("mem" in step) return MEM;
  if ("syscall" in step) return SYSCALL;
  return CALL;
}

/** Every service's program, in scenario order (a service's index is its position here). */
export function compilePrograms(s: Scenario): Program[] {
  const programs: Program[] = [];
  s.tenants.forEach((tenant, ti) =>
    tenant.services.forEach((svc, si) => {
      const steps = svc.request;
      programs.push({
        key: `${tenant.name}/${svc.name}`,
        tenantIndex: ti,
        serviceIndex: si,
        kinds: Int8Array.from(steps.map(kindOf)),
        dists: steps.map((st) =>
          toDistribution("cpu" in st ? st.cpu : "sleep" in st ? st.sleep : "io" in st ? (st.io.read ?? st.io.write)! : "syscall" in st ? st.syscall : 0),
        ),
        ioWrite: Int8Array.from(steps.map((st) => ("io" in st && st.io.write !== undefined ? 1 : 0))),
        ioRandom: Int8Array.from(steps.map((st) => ("io" in st && st.io.random ? 1 : 0))),
        ioCount: Int32Array.from(steps.map((st) => ("io" in st ? st.io.count : 0))),
        memOp: Int8Array.from(steps.map((st) => ("mem" in st ? MEM_OPS[Object.keys(st.mem)[0] as keyof typeof MEM_OPS] : 0))),
        memBytes: Float64Array.from(steps.map((st) => ("mem" in st ? (Object.values(st.mem)[0] as number) : 0))),
        callTarget: new Int32Array(steps.length).fill(-1),
        callRequest: Float64Array.from(steps.map((st) => ("call" in st ? (st.call.request ?? 0) : 0))),
        callResponse: Float64Array.from(steps.map((st) => ("call" in st ? (st.call.response ?? 0) : 0))),
        threads: svc.threads ?? Infinity,
        queueCap: svc.queue,
        balance: BALANCE[svc.balance],
        rate: svc.load && "open" in svc.load && typeof svc.load.open.rate === "number" ? svc.load.open.rate : 0,
        profile: svc.load && "open" in svc.load && typeof svc.load.open.rate !== "number" ? new RateProfile(svc.load.open.rate) : undefined,
        clients: svc.load && "closed" in svc.load ? mostClients(svc.load.closed.clients) : 0,
        clientSteps: clientSteps(svc.load),
        clientsActive: svc.load && "closed" in svc.load ? clientsAt(clientSteps(svc.load) ?? [[0, mostClients(svc.load.closed.clients)]], 0) : 0,
        idleClients: [],
        think: toDistribution(svc.load && "closed" in svc.load ? svc.load.closed.think : 0),
        ingressRequest: svc.ingress?.request ?? 0,
        ingressResponse: svc.ingress?.response ?? 0,
        retries: svc.retry?.attempts ?? 0,
        timeout: svc.retry?.timeout ?? Infinity,
        backoff: svc.retry?.backoff ?? 0,
        probePeriod: svc.readiness?.period ?? Infinity,
        probeThreshold: svc.readiness?.failureThreshold ?? 1,
      });
    }),
  );
  // Callees by index, once every service has one.
  const byKey = new Map(programs.map((p, i) => [p.key, i]));
  s.tenants.forEach((tenant) =>
    tenant.services.forEach((svc) => {
      const program = programs[byKey.get(`${tenant.name}/${svc.name}`)!];
      svc.request.forEach((st, k) => {
        if ("call" in st) program.callTarget[k] = byKey.get(st.call.service)!;
      });
    }),
  );
  return programs;
}
