/**
 * The scenario fuzz suite (issue "Hardening"): mutations of real scenarios (numbers at the edges, -0, denormals and
 * 1e308; wrong types; names that are JavaScript internals, control characters, 10 KB strings; duplicate keys; YAML
 * aliases; deep nesting), each loaded as `validate` loads it and, when it loads, run briefly in this process. The
 * property: bad input is a `ScenarioError` whose every problem is located (file, line and column, field) and prints
 * no control character; anything else thrown is a crash (a stack trace on the terminal). A scenario that loads runs
 * to results whose every figure is finite or null, or stops when cancelled (a hang fails the test by its timeout).
 *
 * CI runs TURTLES_FUZZ_RUNS cases (default 150, about a minute); `pnpm fuzz` runs 2,000. A failure prints the
 * fast-check seed and the shrunk scenario; `TURTLES_FUZZ_SEED=n` replays a run.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { formatProblems, loadScenario, RunCancelled, runScenario, ScenarioError, type Scenario } from "@turtles/engine";
import { parseDocument, stringify } from "yaml";
import { describe, expect, it } from "vitest";
import { builtinPlugins } from "../src/lib/scenario-file.js";

const examples = join(import.meta.dirname, "..", "..", "..", "examples");
const BASES = ["web-tier.yaml", "batch.yaml", "overload.yaml", "three-tier.yaml", "web-shop.yaml"].map((f) => readFileSync(join(examples, f), "utf8"));
const RUNS = Number(process.env.TURTLES_FUZZ_RUNS ?? 150);
const SEED = process.env.TURTLES_FUZZ_SEED === undefined ? undefined : Number(process.env.TURTLES_FUZZ_SEED);
/** A model this size or larger is refused by the memory guard, as on a small machine: the suite tests checks, not builds. */
const LIMITS = { memoryLimit: 256 * 2 ** 20, heapLimit: 128 * 2 ** 20 };

const numbers = fc.constantFrom(-0, 0, -1, 1, 5e-324, 1e-320, 1e-300, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, 2 ** 31, NaN, Infinity, -Infinity, 0.5, 1e9);
const names = fc.constantFrom("constructor", "__proto__", "toString", "valueOf", "hasOwnProperty", "prototype", "1", "\u001b[2J\u001b[H", "a\nb: forged", "\u0000", "\u202ehidden", "");
const strings = fc.oneof(names, fc.constantFrom("x".repeat(10_000), "10", "2s", "1e308/s", "-0s", "1e-320GiB", "NaN", "true", "null"));
const wrongTypes = fc.constantFrom<unknown>(true, null, [], {}, [1, 2], { a: 1 }, "");
const leafValue = fc.oneof(numbers, strings, wrongTypes, fc.integer({ min: -3, max: 1_000_000_000 }).map((n) => n * 1000));

/** A number with a unit, as scenarios write them: `2000/s`, `10ms`, `16GiB`, `10Gb/s`. */
const NUMERIC = /^[-+]?[\d.]+(?:e[-+]?\d+)?\s*([a-zA-Z/%]+)?$/;

/** One change to a scenario's parsed YAML (`pick` chooses the place among all of them) or to its text. */
type Mutation =
  | { kind: "value"; pick: number; value: unknown }
  | { kind: "edge"; pick: number; value: number }
  | { kind: "key"; pick: number; name: string }
  | { kind: "nest"; pick: number; depth: number }
  | { kind: "duplicate"; pick: number }
  | { kind: "alias"; pick: number; fanout: number; depth: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("value" as const), pick: fc.nat(), value: leafValue }) },
  { weight: 8, arbitrary: fc.record({ kind: fc.constant("edge" as const), pick: fc.nat(), value: numbers }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("key" as const), pick: fc.nat(), name: names }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("nest" as const), pick: fc.nat(), depth: fc.integer({ min: 10, max: 3000 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("duplicate" as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("alias" as const), pick: fc.nat(), fanout: fc.integer({ min: 2, max: 10 }), depth: fc.integer({ min: 1, max: 9 }) }) },
);

/** Every place in a parsed document: [container, key] pairs. */
function places(root: unknown): [Record<string | number, unknown>, string | number][] {
  const out: [Record<string | number, unknown>, string | number][] = [];
  const walk = (v: unknown): void => {
    if (v === null || typeof v !== "object") return;
    for (const k of Object.keys(v)) {
      const key = Array.isArray(v) ? Number(k) : k;
      out.push([v as Record<string | number, unknown>, key]);
      walk((v as Record<string | number, unknown>)[key]);
    }
  };
  walk(root);
  return out;
}

/** The scenario text after the mutations. */
function mutate(base: string, mutations: Mutation[]): string {
  const data = parseDocument(base).toJS() as unknown;
  let extra = "";
  const nests: number[] = [];
  for (const m of mutations) {
    const all = places(data);
    const [holder, key] = all[m.pick % all.length];
    if (m.kind === "value") holder[key] = m.value;
    else if (m.kind === "edge") {
      // A number at the edge in a numeric field, its unit kept: 1e-320/s for a rate, 1e308GiB for a size.
      const numeric = all.filter(([h, k]) => typeof h[k] === "number" || (typeof h[k] === "string" && NUMERIC.test(h[k] as string)));
      const [h, k] = numeric[m.pick % numeric.length];
      const unit = typeof h[k] === "string" ? (NUMERIC.exec(h[k] as string)![1] ?? "") : "";
      h[k] = unit === "" ? m.value : `${Object.is(m.value, -0) ? "-0" : String(m.value)}${unit}`;
    }
    else if (m.kind === "nest") {
      // Written into the text after stringify (whose own recursion would overflow first).
      holder[key] = `NEST${nests.length}`;
      nests.push(m.depth);
    } else if (m.kind === "key") {
      if (Array.isArray(holder)) holder.push({ [m.name]: 1 });
      else {
        // Renamed (an unknown key), or beside its old name when that is a JavaScript internal that cannot be set.
        holder[m.name] = holder[key];
        if (m.name !== key) delete holder[key];
      }
    }
    // Text-level changes go after the document: a top-level key again, or a list of aliases of aliases.
    else if (m.kind === "duplicate") extra += `${Object.keys(data as object)[m.pick % Object.keys(data as object).length]}: 1\n`;
    else {
      const lines = [`a0: &a0 [${Array.from({ length: m.fanout }, () => "x").join(", ")}]`];
      for (let d = 1; d <= m.depth; d++) lines.push(`a${d}: &a${d} [${Array.from({ length: m.fanout }, () => `*a${d - 1}`).join(", ")}]`);
      extra += `${lines.join("\n")}\n`;
    }
  }
  const text = stringify(data, { aliasDuplicateObjects: false, lineWidth: 0 }) + extra;
  return nests.reduce((t, depth, k) => t.replace(`NEST${k}`, `${"[".repeat(depth)}1${"]".repeat(depth)}`), text);
}

/** Where a result figure is neither finite nor null: its path, else undefined. */
function notFinite(v: unknown, path = "results"): string | undefined {
  if (typeof v === "number") return Number.isFinite(v) ? undefined : `${path} = ${v}`;
  if (v === null || typeof v !== "object") return undefined;
  for (const [k, x] of Object.entries(v)) {
    const bad = notFinite(x, `${path}.${k}`);
    if (bad) return bad;
  }
  return undefined;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f\u202e]/;

/** Loads `text` as validate does. */
const load = (text: string): Scenario => loadScenario(text, { file: "fuzz.yaml", plugins: builtinPlugins, ...LIMITS });

/** Loads (with `loader`: the tests of the property itself give their own) and briefly runs `text`; throws what breaks the property. */
async function check(text: string, loader = load): Promise<void> {
  let scenario: Scenario;
  try {
    scenario = loader(text);
  } catch (err) {
    if (!(err instanceof ScenarioError)) throw new Error(`not a located problem (a crash): ${(err as Error).stack}`);
    for (const p of err.problems) {
      if (p.file !== "fuzz.yaml" || !(p.line >= 0) || !(p.column >= 0) || typeof p.path !== "string") throw new Error(`unlocated problem: ${JSON.stringify(p)}`);
    }
    const printed = formatProblems(err.problems);
    if (CONTROL.test(printed)) throw new Error(`problems print a control character: ${JSON.stringify(printed)}`);
    return;
  }
  // Briefly: half a simulated second after at most half a second of warm-up, cancelled after 5 wall seconds.
  const brief = { ...scenario, warmup: Math.min(scenario.warmup, 0.5), duration: Math.min(scenario.duration, 0.5), replications: 1 };
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 5000);
  try {
    const results = await runScenario(brief, builtinPlugins, { signal: controller.signal, file: "fuzz.yaml" });
    const bad = notFinite(results);
    if (bad) throw new Error(`a figure is not finite: ${bad}`);
  } catch (err) {
    if (err instanceof RunCancelled) return;
    // Bad input only a built model shows is located too.
    if (err instanceof ScenarioError) return;
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

describe("fuzzed scenarios", () => {
  it("give a located problem, or results whose figures are finite or null", { timeout: 60_000 + RUNS * 6000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: BASES.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 3 }), async (base, mutations) => {
        await check(mutate(BASES[base], mutations));
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
  });

  it("the mutations reach what they aim at: some load, some are refused, and the property sees a crash", async () => {
    // A check that cannot fail proves nothing: the same machinery on known inputs.
    await expect(check(BASES[0])).resolves.toBeUndefined();
    const refused = mutate(BASES[0], [{ kind: "value", pick: 0, value: "\u001b[2J" }]);
    expect(() => load(refused)).toThrow(ScenarioError);
    await expect(check(refused)).resolves.toBeUndefined();
    // What breaks the property is seen: a crash, an unlocated problem (a control character in a problem is escaped by
    // formatProblems itself, so no loader can make one print).
    const problem = { file: "fuzz.yaml", line: 1, column: 1, path: "name", message: "bad" };
    await expect(check("x", () => { throw new TypeError("boom"); })).rejects.toThrow(/not a located problem \(a crash\): TypeError: boom/);
    await expect(check("x", () => { throw new ScenarioError([{ ...problem, file: "elsewhere.yaml" }]); })).rejects.toThrow(/unlocated problem/);
    expect(notFinite({ a: [1, { b: Infinity }] })).toBe("results.a.1.b = Infinity");
    expect(mutate("a: 1\n", [{ kind: "alias", pick: 0, fanout: 2, depth: 1 }])).toBe("a: 1\na0: &a0 [x, x]\na1: &a1 [*a0, *a0]\n");
  });
});
