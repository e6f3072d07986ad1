/**
 * `node bench/dist/placement.js [--quick]`: wall time per placed replica of a
 * model build as the number of hosts grows, for each placement policy. Hosts
 * have 4 cores; two services of one-core replicas fill every host, so each
 * replica is placed among many full and part-full hosts. A build that scans
 * the hosts per replica grows linearly per replica with the number of hosts
 * (quadratically in all); the ranked placement should stay about flat.
 * Prints one JSON line per (policy, size), then the growth of each policy
 * (cost per replica at the largest size over the smallest).
 */
import { Simulation } from "../../dist/kernel/simulation.js";
import { buildModel } from "../../dist/model/model.js";
import { loadScenario } from "../../dist/scenario/load.js";
import { testHost } from "../../dist/testing/index.js";

export interface PlacementBenchResult {
  policy: string;
  hosts: number;
  replicas: number;
  seconds: number;
  usPerReplica: number;
}

export const PLACEMENT_POLICIES = ["first-fit", "best-fit", "spread", "spread, anti-affinity"] as const;

export function benchPlacement(policy: (typeof PLACEMENT_POLICIES)[number], hosts: number): PlacementBenchResult {
  const [name, anti] = policy.split(", ");
  const text = `duration: 1s
hostTypes: { h: { cores: 4, memory: 16GiB } }
hosts: [{ type: h, count: ${hosts} }]
tenants:
  - name: t
    services:
      - { name: a, replicas: ${2 * hosts}, memory: 1GiB, request: [{ cpu: 1ms }] }
      - { name: b, replicas: ${2 * hosts}, memory: 2GiB, request: [{ cpu: 1ms }] }
placement: { policy: ${name}${anti ? ", antiAffinity: true" : ""} }
`;
  const scenario = loadScenario(text, { plugins: [testHost] });
  const t0 = process.hrtime.bigint();
  const model = buildModel(new Simulation(), scenario, [testHost]);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (model.unplaced.length > 0) throw new Error(`placement bench: ${model.unplaced.length} replicas unplaced`);
  const replicas = 4 * hosts;
  return { policy, hosts, replicas, seconds, usPerReplica: (seconds * 1e6) / replicas };
}

const isMain = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, "/").split("/").pop()!);
if (isMain) {
  const sizes = process.argv.includes("--quick") ? [1000, 10000] : [1000, 10000, 100000];
  for (const policy of PLACEMENT_POLICIES) benchPlacement(policy, sizes[0]); // warm-up: the JIT, not the figures
  for (const policy of PLACEMENT_POLICIES) {
    const rows = sizes.map((h) => benchPlacement(policy, h));
    for (const r of rows) process.stdout.write(`${JSON.stringify(r)}\n`);
    process.stdout.write(`${JSON.stringify({ policy, growth: rows.at(-1)!.usPerReplica / rows[0].usPerReplica })}\n`);
  }
}
