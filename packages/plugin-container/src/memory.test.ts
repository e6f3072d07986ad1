// Memory limits, restart policies and CFS counters against closed forms: OOM kills on the CrashLoopBackOff schedule
// (exact restart times), `never`, memory.high's reclaim delay, and the cpu.stat counters of a CPU limit.
import { loadScenario, runScenario } from "@turtles/engine";
import type { HookFn } from "@turtles/engine/plugin";
import { passLayer } from "@turtles/engine/testing";
import { baremetal } from "@turtles/plugin-baremetal";
import { describe, expect, it } from "vitest";
import { container, RUNTIME_DEFAULTS } from "./index.js";
import { CRASH_LOOP_BACKOFF, nextBackoff, RECLAIM_DELAY } from "./memory.js";

const MiB = 2 ** 20;
/** A runc container is ready its start after its host, and its process the bare-metal default 1 ms after it. */
const START = RUNTIME_DEFAULTS.runc.provisioning + 0.001;

/** Runs one service in a container (with a layer below it logging each ready and fail time); the log and results. */
async function run(entry: string, service: string, duration = "900s") {
  const log: [string, number][] = [];
  const hooks: Partial<Record<"ready" | "fail", HookFn>> = { ready: (ctx) => void log.push(["ready", ctx.now]), fail: (ctx) => void log.push(["fail", ctx.now]) };
  const watch = passLayer("watch", 0, { hooks });
  const plugins = [baremetal, container, watch];
  const s = loadScenario(
    `duration: ${duration}
hostTypes: { h: { cores: 2, memory: 16GiB } }
hosts: [{ type: h }]
stacks: { k: [{ layer: container, ${entry} }, { layer: watch }] }
tenants:
  - name: t
    services:
      - { name: a, stack: k, ${service} }
`,
    { plugins },
  );
  const r = await runScenario(s, plugins);
  return { log, stack: r.stacks.k, svc: r.stacks.k.services["t/a"] };
}

/** Two clients whose requests each hold 600 MiB for 2 s: together 1.2 GiB, past a 1 GiB limit. */
const LEAKY = "load: { closed: { clients: 2, think: 1s } }, request: [{ mem: { alloc: 600MiB } }, { sleep: 2s }]";

describe("memory.limit", () => {
  it("OOM-kills a container whose mem steps grow past it, and restarts it on the CrashLoopBackOff schedule", async () => {
    const { log, svc } = await run("memory: { limit: 1GiB }", LEAKY);
    // Its two clients' requests reach it together 1 s (their think time) after each start: 1.2 GiB, killed at once.
    // Each restart is its back-off (10 s, doubling, at most 5 min) and a container start after the kill.
    const expected: [string, number][] = [["ready", START]];
    let kill = 1;
    for (const backoff of [10, 20, 40, 80, 160, 300, 300]) {
      expected.push(["fail", kill]);
      const ready = kill + backoff + START;
      if (ready < 900) expected.push(["ready", ready]);
      kill = ready + 1;
    }
    expect(log.map(([what]) => what)).toEqual(expected.map(([what]) => what));
    log.forEach(([, t], i) => expect(t).toBeCloseTo(expected[i][1], 9));
    // Seven kills by 900 s (the last one's restart is due at 917 s): each failed both requests in flight. The engine
    // counts them by reason; the plugin's declaration publishes the count as oomKills too.
    expect(svc.kills).toEqual({ oom: 7 });
    expect(svc.oomKills).toBe(7);
    expect(svc.restarts).toBe(7);
    expect(svc.failedBy).toEqual({ oom: 14 });
    expect(svc.completed).toBe(0);
  });

  it("leaves an OOM-killed container down with restartPolicy never: one kill, no restart", async () => {
    const { log, svc } = await run("memory: { limit: 1GiB }, restartPolicy: never", LEAKY, "100s");
    expect(log).toEqual([
      ["ready", START],
      ["fail", 1],
    ]);
    expect(svc.oomKills).toBe(1);
    expect(svc.restarts).toBe(0);
    expect(svc.failedBy).toEqual({ oom: 2 });
  });

  it("takes a request no larger than the limit, and a memory high or request above it", async () => {
    const { svc } = await run("memory: { limit: 1GiB }", "load: { closed: { clients: 1, think: 1s } }, request: [{ mem: { alloc: 600MiB } }, { sleep: 2s }]", "30s");
    expect(svc.oomKills).toBe(0);
    // Its client first arrives at 1 s, as above, and completes a request every 3 s: at 3, 6, ..., 27 s.
    expect(svc.completed).toBe(9);
    for (const field of ["high", "request"]) {
      expect(() => loadScenario(`duration: 1s
hostTypes: { h: { cores: 2, memory: 16GiB } }
hosts: [{ type: h }]
stacks: { k: [{ layer: container, memory: { limit: 1GiB, ${field}: 2GiB } }] }
tenants: [{ name: t, services: [{ name: a, stack: k, request: [{ cpu: 1ms }] }] }]
`, { plugins: [baremetal, container] })).toThrow(new RegExp(`memory ${field} \\(2147483648 B\\) must not exceed the limit \\(1073741824 B\\)`));
    }
  });
});

describe("CrashLoopBackOff", () => {
  it("doubles from 10 s to at most 5 min, and starts again at 10 s after 10 min running", () => {
    const delays: number[] = [];
    let b = 0;
    for (let i = 0; i < 7; i++) delays.push((b = nextBackoff(b, 1)));
    expect(delays).toEqual([10, 20, 40, 80, 160, 300, 300]);
    expect(nextBackoff(300, CRASH_LOOP_BACKOFF.reset - 1e-9)).toBe(300);
    expect(nextBackoff(300, CRASH_LOOP_BACKOFF.reset)).toBe(10);
  });
});

describe("memory.high", () => {
  it("delays an allocation by its bytes above it times the reclaim delay", async () => {
    const service = "load: { closed: { clients: 1, think: 0s } }, request: [{ mem: { alloc: 100MiB } }, { cpu: 1ms }]";
    const [low, high] = await Promise.all([run("memory: { limit: 1GiB }", service, "20s"), run("memory: { limit: 1GiB, high: 50MiB }", service, "20s")]);
    // Each request allocates 100 MiB from nothing held: 50 MiB land above memory.high.
    expect((high.svc.latency.mean as number) - (low.svc.latency.mean as number)).toBeCloseTo(50 * MiB * RECLAIM_DELAY, 9);
    expect(high.svc.oomKills).toBe(0);
  });
});

describe("CFS counters", () => {
  it("count a CPU limit's periods, throttled periods and throttled time over the measured time (cpu.stat)", async () => {
    // Half a core of quota per 100 ms period under a thread that is always busy: 200 periods in 20 s, each throttled
    // for its second half, but the first, whose thread started START late: 10 s - START in all.
    const { stack } = await run("cpu: { limit: 0.5 }", "cores: 0.5, load: { closed: { clients: 1, think: 0s } }, request: [{ cpu: 10ms }]", "20s");
    const c = stack.layers.container;
    expect(c.nrPeriods).toBe(200);
    expect(c.nrThrottled).toBe(200);
    expect(c.throttledTime).toBeCloseTo(10 - START, 9);
    expect(c.throttledTime).toBeCloseTo(stack.hosts.throttledTime as number, 9);
  });
});
