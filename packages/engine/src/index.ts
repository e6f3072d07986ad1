/**
 * `@turtles/engine`: the public API. The kernel (clock, queue, processes),
 * random streams and distributions, statistics; scenarios (load, validate,
 * schema, problems, units, estimates); running them (replications, results,
 * saved runs, comparisons, sweeps). Plugins import `@turtles/engine/plugin`;
 * worker apps `@turtles/engine/worker` and `@turtles/engine/pool`; tests of
 * plugins `@turtles/engine/testing`. Model internals (the tree, the solvers,
 * the pipeline) are not exported.
 */

// The kernel.
export { Simulation, HandlerError } from "./kernel/simulation.js";
export type { EventHandle, EventHandler, EventType, RunOptions, RunResult, SimulationOptions } from "./kernel/simulation.js";
export { Processes, Resource, Signal, Timeout, timeout } from "./kernel/process.js";
export type { ProcessBody, Yieldable } from "./kernel/process.js";

// Random streams, distributions and statistics.
export { Random, hashKey } from "./random/random.js";
export type { KeyPart } from "./random/random.js";
export { constant, empirical, exponential, lognormal, normal, pareto, uniform, weibull } from "./random/distributions.js";
export type { Distribution } from "./random/distributions.js";
export { Counter, RunningStats, TimeWeighted } from "./stats/summary.js";
export { LogHistogram } from "./stats/histogram.js";
export type { HistogramOptions } from "./stats/histogram.js";
export { BatchMeans, confidenceInterval } from "./stats/confidence.js";
export type { Interval } from "./stats/confidence.js";
export { gamma, incompleteBeta, logGamma, studentTQuantile, studentTCdf } from "./stats/special.js";

// Scenarios.
export { loadScenario, stackOf, BAREMETAL_STACK } from "./scenario/load.js";
export type { LoadOptions } from "./scenario/load.js";
export { scenarioSchema, PER_VALUES, BALANCE_VALUES, PLACEMENT_POLICIES, LIMITS } from "./scenario/schema.js";
export type { HostGroup, LayerEntry, Load, Per, RateProfileSpec, ClientsProfileSpec, Scenario, Service, Step, Tenant, TraceSpec } from "./scenario/schema.js";
export { ScenarioError, formatProblems, locateProblems } from "./scenario/problems.js";
export type { Problem } from "./scenario/problems.js";
export { estimateScenario, formatBytes, summarizeScenario } from "./scenario/estimate.js";
export type { Estimate, ScenarioSummary } from "./scenario/estimate.js";
export { parseUnit, unit } from "./scenario/units.js";
export type { UnitKind } from "./scenario/units.js";
export { scenarioJsonSchema } from "./scenario/json-schema.js";
export { toDistribution } from "./scenario/distribution.js";
export { didYouMean, UNIT_RANGE, unitRangeProblem } from "./scenario/fields.js";
export type { DistributionSpec } from "./scenario/fields.js";

// Running scenarios, and their results.
export { runScenario, runReplication, applyOverrides, preflight, ReplicationRun, RunCancelled } from "./workload/run.js";
export type { RunProgress, RunScenarioOptions, ReplicationRunOptions } from "./workload/run.js";
export { assembleResults, scenarioHash, replicationSeeds, ENGINE_VERSION, LATENCY_CDF } from "./workload/measure.js";
export type { HostFigures, ReplicationResult, ReplicationStack, Results, ServiceResults, StackResults } from "./workload/measure.js";
export type { JobPodFigures } from "./workload/job-pod-traces.js";
export type { JobFigures } from "./workload/jobs.js";
export type { PodFigures } from "./workload/pods.js";
export { DRAIN_GRACE } from "./workload/rollout.js";
export type { RolloutFigures } from "./workload/rollout.js";
export type { MetricFigure } from "./plugin/metrics.js";
export { HookError } from "./plugin/driver.js";
export { StateError } from "./kernel/state.js";
export { comparisonCsv, comparisonResults, compareStacks, COMPARISON_CSV_COLUMNS, onStack, pairedDifference, QUESTIONS, stacksOf } from "./workload/compare.js";
export type { ComparedFigure, Comparison, PairedDifference, Question } from "./workload/compare.js";
export { hasRateProfile, meanRate, RateProfile } from "./workload/profile.js";
export { applyPoint, fromCsv, grid, parseParam, pointKey, rowOf, toCsv } from "./workload/sweep.js";
export type { SweepParam } from "./workload/sweep.js";
export { inShard, mergeShards, parseShard, partRows, shardPart, sweepId, SHARD_FORMAT } from "./workload/shard.js";
export type { Shard, ShardPart, SweepRow } from "./workload/shard.js";
export { decodeRunSnapshot, decodeSweepSnapshot, encodeRunSnapshot, encodeSweepSnapshot, runSnapshot, RUN_SNAPSHOT_FORMAT, SWEEP_SNAPSHOT_FORMAT } from "./workload/checkpoint.js";
export type { CheckpointOptions, RunningState, RunSnapshot, SweepSnapshot } from "./workload/checkpoint.js";

// Tables and text for terminals.
export { formatTable } from "./util/table.js";
export { printable } from "./util/printable.js";

// Traces: formats, their summaries, and the file access they go through.
export { TRACE_FORMATS, TRACE_FORMAT_NAMES, detectFormat, inspectTrace } from "./trace/index.js";
export type { TraceAdapter, TraceColumn, TraceEntityKind, TraceFormat, TraceReadOptions, TraceSummary, TraceVm, UtilisationAdapter, UtilisationCursor, UtilisationOpenOptions, UtilisationTrace } from "./trace/index.js";
export { LineReader, memoryTraceSource, nodeTraceSource, TraceUnavailable } from "./trace/lines.js";
export type { LinePosition, TraceSource } from "./trace/lines.js";
export { BadRows, MAX_LISTED, ON_BAD_ROW, TraceError, formatTraceProblem } from "./trace/problems.js";
export type { OnBadRow, TraceProblem } from "./trace/problems.js";
