/**
 * `@turtles/engine/testing`: a minimal host plugin (cores, memory, speed, an
 * optional disk and NIC, a swap slowdown) for tests and benchmarks that need hosts but
 * not the bare-metal plugin.
 */
import { definePlugin } from "../plugin/define.js";
import { count, fields, unitValue } from "../scenario/fields.js";
import { z } from "zod";

export const testHost = definePlugin({
  name: "test-host",
  layer: "host",
  version: "1.0.0",
  schema: fields({
    cores: count(1),
    memory: unitValue("size"),
    speed: z.number().gt(0).default(1),
    disk: fields({
      iops: unitValue("rate"),
      bandwidth: unitValue("byteRate"),
      latency: unitValue("duration").default(0),
      queueDepth: count(1).default(32),
    }).optional(),
    nic: fields({ bandwidth: unitValue("byteRate"), latency: unitValue("duration").default(0) }).optional(),
    swapSlowdown: z.number().min(1).default(1),
    processStart: unitValue("duration").default(0),
  }),
  setup: (api) => api.host((t) => ({ cores: t.cores, speed: t.speed, memory: t.memory, disk: t.disk, nic: t.nic, swapSlowdown: t.swapSlowdown, processStart: t.processStart })),
});
