import { describe, expect, it } from "vitest";
import { compareStacks, comparisonCsv, pairedDifference } from "./compare.js";
import { assembleResults, type Results, type StackResults } from "./measure.js";
import { fromCsv } from "./sweep.js";

/** t(0.975) with 2 degrees of freedom in closed form: (2p - 1) / sqrt(2p(1 - p)). */
const T2 = 0.95 / Math.sqrt(2 * 0.975 * 0.025);

/** One replication's figures of a stack, by hand: a service "t/web" and what the stack's hosts held. */
function replication(p99: number, memoryUsed: number, extra: Record<string, unknown> = {}): StackResults {
  const service = {
    stack: "s",
    arrived: 100,
    completed: 100,
    failed: 0,
    failedBy: {},
    dropped: 0,
    throughput: 10,
    latency: { mean: p99 / 2, p50: p99 / 3, p90: p99 / 1.5, p99, p999: p99 },
    sloViolations: null,
    ingressBytes: 0,
    egressBytes: 0,
    ioWait: null,
    callTime: null,
    inFlight: 0,
    restarts: 0,
    kills: {},
    retries: 0,
    timeouts: 0,
    wasted: 0,
  };
  return {
    services: { "t/web": service },
    hosts: {
      total: 2,
      used: 2,
      cpuUtilization: 0.5,
      steal: 0,
      throttledTime: 0,
      memoryUsed,
      memoryReserved: memoryUsed,
      memoryOverhead: 0,
      memoryPeak: memoryUsed,
      pressureTime: 0,
      diskUtilization: null,
      diskIops: null,
      diskBytesRead: null,
      diskBytesWritten: null,
      nicTxUtilization: null,
      nicRxUtilization: null,
      nicBytesSent: null,
      nicBytesReceived: null,
    },
    calls: [],
    hostTypes: {},
    pressure: [],
    lifecycle: { ready: { p50: 1, p99: 2 }, recovery: null },
    capacityLost: 0,
    failures: [],
    failuresOmitted: 0,
    energy: { joules: null },
    cost: { total: null },
    kernels: 2,
    layers: {},
    series: { window: 1, t: [], throughput: [], latencyMean: [], latencyP99: [], cpuUtilization: [] },
    ci95: null,
    ...extra,
  } as StackResults;
}

const SCENARIO = { name: "hand", seed: 1, replications: 3, duration: 10, warmup: 1, hosts: [], hostTypes: {}, tenants: [], stacks: {} } as Parameters<typeof assembleResults>[0];

/** Results of stacks from their replications, as `turtles compare` assembles them. */
function results(stacks: Record<string, StackResults[]>): { results: Results; replications: Record<string, StackResults[]> } {
  const each = Object.entries(stacks).map(([name, reps]) =>
    assembleResults({ ...SCENARIO, replications: reps.length }, [], reps.map((stack, replication) => ({ replication, seed: replication, stack, unplaced: [] }))),
  );
  const names = Object.keys(stacks);
  return { results: { ...each[0], stacks: Object.fromEntries(each.map((r, k) => [names[k], Object.values(r.stacks)[0]])) }, replications: stacks };
}

describe("paired differences", () => {
  it("gives the mean difference with the Student-t half-width of the differences (hand-computed)", () => {
    // Differences 1, 2, 3: mean 2, standard deviation 1, so the half-width is t(0.975, 2) / sqrt(3).
    const d = pairedDifference([10, 12, 14], [9, 10, 11]);
    expect(d.mean).toBe(2);
    expect(d.ci95).toBeCloseTo(T2 / Math.sqrt(3), 12);
    expect(d.excludesZero).toBe(false); // 2 - 2.48 < 0
    // Differences 2, 2.5, 3: half-width 0.5 t / sqrt(3) = 1.24, so [1.26, 3.74] excludes zero.
    const e = pairedDifference([12, 12.5, 13], [10, 10, 10]);
    expect(e.mean).toBe(2.5);
    expect(e.ci95).toBeCloseTo((0.5 * T2) / Math.sqrt(3), 12);
    expect(e.excludesZero).toBe(true);
    // The same below zero.
    expect(pairedDifference([10, 10, 10], [12, 12.5, 13]).excludesZero).toBe(true);
  });

  it("pairs the replications: a shift common to both stacks cancels, where unpaired means would not tell it", () => {
    // Replications vary a lot (the load), the stack adds exactly 1 to each: the paired interval is 0 wide.
    const d = pairedDifference([11, 101, 51], [10, 100, 50]);
    expect(d.mean).toBeCloseTo(1, 12);
    expect(d.ci95).toBeCloseTo(0, 12);
    expect(d.excludesZero).toBe(true);
  });

  it("gives exactly zero for a stack against itself", () => {
    const xs = [0.1, 0.7, 1e-9, 123456.789];
    expect(pairedDifference(xs, xs)).toEqual({ mean: 0, ci95: 0, excludesZero: false });
    const reps = [replication(0.011, 3e9), replication(0.013, 3.1e9), replication(0.017, 2.9e9)];
    const { results: r, replications } = results({ a: reps, b: reps });
    const c = compareStacks(r, { replications });
    expect(c.figures.length).toBeGreaterThan(5);
    for (const f of c.figures) {
      expect(f.stacks.a.difference).toBeNull(); // the baseline
      expect(f.stacks.b.difference).toEqual({ mean: 0, ci95: 0, excludesZero: false });
    }
  });

  it("has no interval with one replication, and refuses lists that are not pairs", () => {
    expect(pairedDifference([3], [1])).toEqual({ mean: 2, ci95: null, excludesZero: false });
    expect(() => pairedDifference([1, 2], [1])).toThrow("needs pairs, got 2 and 1 values");
    expect(() => pairedDifference([], [])).toThrow("needs pairs");
  });
});

describe("the comparison's rows", () => {
  const base = [replication(0.01, 4e9), replication(0.012, 4e9), replication(0.014, 4e9)];
  const vm = [replication(0.02, 6e9), replication(0.023, 6e9), replication(0.026, 6e9)];

  it("groups the figures under the five questions, a column per stack, with each stack's paired difference from the baseline", () => {
    const { results: r, replications } = results({ baremetal: base, vms: vm });
    const c = compareStacks(r, { replications });
    expect(c.baseline).toBe("baremetal");
    expect(c.stacks).toEqual(["baremetal", "vms"]);
    const ids = c.figures.map((f) => f.id);
    expect(ids).toEqual([
      "services.t/web.throughput",
      "services.t/web.latency.mean",
      "services.t/web.latency.p50",
      "services.t/web.latency.p99",
      "services.t/web.failed",
      "services.t/web.dropped",
      "hosts.used",
      "hosts.cpuUtilization",
      "hosts.steal",
      "hosts.throttledTime",
      "hosts.memoryUsed",
      "hosts.memoryReserved",
      "hosts.memoryOverhead",
      "lifecycle.ready.p50",
      "lifecycle.ready.p99",
      "kernels",
      "images", // static: computed by assembleResults from the scenario (none here: 0)
    ]); // no SLO, disks, NICs, energy, cost, recovery: no rows for them
    const p99 = c.figures.find((f) => f.id === "services.t/web.latency.p99")!;
    expect(p99).toMatchObject({ question: "performance", label: "t/web p99", service: "t/web", unit: "s", better: "lower" });
    expect(p99.stacks.baremetal).toEqual({ value: r.stacks.baremetal.services["t/web"].latency.p99, ci95: (r.stacks.baremetal.ci95 as { services: Record<string, { latency: { p99: number } }> }).services["t/web"].latency.p99, difference: null });
    // Differences 0.01, 0.011, 0.012: mean 0.011, sd 0.001.
    const d = p99.stacks.vms.difference!;
    expect(d.mean).toBeCloseTo(0.011, 12);
    expect(d.ci95).toBeCloseTo((0.001 * T2) / Math.sqrt(3), 12);
    expect(d.excludesZero).toBe(true);
    // A figure the same in every replication: its difference is exact, and not zero.
    expect(c.figures.find((f) => f.id === "hosts.memoryUsed")!.stacks.vms.difference).toEqual({ mean: 2e9, ci95: 0, excludesZero: true });
  });

  it("takes another baseline, and names the stacks for an unknown one", () => {
    const { results: r, replications } = results({ baremetal: base, vms: vm });
    const c = compareStacks(r, { baseline: "vms", replications });
    const p99 = c.figures.find((f) => f.id === "services.t/web.latency.p99")!;
    expect(p99.stacks.vms.difference).toBeNull();
    expect(p99.stacks.baremetal.difference!.mean).toBeCloseTo(-0.011, 12);
    expect(() => compareStacks(r, { baseline: "vm" })).toThrow('unknown baseline "vm"; did you mean "vms"?; the stacks compared are: baremetal, vms');
  });

  it("includes density, cold start, images, rollout and portability where the results have them, each under its question", () => {
    const extra = (kernels: number, bytes: number): Record<string, unknown> => ({
      kernels,
      density: { "t/web": { small: 4, large: 16 } },
      coldStart: { "t/web": 0.5 * kernels },
      portability: { "t/web": { bytes, seconds: null } },
      images: kernels + 1,
      rollout: { duration: 60 * kernels, failed: 3, slowed: 10, maxUnavailable: 1 },
    });
    const { results: r, replications } = results({
      baremetal: base.map((x) => ({ ...x, ...extra(1, 0) })),
      vms: vm.map((x) => ({ ...x, ...extra(3, 2 ** 30) })),
    });
    const c = compareStacks(r, { replications });
    const rows = c.figures.map((f) => [f.question, f.id, f.label]);
    expect(rows.filter(([q]) => q !== "performance" && q !== "resources")).toEqual([
      ["recreate", "lifecycle.ready.p50", "ready p50"],
      ["recreate", "lifecycle.ready.p99", "ready p99"],
      ["recreate", "coldStart.t/web", "t/web cold start"],
      ["maintenance", "kernels", "kernels"],
      ["maintenance", "images", "images"],
      ["maintenance", "rollout.duration", "rollout duration"],
      ["maintenance", "rollout.failed", "rollout failed"],
      ["maintenance", "rollout.slowed", "rollout slowed"],
      ["portability", "portability.t/web.bytes", "t/web bytes to move"],
    ]); // seconds null on every stack: no row
    const density = c.figures.filter((f) => f.id.startsWith("density."));
    expect(density.map((f) => [f.question, f.id, f.label, f.better])).toEqual([
      ["resources", "density.t/web.small", "t/web per small host", "higher"],
      ["resources", "density.t/web.large", "t/web per large host", "higher"],
    ]);
    const images = c.figures.find((f) => f.id === "images")!;
    expect(images.stacks.vms).toEqual({ value: 4, ci95: 0, difference: { mean: 2, ci95: 0, excludesZero: true } });
    // The question order holds whatever order the figures were found in.
    const order = ["performance", "resources", "recreate", "maintenance", "portability"];
    const seen = c.figures.map((f) => order.indexOf(f.question));
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
  });

  it("adds a plugin's lifecycle figure (an image pull) under recreate where some stack has it, null for the others", () => {
    const { results: r, replications } = results({
      baremetal: base,
      containers: vm.map((x) => ({ ...x, lifecycle: { ...x.lifecycle, pull: { p50: 1.27, p99: 1.5 } } })),
    });
    const c = compareStacks(r, { replications });
    const rows = c.figures.filter((f) => f.id.startsWith("lifecycle.pull"));
    expect(rows.map((f) => [f.question, f.id, f.label])).toEqual([
      ["recreate", "lifecycle.pull.p50", "pull p50"],
      ["recreate", "lifecycle.pull.p99", "pull p99"],
    ]);
    expect(rows[0].stacks.containers.value).toBe(1.27);
    expect(rows[0].stacks.baremetal.value).toBeNull();
  });

  it("keeps plugin metrics marked show as resource rows: a number as it is, a histogram as its mean and p99", () => {
    const layers = (ooms: number, wait: number): Record<string, unknown> => ({
      layers: { container: { ooms, wait: { count: 10, mean: wait, p50: wait, p99: 2 * wait }, hidden: 5 } },
    });
    const { results: r, replications } = results({
      baremetal: base.map((x) => ({ ...x, ...layers(0, 0.001) })),
      vms: vm.map((x, i) => ({ ...x, ...layers(i, 0.002) })),
    });
    r.manifest.metrics = {
      "container.ooms": { kind: "counter", unit: "kills", show: true, description: "" },
      "container.wait": { kind: "histogram", unit: "s", show: true, description: "" },
      "container.hidden": { kind: "counter", unit: "", show: false, description: "" },
    };
    const c = compareStacks(r, { replications });
    const rows = c.figures.filter((f) => f.id.startsWith("layers."));
    expect(rows.map((f) => [f.question, f.id, f.label, f.unit, f.unitName])).toEqual([
      ["resources", "layers.container.ooms", "container ooms", "", "kills"],
      ["resources", "layers.container.wait.mean", "container wait mean", "s", undefined],
      ["resources", "layers.container.wait.p99", "container wait p99", "s", undefined],
    ]);
    // OOM kills 0, 1, 2 against 0: mean 1, standard deviation 1.
    expect(rows[0].stacks.vms.difference!.mean).toBe(1);
    expect(rows[0].stacks.vms.difference!.ci95).toBeCloseTo(T2 / Math.sqrt(3), 12);
  });

  it("adds kills per reason where a stack had some: a declared reason by its label and key, a made-up one by its name, 0 where absent", () => {
    // The container plugin's OOM kills (declared, with their key) 3, 0, 0 and a made-up balloon's 0, 1, 2 (a
    // replication holds only the reasons it saw), against none on bare metal.
    const killed = (x: StackResults, kills: Record<string, number>): StackResults => ({ ...x, services: { "t/web": { ...x.services["t/web"], kills, oomKills: kills.oom ?? 0 } } });
    const { results: r, replications } = results({
      baremetal: base.map((x) => killed(x, {})),
      vms: [killed(vm[0], { oom: 3 }), killed(vm[1], { balloon: 1 }), killed(vm[2], { balloon: 2 })],
    });
    r.manifest.kills = { oom: { label: "OOM kills", field: "oomKills" } };
    const c = compareStacks(r, { replications });
    const rows = c.figures.filter((f) => /kills|restarts/i.test(f.id));
    expect(rows.map((f) => [f.question, f.id, f.label, f.unit, f.better])).toEqual([
      ["performance", "services.t/web.kills.balloon", "t/web balloon kills", "count", "lower"],
      ["performance", "services.t/web.oomKills", "t/web OOM kills", "count", "lower"],
      ["performance", "services.t/web.restarts", "t/web restarts", "count", "lower"],
    ]);
    const [balloon, oom] = rows;
    expect(balloon.stacks.baremetal.value).toBe(0);
    expect(balloon.stacks.vms.value).toBe(1);
    // Paired over replications with the absent reason as 0: differences 0, 1, 2 (standard deviation 1).
    expect(balloon.stacks.vms.difference!.mean).toBe(1);
    expect(balloon.stacks.vms.difference!.ci95).toBeCloseTo(T2 / Math.sqrt(3), 12);
    // Differences 3, 0, 0: mean 1, standard deviation sqrt(3).
    expect(oom.stacks.vms.difference!.mean).toBe(1);
    expect(oom.stacks.vms.difference!.ci95).toBeCloseTo(T2, 12);
    // Without kills in any stack, no kill or restart rows.
    const quiet = results({ baremetal: base, vms: vm });
    expect(compareStacks(quiet.results, { replications: quiet.replications }).figures.filter((f) => /kills|restarts/i.test(f.id))).toEqual([]);
  });

  it("pairs nothing without replications: the difference of the means, with no interval", () => {
    const { results: r } = results({ baremetal: base, vms: vm });
    const d = compareStacks(r).figures.find((f) => f.id === "hosts.memoryUsed")!.stacks.vms.difference;
    expect(d).toEqual({ mean: 2e9, ci95: null, excludesZero: false });
  });
});

describe("comparison CSV", () => {
  it("writes one row per figure and stack with the contract's columns, escaping names a spreadsheet would run", () => {
    const named = (reps: StackResults[]): StackResults[] => reps.map((x) => ({ ...x, services: { "=HYPERLINK(1)": x.services["t/web"] } }));
    const { results: r, replications } = results({ baremetal: named([replication(0.01, 4e9), replication(0.012, 4e9)]), vms: named([replication(0.02, 6e9), replication(0.022, 6e9)]) });
    const c = compareStacks(r, { replications });
    const csv = comparisonCsv(c);
    const lines = csv.split("\n");
    expect(lines[0]).toBe("question,id,label,service,unit,stack,value,ci95,difference,differenceCi95,excludesZero");
    expect(lines.length).toBe(1 + 2 * c.figures.length + 1); // and the final newline
    expect(lines[1]).toBe(`performance,services.=HYPERLINK(1).throughput,"'=HYPERLINK(1) req/s","'=HYPERLINK(1)",1/s,baremetal,10,0,,,`);
    const rows = fromCsv(csv);
    const mem = rows.filter((x) => x.id === "hosts.memoryUsed");
    expect(mem).toEqual([
      { question: "resources", id: "hosts.memoryUsed", label: "memory used", service: "", unit: "B", stack: "baremetal", value: "4000000000", ci95: "0", difference: "", differenceCi95: "", excludesZero: "" },
      { question: "resources", id: "hosts.memoryUsed", label: "memory used", service: "", unit: "B", stack: "vms", value: "6000000000", ci95: "0", difference: "2000000000", differenceCi95: "0", excludesZero: "true" },
    ]);
  });
});
