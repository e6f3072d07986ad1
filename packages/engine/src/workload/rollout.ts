/**
 * A simulated kernel patch rollout (scenario `rollout:`, CLI `--rollout`):
 * from `at` seconds after the warm-up, every kernel instance of the stack
 * restarts in turn, at most `maxUnavailable` at once. The instances are the
 * layer nodes that run their own kernel (each VM's guest, each Kata
 * sandbox), in node order, then the hosts in scenario order: a guest
 * recreated by its host's restart boots patched, and a host's restart
 * recreates its guests anyway.
 *
 * One restart, planned, in three parts:
 * - drain: the instance's replicas leave their balancers (no request is sent
 *   to them, so none fails as `unreachable`) and finish what they hold, for
 *   at most `DRAIN_GRACE`; requests still on them then fail as `rollout`;
 * - restart, through the lifecycle's own paths: a host goes down as a failure
 *   found at once (its replicas are placed again where placement finds room,
 *   or wait for it) and is back after its reboot time (`HostRules.reboot`); a
 *   guest kernel restarts in place, ready after its provisioning;
 * - done once the instance is back and the replicas it held are ready again
 *   (where they are now); the next instance starts then.
 *
 * Figures (`StackResults.rollout`): the duration from the first restart's
 * start to the last instance ready (null when the run ended first), requests
 * failed during it, requests completed during it slower than their service's
 * p99 outside it, the most replicas of one service unavailable at once, and
 * the seconds spent draining. Runs without a rollout create none of this.
 */
import type { Simulation } from "../kernel/simulation.js";
import type { Model } from "../model/model.js";
import { Quantiles } from "../stats/quantiles.js";
import type { Lifecycle } from "./lifecycle.js";
import type { Replication } from "./replication.js";

/**
 * The longest a drain waits for a replica's requests before the restart goes
 * on: Kubernetes' terminationGracePeriodSeconds default, 30 s (core/v1 Pod).
 */
export const DRAIN_GRACE = 30;

/** A rollout's figures in one replication's results. */
export interface RolloutFigures {
  /** Seconds from the first restart's start to the last instance ready again; null when the run ended first. */
  duration: number | null;
  /** Measured requests that failed during the rollout (every service's). */
  failed: number;
  /** Requests completed during the rollout slower than their service's p99 outside it (services completing none outside it count none). */
  slowed: number;
  maxUnavailable: number;
  /** Kernel instances restarted (hosts, guests, sandboxes), and the most replicas of one service unavailable at once during the rollout. */
  instances: number;
  maxDown: number;
  /** Seconds instances spent draining, summed (part of the duration). */
  draining: number;
}

const HOST = 0;
const NODE = 1;

export class Rollout {
  /** Each instance: its kind (HOST: `id` is a host index; NODE: a layer node) and its state. */
  private kind: number[] = [];
  private id: number[] = [];
  /** Per instance: its replicas still busy draining, 1 once stopped, replicas not ready again, when its drain started. */
  private busy: number[] = [];
  private stopped: number[] = [];
  private pending: number[] = [];
  private drainStart: number[] = [];
  private next = 0;
  private active = 0;
  private started = -1;
  private finished = -1;
  /** A draining replica -> its instance; a restarted guest's replica not ready again -> its instance; a host restart's failure -> its instance. */
  private readonly drainingOf = new Map<number, number>();
  private readonly restartingOf = new Map<number, number>();
  private readonly failureOf = new Map<number, number>();
  private failedCount = 0;
  private maxDown = 0;
  private drained = 0;
  /** Per service: latencies completed during the rollout, and outside it. */
  private readonly during: number[][];
  private readonly outside: Quantiles[];
  private readonly startType: number;
  private readonly launchType: number;
  private readonly stopType: number;
  private readonly doneType: number;

  constructor(
    private readonly sim: Simulation,
    private readonly model: Model,
    private readonly rep: Replication,
    private readonly lifecycle: Lifecycle,
    private readonly settings: { at: number; maxUnavailable: number },
  ) {
    this.during = rep.services.map(() => []);
    this.outside = rep.services.map(() => new Quantiles());
    this.startType = sim.on("rollout.start", () => this.onStart());
    this.launchType = sim.on("rollout.launch", (i) => this.launch(i));
    this.stopType = sim.on("rollout.stop", (i) => this.stop(i));
    this.doneType = sim.on("rollout.done", (i) => this.done(i));
    sim.scheduleAt(this.startType, rep.options.warmup + settings.at, 0);
  }

  /** True between the first restart's start and the last instance ready again. */
  get inProgress(): boolean {
    return this.started >= 0 && this.finished < 0;
  }

  private onStart(): void {
    for (const n of this.model.kernelInstances()) this.add(NODE, n);
    this.model.hosts.forEach((_, h) => this.add(HOST, h));
    this.started = this.sim.now;
    if (this.kind.length === 0) this.finished = this.sim.now;
    while (this.active < this.settings.maxUnavailable && this.next < this.kind.length) {
      this.active++;
      this.launch(this.next++);
    }
  }

  private add(kind: number, id: number): void {
    this.kind.push(kind);
    this.id.push(id);
    this.busy.push(0);
    this.stopped.push(0);
    this.pending.push(0);
    this.drainStart.push(0);
  }

  /** The node of instance i, or -1 when it is gone or down (failed since: it comes back fresh, or never). */
  private nodeOf(i: number): number {
    if (this.kind[i] === HOST) return this.model.hostDown.has(this.id[i]) ? -1 : this.model.hosts[this.id[i]];
    return this.model.nodes.removed[this.id[i]] ? -1 : this.id[i];
  }

  /** The live replicas on node n. */
  private replicasOn(n: number): number[] {
    const rep = this.rep;
    const out: number[] = [];
    for (const p of this.model.processesBelow(n)) {
      const r = rep.replicaOfNode.get(p);
      if (r !== undefined && !rep.replicaDown[r]) out.push(r);
    }
    return out;
  }

  /** Instance i starts: its replicas leave their balancers and drain; it stops once they hold nothing, or after the grace. */
  private launch(i: number): void {
    const n = this.nodeOf(i);
    if (n < 0) {
      this.done(i);
      return;
    }
    const rep = this.rep;
    this.drainStart[i] = this.sim.now;
    // Cordoned first (as `kubectl drain` does): replicas placed meanwhile, lost elsewhere, go to other instances.
    this.model.cordoned.add(n);
    for (const r of this.replicasOn(n)) {
      rep.notReady(r);
      rep.draining[r] = 1;
      if (rep.inService[r] > 0) {
        this.busy[i]++;
        this.drainingOf.set(r, i);
      }
    }
    this.countDown();
    // Stopped in an event of its own even when idle: instances launched at the same time are all cordoned first.
    this.sim.schedule(this.stopType, this.busy[i] === 0 ? 0 : DRAIN_GRACE, i);
  }

  /** A draining replica holds no request any more (from `Replication.leaveReplica`). */
  idle(r: number): void {
    const i = this.drainingOf.get(r);
    if (i === undefined) return;
    this.drainingOf.delete(r);
    // The restart fails requests: never inside the completion that freed the replica.
    if (--this.busy[i] === 0) this.sim.schedule(this.stopType, 0, i);
  }

  /** Instance i's drain is over (or its grace): it restarts. */
  private stop(i: number): void {
    if (this.stopped[i]) return;
    this.stopped[i] = 1;
    this.drained += this.sim.now - this.drainStart[i];
    const n = this.nodeOf(i);
    // A host down takes no placements anyway, and is back for its waiting replicas; a guest restarts in place.
    this.model.cordoned.delete(this.kind[i] === HOST ? this.model.hosts[this.id[i]] : this.id[i]);
    const replicas = n < 0 ? [] : this.replicasOn(n);
    for (const r of replicas) {
      this.rep.draining[r] = 0;
      this.drainingOf.delete(r);
    }
    if (n < 0) {
      this.done(i);
      return;
    }
    if (this.kind[i] === HOST) {
      const index = this.lifecycle.restartHost(this.id[i], this.model.hostRules[this.id[i]].reboot ?? 0);
      this.failureOf.set(index, i);
      return;
    }
    this.model.restartKernel(n);
    this.pending[i] = replicas.length;
    for (const r of replicas) this.restartingOf.set(r, i);
    if (replicas.length > 0) return;
    // A guest without replicas is done when it is ready again (at once when its plugin provisions it: not known here).
    const ready = this.model.readyAt[n];
    this.sim.scheduleAt(this.doneType, ready === Infinity ? this.sim.now : ready, i);
  }

  /** Replica r of a restarted guest is ready again, or lost (a later failure places it again). */
  replicaSettled(r: number): void {
    const i = this.restartingOf.get(r);
    if (i === undefined) return;
    this.restartingOf.delete(r);
    if (--this.pending[i] === 0) this.sim.schedule(this.doneType, 0, i);
  }

  /** A failure the lifecycle forgets: a restarted host is back and every replica it held is ready again. */
  failureSettled(index: number): void {
    const i = this.failureOf.get(index);
    if (i === undefined) return;
    this.failureOf.delete(index);
    this.sim.schedule(this.doneType, 0, i);
  }

  /** Instance i is back: the next one starts (in an event of its own), or the rollout is over. */
  private done(i: number): void {
    this.stopped[i] = 1;
    if (this.next < this.kind.length) {
      this.sim.schedule(this.launchType, 0, this.next++);
      return;
    }
    if (--this.active === 0) this.finished = this.sim.now;
  }

  /** Replicas of each service not ready now: the most of one service at once is the rollout's `maxDown`. */
  private countDown(): void {
    const rep = this.rep;
    for (const run of rep.services) {
      let down = 0;
      for (const r of run.replicas) if (!rep.replicaReady[r]) down++;
      if (down > this.maxDown) this.maxDown = down;
    }
  }

  /** A measured request failed. */
  failed(): void {
    if (this.inProgress) this.failedCount++;
  }

  /** A measured request of `service` completed with `latency`. */
  completed(service: number, latency: number): void {
    if (this.inProgress) this.during[service].push(latency);
    else this.outside[service].record(latency);
  }

  /** The rollout's figures at the end of the run. */
  figures(): RolloutFigures {
    let slowed = 0;
    this.during.forEach((latencies, s) => {
      if (this.outside[s].count === 0) return;
      const p99 = this.outside[s].quantile(0.99);
      for (const x of latencies) if (x > p99) slowed++;
    });
    return {
      duration: this.finished >= 0 && this.started >= 0 ? this.finished - this.started : null,
      failed: this.failedCount,
      slowed,
      maxUnavailable: this.settings.maxUnavailable,
      instances: this.kind.length,
      maxDown: this.maxDown,
      draining: this.drained,
    };
  }
}
