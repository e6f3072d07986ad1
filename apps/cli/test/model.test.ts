import { loadScenario, Simulation } from "@turtles/engine";
import { buildModel, type Model } from "@turtles/engine/testing";
import { describe, expect, it } from "vitest";
import { builtinPlugins } from "../src/lib/scenario-file.js";

const SCENARIO = `
duration: 1m
hostTypes: { big: { cores: 32, memory: 256GiB } }
hosts: [{ type: big, count: 3 }]
stacks:
  k8s: [{ layer: vm, per: tenant, vcpus: 16, memory: 64GiB }, { layer: container, cpu: { request: 1, limit: 4 }, memory: { limit: 2GiB } }]
  shared: [{ layer: vm, per: host, vcpus: 8, memory: 32GiB }]
  own: [{ layer: vm, per: service, vcpus: 2, memory: 8GiB }]
tenants:
  - name: a
    services:
      - { name: web, replicas: 40, memory: 1GiB, stack: k8s, request: [{ cpu: 1ms }] }
      - { name: cache, replicas: 3, memory: 1GiB, stack: shared, request: [{ cpu: 1ms }] }
  - name: b
    services:
      - { name: api, replicas: 5, memory: 1GiB, stack: k8s, request: [{ cpu: 1ms }] }
      - { name: jobs, replicas: 3, memory: 3GiB, stack: own, request: [{ cpu: 1ms }] }
      - { name: big, replicas: 1, memory: 1TiB, request: [{ cpu: 1ms }] }
`;

function build(): Model {
  const plugins = builtinPlugins;
  return buildModel(new Simulation(), loadScenario(SCENARIO, { file: "model.yaml", plugins }), plugins);
}

const kindName = (m: Model, n: number): string => m.nodes.kindNames[m.nodes.kind[n]];
const layerOf = (m: Model, p: number, kind: string): number => m.nodes.ancestry(p).find((n) => kindName(m, n) === kind)!;

describe("building the tree from a scenario with the built-in plugins", () => {
  it("packs a tenant's containers into as many per-tenant VMs as needed (16 one-core containers per 16-vCPU VM)", () => {
    const m = build();
    const web = m.processes.get("a/web")!;
    const vms = new Set(web.map((p) => layerOf(m, p, "vm")));
    expect(vms.size).toBe(3);
    const perVm = [...vms].map((vm) => web.filter((p) => layerOf(m, p, "vm") === vm).length).sort((x, y) => y - x);
    expect(perVm).toEqual([16, 16, 8]);
    // Two 16-vCPU VMs fill host 0's 32 cores; the third lands on host 1.
    expect([...vms].map((vm) => m.nodes.host[vm]).sort()).toEqual([m.hosts[0], m.hosts[0], m.hosts[1]]);
  });

  it("never shares a per-tenant VM across tenants", () => {
    const m = build();
    const aVms = new Set(m.processes.get("a/web")!.map((p) => layerOf(m, p, "vm")));
    const api = m.processes.get("b/api")!;
    expect(api.every((p) => p >= 0)).toBe(true);
    const bVms = new Set(api.map((p) => layerOf(m, p, "vm")));
    expect(bVms.size).toBe(1);
    for (const vm of bVms) expect(aVms.has(vm)).toBe(false);
  });

  it("puts per-service VMs per service and per-host VMs one per host, shared", () => {
    const m = build();
    expect([...m.processes.get("b/jobs")!, ...m.processes.get("a/cache")!].every((p) => p >= 0)).toBe(true);
    const jobs = new Set(m.processes.get("b/jobs")!.map((p) => layerOf(m, p, "vm")));
    expect(jobs.size).toBe(2); // 8 GiB VM: two 3 GiB replicas each
    const cache = m.processes.get("a/cache")!.map((p) => layerOf(m, p, "vm"));
    expect(new Set(cache).size).toBe(1);
    expect(m.nodes.tenant[cache[0]]).toBe(-1);
  });

  it("reports what does not fit instead of dropping it", () => {
    const m = build();
    expect(m.processes.get("b/big")).toEqual([-1]);
    expect(m.unplaced).toEqual([
      {
        tenant: "b",
        service: "big",
        replica: 0,
        reason:
          "even an empty host cannot hold one (stack baremetal): a replica reserves 1 core (the service's `cores`, default 1) and 1.0 TiB (its `memory`), " +
          "but the host offers 32 cores and 256 GiB: lower the service's cores or memory, or use larger hosts",
      },
    ]);
  });

  it("resolves each path from the layers' calibrated defaults and gives containers CFS budgets", () => {
    const m = build();
    const [p] = m.processes.get("a/web")!;
    expect(m.pipeline.cpuFactor(p)).toBeCloseTo(0.98, 12); // KVM 0.98 x runc 1.00
    expect(m.pipeline.latencyOf(p, "net")).toBeCloseTo(15e-6, 15); // half of KVM's +30 us round trip
    // Container start and process start: the VM boots as work (its provision hook), not in a static time.
    expect(m.pipeline.provisioning(p)).toBeCloseTo(0.0334 + 0.001, 12);
    const container = layerOf(m, p, "container");
    expect(m.cpu.bandwidthStats(container)).toEqual({ nrPeriods: 0, nrThrottled: 0, throttledTime: 0 });
    expect(m.memory.overhead[layerOf(m, p, "vm")]).toBe(131 * 2 ** 20);
  });
});

describe("a replica its stack cannot hold", () => {
  it("names the layer that is too small and the field to change (a container limit below the replica's cores)", () => {
    const text = `duration: 1s
hostTypes: { h: { cores: 4, memory: 16GiB } }
hosts: [{ type: h }]
stacks:
  small: [{ layer: container, cpu: { limit: 0.5 } }]
  fits: [{ layer: container, cpu: { limit: 0.5 } }]
tenants:
  - name: t
    services:
      - { name: a, stack: small, request: [{ cpu: 1ms }] }
      - { name: b, stack: fits, cores: 0.5, request: [{ cpu: 1ms }] }
`;
    const m = buildModel(new Simulation(), loadScenario(text, { plugins: builtinPlugins }), builtinPlugins);
    expect(m.unplaced.map((u) => u.reason)).toEqual([
      "even an empty host cannot hold one (stack small): a replica reserves 1 core (the service's `cores`, default 1) and 0 B (its `memory`), " +
        "but the container offers 0.5 cores and 16 GiB: lower the service's cores or memory or give the container more",
    ]);
    expect(m.processes.get("t/b")![0]).toBeGreaterThanOrEqual(0);
  });
});

describe("kernels", () => {
  it("counts hosts, VMs and Kata sandboxes, not containers that share their host's kernel", () => {
    const text = `duration: 1s
hostTypes: { h: { cores: 16, memory: 64GiB } }
hosts: [{ type: h, count: 2 }]
stacks:
  vm: [{ layer: vm, vcpus: 2, memory: 4GiB }]
  kata: [{ layer: container, runtime: kata }]
  runc: [{ layer: container }]
tenants:
  - name: t
    services:
      - { name: a, stack: vm, replicas: 3, request: [{ cpu: 1ms }] }
      - { name: b, stack: kata, replicas: 2, request: [{ cpu: 1ms }] }
      - { name: c, stack: runc, replicas: 4, request: [{ cpu: 1ms }] }
`;
    const m = buildModel(new Simulation(), loadScenario(text, { plugins: builtinPlugins }), builtinPlugins);
    expect(m.kernels()).toBe(2 + 3 + 2);
    // First-fit puts everything on host 0; when it fails, its guest kernels are gone and the hosts' remain.
    expect(new Set([...m.processes.values()].flat().map((p) => m.nodes.host[p]))).toEqual(new Set([m.hosts[0]]));
    m.failHost(0);
    expect(m.kernels()).toBe(2);
  });
});
