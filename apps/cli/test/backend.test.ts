import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Queue, QueueEvents } from "bullmq";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { redisMissing, startRedis } from "../scripts/redis-server.mjs";

const bin = join(import.meta.dirname, "..", "bin", "run.js");
const examples = join(import.meta.dirname, "..", "..", "..", "examples");
const fixtures = join(import.meta.dirname, "fixtures");

function turtles(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The sweep as a child process, for what a test does while it runs. */
function turtlesAsync(...args: string[]): { child: ChildProcess; stderr: () => string; done: Promise<number | null> } {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  child.stderr!.on("data", (d) => (err += d));
  child.stdout!.resume();
  return { child, stderr: () => err, done: new Promise((resolve) => child.once("exit", (code) => resolve(code))) };
}

/** A command run to its end without blocking this event loop (workers' output is read on it). */
async function run(...args: string[]): Promise<{ code: number | null; stdout: string }> {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ["ignore", "pipe", "ignore"] });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  return { code, stdout: out };
}

async function until(what: () => boolean, label: string, look?: () => Promise<void>): Promise<void> {
  for (let i = 0; i < 600 && (await look?.(), !what()); i++) await new Promise((r) => setTimeout(r, 50));
  if (!what()) throw new Error(`timed out waiting for ${label}`);
}

describe.skipIf(redisMissing)("sweeps on a BullMQ backend", () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  const workers: ChildProcess[] = [];
  const worker = (...extra: string[]): ReturnType<typeof turtlesAsync> => {
    // A 2 s lock finds a killed worker's job fast; a test that kills none may give a longer one (a loaded machine can
    // starve a lock's renewal past 2 s, and the job then counts as stalled).
    const lock = extra.includes("--lock") ? [] : ["--lock", "2s"];
    const w = turtlesAsync("worker", "--backend", redis.url, "--concurrency", "1", ...lock, ...extra);
    workers.push(w.child);
    return w;
  };
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    for (const w of workers) w.kill("SIGKILL");
    await redis?.stop();
  });

  const overload = join(examples, "overload.yaml");
  const sweep = ["sweep", overload, "--param", "services.checkout.replicas=1,2,3", "--duration", "20s", "--replications", "2"];

  it("gives the local sweep's bytes over two worker processes, when a worker is SIGKILLed mid-job and when Redis restarts", async () => {
    const dir = mkdtempSync(join(tmpdir(), "turtles-backend-"));
    expect(turtles(...sweep, "--out", join(dir, "local.json")).code).toBe(0);
    const local = readFileSync(join(dir, "local.json"), "utf8");

    // Two workers: the same bytes.
    const a = worker();
    const first = worker();
    // (Not spawnSync while workers run: their output is read on this event loop.)
    expect(await turtlesAsync(...sweep, "--backend", redis.url, "--out", join(dir, "two.json")).done).toBe(0);
    expect(readFileSync(join(dir, "two.json"), "utf8")).toBe(local);

    // Worker a, alone, is killed while it runs a job: after its lock lapses (2 s) worker b runs the job again; each point once.
    first.child.kill("SIGTERM");
    const long = ["sweep", overload, "--param", "services.checkout.replicas=2,3", "--duration", "300s", "--replications", "1"];
    const seen = a.stderr().length; // what worker a said during the sweep above
    const killed = turtlesAsync(...long, "--backend", redis.url, "--out", join(dir, "killed.json"));
    await until(() => /job \S+ started/.test(a.stderr().slice(seen)), "a job on worker a");
    a.child.kill("SIGKILL");
    const b = worker();
    const job = /job (\S+) started/.exec(a.stderr().slice(seen))![1];
    expect(await killed.done).toBe(0);
    expect(b.stderr()).toContain(`job ${job} started`);
    expect(killed.stderr().match(/^point \d\/2 .* done/gm)?.length).toBe(2);
    expect(turtles(...long, "--out", join(dir, "local-long.json")).code).toBe(0);
    expect(readFileSync(join(dir, "killed.json"), "utf8")).toBe(readFileSync(join(dir, "local-long.json"), "utf8"));

    // Redis restarts mid-sweep (AOF on): the sweep completes with the same bytes.
    const restarted = turtlesAsync(...sweep, "--backend", redis.url, "--out", join(dir, "restarted.json"));
    await until(() => /point \d\/3 .* done/.test(restarted.stderr()), "a point done");
    await redis.restart();
    expect(await restarted.done).toBe(0);
    expect(readFileSync(join(dir, "restarted.json"), "utf8")).toBe(local);
  }, 180_000); // five sweeps, a SIGKILL with its 2 s lock to lapse and a Redis restart: over a minute on a loaded machine

  it("runs the replications of run and compare as jobs too, with the local results", async () => {
    const dir = mkdtempSync(join(tmpdir(), "turtles-backend-"));
    worker();
    const webTier = join(examples, "web-tier.yaml");
    for (const command of ["run", "compare"]) {
      const args = [command, webTier, "--duration", "5s", "--replications", "2"];
      expect(await turtlesAsync(...args, "--backend", redis.url, "--out", join(dir, `${command}-b.json`)).done).toBe(0);
      expect(await turtlesAsync(...args, "--out", join(dir, `${command}-l.json`)).done).toBe(0);
      expect(readFileSync(join(dir, `${command}-b.json`), "utf8")).toBe(readFileSync(join(dir, `${command}-l.json`), "utf8"));
    }
  });

  it("lists a sweep in --status, and re-attaches with --resume after its submitter died, running no job twice", async () => {
    const dir = mkdtempSync(join(tmpdir(), "turtles-backend-"));
    const args = ["sweep", overload, "--param", "services.checkout.replicas=1,2", "--duration", "5s", "--replications", "2", "--queue", "resume", "--backend", redis.url, "--out", join(dir, "s.json")];
    // No worker yet: the jobs wait in Redis; the submitter is killed once they are there.
    const first = turtlesAsync(...args);
    let status = "";
    for (let i = 0; i < 30 && !/4 jobs: 4 waiting/.test(status); i++) status = (await run("sweep", "--status", "--queue", "resume", "--backend", redis.url)).stdout;
    expect(status).toMatch(/^[0-9a-f]{12} {2}\S+overload.yaml {2}started \S+ {2}4 jobs: 4 waiting$/m);
    first.child.kill("SIGKILL");
    await first.done;
    const w = worker("--queue", "resume");
    expect(await turtlesAsync(...args, "--resume").done).toBe(0);
    expect(w.stderr().match(/ started /g)?.length).toBe(4);
    expect(JSON.parse(readFileSync(join(dir, "s.json"), "utf8")).map((r: Record<string, string>) => r["services.checkout.replicas"])).toEqual(["1", "2"]);
    expect((await run("sweep", "--status", "--queue", "resume", "--backend", redis.url)).stdout.trim()).toBe(`no sweep in progress on queue resume at 127.0.0.1:${redis.port}`);
  });

  it("reports a job that fails every attempt with its point, replication and seed, finishes the others, and exits 1", async () => {
    const dir = mkdtempSync(join(tmpdir(), "turtles-backend-"));
    // Its own queue: a worker another test left on the default one, without the crash plugin, must not take its jobs.
    worker("--lock", "30s", "--queue", "crashy");
    const r = turtles("sweep", join(fixtures, "crashy.yaml"), "--plugin", join(fixtures, "crash-plugin.mjs"), "--param", "defaults.stack=crashy,plain", "--retries", "1", "--backend", redis.url, "--queue", "crashy", "--out", join(dir, "s.json"));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/point 1\/2 \(defaults.stack=crashy\) failed: replication \d \(seed \d+, from root seed 1\) of defaults.stack=crashy failed in its worker 2 times: .*the crash plugin killed its worker/);
    expect(r.stderr).toMatch(/point 2\/2 \(defaults.stack=plain\) done at/);
  });

  /** Resolves once `n` jobs wait on `queue` (the submitter has added them). */
  async function waiting(name: string, n: number): Promise<void> {
    const queue = new Queue(name, { connection: { host: "127.0.0.1", port: redis.port } });
    try {
      let count = 0;
      await until(() => count >= n, `${n} jobs waiting on ${name}`, async () => void (count = await queue.getWaitingCount()));
    } finally {
      await queue.close();
    }
  }

  it("cancels a sweep with --cancel ID: its jobs leave Redis, its submitter and a --resume say it was cancelled, exit 1", async () => {
    const dir = mkdtempSync(join(tmpdir(), "turtles-backend-"));
    const backend = ["--queue", "cancel", "--backend", redis.url];
    const args = ["sweep", overload, "--param", "services.checkout.replicas=1,2", "--duration", "1s", "--replications", "2", ...backend, "--out", join(dir, "s.json")];
    // No worker on this queue: the jobs wait until cancelled.
    const submitter = turtlesAsync(...args);
    await waiting("cancel", 4);
    const queue = new Queue("cancel", { connection: { host: "127.0.0.1", port: redis.port } });
    onTestFinished(() => queue.close());
    const client = await queue.client;
    const [id] = await client.hkeys("turtles:cancel:sweeps"); // the id --status lists
    const cancel = turtles("sweep", "--cancel", id, ...backend);
    expect(cancel.code).toBe(0);
    expect(cancel.stderr).toContain(`cancelled sweep ${id}`);
    expect(await queue.getJobCountByTypes("waiting", "active", "delayed", "completed", "failed")).toBe(0);
    expect(await client.hlen("turtles:cancel:sweeps")).toBe(0); // --status lists it no more
    expect(await submitter.done).toBe(1);
    expect(submitter.stderr()).toMatch(new RegExp(`^sweep ${id} was cancelled at \\S+ \\(turtles sweep --cancel ${id}\\): it stopped after 0 of 4 replications; no point was done yet$`, "m"));
    // A --resume does not run it again behind the canceller's back; the same command without it would.
    const resumed = turtlesAsync(...args, "--resume");
    expect(await resumed.done).toBe(1);
    expect(resumed.stderr()).toMatch(new RegExp(`^sweep ${id} was cancelled at \\S+ \\(turtles sweep --cancel ${id}\\); run the same command without --resume to start it again: `, "m"));
    expect(await queue.getJobCountByTypes("waiting", "active", "delayed", "completed", "failed")).toBe(0);
  });

  it("fails a job whose plugin module does not resolve on the worker, naming the module, point, replication and seed, exit 1", async () => {
    // A copy of a plugin where it resolves @turtles/engine (under the CLI's node_modules), removed once submitted.
    const dir = mkdtempSync(join(import.meta.dirname, "..", "node_modules", ".turtles-test-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const plugin = join(dir, "crash-plugin.mjs");
    copyFileSync(join(fixtures, "crash-plugin.mjs"), plugin);
    const backend = ["--queue", "modules", "--backend", redis.url];
    const submitter = turtlesAsync("sweep", join(fixtures, "crashy.yaml"), "--plugin", plugin, "--param", "defaults.stack=plain", "--duration", "1s", "--replications", "1", ...backend, "--out", join(dir, "s.json"));
    // The submitter has loaded the module; the worker's machine lacks it.
    await waiting("modules", 1);
    rmSync(plugin);
    worker("--lock", "30s", "--queue", "modules");
    expect(await submitter.done).toBe(1);
    expect(submitter.stderr()).toMatch(
      new RegExp(`^point 1/1 \\(defaults.stack=plain\\) failed: replication 0 \\(seed \\d+, from root seed 1\\) of defaults.stack=plain failed in its worker: plugin module ${pathToFileURL(plugin).href} does not resolve on worker \\S+: install it where turtles worker runs`, "m"),
    );
  });

  it("has a worker of another engine version refuse the job, saying why", async () => {
    worker("--queue", "versions");
    const connection = { host: "127.0.0.1", port: redis.port };
    const queue = new Queue("versions", { connection });
    const events = new QueueEvents("versions", { connection });
    await events.waitUntilReady();
    const job = await queue.add("replication", { engine: "0.0.0-other", load: { scenario: "{}" }, replication: 0 }, { attempts: 3 });
    const reason = await job.waitUntilFinished(events).then(
      () => "completed",
      (err: Error) => err.message,
    );
    expect(reason).toMatch(/^engine version mismatch: the job needs engine 0.0.0-other, worker .* runs 0.1.0, whose results may differ/);
    expect((await queue.getJob(job.id!))?.attemptsMade).toBe(1); // refused for good: no retry
    await events.close();
    await queue.close();
  });

  it("refuses a bad URL, a Redis that is down and refused credentials in one line, exit 2", async () => {
    const secured = await startRedis("sekret");
    try {
      const cases: [string, RegExp][] = [
        ["http://127.0.0.1:1", /^--backend http:\/\/127.0.0.1:1: the scheme is http, not redis; give redis:\/\/HOST:PORT/],
        [`redis://127.0.0.1:${secured.port + 1}`, /^--backend: cannot reach Redis at 127.0.0.1:\d+ \(connection refused\); start redis-server there/],
        [`redis://:wrong@127.0.0.1:${secured.port}`, /^--backend: Redis at 127.0.0.1:\d+ refused the credentials \(WRONGPASS/],
      ];
      for (const [url, message] of cases) {
        const r = turtles("sweep", join(examples, "overload.yaml"), "--param", "services.checkout.replicas=1", "--backend", url);
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(message);
        expect(r.stderr.trim().split("\n")).toHaveLength(1);
      }
    } finally {
      await secured.stop();
    }
  });
});
