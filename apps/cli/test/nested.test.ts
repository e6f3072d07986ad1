// Nested virtualization composes through the layers with no special case (issue 16): a container in a VM in a VM
// pays what the VM in a VM pays, and the container's own costs beside, as the built-in plugins give them.
import { loadScenario, runScenario, type StackResults } from "@turtles/engine";
import { NESTED_CPU_FACTOR, NESTED_IO_FACTOR, VMM_BACK_ENDS } from "@turtles/plugin-hypervisor";
import { describe, expect, it } from "vitest";
import { builtinPlugins } from "../src/lib/scenario-file.js";

const STACKS = `
  nested: [{ layer: vm, vcpus: 8, memory: 16GiB }, { layer: vm, vcpus: 4, memory: 8GiB }]
  pods: [{ layer: vm, vcpus: 8, memory: 16GiB }, { layer: vm, vcpus: 4, memory: 8GiB }, { layer: container, cpu: { request: 1 } }]`;

async function run(stack: string, service: string): Promise<StackResults> {
  const s = loadScenario(
    `duration: 4s
warmup: 1s
hostTypes: { h: { cores: 16, memory: 64GiB, disk: { iops: 84044, bandwidth: 2GB/s, queueDepth: 128 } } }
hosts: [{ type: h }]
stacks:${STACKS}
tenants:
  - name: t
    services:
      - { name: s, stack: ${stack}, ${service} }
`,
    { file: "nested.yaml", plugins: builtinPlugins },
  );
  return (await runScenario(s, builtinPlugins, { replications: 1 })).stacks[stack];
}

describe("a container in a VM in a VM", () => {
  it("reads at the VM in a VM's rate: the inner VM's back end in the outer VM at 21.6 us / 0.6 a read holds both", async () => {
    const fio = `load: { closed: { clients: 128, think: { exp: 10us } } }, request: [{ io: { read: 4KiB, random: true } }]`;
    const perRead = VMM_BACK_ENDS.kvm.blk.read.cpu / NESTED_IO_FACTOR;
    for (const stack of ["nested", "pods"]) {
      const r = await run(stack, fio);
      expect(Math.abs((r.services["t/s"].throughput as number) * perRead - 1), stack).toBeLessThan(0.01);
      expect(r.layers.vm.nested, stack).toBe(1);
    }
  });

  it("runs CPU work at both VMs' factors, the nested penalty and runc's 1.00: 10 ms takes 10 / (0.98 x 0.98 x 0.93) ms", async () => {
    const r = await run("pods", `cores: 0, load: { closed: { clients: 1, think: 0s } }, request: [{ cpu: 10ms }]`);
    expect(r.services["t/s"].latency.mean as number).toBeCloseTo(0.01 / (0.98 * 0.98 * NESTED_CPU_FACTOR), 9);
  });
});
