// The pod layer (pod.ts) against closed forms: one CFS budget over its containers, one network namespace (loopback
// between its containers), one sandbox per pod, sidecars by `per: ordinal`.
import { loadScenario, runScenario } from "@turtles/engine";
import { baremetal } from "@turtles/plugin-baremetal";
import { describe, expect, it } from "vitest";
import { BRIDGE, container, pod, POD_SANDBOX, RUNTIME_DEFAULTS } from "./index.js";

// The client's request and its response cross the front container's bridge (network.ts); the call to its sidecar does not.
const CLIENT_BRIDGE = 2 * (BRIDGE.packetCpu + BRIDGE.latency);

const plugins = [baremetal, container, pod];

/** A scenario of tenant t's `services` on `stacks`, on `hosts` hosts of `hostType`. */
function scenario(stacks: string, services: string, hostType = "{ cores: 4, memory: 16GiB }", hosts = 1, placement = "first-fit"): ReturnType<typeof loadScenario> {
  return loadScenario(
    `duration: 20s
hostTypes: { h: ${hostType} }
hosts: [{ type: h, count: ${hosts} }]
placement: { policy: ${placement} }
stacks: ${stacks}
tenants:
  - name: t
    services:
${services}
`,
    { plugins },
  );
}

describe("a pod", () => {
  it("throttles its containers together: two busy containers under a pod's limit of 1 core get half a core each", async () => {
    // Each container alone could use a core (4 cores, no container limit); the pod's CFS budget is 100 ms per 100 ms
    // period for both, so each runs 10 ms requests at 50/s and the pod is throttled half of each period.
    const services = `      - { name: a, stack: pod, cores: 0, load: { closed: { clients: 1, think: 0s } }, request: [{ cpu: 10ms }] }
      - { name: b, stack: pod, cores: 0, load: { closed: { clients: 1, think: 0s } }, request: [{ cpu: 10ms }] }`;
    const limited = (await runScenario(scenario("{ pod: [{ layer: pod, per: ordinal, cpu: { limit: 1 } }, { layer: container }] }", services), plugins)).stacks.pod;
    expect(limited.services["t/a"].throughput).toBeCloseTo(50, 0);
    expect(limited.services["t/b"].throughput).toBeCloseTo(50, 0);
    expect(limited.hosts.throttledTime).toBeCloseTo(10, 0);
    const free = (await runScenario(scenario("{ pod: [{ layer: pod, per: ordinal }, { layer: container }] }", services), plugins)).stacks.pod;
    expect(free.services["t/a"].throughput).toBeCloseTo(100, 0);
    expect(free.hosts.throttledTime).toBe(0);
  });

  it("carries messages between its containers on its loopback: no NIC, counted in layers.pod.loopback", async () => {
    // front calls back: 1 ms of CPU each, one client at a time. In one pod (per: ordinal) the call's two messages stay
    // on the pod's loopback; in pods of their own (a core each), spread on two hosts, each crosses the NICs (1 ms each).
    const services = `      - { name: front, stack: pod, load: { closed: { clients: 1, think: 0s } }, request: [{ cpu: 1ms }, { call: back }] }
      - { name: back, stack: pod, request: [{ cpu: 1ms }] }`;
    const host = "{ cores: 4, memory: 16GiB, processStart: 0s, nic: { bandwidth: 100Gb/s, latency: 1ms } }";
    const together = (await runScenario(scenario("{ pod: [{ layer: pod, per: ordinal }, { layer: container }] }", services, host, 2, "spread"), plugins)).stacks.pod;
    const apart = (await runScenario(scenario("{ pod: [{ layer: pod, per: replica, cpu: { request: 1 } }, { layer: container }] }", services, host, 2, "spread"), plugins)).stacks.pod;
    const front = together.services["t/front"];
    // 2 ms of CPU, and the client's request and response over front's NIC (1 ms each): the call adds nothing.
    expect(front.latency.mean).toBeCloseTo(4e-3 + CLIENT_BRIDGE, 9);
    // Two loopback messages per request (the call and its response), over the measured requests.
    const loopback = together.layers.pod.loopback as number;
    expect(Math.abs(loopback / (2 * (front.completed as number)) - 1)).toBeLessThan(0.01);
    expect(apart.layers.pod.loopback).toBe(0);
    expect(apart.services["t/front"].latency.mean as number).toBeGreaterThan(4e-3 + 2e-3);
  });

  it("holds one sandbox (a pause container) for all its containers, and starts it before them", async () => {
    const services = `      - { name: a, stack: pod, replicas: 2, cores: 0, memory: 100MiB, load: { open: { rate: 1/s } }, request: [{ cpu: 1ms }] }
      - { name: b, stack: pod, replicas: 2, cores: 0, memory: 100MiB, request: [{ cpu: 1ms }] }`;
    const host = "{ cores: 4, memory: 16GiB, processStart: 0s }";
    const shared = (await runScenario(scenario("{ pod: [{ layer: pod, per: ordinal }, { layer: container }] }", services, host), plugins, { replications: 1 })).stacks.pod;
    const own = (await runScenario(scenario("{ pod: [{ layer: pod, per: replica }, { layer: container }] }", services, host), plugins, { replications: 1 })).stacks.pod;
    const containers = 4 * RUNTIME_DEFAULTS.runc.memoryOverhead;
    expect(shared.hosts.memoryOverhead).toBe(2 * POD_SANDBOX.memoryOverhead + containers);
    expect(own.hosts.memoryOverhead).toBe(4 * POD_SANDBOX.memoryOverhead + containers);
    expect(shared.kernels).toBe(1);
    // A replica is ready once its pod's sandbox (33.4 ms) and then its container (33.4 ms) have started.
    expect(shared.lifecycle.ready).toEqual({ p50: 2 * POD_SANDBOX.start, p99: 2 * POD_SANDBOX.start });
  });

  it("keeps sidecars together when their host fails: the replacements of replica k go into one new pod k", async () => {
    // Host 0 fails at 1 s and is found at 2 s; both replicas come back on host 1, in one pod again, so after the 5 s
    // warm-up every call still goes over the pod's loopback.
    const s = loadScenario(
      `duration: 10s
warmup: 5s
hostTypes: { h: { cores: 4, memory: 16GiB, processStart: 0s, nic: { bandwidth: 100Gb/s, latency: 1ms } } }
hosts: [{ type: h, count: 2 }]
failures: { detection: 1s, scripted: [{ at: 1s, host: 0 }] }
stacks: { pod: [{ layer: pod, per: ordinal }, { layer: container }] }
tenants:
  - name: t
    services:
      - { name: front, stack: pod, load: { closed: { clients: 1, think: 0s } }, request: [{ cpu: 1ms }, { call: back }] }
      - { name: back, stack: pod, request: [{ cpu: 1ms }] }
`,
      { plugins },
    );
    const st = (await runScenario(s, plugins, { replications: 1 })).stacks.pod;
    const front = st.services["t/front"];
    expect(front.latency.mean).toBeCloseTo(4e-3 + CLIENT_BRIDGE, 9);
    expect(Math.abs((st.layers.pod.loopback as number) / (2 * (front.completed as number)) - 1)).toBeLessThan(0.01);
  });
});
