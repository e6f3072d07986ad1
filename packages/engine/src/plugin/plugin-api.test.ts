/**
 * The dynamic half of the plugin API (v2), each power against a figure that
 * would differ if it were wrong: verdicts (charge with wait, reject, delay),
 * runtime control (failNode and restartNode, setCpu, setReady with a
 * provision hook), plugin events, metrics and random streams across a saved
 * and resumed run.
 */
import { describe, expect, it } from "vitest";
import { loadScenario } from "../scenario/load.js";
import { fields, unitValue } from "../scenario/fields.js";
import { testHost } from "../testing/index.js";
import { ReplicationRun, runReplication, runScenario } from "../workload/run.js";
import { definePlugin, killReasons, type PluginDefinition } from "./define.js";

/** A layer that takes nothing of its own and weighs 1 (naming its `kills`, if given): the base of the test layers below. */
function layer(name: string, setup: NonNullable<PluginDefinition["setup"]>, schema = fields({}), kills?: PluginDefinition["kills"]): PluginDefinition {
  return definePlugin({
    name,
    layer: name,
    version: "1.0.0",
    schema,
    ...(kills ? { kills } : {}),
    setup(api) {
      api.layerRules({ size: (_e, parent) => ({ request: { cores: 0, memory: 0 }, capacity: parent }), cpu: () => ({ weight: 1 }) });
      setup(api as never);
    },
  });
}

/**
 * The probe: each message end charges `work` to a one-core auxiliary
 * thread (a softirq path) and waits for it.
 */
const probe = layer(
  "probe",
  (api) => {
    const softirq = api.extension("softirq", "i32", -1);
    api.hook("create", (ctx, node) => {
      const aux = ctx.addAuxiliary(ctx.parentOf(node), "softirq", 0, 1);
      softirq.data[node] = aux; // after the call: adding a node may grow the column
    });
    api.hook("net", (ctx, node) => ctx.charge(softirq.data[node], ctx.entry(node).work as number, { wait: true }));
  },
  fields({ work: unitValue("duration").default(10e-6) }),
);

function probeScenario(stack: string, load: string, duration = "2s"): string {
  return `duration: ${duration}
hostTypes: { h: { cores: 64, memory: 64GiB, nic: { bandwidth: 100Gb/s } } }
hosts: [{ type: h }]
stacks: { probed: [{ layer: probe }] }
tenants:
  - name: t
    services:
      - { name: echo, stack: ${stack}, load: ${load}, request: [{ cpu: 1us }] }
`;
}

describe("charge with wait", () => {
  const plugins = [testHost, probe];

  it("caps a request/response service at 1 / (2 x 10 us) = 50,000 requests/s through a one-core back-end thread", async () => {
    // 200 clients that never think: the back-end thread is the bottleneck (the host has 64 cores).
    const s = loadScenario(probeScenario("probed", "{ closed: { clients: 200, think: 0s } }"), { plugins });
    const r = await runScenario(s, plugins);
    const svc = r.stacks.probed.services["t/echo"];
    expect(Math.abs((svc.throughput as number) / 50_000 - 1)).toBeLessThan(0.02);
  });

  it("adds 2 x 10 us to each request at low load", async () => {
    const load = "{ open: { rate: 200/s } }";
    const [bare, probed] = await Promise.all(
      ["baremetal", "probed"].map(async (stack) => (await runScenario(loadScenario(probeScenario(stack, load, "20s"), { plugins }), plugins)).stacks[stack].services["t/echo"]),
    );
    const added = (probed.latency.mean as number) - (bare.latency.mean as number);
    expect(Math.abs(added / 20e-6 - 1)).toBeLessThan(0.02);
  });
});

describe("a serial charge (a back end that serves one I/O at a time)", () => {
  /** A layer whose I/Os each charge 10 us to its one-core back-end thread, waited for and, with `serial`, in turn. */
  const backEnd = (serial: boolean) =>
    layer("be", (api) => {
      const thread = api.extension("thread", "i32", -1);
      api.hook("create", (ctx, node) => {
        const aux = ctx.addAuxiliary(ctx.parentOf(node), "blk", 0, 1);
        thread.data[node] = aux;
      });
      api.hook("io", (ctx, node) => ctx.charge(thread.data[node], 10e-6, { wait: true, serial }));
    });
  // A disk of 1 ms per I/O (1,000 IOPS) and no latency, 8 at once.
  const scenario = (load: string, count: number) => `duration: 2s
hostTypes: { h: { cores: 8, memory: 8GiB, disk: { iops: 1000, bandwidth: 1GB/s, latency: 0s, queueDepth: 8 } } }
hosts: [{ type: h }]
stacks: { s: [{ layer: be }] }
tenants:
  - name: t
    services:
      - { name: a, stack: s, load: ${load}, request: [{ io: { read: 4KiB, count: ${count}, random: true } }] }
`;
  const run = async (serial: boolean, load: string, count: number) => {
    const plugins = [testHost, backEnd(serial)];
    return (await runScenario(loadScenario(scenario(load, count), { plugins }), plugins)).stacks.s.services["t/a"];
  };

  it("holds the back end from its charge to the I/O's end: 4 I/Os issued together end 4 lone I/Os after they start, not together", async () => {
    const one = "{ closed: { clients: 1, think: 10ms } }";
    // Each I/O: 10 us on the thread, then 1 ms on the device. Overlapping, the four share the thread (40 us) and the
    // device (4 ms) and end together; in turn, each waits for the one before it to end.
    expect((await run(false, one, 4)).latency.mean as number).toBeCloseTo(40e-6 + 4e-3, 9);
    expect((await run(true, one, 4)).latency.mean as number).toBeCloseTo(4 * (10e-6 + 1e-3), 9);
  });

  it("hands the back end on past I/Os whose request was lost while they waited: they never reach it or the disk", async () => {
    // 16 clients that never think keep 15 I/Os queued at the back end, 1.01 ms each in turn, when the node restarts at
    // 1.0005 s (back 0.1 s later): their requests fail; the back end finishes the I/O it holds and takes no other of
    // theirs, so it serves back to back until 1.00202 s and again from 1.1005 s, and none of their 15 I/Os.
    const restarting = layer("be", (api) => {
      const thread = api.extension("thread", "i32", -1);
      const restart = api.event("restart", (ctx, node) => ctx.restartNode(node, { after: 0.1 }));
      api.hook("create", (ctx, node) => {
        const aux = ctx.addAuxiliary(ctx.parentOf(node), "blk", 0, 1);
        thread.data[node] = aux;
        if (ctx.now === 0) ctx.schedule(restart, 1.0005, node);
      });
      api.hook("io", (ctx, node) => ctx.charge(thread.data[node], 10e-6, { wait: true, serial: true }));
    });
    const plugins = [testHost, restarting];
    const st = (await runScenario(loadScenario(scenario("{ closed: { clients: 16, think: 0s } }", 1), { plugins }), plugins)).stacks.s;
    const svc = st.services["t/a"];
    const served = (st.hosts.diskBytesRead as number) / 4096;
    const inTurn = Math.ceil(1.0005 / 1.01e-3) + Math.floor((2 - 1.1005) / 1.01e-3);
    expect(Math.abs(served - inTurn)).toBeLessThanOrEqual(1);
    // Nor does its thread spend its 10 us on any of them: the host's CPU did 10 us for each I/O served and for the one
    // on the disk as the run ends, no more.
    expect((st.hosts.cpuUtilization as number) * 8 * 2).toBeCloseTo((served + 1) * 10e-6, 7);
    expect(svc.failed).toBe(16);
    expect((svc.completed as number) + (svc.failed as number) + (svc.dropped as number) + (svc.inFlight as number)).toBe(svc.arrived);
  });

  it("is for io operations only: their end frees the back end", async () => {
    const plugins = [testHost, layer("be", (api) => {
      const thread = api.extension("thread", "i32", -1);
      api.hook("create", (ctx, node) => {
        const aux = ctx.addAuxiliary(ctx.parentOf(node), "blk", 0, 1);
        thread.data[node] = aux;
      });
      api.hook("cpu", (ctx, node) => ctx.charge(thread.data[node], 1e-6, { wait: true, serial: true }));
    })];
    const s = loadScenario(scenario("{ open: { rate: 10/s } }", 1).replace("io: { read: 4KiB, count: 1, random: true }", "cpu: 1ms"), { plugins });
    await expect(runScenario(s, plugins)).rejects.toThrow(/plugin be, hook "cpu", node \d+, .*a serial charge is for io operations \(their completion frees the back end\), not cpu/);
  });
});

describe("a message's peer", () => {
  // Each message end is delayed by who is at the other end: 1 ms for a client outside (peer -1), 10 ms for the other
  // service's process, 100 ms if the peer were wrong (its own process, or a process of its own service).
  const peers = layer("peers", (api) =>
    api.hook("net", (ctx, _node, op) => {
      if (op.peer === -1) return ctx.delay(1e-3);
      const mine = ctx.services(op.process)[0].name;
      return ctx.delay(ctx.layerOf(op.peer) === "process" && ctx.services(op.peer)[0].name !== mine ? 10e-3 : 100e-3);
    }),
  );
  const plugins = [testHost, peers];
  const text = (stack: string): string => `duration: 5s
hostTypes: { h: { cores: 4, memory: 64GiB, nic: { bandwidth: 100Gb/s } } }
hosts: [{ type: h }]
stacks: { peers: [{ layer: peers }] }
tenants:
  - name: t
    services:
      - { name: front, stack: ${stack}, load: { closed: { clients: 1, think: 10ms } }, request: [{ cpu: 1ms }, { call: back }] }
      - { name: back, stack: ${stack}, request: [{ cpu: 1ms }] }
`;

  it("is the process at the other end of a call's messages, and -1 for a client's: 2 x 1 ms + 4 x 10 ms per request", async () => {
    const [bare, seen] = await Promise.all(["baremetal", "peers"].map(async (stack) => (await runScenario(loadScenario(text(stack), { plugins }), plugins)).stacks[stack].services["t/front"]));
    expect((seen.latency.mean as number) - (bare.latency.mean as number)).toBeCloseTo(2e-3 + 4 * 10e-3, 9);
  });
});

describe("reject", () => {
  it("fails exactly the requests that crossed it, counted under its reason", async () => {
    let rejected = 0;
    // Rejects cpu steps of more than 2 ms: requests whose step drew 3 ms fail, the others complete.
    const gate = layer("gate", (api) => {
      api.hook("cpu", (ctx, _node, op) => {
        if (op.amount <= 2e-3) return;
        rejected++;
        return ctx.reject("too-long");
      });
    });
    const plugins = [testHost, gate];
    const s = loadScenario(
      `duration: 5s
hostTypes: { h: { cores: 4, memory: 4GiB } }
hosts: [{ type: h }]
stacks: { gated: [{ layer: gate }] }
tenants:
  - name: t
    services:
      - { name: a, stack: gated, replicas: 2, load: { open: { rate: 200/s } }, request: [{ cpu: { empirical: [1ms, 3ms] } }, { sleep: 1ms }] }
`,
      { plugins },
    );
    const works: number[] = [];
    const r = await runScenario(s, plugins, { onRequest: (_svc, _latency, work) => works.push(work) });
    const svc = r.stacks.gated.services["t/a"];
    expect(rejected).toBeGreaterThan(300);
    expect(svc.failedBy).toEqual({ "too-long": rejected });
    expect(svc.failed).toBe(rejected);
    expect(works.every((w) => w === 1e-3)).toBe(true);
    expect((svc.completed as number) + (svc.failed as number) + (svc.dropped as number) + (svc.inFlight as number)).toBe(svc.arrived);
  });
});

describe("runtime control", () => {
  it("failNode fails the requests in a node, and its fail hook restarts it after `after`", async () => {
    // At 1 s the first node of the layer crashes; its fail hook restarts it 0.5 s later.
    const crashy = layer("crashy", (api) => {
      const crash = api.event("crash", (ctx, node) => ctx.failNode(node, "crash"));
      let first = -1;
      api.hook("create", (ctx, node) => {
        if (first >= 0) return;
        first = node;
        ctx.schedule(crash, 1, node);
      });
      api.hook("fail", (ctx, node) => ctx.restartNode(node, { after: 0.5 }));
    });
    const plugins = [testHost, crashy];
    // Two replicas, each in its own node, each with two sticky clients whose requests take 10 s of CPU.
    const s = loadScenario(
      `duration: 5s
hostTypes: { h: { cores: 8, memory: 4GiB } }
hosts: [{ type: h }]
stacks: { c: [{ layer: crashy }] }
tenants:
  - name: t
    services:
      - { name: a, stack: c, replicas: 2, load: { closed: { clients: 4, think: 0s } }, request: [{ cpu: 10s }] }
`,
      { plugins },
    );
    const r = await runScenario(s, plugins);
    const svc = r.stacks.c.services["t/a"];
    expect(svc.failedBy).toEqual({ crash: 2 });
    // A kill of any reason counts as one, by that reason: the replica killed once, then restarted.
    expect(svc.kills).toEqual({ crash: 1 });
    expect(svc.restarts).toBe(1);
    expect(r.stacks.c.lifecycle.recovery).toEqual({ p50: 0.5, p99: 0.5 });
    expect(r.stacks.c.failures).toEqual([]); // restarted in place: not lost
  });

  it("failNode without a restart removes the node and places its replicas again after the detection delay", async () => {
    const fragile = layer("fragile", (api) => {
      const crash = api.event("crash", (ctx, node) => ctx.failNode(node, "broken"));
      let first = -1;
      api.hook("create", (ctx, node) => {
        if (first >= 0) return;
        first = node;
        ctx.schedule(crash, 1, node);
      });
    });
    const plugins = [testHost, fragile];
    const s = loadScenario(
      `duration: 5s
hostTypes: { h: { cores: 8, memory: 4GiB } }
hosts: [{ type: h, count: 2 }]
failures: { detection: 2s }
stacks: { f: [{ layer: fragile }] }
tenants:
  - name: t
    services:
      - { name: a, stack: f, replicas: 2, load: { closed: { clients: 2, think: 0s } }, request: [{ cpu: 10s }] }
`,
      { plugins },
    );
    const r = await runScenario(s, plugins);
    const st = r.stacks.f;
    // The client of the broken replica retried 1 ms later, and its balancer still held the replica: unreachable once.
    expect(st.services["t/a"].failedBy).toEqual({ broken: 1, unreachable: 1 });
    expect(st.failures).toEqual([{ host: 0, at: 1, detected: 3, repaired: null, replicas: 1, recovered: 1, layer: "fragile", reason: "broken", services: { "t/a": { failed: 1, timeouts: 0 } } }]);
    expect(st.lifecycle.recovery).toEqual({ p50: 2, p99: 2 });
  });

  it("restartNode after Infinity leaves a node down in place: no restart, no recovery, its replicas not placed again", async () => {
    const mortal = layer("mortal", (api) => {
      const crash = api.event("crash", (ctx, node) => ctx.failNode(node, "watchdog"));
      let first = -1;
      api.hook("create", (ctx, node) => {
        if (first >= 0) return;
        first = node;
        ctx.schedule(crash, 1, node);
      });
      api.hook("fail", (ctx, node) => ctx.restartNode(node, { after: Infinity }));
    });
    const plugins = [testHost, mortal];
    const s = loadScenario(
      `duration: 5s
hostTypes: { h: { cores: 8, memory: 4GiB } }
hosts: [{ type: h, count: 2 }]
failures: { detection: 0.5s }
stacks: { m: [{ layer: mortal }] }
tenants:
  - name: t
    services:
      - { name: a, stack: m, replicas: 2, load: { closed: { clients: 4, think: 0s } }, request: [{ cpu: 10s }] }
`,
      { plugins },
    );
    const r = await runScenario(s, plugins);
    const svc = r.stacks.m.services["t/a"];
    // The two sticky clients of the killed replica fail with its reason, which counts one kill and no restart.
    expect(svc.failedBy).toMatchObject({ watchdog: 2 });
    expect(svc.kills).toEqual({ watchdog: 1 });
    expect(svc.restarts).toBe(0);
    expect(r.stacks.m.failures).toEqual([]);
    expect(r.stacks.m.lifecycle.recovery).toBeNull();
  });

  it("bandwidthStats gives a CFS group's cpu.stat counters: half a core of quota per 100 ms under a busy thread", async () => {
    const seen: number[][] = [];
    const quota = layer("quota", (api) => {
      const look = api.event("look", (ctx, node) => {
        const st = ctx.bandwidthStats(node);
        const none = ctx.bandwidthStats(ctx.parentOf(node));
        seen.push([st.nrPeriods, st.nrThrottled, st.throttledTime, none.nrPeriods + none.nrThrottled + none.throttledTime]);
      });
      api.hook("create", (ctx, node) => {
        ctx.setCpu(node, { bandwidth: { quota: 0.05, period: 0.1 } });
        ctx.schedule(look, 2.02, node);
      });
    });
    const plugins = [testHost, quota];
    const s = loadScenario(
      `duration: 3s
hostTypes: { h: { cores: 4, memory: 4GiB } }
hosts: [{ type: h }]
stacks: { q: [{ layer: quota }] }
tenants:
  - name: t
    services:
      - { name: a, stack: q, load: { closed: { clients: 1, think: 0s } }, request: [{ cpu: 10s }] }
`,
      { plugins },
    );
    await runReplication(s, plugins, 0);
    // By 2.02 s: 20 whole periods, each throttled after its 50 ms of quota for the other 50 ms (1 s in all); the
    // host has no budget (zeros).
    expect(seen).toHaveLength(1);
    const [periods, throttled, time, none] = seen[0];
    expect([periods, throttled, none]).toEqual([20, 20, 0]);
    expect(time).toBeCloseTo(1, 9);
  });

  it("setCpu takes effect at the next solver update: a cap of half a core from 1 s halves the rate from then", async () => {
    const throttle = layer("throttle", (api) => {
      const halve = api.event("halve", (ctx, node) => ctx.setCpu(node, { cap: 0.5 }));
      api.hook("create", (ctx, node) => void ctx.schedule(halve, 1, node));
    });
    const plugins = [testHost, throttle];
    const s = loadScenario(
      `duration: 30s
hostTypes: { h: { cores: 4, memory: 4GiB } }
hosts: [{ type: h }]
stacks: { t: [{ layer: throttle }] }
tenants:
  - name: t
    services:
      - { name: a, stack: t, load: { closed: { clients: 1, think: 0s } }, request: [{ cpu: 10s }] }
`,
      { plugins },
    );
    const latencies: number[] = [];
    // The one request: 1 s at one core, then 9 s of work at half a core.
    await runScenario({ ...s, warmup: 0 }, plugins, { onRequest: (_svc, latency) => latencies.push(latency) });
    expect(latencies).toHaveLength(1);
    expect(latencies[0]).toBeCloseTo(19, 9);
  });

  it("a provision hook's node is ready when its plugin says so, after the work it consumed", async () => {
    // Provisioning: 2 core-seconds of work on a one-core helper beside the node, then setReady.
    const slow = layer("slow", (api) => {
      const helper = api.extension("helper", "i32", -1);
      const done = api.event("provisioned", (ctx, node) => ctx.setReady(node));
      api.hook("create", (ctx, node) => {
        const aux = ctx.addAuxiliary(ctx.parentOf(node), "boot", 0, 1);
        helper.data[node] = aux; // after the call: adding a node may grow the column
      });
      api.hook("provision", (ctx, node) => ctx.work(helper.data[node], 2, { then: done }));
    });
    const plugins = [testHost, slow];
    const s = loadScenario(
      `duration: 10s
hostTypes: { h: { cores: 8, memory: 4GiB, processStart: 100ms } }
hosts: [{ type: h }]
stacks: { s: [{ layer: slow }] }
tenants:
  - name: t
    services:
      - { name: a, stack: s, replicas: 3, memory: 1GiB, load: { open: { rate: 10/s } }, request: [{ cpu: 1ms }] }
`,
      { plugins },
    );
    const r = await runScenario(s, plugins);
    // Three boots of 2 core-seconds on three one-core helpers run at once: ready at 2 s, then the process start.
    expect(r.stacks.s.lifecycle.ready).toEqual({ p50: 2.1, p99: 2.1 });
    expect(r.stacks.s.services["t/a"].failedBy).toEqual({ "no-ready-replica": expect.any(Number) });
  });
});

describe("kills by reason", () => {
  /**
   * A layer whose first node is killed with `reason` 1.5 s after each time it is ready, and restarted 0.5 s later: at
   * 1.5 s (in the warm-up of 2 s: not counted), 3.5 s, 5.5 s and 7.5 s, before the end at 9 s.
   */
  function killer(name: string, reason: string, kills?: PluginDefinition["kills"]): PluginDefinition {
    return layer(
      name,
      (api) => {
        const kill = api.event("kill", (ctx, node) => ctx.failNode(node, reason));
        let first = -1;
        api.hook("create", (ctx, node) => {
          if (first < 0) first = node;
        });
        // A kill cancels the node's pending events: the next is scheduled once it is back.
        api.hook("ready", (ctx, node) => void (node === first ? ctx.schedule(kill, 1.5, node) : undefined));
        api.hook("fail", (ctx, node) => ctx.restartNode(node, { after: 0.5 }));
      },
      fields({}),
      kills,
    );
  }
  const scenario = (stack: string, plugins: PluginDefinition[]): ReturnType<typeof loadScenario> =>
    loadScenario(
      `duration: 7s
warmup: 2s
hostTypes: { h: { cores: 8, memory: 4GiB } }
hosts: [{ type: h }]
stacks: { k: [{ layer: ${stack} }] }
tenants:
  - name: t
    services:
      - { name: a, stack: k, replicas: 2, load: { closed: { clients: 2, think: 0s } }, request: [{ cpu: 10ms }] }
`,
      { plugins },
    );

  it("counts a made-up reason per service as the container plugin's OOM kills are, and publishes it under the key its plugin declares", async () => {
    const balloon = killer("balloon", "balloon", { balloon: { label: "balloon kills", field: "balloonKills" } });
    const plugins = [testHost, balloon];
    const r = await runScenario(scenario("balloon", plugins), plugins);
    const svc = r.stacks.k.services["t/a"];
    // Three kills in the measurement (the one in the warm-up is not), each restarted in place.
    expect(svc.kills).toEqual({ balloon: 3 });
    expect(svc.balloonKills).toBe(3);
    expect(svc.restarts).toBe(3);
    // The key comes right after `kills`, and the manifest tells tables its label.
    const keys = Object.keys(svc);
    expect(keys.slice(keys.indexOf("restarts"), keys.indexOf("restarts") + 3)).toEqual(["restarts", "kills", "balloonKills"]);
    expect(r.manifest.kills).toEqual({ balloon: { label: "balloon kills", field: "balloonKills" } });
  });

  it("counts a reason no plugin declares the same way, and keeps a declared key at 0 where nothing was killed", async () => {
    const quiet = layer("quiet", () => {}, fields({}), { hang: { label: "watchdog kills", field: "watchdogKills" } });
    const plugins = [testHost, killer("shaky", "shaky"), quiet];
    const shaky = await runScenario(scenario("shaky", plugins), plugins);
    expect(shaky.stacks.k.services["t/a"].kills).toEqual({ shaky: 3 });
    expect(shaky.stacks.k.services["t/a"].watchdogKills).toBe(0);
    const calm = await runScenario(scenario("quiet", plugins), plugins);
    expect(calm.stacks.k.services["t/a"].kills).toEqual({});
    expect(calm.stacks.k.services["t/a"].watchdogKills).toBe(0);
  });

  it("refuses a declaration results could not hold, naming the plugin", () => {
    const named = (name: string, kills: unknown): PluginDefinition => ({ ...layer(name, () => {}), kills: kills as PluginDefinition["kills"] });
    expect(() => killReasons([named("a", { restart: { label: "restarts" } })])).toThrow(/plugin a: kills\["restart"\]: "restart" is the reason of restartNode, not of a kill/);
    expect(() => killReasons([named("a", { "": { label: "x" } })])).toThrow(/plugin a: kills\[""\]: a reason is a non-empty string/);
    expect(() => killReasons([named("a", { oom: { label: "" } })])).toThrow(/plugin a: kills\["oom"\]: label must be a non-empty string/);
    expect(() => killReasons([named("a", { oom: { label: "OOM kills", field: "restarts" } })])).toThrow(/field "restarts" must be letters and digits ending in "Kills"/);
    expect(() => killReasons([named("a", { oom: { label: "OOM kills" } }), named("b", { oom: { label: "OOM kills" } })])).toThrow(/plugin b: kills\["oom"\]: plugin a already declares the reason "oom"/);
    expect(() => killReasons([named("a", { x: { label: "x", field: "xKills" } }), named("b", { y: { label: "y", field: "xKills" } })])).toThrow(/plugin b: kills\["y"\]: plugin a already declares the field "xKills"/);
  });
});

describe("hostRules", () => {
  it("gives a hook the rules of the host a node is on: its cores, speed and disk, or no disk", async () => {
    const seen: unknown[] = [];
    const probeHost = layer("seer", (api) => {
      api.hook("create", (ctx, node) => {
        const h = ctx.hostRules(node);
        seen.push([h.cores, h.speed, h.disk?.iops ?? null]);
      });
    });
    const plugins = [testHost, probeHost];
    const s = loadScenario(
      `duration: 1s
hostTypes:
  d: { cores: 8, speed: 2, memory: 4GiB, disk: { iops: 1000, bandwidth: 100MB/s } }
  n: { cores: 4, memory: 4GiB }
hosts: [{ type: d }, { type: n }]
placement: { policy: spread }
stacks: { s: [{ layer: seer }] }
tenants:
  - name: t
    services:
      - { name: a, stack: s, replicas: 2, request: [{ cpu: 1ms }] }
`,
      { plugins },
    );
    await runScenario({ ...s, warmup: 0 }, plugins, { replications: 1 });
    expect(seen.slice(0, 2)).toEqual([
      [8, 2, 1000],
      [4, 1, null],
    ]);
  });
});

describe("plugin events, metrics and random streams in a saved run", () => {
  /** Ticks at random intervals from its own stream, counting ticks and keeping a level and a histogram. */
  const ticker = layer("ticker", (api) => {
    const ticks = api.metric("ticks", { kind: "counter", unit: "ticks", show: true });
    const level = api.metric("level", { kind: "timeWeighted", unit: "B" });
    const gaps = api.metric("gaps", { kind: "histogram", unit: "s" });
    const rng = api.random("gaps");
    const tick = api.event("tick", (ctx, node, n) => {
      ticks.add(node);
      level.set(node, n % 7);
      const gap = rng.of(node).exp(0.05);
      gaps.record(node, gap);
      ctx.schedule(tick, gap, node, n + 1);
    });
    api.hook("create", (ctx, node) => void ctx.schedule(tick, 0.01, node, 0));
  });
  const plugins = [testHost, ticker];
  const s = loadScenario(
    `duration: 20s
warmup: 1s
hostTypes: { h: { cores: 4, memory: 4GiB } }
hosts: [{ type: h, count: 2 }]
stacks: { k: [{ layer: ticker }] }
tenants:
  - name: t
    services:
      - { name: a, stack: k, replicas: 3, load: { open: { rate: 50/s } }, request: [{ cpu: { exp: 5ms } }] }
`,
    { plugins },
  );

  it("reports the metrics under layers.<layer>, and a run saved and resumed gives them byte-identically", () => {
    const straight = new ReplicationRun(s, plugins, 0);
    while (!straight.advance(10_000));
    const layers = straight.result().stack.layers;
    // Three nodes ticking every 50 ms on average for 20 s: about 1,200 ticks; levels 0-6 average about 3 per node.
    expect(layers.ticker.ticks).toBeGreaterThan(1000);
    expect(layers.ticker.ticks).toBeLessThan(1400);
    expect(layers.ticker.level).toBeGreaterThan(6);
    expect(layers.ticker.level).toBeLessThan(12);
    expect(layers.ticker.gaps).toMatchObject({ count: layers.ticker.ticks });
    for (const cut of [100, 5_000, 20_000]) {
      const first = new ReplicationRun(s, plugins, 0);
      first.advance(cut);
      const resumed = ReplicationRun.resume(s, plugins, 0, first.snapshot());
      while (!resumed.advance(10_000));
      expect(JSON.stringify(resumed.result()), `cut at event ${cut}`).toBe(JSON.stringify(straight.result()));
    }
  });
});

describe("memory a layer touches, uses itself, gives back and watches", () => {
  const MiB = 2 ** 20;
  /** A guest of 1 GiB that holds what it touched, uses 100 MiB itself, and gives back what it no longer uses at 1 s. */
  function guestScenario(seen: number[][]) {
    const guest = definePlugin({
      name: "guest",
      layer: "guest",
      version: "1.0.0",
      schema: fields({}),
      setup(api) {
        api.layerRules({ size: () => ({ request: { cores: 1, memory: 1024 * MiB }, capacity: { cores: 1, memory: 1024 * MiB } }), cpu: () => ({ weight: 1 }), holds: "touched" });
        const crossed = api.event("crossed", (ctx, host, over) => void seen.push([ctx.now, over, ctx.memoryUsed(host) / MiB]));
        const look = api.event("look", (ctx, node) => {
          const host = ctx.parentOf(node);
          seen.push([ctx.now, ctx.memoryUsed(node) / MiB, ctx.memoryHeld(node) / MiB, ctx.memoryUsed(host) / MiB, ctx.childrenOf(node).length]);
          seen.push([ctx.now, ctx.reclaimMemory(node, 4096 * MiB) / MiB, ctx.memoryHeld(node) / MiB, ctx.memoryUsed(host) / MiB]);
        });
        api.hook("create", (ctx, node) => {
          ctx.useMemory(node, 100 * MiB);
          ctx.watchMemory(ctx.parentOf(node), 1200 * MiB, crossed);
          ctx.schedule(look, 1, node);
        });
      },
    });
    const plugins = [testHost, guest];
    const s = loadScenario(
      `duration: 2s
hostTypes: { h: { cores: 4, memory: 4GiB } }
hosts: [{ type: h }]
stacks: { g: [{ layer: guest }] }
tenants:
  - name: t
    services:
      - { name: a, stack: g, cores: 0.5, memory: 256MiB, load: { closed: { clients: { steps: [[0s, 1], [0.2s, 0]] }, think: 0s } }, request: [{ mem: { alloc: 1GiB } }, { sleep: 0.5s }] }
`,
      { plugins },
    );
    return { s, plugins };
  }

  it("holds the most a touched node used until its plugin reclaims it, and fires the watch each way across its threshold", async () => {
    const seen: number[][] = [];
    const { s, plugins } = guestScenario(seen);
    const hosts = (await runScenario(s, plugins)).stacks.g.hosts;
    // The request's 1 GiB on top of the guest's own 100 MiB and its process's 256 MiB passes 1200 MiB at once (an
    // event of its own at time 0); at 1 s the request is done: the guest uses 356 MiB and still holds 1380 MiB; its
    // one child is the process; reclaiming gives back the 1024 MiB it no longer uses, and the watch fires back under.
    expect(seen).toEqual([
      [0, 1, 1380],
      [1, 356, 1380, 1380, 1],
      [1, 1024, 356, 356],
      [1, 0, 356],
    ]);
    // What a node uses itself is its use, never its reservation: placement counts the guest's 1 GiB request only.
    expect(hosts.memoryUsed).toBe(356 * MiB);
    expect(hosts.memoryReserved).toBe(1024 * MiB);
    expect(hosts.memoryPeak).toBe(1380 * MiB);
  });
});

describe("metrics kept per host", () => {
  it("are reported per host type as well, counted from the end of the warm-up", async () => {
    // Each node adds 1 to its host's counter every 100 ms: from 1 s to 3 s, 20 per node.
    const counting = layer("counting", (api) => {
      const beats = api.metric("beats", { kind: "counter", per: "host" });
      const beat = api.event("beat", (ctx, node) => {
        beats.add(ctx.hostOf(node));
        ctx.schedule(beat, 0.1, node);
      });
      api.hook("create", (ctx, node) => void ctx.schedule(beat, 0.05, node));
    });
    const plugins = [testHost, counting];
    const s = loadScenario(
      `duration: 2s
warmup: 1s
hostTypes: { big: { cores: 8, memory: 4GiB }, small: { cores: 1, memory: 4GiB } }
hosts: [{ type: big }, { type: small, count: 2 }]
placement: { policy: spread }
stacks: { c: [{ layer: counting }] }
tenants:
  - name: t
    services:
      - { name: a, stack: c, replicas: 10, request: [{ cpu: 1ms }] }
`,
      { plugins },
    );
    const st = (await runScenario(s, plugins)).stacks.c;
    // Spread: 4 replicas (4 nodes) on the big host, 3 on each small one.
    expect(st.hostTypes.big.layers).toEqual({ counting: { beats: 80 } });
    expect(st.hostTypes.small.layers).toEqual({ counting: { beats: 120 } });
    expect(st.layers.counting.beats).toBe(200);
  });
});

describe("the measure hook", () => {
  it("runs for every live node of its layer as the measurement starts (payload 0) and ends (1), so a per-node figure can be recorded", async () => {
    const log: string[] = [];
    const aged = layer("aged", (api) => {
      const born = api.extension("born", "f64");
      const age = api.metric("age", { kind: "histogram", unit: "s" });
      api.hook("create", (ctx, node) => void (born.data[node] = ctx.now));
      api.hook("measure", (ctx, node, end) => {
        log.push(`${ctx.now} ${ctx.layerOf(node)} ${end}`);
        if (end === 1) age.record(node, ctx.now - born.data[node]);
      });
    });
    const plugins = [testHost, aged];
    const s = loadScenario(
      `duration: 2s
warmup: 1s
hostTypes: { h: { cores: 4, memory: 4GiB } }
hosts: [{ type: h, count: 2 }]
stacks: { k: [{ layer: aged }] }
tenants:
  - name: t
    services:
      - { name: a, stack: k, replicas: 3, request: [{ cpu: 1ms }] }
`,
      { plugins },
    );
    const r = await runReplication(s, plugins, 0);
    expect(log).toEqual([...Array(3).fill("1 aged 0"), ...Array(3).fill("3 aged 1")]);
    // Placed at 0 s, read at 3 s: three samples of 3 s.
    expect(r.stack.layers.aged.age).toEqual({ count: 3, mean: 3, p50: 3, p99: 3 });
  });
});

describe("every call validates its arguments", () => {
  /** Runs a scenario whose layer does `act` in an event at 1 s (or in its cpu hook from 1 s); the error the run stops with. */
  async function failure(act: (ctx: import("./define.js").PluginContext, node: number, op?: import("./define.js").Operation) => void, hookName: "event" | "cpu" = "event"): Promise<string> {
    const bad = layer("bad", (api) => {
      const go = api.event("go", (ctx, node) => act(ctx, node));
      if (hookName === "event") api.hook("create", (ctx, node) => void ctx.schedule(go, 1, node));
      else api.hook("cpu", (ctx, node, op) => (ctx.now >= 1 ? act(ctx, node, op) : undefined));
    });
    const plugins = [testHost, bad];
    const s = loadScenario(
      `duration: 3s
hostTypes: { h: { cores: 4, memory: 4GiB } }
hosts: [{ type: h }]
stacks: { b: [{ layer: bad }] }
tenants:
  - name: t
    services:
      - { name: a, stack: b, load: { open: { rate: 100/s } }, request: [{ cpu: 1ms }] }
`,
      { plugins },
    );
    return runScenario(s, plugins).then(
      () => "no error",
      (err: Error) => err.message,
    );
  }

  it("names the plugin, the hook or event, the node and the simulated time", async () => {
    expect(await failure((ctx) => ctx.delay(1))).toMatch(/plugin bad, hook "event go", node \d+, at simulated time 1s: delay is a verdict: return it from an operation hook/);
    expect(await failure((ctx, node) => ctx.setCpu(node, { weight: -1 }))).toMatch(/plugin bad, hook "event go", node \d+, at simulated time 1s: setCpu: weight must be > 0/);
    expect(await failure((ctx) => ctx.setMemoryLimit(12345, 1))).toMatch(/setMemoryLimit: no node 12345/);
    expect(await failure((ctx, node) => ctx.failNode(ctx.parentOf(node), "x"))).toMatch(/failNode: node 0 is a host; hosts fail through the scenario's failures/);
    expect(await failure((ctx, node) => ctx.failNode(node, "restart"))).toMatch(/failNode: "restart" is the reason of restartNode; give the kill a reason of its own/);
    expect(await failure((ctx, node) => ctx.setReady(node))).toMatch(/setReady: layer bad does not hook provision/);
    expect(await failure((ctx, node) => ctx.schedule(99 as never, 1, node))).toMatch(/schedule: 99 is not a plugin event/);
    expect(await failure((ctx, node) => ctx.charge(node, 1e-3), "cpu")).toMatch(/plugin bad, hook "cpu", node \d+, at simulated time 1(\.\d+)?s: charge: node \d+ is a bad; a plugin's CPU work runs on an auxiliary node/);
    // The operation's own process may be charged (its calling thread); other nodes that are not auxiliary may not.
    expect(await failure((ctx, node) => ctx.charge(ctx.parentOf(node), 1e-3), "cpu")).toMatch(/charge: node 0 is a host; a plugin's CPU work runs on an auxiliary node/);
    expect(await failure((ctx, node) => void ctx.sharedAuxiliary(ctx.childrenOf(node)[0], "x"))).toMatch(/sharedAuxiliary: node \d+ is a process; a shared auxiliary node is held by a host or a layer node/);
    expect(await failure((ctx, _node, op) => void ctx.addAuxiliary(op!.process, "x"), "cpu")).toMatch(/addAuxiliary: node \d+ is a process; an auxiliary node goes under a host or a layer node/);
    expect(await failure((ctx) => ctx.reject(""), "cpu")).toMatch(/plugin bad, hook "cpu", .*reject needs a reason/);
    expect(await failure((ctx, node) => ctx.reclaimMemory(node, 1))).toMatch(/reclaimMemory: node \d+ is a bad, whose layer does not hold what it touched/);
    expect(await failure((ctx, node) => ctx.useMemory(node, -1))).toMatch(/useMemory: node \d+ uses 0 B itself; it cannot give back 1 B/);
    expect(await failure((ctx, node) => ctx.watchMemory(node, 1, 99 as never))).toMatch(/watchMemory: 99 is not a plugin event/);
  });
});

describe("nodes that stop while work is pending on them", () => {
  function scenario(stack: string, extra = "", hosts = 1): string {
    return `duration: 4s
hostTypes: { h: { cores: 8, memory: 8GiB, nic: { bandwidth: 10Gb/s } } }
hosts: [{ type: h, count: ${hosts} }]
failures: { detection: 0.5s${extra} }
stacks: { s: ${stack} }
tenants:
  - name: t
    services:
      - { name: a, stack: s, replicas: 2, load: { closed: { clients: 10, think: 0s } }, request: [{ cpu: 1ms }] }
`;
  }

  it("fail the operations that waited for CPU on them, so no request waits forever", async () => {
    for (const how of ["fail", "restart", "host"] as const) {
      // A Sentry inside each node serves every message end, 1 ms each, and the messages wait for it.
      const sbx = layer("sbx", (api) => {
        const sentry = api.extension("sentry", "i32", -1);
        const go = api.event("go", (ctx, node) => (how === "restart" ? ctx.restartNode(node, { after: 0.1 }) : ctx.failNode(node, "boom")));
        let first = -1;
        api.hook("create", (ctx, node) => {
          const aux = ctx.addAuxiliary(node, "sentry", 0, 1);
          sentry.data[node] = aux; // after the call: adding a node may grow the column
          if (first < 0 && how !== "host") ctx.schedule(go, 1.0005, (first = node));
        });
        api.hook("net", (ctx, node) => ctx.charge(sentry.data[node], 1e-3, { wait: true }));
      });
      const plugins = [testHost, sbx];
      const s = loadScenario(scenario("[{ layer: sbx }]", how === "host" ? ", scripted: [{ at: 1.0005s, host: 0, repair: 1s }]" : "", 2), { plugins });
      const svc = (await runScenario(s, plugins)).stacks.s.services["t/a"];
      // Every client of the stopped replica went on: at most its 10 requests of the last moment are in flight.
      expect(svc.failed, how).toBeGreaterThanOrEqual(5);
      expect(svc.inFlight, how).toBeLessThanOrEqual(20);
      expect((svc.completed as number) + (svc.failed as number) + (svc.dropped as number) + (svc.inFlight as number)).toBe(svc.arrived);
    }
  });

  it("cancel the plugin's pending events and completions: a restart provisions afresh, a failed host's boot never lands", async () => {
    const log: string[] = [];
    // Each node boots for 1 s after its provision hook; the first one restarts at 0.5 s (after 0.2 s).
    const slow = layer("slow", (api) => {
      const booted = api.event("booted", (ctx, node) => {
        log.push(`${ctx.now.toFixed(1)} ready ${node}`);
        ctx.setReady(node);
      });
      const kick = api.event("kick", (ctx, node) => ctx.restartNode(node, { after: 0.2 }));
      let first = -1;
      api.hook("create", (ctx, node) => {
        if (first < 0) ctx.schedule(kick, 0.5, (first = node));
      });
      api.hook("provision", (ctx, node) => void ctx.schedule(booted, 1, node));
    });
    const plugins = [testHost, slow];
    const s = loadScenario(scenario("[{ layer: slow }]", ", scripted: [{ at: 0.5s, host: 1 }]", 2).replace("replicas: 2", "replicas: 1"), { plugins });
    // One replication alone: assembling results would provision a node on a scratch host too (the static figures).
    await runReplication({ ...s, placement: { ...s.placement, policy: "spread" } }, plugins, 0);
    // Node 2 (host 0) restarted at 0.5 s and is ready 0.2 s + 1 s later, not at 1.0 s; node 3 went with host 1.
    expect(log).toEqual(["1.7 ready 2"]);
  });

  it("let a node's fail hook restart it even when a layer above it is the one failing, and restart below a parent that waits", async () => {
    const readies: string[] = [];
    const inner = layer("inner", (api) => {
      api.hook("fail", (ctx, node) => ctx.restartNode(node, { after: 0.5 }));
      api.hook("create", (ctx, node) => ctx.trackSteal(node));
      api.hook("ready", (ctx, node) => {
        readies.push(`${ctx.now}: ${node}`);
        ctx.trackSteal(node); // twice is once
      });
    });
    const outer = layer("outer", (api) => {
      const go = api.event("go", (ctx, node) => ctx.failNode(node, "outer-down"));
      const kick = api.event("kick", (ctx, node) => ctx.restartNode(node, { after: 2 }));
      let n = 0;
      let innerOfSecond = -1;
      // Scheduled for the host, which does not stop when the outer node restarts.
      const kickInner = api.event("kickInner", (ctx) => ctx.restartNode(innerOfSecond, { after: 0 }));
      api.hook("create", (ctx, node) => {
        n++;
        if (n === 1) ctx.schedule(go, 1, node);
        if (n === 2) {
          innerOfSecond = node + 1;
          ctx.schedule(kick, 1, node);
          ctx.schedule(kickInner, 1.5, ctx.parentOf(node));
        }
      });
    });
    const plugins = [testHost, outer, inner];
    const s = loadScenario(scenario("[{ layer: outer, per: replica }, { layer: inner }]").replace("duration: 4s", "duration: 5s"), { plugins });
    const r = await runScenario(s, plugins);
    const st = r.stacks.s;
    // The first outer node (1, inner 2) failed for good: its replica was placed again 0.5 s later (inner 8). The second
    // (4, inner 5) restarted at 1 s for 2 s, and its inner node's own restart at 1.5 s waited for it: ready at 3 s.
    // (The 5 clients of the lost replica, which never think, were sent to it as unreachable until the failure was found.)
    expect(st.services["t/a"].failedBy).toMatchObject({ "outer-down": 5, restart: 5 });
    expect(st.services["t/a"].restarts).toBe(2);
    expect(readies).toEqual(["0: 2", "0: 5", "1.5: 8", "3: 5"]);
  });
});

describe("the scenario's top-level fields, a transfer's rate and lifecycle figures", () => {
  // A layer that fetches `bytes` from outside the fabric as it provisions, at the scenario registry's bandwidth and
  // latency (read through ctx.scenario), and reports each fetch's seconds as the lifecycle figure `fetch`.
  const fetcher = layer(
    "fetcher",
    (api) => {
      const since = api.extension("since", "f64");
      const took = api.metric("fetch", { kind: "histogram", unit: "s", lifecycle: true });
      const all = api.metric("fetches", { kind: "counter", since: "run" });
      const measured = api.metric("measuredFetches", { kind: "counter" });
      const fetched = api.event("fetched", (ctx, node) => {
        took.record(node, ctx.now - since.data[node]);
        ctx.setReady(node);
      });
      api.hook("provision", (ctx, node) => {
        since.data[node] = ctx.now;
        all.add(node);
        measured.add(node);
        const registry = ctx.scenario.registry!;
        ctx.transfer(-1, ctx.hostOf(node), ctx.entry(node).bytes as number, { then: fetched, rate: registry.bandwidth, latency: registry.latency });
      });
    },
    fields({ bytes: unitValue("size", { above: 0 }) }),
  );
  const plugins = [testHost, fetcher];
  const scenario = (replicas: number) =>
    loadScenario(
      `duration: 1s
hostTypes: { h: { cores: 8, memory: 4GiB, nic: { bandwidth: 1GB/s } } }
hosts: [{ type: h }]
registry: { bandwidth: 800MB/s, latency: 20ms }
stacks: { s: [{ layer: fetcher, bytes: 100MB }] }
tenants:
  - name: t
    services:
      - { name: a, stack: s, replicas: ${replicas}, memory: 1GiB, request: [{ cpu: 1ms }] }
`,
      { plugins },
    );

  it("bounds a lone transfer by its rate, and shares the NIC when it is the bottleneck: 100 MB in 125 ms alone, 200 ms each for two", async () => {
    const one = await runScenario({ ...scenario(1), warmup: 0 }, plugins);
    // 100 MB at min(1 GB/s NIC, 800 MB/s registry) = 125 ms, plus the registry's 20 ms.
    expect(one.stacks.s.lifecycle.fetch!.p50).toBeCloseTo(0.145, 12);
    expect(one.stacks.s.lifecycle.ready).toEqual({ p50: expect.closeTo(0.145, 12), p99: expect.closeTo(0.145, 12) });
    const two = await runScenario({ ...scenario(2), warmup: 0 }, plugins);
    // Two on one NIC: each min(500 MB/s, 800 MB/s) = 500 MB/s, 200 ms.
    expect(two.stacks.s.lifecycle.fetch).toEqual({ p50: expect.closeTo(0.22, 12), p99: expect.closeTo(0.22, 12) });
    // A lifecycle figure is not a layer metric (nor in the manifest's); a counter since the run's start counts the
    // fetches of the placement at time 0, before the measurement starts.
    expect(two.stacks.s.layers.fetcher).toEqual({ fetches: 2, measuredFetches: 0 });
    expect(two.manifest.metrics).not.toHaveProperty("fetcher.fetch");
  });

  it("leaves a lifecycle figure out where it has no sample, and refuses a rate that is not a positive number", async () => {
    const idle = layer("idle", (api) => void api.metric("fetch", { kind: "histogram", lifecycle: true }));
    const s = loadScenario(
      `duration: 1s
hostTypes: { h: { cores: 8, memory: 4GiB } }
hosts: [{ type: h }]
stacks: { s: [{ layer: idle }] }
tenants: [{ name: t, services: [{ name: a, stack: s, request: [{ cpu: 1ms }] }] }]
`,
      { plugins: [testHost, idle] },
    );
    const r = await runScenario(s, [testHost, idle]);
    expect(Object.keys(r.stacks.s.lifecycle)).toEqual(["ready", "recovery"]);
    const bad = layer("bad", (api) => {
      const done = api.event("done", (ctx, node) => ctx.setReady(node));
      api.hook("provision", (ctx, node) => ctx.transfer(-1, ctx.hostOf(node), 1, { then: done, rate: 0 }));
    });
    const b = loadScenario(
      `duration: 1s
hostTypes: { h: { cores: 8, memory: 4GiB, nic: { bandwidth: 1GB/s } } }
hosts: [{ type: h }]
stacks: { s: [{ layer: bad }] }
tenants: [{ name: t, services: [{ name: a, stack: s, request: [{ cpu: 1ms }] }] }]
`,
      { plugins: [testHost, bad] },
    );
    await expect(runScenario(b, [testHost, bad])).rejects.toThrow(/plugin bad, hook "provision", node \d+, at simulated time 0s: transfer: rate must be a number of bytes per second > 0, got 0/);
  });
});

describe("the provisions rule", () => {
  it("leaves the nodes it excludes to their provisioning time, and provisions the others by the hook", async () => {
    // Fetches 100 MB where the scenario declares a registry; elsewhere ready after its static 0.5 s.
    const optional = definePlugin({
      name: "optional",
      layer: "optional",
      version: "1.0.0",
      schema: fields({}),
      setup(api) {
        const done = api.event("done", (ctx, node) => ctx.setReady(node));
        api.layerRules({
          size: (_e, parent) => ({ request: { cores: 0, memory: 0 }, capacity: parent }),
          cpu: () => ({ weight: 1 }),
          path: () => ({ provisioning: 0.5 }),
          provisions: (_e, s) => s.registry !== undefined,
        });
        api.hook("provision", (ctx, node) => ctx.transfer(-1, ctx.hostOf(node), 100e6, { then: done, rate: ctx.scenario.registry!.bandwidth }));
      },
    });
    const plugins = [testHost, optional];
    const scenario = (registry: string) =>
      loadScenario(
        `duration: 1s
hostTypes: { h: { cores: 8, memory: 4GiB, nic: { bandwidth: 1GB/s } } }
hosts: [{ type: h }]
${registry}
stacks: { s: [{ layer: optional }] }
tenants: [{ name: t, services: [{ name: a, stack: s, request: [{ cpu: 1ms }] }] }]
`,
        { plugins },
      );
    const without = await runScenario({ ...scenario(""), warmup: 0 }, plugins);
    expect(without.stacks.s.lifecycle.ready).toEqual({ p50: 0.5, p99: 0.5 });
    const withRegistry = await runScenario({ ...scenario("registry: { bandwidth: 400MB/s, latency: 0s }"), warmup: 0 }, plugins);
    expect(withRegistry.stacks.s.lifecycle.ready).toEqual({ p50: expect.closeTo(0.25, 12), p99: expect.closeTo(0.25, 12) });
  });
});

describe("shared auxiliary nodes, the kernel above a node, and charges on the calling thread", () => {
  /** Each node's message ends charge 10 us to one one-core thread held by the kernel above it: the host here. */
  const bridged = layer(
    "bridged",
    (api) => {
      const softirq = api.extension("softirq", "i32", -1);
      api.hook("create", (ctx, node) => {
        const aux = ctx.sharedAuxiliary(ctx.kernelOf(node), "softirq", 0, 1);
        softirq.data[node] = aux;
      });
      api.hook("net", (ctx, node) => ctx.charge(softirq.data[node], 10e-6, { wait: true }));
    },
  );

  it("serve every node on a host from one thread the host holds: two services together reach 1 / (2 x 10 us) = 50,000 requests/s", async () => {
    const plugins = [testHost, bridged];
    const s = loadScenario(
      `duration: 2s
hostTypes: { h: { cores: 64, memory: 64GiB, nic: { bandwidth: 100Gb/s } } }
hosts: [{ type: h }]
stacks: { b: [{ layer: bridged }] }
tenants:
  - name: t
    services:
      - { name: a, stack: b, load: { closed: { clients: 100, think: 0s } }, request: [{ cpu: 1us }] }
      - { name: c, stack: b, load: { closed: { clients: 100, think: 0s } }, request: [{ cpu: 1us }] }
`,
      { plugins },
    );
    const svc = (await runScenario(s, plugins)).stacks.b.services;
    const total = (svc["t/a"].throughput as number) + (svc["t/c"].throughput as number);
    // One thread per node would allow twice as much.
    expect(Math.abs(total / 50_000 - 1)).toBeLessThan(0.02);
  });

  it("keep a shared node while its owner lives, after the node that first asked for it is gone", async () => {
    let first = -1;
    let kept = -2;
    const dying = layer("dying", (api) => {
      const crash = api.event("crash", (ctx, node) => ctx.failNode(node, "crash"));
      const check = api.event("check", (ctx, node) => void (kept = ctx.sharedAuxiliary(ctx.hostOf(node), "softirq")));
      api.hook("create", (ctx, node) => {
        const aux = ctx.sharedAuxiliary(ctx.kernelOf(node), "softirq", 0, 1);
        if (first >= 0) return void ctx.schedule(check, 1, node);
        first = aux;
        ctx.schedule(crash, 0.5, node);
      });
    });
    const plugins = [testHost, dying];
    const s = loadScenario(
      `duration: 2s
hostTypes: { h: { cores: 4, memory: 4GiB } }
hosts: [{ type: h }]
stacks: { d: [{ layer: dying }] }
tenants:
  - name: t
    services:
      - { name: a, stack: d, replicas: 2, request: [{ cpu: 1ms }] }
`,
      { plugins },
    );
    await runScenario({ ...s, warmup: 0 }, plugins, { replications: 1 });
    expect(first).toBeGreaterThanOrEqual(0);
    expect(kept).toBe(first);
  });

  it("charge the operation's own process: 100 system calls of 10 us more on a one-core host halve a 1 ms request's rate", async () => {
    const trapping = layer("trapping", (api) => {
      api.hook("syscall", (ctx, _node, op) => ctx.charge(op.process, op.syscalls * 10e-6, { wait: true }));
    });
    const plugins = [testHost, trapping];
    const s = loadScenario(
      `duration: 5s
hostTypes: { h: { cores: 1, memory: 4GiB } }
hosts: [{ type: h }]
stacks: { s: [{ layer: trapping }] }
tenants:
  - name: t
    services:
      - { name: a, stack: s, load: { closed: { clients: 4, think: 0s } }, request: [{ cpu: 1ms }, { syscall: 100 }] }
`,
      { plugins },
    );
    const svc = (await runScenario(s, plugins)).stacks.s.services["t/a"];
    // testHost's system calls cost nothing of their own: 1 ms of work and 1 ms of traps per request.
    expect(Math.abs((svc.throughput as number) / 500 - 1)).toBeLessThan(0.01);
  });
});
