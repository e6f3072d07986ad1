// `pnpm bench` (after the engine's suite): what a job costs through Redis and BullMQ, against the local pool in the
// same script. (1) Overhead: 1,000 one-replication jobs of a tiny scenario (100 ms simulated) on one local worker
// thread, then on one `turtles worker` process (concurrency 1); the difference per job is what the queue adds (target:
// at most 5 ms). BENCH_JOBS sets the number of tiny jobs. (2) Scale-out: 16 jobs of 1 h simulated (each a second or so
// of work: the queue's cost per job, a few ms, is lost in it, as the target's "throughput" means) on one worker process,
// then on two, each process warmed by a round of jobs first (a worker thread starts, and imports the engine, on its first
// job); target: at least 1.8x on 2 cores. BENCH_HEAVY sets the simulated time of those jobs.
// It starts its own redis-server on a free port (skipped, saying so, without one); run it alone on the machine: the
// load average printed beside each figure says how alone it was.
import { spawn } from "node:child_process";
import { loadavg } from "node:os";
import { join } from "node:path";
import { loadScenario } from "@turtles/engine";
import { runMany } from "@turtles/engine/pool";
import { redisMissing, startRedis } from "../scripts/redis-server.mjs";

const cli = join(import.meta.dirname, "..");
const { backendOf, runOnBackend } = await import(join(cli, "dist", "lib", "backend.js"));
const { backendJobs } = await import(join(cli, "dist", "lib", "backend-flags.js"));
const { builtinPluginModules, loadPlugins } = await import(join(cli, "dist", "lib", "scenario-file.js"));

if (redisMissing) {
  console.log("backend bench skipped: redis-server not installed");
  process.exit(0);
}

const plugins = await loadPlugins([]);
const scenarioOf = (duration, seed) =>
  loadScenario(
    `seed: ${seed}\nduration: ${duration}\nreplications: 1\nhostTypes: { h: { cores: 2, memory: 4GiB } }\nhosts: [{ type: h }]\n` +
      `tenants:\n  - name: t\n    services:\n      - { name: a, load: { open: { rate: 100/s } }, request: [{ cpu: 1ms }] }\n`,
    { file: "bench.yaml", plugins },
  );
const redis = await startRedis();
const backend = backendOf(redis.url);

/** Starts `n` worker processes (concurrency 1 each) and resolves once each takes jobs. */
async function workers(n) {
  return Promise.all(
    Array.from({ length: n }, () => {
      const child = spawn(process.execPath, [join(cli, "bin", "run.js"), "worker", "--backend", redis.url, "--queue", "bench", "--concurrency", "1"], { stdio: ["ignore", "ignore", "pipe"] });
      // Its first line says it listens; the rest (a line a job) is read and dropped, so its pipe never fills.
      return new Promise((resolve) => child.stderr.on("data", () => resolve(child)));
    }),
  );
}
const stop = async (children) => Promise.all(children.map((c) => new Promise((resolve) => (c.once("exit", resolve), c.kill("SIGTERM")))));

async function timed(work) {
  const t0 = performance.now();
  const outcomes = await work();
  const failed = outcomes.filter((o) => o.error !== undefined);
  if (failed.length > 0) throw new Error(`bench jobs failed: ${failed[0].error}`);
  return (performance.now() - t0) / 1000;
}
const onBackend = (jobs, tag) => runOnBackend(jobs, plugins, backendJobs(backend, "bench", tag, "bench.yaml", 0));

/** The 1-minute load average, to print beside a figure: above the 2 cores' 2, other work shared the machine. */
const load = () => `load average ${loadavg()[0].toFixed(1)}`;

try {
  const tiny = Array.from({ length: Number(process.env.BENCH_JOBS ?? 1000) }, (_, k) => ({ scenario: scenarioOf("100ms", k) }));
  const local = await timed(() => runMany(tiny, plugins, { workers: 1, pluginModules: builtinPluginModules }));
  const localLoad = load();
  const one = await workers(1);
  const queued = await timed(() => onBackend(tiny, "tiny"));
  await stop(one);
  const overheadMs = ((queued - local) / tiny.length) * 1000;
  console.log(
    `backend: ${tiny.length} tiny jobs: local pool (1 thread) ${local.toFixed(2)} s (${localLoad}), through Redis (1 worker process) ${queued.toFixed(2)} s (${load()}): ` +
      `${overheadMs.toFixed(2)} ms per job above the local pool (target <= 5 ms)`,
  );

  const heavyTime = process.env.BENCH_HEAVY ?? "1h";
  const heavy = (tag, n, from) => Array.from({ length: n }, (_, k) => ({ scenario: scenarioOf(heavyTime, from + k), label: tag }));
  /** Seconds for 16 heavy jobs on `n` worker processes, each warmed first by a round of jobs (not timed). */
  const scaleOut = async (n) => {
    const procs = await workers(n);
    try {
      await timed(() => onBackend(heavy(`warm-${n}`, 2 * n, 2000 + 10 * n), `warm-${n}`));
      return await timed(() => onBackend(heavy(`heavy-${n}`, 16, 1000), `heavy-${n}`));
    } finally {
      await stop(procs);
    }
  };
  const single = await scaleOut(1);
  const singleLoad = load();
  const double = await scaleOut(2);
  console.log(
    `backend: 16 jobs of ${heavyTime} simulated (${((single / 16) * 1000).toFixed(0)} ms each on one process): 1 worker process ${single.toFixed(2)} s (${singleLoad}), ` +
      `2 processes ${double.toFixed(2)} s (${load()}): ${(single / double).toFixed(2)}x the throughput (target >= 1.8x on 2 cores)`,
  );
} finally {
  await redis.stop();
}
