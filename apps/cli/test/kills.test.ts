// Kills of any layer's reason as users see them: the engine counts a made-up plugin's kills per reason as it counts the
// container plugin's OOM kills, and `run` and `compare` show them by the label the plugin declares (or the reason).
import { loadScenario, onStack, runScenario, type Results } from "@turtles/engine";
import { definePlugin, fields, type PluginDefinition } from "@turtles/engine/plugin";
import { describe, expect, it } from "vitest";
import { formatComparison, formatResults } from "../src/lib/render.js";
import { builtinPlugins } from "../src/lib/scenario-file.js";

/**
 * A balloon layer that kills its first node 1.5 s after each time it is ready and restarts it 0.5 s later: at 1.5 s
 * (in the warm-up), 3.5 s, 5.5 s and 7.5 s, for reasons `balloon` (declared, with its label) and `watchdog` (not
 * declared) in turn: counted, 1 balloon and 2 watchdog kills.
 */
const balloon: PluginDefinition = definePlugin({
  name: "balloon",
  layer: "balloon",
  version: "1.0.0",
  schema: fields({}),
  kills: { balloon: { label: "balloon evictions" } },
  setup(api) {
    api.layerRules({ size: (_e, parent) => ({ request: { cores: 0, memory: 0 }, capacity: parent }), cpu: () => ({ weight: 1 }) });
    let first = -1;
    let kills = 0;
    const kill = api.event("kill", (ctx, node) => ctx.failNode(node, kills++ % 2 === 0 ? "balloon" : "watchdog"));
    api.hook("create", (_ctx, node) => {
      if (first < 0) first = node;
    });
    api.hook("ready", (ctx, node) => void (node === first ? ctx.schedule(kill, 1.5, node) : undefined));
    api.hook("fail", (ctx, node) => ctx.restartNode(node, { after: 0.5 }));
  },
});

const SCENARIO = `duration: 7s
warmup: 2s
hostTypes: { h: { cores: 4, memory: 16GiB } }
hosts: [{ type: h }]
stacks:
  squeezed: [{ layer: balloon }]
tenants:
  - name: t
    services:
      - { name: a, replicas: 2, load: { closed: { clients: 2, think: 0s } }, request: [{ cpu: 10ms }] }
`;

describe("kills of a layer's own reasons in results and tables", () => {
  it("counts a made-up plugin's kills per reason and shows each by its declared label or its name, with the restarts", async () => {
    const plugins = [...builtinPlugins, balloon];
    const s = loadScenario(SCENARIO, { file: "kills.yaml", plugins });
    const [a, b] = await Promise.all(["squeezed", "baremetal"].map((stack) => runScenario(onStack(s, stack), plugins, { replications: 1 })));
    const r: Results = { ...a, stacks: { squeezed: a.stacks.squeezed, baremetal: b.stacks.baremetal } };
    const squeezed = r.stacks.squeezed.services["t/a"];
    expect(squeezed.kills).toEqual({ balloon: 1, watchdog: 2 });
    expect(squeezed.restarts).toBe(3);
    // The container plugin's key stays in every results document, 0 where nothing ran out of memory.
    expect([squeezed.oomKills, r.stacks.baremetal.services["t/a"].oomKills]).toEqual([0, 0]);
    expect(r.stacks.baremetal.services["t/a"].kills).toEqual({});
    expect(r.manifest.kills).toEqual({ oom: { label: "OOM kills", field: "oomKills" }, balloon: { label: "balloon evictions" } });
    expect(formatResults(r)).toMatch(/balloon evictions\s+watchdog kills\s+restarts\n.*t\/a\s+squeezed(\s+\S+)+\s+1\s+2\s+3\n/);
    const compare = formatComparison(r);
    expect(compare).toMatch(/t\/a balloon evictions\s+1\s+0/);
    expect(compare).toMatch(/t\/a watchdog kills\s+2\s+0/);
    expect(compare).toMatch(/t\/a restarts\s+3\s+0/);
    expect(compare).not.toMatch(/OOM kills/);
  });
});
