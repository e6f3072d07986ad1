// Result assembly is total: whatever mix of present and absent figures the replications bring (a recovery in one
// replication and none in another, a figure one of them could not compute), the results hold every figure as a
// finite number or null, each the mean of its per-replication values where every replication has it.
import { describe, expect, it } from "vitest";
import { staticFigures } from "../model/figures.js";
import { Random } from "../random/random.js";
import { loadScenario } from "../scenario/load.js";
import { testHost } from "../testing/index.js";
import { LATENCY_CDF } from "./measure.js";
import { assembleResults, runReplication, type ReplicationResult } from "./run.js";

const plugins = [testHost];

/** A small random scenario: hosts with or without disks and NICs, one or two services, and random host failures. */
function randomScenario(rng: Random): string {
  const hosts = 1 + rng.below(3);
  const disk = rng.below(2) === 1;
  const nic = hosts === 1 || rng.below(2) === 1;
  const services = [`{ name: a, replicas: ${1 + rng.below(3)}, load: { open: { rate: ${20 + rng.below(200)}/s } }, request: [{ cpu: { exp: ${1 + rng.below(20)}ms } }${disk ? ", { io: { read: 4KiB } }" : ""}${nic && rng.below(2) === 1 ? ", { call: b }" : ""}]${rng.below(2) === 1 ? ", slo: { p99: 20ms }" : ""} }`];
  services.push(`{ name: b, replicas: ${1 + rng.below(2)}, load: { closed: { clients: ${1 + rng.below(8)} } }, request: [{ cpu: 2ms }] }`);
  const failures = rng.below(3) > 0 ? `failures: { hosts: { mtbf: ${2 + rng.below(30)}s, repair: { exp: ${1 + rng.below(10)}s } }, detection: ${rng.below(5)}s }` : "";
  return `duration: ${2 + rng.below(8)}s
warmup: ${rng.below(2)}s
hostTypes: { h: { cores: ${1 + rng.below(4)}, memory: 8GiB${disk ? ", disk: { iops: 10k, bandwidth: 500MB/s }" : ""}${nic ? ", nic: { bandwidth: 10Gb/s, latency: 50us }" : ""} } }
hosts: [{ type: h, count: ${hosts} }]
${failures}
tenants:
  - name: t
    services:
${services.map((x) => `      - ${x}`).join("\n")}
`;
}

type Tree = Record<string, unknown> | unknown[];
const isTree = (v: unknown): v is Tree => typeof v === "object" && v !== null;

/** Knocks figures out at random anywhere below a stack's top: null, deleted, or not finite (NaN, Infinity), or huge. */
function knockOut(node: Tree, rng: Random, p: number): void {
  for (const key of Object.keys(node)) {
    const v = (node as Record<string, unknown>)[key];
    if (rng.float() < p) {
      const what = rng.below(5);
      if (what === 0 && !Array.isArray(node)) delete (node as Record<string, unknown>)[key];
      else (node as Record<string, unknown>)[key] = what === 1 ? NaN : what === 2 ? Infinity : what === 3 && typeof v === "number" ? 1e308 : null;
    } else if (isTree(v)) {
      knockOut(v, rng, p);
    }
  }
}

/** Every leaf under `v` with its path; fails on a number that is not finite or a value of no JSON type. */
function leaves(v: unknown, path: string[] = [], out: [string[], unknown][] = []): [string[], unknown][] {
  if (isTree(v)) for (const [k, x] of Object.entries(v)) leaves(x, [...path, k], out);
  else out.push([path, v]);
  return out;
}

function at(v: unknown, path: readonly string[]): unknown {
  for (const k of path) v = isTree(v) ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

/** The paths of the finite numbers that every one of `values` has, inside lists of the same length. */
function everywhere(values: readonly unknown[], path: string[] = [], out: string[][] = []): string[][] {
  const first = values[0];
  if (typeof first === "number") {
    if (values.every((x) => typeof x === "number" && Number.isFinite(x))) out.push(path);
  } else if (Array.isArray(first)) {
    if (values.every((x) => Array.isArray(x) && x.length === first.length)) first.forEach((_, i) => everywhere(values.map((x) => (x as unknown[])[i]), [...path, String(i)], out));
  } else if (isTree(first) && values.every((x) => isTree(x) && !Array.isArray(x))) {
    for (const k of Object.keys(first)) everywhere(values.map((x) => (x as Record<string, unknown>)[k]), [...path, k], out);
  }
  return out;
}

/**
 * Paths merged by rules of their own (union, first replication's, a missing reason counts 0), holding half-widths, or
 * computed from the scenario alone (the static figures, checked against `staticFigures`).
 */
const ownRules = (path: readonly string[]): boolean =>
  ["ci95", "pressure", "failures", "failuresOmitted", "images", "density", "coldStart", "portability"].includes(path[0]) || path.includes("failedBy");

describe("assembling replications' results", () => {
  it("keeps every figure finite or null, the mean where every replication has it, over random scenarios, replication counts and missing figures", async () => {
    const rng = Random.fromKey(7, "assembly-property");
    let trials = 0;
    for (let scenarioIndex = 0; scenarioIndex < 8; scenarioIndex++) {
      const s = loadScenario(randomScenario(rng), { plugins });
      s.replications = 1 + rng.below(4);
      const reps: ReplicationResult[] = [];
      for (let r = 0; r < s.replications; r++) reps.push(await runReplication(s, plugins, r));
      for (let trial = 0; trial < 20; trial++, trials++) {
        const knocked = structuredClone(reps);
        const p = trial === 0 ? 0 : rng.float() * 0.3;
        for (const rep of knocked) knockOut(rep.stack as unknown as Tree, rng, p);
        // The oracle reads the replications as the merge sees them (after it completes each one's failure reasons).
        const results = assembleResults(s, plugins, knocked);
        const [stack] = Object.values(results.stacks);
        for (const [path, v] of leaves(stack)) {
          expect(v === null || typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v)), `${path.join(".")} = ${v}`).toBe(true);
          if (ownRules(path) || typeof v === "string") continue;
          const values = knocked.map((rep) => at(rep.stack, path));
          const all = values.every((x) => typeof x === "number" && Number.isFinite(x));
          if (typeof v === "number") {
            expect(all, `${path.join(".")} is a number though a replication lacks it`).toBe(true);
            const mean = (values as number[]).reduce((a, b) => a + b / values.length, 0);
            expect(Math.abs(v - mean)).toBeLessThanOrEqual(Math.abs(mean) * 1e-12);
          } else {
            expect(all, `${path.join(".")} is null though every replication has it`).toBe(false);
          }
        }
        // A figure every replication has, at the same place in lists of the same length, is in the results.
        for (const path of everywhere(knocked.map((rep) => rep.stack))) if (!ownRules(path)) expect(typeof at(stack, path), path.join(".")).toBe("number");
        // Whatever the replications lack, the static figures are the scenario's.
        const { images, density, coldStart, portability } = stack;
        expect({ images, density, coldStart, portability }).toEqual(staticFigures(s, plugins));
        const ci = stack.ci95;
        if (s.replications < 2) expect(ci).toBeNull();
        for (const [path, v] of leaves(ci)) expect(v === null || (typeof v === "number" && Number.isFinite(v) && v >= 0), `ci95.${path.join(".")} = ${v}`).toBe(true);
      }
    }
    expect(trials).toBe(160);
  });

  it("merges a replication with a recovery and one without (host failures): recovery is null, the rest stays", async () => {
    const s = loadScenario(randomScenario(Random.fromKey(1, "recovery")), { plugins });
    s.replications = 2;
    const reps = [await runReplication(s, plugins, 0), await runReplication(s, plugins, 1)];
    reps[0].stack.lifecycle.recovery = { p50: 1, p99: 2 };
    reps[1].stack.lifecycle.recovery = null;
    const st = Object.values(assembleResults(s, plugins, reps).stacks)[0];
    expect(st.lifecycle.recovery).toBeNull();
    expect((st.ci95 as { lifecycle: { recovery: unknown } }).lifecycle.recovery).toBeNull();
    expect(st.lifecycle.ready).toEqual({ p50: expect.any(Number), p99: expect.any(Number) });
    expect(st.services["t/a"].completed).toBe(((reps[0].stack.services["t/a"].completed as number) + (reps[1].stack.services["t/a"].completed as number)) / 2);
  });

  it("averages figures near the largest double without overflowing to Infinity", () => {
    const s = loadScenario(randomScenario(Random.fromKey(2, "huge")), { plugins });
    s.replications = 2;
    const rep = (r: number, joules: number): ReplicationResult => ({ replication: r, unplaced: [], stack: { energy: { joules } } as unknown as ReplicationResult["stack"] });
    const st = Object.values(assembleResults(s, plugins, [rep(0, 1.5e308), rep(1, 1.7e308)]).stacks)[0];
    expect((st.energy.joules as number) / 1.6e308).toBeCloseTo(1, 12);
    // t(0.975, 1) = 12.706 times the standard error 1e307.
    expect((st.ci95 as { energy: { joules: number } }).energy.joules / 1.2706e308).toBeCloseTo(1, 4);
  });

  it("reports each service's latency distribution at the fixed probabilities: rising, its 0.5 and 0.99 the p50 and p99, averaged over replications", async () => {
    const s = loadScenario(randomScenario(Random.fromKey(3, "cdf")), { plugins });
    s.replications = 2;
    const reps = [await runReplication(s, plugins, 0), await runReplication(s, plugins, 1)];
    const a = reps[0].stack.services["t/a"].latency;
    expect(Object.keys(a.cdf)).toEqual(LATENCY_CDF.map(String));
    const xs = Object.values(a.cdf) as number[];
    expect(xs.every((x, i) => i === 0 || x >= xs[i - 1])).toBe(true);
    expect([a.cdf["0.5"], a.cdf["0.99"], a.cdf["0.999"]]).toEqual([a.p50, a.p99, a.p999]);
    const merged = Object.values(assembleResults(s, plugins, reps).stacks)[0].services["t/a"].latency;
    expect(merged.cdf["0.9"]).toBe(((reps[0].stack.services["t/a"].latency.cdf["0.9"] as number) + (reps[1].stack.services["t/a"].latency.cdf["0.9"] as number)) / 2);
  });
});
