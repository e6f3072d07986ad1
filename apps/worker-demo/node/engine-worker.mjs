// The engine in a Node worker thread: the same API as the browser's Web Worker,
// over comlink's Node adapter, with the built-in plugins.
import { parentPort } from "node:worker_threads";
import { expose } from "comlink";
import { nodeEndpoint } from "@turtles/engine/pool";
import { createEngineApi } from "@turtles/engine/worker";
import { baremetal } from "@turtles/plugin-baremetal";
import { container } from "@turtles/plugin-container";
import { hypervisor } from "@turtles/plugin-hypervisor";

expose(createEngineApi({ plugins: [baremetal, hypervisor, container] }), nodeEndpoint(parentPort));
