/**
 * A model: the tree of nodes built from a scenario by the layer plugins, the
 * CPU solver over it, each process's static path record, and the plugins'
 * hooks. Built once per replication; workloads drive it through the kernel.
 *
 * Plugins run their `setup` here, in the order given: they register their
 * layer's rules, hooks and extension columns. Hook arrays are sorted once
 * (`pre`, then unordered, then `post`; ties in plugin order) and dispatched by
 * index; for an operation, each hook runs with the node of its layer on the
 * operation's path.
 */
import type { EventType, Simulation } from "../kernel/simulation.js";
import { CpuSolver } from "../cpu/solver.js";
import { DiskSolver } from "../io/disk.js";
import { Network } from "../net/network.js";
import {
  OP_KINDS,
  type HookContext,
  type HookFn,
  type HookName,
  type HostRules,
  type LayerRules,
  type OpKind,
  type PathContribution,
  type PluginDefinition,
  type PluginSetup,
  type Resources,
} from "../plugin/define.js";
import type { LayerEntry, Scenario } from "../scenario/schema.js";
import { stackOf } from "../scenario/load.js";
import { NodeState, NodeStore, NONE } from "../tree/nodes.js";
import { grown } from "../util/typed.js";
import { formatBytes } from "../scenario/estimate.js";
import { Tournament } from "./tournament.js";

/** An exception in a plugin hook, naming the plugin, the hook, the node and the simulated time. */
export class HookError extends Error {
  constructor(
    readonly plugin: string,
    readonly hook: string,
    readonly node: number,
    readonly time: number,
    override readonly cause: unknown,
  ) {
    super(`plugin ${plugin}, hook "${hook}", node ${node}, at simulated time ${time}s: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = "HookError";
  }
}

interface Hook {
  plugin: string;
  kind: number;
  fn: HookFn;
  rank: number;
}

type Entry = Record<string, unknown>;

interface Layer {
  plugin: PluginDefinition;
  kind: number;
  rules?: LayerRules<Entry>;
  host?: (entry: Entry) => HostRules;
}

/** A replica that could not be placed, and why. */
export interface Unplaced {
  tenant: string;
  service: string;
  replica: number;
  reason: string;
}

const ORDER_RANK = { pre: 0, none: 1, post: 2 } as const;
const OP_HOOKS = new Set<string>(OP_KINDS);
const OP_INDEX = Object.fromEntries(OP_KINDS.map((op, k) => [op, k])) as Record<OpKind, number>;

export class Model {
  readonly nodes = new NodeStore();
  readonly cpu: CpuSolver;
  readonly disk: DiskSolver;
  readonly net: Network;
  /** Zone index of each host node, and the fabric latency between zones (zones x zones). */
  private zoneOf = new Int32Array(0);
  private zoneLatency = new Float64Array(1);
  private zones = 1;
  /** Host node ids in scenario order. */
  readonly hosts: number[] = [];
  /** The host rules of each host, in the same order. */
  readonly hostRules: HostRules[] = [];
  /** Process node ids per service, by `tenant/service`, in replica order (-1 where unplaced). */
  readonly processes = new Map<string, number[]>();
  readonly unplaced: Unplaced[] = [];
  /** Path record per process node: throughput factor, one-way latency per op kind, cold-start time. */
  pathCpuFactor: Float64Array = new Float64Array(64);
  pathLatency: Float64Array = new Float64Array(64 * OP_KINDS.length);
  pathProvisioning: Float64Array = new Float64Array(64);
  /** Fixed memory overhead of each layer node (VMM, guest kernel, runtime). */
  overheadMemory: Float64Array = new Float64Array(64);
  /** CPU charged elsewhere per operation: for each process, a run of (op kind, auxiliary node, work) in the tables below. */
  private chargeStart: Int32Array = new Int32Array(64);
  private chargeCount: Int32Array = new Int32Array(64);
  private chargeOp: number[] = [];
  private chargeNode: number[] = [];
  private chargeWork: number[] = [];
  /** Auxiliary nodes by `${owner node}/${name}`. */
  private readonly auxByOwner = new Map<string, number>();
  /** The node whose hook is running (the owner of auxiliary nodes it adds). */
  private hookNode = NONE;
  /** True while a host fails: its nodes' fail hooks may not add nodes to what is being removed. */
  private failing = false;

  private readonly layers: Layer[] = [];
  /** Sorted hooks per hook name (a plain object: per-operation lookups by a constant name, no Map). */
  private readonly hooks: Partial<Record<HookName, Hook[]>> = {};
  private readonly processKind: number;
  private readonly auxKind: number;
  private readonly contributions = new Map<number, PathContribution>(); // per layer node, at build time
  private readonly hookContext: HookContext;

  constructor(
    readonly sim: Simulation,
    plugins: readonly PluginDefinition[],
  ) {
    this.cpu = new CpuSolver(sim, this.nodes);
    this.disk = new DiskSolver(sim);
    this.net = new Network(sim, (a, b) => this.zoneLatency[this.zoneOf[a] * this.zones + this.zoneOf[b]]);
    plugins.forEach((p, rank) => this.setupPlugin(p, rank));
    this.processKind = this.nodes.kindId("process");
    this.auxKind = this.nodes.kindId("aux");
    for (const list of Object.values(this.hooks)) list.sort((a, b) => a.rank - b.rank);
    const model = this;
    this.hookContext = {
      get now() {
        return model.sim.now;
      },
      addAuxiliary: (parent, name, memory = 0, cores = Infinity) => {
        if (this.failing) throw new Error("addAuxiliary cannot run in a fail hook: the host and every node on it are going");
        return this.addAuxiliary(parent, name, memory, cores);
      },
      parentOf: (node) => this.nodes.parent[node],
    };
  }

  /** Kind id of a layer (`host`, `vm`, ...), `process` or `aux`. */
  kindOf(layer: string): number {
    const k = this.nodes.kindNames.indexOf(layer);
    if (k < 0) throw new Error(`no plugin provides the layer "${layer}"`);
    return k;
  }

  /**
   * Runs the hooks registered for `name`: for a lifecycle event, those of
   * `node`'s layer; for an operation kind, those of every layer on the path
   * from process `node` to its host, each with its layer's node.
   */
  runHooks(name: HookName, node: number, payload = 0): void {
    const list = this.hooks[name];
    if (list === undefined) return;
    const nodes = this.nodes;
    const operation = OP_HOOKS.has(name);
    for (let i = 0; i < list.length; i++) {
      const h = list[i];
      if (!operation) {
        if (nodes.kind[node] === h.kind) this.callHook(h, name, node, payload);
        continue;
      }
      // Every node of the hook's layer on the path, innermost first (a VM in a VM runs its hook twice).
      for (let n = node; n !== NONE; n = nodes.parent[n]) if (nodes.kind[n] === h.kind) this.callHook(h, name, n, payload);
    }
  }

  private callHook(h: Hook, name: HookName, target: number, payload: number): void {
    try {
      this.hookNode = target;
      h.fn(this.hookContext, target, payload);
    } catch (err) {
      throw new HookError(h.plugin, name, target, this.sim.now, err);
    }
  }

  /** Starts `work` core-seconds of CPU on a thread of `process` with its path's throughput factor. */
  startCpu(process: number, work: number, doneType: EventType, donePayload: number): number {
    return this.cpu.start(process, work, this.pathCpuFactor[process], doneType, donePayload);
  }

  /**
   * Charges the CPU that the layers of a process's path spend elsewhere on one
   * operation of `op` (a virtio back-end thread per I/O): an activity on each
   * charged auxiliary node, each firing `doneType` with `donePayload` when done
   * (none if `doneType` is negative). Returns how many were started.
   */
  chargeOperation(process: number, op: OpKind, doneType: EventType = NONE, donePayload = 0): number {
    const k = OP_INDEX[op];
    const end = this.chargeStart[process] + this.chargeCount[process];
    let started = 0;
    for (let i = this.chargeStart[process]; i < end; i++) {
      if (this.chargeOp[i] !== k) continue;
      this.cpu.start(this.chargeNode[i], this.chargeWork[i], 1, doneType, donePayload);
      started++;
    }
    return started;
  }

  /** @internal The memory overhead a node of layer `kind` built from `entry` holds beside its request (its path rule's). */
  memoryOverheadOf(kind: number, entry: LayerEntry): number {
    return this.layers[kind].rules!.path?.(entry).memoryOverhead ?? 0;
  }

  /** One-way latency that the layers of a process's path add to an operation of `op`. */
  latency(process: number, op: OpKind): number {
    return this.pathLatency[process * OP_KINDS.length + OP_INDEX[op]];
  }

  /** Builds hosts, stack nodes and one process per placed replica, each on the first host in the placement policy's order where it fits. */
  build(s: Scenario): void {
    // Fabric latency: per zone pair where the scenario gives one, else the fabric's own (a zones x zones table).
    const zoneNames = [...new Set(s.hosts.map((g) => g.zone))];
    this.zones = zoneNames.length;
    this.zoneLatency = new Float64Array(this.zones * this.zones).fill(s.network.latency);
    for (const z of s.network.zones) {
      const [a, b] = z.between.map((n) => zoneNames.indexOf(n));
      this.zoneLatency[a * this.zones + b] = z.latency;
      this.zoneLatency[b * this.zones + a] = z.latency;
    }
    const hostZone: number[] = [];
    const hostLayer = this.layers.find((l) => l.host);
    if (!hostLayer?.host) throw new Error("no plugin provides the host layer");
    for (const group of s.hosts) {
      const rules = hostLayer.host(s.hostTypes[group.type]);
      for (let i = 0; i < group.count; i++) {
        const h = this.addNode(hostLayer.kind, NONE, NONE, this.hosts.length);
        this.nodes.capacityCores[h] = rules.cores;
        this.nodes.capacityMemory[h] = rules.memory;
        this.cpu.setHost(h, rules.cores, rules.speed);
        if (rules.disk) this.disk.setDisk(h, rules.disk);
        if (rules.nic) this.net.setNic(h, rules.nic);
        hostZone[h] = zoneNames.indexOf(group.zone);
        this.hostIndexOf.set(h, this.hosts.length);
        this.hosts.push(h);
        this.hostRules.push(rules);
      }
    }
    this.zoneOf = Int32Array.from({ length: this.nodes.count }, (_, n) => hostZone[n] ?? 0);
    const builder = (this.builder = new TreeBuilder(this, s));
    s.tenants.forEach((tenant, ti) =>
      tenant.services.forEach((svc, si) => {
        const key = `${tenant.name}/${svc.name}`;
        const procs: number[] = [];
        for (let r = 0; r < svc.replicas; r++) {
          const p = builder.placeReplica(ti, si);
          procs.push(p);
          if (p === NONE) this.unplaced.push({ tenant: tenant.name, service: svc.name, replica: r, reason: builder.lastFailure });
        }
        this.processes.set(key, procs);
      }),
    );
    this.memoryPeak = Float64Array.from(this.hosts, (h) => this.nodes.usedMemory[h]);
    this.built = true;
    for (let n = 0; n < this.nodes.count; n++) {
      if (this.nodes.removed[n]) continue;
      // Hosts run at once; stack nodes and processes boot until their ready time (the workload marks them running).
      this.nodes.state[n] = this.readyAt[n] > this.sim.now ? NodeState.booting : NodeState.running;
      if (this.nodes.state[n] === NodeState.running) this.runHooks("ready", n);
      // Placement with memoryOvercommit can start a node over its limit.
      this.checkPressure(n);
    }
  }

  /** @internal Adds a node of any kind and grows the per-node columns. */
  addNode(kind: number, parent: number, tenant: number, entry: number): number {
    const id = this.nodes.add(kind, parent, tenant, entry);
    if (id >= this.pathCpuFactor.length) this.growColumns();
    this.pathCpuFactor[id] = 1;
    this.pathProvisioning[id] = 0;
    this.overheadMemory[id] = 0;
    for (let k = 0; k < OP_KINDS.length; k++) this.pathLatency[id * OP_KINDS.length + k] = 0;
    return id;
  }

  /** Stack entries that layer nodes were built from (a node's `entry` column indexes this). */
  readonly entries: LayerEntry[] = [];

  /** @internal Adds a stack-layer node with its rules (the builder runs its `create` hooks once the replica is placed). */
  addLayerNode(kind: number, parent: number, tenant: number, entry: LayerEntry, size: { request: Resources; capacity: Resources }): number {
    const layer = this.layers[kind];
    const rules = layer.rules!;
    let entryIndex = this.entries.indexOf(entry);
    if (entryIndex < 0) entryIndex = this.entries.push(entry) - 1;
    const n = this.addNode(kind, parent, tenant, entryIndex);
    const cpu = rules.cpu(entry);
    this.cpu.setRules(n, cpu.weight, cpu.cap ?? Infinity);
    if (cpu.bandwidth) this.cpu.setBandwidth(n, cpu.bandwidth.quota, cpu.bandwidth.period);
    if (typeof rules.kernel === "function" ? rules.kernel(entry) : rules.kernel === true) {
      this.kernelNodes.add(n);
      // Steal is runnable vCPUs not running: a guest with vCPUs (a cap). Without one (a Kata sandbox here), threads
      // beyond its cores wait inside it, which is not steal.
      if (Number.isFinite(cpu.cap ?? Infinity)) this.cpu.trackSteal(n);
    }
    const contribution = rules.path?.(entry) ?? {};
    this.contributions.set(n, contribution);
    this.overheadMemory[n] = contribution.memoryOverhead ?? 0;
    this.nodes.capacityCores[n] = size.capacity.cores;
    this.nodes.capacityMemory[n] = size.capacity.memory;
    // The overhead (a VMM, a guest kernel, a runtime) is held beside what the node reserves for its children, never
    // out of it: a node's footprint in its parent is its overhead plus the larger of its request and its children's use.
    this.take(parent, n, size.request.cores, size.request.memory);
    this.addMemory(parent, this.overheadMemory[n]);
    return n;
  }

  /** @internal Adds a process under `parent` (its path is resolved once its layers' `create` hooks have run). */
  addProcess(parent: number, tenant: number, serviceIndex: number, cores: number, memory: number): number {
    const p = this.addNode(this.processKind, parent, tenant, serviceIndex);
    this.cpu.setRules(p, "runnable");
    this.take(parent, p, cores, memory);
    return p;
  }

  /** @internal Resolves a process's static path record from the contributions of the layers above it. */
  resolvePath(p: number): void {
    let factor = 1;
    let provisioning = 0;
    const base = p * OP_KINDS.length;
    this.chargeStart[p] = this.chargeOp.length;
    for (let n = this.nodes.parent[p]; n !== NONE; n = this.nodes.parent[n]) {
      const c = this.contributions.get(n);
      if (!c) continue;
      factor *= c.cpuFactor ?? 1;
      provisioning += c.provisioning ?? 0;
      OP_KINDS.forEach((op, k) => {
        this.pathLatency[base + k] += c.latency?.[op] ?? 0;
        const charge = c.charge?.[op];
        if (!charge) return;
        const aux = this.auxByOwner.get(`${n}/${charge.aux}`);
        if (aux === undefined) {
          const plugin = this.layers[this.nodes.kind[n]].plugin.name;
          throw new Error(`plugin ${plugin} charges ${op} CPU to auxiliary node "${charge.aux}" of node ${n}, but its create hook added none of that name`);
        }
        this.chargeOp.push(k);
        this.chargeNode.push(aux);
        this.chargeWork.push(charge.work);
      });
    }
    this.chargeCount[p] = this.chargeOp.length - this.chargeStart[p];
    this.pathCpuFactor[p] = factor;
    this.pathProvisioning[p] = provisioning + (this.hostRules[this.hostIndex(this.nodes.host[p])].processStart ?? 0);
  }

  /**
   * @internal Would `node` fit `cores` and `memory` more? Memory is checked
   * where it lands: in `node`, and in each ancestor the part that spills past a
   * node's own reservation (a container without a memory request holds its
   * processes' memory in its host), as `addMemory` will account it.
   */
  fits(node: number, cores: number, memory: number, overcommitMemory: boolean): boolean {
    const n = this.nodes;
    const eps = 1e-9;
    if (n.usedCores[node] + cores > n.capacityCores[node] + eps) return false;
    if (overcommitMemory) return true;
    let delta = memory;
    for (let a = node; a !== NONE && delta > 0; a = n.parent[a]) {
      if (n.usedMemory[a] + delta > n.capacityMemory[a] + eps) return false;
      const before = Math.max(n.usedMemory[a], n.requestMemory[a]);
      delta = Math.max(n.usedMemory[a] + delta, n.requestMemory[a]) - before;
    }
    return true;
  }

  /** @internal Provisioning time of one layer node (its layer's contribution). */
  provisioningOf(n: number): number {
    return this.contributions.get(n)?.provisioning ?? 0;
  }

  /** Layer nodes that run their own OS kernel (their layer's rules say `kernel`). */
  private readonly kernelNodes = new Set<number>();

  /** OS kernels running: every host plus every layer node that runs its own kernel. */
  kernels(): number {
    let k = this.hosts.length;
    for (const n of this.kernelNodes) if (!this.nodes.removed[n]) k++;
    return k;
  }

  /** Seconds each node has spent over its memory limit, up to `pressureSince` of the ongoing episode. */
  readonly pressureTime = new Map<number, number>();
  private readonly pressureSince = new Map<number, number>();
  /** Peak memory use of each host. */
  memoryPeak = new Float64Array(0);
  /** @internal True once the initial placement is done. */
  built = false;

  /**
   * Changes the memory a process holds (an allocation or a free of a request):
   * its parent node's use changes, and crossing the parent's limit is a
   * `pressure` event (its layer decides: a host swaps, which slows its CPU work).
   */
  changeMemory(process: number, delta: number): void {
    this.addMemory(this.nodes.parent[process], delta);
  }

  /**
   * Adds `delta` bytes of use to `node`. Use beyond a node's own reservation in
   * its parent spills into the parent: a container without a memory request
   * holds host memory; a VM's guest RAM is reserved whole, so what its guests
   * use stays inside it.
   */
  private addMemory(node: number, delta: number): void {
    const nodes = this.nodes;
    if (!this.built) {
      // While building: only account (pressure is checked once the tree is built).
      for (let n = node; n !== NONE && delta !== 0; n = nodes.parent[n]) {
        const before = Math.max(nodes.usedMemory[n], nodes.requestMemory[n]);
        nodes.usedMemory[n] += delta;
        delta = Math.max(nodes.usedMemory[n], nodes.requestMemory[n]) - before;
      }
      return;
    }
    for (let n = node; n !== NONE && delta !== 0; n = nodes.parent[n]) {
      const before = Math.max(nodes.usedMemory[n], nodes.requestMemory[n]);
      nodes.usedMemory[n] += delta;
      this.checkPressure(n);
      delta = Math.max(nodes.usedMemory[n], nodes.requestMemory[n]) - before;
      if (nodes.parent[n] === NONE) {
        const i = this.hostIndex(n);
        if (nodes.usedMemory[n] > this.memoryPeak[i]) this.memoryPeak[i] = nodes.usedMemory[n];
      }
    }
  }

  /** Seconds a node has been over its memory limit, to now. */
  pressureSeconds(node: number): number {
    const since = this.pressureSince.get(node);
    return (this.pressureTime.get(node) ?? 0) + (since === undefined ? 0 : this.sim.now - since);
  }

  private hostIndex(host: number): number {
    return this.hostIndexOf.get(host)!;
  }

  private readonly hostIndexOf = new Map<number, number>();

  private checkPressure(n: number): void {
    const over = this.nodes.usedMemory[n] > this.nodes.capacityMemory[n] + 1e-9;
    const was = this.pressureSince.has(n);
    if (over === was) return;
    if (over) this.pressureSince.set(n, this.sim.now);
    else {
      this.pressureTime.set(n, (this.pressureTime.get(n) ?? 0) + this.sim.now - this.pressureSince.get(n)!);
      this.pressureSince.delete(n);
    }
    if (n === this.nodes.host[n]) this.cpu.setSlowdown(n, over ? (this.hostRules[this.hostIndex(n)].swapSlowdown ?? 1) : 1);
    this.runHooks("pressure", n, over ? 1 : 0);
  }

  private builder: TreeBuilder | undefined;
  /** Hosts that are down (failed, not yet repaired): placement skips them. */
  readonly hostDown = new Set<number>();
  /** When each node is (or was) ready: its parent's ready time, then its own provisioning (process: start). */
  readyAt: Float64Array = new Float64Array(64);

  /**
   * Places one more replica of a service (after a failure) with the same
   * policy as the build; returns its process node, or NONE when nothing fits.
   * New nodes become ready after their provisioning, from now.
   */
  placeReplica(tenantIndex: number, serviceIndex: number): number {
    return this.builder!.placeReplica(tenantIndex, serviceIndex);
  }

  /** @internal Sets when a new node is ready: when its parent is, plus its own provisioning. */
  markReady(n: number, own: number): void {
    const parent = this.nodes.parent[n];
    const from = parent === NONE ? this.sim.now : Math.max(this.sim.now, this.readyAt[parent]);
    this.readyAt[n] = from + own;
    if (this.built) this.nodes.state[n] = own > 0 ? NodeState.booting : NodeState.running;
  }

  /** A process and the stack nodes above it that are due are running now; their `ready` hooks run. */
  nodeReady(process: number): void {
    for (let n = process; n !== NONE; n = this.nodes.parent[n]) {
      if (this.nodes.state[n] === NodeState.running || this.readyAt[n] > this.sim.now) continue;
      this.nodes.state[n] = NodeState.running;
      this.runHooks("ready", n);
    }
  }

  /**
   * A host fails: its CPU work stops and every node on it fails (its layer's
   * `fail` hooks run) and is removed, then the host's own `fail` hooks run; the
   * host takes no placements until `repairHost`. Returns the process nodes lost.
   */
  failHost(hostIndex: number): number[] {
    const host = this.hosts[hostIndex];
    const lost: number[] = [];
    const nodes = this.nodes;
    const removeSubtree = (n: number): void => {
      while (nodes.firstChild[n] !== NONE) removeSubtree(nodes.firstChild[n]);
      if (nodes.kind[n] === this.processKind) lost.push(n);
      this.kernelNodes.delete(n);
      if (n === host) return;
      // Each node on the host fails with it, innermost first: its layer's `fail` hooks see it before it goes.
      nodes.state[n] = NodeState.failed;
      this.runHooks("fail", n);
      nodes.remove(n);
    };
    this.failing = true;
    try {
      this.cpu.abortSubtree(host);
      this.cpu.retireSteal(host); // its guests are gone; their steal stays counted
      removeSubtree(host);
      for (const p of lost) this.builder?.released(nodes.tenant[p], nodes.entry[p], hostIndex);
      nodes.usedCores[host] = 0;
      nodes.usedMemory[host] = 0;
      this.checkPressure(host); // an empty host swaps no more
      nodes.state[host] = NodeState.failed;
      this.hostDown.add(hostIndex);
      this.runHooks("fail", host);
    } finally {
      this.failing = false;
    }
    return lost;
  }

  /** A failed host is back, empty, and takes placements again. */
  repairHost(hostIndex: number): void {
    this.hostDown.delete(hostIndex);
    this.nodes.state[this.hosts[hostIndex]] = NodeState.running;
    this.readyAt[this.hosts[hostIndex]] = this.sim.now;
  }

  /** @internal The layer (plugin and rules) of a kind. */
  layer(kind: number): Layer {
    return this.layers[kind];
  }

  private take(parent: number, child: number, cores: number, memory: number): void {
    const n = this.nodes;
    n.requestCores[child] = cores;
    n.requestMemory[child] = memory;
    n.usedCores[parent] += cores;
    this.addMemory(parent, memory);
  }

  private addAuxiliary(parent: number, name: string, memory: number, cores: number): number {
    const a = this.addNode(this.auxKind, parent, this.nodes.tenant[parent], NONE);
    this.cpu.setRules(a, "runnable", cores);
    this.take(parent, a, 0, memory);
    this.auxNames.set(a, name);
    this.auxByOwner.set(`${this.hookNode}/${name}`, a);
    return a;
  }

  /** Names of auxiliary nodes (for reports). */
  readonly auxNames = new Map<number, string>();

  private setupPlugin(plugin: PluginDefinition, rank: number): void {
    const twin = this.layers.find((l) => l?.plugin.layer === plugin.layer || l?.plugin.name === plugin.name)?.plugin;
    if (twin?.layer === plugin.layer) throw new Error(`plugins ${twin.name} and ${plugin.name} both provide the layer "${plugin.layer}"`);
    if (twin) throw new Error(`two plugins are named "${plugin.name}" (layers ${twin.layer} and ${plugin.layer}); give each its own name`);
    const kind = this.nodes.kindId(plugin.layer);
    const layer: Layer = { plugin, kind };
    this.layers[kind] = layer;
    const api: PluginSetup<Entry> = {
      plugin: plugin.name,
      layer: plugin.layer,
      host: (rules) => {
        if (plugin.layer !== "host") throw new Error(`plugin ${plugin.name}: host rules are for the host layer only`);
        layer.host = rules;
      },
      layerRules: (rules) => {
        if (plugin.layer === "host") throw new Error(`plugin ${plugin.name}: the host layer registers host rules`);
        layer.rules = rules;
      },
      hook: (name, fn, options) => {
        const list = (this.hooks[name] ??= []);
        list.push({ plugin: plugin.name, kind, fn, rank: ORDER_RANK[options?.order ?? "none"] * 1e6 + rank * 1e3 + list.length });
      },
      extension: (name, type, initial) => this.nodes.extension(`${plugin.name}.${name}`, type, initial),
    };
    try {
      plugin.setup?.(api);
    } catch (err) {
      throw new Error(`plugin ${plugin.name}: its setup failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (plugin.layer === "host" && !layer.host) throw new Error(`plugin ${plugin.name} provides the host layer but registers no host rules`);
    if (plugin.layer !== "host" && !layer.rules) throw new Error(`plugin ${plugin.name} provides the layer "${plugin.layer}" but registers no layer rules`);
  }

  private growColumns(): void {
    const c = this.pathCpuFactor.length * 2;
    this.readyAt = grown(this.readyAt, c);
    this.pathCpuFactor = grown(this.pathCpuFactor, c);
    this.pathLatency = grown(this.pathLatency, c * OP_KINDS.length);
    this.pathProvisioning = grown(this.pathProvisioning, c);
    this.overheadMemory = grown(this.overheadMemory, c);
    this.chargeStart = grown(this.chargeStart, c);
    this.chargeCount = grown(this.chargeCount, c);
  }
}

/**
 * Places replicas: for each, walks its stack from the outermost layer in,
 * reusing a shared node (per service, tenant or host) that still has room,
 * else creating one, on the first host in the placement policy's order where
 * the whole chain fits.
 */
class TreeBuilder {
  lastFailure = "";
  /** Sharing key of each shared layer node. */
  private readonly keys = new Map<number, string>();

  constructor(
    private readonly model: Model,
    private readonly s: Scenario,
  ) {}

  /** Layer nodes created for the replica being placed. */
  private readonly created: number[] = [];

  /**
   * Places one replica; returns its process node or NONE. New layer nodes get
   * their `create` hooks once the whole chain is placed, so auxiliary nodes
   * (which plugins add there) never strand a half-built chain; their memory
   * may exceed the node's placement capacity.
   */
  placeReplica(ti: number, si: number): number {
    this.created.length = 0;
    const s = this.s;
    const tenant = s.tenants[ti];
    const svc = tenant.services[si];
    const stackName = stackOf(s, svc);
    const layers = s.stacks[stackName] ?? [];
    const ranking = this.ranking(ti, si);
    for (let i = ranking.best(); i >= 0; i = ranking.best()) {
      const p = this.placeChain(this.model.hosts[i], 0, layers, stackName, ti, si);
      if (p === NONE) {
        ranking.remove(i); // nothing on host i changes while this service is placed elsewhere
        continue;
      }
      this.replicasOn(ti, si)[i]++;
      ranking.update(i);
      for (const n of this.created) this.model.runHooks("create", n);
      this.model.resolvePath(p);
      // Readiness, outermost first: each new layer node once its parent is ready and its own provisioning is done
      // (a container in a new VM waits for the VM's boot), the process after the host's process start.
      for (const n of this.created) this.model.markReady(n, this.model.provisioningOf(n));
      this.model.markReady(p, this.model.hostRules[i].processStart ?? 0);
      return p;
    }
    // Nothing fits: say so precisely when the stack cannot hold a replica even on an empty host of any type.
    const m = this.model;
    const takes = (cores: number, memory: number): string => `${cores} core${cores === 1 ? "" : "s"} and ${formatBytes(memory)}`;
    const replica = `a replica reserves ${takes(svc.cores, svc.memory)}`;
    if (layers.length === 0) this.lastFailure = `no host has room (stack ${stackName}: ${replica})`;
    else {
      // What a replica takes from a host is its outermost layer's node (a new one, or room in a shared one).
      const outer = layers[0];
      const h = m.hosts[0];
      const kind = m.kindOf(outer.layer);
      const size = m.layer(kind).rules!.size(outer, { cores: m.nodes.capacityCores[h], memory: m.nodes.capacityMemory[h] });
      const shared = outer.per === "replica" ? "" : ` (shared per ${outer.per}: a replica goes in one with room first)`;
      const memory = size.request.memory + m.memoryOverheadOf(kind, outer);
      this.lastFailure = `no host has room (stack ${stackName}: a new ${outer.layer} takes ${takes(size.request.cores, memory)} of a host${shared}; in it, ${replica})`;
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

  /** Replicas of each service per host index. */
  private readonly perHost = new Map<string, Int32Array>();

  /** A replica of service (ti, si) is gone from host `hostIndex` (it failed). */
  released(ti: number, si: number, hostIndex: number): void {
    const c = this.perHost.get(`${ti}/${si}`);
    if (c && c[hostIndex] > 0) c[hostIndex]--;
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
    const free = (i: number): number => m.nodes.capacityCores[m.hosts[i]] - m.nodes.usedCores[m.hosts[i]];
    const byPolicy =
      policy === "best-fit"
        ? (a: number, b: number) => free(a) - free(b) || a - b
        : policy === "spread"
          ? (a: number, b: number) => count[a] - count[b] || free(b) - free(a) || a - b
          : (a: number, b: number) => a - b;
    const compare = antiAffinity ? (a: number, b: number) => Number(count[a] > 0) - Number(count[b] > 0) || byPolicy(a, b) : byPolicy;
    const ranking = new Tournament(m.hosts.length, compare);
    ranking.reset((i) => !m.hostDown.has(i));
    this.rankingOf = m.built ? undefined : { ti, si, ranking };
    return ranking;
  }

  private placeChain(parent: number, i: number, layers: LayerEntry[], stack: string, ti: number, si: number): number {
    const m = this.model;
    const svc = this.s.tenants[ti].services[si];
    const overcommit = this.s.placement.memoryOvercommit;
    if (i === layers.length) {
      return m.fits(parent, svc.cores, svc.memory, overcommit) ? m.addProcess(parent, ti, si, svc.cores, svc.memory) : NONE;
    }
    const entry = layers[i];
    const kind = m.kindOf(entry.layer);
    const key =
      entry.per === "replica" ? undefined : entry.per === "service" ? `${stack}#${i}/${ti}/${si}` : entry.per === "tenant" ? `${stack}#${i}/${ti}` : `${stack}#${i}`;
    if (key !== undefined) {
      for (let c = m.nodes.firstChild[parent]; c !== NONE; c = m.nodes.nextSibling[c]) {
        if (this.keys.get(c) !== key) continue;
        const r = this.placeChain(c, i + 1, layers, stack, ti, si);
        if (r !== NONE) return r;
        if (entry.per === "host") return NONE; // one per host: it is full here
      }
    }
    const parentCapacity = { cores: m.nodes.capacityCores[parent], memory: m.nodes.capacityMemory[parent] };
    const size = m.layer(kind).rules!.size(entry, parentCapacity);
    // The new node takes its overhead (a VMM, a runtime) and the larger of its request and what its fresh chain
    // holds from its parent (a container without a memory request holds its process's memory in its host).
    if (!m.fits(parent, size.request.cores, this.freshFootprint(i, layers, parentCapacity, svc.memory), overcommit) || !this.freshChainFits(i + 1, layers, size.capacity, svc.cores, svc.memory)) {
      return NONE;
    }
    const n = m.addLayerNode(kind, parent, entry.per === "host" ? NONE : ti, entry, size);
    this.created.push(n);
    if (key !== undefined) this.keys.set(n, key);
    return this.placeChain(n, i + 1, layers, stack, ti, si);
  }

  /** The memory new nodes for layers i.. and the process hold in the node of `capacity` they go in. */
  private freshFootprint(i: number, layers: LayerEntry[], capacity: Resources, memory: number): number {
    if (i === layers.length) return memory;
    const kind = this.model.kindOf(layers[i].layer);
    const size = this.model.layer(kind).rules!.size(layers[i], capacity);
    return this.model.memoryOverheadOf(kind, layers[i]) + Math.max(size.request.memory, this.freshFootprint(i + 1, layers, size.capacity, memory));
  }

  /** Whether new nodes for layers i.. and the process fit inside a new node of `capacity`. */
  private freshChainFits(i: number, layers: LayerEntry[], capacity: Resources, cores: number, memory: number): boolean {
    return this.freshChainShortfall(i, layers, capacity, cores, memory) === undefined;
  }

  /** Why new nodes for layers i.. and the process do not fit inside a new node of `capacity` (undefined: they fit). */
  private freshChainShortfall(i: number, layers: LayerEntry[], capacity: Resources, cores: number, memory: number, holder = "host"): string | undefined {
    const overcommit = this.s.placement.memoryOvercommit;
    const eps = 1e-9;
    // Only a chain that does not fit pays for its message (placement asks for every new layer node).
    const offer = (): string => `the ${holder} offers ${capacity.cores} core${capacity.cores === 1 ? "" : "s"} and ${formatBytes(capacity.memory)}`;
    if (i === layers.length) {
      if (cores <= capacity.cores + eps && (overcommit || memory <= capacity.memory + eps)) return undefined;
      return (
        `a replica reserves ${cores} core${cores === 1 ? "" : "s"} (the service's \`cores\`, default 1) and ${formatBytes(memory)} (its \`memory\`), but ${offer()}: ` +
        `lower the service's cores or memory${holder === "host" ? ", or use larger hosts" : ` or give the ${holder} more`}`
      );
    }
    const layer = layers[i].layer;
    const kind = this.model.kindOf(layer);
    const size = this.model.layer(kind).rules!.size(layers[i], capacity);
    // What the new node holds in its holder: its overhead and the larger of its request and what its own chain holds
    // (the same footprint placement checks, so a chain that passes here is never refused halfway).
    const inner = this.freshFootprint(i + 1, layers, size.capacity, memory);
    const taken = this.model.memoryOverheadOf(kind, layers[i]) + Math.max(size.request.memory, inner);
    if (size.request.cores <= capacity.cores + eps && (overcommit || taken <= capacity.memory + eps)) {
      return this.freshChainShortfall(i + 1, layers, size.capacity, cores, memory, layer);
    }
    const what = inner > size.request.memory ? `a ${layer} with what it holds` : `a ${layer}`;
    return `${what} takes ${size.request.cores} core${size.request.cores === 1 ? "" : "s"} and ${formatBytes(taken)}, but ${offer()}: make the ${layer} smaller${holder === "host" ? " or use larger hosts" : ` or the ${holder} larger`}`;
  }
}

/** Builds a model for a scenario with the given plugins. */
export function buildModel(sim: Simulation, scenario: Scenario, plugins: readonly PluginDefinition[]): Model {
  const m = new Model(sim, plugins);
  m.build(scenario);
  return m;
}
