/**
 * The hypervisor plugin: virtual machines as a stack layer. Here it defines a
 * VM entry of a stack (profile, vCPUs, memory); the VM's CPU, memory and I/O
 * behaviour arrives with its own issue and uses only `@turtles/engine/plugin`.
 */
import { count, definePlugin, fields, oneOf, unitValue } from "@turtles/engine/plugin";

/** Hypervisor profiles with published calibration (calibration.md, section 1.1 columns). */
export const VM_PROFILES = ["kvm", "firecracker", "cloud-hypervisor"] as const;

export const vmSchema = fields({
  // KVM/QEMU is the calibration baseline for VMs (calibration.md, table 1.1)
  profile: oneOf(VM_PROFILES, "a VM profile").default("kvm"),
  vcpus: count(1, 1024),
  memory: unitValue("size", { above: 0 }),
});

export const hypervisor = definePlugin({ name: "hypervisor", layer: "vm", version: "0.1.0", schema: vmSchema });
