/** The scenario schema as JSON Schema (draft 2020-12), for editors: `turtles schema > turtles.schema.json`. */
import { z } from "zod";
import type { PluginDefinition } from "../plugin/define.js";
import { scenarioSchema } from "./schema.js";

export function scenarioJsonSchema(plugins: readonly PluginDefinition[]): Record<string, unknown> {
  // The input side: what a user writes (units as strings or numbers), not the normalised output.
  return z.toJSONSchema(scenarioSchema(plugins), { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
}
