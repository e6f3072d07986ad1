// `pnpm bench` (after the engine's suite): what a job costs through Redis and BullMQ, against the local pool in the
// same script. (1) Overhead: 1,000 one-replication jobs of a tiny scenario (100 ms simulated) on one local worker
// thread, then on one `turtles worker` process (concurrency 1); the difference per job is what the queue adds (target:
// at most 5 ms). BENCH_JOBS sets the number of tiny jobs. (2) Scale-out: 16 jobs of 1 h simulated (each a second or so
// of work: the queue's cost per job, a few ms, is lost in it, as the target's "throughput" means) on one worker process,
// then on two, each process warmed by a round of jobs first (a worker thread starts, and imports the engine, on its first
// job); target: at least 1.8x on 2 cores. BENCH_HEAVY sets the simulated time of those jobs.
// Each figure comes with the load average and the CPU its processes spent (Linux): on a shared machine the wall time
// says how much of the cores the work got as much as what it cost. Each scale-out worker runs in a session of its own,
// as one started by hand does, so that Linux's autogroup gives it its own part of a busy machine's cores.
// It starts its own redis-server on a free port (skipped, saying so, without one); run it alone on the machine.
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
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

/**
 * Starts `n` worker processes (concurrency 1 each) and resolves once each takes jobs. `ownSession`: each in a session
 * of its own, as a worker started on its own is; Linux's autogroup scheduler shares the cores fairly between sessions,
 * so on a busy machine workers in this script's session would share one session's part of the cores however many.
 */
async function workers(n, ownSession = false) {
  return Promise.all(
    Array.from({ length: n }, () => {
      const child = spawn(process.execPath, [join(cli, "bin", "run.js"), "worker", "--backend", redis.url, "--queue", "bench", "--concurrency", "1"], {
        stdio: ["ignore", "ignore", "pipe"],
        detached: ownSession,
      });
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

// On a shared machine wall time says how much of the cores the work got as much as what it cost: the CPU seconds of
// each process (Linux's /proc; NaN elsewhere) say what it cost, and what share of the cores it had.
const tick = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout) || 100;
/** CPU seconds (user + system, all threads) of process `pid` so far. */
function cpuOf(pid) {
  if (pid === process.pid) {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  }
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /, "").split(" ");
    return (Number(fields[11]) + Number(fields[12])) / tick; // utime, stime: fields 14 and 15 of stat
  } catch {
    return NaN;
  }
}
/** `work`'s wall seconds and the CPU seconds that processes `pids()` spent meanwhile. */
async function measured(pids, work) {
  const before = pids().map(cpuOf);
  const wall = await timed(work);
  return { wall, cpu: pids().map((pid, i) => cpuOf(pid) - before[i]) };
}
const ms = (seconds, n) => `${((seconds / n) * 1000).toFixed(1)} ms`;

try {
  const tiny = Array.from({ length: Number(process.env.BENCH_JOBS ?? 1000) }, (_, k) => ({ scenario: scenarioOf("100ms", k) }));
  const local = await measured(() => [process.pid], () => runMany(tiny, plugins, { workers: 1, pluginModules: builtinPluginModules }));
  const localLoad = load();
  const one = await workers(1); // in this session, as the local pool: the same part of a busy machine's cores
  // The submitter (this process), the worker process and redis-server.
  const queued = await measured(() => [process.pid, one[0].pid, redis.pid], () => onBackend(tiny, "tiny"));
  await stop(one);
  const n = tiny.length;
  const [submitter, worker, server] = queued.cpu;
  console.log(
    `backend: ${n} tiny jobs: local pool (1 thread) ${local.wall.toFixed(2)} s (${localLoad}), through Redis (1 worker process) ${queued.wall.toFixed(2)} s (${load()}): ` +
      `${ms(queued.wall - local.wall, n)} per job above the local pool (target <= 5 ms); CPU per job: local ${ms(local.cpu[0], n)}, ` +
      `through Redis ${ms(submitter + worker + server, n)} (worker ${ms(worker, n)}, submitter ${ms(submitter, n)}, redis-server ${ms(server, n)})`,
  );

  const heavyTime = process.env.BENCH_HEAVY ?? "1h";
  const heavy = (tag, n, from) => Array.from({ length: n }, (_, k) => ({ scenario: scenarioOf(heavyTime, from + k), label: tag }));
  /** 16 heavy jobs on `n` worker processes, each warmed first by a round of jobs (not timed): wall and their CPU seconds. */
  const scaleOut = async (n) => {
    const procs = await workers(n, true);
    try {
      await timed(() => onBackend(heavy(`warm-${n}`, 2 * n, 2000 + 10 * n), `warm-${n}`));
      const { wall, cpu } = await measured(() => procs.map((p) => p.pid), () => onBackend(heavy(`heavy-${n}`, 16, 1000), `heavy-${n}`));
      const seconds = cpu.reduce((a, b) => a + b, 0);
      return { wall, cpu: seconds, cores: seconds / wall };
    } finally {
      await stop(procs);
    }
  };
  const single = await scaleOut(1);
  const singleLoad = load();
  const double = await scaleOut(2);
  // The cores each run had say what the machine gave it; the CPU per job, whether two processes cost more than one.
  console.log(
    `backend: 16 jobs of ${heavyTime} simulated (${ms(single.wall, 16)} each on one process): 1 worker process ${single.wall.toFixed(2)} s on ${single.cores.toFixed(2)} cores ` +
      `(${singleLoad}), 2 processes ${double.wall.toFixed(2)} s on ${double.cores.toFixed(2)} cores (${load()}): ${(single.wall / double.wall).toFixed(2)}x the throughput ` +
      `(target >= 1.8x on 2 cores); CPU per job ${ms(single.cpu, 16)} on 1 process, ${ms(double.cpu, 16)} on 2`,
  );
} finally {
  await redis.stop();
}
