/**
 * Boot as work (issue 16). A VM's boot is first its VMM's setup, CPU on one thread beside the VM on its parent (the
 * VMM process starting and configuring the machine), then, together, its guest kernel's boot, CPU on one of its vCPUs,
 * and the reads of its boot set from the host's disk; the VM is ready when both are done. Each part is a resource
 * request of the plugin API (`ctx.work`, `ctx.io`, each firing a plugin event when served), so VMs booting together
 * on a host share its cores and its disk: a boot storm's ready times grow with the number of VMs starting, and a busy
 * host boots slowly, though only one boot's parts are typed in.
 *
 * Calibration: on an idle host of nominal speed whose disk reads the boot set within the guest kernel's part, one boot
 * alone takes its profile's cited boot time (calibration.md 1.1), split as `VM_BOOT` says. A faster host boots faster
 * (the parts are nominal core-seconds); a disk too slow for the boot set makes the boot wait for it. A host without a
 * disk is read nothing (its images are wherever its processes' are). Signals used: `provision` (the boot starts once
 * the VM's parent is ready, again at each restart), plugin events (each part's end), `setReady`.
 */
import type { PluginSetup } from "@turtles/engine/plugin";
import type { VmProfile } from "./index.js";

const MiB = 2 ** 20;

/** One boot's CPU, by profile: nominal core-seconds of VMM setup on the host, then of guest kernel on a vCPU. */
export const VM_BOOT: Readonly<Record<VmProfile, { readonly vmm: number; readonly guest: number }>> = {
  // KVM/QEMU: 244 ms p50 with QEMU's default firmware (1 vCPU, 256 MiB, linuxkit kernel) [A]. QEMU's own setup is not
  // measured apart in calibration.md: Firecracker's 51 ms VMM part is taken for it [assumed]; the guest's part is the
  // rest, 193 ms [derived], of which about 30 ms is the firmware (QEMU with qboot boots in 214 ms [A]).
  kvm: { vmm: 0.051, guest: 0.193 },
  // Firecracker: 110 ms p50 from InstanceStart to /sbin/init as Firecracker reports it: the guest's part [A]; 161 ms
  // wall including its process start and API configuration [A]: the VMM's part is the 51 ms between [derived].
  firecracker: { vmm: 0.051, guest: 0.11 },
  // Cloud Hypervisor: no measurement in calibration.md; as KVM/QEMU [assumed].
  "cloud-hypervisor": { vmm: 0.051, guest: 0.193 },
};

/**
 * Bytes of its image a VM reads from the host's disk while its guest kernel boots, when its entry gives no `bootRead`
 * (and at most its image): 16 MiB [assumed]: calibration.md has no measurement of what a boot reads; a minimal guest's
 * compressed kernel and initramfs are some MiB to some tens of MiB. A disk reading at least 16 MiB / 110 ms = 153 MB/s
 * keeps one boot alone at its cited time for every profile.
 */
export const DEFAULT_BOOT_READ = 16 * MiB;

/** The fields of a VM entry a boot reads. */
interface BootEntry {
  profile: VmProfile;
  image?: number;
  bootRead?: number;
}

/** Bytes a VM's boot reads from its host's disk: its `bootRead`, else the default boot read set, at most its image. */
export function bootReadOf(vm: BootEntry): number {
  return vm.bootRead ?? Math.min(DEFAULT_BOOT_READ, vm.image ?? Infinity);
}

/** Registers a VM's boot as work: its VMM thread and guest boot thread (create), the boot (provision) and its parts. */
export function bootAsWork(api: PluginSetup<BootEntry>): void {
  const vmm = api.extension("vmm", "i32", -1);
  const guest = api.extension("guestBoot", "i32", -1);
  // Parts of the boot still under way once the VMM's setup is done: the guest kernel, and the read if there is one.
  const pending = api.extension("bootPending", "i32");
  const partDone = api.event("boot-part-done", (ctx, vm) => {
    if (--pending.data[vm] === 0) ctx.setReady(vm);
  });
  const setupDone = api.event("boot-setup-done", (ctx, vm) => {
    const bytes = bootReadOf(ctx.entry(vm));
    const reads = bytes > 0 && ctx.hostRules(vm).disk !== undefined;
    pending.data[vm] = reads ? 2 : 1;
    ctx.work(guest.data[vm], VM_BOOT[ctx.entry(vm).profile].guest, { then: partDone });
    if (reads) ctx.io(ctx.hostOf(vm), bytes, { then: partDone });
  });
  api.hook("create", (ctx, vm) => {
    // The VMM's thread is on the VM's parent (a host's core, or an outer VM's vCPU); the guest's boot on a vCPU.
    // (Each id is stored after its call: adding a node may replace the columns' arrays.)
    const setup = ctx.addAuxiliary(ctx.parentOf(vm), "vmm", 0, 1);
    const kernel = ctx.addAuxiliary(vm, "guest-boot", 0, 1);
    vmm.data[vm] = setup;
    guest.data[vm] = kernel;
  });
  api.hook("provision", (ctx, vm) => ctx.work(vmm.data[vm], VM_BOOT[ctx.entry(vm).profile].vmm, { then: setupDone }));
}
