/**
 * Per-VMM I/O paths and nested virtualization (issue 16).
 *
 * Each profile has its own virtio-blk and virtio-net back end: host threads beside the VM (KVM: an I/O thread and a
 * vhost-net thread; Firecracker: its one VMM emulation thread, which serves its block and network devices both). Each
 * guest I/O is charged to the block back end, each message end (sent or received) to the network back end, with
 * `wait: true`: the operation goes on once its back end has served it, and takes the back end's added latency too.
 * Costs are per operation, reads and writes apart (an I/O), or per byte (a message). So a back end that saturates
 * holds the VM's IOPS or network throughput and adds its queue to their latency, under load and not before.
 * Firecracker's block back end is serial besides (its charge is `serial`): its thread does each guest I/O to the end,
 * device and latency included, before it takes the next, so I/Os issued together complete one lone I/O's time apart
 * and its IOPS at queue depth are those at depth 1 (calibration.md caveat 4: QD32 reads at 0.04 of native).
 *
 * Nested virtualization: in a VM inside a VM, the inner VM's back ends run in the outer VM (its VMM is the outer
 * guest's process), and each of its exits goes through the outer level first; its per-operation costs (back-end CPU
 * and added latency, network latency included) are divided by the nested I/O factor (`nestedIo`), and its CPU work
 * runs `1 / NESTED_CPU_FACTOR` times slower (`setSlowdown`, which composes: a container in it is slowed alike). The
 * nested factor is a low-confidence default, so results count such VMs in `layers.vm.nested`.
 *
 * Signals used: `create` (back-end threads, nesting), `io` and `net` operation hooks (charge with wait, delay).
 */
import type { PluginSetup } from "@turtles/engine/plugin";
import type { VmProfile } from "./index.js";

/**
 * What a block back end costs an I/O: nominal core-seconds on its thread, and its latency factor: a lone I/O takes
 * `latencyFactor` times what it takes natively on the host's disk (its latency and device time), the thread's time
 * included (the rest is added as a delay).
 */
export interface BackEndCost {
  readonly cpu: number;
  readonly latencyFactor: number;
}

/** A VMM's virtio back ends. */
export interface VmmBackEnds {
  readonly blk: { readonly read: BackEndCost; readonly write: BackEndCost };
  /** Nominal core-seconds per byte of each message end the network back end handles. */
  readonly netCpuPerByte: number;
  /** True when one thread serves both devices (Firecracker's VMM thread); else each has its own. */
  readonly oneThread: boolean;
  /** True when the block back end serves one I/O at a time to its end (Firecracker's); else its I/Os overlap on the disk. */
  readonly serialBlk: boolean;
}

// Felter et al. (calibration.md 1.1, 1.2), fio 4 KiB random I/O: KVM reached 0.55 of native read IOPS and 0.53 of
// native write IOPS at QD128 (84,044 read IOPS native) [A], while sequential throughput stayed at 0.99: a per-request
// cost on one thread. Serialising requests at 1 / (0.55 x 84,044) = 21.6 us each reproduces the read cap [derived];
// writes likewise at 0.53, taking the native write IOPS as the read's (calibration.md gives only the ratio) [assumed].
const KVM_READ_CPU = 1 / (0.55 * 84_044);
const KVM_WRITE_CPU = 1 / (0.53 * 84_044);
// KVM's disk latency at queue depth (Felter, mean completion latency at QD16): reads 2.4x native (633 vs 260.5 us),
// writes 4.0x (831 vs 207 us) [A]. Applied to each I/O's unqueued native time; queueing comes from the back-end thread
// and the disk themselves.
const KVM_BLK = { read: { cpu: KVM_READ_CPU, latencyFactor: 633 / 260.5 }, write: { cpu: KVM_WRITE_CPU, latencyFactor: 831 / 207 } };
// Firecracker's network emulation: up to 14.5 Gb/s at no more than 80% of one emulation core (SPECIFICATION) [P],
// so 0.8 core-s per 14.5 Gb [derived]; its measured host-guest iperf3 15.6 Gb/s [A] is that thread near saturation.
const FIRECRACKER_NET_PER_BYTE = 0.8 / (14.5e9 / 8);

/** Each profile's virtio back ends. */
export const VMM_BACK_ENDS: Readonly<Record<VmProfile, VmmBackEnds>> = {
  kvm: {
    blk: KVM_BLK,
    // vhost-net: calibration.md has no per-byte cost of it; Firecracker's is taken [assumed]. It keeps KVM's bulk
    // throughput at 0.99 of native on 10 GbE (Felter [A]): the thread is then 55% busy.
    netCpuPerByte: FIRECRACKER_NET_PER_BYTE,
    oneThread: false,
    serialBlk: false,
  },
  firecracker: {
    // Its block back end is serial (calibration.md caveat 4: NSDI'20 QD32 reads at 0.04 of native, "no parallel block
    // I/O then"): the one VMM thread serves it, between its network work. Latency: p99 at QD1, reads 1.50x native,
    // writes 1.94x (NSDI'20) [A]. Its per-request CPU has no absolute measurement in calibration.md: KVM's [assumed].
    blk: { read: { cpu: KVM_READ_CPU, latencyFactor: 1.5 }, write: { cpu: KVM_WRITE_CPU, latencyFactor: 1.94 } },
    netCpuPerByte: FIRECRACKER_NET_PER_BYTE, // the tap path's emulation (SPECIFICATION) [P, derived above]
    oneThread: true,
    serialBlk: true,
  },
  // Cloud Hypervisor: no measurement in calibration.md; as KVM/QEMU [assumed] until cited.
  "cloud-hypervisor": {
    blk: KVM_BLK,
    netCpuPerByte: FIRECRACKER_NET_PER_BYTE,
    oneThread: false,
    serialBlk: false,
  },
};

/**
 * The nested I/O factor's default: an inner VM's I/O and network costs are divided by it. 0.6, the middle of the
 * 0.3-0.9 range calibration.md 1.2 recommends for it [assumed: no measurement fixes it; Turtles' 6-8% with
 * multi-level device assignment and DVH's "many times worse" bound it, caveat 6]. Results are sensitive to it.
 */
export const NESTED_IO_FACTOR = 0.6;

/** Throughput factor of CPU work in a VM inside a VM, on top of its profile's: 0.93, Turtles' "within 6-8% of single-level" [P]. */
export const NESTED_CPU_FACTOR = 0.93;

/** The fields of a VM entry its I/O paths read. */
interface IoEntry {
  profile: VmProfile;
  nestedIo?: number;
}

/** Registers the VMs' back-end threads, their io and net hooks, and nesting. `netOneWay`: each profile's static net latency. */
export function ioPaths(api: PluginSetup<IoEntry>, netOneWay: (profile: VmProfile) => number): void {
  const blk = api.extension("blkThread", "i32", -1);
  const serialBlk = api.extension("blkSerial", "i32", 0);
  const net = api.extension("netThread", "i32", -1);
  // Per VM, its costs with nesting applied (no lookup per operation).
  const readCpu = api.extension("readCpu", "f64");
  const readExtra = api.extension("readLatencyExtra", "f64");
  const writeCpu = api.extension("writeCpu", "f64");
  const writeExtra = api.extension("writeLatencyExtra", "f64");
  // The host's disk, for an I/O's native time (none: 0 bandwidth).
  const diskLatency = api.extension("diskLatency", "f64");
  const diskIops = api.extension("diskIops", "f64");
  const diskBandwidth = api.extension("diskBandwidth", "f64");
  const multiplier = api.extension("nestedMultiplier", "f64", 1);
  const netPerByte = api.extension("netCpuPerByte", "f64");
  const netExtra = api.extension("netExtraLatency", "f64");
  const nested = api.metric("nested", {
    kind: "gauge",
    unit: "VMs",
    description: "VMs inside a VM: their I/O and network costs rest on the nested I/O factor (nestedIo), a low-confidence default (calibration.md 1.2, caveat 6)",
  });
  const waited = { wait: true };
  const waitedInTurn = { wait: true, serial: true };
  api.hook("create", (ctx, vm) => {
    const e = ctx.entry(vm);
    const b = VMM_BACK_ENDS[e.profile];
    const parent = ctx.parentOf(vm);
    // (Each id is stored after its call: adding a node may replace the columns' arrays.)
    const blkThread = ctx.addAuxiliary(parent, b.oneThread ? "vmm-io" : "iothread", 0, 1);
    const netThread = b.oneThread ? blkThread : ctx.addAuxiliary(parent, "vhost-net", 0, 1);
    blk.data[vm] = blkThread;
    serialBlk.data[vm] = b.serialBlk ? 1 : 0;
    net.data[vm] = netThread;
    const disk = ctx.hostRules(vm).disk;
    diskLatency.data[vm] = disk?.latency ?? 0;
    diskIops.data[vm] = disk?.iops ?? 0;
    diskBandwidth.data[vm] = disk?.bandwidth ?? 0;
    let inVm = false;
    for (let p = parent; p !== -1 && !inVm; p = ctx.parentOf(p)) inVm = ctx.layerOf(p) === "vm";
    const m = inVm ? 1 / (e.nestedIo ?? NESTED_IO_FACTOR) : 1;
    multiplier.data[vm] = m;
    readCpu.data[vm] = b.blk.read.cpu * m;
    readExtra.data[vm] = b.blk.read.latencyFactor - 1;
    writeCpu.data[vm] = b.blk.write.cpu * m;
    writeExtra.data[vm] = b.blk.write.latencyFactor - 1;
    netPerByte.data[vm] = b.netCpuPerByte * m;
    // The profile's static one-way latency is in the path; nesting adds the rest of it.
    netExtra.data[vm] = netOneWay(e.profile) * (m - 1);
    if (inVm) {
      ctx.setSlowdown(vm, 1 / NESTED_CPU_FACTOR);
      nested.set(vm, 1);
    }
  });
  api.hook("io", (ctx, vm, op) => {
    const cpu = op.write ? writeCpu.data[vm] : readCpu.data[vm];
    ctx.charge(blk.data[vm], cpu, serialBlk.data[vm] === 1 ? waitedInTurn : waited);
    // The lone I/O's native time on the host's disk (as the disk model costs it), stretched by the latency factor;
    // the thread's own time is part of that stretch.
    const bandwidth = diskBandwidth.data[vm];
    if (bandwidth === 0) return;
    const device = op.random ? Math.max(1 / diskIops.data[vm], op.amount / bandwidth) : op.amount / bandwidth;
    const extra = (op.write ? writeExtra.data[vm] : readExtra.data[vm]) * (diskLatency.data[vm] + device) * multiplier.data[vm] - cpu;
    if (extra > 0) return ctx.delay(extra);
  });
  api.hook("net", (ctx, vm, op) => {
    if (op.amount > 0) ctx.charge(net.data[vm], op.amount * netPerByte.data[vm], waited);
    if (netExtra.data[vm] > 0) return ctx.delay(netExtra.data[vm]);
  });
}
