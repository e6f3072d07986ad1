import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadScenario } from "../scenario/load.js";
import { testHost } from "../testing/index.js";
import { ReplicationRun, runScenario } from "./run.js";
import type { PodFigures } from "./pods.js";

const plugins = [testHost];
const DIR = new URL("../../../../data/traces/alibaba-gpu-v2023/", import.meta.url).pathname;
const HEADER = "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time";

/** A pod list of [cores, created, deleted] (1 GiB each, no GPU) in a file of its own. */
function podList(pods: number[][], gpus: number[] = []): string {
  const dir = mkdtempSync(join(tmpdir(), "pods-"));
  const file = join(dir, "pods.csv");
  writeFileSync(file, `${HEADER}\n${pods.map(([cpu, c, d], i) => `p${i},${cpu * 1000},1024,${gpus[i] ? 1 : 0},${gpus[i] ?? 0},,LS,Running,${c},${d},${c}`).join("\n")}\n`);
  return file;
}

function scenario(file: string, options: { hosts?: number; policy?: string; extra?: string; duration?: string } = {}): ReturnType<typeof loadScenario> {
  return loadScenario(
    `duration: ${options.duration ?? "200s"}
hostTypes: { h: { cores: 4, memory: 16GiB } }
hosts: [{ type: h, count: ${options.hosts ?? 1} }]
placement: { policy: ${options.policy ?? "first-fit"} }
tenants:
  - name: pods
    trace: { format: alibaba-pods, path: ${file}${options.extra ?? ""} }
`,
    { plugins, file: "s.yaml" },
  );
}

async function run(s: ReturnType<typeof loadScenario>): Promise<{ f: PodFigures; pending: number[]; hostsUsed: number }> {
  const r = await runScenario(s, plugins);
  const stack = Object.values(r.stacks)[0];
  return { f: stack.traces!.pods as PodFigures, pending: stack.series.pendingPods as number[], hostsUsed: stack.hosts.used as number };
}

describe("pod churn from an Alibaba pod list", () => {
  it("keeps a pod that fits nowhere pending until a deletion frees room for it", async () => {
    // One 4-core host: A (3 cores) from 0 to 50; B (2 cores) created at 10 waits until A goes at 50.
    const { f, pending } = await run(scenario(podList([[3, 0, 50], [2, 10, 100]])));
    expect(f).toMatchObject({ kind: "pods", pods: 2, pendingPeak: 1, hostsUsed: 1, neverPlaced: 0, skipped: 0 });
    // 60 windows of 200/60 s: pending 1 over [10, 50].
    const w = 200 / 60;
    expect(pending[0]).toBe(0);
    expect(pending[3]).toBeCloseTo(1, 12);
    expect(pending[20]).toBe(0);
    expect(pending.reduce((a, x) => a + x * w, 0)).toBeCloseTo(40, 9);
  });

  it("measures fragmentation as the share of free CPU the pod mix cannot use, time-weighted", async () => {
    // Mix: half 2-core pods, half 3-core. Over [0, 100] the host has 2 cores free: the 3-core half cannot use them
    // (unusable 2 x 0.5 of 2 free: 0.5); over [100, 200] all 4 are free and usable by both (0). Mean: 0.25.
    const { f } = await run(scenario(podList([[2, 0, 100], [3, 0, 60]])));
    expect(f.fragmentation).toBeCloseTo(0.25, 12);
    expect(f.neverPlaced).toBe(1);
  });

  it("places by the scenario's policy: first-fit packs one host, spread uses both; a host with a pod counts as used", async () => {
    const file = podList([[1, 0, 100], [1, 1, 100]]);
    const packed = await run(scenario(file, { hosts: 2 }));
    const spread = await run(scenario(file, { hosts: 2, policy: "spread" }));
    expect([packed.f.hostsUsed, packed.hostsUsed]).toEqual([1, 1]);
    expect([spread.f.hostsUsed, spread.hostsUsed]).toEqual([2, 2]);
  });

  it("with the trace's node list, the nodes stand for the hosts, GPUs counted in thousandths per node", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nodes-"));
    const nodes = join(dir, "nodes.csv");
    writeFileSync(nodes, "sn,cpu_milli,memory_mib,gpu,model\nn0,8000,8192,1,T4\n");
    // Two 1-core pods asking 600 thousandths of a GPU each: the one GPU takes one at a time.
    const { f } = await run(scenario(podList([[1, 0, 100], [1, 0, 150]], [600, 600]), { extra: `, nodes: ${nodes}` }));
    expect(f.pendingPeak).toBe(1);
  });

  it("replays the whole openb pod list on its own node list, time compressed 1000 times", async () => {
    const s = scenario(`${DIR}openb_pod_list_default.csv`, { extra: `, nodes: ${DIR}openb_node_list_all_node.csv, speedup: 1000`, duration: "13000s" });
    const { f } = await run(s);
    expect(f.pods).toBe(8152);
    expect(f.hostsUsed).toBeGreaterThan(0);
    expect(f.hostsUsed).toBeLessThanOrEqual(1523);
    expect(f.fragmentation).toBeGreaterThan(0);
    expect(f.fragmentation).toBeLessThan(1);
  });

  it("gives each figure its ci95 like the other figures (0 here: a trace replays the same in every replication)", async () => {
    const s = { ...scenario(podList([[2, 0, 100], [3, 0, 60]])), replications: 3 };
    const r = await runScenario(s, plugins);
    const ci = (Object.values(r.stacks)[0].ci95 as { traces: Record<string, Record<string, number>> }).traces.pods;
    expect(ci).toMatchObject({ pods: 0, pendingPeak: 0, fragmentation: 0, hostsUsed: 0 });
    expect(ci).not.toHaveProperty("kind");
  });

  it("refuses the node list given as the pod list, and a pod list given as nodes, naming the field", () => {
    const pods = `${DIR}openb_pod_list_default.csv`;
    const nodes = `${DIR}openb_node_list_all_node.csv`;
    expect(() => scenario(nodes)).toThrow(/tenants.pods.trace.path: .*openb_node_list_all_node.csv is an Alibaba node list, not a pod list: give it as nodes:/);
    expect(() => scenario(pods, { extra: `, nodes: ${pods}` })).toThrow(/tenants.pods.trace.nodes: .*openb_pod_list_default.csv is not a node list/);
  });

  it("continues a saved run exactly", async () => {
    const pods = Array.from({ length: 40 }, (_, i) => [1 + (i % 3), i * 3, i * 3 + 20 + ((i * 7) % 30)]);
    const s = scenario(podList(pods), { hosts: 2, policy: "best-fit" });
    const straight = new ReplicationRun(s, plugins, 0);
    while (!straight.advance(1_000_000)) {
      /* to the end */
    }
    const first = new ReplicationRun(s, plugins, 0);
    first.advance(30);
    const resumed = ReplicationRun.resume(s, plugins, 0, first.snapshot());
    while (!resumed.advance(1_000_000)) {
      /* to the end */
    }
    expect(JSON.stringify(resumed.result().stack)).toBe(JSON.stringify(straight.result().stack));
  });
});
