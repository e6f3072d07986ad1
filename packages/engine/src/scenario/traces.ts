/**
 * The checks of tenants' `trace` fields that need more than the schema: the
 * stack exists and suits the format, the files resolve (against the scenario's
 * folder) and read, and under `onBadRow: fail` the trace has no bad row. A
 * trace is read once here, streaming, so a run never stops halfway on a row
 * found bad late (and never leaves a half-written output behind).
 */
import { formatTraceProblem } from "../trace/problems.js";
import { TRACE_FORMATS } from "../trace/index.js";
import type { PathSegment, Problem, SourceMap } from "./problems.js";
import type { Scenario } from "./schema.js";

/** The stack a trace tenant runs on: its own `stack`, else the scenario's default, else bare metal. */
export function traceStackOf(s: Scenario, trace: { stack?: string }): string {
  return trace.stack ?? s.defaults.stack ?? "baremetal";
}

/**
 * Resolves each trace's `path` (and `nodes`) with `resolve` (the CLI: against the scenario's folder; absent: kept as
 * written) and returns the problems of every trace tenant, each at its field. Mutates `s` (the resolved paths).
 */
export function checkTraces(s: Scenario, map: SourceMap, stacks: readonly string[], resolve?: (path: string) => string): Problem[] {
  const problems: Problem[] = [];
  s.tenants.forEach((t, ti) => {
    const trace = t.trace;
    if (!trace) return;
    const at = (...field: PathSegment[]): PathSegment[] => ["tenants", ti, "trace", ...field];
    const stack = traceStackOf(s, trace);
    if (!stacks.includes(stack)) {
      problems.push(map.problem(at(trace.stack === undefined ? "format" : "stack"), `unknown stack "${stack}"; defined: ${stacks.join(", ")}`));
      return;
    }
    const adapter = TRACE_FORMATS[trace.format as keyof typeof TRACE_FORMATS];
    if (!adapter) {
      problems.push(map.problem(at("format"), `the ${trace.format} format is not available in this engine build`));
      return;
    }
    if (adapter.kind === "jobs" && (s.stacks[stack]?.length ?? 0) > 0) {
      problems.push(map.problem(at("stack"), `${trace.format} jobs run their processors' threads on the hosts themselves: give a stack with no layers (such as baremetal), not "${stack}"`));
    }
    // Jobs and pods hold cores and requests outside placement: hosts that fail or restart would strand them.
    if (adapter.kind !== "utilisation" && (s.failures.hosts || s.failures.scripted.length > 0 || s.rollout || s.actions)) {
      const what = s.failures.hosts || s.failures.scripted.length > 0 ? "failures" : s.rollout ? "rollout" : "actions";
      problems.push(map.problem(at("format"), `a ${trace.format} trace cannot be replayed with host ${what} yet (its ${adapter.kind} are not moved off a host that goes down); remove ${what}, or run the trace in a scenario of its own`));
    }
    trace.path = resolve ? resolve(trace.path) : trace.path;
    if (trace.nodes !== undefined) trace.nodes = resolve ? resolve(trace.nodes) : trace.nodes;
    for (const [field, path] of [["path", trace.path], ["nodes", trace.nodes]] as const) {
      if (path === undefined) continue;
      try {
        const summary = adapter.inspect(path, {});
        if (trace.onBadRow === "fail" && summary.skipped > 0) {
          const more = summary.skipped > summary.problems.length ? ` (and ${summary.skipped - summary.problems.length} more)` : "";
          problems.push(
            map.problem(at(field), `${summary.skipped} bad row${summary.skipped === 1 ? "" : "s"}${more}: ${summary.problems.map(formatTraceProblem).join("; ")}; fix them, or set onBadRow: skip to leave them out (they are counted as skipped)`),
          );
        }
      } catch (err) {
        const code = (err as { code?: string }).code;
        problems.push(map.problem(at(field), `cannot read ${path}: ${code === "ENOENT" ? "no such file or folder (paths are relative to the scenario's folder)" : (err as Error).message}`));
      }
    }
  });
  return problems;
}
