/**
 * Plugin definitions. A plugin provides one layer kind (`host`, `vm`,
 * `container`, ...): the schema of that layer's scenario entries, and in
 * `setup` the layer's rules (placement sizes, CPU weight and cap, its static
 * contribution to each path) and its synchronous hooks. The engine ships no
 * layer; plugins are chosen by name, and a third-party plugin is an npm
 * package exporting the same shape.
 */
import type { z } from "zod";
import type { ExtensionColumn } from "../tree/nodes.js";

/** Operation kinds that travel a process's path (DESIGN.md, The layered path). */
export const OP_KINDS = ["cpu", "mem", "io", "net"] as const;
export type OpKind = (typeof OP_KINDS)[number];

/** Lifecycle events of a node; `pressure` fires with payload 1 when its memory use exceeds its limit, 0 when back under. */
export const LIFECYCLE_EVENTS = ["create", "ready", "fail", "pressure"] as const;
export type LifecycleEvent = (typeof LIFECYCLE_EVENTS)[number];

export type HookName = OpKind | LifecycleEvent;

/** Cores and bytes. */
export interface Resources {
  cores: number;
  memory: number;
}

/** What a host plugin says of one host type. */
export interface HostRules {
  cores: number;
  /** Relative speed: a core does `speed` nominal core-seconds of work per second. */
  speed: number;
  memory: number;
  /** Power draw, linear in CPU utilisation from `idle` to `max` watts. */
  power?: { idle: number; max: number };
  /** Price of running the host, per hour. */
  costPerHour?: number;
  /** Seconds to start a process on the host (the last step before a replica is ready). Default 0. */
  processStart?: number;
  /** CPU work runs this many times slower while the host's memory is overcommitted (swapping). Default 1. */
  swapSlowdown?: number;
  /** The host's NIC: bandwidth each way (bytes/s) and latency (s). */
  nic?: { bandwidth: number; latency: number };
  /** The host's disk: random IOPS, bandwidth (bytes/s), latency (s), queue depth. */
  disk?: { iops: number; bandwidth: number; latency: number; queueDepth: number };
}

/**
 * How a node competes for CPU (DESIGN.md, Resource models: CPU). `weight` is
 * a number (a container: cpu.weight / 100) or `"runnable"`: the number of
 * runnable threads below the node, capped at `cap` (a VM: its runnable vCPUs).
 */
export interface CpuRules {
  weight: number | "runnable";
  /** Most cores the node may use at once (a VM: its vCPUs; a container: its limit). Default: no cap. */
  cap?: number;
  /** CFS bandwidth control (`cpu.max`): `quota` core-seconds per `period` seconds. */
  bandwidth?: { quota: number; period: number };
}

/** A layer's contribution to the static record of every path through it. */
export interface PathContribution {
  /** Work charged to the host per unit of work done (0.98 means work / 0.98 is charged). Factors multiply. */
  cpuFactor?: number;
  /** One-way latency added to each operation of a kind, seconds. Adders add. */
  latency?: Partial<Record<OpKind, number>>;
  /** Fixed memory of one instance of the layer (VMM, guest kernel, runtime), bytes. */
  memoryOverhead?: number;
  /** Time to provision and start one instance of the layer, seconds. */
  provisioning?: number;
  /**
   * CPU work charged elsewhere per operation of a kind: to the auxiliary node
   * named `aux` that this layer's node created in its `create` hook (a virtio
   * I/O thread, a network back-end), `work` nominal core-seconds each.
   */
  charge?: Partial<Record<OpKind, { aux: string; work: number }>>;
}

/** The rules of a non-host layer, given one of its normalised scenario entries. */
export interface LayerRules<Entry> {
  /** What a node takes from its parent (`request`) and offers its children (`capacity`). */
  size(entry: Entry, parentCapacity: Resources): { request: Resources; capacity: Resources };
  cpu(entry: Entry): CpuRules;
  path?(entry: Entry): PathContribution;
  /**
   * True when a node of this layer runs its own OS kernel (a VM; or per entry,
   * such as a Kata container's sandbox VM): counted in results' `kernels`, and
   * when its CPU rules give a cap (its vCPUs), their steal is kept (`hosts.steal`).
   */
  kernel?: boolean | ((entry: Entry) => boolean);
}

/** What a hook sees: the simulated time and the node of the hook's layer on the path. */
export interface HookContext {
  readonly now: number;
  /**
   * Adds an auxiliary node (a VMM, a virtio I/O thread) under `parent`; it
   * consumes CPU (at most `cores` at once) and `memory` bytes of its parent.
   */
  addAuxiliary(parent: number, name: string, memory?: number, cores?: number): number;
  /** The parent of a node (-1 for a host). */
  parentOf(node: number): number;
}

/** A synchronous hook: runs in simulated time, allocates nothing on hot paths. */
export type HookFn = (ctx: HookContext, node: number, payload: number) => void;

export interface HookOptions {
  order?: "pre" | "post";
}

/** What `setup` receives. */
export interface PluginSetup<Entry> {
  readonly plugin: string;
  readonly layer: string;
  /** Rules of a host layer (only for `layer: "host"`). */
  host(rules: (entry: Entry) => HostRules): void;
  /** Rules of a stacked layer. */
  layerRules(rules: LayerRules<Entry>): void;
  /** Registers a hook for an operation kind or a lifecycle event of this layer's nodes. */
  hook(name: HookName, fn: HookFn, options?: HookOptions): void;
  /** Declares a per-node column (snapshotted with the tree). */
  extension(name: string, type: "f64" | "i32", initial?: number): ExtensionColumn;
}

export interface PluginDefinition<S extends z.ZodObject = z.ZodObject> {
  /** Unique plugin name, e.g. `hypervisor`. */
  readonly name: string;
  /** The layer kind this plugin provides, e.g. `vm`; `host` for the root of every stack. */
  readonly layer: string;
  /** Plugin version, reported in results manifests. */
  readonly version: string;
  /**
   * Validates and normalises the plugin's scenario entries (build it with
   * `fields`, `unitValue`, ... so errors and JSON Schema match the rest).
   * The engine adds `layer` and `per` to stack entries itself.
   */
  readonly schema: S;
  /** Registers the layer's rules, hooks and extension columns. Runs once per model. */
  setup?(api: PluginSetup<z.output<S>>): void;
}

const NAME = /^[a-z][a-z0-9-]*$/;

/** Checks a plugin definition and freezes it. */
export function definePlugin<S extends z.ZodObject>(plugin: PluginDefinition<S>): PluginDefinition<S> {
  if (!NAME.test(plugin.name)) throw new Error(`plugin name "${plugin.name}" must be lower-case letters, digits and '-'`);
  if (!NAME.test(plugin.layer)) throw new Error(`plugin ${plugin.name}: layer "${plugin.layer}" must be lower-case letters, digits and '-'`);
  if (plugin.layer === "process" || plugin.layer === "aux") throw new Error(`plugin ${plugin.name}: layer "${plugin.layer}" is the engine's own node kind`);
  for (const reserved of ["layer", "per"]) {
    if (plugin.layer !== "host" && reserved in plugin.schema.shape) {
      throw new Error(`plugin ${plugin.name}: its schema must not define "${reserved}" (the engine adds it to every stack entry)`);
    }
  }
  return Object.freeze(plugin);
}

/** The plugin definitions a module exports (a third-party plugin package), in export order. */
export function pluginsOf(module: Record<string, unknown>): PluginDefinition[] {
  return Object.values(module).filter(
    (v): v is PluginDefinition =>
      typeof v === "object" && v !== null && typeof (v as PluginDefinition).name === "string" && typeof (v as PluginDefinition).layer === "string" && typeof (v as { schema?: { shape?: unknown } }).schema?.shape === "object",
  );
}
