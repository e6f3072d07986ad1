/** The Node worker_threads entry: exposes the engine API over comlink. */
import { parentPort } from "node:worker_threads";
import { expose } from "comlink";
import { nodeEndpoint } from "./node-endpoint.js";
import { engineApi } from "./api.js";

if (!parentPort) throw new Error("node-worker.js runs as a worker thread");
expose(engineApi, nodeEndpoint(parentPort));
