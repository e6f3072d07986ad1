/**
 * The v1 scenario format (DESIGN.md, Contracts: Scenario file) as one zod
 * schema, assembled from the engine's own fields and the schemas of the
 * plugins that provide each layer. Parsing normalises every unit and fills the
 * defaults; the normalised scenario is itself a valid scenario (numbers are
 * accepted wherever units are), so it round-trips.
 */
import { z } from "zod";
import type { PluginDefinition } from "../plugin/define.js";
import { issuesToProblems, scenarioIssueMessage, SourceMap } from "./problems.js";
import { TRACE_FORMAT_NAMES, type TraceFormat } from "../trace/index.js";
import { ON_BAD_ROW, type OnBadRow } from "../trace/problems.js";
import { count, didYouMean, distribution, exactlyOne, fields, identifier, oneOf, quantity, UNIT_RANGE, unitValue, type DistributionSpec, type UnitBounds } from "./fields.js";

/** How the nodes of a stack layer are shared (DESIGN.md, Stacks and the tree of nodes). */
/**
 * How a stack layer's nodes are shared: one per replica, per service, per tenant, per host, or per `ordinal`: one per
 * replica number, shared by the same-numbered replicas of a tenant's services on the stack (a pod and its sidecars).
 */
export const PER_VALUES = ["replica", "service", "tenant", "host", "ordinal"] as const;
export type Per = (typeof PER_VALUES)[number];

export const BALANCE_VALUES = ["round-robin", "random", "least-outstanding", "p2c"] as const;
export const PLACEMENT_POLICIES = ["first-fit", "best-fit", "spread"] as const;

/** Bounds that keep a scenario within what one machine can simulate. */
export const LIMITS = {
  /**
   * Bytes of a scenario's text. The YAML parser keeps about 200 bytes of memory per byte of a long flow list and
   * parses 1 to 2 MB a second (measured on 4 MB: 0.8 GB, 6 s), so 4 MiB keeps reading a scenario under about a
   * gigabyte and ten seconds; long data (a rate profile) belongs in a CSV file beside it.
   */
  scenarioBytes: 4 * 2 ** 20,
  /**
   * Values in a scenario with its YAML aliases expanded (every key, value and list item): loading costs about 2 us
   * and 100 bytes each (4 million: 8.6 s, 0.5 GB), and an alias repeats a whole list, so a small file can expand
   * past any memory; a scenario written out holds a few hundred (web-shop.yaml: about 100).
   */
  scenarioValues: 1_000_000,
  /** Bytes of a CSV rate profile: a year of rates per minute (525,600 rows) is about 10 MB. */
  csvBytes: 16 * 2 ** 20,
  /** Points of one sweep: each is loaded and validated before the first one runs, and a row is kept for each. */
  sweepPoints: 10_000,
  hostsPerEntry: 1_000_000,
  replicas: 10_000_000,
  threads: 1_000_000,
  queue: 100_000_000,
  clients: 10_000_000,
  replications: 10_000,
  cores: 4096,
  /** Simulated seconds (about 3 years): float64 time still resolves 15 ns there (ulp of 1e8 s). Every duration's bound. */
  duration: UNIT_RANGE.duration.max,
  /** Open-loop arrivals per simulated second of one service: each is an event, and the kernel runs a few million a wall second. */
  rate: UNIT_RANGE.rate.max,
  /** System calls of one `syscall` step. */
  syscalls: 1e9,
} as const;

export type Step =
  | { cpu: DistributionSpec }
  | { sleep: DistributionSpec }
  | { mem: { alloc?: number; free?: number; touch?: number } }
  | { io: { read?: DistributionSpec; write?: DistributionSpec; count: number; random: boolean } }
  | { call: { service: string; request?: number; response?: number } }
  | { syscall: DistributionSpec };

/** An open load's rate over simulated time, from 0 (the warm-up included, as a scripted failure's `at`). */
export type RateProfileSpec =
  | { steps: [number, number][] }
  | { ramp: [number, number][] }
  | { diurnal: { mean: number; amplitude: number; period: number; phase: number } };

/** A rate profile read from a CSV file (a time column in seconds, a rate column): `loadScenario` turns it into steps or a ramp. */
export interface CsvRateSpec {
  csv: string;
  column: string;
  time: string;
  shape: "steps" | "ramp";
}

/** Closed-loop clients over simulated time: a count from each point's time to the next (the first from 0). */
export type ClientsProfileSpec = { steps: [number, number][] };

export type Load = { open: { rate: number | RateProfileSpec } } | { closed: { clients: number | ClientsProfileSpec; think: DistributionSpec } };

export interface Service {
  name: string;
  replicas: number;
  /** Requests in service at once per replica; absent = unlimited (DESIGN.md, Requests and operations). */
  threads?: number;
  queue: number;
  /** Cores a replica reserves for placement (an extension; default 1). */
  cores: number;
  memory: number;
  stack?: string;
  balance: (typeof BALANCE_VALUES)[number];
  load?: Load;
  ingress?: { request?: number; response?: number };
  request: Step[];
  slo?: { mean?: number; p50?: number; p90?: number; p99?: number; p999?: number };
  /** How callers and clients retry this service's requests: extra attempts, each attempt's timeout, the wait before a retry. */
  retry?: { attempts: number; timeout?: number; backoff: number };
  /** A readiness probe of its replicas: a dead replica leaves the balancer after `failureThreshold` failed probes. */
  readiness?: { period: number; failureThreshold: number };
  /** Bytes per second a replica writes to its memory (an extension): what a live migration of its VM must copy again. */
  dirtyRate?: number;
}

/**
 * A tenant replayed from a trace file or folder (`path`, absolute once loaded). Common fields: `stack`, `limit`
 * (at most this many VMs, jobs or pods), `start` (trace seconds skipped: simulated time 0 is trace time `start`),
 * `speedup` (trace seconds per simulated second), `sample` (every n-th VM or file), `onBadRow`. Per format:
 * planetlab and bitbrains `cores` (vCPUs per VM), swf `backfill` and `speed`, alibaba-pods `nodes`.
 */
export interface TraceSpec {
  format: TraceFormat;
  path: string;
  stack?: string;
  limit?: number;
  start: number;
  speedup: number;
  sample: number;
  onBadRow: OnBadRow;
  cores?: number;
  backfill?: "none" | "easy";
  speed?: number;
  nodes?: string;
  /**
   * `path` and `nodes` as the scenario file wrote them (set when loading resolves them): what `scenarioHash` hashes
   * in their place, so the same scenario hashes the same wherever the repository sits; and `content`, what the files
   * hold (`traceIdentity`: names, sizes, first MiB of each), so the same text naming other data hashes apart.
   */
  written?: { path: string; nodes?: string; content?: string };
}

export interface Tenant {
  name: string;
  /** Its services; for a trace tenant, none until `withTraceServices` makes one per VM of its trace. */
  services: Service[];
  trace?: TraceSpec;
}

/** A stack entry: the layer, how its nodes are shared, and the plugin's own fields. */
export interface LayerEntry {
  layer: string;
  per: Per;
  [field: string]: unknown;
}

export interface HostGroup {
  type: string;
  count: number;
  zone: string;
}

export interface Scenario {
  version: 1;
  name: string;
  seed: number;
  duration: number;
  warmup: number;
  replications: number;
  /** Host types as normalised by the host plugin's schema. */
  hostTypes: Record<string, Record<string, unknown>>;
  hosts: HostGroup[];
  stacks: Record<string, LayerEntry[]>;
  defaults: { stack?: string };
  tenants: Tenant[];
  /** memoryOvercommit: memory placement packs per byte of a host (true: unbounded; false: 1), read by `memoryOvercommitRatio`; `cpuOvercommit`: cores placement reserves per host core (vCPUs per core); absent means 1. */
  placement: { policy: (typeof PLACEMENT_POLICIES)[number]; antiAffinity: boolean; memoryOvercommit: boolean | number; cpuOvercommit?: number };
  /** The fabric between hosts: its latency, and latencies between pairs of zones (an extension). */
  network: { latency: number; zones: { between: [string, string]; latency: number }[] };
  /** Host failures: random (time to failure, repair) and scripted, found after `detection`. */
  failures: {
    hosts?: { mtbf: number; repair: DistributionSpec };
    /** Guest crashes (an extension): each layer node running its own kernel (a VM) crashes and reboots in place. */
    vms?: { mtbf: number; repair: DistributionSpec };
    detection: number;
    scripted: { at: number; host: number; repair?: number }[];
  };
  /**
   * A kernel patch rollout (an extension): from `at` seconds after the warm-up, every kernel instance (each host, each
   * guest kernel) restarts in turn, at most `maxUnavailable` at once. Absent: none.
   */
  rollout?: { at: number; maxUnavailable: number };
  /**
   * Scripted operations on hosts (an extension), at simulated times: `migrate` live-migrates every node on `host`
   * whose layer can migrate (a VM) to host `to`; `drain` cordons `host` and migrates each such node to the host
   * placement picks. Absent: none.
   */
  actions?: ({ at: number; migrate: { host: number; to: number } } | { at: number; drain: { host: number } })[];
  /**
   * Named images (an extension): each a list of layers; a layer `id` in several images is one layer, kept once per
   * host. A stack entry's `image` given as a name refers to one. Absent: none.
   */
  images?: Record<string, ScenarioImage>;
  /** Where images are pulled from (an extension): bytes per second of one pull, and its latency. Absent: images are on the hosts already. */
  registry?: { bandwidth: number; latency: number };
}

/** A named image of the scenario's `images`: its layers, bottom first. */
export interface ScenarioImage {
  layers: { id: string; size: number }[];
}

const duration = (bounds: UnitBounds = { min: 0 }) => unitValue("duration", bounds);
const size = unitValue("size", { min: 0 });

const step = fields({
  cpu: distribution("duration", LIMITS.duration).optional().meta({ description: "CPU work in core-seconds at nominal speed" }),
  sleep: distribution("duration", LIMITS.duration).optional(),
  mem: fields({ alloc: size.optional(), free: size.optional(), touch: size.optional() })
    .superRefine(exactlyOne(["alloc", "free", "touch"], "a memory operation"))
    .optional(),
  io: fields({
    read: distribution("size").optional(),
    write: distribution("size").optional(),
    count: count(1, 1_000_000).default(1),
    random: z.boolean().default(false),
  })
    .superRefine(exactlyOne(["read", "write"], "an I/O direction"))
    .optional(),
  call: z
    .union([
      z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)?$/, { message: "expected a service name, or tenant/service" })
        .transform((service) => ({ service })),
      fields({ service: z.string(), request: size.optional(), response: size.optional() }),
    ])
    .optional()
    .meta({ description: "a service name (or tenant/service), or { service, request, response }" }),
  syscall: distribution("count", LIMITS.syscalls)
    .optional()
    .meta({ description: "system calls on the request's thread, each costing the host type's syscallCost (a count or a distribution of counts)" }),
})
  .superRefine(exactlyOne(["cpu", "mem", "io", "call", "sleep", "syscall"], "a step"))
  .transform((s) => Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined)) as Step);

const rateValue = unitValue("rate", { min: 0, max: LIMITS.rate });
/** Points of a profile: [time, rate] pairs, times from 0 and increasing. */
const profilePoints = z
  .array(z.tuple([duration({ min: 0, max: LIMITS.duration }), rateValue]), { error: "expected a list of [time, rate] pairs, e.g. [[0s, 100/s], [10m, 500/s]]" })
  .min(1, { message: "a profile needs at least one [time, rate] point" })
  .superRefine((pts, ctx) => {
    pts.forEach(([t], i) => {
      if (i > 0 && !(t > pts[i - 1][0])) ctx.addIssue({ code: "custom", path: [i, 0], message: `times must increase: ${t} s follows ${pts[i - 1][0]} s` });
    });
    if (pts.every(([, r]) => r === 0)) ctx.addIssue({ code: "custom", message: "every rate of the profile is 0: no request would arrive" });
  });
const rateProfile = fields({
  steps: profilePoints.optional().meta({ description: "piecewise constant: each rate from its time to the next point's" }),
  ramp: profilePoints.optional().meta({ description: "piecewise linear between the points" }),
  diurnal: fields({
    mean: unitValue("rate", { above: 0, max: LIMITS.rate }),
    amplitude: quantity({ max: 1, smallest: 1e-6 }).meta({ description: "relative: the rate swings between mean (1 - a) and mean (1 + a)" }),
    period: duration({ above: 0, max: LIMITS.duration }).default(86400).meta({ description: "the cycle's length (default 24h)" }),
    phase: duration({ min: 0, max: LIMITS.duration }).default(0).meta({ description: "when the rate crosses its mean rising; it peaks a quarter period later" }),
  }).optional(),
  csv: z.string().min(1).optional().meta({ description: "a CSV file (relative to the scenario) with a time column in seconds and a rate column" }),
  column: z.string().min(1).default("rate").meta({ description: "csv: the rate column" }),
  time: z.string().min(1).default("t").meta({ description: "csv: the time column" }),
  shape: oneOf(["steps", "ramp"] as const, "a profile shape").default("steps").meta({ description: "csv: steps or ramp" }),
})
  .superRefine(exactlyOne(["steps", "ramp", "diurnal", "csv"], "a rate profile"))
  .transform((p): RateProfileSpec | CsvRateSpec => {
    if (p.steps) return { steps: p.steps as [number, number][] };
    if (p.ramp) return { ramp: p.ramp as [number, number][] };
    if (p.diurnal) return { diurnal: p.diurnal };
    return { csv: p.csv!, column: p.column, time: p.time, shape: p.shape };
  });

/** Points of a clients profile: [time, clients] pairs, times from 0 and increasing. */
const clientPoints = z
  .array(z.tuple([duration({ min: 0, max: LIMITS.duration }), count(0, LIMITS.clients)]), { error: "expected a list of [time, clients] pairs, e.g. [[0s, 10], [5m, 50]]" })
  .min(1, { message: "a profile needs at least one [time, clients] point" })
  .superRefine((pts, ctx) => {
    pts.forEach(([t], i) => {
      if (i > 0 && !(t > pts[i - 1][0])) ctx.addIssue({ code: "custom", path: [i, 0], message: `times must increase: ${t} s follows ${pts[i - 1][0]} s` });
    });
    if (pts.every(([, n]) => n === 0)) ctx.addIssue({ code: "custom", message: "every count of the profile is 0: no client would run" });
  });

const load = fields({
  open: fields({
    rate: z
      .union([unitValue("rate", { above: 0, max: LIMITS.rate }), rateProfile], {
        error: "expected a rate such as 2000/s, or a profile: { steps: [[0s, 100/s], ...] }, { ramp: [...] }, { diurnal: { mean, amplitude, period } } or { csv: file }",
      })
      .meta({ description: "a rate (2000/s), or a profile over time: steps, ramp, diurnal or csv" }),
  }).optional(),
  closed: fields({
    clients: z
      .union([count(1, LIMITS.clients), fields({ steps: clientPoints })], {
        error: "expected a number of clients such as 100, or a profile { steps: [[0s, 10], [5m, 50]] }",
      })
      .meta({ description: "a number of clients, or { steps: [[time, clients], ...] }: each count from its time to the next" }),
    think: distribution("duration", LIMITS.duration).default(0),
  }).optional(),
})
  .superRefine(exactlyOne(["open", "closed"], "a load"))
  .transform((l) => (l.open ? { open: l.open } : { closed: l.closed! }) as Load);

const service = fields({
  name: identifier,
  replicas: count(1, LIMITS.replicas).default(1),
  threads: count(1, LIMITS.threads).optional(),
  queue: count(0, LIMITS.queue).default(10_000), // DESIGN.md: "a queue of `queue` entries (default 10,000)"
  // A replica reserves one core for placement unless told otherwise: with zero, first-fit would stack every
  // replica on the first host (Kubernetes leaves it to the request; a busy process thread needs one core).
  // Down to a millicore, Kubernetes' smallest CPU request (1m).
  cores: quantity({ max: LIMITS.cores, smallest: 0.001 }).default(1).meta({ description: "cores a replica reserves for placement" }),
  memory: size.default(0),
  stack: identifier.optional(),
  balance: oneOf(BALANCE_VALUES, "a balancing policy").default("round-robin"), // DESIGN.md: round-robin by default
  load: load.optional(),
  ingress: fields({ request: size.optional(), response: size.optional() }).optional(),
  request: z.array(step).min(1, { message: "a request program needs at least one step" }),
  retry: fields({
    attempts: count(0, 100).default(1).meta({ description: "attempts after the first (default 1)" }),
    timeout: duration({ above: 0, max: LIMITS.duration }).optional().meta({ description: "how long a caller or client waits for one attempt (default: no timeout)" }),
    backoff: duration({ min: 0, max: LIMITS.duration }).default(0).meta({ description: "the wait before a retry" }),
  }).optional(),
  // Kubernetes' readiness probe: periodSeconds 10, failureThreshold 3 by default (core/v1 Probe).
  readiness: fields({
    period: duration({ above: 0, max: LIMITS.duration }).default(10),
    failureThreshold: count(1, 1000).default(3),
  }).optional(),
  // No default here, so that scenarios written before it keep their normalised form: the layer that migrates states it.
  dirtyRate: unitValue("byteRate", { min: 0 })
    .optional()
    .meta({ description: "bytes per second a replica dirties in memory, re-copied by a live migration of its VM (hypervisor default 100MB/s)" }),
  slo: fields({
    mean: duration().optional(),
    p50: duration().optional(),
    p90: duration().optional(),
    p99: duration().optional(),
    p999: duration().optional(),
  }).optional(),
});

/** The formats each format-specific trace field applies to. */
const TRACE_FIELD_FORMATS: Record<string, readonly TraceFormat[]> = {
  cores: ["planetlab", "bitbrains"],
  backfill: ["swf" as TraceFormat],
  speed: ["swf" as TraceFormat],
  nodes: ["alibaba-pods" as TraceFormat],
};

const trace = fields({
  format: oneOf(TRACE_FORMAT_NAMES as [TraceFormat, ...TraceFormat[]], "a trace format"),
  path: z.string().min(1).meta({ description: "the trace file or folder, relative to the scenario file" }),
  stack: identifier.optional(),
  limit: count(1, LIMITS.replicas).optional().meta({ description: "at most this many VMs, jobs or pods (after sample)" }),
  start: duration({ min: 0, max: LIMITS.duration }).default(0).meta({ description: "trace time replayed at simulated time 0 (from the trace's start)" }),
  speedup: quantity({ above: 0, max: 1e6, smallest: 1e-6 }).default(1).meta({ description: "trace seconds per simulated second (time compression)" }),
  sample: count(1, 1_000_000).default(1).meta({ description: "every n-th VM (file), job or pod, from the first" }),
  onBadRow: oneOf(ON_BAD_ROW as [OnBadRow, ...OnBadRow[]], "a bad-row policy").default("fail").meta({ description: "fail (the first 5 problems listed) or skip (counted in results)" }),
  cores: quantity({ max: LIMITS.cores, smallest: 0.001 }).optional().meta({ description: "planetlab, bitbrains: vCPUs per VM (default: the trace's, planetlab 1)" }),
  backfill: oneOf(["none", "easy"] as const, "a backfilling policy").optional().meta({ description: "swf: none (plain FIFO, the default) or easy" }),
  speed: quantity({ above: 0, max: 1e6, smallest: 1e-6 }).optional().meta({ description: "swf: the trace machine's speed relative to nominal" }),
  nodes: z.string().min(1).optional().meta({ description: "alibaba-pods: the node list file, relative to the scenario file" }),
  // Loaded scenarios keep it so they load again (in a worker, from a saved run) with the same hash.
  written: fields({ path: z.string().min(1), nodes: z.string().min(1).optional(), content: z.string().min(1).optional() }, "the trace's paths as the scenario file wrote them, and what its files hold")
    .optional()
    .meta({ description: "set by loading: path and nodes as written, which the scenario's hash uses" }),
}).superRefine((t, ctx) => {
  for (const [field, formats] of Object.entries(TRACE_FIELD_FORMATS)) {
    if ((t as Record<string, unknown>)[field] !== undefined && !formats.includes(t.format)) {
      ctx.addIssue({ code: "custom", path: [field], message: `applies to ${formats.join(" and ")} traces, not ${t.format}` });
    }
  }
});

const tenant = fields({
  name: identifier,
  services: z.array(service).optional(),
  trace: trace.optional().meta({ description: "replay a trace (planetlab, bitbrains, swf, alibaba-pods) instead of services" }),
})
  .superRefine((t, ctx) => {
    // A loaded trace tenant has `services: []` (its VMs are made at run time), and must load again as it is.
    if (t.trace !== undefined && (t.services ?? []).length > 0) ctx.addIssue({ code: "custom", message: "expected a tenant: only one of services, trace, found services and trace" });
    else if (t.trace === undefined && t.services === undefined) ctx.addIssue({ code: "custom", message: "expected a tenant: one of services, trace" });
    else if (t.trace === undefined && t.services!.length === 0) ctx.addIssue({ code: "custom", path: ["services"], message: "a tenant needs at least one service" });
  })
  .transform((t): Tenant => (t.trace ? { name: t.name, services: [], trace: t.trace as TraceSpec } : { name: t.name, services: t.services! }));

/** The stack entry schema: a discriminated union over the layers the plugins provide. */
function layerEntry(plugins: readonly PluginDefinition[]) {
  const layers = plugins.filter((p) => p.layer !== "host");
  const names = layers.map((p) => p.layer);
  const options = layers.map((p) => {
    const entry = fields(
      {
        layer: z.literal(p.layer),
        per: oneOf(PER_VALUES, "how the layer's nodes are shared").optional(),
        ...p.schema.shape,
      },
      `a ${p.layer} layer (plugin ${p.name})`,
    );
    // The shape takes the plugin's fields, not its checks of a whole entry (one field against another: "platform only
    // with runtime gvisor"). Those run here, once every field is valid, on the validated entry: the engine's field
    // blocks read their own output back unchanged (a unit value's number is its value).
    if (!(p.schema._zod.def.checks?.length ?? 0)) return entry;
    return entry.superRefine((_e, ctx) => {
      const { layer: _layer, per: _per, ...own } = ctx.value as unknown as Record<string, unknown>;
      const checked = p.schema.safeParse(own);
      if (!checked.success) for (const issue of checked.error.issues) ctx.addIssue({ ...issue, code: "custom", path: issue.path as PropertyKey[] });
    });
  });
  const unknownLayer = (found: unknown): string =>
    `unknown layer ${JSON.stringify(found)}; ` +
    (found === "host"
      ? "the host is the implicit root of every stack: list only the layers above it"
      : names.length > 0
        ? `known layers: ${names.join(", ")}${typeof found === "string" ? didYouMean(found, names) : ""}`
        : "no layer plugin is loaded");
  if (options.length === 0) return z.never({ error: (iss) => unknownLayer((iss.input as { layer?: unknown })?.layer) });
  return z.discriminatedUnion("layer", options as [ (typeof options)[0], ...typeof options ], {
    error: (iss) => (iss.code === "invalid_union" ? unknownLayer((iss.input as { layer?: unknown })?.layer) : undefined),
  });
}

/** The root seed: a whole number; -0 is read as 0 (it prints and hashes as 0, so it must draw as 0). */
const seedField = z
  .number()
  .int()
  .min(0)
  .max(Number.MAX_SAFE_INTEGER)
  .overwrite((x) => (x === 0 ? 0 : x));
const durationField = duration({ above: 0, max: LIMITS.duration }).meta({ description: "simulated time that is measured" });
const replicationsField = count(1, LIMITS.replications);

/** What a run may override of its scenario, checked as the scenario's own fields are. */
/** At most this many kernel instances restart at once in a rollout (as many as hosts may be). */
const maxUnavailableField = count(1, LIMITS.hostsPerEntry).meta({ description: "kernel instances restarting at once (default 1)" });
const overridesSchema = fields({
  seed: seedField.optional(),
  duration: durationField.optional(),
  replications: replicationsField.optional(),
  rollout: fields({ maxUnavailable: maxUnavailableField.optional() }).optional(),
});

export interface RunOverrides {
  seed?: number;
  duration?: number;
  replications?: number;
  /** Adds a kernel patch rollout (at the start of the measurement) where the scenario has none; `maxUnavailable` sets its width. */
  rollout?: { maxUnavailable?: number };
}

/**
 * The overrides of a run (seed, duration in seconds, replications), checked
 * and normalised by the scenario's own rules; absent ones stay absent.
 * Throws a RangeError naming each bad one (`seed: expected a whole number, found "abc"`).
 */
export function checkOverrides(options: RunOverrides): RunOverrides {
  const given = { seed: options.seed, duration: options.duration, replications: options.replications, rollout: options.rollout };
  const parsed = overridesSchema.safeParse(given, { error: scenarioIssueMessage });
  if (parsed.success) return parsed.data;
  const map = new SourceMap("", undefined, undefined, given);
  throw new RangeError(issuesToProblems(parsed.error.issues, map).map((p) => `${p.path}: ${p.message}`).join("; "));
}

/** Why a scenario's rollout can never start (it is due at or after the end of the measurement), or undefined. */
export function rolloutTooLate(s: Pick<Scenario, "rollout" | "duration">): string | undefined {
  if (!s.rollout || s.rollout.at < s.duration) return undefined;
  return `the rollout starts ${s.rollout.at} s after the warm-up, at or after the end of the measurement (duration ${s.duration} s): give an earlier at, or a longer duration`;
}

/** The whole v1 schema for the given plugins (one of which provides the `host` layer). */
export function scenarioSchema(plugins: readonly PluginDefinition[]) {
  const hosts = plugins.filter((p) => p.layer === "host");
  if (hosts.length !== 1) {
    throw new Error(`exactly one plugin must provide the host layer (such as @turtles/plugin-baremetal); found ${hosts.length}`);
  }
  const hostType = hosts[0].schema;
  return fields({
    version: z
      .literal(1, {
        error: (iss) => `this engine reads scenario version 1, found ${JSON.stringify(iss.input)}${iss.input === "1" ? " (write the number 1, without quotes)" : ""}`,
      })
      .default(1),
    name: z.string().min(1).max(200).optional(),
    seed: seedField.default(1),
    duration: durationField,
    warmup: duration({ min: 0, max: LIMITS.duration }).default(0),
    replications: replicationsField.default(1),
    hostTypes: z.record(identifier, hostType),
    hosts: z
      .array(fields({ type: identifier, count: count(1, LIMITS.hostsPerEntry).default(1), zone: identifier.default("a") }))
      .min(1, { message: "a scenario needs at least one host" }),
    stacks: z.record(identifier, z.array(layerEntry(plugins))).default({}),
    defaults: fields({ stack: identifier.optional() }).default({}),
    tenants: z.array(tenant).min(1, { message: "a scenario needs at least one tenant" }),
    // The fabric is non-blocking (DESIGN.md, Network); its latency is the scenario's to give, none by default.
    network: fields({
      latency: duration().default(0),
      zones: z.array(fields({ between: z.tuple([identifier, identifier]), latency: duration() })).default([]),
    }).default({ latency: 0, zones: [] }),
    failures: fields({
      hosts: fields({
        mtbf: duration({ above: 0 }).meta({ description: "mean time between failures of each host (exponential)" }),
        repair: distribution("duration", LIMITS.duration).meta({ description: "time to repair a failed host" }),
      }).optional(),
      // Kubernetes marks a node NotReady after --node-monitor-grace-period, 40 s by default (kube-controller-manager).
      vms: fields({
        mtbf: duration({ above: 0 }).meta({ description: "mean time between crashes of each guest kernel: a VM, a sandbox (exponential)" }),
        repair: distribution("duration", LIMITS.duration).meta({ description: "time from a guest's crash to its reboot starting" }),
      })
        .optional()
        .meta({ description: "guest crashes: each crashes alone and reboots in place; its processes restart once it is ready again" }),
      detection: duration().default(40),
      scripted: z.array(fields({ at: duration(), host: count(0, LIMITS.hostsPerEntry), repair: duration().optional() })).default([]),
    }).default({ detection: 40, scripted: [] }),
    rollout: fields({
      at: duration({ min: 0, max: LIMITS.duration }).default(0).meta({ description: "when the rollout starts, after the warm-up (default 0: as the measurement starts)" }),
      maxUnavailable: maxUnavailableField.default(1),
    })
      .optional()
      .meta({ description: "a simulated kernel patch rollout: every host and guest kernel restarts in turn, its replicas drained first" }),
    actions: z
      .array(
        fields({
          at: duration({ min: 0, max: LIMITS.duration }).meta({ description: "simulated time of the action (from 0, the warm-up included)" }),
          migrate: fields({ host: count(0, LIMITS.hostsPerEntry), to: count(0, LIMITS.hostsPerEntry) }).optional().meta({ description: "live-migrate every VM on host to host to" }),
          drain: fields({ host: count(0, LIMITS.hostsPerEntry) }).optional().meta({ description: "cordon host and live-migrate each of its VMs where placement puts it" }),
        }).superRefine(exactlyOne(["migrate", "drain"], "an action")),
      )
      .optional()
      .meta({ description: "scripted host operations: live migrations and drains" }),
    // No defaults, so that scenarios written before them keep their normalised form (and scenarioHash).
    images: z
      .record(
        identifier,
        fields({
          layers: z
            .array(fields({ id: identifier.meta({ description: "the layer's digest or name: images sharing it share the layer" }), size: unitValue("size", { above: 0 }) }))
            .min(1, { message: "an image needs at least one layer, e.g. layers: [{ id: debian-base, size: 120MB }]" }),
        }),
      )
      .optional()
      .meta({ description: "named images: { web: { layers: [{ id, size }, ...] } }; a stack entry's image: web refers to one" }),
    registry: fields({
      bandwidth: unitValue("byteRate", { above: 0 }).meta({ description: "bytes per second of one layer's download" }),
      latency: duration().meta({ description: "time before a download's first byte" }),
    })
      .optional()
      .meta({ description: "where images are pulled from; absent, images are on the hosts already" }),
    placement: fields({
      policy: oneOf(PLACEMENT_POLICIES, "a placement policy").default("first-fit"),
      antiAffinity: z.boolean().default(false),
      // false stays the default (not 1) so that scenarios written before the ratio keep their normal form and hash.
      memoryOvercommit: z
        .union([z.boolean(), quantity({ above: 0, max: 1000, smallest: 0.001 })], {
          error: "expected a ratio (bytes of reservations per byte of host memory, e.g. 1.5), true (no bound) or false (1)",
        })
        .default(false)
        .meta({ description: "memory reservations placement packs per byte of a host's memory: a ratio (1.5), true (no bound) or false (1, the default)" }),
      // Default 1 (no overcommit, placement as before) [assumed]: calibration.md 2.10 gives no default ratio (its PLE
      // figure is measured at 2X overcommit, a condition). No schema default, so that scenarios written before it keep
      // their normalised form (and scenarioHash).
      cpuOvercommit: quantity({ above: 0, max: 1024, smallest: 1e-3 })
        .optional()
        .meta({ description: "cores placement may reserve per host core: vCPUs (and processes' cores) per host core (default 1: no overcommit)" }),
    }).default({ policy: "first-fit", antiAffinity: false, memoryOvercommit: false }),
  }).meta({ title: "Turtles scenario (v1)", description: "A Turtles scenario: hosts, stacks, tenants and their services." });
}

/** The memory reservations placement packs per byte of a host's memory: `memoryOvercommit` as a ratio (Infinity: no bound). O(1). */
export function memoryOvercommitRatio(placement: Scenario["placement"]): number {
  const o = placement.memoryOvercommit;
  return o === true ? Infinity : o === false ? 1 : o;
}
