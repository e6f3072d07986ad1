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
  /** A job's outcome; once it returns, its results are written and leave Redis. */
  onJob?: (index: number, outcome: JobOutcome) => void;
  /** Replications done (or failed for good) of all, and those failed, as they come. */
  onProgress?: (done: number, total: number, failed: number) => void;
  signal?: AbortSignal;
}

/** Thrown when the wait is stopped (Ctrl-C): the jobs go on in Redis, and `--resume` re-attaches to them. */
export class Detached extends Error {}

/**
 * Runs the replications of `jobs` as BullMQ jobs and assembles each job's results as the local pool does, in job
 * order: the same outcomes, byte for byte, as `runMany`. Jobs already in Redis under the same ids (a resumed
 * sweep) are not added again: finished ones are used, failed ones run again.
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
    const entry: SweepEntry = { id: options.id, file: options.file, started: Date.now(), jobs: [...where.keys()] };
    await client.hset(sweepsKey(name), { [options.id]: JSON.stringify(entry) });
    await events.waitUntilReady();

    const done: ReplicationResult[][] = jobs.map(() => []);
    const failures: { replication: number; message: string }[][] = jobs.map(() => []);
    const outcomes: JobOutcome[] = new Array(jobs.length);
    const pending = new Set(where.keys());
    let failed = 0;
    const total = pending.size;
    let wake: () => void = () => {};
    const settle = (k: number): void => {
      const failedK = failures[k].sort((a, b) => a.replication - b.replication).map((f) => f.message);
      outcomes[k] = failedK.length > 0 ? { error: failedK.join("; ") } : assembled(jobs[k], plugins, done[k]);
      options.onJob?.(k, outcomes[k]);
    };
    /** Looks at a job once; counts it if it is finished (or failed for good). */
    const looking = new Set<string>(); // an event and the poll may look at one job at once: it is counted once
    const look = async (id: string): Promise<void> => {
      if (!pending.has(id) || looking.has(id)) return;
      looking.add(id);
      try {
        await lookOnce(id);
      } finally {
        looking.delete(id);
      }
    };
    const lookOnce = async (id: string): Promise<void> => {
      const job = await Job.fromId<ReplicationJob, ReplicationReturn>(queue, id);
      if (!job) return;
      const state = await job.getState();
      const [k, r] = where.get(id)!;
      if (state === "completed") {
        const [result] = decodePack(Buffer.from(job.returnvalue, "base64")) as ReplicationResult[];
        done[k].push(result);
      } else if (state === "failed") {
        failures[k].push({ replication: r, message: replicationFailure(jobs[k], r, Math.max(1, job.attemptsMade), job.failedReason) });
        failed++;
      } else return;
      pending.delete(id);
      options.onProgress?.(total - pending.size, total, failed);
      if (ids[k].every((x) => !pending.has(x))) {
        settle(k);
        for (const x of ids[k]) await queue.remove(x).catch(() => 0);
      }
      if (pending.size === 0) wake();
    };
    events.on("completed", ({ jobId }) => void look(jobId).catch(() => {}));
    events.on("failed", ({ jobId }) => void look(jobId).catch(() => {}));

    // Add every job not yet in Redis; a failed one (an earlier submission) runs again.
    const add = [...where.keys()].map((id) => {
      const [k, r] = where.get(id)!;
      const data: ReplicationJob = { engine: ENGINE_VERSION, load: { scenario: JSON.stringify(jobs[k].scenario), pluginModules, file: options.file }, replication: r };
      return { name: "replication", data, opts: { jobId: id, attempts: options.attempts, removeOnComplete: false, removeOnFail: false } };
    });
    for (let i = 0; i < add.length; i += 500) await queue.addBulk(add.slice(i, i + 500));
    for (const id of where.keys()) {
      const job = await Job.fromId(queue, id);
      if (job && (await job.getState()) === "failed" && job.data.engine === ENGINE_VERSION) await job.retry("failed").catch(() => {});
    }
    jobs.forEach((_, k) => ids[k].length === 0 && settle(k));
    // Events can be missed across a Redis restart: every job still pending is looked at again now and then.
    const finished = new Promise<void>((resolve) => {
      wake = resolve;
      if (pending.size === 0) resolve();
    });
    const stop = new Promise<never>((_, reject) => {
      const abort = (): void => reject(new Detached());
      if (options.signal?.aborted) abort();
      options.signal?.addEventListener("abort", abort, { once: true });
    });
    stop.catch(() => {});
    let polling = true;
    const poll = (async () => {
      while (polling && pending.size > 0) {
        for (const id of [...pending]) await look(id).catch(() => {});
        await new Promise((r) => setTimeout(r, 1000));
      }
    })();
    try {
      await Promise.race([finished, stop]);
    } finally {
      polling = false;
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
      for (const id of s.jobs) {
        const state = (await queue.getJobState(id)) as string;
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

/** Cancels sweep `id` on `queue`: its jobs not yet running are removed (those running finish and are dropped); false if there is no such sweep. */
export async function cancelSweep(backend: Backend, name: string, id: string): Promise<boolean> {
  const queue = new Queue(name, { connection: backend.connection });
  queue.on("error", () => {});
  try {
    const client = await queue.client;
    const text = await client.hget(sweepsKey(name), id);
    if (text === null) return false;
    for (const jobId of (JSON.parse(text) as SweepEntry).jobs) await queue.remove(jobId).catch(() => 0);
    await client.hdel(sweepsKey(name), id);
    return true;
  } finally {
    await queue.close().catch(() => {});
  }
}

/**
 * A `turtles worker`: takes jobs of `queue` and runs up to `concurrency` of them at once, each in its own worker
 * thread (BullMQ's sandboxed processor). A job whose worker died is seen as stalled after `lockMs` and run again
 * by another worker. Resolves once `signal` aborts and the jobs in hand are done.
 */
export async function runWorker(backend: Backend, name: string, options: { concurrency: number; lockMs?: number; signal: AbortSignal; onEvent?: (line: string) => void }): Promise<void> {
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
  await new Promise<void>((resolve) => (options.signal.aborted ? resolve() : options.signal.addEventListener("abort", () => resolve(), { once: true })));
  await worker.close();
}
