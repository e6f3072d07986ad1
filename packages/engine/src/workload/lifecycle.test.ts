import { describe, expect, it } from "vitest";
import { loadScenario } from "../scenario/load.js";
import { passLayer, testHost } from "../testing/index.js";
import { ReplicationRun, runReplication, runScenario } from "./run.js";
import { TIMELINE_MAX } from "./lifecycle.js";

/** A layer that takes half a second to provision, like a small VM boot. */
const slowLayer = passLayer("slow", 0.5);
const plugins = [testHost, slowLayer];

describe("lifecycle: provisioning, failures and recovery", () => {
  it("recovers from a scripted host failure in exactly detection + placement + start", async () => {
    const s = loadScenario(
      `duration: 30s
warmup: 0s
hostTypes: { h: { cores: 4, memory: 8GiB, processStart: 5ms } }
hosts: [{ type: h, count: 2 }]
stacks: { slow: [{ layer: slow }] }
failures: { detection: 3s, scripted: [{ at: 10s, host: 0, repair: 60s }] }
tenants:
  - name: t
    services:
      - { name: a, stack: slow, replicas: 1, load: { open: { rate: 100/s } }, request: [{ cpu: 5ms }] }
`,
      { plugins },
    );
    const r = await runScenario(s, plugins, { seed: 1 });
    const st = r.stacks.slow;
    // ready: 0.5 s (the layer) + 5 ms (process start) after t = 0; recovery: 3 s to detect, then the same
    expect(st.lifecycle.ready).toEqual({ p50: 0.505, p99: 0.505 });
    expect(st.lifecycle.recovery!.p50).toBeCloseTo(3.505, 12);
    expect(st.failures).toMatchObject([{ host: 0, at: 10, detected: 13, repaired: null, replicas: 1, recovered: 1 }]);
    // Requests arriving while no replica is ready fail: about 100/s for 0.505 s at the start and 3.505 s after the failure;
    // until the failure is detected (3 s) they are routed to the dead replica: unreachable.
    const svc = st.services["t/a"];
    expect(svc.failed as number).toBeGreaterThan(300);
    expect(svc.failed as number).toBeLessThan(500);
    const window = st.failures[0].services["t/a"];
    expect(window.timeouts).toBe(0);
    expect(window.failed).toBeGreaterThan(270);
    expect(window.failed).toBeLessThan(330);
    expect(svc.failedBy.unreachable).toBe(window.failed);
    expect(svc.failedBy["host-failure"]).toBe(1); // the one on the replica when its host failed
    expect(st.capacityLost).toBeCloseTo(4 * 20, 9); // host 0's 4 cores from 10 s to the end
    const series = st.series.throughput as number[];
    expect(Math.min(...series.slice(20, 27))).toBe(0); // the dip: windows of 0.5 s right after the failure
  });

  it("counts exponential failures within the confidence interval of their expected number", async () => {
    const hosts = 50;
    const T = 10000;
    const s = loadScenario(
      `duration: ${T}s
warmup: 0s
hostTypes: { h: { cores: 1, memory: 1GiB } }
hosts: [{ type: h, count: ${hosts} }]
failures: { hosts: { mtbf: 100s, repair: 10s }, detection: 1s }
tenants: [{ name: t, services: [{ name: a, cores: 0, replicas: 1, request: [{ cpu: 1ms }] }] }]
`,
      { plugins },
    );
    const r = await runScenario(s, plugins, { seed: 9 });
    const failures = r.stacks.baremetal.failures.length + r.stacks.baremetal.failuresOmitted;
    // A renewal process with cycles exp(100) + 10: mean count T/110 per host, variance T x 100^2 / 110^3.
    const mean = (hosts * T) / 110;
    const sd = Math.sqrt((hosts * T * 100 ** 2) / 110 ** 3);
    expect(Math.abs(failures - mean)).toBeLessThan(2.58 * sd);
  });

  it("makes a layer in a new layer wait for its parent's provisioning, then its own", async () => {
    const all = [testHost, passLayer("outer", 0.5), passLayer("inner", 0.25)];
    const s = loadScenario(
      `duration: 5s
hostTypes: { h: { cores: 4, memory: 8GiB, processStart: 5ms } }
hosts: [{ type: h }]
stacks: { nested: [{ layer: outer }, { layer: inner }] }
tenants: [{ name: t, services: [{ name: a, stack: nested, load: { open: { rate: 10/s } }, request: [{ cpu: 1ms }] }] }]
`,
      { plugins: all },
    );
    const r = await runScenario(s, all, { seed: 1 });
    expect(r.stacks.nested.lifecycle.ready).toEqual({ p50: 0.755, p99: 0.755 });
  });

  it("runs a layer's fail hooks for each of its nodes on a failed host, at the failure", async () => {
    const failed: { node: number; at: number }[] = [];
    const created: number[] = [];
    const watched = passLayer("watched", 0, { hooks: { fail: (ctx, node) => void failed.push({ node, at: ctx.now }), create: (_ctx, node) => void created.push(node) } });
    const all = [testHost, watched];
    const s = loadScenario(
      `duration: 20s
hostTypes: { h: { cores: 4, memory: 8GiB } }
hosts: [{ type: h, count: 2 }]
stacks: { w: [{ layer: watched }] }
failures: { detection: 1s, scripted: [{ at: 10s, host: 0 }] }
tenants: [{ name: t, services: [{ name: a, stack: w, replicas: 2, load: { open: { rate: 10/s } }, request: [{ cpu: 1ms }] }] }]
placement: { policy: spread }
`,
      { plugins: all },
    );
    // One replication alone: assembling results would place replicas on scratch hosts too (the static figures), and
    // this plugin's log would see their nodes.
    await runReplication({ ...s, seed: 1 }, all, 0);
    // Spread: one watched node per host; host 0's fails at 10 s, and its replacement (created at 11 s) does not.
    expect(failed).toEqual([{ node: created[0], at: 10 }]);
    expect(created).toHaveLength(3);
  });

  it("refuses, naming the plugin, a fail hook that adds a node to a failing host", async () => {
    const greedy = passLayer("greedy", 0, { hooks: { fail: (ctx, node) => void ctx.addAuxiliary(node, "dump") } });
    const all = [testHost, greedy];
    const s = loadScenario(
      `duration: 20s
hostTypes: { h: { cores: 4, memory: 8GiB } }
hosts: [{ type: h, count: 2 }]
stacks: { g: [{ layer: greedy }] }
failures: { scripted: [{ at: 10s, host: 0 }] }
tenants: [{ name: t, services: [{ name: a, stack: g, load: { open: { rate: 10/s } }, request: [{ cpu: 1ms }] }] }]
`,
      { plugins: all },
    );
    await expect(runScenario(s, all, { seed: 1 })).rejects.toThrow(/plugin greedy, hook "fail", node \d+, at simulated time 10s: addAuxiliary cannot run in a fail hook/);
  });

  it("does not retry a failing call within one instant: clients with no think time still let time advance", async () => {
    const s = loadScenario(
      `duration: 5s
warmup: 0s
hostTypes: { h: { cores: 2, memory: 4GiB } }
hosts: [{ type: h }]
stacks: { slow: [{ layer: slow }] }
tenants:
  - name: t
    services:
      - { name: front, cores: 0, load: { closed: { clients: 2 } }, request: [{ call: back }] }
      - { name: back, cores: 0, stack: slow, threads: 1, queue: 0, request: [{ cpu: 10ms }] }
`,
      { plugins },
    );
    const r = await runScenario(s, plugins, { seed: 1 });
    const front = r.stacks.scenario.services["t/front"];
    // back is not ready for 0.5 s: calls fail, clients wait 1 ms between tries; then one call at a time succeeds.
    expect(front.failed as number).toBeGreaterThan(400);
    expect(front.completed as number).toBeGreaterThan(300);
  });

  it("counts every request when a caller and its callee fail with the same host", async () => {
    const s = loadScenario(
      `duration: 30s
warmup: 0s
hostTypes: { h: { cores: 2, memory: 8GiB, nic: { bandwidth: 10Gb/s, latency: 50us } } }
hosts: [{ type: h, count: 2 }]
failures: { detection: 1s, scripted: [{ at: 10s, host: 0, repair: 5s }, { at: 20s, host: 0, repair: 1s }] }
tenants:
  - name: t
    services:
      - { name: front, cores: 0, threads: 2, queue: 3, load: { open: { rate: 200/s } }, request: [{ cpu: 2ms }, { call: back }] }
      - { name: back, cores: 0, threads: 1, queue: 2, request: [{ cpu: { exp: 3ms } }] }
`,
      { plugins },
    );
    const r = await runScenario(s, plugins, { seed: 2 });
    const st = r.stacks.baremetal;
    for (const [key, svc] of Object.entries(st.services)) {
      const counted = (svc.completed as number) + (svc.failed as number) + (svc.dropped as number) + (svc.inFlight as number);
      expect(counted, key).toBe(svc.arrived);
      expect(svc.inFlight as number, key).toBeGreaterThanOrEqual(0);
    }
    // each scripted failure has its own repair time
    expect(st.failures.map((f) => [f.at, f.repaired])).toEqual([
      [10, 15],
      [20, 21],
    ]);
  });

  it("loses no request without counting it: completed + failed + dropped + in flight = arrived", async () => {
    const s = loadScenario(
      `duration: 200s
warmup: 5s
hostTypes: { h: { cores: 2, memory: 8GiB, processStart: 2ms, nic: { bandwidth: 10Gb/s, latency: 10us } } }
hosts: [{ type: h, count: 4 }]
failures: { hosts: { mtbf: 60s, repair: { exp: 20s } }, detection: 2s, scripted: [{ at: 7s, host: 1 }] }
placement: { policy: spread }
tenants:
  - name: t
    services:
      - { name: front, cores: 0, replicas: 3, threads: 4, queue: 5, load: { open: { rate: 300/s } }, request: [{ cpu: { exp: 5ms } }, { call: back }, { sleep: 1ms }] }
      - { name: back, cores: 0, replicas: 2, threads: 2, queue: 3, request: [{ cpu: { exp: 4ms } }] }
      - { name: loop, cores: 0, replicas: 2, load: { closed: { clients: 10, think: 10ms } }, request: [{ cpu: 20ms }] }
`,
      { plugins },
    );
    const r = await runScenario(s, plugins, { seed: 4, replications: 1 });
    const st = r.stacks.baremetal;
    expect(st.failures.length).toBeGreaterThan(5);
    for (const [key, svc] of Object.entries(st.services)) {
      const counted = (svc.completed as number) + (svc.failed as number) + (svc.dropped as number) + (svc.inFlight as number);
      expect(counted, key).toBe(svc.arrived);
      expect(svc.failed as number, key).toBeGreaterThan(0);
    }
  });
});

describe("lifecycle statistics of few samples", () => {
  it("give the exact order statistics: the ready p99 of two replicas is the later one", async () => {
    const s = loadScenario(
      `duration: 10s
hostTypes: { fast: { cores: 4, memory: 8GiB, processStart: 1ms }, slow: { cores: 4, memory: 8GiB, processStart: 245ms } }
hosts: [{ type: fast }, { type: slow }]
placement: { policy: spread }
tenants:
  - name: t
    services:
      - { name: a, replicas: 2, load: { closed: { clients: 1, think: 3s } }, request: [{ cpu: 1ms }, { sleep: { uniform: [1ms, 9ms] } }] }
`,
      { plugins },
    );
    const st = (await runScenario(s, plugins)).stacks.baremetal;
    expect(st.lifecycle.ready).toEqual({ p50: 0.001, p99: 0.245 });
    // Three requests (at 3, 6 and 9 s): their latencies exactly, not 1% buckets.
    const latency = st.services["t/a"].latency;
    expect(st.services["t/a"].completed).toBe(3);
    expect([latency.p50, latency.p99].every((x) => x !== null && Number.isFinite(x))).toBe(true);
    expect(latency.p99).toBeGreaterThan(latency.p50 as number);
    expect(Math.abs((latency.mean as number) * 3 - (latency.p50 as number) - (latency.p99 as number))).toBeLessThan(0.01);
  });

  it("holds only the failures something can still change, and the timeline keeps the first 1,000 and counts the rest", async () => {
    const s = loadScenario(
      `duration: 20m
warmup: 0s
hostTypes: { h: { cores: 4, memory: 8GiB } }
hosts: [{ type: h, count: 8 }]
stacks: { slow: [{ layer: slow }] }
failures: { hosts: { mtbf: 1s, repair: { exp: 2s } }, detection: 1s }
tenants:
  - name: t
    services:
      - { name: a, stack: slow, replicas: 8, load: { open: { rate: 50/s } }, request: [{ cpu: 5ms }] }
`,
      { plugins },
    );
    const run = new ReplicationRun(s, plugins, 0);
    // The failures the lifecycle still holds (inspected through its private field): those something can still change.
    const live = (): number => (run as unknown as { rep: { lifecycle: { live: Map<number, unknown> } } }).rep.lifecycle.live.size;
    let most = 0;
    while (!run.advance(2_000)) most = Math.max(most, live());
    // About 3,200 failures over 8 hosts, each held from its failure to its repair and its replicas' recovery.
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(16);
    const st = run.result().stack;
    expect(st.failures).toHaveLength(TIMELINE_MAX);
    expect(st.failuresOmitted).toBeGreaterThan(2000); // 8 hosts, a cycle of 1 s up and 2 s in repair: about 3,200 in 20 minutes
    expect(st.failures.every((f, i) => i === 0 || f.at >= st.failures[i - 1].at)).toBe(true);
    expect(st.failures[0].detected).toBeCloseTo(st.failures[0].at + 1, 9);
  });

  it("a chunk bounded in wall time stops at its first look at the clock, and where chunks end changes nothing", async () => {
    const s = loadScenario(
      `duration: 60s
hostTypes: { h: { cores: 4, memory: 8GiB } }
hosts: [{ type: h, count: 2 }]
tenants:
  - name: t
    services:
      - { name: a, replicas: 2, load: { open: { rate: 500/s } }, request: [{ cpu: 5ms }] }
`,
      { plugins },
    );
    const sliced = new ReplicationRun(s, plugins, 0);
    expect(sliced.advance(1e9, 0)).toBe(false);
    expect(sliced.events).toBe(4096);
    while (!sliced.advance(1e9, 0));
    const whole = new ReplicationRun(s, plugins, 0);
    while (!whole.advance(1e9));
    expect(JSON.stringify(sliced.result())).toBe(JSON.stringify(whole.result()));
  });
});
