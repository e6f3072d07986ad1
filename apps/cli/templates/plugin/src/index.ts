/**
 * __PACKAGE__: the `__LAYER__` layer for Turtles, written against `@turtles/engine/plugin` only.
 *
 * A starting point: the layer takes nothing of its own, adds a one-way latency to each message end that crosses it
 * (an operation hook returning a verdict) and counts those messages (a metric `turtles run` shows). Replace the
 * defaults with measurements and cite them; the plugin API is in the engine's docs/plugins.md.
 */
import { definePlugin, fields, unitValue } from "@turtles/engine/plugin";

export const plugin = definePlugin({
  name: "__LAYER__",
  layer: "__LAYER__",
  version: "0.1.0",
  schema: fields({
    // One-way latency added to each message end: an assumption, to be replaced by a measurement (and its source).
    latency: unitValue("duration", { min: 0 }).default(50e-6),
    // Memory one instance of the layer holds beside what runs in it: an assumption, as above.
    memory: unitValue("size", { min: 0 }).default(0),
  }),
  setup(api) {
    const messages = api.metric("messages", { kind: "counter", unit: "messages", show: true, description: "message ends that crossed the layer" });
    api.layerRules({
      // What a node takes from its parent and offers its children: nothing of its own, all of its parent.
      size: (_entry, parent) => ({ request: { cores: 0, memory: 0 }, capacity: parent }),
      // How it competes for CPU: one group of weight 1 (a cgroup with the default cpu.weight).
      cpu: () => ({ weight: 1 }),
      // What it adds to every path through it, resolved once: its memory overhead.
      path: (entry) => ({ memoryOverhead: entry.memory }),
    });
    // Each message end: counted, and delayed by the layer's latency.
    api.hook("net", (ctx, node) => {
      messages.add(node);
      return ctx.delay(ctx.entry(node).latency);
    });
  },
});
