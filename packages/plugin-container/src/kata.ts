/**
 * Kata Containers as a mechanism (issue 15): a pod of `runtime: kata` runs inside a microVM with its own guest kernel.
 * Its boot is work (the VMM's setup on a thread beside the pod on its host, then the guest kernel on one of its vCPUs
 * while the host's disk reads its boot set, then the kata-agent creating the sandbox inside), so pods starting together
 * share the host's cores and disk; its vCPUs cap its CPU; every I/O and every message that leaves the pod waits for
 * QEMU's virtio back-end threads on the host (an I/O thread per request, vhost-net per byte) and takes KVM's added
 * latency. Messages between its containers stay inside the guest (loopback): no back end, no added latency.
 *
 * These are the hypervisor plugin's microVM mechanisms (its boot.ts and io-paths.ts) composed from the same plugin-API
 * calls (`addAuxiliary`, `work`, `io`, `charge` with wait, `delay`, `setReady`), with Kata's figures. The composition,
 * some forty lines, is written again here rather than shared: a plugin imports only `@turtles/engine/plugin`, and
 * moving a VM's boot and back ends into the engine would make the engine own a layer's policy (docs/plugins.md: the
 * engine owns mechanisms, layers their policy). The constants cited from calibration.md are cited again, not copied
 * from the other plugin's code.
 *
 * Signals used: `create` (the VMM, boot, I/O and network threads), `provision` (the boot), `io` and `net` hooks.
 */
import type { PluginContext, PluginEvent, PluginSetup } from "@turtles/engine/plugin";

const MiB = 2 ** 20;

/**
 * A Kata pod's boot, nominal core-seconds by part. Kata-on-QEMU pod "to-workload" 0.61-0.71 s (calibration.md 1.1)
 * [P]: its midpoint, 0.66 s, is the pod and its first container (runc's 33.4 ms start [P]) ready on an idle host. The
 * QEMU part is a minimal QEMU guest's 244 ms (1.1, QEMU default firmware p50 [A]): the VMM's setup 51 ms (Firecracker's
 * setup, as the hypervisor plugin takes it for QEMU [assumed]) and the guest kernel 193 ms [derived]. The rest,
 * 0.66 - 0.244 - 0.0334 = 0.3826 s [derived], is the kata-agent and the sandbox's setup in the guest, taken as CPU on
 * the boot vCPU [assumed: calibration.md does not split it].
 */
export const KATA_BOOT = { vmm: 0.051, guest: 0.193, agent: 0.66 - 0.244 - 0.0334 } as const;

/**
 * Bytes of its image a Kata pod reads from the host's disk while its guest kernel boots: 16 MiB [assumed]: calibration.md
 * has no measurement of a boot's reads; Kata's guest kernel and rootfs image are some MiB to some tens of MiB.
 */
export const KATA_BOOT_READ = 16 * MiB;

/**
 * vCPUs a Kata pod starts with before those hot-plugged for its CPU limit: 1 [assumed]: Kata's configuration.toml
 * `default_vcpus = 1`; calibration.md has no Kata vCPU figure. A pod with `cpu.limit` L gets 1 + ceil(L) vCPUs (Kata
 * hot-plugs ceil(L) for the limit), and its CFS budget still holds it to L.
 */
export const KATA_DEFAULT_VCPUS = 1;

/**
 * Its static path figures: the CPU factor of KVM tuned, Linpack 284.2 / 290.8 = 0.98 [A]; the Kata-on-QEMU pod
 * footprint 122,832 KB [P] (the VMM, the guest kernel and the agent).
 */
export const KATA_PATH = { cpuFactor: 0.98, memoryOverhead: 122_832 * 1024 } as const;

/**
 * Its virtio back ends, QEMU's as KVM measures them (calibration.md 1.1, 1.2; Felter, fio 4 KiB random at QD128): a
 * request serialised on the I/O thread at 1 / (0.55 x 84,044) s for reads and 1 / (0.53 x 84,044) s for writes
 * [derived], a lone I/O taking 2.4x (reads, 633 vs 260.5 us) or 4.0x (writes, 831 vs 207 us) its native time [A];
 * vhost-net 0.8 core-s per 14.5 Gb (Firecracker's emulation core, SPECIFICATION [P], taken for vhost-net [assumed]);
 * KVM's +30 us per network round trip, 15 us each way (TCP_RR 67.9 vs 37.6 us) [A].
 */
export const KATA_VIRTIO = {
  read: { cpu: 1 / (0.55 * 84_044), latencyFactor: 633 / 260.5 },
  write: { cpu: 1 / (0.53 * 84_044), latencyFactor: 831 / 207 },
  netCpuPerByte: 0.8 / (14.5e9 / 8),
  netOneWay: 15e-6,
} as const;

/** The fields of a pod entry the Kata mechanism reads. */
interface KataEntry {
  runtime: "runc" | "kata";
}

/** vCPUs of a Kata pod of CPU limit `limit` (undefined: none): `KATA_DEFAULT_VCPUS` plus ceil(limit). */
export function kataVcpus(limit: number | undefined): number {
  return KATA_DEFAULT_VCPUS + Math.ceil(limit ?? 0);
}

/**
 * Registers the Kata microVM of the layer's `runtime: kata` nodes: its threads (create), its boot (`boot(ctx, pod)`,
 * which the layer's provision hook calls for such a node), its I/O and its messages that leave the node
 * (`leaves(ctx, process, peer)`: false for a message between two processes on the pod's loopback).
 */
export function kataMicroVm<E extends KataEntry>(
  api: PluginSetup<E>,
  leaves: (ctx: PluginContext<E>, process: number, peer: number) => boolean,
): { boot(ctx: PluginContext<E>, pod: number): void } {
  const vmm = api.extension("kataVmm", "i32", -1);
  const vcpu = api.extension("kataBootVcpu", "i32", -1);
  const iothread = api.extension("kataIothread", "i32", -1);
  const vhost = api.extension("kataVhostNet", "i32", -1);
  // Parts of the boot under way after the VMM's setup: the guest kernel, and the boot read when the host has a disk.
  const pending = api.extension("kataBootPending", "i32");
  const agentDone: PluginEvent = api.event("kata-agent-done", (ctx, pod) => ctx.setReady(pod));
  const guestDone = api.event("kata-guest-done", (ctx, pod) => {
    if (--pending.data[pod] === 0) ctx.work(vcpu.data[pod], KATA_BOOT.agent, { then: agentDone });
  });
  const setupDone = api.event("kata-setup-done", (ctx, pod) => {
    const reads = ctx.hostRules(pod).disk !== undefined;
    pending.data[pod] = reads ? 2 : 1;
    ctx.work(vcpu.data[pod], KATA_BOOT.guest, { then: guestDone });
    if (reads) ctx.io(ctx.hostOf(pod), KATA_BOOT_READ, { then: guestDone });
  });
  const isKata = (ctx: PluginContext<E>, pod: number): boolean => ctx.entry(pod).runtime === "kata";
  api.hook("create", (ctx, pod) => {
    if (!isKata(ctx, pod)) return;
    // QEMU's threads are on the pod's parent (the host, or a VM's vCPUs); the boot runs on one of the guest's vCPUs.
    // (Each id is stored after its call: adding a node may replace the columns' arrays.)
    const parent = ctx.parentOf(pod);
    const setup = ctx.addAuxiliary(parent, "kata-vmm", 0, 1);
    const boot = ctx.addAuxiliary(pod, "kata-boot", 0, 1);
    const io = ctx.addAuxiliary(parent, "kata-iothread", 0, 1);
    const net = ctx.addAuxiliary(parent, "kata-vhost-net", 0, 1);
    vmm.data[pod] = setup;
    vcpu.data[pod] = boot;
    iothread.data[pod] = io;
    vhost.data[pod] = net;
  });
  const waited = { wait: true };
  api.hook("io", (ctx, pod, op) => {
    if (!isKata(ctx, pod)) return;
    const cost = op.write ? KATA_VIRTIO.write : KATA_VIRTIO.read;
    ctx.charge(iothread.data[pod], cost.cpu, waited);
    // The lone I/O's native time on the host's disk, stretched by the latency factor; the thread's time is part of it.
    const disk = ctx.hostRules(pod).disk;
    if (disk === undefined) return;
    const device = op.random ? Math.max(1 / disk.iops, op.amount / disk.bandwidth) : op.amount / disk.bandwidth;
    const extra = (cost.latencyFactor - 1) * (disk.latency + device) - cost.cpu;
    if (extra > 0) return ctx.delay(extra);
  });
  api.hook("net", (ctx, pod, op) => {
    if (!isKata(ctx, pod) || !leaves(ctx, op.process, op.peer)) return;
    if (op.amount > 0) ctx.charge(vhost.data[pod], op.amount * KATA_VIRTIO.netCpuPerByte, waited);
    return ctx.delay(KATA_VIRTIO.netOneWay);
  });
  return { boot: (ctx, pod) => ctx.work(vmm.data[pod], KATA_BOOT.vmm, { then: setupDone }) };
}
