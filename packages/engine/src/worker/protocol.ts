/**
 * The worker protocol: types only, shared by the worker and its callers.
 * Control goes through comlink; progress and results travel as msgpack packs
 * (`decodePack` reads them): progress at most every 100 ms of wall time and at
 * the end of each replication, never a message per event, and results as one pack per run.
 */
import type { RunProgress } from "../workload/run.js";

/** A scenario to load into a worker. */
export interface LoadRequest {
  /** The scenario as YAML or JSON text (for a saved run: its normalised JSON). */
  scenario: string;
  /** Module URLs (file: or package specifiers) whose exported plugins provide the layers, besides the worker's own. */
  pluginModules?: string[];
  /** File name for messages. */
  file?: string;
  /** Overrides of the scenario's seed, duration (seconds) and replications. */
  seed?: number;
  duration?: number;
  replications?: number;
}

/** What a loaded scenario is. */
export interface ScenarioInfo {
  name: string;
  seed: number;
  replications: number;
  duration: number;
  warmup: number;
  /** Service keys (`tenant/service`), in scenario order. */
  services: string[];
}

/** Which replications of the loaded scenario to run, and states to continue from. */
export interface RunRequest {
  /** Replication indices, in order. Default: all of them. */
  replications?: number[];
  /** Saved states (from `snapshot`) of some of them, to continue instead of starting afresh. */
  resume?: { replication: number; state: Uint8Array }[];
  /** Events per chunk between progress, pauses and snapshots. Default 200,000. */
  chunk?: number;
  /** A label the run's progress entries carry back as their `job` (a pool running many jobs gives its job's index). */
  job?: number;
}

/** One progress entry: where a replication is (a pack of progress is a msgpack array of them). */
export type ProgressEntry = RunProgress;

/** What a worker exposes (one run at a time). */
export interface EngineApi {
  /** Loads and validates a scenario; throws its problems (file, line, field) if it is not valid. */
  load(request: LoadRequest): Promise<ScenarioInfo>;
  /** Runs replications of the loaded scenario; resolves to the msgpack of their `ReplicationResult[]`, in order. */
  run(request?: RunRequest): Promise<Uint8Array>;
  /** Pauses the run at the next chunk boundary; resolves true once paused (false if nothing runs). */
  pause(): Promise<boolean>;
  /** Continues a paused run. */
  resume(): void;
  /** Stops the run at the next chunk boundary: `run` rejects with "run cancelled". */
  cancel(): void;
  /** The state of the replication in progress (msgpack `{ replication, state }`), taken between chunks; null if none runs. */
  snapshot(): Promise<Uint8Array | null>;
  /** Calls `listener` with progress packs (msgpack `ProgressEntry[]`) while runs go on. Pass a comlink `proxy`. */
  subscribe(listener: (pack: Uint8Array) => void): void;
}
