/**
 * The flags of the commands that use a --backend, the check each makes before it starts, and the options its jobs
 * share. BullMQ loads only when a --backend is given (`import()`): a local run does not pay for it.
 */
import { Flags } from "@oclif/core";
import type { Backend, BackendOptions } from "./backend.js";
import { builtinPluginModules, loadedPluginModules } from "./scenario-file.js";

/** `--backend redis://HOST:PORT`. */
export const backendFlag = Flags.custom<string>({
  description: "run the replications as jobs in this Redis (redis://[:PASSWORD@]HOST:PORT), taken by turtles worker processes on any machine",
});

/** `--queue NAME`, the BullMQ queue of the jobs (submitter and workers must agree). */
export const queueFlag = Flags.string({ description: "the BullMQ queue of the jobs (workers take the jobs of one queue)", default: "turtles" });

/** The backend of `url`, checked to answer; a bad URL, Redis down or refused credentials end the command through `fail` (one line, exit 2). */
export async function checkedBackend(fail: (message: string) => never, url: string, queue: string): Promise<Backend> {
  const { backendOf, BackendError, checkBackend } = await import("./backend.js");
  try {
    const backend = backendOf(url);
    await checkBackend(backend, queue);
    return backend;
  } catch (err) {
    if (err instanceof BackendError) return fail(err.message);
    throw err;
  }
}

/** What every command's jobs on `backend` share: the queue, the id `--status` shows, the attempts (1 + --retries), the plugins. */
export function backendJobs(backend: Backend, queue: string, id: string, file: string, retries: number): Omit<BackendOptions, "signal" | "onJob" | "onProgress" | "points"> {
  return { backend, queue, id, file, attempts: retries + 1, pluginModules: [...builtinPluginModules, ...loadedPluginModules] };
}
