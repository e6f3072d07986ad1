/**
 * `node bench/dist/estimate.js`: the memory estimate (`estimateScenario`)
 * beside what building one replication really takes, the figures behind its
 * constants (scenario/estimate.ts). Each model is built in a child process;
 * it prints the peak RSS the build added (`maxRSS` after the build, less
 * before it) and the JavaScript heap it holds after a GC, against the
 * estimate's `bytes` and `heapBytes`. One JSON line per size; about a minute
 * and up to 2 GB of memory.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { estimateScenario } from "../../dist/scenario/estimate.js";
import { loadScenario } from "../../dist/scenario/load.js";
import { passLayer, testHost } from "../../dist/testing/index.js";
import { ReplicationRun } from "../../dist/workload/run.js";

const SIZES = [
  { hosts: 100_000, replicas: 100_000, layer: false },
  { hosts: 10_000, replicas: 1_000_000, layer: false },
  { hosts: 10_000, replicas: 1_000_000, layer: true },
  { hosts: 1_000_000, replicas: 1_000_000, layer: false },
];

const plugins = [testHost, passLayer("box")];

function scenarioText(hosts: number, replicas: number, layer: boolean): string {
  return `duration: 1s
hostTypes: { h: { cores: 64, memory: 1TiB } }
hosts: [{ type: h, count: ${hosts} }]
stacks: { boxed: [{ layer: box }] }
tenants: [{ name: t, services: [{ name: s, replicas: ${replicas}, cores: 0, stack: ${layer ? "boxed" : "baremetal"}, load: { open: { rate: 1/s } }, request: [{ cpu: 1ms }] }] }]
`;
}

let built: ReplicationRun | undefined;

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const [, , hosts, replicas, layer] = process.argv;
  if (hosts !== undefined) {
    // Child: one build; the RSS it adds and the heap it holds.
    const before = process.resourceUsage().maxRSS * 1024;
    const scenario = loadScenario(scenarioText(Number(hosts), Number(replicas), layer === "1"), { plugins });
    built = new ReplicationRun(scenario, plugins, 0, {}); // held until the heap is measured
    const peak = process.resourceUsage().maxRSS * 1024 - before;
    (globalThis as { gc?: () => void }).gc?.();
    const heap = process.memoryUsage().heapUsed;
    const est = estimateScenario(scenario);
    const mib = (x: number): number => Math.round(x / 2 ** 20);
    process.stdout.write(
      `${JSON.stringify({
        hosts: Number(hosts),
        replicas: Number(replicas),
        layer: layer === "1",
        peakMiB: mib(peak),
        estimateMiB: mib(est.bytes),
        peakOverEstimate: +(peak / est.bytes).toFixed(2),
        heapMiB: mib(heap),
        heapEstimateMiB: mib(est.heapBytes),
      })}\n`,
    );
  } else {
    for (const s of SIZES) {
      const child = spawnSync(process.execPath, ["--expose-gc", fileURLToPath(import.meta.url), String(s.hosts), String(s.replicas), s.layer ? "1" : "0"], {
        encoding: "utf8",
      });
      if (child.status !== 0) throw new Error(child.stderr);
      process.stdout.write(child.stdout);
    }
  }
}
