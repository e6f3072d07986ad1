/**
 * `node bench/dist/containers.js [--quick]`: the container benchmark of issue "Containers that behave like
 * containers": 1,000,000 bridged containers in 100,000 VMs on 10,000 hosts, 10 simulated minutes of open-loop load at
 * 100,000 requests/s in total (`--quick`: a tenth of every count, the rate and the simulated time). Prints one JSON
 * line: the model build's and the run's wall seconds, kernel events per wall second and the process's peak RSS,
 * beside the targets (build and run under 10 minutes, peak RSS under 8 GB, on the 2-core machine of the issue).
 *
 * Each host (16 cores, a 10 Gb/s NIC) holds 10 VMs of 2 vCPUs (cpuOvercommit 1.25, as vms-100k), each VM 10
 * containers (`per: replica`) of one service of `cores: 0`; every request enters through its host's NIC (1 KiB in,
 * 4 KiB out) and does exp(1 ms) of CPU. The container layer is the container plugin's CPU rule and its bridge
 * (packages/plugin-container/src/network.ts): each message end of a container charges its VM kernel's shared softirq
 * path (an auxiliary node, waited for) and adds the bridge's latency. Copied here rather than imported because the
 * engine's bench is built before the plugins (turbo's `^build`), as vms.ts copies the VM's CPU half; the constants are
 * the plugin's `BRIDGE` figures.
 */
import { fileURLToPath } from "node:url";
import { definePlugin } from "../../dist/plugin/define.js";
import { loadScenario } from "../../dist/scenario/load.js";
import { fields } from "../../dist/scenario/fields.js";
import { testHost } from "../../dist/testing/index.js";
import { ReplicationRun } from "../../dist/workload/run.js";
import { vm } from "./vms.js";

// The container plugin's BRIDGE (network.ts): 5.56 us of softirq CPU and 3.14 us of latency per message end, one core.
const BRIDGE_CPU = 1 / (2 * 90_000);
const BRIDGE_LATENCY = (78.3e-6 - 60.9e-6) / 2 - BRIDGE_CPU;

/** A runc container on a bridge: cgroup weight 1, no limit, the VM kernel's softirq path per message end. */
const container = definePlugin({
  name: "bench-container",
  layer: "container",
  version: "1",
  schema: fields({}),
  setup(api) {
    const softirq = api.extension("softirq", "i32", -1);
    const waited = { wait: true };
    api.layerRules({
      // A tenth of its VM's vCPUs reserved, so that placement packs ten containers into each VM (`per: tenant`).
      size: (_e, parent) => ({ request: { cores: parent.cores / CONTAINER_CASE.containersPerVm, memory: 0 }, capacity: { cores: parent.cores, memory: parent.memory } }),
      cpu: () => ({ weight: 1 }),
      // runc: 33.4 ms per start (calibration.md, table 1.1)
      path: () => ({ provisioning: 0.0334 }),
    });
    api.hook("create", (ctx, node) => {
      const path = ctx.sharedAuxiliary(ctx.kernelOf(ctx.parentOf(node)), "softirq", 0, 1);
      softirq.data[node] = path; // after the call: adding a node may replace the column's array
    });
    api.hook("net", (ctx, node) => {
      ctx.charge(softirq.data[node], BRIDGE_CPU, waited);
      return ctx.delay(BRIDGE_LATENCY);
    });
  },
});
const plugins = [testHost, vm, container];

/** The case; `--quick` divides the counts, the rate and the duration by 10. */
export const CONTAINER_CASE = { hosts: 10_000, vmsPerHost: 10, containersPerVm: 10, rate: 100_000, duration: 600 } as const;
/** The targets: wall seconds of build and run together, and peak RSS in bytes. */
export const CONTAINER_TARGETS = { seconds: 600, rss: 8e9 } as const;

/** One run of the container benchmark: its figures beside the targets. */
export interface ContainerBenchResult {
  scenario: string;
  hosts: number;
  vms: number;
  containers: number;
  buildSeconds: number;
  runSeconds: number;
  events: number;
  eventsPerSecond: number;
  completed: number;
  throughput: number;
  expectedThroughput: number;
  maxRss: number;
  targets: { seconds: number; rss: number; met: boolean };
}

/** Builds and runs the case scaled by `scale` (1: the issue's; 0.1: `--quick`) in this process. */
export function benchContainers(scale = 1): ContainerBenchResult {
  const c = CONTAINER_CASE;
  const hosts = Math.round(c.hosts * scale);
  const containers = hosts * c.vmsPerHost * c.containersPerVm;
  const rate = c.rate * scale;
  const duration = c.duration * scale;
  const text = `duration: ${duration}s
placement: { cpuOvercommit: 1.25 }
hostTypes: { h: { cores: 16, memory: 64GiB, nic: { bandwidth: 10Gb/s, latency: 10us } } }
hosts: [{ type: h, count: ${hosts} }]
stacks: { k8s: [{ layer: vm, per: tenant, vcpus: 2 }, { layer: container, per: replica }] }
tenants:
  - name: bench
    services:
      - { name: web, stack: k8s, replicas: ${containers}, cores: 0, threads: 4, load: { open: { rate: ${rate}/s } }, ingress: { request: 1KiB, response: 4KiB }, request: [{ cpu: { exp: 1ms } }] }
`;
  const scenario = loadScenario(text, { plugins });
  const t0 = process.hrtime.bigint();
  const run = new ReplicationRun(scenario, plugins, 0, {});
  const t1 = process.hrtime.bigint();
  while (!run.advance(1_000_000, 1_000)) {}
  const t2 = process.hrtime.bigint();
  const result = run.result();
  // A bench that placed less than it says would time a smaller model: refuse it.
  if (result.unplaced.length > 0) throw new Error(`containers bench: replicas left unplaced: ${result.unplaced[0].reason}`);
  const svc = result.stack.services["bench/web"];
  const buildSeconds = Number(t1 - t0) / 1e9;
  const runSeconds = Number(t2 - t1) / 1e9;
  const maxRss = process.resourceUsage().maxRSS * 1024;
  return {
    scenario: scale === 1 ? "containers-1m" : `containers-1m x ${scale}`,
    hosts,
    // Counted in the model, not from the case: a kernel per host and per VM.
    vms: (result.stack.kernels as number) - hosts,
    containers, // all placed (checked above)
    buildSeconds,
    runSeconds,
    events: run.events,
    eventsPerSecond: run.events / runSeconds,
    completed: svc.completed as number,
    throughput: svc.throughput as number,
    expectedThroughput: rate,
    maxRss,
    targets: { ...CONTAINER_TARGETS, met: buildSeconds + runSeconds < CONTAINER_TARGETS.seconds && maxRss < CONTAINER_TARGETS.rss },
  };
}

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) process.stdout.write(`${JSON.stringify(benchContainers(process.argv.includes("--quick") ? 0.1 : 1))}\n`);
