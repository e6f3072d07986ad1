import { describe, expect, it } from "vitest";
import { loadScenario } from "../scenario/load.js";
import { passLayer, testHost } from "../testing/index.js";
import { decodeRunSnapshot, encodeRunSnapshot, type RunSnapshot } from "./checkpoint.js";
import { ReplicationRun, RunCancelled, runScenario } from "./run.js";

const vm = passLayer("vm", 0.2);
const plugins = [testHost, vm];

/** Every mechanism with state: CPU shares, disks, NICs and the fabric, calls, memory, closed and open loads, failures. */
const rich = loadScenario(
  `duration: 20s
warmup: 2s
seed: 7
replications: 2
hostTypes:
  big: { cores: 8, memory: 16GiB, disk: { iops: 5k/s, bandwidth: 200MB/s, latency: 100us, queueDepth: 4 }, nic: { bandwidth: 1Gb/s, latency: 10us } }
  small: { cores: 2, memory: 2GiB, nic: { bandwidth: 1Gb/s, latency: 10us } }
hosts: [{ type: big, count: 3, zone: a }, { type: small, count: 3, zone: b }]
network: { latency: 5us, zones: [{ between: [a, b], latency: 100us }] }
stacks: { vms: [{ layer: vm, per: service }] }
failures: { detection: 2s, hosts: { mtbf: 15s, repair: { exp: 4s } }, scripted: [{ at: 6s, host: 0, repair: 3s }] }
tenants:
  - name: shop
    services:
      - name: web
        stack: vms
        replicas: 3
        threads: 8
        queue: 50
        memory: 128MiB
        load: { open: { rate: 300/s } }
        ingress: { request: 2KiB, response: 16KiB }
        request: [{ cpu: { exp: 2ms } }, { mem: { alloc: 1MiB } }, { call: { service: shop/db, request: 1KiB, response: 4KiB } }, { cpu: 1ms }]
      - name: db
        replicas: 2
        threads: 4
        request: [{ cpu: { lognormal: { mean: 1ms, cv: 1 } } }, { io: { read: 8KiB, random: true, count: 2 } }, { sleep: 1ms }]
      - name: batch
        balance: least-outstanding
        replicas: 2
        load: { closed: { clients: 6, think: { exp: 50ms } } }
        request: [{ cpu: 20ms }, { io: { write: 1MiB } }]
`,
  { plugins },
);

/** Runs replication 0 straight through, and again saved after `cut` events and resumed in a fresh model. */
function straightAndResumed(cut: number): [string, string, number] {
  const straight = new ReplicationRun(rich, plugins, 0);
  while (!straight.advance(50_000));
  const first = new ReplicationRun(rich, plugins, 0);
  first.advance(cut);
  const state = first.snapshot();
  const resumed = ReplicationRun.resume(rich, plugins, 0, state);
  while (!resumed.advance(50_000));
  return [JSON.stringify(straight.result()), JSON.stringify(resumed.result()), state.byteLength];
}

describe("snapshots of a running replication", () => {
  it("a run saved and resumed gives exactly the results of an uninterrupted run, wherever it is cut", () => {
    const total = (() => {
      const r = new ReplicationRun(rich, plugins, 0);
      while (!r.advance(50_000));
      return r.events;
    })();
    expect(total).toBeGreaterThan(50_000);
    // Before the warm-up ends, around the scripted failure, during its repair, and near the end.
    for (const cut of [1, 5_000, Math.floor(total * 0.3), Math.floor(total * 0.55), total - 10]) {
      const [straight, resumed] = straightAndResumed(cut);
      expect(resumed, `cut at event ${cut}`).toBe(straight);
    }
  });

  it("a run saved before its queue has grown continues exactly while the queue grows", () => {
    // Every request sleeps a second: the pending events grow for the first second, past the fresh build's queue.
    const ramp = loadScenario(
      `duration: 5s
hostTypes: { h: { cores: 4, memory: 8GiB } }
hosts: [{ type: h }]
tenants: [{ name: t, services: [{ name: a, replicas: 2, load: { open: { rate: 3000/s } }, request: [{ sleep: 1s }, { cpu: 100us }] }] }]
`,
      { plugins },
    );
    const straight = new ReplicationRun(ramp, plugins, 0);
    while (!straight.advance(50_000));
    for (const cut of [10, 60, 2_000]) {
      const first = new ReplicationRun(ramp, plugins, 0);
      first.advance(cut);
      const resumed = ReplicationRun.resume(ramp, plugins, 0, first.snapshot());
      let chunks = 0;
      while (!resumed.advance(50_000)) expect(++chunks).toBeLessThan(100);
      expect(JSON.stringify(resumed.result()), `cut at event ${cut}`).toBe(JSON.stringify(straight.result()));
    }
  });

  it("a resumed run can be saved and resumed again", () => {
    const straight = new ReplicationRun(rich, plugins, 1);
    while (!straight.advance(50_000));
    let run = new ReplicationRun(rich, plugins, 1);
    for (let i = 0; i < 4; i++) {
      run.advance(7_000);
      run = ReplicationRun.resume(rich, plugins, 1, run.snapshot());
    }
    while (!run.advance(50_000));
    expect(JSON.stringify(run.result())).toBe(JSON.stringify(straight.result()));
  });

  it("a state continues only its own replication of its own scenario with its own plugins, and leaves the scenario alone", () => {
    const run = new ReplicationRun(rich, plugins, 0);
    run.advance(1000);
    const state = run.snapshot();
    expect(() => ReplicationRun.resume(rich, plugins, 1, state)).toThrow(/is of replication 0, not 1/);
    const faster = structuredClone(rich);
    faster.hostTypes.big.disk!.iops = 50_000;
    const before = JSON.stringify(faster);
    expect(() => ReplicationRun.resume(faster, plugins, 0, state)).toThrow(/another scenario/);
    expect(JSON.stringify(faster)).toBe(before);
    const newer = [testHost, { ...vm, version: "9.9.9" }];
    expect(() => ReplicationRun.resume(rich, newer, 0, state)).toThrow(/made with plugins .*vm 1\.0\.0.*, not .*vm 9\.9\.9/);
    expect(() => ReplicationRun.resume(rich, plugins, 0, new Uint8Array([1, 2]))).toThrow(/not a saved replication/);
    while (!run.advance(50_000));
    run.result();
    expect(() => run.snapshot()).toThrow(/finished/);
  });

  it("a run cancelled in its second replication saves itself, and continues to the same results", async () => {
    const straight = JSON.stringify(await runScenario(rich, plugins));
    const saved: RunSnapshot[] = [];
    const controller = new AbortController();
    const run = runScenario(rich, plugins, {
      chunk: 4000,
      signal: controller.signal,
      checkpoint: {
        every: 0,
        save: (snap) => {
          // Through a Node Buffer at an offset, as a file read gives it (Buffer.slice is a view, not a copy).
          const bytes = encodeRunSnapshot(snap);
          const file = Buffer.alloc(bytes.length + 3);
          file.set(bytes, 3);
          saved.push(decodeRunSnapshot(file.subarray(3), "test"));
          if (saved.length === 20) controller.abort();
        },
      },
    });
    await expect(run).rejects.toBeInstanceOf(RunCancelled);
    const last = saved.at(-1)!;
    expect(last.done.map((d) => d.replication)).toEqual([0]);
    expect(last.running.map((r) => r.replication)).toEqual([1]);
    expect(JSON.stringify(await runScenario(rich, plugins, { resume: last }))).toBe(straight);
    // An earlier one, taken in the first replication, too.
    expect(saved[2].done).toEqual([]);
    expect(JSON.stringify(await runScenario(rich, plugins, { resume: saved[2] }))).toBe(straight);
  });
});
