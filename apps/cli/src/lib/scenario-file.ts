/** Reading a scenario file for a command: the built-in plugins, the memory limit, clear errors. */
import { readFileSync } from "node:fs";
import { totalmem } from "node:os";
import { loadScenario, ScenarioError, type Scenario } from "@turtles/engine";
import type { PluginDefinition } from "@turtles/engine/plugin";
import { baremetal } from "@turtles/plugin-baremetal";
import { container } from "@turtles/plugin-container";
import { hypervisor } from "@turtles/plugin-hypervisor";

/** The layer plugins every command knows. */
export const builtinPlugins: readonly PluginDefinition[] = [baremetal, hypervisor, container];

/** A model may use at most this share of the machine's memory (the rest is Node, V8 and the OS). */
const MEMORY_SHARE = 0.75;

/** Loads and validates `file`; throws `ScenarioError` (with file, line and field) on any problem. */
export function readScenario(file: string): Scenario {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : code === "EACCES" ? "permission denied" : (err as Error).message;
    throw new ScenarioError([{ file, line: 0, column: 0, path: "", message: `cannot read the scenario: ${why}` }]);
  }
  return loadScenario(bytes, { file, plugins: builtinPlugins, memoryLimit: totalmem() * MEMORY_SHARE });
}
