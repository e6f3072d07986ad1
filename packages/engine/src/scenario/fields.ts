/**
 * Building blocks of the scenario schema, shared by the engine and by plugins
 * (through `@turtles/engine/plugin`): strict objects that name the nearest
 * valid key for a typo, values with units, distributions, and "exactly one of"
 * objects. Every block keeps its input side representable in JSON Schema, so
 * `turtles schema` can give editors completion.
 */
import { z } from "zod";
import { parseUnit, UNIT_EXAMPLES, type UnitKind } from "./units.js";

/** Edit distance with adjacent transpositions (optimal string alignment). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = [];
  for (let i = 0; i <= a.length; i++) d.push([i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The candidate nearest to `word` if it is close enough to be a likely typo (case-insensitive). */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const w = word.toLowerCase();
  for (const c of candidates) {
    const dist = editDistance(w, c.toLowerCase());
    if (dist < bestDistance) {
      best = c;
      bestDistance = dist;
    }
  }
  const limit = Math.max(2, Math.floor(word.length / 3));
  return bestDistance <= limit ? best : undefined;
}

/** `; did you mean "x"?` or nothing. */
export function didYouMean(word: string, candidates: readonly string[]): string {
  const n = nearest(word, candidates);
  return n === undefined ? "" : `; did you mean "${n}"?`;
}

function unknownKeys(keys: readonly string[], valid: readonly string[]): string {
  return keys
    // JSON quoting escapes a key's newlines: each message stays one line (they are split back per key).
    .map((k) => `unknown key ${JSON.stringify(k)}${didYouMean(k, valid) || `; valid keys: ${valid.join(", ")}`}`)
    .join("\n");
}

/** A strict object: unknown keys are errors that name the nearest valid key. */
export function fields<S extends z.ZodRawShape>(shape: S, description?: string) {
  const valid = Object.keys(shape);
  const o = z.strictObject(shape, {
    error: (iss) => (iss.code === "unrecognized_keys" ? unknownKeys(iss.keys, valid) : undefined),
  });
  return description ? o.meta({ description }) : o;
}

/**
 * Requires exactly one of `keys` in an object (a step is one of cpu, mem, io,
 * call, sleep; a load is open or closed).
 */
export function exactlyOne<T extends object>(keys: readonly string[], what: string) {
  return (value: T, ctx: z.RefinementCtx): void => {
    const present = keys.filter((k) => (value as Record<string, unknown>)[k] !== undefined);
    if (present.length !== 1) {
      ctx.addIssue({
        code: "custom",
        message:
          present.length === 0
            ? `expected ${what}: one of ${keys.join(", ")}`
            : `expected ${what}: only one of ${keys.join(", ")}, found ${present.join(" and ")}`,
      });
    }
  };
}

/**
 * What any value of a kind may be, whatever its field says: at most `max`,
 * and 0 or at least `smallest` (between 0 and it lie typos and denormals such
 * as 1e-320, whose inverse is Infinity). Chosen so that every quantity derived
 * from them stays finite over the longest run on the most hosts (LIMITS).
 */
export const UNIT_RANGE: Readonly<Record<UnitKind, { smallest: number; max: number }>> = {
  // About 3 years of simulated time: float64 time still resolves 15 ns there (ulp of 1e8 s). 1 ns is the finest unit.
  duration: { smallest: 1e-9, max: 1e8 },
  // One bit to 1 PB: the largest message over the slowest NIC still ends at a finite time (8e15 s), and sums over
  // a million hosts or ten million replicas stay far inside float64 (1e22 B).
  size: { smallest: 0.125, max: 1e15 },
  // 1 b/s to 1 PB/s (ten thousand 800 Gb/s NICs).
  byteRate: { smallest: 0.125, max: 1e15 },
  // Events per second: at least one in the longest run (a rarer one never happens, and its mean gap would pass any
  // time), at most 1e9 (each is an event, and the kernel runs a few million a wall second).
  rate: { smallest: 1e-8, max: 1e9 },
  count: { smallest: 1, max: Number.MAX_SAFE_INTEGER },
  // 1 mW to 1 MW per host: the energy of a million hosts over the longest run stays below 1e21 J.
  power: { smallest: 1e-3, max: 1e6 },
};

export interface UnitBounds {
  /** Smallest allowed value (inclusive), in the normalised unit. Default 0: no quantity here is negative. */
  min?: number;
  /** Values must be strictly above `above`. */
  above?: number;
  /** Largest allowed value; never more than the kind's own (`UNIT_RANGE`). */
  max?: number;
}

/** A field's bounds resolved against its kind's range: what values are checked against and what JSON Schema shows. */
interface Range {
  min: number;
  above?: number;
  max: number;
  /** Non-zero values below this are refused. */
  smallest: number;
  /** Appended to bounds in messages (` s`, ` B`, or nothing). */
  unit: string;
}

const UNIT_NAMES: Record<UnitKind, string> = { duration: " s", size: " B", byteRate: " B/s", power: " W", count: "", rate: "" };

function unitRange(kind: UnitKind, bounds: UnitBounds): Range {
  const kindRange = UNIT_RANGE[kind];
  return { min: bounds.min ?? 0, above: bounds.above, max: Math.min(bounds.max ?? Infinity, kindRange.max), smallest: kindRange.smallest, unit: UNIT_NAMES[kind] };
}

/** Why `x` is out of `r` ("must be at most 1000000000, found \"1e12/s\""), or undefined when it is in. `shown` is the value as written. */
function outOfRange(x: number, r: Range, shown: string): string | undefined {
  const zeroAllowed = r.min <= 0 && r.above === undefined;
  if (r.above !== undefined && !(x > r.above)) return `must be more than ${r.above}${r.unit}, found ${shown}`;
  if (x < r.min) return `must be at least ${r.min}${r.unit}, found ${shown}`;
  if (x !== 0 && Math.abs(x) < r.smallest) return `must be ${zeroAllowed ? "0 or " : ""}at least ${r.smallest}${r.unit}, found ${shown}`;
  if (x > r.max) return `must be at most ${r.max}${r.unit}, found ${shown}`;
  return undefined;
}

/** The range as JSON Schema keywords, which editors show and check on numbers (strings with units are checked on load). */
function rangeSchema(r: Range): { minimum?: number; exclusiveMinimum?: number; maximum: number } {
  const low = r.above === undefined ? r.min : Math.max(r.above, r.smallest);
  return r.above !== undefined && low === r.above ? { exclusiveMinimum: low, maximum: r.max } : { minimum: low, maximum: r.max };
}

/**
 * Why a value of `kind` read from elsewhere (a CSV cell, a flag) breaks the bounds of its field, as `unitValue` says
 * it; undefined when it keeps them.
 */
export function unitRangeProblem(kind: UnitKind, x: number, bounds: UnitBounds = {}, shown = `${x}`): string | undefined {
  return outOfRange(x, unitRange(kind, bounds), shown);
}

/**
 * A plain number without units (a speed, a share of cores, a price, a ratio) within `bounds`, where non-zero values
 * below `smallest` are refused as a unit's are (`UNIT_RANGE`). The bounds show in JSON Schema.
 */
export function quantity(bounds: UnitBounds & { max: number; smallest: number }) {
  const r: Range = { min: bounds.min ?? 0, above: bounds.above, max: bounds.max, smallest: bounds.smallest, unit: "" };
  return z
    .number()
    .superRefine((x, ctx) => {
      const problem = outOfRange(x, r, `${x}`);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    })
    .meta(rangeSchema(r));
}

/** One of `values`; a near miss is named (`"best-fti"`: did you mean "best-fit"?). */
export function oneOf<T extends readonly [string, ...string[]]>(values: T, what: string) {
  return z.enum(values, {
    error: (iss) =>
      `expected ${what}: ${values.join(", ")}; found ${JSON.stringify(iss.input)}${typeof iss.input === "string" ? didYouMean(iss.input, values) : ""}`,
  });
}

/**
 * A value with units (`250us`, `16GiB`, `25Gb/s`), normalised to a number; a bare number is already normalised.
 * Within `bounds` and always within its kind's range (`UNIT_RANGE`).
 */
export function unitValue(kind: UnitKind, bounds: UnitBounds = {}) {
  const range = unitRange(kind, bounds);
  return z
    .union([z.number(), z.string()], { error: `expected ${UNIT_EXAMPLES[kind]}` })
    .transform((v, ctx) => {
      const r = parseUnit(kind, v);
      if (!r.ok) {
        ctx.addIssue({ code: "custom", message: r.message });
        return z.NEVER;
      }
      const problem = outOfRange(r.value, range, typeof v === "string" ? `"${v}"` : `${v}`);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
      return r.value;
    })
    .meta({ description: UNIT_EXAMPLES[kind], ...rangeSchema(range) });
}

/** A whole number with optional `k`/`M`/`G` suffix, within [min, max]. */
export function count(min = 0, max = Number.MAX_SAFE_INTEGER) {
  return unitValue("count", { min, max });
}

/** A name: letters, digits, `.`, `_` and `-`, starting with a letter or digit. */
export const identifier = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, { message: "expected a name of letters, digits, '.', '_' and '-'" })
  .max(100);

/** The normalised form of a distribution, itself a valid scenario value. */
export type DistributionSpec =
  | number
  | { exp: number }
  | { lognormal: { mean: number; cv: number } }
  | { uniform: [number, number] }
  | { empirical: number[] };

const DIST_KINDS = ["exp", "lognormal", "uniform", "empirical"] as const;

/**
 * A distribution of a non-negative quantity of `kind` (a duration or a size):
 * a constant (`2ms`), `{ exp: mean }`, `{ lognormal: { mean, cv } }`,
 * `{ uniform: [a, b] }` or `{ empirical: [...] }`. Means must be positive and cv > 0; values at most `max`.
 */
export function distribution(kind: "duration" | "size" | "count", max = UNIT_RANGE[kind].max) {
  const v = unitValue(kind, { min: 0, max });
  const positive = unitValue(kind, { above: 0, max });
  const obj = fields({
    exp: positive.optional(),
    // Beyond cv 1000 a lognormal's mass sits far below its mean (and cv² overflows near 1e154); below 1e-6 it is a constant.
    lognormal: fields({
      mean: positive,
      cv: quantity({ above: 0, max: 1000, smallest: 1e-6 }),
    }).optional(),
    uniform: z.tuple([v, v]).optional(),
    empirical: z.array(v).min(1, { message: "empirical needs at least one value" }).optional(),
  })
    .superRefine(exactlyOne(DIST_KINDS, "a distribution"))
    .superRefine((d, ctx) => {
      if (d.uniform && d.uniform[0] > d.uniform[1]) {
        ctx.addIssue({ code: "custom", path: ["uniform"], message: `uniform bounds must satisfy a <= b, found [${d.uniform.join(", ")}] (in ${kind === "duration" ? "seconds" : kind === "size" ? "bytes" : "calls"}); swap them` });
      }
    })
    .transform((d): DistributionSpec => {
      if (d.exp !== undefined) return { exp: d.exp };
      if (d.lognormal !== undefined) return { lognormal: d.lognormal };
      if (d.uniform !== undefined) return { uniform: d.uniform as [number, number] };
      return { empirical: d.empirical! };
    });
  const description = `${UNIT_EXAMPLES[kind]}, or { exp: m }, { lognormal: { mean: m, cv: c } }, { uniform: [a, b] }, { empirical: [...] }`;
  return z.union([v, obj], { error: `expected ${description}` }).meta({ description });
}
