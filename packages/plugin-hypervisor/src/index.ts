/**
 * The hypervisor plugin: virtual machines as a stack layer. A VM entry of a
 * stack (profile, vCPUs, memory) becomes a node that takes its vCPUs and
 * memory from its parent, competes for CPU with the weight of its runnable
 * vCPUs under a cap of its vCPUs, adds its profile's static costs to every
 * path through it, boots as work on its host's cores and disk (boot.ts), and
 * hands each guest I/O and message to its VMM's virtio back-end threads on
 * the host, nested VMs paying more (io-paths.ts: the reason random IOPS halve
 * under KVM while sequential throughput does not). Its guest kernel counts in
 * `kernels`, and it keeps its vCPUs' steal (`trackSteal`), each VM's in
 * `layers.vm.steal` (its `measure` hook reads `ctx.steal`). `weight` scales
 * its shares per runnable vCPU; how many vCPUs a host takes is placement's
 * `cpuOvercommit`.
 *
 * Memory: guest RAM is backed as the guest touches it (`holds: "touched"`):
 * its guest kernel's reservation (`useMemory`) and what its processes use,
 * and a page once touched stays backed, since a guest kernel does not give
 * freed pages back. A VM with `balloon` lets a balloon manager take back what
 * its guest touched and no longer uses: the manager watches the VM's parent
 * (`watchMemory`) and, once its use passes the mark below its memory that the
 * balloon keeps free, inflates the balloons of the VMs below it (`childrenOf`,
 * `reclaimMemory`) at their rate, so a host of idle guests gets its memory
 * back before it swaps; guests that use what they touched leave it nothing,
 * and the host swaps (the bare-metal plugin's `pressure` hook).
 * It live-migrates by pre-copy when a scenario action moves it
 * (migration.ts). It uses only `@turtles/engine/plugin`.
 */
import { count, definePlugin, fields, oneOf, quantity, unitValue, z, type PluginContext } from "@turtles/engine/plugin";
import { bootAsWork } from "./boot.js";
import { ioPaths } from "./io-paths.js";
import { liveMigration } from "./migration.js";

export { bootReadOf, DEFAULT_BOOT_READ, VM_BOOT } from "./boot.js";
export { NESTED_CPU_FACTOR, NESTED_IO_FACTOR, VMM_BACK_ENDS, type BackEndCost, type VmmBackEnds } from "./io-paths.js";
export { DEFAULT_DIRTY_RATE, DEFAULT_DOWNTIME, MAX_ROUNDS } from "./migration.js";

/** Hypervisor profiles with published calibration (calibration.md, section 1.1 columns). */
export const VM_PROFILES = ["kvm", "firecracker", "cloud-hypervisor"] as const;
/** A hypervisor profile's name. */
export type VmProfile = (typeof VM_PROFILES)[number];

export const vmSchema = fields({
  // KVM/QEMU is the calibration baseline for VMs (calibration.md, table 1.1)
  profile: oneOf(VM_PROFILES, "a VM profile").default("kvm"),
  vcpus: count(1, 1024),
  memory: unitValue("size", { above: 0 }),
  // The guest's disk image (issue 16's `image: 2GiB`): copied to a host to start the VM there (results' `portability`).
  // No schema default, so that scenarios written before it keep their normalised form (and scenarioHash).
  image: unitValue("size", { above: 0 }).optional().meta({ description: "bytes of the guest's disk image (default 2GiB)" }),
  // CPU shares per runnable vCPU against other VMs and processes on the host (libvirt's <shares>, relative). Default 1
  // [assumed]: each KVM vCPU is a host thread of CFS's default weight, as a process thread (DESIGN.md: a VM weighs its
  // runnable vCPUs); calibration.md has no measurement of shares. Applied in `cpu`, so older scenarios keep their hash.
  weight: quantity({ above: 0, max: 10_000, smallest: 1e-3 }).optional().meta({ description: "CPU shares per runnable vCPU relative to other VMs (default 1)" }),
  // Optional, so that scenarios written before it keep their normalised form (and scenarioHash).
  balloon: z
    .union([
      z.boolean(),
      fields({
        rate: unitValue("byteRate", { above: 0 }).optional().meta({ description: "bytes a second the balloon takes back (default 256MiB/s)" }),
        free: quantity({ min: 0, max: 0.9, smallest: 0.001 }).optional().meta({ description: "share of its parent's memory the balloon manager keeps free (default 0.1; the oldest balloon VM on a host sets it)" }),
      }),
    ], { error: "expected true, false or { rate, free } (e.g. { rate: 256MiB/s, free: 0.1 })" })
    .optional()
    .meta({ description: "a balloon: true, or { rate, free }; takes back guest memory the guest touched and no longer uses, before the host swaps" }),
  // Live migration (migration.ts); no schema defaults, for the same reason as `image`.
  downtime: unitValue("duration", { above: 0 }).optional().meta({ description: "longest stop-and-copy a live migration aims for (default 300ms)" }),
  // Optional with the default applied by the plugin, as `image`: scenarios written before keep their normalised form.
  bootRead: unitValue("size", { min: 0 })
    .optional()
    .meta({ description: "bytes of its image the VM reads from the host's disk as it boots (default 16MiB, at most the image)" }),
  nestedIo: quantity({ above: 0, max: 1, smallest: 0.001 })
    .optional()
    .meta({ description: "nested I/O factor of a VM inside a VM: its I/O and network costs are divided by it (default 0.6, low confidence)" }),
});

/**
 * Bytes a balloon takes back a second when its entry gives none: 256 MiB/s [assumed]. calibration.md has no
 * measurement of balloon inflation; a guest driver inflates by allocating pages and reporting them in batches of
 * 256 (1 MiB with 4 KiB pages), each batch a host exit and an madvise, so a few hundred MB/s is the order expected.
 */
export const DEFAULT_BALLOON_RATE = 256 * 2 ** 20;

/**
 * Share of a host's memory the balloon manager keeps free when the entry gives none: 10 % [assumed]. calibration.md
 * has no measurement; the manager must start before the host is full, by at least what guests touch while a balloon
 * inflates (a 64 GiB host: 6.4 GiB, 25 s of inflation at the default rate).
 */
export const DEFAULT_BALLOON_FREE = 0.1;

/**
 * Seconds between the balloon manager's looks at a parent still short with nothing to take back: 1 s [assumed]
 * (a manager samples guests' free memory on an interval; calibration.md has none). Only while short: no timer
 * otherwise.
 */
export const BALLOON_RECHECK = 1;

/**
 * Bytes of guest RAM a guest kernel of `memory` bytes reserves for itself (page tables, kernel image, slab, struct
 * pages): 16 MiB at a 128 MiB guest and 206 MiB at an 8 GiB guest (calibration.md, 1.1 "guest kernel reserves" and
 * caveat 5(b)) [A], linear between and beyond [derived]: 13.0 MiB + 2.36 % of guest memory, at most all of it.
 */
export function guestKernelReservation(memory: number): number {
  const slope = (206 - 16) / (8192 - 128);
  return Math.min(memory, Math.max(0, 16 * MiB + (memory - 128 * MiB) * slope));
}

/**
 * Bytes of a guest disk image when the entry gives none: 2 GiB, the size issue 16's example gives (`image: 2GiB`),
 * about the virtual disk of a stock cloud image such as Ubuntu Server's [assumed]: calibration.md has no measurement
 * of guest images. One guest OS image per profile and size is counted in `images`.
 */
export const DEFAULT_GUEST_IMAGE = 2 * 2 ** 30;

const MiB = 2 ** 20;

/** Static per-path effects of one VM, by profile (calibration.md, table 1.1); its boot is `VM_BOOT`, its I/O `VMM_BACK_ENDS`. */
export const VM_PROFILE_DEFAULTS = {
  // KVM/QEMU tuned: Linpack 284.2 / 290.8 GFLOPS = 0.98 [A]; QEMU maps ~131 MiB beyond guest RAM [A];
  // +30 us per network round trip (TCP_RR 67.9 vs 37.6 us) [A], one way half.
  kvm: { cpuFactor: 0.98, memoryOverhead: 131 * MiB, netOneWay: 15e-6 },
  // Firecracker: CPU factor > 0.95 (SPECIFICATION) [P]; 2.5 MiB extra mapped data [A];
  // +60 us per ping round trip [P], one way half.
  firecracker: { cpuFactor: 0.95, memoryOverhead: 2.5 * MiB, netOneWay: 30e-6 },
  // Cloud Hypervisor: no measurement in calibration.md; assumed equal to KVM/QEMU [assumed].
  "cloud-hypervisor": { cpuFactor: 0.98, memoryOverhead: 131 * MiB, netOneWay: 15e-6 },
} as const;

export const hypervisor = definePlugin({
  name: "hypervisor",
  layer: "vm",
  version: "0.1.0",
  schema: vmSchema,
  setup(api) {
    api.layerRules({
      kernel: true, // a guest OS kernel someone must keep patched
      // Guest RAM is backed as the guest touches it, and stays backed (a guest kernel keeps freed pages); placement
      // still counts the whole guest RAM (`memoryOvercommit` bounds how far it may exceed the host's).
      holds: "touched",
      // A VM takes its vCPUs and memory from its parent and offers them to its guests.
      size: (vm) => ({ request: { cores: vm.vcpus, memory: vm.memory }, capacity: { cores: vm.vcpus, memory: vm.memory } }),
      // DESIGN.md: a VM weighs its runnable vCPUs (each vCPU is a host thread), `weight` each, capped at its vCPUs.
      cpu: (vm) => ({ weight: vm.weight === undefined ? "runnable" : { runnable: vm.weight }, cap: vm.vcpus }),
      // Every VM boots a guest OS image of its profile: VMs of one profile and image size share it.
      image: (vm) => {
        const bytes = vm.image ?? DEFAULT_GUEST_IMAGE;
        return { name: `${vm.profile} guest ${bytes} B`, bytes };
      },
      path: (vm) => {
        const d = VM_PROFILE_DEFAULTS[vm.profile];
        return { cpuFactor: d.cpuFactor, memoryOverhead: d.memoryOverhead, latency: { net: d.netOneWay } };
      },
    });
    const reclaimed = api.metric("balloonReclaimed", {
      kind: "counter",
      unit: "B",
      per: "host",
      show: true,
      description: "guest memory balloons took back for their hosts",
    });
    // The balloon manager's state, on the node whose VMs it inflates (a host, or a VM holding VMs): 1 while a
    // balloon inflates or the manager waits to look again (so one chain of events at a time), and the bytes that
    // inflation takes back.
    const inflating = api.extension("balloonInflating", "i32", 0);
    const planned = api.extension("balloonPlanned", "f64", 0);
    const rateOf = (b: VmEntry["balloon"]): number => (typeof b === "object" ? b.rate : undefined) ?? DEFAULT_BALLOON_RATE;
    const freeOf = (b: VmEntry["balloon"]): number => (typeof b === "object" ? b.free : undefined) ?? DEFAULT_BALLOON_FREE;

    /** The VMs with a balloon below `parent`, oldest first, and what each could give back now. */
    const balloonsBelow = (ctx: PluginContext<VmEntry>, parent: number): { vm: number; spare: number; rate: number }[] =>
      ctx
        .childrenOf(parent)
        .reverse()
        .filter((c) => ctx.layerOf(c) === api.layer && ctx.entry(c).balloon)
        .map((vm) => ({ vm, spare: Math.max(0, ctx.memoryHeld(vm) - ctx.memoryUsed(vm)), rate: rateOf(ctx.entry(vm).balloon) }));

    /** Takes `bytes` from the balloons below `parent`, oldest VM first; calls `take(vm, bytes, rate)` for each share. */
    const share = (ctx: PluginContext<VmEntry>, parent: number, bytes: number, take: (vm: number, b: number, rate: number) => void): void => {
      for (const b of balloonsBelow(ctx, parent)) {
        if (!(bytes > 0)) return;
        const x = Math.min(bytes, b.spare);
        if (x > 0) take(b.vm, x, b.rate);
        bytes -= x;
      }
    };

    /** If `parent` uses more than its mark, inflates balloons below it by what it needs (or what they can give). */
    const inflate = (ctx: PluginContext<VmEntry>, parent: number): void => {
      const need = ctx.memoryUsed(parent) - mark(ctx, parent);
      if (!(need > 0)) return;
      let seconds = 0;
      let bytes = 0;
      share(ctx, parent, need, (_vm, x, rate) => {
        seconds += x / rate;
        bytes += x;
      });
      // Nothing to take back yet (the guests use what they touched): look again later, while the parent stays short.
      inflating.data[parent] = 1;
      if (bytes === 0) {
        ctx.schedule(recheck, BALLOON_RECHECK, parent);
        return;
      }
      planned.data[parent] = bytes;
      ctx.schedule(inflated, seconds, parent);
    };
    /** The use above which the manager inflates: the parent's memory less the share the balloons keep free. */
    const mark = (ctx: PluginContext<VmEntry>, parent: number): number => {
      const first = balloonsBelow(ctx, parent)[0];
      return ctx.memoryLimit(parent) * (1 - (first ? freeOf(ctx.entry(first.vm).balloon) : DEFAULT_BALLOON_FREE));
    };

    const short = api.event("balloonShort", (ctx, parent, over) => {
      if (over === 1 && inflating.data[parent] === 0) inflate(ctx, parent);
    });
    const recheck = api.event("balloonRecheck", (ctx, parent) => {
      inflating.data[parent] = 0;
      inflate(ctx, parent);
    });
    const inflated = api.event("balloonInflated", (ctx, parent) => {
      inflating.data[parent] = 0;
      const host = ctx.hostOf(parent);
      share(ctx, parent, planned.data[parent], (vm, x) => reclaimed.add(host, ctx.reclaimMemory(vm, x)));
      planned.data[parent] = 0;
      inflate(ctx, parent);
    });

    // Per VM over the measured time it lived: its steal then, and when that time began.
    const stealBase = api.extension("stealBase", "f64");
    const stealSince = api.extension("stealSince", "f64");
    const steal = api.metric("steal", {
      kind: "histogram",
      unit: "cores",
      show: true,
      description: "steal of each VM: core-seconds a second its vCPUs were runnable but not running, over the measured time",
    });
    // Steal as the guest's `st` counter defines it (calibration.md 2.10, "Steal time" [S]): runnable, not running.
    api.hook("create", (ctx, vm) => {
      const e = ctx.entry(vm);
      // Steal: the VM's vCPUs are host threads; time they are runnable but not running is the guest's steal.
      ctx.trackSteal(vm);
      // The guest kernel's own reservation is the first memory the guest touches.
      ctx.useMemory(vm, guestKernelReservation(e.memory));
      // The balloon manager of the VM's parent: it acts once the parent's use passes its mark.
      if (e.balloon) {
        const parent = ctx.parentOf(vm);
        // The first balloon below a parent (again, after its host failed: its pending events went with it) starts afresh.
        if (balloonsBelow(ctx, parent).length === 1) {
          inflating.data[parent] = 0;
          planned.data[parent] = 0;
        }
        ctx.watchMemory(parent, mark(ctx, parent), short);
      }
      stealSince.data[vm] = ctx.now;
    });
    api.hook("measure", (ctx, vm, end) => {
      if (end === 0) {
        stealBase.data[vm] = ctx.steal(vm);
        stealSince.data[vm] = ctx.now;
        return;
      }
      // A VM that lived part of the measured time counts at its rate while it lived; one gone before the end is not
      // in the histogram (its steal stays in hosts.steal).
      const lived = ctx.now - stealSince.data[vm];
      if (lived > 0) steal.record(vm, (ctx.steal(vm) - stealBase.data[vm]) / lived);
    });
    liveMigration(api);
    // Its boot is work on the host (it provisions its nodes itself), its I/O goes through its VMM's back ends.
    bootAsWork(api);
    ioPaths(api, (profile) => VM_PROFILE_DEFAULTS[profile].netOneWay);
  },
});

/** A VM's stack entry, as the schema normalises it. */
type VmEntry = z.output<typeof vmSchema>;
