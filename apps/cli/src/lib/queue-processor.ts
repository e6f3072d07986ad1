/**
 * The BullMQ sandboxed processor of `turtles worker`: it runs in its own worker thread (BullMQ's
 * `useWorkerThreads`), so that the simulation never blocks the main thread, which renews the jobs' locks in Redis
 * (a blocked one would let every running job look stalled). One replication per job, on the engine API a local
 * pool's worker uses, so its result is the same bytes.
 */
import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { fileURLToPath } from "node:url";
import { UnrecoverableError, type SandboxedJob } from "bullmq";
import { ENGINE_VERSION } from "@turtles/engine";
import { engineApi } from "@turtles/engine/worker";
import { ENGINE_MISMATCH, type ReplicationJob, type ReplicationReturn } from "./queue-job.js";

/** A job's plugin module as this machine resolves it; a module missing here fails the job for good, saying which. */
function resolved(module: string): string {
  try {
    if (!module.startsWith("file:")) return import.meta.resolve(module); // a package: from this machine's install
    if (existsSync(fileURLToPath(module))) return module;
    throw new Error("not on this machine");
  } catch {
    throw new UnrecoverableError(`plugin module ${module} does not resolve on worker ${hostname()}: install it where turtles worker runs (or give the submitter's --plugin a path both machines share)`);
  }
}

/** The load request of the scenario this thread has loaded (runs of it need no second parse). */
let loadedKey: string | undefined;

/** Runs the job's replication; returns its result pack. Deterministic failures are UnrecoverableError (no retry). */
export default async function process(job: SandboxedJob<ReplicationJob, ReplicationReturn>): Promise<ReplicationReturn> {
  const { engine, load, replication } = job.data;
  if (engine !== ENGINE_VERSION) {
    throw new UnrecoverableError(`${ENGINE_MISMATCH}: the job needs engine ${engine}, worker ${hostname()} runs ${ENGINE_VERSION}, whose results may differ; run turtles worker of engine ${engine}`);
  }
  const request = { ...load, pluginModules: (load.pluginModules ?? []).map(resolved) };
  // perf: the replications of one point carry the same scenario; this thread parses it once for all it runs in a row
  // (a tiny scenario's parse costs twice its run: 17.8 ms against 9.4 ms, measured on this machine).
  const key = JSON.stringify(request);
  if (key !== loadedKey) {
    loadedKey = undefined; // a load that fails leaves no scenario to reuse
    await engineApi.load(request);
    loadedKey = key;
  }
  const pack = await engineApi.run({ replications: [replication] });
  return Buffer.from(pack).toString("base64");
}
