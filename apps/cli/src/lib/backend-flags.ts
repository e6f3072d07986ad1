/** The flags of the commands that use a --backend, and the check every one of them makes before it starts. */
import { Flags } from "@oclif/core";
import { backendOf, BackendError, checkBackend, type Backend } from "./backend.js";

/** `--backend redis://HOST:PORT`. */
export const backendFlag = Flags.custom<string>({
  description: "run the replications as jobs in this Redis (redis://[:PASSWORD@]HOST:PORT), taken by turtles worker processes on any machine",
});

/** `--queue NAME`, the BullMQ queue of the jobs (submitter and workers must agree). */
export const queueFlag = Flags.string({ description: "the BullMQ queue of the jobs (workers take the jobs of one queue)", default: "turtles" });

/** The backend of `url`, checked to answer; a bad URL, Redis down or refused credentials end the command with one line and exit 2. */
export async function checkedBackend(fail: (message: string) => never, url: string, queue: string): Promise<Backend> {
  try {
    const backend = backendOf(url);
    await checkBackend(backend, queue);
    return backend;
  } catch (err) {
    if (err instanceof BackendError) return fail(err.message);
    throw err;
  }
}
