/**
 * `node bench/dist/workload.js [--quick]`: wall time per completed request of
 * the whole model (workload, tree, solver, kernel), on the two scenarios of
 * the workloads issue, beside SimGrid 3.32 running the same model when
 * Debian's libsimgrid-dev is installed (the peer is compiled from
 * bench/peers/simgrid_workers.cpp in a temporary folder).
 *
 * - one-host: 200 workers looping `cpu: { exp: 100ms }` (closed loop, no
 *   think) on one 32-core host; the fluid model predicts 320 requests/s.
 * - many-hosts: 10,000 single-core hosts with one worker each; 100,000/s.
 *
 * Each scenario runs in a child process so that its peak RSS is its own.
 * Prints one JSON line per scenario and peer.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { PluginDefinition } from "../../dist/plugin/define.js";
import { loadScenario } from "../../dist/scenario/load.js";
import { testHost } from "../../dist/testing/index.js";
import { runScenario } from "../../dist/workload/run.js";

export interface WorkloadBenchResult {
  model: string;
  scenario: string;
  completed: number;
  seconds: number;
  usPerRequest: number;
  throughput: number;
  expectedThroughput: number;
  maxRss: number;
  /** Kernel events per completed request (turtles only; counted like the time, warm-up included). */
  eventsPerRequest?: number;
  /** Requests completed by all services per completed (root) request: 3 for the web shop's three tiers. */
  serviceRequestsPerRequest?: number;
}

const host = testHost;

export const WORKLOAD_SCENARIOS = {
  "one-host": { hosts: 1, cores: 32, workers: 200, duration: 300, expected: 320 },
  "many-hosts": { hosts: 10000, cores: 1, workers: 10000, duration: 20, expected: 100000 },
} as const;

/**
 * The three-tier web shop of examples/three-tier.yaml scaled to 1,000 hosts and 10,000 replicas (frontend
 * 5,000, API 3,000, database 2,000 in VMs), 60,000 requests/s: cost per completed root request.
 */
export async function benchWebShop(scale = 1): Promise<WorkloadBenchResult> {
  const { buildWebShop } = await import("./webshop.js");
  const scenario = buildWebShop();
  const duration = 10 * scale;
  let events = 0;
  const t0 = process.hrtime.bigint();
  // No warm-up, like the CPU-only scenarios: the wall time of the whole run over every completion in it.
  const r = await runScenario({ ...scenario, duration, warmup: 0 }, scenario.plugins, { chunk: 1_000_000, onProgress: (p) => (events = p.events) });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const svc = r.stacks.scenario.services["shop/frontend"];
  const completed = svc.completed as number;
  return {
    model: "turtles",
    scenario: "web-shop-1k",
    completed,
    seconds,
    usPerRequest: (seconds * 1e6) / completed,
    throughput: svc.throughput as number,
    expectedThroughput: 60000,
    maxRss: process.resourceUsage().maxRSS * 1024,
    eventsPerRequest: events / completed,
    serviceRequestsPerRequest: Object.values(r.stacks.scenario.services).reduce((n, x) => n + (x.completed as number), 0) / completed,
  };
}

export async function benchWorkload(name: keyof typeof WORKLOAD_SCENARIOS, scale = 1): Promise<WorkloadBenchResult> {
  const c = WORKLOAD_SCENARIOS[name];
  const duration = c.duration * scale;
  // One replica per host holding all of that host's workers as closed-loop clients (threads of one process),
  // like SimGrid actors sharing a host's cores.
  const text = `duration: ${duration}s
hostTypes: { h: { cores: ${c.cores}, memory: 1GiB } }
hosts: [{ type: h, count: ${c.hosts} }]
tenants:
  - name: bench
    services:
      - { name: workers, replicas: ${c.hosts}, cores: ${c.cores}, load: { closed: { clients: ${c.workers}, think: 0s } }, request: [{ cpu: { exp: 100ms } }] }
`;
  return timedWorkers(name, text, [host], "baremetal", c.expected);
}

/**
 * Runs a scenario whose one service is `bench/workers` on `stack`, timing the whole model (build and run), and its
 * figures per completed request beside the throughput the closed form expects.
 */
export async function timedWorkers(name: string, text: string, plugins: PluginDefinition[], stack: string, expectedThroughput: number): Promise<WorkloadBenchResult> {
  const scenario = loadScenario(text, { plugins });
  let events = 0;
  const t0 = process.hrtime.bigint();
  const r = await runScenario(scenario, plugins, { chunk: 1_000_000, onProgress: (p) => (events = p.events) });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const svc = r.stacks[stack].services["bench/workers"];
  const completed = svc.completed as number;
  return {
    model: "turtles",
    scenario: name,
    completed,
    seconds,
    usPerRequest: (seconds * 1e6) / completed,
    throughput: svc.throughput as number,
    expectedThroughput,
    maxRss: process.resourceUsage().maxRSS * 1024,
    eventsPerRequest: events / completed,
  };
}

/** Builds the SimGrid peer; null when libsimgrid-dev (or g++) is missing. */
export function buildSimgridPeer(dir: string): string | null {
  const src = fileURLToPath(new URL("../peers/simgrid_workers.cpp", import.meta.url));
  const out = join(dir, "simgrid_workers");
  const flags = spawnSync("pkg-config", ["--cflags", "--libs", "simgrid"], { encoding: "utf8" });
  if (flags.status !== 0) return null;
  try {
    execFileSync("g++", ["-O2", "-std=c++17", "-o", out, src, ...flags.stdout.trim().split(/\s+/)], { stdio: "ignore" });
    return out;
  } catch {
    return null;
  }
}

export function runSimgridPeer(binary: string, name: keyof typeof WORKLOAD_SCENARIOS, scale = 1): WorkloadBenchResult {
  const c = WORKLOAD_SCENARIOS[name];
  return runPeerBinary(binary, name, [c.hosts, c.cores, c.workers, c.duration * scale], c.duration * scale, c.expected);
}

/**
 * The SimGrid peer's budget per scenario. Its cost per task grows with the platform (about 0.7 ms of CPU per task at
 * 1,000 hosts on this machine, minutes for one 100 ms cycle at 10,000), so the full horizons would take hours: the peer
 * simulates the first `PEER_TASK_BUDGET / expected throughput` seconds (at least `PEER_MIN_SECONDS`, three cycles of
 * the benchmarks' 100 ms tasks; `simulatedSeconds` in its line) and is stopped after `PEER_WALL_SECONDS`. Its figure
 * per task is compared with ours over the whole horizon; a stopped peer gives a lower bound (`timedOut`): the budget
 * over the tasks the horizon holds.
 */
export const PEER_TASK_BUDGET = 20_000;
const PEER_MIN_SECONDS = 0.35;
export const PEER_WALL_SECONDS = 180;

/** What the SimGrid peer gave: a stopped one has `timedOut` and a lower bound for `usPerRequest`. */
export type PeerResult = WorkloadBenchResult & { simulatedSeconds: number; timedOut?: true };

/**
 * Runs the SimGrid peer with `args` (see peers/simgrid_workers.cpp; `args[3]` is the horizon) for at most `seconds`
 * simulated seconds, cut to the budget above: its result line.
 */
export function runPeerBinary(binary: string, scenario: string, args: number[], seconds: number, expectedThroughput: number): PeerResult {
  const simulated = Math.min(seconds, Math.max(PEER_TASK_BUDGET / expectedThroughput, PEER_MIN_SECONDS));
  const peerArgs = args.map((a, i) => (i === 3 ? simulated : a));
  // No guard page per actor stack: 40,000 actors at 10,000 hosts pass Linux's default vm.max_map_count otherwise.
  const r = spawnSync(binary, [...peerArgs.map(String), "--log=root.thres:critical", "--cfg=contexts/guard-size:0"], {
    encoding: "utf8",
    maxBuffer: 1 << 24,
    timeout: PEER_WALL_SECONDS * 1000,
  });
  const base = { model: "simgrid", scenario, expectedThroughput, simulatedSeconds: simulated };
  if (r.signal === "SIGTERM") {
    const tasks = expectedThroughput * simulated;
    return { ...base, completed: 0, seconds: PEER_WALL_SECONDS, usPerRequest: (PEER_WALL_SECONDS * 1e6) / tasks, throughput: 0, maxRss: 0, timedOut: true };
  }
  if (r.status !== 0) throw new Error(`SimGrid peer failed: ${r.stderr}`);
  const j = JSON.parse(r.stdout.trim().split("\n").pop()!) as { completed: number; seconds: number; maxRssKb: number };
  return { ...base, completed: j.completed, seconds: j.seconds, usPerRequest: (j.seconds * 1e6) / j.completed, throughput: j.completed / simulated, maxRss: j.maxRssKb * 1024 };
}

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const quick = process.argv.includes("--quick");
  const scale = quick ? 0.2 : 1;
  const only = process.argv.find((a) => a in WORKLOAD_SCENARIOS || a === "web-shop-1k") as keyof typeof WORKLOAD_SCENARIOS | "web-shop-1k" | undefined;
  if (only === "web-shop-1k") {
    process.stdout.write(`${JSON.stringify(await benchWebShop(scale))}\n`);
  } else if (only) {
    // Child mode: one scenario in this process.
    process.stdout.write(`${JSON.stringify(await benchWorkload(only, scale))}\n`);
  } else {
    const dir = mkdtempSync(join(tmpdir(), "turtles-simgrid-"));
    try {
      const peer = buildSimgridPeer(dir);
      for (const name of [...(Object.keys(WORKLOAD_SCENARIOS) as (keyof typeof WORKLOAD_SCENARIOS)[]), "web-shop-1k" as const]) {
        const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), name, ...(quick ? ["--quick"] : [])], { encoding: "utf8" });
        if (child.status !== 0) throw new Error(child.stderr);
        process.stdout.write(child.stdout);
        if (peer && name !== "web-shop-1k") process.stdout.write(`${JSON.stringify(runSimgridPeer(peer, name, scale))}\n`);
      }
      if (!peer) process.stdout.write(`${JSON.stringify({ simgrid: "not run: install Debian's libsimgrid-dev to compare" })}\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
