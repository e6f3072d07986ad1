/**
 * The container plugin: containers as a stack layer. Here it defines a
 * container entry of a stack (runtime, cgroup v2 CPU and memory settings);
 * CFS bandwidth control, OOM and start times arrive with its own issue and use
 * only `@turtles/engine/plugin`.
 */
import { definePlugin, fields, oneOf, unitValue, z } from "@turtles/engine/plugin";

/** Runtimes with published calibration (calibration.md, table 1.1 and section 2). */
export const RUNTIMES = ["runc", "crun", "gvisor", "kata"] as const;

const cpu = fields({
  request: z.number().gt(0).max(4096).optional().meta({ description: "cores reserved for placement" }),
  limit: z.number().gt(0).max(4096).optional().meta({ description: "cores: cpu.max quota = limit x period" }),
  // cgroup v2 cpu.weight: range 1-10000, default 100 (Linux Documentation/admin-guide/cgroup-v2.rst)
  weight: z.number().int().min(1).max(10000).default(100),
  // cpu.max period: default 100 ms, bounds 1 ms to 1 s (calibration.md, section 2.8)
  period: unitValue("duration", { min: 0.001, max: 1 }).default(0.1),
}).superRefine((c, ctx) => {
  if (c.request !== undefined && c.limit !== undefined && c.request > c.limit) {
    ctx.addIssue({ code: "custom", path: ["request"], message: `cpu request (${c.request}) must not exceed the limit (${c.limit})` });
  }
});

const memory = fields({
  request: unitValue("size", { above: 0 }).optional(),
  limit: unitValue("size", { above: 0 }).optional().meta({ description: "memory.max: exceeding it is an OOM kill" }),
});

export const containerSchema = fields({
  // runc is the reference OCI runtime and the calibration baseline (calibration.md, table 1.1)
  runtime: oneOf(RUNTIMES, "a container runtime").default("runc"),
  cpu: cpu.optional(),
  memory: memory.optional(),
});

export const container = definePlugin({ name: "container", layer: "container", version: "0.1.0", schema: containerSchema });
