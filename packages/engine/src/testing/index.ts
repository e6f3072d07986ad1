/**
 * `@turtles/engine/testing`: what tests of plugins need. A minimal host plugin
 * (cores, memory, speed, an optional disk and NIC, a swap slowdown) for tests
 * and benchmarks that need hosts but not the bare-metal plugin, the smallest
 * layer (`passLayer`), and `buildModel`: a scenario's tree built without
 * running it, to check what a layer does to placement, paths and memory
 * (the `Model`'s fields are for inspection, not a stable API); `savedRunOf`,
 * a real saved run to test resuming with.
 */
import { definePlugin, type HookFn, type PluginDefinition, type HookName, type PathContribution, type Resources } from "../plugin/define.js";
import { count, fields, quantity, unitValue } from "../scenario/fields.js";
import type { Scenario } from "../scenario/schema.js";
import type { RunSnapshot } from "../workload/checkpoint.js";
import { RunCancelled, runScenario } from "../workload/run.js";
import { z } from "zod";

export { buildModel, type Model } from "../model/model.js";

export const testHost = definePlugin({
  name: "test-host",
  layer: "host",
  version: "1.0.0",
  schema: fields({
    cores: count(1),
    memory: unitValue("size", { above: 0 }),
    speed: quantity({ above: 0, max: 1000, smallest: 0.001 }).default(1),
    disk: fields({
      iops: unitValue("rate", { above: 0 }),
      bandwidth: unitValue("byteRate", { above: 0 }),
      latency: unitValue("duration").default(0),
      queueDepth: count(1).default(32),
    }).optional(),
    nic: fields({ bandwidth: unitValue("byteRate", { above: 0 }), latency: unitValue("duration").default(0) }).optional(),
    swapSlowdown: z.number().min(1).max(10000).default(1),
    processStart: unitValue("duration").default(0),
    reboot: unitValue("duration").optional(),
  }),
  setup(api) {
    api.host((t) => ({ cores: t.cores, speed: t.speed, memory: t.memory, disk: t.disk, nic: t.nic, processStart: t.processStart, reboot: t.reboot }));
    api.hook("pressure", (ctx, host, over) => ctx.setSlowdown(host, over === 1 ? ctx.entry(host).swapSlowdown : 1));
  },
});

/**
 * A layer that takes nothing of its own (its children use its parent's
 * capacity), weighs 1 on the CPU, and takes `provisioning` seconds to start:
 * the smallest layer a test of the tree or the lifecycle needs. `extra` adds
 * to every path through it, gives each of its nodes an auxiliary node named
 * `aux` (for `charge`), registers hooks, and may give the node a `request`
 * from its parent (held there with `holds: "reserved"`) and a fixed
 * `capacity` for its children; with `kernel`, each node runs its own OS kernel
 * (a guest's, restarted in a rollout).
 */
export function passLayer(
  name: string,
  provisioning = 0,
  extra: { path?: PathContribution; aux?: string; hooks?: Partial<Record<HookName, HookFn>>; request?: Resources; capacity?: Resources; holds?: "used" | "reserved"; kernel?: boolean } = {},
) {
  return definePlugin({
    name,
    layer: name,
    version: "1.0.0",
    schema: fields({}),
    setup(api) {
      api.layerRules({
        size: (_e, parent) => ({ request: extra.request ?? { cores: 0, memory: 0 }, capacity: extra.capacity ?? parent }),
        cpu: () => ({ weight: 1 }),
        path: () => ({ provisioning, ...extra.path }),
        holds: extra.holds,
        kernel: extra.kernel,
      });
      const aux = extra.aux;
      if (aux !== undefined) api.hook("create", (ctx, node) => void ctx.addAuxiliary(node, aux));
      for (const [hook, fn] of Object.entries(extra.hooks ?? {})) api.hook(hook as HookName, fn);
    },
  });
}

/** A VM-like layer: takes `vcpus` cores of its host, weighs its runnable threads on the CPU, capped at its vCPUs. */
export const vcpuLayer = definePlugin({
  name: "vcpu-layer",
  layer: "vm",
  version: "1.0.0",
  schema: fields({ vcpus: count(1) }),
  setup(api) {
    api.layerRules({ size: (e, p) => ({ request: { cores: e.vcpus, memory: 0 }, capacity: { cores: e.vcpus, memory: p.memory } }), cpu: (e) => ({ weight: "runnable", cap: e.vcpus }) });
  },
});

/**
 * One service at a fixed load per host, for balancing at any scale (with
 * `testHost` and `vcpuLayer`): 8 replicas per 2-vCPU VM, 4 VMs per 8-core
 * host, 20 requests/s of 20 ms per host (5% of its cores). Its mean latency
 * should not depend on `hosts`: the balance test checks 10 and 100 hosts,
 * bench/balance.js 10, 100 and 1,000.
 */
export function fixedLoadPerHost(balance: string, hosts: number): string {
  return `duration: 20s
warmup: 2s
hostTypes: { h: { cores: 8, memory: 64GiB } }
hosts: [{ type: h, count: ${hosts} }]
stacks: { vms: [{ layer: vm, per: tenant, vcpus: 2 }] }
tenants:
  - name: t
    services:
      - { name: s, stack: vms, cores: 0.25, replicas: ${32 * hosts}, balance: ${balance}, load: { open: { rate: ${20 * hosts}/s } }, request: [{ cpu: 20ms }] }
`;
}

/**
 * A real saved run of `s`: the run saved between chunks and cancelled once `done` replications are done, with the next
 * one in progress (so `s` needs more than `done` replications). Runs in this thread; for tests of resuming.
 */
export async function savedRunOf(s: Scenario, plugins: readonly PluginDefinition[], done: number, options: { file?: string } = {}): Promise<RunSnapshot> {
  let saved: RunSnapshot | undefined;
  const controller = new AbortController();
  try {
    await runScenario(s, plugins, {
      ...options,
      chunk: 2000,
      signal: controller.signal,
      checkpoint: {
        every: 0,
        save: (snap) => {
          saved = snap;
          if (snap.done.length >= done && snap.running.length > 0) controller.abort();
        },
      },
    });
  } catch (err) {
    if (err instanceof RunCancelled && saved) return saved;
    throw err;
  }
  throw new Error(`the run ended before ${done} replications were done with another in progress`);
}

/**
 * The paths (`#/properties/...`) of the numbers in a JSON Schema (such as `scenarioJsonSchema(plugins)`) that lack a
 * lower or an upper bound: a plugin's test can check that every field it adds is bounded, as the engine's are.
 */
export function unboundedNumbers(schema: unknown): string[] {
  const out: string[] = [];
  const walk = (node: unknown, path: string): void => {
    if (node === null || typeof node !== "object") return;
    const n = node as Record<string, unknown>;
    const types = [n.type].flat();
    const numeric = (types.includes("number") || types.includes("integer")) && typeof n.const !== "number";
    if (numeric && (typeof n.maximum !== "number" || (typeof n.minimum !== "number" && typeof n.exclusiveMinimum !== "number"))) out.push(path);
    for (const [k, v] of Object.entries(n)) walk(v, `${path}/${k}`);
  };
  walk(schema, "#");
  return out;
}
