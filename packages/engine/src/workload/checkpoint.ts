/**
 * Run snapshots (DESIGN.md, Snapshots): a run saved while it runs, to continue
 * later with the same results as if it had never stopped. A run snapshot holds
 * the scenario (overrides applied), the plugins' modules and versions, the
 * results of the replications already done and the state of each one in
 * progress; replications in neither start afresh when the run continues.
 *
 * A saved file is untrusted input: it may be cut short, damaged on disk, or
 * edited by hand. Its bytes are the msgpack of its content followed by the
 * SHA-256 of that msgpack, and every field is checked for shape and range when
 * it is read, so it continues the run exactly or is refused with its name.
 */
import { decodeSnapshot, encodeSnapshot } from "../kernel/codec.js";
import type { PluginDefinition } from "../plugin/define.js";
import { LIMITS, type Scenario } from "../scenario/schema.js";
import { sha256 } from "../util/sha256.js";
import { ENGINE_VERSION, replicationSeeds, type ReplicationResult } from "./measure.js";
import { pointKey } from "./sweep.js";

export const RUN_SNAPSHOT_FORMAT = "turtles-snapshot/2";

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
  /** Null once saved (msgpack has no undefined). */
  file?: string | null;
  /** Plugin name to version, and the modules that provided them (a hint of what to load: a saved run never loads them itself). */
  plugins: Record<string, string>;
  pluginModules: string[];
  done: ReplicationResult[];
  running: RunningState[];
}

/** How a run saves itself: every `every` wall seconds between chunks, and when it is cancelled. */
export interface CheckpointOptions {
  every: number;
  /** The modules of the plugins, written into the snapshot so `--resume` can say which to load. */
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

/** The bytes of a run snapshot: its msgpack, then the SHA-256 of that msgpack. */
export function encodeRunSnapshot(snapshot: RunSnapshot): Uint8Array {
  return sealed(snapshot);
}

/** Reads a run snapshot, refusing damaged files, other files and other engine versions with a message naming `file`. */
export function decodeRunSnapshot(bytes: Uint8Array, file: string): RunSnapshot {
  const snap = unsealed(bytes, file, RUN_KIND);
  const problem = runSnapshotProblem(snap);
  if (problem !== undefined) throw damaged(file, RUN_KIND, problem);
  return snap as unknown as RunSnapshot;
}

/**
 * Why `snap` is not a well-formed saved run (of `scenario`, when given; else of
 * the scenario it holds), or undefined: every field of its shape, replication
 * indices in range and each once, done and in progress apart, and each done
 * replication computed with the seed its index derives from the scenario's.
 */
function runSnapshotProblem(snap: unknown, scenario?: Pick<Scenario, "seed" | "replications">): string | undefined {
  if (!isRecord(snap)) return "it is not a record of a run";
  if (snap.format !== RUN_SNAPSHOT_FORMAT) return `its format is ${shown(snap.format)}, not ${RUN_SNAPSHOT_FORMAT}`;
  if (typeof snap.engine !== "string") return "it names no engine version";
  if (typeof snap.scenario !== "string") return "it holds no scenario";
  if (!(snap.file === undefined || snap.file === null || printable(snap.file))) return "its scenario file name is not a name";
  if (!isRecord(snap.plugins) || !Object.entries(snap.plugins).every(([k, v]) => printable(k) && printable(v))) return "its plugins are not names and versions";
  if (!Array.isArray(snap.pluginModules) || !snap.pluginModules.every(printable)) return "its plugin modules are not a list of names";
  let own: unknown;
  try {
    own = scenario ?? JSON.parse(snap.scenario);
  } catch {
    return "its scenario is not JSON";
  }
  if (!isRecord(own)) return "its scenario is not a record";
  const { seed, replications } = own;
  if (!(Number.isSafeInteger(seed) && (seed as number) >= 0)) return "its scenario has no seed";
  if (!(Number.isSafeInteger(replications) && (replications as number) >= 1 && (replications as number) <= LIMITS.replications)) return "its scenario has no replication count";
  const n = replications as number;
  if (!Array.isArray(snap.done) || !Array.isArray(snap.running)) return "it has no lists of replications done and in progress";
  const seen = new Map<number, string>();
  const index = (x: unknown, where: "done" | "running"): string | undefined => {
    if (!isRecord(x)) return `an entry of ${where} is not a record`;
    const r = x.replication;
    if (!Number.isInteger(r) || (r as number) < 0 || (r as number) >= n) return `${where} lists replication ${shown(r)}, but its scenario has replications 0 to ${n - 1}`;
    const before = seen.get(r as number);
    if (before !== undefined) return before === where ? `${where} lists replication ${r} twice` : `replication ${r} is both done and running`;
    seen.set(r as number, where);
    return undefined;
  };
  const seeds = snap.done.length > 0 ? replicationSeeds(seed as number, n) : [];
  for (const d of snap.done) {
    const problem = index(d, "done");
    if (problem !== undefined) return problem;
    const x = d as Record<string, unknown>;
    if (x.seed !== seeds[x.replication as number]) {
      return `done replication ${x.replication} was computed with seed ${shown(x.seed)}, but the scenario's root seed ${seed} gives it seed ${seeds[x.replication as number]}`;
    }
    if (!isRecord(x.stack) || !isRecord(x.stack.services) || !Array.isArray(x.unplaced) || !(x.metrics === undefined || x.metrics === null || isRecord(x.metrics))) {
      return `done replication ${x.replication} does not hold results`;
    }
    if (!plainData(x, 0)) return `done replication ${x.replication} holds values that are not results`;
  }
  for (const r of snap.running) {
    const problem = index(r, "running");
    if (problem !== undefined) return problem;
    if (!((r as Record<string, unknown>).state instanceof Uint8Array)) return `replication ${(r as RunningState).replication} in progress has no state`;
  }
  return undefined;
}

/** The state of each replication in progress in a snapshot, by index. */
export function statesOf(snapshot: RunSnapshot | undefined): Map<number, Uint8Array> {
  return new Map((snapshot?.running ?? []).map((r) => [r.replication, r.state]));
}

/** Throws when `resume` cannot continue a run of `s` (a snapshot an app built or edited itself); `decodeRunSnapshot` checks files. */
export function checkResume(resume: RunSnapshot | undefined, s: Scenario): void {
  const problem = resume && runSnapshotProblem(resume, s);
  if (problem) throw new Error(`resume: not a saved run of this scenario: ${problem}`);
}

export const SWEEP_SNAPSHOT_FORMAT = "turtles-sweep/2";

/** The points of a sweep in progress, each a saved run of its scenario (points done are in the sweep's output). */
export interface SweepSnapshot {
  format: typeof SWEEP_SNAPSHOT_FORMAT;
  engine: string;
  points: { point: Record<string, string>; run: RunSnapshot }[];
}

/** The bytes of a sweep snapshot: its msgpack, then the SHA-256 of that msgpack. */
export function encodeSweepSnapshot(points: SweepSnapshot["points"]): Uint8Array {
  return sealed({ format: SWEEP_SNAPSHOT_FORMAT, engine: ENGINE_VERSION, points } satisfies SweepSnapshot);
}

/** Reads a sweep snapshot, refusing damaged files, other files and other engine versions with a message naming `file`. */
export function decodeSweepSnapshot(bytes: Uint8Array, file: string): SweepSnapshot {
  const snap = unsealed(bytes, file, SWEEP_KIND);
  if (!Array.isArray(snap.points)) throw damaged(file, SWEEP_KIND, "it has no list of points");
  const keys = new Set<string>();
  for (const [i, p] of snap.points.entries()) {
    const point = isRecord(p) ? p.point : undefined;
    if (!isRecord(point) || !Object.entries(point).every(([k, v]) => printable(k) && printable(v))) throw damaged(file, SWEEP_KIND, `point ${i + 1} has no parameter values`);
    const key = pointKey(point, Object.keys(point).sort());
    if (keys.has(key)) throw damaged(file, SWEEP_KIND, `point ${i + 1} is saved twice`);
    keys.add(key);
    const problem = runSnapshotProblem((p as Record<string, unknown>).run);
    if (problem !== undefined) throw damaged(file, SWEEP_KIND, `point ${i + 1}: ${problem}`);
  }
  return snap as unknown as SweepSnapshot;
}

/** What a kind of saved file is, who writes it, and what to do with one that cannot be used. */
interface SavedKind {
  format: string;
  /** The format before checksums, read only to say so. */
  older: string;
  what: string;
  writer: string;
  otherwise: string;
}

const RUN_KIND: SavedKind = {
  format: RUN_SNAPSHOT_FORMAT,
  older: "turtles-snapshot/1",
  what: "run snapshot",
  writer: "turtles run --checkpoint FILE",
  otherwise: "run the scenario again without --resume",
};

const SWEEP_KIND: SavedKind = {
  format: SWEEP_SNAPSHOT_FORMAT,
  older: "turtles-sweep/1",
  what: "sweep snapshot",
  writer: "turtles sweep --checkpoint FILE",
  otherwise: "remove it to compute its points afresh",
};

const DIGEST_BYTES = 32;

/** The msgpack of `content`, then the 32-byte SHA-256 of that msgpack: any change to the file shows. */
function sealed(content: object): Uint8Array {
  const body = encodeSnapshot(content);
  const out = new Uint8Array(body.length + DIGEST_BYTES);
  out.set(body);
  out.set(sha256(body), body.length);
  return out;
}

/** The content of a sealed file of `kind` written by this engine version, or throws a message that names `file`. */
function unsealed(bytes: Uint8Array, file: string, kind: SavedKind): Record<string, unknown> {
  const body = bytes.subarray(0, Math.max(0, bytes.length - DIGEST_BYTES));
  const intact = bytes.length >= DIGEST_BYTES && sha256(body).every((x, i) => x === bytes[body.length + i]);
  if (!intact) {
    // Say what it most likely is: a file of the format before checksums, one of this format damaged, or another file.
    // (The format name is the first field, so it is in the first bytes.)
    const head = new TextDecoder().decode(bytes.subarray(0, 64));
    const older = head.includes(kind.older) ? decodedOrUndefined(bytes) : undefined;
    if (isRecord(older) && older.format === kind.older) {
      throw new Error(
        `${file}: a ${kind.what} of an older Turtles (format ${kind.older}, without a checksum); this one reads ${kind.format}: ` +
          `continue it with the Turtles that saved it, or ${kind.otherwise}`,
      );
    }
    const named = head.includes(kind.format.split("/")[0]);
    throw damaged(file, kind, named ? "its checksum does not match its content: it was cut short or altered" : `it is not a ${kind.format} file`);
  }
  const content = decodedOrUndefined(body);
  if (!isRecord(content)) throw damaged(file, kind, "its content is not a record");
  if (content.format !== kind.format) throw damaged(file, kind, `its format is ${shown(content.format)}, not ${kind.format}`);
  if (content.engine !== ENGINE_VERSION) {
    const engine = printable(content.engine) && content.engine.length <= 60 ? content.engine : shown(content.engine);
    throw new Error(`${file}: saved by engine ${engine}, but this is engine ${ENGINE_VERSION}; continue it with engine ${engine}, or ${kind.otherwise}`);
  }
  return content;
}

function decodedOrUndefined(bytes: Uint8Array): unknown {
  try {
    return decodeSnapshot(bytes);
  } catch {
    return undefined;
  }
}

function damaged(file: string, kind: SavedKind, why: string): Error {
  return new Error(`${file}: damaged or not a Turtles saved run (${why}); ${kind.what}s are written by '${kind.writer}': ${kind.otherwise}`);
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x) && Object.getPrototypeOf(x) === Object.prototype;
}

/** A name or version to print: a string of at most 4 KiB without control characters (escape codes, forged lines). */
function printable(x: unknown): x is string {
  return typeof x === "string" && x.length <= 4096 && !/[\u0000-\u001f\u007f-\u009f]/.test(x);
}

/** Numbers, strings, booleans, null (or undefined, in memory), lists and records only, at most 32 deep: what results are made of (no typed arrays or state markers). */
function plainData(x: unknown, depth: number): boolean {
  if (x === null || x === undefined || typeof x === "number" || typeof x === "string" || typeof x === "boolean") return true;
  if (depth >= 32) return false;
  if (Array.isArray(x)) return x.every((y) => plainData(y, depth + 1));
  return isRecord(x) && Object.values(x).every((y) => plainData(y, depth + 1));
}

/** A value from a saved file, for a message: JSON (quoted and escaped), cut to 60 characters. */
function shown(x: unknown): string {
  const text = JSON.stringify(x) ?? String(x);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
