/**
 * Size of a scenario: what `turtles validate` summarises, and the memory
 * estimate that refuses a model too big for the machine before it runs.
 *
 * The estimate charges each entity what a built replication measurably costs
 * at its peak (typed columns grow by doubling, so the peak holds a copy):
 * fitted to builds of 1e5 to 1e6 hosts and replicas (`node dist/bench/estimate.js`
 * prints, per size, the peak RSS a build adds beside the estimate: 1.03x to 1.30x
 * in its last run, the most at the smallest size, where fixed costs weigh). Of that, the
 * V8 heap holds about 300 B per host and per replica (the rest is typed
 * arrays outside it), which the heap limit bounds on its own. A service adds
 * its two latency histograms (about 60 KiB), a closed-loop client 64 B and a
 * pending event (52 B, the kernel queue's measured cost). Memory grows with
 * the model, not with simulated time (DESIGN.md, Kernel guarantees).
 */
import { own } from "../util/own.js";
import { stackLayers } from "./load.js";
import type { Scenario } from "./schema.js";
import { meanRate, mostClients } from "../workload/profile.js";
import { MAX_REQUESTS_IN_FLIGHT } from "../workload/requests.js";

const BYTES_PER_HOST = 700;
const BYTES_PER_REPLICA = 800;
const BYTES_PER_LAYER_NODE = 400;
const HEAP_BYTES_PER_HOST = 320;
const HEAP_BYTES_PER_REPLICA = 300;
const HEAP_BYTES_PER_LAYER_NODE = 40;
const BYTES_PER_SERVICE = 60 * 1024;
const BYTES_PER_CLIENT = 64;
const BYTES_PER_PENDING_EVENT = 52;

export interface ScenarioSummary {
  name: string;
  hosts: number;
  hostTypes: number;
  cores: number;
  memory: number;
  stacks: string[];
  tenants: number;
  services: number;
  replicas: number;
  clients: number;
  /** Arrival rate of open-loop load over all services, per second. */
  openRate: number;
  duration: number;
  warmup: number;
  replications: number;
  estimatedBytes: number;
}

export interface Estimate {
  bytes: number;
  /** The part of `bytes` in the JavaScript heap (bounded by the engine's heap limit, not only by the machine). */
  heapBytes: number;
  explain: string;
}

function totals(s: Scenario): { hosts: number; replicas: number; clients: number; nodes: number; layerNodes: number; services: number } {
  const hosts = s.hosts.reduce((a, h) => a + h.count, 0);
  let replicas = 0;
  let clients = 0;
  let services = 0;
  let layerNodes = 0;
  for (const t of s.tenants) {
    for (const svc of t.services) {
      services++;
      replicas += svc.replicas;
      if (svc.load && "closed" in svc.load) clients += mostClients(svc.load.closed.clients);
      const layers = stackLayers(s, svc);
      // Per-replica layers add a node per replica; shared layers at most as many (packing makes fewer).
      layerNodes += layers.length * svc.replicas;
    }
  }
  return { hosts, replicas, clients, services, layerNodes, nodes: hosts + replicas + layerNodes };
}

export function estimateScenario(s: Scenario): Estimate {
  const t = totals(s);
  const heapBytes = t.hosts * HEAP_BYTES_PER_HOST + t.replicas * HEAP_BYTES_PER_REPLICA + t.layerNodes * HEAP_BYTES_PER_LAYER_NODE;
  const bytes =
    t.hosts * BYTES_PER_HOST +
    t.replicas * BYTES_PER_REPLICA +
    t.layerNodes * BYTES_PER_LAYER_NODE +
    t.services * BYTES_PER_SERVICE +
    t.clients * (BYTES_PER_CLIENT + BYTES_PER_PENDING_EVENT);
  return { bytes, heapBytes, explain: `${t.hosts} hosts, ${t.nodes} nodes, ${t.services} services, ${t.clients} clients` };
}

export function summarizeScenario(s: Scenario): ScenarioSummary {
  const t = totals(s);
  let cores = 0;
  let memory = 0;
  for (const h of s.hosts) {
    const type = own(s.hostTypes, h.type) as { cores?: number; memory?: number };
    cores += (type.cores ?? 0) * h.count;
    memory += (type.memory ?? 0) * h.count;
  }
  const stacks = new Set<string>();
  let openRate = 0;
  for (const tenant of s.tenants) {
    for (const svc of tenant.services) {
      stacks.add(svc.stack ?? s.defaults.stack ?? "baremetal");
      if (svc.load && "open" in svc.load) openRate += meanRate(svc.load.open.rate, s.warmup + s.duration);
    }
  }
  return {
    name: s.name,
    hosts: t.hosts,
    hostTypes: Object.keys(s.hostTypes).length,
    cores,
    memory,
    stacks: [...stacks].sort(),
    tenants: s.tenants.length,
    services: t.services,
    replicas: t.replicas,
    clients: t.clients,
    openRate,
    duration: s.duration,
    warmup: s.warmup,
    replications: s.replications,
    estimatedBytes: estimateScenario(s).bytes,
  };
}

/** `1.5 GiB`, `512 KiB`, `20 B`. */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(n < 10 ? 1 : 0)} ${units[i]}`;
}

/**
 * Why a scenario's closed-loop clients could hold more requests in flight at
 * once than a replication can (each client's request, and one for each call
 * down its longest chain of calls); undefined when they cannot. Calls are
 * resolved and acyclic (the load's cross-checks have run).
 */
export function clientsInFlightProblem(s: Scenario): string | undefined {
  const programs = new Map<string, Scenario["tenants"][number]["services"][number]["request"]>(s.tenants.flatMap((t) => t.services.map((svc) => [`${t.name}/${svc.name}`, svc.request] as const)));
  const depths = new Map<string, number>();
  const depth = (key: string): number => {
    let d = depths.get(key);
    if (d === undefined) {
      d = 1;
      for (const step of programs.get(key) ?? []) if ("call" in step) d = Math.max(d, 1 + depth(step.call.service));
      depths.set(key, d);
    }
    return d;
  };
  let most = 0;
  for (const t of s.tenants) {
    for (const svc of t.services) if (svc.load && "closed" in svc.load) most += mostClients(svc.load.closed.clients) * depth(`${t.name}/${svc.name}`);
  }
  if (most <= MAX_REQUESTS_IN_FLIGHT) return undefined;
  return `closed-loop clients could hold ${most} requests in flight at once (each client's request and its calls), more than the ${MAX_REQUESTS_IN_FLIGHT} a replication holds; use fewer clients`;
}