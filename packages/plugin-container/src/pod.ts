/**
 * The pod layer (issue 15): `layer: pod`, a cgroup parent grouping the containers of one replica. A pod is one CPU group
 * of weight cpu.weight / 100 whose `cpu.limit` is one CFS budget over all its containers together (so one busy
 * container throttles its sidecars), takes `cpu.request` and `memory.request` of its parent for placement and offers
 * its limits to its containers, holds one pod sandbox (the pause container: one empty container's memory, started by
 * runc), and is one network namespace: a message between two of its containers stays on its loopback (no NIC, and no
 * network mode's cost: `onePod` tells a container layer so), counted in `layers.pod.loopback`.
 *
 * Sidecars: a pod of `per: ordinal` is shared by the same-numbered replicas of a tenant's services on the stack, so
 * two services on one stack `[{ layer: pod, per: ordinal }, { layer: container }]` run replica k of each in pod k.
 * `per: replica` (one pod per replica) is a pod of one container.
 *
 * `runtime: kata` (Kubernetes' RuntimeClass is a pod's): the pod is a Kata microVM (kata.ts). Its containers are then
 * started inside it by the agent; give them runc (a container's own `runtime: kata` is a sandbox of its own).
 *
 * Signals used: `provision` (the sandbox's start, or the microVM's boot), `net` (loopback), and kata.ts's.
 */
import { definePlugin, fields, oneOf, unitValue, type PluginContext, type z } from "@turtles/engine/plugin";
import { kataMicroVm, kataVcpus, KATA_PATH } from "./kata.js";

/**
 * A pod sandbox's figures, runc: the pause container is an empty container, 4,092,149 B (runc "density.empty",
 * calibration.md 1.1) [P], started by runc in 33.4 ms (1.1, runc per `/bin/true` container) [P]; taking an empty
 * container's figures for the pause container is [derived].
 */
export const POD_SANDBOX = { memoryOverhead: 4_092_149, start: 0.0334 } as const;

/** Runtimes of a pod's sandbox (its RuntimeClass). */
export const POD_RUNTIMES = ["runc", "kata"] as const;

/** What `podOf` reads of a plugin context (any plugin's). */
type Tree = Pick<PluginContext, "parentOf" | "layerOf">;

/** The pod nearest above `node` (itself if it is one), or -1: the network namespace a container's processes share. */
export function podOf(ctx: Tree, node: number): number {
  for (let n = node; n !== -1; n = ctx.parentOf(n)) if (ctx.layerOf(n) === "pod") return n;
  return -1;
}

/** Whether processes `a` and `b` are in one pod: a message between them stays on its loopback. O(depth). */
export function onePod(ctx: Tree, a: number, b: number): boolean {
  if (a < 0 || b < 0) return false;
  const p = podOf(ctx, a);
  return p !== -1 && p === podOf(ctx, b);
}

/** A pod's CPU fields, as the container layer's CPU block normalises them. */
export interface PodCpu {
  request?: number;
  limit?: number;
  weight: number;
  period: number;
}

/**
 * Builds the pod plugin from the container layer's CPU block (the same cgroup v2 fields: `request`, `limit`, `weight`,
 * `period`), so a pod and a container read their CPU alike.
 */
export function definePod(cpu: z.ZodType<PodCpu | undefined>) {
  const memory = fields({
    request: unitValue("size", { above: 0 }).optional().meta({ description: "bytes reserved for placement" }),
    limit: unitValue("size", { above: 0 }).optional().meta({ description: "bytes its containers may use together" }),
  });
  const schema = fields({
    cpu,
    memory: memory.optional(),
    // runc is Kubernetes' default runtime (a pause container) and the calibration baseline (calibration.md 1.1).
    runtime: oneOf(POD_RUNTIMES, "a pod runtime (RuntimeClass)").default("runc"),
  });
  return definePlugin({
    name: "pod",
    layer: "pod",
    version: "0.1.0",
    schema,
    setup(api) {
      type Entry = z.output<typeof schema>;
      const cpuOf = (p: Entry): PodCpu | undefined => p.cpu;
      const kata = (p: Entry): boolean => p.runtime === "kata";
      api.layerRules({
        // Placement uses requests (falling back to limits, as Kubernetes does); a pod offers its limits (a Kata pod: its
        // vCPUs) to its containers.
        size: (p, parent) => {
          const c = cpuOf(p);
          const cores = kata(p) ? kataVcpus(c?.limit) : (c?.limit ?? parent.cores);
          return {
            request: { cores: c?.request ?? c?.limit ?? 0, memory: p.memory?.request ?? p.memory?.limit ?? 0 },
            capacity: { cores: Math.min(cores, parent.cores), memory: p.memory?.limit ?? parent.memory },
          };
        },
        // A cgroup of weight cpu.weight / 100 with one CFS budget for its containers together; a Kata pod is also
        // capped at its vCPUs.
        cpu: (p) => {
          const c = cpuOf(p);
          return {
            weight: (c?.weight ?? 100) / 100,
            cap: kata(p) ? kataVcpus(c?.limit) : undefined,
            bandwidth: c?.limit !== undefined ? { quota: c.limit * c.period, period: c.period } : undefined,
          };
        },
        path: (p) => (kata(p) ? KATA_PATH : { memoryOverhead: POD_SANDBOX.memoryOverhead }),
        kernel: kata,
      });
      const loopback = api.metric("loopback", {
        kind: "counter",
        unit: "messages",
        show: true,
        description: "messages between containers of one pod, carried on its loopback",
      });
      const vm = kataMicroVm(api, (ctx, process, peer) => !onePod(ctx, process, peer));
      const started = api.event("sandbox-started", (ctx, pod) => ctx.setReady(pod));
      api.hook("provision", (ctx, pod) => {
        if (kata(ctx.entry(pod))) vm.boot(ctx, pod);
        else ctx.schedule(started, POD_SANDBOX.start, pod);
      });
      api.hook("net", (ctx, pod, op) => {
        if (op.direction === "send" && onePod(ctx, op.process, op.peer)) loopback.add(pod);
      });
    },
  });
}
