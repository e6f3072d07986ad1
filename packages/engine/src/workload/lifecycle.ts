/**
 * The lifecycle of replicas (DESIGN.md, Placement and lifecycle): a replica
 * takes requests once its process is ready; hosts fail (at random, or as
 * scripted) and are repaired; a failure is found after `detection`, and the
 * replicas lost are placed again on hosts that are up, or wait for a repair.
 * Layer nodes fail or restart through their plugins (`failNode`,
 * `restartNode`): the model tells this module (`ModelListener`), and a
 * replica restarted in place is ready again after its restart and
 * provisioning, one lost with its node is placed again after `detection`.
 *
 * A kernel patch rollout (rollout.ts) restarts hosts and guest kernels
 * through the same paths, planned: a host goes down as a failure found at
 * once (its replicas, drained first, are placed again or wait for it) and
 * is back after its reboot; a guest kernel restarts in place (the model's
 * `restartKernel`, heard here as a restart).
 *
 * Recorded: each replica's time from the start to ready, each recovery (from
 * a failure to the replica ready again), the failure timeline, the cores of
 * failed hosts during the measurement, and restarts and kills (per reason)
 * per service. A kill is a layer's `failNode`, whatever its reason: the
 * engine knows no layer's policy, so an OOM kill, a balloon's or a watchdog's
 * are counted alike, and plugins name their reasons in results.
 *
 * State does not grow with simulated time: a failure's record is kept while
 * something can still change it (undetected, a repair pending, replicas not
 * ready again), found by index, and the timeline in results holds the first
 * `TIMELINE_MAX` failures with a count of the others; recoveries go to
 * quantiles (exact for the first 1,000).
 */
import type { Simulation } from "../kernel/simulation.js";
import type { Model, ModelListener } from "../model/model.js";
import { RESTART } from "../plugin/define.js";
import type { Distribution } from "../random/distributions.js";
import { Random } from "../random/random.js";
import { toDistribution } from "../scenario/distribution.js";
import { Quantiles } from "../stats/quantiles.js";
import { FAILED, HOST_FAILED, type Replication } from "./replication.js";
import { Rollout } from "./rollout.js";

/** The reason of a rollout's planned restarts: in the failure timeline, and for requests a drain could not finish. */
export const ROLLOUT = "rollout";

/** Failures a replication's timeline keeps (in results); later ones are counted in `failuresOmitted`. */
export const TIMELINE_MAX = 1000;

/** One failure: of a host (from the scenario), or of a layer node (its plugin's `failNode`), as results give it (an extension). */
export interface Failure {
  /** The host's index (the failed node's host for a layer node). */
  host: number;
  at: number;
  detected: number | null;
  repaired: number | null;
  replicas: number;
  recovered: number;
  /** For a layer node: its layer and the reason its plugin gave. */
  layer?: string;
  reason?: string;
  /** Per service: requests that failed, and attempts that timed out, between the failure and its detection. */
  services: Record<string, { failed: number; timeouts: number }>;
}

/** A failure something can still change: its record, its successors not ready yet (placed or waiting), and whether a repair is due. */
interface LiveFailure {
  record: Failure;
  pending: number;
  repairing: boolean;
}

export class Lifecycle implements ModelListener {
  /** Seconds from the start to ready, of each replica placed at the start. */
  readonly readyTimes: number[] = [];
  /** Seconds from a failure (or a restart) to a replica ready again. */
  readonly recoveries = new Quantiles();
  /** The timeline: the first `TIMELINE_MAX` failures, and how many came after them. */
  readonly failures: Failure[] = [];
  failuresOmitted = 0;
  private failureCount = 0;
  /** Failures by index while something can still change them. */
  private readonly live = new Map<number, LiveFailure>();
  /** A replica placed again -> the failure it replaces a lost one of. */
  private readonly failureOf = new Map<number, number>();
  /** Core-seconds of failed hosts within the measurement. */
  capacityLost = 0;
  /** Replica restarts in place, per service, during the measurement. */
  readonly restarts: number[];
  /**
   * Replicas stopped by a kill (a plugin's failNode) during the measurement, per service, then per reason index of the
   * replication's `reasons` (dense: 0 for a reason with none).
   */
  readonly kills: number[][];
  /** A replica placed again or restarting -> when it went down. */
  private readonly recoveringSince = new Map<number, number>();
  private readonly waiting: { service: number; slot: number; since: number; failure: number }[] = [];
  private readonly downSince = new Map<number, number>();
  private readonly failureRngs: Random[] = [];
  /** Each host's pending random failure event (one sequence per host). */
  private readonly nextFailure = new Map<number, number>();
  private readonly lostByFailure = new Map<number, number[]>();
  private readonly readyType: number;
  private readonly failType: number;
  private readonly detectType: number;
  private readonly repairType: number;
  private readonly scriptedType: number;
  private readonly unrouteType: number;
  /** Failures not yet detected (their windows are open). */
  private readonly open: number[] = [];
  private readonly repairDist: Distribution | undefined;
  /** Guest crashes (`failures.vms`): their event type and each guest's random stream. */
  private crashType = -1;
  private readonly crashRngs = new Map<number, Random>();
  /** The scenario's kernel patch rollout, if it has one. */
  readonly rollout: Rollout | undefined;

  constructor(
    private readonly sim: Simulation,
    private readonly model: Model,
    private readonly rep: Replication,
  ) {
    const s = rep.scenario;
    const options = rep.options;
    this.restarts = rep.services.map(() => 0);
    this.kills = rep.services.map(() => []);
    // Replicas take requests once ready (their stack's provisioning and a process start from t = 0).
    this.readyType = sim.on("lifecycle.ready", (r) => this.onReplicaReady(r));
    for (let r = 0; r < rep.replicaCount; r++) this.scheduleReady(r);
    this.failType = sim.on("lifecycle.hostFail", (h) => this.onHostFail(h));
    this.detectType = sim.on("lifecycle.detect", (f) => this.onDetect(f));
    this.repairType = sim.on("lifecycle.repair", (f) => this.onRepair(f));
    const fl = s.failures;
    model.hosts.forEach((_, i) => {
      this.failureRngs.push(Random.fromKey(options.seed, "failures", i));
      if (fl.hosts) this.nextFailure.set(i, sim.schedule(this.failType, this.failureRngs[i].exp(fl.hosts.mtbf), i));
    });
    // Scripted failures carry their own index (their repair is theirs, not the host's).
    this.scriptedType = sim.on("lifecycle.scriptedFail", (k) => this.onHostFail(fl.scripted[k].host, fl.scripted[k].repair));
    this.unrouteType = sim.on("lifecycle.unroute", (r) => this.rep.unroute(r));
    fl.scripted.forEach((f, k) => sim.scheduleAt(this.scriptedType, f.at, k));
    this.repairDist = fl.hosts ? toDistribution(fl.hosts.repair) : undefined;
    model.listener = this;
    // Scripted migrations and drains (registered only when the scenario has some, so other runs keep their events).
    const actions = s.actions;
    if (actions) {
      const actionType = sim.on("lifecycle.action", (k) => {
        const a = actions[k];
        if ("migrate" in a) model.migrateFrom(a.migrate.host, a.migrate.to);
        else model.migrateFrom(a.drain.host, -1);
      });
      actions.forEach((a, k) => sim.scheduleAt(actionType, a.at, k));
    }
    // Guest crashes: each guest kernel's own sequence (keyed by its node), re-armed when it reboots.
    if (fl.vms) {
      const vms = fl.vms;
      const repair = toDistribution(vms.repair);
      this.crashType = sim.on("lifecycle.guestCrash", (n) => {
        if (this.model.nodes.removed[n]) return;
        const rng = this.crashRng(n);
        const after = repair.sample(rng);
        this.model.restartKernel(n, after);
        sim.schedule(this.crashType, after + rng.exp(vms.mtbf), n);
      });
      this.kernelsCreated(model.kernelInstances());
    }
    this.rollout = s.rollout ? new Rollout(sim, model, rep, this, s.rollout) : undefined;
  }

  /** Schedules replica r's ready event, once its process's ready time is known. */
  private scheduleReady(r: number): void {
    const at = this.model.readyAt[this.rep.replicaNode[r]];
    if (at !== Infinity) this.sim.scheduleAt(this.readyType, Math.max(this.sim.now, at), r, -1);
  }

  private onReplicaReady(r: number): void {
    const rep = this.rep;
    const node = rep.replicaNode[r];
    // A stale event: the replica was lost, or restarted again before this ready time.
    if (this.model.nodes.removed[node] || this.model.readyAt[node] > this.sim.now) return;
    if (rep.replicaDown[r]) {
      if (!this.recoveringSince.has(r)) return;
      rep.replicaDown[r] = 0; // back from a restart
      this.rollout?.replicaSettled(r);
    }
    if (rep.replicaReady[r]) return;
    this.model.nodeReady(node);
    rep.readySince[r] = this.sim.now;
    rep.setReady(r);
    const since = this.recoveringSince.get(r);
    if (since === undefined) this.readyTimes.push(this.sim.now);
    else {
      this.recoveries.record(this.sim.now - since);
      this.recoveringSince.delete(r);
      const index = this.failureOf.get(r);
      if (index !== undefined) {
        this.failureOf.delete(r);
        const f = this.live.get(index)!;
        f.record.recovered++;
        f.pending--;
        this.settle(index);
      }
    }
  }

  // --- the model's lifecycle (ModelListener) ---

  processesStopped(node: number, processes: readonly number[], reason: string, lost: boolean, down: boolean): void {
    const rep = this.rep;
    const replicas = processes.map((p) => rep.replicaOfNode.get(p)).filter((r): r is number => r !== undefined);
    // Lost, they stay in their balancers until their failure is detected (or a readiness probe notices).
    const why = rep.reason(reason);
    rep.stopReplicas(replicas, why, true, lost);
    const now = this.sim.now;
    // Every reason but restartNode's is a kill (failNode refuses that one).
    if (reason !== RESTART && now >= rep.options.warmup) {
      for (const r of replicas) {
        const counts = this.kills[rep.replicaService[r]];
        while (counts.length <= why) counts.push(0);
        counts[why]++;
      }
    }
    // Down for good in place: neither a restart nor a recovery to wait for.
    if (down) return;
    if (!lost) {
      for (const r of replicas) {
        if (!this.recoveringSince.has(r)) this.recoveringSince.set(r, now);
        if (now >= rep.options.warmup) this.restarts[rep.replicaService[r]]++;
      }
      return;
    }
    // Lost with their node: found after the detection delay and placed again, like a failed host's.
    const host = this.model.hostIndex(this.model.nodes.host[node]);
    const layer = this.model.nodes.kindNames[this.model.nodes.kind[node]];
    const index = this.addFailure({ host, at: now, detected: null, repaired: null, replicas: replicas.length, recovered: 0, layer, reason, services: {} }, false);
    for (const r of replicas) this.lostBeforeReady(r);
    this.lostByFailure.set(index, replicas);
    this.detectLater(index, replicas);
  }

  nodeMoved(node: number): void {
    // Its replicas run on the new host from now: it counts among the hosts used (results' host figures).
    if (this.model.processesBelow(node).length > 0) this.rep.hostsUsed.add(this.model.nodes.host[node]);
  }

  kernelsCreated(nodes: readonly number[]): void {
    const vms = this.rep.scenario.failures.vms;
    if (!vms) return;
    for (const n of nodes) this.sim.schedule(this.crashType, this.crashRng(n).exp(vms.mtbf), n);
  }

  /** Guest node n's crash stream (seeded by the replication and the node). */
  private crashRng(n: number): Random {
    let rng = this.crashRngs.get(n);
    if (!rng) this.crashRngs.set(n, (rng = Random.fromKey(this.rep.options.seed, "guest-crashes", n)));
    return rng;
  }

  completionsLost(completions: readonly number[], reason: string): void {
    this.rep.chargesLost(completions, this.rep.reason(reason));
  }

  processReadyAt(process: number, time: number): void {
    const r = this.rep.replicaOfNode.get(process);
    // A process just placed has no replica yet: `replace` schedules its ready event itself.
    if (r !== undefined) this.sim.scheduleAt(this.readyType, Math.max(this.sim.now, time), r, -1);
  }

  // --- host failures, detection, re-placement, repair ---

  /**
   * A planned restart of host `h` (a rollout): it goes down as a failure found at once, so its replicas (drained
   * already) are placed again on hosts that are up or wait for it, and it is back after `reboot` seconds. Returns
   * the failure's index (it settles once the host is back and every successor is ready).
   */
  restartHost(h: number, reboot: number): number {
    return this.onHostFail(h, reboot, true);
  }

  /**
   * A host fails: its replicas stop taking requests, the requests on them fail, and it is found after `detection`
   * (`planned`: a rollout's restart, found at once, its requests failing as `rollout`).
   */
  private onHostFail(h: number, scriptedRepair?: number, planned = false): number {
    const rep = this.rep;
    if (this.model.hostDown.has(h)) return -1;
    // Down hosts do not fail again; the random sequence resumes after the repair.
    const pending = this.nextFailure.get(h);
    if (pending !== undefined) this.sim.cancel(pending);
    this.nextFailure.delete(h);
    const now = this.sim.now;
    const lostNodes = this.model.failHost(h);
    const lost = lostNodes.map((n) => rep.replicaOfNode.get(n)!).filter((r) => r !== undefined);
    for (const r of lost) this.lostBeforeReady(r);
    // The requests on the host fail; its replicas stay in their balancers until the failure is detected.
    const reason = planned ? ROLLOUT : FAILED[HOST_FAILED];
    rep.stopReplicas(lost, rep.reason(reason), false, !planned);
    this.model.settleLost(reason);
    this.downSince.set(h, now);
    const repair = scriptedRepair ?? (this.repairDist ? this.repairDist.sample(this.failureRngs[h]) : undefined);
    const record: Failure = { host: h, at: now, detected: null, repaired: null, replicas: lost.length, recovered: 0, services: {} };
    if (planned) record.reason = ROLLOUT;
    const index = this.addFailure(record, repair !== undefined);
    if (!planned) this.detectLater(index, lost);
    if (repair !== undefined) this.sim.schedule(this.repairType, repair, index);
    this.lostByFailure.set(index, lost);
    if (planned) {
      // Planned: nobody has to notice it, its replicas are placed again at once.
      this.open.push(index);
      this.onDetect(index);
    }
    return index;
  }

  /** Replica r is lost: if it was a successor not ready yet, it will not be (a later failure replaces it). */
  private lostBeforeReady(r: number): void {
    this.recoveringSince.delete(r);
    this.rollout?.replicaSettled(r);
    const index = this.failureOf.get(r);
    if (index === undefined) return;
    this.failureOf.delete(r);
    this.live.get(index)!.pending--;
    this.settle(index);
  }

  /** A new failure's index: its record joins the timeline while that has room, and stays live until settled. */
  private addFailure(record: Failure, repairing: boolean): number {
    const index = this.failureCount++;
    if (this.failures.length < TIMELINE_MAX) this.failures.push(record);
    else this.failuresOmitted++;
    this.live.set(index, { record, pending: 0, repairing });
    return index;
  }

  /** Forgets a failure nothing can change any more: detected, repaired if a repair was due, every successor ready. */
  private settle(index: number): void {
    const f = this.live.get(index)!;
    if (f.record.detected !== null && !f.repairing && f.pending === 0) {
      this.live.delete(index);
      this.rollout?.failureSettled(index);
    }
  }

  /**
   * Failure `index` is found after the scenario's detection delay; a lost
   * replica whose service probes readiness leaves its balancer when its
   * `failureThreshold`-th probe in a row fails, if that comes sooner (its
   * probes run every `period` from the time it was ready).
   */
  private detectLater(index: number, lost: readonly number[]): void {
    const rep = this.rep;
    const now = this.sim.now;
    const detection = rep.scenario.failures.detection;
    this.open.push(index);
    this.sim.schedule(this.detectType, detection, index);
    for (const r of lost) {
      const run = rep.services[rep.replicaService[r]];
      if (run.probePeriod === Infinity) continue;
      const P = run.probePeriod;
      const since = rep.readySince[r];
      const firstFailed = since + Math.ceil((now - since) / P) * P;
      const noticed = firstFailed + (run.probeThreshold - 1) * P;
      if (noticed < now + detection) this.sim.scheduleAt(this.unrouteType, noticed, r);
    }
  }

  /** Counts a failed request (kind 0) or a timed-out attempt (1) of `service` in every failure not yet detected. */
  countInWindows(service: number, kind: number): void {
    if (this.open.length === 0) return;
    const key = this.rep.services[service].measure.key;
    for (const i of this.open) {
      const c = (this.live.get(i)!.record.services[key] ??= { failed: 0, timeouts: 0 });
      if (kind === 0) c.failed++;
      else c.timeouts++;
    }
  }

  /** The failure is found: the lost replicas leave their balancers and are placed again on hosts that are up, or wait for a repair. */
  private onDetect(index: number): void {
    const f = this.live.get(index)!.record;
    f.detected = this.sim.now;
    this.open.splice(this.open.indexOf(index), 1);
    for (const r of this.lostByFailure.get(index) ?? []) {
      this.rep.unroute(r);
      const service = this.rep.replicaService[r];
      const slot = this.rep.services[service].replicas.indexOf(r);
      this.replace(service, slot, f.at, index);
    }
    this.lostByFailure.delete(index);
    this.settle(index);
  }

  /** Places the successor of a replica lost in failure `failure` in its slot, or it waits for a repair (the failure stays live). */
  private replace(service: number, slot: number, since: number, failure: number, waited = false): void {
    const rep = this.rep;
    const run = rep.services[service];
    const node = this.model.placeReplica(run.tenantIndex, run.serviceIndex, slot);
    if (!waited) this.live.get(failure)!.pending++;
    if (node === -1) {
      this.waiting.push({ service, slot, since, failure });
      return;
    }
    const r = rep.addReplica(service, node);
    run.replicas[slot] = r;
    this.recoveringSince.set(r, since);
    this.failureOf.set(r, failure);
    this.scheduleReady(r);
  }

  private onRepair(index: number): void {
    const live = this.live.get(index)!;
    const f = live.record;
    f.repaired = this.sim.now;
    live.repairing = false;
    this.model.repairHost(f.host);
    const since = this.downSince.get(f.host)!;
    this.downSince.delete(f.host);
    this.addCapacityLost(f.host, since, this.sim.now);
    const waiting = this.waiting.splice(0);
    for (const w of waiting) this.replace(w.service, w.slot, w.since, w.failure, true);
    this.settle(index);
    const hosts = this.rep.scenario.failures.hosts;
    if (hosts) this.nextFailure.set(f.host, this.sim.schedule(this.failType, this.failureRngs[f.host].exp(hosts.mtbf), f.host));
  }

  private addCapacityLost(host: number, from: number, to: number): void {
    const a = Math.max(from, this.rep.options.warmup);
    const b = Math.min(to, this.rep.end);
    if (b > a) this.capacityLost += this.model.hostRules[host].cores * (b - a);
  }

  /** Closes the down time of hosts still failed at the end. */
  close(): void {
    for (const [host, since] of this.downSince) this.addCapacityLost(host, since, this.rep.end);
  }
}
