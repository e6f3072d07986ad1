/**
 * `node bench/dist/solver.js [--changes N] [--seed S]`: the CPU solver's cost
 * per demand change as the number of hosts grows. Each host (16 cores) holds a
 * random nested tree: VMs (2-8 vCPUs) holding containers (weights 0.5-4, some
 * under CFS budgets) holding processes, plus bare processes. A change starts
 * or aborts a thread on a random process; only that host is recomputed, so
 * the cost per change should not depend on the number of hosts. Prints one
 * JSON line per size and the ratio of the largest to the smallest.
 */
import { parseArgs } from "node:util";
import { CpuSolver } from "../../dist/cpu/solver.js";
import { Simulation } from "../../dist/kernel/simulation.js";
import { Random } from "../../dist/random/random.js";
import { NodeStore, NONE } from "../../dist/tree/nodes.js";

export interface SolverBenchResult {
  hosts: number;
  nodes: number;
  changes: number;
  nsPerChange: number;
  maxRss: number;
}

export function benchSolver(hosts: number, changes: number, seed: number): SolverBenchResult {
  const sim = new Simulation({ seed });
  const nodes = new NodeStore();
  const cpu = new CpuSolver(sim, nodes);
  const rng = Random.fromKey(seed, "solver-bench");
  const kind = nodes.kindId("n");
  const done = sim.on("done", () => {});
  const procs: number[] = [];
  const add = (parent: number, weight: number | "runnable", cap = Infinity): number => {
    const n = nodes.add(kind, parent, 0, 0);
    cpu.setRules(n, weight, cap);
    return n;
  };
  for (let h = 0; h < hosts; h++) {
    const host = nodes.add(kind, NONE, NONE, 0);
    cpu.setHost(host, 16, 1);
    for (let v = 1 + rng.below(3); v > 0; v--) {
      const vm = add(host, "runnable", 2 + rng.below(7));
      for (let c = 1 + rng.below(3); c > 0; c--) {
        const ct = add(vm, 0.5 + 3.5 * rng.float());
        if (rng.float() < 0.3) cpu.setBandwidth(ct, 0.1 + 0.3 * rng.float(), 0.1);
        for (let p = 1 + rng.below(3); p > 0; p--) procs.push(add(ct, "runnable"));
      }
    }
    for (let p = rng.below(3); p > 0; p--) procs.push(add(host, "runnable"));
  }
  // Start with about two threads per process.
  const live: number[] = [];
  for (const p of procs) for (let t = rng.below(4); t > 0; t--) live.push(cpu.start(p, 1e9, 1, done, 0));
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < changes; i++) {
    if (live.length > 0 && rng.float() < 0.5) {
      const k = rng.below(live.length);
      cpu.abort(live[k]);
      live[k] = live[live.length - 1];
      live.pop();
    } else {
      live.push(cpu.start(procs[rng.below(procs.length)], 1e9, 1, done, 0));
    }
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { hosts, nodes: nodes.count, changes, nsPerChange: (seconds * 1e9) / changes, maxRss: process.resourceUsage().maxRSS * 1024 };
}

const isMain = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, "/").split("/").pop()!);
if (isMain) {
  const { values } = parseArgs({ options: { changes: { type: "string", default: "200000" }, seed: { type: "string", default: "1" } } });
  const changes = Number(values.changes);
  const seed = Number(values.seed);
  const results = [100, 1000, 10000].map((h) => benchSolver(h, changes, seed));
  for (const r of results) process.stdout.write(`${JSON.stringify(r)}\n`);
  process.stdout.write(`${JSON.stringify({ flatness: results[2].nsPerChange / results[0].nsPerChange })}\n`);
}
