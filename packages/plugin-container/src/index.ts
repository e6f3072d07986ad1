/**
 * The container plugin: containers as a stack layer. A container entry of a
 * stack (runtime, cgroup v2 CPU and memory settings) becomes a node that is
 * placed by its requests, competes for CPU as a cgroup of weight
 * cpu.weight / 100 under CFS bandwidth control when it has a limit, and adds
 * its runtime's static costs to every path through it. Its mechanisms are
 * in their own files: memory limits, restart policies and CFS counters in
 * memory.ts; where the scenario declares a registry, image pulls through a
 * layer cache per host in images.ts; a bridged container's messages cross
 * its kernel's shared softirq path (network.ts); a gVisor container's system
 * calls and messages cross its Sentry (gvisor.ts); pods and Kata microVMs in
 * pod.ts and kata.ts. It uses only `@turtles/engine/plugin`.
 */
import { definePlugin, fields, identifier, oneOf, quantity, unitValue, z } from "@turtles/engine/plugin";
import { GVISOR_PLATFORMS, gvisorSandbox } from "./gvisor.js";
import { imagePulls } from "./images.js";
import { cfsCounters, CONTAINER_KILLS, memoryLimits, RESTART_POLICIES } from "./memory.js";
import { NETWORK_MODES, networkModes } from "./network.js";
import { definePod } from "./pod.js";

export { DEFAULT_PLATFORM, GVISOR_NETSTACK, GVISOR_PLATFORMS, GVISOR_SYSCALL, type GvisorPlatform } from "./gvisor.js";
export { LAYER_WORDS, MAX_LAYERS } from "./images.js";
export { KATA_BOOT, KATA_BOOT_READ, KATA_DEFAULT_VCPUS, KATA_PATH, KATA_VIRTIO, kataVcpus } from "./kata.js";
export { CRASH_LOOP_BACKOFF, nextBackoff, OOM, RECLAIM_DELAY, RESTART_POLICIES, type RestartPolicy } from "./memory.js";
export { BRIDGE, DEFAULT_NETWORK, NETWORK_MODES, type NetworkMode } from "./network.js";
export { onePod, podOf, POD_RUNTIMES, POD_SANDBOX, type PodCpu } from "./pod.js";

/** Runtimes with published calibration (calibration.md, table 1.1 and section 2). */
export const RUNTIMES = ["runc", "crun", "gvisor", "kata"] as const;
/** A container runtime's name. */
export type Runtime = (typeof RUNTIMES)[number];

const cpu = fields({
  // Down to a millicore, Kubernetes' smallest CPU quantity (1m).
  request: quantity({ above: 0, max: 4096, smallest: 0.001 }).optional().meta({ description: "cores reserved for placement" }),
  limit: quantity({ above: 0, max: 4096, smallest: 0.001 }).optional().meta({ description: "cores: cpu.max quota = limit x period" }),
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
  limit: unitValue("size", { above: 0 }).optional().meta({ description: "memory.max: a use past it is an OOM kill (the container restarts by its restartPolicy)" }),
  high: unitValue("size", { above: 0 }).optional().meta({ description: "memory.high: an allocation above it waits for reclaim first" }),
}).superRefine((m, ctx) => {
  for (const below of ["request", "high"] as const) {
    const v = m[below];
    if (v !== undefined && m.limit !== undefined && v > m.limit) ctx.addIssue({ code: "custom", path: [below], message: `memory ${below} (${v} B) must not exceed the limit (${m.limit} B)` });
  }
});

export const containerSchema = fields({
  // runc is the reference OCI runtime and the calibration baseline (calibration.md, table 1.1)
  runtime: oneOf(RUNTIMES, "a container runtime").default("runc"),
  cpu: cpu.optional(),
  memory: memory.optional(),
  // Absent means `always`, Kubernetes' default (absent, not defaulted, so existing scenarios keep their scenarioHash).
  restartPolicy: oneOf(RESTART_POLICIES, "a restart policy").optional().meta({ description: "after an OOM kill: always (default) or on-failure restart with CrashLoopBackOff; never leaves it down" }),
  // The container image: the name of one of the scenario's `images` (its layers), or a size: the service's own
  // one-layer image, so each service on the layer counts one in `images`. Pulled from the scenario's `registry` when
  // it has one (images.ts); copied to a host to start a replica there in results' `portability`. Absent: the scenario
  // says nothing of images and none is counted.
  image: z
    .union([unitValue("size", { above: 0 }), identifier], { error: "expected a size such as 200MB, or the name of one of the scenario's images" })
    .optional()
    .meta({ description: "the name of one of the scenario's images, or bytes of the service's own one-layer image" }),
  // Docker's default is bridge (network.ts), applied by the plugin: scenarios written before keep their normalised form.
  network: oneOf(NETWORK_MODES, "a network mode").optional().meta({ description: "host, or bridge (the default): veth, bridge and NAT, served on the host's softirq path" }),
  // gVisor's platform (gvisor.ts); the plugin applies ptrace, the calibrated one, when absent.
  platform: oneOf(GVISOR_PLATFORMS, "a gVisor platform").optional().meta({ description: "runtime gvisor only: how its Sentry intercepts system calls, ptrace (the default) or kvm" }),
}).superRefine((c, ctx) => {
  if (c.platform !== undefined && c.runtime !== "gvisor") {
    ctx.addIssue({ code: "custom", path: ["platform"], message: `platform selects how gVisor intercepts system calls; this container's runtime is ${c.runtime}: remove platform, or set runtime: gvisor` });
  }
});

/** Static per-path effects of one container, by runtime (calibration.md, table 1.1). */
export const RUNTIME_DEFAULTS = {
  // runc: Linpack 290.9 vs 290.8 GFLOPS = 1.00 [A]; 4,092,149 B per empty container [P]; 33.4 ms per start [P].
  runc: { cpuFactor: 1, memoryOverhead: 4_092_149, provisioning: 0.0334 },
  // crun: 16.9 ms per start [P]; no memory measurement, assumed equal to runc [assumed].
  crun: { cpuFactor: 1, memoryOverhead: 4_092_149, provisioning: 0.0169 },
  // gVisor (runsc): sysbench cpu 103.21 vs 103.62 events/s = 1.00 [P]; empty sandbox 23.7 MB [P/derived];
  // no start time obtained, assumed equal to runc [assumed].
  gvisor: { cpuFactor: 1, memoryOverhead: 23.7e6, provisioning: 0.0334 },
  // Kata on QEMU: a VM per pod, CPU assumed as KVM tuned 0.98 [A]; pod footprint 122,832 KB [P];
  // "to-workload" 0.61-0.71 s, midpoint [P].
  kata: { cpuFactor: 0.98, memoryOverhead: 122_832 * 1024, provisioning: 0.66 },
} as const;

export const container = definePlugin({
  name: "container",
  layer: "container",
  version: "0.1.0",
  schema: containerSchema,
  kills: CONTAINER_KILLS,
  setup(api) {
    // Where the scenario declares a registry, a container with an image pulls it, then its runtime starts.
    const { provisions } = imagePulls(api, (c) => RUNTIME_DEFAULTS[c.runtime as Runtime].provisioning);
    api.layerRules({
      // Placement uses requests (falling back to limits, as Kubernetes does); a container offers its limits.
      size: (c, parent) => ({
        request: { cores: c.cpu?.request ?? c.cpu?.limit ?? 0, memory: c.memory?.request ?? c.memory?.limit ?? 0 },
        capacity: { cores: c.cpu?.limit ?? parent.cores, memory: c.memory?.limit ?? parent.memory },
      }),
      // DESIGN.md: a container is a group weighing cpu.weight / 100; its limit is a CFS budget
      // (cpu.max = limit x period per period), not a cap.
      cpu: (c) => ({
        weight: (c.cpu?.weight ?? 100) / 100,
        bandwidth: c.cpu?.limit !== undefined ? { quota: c.cpu.limit * c.cpu.period, period: c.cpu.period } : undefined,
      }),
      path: (c) => RUNTIME_DEFAULTS[c.runtime],
      // Kata runs each pod in a lightweight VM with its own guest kernel; the other runtimes share the host's.
      kernel: (c) => c.runtime === "kata",
      image: (c, scenario) => {
        if (typeof c.image === "number") return { bytes: c.image };
        if (c.image === undefined) return undefined;
        const image = scenario.images?.[c.image];
        if (!image) throw new Error(`image "${c.image}" is not one of the scenario's images`);
        // Its layers' bytes: what a host without any of them copies (layers shared with another image count here too).
        return { name: c.image, bytes: image.layers.reduce((sum, l) => sum + l.size, 0) };
      },
      provisions,
    });
    memoryLimits(api);
    cfsCounters(api);
    networkModes(api);
    gvisorSandbox(api);
  },
});

/** The pod layer (pod.ts): a cgroup parent of one replica's containers, with the container layer's CPU fields. */
export const pod = definePod(cpu.optional());
