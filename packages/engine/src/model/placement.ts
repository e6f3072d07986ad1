/**
 * Placement (DESIGN.md, Placement and lifecycle): puts each replica, and the
 * shared layer nodes it needs, on the first up host in the scenario's policy
 * order (first-fit, best-fit, spread, with anti-affinity as a preference)
 * where its whole chain fits on cores and memory. Hosts are ranked in a
 * tournament tree, so a placement costs O(log hosts).
 */
import type { Model } from "./model.js";
import { memoryOvercommitRatio, type LayerEntry, type Scenario } from "../scenario/schema.js";
import { stackLayers, stackOf } from "../scenario/load.js";
import type { Resources } from "../plugin/define.js";
import { NONE } from "../tree/nodes.js";
import { formatBytes } from "../scenario/estimate.js";
import { Tournament } from "./tournament.js";

/**
 * Places replicas: for each, walks its stack from the outermost layer in,
 * reusing a shared node (per service, tenant or host) that still has room,
 * else creating one, on the first host in the placement policy's order where
 * the whole chain fits.
 */
export class Placement {
  lastFailure = "";
  /** Sharing key of each shared layer node. */
  private readonly keys = new Map<number, string>();
  /** The one node of each `per: ordinal` key: the same-numbered replicas of a tenant's services go into it, or nowhere. */
  private readonly ordinalNodes = new Map<string, number>();
  /** The replica number being placed (`per: ordinal` keys), or -1: one node per replica. */
  private ordinal = -1;

  constructor(
    private readonly model: Model,
    private readonly s: Scenario,
  ) {}

  /** Cores placement may reserve per host core (`placement.cpuOvercommit`, default 1). */
  private get cpuOvercommit(): number {
    return this.s.placement.cpuOvercommit ?? 1;
  }

  /** Layer nodes created for the replica being placed. */
  private readonly created: number[] = [];

  /**
   * Places one replica; returns its process node or NONE. New layer nodes get
   * their `create` hooks once the whole chain is placed, so auxiliary nodes
   * (which plugins add there) never strand a half-built chain; their memory
   * may exceed the node's placement capacity. `ordinal` is the replica's
   * number in its service (its slot): replicas of one number share their
   * `per: ordinal` nodes (-1: a replica of its own, as in a scratch model).
   */
  placeReplica(ti: number, si: number, ordinal = -1): number {
    this.created.length = 0;
    this.ordinal = ordinal;
    const s = this.s;
    const tenant = s.tenants[ti];
    const svc = tenant.services[si];
    const stackName = stackOf(s, svc);
    const layers = stackLayers(s, svc);
    // A replica whose `per: ordinal` node exists already goes into it, on its host, or nowhere.
    const home = this.ordinalHome(layers, stackName, ti);
    if (home !== NONE) {
      const where = `the ${layers.find((l) => l.per === "ordinal")!.layer} of replica ${ordinal} (per: ordinal, shared with the tenant's other services on stack ${stackName})`;
      if (svc.request.some((step) => "io" in step) && !this.model.disk.has(home)) {
        this.lastFailure = `${where} is on a host without a disk, and the service has io steps: give that host type a disk, or use a stack of its own`;
        return NONE;
      }
      const p = this.placeChain(home, 0, layers, stackName, ti, si);
      if (p === NONE) {
        this.lastFailure = `${where} has no room for it: give that layer more cores or memory`;
        return NONE;
      }
      this.replicasOn(ti, si)[this.model.hostIndex(home)]++;
      this.model.chainPlaced(this.created, p);
      return p;
    }
    const ranking = this.ranking(ti, si);
    for (let i = ranking.best(); i >= 0; i = ranking.best()) {
      const p = this.placeChain(this.model.hosts[i], 0, layers, stackName, ti, si);
      if (p === NONE) {
        ranking.remove(i); // nothing on host i changes while this service is placed elsewhere
        continue;
      }
      this.replicasOn(ti, si)[i]++;
      ranking.update(i);
      this.model.chainPlaced(this.created, p);
      return p;
    }
    // Nothing fits: say so precisely when the stack cannot hold a replica even on an empty host of any type.
    const m = this.model;
    const takes = (cores: number, memory: number): string => `${cores} core${cores === 1 ? "" : "s"} and ${formatBytes(memory)}`;
    const replica = `a replica reserves ${takes(svc.cores, svc.memory)}`;
    const disk = svc.request.some((step) => "io" in step) ? " with a disk (the service has io steps)" : "";
    if (layers.length === 0) this.lastFailure = `no host${disk} has room (stack ${stackName}: ${replica})`;
    else {
      // What a replica takes from a host is its outermost layer's node (a new one, or room in a shared one).
      const outer = layers[0];
      const h = m.hosts[0];
      const kind = m.kindOf(outer.layer);
      const size = m.rulesOf(kind).size(outer, { cores: m.nodes.capacityCores[h], memory: m.nodes.capacityMemory[h] });
      const shared = outer.per === "replica" ? "" : ` (shared per ${outer.per}: a replica goes in one with room first)`;
      const memory = size.request.memory + m.memoryOverheadOf(kind, outer);
      this.lastFailure = `no host${disk} has room (stack ${stackName}: a new ${outer.layer} takes ${takes(size.request.cores, memory)} of a host${shared}; in it, ${replica})`;
    }
    const byType = new Map<string, string | undefined>();
    let first = 0;
    for (const group of s.hosts) {
      const h = m.hosts[first];
      first += group.count;
      if (!byType.has(group.type)) byType.set(group.type, this.freshChainShortfall(0, layers, { cores: m.nodes.capacityCores[h], memory: m.nodes.capacityMemory[h] }, svc.cores, svc.memory));
    }
    const reasons = [...byType];
    if (reasons.length > 0 && reasons.every(([, why]) => why !== undefined)) {
      const why = new Set(reasons.map(([, r]) => r)).size === 1 ? reasons[0][1] : reasons.map(([type, r]) => `on ${type}, ${r}`).join("; ");
      this.lastFailure = `even an empty host cannot hold one (stack ${stackName}): ${why}`;
    }
    return NONE;
  }

  /** The host of the first existing `per: ordinal` node the replica being placed belongs in, or NONE. */
  private ordinalHome(layers: LayerEntry[], stack: string, ti: number): number {
    for (let i = 0; i < layers.length; i++) {
      const key = layers[i].per === "ordinal" ? this.keyOf(layers[i], stack, i, ti, 0) : undefined;
      const node = key === undefined ? undefined : this.ordinalNodes.get(key);
      if (node !== undefined) return this.model.nodes.host[node];
    }
    return NONE;
  }

  /** The sharing key of layer `i` of a stack for service (ti, si), or undefined for a node of one replica's own. */
  private keyOf(entry: LayerEntry, stack: string, i: number, ti: number, si: number): string | undefined {
    switch (entry.per) {
      case "replica":
        return undefined;
      case "ordinal":
        return this.ordinal < 0 ? undefined : `${stack}#${i}/${ti}@${this.ordinal}`;
      case "service":
        return `${stack}#${i}/${ti}/${si}`;
      case "tenant":
        return `${stack}#${i}/${ti}`;
      default:
        return `${stack}#${i}`;
    }
  }

  /** Replicas of each service per host index. */
  private readonly perHost = new Map<string, Int32Array>();

  /** A replica of service (ti, si) is gone from host `hostIndex` (it failed). */
  released(ti: number, si: number, hostIndex: number): void {
    const c = this.perHost.get(`${ti}/${si}`);
    if (c && c[hostIndex] > 0) c[hostIndex]--;
  }

  /** A shared layer node is gone: replicas no longer go into it. */
  forget(node: number): void {
    const key = this.keys.get(node);
    if (key !== undefined && this.ordinalNodes.get(key) === node) this.ordinalNodes.delete(key);
    this.keys.delete(node);
  }

  /** A replica of service (ti, si) moved from host index `from` to `to` (its VM migrated). */
  moved(ti: number, si: number, from: number, to: number): void {
    this.released(ti, si, from);
    this.replicasOn(ti, si)[to]++;
  }

  /**
   * The host (its index) where placement would put node `n` taken whole from its host, in the policy's order
   * (spread: most free cores first), or -1: up, not cordoned, not its own, with a disk if a process below it does
   * I/O, where its cores and `memory` (its footprint) fit beside `pending` (cores and bytes already promised, per
   * host index).
   */
  hostFor(n: number, memory: number, pending: Float64Array): number {
    const m = this.model;
    const needsDisk = this.needsDisk(n);
    const own = m.hostIndex(m.nodes.host[n]);
    const cores = m.nodes.requestCores[n];
    // The same bounds as placing it afresh: a host's cores times cpuOvercommit, its memory times memoryOvercommit.
    const ratio = this.cpuOvercommit;
    const free = (i: number): number => m.nodes.capacityCores[m.hosts[i]] * ratio - m.nodes.usedCores[m.hosts[i]] - pending[2 * i];
    const ranking = new Tournament(m.hosts.length, policyOrder(this.s.placement.policy, free, () => 0));
    ranking.reset((i) => i !== own && !m.hostDown.has(i) && !m.cordoned.has(m.hosts[i]) && (!needsDisk || m.disk.has(m.hosts[i])));
    const overcommit = memoryOvercommitRatio(this.s.placement);
    for (let i = ranking.best(); i >= 0; i = ranking.best()) {
      if (m.memory.fits(m.hosts[i], cores + pending[2 * i], memory + pending[2 * i + 1], overcommit, ratio)) return i;
      ranking.remove(i);
    }
    return -1;
  }

  /** Whether a process below node `n` does I/O (its service has io steps): `n` goes only to hosts with a disk. */
  needsDisk(n: number): boolean {
    const m = this.model;
    return m.processesBelow(n).some((p) => this.s.tenants[m.nodes.tenant[p]].services[m.nodes.entry[p]].request.some((step) => "io" in step));
  }

  private replicasOn(ti: number, si: number): Int32Array {
    const key = `${ti}/${si}`;
    let c = this.perHost.get(key);
    if (!c) this.perHost.set(key, (c = new Int32Array(this.model.hosts.length)));
    return c;
  }

  /** The hosts of the service being placed, in policy order, and which service that is. */
  private rankingOf: { ti: number; si: number; ranking: Tournament } | undefined;

  /**
   * The up hosts in the order the placement policy tries them for service
   * (ti, si): first-fit in scenario order; best-fit fewest free cores first
   * (the tightest host that fits); spread fewest replicas of this service,
   * then most free cores. With anti-affinity, hosts without a replica of the
   * service come first (a preference: a replica still lands beside another
   * when nothing else fits). Ties go to scenario order.
   *
   * During the build, services are placed one after another and only
   * placement changes a host, so one ranking serves all replicas of a service:
   * a host that does not fit stays out, and the host that takes a replica is
   * ranked again. Later (replacing replicas lost to failures) memory use,
   * failures and repairs change hosts too, so each placement ranks afresh.
   */
  private ranking(ti: number, si: number): Tournament {
    const m = this.model;
    const cached = this.rankingOf;
    if (cached && cached.ti === ti && cached.si === si && !m.built) return cached.ranking;
    const count = this.replicasOn(ti, si);
    const { policy, antiAffinity } = this.s.placement;
    const ratio = this.cpuOvercommit;
    const free = (i: number): number => m.nodes.capacityCores[m.hosts[i]] * ratio - m.nodes.usedCores[m.hosts[i]];
    const byPolicy = policyOrder(policy, free, (i) => count[i]);
    const compare = antiAffinity ? (a: number, b: number) => Number(count[a] > 0) - Number(count[b] > 0) || byPolicy(a, b) : byPolicy;
    const ranking = new Tournament(m.hosts.length, compare);
    // A service with io steps goes only on hosts with a disk.
    const needsDisk = this.s.tenants[ti].services[si].request.some((step) => "io" in step);
    ranking.reset((i) => !m.hostDown.has(i) && !m.cordoned.has(m.hosts[i]) && (!needsDisk || m.disk.has(m.hosts[i])));
    this.rankingOf = m.built ? undefined : { ti, si, ranking };
    return ranking;
  }

  private placeChain(parent: number, i: number, layers: LayerEntry[], stack: string, ti: number, si: number): number {
    const m = this.model;
    const svc = this.s.tenants[ti].services[si];
    const overcommit = memoryOvercommitRatio(this.s.placement);
    // Only a host's cores are overcommitted: what a VM or a container reserves of its parent's cores stays bounded.
    const coresPerCore = m.nodes.parent[parent] === NONE ? this.cpuOvercommit : 1;
    if (i === layers.length) {
      return m.memory.fits(parent, svc.cores, svc.memory, overcommit, coresPerCore) ? m.addProcess(parent, ti, si, svc.cores, svc.memory) : NONE;
    }
    const entry = layers[i];
    const kind = m.kindOf(entry.layer);
    const key = this.keyOf(entry, stack, i, ti, si);
    const shared = entry.per === "ordinal" && key !== undefined ? this.ordinalNodes.get(key) : undefined;
    if (shared !== undefined) {
      // The same-numbered replicas' node: here and with room, or nowhere (never a second one beside it).
      return m.nodes.parent[shared] === parent && !m.cordoned.has(shared) ? this.placeChain(shared, i + 1, layers, stack, ti, si) : NONE;
    }
    if (key !== undefined && entry.per !== "ordinal") {
      for (let c = m.nodes.firstChild[parent]; c !== NONE; c = m.nodes.nextSibling[c]) {
        if (this.keys.get(c) !== key) continue;
        // A cordoned node takes no replica: a shared one of its kind is made beside it, but a host has one of per-host.
        if (m.cordoned.has(c)) {
          if (entry.per === "host") return NONE;
          continue;
        }
        const r = this.placeChain(c, i + 1, layers, stack, ti, si);
        if (r !== NONE) return r;
        if (entry.per === "host") return NONE; // one per host: it is full here
      }
    }
    const parentCapacity = { cores: m.nodes.capacityCores[parent], memory: m.nodes.capacityMemory[parent] };
    const size = m.rulesOf(kind).size(entry, parentCapacity);
    // The new node takes its overhead (a VMM, a runtime) and the larger of its request and what its fresh chain
    // holds from its parent (a container without a memory request holds its process's memory in its host).
    if (!m.memory.fits(parent, size.request.cores, this.freshFootprint(i, layers, parentCapacity, svc.memory), overcommit, coresPerCore) || !this.freshChainFits(i + 1, layers, size.capacity, svc.cores, svc.memory)) {
      return NONE;
    }
    const n = m.addLayerNode(kind, parent, entry.per === "host" ? NONE : ti, entry, size);
    this.created.push(n);
    if (key !== undefined) this.keys.set(n, key);
    if (key !== undefined && entry.per === "ordinal") this.ordinalNodes.set(key, n);
    return this.placeChain(n, i + 1, layers, stack, ti, si);
  }

  /** The memory new nodes for layers i.. and the process hold in the node of `capacity` they go in. */
  private freshFootprint(i: number, layers: LayerEntry[], capacity: Resources, memory: number): number {
    if (i === layers.length) return memory;
    const kind = this.model.kindOf(layers[i].layer);
    const size = this.model.rulesOf(kind).size(layers[i], capacity);
    return this.model.memoryOverheadOf(kind, layers[i]) + Math.max(size.request.memory, this.freshFootprint(i + 1, layers, size.capacity, memory));
  }

  /** Whether new nodes for layers i.. and the process fit inside a new node of `capacity`. */
  private freshChainFits(i: number, layers: LayerEntry[], capacity: Resources, cores: number, memory: number): boolean {
    return this.freshChainShortfall(i, layers, capacity, cores, memory) === undefined;
  }

  /** Why new nodes for layers i.. and the process do not fit inside a new node of `capacity` (undefined: they fit). */
  private freshChainShortfall(i: number, layers: LayerEntry[], capacity: Resources, cores: number, memory: number, holder = "host"): string | undefined {
    // A host takes its memory times the ratio; a node inside it its own memory, unless nothing is bounded (Memory.fits).
    const ratio = memoryOvercommitRatio(this.s.placement);
    const room = holder === "host" ? capacity.memory * ratio : ratio === Infinity ? Infinity : capacity.memory;
    const eps = 1e-9;
    // A host offers its cores times placement.cpuOvercommit; a layer node its own cores.
    const cpuRatio = holder === "host" ? this.cpuOvercommit : 1;
    const coreRoom = capacity.cores * cpuRatio;
    const raise = holder === "host" ? ` (or raise placement.cpuOvercommit, now ${cpuRatio})` : "";
    // Only a chain that does not fit pays for its message (placement asks for every new layer node).
    const offer = (): string =>
      `the ${holder} offers ${capacity.cores} core${capacity.cores === 1 ? "" : "s"}${cpuRatio === 1 ? "" : ` x ${cpuRatio} (placement.cpuOvercommit)`} and ${formatBytes(Math.min(room, capacity.memory * 1e6))}${room !== capacity.memory && room !== Infinity ? ` (its ${formatBytes(capacity.memory)} times placement.memoryOvercommit ${ratio})` : ""}`;
    if (i === layers.length) {
      if (cores <= coreRoom + eps && memory <= room + eps) return undefined;
      return (
        `a replica reserves ${cores} core${cores === 1 ? "" : "s"} (the service's \`cores\`, default 1) and ${formatBytes(memory)} (its \`memory\`), but ${offer()}: ` +
        `lower the service's cores or memory${holder === "host" ? `, or use larger hosts${cores > coreRoom + eps ? raise : ""}` : ` or give the ${holder} more`}`
      );
    }
    const layer = layers[i].layer;
    const kind = this.model.kindOf(layer);
    const size = this.model.rulesOf(kind).size(layers[i], capacity);
    // What the new node holds in its holder: its overhead and the larger of its request and what its own chain holds
    // (the same footprint placement checks, so a chain that passes here is never refused halfway).
    const inner = this.freshFootprint(i + 1, layers, size.capacity, memory);
    const taken = this.model.memoryOverheadOf(kind, layers[i]) + Math.max(size.request.memory, inner);
    if (size.request.cores <= coreRoom + eps && taken <= room + eps) {
      return this.freshChainShortfall(i + 1, layers, size.capacity, cores, memory, layer);
    }
    const what = inner > size.request.memory ? `a ${layer} with what it holds` : `a ${layer}`;
    return `${what} takes ${size.request.cores} core${size.request.cores === 1 ? "" : "s"} and ${formatBytes(taken)}, but ${offer()}: make the ${layer} smaller${holder === "host" ? ` or use larger hosts${size.request.cores > coreRoom + eps ? raise : ""}` : ` or the ${holder} larger`}`;
  }
}

/** Hosts (by index) in a placement policy's order: by `free` cores for best-fit and spread (after `count` replicas), else by index. */
function policyOrder(policy: Scenario["placement"]["policy"], free: (i: number) => number, count: (i: number) => number): (a: number, b: number) => number {
  if (policy === "best-fit") return (a, b) => free(a) - free(b) || a - b;
  if (policy === "spread") return (a, b) => count(a) - count(b) || free(b) - free(a) || a - b;
  return (a, b) => a - b;
}
