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
import { applyOverrides, assembleResults, RunCancelled, type ReplicationResult, type Results, type RunScenarioOptions } from "../workload/run.js";
import type { EngineApi, ReplicationJob } from "./protocol.js";

export { engineApi } from "./api.js";
export type { EngineApi, ReplicationJob } from "./protocol.js";

export interface PoolOptions extends Pick<RunScenarioOptions, "seed" | "duration" | "replications" | "file"> {
  /** Worker threads; default: as many as replications, at most the machine's cores. */
  workers: number;
  /** Module URLs of the plugins (each worker imports them). */
  pluginModules: string[];
  /** How many times a replication whose worker failed or died is run again on a fresh worker. Default 0. */
  retries?: number;
  /** Called when a replication is done (replications done so far, out of all). */
  onReplication?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/** Runs replication jobs on one worker thread at a time; a failed or dead worker is replaced. */
class WorkerSlot {
  private worker: Worker | undefined;
  private api: Remote<EngineApi> | undefined;
  private died: Promise<never> | undefined;

  constructor(private readonly all: Set<Worker>) {}

  async run(job: ReplicationJob): Promise<Uint8Array> {
    if (!this.worker) {
      const worker = new Worker(new URL("./node-worker.js", import.meta.url));
      this.all.add(worker);
      this.worker = worker;
      this.api = wrap<EngineApi>(nodeEndpoint(worker));
      this.died = new Promise<never>((_, reject) => {
        worker.once("error", reject);
        worker.once("exit", (code) => reject(new Error(`its worker exited with code ${code}`)));
      });
      this.died.catch(() => {}); // observed through run(); never an unhandled rejection
    }
    try {
      return await Promise.race([this.api!.runReplications(job), this.died!]);
    } catch (err) {
      await this.close(); // a worker that failed once is not trusted with the next job
      throw err;
    }
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (!w) return;
    w.removeAllListeners("exit");
    this.all.delete(w);
    await w.terminate();
  }
}

/**
 * Runs the scenario's replications on `workers` worker threads, each taking
 * the next replication not yet started, and assembles the results in order.
 * A replication whose worker throws or dies runs again (up to `retries`
 * times) on a fresh worker; if it still fails, the run fails with its error,
 * replication and seed once the others are done. The pool always exits.
 */
export async function runScenarioOnWorkers(scenario: Scenario, plugins: readonly PluginDefinition[], options: PoolOptions): Promise<Results> {
  const s = applyOverrides(scenario, options);
  const n = Math.max(1, Math.min(options.workers, s.replications));
  const text = JSON.stringify(s);
  const results: ReplicationResult[] = [];
  const failures: string[] = [];
  let next = 0;
  const workers = new Set<Worker>();
  const stopAll = (): void => void Promise.all([...workers].map((w) => w.terminate()));
  options.signal?.addEventListener("abort", stopAll);
  try {
    await Promise.all(
      Array.from({ length: n }, async () => {
        const slot = new WorkerSlot(workers);
        try {
          while (next < s.replications && !options.signal?.aborted) {
            const r = next++;
            const job = { scenario: text, pluginModules: options.pluginModules, replications: [r], file: options.file };
            for (let attempt = 0; ; attempt++) {
              try {
                results.push(...(decodeSnapshot(await slot.run(job)) as ReplicationResult[]));
                options.onReplication?.(results.length, s.replications);
                break;
              } catch (err) {
                if (options.signal?.aborted) throw err;
                if (attempt < (options.retries ?? 0)) continue;
                const tries = attempt + 1;
                failures.push(`replication ${r} (seed ${s.seed}) failed in its worker${tries > 1 ? ` ${tries} times` : ""}: ${(err as Error).message}`);
                break;
              }
            }
          }
        } finally {
          await slot.close();
        }
      }),
    );
  } catch (err) {
    // Terminated workers reject with their exit: a cancelled run says so instead.
    if (options.signal?.aborted) throw new RunCancelled();
    throw err;
  } finally {
    options.signal?.removeEventListener("abort", stopAll);
  }
  if (options.signal?.aborted) throw new RunCancelled();
  if (failures.length > 0) throw new Error(failures.join("; "));
  return assembleResults(s, plugins, results);
}
