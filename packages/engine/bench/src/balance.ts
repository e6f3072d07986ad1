/**
 * `node bench/dist/balance.js [--quick]`: the whole model's wall time per
 * request of one service balanced by least-outstanding, at 100 to 100,000
 * replicas, beside the same run balanced at random (the peer: a pick that
 * costs O(1) whatever the replicas). The same load (40,000 requests of 1 ms
 * on 100 hosts of 64 cores) at every size, so a pick that cost O(replicas)
 * would grow a thousandfold from the first size to the last; the simulation
 * is timed, not the build; each run in its own process, one JSON line each.
 *
 * Then the scale check: every policy's mean latency on one service at
 * a fixed load per host (testing's `fixedLoadPerHost`: 20 ms requests at 5%
 * of the cores, 8 replicas per VM) at 10, 100 and 1,000 hosts, beside the
 * 10-host figure (the peer: a balancer that leaks no placement order gives
 * the same mean at every scale; the target is within 3%).
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { loadScenario } from "../../dist/scenario/load.js";
import { fixedLoadPerHost, testHost, vcpuLayer } from "../../dist/testing/index.js";
import { ReplicationRun, runScenario } from "../../dist/workload/run.js";

export const REPLICAS = [100, 1000, 10_000, 100_000];
export const POLICIES = ["round-robin", "random", "least-outstanding", "p2c"];
export const HOSTS = [10, 100, 1000];

async function meanLatency(balance: string, hosts: number): Promise<{ balance: string; hosts: number; meanMs: number }> {
  const plugins = [testHost, vcpuLayer];
  const r = await runScenario(loadScenario(fixedLoadPerHost(balance, hosts), { plugins }), plugins);
  return { balance, hosts, meanMs: (r.stacks.vms.services["t/s"].latency.mean as number) * 1000 };
}

function measure(balance: string, replicas: number, seconds: number): { balance: string; replicas: number; completed: number; usPerRequest: number } {
  const s = loadScenario(
    `duration: ${seconds}s
hostTypes: { h: { cores: 64, memory: 1TiB } }
hosts: [{ type: h, count: 100 }]
placement: { policy: spread }
tenants:
  - name: t
    services:
      - { name: s, replicas: ${replicas}, cores: 0, balance: ${balance}, load: { open: { rate: 20000/s } }, request: [{ cpu: 1ms }] }
`,
    { plugins: [testHost] },
  );
  // The simulation alone: the build (placing the replicas) is not a pick.
  const run = new ReplicationRun(s, [testHost], 0);
  const t0 = process.hrtime.bigint();
  while (!run.advance(1_000_000));
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const completed = run.result().stack.services["t/s"].completed as number;
  return { balance, replicas, completed, usPerRequest: (wall * 1e6) / completed };
}

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const quick = process.argv.includes("--quick");
  const child = process.argv.indexOf("--child");
  const scale = process.argv.indexOf("--scale-child");
  if (child > 0) {
    const [balance, replicas] = process.argv.slice(child + 1, child + 3);
    process.stdout.write(`${JSON.stringify(measure(balance, Number(replicas), quick ? 0.5 : 2))}\n`);
  } else if (scale > 0) {
    const [balance, hosts] = process.argv.slice(scale + 1, scale + 3);
    process.stdout.write(`${JSON.stringify(await meanLatency(balance, Number(hosts)))}\n`);
  } else {
    const spawn = (args: string[]): Record<string, number> => {
      const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), ...args, ...(quick ? ["--quick"] : [])], { encoding: "utf8" });
      if (r.status !== 0) throw new Error(r.stderr);
      process.stdout.write(r.stdout);
      return JSON.parse(r.stdout) as Record<string, number>;
    };
    const rows: { replicas: number; lo: number; random: number }[] = [];
    for (const replicas of REPLICAS) {
      const run = (balance: string): number => spawn(["--child", balance, String(replicas)]).usPerRequest;
      rows.push({ replicas, lo: run("least-outstanding"), random: run("random") });
    }
    const first = rows[0];
    for (const r of rows) {
      process.stdout.write(
        `${JSON.stringify({ replicas: r.replicas, leastOutstandingUs: r.lo, randomUs: r.random, loOverRandom: r.lo / r.random, loGrowth: r.lo / first.lo, randomGrowth: r.random / first.random })}\n`,
      );
    }
    for (const balance of POLICIES) {
      const means = (quick ? HOSTS.slice(0, 2) : HOSTS).map((hosts) => spawn(["--scale-child", balance, String(hosts)]).meanMs);
      const ratios = means.map((m) => m / means[0]);
      process.stdout.write(`${JSON.stringify({ balance, hosts: HOSTS.slice(0, means.length), meanMs: means, overTenHosts: ratios, within3pct: ratios.every((x) => Math.abs(x - 1) < 0.03) })}\n`);
    }
  }
}
