/**
 * The plugin driver (after Rollup's PluginDriver): runs each plugin's `setup`
 * once per model, keeps its rules, and dispatches its hooks and events.
 *
 * Hooks are sorted once (per hook name and layer: `pre`, unordered, `post`,
 * ties in registration order) into arrays of indices, so dispatch is an
 * array read and a call: a lifecycle event runs the hooks of its node's
 * layer; an operation runs, through the pipeline's per-path record, the
 * hooks of every layer on its path, innermost first. An exception in a hook
 * or a plugin event stops the run with a `HookError` naming the plugin, the
 * hook, the node and the simulated time.
 *
 * Each plugin gets one context object (`PluginContext`): its calls validate
 * their arguments and act on the model through it. Plugin events carry a node
 * and an int32 payload through a slot table of typed columns, so they are
 * ordered like every kernel event and a saved run continues them.
 */
import type { EventType } from "../kernel/simulation.js";
import type { Model } from "../model/model.js";
import { HOLDS_RESERVED, HOLDS_TOUCHED } from "../model/memory.js";
import { IO_OP, NET_OP, SYSCALL_OP } from "../model/pipeline.js";
import { EXTERNAL } from "../net/network.js";
import { Random } from "../random/random.js";
import type { Scenario, Service } from "../scenario/schema.js";
import { NONE } from "../tree/nodes.js";
import { own } from "../util/own.js";
import { allocColumns, growColumns, type ColumnSpec } from "../util/typed.js";
import {
  killReasons,
  LIFECYCLE_EVENTS,
  OP_KINDS,
  RESTART,
  type BandwidthStats,
  type CpuSettings,
  type EventHandlerFn,
  type HookFn,
  type HookName,
  type HostRules,
  type KillReason,
  type LayerRules,
  type LifecycleEvent,
  type LifecycleHook,
  type Metric,
  type MetricSpec,
  type Operation,
  type OperationHook,
  type PluginContext,
  type PluginDefinition,
  type PluginEvent,
  type PluginSetup,
  type RandomStreams,
  type Then,
  type Verdict,
} from "./define.js";
import { MetricStore } from "./metrics.js";

/** An exception in a plugin hook or event, naming the plugin, the hook, the node and the simulated time. */
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

type Entry = Record<string, unknown>;

/** A plugin as the driver keeps it. */
export interface PluginRecord {
  readonly plugin: PluginDefinition;
  /** Its index in the plugins given (its rank among hooks of equal order). */
  readonly index: number;
  /** The node kind of its layer. */
  readonly kind: number;
  rules?: LayerRules<Entry>;
  host?: (entry: Entry) => HostRules;
  /** Whether it hooks `provision` (its nodes then get ready when it says so). */
  provisions: boolean;
  ctx: Context;
}

interface Hook {
  plugin: number;
  name: HookName;
  kind: number;
  fn: HookFn;
  rank: number;
}

interface EventInfo {
  plugin: number;
  name: string;
  handler: EventHandlerFn;
}

const ORDER_RANK = { pre: 0, none: 1, post: 2 } as const;
const VERDICT = Object.freeze({}) as Verdict;
/**
 * Slots: at most 2^24 at once. A plugin's handle is generation * 2^24 + slot;
 * a kernel payload is the slot with the low 7 bits of its generation above it,
 * so an event of a slot released since (its node stopped) is known stale.
 */
const SLOT_SPAN = 2 ** 24;
const SLOT_MASK = SLOT_SPAN - 1;
const GEN_BITS = 0x7f;

/** Slots of plugin events in flight: the node, the payload, the kernel handle, a generation. */
const SLOT_COLUMNS: readonly ColumnSpec[] = [
  ["slotNode", Int32Array],
  ["slotPayload", Int32Array],
  ["slotHandle", Float64Array, -1],
  ["slotGen", Int32Array],
  ["slotLive", Int8Array],
];

export class PluginDriver {
  readonly plugins: PluginRecord[] = [];
  private readonly hooks: Hook[] = [];
  /** Sorted hook indices per lifecycle event, then per node kind. */
  private readonly lifecycleHooks: number[][][] = LIFECYCLE_EVENTS.map(() => []);
  /** Sorted operation hook indices per op kind, then per node kind. */
  private readonly operationHookList: number[][][] = OP_KINDS.map(() => []);
  private readonly events: EventInfo[] = [];
  /** Kernel event type of each plugin event. */
  private readonly eventTypes: EventType[] = [];
  readonly metrics = new MetricStore();
  /** The kill reasons the plugins declare (`PluginDefinition.kills`), checked as the model is built. */
  readonly kills: Readonly<Record<string, KillReason>>;
  /** Per-plugin random streams: the cache of each (plugin, purpose), by node. */
  private readonly streams: (Random | undefined)[][] = [];
  private readonly streamKeys: [plugin: string, purpose: string][] = [];
  private slotNode = new Int32Array(0);
  private slotPayload = new Int32Array(0);
  private slotHandle = new Float64Array(0);
  private slotGen = new Int32Array(0);
  private slotLive = new Int8Array(0);
  private slotCount = 0;
  private readonly slotFree: number[] = [];
  /** The node whose hook is running (the owner of auxiliary nodes it adds). */
  current = NONE;

  constructor(
    private readonly model: Model,
    plugins: readonly PluginDefinition[],
  ) {
    allocColumns(this, SLOT_COLUMNS, 16);
    plugins.forEach((p, index) => this.setupPlugin(p, index));
    this.kills = killReasons(plugins);
    this.hooks
      .map((h, i) => [h, i] as const)
      .sort(([a], [b]) => a.rank - b.rank)
      .forEach(([h, i]) => {
        const op = OP_KINDS.indexOf(h.name as never);
        const table = op >= 0 ? this.operationHookList[op] : this.lifecycleHooks[LIFECYCLE_EVENTS.indexOf(h.name as LifecycleEvent)];
        (table[h.kind] ??= []).push(i);
      });
  }

  /** Plugin event types registered. */
  get eventCount(): number {
    return this.events.length;
  }

  /** The plugin record of a node kind (undefined for `process` and `aux`). */
  layer(kind: number): PluginRecord | undefined {
    return this.plugins.find((p) => p.kind === kind);
  }

  /** Operation hooks of layer `kind` for op kind `k`, in order. */
  operationHooks(k: number, kind: number): readonly number[] {
    return this.operationHookList[k][kind] ?? EMPTY;
  }

  /** True when some layer hooks operation kind `k` (or `syscall`, which io and net also are). */
  hasOperationHooks(k: number): boolean {
    const has = (op: number): boolean => this.operationHookList[op].some((l) => l !== undefined && l.length > 0);
    return has(k) || ((k === IO_OP || k === NET_OP) && has(SYSCALL_OP));
  }

  /** True when `node`'s layer hooks lifecycle event `event`. */
  hasLifecycleHook(event: LifecycleEvent, node: number): boolean {
    return (this.lifecycleHooks[LIFECYCLE_EVENTS.indexOf(event)][this.model.nodes.kind[node]]?.length ?? 0) > 0;
  }

  /** Runs lifecycle hook `event` of `node`'s layer. */
  lifecycle(event: LifecycleEvent, node: number, payload = 0): void {
    const list = this.lifecycleHooks[LIFECYCLE_EVENTS.indexOf(event)][this.model.nodes.kind[node]];
    if (list === undefined) return;
    for (let i = 0; i < list.length; i++) this.call(list[i], node, payload);
  }

  /**
   * Runs the `measure` hooks of every live node whose layer has one: payload 0 as the measurement starts, 1 as it
   * ends. O(nodes) when some layer hooks it, else O(1).
   */
  measured(payload: 0 | 1): void {
    const table = this.lifecycleHooks[LIFECYCLE_EVENTS.indexOf("measure")];
    if (!table.some((l) => l !== undefined && l.length > 0)) return;
    const nodes = this.model.nodes;
    for (let n = 0; n < nodes.count; n++) if (!nodes.removed[n] && table[nodes.kind[n]] !== undefined) this.lifecycle("measure", n, payload);
  }

  /** Calls operation hook `hook` for `node`; its verdict goes to the pipeline. */
  callOperationHook(hook: number, node: number, op: Operation): void {
    this.call(hook, node, op);
  }

  private call(index: number, node: number, arg: number | Operation): void {
    const h = this.hooks[index];
    const previous = this.current;
    try {
      this.current = node;
      (h.fn as (ctx: PluginContext, node: number, arg: number | Operation) => Verdict | void)(this.plugins[h.plugin].ctx, node, arg);
    } catch (err) {
      if (err instanceof HookError) throw err;
      throw new HookError(this.plugins[h.plugin].plugin.name, h.name, node, this.model.sim.now, err);
    } finally {
      this.current = previous;
    }
  }

  // --- plugin events ---

  /** Schedules plugin event `event` for `node`; returns its handle. */
  schedule(event: number, delay: number, node: number, payload: number): number {
    const slot = this.slot(node, payload);
    this.slotHandle[slot] = this.model.sim.schedule(this.eventTypes[event], delay, this.payloadOf(slot));
    return this.handleOf(slot);
  }

  /** A slot for a resource request whose completion fires `event` (its kernel type, and the payload to give). */
  completion(event: number, node: number, payload: number): { type: EventType; slot: number } {
    return { type: this.eventTypes[event], slot: this.payloadOf(this.slot(node, payload)) };
  }

  /** Whether kernel event type `type` is a plugin event's. */
  ownsEvent(type: EventType): boolean {
    return this.eventTypes.includes(type);
  }

  /**
   * Nodes stop (they fail, restart or go): the plugin events pending for
   * them are cancelled, and the completions of their resource requests will
   * not fire. O(pending plugin events).
   */
  forget(stopped: ReadonlySet<number>): void {
    for (let slot = 0; slot < this.slotCount; slot++) {
      if (!this.slotLive[slot] || !stopped.has(this.slotNode[slot])) continue;
      if (this.slotHandle[slot] >= 0) this.model.sim.cancel(this.slotHandle[slot]);
      this.release(slot);
    }
  }

  /** A completion (its kernel payload) that will not come: its slot is freed. */
  drop(tag: number): void {
    const slot = tag & SLOT_MASK;
    if (this.slotLive[slot] && (this.slotGen[slot] & GEN_BITS) === tag >>> 24) this.release(slot);
  }

  private payloadOf(slot: number): number {
    return ((this.slotGen[slot] & GEN_BITS) << 24) | slot;
  }

  cancel(handle: number): boolean {
    const slot = handle % SLOT_SPAN;
    const gen = Math.floor(handle / SLOT_SPAN);
    if (!(slot >= 0 && slot < this.slotCount) || this.slotGen[slot] !== gen || this.slotHandle[slot] < 0) return false;
    const cancelled = this.model.sim.cancel(this.slotHandle[slot]);
    this.release(slot);
    return cancelled;
  }

  private slot(node: number, payload: number): number {
    let slot: number;
    if (this.slotFree.length > 0) slot = this.slotFree.pop()!;
    else {
      if (this.slotCount === SLOT_SPAN) throw new Error(`more than ${SLOT_SPAN} plugin events pending at once`);
      if (this.slotCount === this.slotNode.length) growColumns(this, SLOT_COLUMNS, this.slotCount * 2);
      slot = this.slotCount++;
    }
    this.slotNode[slot] = node;
    this.slotPayload[slot] = payload;
    this.slotHandle[slot] = -1;
    this.slotLive[slot] = 1;
    return slot;
  }

  private handleOf(slot: number): number {
    return this.slotGen[slot] * SLOT_SPAN + slot;
  }

  private release(slot: number): void {
    this.slotLive[slot] = 0;
    this.slotGen[slot] = (this.slotGen[slot] + 1) % SLOT_SPAN;
    this.slotHandle[slot] = -1;
    this.slotFree.push(slot);
  }

  private fire(event: number, tag: number): void {
    const slot = tag & SLOT_MASK;
    if ((this.slotGen[slot] & GEN_BITS) !== tag >>> 24) return; // its node stopped since
    const node = this.slotNode[slot];
    const payload = this.slotPayload[slot];
    this.release(slot);
    const e = this.events[event];
    const previous = this.current;
    try {
      this.current = node;
      e.handler(this.plugins[e.plugin].ctx, node, payload);
    } catch (err) {
      if (err instanceof HookError) throw err;
      throw new HookError(this.plugins[e.plugin].plugin.name, `event ${e.name}`, node, this.model.sim.now, err);
    } finally {
      this.current = previous;
    }
  }

  // --- setup ---

  private setupPlugin(plugin: PluginDefinition, index: number): void {
    const model = this.model;
    const twin = this.plugins.find((l) => l.plugin.layer === plugin.layer || l.plugin.name === plugin.name)?.plugin;
    if (twin?.layer === plugin.layer) throw new Error(`plugins ${twin.name} and ${plugin.name} both provide the layer "${plugin.layer}"`);
    if (twin) throw new Error(`two plugins are named "${plugin.name}" (layers ${twin.layer} and ${plugin.layer}); give each its own name`);
    const kind = model.nodes.kindId(plugin.layer);
    const record: PluginRecord = { plugin, index, kind, provisions: false, ctx: undefined as unknown as Context };
    record.ctx = new Context(model, this, record);
    this.plugins.push(record);
    const inSetup = (what: string): void => {
      if (model.built) throw new Error(`plugin ${plugin.name}: ${what} may be called only in setup`);
    };
    const api: PluginSetup<Entry> = {
      plugin: plugin.name,
      layer: plugin.layer,
      host: (rules) => {
        inSetup("api.host");
        if (plugin.layer !== "host") throw new Error(`plugin ${plugin.name}: host rules are for the host layer only`);
        if (typeof rules !== "function") throw new Error(`plugin ${plugin.name}: api.host takes a function of the host type`);
        record.host = rules;
      },
      layerRules: (rules) => {
        inSetup("api.layerRules");
        if (plugin.layer === "host") throw new Error(`plugin ${plugin.name}: the host layer registers host rules`);
        if (typeof rules?.size !== "function" || typeof rules.cpu !== "function") throw new Error(`plugin ${plugin.name}: layer rules need size and cpu functions`);
        record.rules = rules;
      },
      hook: (name, fn, options) => {
        inSetup("api.hook");
        if (!(OP_KINDS as readonly string[]).includes(name) && !(LIFECYCLE_EVENTS as readonly string[]).includes(name)) {
          throw new Error(`plugin ${plugin.name}: no hook "${name}"; hooks are ${[...OP_KINDS, ...LIFECYCLE_EVENTS].join(", ")}`);
        }
        if (typeof fn !== "function") throw new Error(`plugin ${plugin.name}: hook "${name}" needs a function`);
        const order = options?.order ?? "none";
        if (own(ORDER_RANK, order) === undefined) throw new Error(`plugin ${plugin.name}: hook order must be "pre" or "post", got ${JSON.stringify(order)}`);
        if (name === "provision") record.provisions = true;
        this.hooks.push({ plugin: index, name, kind, fn: fn as HookFn, rank: ORDER_RANK[order] * 1e9 + this.hooks.length });
      },
      extension: (name, type, initial) => {
        inSetup("api.extension");
        return model.nodes.extension(`${plugin.name}.${name}`, type, initial);
      },
      event: (name, handler) => {
        inSetup("api.event");
        if (typeof handler !== "function") throw new Error(`plugin ${plugin.name}: event "${name}" needs a handler function`);
        if (this.events.some((e) => e.plugin === index && e.name === name)) throw new Error(`plugin ${plugin.name}: event "${name}" is already registered`);
        const e = this.events.length;
        this.events.push({ plugin: index, name, handler: handler as EventHandlerFn });
        this.eventTypes.push(model.sim.on(`${plugin.name}.${name}`, (tag) => this.fire(e, tag)));
        return e as PluginEvent;
      },
      metric: (name, spec) => {
        inSetup("api.metric");
        return this.metricHandle(record, name, spec);
      },
      random: (purpose) => {
        inSetup("api.random");
        if (typeof purpose !== "string" || purpose === "") throw new Error(`plugin ${plugin.name}: api.random needs a purpose (a non-empty string)`);
        const s = this.streams.length;
        this.streams.push([]);
        this.streamKeys.push([plugin.name, purpose]);
        const streams: RandomStreams = {
          of: (node) => {
            record.ctx.node(node, `random "${purpose}"`);
            const cache = this.streams[s];
            return (cache[node] ??= Random.fromKey(model.sim.seed, "plugin", plugin.name, purpose, node));
          },
        };
        return streams;
      },
    };
    try {
      plugin.setup?.(api as PluginSetup<never>);
    } catch (err) {
      throw new Error(`plugin ${plugin.name}: its setup failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (plugin.layer === "host" && !record.host) throw new Error(`plugin ${plugin.name} provides the host layer but registers no host rules`);
    if (plugin.layer !== "host" && !record.rules) throw new Error(`plugin ${plugin.name} provides the layer "${plugin.layer}" but registers no layer rules`);
  }

  private metricHandle(record: PluginRecord, name: string, spec: MetricSpec): Metric {
    const store = this.metrics;
    const m = store.declare(record.plugin.name, record.plugin.layer, name, spec);
    const ctx = record.ctx;
    const per = spec.per ?? "node";
    const check = (node: number, x: number, use: string): void => {
      ctx.node(node, `metric ${name}`);
      if (per === "host" && this.model.nodes.parent[node] !== NONE) throw new Error(`metric ${name} is kept per host: node ${node} is not a host`);
      if (!Number.isFinite(x)) throw new Error(`metric ${name}: ${use} needs a finite number, got ${x}`);
    };
    const wrong = (use: string): Error => new Error(`metric ${name} is a ${spec.kind}: ${spec.kind === "counter" ? "add" : spec.kind === "histogram" ? "record" : "set"} its values, not ${use}`);
    return {
      name,
      add: (node, x = 1) => {
        if (spec.kind !== "counter") throw wrong("add");
        check(node, x, "add");
        store.add(m, x, node);
      },
      set: (node, x) => {
        if (spec.kind !== "gauge" && spec.kind !== "timeWeighted") throw wrong("set");
        check(node, x, "set");
        store.set(m, node, x, this.model.sim.now);
      },
      record: (node, x) => {
        if (spec.kind !== "histogram") throw wrong("record");
        check(node, x, "record");
        store.record(m, x);
      },
    };
  }
}

const EMPTY: readonly number[] = [];

/**
 * The host rules of the plugins' host layer, read without building a model
 * (for checks at load time): its `setup` runs against an API that keeps the
 * host rules and ignores the rest. Undefined without a host plugin.
 */
export function hostRulesOf(plugins: readonly PluginDefinition[]): ((hostType: Entry) => HostRules) | undefined {
  const plugin = plugins.find((p) => p.layer === "host");
  if (!plugin) return undefined;
  let rules: ((entry: Entry) => HostRules) | undefined;
  const ignore = (): void => {};
  const api: PluginSetup<Entry> = {
    plugin: plugin.name,
    layer: plugin.layer,
    host: (r) => void (rules = r),
    layerRules: ignore,
    hook: ignore,
    extension: (name, type, initial = 0) => ({ name, type, initial, data: new Float64Array(0) }),
    event: () => 0 as PluginEvent,
    metric: (name) => ({ name, add: ignore, set: ignore, record: ignore }),
    random: () => ({ of: () => Random.fromKey(0) }),
  };
  try {
    plugin.setup?.(api as PluginSetup<never>);
  } catch {
    return undefined; // the model build reports it, naming the plugin
  }
  return rules;
}

/** A plugin's context: what its hooks and events may see and do. */
class Context implements PluginContext {
  constructor(
    private readonly model: Model,
    private readonly driver: PluginDriver,
    private readonly record: PluginRecord,
  ) {}

  get now(): number {
    return this.model.sim.now;
  }

  /** Checks that `node` is a node of the tree that is not removed. */
  node(node: number, what: string): void {
    const nodes = this.model.nodes;
    if (!Number.isInteger(node) || node < 0 || node >= nodes.count) throw new Error(`${what}: no node ${node}`);
    if (nodes.removed[node]) throw new Error(`${what}: node ${node} is gone (its host or a layer above it failed)`);
  }

  /** Checks that `node` is a layer node (not a process or an auxiliary node). */
  private layerNode(node: number, what: string): void {
    this.node(node, what);
    if (this.model.driver.layer(this.model.nodes.kind[node]) === undefined) throw new Error(`${what}: node ${node} is a ${this.layerOf(node)}, not a layer node`);
  }

  parentOf(node: number): number {
    this.node(node, "parentOf");
    return this.model.nodes.parent[node];
  }

  hostOf(node: number): number {
    this.node(node, "hostOf");
    return this.model.nodes.host[node];
  }

  layerOf(node: number): string {
    if (!Number.isInteger(node) || node < 0 || node >= this.model.nodes.count) throw new Error(`layerOf: no node ${node}`);
    return this.model.nodes.kindNames[this.model.nodes.kind[node]];
  }

  hostRules(node: number): Readonly<HostRules> {
    this.node(node, "hostRules");
    return this.model.hostRules[this.model.hostIndex(this.model.nodes.host[node])];
  }

  entry(node: number): Entry {
    this.node(node, "entry");
    if (this.model.nodes.kind[node] !== this.record.kind) throw new Error(`entry: node ${node} is a ${this.layerOf(node)}, not a ${this.record.plugin.layer} of this plugin`);
    return this.model.entryOf(node);
  }

  memoryUsed(node: number): number {
    this.node(node, "memoryUsed");
    return this.model.nodes.usedMemory[node];
  }

  services(node: number): readonly Service[] {
    this.node(node, "services");
    return this.model.servicesBelow(node);
  }

  get scenario(): Readonly<Scenario> {
    if (this.model.scenario === undefined) throw new Error("scenario: the model is not built yet (read it in hooks and events, not in setup)");
    return this.model.scenario;
  }

  memoryLimit(node: number): number {
    this.node(node, "memoryLimit");
    return this.model.nodes.capacityMemory[node];
  }

  memoryHeld(node: number): number {
    this.layerNode(node, "memoryHeld");
    const m = this.model.memory;
    const holds = m.held[node];
    return holds === HOLDS_RESERVED ? Math.max(this.model.nodes.requestMemory[node], this.model.nodes.usedMemory[node]) : holds === HOLDS_TOUCHED ? m.touched[node] : this.model.nodes.usedMemory[node];
  }

  useMemory(node: number, bytes: number): void {
    this.layerNode(node, "useMemory");
    if (!Number.isFinite(bytes)) throw new Error(`useMemory: bytes must be a finite number, got ${bytes}`);
    if (this.model.memory.own[node] + bytes < -1e-9) throw new Error(`useMemory: node ${node} uses ${this.model.memory.own[node]} B itself; it cannot give back ${-bytes} B`);
    this.model.memory.useOwn(node, bytes);
  }

  reclaimMemory(node: number, bytes: number): number {
    this.layerNode(node, "reclaimMemory");
    if (this.model.memory.held[node] !== HOLDS_TOUCHED) throw new Error(`reclaimMemory: node ${node} is a ${this.layerOf(node)}, whose layer does not hold what it touched (holds: "touched")`);
    if (!(bytes >= 0)) throw new Error(`reclaimMemory: bytes must be >= 0, got ${bytes}`);
    return this.model.memory.reclaim(node, bytes);
  }

  watchMemory(node: number, bytes: number, event: PluginEvent): void {
    this.event(event, "watchMemory");
    this.node(node, "watchMemory");
    if (!(bytes >= 0)) throw new Error(`watchMemory: bytes must be >= 0 (Infinity ends the watch), got ${bytes}`);
    this.model.memory.watch(node, bytes, event);
  }

  childrenOf(node: number): number[] {
    this.node(node, "childrenOf");
    return this.model.nodes.children(node);
  }

  addAuxiliary(parent: number, name: string, memory = 0, cores = Infinity): number {
    this.node(parent, "addAuxiliary");
    if (this.model.nodes.parent[parent] !== NONE && this.model.driver.layer(this.model.nodes.kind[parent]) === undefined) {
      throw new Error(`addAuxiliary: node ${parent} is a ${this.layerOf(parent)}; an auxiliary node goes under a host or a layer node`);
    }
    if (typeof name !== "string" || name === "") throw new Error("addAuxiliary needs a name");
    if (!(memory >= 0) || !Number.isFinite(memory)) throw new Error(`addAuxiliary: memory must be a finite number of bytes >= 0, got ${memory}`);
    if (!(cores > 0)) throw new Error(`addAuxiliary: cores must be > 0, got ${cores}`);
    return this.model.addAuxiliary(parent, name, memory, cores, this.driver.current);
  }

  sharedAuxiliary(owner: number, name: string, memory = 0, cores = Infinity): number {
    this.node(owner, "sharedAuxiliary");
    if (this.model.nodes.parent[owner] !== NONE && this.model.driver.layer(this.model.nodes.kind[owner]) === undefined) {
      throw new Error(`sharedAuxiliary: node ${owner} is a ${this.layerOf(owner)}; a shared auxiliary node is held by a host or a layer node`);
    }
    if (typeof name !== "string" || name === "") throw new Error("sharedAuxiliary needs a name");
    if (!(memory >= 0) || !Number.isFinite(memory)) throw new Error(`sharedAuxiliary: memory must be a finite number of bytes >= 0, got ${memory}`);
    if (!(cores > 0)) throw new Error(`sharedAuxiliary: cores must be > 0, got ${cores}`);
    return this.model.auxiliaryOf(owner, name) ?? this.model.addAuxiliary(owner, name, memory, cores, owner);
  }

  kernelOf(node: number): number {
    this.node(node, "kernelOf");
    return this.model.kernelOf(node);
  }

  private operation(what: string): void {
    if (!this.model.pipeline.active) throw new Error(`${what} is a verdict: return it from an operation hook (cpu, mem, io, net, syscall)`);
  }

  delay(seconds: number): Verdict {
    this.operation("delay");
    if (!(seconds >= 0) || !Number.isFinite(seconds)) throw new Error(`delay: seconds must be a finite number >= 0, got ${seconds}`);
    this.model.pipeline.addDelay(seconds);
    return VERDICT;
  }

  charge(node: number, work: number, options?: { wait?: boolean; serial?: boolean }): Verdict {
    this.operation("charge");
    // The calling thread itself may be charged (a trap's CPU), never another process.
    if (node !== this.model.pipeline.process) this.leaf(node, "charge");
    if (!(work >= 0) || !Number.isFinite(work)) throw new Error(`charge: work must be a finite number of core-seconds >= 0, got ${work}`);
    if (options?.serial === true) {
      // A serial back end is a helper thread that I/Os queue for, not the calling thread.
      this.leaf(node, "charge with serial");
      this.model.pipeline.serial(node);
    }
    this.model.pipeline.collect(node, work, options?.wait === true);
    return VERDICT;
  }

  reject(reason: string): Verdict {
    this.operation("reject");
    if (typeof reason !== "string" || reason === "") throw new Error("reject needs a reason (a non-empty string)");
    this.model.pipeline.reject(reason);
    return VERDICT;
  }

  /** Checks that `node` is an auxiliary node: where a plugin's CPU work runs. */
  private leaf(node: number, what: string): void {
    this.node(node, what);
    if (this.layerOf(node) !== "aux") throw new Error(`${what}: node ${node} is a ${this.layerOf(node)}; a plugin's CPU work runs on an auxiliary node (addAuxiliary)`);
  }

  setCpu(node: number, settings: CpuSettings): void {
    this.node(node, "setCpu");
    if (this.model.nodes.parent[node] === NONE) throw new Error(`setCpu: node ${node} is a host; a host's cores are its host rules'`);
    const { weight, cap, bandwidth } = settings ?? {};
    if (weight !== undefined && weight !== "runnable") {
      const w = typeof weight === "object" && weight !== null ? weight.runnable : weight;
      if (!(typeof w === "number" && w > 0 && Number.isFinite(w))) throw new Error(`setCpu: weight must be > 0, "runnable" or { runnable: w > 0 }, got ${JSON.stringify(weight)}`);
    }
    if (cap !== undefined && !(cap > 0)) throw new Error(`setCpu: cap must be > 0 cores (Infinity for none), got ${cap}`);
    if (bandwidth && !(bandwidth.quota > 0 && bandwidth.period > 0 && Number.isFinite(bandwidth.quota) && Number.isFinite(bandwidth.period))) {
      throw new Error(`setCpu: bandwidth needs quota and period > 0, got ${JSON.stringify(bandwidth)}`);
    }
    this.model.setCpu(node, settings);
  }

  setMemoryLimit(node: number, bytes: number): void {
    this.layerNode(node, "setMemoryLimit");
    if (!(bytes >= 0) || Number.isNaN(bytes)) throw new Error(`setMemoryLimit: bytes must be >= 0, got ${bytes}`);
    this.model.setMemoryLimit(node, bytes);
  }

  setSlowdown(node: number, factor: number): void {
    this.node(node, "setSlowdown");
    if (!(factor >= 1) || !Number.isFinite(factor)) throw new Error(`setSlowdown: factor must be a finite number >= 1, got ${factor}`);
    this.model.cpu.setSlowdown(node, factor);
  }

  failNode(node: number, reason: string): void {
    this.layerNode(node, "failNode");
    if (this.model.nodes.parent[node] === NONE) throw new Error(`failNode: node ${node} is a host; hosts fail through the scenario's failures`);
    if (typeof reason !== "string" || reason === "") throw new Error("failNode needs a reason (a non-empty string)");
    // Kills are counted per reason (results' `kills`); restartNode's own reason would make a restart look like one.
    if (reason === RESTART) throw new Error(`failNode: "${RESTART}" is the reason of restartNode; give the kill a reason of its own, the one the plugin declares in its kills`);
    this.model.requestAction(node, -1, reason);
  }

  restartNode(node: number, options: { after: number }): void {
    this.layerNode(node, "restartNode");
    if (this.model.nodes.parent[node] === NONE) throw new Error(`restartNode: node ${node} is a host; hosts fail through the scenario's failures`);
    const after = options?.after;
    if (!(after >= 0)) throw new Error(`restartNode: after must be a number of seconds >= 0 (Infinity: it stays down), got ${after}`);
    this.model.requestAction(node, after, RESTART);
  }

  setReady(node: number): void {
    this.layerNode(node, "setReady");
    if (this.model.nodes.kind[node] !== this.record.kind) throw new Error(`setReady: node ${node} is a ${this.layerOf(node)}; a plugin readies its own layer's nodes`);
    if (!this.record.provisions) throw new Error(`setReady: layer ${this.record.plugin.layer} does not hook provision; its nodes get ready after their provisioning time`);
    if (!this.model.provisionsItself(node)) throw new Error(`setReady: node ${node} is left to its provisioning time by its layer's provisions rule`);
    this.model.setReady(node);
  }

  provisioning(node: number): boolean {
    this.node(node, "provisioning");
    return this.model.isProvisioning(node);
  }

  trackSteal(node: number): void {
    this.layerNode(node, "trackSteal");
    this.model.cpu.trackSteal(node);
  }

  steal(node: number): number {
    this.node(node, "steal");
    return this.model.cpu.stealOf(node);
  }

  bandwidthStats(node: number): BandwidthStats {
    this.node(node, "bandwidthStats");
    const cpu = this.model.cpu;
    return cpu.hasBandwidth(node) ? cpu.bandwidthStats(node) : { nrPeriods: 0, nrThrottled: 0, throttledTime: 0 };
  }

  freeze(node: number, paused: boolean): void {
    this.layerNode(node, "freeze");
    if (this.model.nodes.parent[node] === NONE) throw new Error(`freeze: node ${node} is a host; a plugin pauses the layer nodes on it`);
    this.model.cpu.freeze(node, paused === true);
  }

  moveNode(node: number, to: number, figures: { start: number; rounds: number; bytes: number; downtime: number }): boolean {
    this.layerNode(node, "moveNode");
    this.node(to, "moveNode");
    const nodes = this.model.nodes;
    if (nodes.parent[to] !== NONE) throw new Error(`moveNode: node ${to} is a ${this.layerOf(to)}; a node moves to a host`);
    if (nodes.parent[node] !== nodes.host[node]) throw new Error(`moveNode: node ${node} is inside a ${this.layerOf(nodes.parent[node])}; only a node directly on a host moves`);
    if (nodes.host[node] === to) throw new Error(`moveNode: node ${node} is on host ${to} already`);
    const { start, rounds, bytes, downtime } = figures ?? {};
    for (const [k, v] of Object.entries({ start, rounds, bytes, downtime })) {
      if (!(typeof v === "number" && v >= 0 && Number.isFinite(v))) throw new Error(`moveNode: figures.${k} must be a finite number >= 0, got ${v}`);
    }
    if (start > this.now) throw new Error(`moveNode: figures.start (${start}) is after now (${this.now})`);
    return this.model.moveNode(node, to, { start, rounds, bytes, downtime });
  }

  work(node: number, work: number, then?: Then): void {
    this.leaf(node, "work");
    if (!(work >= 0) || !Number.isFinite(work)) throw new Error(`work: work must be a finite number of core-seconds >= 0, got ${work}`);
    const done = this.completion(then, node, "work");
    this.model.cpu.start(node, work, 1, done.type, done.slot);
  }

  io(host: number, bytes: number, options: Then & { write?: boolean; random?: boolean }): void {
    this.node(host, "io");
    if (!this.model.disk.has(host)) throw new Error(`io: node ${host} is not a host with a disk`);
    if (!(bytes >= 0) || !Number.isFinite(bytes)) throw new Error(`io: bytes must be a finite number >= 0, got ${bytes}`);
    const done = this.completion(options, host, "io");
    this.model.disk.submit(host, bytes, options.random === true, options.write === true, 0, done.type, done.slot);
  }

  transfer(from: number, to: number, bytes: number, options: Then & { latency?: number; rate?: number }): void {
    for (const end of [from, to]) {
      if (end === EXTERNAL) continue;
      this.node(end, "transfer");
      if (!this.model.net.hasNic(end)) throw new Error(`transfer: node ${end} is not a host with a NIC`);
    }
    if (from === EXTERNAL && to === EXTERNAL) throw new Error("transfer: one end must be a host");
    if (!(bytes >= 0) || !Number.isFinite(bytes)) throw new Error(`transfer: bytes must be a finite number >= 0, got ${bytes}`);
    const latency = options.latency ?? 0;
    if (!(latency >= 0) || !Number.isFinite(latency)) throw new Error(`transfer: latency must be a finite number of seconds >= 0, got ${latency}`);
    const rate = options.rate ?? Infinity;
    if (!(rate > 0)) throw new Error(`transfer: rate must be a number of bytes per second > 0, got ${rate}`);
    const done = this.completion(options, to === EXTERNAL ? from : to, "transfer");
    this.model.net.send(from, to, bytes, latency, done.type, done.slot, rate);
  }

  private completion(then: Then | undefined, node: number, what: string): { type: EventType; slot: number } {
    if (then === undefined) return { type: NONE, slot: 0 };
    this.event(then.then, what);
    const target = then.node ?? (this.driver.current !== NONE ? this.driver.current : node);
    this.node(target, what);
    const payload = then.payload ?? 0;
    if (payload !== (payload | 0)) throw new Error(`${what}: payload must be an int32, got ${payload}`);
    return this.driver.completion(then.then, target, payload);
  }

  private event(event: PluginEvent, what: string): void {
    if (!Number.isInteger(event) || event < 0 || event >= this.driver.eventCount) throw new Error(`${what}: ${event} is not a plugin event (use what api.event returned)`);
  }

  schedule(event: PluginEvent, delay: number, node: number, payload = 0): number {
    this.event(event, "schedule");
    this.node(node, "schedule");
    if (!(delay >= 0) || !Number.isFinite(delay)) throw new Error(`schedule: delay must be a finite number of seconds >= 0, got ${delay}`);
    if (payload !== (payload | 0)) throw new Error(`schedule: payload must be an int32, got ${payload}`);
    return this.driver.schedule(event, delay, node, payload);
  }

  cancel(handle: number): boolean {
    if (!Number.isInteger(handle) || handle < 0) throw new Error(`cancel: ${handle} is not a handle from schedule`);
    return this.driver.cancel(handle);
  }
}

