/**
 * Batch jobs from a job log (SWF): each job arrives at its submit time,
 * waits in a FIFO queue until the hosts have as many free cores as it has
 * processors (optionally EASY-backfilled past a blocked head), then runs
 * `procs` threads, one per core it holds, as CPU work through the same
 * solver as request work (so it contends with co-located services), and
 * leaves when its last thread ends, giving its cores back.
 *
 * The log is read forward as time advances: only the next job waits in
 * memory before its arrival, and the queue and running jobs are typed
 * columns recycled through free lists (their size is the backlog, never the
 * log's length). Every field is a number or a typed array, so a snapshot of
 * the model saves the reader's line position and the scheduler with it.
 *
 * A job's cores are counted whole: a thread holds one core of one host (the
 * hosts' cores less what placement reserved for replicas at the start) from
 * its job's start to its job's end, as a rigid HPC job holds its nodes. Cores
 * are taken from hosts in scenario order (first fit).
 */
import type { Simulation } from "../kernel/simulation.js";
import type { Model } from "../model/model.js";
import { LogHistogram } from "../stats/histogram.js";
import type { SwfJob } from "../trace/swf.js";
import { allocColumns, growColumns, type ColumnSpec } from "../util/typed.js";

/** SWF's bounded slowdown counts a run time under this many seconds as this long (Feitelson's threshold). */
export const SLOWDOWN_BOUND = 10;

/** Where jobs come from: `next()` loads the following job into `job`, false at the end. */
export interface JobSource {
  readonly job: SwfJob;
  next(): boolean;
}

/** How a log maps onto simulated time and work. */
export interface JobReplayOptions {
  /** Trace seconds skipped at the start: a job submitted at trace time `start` arrives at simulated time 0. */
  start: number;
  /** Trace seconds per simulated second (time compression: submit times and run times are divided by it). */
  speedup: number;
  /** Speed of the log's machine relative to nominal: a thread's work is run time x speed core-seconds. */
  speed: number;
  /** EASY backfilling: a later job may start before a blocked head if it does not delay the head's reserved start. */
  backfill: "none" | "easy";
  /** The measured window of simulated time. */
  warmup: number;
  end: number;
}

/** What a replay of jobs measured (DESIGN.md results: `traces.<tenant>`, kind `jobs`). */
export interface JobFigures {
  kind: "jobs";
  /** The stack its tenant names (its jobs run on the hosts themselves). */
  stack: string;
  /** Jobs submitted in the measured window that finished in it. */
  jobs: number;
  /** Seconds from submit to start. */
  wait: { mean: number | null; p50: number | null; p99: number | null };
  /** Bounded slowdown: (wait + run) / max(run, 10 s), at least 1. */
  slowdown: { mean: number | null; p99: number | null };
  /** Core-seconds held by jobs in the measured window over (the hosts' cores x the measured duration). */
  utilisation: number;
  /** Bad rows left out (`onBadRow: skip`). */
  skipped: number;
  /** Jobs of the log that never ran (run time -1). */
  cancelled: number;
  /** Jobs with more processors than all the hosts have: never started, counted here. */
  tooLarge: number;
  /** Jobs still waiting, and running, when the run ended. */
  queued: number;
  running: number;
}

const NONE = -1;

/** Jobs in the system (queued or running), by slot; slots are recycled. */
const JOB_COLUMNS: readonly ColumnSpec[] = [
  ["jSubmit", Float64Array],
  ["jWork", Float64Array],
  ["jEstimate", Float64Array],
  ["jStart", Float64Array],
  ["jProcs", Int32Array],
  ["jThreadsLeft", Int32Array],
  ["jThreads", Int32Array],
];

/** Running threads, by slot: the host index each holds a core of, its job, the next thread of its job. */
const THREAD_COLUMNS: readonly ColumnSpec[] = [
  ["tHost", Int32Array],
  ["tJob", Int32Array],
  ["tNext", Int32Array],
];

/**
 * The batch scheduler of one trace tenant, on the hosts of the model. Created
 * with the replication; call `finish()` once the run ends for its figures.
 */
export class JobReplay {
  // Jobs: see JOB_COLUMNS. A running job's threads: the first thread slot, linked through `tNext`.
  private jSubmit!: Float64Array;
  private jWork!: Float64Array;
  private jEstimate!: Float64Array;
  private jStart!: Float64Array;
  private jProcs!: Int32Array;
  private jThreadsLeft!: Int32Array;
  private jThreads!: Int32Array;
  private jobFree: number[] = [];
  private jobCount = 0;
  /** Waiting jobs, a FIFO ring of job slots. */
  private queue = new Int32Array(64);
  private qHead = 0;
  private qLen = 0;
  /** Running jobs' slots (order irrelevant; EASY sorts them by expected end when it needs to). */
  private running: number[] = [];
  // Threads: see THREAD_COLUMNS.
  private tHost!: Int32Array;
  private tJob!: Int32Array;
  private tNext!: Int32Array;
  private threadFree: number[] = [];
  private threadCount = 0;

  /** Free cores per host index, and in all; the cores jobs may use in all. */
  private readonly free: Int32Array;
  private totalFree = 0;
  readonly cores: number;
  /** A leaf node per host that runs the threads (threads run only on leaves). */
  private readonly leaves: Int32Array;
  private readonly arriveType: number;
  private readonly doneType: number;

  // Measurement.
  private readonly waits = new LogHistogram({ min: 1e-3, max: 1e9 });
  private readonly slowdowns = new LogHistogram({ min: 1, max: 1e9 });
  private held = 0; // cores held by jobs now
  private heldArea = 0; // core-seconds held in the measured window, to `heldSince`
  private heldSince = 0;
  private finished = 0;
  private tooLarge = 0;

  constructor(
    private readonly sim: Simulation,
    private readonly model: Model,
    /** The tenant's name (event names, auxiliary node names). */
    readonly name: string,
    private readonly source: JobSource,
    private readonly options: JobReplayOptions,
    /** Host nodes that ran work during the run (the replication's `hostsUsed`): hosts given a job's thread join it. */
    private readonly hostsUsed: Set<number>,
  ) {
    const m = model;
    allocColumns(this, JOB_COLUMNS, 64);
    allocColumns(this, THREAD_COLUMNS, 256);
    this.free = new Int32Array(m.hosts.length);
    this.leaves = new Int32Array(m.hosts.length);
    m.hosts.forEach((h, i) => {
      // Whole cores not reserved by placed replicas (a job's thread needs a core of its own).
      this.free[i] = Math.max(0, Math.floor(m.nodes.capacityCores[h] - m.nodes.usedCores[h] + 1e-9));
      this.totalFree += this.free[i];
      this.leaves[i] = m.addAuxiliary(h, `jobs:${name}`, 0, Infinity, h);
    });
    this.cores = this.totalFree;
    this.heldSince = options.warmup;
    this.arriveType = sim.on(`trace.${name}.arrive`, () => this.onArrive());
    this.doneType = sim.on(`trace.${name}.threadDone`, (t) => this.onThreadDone(t));
    this.loadNext();
  }

  /** Reads the next job and schedules its arrival (none after the log's end). */
  private loadNext(): void {
    if (!this.source.next()) return;
    const at = (this.source.job.submit - this.options.start) / this.options.speedup;
    this.sim.scheduleAt(this.arriveType, Math.max(at, this.sim.now), 0);
  }

  private onArrive(): void {
    const j = this.source.job;
    const o = this.options;
    if (j.procs > this.cores) this.tooLarge++;
    else {
      const slot = this.jobFree.length > 0 ? this.jobFree.pop()! : this.newJobSlot();
      this.jSubmit[slot] = this.sim.now;
      this.jProcs[slot] = j.procs;
      this.jWork[slot] = (j.run * o.speed) / o.speedup;
      this.jEstimate[slot] = (j.estimate * o.speed) / o.speedup;
      this.enqueue(slot);
    }
    this.loadNext();
    this.schedule();
  }

  private newJobSlot(): number {
    const s = this.jobCount++;
    if (s >= this.jSubmit.length) growColumns(this, JOB_COLUMNS, 2 * this.jSubmit.length);
    return s;
  }

  private enqueue(slot: number): void {
    if (this.qLen === this.queue.length) {
      // Unroll the ring into a doubled one.
      const q = new Int32Array(this.queue.length * 2);
      for (let i = 0; i < this.qLen; i++) q[i] = this.queue[(this.qHead + i) % this.queue.length];
      this.queue = q;
      this.qHead = 0;
    }
    this.queue[(this.qHead + this.qLen++) % this.queue.length] = slot;
  }

  /** The i-th waiting job (0: the head). */
  private queued(i: number): number {
    return this.queue[(this.qHead + i) % this.queue.length];
  }

  /** Removes the i-th waiting job, keeping the others' order. O(i). */
  private dequeueAt(i: number): void {
    const n = this.queue.length;
    for (let k = i; k > 0; k--) this.queue[(this.qHead + k) % n] = this.queue[(this.qHead + k - 1) % n];
    this.qHead = (this.qHead + 1) % n;
    this.qLen--;
  }

  /** Starts the jobs the policy lets start now: the head while it fits, then (EASY) backfills. */
  private schedule(): void {
    while (this.qLen > 0 && this.jProcs[this.queued(0)] <= this.totalFree) {
      const slot = this.queued(0);
      this.dequeueAt(0);
      this.startJob(slot);
    }
    if (this.qLen < 2 || this.options.backfill !== "easy") return;
    // EASY: the head's reservation is the earliest time enough running jobs end (by their estimates); a later job
    // starts now if it fits and either ends by then or uses only cores the head will not need at that time.
    const head = this.queued(0);
    const now = this.sim.now;
    const ends = this.running.map((s) => this.jStart[s] + this.jEstimate[s]);
    const order = this.running.map((_, i) => i).sort((a, b) => ends[a] - ends[b] || a - b);
    let avail = this.totalFree;
    let shadow = Infinity;
    for (const i of order) {
      avail += this.jProcs[this.running[i]];
      if (avail >= this.jProcs[head]) {
        shadow = ends[i];
        break;
      }
    }
    let extra = avail - this.jProcs[head];
    for (let i = 1; i < this.qLen && this.totalFree > 0; ) {
      const slot = this.queued(i);
      const p = this.jProcs[slot];
      const fitsNow = p <= this.totalFree;
      const endsInTime = now + this.jEstimate[slot] <= shadow;
      if (fitsNow && (endsInTime || p <= extra)) {
        if (!endsInTime) extra -= p;
        this.dequeueAt(i);
        this.startJob(slot);
      } else i++;
    }
  }

  private startJob(slot: number): void {
    const now = this.sim.now;
    this.accrue();
    const procs = this.jProcs[slot];
    this.jStart[slot] = now;
    this.jThreadsLeft[slot] = procs;
    this.jThreads[slot] = NONE;
    this.running.push(slot);
    this.held += procs;
    this.totalFree -= procs;
    let left = procs;
    for (let h = 0; left > 0; h++) {
      for (; left > 0 && this.free[h] > 0; left--) {
        this.free[h]--;
        const t = this.newThread();
        this.tHost[t] = h;
        this.tJob[t] = slot;
        this.tNext[t] = this.jThreads[slot];
        this.jThreads[slot] = t;
        this.model.cpu.start(this.leaves[h], this.jWork[slot], 1, this.doneType, t);
        this.hostsUsed.add(this.model.hosts[h]);
      }
    }
  }

  private newThread(): number {
    if (this.threadFree.length > 0) return this.threadFree.pop()!;
    const t = this.threadCount++;
    if (t >= this.tHost.length) growColumns(this, THREAD_COLUMNS, 2 * this.tHost.length);
    return t;
  }

  private onThreadDone(t: number): void {
    const slot = this.tJob[t];
    if (--this.jThreadsLeft[slot] > 0) return;
    // The job's last thread: it leaves, and gives every core back.
    this.accrue();
    const now = this.sim.now;
    for (let k = this.jThreads[slot]; k !== NONE; ) {
      const next = this.tNext[k];
      this.free[this.tHost[k]]++;
      this.threadFree.push(k);
      k = next;
    }
    const procs = this.jProcs[slot];
    this.totalFree += procs;
    this.held -= procs;
    this.running.splice(this.running.indexOf(slot), 1);
    const submit = this.jSubmit[slot];
    if (submit >= this.options.warmup) {
      const wait = this.jStart[slot] - submit;
      const run = now - this.jStart[slot];
      this.finished++;
      this.waits.record(wait);
      this.slowdowns.record(Math.max(1, (wait + run) / Math.max(run, SLOWDOWN_BOUND / this.options.speedup)));
    }
    this.jobFree.push(slot);
    this.schedule();
  }

  /** Adds the core-seconds held since the last change, within the measured window. */
  private accrue(): void {
    const now = Math.min(this.sim.now, this.options.end);
    if (now > this.heldSince) {
      this.heldArea += this.held * (now - this.heldSince);
      this.heldSince = now;
    }
  }

  /** The figures of the measured window (call once the run has reached its end). */
  figures(stack: string, skipped: number, cancelled: number): JobFigures {
    this.accrue();
    const d = this.options.end - this.options.warmup;
    const n = this.finished;
    return {
      kind: "jobs",
      stack,
      jobs: n,
      wait: { mean: n > 0 ? this.waits.mean : null, p50: n > 0 ? this.waits.quantile(0.5) : null, p99: n > 0 ? this.waits.quantile(0.99) : null },
      // A bucket's point may sit just under 1; bounded slowdown is never below 1.
      slowdown: { mean: n > 0 ? this.slowdowns.mean : null, p99: n > 0 ? Math.max(1, this.slowdowns.quantile(0.99)) : null },
      utilisation: this.cores > 0 && d > 0 ? this.heldArea / (this.cores * d) : 0,
      skipped,
      cancelled,
      tooLarge: this.tooLarge,
      queued: this.qLen,
      running: this.running.length,
    };
  }
}
