/**
 * Plugin definitions (plugin API v2). A plugin provides one layer kind
 * (`host`, `vm`, `container`, ...): the schema of that layer's scenario
 * entries, and in `setup` the layer's rules (placement sizes, CPU weight and
 * cap, its static contribution to each path), its hooks, events, metrics and
 * per-node columns. The engine ships no layer; plugins are chosen by name, and
 * a third-party plugin is an npm package exporting the same shape.
 *
 * Two halves (DESIGN.md, Plugins that act): declarative rules, resolved once
 * per path into a compact record (the fast path), and a dynamic half: hooks
 * that see each operation and return a verdict, events a plugin schedules,
 * and runtime control of nodes (CPU, memory limit, slowdown, failure,
 * restart, readiness). docs/plugins.md has the whole API in one table.
 */
import type { z } from "zod";
import type { Random } from "../random/random.js";
import type { ExtensionColumn } from "../tree/nodes.js";
import type { BandwidthStats, CpuWeight } from "../cpu/solver.js";
import type { Scenario, Service } from "../scenario/schema.js";

export type { BandwidthStats, CpuWeight };

/**
 * The reason requests fail with when a layer restarts a node in place (`ctx.restartNode`, a guest kernel's reboot):
 * the engine's own, so no kill (`ctx.failNode`) may give it.
 */
export const RESTART = "restart";

/**
 * Operation kinds that travel a process's path (DESIGN.md, The layered path).
 * `syscall` is a request's `syscall: n` step; each I/O and each message end
 * also counts as one system call for layers that hook `syscall`.
 */
export const OP_KINDS = ["cpu", "mem", "io", "net", "syscall"] as const;
export type OpKind = (typeof OP_KINDS)[number];

/**
 * Lifecycle events of a node. `create`: a new node of the layer is placed
 * (add its auxiliary nodes here). `provision`: its parent is ready; a layer
 * that hooks it provisions its nodes itself (consuming CPU, disk, network)
 * and calls `ctx.setReady(node)` when done. `ready`: it runs. `fail`: it
 * fails (with its host, or by `failNode`). `pressure`: payload 1 when its
 * memory use exceeds its limit, 0 when back under. `measure`: for every live
 * node of the layer, payload 0 when the measurement starts (the warm-up
 * ends), 1 when it ends (before results are read: record a per-node figure).
 * `migrate`: a scenario action asks the node (directly on a host) to move;
 * payload is the target host node, and the plugin moves it with
 * `ctx.moveNode` when done.
 */
export const LIFECYCLE_EVENTS = ["create", "provision", "ready", "fail", "pressure", "measure", "migrate"] as const;
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
  /** Joules a host draws over `seconds` in which its cores were busy `busyCoreSeconds` (its power curve). */
  energy?(busyCoreSeconds: number, seconds: number): number;
  /** Price of running the host, per hour. */
  costPerHour?: number;
  /** Seconds to start a process on the host (the last step before a replica is ready). Default 0. */
  processStart?: number;
  /** Seconds a planned reboot takes, from going down to taking placements again (a kernel patch rollout). Default 0. */
  reboot?: number;
  /** Core-seconds one system call costs on the host (a `syscall` step). Default 0. */
  syscallCost?: number;
  /** The host's NIC: bandwidth each way (bytes/s) and latency (s). */
  nic?: { bandwidth: number; latency: number };
  /** The host's disk: random IOPS, bandwidth (bytes/s), latency (s), queue depth. */
  disk?: { iops: number; bandwidth: number; latency: number; queueDepth: number };
}

/**
 * How a node competes for CPU (DESIGN.md, Resource models: CPU). `weight` is
 * a number (a container: cpu.weight / 100), `"runnable"`: the number of
 * runnable threads below the node, capped at `cap` (a VM: its runnable vCPUs),
 * or `{ runnable: w }`: w times that (a VM of `weight: w`).
 */
export interface CpuRules {
  weight: CpuWeight;
  /** Most cores the node may use at once (a VM: its vCPUs; a container: its limit). Default: no cap. */
  cap?: number;
  /** CFS bandwidth control (`cpu.max`): `quota` core-seconds per `period` seconds. */
  bandwidth?: { quota: number; period: number };
}

/** CPU work charged to an auxiliary node per operation (see `PathContribution.charge`). */
export interface StaticCharge {
  /** The name the layer's `create` hook gave the auxiliary node. */
  aux: string;
  /** Nominal core-seconds per operation (per system call for `syscall`). */
  work: number;
  /** The operation goes on only once this work is served (a saturated back-end then lowers throughput). Default false. */
  wait?: boolean;
}

/** A layer's contribution to the static record of every path through it. */
export interface PathContribution {
  /** Work charged to the host per unit of work done (0.98 means work / 0.98 is charged). Factors multiply. */
  cpuFactor?: number;
  /** One-way latency added to each operation of a kind (`syscall`: per system call), seconds. Adders add. */
  latency?: Partial<Record<OpKind, number>>;
  /** Fixed memory of one instance of the layer (VMM, guest kernel, runtime), bytes. */
  memoryOverhead?: number;
  /** Time to provision and start one instance of the layer, seconds (unless the layer hooks `provision`). */
  provisioning?: number;
  /** CPU work charged per operation of a kind to an auxiliary node this layer's node created in its `create` hook. */
  charge?: Partial<Record<OpKind, StaticCharge>>;
}

/** The rules of a non-host layer, given one of its normalised scenario entries. */
export interface LayerRules<Entry> {
  /** What a node takes from its parent (`request`) and offers its children (`capacity`). */
  size(entry: Entry, parentCapacity: Resources): { request: Resources; capacity: Resources };
  cpu(entry: Entry): CpuRules;
  path?(entry: Entry): PathContribution;
  /**
   * What a node of the layer holds of its parent's memory, beside its
   * overhead: `"used"` (the default: what its subtree uses now, as a
   * container or a sandbox), `"reserved"` (its whole request whatever its
   * subtree uses) or `"touched"` (the most its subtree has used, as a VM whose
   * guest keeps the pages it touched, until `ctx.reclaimMemory` gives back
   * what it no longer uses: a balloon).
   */
  holds?: "used" | "reserved" | "touched";
  /**
   * Whether a node built from `entry` provisions itself, for a layer that hooks `provision` (default: every node):
   * false leaves the node to the static `provisioning` time, so a mechanism applies only where a scenario asks for it
   * (a container pulls its image only where the scenario declares a registry). Called once per node as it is placed.
   */
  provisions?(entry: Entry, scenario: Readonly<Scenario>): boolean;
  /** True when a node of this layer runs its own OS kernel (a VM; or per entry, a Kata sandbox): counted in `kernels`. */
  kernel?: boolean | ((entry: Entry) => boolean);
  /**
   * The image a node of the layer starts from (a VM's disk image, a container image), or undefined when it has none:
   * counted in `images` (distinct images to maintain) and moved in `portability` (bytes to start one replica on a
   * new host). Called once per entry when results are assembled, never during a run, with the scenario (whose
   * top-level `images` an entry may name).
   */
  image?(entry: Entry, scenario: Readonly<Scenario>): LayerImage | undefined;
}

/**
 * An image a layer's node starts from. Images with the same `name` are one image to maintain; without a name, each
 * service on the layer has its own (an application image built per service).
 */
export interface LayerImage {
  name?: string;
  /** Bytes to copy to a host that does not have it. */
  bytes: number;
}

/**
 * An operation as a hook sees it. One object is reused for every operation:
 * read it during the hook, never keep it.
 */
export interface Operation {
  readonly kind: OpKind;
  /** The process node that performs it. */
  readonly process: number;
  /** The request it belongs to (an id that is stable while the request is in flight), or -1. */
  readonly request: number;
  /** cpu: nominal core-seconds; mem, io, net: bytes; syscall: the number of system calls. */
  readonly amount: number;
  /** System calls it counts as: a syscall step's count, 1 for each I/O and each message end, else 0. */
  readonly syscalls: number;
  /** io: a write (else a read); mem: an allocation. */
  readonly write: boolean;
  /** io: random (else sequential). */
  readonly random: boolean;
  /** net: the end of the message this path is at; "none" for other kinds. */
  readonly direction: "send" | "receive" | "none";
  /**
   * net: the process at the message's other end, or -1 for a client outside the fabric (ingress); -1 for other kinds.
   * What a layer needs to tell a message that stays in a network namespace (a pod's loopback) from one that leaves it.
   */
  readonly peer: number;
}

declare const VERDICT: unique symbol;
/** What an operation hook returns: made by `ctx.delay`, `ctx.charge` or `ctx.reject`; returning nothing passes. */
export type Verdict = { readonly [VERDICT]: true };

declare const EVENT: unique symbol;
/** A plugin event type (from `api.event`), scheduled with `ctx.schedule`. */
export type PluginEvent = number & { readonly [EVENT]: true };

/** CPU settings a plugin changes at run time (`ctx.setCpu`); absent fields stay as they are. */
export interface CpuSettings {
  weight?: CpuWeight;
  /** Cores; Infinity removes the cap. */
  cap?: number;
  /** CFS budget, or null to remove it. */
  bandwidth?: { quota: number; period: number } | null;
}

/** Where a resource request's completion goes: a plugin event fired with a node and an integer payload. */
export interface Then {
  then: PluginEvent;
  /** The node the event is for (default: the node whose hook or event asks; else the node the work is on). */
  node?: number;
  /** int32 payload (default 0). */
  payload?: number;
}

/**
 * What a hook or an event handler receives. Every call validates its
 * arguments and fails the run naming the plugin, the hook, the node and the
 * simulated time.
 */
export interface PluginContext<Entry = Record<string, unknown>> {
  /** Simulated time, seconds. */
  readonly now: number;
  /** The parent of a node (-1 for a host). */
  parentOf(node: number): number;
  /** The host a node is on. */
  hostOf(node: number): number;
  /** The layer kind of a node (`host`, `vm`, ..., `process`, `aux`). */
  layerOf(node: number): string;
  /** The validated stack entry a node of this plugin's layer was built from (for the host plugin: the host type). */
  entry(node: number): Entry;
  /**
   * The rules of the host a node is on (its cores, speed, memory, disk, NIC), as its host plugin gave them: what a
   * plugin sizes its own work by (a VM's boot reads from the host's disk only when it has one).
   */
  hostRules(node: number): Readonly<HostRules>;
  /** Bytes a node holds now (its overhead, its children's and processes' memory), and its limit (placement capacity). */
  memoryUsed(node: number): number;
  memoryLimit(node: number): number;
  /** Bytes a layer node holds in its parent beside its overhead: for `holds: "touched"`, the most it used less what was reclaimed. */
  memoryHeld(node: number): number;
  /** Adds `bytes` (negative: gives back) that a layer node uses itself inside its capacity (a guest kernel's reservation): its use, not its reservation. */
  useMemory(node: number, bytes: number): void;
  /** Gives back to its parent up to `bytes` that a `holds: "touched"` node touched and no longer uses (a balloon); returns the bytes given back. */
  reclaimMemory(node: number, bytes: number): number;
  /**
   * Watches a node's memory use against `bytes`: `event` fires for the node, in an event of its own, with payload 1 when
   * its use rises above `bytes` (at once if it is above already) and 0 when it is back at or under. One watch per node:
   * a later call replaces it; `bytes` Infinity ends it.
   */
  watchMemory(node: number, bytes: number, event: PluginEvent): void;
  /** The nodes directly below `node` (layer nodes, processes, auxiliary nodes), most recently added first. A new array. */
  childrenOf(node: number): number[];
  /** The validated scenario records of the services whose processes run below `node`, one per process. O(subtree). */
  services(node: number): readonly Service[];
  /**
   * The validated, normalised scenario the model was built from: its top-level fields (`images`, `registry`,
   * `network`, ...) for what a plugin's mechanism reads beyond its own entries. Read it, never change it. O(1).
   */
  readonly scenario: Readonly<Scenario>;
  /**
   * Adds an auxiliary node (a VMM, a virtio I/O thread, a gVisor Sentry) under
   * `parent`; it consumes CPU (at most `cores` at once) and `memory` bytes of
   * its parent. In `create` hooks (and later, from events).
   */
  addAuxiliary(parent: number, name: string, memory?: number, cores?: number): number;
  /**
   * The auxiliary node `name` that `owner` (a host or a layer node) holds: the one it has, else one added under it now
   * with `memory` and `cores`. Owned by `owner`, not by the caller: shared by every node that asks for it (a host's
   * network softirq path, which every bridged container on the host uses) and going only when `owner` goes. O(1).
   */
  sharedAuxiliary(owner: number, name: string, memory?: number, cores?: number): number;
  /** The nearest node at or above `node` that runs an OS kernel: a layer node whose rules say `kernel`, else its host. O(depth). */
  kernelOf(node: number): number;

  // Verdicts: in operation hooks only.
  /** The operation takes `seconds` more (added to its path's latency). */
  delay(seconds: number): Verdict;
  /**
   * `work` nominal core-seconds on leaf `node`: an auxiliary node, or the operation's own process (CPU on the calling
   * thread, as a system call's trap); with `wait`, the operation goes on once it is served.
   * With `serial` (io operations only, `node` an auxiliary node), `node` serves one operation at a time, a serial back
   * end: the operation waits, first come first served, until the operations charged to it serially before it have
   * completed (their device time and delays included); only then do its charges start.
   */
  charge(node: number, work: number, options?: { wait?: boolean; serial?: boolean }): Verdict;
  /** The operation fails, and its request with `reason` (counted per reason in results). */
  reject(reason: string): Verdict;

  // Runtime control of nodes.
  /** Changes a node's CPU weight, cap or CFS budget; the host's shares are recomputed now. */
  setCpu(node: number, settings: CpuSettings): void;
  /** Sets a node's memory limit (its capacity for its children); crossing it fires `pressure`. */
  setMemoryLimit(node: number, bytes: number): void;
  /** Makes CPU work below `node` run `factor` times slower (1 = normal); factors of nested nodes multiply. */
  setSlowdown(node: number, factor: number): void;
  /**
   * Fails a layer node and its subtree, at the current time in an event of its
   * own (never inside the operation or event that asks): requests inside fail
   * with `reason`, the subtree's `fail` hooks run (a hook may `restartNode` the
   * failing node); a node not restarted then is removed and its replicas are
   * placed again after the scenario's failure detection delay. Its replicas
   * count per service in results' `kills.<reason>` (`PluginDefinition.kills`
   * names a reason in tables). `reason` is not `restart` (restartNode's).
   */
  failNode(node: number, reason: string): void;
  /**
   * Stops a layer node and its subtree (as `failNode`, at the current time;
   * requests inside fail with reason "restart") and starts it again in place
   * after `after` seconds and its provisioning; its replicas are ready again
   * then. In a `fail` hook of the failing node: restarts it instead of
   * removing it. `after` Infinity: it stays down in place, never started
   * again nor placed elsewhere (a pod whose restart policy is Never).
   */
  restartNode(node: number, options: { after: number }): void;
  /** A node whose layer hooks `provision` is provisioned: it (and what waits for it) gets ready. */
  setReady(node: number): void;
  /** True while a node its plugin provisions waits for `setReady` since its `provision` hook last ran (false once it stopped). O(1). */
  provisioning(node: number): boolean;
  /** Keeps the steal of a node with a CPU cap (a VM's vCPUs): core-seconds runnable but not running, in `hosts.steal` and `hostTypes.<t>.steal`. */
  trackSteal(node: number): void;
  /** Core-seconds of steal of a node `trackSteal` keeps, from when it was tracked to now (0 for one it does not). O(1). */
  steal(node: number): number;
  /**
   * The CFS counters of a node under a CFS budget (cgroup v2 `cpu.stat`), from its creation to now: periods in which it
   * was runnable, periods in which it ran out of quota, and seconds it spent throttled; zeros for a node without a
   * budget. O(1) after its host's accrual.
   */
  bandwidthStats(node: number): BandwidthStats;
  /** Pauses (`paused` true) or resumes a layer node's subtree: its CPU work waits, its threads stay runnable. */
  freeze(node: number, paused: boolean): void;
  /**
   * Moves a layer node directly on a host, with its subtree and the auxiliary nodes owned there, to host `to` now
   * (its CPU work goes on there; I/O and messages under way finish where they are), and records the move in results'
   * `migrations` with the plugin's `figures` (its start time, rounds, bytes copied, downtime). False when `to` is down.
   */
  moveNode(node: number, to: number, figures: { start: number; rounds: number; bytes: number; downtime: number }): boolean;

  // Resources consumed outside operations (provisioning, background work), each firing a plugin event when done.
  /** CPU work on leaf `node` (an auxiliary node). */
  work(node: number, work: number, then?: Then): void;
  /** A disk I/O of `bytes` on `host`'s disk. */
  io(host: number, bytes: number, options: Then & { write?: boolean; random?: boolean }): void;
  /**
   * `bytes` from host `from` (or `EXTERNAL`, outside the fabric) to host `to` over their NICs, sharing them with the
   * traffic there; `latency` seconds are added, and `rate` (bytes/s) bounds its own rate (a registry's bandwidth).
   */
  transfer(from: number, to: number, bytes: number, options: Then & { latency?: number; rate?: number }): void;

  // Plugin events.
  /** Schedules `event` for `node` after `delay` seconds with an int32 payload; returns a handle for `cancel`. */
  schedule(event: PluginEvent, delay: number, node: number, payload?: number): number;
  /** Cancels a scheduled plugin event; false if it already ran or was cancelled. */
  cancel(handle: number): boolean;
}

/** An operation hook: runs synchronously as the operation starts, for each node of the hook's layer on the path. */
export type OperationHook<Entry = Record<string, unknown>> = (ctx: PluginContext<Entry>, node: number, op: Operation) => Verdict | void;
/** A lifecycle hook: runs for a node of the hook's layer; `payload` is `pressure`'s 1 or 0. */
export type LifecycleHook<Entry = Record<string, unknown>> = (ctx: PluginContext<Entry>, node: number, payload: number) => void;
/** The hook type for a hook name. */
export type HookOf<K extends HookName, Entry = Record<string, unknown>> = K extends OpKind ? OperationHook<Entry> : LifecycleHook<Entry>;
/** Any hook. */
export type HookFn<Entry = Record<string, unknown>> = OperationHook<Entry> | LifecycleHook<Entry>;
/** A plugin event's handler. */
export type EventHandlerFn<Entry = Record<string, unknown>> = (ctx: PluginContext<Entry>, node: number, payload: number) => void;

export interface HookOptions {
  /** Among the hooks of one layer: `pre` ones first, `post` ones last; ties in registration order. */
  order?: "pre" | "post";
}

/** The kinds of plugin metrics (DESIGN.md, Plugins that act). */
export const METRIC_KINDS = ["counter", "gauge", "timeWeighted", "histogram"] as const;
export type MetricKind = (typeof METRIC_KINDS)[number];

export interface MetricSpec {
  /**
   * counter: a total over the measured time (`add`); gauge: a level, summed
   * over nodes at the end (`set`); timeWeighted: a level, summed over nodes and
   * averaged over the measured time (`set`); histogram: a distribution of
   * samples (`record`), reported as its count, mean, p50 and p99.
   */
  kind: MetricKind;
  /** The unit of its values, for tables (`s`, `B`, `core-s`, `calls`, ...). */
  unit?: string;
  /** What its values are kept for: nodes of the plugin's layer (default), or hosts. */
  per?: "node" | "host";
  /** Shown in `turtles run` and `turtles compare` tables. */
  show?: boolean;
  /**
   * What a counter counts: what happens during the measured time (`"measurement"`, the default), or from the run's
   * start, the warm-up and the placement at time 0 included (`"run"`: what nodes do as they start, an image pull).
   */
  since?: "measurement" | "run";
  /**
   * A histogram of seconds per start of a node (an image pull): reported as the stack's `lifecycle.<name>`
   * ({ p50, p99 }, exact, of every sample from the run's start, the warm-up included, as `lifecycle.ready`) instead of
   * under `layers`, and left out where it has no sample.
   */
  lifecycle?: boolean;
  description?: string;
}

/** A metric's handle. Calls cost O(1) and allocate nothing. */
export interface Metric {
  readonly name: string;
  /** A counter: adds `x` (a histogram: records it). */
  add(node: number, x?: number): void;
  /** A gauge or time-weighted level: sets the node's value. */
  set(node: number, x: number): void;
  /** A histogram: records a sample. */
  record(node: number, x: number): void;
}

/** Random streams of a plugin for one purpose, one per node, keyed by (replication seed, plugin, purpose, node). */
export interface RandomStreams {
  of(node: number): Random;
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
  hook<K extends HookName>(name: K, fn: HookOf<K, Entry>, options?: HookOptions): void;
  /** Declares a per-node column (snapshotted with the tree). */
  extension(name: string, type: "f64" | "i32", initial?: number): ExtensionColumn;
  /** Registers a plugin event type; its payloads are integers, so a saved run continues it. */
  event(name: string, handler: EventHandlerFn<Entry>): PluginEvent;
  /** Declares a metric, reported per stack under `layers.<layer>.<name>`. */
  metric(name: string, spec: MetricSpec): Metric;
  /** Random streams for one purpose. */
  random(purpose: string): RandomStreams;
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
  /** Registers the layer's rules, hooks, events, metrics and extension columns. Runs once per model. */
  setup?(api: PluginSetup<z.output<S>>): void;
  /**
   * How results and tables name the kills this plugin makes, by the reason it gives `ctx.failNode` (the container
   * plugin's `oom`). Every reason is counted per service in `kills.<reason>` whether declared here or not; a
   * declaration gives the count its table label and, optionally, a per-service results key of its own.
   */
  readonly kills?: Readonly<Record<string, KillReason>>;
}

/** How results and tables name one reason of kills (`PluginDefinition.kills`). */
export interface KillReason {
  /** The count's label in tables, after the service: "OOM kills". */
  label: string;
  /**
   * A per-service results key that holds the count as well (0 without kills), for a figure published under a name of
   * its own: `oomKills`. It ends in `Kills`, a suffix none of the engine's own service figures has.
   */
  field?: string;
}

const KILL_FIELD = /^[a-z][A-Za-z0-9]*Kills$/;

/**
 * The kill reasons `plugins` declare, merged in plugin order: reason -> its label and field. Throws, naming the
 * plugin, for a reason that is empty or the engine's own (`restart`), a label that is not a non-empty string, a
 * field not named `<name>Kills`, and a reason or field two plugins declare. O(reasons).
 */
export function killReasons(plugins: readonly PluginDefinition[]): Record<string, KillReason> {
  const out: Record<string, KillReason> = {};
  const owner = new Map<string, string>();
  for (const p of plugins) {
    if (p.kills === undefined) continue;
    if (typeof p.kills !== "object" || p.kills === null || Array.isArray(p.kills)) throw new Error(`plugin ${p.name}: kills must map each reason it gives failNode to { label, field? }`);
    for (const [reason, k] of Object.entries(p.kills)) {
      const where = `plugin ${p.name}: kills[${JSON.stringify(reason)}]`;
      if (reason === "" || reason === RESTART) throw new Error(`${where}: ${reason === "" ? "a reason is a non-empty string" : `"${RESTART}" is the reason of restartNode, not of a kill`}; name the kill by its own reason`);
      if (typeof k?.label !== "string" || k.label.trim() === "") throw new Error(`${where}: label must be a non-empty string: how tables name these kills`);
      if (k.field !== undefined && (typeof k.field !== "string" || !KILL_FIELD.test(k.field))) {
        throw new Error(`${where}: field ${JSON.stringify(k.field)} must be letters and digits ending in "Kills", e.g. "oomKills"`);
      }
      // A reason and a field are each one figure in results: a second declaration would make it mean two things.
      for (const key of k.field === undefined ? [`reason "${reason}"`] : [`reason "${reason}"`, `field "${k.field}"`]) {
        const twin = owner.get(key);
        if (twin !== undefined) throw new Error(`${where}: plugin ${twin} already declares the ${key}; declare each once`);
        owner.set(key, p.name);
      }
      out[reason] = k.field === undefined ? { label: k.label } : { label: k.label, field: k.field };
    }
  }
  return out;
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
