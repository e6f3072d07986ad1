/**
 * Container network modes (issue 15): `host` shares the host's network namespace and adds nothing; `bridge`, Docker's
 * default, puts the container behind a veth pair, the host's bridge and NAT. Each message end of a bridged container
 * (a request it receives, a response or call it sends) crosses that path once: a per-packet CPU cost served on the
 * softirq path of the kernel the bridge runs in, plus the rest of the calibrated latency as a delay. The softirq path
 * is one auxiliary node of one core held by that kernel (the host's, or a VM's for containers in a VM) and shared by
 * every bridged container there, charged with `wait: true`: at low load a bridged request takes the calibrated 17.4 us
 * more, and under load the shared path is what caps the bridged traffic of a host and adds its queue to the latency,
 * not a throughput factor typed in.
 *
 * Signals used: `create` (the kernel's softirq path, `sharedAuxiliary` on `kernelOf`), `net` operation hooks (charge
 * with wait, delay; none for a message to a container of the same pod, pod.ts's loopback).
 */
import type { PluginSetup } from "@turtles/engine/plugin";
import { onePod } from "./pod.js";

/** Network modes of a container entry. */
export const NETWORK_MODES = ["host", "bridge"] as const;
/** A container's network mode. */
export type NetworkMode = (typeof NETWORK_MODES)[number];

/** Docker's default mode, applied when an entry gives none. */
export const DEFAULT_NETWORK: NetworkMode = "bridge";

// Felter et al. Redis, 1 client (calibration.md 1.1 "Network request/response latency", 1.2): 78.3 us a request under
// Docker's bridge/NAT against 60.9 us with host networking [A]: 17.4 us per request [derived], one received and one
// sent message end, so 8.7 us per message end.
const BRIDGE_PER_END = (78.3e-6 - 60.9e-6) / 2;
// The CPU part: under load, Felter's bridged Redis levels off near 90,000 requests/s (the runs' peaks, 81-101k) against
// about 127,000 with host networking (redis/results/run_*.txt, calibration.md section 4 [A]; caveat 2's "-25 %
// Redis throughput"). Taken as the ceiling of one softirq core serving two message ends a request [derived]:
// 1 / (2 x 90,000) = 5.56 us per message end. Bulk transfer barely moves (NAT 0.998 of host on 10 GbE, calibration.md
// 1.1 [A]) because GRO/GSO coalesce a stream's segments: the cost is per message, not per byte [assumed].
const BRIDGE_CPU = 1 / (2 * 90_000);

/** What a bridged container's message end costs: CPU on its kernel's softirq path, and the rest as latency. */
export const BRIDGE = {
  /** Nominal core-seconds per message end on the softirq path. */
  packetCpu: BRIDGE_CPU,
  /** Seconds added per message end beyond the softirq path's CPU (3.14 us) [derived: 8.7 us less 5.56 us]. */
  latency: BRIDGE_PER_END - BRIDGE_CPU,
  /**
   * Cores of a kernel's softirq path: one [assumed]. Each packet's softirq runs on the core that took it (receive
   * packet steering is off by default), and Felter's bridged plateau is one core at the CPU above.
   */
  cores: 1,
} as const;

/** The fields of a container entry the network modes read. */
interface NetworkEntry {
  network?: NetworkMode;
}

/** Registers the bridge: each bridged container's softirq path, and its net hook. */
export function networkModes(api: PluginSetup<NetworkEntry>): void {
  const softirq = api.extension("softirq", "i32", -1);
  const waited = { wait: true };
  api.hook("create", (ctx, node) => {
    if ((ctx.entry(node).network ?? DEFAULT_NETWORK) !== "bridge") return;
    // The bridge is in the kernel the container's namespace hangs off: the host's, or its VM's guest kernel.
    const path = ctx.sharedAuxiliary(ctx.kernelOf(ctx.parentOf(node)), "softirq", 0, BRIDGE.cores);
    softirq.data[node] = path; // after the call: adding a node may replace the column's array
  });
  api.hook("net", (ctx, node, op) => {
    const path = softirq.data[node];
    // A message between two containers of one pod stays on the pod's loopback: it never reaches the bridge.
    if (path < 0 || onePod(ctx, op.process, op.peer)) return;
    ctx.charge(path, BRIDGE.packetCpu, waited);
    return ctx.delay(BRIDGE.latency);
  });
}
