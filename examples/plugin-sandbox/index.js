// @acme/turtles-sandbox: a gVisor-style sandbox as a Turtles layer. A complete third-party plugin:
// a schema for its stack entries, its rules, one hook and one per-node column.
import { definePlugin, fields, unitValue } from "@turtles/engine/plugin";

export const sandbox = definePlugin({
  name: "sandbox",
  layer: "sandbox",
  version: "1.0.0",
  schema: fields({
    // ptrace platform: a syscall costs 38.2 us against 1.94 us natively (calibration.md, gVisor) [P]
    syscall: unitValue("duration", { min: 0 }).default(36.3e-6),
    // an empty runsc sandbox maps 23.7 MB against 4.1 MB for runc: +19.6 MB [P/derived]
    memory: unitValue("size", { min: 0 }).default(19.6e6),
  }),
  setup(api) {
    const syscalls = api.extension("syscalls", "f64");
    api.layerRules({
      // It reserves its own memory and lets its children use everything the parent has.
      size: (s, parent) => ({ request: { cores: 0, memory: 0 }, capacity: parent }),
      // A sandbox is one cgroup of default weight; it caps nothing.
      cpu: () => ({ weight: 1 }),
      // Every I/O and network operation crosses the user-space kernel once each way.
      path: (s) => ({ latency: { io: s.syscall, net: s.syscall }, memoryOverhead: s.memory }),
    });
    // Count the I/O operations each sandbox intercepts.
    api.hook("io", (ctx, node) => {
      syscalls.data[node] += 1;
    });
  },
});
