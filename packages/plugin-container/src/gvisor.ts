/**
 * gVisor (runsc) as a mechanism (issue 15). A gVisor container is a sandbox whose user-space kernel, the Sentry,
 * intercepts every system call of the processes inside: each call of a `syscall` step, and each I/O and message end
 * (one call each). The platform decides the cost. Under `ptrace`, each call stops the calling thread, which pays the
 * trap, and hands the call to the Sentry, an auxiliary node of the sandbox that serves it with `wait: true`; under
 * `kvm`, the Sentry's handler runs in guest mode on the calling thread, and what it was measured to cost is no more
 * than a native call. Messages also cross the Sentry's own network stack (netstack), a cost per byte on the Sentry.
 * So a syscall-heavy service loses throughput where the Sentry's CPU competes with the application's, and its
 * latency grows with the Sentry's queue, while CPU-only work runs as in runc (calibration.md 1.1: sysbench cpu 1.00).
 *
 * Signals used: `create` (the Sentry, `addAuxiliary` inside the sandbox), `syscall` hooks (which also see each I/O
 * and message end: the trap on the calling thread, `charge` of `op.process`, and the Sentry's work), `net` hooks
 * (netstack), metric `syscalls`.
 */
import type { PluginSetup } from "@turtles/engine/plugin";

/** gVisor platforms: how a call reaches the Sentry. */
export const GVISOR_PLATFORMS = ["ptrace", "kvm"] as const;
/** A gVisor platform's name. */
export type GvisorPlatform = (typeof GVISOR_PLATFORMS)[number];

/** The platform when an entry gives none: ptrace, the calibrated column of calibration.md 1.1. */
export const DEFAULT_PLATFORM: GvisorPlatform = "ptrace";

// A raw system call (calibration.md 2.10, from gVisor's performance guide [P]): 1.94 us under runc, 38.2 us under
// runsc with the ptrace platform, 0.76 us with the KVM platform, on the same GCE VM. The host's syscallCost already
// charges the native 1.94 us to a syscall step.
const RUNC_SYSCALL = 1.94e-6;
const PTRACE_SYSCALL = 38.2e-6;

/** Nominal core-seconds a call costs beyond the host's own, on the calling thread and on the Sentry, per platform. */
export const GVISOR_SYSCALL: Readonly<Record<GvisorPlatform, { readonly thread: number; readonly sentry: number }>> = {
  // ptrace: 38.2 - 1.94 = 36.26 us more a call [P/derived]. The stopped thread's trap is taken as one more host call,
  // runc's 1.94 us [assumed: calibration.md splits nothing]; the Sentry's tracer does the rest, 34.32 us [derived].
  // An operation's charges are served side by side, so a lone call takes 34.32 + 1.94 = 36.26 us, 5% under the 38.2
  // measured (the trap overlaps the Sentry's work), while the CPU it costs is all 38.2 us: throughput is exact.
  ptrace: { thread: RUNC_SYSCALL, sentry: PTRACE_SYSCALL - 2 * RUNC_SYSCALL },
  // kvm: 0.76 us, below runc's 1.94 us on that (virtualized, calibration.md caveat 1) host [P]: the call is served
  // on the calling thread in guest mode, and nothing is added to the host's own cost [derived: no negative adder].
  kvm: { thread: 0, sentry: 0 },
};

// netstack, iperf on GCE n1-standard-4 (calibration.md 1.1 "Network bulk throughput factor" [P/derived]): download
// 640 vs 746 Mb/s under runc, upload 482 vs 710 Mb/s. The gap taken as the Sentry's serial work per byte [derived]:
// a received byte 8/640e6 - 8/746e6 s, a sent byte 8/482e6 - 8/710e6 s.
/** Nominal core-seconds per byte of a message end in the Sentry's network stack, received and sent. */
export const GVISOR_NETSTACK = {
  receivePerByte: 8 / 640e6 - 8 / 746e6,
  sendPerByte: 8 / 482e6 - 8 / 710e6,
} as const;

/** The fields of a container entry the sandbox reads. */
interface SandboxEntry {
  runtime: string;
  platform?: GvisorPlatform;
}

/** Registers gVisor's Sentry for each gVisor container, its syscall and net hooks, and the `syscalls` metric. */
export function gvisorSandbox(api: PluginSetup<SandboxEntry>): void {
  const sentry = api.extension("sentry", "i32", -1);
  const threadCost = api.extension("syscallThread", "f64");
  const sentryCost = api.extension("syscallSentry", "f64");
  // Not in the run and compare tables: every container stack reports it, and only gVisor's are not 0.
  const syscalls = api.metric("syscalls", { kind: "counter", unit: "calls", description: "system calls gVisor's Sentry intercepted (runtime: gvisor)" });
  const waited = { wait: true };
  api.hook("create", (ctx, node) => {
    const e = ctx.entry(node);
    if (e.runtime !== "gvisor") return;
    const cost = GVISOR_SYSCALL[e.platform ?? DEFAULT_PLATFORM];
    // Inside the sandbox, so its CPU counts in the container's cgroup and limit, as the Sentry's does. No core limit
    // of its own [assumed]: runsc's Sentry serves calls on as many goroutines as there are calling threads.
    const aux = ctx.addAuxiliary(node, "sentry");
    sentry.data[node] = aux; // after the call: adding a node may replace the column's array
    threadCost.data[node] = cost.thread;
    sentryCost.data[node] = cost.sentry;
  });
  // Each intercepted call (a syscall step's, an I/O's, a message end's): the trap on the calling thread, then the
  // Sentry's work, both waited for.
  api.hook("syscall", (ctx, node, op) => {
    const s = sentry.data[node];
    if (s < 0) return;
    syscalls.add(node, op.syscalls);
    if (threadCost.data[node] > 0) ctx.charge(op.process, op.syscalls * threadCost.data[node], waited);
    if (sentryCost.data[node] > 0) ctx.charge(s, op.syscalls * sentryCost.data[node], waited);
  });
  api.hook("net", (ctx, node, op) => {
    const s = sentry.data[node];
    if (s < 0 || op.amount === 0) return;
    ctx.charge(s, op.amount * (op.direction === "send" ? GVISOR_NETSTACK.sendPerByte : GVISOR_NETSTACK.receivePerByte), waited);
  });
}
