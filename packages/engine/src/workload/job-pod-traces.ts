/**
 * The trace tenants of a replication whose traces are jobs (SWF) or pods
 * (Alibaba): one replay each, built with the replication and measured with
 * it, under `stacks.<stack>.traces.<tenant>` in the results (beside the
 * utilisation traces of traces.ts). The replays
 * hang off the replication, so a snapshot saves them (readers' line
 * positions, queues, counters) and a resumed run continues where they were.
 */
import type { Simulation } from "../kernel/simulation.js";
import type { Model } from "../model/model.js";
import type { Scenario, TraceSpec } from "../scenario/schema.js";
import { stackLayers, stackOf } from "../scenario/load.js";
import { openPods, readNodes, type AlibabaNode } from "../trace/alibaba.js";
import { sourceOf } from "../trace/common.js";
import { BadRows } from "../trace/problems.js";
import { openSwf, type SwfReader } from "../trace/swf.js";
import { JobReplay, type JobFigures } from "./jobs.js";
import { podMix, PodReplay, type PodFigures } from "./pods.js";

/** Figures of one trace tenant, with the stack it ran on. */
export type JobPodFigures = JobFigures | Omit<PodFigures, "pendingSeries">;

interface JobTenant {
  name: string;
  stack: string;
  replay: JobReplay;
  reader: SwfReader;
  bad: BadRows;
}

interface PodTenant {
  name: string;
  stack: string;
  replay: PodReplay;
  bad: BadRows;
}

/** The job and pod replays of a replication's trace tenants (none when it has none). */
export class JobPodReplays {
  private readonly jobs: JobTenant[] = [];
  private readonly pods: PodTenant[] = [];

  constructor(sim: Simulation, model: Model, s: Scenario, window: { warmup: number; end: number; windows: number }, hostsUsed: Set<number>) {
    for (const tenant of s.tenants) {
      const t = tenant.trace;
      if (!t) continue;
      const stack = stackOf(s, t);
      if (t.format === "swf") {
        const bad = new BadRows(t.onBadRow);
        const reader = openSwf(t.path, selection(t), bad);
        const replay = new JobReplay(sim, model, tenant.name, reader, { start: t.start, speedup: t.speedup, speed: t.speed ?? 1, backfill: t.backfill ?? "none", warmup: window.warmup, end: window.end }, hostsUsed);
        this.jobs.push({ name: tenant.name, stack, replay, reader, bad });
      } else if (t.format === "alibaba-pods") {
        const bad = new BadRows(t.onBadRow);
        // The mix of requests (for fragmentation) is the replayed pods': read once ahead, streaming.
        const mix = podMix(openPods(t.path, selection(t), new BadRows("skip")));
        // What each pod holds of a host beside its request: its stack's layers' memory overheads (a runtime's).
        const overhead = stackLayers(s, { stack }).reduce((a, entry) => a + model.memoryOverheadOf(model.kindOf(entry.layer), entry), 0);
        const reader = openPods(t.path, selection(t), bad);
        const replay = new PodReplay(sim, tenant.name, reader, podHosts(model, t, bad), mix, {
          start: t.start,
          speedup: t.speedup,
          policy: s.placement.policy,
          warmup: window.warmup,
          end: window.end,
          windows: window.windows,
          overhead,
        }, t.nodes === undefined ? { nodes: model.hosts, used: hostsUsed } : undefined);
        this.pods.push({ name: tenant.name, stack, replay, bad });
      }
    }
  }

  /** Whether there are job or pod tenants. */
  get any(): boolean {
    return this.jobs.length > 0 || this.pods.length > 0;
  }

  /**
   * The figures per tenant (by name), and the pending pods per window summed over pod tenants (null without
   * any), once the run has reached its end.
   */
  figures(): { traces: Record<string, JobPodFigures>; pendingPods: number[] | null } {
    const traces: Record<string, JobPodFigures> = {};
    let pendingPods: number[] | null = null;
    for (const j of this.jobs) traces[j.name] = j.replay.figures(j.stack, j.bad.skipped, j.reader.cancelled);
    for (const p of this.pods) {
      const { pendingSeries, ...f } = p.replay.figures(p.stack, p.bad.skipped);
      traces[p.name] = f;
      pendingPods = pendingPods ? pendingPods.map((x, i) => x + pendingSeries[i]) : pendingSeries;
    }
    return { traces, pendingPods };
  }
}

/** What a spec selects of its trace, as the readers take it. */
function selection(t: TraceSpec): { start: number; sample: number; limit?: number; onBadRow: TraceSpec["onBadRow"] } {
  return { start: t.start, sample: t.sample, limit: t.limit, onBadRow: t.onBadRow };
}

/** The hosts pods go on: the trace's node list when given, else the scenario's hosts (what placement left free). */
function podHosts(model: Model, t: TraceSpec, bad: BadRows): AlibabaNode[] {
  if (t.nodes !== undefined) return readNodes(sourceOf({}), t.nodes, bad);
  return model.hosts.map((h) => ({
    cpu: Math.max(0, model.nodes.capacityCores[h] - model.nodes.usedCores[h]),
    memory: Math.max(0, model.nodes.capacityMemory[h] - model.nodes.reservedMemory[h]),
    gpu: 0,
  }));
}
