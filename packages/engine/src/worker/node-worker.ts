/** The Node worker_threads entry: exposes the engine API over comlink. */
import { parentPort } from "node:worker_threads";
import { expose } from "comlink";
import { nodeEndpoint } from "./node-endpoint.js";
import { engineApi } from "./api.js";

if (!parentPort) throw new Error("node-worker.js runs as a worker thread");
// A plugin that calls process.exit would end this thread without a word of why: it throws instead, so its hook fails
// and the error names the plugin, the hook, the node and the time (the pool adds the replication and its seed).
// Node's own calls (a worker ending on an uncaught exception) still exit.
const exit = process.exit.bind(process);
process.exit = ((code?: number | string | null) => {
  const caller = new Error().stack?.split("\n")[2] ?? "";
  if (caller.includes("(node:internal/")) return exit(code);
  throw new Error(`process.exit(${code ?? ""}) was called: a plugin may not end the process; throw an error instead`);
}) as typeof process.exit;
expose(engineApi, nodeEndpoint(parentPort));
