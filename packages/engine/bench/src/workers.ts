/**
 * `node bench/dist/workers.js [--seconds S]`: replications on worker threads.
 * Runs 8 replications of a CPU-bound scenario (1,000 one-core hosts, one
 * closed-loop worker each; each replication about S seconds of wall time,
 * default 10) on 1 worker and on 2 workers and prints the speed-up, then one
 * replication in this thread and on 1 worker and prints the worker overhead.
 * Prints one JSON line.
 */
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadScenario } from "../../dist/scenario/load.js";
import { testHost } from "../../dist/testing/index.js";
import { runScenarioOnWorkers } from "../../dist/worker/pool.js";
import { runScenario } from "../../dist/workload/run.js";

const { values } = parseArgs({ options: { seconds: { type: "string", default: "10" } } });
const target = Number(values.seconds);
// About 1,200 simulated seconds of this model take 10 s of wall time on this machine kind (measured: 600 s in 5.1 s).
const duration = Math.round(120 * target);
const hostModule = pathToFileURL(join(fileURLToPath(new URL(".", import.meta.url)), "..", "..", "dist", "testing", "index.js")).href;
const scenario = (replications: number, seconds: number) =>
  loadScenario(
    `duration: ${seconds}s
replications: ${replications}
hostTypes: { h: { cores: 1, memory: 1GiB } }
hosts: [{ type: h, count: 1000 }]
tenants: [{ name: t, services: [{ name: w, replicas: 1000, load: { closed: { clients: 1000 } }, request: [{ cpu: { exp: 100ms } }] }] }]
`,
    { plugins: [testHost] },
  );

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

const eight = scenario(8, duration);
const one = await time(() => runScenarioOnWorkers(eight, [testHost], { workers: 1, pluginModules: [hostModule] }));
const two = await time(() => runScenarioOnWorkers(eight, [testHost], { workers: 2, pluginModules: [hostModule] }));
const minute = scenario(1, duration * 6);
const inProcess = await time(() => runScenario(minute, [testHost]));
const inWorker = await time(() => runScenarioOnWorkers(minute, [testHost], { workers: 1, pluginModules: [hostModule] }));
process.stdout.write(
  `${JSON.stringify({
    replications: 8,
    secondsOneWorker: one,
    secondsTwoWorkers: two,
    speedup: one / two,
    oneReplicationInProcess: inProcess,
    oneReplicationInWorker: inWorker,
    workerOverhead: inWorker / inProcess - 1,
  })}\n`,
);
