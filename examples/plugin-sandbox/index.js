// @acme/turtles-sandbox: a gVisor-style sandbox as a Turtles layer, written against the published plugin API only
// (@turtles/engine/plugin). Every system call of the application inside, and each of its I/Os and message ends (one
// system call each), is intercepted and served by the sandbox's user-space kernel, the Sentry: an auxiliary node on
// the host whose CPU the call waits for. So the cost of a call is not a constant typed in: under load the Sentry's
// CPU competes with the application's on the host, and latency and throughput follow from that.
import { definePlugin, fields, quantity, unitValue } from "@turtles/engine/plugin";

export const sandbox = definePlugin({
  name: "sandbox",
  layer: "sandbox",
  version: "2.0.0",
  schema: fields({
    // ptrace platform: a raw syscall costs 38.2 us against 1.94 us natively (calibration.md, 2.10): 36.3 us more [P/derived]
    syscall: unitValue("duration", { min: 0 }).default(36.3e-6),
    // an empty runsc sandbox maps 23.7 MB against 4.1 MB for runc: +19.6 MB [P/derived]
    memory: unitValue("size", { min: 0 }).default(19.6e6),
    // The Sentry serves each call on the calling thread's own goroutine, so by default it has no core limit of its
    // own [assumed]; give it a number to model a Sentry pinned to that many cores.
    sentryCores: quantity({ above: 0, max: 4096, smallest: 0.001 }).optional(),
  }),
  setup(api) {
    const sentry = api.extension("sentry", "i32", -1);
    const cost = api.extension("syscallCost", "f64");
    const syscalls = api.metric("syscalls", { kind: "counter", unit: "calls", show: true, description: "system calls the Sentry served" });
    const waited = { wait: true };
    api.layerRules({
      // It reserves nothing of its own and lets its children use everything its parent has; its memory is beside it.
      size: (_s, parent) => ({ request: { cores: 0, memory: 0 }, capacity: parent }),
      // A sandbox is one cgroup of default weight; it caps nothing.
      cpu: () => ({ weight: 1 }),
      path: (s) => ({ memoryOverhead: s.memory }),
    });
    api.hook("create", (ctx, node) => {
      const s = ctx.entry(node);
      // The Sentry runs beside the application, in the sandbox.
      const aux = ctx.addAuxiliary(node, "sentry", 0, s.sentryCores ?? Infinity);
      sentry.data[node] = aux; // after the call: adding a node may grow the column
      cost.data[node] = s.syscall;
    });
    // Each intercepted call: counted, and its CPU served by the Sentry before the operation goes on.
    api.hook("syscall", (ctx, node, op) => {
      syscalls.add(node, op.syscalls);
      return ctx.charge(sentry.data[node], op.syscalls * cost.data[node], waited);
    });
  },
});
