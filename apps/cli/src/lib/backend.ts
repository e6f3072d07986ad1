/**
 * `--backend redis://HOST:PORT`: replications as BullMQ jobs in Redis, run by `turtles worker` processes on any
 * machine. BullMQ gives the retries, the stalled-job detection (a worker killed mid-job: its lock lapses and another
 * worker runs the job again) and persistence; this file only keys the jobs and assembles their results as the
 * local pool does (`assembled`, `replicationFailure`), so the rows are the same bytes.
 *
 * A job's id is (scenario hash, point, replication): adding it again (a re-submitted or resumed sweep) adds nothing,
 * and a job already finished is never run again. Its result stays in Redis until the sweep that owns it has written
 * it (`onJob` returned); then the job is removed.
 */
import { fileURLToPath } from "node:url";
import { Job, Queue, QueueEvents, Worker, type RedisOptions } from "bullmq";
import { ENGINE_VERSION, scenarioHash, type ReplicationResult } from "@turtles/engine";
import { assembled, replicationFailure, type JobOutcome, type PoolJob } from "@turtles/engine/pool";
import type { PluginDefinition } from "@turtles/engine/plugin";
import { decodePack } from "@turtles/engine/worker";
import type { ReplicationMark } from "./progress.js";
import { builtinPluginModules } from "./scenario-file.js";
import { BUILTIN_PLUGIN_PACKAGES, type ReplicationJob, type ReplicationReturn } from "./queue-job.js";

/** A --backend that cannot be used (a bad URL, Redis down, credentials refused): bad input, exit 2, one line. */
export class BackendError extends Error {}

/** Where a backend is, for messages (never its password), and how BullMQ connects to it. */
export interface Backend {
  where: string;
  connection: RedisOptions;
}

/** Reads a `redis://[USER:PASSWORD@]HOST[:PORT][/DB]` (or `rediss://`, TLS) URL; a BackendError says what to give. */
export function backendOf(url: string): Backend {
  const usage = "give redis://HOST:PORT (rediss:// for TLS; redis://:PASSWORD@HOST:PORT with a password)";
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new BackendError(`--backend ${url}: not a URL; ${usage}`);
  }
  if (u.protocol !== "redis:" && u.protocol !== "rediss:") throw new BackendError(`--backend ${url}: the scheme is ${u.protocol.slice(0, -1)}, not redis; ${usage}`);
  if (u.hostname === "") throw new BackendError(`--backend ${url}: it names no host; ${usage}`);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new BackendError(`--backend ${url}: ${u.pathname.slice(1)} is not a database number; ${usage}`);
  const port = u.port === "" ? 6379 : Number(u.port);
  return {
    where: `${u.hostname}:${port}`,
    connection: {
      host: u.hostname.replace(/^\[|\]$/g, ""),
      port,
      username: u.username ? decodeURIComponent(u.username) : undefined,
      password: u.password ? decodeURIComponent(u.password) : undefined,
      db,
      tls: u.protocol === "rediss:" ? {} : undefined,
      // Workers block on Redis: BullMQ needs commands to wait for a reconnection (a Redis restart) rather than fail.
      maxRetriesPerRequest: null,
    },
  };
}

/**
 * Checks that Redis answers at `backend` (once, no retries): a BackendError with what went wrong and what to do when
 * it is down, refuses the credentials, or is not Redis.
 */
export async function checkBackend(backend: Backend, queue: string): Promise<void> {
  let last: Error | undefined;
  const probe = new Queue(queue, { connection: { ...backend.connection, retryStrategy: () => null, connectTimeout: 5000, maxRetriesPerRequest: 1 } });
  probe.on("error", (err) => (last ??= err));
  try {
    const client = await probe.client;
    await client.info();
  } catch (err) {
    const e = last ?? (err as Error);
    const text = `${e.message} ${(e as NodeJS.ErrnoException).code ?? ""}`;
    if (/WRONGPASS|NOAUTH|invalid password|AUTH/i.test(text)) {
      throw new BackendError(`--backend: Redis at ${backend.where} refused the credentials (${e.message}); give the right ones in the URL, redis://USER:PASSWORD@${backend.where}`);
    }
    const why = /ECONNREFUSED/.test(text) ? "connection refused" : /ENOTFOUND|EAI_AGAIN/.test(text) ? "no such host" : e.message;
    throw new BackendError(`--backend: cannot reach Redis at ${backend.where} (${why}); start redis-server there, or give the --backend of a running one`);
  } finally {
    await probe.close().catch(() => {});
  }
}

/** The Redis key that lists the sweeps of `queue` in progress (id -> JSON of `SweepEntry`). */
const sweepsKey = (queue: string): string => `turtles:${queue}:sweeps`;

/** A sweep in progress, as `--status` lists it. */
export interface SweepEntry {
  id: string;
  file: string;
  started: number;
  jobs: string[];
}

/** The plugin modules a job names: the CLI's own as package names (each worker has them), others as given. */
function jobModules(modules: readonly string[]): string[] {
  return modules.map((m) => {
    const i = builtinPluginModules.indexOf(m);
    return i >= 0 ? BUILTIN_PLUGIN_PACKAGES[i] : m;
  });
}

export interface BackendOptions {
  backend: Backend;
  queue: string;
  /** The sweep's (or run's) id, for `--status` and `--cancel`. */
  id: string;
  file: string;
  /** Runs of a replication (1 + --retries) before it fails for good; a stalled run counts too. */
  attempts: number;
  pluginModules: string[];
  /** The point index of each job (default: its position), part of its job ids. */
  points?: number[];
  /** Re-attaching (`--resume`): a sweep cancelled since is refused (a CancelledError), not submitted again. */
  resume?: boolean;
  /** A job's outcome; once it returns, its results are written and leave Redis. */
  onJob?: (index: number, outcome: JobOutcome) => void;
  /** Replication `replication` of job `index` started on a worker, went back to waiting (its worker died), or ended. */
  onReplication?: (index: number, replication: number, state: ReplicationMark) => void;
  signal?: AbortSignal;
}

/** Thrown when the wait is stopped (Ctrl-C): the jobs go on in Redis, and `--resume` re-attaches to them. */
export class Detached extends Error {}

/** Thrown when the sweep was cancelled (`sweep --cancel ID`) while the submitter waited, or before a `--resume`: a failure of the work, exit 1. */
export class CancelledError extends Error {}

/** The Redis key of the sweeps of `queue` cancelled (id -> when), so that a `--resume` of one says so instead of running it again. */
const cancelledKey = (queue: string): string => `turtles:${queue}:cancelled`;

/** What a submitter of sweep (or run) `id`, cancelled at `at` (milliseconds, as Redis keeps it), is told. */
const cancelledMessage = (id: string, at: string): string => `${id} was cancelled at ${new Date(Number(at)).toISOString()} (turtles sweep --cancel ${id})`;

/** How often the submitter looks at Redis itself: for results whose event it missed (a Redis restart), the jobs running and a cancel. */
const POLL_MS = 1000;

/** Commands sent at once without waiting for each answer (ioredis pipelines them on one connection). */
const BATCH = 500;

/** `f` of every item, `BATCH` at a time in flight: one round trip's latency per batch, not per item. */
async function batched<T, R>(items: readonly T[], f: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += BATCH) out.push(...(await Promise.all(items.slice(i, i + BATCH).map(f))));
  return out;
}

/**
 * Runs the replications of `jobs` as BullMQ jobs and assembles each job's results as the local pool does, in job
 * order: the same outcomes, byte for byte, as `runMany`. Jobs already in Redis under the same ids (a resumed
 * sweep) are not added again: finished ones are used, failed ones run again. A result comes with its job's
 * `completed` event; a poll every second catches the ones whose event was lost, which jobs run, and a cancel.
 */
export async function runOnBackend(jobs: readonly PoolJob[], plugins: readonly PluginDefinition[], options: BackendOptions): Promise<JobOutcome[]> {
  const { backend, queue: name } = options;
  const queue = new Queue<ReplicationJob, ReplicationReturn>(name, { connection: backend.connection });
  const events = new QueueEvents(name, { connection: backend.connection });
  queue.on("error", () => {}); // reconnections (a Redis restart) are retried; the wait below goes on
  events.on("error", () => {});
  try {
    const pluginModules = jobModules(options.pluginModules);
    const ids: string[][] = jobs.map((j, k) => {
      const hash = scenarioHash(j.scenario).replace(/^sha256:/, "");
      return Array.from({ length: j.scenario.replications }, (_, r) => `${hash}.${options.points?.[k] ?? k}.${r}`);
    });
    const where = new Map<string, [number, number]>();
    ids.forEach((list, k) => list.forEach((id, r) => where.set(id, [k, r])));
    const client = await queue.client;
    const cancelledAt = await client.hget(cancelledKey(name), options.id);
    if (cancelledAt !== null) {
      if (options.resume) throw new CancelledError(`${cancelledMessage(options.id, cancelledAt)}; run the same command without --resume to start it again`);
      await client.hdel(cancelledKey(name), options.id); // submitted afresh
    }
    const entry: SweepEntry = { id: options.id, file: options.file, started: Date.now(), jobs: [...where.keys()] };
    await client.hset(sweepsKey(name), { [options.id]: JSON.stringify(entry) });
    await events.waitUntilReady();

    const done: ReplicationResult[][] = jobs.map(() => []);
    const failures: { replication: number; message: string }[][] = jobs.map(() => []);
    const outcomes: JobOutcome[] = new Array(jobs.length);
    const pending = new Set(where.keys());
    const running = new Set<string>();
    let wake: () => void = () => {};
    let cancelled: (err: CancelledError) => void = () => {};
    const settle = (k: number): void => {
      const failedK = failures[k].sort((a, b) => a.replication - b.replication).map((f) => f.message);
      outcomes[k] = failedK.length > 0 ? { error: failedK.join("; ") } : assembled(jobs[k], plugins, done[k]);
      options.onJob?.(k, outcomes[k]);
    };
    const state = (id: string, now: ReplicationMark): void => {
      const [k, r] = where.get(id)!;
      options.onReplication?.(k, r, now);
    };
    /** Counts a job that finished: its result (or failure) is kept, and once its point is complete the point is settled and leaves Redis. */
    const finish = (id: string, result: { pack: ReplicationReturn } | { failure: string }): void => {
      if (!pending.delete(id)) return; // counted already (its event and the poll both saw it)
      running.delete(id);
      const [k, r] = where.get(id)!;
      if ("pack" in result) {
        done[k].push((decodePack(Buffer.from(result.pack, "base64")) as ReplicationResult[])[0]);
        state(id, "done");
      } else {
        failures[k].push({ replication: r, message: result.failure });
        state(id, "failed");
      }
      if (ids[k].every((x) => !pending.has(x))) {
        settle(k);
        void Promise.all(ids[k].map((x) => queue.remove(x).catch(() => 0)));
      }
      if (pending.size === 0) wake();
    };
    /** Looks at a job once (its event may be lost, or say only that an attempt failed): counts it if it is finished. */
    const look = async (id: string): Promise<void> => {
      if (!pending.has(id)) return;
      const job = await Job.fromId<ReplicationJob, ReplicationReturn>(queue, id);
      const now = job && pending.has(id) ? await job.getState() : undefined;
      if (now === "completed") finish(id, { pack: job!.returnvalue });
      else if (now === "failed") {
        const [k, r] = where.get(id)!;
        finish(id, { failure: replicationFailure(jobs[k], r, Math.max(1, job!.attemptsMade), job!.failedReason) });
      }
    };
    // perf: a completed event carries the result, so a job costs no more round trips than BullMQ's own.
    events.on("completed", ({ jobId, returnvalue }) => where.has(jobId) && finish(jobId, { pack: returnvalue as unknown as ReplicationReturn }));
    events.on("failed", ({ jobId }) => void look(jobId).catch(() => {})); // a failure of an attempt: for good only when its job says so
    events.on("active", ({ jobId }) => {
      if (!pending.has(jobId) || running.has(jobId)) return;
      running.add(jobId);
      state(jobId, "running");
    });

    // Add every job not yet in Redis (those there, such as a resumed sweep's, stay as they are).
    const add = [...where.keys()].map((id) => {
      const [k, r] = where.get(id)!;
      const data: ReplicationJob = { engine: ENGINE_VERSION, load: { scenario: JSON.stringify(jobs[k].scenario), pluginModules, file: options.file }, replication: r };
      return { name: "replication", data, opts: { jobId: id, attempts: options.attempts, removeOnComplete: false, removeOnFail: false } };
    });
    for (let i = 0; i < add.length; i += BATCH) await queue.addBulk(add.slice(i, i + BATCH));
    // A job that failed for good in an earlier submission runs again; finished ones are counted by the first poll.
    if ((await queue.getFailedCount()) > 0) {
      const failed = (await queue.getRanges(["failed"], 0, -1)).filter((id) => where.has(id));
      await batched(failed, async (id) => {
        const job = await Job.fromId(queue, id);
        if (job?.data.engine === ENGINE_VERSION) await job.retry("failed").catch(() => {});
      });
    }
    jobs.forEach((_, k) => ids[k].length === 0 && settle(k));
    const finished = new Promise<void>((resolve) => {
      wake = resolve;
      if (pending.size === 0) resolve();
    });
    const stop = new Promise<never>((_, reject) => {
      cancelled = reject;
      const abort = (): void => reject(new Detached());
      if (options.signal?.aborted) abort();
      options.signal?.addEventListener("abort", abort, { once: true });
    });
    stop.catch(() => {});
    let polling = true;
    let sleep: () => void = () => {};
    const poll = (async () => {
      while (polling && pending.size > 0) {
        try {
          // One round trip for what is running and one for what ended: not a look at each pending job.
          const [active, ended, at] = await Promise.all([queue.getRanges(["active"], 0, -1), queue.getRanges(["completed", "failed"], 0, -1), client.hget(cancelledKey(name), options.id)]);
          if (at !== null) cancelled(new CancelledError(cancelledMessage(options.id, at)));
          const now = new Set(active.filter((id) => pending.has(id)));
          for (const id of running) if (!now.has(id) && pending.has(id)) (running.delete(id), state(id, "waiting"));
          for (const id of now) if (!running.has(id)) (running.add(id), state(id, "running"));
          await batched(ended.filter((id) => pending.has(id)), look);
        } catch {
          // Redis away (a restart): the next poll looks again
        }
        await new Promise<void>((r) => {
          sleep = r;
          setTimeout(r, POLL_MS);
        });
      }
    })();
    try {
      await Promise.race([finished, stop]);
    } finally {
      polling = false;
      sleep();
      await poll.catch(() => {});
    }
    await client.hdel(sweepsKey(name), options.id);
    return outcomes;
  } finally {
    await events.close().catch(() => {});
    await queue.close().catch(() => {});
  }
}

/** The sweeps in progress on `queue`, with how many of their jobs are in each state. */
export async function backendStatus(backend: Backend, name: string): Promise<(SweepEntry & { counts: Record<string, number> })[]> {
  const queue = new Queue(name, { connection: backend.connection });
  queue.on("error", () => {});
  try {
    const client = await queue.client;
    const all = Object.values(await client.hgetall(sweepsKey(name))).map((v) => JSON.parse(v) as SweepEntry);
    const out = [];
    for (const s of all.sort((a, b) => a.started - b.started)) {
      const counts: Record<string, number> = {};
      for (const state of await batched(s.jobs, (id) => queue.getJobState(id) as Promise<string>)) {
        const key = state === "unknown" ? "written" : state;
        counts[key] = (counts[key] ?? 0) + 1;
      }
      out.push({ ...s, counts });
    }
    return out;
  } finally {
    await queue.close().catch(() => {});
  }
}

/**
 * Cancels sweep `id` on `queue`: its jobs not yet running are removed (those running finish, and their results stay
 * for a later submission of the same sweep), and its submitter, or a `--resume`, is told so; false if there is no such sweep.
 */
export async function cancelSweep(backend: Backend, name: string, id: string): Promise<boolean> {
  const queue = new Queue(name, { connection: backend.connection });
  queue.on("error", () => {});
  try {
    const client = await queue.client;
    const text = await client.hget(sweepsKey(name), id);
    if (text === null) return false;
    await client.hset(cancelledKey(name), { [id]: String(Date.now()) });
    await batched((JSON.parse(text) as SweepEntry).jobs, (jobId) => queue.remove(jobId).catch(() => 0));
    await client.hdel(sweepsKey(name), id);
    return true;
  } finally {
    await queue.close().catch(() => {});
  }
}

/**
 * A `turtles worker`: takes jobs of `queue` and runs up to `concurrency` of them at once, each in its own worker
 * thread (BullMQ's sandboxed processor). A job whose worker died is seen as stalled after `lockMs` and run again
 * by another worker. `onReady` is called once it takes jobs. Resolves once `signal` aborts and the jobs in hand are done.
 */
export async function runWorker(backend: Backend, name: string, options: { concurrency: number; lockMs?: number; signal: AbortSignal; onReady?: () => void; onEvent?: (line: string) => void }): Promise<void> {
  const lockDuration = options.lockMs ?? 30_000;
  const worker = new Worker<ReplicationJob, ReplicationReturn>(name, fileURLToPath(new URL("./queue-processor.js", import.meta.url)), {
    connection: backend.connection,
    concurrency: options.concurrency,
    useWorkerThreads: true,
    lockDuration,
    stalledInterval: lockDuration,
    maxStalledCount: 1,
  });
  worker.on("error", () => {}); // reconnections are BullMQ's
  worker.on("active", (job) => options.onEvent?.(`job ${job.id} started (replication ${job.data.replication})`));
  worker.on("failed", (job, err) => job && options.onEvent?.(`job ${job.id} failed (attempt ${job.attemptsMade}): ${err.message}`));
  await worker.waitUntilReady();
  options.onReady?.();
  await new Promise<void>((resolve) => (options.signal.aborted ? resolve() : options.signal.addEventListener("abort", () => resolve(), { once: true })));
  await worker.close();
}
