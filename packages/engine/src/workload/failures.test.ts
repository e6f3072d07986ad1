// Failures that clients see: a dead replica stays in its balancer until the failure is detected (or its readiness
// probe fails enough times), requests sent to it fail (at once, or at their timeout), and retries turn those failures
// into successes on other replicas.
import { describe, expect, it } from "vitest";
import { loadScenario } from "../scenario/load.js";
import { testHost } from "../testing/index.js";
import { runScenario } from "./run.js";

const plugins = [testHost];

/** 8 replicas on 4 hosts, 100 requests/s of 10 ms; host 0 (2 replicas) fails at 60 s, found after 40 s. */
async function run(extra: string) {
  const s = loadScenario(
    `duration: 200s
hostTypes: { h: { cores: 4, memory: 8GiB } }
hosts: [{ type: h, count: 4 }]
placement: { policy: spread }
failures: { detection: 40s, scripted: [{ at: 60s, host: 0 }] }
tenants:
  - name: t
    services:
      - { name: a, replicas: 8, cores: 1, load: { open: { rate: 100/s } }, request: [{ cpu: 10ms }]${extra} }
`,
    { plugins },
  );
  const st = (await runScenario(s, plugins)).stacks.baremetal;
  return { svc: st.services["t/a"], failure: st.failures[0] };
}

describe("failures that clients see", () => {
  it("send requests to the dead replicas until the failure is detected: their share of the arrivals fails, none after", async () => {
    const { svc, failure } = await run("");
    // 2 of 8 endpoints for 40 s at 100/s: 1,000 requests.
    const expected = 100 * 40 * (2 / 8);
    expect(Math.abs(failure.services["t/a"].failed / expected - 1)).toBeLessThan(0.05);
    expect(svc.failedBy.unreachable).toBe(failure.services["t/a"].failed);
    // After the detection the lost replicas are placed again at once (processes start in 0 s): nothing else failed but
    // the requests on the host when it failed.
    expect(svc.failed).toBe(failure.services["t/a"].failed + (svc.failedBy["host-failure"] ?? 0));
    expect(svc.failedBy["host-failure"] ?? 0).toBeLessThanOrEqual(2);
  });

  it("stop sending to a dead replica once its readiness probe has failed failureThreshold times (about 15 s)", async () => {
    const { failure } = await run(", readiness: { period: 5s, failureThreshold: 3 }");
    // Probes every 5 s from each replica's start: the third failed one comes 10 to 15 s after the failure.
    const failed = failure.services["t/a"].failed;
    expect(failed).toBeGreaterThan(100 * 10 * (2 / 8) * 0.95);
    expect(failed).toBeLessThan(100 * 15 * (2 / 8) * 1.05);
  });

  it("retry on another replica after a timeout: 1 attempt and 100 ms turn those failures into successes, 100 ms later", async () => {
    const plain = await run("");
    const retried = await run(", retry: { attempts: 1, timeout: 100ms }");
    const svc = retried.svc;
    // A retry avoids the host its attempt failed on: it goes to a live one.
    expect(svc.failed).toBe(0);
    // About the 1,000 that failed without retries timed out once (the retries shift the round-robin a little).
    expect(Math.abs((svc.timeouts as number) / (100 * 40 * (2 / 8)) - 1)).toBeLessThan(0.06);
    expect(svc.retries).toBe((svc.timeouts as number) + (svc.failedBy["host-failure"] ?? 0));
    expect(retried.failure.services["t/a"].failed).toBe(0);
    expect(retried.failure.services["t/a"].timeouts).toBeGreaterThan((svc.timeouts as number) - 5);
    // Each retried request waited its 100 ms timeout, then took 10 ms: the mean grows by their share of 100 ms.
    const share = (svc.timeouts as number) / (svc.completed as number);
    expect(svc.latency.mean as number).toBeCloseTo((plain.svc.latency.mean as number) + share * 0.1, 4);
    expect(svc.latency.p999 as number).toBeGreaterThan(0.109);
    // A timed-out attempt to a dead replica did no work: nothing wasted.
    expect(svc.wasted).toBe(0);
    expect((svc.completed as number) + (svc.failed as number) + (svc.dropped as number) + (svc.inFlight as number)).toBe(svc.arrived);
  });

  it("retry calls too: a caller whose calls to a dead callee time out gets its answer from another callee", async () => {
    const s = loadScenario(
      `duration: 100s
hostTypes: { h: { cores: 8, memory: 8GiB, nic: { bandwidth: 10Gb/s } } }
hosts: [{ type: h, count: 5 }]
placement: { policy: spread }
failures: { detection: 30s, scripted: [{ at: 20s, host: 4 }] }
tenants:
  - name: t
    services:
      - { name: front, replicas: 4, load: { open: { rate: 100/s } }, request: [{ cpu: 1ms }, { call: back }] }
      - { name: back, replicas: 5, request: [{ cpu: 5ms }], retry: { attempts: 2, timeout: 50ms } }
`,
      { plugins },
    );
    const st = (await runScenario(s, plugins)).stacks.baremetal;
    const [front, back] = [st.services["t/front"], st.services["t/back"]];
    // front's 4 replicas are on hosts 0-3 and back's 5 on hosts 0-4: host 4 holds one back replica (a fifth of the calls).
    expect(front.failed).toBe(0);
    expect(Math.abs((back.timeouts as number) / (100 * 30 * (1 / 5)) - 1)).toBeLessThan(0.1);
    expect(back.failed).toBe(0);
    expect(front.callTime as number).toBeGreaterThan(0.005);
  });

  it("count the work of attempts given up on that completed anyway as wasted", async () => {
    // 20 ms requests with a 15 ms timeout: every first attempt times out and completes anyway; the retry too.
    const s = loadScenario(
      `duration: 20s
hostTypes: { h: { cores: 8, memory: 8GiB } }
hosts: [{ type: h }]
tenants:
  - name: t
    services:
      - { name: a, replicas: 2, load: { open: { rate: 10/s } }, request: [{ cpu: 20ms }], retry: { attempts: 1, timeout: 15ms, backoff: 5ms } }
`,
      { plugins },
    );
    const svc = (await runScenario(s, plugins)).stacks.baremetal.services["t/a"];
    expect(svc.completed).toBe(0);
    expect(svc.failedBy).toEqual({ timeout: svc.failed });
    expect(svc.timeouts).toBe(2 * (svc.failed as number));
    expect(svc.retries).toBe(svc.failed);
    expect(svc.wasted).toBeGreaterThanOrEqual(2 * (svc.failed as number) - 2);
  });
});
