/**
 * `@turtles/engine/worker`: the engine API a worker exposes through comlink,
 * the same in a browser Web Worker and a Node worker thread (no Node imports
 * here). The Node pool that drives such workers is `@turtles/engine/pool`.
 */
export { createEngineApi, engineApi } from "./api.js";
export type { EngineApiOptions } from "./api.js";
export type { EngineApi, LoadRequest, ProgressEntry, RunRequest, ScenarioInfo } from "./protocol.js";
export { decodeSnapshot as decodePack } from "../kernel/codec.js";
