import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Simulation } from "../kernel/simulation.js";
import { definePlugin, pluginsOf, type PluginDefinition } from "../plugin/define.js";
import { count, fields, unitValue } from "../scenario/fields.js";
import { loadScenario } from "../scenario/load.js";
import { passLayer, testHost } from "../testing/index.js";
import { NONE } from "../tree/nodes.js";
import { buildModel, HookError, type Model } from "./model.js";
import { IO_OP, NET_OP, NO_DIRECTION } from "./pipeline.js";

/** One I/O of process `p` through its path (its static record, then its hooks); returns the pipeline. */
function passIo(m: Model, p: number) {
  m.pipeline.begin();
  m.pipeline.pass(IO_OP, p, -1, 4096, false, false, NO_DIRECTION);
  return m.pipeline;
}

const host = testHost;

/** A layer plugin that logs its hooks into `log`, with a VM-like size. */
function layerPlugin(name: string, log: string[], options: { order?: "pre" | "post"; factor?: number; aux?: boolean } = {}): PluginDefinition {
  return definePlugin({
    name,
    layer: name,
    version: "1",
    schema: fields({ cores: count(1).default(4), memory: unitValue("size").default(2 ** 30) }),
    setup(api) {
      const seen = api.extension("seen", "i32");
      api.layerRules({
        size: (e) => ({ request: { cores: e.cores, memory: e.memory }, capacity: { cores: e.cores, memory: e.memory } }),
        cpu: (e) => ({ weight: "runnable", cap: e.cores }),
        path: () => ({ cpuFactor: options.factor ?? 1, latency: { io: 1e-3, net: 2e-3 }, memoryOverhead: 1000, provisioning: 0.5 }),
      });
      api.hook("io", (ctx, node) => {
        seen.data[node]++;
        log.push(`${name}:io@${node}`);
      }, { order: options.order });
      api.hook("create", (ctx, node) => {
        if (options.aux) ctx.addAuxiliary(api.layer === name ? node : NONE, `${name}-helper`, 500);
      });
    },
  });
}

function scenario(stack: string, replicas = 2, extra = ""): string {
  return `duration: 1m
hostTypes: { h: { cores: 16, memory: 64GiB } }
hosts: [{ type: h, count: 2 }]
stacks:
${stack}
tenants:
  - name: t
    services:
      - { name: s, replicas: ${replicas}, memory: 1GiB, stack: main, request: [{ cpu: 1ms }] }
${extra}`;
}

describe("Model: plugins, hooks and paths", () => {
  it("composes each process's path: factors multiply, latencies and cold-start times add", () => {
    const log: string[] = [];
    const plugins = [host, layerPlugin("outer", log, { factor: 0.9 }), layerPlugin("inner", log, { factor: 0.5 })];
    const s = loadScenario(scenario("  main: [{ layer: outer, cores: 8, memory: 4GiB }, { layer: inner, cores: 2, memory: 2GiB }]"), { plugins });
    const m = buildModel(new Simulation(), s, plugins);
    const [p] = m.processes.get("t/s")!;
    expect(m.pipeline.cpuFactor(p)).toBeCloseTo(0.45, 15);
    expect(m.pipeline.latencyOf(p, "io")).toBeCloseTo(2e-3, 15);
    expect(m.pipeline.latencyOf(p, "net")).toBeCloseTo(4e-3, 15);
    expect(m.pipeline.latencyOf(p, "cpu")).toBe(0);
    expect(m.pipeline.provisioning(p)).toBe(1);
  });

  it("runs the operation hooks of the layers on the path innermost first", () => {
    const log: string[] = [];
    // Plugin order and hook order do not change the path's order.
    const plugins = [host, layerPlugin("outer", log, { order: "pre" }), layerPlugin("middle", log), layerPlugin("inner", log, { order: "post" })];
    const s = loadScenario(scenario("  main: [{ layer: outer, cores: 8, memory: 4GiB }, { layer: middle, cores: 4, memory: 3GiB }, { layer: inner, cores: 2, memory: 2GiB }]", 1), { plugins });
    const m = buildModel(new Simulation(), s, plugins);
    const [p] = m.processes.get("t/s")!;
    const [inner, middle, outer] = m.nodes.ancestry(p).slice(1, 4);
    passIo(m, p);
    expect(log).toEqual([`inner:io@${inner}`, `middle:io@${middle}`, `outer:io@${outer}`]);
  });

  it("runs a layer's operation hook for each of its nodes on the path (a VM in a VM)", () => {
    const log: string[] = [];
    const plugins = [host, layerPlugin("vmx", log)];
    const s = loadScenario(scenario("  main: [{ layer: vmx, cores: 8, memory: 4GiB }, { layer: vmx, cores: 4, memory: 2GiB }]", 1), { plugins });
    const m = buildModel(new Simulation(), s, plugins);
    const [p] = m.processes.get("t/s")!;
    const [inner, outer] = m.nodes.ancestry(p).slice(1, 3);
    passIo(m, p);
    expect(log).toEqual([`vmx:io@${inner}`, `vmx:io@${outer}`]);
  });

  it("wraps an exception in a hook with the plugin, hook, node and simulated time", () => {
    const broken = definePlugin({
      name: "broken",
      layer: "main-layer",
      version: "1",
      schema: fields({}),
      setup(api) {
        api.layerRules({ size: (_e, parent) => ({ request: { cores: 0, memory: 0 }, capacity: parent }), cpu: () => ({ weight: 1 }) });
        api.hook("io", () => {
          throw new Error("no disk");
        });
      },
    });
    const plugins = [host, broken];
    const s = loadScenario(scenario("  main: [{ layer: main-layer }]", 1), { plugins });
    const sim = new Simulation();
    const m = buildModel(sim, s, plugins);
    const [p] = m.processes.get("t/s")!;
    const layerNode = m.nodes.parent[p];
    expect(() => passIo(m, p)).toThrow(new HookError("broken", "io", layerNode, 0, new Error("no disk")));
    expect(() => passIo(m, p)).toThrow(`plugin broken, hook "io", node ${layerNode}, at simulated time 0s: no disk`);
  });

  it("lets a plugin add auxiliary nodes that take memory and compete for CPU", () => {
    const log: string[] = [];
    const plugins = [host, layerPlugin("vmx", log, { aux: true })];
    const s = loadScenario(scenario("  main: [{ layer: vmx, cores: 4, memory: 2GiB }]", 1), { plugins });
    const sim = new Simulation();
    const m = buildModel(sim, s, plugins);
    const [p] = m.processes.get("t/s")!;
    const vm = m.nodes.parent[p];
    const aux = m.nodes.children(vm).find((c) => m.nodes.kindNames[m.nodes.kind[c]] === "aux")!;
    expect(m.auxNames.get(aux)).toBe("vmx-helper");
    expect(m.nodes.usedMemory[vm]).toBe(2 ** 30 + 500); // the process and its helper
    const done = sim.on("done", () => {});
    const guest = m.cpu.start(p, 10, m.pipeline.cpuFactor(p), done, 0);
    const helper = m.cpu.start(aux, 10, 1, done, 1);
    expect(m.cpu.rate(guest)).toBe(1);
    expect(m.cpu.rate(helper)).toBe(1);
  });

  it("refuses two plugins for one layer and plugins that register no rules", () => {
    const log: string[] = [];
    expect(() => buildModel(new Simulation(), loadScenario(scenario("  main: []"), { plugins: [host] }), [host, layerPlugin("a", log), layerPlugin("a", log)])).toThrow(
      'plugins a and a both provide the layer "a"',
    );
    // Two plugins of one name (a third-party one named like a built-in) would be one in the manifest.
    const twin = passLayer("b");
    expect(() => buildModel(new Simulation(), loadScenario(scenario("  main: []"), { plugins: [host] }), [host, layerPlugin("a", log), { ...twin, name: "a" }])).toThrow(
      'two plugins are named "a" (layers a and b); give each its own name',
    );
    const exploding = definePlugin({
      name: "boom",
      layer: "boom",
      version: "1",
      schema: fields({}),
      setup() {
        throw new Error("no config");
      },
    });
    expect(() => buildModel(new Simulation(), loadScenario(scenario("  main: []"), { plugins: [host] }), [host, exploding])).toThrow("plugin boom: its setup failed: no config");
    const lazy = definePlugin({ name: "lazy", layer: "lazy", version: "1", schema: fields({}) });
    expect(() => buildModel(new Simulation(), loadScenario(scenario("  main: []"), { plugins: [host] }), [host, lazy])).toThrow(/registers no layer rules/);
  });
});

describe("CPU charged elsewhere", () => {
  it("charges each operation's back-end work to the auxiliary node the layer created", () => {
    const backend = passLayer("virt", 0, { path: { charge: { io: { aux: "iothread", work: 0.5 } } }, aux: "iothread" });
    const plugins = [host, backend];
    const sim = new Simulation();
    const m = buildModel(sim, loadScenario(scenario("  main: [{ layer: virt }]", 1), { plugins }), plugins);
    const [p] = m.processes.get("t/s")!;
    const aux = m.nodes.children(m.nodes.parent[p]).find((c) => m.auxNames.get(c) === "iothread")!;
    passIo(m, p).startCharges(NONE, 0);
    passIo(m, p).startCharges(NONE, 0);
    m.pipeline.begin();
    m.pipeline.pass(NET_OP, p, -1, 100, false, false, NO_DIRECTION); // nothing charged for net
    m.pipeline.startCharges(NONE, 0);
    expect(m.cpu.allocation(aux)).toBe(2); // two half-core-second jobs, one core each
    sim.run();
    expect(sim.now).toBe(0.5);
    expect(m.cpu.busyCoreSeconds(m.nodes.host[p])).toBeCloseTo(1, 12);
  });

  it("names the plugin when a charge points at an auxiliary node it never created", () => {
    const bad = definePlugin({
      name: "bad-virt",
      layer: "virt",
      version: "1",
      schema: fields({}),
      setup(api) {
        api.layerRules({
          size: (_e, parent) => ({ request: { cores: 0, memory: 0 }, capacity: parent }),
          cpu: () => ({ weight: 1 }),
          path: () => ({ charge: { io: { aux: "iothread", work: 1 } } }),
        });
      },
    });
    const plugins = [host, bad];
    expect(() => buildModel(new Simulation(), loadScenario(scenario("  main: [{ layer: virt }]", 1), { plugins }), plugins)).toThrow(
      /plugin bad-virt charges io CPU to auxiliary node "iothread" of node \d+, but its create hook added none of that name/,
    );
  });
});

describe("a third-party plugin package", () => {
  it("loads the README's sandbox plugin: each intercepted call is a waited charge on its Sentry", async () => {
    const mod = await import("../../../../examples/plugin-sandbox/index.js");
    const [sandbox] = pluginsOf(mod);
    expect(sandbox.name).toBe("sandbox");
    const plugins = [host, sandbox];
    const s = loadScenario(scenario("  main: [{ layer: sandbox, syscall: 40us }]", 1), { plugins });
    const m = buildModel(new Simulation(), s, plugins);
    const [p] = m.processes.get("t/s")!;
    const box = m.nodes.parent[p];
    const sentry = m.nodes.children(box).find((c) => m.auxNames.get(c) === "sentry")!;
    expect(m.memory.overhead[box]).toBe(19.6e6);
    // An I/O is one system call: 40 us of the Sentry's CPU, which the I/O waits for.
    const pl = passIo(m, p);
    expect(pl.waiting).toBe(1);
    pl.startCharges(NONE, 0);
    expect(m.cpu.allocation(sentry)).toBe(1);
    expect(m.driver.metrics.figures(0, 1, new Set(["sandbox"]))).toEqual({ sandbox: { syscalls: 1 } });
  });
});

describe("placement policies", () => {
  /**
   * The policies by their definition: each replica goes to the best up host,
   * in the policy's order, where its cores and memory fit; null when none does.
   */
  function reference(hosts: { cores: number; memory: number }[], services: { cores: number; memory: number; replicas: number }[], policy: string, anti: boolean, ratio = 1): (number | null)[][] {
    const usedCores = hosts.map(() => 0);
    const usedMemory = hosts.map(() => 0);
    return services.map((svc) => {
      const count = hosts.map(() => 0);
      // placement.cpuOvercommit: a host's cores count `ratio` times.
      const free = (i: number): number => hosts[i].cores * ratio - usedCores[i];
      const byPolicy = (a: number, b: number): number =>
        policy === "best-fit" ? free(a) - free(b) || a - b : policy === "spread" ? count[a] - count[b] || free(b) - free(a) || a - b : a - b;
      const compare = (a: number, b: number): number => (anti ? Number(count[a] > 0) - Number(count[b] > 0) : 0) || byPolicy(a, b);
      const placed: (number | null)[] = [];
      for (let r = 0; r < svc.replicas; r++) {
        const fits = hosts.map((_, i) => i).filter((i) => usedCores[i] + svc.cores <= hosts[i].cores * ratio + 1e-9 && usedMemory[i] + svc.memory <= hosts[i].memory);
        const best = fits.sort(compare)[0];
        placed.push(best ?? null);
        if (best === undefined) continue;
        usedCores[best] += svc.cores;
        usedMemory[best] += svc.memory;
        count[best]++;
      }
      return placed;
    });
  }

  it("places every replica on the policy's best host that fits, as the definition does, with cores overcommitted or not", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ cores: fc.integer({ min: 1, max: 8 }), memory: fc.integer({ min: 1, max: 16 }) }), { minLength: 1, maxLength: 12 }),
        fc.array(fc.record({ cores: fc.constantFrom(0, 0.5, 1, 2, 3), memory: fc.integer({ min: 0, max: 6 }), replicas: fc.integer({ min: 1, max: 10 }) }), {
          minLength: 1,
          maxLength: 3,
        }),
        fc.constantFrom("first-fit", "best-fit", "spread"),
        fc.boolean(),
        fc.constantFrom(undefined, 1, 1.5, 2, 4),
        (hosts, services, policy, anti, ratio) => {
          const text = `duration: 1s
hostTypes: { ${hosts.map((h, i) => `h${i}: { cores: ${h.cores}, memory: ${h.memory}GiB }`).join(", ")} }
hosts: [${hosts.map((_, i) => `{ type: h${i} }`).join(", ")}]
tenants:
  - name: t
    services:
${services.map((s, i) => `      - { name: s${i}, replicas: ${s.replicas}, cores: ${s.cores}, memory: ${s.memory}GiB, request: [{ cpu: 1ms }] }`).join("\n")}
placement: { policy: ${policy}, antiAffinity: ${anti}${ratio === undefined ? "" : `, cpuOvercommit: ${ratio}`} }
`;
          const m = buildModel(new Simulation(), loadScenario(text, { plugins: [host] }), [host]);
          const actual = services.map((_, i) => m.processes.get(`t/s${i}`)!.map((p) => (p === NONE ? null : m.hosts.indexOf(m.nodes.host[p]))));
          expect(actual).toEqual(reference(hosts, services, policy, anti, ratio));
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("per: ordinal", () => {
  // A pod per replica number: the same-numbered replicas of the tenant's services on the stack share it.
  const pod = passLayer("pod", 0, { request: { cores: 1, memory: 0 }, capacity: { cores: 1, memory: 2 ** 30 } });
  const plugins = [host, pod];
  const text = (hosts: number, policy: string, appReplicas: number, sidecarCores: number): string => `duration: 1s
hostTypes: { h: { cores: 1, memory: 8GiB } }
hosts: [{ type: h, count: ${hosts} }]
placement: { policy: ${policy} }
stacks: { pod: [{ layer: pod, per: ordinal }] }
tenants:
  - name: t
    services:
      - { name: app, stack: pod, replicas: ${appReplicas}, cores: 0.5, request: [{ cpu: 1ms }] }
      - { name: sidecar, stack: pod, replicas: 2, cores: ${sidecarCores}, request: [{ cpu: 1ms }] }
  - name: u
    services:
      - { name: other, stack: pod, replicas: 1, cores: 0.5, request: [{ cpu: 1ms }] }
`;
  const pods = (m: Model, key: string): number[] => m.processes.get(key)!.map((p) => m.nodes.parent[p]);

  it("puts replica k of each of a tenant's services on the stack into one node, on its host whatever the policy", () => {
    for (const policy of ["first-fit", "spread"]) {
      const m = buildModel(new Simulation(), loadScenario(text(4, policy, 3, 0.5), { plugins }), plugins);
      const app = pods(m, "t/app");
      expect(pods(m, "t/sidecar")).toEqual(app.slice(0, 2));
      // Three replica numbers: three pods for tenant t, one on each one-core host; another tenant's replica 0 has its own.
      expect(new Set(app.map((n) => m.nodes.host[n])).size).toBe(3);
      expect(pods(m, "u/other")[0]).not.toBe(app[0]);
      expect(m.unplaced).toEqual([]);
    }
  });

  it("leaves a replica unplaced, saying why, when its ordinal's node has no room, rather than opening a second one", () => {
    // app's two replicas take half of their pods; a one-core sidecar does not fit beside them, though host 2 is empty.
    const m = buildModel(new Simulation(), loadScenario(text(3, "first-fit", 2, 1), { plugins }), plugins);
    expect(m.unplaced.map((u) => `${u.service}#${u.replica}: ${u.reason}`)).toEqual([
      expect.stringMatching(/^sidecar#0: the pod of replica 0 \(per: ordinal.*has no room/),
      expect.stringMatching(/^sidecar#1: the pod of replica 1 \(per: ordinal.*has no room/),
    ]);
    expect(m.processes.get("u/other")!.map((p) => m.nodes.host[p])).toEqual([m.hosts[2]]);
  });

  it("leaves a sidecar with io steps unplaced, saying why, when its ordinal's node is on a host without a disk", () => {
    const text = `duration: 1s
hostTypes: { plain: { cores: 4, memory: 8GiB }, disky: { cores: 4, memory: 8GiB, disk: { iops: 1k, bandwidth: 100MB/s } } }
hosts: [{ type: plain }, { type: disky }]
stacks: { pod: [{ layer: pod, per: ordinal }] }
tenants:
  - name: t
    services:
      - { name: app, stack: pod, cores: 0.5, request: [{ cpu: 1ms }] }
      - { name: logger, stack: pod, cores: 0.5, request: [{ io: { write: 4KiB } }] }
`;
    const m = buildModel(new Simulation(), loadScenario(text, { plugins }), plugins);
    expect(m.unplaced.map((u) => u.reason)).toEqual([expect.stringMatching(/^the pod of replica 0 .* is on a host without a disk, and the service has io steps/)]);
  });
});
