/**
 * Size of a scenario: what `turtles validate` summarises, and the memory
 * estimate that refuses a model too big for the machine before it runs.
 *
 * The estimate counts the model's entities and charges each the bytes of the
 * columns the engine keeps for it: a node row (tree, solver and extension
 * slots, about 128 B), a host's statistics (about 512 B), a service's two
 * latency histograms (about 60 KiB at 0.5% accuracy), a closed-loop client
 * (64 B) and one pending event per node and client (52 B, the kernel queue's
 * measured cost per pending event). Memory grows with the model, not with
 * simulated time (DESIGN.md, Kernel guarantees), so this is the whole bill
 * within a small factor.
 */
import type { Scenario } from "./schema.js";

const BYTES_PER_HOST = 512;
const BYTES_PER_NODE = 128;
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
  explain: string;
}

function totals(s: Scenario): { hosts: number; replicas: number; clients: number; nodes: number; services: number } {
  const hosts = s.hosts.reduce((a, h) => a + h.count, 0);
  let replicas = 0;
  let clients = 0;
  let services = 0;
  let layerNodes = 0;
  for (const t of s.tenants) {
    for (const svc of t.services) {
      services++;
      replicas += svc.replicas;
      if (svc.load && "closed" in svc.load) clients += svc.load.closed.clients;
      const layers = s.stacks[svc.stack ?? s.defaults.stack ?? ""] ?? [];
      // Per-replica layers add a node per replica; shared layers at most as many (packing makes fewer).
      layerNodes += layers.length * svc.replicas;
    }
  }
  return { hosts, replicas, clients, services, nodes: hosts + replicas + layerNodes };
}

export function estimateScenario(s: Scenario): Estimate {
  const t = totals(s);
  const bytes =
    t.hosts * BYTES_PER_HOST +
    t.nodes * (BYTES_PER_NODE + BYTES_PER_PENDING_EVENT) +
    t.services * BYTES_PER_SERVICE +
    t.clients * (BYTES_PER_CLIENT + BYTES_PER_PENDING_EVENT);
  return { bytes, explain: `${t.hosts} hosts, ${t.nodes} nodes, ${t.services} services, ${t.clients} clients` };
}

export function summarizeScenario(s: Scenario): ScenarioSummary {
  const t = totals(s);
  let cores = 0;
  let memory = 0;
  for (const h of s.hosts) {
    const type = s.hostTypes[h.type] as { cores?: number; memory?: number };
    cores += (type.cores ?? 0) * h.count;
    memory += (type.memory ?? 0) * h.count;
  }
  const stacks = new Set<string>();
  let openRate = 0;
  for (const tenant of s.tenants) {
    for (const svc of tenant.services) {
      stacks.add(svc.stack ?? s.defaults.stack ?? "baremetal");
      if (svc.load && "open" in svc.load) openRate += svc.load.open.rate;
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
