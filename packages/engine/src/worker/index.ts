/**
 * `@turtles/engine/worker`: run a scenario's replications on a pool of
 * workers. Replication r's result depends only on the scenario, its seed and
 * r, and results are assembled in replication order, so the output is
 * byte-identical whatever the number of workers.
 */
import { Worker } from "node:worker_threads";
import { wrap, type Remote } from "comlink";
import nodeEndpoint from "comlink/dist/esm/node-adapter.mjs";
import { decodeSnapshot } from "../kernel/codec.js";
import type { PluginDefinition } from "../plugin/define.js";
import type { Scenario } from "../scenario/schema.js";
import { applyOverrides, assembleResults, type ReplicationResult, type Results, type RunScenarioOptions } from "../workload/run.js";
import type { EngineApi } from "./protocol.js";

export { engineApi } from "./api.js";
export type { EngineApi, ReplicationJob } from "./protocol.js";

export interface PoolOptions extends Pick<RunScenarioOptions, "seed" | "duration" | "replications" | "file"> {
  /** Worker threads; default: as many as replications, at most the machine's cores. */
  workers: number;
  /** Module URLs of the plugins (each worker imports them). */
  pluginModules: string[];
  /** Called when a replication is done (replications done so far, out of all). */
  onReplication?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/**
 * Runs the scenario's replications on `workers` worker threads, each taking
 * the next replication not yet started, and assembles the results in order.
 * A worker that fails fails the run with its error and replication.
 */
export async function runScenarioOnWorkers(scenario: Scenario, plugins: readonly PluginDefinition[], options: PoolOptions): Promise<Results> {
  const s = applyOverrides(scenario, options);
  const n = Math.max(1, Math.min(options.workers, s.replications));
  const text = JSON.stringify(s);
  const results: ReplicationResult[] = [];
  let next = 0;
  const workers: Worker[] = [];
  const stopAll = (): void => void Promise.all(workers.map((w) => w.terminate()));
  options.signal?.addEventListener("abort", stopAll);
  try {
    await Promise.all(
      Array.from({ length: n }, async () => {
        const worker = new Worker(new URL("./node-worker.js", import.meta.url));
        workers.push(worker);
        const api: Remote<EngineApi> = wrap<EngineApi>(nodeEndpoint(worker));
        const died = new Promise<never>((_, reject) => {
          worker.once("error", reject);
          worker.once("exit", (code) => reject(new Error(`worker exited with code ${code}`)));
        });
        try {
          while (next < s.replications) {
            const r = next++;
            const job = { scenario: text, pluginModules: options.pluginModules, replications: [r], file: options.file };
            let bytes: Uint8Array;
            try {
              bytes = await Promise.race([api.runReplications(job), died]);
            } catch (err) {
              throw new Error(`replication ${r} (seed ${s.seed}) failed in its worker: ${(err as Error).message}`);
            }
            results.push(...(decodeSnapshot(bytes) as ReplicationResult[]));
            options.onReplication?.(results.length, s.replications);
          }
        } finally {
          worker.removeAllListeners("exit");
          await worker.terminate();
        }
      }),
    );
  } finally {
    options.signal?.removeEventListener("abort", stopAll);
  }
  return assembleResults(s, plugins, results);
}
