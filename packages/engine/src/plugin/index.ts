/**
 * `@turtles/engine/plugin`: everything a layer plugin needs, and the only
 * engine import a plugin may use (docs/plugins.md has the whole API).
 */
export { z } from "zod";
export { definePlugin, killReasons, pluginsOf, LIFECYCLE_EVENTS, METRIC_KINDS, OP_KINDS, RESTART } from "./define.js";
export type {
  BandwidthStats,
  CpuRules,
  CpuWeight,
  CpuSettings,
  EventHandlerFn,
  HookFn,
  HookName,
  HookOf,
  HookOptions,
  HostRules,
  KillReason,
  LayerImage,
  LayerRules,
  LifecycleEvent,
  LifecycleHook,
  Metric,
  MetricKind,
  MetricSpec,
  Operation,
  OperationHook,
  OpKind,
  PathContribution,
  PluginContext,
  PluginDefinition,
  PluginEvent,
  PluginSetup,
  RandomStreams,
  Resources,
  StaticCharge,
  Then,
  Verdict,
} from "./define.js";
export { count, distribution, exactlyOne, fields, identifier, oneOf, quantity, unitValue, UNIT_RANGE } from "../scenario/fields.js";
export type { DistributionSpec, UnitBounds } from "../scenario/fields.js";
export type { Service } from "../scenario/schema.js";
export { parseUnit, unit } from "../scenario/units.js";
export type { UnitKind } from "../scenario/units.js";
export { EXTERNAL } from "../net/network.js";
export type { Random } from "../random/random.js";
export type { ExtensionColumn } from "../tree/nodes.js";
