/**
 * Run snapshots (DESIGN.md, Snapshots): a run saved while it runs, to continue
 * later with the same results as if it had never stopped. A run snapshot holds
 * the scenario (overrides applied), the plugins' modules and versions, the
 * results of the replications already done and the state of each one in
 * progress; replications in neither start afresh when the run continues.
 */
import { decodeSnapshot, encodeSnapshot } from "../kernel/codec.js";
import type { PluginDefinition } from "../plugin/define.js";
import type { Scenario } from "../scenario/schema.js";
import { ENGINE_VERSION, type ReplicationResult } from "./run.js";

export const RUN_SNAPSHOT_FORMAT = "turtles-snapshot/1";

/** A replication in progress: its index and its state (`ReplicationRun.snapshot`). */
export interface RunningState {
  replication: number;
  state: Uint8Array;
}

export interface RunSnapshot {
  format: typeof RUN_SNAPSHOT_FORMAT;
  /** States are the engine's own objects: only the same engine version continues them. */
  engine: string;
  /** The scenario as JSON, overrides applied: it loads back to the same scenario. */
  scenario: string;
  file?: string;
  /** Plugin name to version, and the modules that provide them (to load them again). */
  plugins: Record<string, string>;
  pluginModules: string[];
  done: ReplicationResult[];
  running: RunningState[];
}

/** How a run saves itself: every `every` wall seconds between chunks, and when it is cancelled. */
export interface CheckpointOptions {
  every: number;
  /** The modules of the plugins, written into the snapshot so `--resume` can load them again. */
  pluginModules?: string[];
  save(snapshot: RunSnapshot): void | Promise<void>;
  /** A periodic save failed (the run goes on); the save when a run is cancelled throws instead. */
  onSaveError?: (err: Error) => void;
}

/** The snapshot of a run of `s` with these replications done and in progress. */
export function runSnapshot(
  s: Scenario,
  plugins: readonly PluginDefinition[],
  done: readonly ReplicationResult[],
  running: readonly RunningState[],
  options: { file?: string; pluginModules?: string[] } = {},
): RunSnapshot {
  const finished = new Set(done.map((d) => d.replication));
  return {
    format: RUN_SNAPSHOT_FORMAT,
    engine: ENGINE_VERSION,
    scenario: JSON.stringify(s),
    file: options.file,
    plugins: Object.fromEntries(plugins.map((p) => [p.name, p.version])),
    pluginModules: options.pluginModules ?? [],
    done: [...done].sort((a, b) => a.replication - b.replication),
    // A replication that finished while the others were being saved is done, not in progress.
    running: running.filter((r) => !finished.has(r.replication)).sort((a, b) => a.replication - b.replication),
  };
}

export function encodeRunSnapshot(snapshot: RunSnapshot): Uint8Array {
  return encodeSnapshot(snapshot);
}

/** Reads a run snapshot, refusing other files and other engine versions with a message naming `file`. */
export function decodeRunSnapshot(bytes: Uint8Array, file: string): RunSnapshot {
  return decodeSaved<RunSnapshot>(bytes, file, RUN_SNAPSHOT_FORMAT, "run snapshot", "turtles run --checkpoint FILE", "or run the scenario again");
}

/** Decodes a saved file of `format` written by this engine version, or throws a message that names `file`. */
function decodeSaved<T extends { format: string; engine: string }>(bytes: Uint8Array, file: string, format: string, what: string, writer: string, otherwise: string): T {
  let snap: Partial<T> | undefined;
  try {
    snap = decodeSnapshot(bytes) as Partial<T>;
  } catch {
    // Its format name is near the start: a file that has it but does not decode was cut short (a full disk, a copy).
    if (new TextDecoder().decode(bytes.subarray(0, 64)).includes(format)) {
      throw new Error(`${file}: a Turtles ${what} that is cut short or damaged (it cannot be read to its end); ${otherwise.replace(/^or /, "")}`);
    }
    snap = undefined;
  }
  if (snap?.format !== format) throw new Error(`${file}: not a Turtles ${what} (expected format ${format}); they are written by '${writer}'`);
  if (snap.engine !== ENGINE_VERSION) {
    throw new Error(`${file}: saved by engine ${snap.engine}, but this is engine ${ENGINE_VERSION}; continue it with engine ${snap.engine}, ${otherwise}`);
  }
  return snap as T;
}

/** The replication states of a snapshot by index. */
export function statesOf(snapshot: RunSnapshot | undefined): Map<number, Uint8Array> {
  return new Map((snapshot?.running ?? []).map((r) => [r.replication, r.state]));
}

export const SWEEP_SNAPSHOT_FORMAT = "turtles-sweep/1";

/** The points of a sweep in progress, each a saved run of its scenario (points done are in the sweep's output). */
export interface SweepSnapshot {
  format: typeof SWEEP_SNAPSHOT_FORMAT;
  engine: string;
  points: { point: Record<string, string>; run: RunSnapshot }[];
}

export function encodeSweepSnapshot(points: SweepSnapshot["points"]): Uint8Array {
  return encodeSnapshot({ format: SWEEP_SNAPSHOT_FORMAT, engine: ENGINE_VERSION, points } satisfies SweepSnapshot);
}

/** Reads a sweep snapshot, refusing other files and other engine versions with a message naming `file`. */
export function decodeSweepSnapshot(bytes: Uint8Array, file: string): SweepSnapshot {
  return decodeSaved<SweepSnapshot>(bytes, file, SWEEP_SNAPSHOT_FORMAT, "sweep snapshot", "turtles sweep --checkpoint FILE", "or remove it to compute its points afresh");
}
