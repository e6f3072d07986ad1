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
 * `node bench/dist/vms.js --solver`: the CPU solver alone on one host of N
 * VMs (N = 4 to 1,000; 2 vCPUs, one process of 2 threads each, looping
 * exp(100 ms) of work; 0.32 cores per VM, the one-host scenario's
 * overcommit), ns per completed thread with the host's virtual time whatever
 * N (`virtualFrom` 1) beside the flat recomputation (Infinity), alternated in
 * one process: where virtual time starts to pay is the solver's
 * `VIRTUAL_FROM`.
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
import { CpuSolver } from "../../dist/cpu/solver.js";
import { Simulation } from "../../dist/kernel/simulation.js";
import { definePlugin } from "../../dist/plugin/define.js";
import { Random } from "../../dist/random/random.js";
import { count, fields } from "../../dist/scenario/fields.js";
import { testHost } from "../../dist/testing/index.js";
import { NodeStore, NONE } from "../../dist/tree/nodes.js";
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

/** ns per completed thread of the solver alone on one host of `vms` VMs, `completions` of them, flat or virtual. */
export function benchVmSolver(vms: number, completions: number, virtualFrom: number): number {
  const sim = new Simulation({ seed: 1 });
  const nodes = new NodeStore();
  const cpu = new CpuSolver(sim, nodes, virtualFrom);
  const rng = Random.fromKey(1, "vm-solver-bench");
  const kind = nodes.kindId("n");
  const host = nodes.add(kind, NONE, NONE, 0);
  cpu.setHost(host, Math.max(1, Math.round(vms * 0.32)), 1);
  let left = completions;
  const done: number = sim.on("done", (leaf) => {
    if (--left > 0) cpu.start(leaf, -0.1 * Math.log(1 - rng.float()), 0.98, done, leaf);
    else sim.stop();
  });
  for (let v = 0; v < vms; v++) {
    const vm = nodes.add(kind, host, 0, 0);
    cpu.setRules(vm, "runnable", 2);
    const proc = nodes.add(kind, vm, 0, 0);
    cpu.setRules(proc, "runnable");
    for (let t = 0; t < 2; t++) cpu.start(proc, -0.1 * Math.log(1 - rng.float()), 0.98, done, proc);
  }
  const t0 = process.hrtime.bigint();
  sim.run();
  return Number(process.hrtime.bigint() - t0) / completions;
}

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const quick = process.argv.includes("--quick");
  const scale = quick ? 0.1 : 1;
  const only = process.argv.find((a) => a in VM_SCENARIOS) as VmScenario | undefined;
  if (process.argv.includes("--solver")) {
    const completions = quick ? 100_000 : 1_000_000;
    for (const vms of [4, 8, 16, 32, 100, 1000]) {
      // Alternated, best of three each, so a drift of the machine favours neither.
      const flat: number[] = [];
      const virtual: number[] = [];
      for (let round = 0; round < 3; round++) {
        flat.push(benchVmSolver(vms, completions, Infinity));
        virtual.push(benchVmSolver(vms, completions, 1));
      }
      const f = Math.min(...flat);
      const v = Math.min(...virtual);
      process.stdout.write(`${JSON.stringify({ vms, flatNs: Number(f.toFixed(1)), virtualNs: Number(v.toFixed(1)), ratio: Number((v / f).toFixed(3)) })}\n`);
    }
  } else if (only) {
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
