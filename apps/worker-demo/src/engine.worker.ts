/** The Web Worker: the engine API with the built-in plugins bundled in, exposed through comlink. */
import { expose } from "comlink";
import { createEngineApi } from "@turtles/engine/worker";
import { baremetal } from "@turtles/plugin-baremetal";
import { container, pod } from "@turtles/plugin-container";
import { hypervisor } from "@turtles/plugin-hypervisor";

expose(createEngineApi({ plugins: [baremetal, hypervisor, container, pod] }));
