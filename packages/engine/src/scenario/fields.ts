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
    .map((k) => `unknown key "${k}"${didYouMean(k, valid) || `; valid keys: ${valid.join(", ")}`}`)
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

export interface UnitBounds {
  /** Smallest allowed value (inclusive), in the normalised unit. */
  min?: number;
  /** Values must be strictly above `above`. */
  above?: number;
  max?: number;
}

function describeBound(kind: UnitKind, x: number): string {
  return kind === "count" || kind === "rate" ? `${x}` : `${x} ${{ duration: "s", size: "B", byteRate: "B/s", power: "W" }[kind]}`;
}

/** One of `values`; a near miss is named (`"best-fti"`: did you mean "best-fit"?). */
export function oneOf<T extends readonly [string, ...string[]]>(values: T, what: string) {
  return z.enum(values, {
    error: (iss) =>
      `expected ${what}: ${values.join(", ")}; found ${JSON.stringify(iss.input)}${typeof iss.input === "string" ? didYouMean(iss.input, values) : ""}`,
  });
}

/** A value with units (`250us`, `16GiB`, `25Gb/s`), normalised to a number; a bare number is already normalised. */
export function unitValue(kind: UnitKind, bounds: UnitBounds = {}) {
  return z
    .union([z.number(), z.string()], { error: `expected ${UNIT_EXAMPLES[kind]}` })
    .transform((v, ctx) => {
      const r = parseUnit(kind, v);
      if (!r.ok) {
        ctx.addIssue({ code: "custom", message: r.message });
        return z.NEVER;
      }
      const x = r.value;
      const shown = typeof v === "string" ? `"${v}"` : `${v}`;
      if (bounds.min !== undefined && x < bounds.min) {
        ctx.addIssue({ code: "custom", message: `must be at least ${describeBound(kind, bounds.min)}, found ${shown}` });
      } else if (bounds.above !== undefined && !(x > bounds.above)) {
        ctx.addIssue({ code: "custom", message: `must be more than ${describeBound(kind, bounds.above)}, found ${shown}` });
      } else if (bounds.max !== undefined && x > bounds.max) {
        ctx.addIssue({ code: "custom", message: `must be at most ${describeBound(kind, bounds.max)}, found ${shown}` });
      }
      return x;
    })
    .meta({ description: UNIT_EXAMPLES[kind] });
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
export function distribution(kind: "duration" | "size" | "count", max = Infinity) {
  const v = unitValue(kind, { min: 0, max });
  const positive = unitValue(kind, { above: 0, max });
  const obj = fields({
    exp: positive.optional(),
    // Beyond cv 1000 a lognormal's mass sits far below its mean (and cv² overflows near 1e154).
    lognormal: fields({
      mean: positive,
      cv: z
        .number()
        .gt(0, { error: (iss) => `cv must be > 0, found ${String(iss.input)}` })
        .lte(1000, { error: (iss) => `cv must be at most 1000, found ${String(iss.input)}` }),
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
