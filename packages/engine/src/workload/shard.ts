/**
 * Sweep shards for batch schedulers without a queue (Kubernetes Indexed Jobs,
 * Slurm arrays): shard i of N runs the points whose index is i-1 modulo N
 * (round robin, so neighbouring points, which cost about the same, spread
 * over the shards), and writes a part file of its rows by point index.
 * `mergeShards` puts the parts back in point order: the same rows, hence the
 * same bytes, as one unsharded sweep writes.
 */
import { LIMITS } from "../scenario/schema.js";
import { sha256Hex } from "../util/sha256.js";

export const SHARD_FORMAT = "turtles-sweep-shard/1";

/** Shard `index` (1-based) of `count`. */
export interface Shard {
  index: number;
  count: number;
}

/** A sweep row as written to --out. */
export type SweepRow = Record<string, unknown>;

/** A shard's part file: which sweep and shard it is, and its rows so far, each with its point index (0-based). */
export interface ShardPart {
  format: typeof SHARD_FORMAT;
  /** `sweepId` of the sweep: parts of different sweeps are never merged. */
  sweep: string;
  shard: number;
  of: number;
  /** Points of the whole sweep. */
  points: number;
  rows: { point: number; row: SweepRow }[];
}

/** Parses `--shard i/N` (1 <= i <= N); a RangeError says what was expected. */
export function parseShard(spec: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(spec.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index < 1 || index > count || count > LIMITS.sweepPoints) {
    throw new RangeError(
      `--shard ${spec}: expected i/N with 1 <= i <= N <= ${LIMITS.sweepPoints.toLocaleString("en-US")}, such as --shard 1/4 (a Kubernetes Indexed Job gives $((JOB_COMPLETION_INDEX+1))/N, a Slurm array $SLURM_ARRAY_TASK_ID/N)`,
    );
  }
  return { index, count };
}

/** Whether point `point` (0-based) belongs to `shard`. O(1). */
export function inShard(point: number, shard: Shard): boolean {
  return point % shard.count === shard.index - 1;
}

/**
 * The identity of a sweep: its scenario text, points and overrides. Shards of one sweep agree on it whatever
 * machine runs them; a part of another sweep (other file, values or flags) has another.
 */
export function sweepId(text: string, points: readonly Record<string, string>[], overrides: { seed?: number; duration?: number; replications?: number }): string {
  return `sha256:${sha256Hex(JSON.stringify({ text, points, seed: overrides.seed ?? null, duration: overrides.duration ?? null, replications: overrides.replications ?? null }))}`;
}

/** The part file of `shard` with the rows done so far (`rows` by point index; undefined: not done). */
export function shardPart(sweep: string, shard: Shard, rows: readonly (SweepRow | undefined)[]): string {
  const part: ShardPart = {
    format: SHARD_FORMAT,
    sweep,
    shard: shard.index,
    of: shard.count,
    points: rows.length,
    rows: rows.flatMap((row, point) => (row && inShard(point, shard) ? [{ point, row }] : [])),
  };
  return `${JSON.stringify(part, null, 2)}\n`;
}

/** The rows of a part file's text, when it is one (for `--resume` of a shard); undefined when it is not a part. */
export function partRows(text: string): SweepRow[] | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof doc !== "object" || doc === null || (doc as { format?: unknown }).format !== SHARD_FORMAT) return undefined;
  const rows = (doc as { rows?: unknown }).rows;
  return Array.isArray(rows) ? rows.map((r) => (r as { row: SweepRow }).row) : [];
}

/**
 * The rows of a whole sweep from the part files of all its shards, in point order. Refuses, with the file and
 * what to do, a file that is not a part, parts of different sweeps or shard counts, a shard given twice or
 * missing, and a shard that did not finish. O(points).
 */
export function mergeShards(parts: readonly { file: string; text: string }[]): SweepRow[] {
  if (parts.length === 0) throw new RangeError("merge: give the part files of a sharded sweep (turtles sweep ... --shard i/N --out part-i.json)");
  const read = parts.map(({ file, text }) => ({ file, part: checkPart(file, text) }));
  const first = read[0];
  const byShard = new Map<number, string>();
  const rows: (SweepRow | undefined)[] = new Array(first.part.points);
  for (const { file, part } of read) {
    if (part.sweep !== first.part.sweep || part.points !== first.part.points) {
      throw new RangeError(`merge: ${file} is a shard of another sweep than ${first.file} (another scenario, points, --seed, --duration or --replications); merge the parts of one sweep`);
    }
    if (part.of !== first.part.of) throw new RangeError(`merge: ${file} is shard ${part.shard}/${part.of}, but ${first.file} is of ${first.part.of} shards; merge the parts of one --shard count`);
    const twice = byShard.get(part.shard);
    if (twice !== undefined) throw new RangeError(`merge: ${file} and ${twice} are both shard ${part.shard}/${part.of}; give each shard once`);
    byShard.set(part.shard, file);
    const shard = { index: part.shard, count: part.of };
    const expected = Math.floor((part.points - part.shard) / part.of) + 1;
    for (const { point, row } of part.rows) {
      if (!Number.isInteger(point) || point < 0 || point >= part.points || !inShard(point, shard) || rows[point] !== undefined) {
        throw new RangeError(`merge: ${file} holds a row for point ${JSON.stringify(point)}, which shard ${part.shard}/${part.of} does not run (or twice); the file was edited or damaged: run the shard again`);
      }
      rows[point] = row;
    }
    if (part.rows.length < expected) {
      throw new RangeError(
        `merge: ${file} holds ${part.rows.length} of the ${expected} points of shard ${part.shard}/${part.of}: that shard did not finish; run it again with the same command and --resume`,
      );
    }
  }
  const missing = Array.from({ length: first.part.of }, (_, i) => i + 1).filter((s) => !byShard.has(s));
  if (missing.length > 0) {
    throw new RangeError(`merge: shard${missing.length === 1 ? "" : "s"} ${missing.map((s) => `${s}/${first.part.of}`).join(", ")} missing; give every part file of the sweep`);
  }
  return rows as SweepRow[];
}

/** A part file's document, checked for shape; a RangeError names the file. */
function checkPart(file: string, text: string): ShardPart {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new RangeError(`merge: ${file} is not JSON (${(err as Error).message}); give the --out files of turtles sweep --shard`);
  }
  const p = doc as Partial<ShardPart> | null;
  if (typeof p !== "object" || p === null || p.format !== SHARD_FORMAT) {
    throw new RangeError(`merge: ${file} is not a shard part (no "format": "${SHARD_FORMAT}"); give the --out files of turtles sweep --shard i/N`);
  }
  const whole = (x: unknown, min: number): boolean => Number.isSafeInteger(x) && (x as number) >= min;
  if (typeof p.sweep !== "string" || !whole(p.of, 1) || !whole(p.shard, 1) || (p.shard as number) > (p.of as number) || !whole(p.points, 0) || !Array.isArray(p.rows)) {
    throw new RangeError(`merge: ${file}: its sweep, shard, of, points or rows field is missing or wrong; the file was edited or damaged: run the shard again`);
  }
  if (!p.rows.every((r) => typeof r === "object" && r !== null && typeof r.row === "object" && r.row !== null)) {
    throw new RangeError(`merge: ${file}: a row is not a { point, row } record; the file was edited or damaged: run the shard again`);
  }
  return p as ShardPart;
}
