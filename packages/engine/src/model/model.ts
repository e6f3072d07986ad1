/**
 * A model: the tree of nodes built from a scenario by the layer plugins, the
 * CPU, disk and network solvers over it, and the lifecycle of its nodes.
 * Built once per replication; workloads drive it through the kernel.
 *
 * Its parts, each a module: the plugin driver (plugin/driver.ts: setup,
 * hooks sorted once and dispatched by index, plugin events and metrics),
 * placement (placement.ts), the operation pipeline (pipeline.ts: each
 * process's static path record and the hooks on it) and memory accounting
 * (memory.ts). This file holds the tree's growth, readiness (provisioning,
 * `setReady`), and failures: of hosts (the workload's failure model) and of
 * layer nodes (`failNode`, `restartNode` from plugins).
 *
 * Readiness. A node is ready when its parent is and its own provisioning is
 * done: a fixed time from its layer's path rule, or, for a layer that hooks
 * `provision`, when the plugin calls `setReady`. `readyAt` holds each node's
 * ready time, Infinity while it waits for a provisioning; a process becomes
 * ready its host's process start after its parent. The workload hears of a
 * process's ready time when it becomes known (`ModelListener`).
 */
import type { EventType, Simulation } from "../kernel/simulation.js";
import { CpuSolver } from "../cpu/solver.js";
import { DiskSolver } from "../io/disk.js";
import { Network } from "../net/network.js";
import { RESTART, type CpuSettings, type HostRules, type LayerRules, type PathContribution, type PluginDefinition, type Resources } from "../plugin/define.js";
import { PluginDriver, type PluginRecord } from "../plugin/driver.js";
import type { LayerEntry, Scenario, Service } from "../scenario/schema.js";
import { NodeState, NodeStore, NONE } from "../tree/nodes.js";
import { own } from "../util/own.js";
import { allocColumns, growColumns, type ColumnSpec } from "../util/typed.js";
import { HOLDS_RESERVED, HOLDS_TOUCHED, HOLDS_USED, Memory } from "./memory.js";
import { Pipeline } from "./pipeline.js";
import { Placement } from "./placement.js";

export { HookError } from "../plugin/driver.js";

/** A replica that could not be placed, and why. */
export interface Unplaced {
  tenant: string;
  service: string;
  replica: number;
  reason: string;
}

/** What the workload hears from the model's lifecycle. */
export interface ModelListener {
  /**
   * The processes below `node` stopped: requests on them fail with `reason`.
   * `lost`: they are gone (their replicas are to be placed again); else they
   * restart in place and `processReady` follows, unless `down`: they stay
   * down in place (a restart after Infinity).
   */
  processesStopped(node: number, processes: readonly number[], reason: string, lost: boolean, down: boolean): void;
  /** A process's ready time became known (its provisioning finished, or it restarts). */
  processReadyAt(process: number, time: number): void;
  /** Completions (kernel type, payload pairs) of the workload's CPU work that a stop aborted: they will not come. */
  completionsLost(completions: readonly number[], reason: string): void;
  /** New layer nodes that run their own kernel (guests) were placed. */
  kernelsCreated?(nodes: readonly number[]): void;
  /** A layer node moved to another host with its subtree (a live migration). */
  nodeMoved?(node: number): void;
}

type Entry = Record<string, unknown>;

/** One live migration of a node between hosts (results' `migrations`): seconds, bytes copied, rounds before the stop. */
export interface Migration {
  node: number;
  layer: string;
  /** Host indices. */
  from: number;
  to: number;
  /** When it started, and its length to the node running on `to`. */
  start: number;
  total: number;
  rounds: number;
  bytes: number;
  /** Seconds the node was stopped (the last copy). */
  downtime: number;
}

/** Per-node columns of the model (grown with the node store). */
const MODEL_COLUMNS: readonly ColumnSpec[] = [
  ["readyAt", Float64Array],
  // The pending `model.provision` event of a node (-1: none), and 1 while its provision hook's work is under way.
  ["provisionEvent", Float64Array, -1],
  ["provisioning", Int8Array],
  // 1 for a layer node its plugin provisions itself (its layer hooks `provision`, and its `provisions` rule says so).
  ["selfProvisioned", Int8Array],
];

export class Model {
  readonly nodes = new NodeStore();
  readonly cpu: CpuSolver;
  readonly disk: DiskSolver;
  readonly net: Network;
  readonly memory: Memory;
  readonly pipeline: Pipeline;
  readonly driver: PluginDriver;
  /** Zone index of each host node, and the fabric latency between zones (zones x zones). */
  private zoneOf = new Int32Array(0);
  private zoneLatency = new Float64Array(1);
  private zones = 1;
  /** Host node ids in scenario order. */
  readonly hosts: number[] = [];
  /** The host rules of each host, in the same order. */
  readonly hostRules: HostRules[] = [];
  /** The host type entry of each host, in the same order. */
  private readonly hostTypes: Entry[] = [];
  private readonly hostIndexOf = new Map<number, number>();
  /** Process node ids per service, by `tenant/service`, in replica order (-1 where unplaced). */
  readonly processes = new Map<string, number[]>();
  readonly unplaced: Unplaced[] = [];
  /** Stack entries that layer nodes were built from (a layer node's `entry` column indexes this). */
  readonly entries: LayerEntry[] = [];
  /** When each node is (or was) ready; Infinity while it waits for a provisioning. */
  readyAt = new Float64Array(0);
  private provisionEvent = new Float64Array(0);
  private provisioning = new Int8Array(0);
  private selfProvisioned = new Int8Array(0);
  /** Completions (kernel type, payload pairs) of the CPU work a stop in progress aborted. */
  private readonly lostCompletions: number[] = [];
  /** Auxiliary nodes by `${owner node}/${name}`, and by owner: an auxiliary node goes when its owner goes. */
  private readonly auxByOwner = new Map<string, number>();
  private readonly auxOf = new Map<number, number[]>();
  /** Names of auxiliary nodes (for reports). */
  readonly auxNames = new Map<number, string>();
  /** Layer nodes that run their own OS kernel (their layer's rules say `kernel`). */
  private readonly kernelNodes = new Set<number>();
  private readonly contributions = new Map<number, PathContribution>(); // per layer node, at build time
  private readonly processKind: number;
  private readonly auxKind: number;
  private readonly provisionType: EventType;
  private placement: Placement | undefined;
  /** Hosts that are down (failed, not yet repaired): placement skips them. */
  readonly hostDown = new Set<number>();
  /** Host and layer nodes that take no new replicas (a rollout drains them before their restart): placement skips them. */
  readonly cordoned = new Set<number>();
  /** True once the initial placement is done. */
  built = false;
  /** The workload, told of processes that stop and of ready times that become known. */
  listener: ModelListener | undefined;
  /** True while a host or a node fails: fail hooks may not add nodes to what is being removed. */
  private failing = false;
  /**
   * Failures and restarts plugins ask for, waiting for their event: the node,
   * the restart delay (-1: a failure), the reason's index in `reasons`.
   * They act in an event of their own at the same time, never inside the
   * operation or event that asked (whose request they may fail).
   */
  private readonly actionNode: number[] = [];
  private readonly actionAfter: number[] = [];
  private readonly actionReason: number[] = [];
  private readonly actionFree: number[] = [];
  private readonly reasons: string[] = [];
  private readonly actionType: EventType;
  /** During `failNode`'s fail hooks: the node failing, and the restart delay a hook asked for (-1: none). */
  private failingNode = NONE;
  private restartAfter = -1;

  constructor(
    readonly sim: Simulation,
    plugins: readonly PluginDefinition[],
  ) {
    allocColumns(this, MODEL_COLUMNS, 64);
    this.cpu = new CpuSolver(sim, this.nodes);
    this.disk = new DiskSolver(sim);
    this.net = new Network(sim, (a, b) => this.zoneLatency[this.zoneOf[a] * this.zones + this.zoneOf[b]]);
    this.memory = new Memory({
      nodes: this.nodes,
      get now() {
        return sim.now;
      },
      hostIndex: (h) => this.hostIndex(h),
      pressureChanged: (n, over) => this.driver.lifecycle("pressure", n, over),
      // In an event of its own: the watch's handler may change memory, which changed inside an operation.
      watchCrossed: (n, event, over) => void this.driver.schedule(event, 0, n, over),
    });
    this.pipeline = new Pipeline({
      nodes: this.nodes,
      contributionOf: (n) => this.contributions.get(n),
      auxiliaryOf: (owner, name) => this.auxiliaryOf(owner, name),
      pluginOf: (n) => this.driver.layer(this.nodes.kind[n])?.plugin.name ?? "?",
      processStart: (p) => this.hostRules[this.hostIndex(this.nodes.host[p])].processStart ?? 0,
      operationHooks: (k, kind) => this.driver.operationHooks(k, kind),
      callOperationHook: (h, n, op) => this.driver.callOperationHook(h, n, op),
      startCpu: (n, work, type, payload) => void this.cpu.start(n, work, 1, type, payload),
    });
    this.provisionType = sim.on("model.provision", (n) => this.provision(n));
    this.actionType = sim.on("model.nodeAction", (slot) => this.act(slot));
    this.driver = new PluginDriver(this, plugins);
    this.processKind = this.nodes.kindId("process");
    this.auxKind = this.nodes.kindId("aux");
  }

  get now(): number {
    return this.sim.now;
  }

  /** Kind id of a layer (`host`, `vm`, ...), `process` or `aux`. */
  kindOf(layer: string): number {
    const k = this.nodes.kindNames.indexOf(layer);
    if (k < 0) throw new Error(`no plugin provides the layer "${layer}"`);
    return k;
  }

  /** @internal The rules of a stacked layer's kind. */
  rulesOf(kind: number): LayerRules<Entry> {
    return this.driver.layer(kind)!.rules!;
  }

  /** @internal The memory overhead a node of layer `kind` built from `entry` holds beside its request (its path rule's). */
  memoryOverheadOf(kind: number, entry: LayerEntry): number {
    return this.rulesOf(kind).path?.(entry).memoryOverhead ?? 0;
  }

  /** The validated entry a node was built from: its stack entry, or a host's host type. */
  entryOf(node: number): Entry {
    if (this.nodes.parent[node] === NONE) return this.hostTypes[this.hostIndex(node)];
    return this.entries[this.nodes.entry[node]];
  }

  /** Position of a host node in scenario order. */
  hostIndex(host: number): number {
    return this.hostIndexOf.get(host)!;
  }

  /** Builds hosts, stack nodes and one process per placed replica, each on the first host in the placement policy's order where it fits. */
  build(s: Scenario): void {
    this.scenario = s;
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
    const hostLayer = this.driver.plugins.find((l) => l.host);
    if (!hostLayer?.host) throw new Error("no plugin provides the host layer");
    for (const group of s.hosts) {
      const type = own(s.hostTypes, group.type)!;
      const rules = hostLayer.host(type);
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
        this.hostTypes.push(type);
      }
    }
    this.zoneOf = Int32Array.from({ length: this.nodes.count }, (_, n) => hostZone[n] ?? 0);
    const placement = (this.placement = new Placement(this, s));
    s.tenants.forEach((tenant, ti) =>
      tenant.services.forEach((svc, si) => {
        const key = `${tenant.name}/${svc.name}`;
        const procs: number[] = [];
        for (let r = 0; r < svc.replicas; r++) {
          const p = placement.placeReplica(ti, si, r);
          procs.push(p);
          if (p === NONE) this.unplaced.push({ tenant: tenant.name, service: svc.name, replica: r, reason: placement.lastFailure });
        }
        this.processes.set(key, procs);
      }),
    );
    this.memory.peak = Float64Array.from(this.hosts, (h) => this.nodes.usedMemory[h]);
    this.built = true;
    this.memory.checking = true;
    for (let n = 0; n < this.nodes.count; n++) {
      if (this.nodes.removed[n]) continue;
      // Hosts run at once; stack nodes and processes boot until their ready time (the workload marks them running);
      // a node its plugin made ready during the build runs already.
      if (this.nodes.state[n] !== NodeState.running) {
        this.nodes.state[n] = this.readyAt[n] > this.sim.now ? (this.readyAt[n] === Infinity ? NodeState.provisioning : NodeState.booting) : NodeState.running;
        if (this.nodes.state[n] === NodeState.running) this.driver.lifecycle("ready", n);
      }
      // Placement with memoryOvercommit can start a node over its limit.
      this.memory.checkPressure(n);
    }
  }

  /** @internal Adds a node of any kind and grows the per-node columns. */
  addNode(kind: number, parent: number, tenant: number, entry: number): number {
    const id = this.nodes.add(kind, parent, tenant, entry);
    if (id >= this.readyAt.length) {
      const c = this.readyAt.length * 2;
      growColumns(this, MODEL_COLUMNS, c);
      this.pipeline.grow(c);
      this.memory.grow(c);
      this.driver.metrics.grow(c);
    }
    this.readyAt[id] = 0;
    this.provisionEvent[id] = -1;
    this.provisioning[id] = 0;
    this.selfProvisioned[id] = 0;
    this.pipeline.reset(id);
    this.memory.overhead[id] = 0;
    this.memory.held[id] = HOLDS_USED;
    this.memory.watchEvent[id] = 0;
    return id;
  }

  /** @internal Adds a stack-layer node with its rules (its `create` hooks run once the replica's chain is placed). */
  addLayerNode(kind: number, parent: number, tenant: number, entry: LayerEntry, size: { request: Resources; capacity: Resources }): number {
    const rules = this.rulesOf(kind);
    let entryIndex = this.entries.indexOf(entry);
    if (entryIndex < 0) entryIndex = this.entries.push(entry) - 1;
    const n = this.addNode(kind, parent, tenant, entryIndex);
    if (this.driver.layer(kind)!.provisions && (rules.provisions?.(entry, this.scenario!) ?? true)) this.selfProvisioned[n] = 1;
    const cpu = rules.cpu(entry);
    this.cpu.setRules(n, cpu.weight, cpu.cap ?? Infinity);
    if (cpu.bandwidth) this.cpu.setBandwidth(n, cpu.bandwidth.quota, cpu.bandwidth.period);
    if (typeof rules.kernel === "function" ? rules.kernel(entry) : rules.kernel === true) this.kernelNodes.add(n);
    const contribution = rules.path?.(entry) ?? {};
    this.contributions.set(n, contribution);
    this.nodes.capacityCores[n] = size.capacity.cores;
    this.nodes.capacityMemory[n] = size.capacity.memory;
    // The overhead (a VMM, a guest kernel, a runtime) is held beside what the node reserves for its children, never
    // out of it: a node's footprint in its parent is its overhead plus the larger of its request and its children's.
    this.memory.take(parent, n, size.request.cores, size.request.memory, contribution.memoryOverhead ?? 0, rules.holds === "reserved" ? HOLDS_RESERVED : rules.holds === "touched" ? HOLDS_TOUCHED : HOLDS_USED);
    return n;
  }

  /** @internal Adds a process under `parent` (its path is resolved once its layers' `create` hooks have run). */
  addProcess(parent: number, tenant: number, serviceIndex: number, cores: number, memory: number): number {
    const p = this.addNode(this.processKind, parent, tenant, serviceIndex);
    this.cpu.setRules(p, "runnable");
    this.memory.take(parent, p, cores, memory, 0, HOLDS_RESERVED);
    return p;
  }

  /** @internal Adds an auxiliary node under `parent`, owned by `owner` (the node whose hook adds it). */
  addAuxiliary(parent: number, name: string, memory: number, cores: number, owner: number): number {
    if (this.failing) throw new Error("addAuxiliary cannot run in a fail hook: the node and what is below it are going");
    const a = this.addNode(this.auxKind, parent, this.nodes.tenant[parent], NONE);
    this.cpu.setRules(a, "runnable", cores);
    this.memory.take(parent, a, 0, memory, 0, HOLDS_RESERVED);
    this.auxNames.set(a, name);
    this.auxByOwner.set(`${owner}/${name}`, a);
    const owned = this.auxOf.get(owner);
    if (owned) owned.push(a);
    else this.auxOf.set(owner, [a]);
    return a;
  }

  /** The auxiliary node `name` that `owner` holds, or undefined. */
  auxiliaryOf(owner: number, name: string): number | undefined {
    return this.auxByOwner.get(`${owner}/${name}`);
  }

  /** The nearest node at or above `n` that runs a kernel: a layer node whose rules say so, else its host. */
  kernelOf(n: number): number {
    const nodes = this.nodes;
    while (nodes.parent[n] !== NONE && !this.kernelNodes.has(n)) n = nodes.parent[n];
    return n;
  }

  /**
   * @internal A replica's chain is placed: the new layer nodes' `create`
   * hooks run, the process's path is resolved, and readiness is set, outermost
   * first (a container in a new VM waits for the VM's boot; the process for
   * its host's process start).
   */
  chainPlaced(created: readonly number[], process: number): void {
    for (const n of created) this.driver.lifecycle("create", n);
    const kernels = created.filter((n) => this.kernelNodes.has(n));
    if (kernels.length > 0) this.listener?.kernelsCreated?.(kernels);
    this.pipeline.resolve(process);
    for (const n of created) this.schedule(n);
    this.schedule(process);
  }

  /**
   * @internal Places one more replica of a service (after a failure; `ordinal`: the slot it fills, so it joins its
   * `per: ordinal` nodes); its process node, or NONE when nothing fits.
   */
  placeReplica(tenantIndex: number, serviceIndex: number, ordinal = -1): number {
    return this.placement!.placeReplica(tenantIndex, serviceIndex, ordinal);
  }

  // --- readiness ---

  /** The provisioning time a layer node takes by its path rule. */
  private provisioningOf(n: number): number {
    return this.contributions.get(n)?.provisioning ?? 0;
  }

  /**
   * Sets when node `n` gets ready from its parent's ready time (or from
   * `start`, when later: a restart): a process its host's process start later,
   * a layer node its provisioning later; a node whose layer hooks `provision`
   * is provisioned then (and waits for `setReady`). Unknown while the parent
   * waits.
   */
  private schedule(n: number, start = this.sim.now): void {
    const nodes = this.nodes;
    const parent = nodes.parent[n];
    const from = parent === NONE ? start : Math.max(start, this.readyAt[parent]);
    const isProcess = nodes.kind[n] === this.processKind;
    if (this.selfProvisioned[n]) {
      this.readyAt[n] = Infinity;
      if (this.built) nodes.state[n] = NodeState.provisioning;
      if (from === this.sim.now) this.provision(n);
      else if (from !== Infinity) this.provisionEvent[n] = this.sim.scheduleAt(this.provisionType, from, n);
      return;
    }
    const own = isProcess ? (this.hostRules[this.hostIndex(nodes.host[n])].processStart ?? 0) : this.provisioningOf(n);
    this.readyAt[n] = from + own;
    if (this.built) nodes.state[n] = this.readyAt[n] === Infinity ? NodeState.provisioning : NodeState.booting;
    if (isProcess && this.built && this.readyAt[n] !== Infinity) this.listener?.processReadyAt(n, this.readyAt[n]);
  }

  /** True while node `n`'s provision hook has run and it is not ready yet (nor stopped since). O(1). */
  isProvisioning(n: number): boolean {
    return this.provisioning[n] === 1;
  }

  /** True when layer node `n` is provisioned by its plugin (`provision` hooks, `setReady`), not after its provisioning time. O(1). */
  provisionsItself(n: number): boolean {
    return this.selfProvisioned[n] === 1;
  }

  /** A provisioning node's parent is ready: its layer's `provision` hooks run. */
  private provision(n: number): void {
    this.provisionEvent[n] = -1;
    if (this.nodes.removed[n] || this.readyAt[n] !== Infinity) return;
    this.provisioning[n] = 1;
    this.driver.lifecycle("provision", n);
  }

  /** A provisioning node is ready now; the nodes below it that waited for it get their ready times. */
  setReady(n: number): void {
    if (this.readyAt[n] !== Infinity) throw new Error(`node ${n} is not provisioning (it is ready, or was made ready already)`);
    if (!this.provisioning[n]) throw new Error(`node ${n}'s provisioning has not started: its provision hook has not run since it last (re)started`);
    this.provisioning[n] = 0;
    this.readyAt[n] = this.sim.now;
    this.nodes.state[n] = NodeState.running;
    this.driver.lifecycle("ready", n);
    this.scheduleBelow(n);
  }

  /** Sets the ready times of the nodes below `n` that waited for it (its ready time is known now). */
  private scheduleBelow(n: number): void {
    for (let c = this.nodes.firstChild[n]; c !== NONE; c = this.nodes.nextSibling[c]) {
      if (this.nodes.kind[c] === this.auxKind || this.readyAt[c] !== Infinity || this.provisionEvent[c] >= 0 || this.provisioning[c]) continue;
      this.schedule(c);
      if (this.readyAt[c] !== Infinity) this.scheduleBelow(c);
    }
  }

  /** A process and the stack nodes above it that are due are running now; their `ready` hooks run. */
  nodeReady(process: number): void {
    for (let n = process; n !== NONE; n = this.nodes.parent[n]) {
      if (this.nodes.state[n] === NodeState.running || this.readyAt[n] > this.sim.now) continue;
      this.nodes.state[n] = NodeState.running;
      this.driver.lifecycle("ready", n);
    }
  }

  // --- runtime control (from plugins) ---

  /** Changes a node's CPU rules; its host is recomputed now. */
  setCpu(node: number, settings: CpuSettings): void {
    if (settings.weight !== undefined || settings.cap !== undefined) this.cpu.updateRules(node, settings.weight, settings.cap);
    if (settings.bandwidth === null) this.cpu.clearBandwidth(node);
    else if (settings.bandwidth) this.cpu.setBandwidth(node, settings.bandwidth.quota, settings.bandwidth.period);
  }

  /** Sets a node's memory limit (its capacity); crossing it starts or ends a pressure episode. */
  setMemoryLimit(node: number, bytes: number): void {
    this.nodes.capacityMemory[node] = bytes;
    this.memory.checkPressure(node);
  }

  // --- failures ---

  /** @internal The process nodes below `n` (and `n` itself if it is one). */
  processesBelow(n: number, out: number[] = []): number[] {
    if (this.nodes.kind[n] === this.processKind) out.push(n);
    for (let c = this.nodes.firstChild[n]; c !== NONE; c = this.nodes.nextSibling[c]) this.processesBelow(c, out);
    return out;
  }

  /** Runs the `fail` hooks of the nodes below `n` (innermost first, `n` last) and marks them failed. */
  private failHooks(n: number, self = true): void {
    for (let c = this.nodes.firstChild[n]; c !== NONE; c = this.nodes.nextSibling[c]) this.failHooks(c);
    if (!self) return;
    this.nodes.state[n] = NodeState.failed;
    this.driver.lifecycle("fail", n);
  }

  /** Asks for node `n` to fail (`after` < 0) or restart after `after` seconds, now, in an event of its own. */
  requestAction(n: number, after: number, reason: string): void {
    if (this.failingNode !== NONE) {
      // A fail hook of the failing node restarts it: part of that failure. A node below it goes (or restarts) with it.
      if (after >= 0 && n === this.failingNode) {
        this.restartAfter = after;
        return;
      }
      if (this.isBelow(n, this.failingNode)) return;
    }
    const slot = this.actionFree.length > 0 ? this.actionFree.pop()! : this.actionNode.length;
    let r = this.reasons.indexOf(reason);
    if (r < 0) r = this.reasons.push(reason) - 1;
    this.actionNode[slot] = n;
    this.actionAfter[slot] = after;
    this.actionReason[slot] = r;
    this.sim.schedule(this.actionType, 0, slot);
  }

  private act(slot: number): void {
    const n = this.actionNode[slot];
    const after = this.actionAfter[slot];
    const reason = this.reasons[this.actionReason[slot]];
    this.actionFree.push(slot);
    // The node may be gone since (its host failed, or an earlier failure removed it).
    if (this.nodes.removed[n]) return;
    if (after < 0) this.failNode(n, reason);
    else if (this.nodes.state[n] !== NodeState.failed) this.restartNode(n, after);
  }

  /** Whether `n` is `ancestor` or below it. */
  private isBelow(n: number, ancestor: number): boolean {
    for (let a = n; a !== NONE; a = this.nodes.parent[a]) if (a === ancestor) return true;
    return false;
  }

  /** `n` and every node below it. */
  private subtree(n: number, out = new Set<number>()): Set<number> {
    out.add(n);
    for (let c = this.nodes.firstChild[n]; c !== NONE; c = this.nodes.nextSibling[c]) this.subtree(c, out);
    return out;
  }

  /**
   * Stops the subtree of `n`: its CPU work is aborted (the completions that
   * will not come are kept for `settleLost`), and the plugin events pending
   * for its nodes and their pending provisionings are cancelled.
   */
  private stop(n: number): Set<number> {
    const stopped = this.subtree(n);
    this.cpu.abortSubtree(n, (type, payload) => this.lostCompletions.push(type, payload));
    this.driver.forget(stopped);
    for (const x of stopped) {
      if (this.provisionEvent[x] >= 0) this.sim.cancel(this.provisionEvent[x]);
      this.provisionEvent[x] = -1;
      this.provisioning[x] = 0;
    }
    return stopped;
  }

  /**
   * @internal The completions that stopped work will never give: a plugin's
   * are dropped; the workload hears of its own (operations waiting for a charge
   * fail their requests with `reason`).
   */
  settleLost(reason: string): void {
    const lost = this.lostCompletions.splice(0);
    const workload: number[] = [];
    for (let i = 0; i < lost.length; i += 2) {
      if (this.driver.ownsEvent(lost[i])) this.driver.drop(lost[i + 1]);
      else workload.push(lost[i], lost[i + 1]);
    }
    if (workload.length > 0) this.listener?.completionsLost(workload, reason);
  }

  /**
   * A layer node fails: its CPU work stops, its and its subtree's `fail` hooks
   * run (innermost first), and unless its own hook restarts it, it is removed
   * with its subtree and the auxiliary nodes it owns; the workload fails the
   * requests on its processes with `reason` and places them again.
   */
  private failNode(n: number, reason: string): void {
    if (this.nodes.state[n] === NodeState.failed) return;
    const processes = this.processesBelow(n);
    this.stop(n);
    this.failingNode = n;
    this.restartAfter = -1;
    this.failing = true;
    try {
      this.failHooks(n);
    } finally {
      this.failing = false;
      this.failingNode = NONE;
    }
    if (this.restartAfter >= 0) {
      this.listener?.processesStopped(n, processes, reason, false, this.restartAfter === Infinity);
      this.settleLost(reason);
      this.restartAt(n, this.restartAfter);
      return;
    }
    // The workload fails the requests (and frees what they allocated) while the tree is whole, then the subtree goes.
    this.listener?.processesStopped(n, processes, reason, true, false);
    for (const p of processes) this.placement?.released(this.nodes.tenant[p], this.nodes.entry[p], this.hostIndex(this.nodes.host[p]));
    this.removeSubtree(n);
    this.settleLost(reason);
  }

  /** Stops a layer node and its subtree and starts it again in place after `after` seconds and its provisioning. */
  private restartNode(n: number, after: number): void {
    const processes = this.processesBelow(n);
    this.stop(n);
    this.listener?.processesStopped(n, processes, RESTART, false, after === Infinity);
    this.settleLost(RESTART);
    this.restartAt(n, after);
  }

  /** The subtree of `n` starts again `after` seconds from now (once its parent is ready): readiness as for a new node. */
  private restartAt(n: number, after: number): void {
    const nodes = this.nodes;
    const mark = (x: number): void => {
      if (nodes.kind[x] !== this.auxKind) {
        this.readyAt[x] = Infinity;
        nodes.state[x] = NodeState.provisioning;
      }
      for (let c = nodes.firstChild[x]; c !== NONE; c = nodes.nextSibling[c]) mark(c);
    };
    mark(n);
    this.schedule(n, this.sim.now + after);
    if (this.readyAt[n] !== Infinity) this.scheduleBelow(n);
  }

  /** The auxiliary nodes `owner` added, no longer found by name or owner. */
  private forgetAuxiliaries(owner: number): readonly number[] {
    const owned = this.auxOf.get(owner);
    if (!owned) return [];
    for (const aux of owned) this.auxByOwner.delete(`${owner}/${this.auxNames.get(aux)}`);
    this.auxOf.delete(owner);
    return owned;
  }

  /** Removes `n`, its subtree and the auxiliary nodes they own, giving back their cores and memory. */
  private removeSubtree(n: number): void {
    const nodes = this.nodes;
    while (nodes.firstChild[n] !== NONE) this.removeSubtree(nodes.firstChild[n]);
    for (const aux of this.forgetAuxiliaries(n)) {
      if (nodes.removed[aux]) continue;
      this.stop(aux);
      this.removeSubtree(aux);
    }
    const parent = nodes.parent[n];
    this.cpu.untrackSteal(n);
    this.kernelNodes.delete(n);
    this.placement?.forget(n);
    this.driver.metrics.removed(n, this.sim.now);
    this.memory.giveBack(parent, n);
    nodes.state[n] = NodeState.failed;
    nodes.remove(n);
  }

  /**
   * A host fails: its CPU work stops and every node on it fails (its layer's
   * `fail` hooks run) and is removed, then the host's own `fail` hooks run; the
   * host takes no placements until `repairHost`. Returns the process nodes
   * lost; the workload calls `settleLost` once it has failed their requests.
   */
  failHost(hostIndex: number): number[] {
    const host = this.hosts[hostIndex];
    const nodes = this.nodes;
    const lost = this.processesBelow(host);
    const elsewhere: number[] = [];
    this.failing = true;
    try {
      this.stop(host);
      this.cpu.retireSteal(host); // its guests are gone; their steal stays counted
      const remove = (n: number): void => {
        while (nodes.firstChild[n] !== NONE) remove(nodes.firstChild[n]);
        this.kernelNodes.delete(n);
        // Auxiliary nodes it added on other hosts go with it.
        for (const aux of this.forgetAuxiliaries(n)) if (!nodes.removed[aux] && nodes.host[aux] !== host) elsewhere.push(aux);
        if (n === host) return;
        // Each node on the host fails with it, innermost first: its layer's `fail` hooks see it before it goes.
        nodes.state[n] = NodeState.failed;
        this.driver.lifecycle("fail", n);
        this.driver.metrics.removed(n, this.sim.now);
        this.placement?.forget(n);
        nodes.remove(n);
      };
      remove(host);
      for (const p of lost) this.placement?.released(nodes.tenant[p], nodes.entry[p], hostIndex);
      nodes.usedCores[host] = 0;
      nodes.usedMemory[host] = 0;
      nodes.reservedMemory[host] = 0;
      this.memory.checkPressure(host); // an empty host swaps no more
      nodes.state[host] = NodeState.failed;
      this.hostDown.add(hostIndex);
      this.driver.lifecycle("fail", host);
    } finally {
      this.failing = false;
    }
    for (const aux of elsewhere) {
      if (nodes.removed[aux]) continue;
      this.stop(aux);
      this.removeSubtree(aux);
    }
    return lost;
  }

  /** A failed host is back, empty, and takes placements again. */
  repairHost(hostIndex: number): void {
    this.hostDown.delete(hostIndex);
    this.nodes.state[this.hosts[hostIndex]] = NodeState.running;
    this.readyAt[this.hosts[hostIndex]] = this.sim.now;
  }

  // --- moving nodes between hosts (live migration) ---

  /**
   * @internal A scenario action, now: every layer node directly on host index `from` whose layer hooks `migrate`
   * hears it, in node order, with its target host node: `to`'s, or (`to` < 0, a drain: `from` is cordoned first and
   * stays so) the host placement picks for it, counting the nodes sent before it. A node with nowhere to go (no host
   * has room, `to` is down, or its processes do I/O and `to` has no disk) stays, counted in `unmigrated`.
   */
  migrateFrom(from: number, to: number): void {
    const host = this.hosts[from];
    if (this.hostDown.has(from)) return;
    if (to < 0) this.cordoned.add(host);
    const movers: number[] = [];
    for (let c = this.nodes.firstChild[host]; c !== NONE; c = this.nodes.nextSibling[c]) if (this.driver.hasLifecycleHook("migrate", c)) movers.push(c);
    movers.sort((a, b) => a - b);
    const pending = new Float64Array(2 * this.hosts.length);
    for (const n of movers) {
      let target = to;
      if (target < 0) {
        const memory = this.memory.overhead[n] + Math.max(this.nodes.reservedMemory[n], this.nodes.requestMemory[n]);
        target = this.placement!.hostFor(n, memory, pending);
        if (target < 0) {
          this.unmigrated++;
          continue;
        }
        pending[2 * target] += this.nodes.requestCores[n];
        pending[2 * target + 1] += memory;
      }
      if (this.hostDown.has(target) || (!this.disk.has(this.hosts[target]) && this.placement!.needsDisk(n))) {
        this.unmigrated++;
        continue;
      }
      this.driver.lifecycle("migrate", n, this.hosts[target]);
    }
  }

  /** The scenario the model was built from. */
  scenario: Scenario | undefined;

  /** @internal The services of the processes below `n`, one per process, in node order. */
  servicesBelow(n: number): Service[] {
    const s = this.scenario!;
    return this.processesBelow(n)
      .sort((a, b) => a - b)
      .map((p) => s.tenants[this.nodes.tenant[p]].services[this.nodes.entry[p]]);
  }

  /** Nodes an action could not move (they stayed): see `migrateFrom`. */
  unmigrated = 0;
  /** Each move of a node to another host, as its plugin reported it (`ctx.moveNode`), in order. */
  readonly migrations: Migration[] = [];

  /**
   * @internal Moves layer node `n` with its subtree, and the auxiliary nodes it and they own on its host, to host
   * node `to`, now: their CPU work goes on there, their memory and cores leave the old host for the new one, and
   * placement counts their replicas there. Disk I/O and messages under way finish where they started. False (nothing
   * moves) when `to` is down. `figures` is the plugin's account of the migration, recorded in `migrations`.
   */
  moveNode(n: number, to: number, figures: Pick<Migration, "start" | "rounds" | "bytes" | "downtime">): boolean {
    const toIndex = this.hostIndex(to);
    if (this.hostDown.has(toIndex)) return false;
    const nodes = this.nodes;
    const from = nodes.host[n];
    const fromIndex = this.hostIndex(from);
    const owners = [n];
    for (let i = 0; i < owners.length; i++) for (let c = nodes.firstChild[owners[i]]; c !== NONE; c = nodes.nextSibling[c]) owners.push(c);
    const beside = owners.flatMap((o) => this.auxOf.get(o) ?? []).filter((a) => !nodes.removed[a] && nodes.parent[a] === from);
    for (const m of [n, ...beside]) this.cpu.move(m, to, () => this.memory.move(m, to, () => nodes.reparent(m, to)));
    for (const p of this.processesBelow(n)) this.placement?.moved(nodes.tenant[p], nodes.entry[p], fromIndex, toIndex);
    this.listener?.nodeMoved?.(n);
    this.migrations.push({
      node: n,
      layer: nodes.kindNames[nodes.kind[n]],
      from: fromIndex,
      to: toIndex,
      start: figures.start,
      total: this.sim.now - figures.start,
      rounds: figures.rounds,
      bytes: figures.bytes,
      downtime: figures.downtime,
    });
    return true;
  }

  /**
   * @internal A restart of a layer node that runs its own kernel (a kernel patch rollout; a guest crash, `after` its
   * repair time): it and its subtree stop and start again in place, after its provisioning, as a plugin's
   * `restartNode` does.
   */
  restartKernel(n: number, after = 0): void {
    this.restartNode(n, after);
  }

  /** @internal The layer nodes running their own OS kernel now (guests, sandboxes), in node order. */
  kernelInstances(): number[] {
    return [...this.kernelNodes].filter((n) => !this.nodes.removed[n]).sort((a, b) => a - b);
  }

  /** OS kernels running: every host plus every layer node that runs its own kernel. */
  kernels(): number {
    let k = this.hosts.length;
    for (const n of this.kernelNodes) if (!this.nodes.removed[n]) k++;
    return k;
  }

  /** @internal The plugin record of a layer kind. */
  layer(kind: number): PluginRecord | undefined {
    return this.driver.layer(kind);
  }
}

/** Builds a model for a scenario with the given plugins. */
export function buildModel(sim: Simulation, scenario: Scenario, plugins: readonly PluginDefinition[]): Model {
  const m = new Model(sim, plugins);
  m.build(scenario);
  return m;
}
