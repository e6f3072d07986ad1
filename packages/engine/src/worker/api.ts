/**
 * The engine's worker API: the same object in a Web Worker and in a Node
 * worker thread (`expose(createEngineApi(...))`). One scenario is loaded and
 * one run goes at a time; between chunks of events the run reports progress,
 * stops at a pause, saves its state for a snapshot, or ends when cancelled.
 */
import { encodeSnapshot } from "../kernel/codec.js";
import { pluginsOf, type PluginDefinition } from "../plugin/define.js";
import { didYouMean } from "../scenario/fields.js";
import { loadScenario } from "../scenario/load.js";
import { describeValue } from "../scenario/problems.js";
import { checkOverrides, type RunOverrides, type Scenario } from "../scenario/schema.js";
import { applyOverrides, runReplication, type ReplicationResult, type ReplicationRun, type RunProgress } from "../workload/run.js";
import type { EngineApi, LoadRequest, RunRequest, ScenarioInfo } from "./protocol.js";

/** Progress packs go out at most this often (wall milliseconds), and when a replication ends. */
const PROGRESS_EVERY_MS = 100;

const imported = new Map<string, PluginDefinition[]>();

/** Schemes of module URLs a worker imports: files, and servers (a browser worker's modules); a package name has none. */
const MODULE_SCHEMES = new Set(["file", "http", "https"]);

/**
 * Why a worker must not import `spec`, or undefined: a module name must point at code installed or served, never
 * carry it (a data: or blob: URL is the code itself, so a message or a saved run could run anything).
 */
function refusedModule(spec: unknown): string | undefined {
  if (typeof spec !== "string" || spec === "") return `pluginModules: ${JSON.stringify(spec) ?? String(spec)} is not a module name; give file: URLs or package names`;
  // Two letters at least: "C:" begins a Windows path, not a URL.
  const scheme = /^([a-z][a-z0-9+.-]+):/i.exec(spec)?.[1].toLowerCase();
  if (scheme === undefined || MODULE_SCHEMES.has(scheme)) return undefined;
  const shown = JSON.stringify(spec.length > 40 ? `${spec.slice(0, 40)}...` : spec);
  return (
    `pluginModules: ${shown} is refused: a ${scheme}: URL ${scheme === "data" || scheme === "blob" ? "carries the module's code itself" : "is not a module file"}; ` +
    `give the file: URL of an installed module (import.meta.resolve("@turtles/plugin-baremetal"), pathToFileURL(path).href) or a package name`
  );
}

/**
 * @internal The plugins of these module URLs (file:, http(s): or package names; data:, blob: and other schemes are
 * refused before anything is imported), each module imported once per thread; a failed import names its URL (the cause kept).
 */
export async function pluginsFrom(modules: readonly string[]): Promise<PluginDefinition[]> {
  if (!Array.isArray(modules)) throw new Error("pluginModules: give a list of module names (file: URLs or package names)");
  for (const url of modules) {
    const refused = refusedModule(url);
    if (refused !== undefined) throw new Error(refused);
  }
  const out: PluginDefinition[] = [];
  for (const url of modules) {
    let plugins = imported.get(url);
    if (!plugins) {
      let mod: Record<string, unknown>;
      try {
        mod = (await import(/* @vite-ignore */ url)) as Record<string, unknown>;
      } catch (err) {
        throw new Error(`cannot load plugin module ${url}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
      imported.set(url, (plugins = pluginsOf(mod)));
    }
    out.push(...plugins);
  }
  return out;
}

/** Events per chunk: at least one (a chunk of none never ends), at most 1e9 (a run reports and answers between chunks). */
const CHUNK_MAX = 1e9;

const LOAD_FIELDS = ["scenario", "file", "pluginModules", "seed", "duration", "replications"] as const;
const RUN_FIELDS = ["replications", "resume", "chunk", "job"] as const;

/** A call's argument that cannot be used: the call, the argument, what it must be and what it is. */
function rejected(call: string, argument: string, expected: string, found: unknown): TypeError {
  return new TypeError(`${call}: ${argument} must be ${expected}, found ${describeValue(found)}`);
}

/** The fields of a request object (or of none), each of `known`: a mistyped field is named, with the nearest. */
function requestFields(call: string, request: unknown, known: readonly string[]): Record<string, unknown> {
  if (request === undefined) return {};
  if (request === null || typeof request !== "object" || Array.isArray(request) || ArrayBuffer.isView(request)) {
    throw rejected(call, "its argument", `an object { ${known.join(", ")} }`, request);
  }
  for (const key of Object.keys(request)) {
    if (!known.includes(key)) throw new TypeError(`${call}: unknown field ${JSON.stringify(key)}${didYouMean(key, known) || `; the fields are ${known.join(", ")}`}`);
  }
  return request as Record<string, unknown>;
}

const isIndex = (x: unknown, below: number): x is number => Number.isInteger(x) && (x as number) >= 0 && (x as number) < below;

/** The arguments of `load`, checked (overrides by the scenario's own field rules) before anything is imported or parsed. */
function checkLoad(request: unknown): LoadRequest {
  const r = requestFields("load", request, LOAD_FIELDS);
  if (typeof r.scenario !== "string" && !(r.scenario instanceof Uint8Array)) throw rejected("load", "scenario", "the scenario's YAML or JSON text", r.scenario);
  if (r.file !== undefined && typeof r.file !== "string") throw rejected("load", "file", "a file name", r.file);
  const modules = r.pluginModules;
  // Each module name is checked by pluginsFrom, before anything is imported.
  if (modules !== undefined && !Array.isArray(modules)) throw rejected("load", "pluginModules", "a list of module URLs", modules);
  try {
    checkOverrides(r as RunOverrides);
  } catch (err) {
    throw new RangeError(`load: ${(err as Error).message}`);
  }
  return r as unknown as LoadRequest;
}

/** The arguments of `run` for a scenario of `replications`, checked before the run starts. */
function checkRun(request: unknown, replications: number): RunRequest {
  const r = requestFields("run", request, RUN_FIELDS);
  const range = `a whole number from 0 to ${replications - 1} (the scenario has ${replications} replication${replications === 1 ? "" : "s"})`;
  const list = r.replications;
  let running: Set<number> | undefined; // undefined: all of them
  if (list !== undefined) {
    if (!Array.isArray(list)) throw rejected("run", "replications", "a list of replication indices", list);
    running = new Set();
    list.forEach((x: unknown, i) => {
      if (!isIndex(x, replications)) throw rejected("run", `replications[${i}]`, range, x);
      if (running!.has(x)) throw new RangeError(`run: replication ${x} is listed twice in replications`);
      running!.add(x);
    });
  }
  if (r.resume !== undefined) {
    if (!Array.isArray(r.resume)) throw rejected("run", "resume", "a list of { replication, state }", r.resume);
    const seen = new Set<number>();
    r.resume.forEach((x: unknown, i) => {
      if (typeof x !== "object" || x === null) throw rejected("run", `resume[${i}]`, "{ replication, state }", x);
      const entry = x as { replication?: unknown; state?: unknown };
      if (!isIndex(entry.replication, replications)) throw rejected("run", `resume[${i}].replication`, range, entry.replication);
      if (!(entry.state instanceof Uint8Array)) throw rejected("run", `resume[${i}].state`, "the bytes snapshot() gave", entry.state);
      // A state of a replication this run does not run would be dropped without a word.
      if (running && !running.has(entry.replication)) throw new RangeError(`run: resume[${i}] continues replication ${entry.replication}, which is not among the replications to run`);
      if (seen.has(entry.replication)) throw new RangeError(`run: resume has replication ${entry.replication} twice`);
      seen.add(entry.replication);
    });
  }
  if (r.chunk !== undefined && !(Number.isInteger(r.chunk) && (r.chunk as number) >= 1 && (r.chunk as number) <= CHUNK_MAX)) {
    throw rejected("run", "chunk", `a whole number of events from 1 to ${CHUNK_MAX}`, r.chunk);
  }
  if (r.job !== undefined && !(Number.isSafeInteger(r.job) && (r.job as number) >= 0)) throw rejected("run", "job", "a whole number from 0", r.job);
  return r as RunRequest;
}

export interface EngineApiOptions {
  /** Plugins the worker provides itself (a browser worker bundles them); modules named in `load` add to them. */
  plugins?: readonly PluginDefinition[];
}

/** A fresh engine API for one worker. */
export function createEngineApi(options: EngineApiOptions = {}): EngineApi {
  let loaded: { scenario: Scenario; plugins: PluginDefinition[]; file?: string } | undefined;
  let controller: AbortController | undefined; // set while a run goes on
  let current: ReplicationRun | undefined; // the replication in progress, between chunks
  let pauseWanted = false;
  let pauseWaiters: ((paused: boolean) => void)[] = [];
  let release: (() => void) | undefined; // continues a paused run
  let snapshotWaiters: { resolve: (pack: Uint8Array | null) => void; reject: (err: unknown) => void }[] = [];
  const listeners: ((pack: Uint8Array) => void)[] = [];
  let pending: RunProgress[] = [];
  let lastFlush = 0;

  const flush = (): void => {
    if (pending.length === 0) return;
    const pack = encodeSnapshot(pending);
    pending = [];
    lastFlush = Date.now();
    for (const listener of listeners) {
      // A subscriber that fails (a closed port, a throwing callback) is not the run's failure.
      try {
        const answer: unknown = listener(pack.slice());
        if (answer instanceof Promise) answer.catch(() => {});
      } catch {
        // dropped: the next pack goes to it again
      }
    }
  };

  const settlePauses = (paused: boolean): void => {
    const waiters = pauseWaiters;
    pauseWaiters = [];
    for (const w of waiters) w(paused);
  };

  const takeSnapshots = (): void => {
    const waiters = snapshotWaiters;
    snapshotWaiters = [];
    if (waiters.length === 0) return;
    try {
      const pack = current ? encodeSnapshot({ replication: current.replication, state: current.snapshot() }).slice() : null;
      for (const w of waiters) w.resolve(pack);
    } catch (err) {
      for (const w of waiters) w.reject(err); // the snapshot fails, not the run
    }
  };

  /** Between chunks: snapshots asked for are taken, and a pause waits here until `resume` or `cancel`. */
  const between = async (run: ReplicationRun): Promise<void> => {
    current = run;
    if (snapshotWaiters.length > 0) takeSnapshots();
    if (!pauseWanted || controller?.signal.aborted) return;
    flush();
    await new Promise<void>((resolve) => {
      release = resolve;
      settlePauses(true);
    });
    release = undefined;
  };

  const api: EngineApi = {
    async load(argument: LoadRequest): Promise<ScenarioInfo> {
      // Every argument is checked before anything changes: a rejected call leaves the loaded scenario as it was.
      const request = checkLoad(argument);
      const plugins = [...(options.plugins ?? []), ...(await pluginsFrom(request.pluginModules ?? []))];
      const scenario = applyOverrides(loadScenario(request.scenario, { file: request.file, plugins }), request);
      loaded = { scenario, plugins, file: request.file };
      const s = scenario;
      return {
        name: s.name ?? "scenario",
        seed: s.seed,
        replications: s.replications,
        duration: s.duration,
        warmup: s.warmup,
        services: s.tenants.flatMap((t) => t.services.map((svc) => `${t.name}/${svc.name}`)),
      };
    },

    async run(argument?: RunRequest): Promise<Uint8Array> {
      if (!loaded) throw new Error("no scenario is loaded: call load() first");
      if (controller) throw new Error("a run is already going on in this worker: cancel it or wait for it");
      const { scenario: s, plugins, file } = loaded;
      const request = checkRun(argument, s.replications); // before the run is marked as going on
      const run = new AbortController();
      controller = run;
      const startedAt = Date.now();
      const results: ReplicationResult[] = [];
      try {
        const states = new Map((request.resume ?? []).map((r) => [r.replication, r.state]));
        for (const r of request.replications ?? Array.from({ length: s.replications }, (_, i) => i)) {
          results.push(
            await runReplication(s, plugins, r, {
              file,
              chunk: request.chunk,
              startedAt,
              signal: run.signal,
              resumeFrom: states.get(r),
              between,
              onProgress: (p) => {
                pending.push(request.job === undefined ? p : { ...p, job: request.job });
                if (p.simTime >= p.end || Date.now() - lastFlush >= PROGRESS_EVERY_MS) flush();
              },
            }),
          );
          current = undefined;
        }
      } finally {
        flush();
        controller = undefined;
        current = undefined;
        pauseWanted = false;
        settlePauses(false);
        takeSnapshots(); // nothing in progress any more: null
      }
      // A copy of exactly its bytes, so a transfer moves no more than the results.
      return encodeSnapshot(results).slice();
    },

    pause(): Promise<boolean> {
      if (!controller) return Promise.resolve(false);
      if (release) return Promise.resolve(true);
      pauseWanted = true;
      return new Promise((resolve) => pauseWaiters.push(resolve));
    },

    resume(): void {
      pauseWanted = false;
      if (release) release();
      else settlePauses(false); // a pause asked for but not reached yet: it never happens
    },

    cancel(): void {
      controller?.abort();
      release?.();
    },

    snapshot(): Promise<Uint8Array | null> {
      if (!controller) return Promise.resolve(null);
      // Taken at the next chunk boundary (at once if paused there), without pausing or resuming anything.
      const taken = new Promise<Uint8Array | null>((resolve, reject) => snapshotWaiters.push({ resolve, reject }));
      if (release) takeSnapshots();
      return taken;
    },

    subscribe(listener: (pack: Uint8Array) => void): void {
      if (typeof listener !== "function") throw rejected("subscribe", "its argument", "a function of a progress pack (a comlink proxy)", listener);
      listeners.push(listener);
    },
  };
  return api;
}

/** The API of a worker that imports its plugins from the modules named in `load`. */
export const engineApi: EngineApi = createEngineApi();
