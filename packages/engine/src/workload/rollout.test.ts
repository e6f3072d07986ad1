// The kernel patch rollout: every kernel instance restarts in turn, at most maxUnavailable at once, its replicas
// drained first and placed again or waiting for it; its duration is the sum of the restarts (and of the drains).
import { describe, expect, it } from "vitest";
import { ScenarioError } from "../scenario/problems.js";
import { loadScenario } from "../scenario/load.js";
import { passLayer, testHost } from "../testing/index.js";
import { applyOverrides, ReplicationRun, runScenario } from "./run.js";

const vm = passLayer("vm", 0.5, { kernel: true, request: { cores: 1, memory: 2 ** 30 }, holds: "reserved" });
const plugins = [testHost, vm];

/**
 * `hosts` hosts of one core, each holding one replica (a host has room for no second one): a restarted host's replica
 * waits for it. 40 requests/s of 10 ms per replica: busy 40% of the time, so drains wait, and 9 of 10 are busier.
 */
function scenario(rollout: string, hosts = 10, extra = "") {
  return loadScenario(
    `duration: 800s
warmup: 10s
hostTypes: { h: { cores: 1, memory: 8GiB, reboot: 60s, processStart: 1s } }
hosts: [{ type: h, count: ${hosts} }]
placement: { policy: spread }
${rollout}
tenants:
  - name: t
    services:
      - { name: a, replicas: ${hosts}, cores: 1, load: { open: { rate: ${hosts * 40}/s } }, request: [{ cpu: 10ms }]${extra} }
`,
    { plugins, file: "rollout.yaml" },
  );
}

async function stackOf(s: ReturnType<typeof scenario>) {
  return (await runScenario(s, plugins)).stacks.baremetal;
}

describe("kernel patch rollout", () => {
  it("restarts 10 hosts one at a time: it lasts the sum of their restarts and drains, with one replica down at most and no request failed", async () => {
    const st = await stackOf(scenario("rollout: {}"));
    const r = st.rollout!;
    expect(r.instances).toBe(10);
    expect(r.maxUnavailable).toBe(1);
    // Each host: its drain (a 10 ms request or none), its 60 s reboot, then its replica's 1 s process start.
    expect(r.duration).toBeCloseTo(10 * 61 + r.draining, 9);
    expect(r.draining).toBeGreaterThan(0);
    expect(r.draining).toBeLessThan(10 * 0.1);
    expect(r.maxDown).toBe(1);
    // Drained before each restart: nothing was sent to a stopped replica, nothing failed.
    expect(r.failed).toBe(0);
    expect(st.services["t/a"].failed).toBe(0);
    // Ten planned restarts in the timeline, each with its one replica back.
    expect(st.failures.map((f) => [f.reason, f.replicas, f.recovered, (f.repaired as number) - f.at])).toEqual(Array.from({ length: 10 }, () => ["rollout", 1, 1, 60]));
    // The other nine replicas take the load meanwhile (1 request in 9 more each): more are slower than the p99
    // outside than the 1% outside, fewer than all.
    const during = 400 * (r.duration as number);
    expect(r.slowed).toBeGreaterThan(0.01 * during);
    expect(r.slowed).toBeLessThan(0.5 * during);
  });

  it("restarts two hosts at a time with maxUnavailable 2: about half the duration, two replicas down at most", async () => {
    const one = (await stackOf(scenario("rollout: {}"))).rollout!;
    const two = (await stackOf(scenario("rollout: { maxUnavailable: 2 }"))).rollout!;
    expect(two.maxUnavailable).toBe(2);
    expect(two.maxDown).toBe(2);
    // Five rounds of 61 s; a pair's next instance starts when either of them is back, so drains add at most their sum.
    expect(two.duration as number).toBeGreaterThanOrEqual(5 * 61);
    expect(two.duration as number).toBeLessThanOrEqual(5 * 61 + two.draining + 1e-9);
    expect(Math.abs((two.duration as number) / (one.duration as number) - 0.5)).toBeLessThan(0.01);
    expect(two.failed).toBe(0);
  });

  it("restarts each VM's guest kernel as its own instance, in place, then each host (its VMs recreated)", async () => {
    // 2 hosts of 2 cores, 4 replicas each in its own VM of 1 core (booting in 0.5 s): hosts are full.
    const s = loadScenario(
      `duration: 1000s
warmup: 10s
hostTypes: { h: { cores: 2, memory: 8GiB, reboot: 60s, processStart: 1s } }
hosts: [{ type: h, count: 2 }]
stacks: { vms: [{ layer: vm, per: replica }] }
placement: { policy: spread }
rollout: {}
tenants:
  - name: t
    services:
      - { name: a, stack: vms, replicas: 4, cores: 1, load: { open: { rate: 50/s } }, request: [{ cpu: 10ms }] }
`,
      { plugins, file: "vms.yaml" },
    );
    const st = (await runScenario(s, plugins)).stacks.vms;
    const r = st.rollout!;
    expect(r.instances).toBe(4 + 2);
    // A guest restart: its boot and its replica's start. A host restart: its reboot, then new VMs and their replicas.
    expect(r.duration).toBeCloseTo(4 * (0.5 + 1) + 2 * (60 + 0.5 + 1) + r.draining, 9);
    // Each guest restart restarts its replica in place; a host restart places new ones (no restart in place).
    expect(st.services["t/a"].restarts).toBe(4);
    expect(st.failures.filter((f) => f.reason === "rollout").map((f) => f.replicas)).toEqual([2, 2]);
    expect(r.maxDown).toBe(2);
    expect(r.failed).toBe(0);
  });

  it("fails no request as unreachable with other replicas; with none, requests find no ready replica meanwhile", async () => {
    const many = await stackOf(scenario("rollout: {}", 3));
    expect(many.services["t/a"].failedBy.unreachable).toBeUndefined();
    expect(many.services["t/a"].failed).toBe(0);
    const alone = await stackOf(scenario("rollout: {}", 1));
    const by = alone.services["t/a"].failedBy;
    expect(by.unreachable).toBeUndefined();
    // 61 s without a replica at 40/s: about 2,440 requests.
    expect(Math.abs((by["no-ready-replica"] as number) / (61 * 40) - 1)).toBeLessThan(0.1);
    expect(alone.rollout!.failed).toBe(by["no-ready-replica"]);
  });

  it("reports null without a rollout, and a rollout that ends after the run as an unknown duration", async () => {
    expect((await stackOf(scenario(""))).rollout).toBeNull();
    const late = (await stackOf(scenario("rollout: { at: 700s }"))).rollout!;
    expect(late.duration).toBeNull();
    expect(late.instances).toBe(10);
  });

  it("continues a rollout saved mid-way exactly as if it had never stopped", () => {
    const s = scenario("rollout: { maxUnavailable: 2 }", 4);
    const straight = new ReplicationRun(s, plugins, 0);
    while (!straight.advance(100_000));
    const expected = JSON.stringify(straight.result());
    expect(straight.result().stack.rollout!.duration).toBeGreaterThan(0);
    for (const cut of [30_000, 150_000, 400_000]) {
      const first = new ReplicationRun(s, plugins, 0);
      first.advance(cut);
      const resumed = ReplicationRun.resume(s, plugins, 0, first.snapshot());
      while (!resumed.advance(100_000));
      expect(JSON.stringify(resumed.result()), `cut at event ${cut}`).toBe(expected);
    }
  });

  it("refuses a rollout due after the measurement, or no instance at a time, naming the field", () => {
    const problems = (rollout: string): string[] => {
      try {
        scenario(rollout);
      } catch (err) {
        return (err as ScenarioError).problems.map((p) => `${p.path}: ${p.message}`);
      }
      return [];
    };
    expect(problems("rollout: { at: 800s }")[0]).toMatch(/^rollout\.at: the rollout starts 800 s after the warm-up, at or after the end of the measurement \(duration 800 s\)/);
    expect(problems("rollout: { maxUnavailable: 0 }")[0]).toMatch(/^rollout\.maxUnavailable: /);
    expect(problems("rollout: { maxUnavailble: 2 }")[0]).toMatch(/maxUnavailable/);
    // The run's overrides: --rollout adds one where the scenario has none, checked as the field is.
    const s = scenario("");
    expect(applyOverrides(s, { rollout: {} }).rollout).toEqual({ at: 0, maxUnavailable: 1 });
    expect(applyOverrides(s, { rollout: { maxUnavailable: 3 } }).rollout).toEqual({ at: 0, maxUnavailable: 3 });
    expect(() => applyOverrides(s, { rollout: { maxUnavailable: 0 } })).toThrow(/rollout\.maxUnavailable/);
    expect(() => applyOverrides(scenario("rollout: { at: 100s }"), { duration: 50 })).toThrow(/rollout\.at: the rollout starts 100 s/);
  });
});
