import { describe, expect, it } from "vitest";
import { Random } from "../random/random.js";
import { loadScenario } from "../scenario/load.js";
import { fixedLoadPerHost, testHost, vcpuLayer } from "../testing/index.js";
import { Balancer, type BalanceColumns } from "./balance.js";
import { LEAST_OUTSTANDING, P2C, ROUND_ROBIN } from "./programs.js";
import { runScenario } from "./run.js";

const plugins = [testHost, vcpuLayer];

async function meanLatency(balance: string, hosts: number): Promise<number> {
  const s = loadScenario(fixedLoadPerHost(balance, hosts), { plugins });
  return (await runScenario(s, plugins)).stacks.vms.services["t/s"].latency.mean as number;
}

describe("balancing", () => {
  it("gives the same mean latency at 10 and 100 hosts for every policy at a fixed load per host (no placement order leaks in)", async () => {
    for (const balance of ["round-robin", "random", "least-outstanding", "p2c"]) {
      const ten = await meanLatency(balance, 10);
      const hundred = await meanLatency(balance, 100);
      // Placement order put 8 consecutive replicas on one 2-vCPU VM: bursts queued there (50 ms at 10 hosts, 77 ms at 100).
      expect(ten, balance).toBeLessThan(0.0205);
      expect(Math.abs(hundred / ten - 1), balance).toBeLessThan(0.03);
    }
  });

  /** A balancer over replicas 0..n-1 with the given loads. */
  function balancer(policy: number, loads: number[]): { b: Balancer; loads: number[] } {
    const n = loads.length;
    const cols: BalanceColumns = { endpoint: new Int8Array(n), memberPos: new Int32Array(n), bucketPos: new Int32Array(n), filed: new Int32Array(n) };
    const b = new Balancer(policy, Random.fromKey(1), () => cols, (r) => loads[r]);
    for (let r = 0; r < n; r++) b.add(r);
    return { b, loads };
  }

  it("least-outstanding picks among the least loaded, at random, and follows loads as they change", () => {
    const { b, loads } = balancer(LEAST_OUTSTANDING, [3, 1, 1, 2]);
    const slots = Int32Array.from([0, 1, 2, 3]);
    const picks = new Set(Array.from({ length: 50 }, () => b.pick(slots)));
    expect(picks).toEqual(new Set([1, 2]));
    loads[1] = 2;
    b.loadChanged(1);
    expect(new Set(Array.from({ length: 20 }, () => b.pick(slots)))).toEqual(new Set([2]));
    b.remove(2);
    expect(new Set(Array.from({ length: 20 }, () => b.pick(slots)))).toEqual(new Set([1, 3]));
    loads[0] = 0;
    b.loadChanged(0);
    expect(b.pick(slots)).toBe(0);
  });

  it("p2c takes the less loaded of two distinct random endpoints; round-robin interleaves hosts, then the VMs on each", () => {
    const { b } = balancer(P2C, [5, 0, 5, 5]);
    const slots = Int32Array.from([0, 1, 2, 3]);
    const picks = Array.from({ length: 200 }, () => b.pick(slots));
    // Replica 1 wins whenever it is one of the two: half the time (3 of the 6 pairs).
    expect(picks.filter((r) => r === 1).length / 200).toBeCloseTo(0.5, 1);
    // Slots 0-7: host 0 holds VM a (slots 0, 1, 2) and VM b (3); host 1 holds VM c (4, 5) and VM d (6, 7).
    const rr = balancer(ROUND_ROBIN, [0, 0, 0, 0, 0, 0, 0, 0]).b;
    const host = [0, 0, 0, 0, 1, 1, 1, 1];
    const group = [10, 10, 10, 11, 12, 12, 13, 13];
    rr.setOrder(8, (s) => host[s], (s) => group[s]);
    const all = Int32Array.from([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(Array.from({ length: 8 }, () => rr.pick(all))).toEqual([0, 4, 3, 6, 1, 5, 2, 7]);
  });
});
