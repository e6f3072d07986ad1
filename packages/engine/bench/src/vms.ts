/**
 * `node bench/dist/vms.js [--quick]`: wall time per completed request of the
 * whole model with virtual machines on the CPU (issue "VMs that behave like
 * VMs"), beside SimGrid 3.32's VM model running the same scenarios when
 * Debian's libsimgrid-dev is installed (bench/peers/simgrid_workers.cpp with
 * its VM arguments).
 *
 * - vms-one-host: 100 VMs of 2 vCPUs with 2 closed-loop workers each on one
 *   32-core host (cpuOvercommit 6.25): 200 threads on 32 cores, 320 req/s.
 * - vms-1k-hosts, vms-10k-hosts: 1,000 and 10,000 4-core hosts, each with one
 *   4-vCPU VM of 4 workers: 40 req/s per host.
 * - vms-100k: 100,000 2-vCPU VMs on 10,000 16-core hosts (cpuOvercommit
 *   1.25), one worker each thinking exp(10 s) between 100 ms requests, for 10
 *   simulated minutes: the peak RSS is the figure (target 4 GB).
 *
 * Workers loop `cpu: { exp: 100ms }`. The VM layer is the hypervisor
 * plugin's CPU half (the engine cannot depend on the plugin): weight its
 * runnable vCPUs, cap at its vCPUs, CPU factor 0.98, steal tracked per VM
 * and recorded per VM as the measurement ends. Each scenario runs in its own
 * process (its own peak RSS); one JSON line per scenario and peer.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { definePlugin } from "../../dist/plugin/define.js";
import { count, fields } from "../../dist/scenario/fields.js";
import { testHost } from "../../dist/testing/index.js";
import { buildSimgridPeer, runPeerBinary, timedWorkers, type WorkloadBenchResult } from "./workload.js";

/** The hypervisor plugin's CPU rules and steal per VM (packages/plugin-hypervisor), without its I/O path. */
export const vm = definePlugin({
  name: "bench-vm-cpu",
  layer: "vm",
  version: "1",
  schema: fields({ vcpus: count(1) }),
  setup(api) {
    api.layerRules({
      kernel: true,
      size: (e, parent) => ({ request: { cores: e.vcpus, memory: 0 }, capacity: { cores: e.vcpus, memory: parent.memory } }),
      cpu: (e) => ({ weight: "runnable", cap: e.vcpus }),
      // KVM tuned, Linpack 284.2 / 290.8 (calibration.md, table 1.1)
      path: () => ({ cpuFactor: 0.98 }),
    });
    const base = api.extension("stealBase", "f64");
    const steal = api.metric("steal", { kind: "histogram", unit: "cores" });
    api.hook("create", (ctx, node) => ctx.trackSteal(node));
    api.hook("measure", (ctx, node, end) => {
      if (end === 0) base.data[node] = ctx.steal(node);
      else steal.record(node, ctx.steal(node) - base.data[node]);
    });
  },
});
const plugins = [testHost, vm];

/** Each scenario: hosts, their cores, VMs per host, vCPUs and workers per VM, think time, simulated seconds. */
export const VM_SCENARIOS = {
  "vms-one-host": { hosts: 1, cores: 32, vmsPerHost: 100, vcpus: 2, workers: 2, think: 0, duration: 300, targetUs: 6 },
  "vms-1k-hosts": { hosts: 1000, cores: 4, vmsPerHost: 1, vcpus: 4, workers: 4, think: 0, duration: 30, targetUs: 4 },
  "vms-10k-hosts": { hosts: 10000, cores: 4, vmsPerHost: 1, vcpus: 4, workers: 4, think: 0, duration: 5, targetUs: 4 },
  "vms-100k": { hosts: 10000, cores: 16, vmsPerHost: 10, vcpus: 2, workers: 1, think: 10, duration: 600, targetUs: null },
} as const;
export type VmScenario = keyof typeof VM_SCENARIOS;

/** Requests per second the fluid model gives: each worker's cycle is its think time plus 100 ms at its share of a core, at speed 0.98. */
function expected(c: (typeof VM_SCENARIOS)[VmScenario]): number {
  const threads = c.vmsPerHost * c.workers;
  const perThread = Math.min(1, c.cores / threads, c.vcpus / c.workers) * 0.98;
  return (c.hosts * threads) / (c.think + 0.1 / perThread);
}

export async function benchVms(name: VmScenario, scale = 1): Promise<WorkloadBenchResult> {
  const c = VM_SCENARIOS[name];
  const duration = c.duration * scale;
  const vms = c.hosts * c.vmsPerHost;
  const text = `duration: ${duration}s
placement: { cpuOvercommit: ${(c.vmsPerHost * c.vcpus) / c.cores} }
hostTypes: { h: { cores: ${c.cores}, memory: 64GiB } }
hosts: [{ type: h, count: ${c.hosts} }]
stacks: { vms: [{ layer: vm, vcpus: ${c.vcpus} }] }
tenants:
  - name: bench
    services:
      - { name: workers, stack: vms, replicas: ${vms}, cores: 0, load: { closed: { clients: ${vms * c.workers}, think: ${c.think === 0 ? "0s" : `{ exp: ${c.think}s }`} } }, request: [{ cpu: { exp: 100ms } }] }
`;
  return timedWorkers(name, text, plugins, "vms", expected(c));
}

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const quick = process.argv.includes("--quick");
  const scale = quick ? 0.1 : 1;
  const only = process.argv.find((a) => a in VM_SCENARIOS) as VmScenario | undefined;
  if (only) {
    process.stdout.write(`${JSON.stringify(await benchVms(only, scale))}\n`);
  } else {
    const dir = mkdtempSync(join(tmpdir(), "turtles-simgrid-vms-"));
    try {
      const peer = buildSimgridPeer(dir);
      for (const name of Object.keys(VM_SCENARIOS) as VmScenario[]) {
        const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), name, ...(quick ? ["--quick"] : [])], { encoding: "utf8", maxBuffer: 1 << 20 });
        if (child.status !== 0) throw new Error(child.stderr);
        process.stdout.write(child.stdout);
        if (peer) {
          const c = VM_SCENARIOS[name];
          const seconds = c.duration * scale;
          const args = [c.hosts, c.cores, c.workers, seconds, c.vmsPerHost, c.vcpus, c.think];
          process.stdout.write(`${JSON.stringify(runPeerBinary(peer, name, args, seconds, expected(c)))}\n`);
        }
      }
      if (!peer) process.stdout.write(`${JSON.stringify({ simgrid: "not run: install Debian's libsimgrid-dev to compare" })}\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
