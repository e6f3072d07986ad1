/**
 * The bare-metal plugin: the physical host, root of every stack. It defines
 * what a host type is in a scenario (cores, speed, memory, disk, NIC, power,
 * cost, the cost of a system call) and offers the host's cores, speed,
 * memory, disk and NIC to the engine. Host policy is its own: the power curve
 * (linear in utilisation) and swapping (a `pressure` hook: CPU work on the
 * host slows while its memory is overcommitted). It uses only
 * `@turtles/engine/plugin`.
 */
import { count, definePlugin, fields, quantity, unitValue, z } from "@turtles/engine/plugin";

const disk = fields({
  iops: unitValue("rate", { above: 0 }).meta({ description: "random I/O operations per second, e.g. 100k" }),
  bandwidth: unitValue("byteRate", { above: 0 }),
  latency: unitValue("duration", { min: 0 }).default(0),
  // DESIGN.md, Resource models (Disk): "up to `queueDepth` I/Os ... (default 32)"
  queueDepth: count(1, 65536).default(32),
});

const nic = fields({
  bandwidth: unitValue("byteRate", { above: 0 }),
  latency: unitValue("duration", { min: 0 }).default(0),
});

const power = fields({ idle: unitValue("power", { min: 0 }), max: unitValue("power", { min: 0 }) }).superRefine((p, ctx) => {
  if (p.idle > p.max) ctx.addIssue({ code: "custom", path: ["idle"], message: `idle power (${p.idle} W) must not exceed max power (${p.max} W)` });
});

export const hostTypeSchema = fields({
  cores: count(1, 4096),
  // speed is relative to nominal: cpu work is in nominal core-seconds (DESIGN.md, Scenario file)
  // From a thousandth of nominal to a thousand times it: CPU work / speed stays finite.
  speed: quantity({ above: 0, max: 1000, smallest: 0.001 }).default(1).meta({ description: "relative to nominal (1.0)" }),
  memory: unitValue("size", { above: 0 }),
  disk: disk.optional(),
  nic: nic.optional(),
  power: power.optional(),
  // A price per host-hour: above a million it is a unit mistake (and a million hosts over the longest run still sum finitely).
  cost: fields({ perHour: quantity({ max: 1e6, smallest: 1e-6 }) }).optional(),
  // How much slower CPU work runs while the host swaps. calibration.md has no measurement of swapping: this is an
  // assumption [assumed] (an order of magnitude), to be set per host type from a measurement of the workload.
  swapSlowdown: z.number().min(1).max(10000).default(10),
  // Starting a replica's process: fork/exec takes 1 ms (LightVM, SOSP 2017; calibration.md, table 1.1) [P].
  processStart: unitValue("duration", { min: 0 }).default(0.001),
  // A planned reboot (a kernel patch rollout): shutdown, firmware POST and kernel boot. calibration.md has no
  // measurement of a physical host's reboot: 2 minutes is an assumption [assumed] (server POST alone takes 1 to 3
  // minutes); optional so that scenarios without it keep their normalised form, and their hash.
  reboot: unitValue("duration", { min: 0, max: 86400 }).optional().meta({ description: "seconds a planned reboot takes (default 2m)" }),
  // One raw system call: 1.94 us under runc (gVisor performance guide, GCE VM host; calibration.md, 2.10) [P].
  syscallCost: unitValue("duration", { min: 0, max: 1 }).default(1.94e-6),
});

/** A host's planned reboot when its type gives none, in seconds (an assumption: see `reboot` in the schema). */
export const DEFAULT_REBOOT = 120;

/**
 * Joules drawn over `seconds` by a host whose cores were busy `busy`
 * core-seconds: idle power all the time, and the span to max power in
 * proportion to its CPU utilisation.
 */
export function linearPower(power: { idle: number; max: number }, cores: number, busy: number, seconds: number): number {
  return power.idle * seconds + ((power.max - power.idle) * busy) / cores;
}

export const baremetal = definePlugin({
  name: "baremetal",
  layer: "host",
  version: "0.1.0",
  schema: hostTypeSchema,
  setup(api) {
    // The host offers its cores at its speed, its memory and its disk, draws power linearly from idle to max with
    // its CPU utilisation, and costs its hourly price. Its NIC carries the host's messages (full duplex).
    api.host((t) => ({
      cores: t.cores,
      speed: t.speed,
      memory: t.memory,
      energy: t.power ? (busy, seconds) => linearPower(t.power!, t.cores, busy, seconds) : undefined,
      costPerHour: t.cost?.perHour,
      disk: t.disk,
      nic: t.nic,
      processStart: t.processStart,
      syscallCost: t.syscallCost,
      reboot: t.reboot ?? DEFAULT_REBOOT,
    }));
    // A host swaps while its memory is overcommitted: its CPU work runs swapSlowdown times slower until it is not.
    api.hook("pressure", (ctx, host, over) => ctx.setSlowdown(host, over === 1 ? ctx.entry(host).swapSlowdown : 1));
  },
});
