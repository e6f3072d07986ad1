// Embedding the engine in a Node app: the simulation runs in a worker thread,
// the main thread stays free, progress arrives in packs and the results at the end.
//   node node/embed.mjs [scenario.yaml]      (default: the bundled web tier, 1 minute)
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { proxy, wrap } from "comlink";
import { nodeEndpoint } from "@turtles/engine/pool";
import { assembleResults, loadScenario } from "@turtles/engine";
import { decodePack } from "@turtles/engine/worker";
import { baremetal } from "@turtles/plugin-baremetal";
import { container } from "@turtles/plugin-container";
import { hypervisor } from "@turtles/plugin-hypervisor";

const plugins = [baremetal, hypervisor, container];

/** Runs a scenario (YAML text) in a worker thread; resolves to its results (turtles-results/1). */
export async function runInWorker(text, { file = "scenario.yaml", duration, replications, onProgress } = {}) {
  const worker = new Worker(new URL("./engine-worker.mjs", import.meta.url));
  const api = wrap(nodeEndpoint(worker));
  try {
    if (onProgress) await api.subscribe(proxy((pack) => decodePack(pack).forEach(onProgress)));
    await api.load({ scenario: text, file, duration, replications });
    const results = decodePack(await api.run());
    // The main thread assembles them, with the same scenario and overrides the worker ran.
    const s = loadScenario(text, { file, plugins });
    return assembleResults({ ...s, duration: duration ?? s.duration, replications: replications ?? s.replications }, plugins, results);
  } finally {
    await worker.terminate(); // always, or the process never exits
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const file = process.argv[2] ?? join(import.meta.dirname, "..", "..", "..", "examples", "web-tier.yaml");
  // One rewritten line on a terminal; otherwise (a log, a pipe) a line per second at most.
  const tty = process.stderr.isTTY === true;
  let last = -Infinity;
  const results = await runInWorker(readFileSync(file, "utf8"), {
    file,
    duration: process.argv[2] ? undefined : 60,
    onProgress: (p) => {
      if (!tty && Date.now() - last < 1000) return;
      last = Date.now();
      process.stderr.write(`replication ${p.replication + 1}/${p.replications}: ${p.simTime.toFixed(1)} of ${p.end} s${tty ? "\r" : "\n"}`);
    },
  });
  if (tty) process.stderr.write("\n");
  for (const [key, stack] of Object.entries(results.stacks)) {
    for (const [name, s] of Object.entries(stack.services)) {
      console.log(`${key} ${name}: ${s.throughput.toFixed(1)} req/s, mean ${(s.latency.mean * 1000).toFixed(2)} ms, p99 ${(s.latency.p99 * 1000).toFixed(2)} ms`);
    }
  }
}
