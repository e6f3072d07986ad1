// `pnpm bench` (after the engine's suite): what a job costs through Redis and BullMQ, against the local pool in the
// same script. (1) Overhead: 1,000 one-replication jobs of a tiny scenario on one local worker thread, then on one
// `turtles worker` process (concurrency 1); the difference per job is what the queue adds (target: at most 5 ms).
// BENCH_JOBS sets the number of tiny jobs. (2) Scale-out: 24 heavier jobs on one worker process, then on two (target: at least 1.8x on 2 cores).
// It starts its own redis-server on a free port (skipped, saying so, without one); run it alone on the machine.
import { spawn } from "node:child_process";
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

/** Starts `n` worker processes (concurrency 1 each) and resolves once each listens. */
async function workers(n) {
  return Promise.all(
    Array.from({ length: n }, () => {
      const child = spawn(process.execPath, [join(cli, "bin", "run.js"), "worker", "--backend", redis.url, "--queue", "bench", "--concurrency", "1"], { stdio: ["ignore", "ignore", "pipe"] });
      return new Promise((resolve) => child.stderr.once("data", () => resolve(child)));
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

try {
  const tiny = Array.from({ length: Number(process.env.BENCH_JOBS ?? 1000) }, (_, k) => ({ scenario: scenarioOf("100ms", k) }));
  const local = await timed(() => runMany(tiny, plugins, { workers: 1, pluginModules: builtinPluginModules }));
  const one = await workers(1);
  const queued = await timed(() => onBackend(tiny, "tiny"));
  await stop(one);
  const overheadMs = ((queued - local) / tiny.length) * 1000;
  console.log(`backend: ${tiny.length} tiny jobs: local pool (1 thread) ${local.toFixed(2)} s, through Redis (1 worker process) ${queued.toFixed(2)} s: ${overheadMs.toFixed(2)} ms per job above the local pool (target <= 5 ms)`);

  const heavy = (tag) => Array.from({ length: 24 }, (_, k) => ({ scenario: scenarioOf("60s", 1000 + k), label: tag }));
  let procs = await workers(1);
  const single = await timed(() => onBackend(heavy("one"), "one"));
  await stop(procs);
  procs = await workers(2);
  const double = await timed(() => onBackend(heavy("two"), "two"));
  await stop(procs);
  console.log(`backend: 24 jobs of 60 s simulated: 1 worker process ${single.toFixed(2)} s, 2 processes ${double.toFixed(2)} s: ${(single / double).toFixed(2)}x the throughput (target >= 1.8x on 2 cores)`);
} finally {
  await redis.stop();
}
