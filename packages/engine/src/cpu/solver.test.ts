import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Simulation } from "../kernel/simulation.js";
import { Random } from "../random/random.js";
import { NONE, NodeStore } from "../tree/nodes.js";
import { CpuSolver, type CpuWeight } from "./solver.js";

const BIG = 1e9; // work that never finishes within a test

/**
 * A little world: one kernel, one node store, one solver, and a log of completions. `virtualFrom`: the solver's
 * runnable children from which a host follows a virtual time (Infinity: never, the flat model).
 */
function world(virtualFrom?: number) {
  const sim = new Simulation();
  const nodes = new NodeStore();
  const cpu = new CpuSolver(sim, nodes, virtualFrom);
  const done: [number, number][] = [];
  const doneType = sim.on("test.done", (p) => done.push([p, sim.now]));
  const kind = nodes.kindId("node");
  const host = (cores: number, speed = 1): number => {
    const h = nodes.add(kind, NONE, NONE, 0);
    cpu.setHost(h, cores, speed);
    return h;
  };
  const node = (parent: number, weight: CpuWeight = "runnable", cap = Infinity): number => {
    const n = nodes.add(kind, parent, 0, 0);
    cpu.setRules(n, weight, cap);
    return n;
  };
  const threads = (n: number, k: number, work = BIG): number[] => Array.from({ length: k }, (_, i) => cpu.start(n, work, 1, doneType, n * 1000 + i));
  return { sim, nodes, cpu, done, doneType, host, node, threads };
}

describe("CPU solver: hand-computed allocations", () => {
  it("shares a host equally among equal threads", () => {
    const w = world();
    const h = w.host(2);
    const acts = [0, 1, 2, 3].map(() => w.threads(w.node(h), 1)[0]);
    for (const a of acts) expect(w.cpu.rate(a)).toBeCloseTo(0.5, 12);
    expect(w.cpu.allocation(h)).toBe(2);
  });

  it("gives each thread at most one core and leaves the rest idle (work-conserving, not over-giving)", () => {
    const w = world();
    const h = w.host(8);
    const [a] = w.threads(w.node(h), 1);
    expect(w.cpu.rate(a)).toBe(1);
    expect(w.cpu.allocation(h)).toBe(1);
  });

  it("caps a group and gives its spare capacity to its siblings", () => {
    const w = world();
    const h = w.host(4);
    const capped = w.node(h, 1, 1);
    const free = w.node(h, 1);
    const a = w.threads(w.node(capped), 4);
    const b = w.threads(w.node(free), 4);
    for (const x of a) expect(w.cpu.rate(x)).toBeCloseTo(0.25, 12);
    for (const x of b) expect(w.cpu.rate(x)).toBeCloseTo(0.75, 12);
  });

  it("divides by weight 1:3 under contention", () => {
    const w = world();
    const h = w.host(2);
    const light = w.threads(w.node(w.node(h, 1)), 4);
    const heavy = w.threads(w.node(w.node(h, 3)), 4);
    expect(light.reduce((s, a) => s + w.cpu.rate(a), 0)).toBeCloseTo(0.5, 12);
    expect(heavy.reduce((s, a) => s + w.cpu.rate(a), 0)).toBeCloseTo(1.5, 12);
  });

  it("weighs a VM by its runnable vCPUs: 2 runnable of 4 against a 4-thread process", () => {
    const w = world();
    const h = w.host(4);
    const vm = w.node(h, "runnable", 4);
    const guest = w.threads(w.node(vm), 2);
    const proc = w.threads(w.node(h), 4);
    for (const a of guest) expect(w.cpu.rate(a)).toBeCloseTo(2 / 3, 12);
    for (const a of proc) expect(w.cpu.rate(a)).toBeCloseTo(2 / 3, 12);
    expect(w.cpu.allocation(vm)).toBeCloseTo(4 / 3, 12);
  });

  it("weighs a VM of weight w by w per runnable vCPU: 2 x 2 runnable against a 4-thread process gets half", () => {
    const w = world();
    const h = w.host(4);
    const vm = w.node(h, { runnable: 2 }, 4);
    const guest = w.threads(w.node(vm), 2);
    const proc = w.threads(w.node(h), 4);
    // Weights 4 and 4: 2 cores each; at weight 1 the VM would get 4/3 (the test above).
    expect(w.cpu.allocation(vm)).toBeCloseTo(2, 12);
    for (const a of guest) expect(w.cpu.rate(a)).toBeCloseTo(1, 12);
    for (const a of proc) expect(w.cpu.rate(a)).toBeCloseTo(0.5, 12);
    expect(() => w.node(h, { runnable: 0 })).toThrow(/CPU weight must be > 0, got \{ runnable: 0 \}/);
  });

  it("keeps a node's steal and its host's: runnable vCPUs beyond the cores they get, integrated over time", () => {
    const w = world();
    const h = w.host(2);
    const vm = w.node(h, "runnable", 2);
    w.cpu.trackSteal(vm);
    w.threads(w.node(vm), 2);
    w.threads(w.node(h), 2);
    // The VM weighs 2 against the process's 2: it gets 1 core of the 2 it could use, for 3 s.
    w.sim.run({ until: 3 });
    expect(w.cpu.stealOf(vm)).toBeCloseTo(3, 12);
    expect(w.cpu.hostSteal(h)).toBeCloseTo(3, 12);
    w.cpu.untrackSteal(vm);
    // A guest gone keeps its steal in its host's.
    expect(w.cpu.hostSteal(h)).toBeCloseTo(3, 12);
  });

  it("caps a VM at its vCPUs", () => {
    const w = world();
    const h = w.host(16);
    const vm = w.node(h, "runnable", 2);
    const guest = w.threads(w.node(vm), 6);
    for (const a of guest) expect(w.cpu.rate(a)).toBeCloseTo(1 / 3, 12);
    expect(w.cpu.allocation(h)).toBeCloseTo(2, 12);
  });

  it("nests a VM in a VM", () => {
    const w = world();
    const h = w.host(8);
    const outer = w.node(h, "runnable", 4);
    const inner = w.node(outer, "runnable", 2);
    const innerThreads = w.threads(w.node(inner), 3);
    const outerThreads = w.threads(w.node(outer), 3);
    // outer gets 4 (its cap); inside, inner weighs 2 (runnable vCPUs) and the process 3: 1.6 and 2.4
    for (const a of innerThreads) expect(w.cpu.rate(a)).toBeCloseTo(1.6 / 3, 12);
    for (const a of outerThreads) expect(w.cpu.rate(a)).toBeCloseTo(2.4 / 3, 12);
  });
});

describe("CPU solver: completions in simulated time", () => {
  it("runs two jobs of 1 s and 2 s on one core in processor sharing: done at 2 s and 3 s", () => {
    const w = world();
    const h = w.host(1);
    const p = w.node(h);
    w.cpu.start(p, 1, 1, w.doneType, 1);
    w.cpu.start(p, 2, 1, w.doneType, 2);
    w.sim.run();
    expect(w.done).toEqual([
      [1, 2],
      [2, 3],
    ]);
    expect(w.cpu.busyCoreSeconds(h)).toBeCloseTo(3, 12);
  });

  it("completes one activity per prediction, not every later one: jobs of 1, 2 and 3 s on one core end at 3, 5 and 6 s", () => {
    const w = world();
    const p = w.node(w.host(1));
    for (const [i, work] of [1, 2, 3].entries()) w.cpu.start(p, work, 1, w.doneType, i);
    w.sim.run();
    expect(w.done.map(([i, t]) => [i, Number(t.toFixed(12))])).toEqual([
      [0, 3],
      [1, 5],
      [2, 6],
    ]);
  });

  it("applies host speed and the path's CPU factor", () => {
    const w = world();
    const h = w.host(1, 2);
    const p = w.node(h);
    w.cpu.start(p, 1, 0.5, w.doneType, 7); // 1 nominal core-second at speed 2 and factor 0.5: 1 s
    w.sim.run();
    expect(w.done).toEqual([[7, 1]]);
  });

  it("keeps one completion event per host in the kernel queue", () => {
    const w = world();
    const hosts = [w.host(2), w.host(2)];
    for (const h of hosts) w.threads(w.node(h), 5, 1);
    expect(w.sim.pending).toBe(2);
    w.sim.run();
    expect(w.done).toHaveLength(10);
    expect(w.done.every(([, t]) => Math.abs(t - 2.5) < 1e-12)).toBe(true);
  });

  it("recomputes only the host whose demand changed", () => {
    const w = world();
    const h1 = w.host(1);
    const h2 = w.host(1);
    const [a] = w.threads(w.node(h1), 1, 10);
    w.sim.run({ until: 1 });
    w.threads(w.node(h2), 1, 10);
    expect(w.cpu.rate(a)).toBe(1);
    expect(w.cpu.remaining(a)).toBeCloseTo(9, 12);
  });
});

describe("slowdowns and rule changes", () => {
  it("slows a host and restores it without drifting, and new threads keep starting", () => {
    const w = world();
    const h = w.host(2, 1.3);
    const p = w.node(h);
    w.cpu.start(p, 1.3 * 0.98, 0.98, w.doneType, 1);
    for (let i = 0; i < 5; i++) {
      w.cpu.setSlowdown(h, 7);
      w.cpu.setSlowdown(h, 1);
    }
    w.cpu.start(p, 1.3 * 0.98, 0.98, w.doneType, 2); // the same factor: accepted after the cycles
    w.sim.run();
    // 1.3 x 0.98 work at speed 1.3 and factor 0.98 on one core each: 1 s, whatever happened at t = 0
    expect(w.done.map(([i, t]) => [i, Number(t.toFixed(12))]).sort()).toEqual([
      [1, 1],
      [2, 1],
    ]);
  });

  it("runs work slower by the slowdown while it lasts", () => {
    const w = world();
    const h = w.host(1);
    w.threads(w.node(h), 1, 1);
    w.cpu.setSlowdown(h, 4);
    w.sim.run({ until: 2 }); // 0.5 of the work done
    w.cpu.setSlowdown(h, 1);
    w.sim.run();
    expect(w.done[0][1]).toBeCloseTo(2.5, 12);
  });

  it("replaces a group's CFS limit cleanly", () => {
    const w = world();
    const h = w.host(4);
    const g = w.node(h, 1);
    w.cpu.setBandwidth(g, 0.1, 0.1);
    w.threads(w.node(g), 4);
    w.sim.run({ until: 0.05 }); // throttled at 25 ms
    w.cpu.setBandwidth(g, 0.4, 0.1); // now four cores' worth
    w.sim.run({ until: 1.05 });
    const st = w.cpu.bandwidthStats(g);
    expect(st.throttledTime).toBeCloseTo(0.025, 9);
    expect(st.nrThrottled).toBe(1);
    expect(w.cpu.busyCoreSeconds(h)).toBeCloseTo(0.1 + 4 * 1, 9);
  });
});

describe("CFS bandwidth control", () => {
  it("throttles one thread needing 80 ms under a 50 ms / 100 ms quota: done at 130 ms, throttled once", () => {
    const w = world();
    const h = w.host(4);
    const group = w.node(h, 1);
    w.cpu.setBandwidth(group, 0.05, 0.1);
    w.cpu.start(w.node(group), 0.08, 1, w.doneType, 1);
    w.sim.run();
    expect(w.done).toHaveLength(1);
    expect(w.done[0][1]).toBeCloseTo(0.13, 12);
    const st = w.cpu.bandwidthStats(group);
    expect(st.nrThrottled).toBe(1);
    expect(st.throttledTime).toBeCloseTo(0.05, 12);
    expect(st.nrPeriods).toBe(1);
  });

  it("is a budget, not a cap: four 30 ms threads under 200 ms / 100 ms all finish at 30 ms", () => {
    const w = world();
    const h = w.host(4);
    const group = w.node(h, 1);
    w.cpu.setBandwidth(group, 0.2, 0.1);
    const p = w.node(group);
    for (let i = 0; i < 4; i++) w.cpu.start(p, 0.03, 1, w.doneType, i);
    w.sim.run();
    expect(w.done.map(([, t]) => t)).toEqual([0.03, 0.03, 0.03, 0.03].map((t) => expect.closeTo(t, 12)));
    expect(w.cpu.bandwidthStats(group).nrThrottled).toBe(0);
  });

  it("throttles the children of a group whose parent's budget runs out, and gives the host to others", () => {
    const w = world();
    const h = w.host(2);
    const parent = w.node(h, 1);
    w.cpu.setBandwidth(parent, 0.05, 0.1); // half a core's worth per period
    const child = w.node(parent, 1);
    w.cpu.setBandwidth(child, 1, 0.1); // never binding
    const [a, b] = w.threads(w.node(child), 2);
    const [other] = w.threads(w.node(h), 1);
    expect(w.cpu.rate(a)).toBeCloseTo(0.5, 12);
    w.sim.run({ until: 0.05 + 1e-9 });
    expect(w.cpu.rate(a)).toBe(0); // 1 core (its fair share) x 50 ms = the budget: throttled until 100 ms
    expect(w.cpu.rate(b)).toBe(0);
    expect(w.cpu.rate(other)).toBe(1); // one thread: one core, not more
    w.sim.run({ until: 0.1 + 1e-9 });
    expect(w.cpu.rate(a)).toBeCloseTo(0.5, 12);
    expect(w.cpu.bandwidthStats(parent).nrThrottled).toBe(1);
    expect(w.cpu.bandwidthStats(child).nrThrottled).toBe(0);
  });
});

// --- A brute-force reference: bounds by recursion, shares by bisection on the water level. ---

interface RefNode {
  weight: number | "runnable";
  cap: number;
  threads: number;
  children: RefNode[];
}

function refRunnable(n: RefNode): number {
  return n.threads + n.children.reduce((s, c) => s + refRunnable(c), 0);
}
function refBound(n: RefNode): number {
  return Math.min(n.cap, n.threads + n.children.reduce((s, c) => s + refBound(c), 0));
}
function refWeight(n: RefNode): number {
  return n.weight === "runnable" ? Math.min(refRunnable(n), n.cap) : n.weight;
}
/** Per-thread rates of every leaf, in the same order as `leaves`. */
function refRates(n: RefNode, capacity: number, out: Map<RefNode, number>): void {
  if (n.children.length === 0) {
    out.set(n, n.threads > 0 ? capacity / n.threads : 0);
    return;
  }
  const kids = n.children.filter((c) => refBound(c) > 0);
  const total = kids.reduce((s, c) => s + refBound(c), 0);
  let level = 0;
  if (total > capacity) {
    let lo = 0;
    let hi = 1e6;
    for (let i = 0; i < 200; i++) {
      const mid = (lo + hi) / 2;
      const used = kids.reduce((s, c) => s + Math.min(refBound(c), refWeight(c) * mid), 0);
      if (used > capacity) hi = mid;
      else lo = mid;
    }
    level = (lo + hi) / 2;
  }
  for (const c of n.children) {
    const share = refBound(c) === 0 ? 0 : total <= capacity ? refBound(c) : Math.min(refBound(c), refWeight(c) * level);
    refRates(c, share, out);
  }
}

const arbTree: fc.Arbitrary<RefNode> = fc.letrec<{ node: RefNode }>((tie) => ({
  node: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.record({ weight: fc.constant("runnable" as const), cap: fc.constant(Infinity), threads: fc.integer({ min: 0, max: 5 }), children: fc.constant([]) }),
    fc.record({
      weight: fc.oneof(fc.constant("runnable" as const), fc.double({ min: 0.1, max: 10, noNaN: true })),
      cap: fc.oneof(fc.constant(Infinity), fc.integer({ min: 1, max: 8 })),
      threads: fc.constant(0),
      children: fc.array(tie("node"), { minLength: 1, maxLength: 4 }),
    }),
  ),
})).node;

describe("CPU solver against a brute-force reference", () => {
  it("allocates every thread the reference's rate within 1e-9 on random trees", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 16 }), fc.array(arbTree, { minLength: 1, maxLength: 5 }), (cores, tops) => {
        const w = world();
        const h = w.host(cores);
        const acts = new Map<RefNode, number[]>();
        const build = (r: RefNode, parent: number): void => {
          const id = w.node(parent, r.weight, r.cap);
          if (r.children.length === 0) acts.set(r, w.threads(id, r.threads));
          for (const c of r.children) build(c, id);
        };
        for (const t of tops) build(t, h);
        const expected = new Map<RefNode, number>();
        refRates({ weight: 1, cap: cores, threads: 0, children: tops }, Math.min(cores, refBound({ weight: 1, cap: cores, threads: 0, children: tops })), expected);
        for (const [leaf, ids] of acts) for (const a of ids) expect(Math.abs(w.cpu.rate(a) - expected.get(leaf)!)).toBeLessThan(1e-9);
      }),
      { numRuns: 300, seed: 4 },
    );
  });

  it("keeps the reference's rates as threads stop and start: subtrees going idle and coming back", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 16 }), fc.array(arbTree, { minLength: 1, maxLength: 5 }), (cores, tops) => {
        const w = world();
        const h = w.host(cores);
        const acts = new Map<RefNode, { id: number; live: number[] }>();
        const build = (r: RefNode, parent: number): void => {
          const id = w.node(parent, r.weight, r.cap);
          if (r.children.length === 0) acts.set(r, { id, live: w.threads(id, r.threads) });
          for (const c of r.children) build(c, id);
        };
        for (const t of tops) build(t, h);
        // Every other thread of each leaf stops (leaves of one thread go idle, and whole subtrees with them);
        // then every other idle leaf starts one thread again.
        for (const leaf of acts.values()) {
          leaf.live.filter((_, i) => i % 2 === 0).forEach((a) => w.cpu.abort(a));
          leaf.live = leaf.live.filter((_, i) => i % 2 === 1);
        }
        [...acts.values()].filter((leaf) => leaf.live.length === 0).forEach((leaf, i) => {
          if (i % 2 === 0) leaf.live = w.threads(leaf.id, 1);
        });
        const now = (r: RefNode): RefNode => ({ ...r, threads: acts.get(r)?.live.length ?? 0, children: r.children.map(now) });
        const mapped = new Map<RefNode, RefNode>();
        const pair = (r: RefNode, m: RefNode): void => {
          mapped.set(r, m);
          r.children.forEach((c, i) => pair(c, m.children[i]));
        };
        const after = tops.map(now);
        tops.forEach((t, i) => pair(t, after[i]));
        const root: RefNode = { weight: 1, cap: cores, threads: 0, children: after };
        const expected = new Map<RefNode, number>();
        refRates(root, Math.min(cores, refBound(root)), expected);
        for (const [leaf, { id, live }] of acts) {
          for (const a of live) expect(Math.abs(w.cpu.rate(a) - expected.get(mapped.get(leaf)!)!)).toBeLessThan(1e-9);
          if (live.length === 0) expect(w.cpu.allocation(id)).toBe(0);
        }
      }),
      { numRuns: 300, seed: 5 },
    );
  });
});

describe("CPU solver: steal", () => {
  it("counts the cores a VM's runnable vCPUs could use but do not get, and nothing for threads beyond its vCPUs", () => {
    const w = world();
    const h = w.host(4);
    const vm = w.node(h, "runnable", 4);
    w.cpu.trackSteal(vm);
    const guest = w.node(vm);
    const bare = w.node(h);
    const run = (until: number): void => void w.sim.run({ until });
    // Alone, 8 threads on 4 vCPUs: the other 4 wait inside the guest, which is not steal.
    const inside = w.threads(guest, 8);
    run(2);
    expect(w.cpu.totalSteal()).toBe(0);
    // Beside 8 bare threads: the VM weighs its 4 runnable vCPUs against 8, gets 4 * 4/12 cores, wants 4.
    const outside = w.threads(bare, 8);
    run(5);
    expect(w.cpu.totalSteal()).toBeCloseTo(3 * (4 - 16 / 12), 9);
    // The bare threads stop: no more steal; an idle VM steals nothing either.
    for (const a of outside) w.cpu.abort(a);
    run(6);
    for (const a of inside) w.cpu.abort(a);
    run(9);
    expect(w.cpu.totalSteal()).toBeCloseTo(3 * (4 - 16 / 12), 9);
  });

  it("keeps the steal of a failed host's guests, and tracks them no more", () => {
    const w = world();
    const h = w.host(2);
    const vm = w.node(h, "runnable", 2);
    w.cpu.trackSteal(vm);
    w.threads(w.node(vm), 2);
    w.threads(w.node(h), 2); // the VM gets 1 of its 2 cores
    w.sim.run({ until: 4 });
    w.cpu.abortSubtree(h);
    w.cpu.retireSteal(h);
    expect(w.cpu.totalSteal()).toBeCloseTo(4, 9);
    w.sim.run({ until: 8 });
    expect(w.cpu.totalSteal()).toBeCloseTo(4, 9);
  });
});

describe("CPU solver: pausing and moving a subtree (live migration)", () => {
  it("pauses a group's work while frozen: its thread finishes later by the pause, its sibling gets its share", () => {
    const w = world();
    const h = w.host(1);
    const vm = w.node(h, "runnable", 1);
    const guest = w.node(vm);
    w.threads(guest, 1, 2); // 2 s of work, at half the core beside the sibling: done at 4 s unpaused
    const [o] = w.threads(w.node(h), 1);
    w.sim.run({ until: 0.5 });
    w.cpu.freeze(vm, true);
    expect(w.cpu.rate(o)).toBe(1);
    w.sim.run({ until: 1.25 });
    w.cpu.freeze(vm, false);
    expect(w.cpu.rate(o)).toBe(0.5);
    w.sim.run({ until: 10 });
    expect(w.done.find(([p]) => Math.floor(p / 1000) === guest)?.[1]).toBeCloseTo(4.75, 12);
  });

  it("moves a busy subtree to another host with its remaining work: it runs at its share there", () => {
    const w = world();
    const a = w.host(1);
    const b = w.host(4, 2); // cores twice as fast
    const vm = w.node(a, "runnable", 2);
    const p = w.node(vm);
    w.threads(p, 2, 3); // two threads of 3 core-seconds, sharing one core on host a
    w.sim.run({ until: 2 }); // each has done 1: 2 left
    w.cpu.move(vm, b, () => w.nodes.reparent(vm, b));
    expect(w.nodes.host[p]).toBe(b);
    expect(w.cpu.allocation(a)).toBe(0);
    expect(w.cpu.allocation(b)).toBe(2); // a core each, capped at the VM's 2
    w.sim.run({ until: 10 });
    // 2 core-seconds left at speed 2: done 1 s after the move.
    expect(w.done.map(([, t]) => t)).toEqual([3, 3]);
  });
});

describe("CPU solver: incremental recomputation", () => {
  it("gives, bit for bit, what a recomputation of every node gives, as threads start, finish and stop", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.array(arbTree, { minLength: 1, maxLength: 4 }),
        fc.array(fc.tuple(fc.nat(), fc.double({ min: 0.05, max: 2, noNaN: true }), fc.boolean()), { minLength: 1, maxLength: 30 }),
        (cores, tops, steps) => {
          const w = world();
          const h = w.host(cores);
          const all: number[] = [h];
          const leaves: number[] = [];
          const build = (r: RefNode, parent: number): void => {
            const id = w.node(parent, r.weight, r.cap);
            all.push(id);
            if (r.children.length === 0) leaves.push(id);
            for (const c of r.children) build(c, id);
          };
          for (const t of tops) build(t, h);
          const live: number[] = [];
          const state = () => [...all.map((n) => w.cpu.allocation(n)), ...live.map((a) => w.cpu.remaining(a)), w.cpu.busyCoreSeconds(h)];
          for (const [pick, work, stop] of steps) {
            if (stop && live.length > 0) w.cpu.abort(live.splice(pick % live.length, 1)[0]);
            else live.push(w.cpu.start(leaves[pick % leaves.length], work, 1, w.doneType, 0));
            w.sim.run({ until: w.sim.now + work / 3 });
            const incremental = state();
            // A rule change "to the same rules" marks a node's path: done for every node, it recomputes them all.
            for (const n of all) w.cpu.updateRules(n, undefined, undefined);
            expect(state().map((x) => Object.is(x, incremental.shift()))).not.toContain(false);
          }
        },
      ),
      { numRuns: 200, seed: 6 },
    );
  });

  it("completes leaves that finish at the same instant in the tree's order, whatever order they started in", () => {
    const w = world();
    const h = w.host(2);
    const vm = w.node(h, "runnable", 2);
    const inVm = w.node(vm);
    const bare = w.node(h);
    // Siblings run in decreasing id: `bare` (created last) comes before the VM, so its thread is done first.
    for (const order of [
      [bare, inVm],
      [inVm, bare],
    ]) {
      const end = w.sim.now + 1;
      w.done.length = 0;
      for (const n of order) w.cpu.start(n, 1, 1, w.doneType, n);
      w.sim.run();
      expect(w.done).toEqual([
        [bare, end],
        [inVm, end],
      ]);
    }
  });
});

/** Whether `x` and `y` agree within 1e-9 of the larger (exactly, for zeros). */
const near = (x: number, y: number): boolean => x === y || Math.abs(x - y) <= 1e-9 * Math.max(Math.abs(x), Math.abs(y));

describe("CPU solver: virtual time on a host of many chains", () => {
  it("shares 8 cores among 20 VMs of 2 busy vCPUs: 0.2 core per thread, 1 s of work done at 5 s, steal 8 core-seconds per VM", () => {
    const w = world();
    const h = w.host(8);
    const vms = Array.from({ length: 20 }, () => w.node(h, "runnable", 2));
    const acts = vms.flatMap((vm) => {
      w.cpu.trackSteal(vm);
      return w.threads(w.node(vm), 2, 1);
    });
    expect(w.cpu.followsVirtualTime(h)).toBe(true);
    for (const a of acts) expect(w.cpu.rate(a)).toBeCloseTo(0.2, 12);
    w.sim.run({ until: 2.5 });
    expect(w.cpu.remaining(acts[0])).toBeCloseTo(0.5, 12);
    w.sim.run();
    expect(w.done).toHaveLength(40);
    for (const [, t] of w.done) expect(t).toBeCloseTo(5, 12);
    for (const vm of vms) expect(w.cpu.stealOf(vm)).toBeCloseTo((2 - 0.4) * 5, 9);
    expect(w.cpu.followsVirtualTime(h)).toBe(false); // idle: no demand beyond the cores
  });

  // Virtual time sums each leaf's progress in another order than the flat model's steps (one product per interval
  // between changes of its VM, not one per change of the host), so the two agree to rounding, not bit for bit:
  // within 1e-9 relative, far below any figure results print.
  it("gives the flat model's rates, remaining work, steal and completions within 1e-9 as threads start, finish and stop", () => {
    let virtualSteps = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 24 }),
        fc.array(
          fc.record({
            weight: fc.oneof(
              fc.constant<CpuWeight>("runnable"),
              fc.double({ min: 0.5, max: 4, noNaN: true }).map((x): CpuWeight => ({ runnable: x })),
              fc.double({ min: 0.5, max: 8, noNaN: true }),
            ),
            cap: fc.oneof(fc.constant(Infinity), fc.integer({ min: 1, max: 4 })),
            depth: fc.integer({ min: 0, max: 2 }),
            threads: fc.integer({ min: 0, max: 3 }),
          }),
          { minLength: 16, maxLength: 40 },
        ),
        fc.array(fc.tuple(fc.nat(), fc.double({ min: 0.01, max: 2, noNaN: true }), fc.boolean()), { minLength: 1, maxLength: 40 }),
        (cores, vms, steps) => {
          const run = (virtualFrom: number) => {
            const w = world(virtualFrom);
            const h = w.host(cores);
            // A chain: a VM (or a bare process at depth 0), its guest nodes, one leaf.
            const leaves = vms.map((v) => {
              let n = w.node(h, v.weight, v.cap);
              w.cpu.trackSteal(n);
              for (let i = 0; i < v.depth; i++) n = w.node(n);
              return n;
            });
            const live: number[] = [];
            vms.forEach((v, i) => {
              for (let k = 0; k < v.threads; k++) live.push(w.cpu.start(leaves[i], 0.3 + i * 0.0137 + k * 0.00191, 1, w.doneType, i * 10 + k));
            });
            const trace: number[] = [];
            let virtual = 0;
            steps.forEach(([pick, work, stop], i) => {
              if (stop && live.length > 0) w.cpu.abort(live.splice(pick % live.length, 1)[0]);
              else live.push(w.cpu.start(leaves[pick % leaves.length], work, 1, w.doneType, 1000 + i));
              if (w.cpu.followsVirtualTime(h)) virtual++;
              w.sim.run({ until: w.sim.now + work / 3 });
              trace.push(...live.map((a) => w.cpu.rate(a)), ...live.map((a) => w.cpu.remaining(a)), w.cpu.hostSteal(h), w.cpu.busyCoreSeconds(h));
            });
            w.sim.run();
            trace.push(w.cpu.totalSteal(), w.cpu.busyCoreSeconds(h));
            return { trace, done: w.done, virtual };
          };
          const flat = run(Infinity);
          const virt = run(16);
          expect(flat.virtual).toBe(0);
          virtualSteps += virt.virtual;
          expect(virt.done.map(([p]) => p)).toEqual(flat.done.map(([p]) => p));
          expect(virt.done.every(([, t], i) => near(t, flat.done[i][1]))).toBe(true);
          expect(virt.trace.length).toBe(flat.trace.length);
          expect(virt.trace.every((x, i) => near(x, flat.trace[i]))).toBe(true);
        },
      ),
      { numRuns: 150, seed: 7 },
    );
    // The property held where it matters: hosts spent steps under virtual time.
    expect(virtualSteps).toBeGreaterThan(100);
  });

  it("gives the flat model's completions within 1e-9 to a closed loop that starts its next work as it hears of the last", () => {
    const run = (virtualFrom: number) => {
      const sim = new Simulation();
      const nodes = new NodeStore();
      const cpu = new CpuSolver(sim, nodes, virtualFrom);
      const rng = Random.fromKey(3, "closed-loop");
      const kind = nodes.kindId("node");
      const h = nodes.add(kind, NONE, NONE, 0);
      cpu.setHost(h, 7, 1);
      const done: [number, number][] = [];
      let virtual = 0;
      const type: number = sim.on("loop.done", (leaf) => {
        done.push([leaf, sim.now]);
        if (cpu.followsVirtualTime(h)) virtual++;
        // 1 to 3 threads per leaf: chains change their weight, and some VMs go idle for an instant.
        if (done.length < 3000) cpu.start(leaf, 0.01 + rng.float() * 0.2, 0.98, type, leaf);
      });
      for (let v = 0; v < 30; v++) {
        const vm = nodes.add(kind, h, 0, 0);
        cpu.setRules(vm, v % 3 === 0 ? { runnable: 2 } : "runnable", 2);
        cpu.trackSteal(vm);
        const proc = nodes.add(kind, vm, 0, 0);
        cpu.setRules(proc, "runnable");
        for (let t = 0; t <= v % 3; t++) cpu.start(proc, 0.01 + rng.float() * 0.2, 0.98, type, proc);
      }
      sim.run();
      return { done, virtual, steal: cpu.hostSteal(h), busy: cpu.busyCoreSeconds(h) };
    };
    const flat = run(Infinity);
    const virt = run(16);
    expect(virt.virtual).toBeGreaterThan(2000);
    expect(virt.done.map(([leaf]) => leaf)).toEqual(flat.done.map(([leaf]) => leaf));
    expect(virt.done.every(([, t], i) => near(t, flat.done[i][1]))).toBe(true);
    expect(near(virt.steal, flat.steal) && near(virt.busy, flat.busy)).toBe(true);
  });
});
