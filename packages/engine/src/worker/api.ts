/**
 * The engine's worker API: the same object in a Web Worker and in a Node
 * worker thread (`expose(createEngineApi(...))`). One scenario is loaded and
 * one run goes at a time; between chunks of events the run reports progress,
 * stops at a pause, saves its state for a snapshot, or ends when cancelled.
 */
import { encodeSnapshot } from "../kernel/codec.js";
import { pluginsOf, type PluginDefinition } from "../plugin/define.js";
import { loadScenario } from "../scenario/load.js";
import type { Scenario } from "../scenario/schema.js";
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
    for (const listener of listeners) listener(pack.slice());
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
    async load(request: LoadRequest): Promise<ScenarioInfo> {
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

    async run(request: RunRequest = {}): Promise<Uint8Array> {
      if (!loaded) throw new Error("no scenario is loaded: call load() first");
      if (controller) throw new Error("a run is already going on in this worker: cancel it or wait for it");
      const { scenario: s, plugins, file } = loaded;
      const run = new AbortController();
      controller = run;
      const states = new Map((request.resume ?? []).map((r) => [r.replication, r.state]));
      const startedAt = Date.now();
      const results: ReplicationResult[] = [];
      try {
        for (const r of request.replications ?? Array.from({ length: s.replications }, (_, i) => i)) {
          if (!Number.isInteger(r) || r < 0 || r >= s.replications) throw new RangeError(`replication ${r} does not exist: the scenario has ${s.replications}`);
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
      listeners.push(listener);
    },
  };
  return api;
}

/** The API of a worker that imports its plugins from the modules named in `load`. */
export const engineApi: EngineApi = createEngineApi();
