/**
 * `@turtles/engine/plugin`: everything a layer plugin needs, and the only
 * engine import a plugin may use.
 */
export { z } from "zod";
export { definePlugin, pluginsOf } from "./define.js";
export type { PluginDefinition } from "./define.js";
export { count, distribution, exactlyOne, fields, identifier, oneOf, unitValue } from "../scenario/fields.js";
export type { DistributionSpec, UnitBounds } from "../scenario/fields.js";
export { parseUnit, unit } from "../scenario/units.js";
export type { UnitKind } from "../scenario/units.js";
export { LIFECYCLE_EVENTS, OP_KINDS } from "./define.js";
export type {
  CpuRules,
  HookContext,
  HookFn,
  HookName,
  HookOptions,
  HostRules,
  LayerRules,
  LifecycleEvent,
  OpKind,
  PathContribution,
  PluginSetup,
  Resources,
} from "./define.js";
export type { ExtensionColumn } from "../tree/nodes.js";
