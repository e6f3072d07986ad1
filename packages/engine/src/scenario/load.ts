/**
 * Loading a scenario: YAML or JSON text, parsed with the `yaml` library (JSON
 * is YAML 1.2, so one parser gives positions for both), validated by the one
 * schema, normalised, then checked across fields: references exist, names are
 * unique, the call graph has no cycle, and the model fits in memory. Every
 * problem found is reported at once; nothing half-valid is returned.
 */
import { isAlias, isMap, isNode, isScalar, isSeq, LineCounter, parseDocument, type Alias, type Document, type Node, type ParsedNode } from "yaml";
import type { PluginDefinition } from "../plugin/define.js";
import { hostRulesOf } from "../plugin/driver.js";
import { own } from "../util/own.js";
import { didYouMean, unitRangeProblem } from "./fields.js";
import { clientsInFlightProblem, estimateScenario, formatBytes } from "./estimate.js";
import { issuesToProblems, scenarioIssueMessage, ScenarioError, SourceMap, type PathSegment, type Problem } from "./problems.js";
import { TRACE_FORMATS, type UtilisationAdapter } from "../trace/index.js";
import { nodeTraceSource, traceIdentity, type TraceSource } from "../trace/lines.js";
import { formatTraceProblem, TraceError } from "../trace/problems.js";
import { LIMITS, rolloutTooLate, scenarioSchema, type CsvRateSpec, type LayerEntry, type Scenario } from "./schema.js";

export interface LoadOptions {
  /** File name used in messages (and as the default scenario name). */
  file?: string;
  /** The plugins providing the layers (one must provide `host`). */
  plugins: readonly PluginDefinition[];
  /** Refuse scenarios whose estimated model exceeds this many bytes. Default: no limit. */
  memoryLimit?: number;
  /** Refuse scenarios whose model's estimated JavaScript heap exceeds this many bytes. Default: no limit. */
  heapLimit?: number;
  /**
   * Reads a file a scenario names (a `csv` rate profile), by its path as
   * written (relative to the scenario's folder, say). Without it, such a
   * scenario is refused: inline the profile as `steps`.
   */
  readFile?: (path: string) => string;
  /**
   * The path of a file a scenario names, from its path as written (a trace's
   * `path`, relative to the scenario's folder, say). Without it, paths are
   * taken as written.
   */
  resolvePath?: (path: string) => string;
  /** Where trace files are read from; default Node's file system (a scenario with traces is refused without one). */
  traceSource?: TraceSource;
}

/** The stack every service can use without declaring it: straight on the host. */
export const BAREMETAL_STACK = "baremetal";

/** ` "name"` of the mapping key written at `offset`, or nothing when it cannot be read. */
function keyAt(text: string, offset: number): string {
  const m = /^\s*("[^"\n]*"|'[^'\n]*'|[^:,{}[\]\n]+?)\s*:/.exec(text.slice(offset, offset + 200));
  return m ? ` ${JSON.stringify(m[1].replace(/^["']|["']$/g, ""))}` : "";
}

/** Parses, validates and normalises a scenario. Throws `ScenarioError` listing every problem. */
export function loadScenario(source: string | Uint8Array, options: LoadOptions): Scenario {
  const file = options.file ?? "scenario";
  if (byteLength(source, LIMITS.scenarioBytes) > LIMITS.scenarioBytes) {
    const message = `is larger than ${formatBytes(LIMITS.scenarioBytes)}, the most a scenario may be (reading YAML takes about 200 times its size in memory); put long data, such as a rate profile, in a CSV file beside it (rate: { csv: rates.csv })`;
    throw new ScenarioError([{ file, line: 0, column: 0, path: "", message }]);
  }
  const text = typeof source === "string" ? source : decodeText(source, file);
  if (text.includes("\u0000")) {
    throw new ScenarioError([{ file, line: 0, column: 0, path: "", message: "is not a text file (it contains NUL bytes); a scenario is YAML or JSON text" }]);
  }
  const lines = new LineCounter();
  // Keys are compared as the JavaScript object keys they become: YAML tells 1 from "1" (and true from "true"), but
  // both would be the key "1" and the later would silently replace the earlier.
  const retyped = new Set<number>(); // where a key repeats an earlier one written as another type
  const sameKey = (a: ParsedNode, b: ParsedNode): boolean => {
    if (a === b) return true;
    if (!isScalar(a) || !isScalar(b) || String(a.value ?? "") !== String(b.value ?? "")) return false;
    if (a.value !== b.value && b.range) retyped.add(b.range[0]);
    return true;
  };
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: sameKey });
  if (doc.errors.length === 0) {
    const tooMany = expandedBeyond(doc, LIMITS.scenarioValues);
    if (tooMany) {
      const where = tooMany.alias ? lines.linePos(tooMany.alias.range?.[0] ?? 0) : { line: 0, col: 0 };
      const message = tooMany.alias
        ? `the alias *${tooMany.alias.source} makes the scenario hold more than ${LIMITS.scenarioValues.toLocaleString("en-US")} values (each alias repeats all it names); write the values once, or put long data, such as a rate profile, in a CSV file beside it`
        : `holds more than ${LIMITS.scenarioValues.toLocaleString("en-US")} values, the most a scenario may hold; put long data, such as a rate profile, in a CSV file beside it`;
      throw new ScenarioError([{ file, line: where.line, column: where.col, path: "", message }]);
    }
  }
  if (doc.errors.length > 0) {
    throw new ScenarioError(
      doc.errors.map((e) => ({
        file,
        line: e.linePos?.[0].line ?? 0,
        column: e.linePos?.[0].col ?? 0,
        path: "",
        message:
          e.code === "DUPLICATE_KEY"
            ? `duplicate key${keyAt(text, e.pos[0])}: this mapping already has it${retyped.has(e.pos[0]) ? " (keys are text: 1 and \"1\" are the same key)" : ""}; keep one`
            : `${/\.json$/i.test(file) ? "JSON" : "YAML"} syntax error: ${e.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "")}`,
      })),
    );
  }
  // The values aliases expand to are counted above, exactly: the parser's own guess from alias counts (which threw an
  // unlocated "Excessive alias count" at a few dozen aliases of aliases, however small) is not needed.
  const raw: unknown = doc.toJS({ maxAliasCount: -1 });
  const map = new SourceMap(file, doc, lines, raw);
  if (raw === null || raw === undefined) {
    throw new ScenarioError([
      { file, line: 0, column: 0, path: "", message: "is empty; a scenario needs duration, hostTypes, hosts and tenants (`turtles init` writes a starter)" },
    ]);
  }
  if (typeof raw !== "object" || Array.isArray(raw)) {
    throw new ScenarioError([map.problem([], `expected a mapping of scenario fields at the top level, found ${Array.isArray(raw) ? "a list" : JSON.stringify(raw)}`)]);
  }
  const proto = protoKeys(raw);
  if (proto.length > 0) {
    throw new ScenarioError(proto.map((path) => map.problem(path, `"__proto__" cannot be a key: it is a JavaScript internal, and would be dropped; rename it`, "__proto__")));
  }
  const parsed = scenarioSchema(options.plugins).safeParse(raw, { error: scenarioIssueMessage });
  if (!parsed.success) throw new ScenarioError(issuesToProblems(parsed.error.issues, map));
  // The name defaults to the file's, in the schema's place, so the scenario's JSON loads back to the same JSON.
  const { version, name, ...rest } = parsed.data as Scenario;
  const scenario = { version, name: name ?? (file.replace(/^.*[\\/]/, "").replace(/\.(ya?ml|json)$/i, "") || "scenario"), ...rest } as Scenario;
  fillLayerDefaults(scenario);
  const problems = crossCheck(scenario, map);
  const inFlight = problems.length === 0 ? clientsInFlightProblem(scenario) : undefined;
  if (inFlight) problems.push(map.problem(["tenants"], inFlight));
  problems.push(...inlineCsvProfiles(scenario, map, options.readFile));
  if (problems.length === 0) problems.push(...checkTraces(scenario, map, options));
  if (problems.length === 0) problems.push(...hardwareCheck(scenario, map, options.plugins));
  if (problems.length === 0 && (options.memoryLimit !== undefined || options.heapLimit !== undefined)) {
    const estimate = estimateScenario(scenario);
    const fix = "reduce replicas, hosts or clients, or split it into a sweep";
    if (options.memoryLimit !== undefined && estimate.bytes > options.memoryLimit) {
      problems.push(
        map.problem([], `the model would need about ${formatBytes(estimate.bytes)} of memory (${estimate.explain}), more than the ${formatBytes(options.memoryLimit)} available; ${fix}`),
      );
    } else if (options.heapLimit !== undefined && estimate.heapBytes > options.heapLimit) {
      problems.push(
        map.problem(
          [],
          `the model would need about ${formatBytes(estimate.heapBytes)} of JavaScript heap (${estimate.explain}), more than the ${formatBytes(options.heapLimit)} this process may use; ` +
            `${fix}, or raise the limit (NODE_OPTIONS=--max-old-space-size=MiB)`,
        ),
      );
    }
  }
  if (problems.length > 0) throw new ScenarioError(problems);
  return scenario;
}

/** The UTF-8 size of a text, exact where it may pass `limit` (below, a character counts 1). */
function byteLength(source: string | Uint8Array, limit: number): number {
  if (typeof source !== "string") return source.length;
  // A character takes 1 to 3 bytes (4 for a pair of 2 characters): encode only when that may pass the limit.
  return source.length * 3 <= limit ? source.length : new TextEncoder().encode(source).length;
}

/**
 * Whether the document holds more than `max` values (keys, values and list items, each alias counted as all it
 * names, as `toJS` would build them), and if so the alias of the file whose expansion passed it. Counting stops
 * at `max`, so it takes O(document + max) whatever the aliases; no recursion, so any nesting depth is fine.
 */
function expandedBeyond(doc: Document, max: number): { alias?: Alias } | undefined {
  // What each alias names: the nearest anchor of that name before it, in document order.
  const targets = new Map<Alias, Node>();
  const anchors = new Map<string, Node>();
  const order: unknown[] = [doc.contents];
  while (order.length > 0) {
    const node = order.pop();
    if (isAlias(node)) {
      const target = anchors.get(node.source);
      if (target) targets.set(node, target);
    } else if (isNode(node)) {
      if (node.anchor) anchors.set(node.anchor, node);
      const children = childrenOf(node);
      for (let i = children.length - 1; i >= 0; i--) order.push(children[i]);
    }
  }
  let count = 0;
  // Nodes to count, each with the alias of the file it was reached through (undefined: written out).
  const stack: [unknown, Alias | undefined][] = [[doc.contents, undefined]];
  while (stack.length > 0) {
    const [node, via] = stack.pop()!;
    if (isAlias(node)) {
      const target = targets.get(node);
      if (target) stack.push([target, via ?? node]);
      continue;
    }
    if (!isNode(node)) continue;
    if (++count > max) return { alias: via };
    const children = childrenOf(node);
    for (let i = children.length - 1; i >= 0; i--) stack.push([children[i], via]);
  }
  return undefined;
}

/** The keys and values of a mapping, or the items of a list, in document order. */
function childrenOf(node: Node): unknown[] {
  if (isMap(node)) return node.items.flatMap((pair) => [pair.key, pair.value]);
  if (isSeq(node)) return node.items;
  return [];
}

/**
 * Paths of the mappings that have a `__proto__` key. The YAML parser keeps it as
 * an own key, but schema records skip it (assigning it would set a prototype):
 * a host type or stack of that name would vanish without a word.
 */
function protoKeys(raw: unknown): PathSegment[][] {
  const out: PathSegment[][] = [];
  const seen = new Set<object>(); // aliases share nodes: each once
  const walk = (node: unknown, path: PathSegment[]): void => {
    if (node === null || typeof node !== "object" || seen.has(node)) return;
    seen.add(node);
    if (Array.isArray(node)) node.forEach((v, i) => walk(v, [...path, i]));
    else {
      if (Object.hasOwn(node, "__proto__")) out.push(path);
      for (const [k, v] of Object.entries(node)) walk(v, [...path, k]);
    }
  };
  walk(raw, []);
  return out;
}

function decodeText(bytes: Uint8Array, file: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new ScenarioError([{ file, line: 0, column: 0, path: "", message: "is not a text file (it is not valid UTF-8); a scenario is YAML or JSON text" }]);
  }
}

/**
 * `per` defaults (DESIGN.md, Stacks): the innermost layer of a stack is one
 * node per replica, outer layers one node per tenant.
 */
function fillLayerDefaults(s: Scenario): void {
  for (const layers of Object.values(s.stacks)) {
    layers.forEach((entry: LayerEntry, i) => {
      // Keys in the schema's order, so the scenario's JSON loads back to the same JSON (snapshots and workers rely on it).
      const { layer, per, ...rest } = entry;
      layers[i] = { layer, per: per ?? (i === layers.length - 1 ? "replica" : "tenant"), ...rest };
    });
  }
}

function crossCheck(s: Scenario, map: SourceMap): Problem[] {
  const problems: Problem[] = [];
  const hostTypes = Object.keys(s.hostTypes);
  s.hosts.forEach((h, i) => {
    if (own(s.hostTypes, h.type) === undefined) {
      problems.push(map.problem(["hosts", i, "type"], `unknown host type "${h.type}"${didYouMean(h.type, hostTypes) || `; defined: ${hostTypes.join(", ") || "none"}`}`));
    }
  });
  const zones = [...new Set(s.hosts.map((h) => h.zone))];
  // A pair given twice would keep only its later latency: each pair (in either order) once.
  const pairs = new Map<string, number>();
  s.network.zones.forEach((z, i) => {
    z.between.forEach((zone, k) => {
      if (!zones.includes(zone)) {
        problems.push(map.problem(["network", "zones", i, "between", k], `unknown zone "${zone}"${didYouMean(zone, zones) || `; hosts are in: ${zones.join(", ")}`}`));
      }
    });
    const pair = JSON.stringify([...z.between].sort());
    const first = pairs.get(pair);
    if (first === undefined) pairs.set(pair, i);
    else problems.push(map.problem(["network", "zones", i, "between"], `the zones ${z.between.join(" and ")} are paired twice (also network.zones[${first}]); give each pair's latency once`));
  });
  const totalHosts = s.hosts.reduce((a, h) => a + h.count, 0);
  s.actions?.forEach((a, i) => {
    const hosts = "migrate" in a ? [["host", a.migrate.host], ["to", a.migrate.to]] as const : [["host", a.drain.host]] as const;
    const kind = "migrate" in a ? "migrate" : "drain";
    for (const [field, h] of hosts) {
      if (h >= totalHosts) problems.push(map.problem(["actions", i, kind, field], `host ${h} does not exist: hosts are numbered 0 to ${totalHosts - 1} in the order of hosts`));
    }
    if ("migrate" in a && a.migrate.host === a.migrate.to) problems.push(map.problem(["actions", i, "migrate", "to"], `a migration goes to another host: give a host other than ${a.migrate.host}`));
  });
  s.failures.scripted.forEach((f, i) => {
    if (f.host >= totalHosts) problems.push(map.problem(["failures", "scripted", i, "host"], `host ${f.host} does not exist: hosts are numbered 0 to ${totalHosts - 1} in the order of hosts`));
  });
  const late = rolloutTooLate(s);
  if (late) problems.push(map.problem(["rollout", "at"], late));
  if (totalHosts > LIMITS.hostsPerEntry) problems.push(map.problem(["hosts"], `${totalHosts} hosts in all; at most ${LIMITS.hostsPerEntry} are supported`));

  // A stack entry's image given by name (a container's `image: web`) is one of the scenario's images.
  const images = Object.keys(s.images ?? {});
  for (const [name, layers] of Object.entries(s.stacks)) {
    layers.forEach((entry, i) => {
      const image = entry.image;
      if (typeof image === "string" && own(s.images ?? {}, image) === undefined) {
        const hint = didYouMean(image, images) || (images.length > 0 ? `; defined: ${images.join(", ")}` : `; define it under images (images: { ${image}: { layers: [{ id, size }] } }), or give a size (image: 200MB)`);
        problems.push(map.problem(["stacks", name, i, "image"], `unknown image "${image}"${hint}`));
      }
    });
  }

  const stacks = [...new Set([...Object.keys(s.stacks), BAREMETAL_STACK])];
  const checkStack = (name: string | undefined, path: PathSegment[]): void => {
    if (name !== undefined && !stacks.includes(name)) {
      problems.push(map.problem(path, `unknown stack "${name}"${didYouMean(name, stacks) || `; defined: ${stacks.join(", ")}`}`));
    }
  };
  checkStack(s.defaults.stack, ["defaults", "stack"]);

  // Services by "tenant/service"; names unique per tenant, tenants unique.
  const index = new Map<string, [number, number]>();
  const tenantSeen = new Map<string, number>();
  s.tenants.forEach((t, ti) => {
    if (tenantSeen.has(t.name)) problems.push(map.problem(["tenants", ti, "name"], `tenant "${t.name}" is defined twice (also tenants[${tenantSeen.get(t.name)}])`));
    else tenantSeen.set(t.name, ti);
    const seen = new Map<string, number>();
    t.services.forEach((svc, si) => {
      if (seen.has(svc.name)) {
        problems.push(map.problem(["tenants", ti, "services", si, "name"], `service "${svc.name}" is defined twice in tenant "${t.name}"; service names must be unique within a tenant`));
      } else {
        seen.set(svc.name, si);
        index.set(`${t.name}/${svc.name}`, [ti, si]);
      }
      checkStack(svc.stack, ["tenants", ti, "services", si, "stack"]);
    });
    checkStack(t.trace?.stack, ["tenants", ti, "trace", "stack"]);
  });

  // Calls: resolve to tenant/service, then look for cycles.
  const edges = new Map<string, { to: string; path: PathSegment[] }[]>();
  s.tenants.forEach((t, ti) =>
    t.services.forEach((svc, si) => {
      const from = `${t.name}/${svc.name}`;
      const out: { to: string; path: PathSegment[] }[] = [];
      svc.request.forEach((step, k) => {
        if (!("call" in step)) return;
        const target = step.call.service;
        const path: PathSegment[] = ["tenants", ti, "services", si, "request", k, "call"];
        const key = target.includes("/") ? target : `${t.name}/${target}`;
        if (!index.has(key)) {
          const candidates = target.includes("/") ? [...index.keys()] : t.services.map((x) => x.name);
          problems.push(map.problem(path, `unknown service "${target}"${didYouMean(target, candidates) || (target.includes("/") ? "" : ` in tenant "${t.name}" (call another tenant's service as tenant/service)`)}`));
          return;
        }
        step.call.service = key;
        out.push({ to: key, path });
      });
      if (!edges.has(from)) edges.set(from, out);
    }),
  );
  problems.push(...findCycles(edges, map));

  const replicas = s.tenants.reduce((a, t) => a + t.services.reduce((b, x) => b + x.replicas, 0), 0);
  if (replicas > LIMITS.replicas) problems.push(map.problem(["tenants"], `${replicas} replicas in all; at most ${LIMITS.replicas} are supported`));
  if (s.warmup > 100 * s.duration) problems.push(map.problem(["warmup"], `warm-up (${s.warmup} s) is more than 100 times the measured duration (${s.duration} s); is a unit missing?`));
  return problems;
}

/**
 * Turns each `csv` rate profile into the steps (or ramp) it holds, so the
 * scenario carries its data (for workers, saved runs and its hash): a header
 * row naming the columns, then a row per point, times in seconds increasing
 * from 0, rates per second.
 */
function inlineCsvProfiles(s: Scenario, map: SourceMap, readFile: LoadOptions["readFile"]): Problem[] {
  const problems: Problem[] = [];
  s.tenants.forEach((t, ti) =>
    t.services.forEach((svc, si) => {
      const rate = svc.load && "open" in svc.load ? (svc.load.open.rate as unknown as CsvRateSpec | number) : undefined;
      if (rate === undefined || typeof rate === "number" || !("csv" in rate)) return;
      const path: PathSegment[] = ["tenants", ti, "services", si, "load", "open", "rate", "csv"];
      if (!readFile) {
        problems.push(map.problem(path, `cannot read ${rate.csv} here: give the profile inline as steps: [[time, rate], ...]`));
        return;
      }
      let text: string;
      try {
        text = readFile(rate.csv);
      } catch (err) {
        problems.push(map.problem(path, `cannot read ${rate.csv}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as Error).message}`));
        return;
      }
      if (byteLength(text, LIMITS.csvBytes) > LIMITS.csvBytes) {
        problems.push(map.problem(path, `${rate.csv} is larger than ${formatBytes(LIMITS.csvBytes)}, the most a rate profile may be (a year of rates per minute is about 10 MB); give fewer, longer steps`));
        return;
      }
      const rows = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"));
      const header = (rows[0] ?? "").split(",").map((h) => h.trim());
      const [ti0, ri0] = [header.indexOf(rate.time), header.indexOf(rate.column)];
      if (ti0 < 0 || ri0 < 0) {
        const missing = ti0 < 0 ? `time column "${rate.time}"` : `rate column "${rate.column}"`;
        problems.push(map.problem(path, `${rate.csv} has no ${missing} in its header (${header.join(", ") || "empty"}); name it with ${ti0 < 0 ? "time" : "column"}:`));
        return;
      }
      const points: [number, number][] = [];
      for (let i = 1; i < rows.length; i++) {
        const cells = rows[i].split(",").map((c) => c.trim());
        const [tv, rv] = [Number(cells[ti0]), Number(cells[ri0])];
        // A cell keeps the bounds of a profile written inline (steps: [[time, rate], ...]).
        const cell = (k: number, kind: "duration" | "rate", x: number): string | undefined =>
          Number.isFinite(x) ? unitRangeProblem(kind, x, {}, `"${cells[k]}"`) : `must be a number, found "${cells[k] ?? ""}"`;
        const time = cell(ti0, "duration", tv);
        const rateCell = cell(ri0, "rate", rv);
        const bad = time ? `the time ${time}` : rateCell ? `the rate ${rateCell}` : points.length > 0 && tv <= points[points.length - 1][0] ? `time ${tv} does not follow ${points[points.length - 1][0]} (times must increase)` : undefined;
        if (bad) {
          problems.push(map.problem(path, `${rate.csv}, line ${i + 1}: ${bad}; expected seconds from 0, increasing, and rates per second`));
          return;
        }
        points.push([tv, rv]);
      }
      if (points.length === 0 || points.every(([, r]) => r === 0)) {
        problems.push(map.problem(path, `${rate.csv} holds no rate above 0`));
        return;
      }
      (svc.load as { open: { rate: unknown } }).open.rate = rate.shape === "ramp" ? { ramp: points } : { steps: points };
    }),
  );
  return problems;
}

/**
 * Each trace tenant's files: its path resolved (so the scenario loads again
 * anywhere, in a worker or from a saved run), readable, and, under
 * `onBadRow: fail`, free of bad rows: the first `MAX_LISTED` are listed,
 * each with its file, line and column, before anything runs. A utilisation
 * trace is also opened, so a VM it cannot size is found here.
 */
function checkTraces(s: Scenario, map: SourceMap, options: LoadOptions): Problem[] {
  const problems: Problem[] = [];
  s.tenants.forEach((t, ti) => {
    const trace = t.trace;
    if (!trace) return;
    const at: PathSegment[] = ["tenants", ti, "trace", "path"];
    let source: TraceSource;
    try {
      source = options.traceSource ?? nodeTraceSource();
    } catch (err) {
      problems.push(map.problem(at, (err as Error).message));
      return;
    }
    if (options.resolvePath) {
      // The hash keeps the paths as written: resolved, they name this machine's folders.
      trace.written = { path: trace.path, ...(trace.nodes !== undefined ? { nodes: trace.nodes } : {}) };
      trace.path = options.resolvePath(trace.path);
    }
    const adapter = TRACE_FORMATS[trace.format];
    const stack = stackOf(s, trace);
    if (adapter.kind === "jobs" && stackLayers(s, trace).length > 0) {
      problems.push(map.problem(["tenants", ti, "trace", "stack"], `${trace.format} jobs run their processors' threads on the hosts themselves: give a stack with no layers (such as baremetal), not "${stack}"`));
    }
    // Jobs and pods hold cores and requests outside placement: a host that fails or restarts would strand them.
    const disruption = s.failures.hosts || s.failures.vms || s.failures.scripted.length > 0 ? "failures" : s.rollout ? "rollout" : s.actions ? "actions" : undefined;
    if (adapter.kind !== "utilisation" && disruption) {
      problems.push(map.problem(["tenants", ti, "trace", "format"], `a ${trace.format} trace cannot be replayed with ${disruption} yet (its ${adapter.kind} are not moved off a host that goes down); remove ${disruption}, or replay the trace in a scenario of its own`));
    }
    if (trace.nodes !== undefined) {
      if (options.resolvePath) trace.nodes = options.resolvePath(trace.nodes);
      const nodesAt: PathSegment[] = ["tenants", ti, "trace", "nodes"];
      try {
        const nodes = adapter.inspect(trace.nodes, { source, onBadRow: trace.onBadRow });
        if (nodes.entities.kind !== "hosts") problems.push(map.problem(nodesAt, `${trace.nodes} is not a node list (its header is not sn,cpu_milli,memory_mib,gpu,model)`));
        else if (nodes.skipped > 0) problems.push(map.problem(nodesAt, `${nodes.skipped} bad row${nodes.skipped === 1 ? "" : "s"} in the node list: ${nodes.problems.map(formatTraceProblem).join("; ")}; fix them (a node list has no onBadRow: every node is a host)`));
        else if (nodes.entities.count === 0) problems.push(map.problem(nodesAt, `${trace.nodes} lists no node: pods would have nowhere to go`));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        problems.push(map.problem(nodesAt, code === "ENOENT" ? `${trace.nodes}: no such file` : `cannot read ${trace.nodes}: ${(err as Error).message}`));
      }
    }
    try {
      const summary = adapter.inspect(trace.path, { source, onBadRow: trace.onBadRow });
      if (summary.skipped > 0 && trace.onBadRow === "fail") {
        const more = summary.skipped > summary.problems.length ? `; and ${summary.skipped - summary.problems.length} more` : "";
        const listed = summary.problems.map(formatTraceProblem).join("; ");
        problems.push(map.problem(["tenants", ti, "trace"], `${summary.skipped} bad row${summary.skipped === 1 ? "" : "s"} in the trace: ${listed}${more}; fix them, or set onBadRow: skip to leave them out (counted in results as skipped)`));
        return;
      }
      if (summary.entities.kind === "hosts") {
        problems.push(map.problem(at, `${trace.path} is an Alibaba node list, not a pod list: give it as nodes:, and the pod list (openb_pod_list_*.csv) as path`));
        return;
      }
      if (summary.rows === 0) {
        problems.push(map.problem(at, `${trace.path} holds no ${summary.entities.kind}: a ${trace.format} trace needs at least one row`));
        return;
      }
      if (adapter.kind === "utilisation") (adapter as UtilisationAdapter).open(trace.path, { source, cores: trace.cores, sample: trace.sample, limit: trace.limit, onBadRow: trace.onBadRow });
      if (trace.written) {
        // What the files hold, beside their names as written: the same text naming other data must not share a hash
        // (a sweep's job keys on a shared queue, its resume check).
        const nodes = trace.nodes !== undefined ? ` ${traceIdentity(source, trace.nodes)}` : "";
        trace.written.content = `${traceIdentity(source, trace.path)}${nodes}`;
      }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (err instanceof TraceError) for (const p of err.problems) problems.push(map.problem(p.field === "CPU cores" ? ["tenants", ti, "trace"] : at, formatTraceProblem(p)));
      else problems.push(map.problem(at, code === "ENOENT" ? `${trace.path}: no such file or folder` : `cannot read ${trace.path}: ${(err as Error).message}`));
    }
  });
  return problems;
}

/**
 * What the programs need of the hosts, by the host plugin's rules: calls
 * between hosts need a NIC on every host type (a call can cross hosts), and
 * a service with io steps a host type with a disk (placement puts its
 * replicas only on hosts with one).
 */
function hardwareCheck(s: Scenario, map: SourceMap, plugins: readonly PluginDefinition[]): Problem[] {
  const rulesOf = hostRulesOf(plugins);
  if (!rulesOf) return [];
  const problems: Problem[] = [];
  const types = [...new Set(s.hosts.map((h) => h.type))];
  const rules = new Map(types.map((t) => [t, rulesOf(own(s.hostTypes, t)!)]));
  const totalHosts = s.hosts.reduce((a, h) => a + h.count, 0);
  const calls = s.tenants.some((t) => t.services.some((svc) => svc.request.some((step) => "call" in step)));
  if (calls && totalHosts > 1) {
    for (const t of types) {
      if (rules.get(t)?.nic) continue;
      problems.push(map.problem(["hostTypes", t], `services make calls and there are ${totalHosts} hosts, so a call can cross hosts (a NIC carries it): give this host type nic: { bandwidth, latency }`));
    }
  }
  if (!types.some((t) => rules.get(t)?.disk)) {
    s.tenants.forEach((t, ti) =>
      t.services.forEach((svc, si) => {
        const k = svc.request.findIndex((step) => "io" in step);
        if (k >= 0) problems.push(map.problem(["tenants", ti, "services", si, "request", k, "io"], "io steps need a disk, and no host type has one: give a host type disk: { iops, bandwidth }"));
      }),
    );
  }
  return problems;
}

/** Reports each call cycle once, at the call that closes it. */
function findCycles(edges: Map<string, { to: string; path: PathSegment[] }[]>, map: SourceMap): Problem[] {
  const problems: Problem[] = [];
  const state = new Map<string, 1 | 2>(); // 1 on the stack, 2 done
  const stack: string[] = [];
  const visit = (v: string): void => {
    state.set(v, 1);
    stack.push(v);
    for (const e of edges.get(v) ?? []) {
      const st = state.get(e.to);
      if (st === 1) {
        const cycle = [...stack.slice(stack.indexOf(e.to)), e.to];
        problems.push(map.problem(e.path, `call cycle: ${cycle.join(" -> ")}; synchronous calls must not loop back`));
      } else if (st === undefined) {
        visit(e.to);
      }
    }
    stack.pop();
    state.set(v, 2);
  };
  for (const v of edges.keys()) if (!state.has(v)) visit(v);
  return problems;
}

/** Resolves the stack of a service: its own, the scenario default, or bare metal. */
export function stackOf(s: Scenario, service: { stack?: string }): string {
  return service.stack ?? s.defaults.stack ?? BAREMETAL_STACK;
}

/** The layers of a service's stack (`stackOf`), outermost first; none for bare metal. */
export function stackLayers(s: Scenario, service: { stack?: string }): LayerEntry[] {
  return own(s.stacks, stackOf(s, service)) ?? [];
}

export type { Problem };
