// Guest crashes (`failures.vms`): a guest kernel crashes alone and reboots in place, its host and neighbours untouched.
import { loadScenario, runScenario } from "@turtles/engine";
import { baremetal } from "@turtles/plugin-baremetal";
import { describe, expect, it } from "vitest";
import { hypervisor, VM_BOOT } from "./index.js";

const plugins = [baremetal, hypervisor];

describe("guest crashes", () => {
  it("reboot the crashed VM in place: each recovery is the repair plus the VM's boot", async () => {
    const s = loadScenario(
      `duration: 600s
hostTypes: { h: { cores: 8, memory: 64GiB } }
hosts: [{ type: h }]
stacks: { vm: [{ layer: vm, vcpus: 2, memory: 4GiB }] }
failures: { vms: { mtbf: 60s, repair: 5s } }
tenants:
  - name: t
    services:
      - { name: web, stack: vm, replicas: 2, cores: 0, load: { closed: { clients: 2, think: 10ms } }, request: [{ cpu: 1ms }] }
`,
      { plugins },
    );
    const st = (await runScenario(s, plugins)).stacks.vm;
    const web = st.services["t/web"];
    expect(web.restarts as number).toBeGreaterThan(2);
    // Reboot: 5 s of repair, then the VM's boot and its process's start, as at the start of the run (KVM's 244 ms,
    // calibration.md 1.1, and the host's process start): the same for every crash.
    expect(st.lifecycle.ready!.p50).toBeGreaterThanOrEqual(VM_BOOT.kvm.vmm + VM_BOOT.kvm.guest);
    const recovery = 5 + (st.lifecycle.ready!.p50 as number);
    expect(st.lifecycle.recovery!.p50).toBeCloseTo(recovery, 9);
    expect(st.lifecycle.recovery!.p99).toBeCloseTo(recovery, 9);
    // The host never failed: no capacity lost, and the timeline of host failures is empty.
    expect(st.capacityLost).toBe(0);
    expect(st.failures).toEqual([]);
  });
});
