/**
 * Plugin definitions. A plugin provides one layer kind (`host`, `vm`,
 * `container`, ...) and the schema of that layer's entries in a scenario: for
 * the `host` layer a host type, for the others an entry of a stack. The
 * engine ships no layer; plugins are chosen by name.
 */
import type { z } from "zod";

export interface PluginDefinition {
  /** Unique plugin name, e.g. `hypervisor`. */
  readonly name: string;
  /** The layer kind this plugin provides, e.g. `vm`; `host` for the root of every stack. */
  readonly layer: string;
  /** Plugin version, reported in results manifests. */
  readonly version: string;
  /**
   * Validates and normalises the plugin's scenario entries (build it with
   * `fields`, `unitValue`, ... so errors and JSON Schema match the rest).
   * The engine adds `layer` and `per` to stack entries itself.
   */
  readonly schema: z.ZodObject;
}

const NAME = /^[a-z][a-z0-9-]*$/;

/** Checks a plugin definition and freezes it. */
export function definePlugin<P extends PluginDefinition>(plugin: P): P {
  if (!NAME.test(plugin.name)) throw new Error(`plugin name "${plugin.name}" must be lower-case letters, digits and '-'`);
  if (!NAME.test(plugin.layer)) throw new Error(`plugin ${plugin.name}: layer "${plugin.layer}" must be lower-case letters, digits and '-'`);
  for (const reserved of ["layer", "per"]) {
    if (plugin.layer !== "host" && reserved in plugin.schema.shape) {
      throw new Error(`plugin ${plugin.name}: its schema must not define "${reserved}" (the engine adds it to every stack entry)`);
    }
  }
  return Object.freeze(plugin);
}
