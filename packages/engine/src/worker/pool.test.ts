import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { proxy, wrap } from "comlink";
import { nodeEndpoint } from "./node-endpoint.js";
import { describe, expect, it } from "vitest";
import { decodeSnapshot } from "../kernel/codec.js";
import type { PluginDefinition } from "../plugin/define.js";
import type { RunSnapshot } from "../workload/checkpoint.js";
import type { EngineApi, ProgressEntry } from "./protocol.js";
// The pool starts dist/worker/node-worker.js, so this test runs against the build (turbo builds before testing).
import { runMany, runScenarioOnWorkers } from "../../dist/worker/pool.js";
import { loadScenario } from "../scenario/load.js";
import { testHost } from "../testing/index.js";
import { assembleResults, runScenario, type ReplicationResult } from "../workload/run.js";

const hostModule = pathToFileURL(join(import.meta.dirname, "..", "..", "dist", "testing", "index.js")).href;

const SCENARIO = `duration: 20s
warmup: 2s
replications: 4
hostTypes: { h: { cores: 2, memory: 4GiB } }
hosts: [{ type: h, count: 2 }]
tenants:
  - name: t
    services:
      - { name: a, replicas: 2, load: { open: { rate: 150/s } }, request: [{ cpu: { exp: 10ms } }, { sleep: 2ms }] }
`;

describe("replications on worker threads", () => {
  it("gives byte-identical results on 1 and 2 workers, equal to running in this thread", { timeout: 60_000 }, async () => {
    const s = loadScenario(SCENARIO, { plugins: [testHost] });
    const local = JSON.stringify(await runScenario(s, [testHost]));
    const one = JSON.stringify(await runScenarioOnWorkers(s, [testHost], { workers: 1, pluginModules: [hostModule] }));
    const two = JSON.stringify(await runScenarioOnWorkers(s, [testHost], { workers: 2, pluginModules: [hostModule] }));
    expect(one).toBe(local);
    expect(two).toBe(local);
  });

  it("runs many jobs of one replication each on one pool, every result in job order equal to its own run", { timeout: 60_000 }, async () => {
    const base = loadScenario(SCENARIO, { plugins: [testHost] });
    // Each job its own duration, so a progress entry shows which job it came from.
    const jobs = [50, 100, 150].map((rate, k) => ({
      ...base,
      duration: base.duration + k,
      replications: 1,
      tenants: [{ ...base.tenants[0], services: [{ ...base.tenants[0].services[0], load: { open: { rate } } }] }],
    }));
    const seen: number[] = [];
    const mislabelled: string[] = [];
    const outcomes = await runMany(
      jobs.map((scenario, k) => ({ scenario, label: `job ${k}` })),
      [testHost],
      {
        workers: 2,
        pluginModules: [hostModule],
        onJob: (k: number) => void seen.push(k),
        onProgress: (p) => {
          const job = jobs[p.job ?? -1];
          if (job === undefined || p.end !== job.warmup + job.duration) mislabelled.push(JSON.stringify(p));
        },
      },
    );
    expect(mislabelled).toEqual([]);
    expect(seen.sort()).toEqual([0, 1, 2]);
    for (const [k, job] of jobs.entries()) expect(JSON.stringify(outcomes[k].results)).toBe(JSON.stringify(await runScenario(job, [testHost])));
  });

  it("saves every job in progress of many, and each continues from its own snapshot to its uninterrupted results", { timeout: 60_000 }, async () => {
    const base = loadScenario(SCENARIO, { plugins: [testHost] });
    // Three jobs of two replications; on two workers, the first two replications of job 0 run first.
    const jobs = [1, 2, 3].map((seed) => ({ scenario: { ...base, seed, replications: 2, duration: 3000 }, label: `seed ${seed}` }));
    const saved: (RunSnapshot | undefined)[][] = [];
    const controller = new AbortController();
    // Cancelled once both replications of job 0 have begun (a loaded machine may start one worker seconds after the
    // other; a replication not yet begun is in no snapshot, and starts afresh on resume).
    const begun = new Set<number>();
    await expect(
      runMany(jobs, [testHost], {
        workers: 2,
        pluginModules: [hostModule],
        signal: controller.signal,
        checkpoint: { every: 3600, save: (snaps) => void saved.push(snaps) },
        onProgress: (p) => {
          if (p.job === 0) begun.add(p.replication);
          if (begun.has(0) && p.job === 0 && p.replication === 1 && p.simTime > 100) controller.abort();
        },
      }),
    ).rejects.toThrow(/run cancelled/);
    expect(saved).toHaveLength(1);
    const [snaps] = saved;
    expect(snaps).toHaveLength(3);
    // Replication 1 is in progress; replication 0 too, unless it finished first: either way both are in the snapshot.
    expect(snaps[0]!.running.map((r) => r.replication)).toContain(1);
    expect([...snaps[0]!.done.map((d) => d.replication), ...snaps[0]!.running.map((r) => r.replication)].sort()).toEqual([0, 1]);
    expect(snaps[1]!.running).toEqual([]);
    expect(JSON.parse(snaps[2]!.scenario).seed).toBe(3);
    // Continued on one worker: every job's results equal those of an uninterrupted run of it.
    const resumed = await runMany(
      jobs.map((j, k) => ({ ...j, resume: snaps[k] })),
      [testHost],
      { workers: 1, pluginModules: [hostModule] },
    );
    for (const [k, j] of jobs.entries()) expect(JSON.stringify(resumed[k].results)).toBe(JSON.stringify(await runScenario(j.scenario, [testHost])));
  });

  /** A module of a layer plugin whose `create` hook runs `body`, and the scenario of one service on it. */
  async function misbehaving(name: string, body: string): Promise<{ plugins: PluginDefinition[]; module: string; scenario: ReturnType<typeof loadScenario> }> {
    const dir = mkdtempSync(join(tmpdir(), "turtles-pool-"));
    const file = join(dir, `${name}.mjs`);
    writeFileSync(file, `import { passLayer } from ${JSON.stringify(hostModule)};\nexport const plugin = passLayer(${JSON.stringify(name)}, 0, { hooks: { create: () => { ${body} } } });\n`);
    const module = pathToFileURL(file).href;
    const plugins = [testHost, ((await import(module)) as { plugin: PluginDefinition }).plugin];
    const scenario = loadScenario(`${SCENARIO}stacks: { s: [{ layer: ${name} }] }\ndefaults: { stack: s }\n`, { plugins });
    return { plugins, module, scenario: { ...scenario, replications: 1 } };
  }

  it("reports a plugin that calls process.exit as its hook's error, with the replication and seed, on one worker too", { timeout: 60_000 }, async () => {
    const { plugins, module, scenario } = await misbehaving("exits", "process.exit(3);");
    await expect(runScenarioOnWorkers(scenario, plugins, { workers: 1, pluginModules: [hostModule, module] })).rejects.toThrow(
      /replication 0 \(seed \d+, from root seed 1\) failed in its worker: .*plugin exits, hook "create".*process\.exit\(3\) was called: a plugin may not end the process/,
    );
  });

  it("reports a plugin that exhausts its worker's heap, and the process lives on", { timeout: 60_000 }, async () => {
    const { plugins, module, scenario } = await misbehaving("hoards", "const a = []; for (;;) a.push(new Array(100000).fill(1));");
    await expect(runScenarioOnWorkers(scenario, plugins, { workers: 1, maxHeapMb: 32, pluginModules: [hostModule, module] })).rejects.toThrow(
      /replication 0 \(seed \d+, from root seed 1\) failed in its worker: it ran out of JavaScript heap/,
    );
  });

  it("cancels a run whose plugin never returns", { timeout: 60_000 }, async () => {
    const { plugins, module, scenario } = await misbehaving("spins", "for (;;);");
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 500);
    await expect(runScenarioOnWorkers(scenario, plugins, { workers: 1, signal: controller.signal, pluginModules: [hostModule, module] })).rejects.toThrow(/run cancelled/);
  });

  it("reports a failing replication with its number and seed, and does not hang", { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "turtles-pool-"));
    const broken = join(dir, "broken.mjs");
    // It breaks only in a worker (in this thread it imports, as the pool's check of the modules does).
    writeFileSync(broken, `import { isMainThread } from "node:worker_threads";\nexport const x = 1;\nif (!isMainThread) throw new Error("plugin module is broken");\n`);
    const s = loadScenario(SCENARIO, { plugins: [testHost] });
    await expect(
      runScenarioOnWorkers(s, [testHost], { workers: 2, pluginModules: [hostModule, pathToFileURL(broken).href] }),
    ).rejects.toThrow(/replication \d \(seed \d+, from root seed 1\) failed in its worker: cannot load plugin module file:.*broken\.mjs: plugin module is broken/);
  });

  it("refuses, before starting a worker, plugins that no module of pluginModules provides", async () => {
    const s = loadScenario(SCENARIO, { plugins: [testHost] });
    await expect(runScenarioOnWorkers(s, [testHost], { pluginModules: [] })).rejects.toThrow(
      /^pluginModules: no module provides plugin test-host; workers import plugins from module URLs/,
    );
    await expect(runScenarioOnWorkers(s, [testHost], { pluginModules: ["file:///no/such/module.js"] })).rejects.toThrow(/^pluginModules: cannot import file:\/\/\/no\/such\/module.js/);
    // A module that carries its code is refused as the worker API refuses it, before anything is imported.
    await expect(runScenarioOnWorkers(s, [testHost], { pluginModules: [hostModule, "data:text/javascript,export const x = 1"] })).rejects.toThrow(
      /^pluginModules: "data:text\/javascript,export const x = 1" is refused: a data: URL carries the module's code itself/,
    );
  });

  it("continues a run cancelled on 2 workers, from its snapshot on 1 worker, to byte-identical results", { timeout: 60_000 }, async () => {
    const s = loadScenario(SCENARIO, { plugins: [testHost] });
    const local = JSON.stringify(await runScenario(s, [testHost], { duration: 3000 }));
    const saved: RunSnapshot[] = [];
    const controller = new AbortController();
    const cancelled = runScenarioOnWorkers(s, [testHost], {
      workers: 2,
      duration: 3000,
      pluginModules: [hostModule],
      signal: controller.signal,
      checkpoint: { every: 3600, save: (snap) => void saved.push(snap) },
      // Cancel once replications 0 and 1 are both under way.
      onProgress: (p) => {
        if (p.replication === 1 && p.simTime > 100) controller.abort();
      },
    });
    await expect(cancelled).rejects.toThrow(/run cancelled/); // the pool is the build's, with its own RunCancelled
    expect(saved).toHaveLength(1);
    expect(saved[0].running.map((r) => r.replication)).toContain(1);
    const resumed = await runScenarioOnWorkers(s, [testHost], { workers: 1, duration: 3000, pluginModules: [hostModule], resume: saved[0] });
    expect(JSON.stringify(resumed)).toBe(local);
  });

  it("never hangs when a replication fails while the run is being saved, and keeps the states of replications not running", { timeout: 60_000 }, async () => {
    // A layer whose per-message hook throws after 2 simulated seconds (requests come in over the NIC); saves every 0.1 s.
    const dir = mkdtempSync(join(tmpdir(), "turtles-pool-"));
    const failing = join(dir, "failing.mjs");
    const pluginApi = pathToFileURL(join(import.meta.dirname, "..", "..", "dist", "plugin", "index.js")).href;
    writeFileSync(
      failing,
      `import { definePlugin, fields } from ${JSON.stringify(pluginApi)};
export const late = definePlugin({ name: "late", layer: "late", version: "1.0.0", schema: fields({}),
  setup(api) {
    api.layerRules({ size: (_e, parent) => ({ request: { cores: 0, memory: 0 }, capacity: parent }), cpu: () => ({ weight: 1 }) });
    api.hook("net", (ctx) => { if (ctx.now > 2) throw new Error("late failure"); });
  } });
`,
    );
    const { late } = (await import(pathToFileURL(failing).href)) as { late: PluginDefinition };
    const text = SCENARIO.replace("memory: 4GiB }", "memory: 4GiB, nic: { bandwidth: 10Gb/s, latency: 10us } }")
      .replace("hosts: [{ type: h, count: 2 }]", "hosts: [{ type: h, count: 2 }]\nstacks: { l: [{ layer: late }] }\ndefaults: { stack: l }")
      .replace("load: { open: { rate: 150/s } },", "load: { open: { rate: 150/s } }, ingress: { request: 1KiB },");
    const s = loadScenario(text, {
      plugins: [testHost, late],
    });
    const saves: RunSnapshot[] = [];
    await expect(
      runScenarioOnWorkers(s, [testHost, late], {
        workers: 2,
        duration: 3000,
        retries: 1,
        pluginModules: [hostModule, pathToFileURL(failing).href],
        checkpoint: { every: 0.1, save: (snap) => void saves.push(snap) },
      }),
    ).rejects.toThrow(/late failure/); // (it hung here, at the save after the failure, before workers rejected what waited on them)

    // A saved run with states of replications 0 and 1, continued on one worker and cancelled at once: both states are kept.
    const plain = loadScenario(SCENARIO, { plugins: [testHost] });
    const first: RunSnapshot[] = [];
    const c1 = new AbortController();
    // Cancelled once both replications have begun: on a loaded machine one worker may start seconds after the other.
    const begun = new Set<number>();
    await runScenarioOnWorkers(plain, [testHost], {
      workers: 2,
      duration: 3000,
      pluginModules: [hostModule],
      signal: c1.signal,
      checkpoint: { every: 3600, save: (snap) => void first.push(snap) },
      onProgress: (p) => {
        if (p.simTime > 100) begun.add(p.replication);
        if (begun.size === 2) c1.abort();
      },
    }).catch(() => {});
    expect(first[0].running.map((r) => r.replication).sort()).toEqual([0, 1]);
    const second: RunSnapshot[] = [];
    const c2 = new AbortController();
    await runScenarioOnWorkers(plain, [testHost], {
      workers: 1,
      duration: 3000,
      pluginModules: [hostModule],
      resume: first[0],
      signal: c2.signal,
      checkpoint: { every: 3600, save: (snap) => void second.push(snap) },
      onProgress: () => c2.abort(),
    }).catch(() => {});
    expect(second[0].running.map((r) => r.replication).sort()).toEqual([0, 1]);
  });
});

describe("the pool under failure", () => {
  it("a save on Ctrl-C is the last: no periodic save writes older states over it", { timeout: 60_000 }, async () => {
    const s = loadScenario(SCENARIO, { plugins: [testHost] });
    const saves: { aborted: boolean; running: number[] }[] = [];
    const controller = new AbortController();
    const run = runScenarioOnWorkers(s, [testHost], {
      workers: 2,
      replications: 2,
      duration: 30_000,
      pluginModules: [hostModule],
      signal: controller.signal,
      checkpoint: {
        every: 0.1,
        // A slow save (a big model on a slow disk): a periodic tick falls due while the last save writes.
        save: (snap) => {
          const t = Date.now();
          while (Date.now() - t < 250);
          saves.push({ aborted: controller.signal.aborted, running: snap.running.map((r) => r.replication) });
        },
      },
      onProgress: (p) => p.replication === 1 && p.simTime > 200 && controller.abort(),
    });
    await expect(run).rejects.toThrow(/run cancelled/);
    await new Promise((r) => setTimeout(r, 500)); // a stray save would land here
    expect(saves.at(-1)).toEqual({ aborted: true, running: [0, 1] });
  });

  it("a callback that throws fails the run, and the pool stops taking jobs and closes", { timeout: 60_000 }, async () => {
    const base = loadScenario(SCENARIO, { plugins: [testHost] });
    const jobs = Array.from({ length: 6 }, (_, k) => ({ scenario: { ...base, replications: 1, seed: k + 1 } }));
    let calls = 0;
    await expect(
      runMany(jobs, [testHost], {
        workers: 2,
        pluginModules: [hostModule],
        onJob: () => {
          calls++;
          throw new Error("disk full");
        },
      }),
    ).rejects.toThrow(/disk full/);
    expect(calls).toBeLessThanOrEqual(2); // the job that threw, and at most the one already running beside it
  });
});

describe("the worker API (comlink, in a Node worker thread)", () => {
  const start = () => {
    const worker = new Worker(new URL("../../dist/worker/node-worker.js", import.meta.url));
    return { worker, api: wrap<EngineApi>(nodeEndpoint(worker)) };
  };

  it("loads, runs with batched progress, pauses, saves a snapshot, resumes, and its results equal a run in this thread", { timeout: 60_000 }, async () => {
    const s = loadScenario(SCENARIO, { plugins: [testHost] });
    const { worker, api } = start();
    try {
      const packs: ProgressEntry[][] = [];
      await api.subscribe(proxy((pack: Uint8Array) => void packs.push(decodeSnapshot(pack) as ProgressEntry[])));
      const info = await api.load({ scenario: SCENARIO, pluginModules: [hostModule], replications: 2, duration: 600 });
      expect(info).toMatchObject({ replications: 2, duration: 600, warmup: 2, services: ["t/a"] });
      const running = api.run({ chunk: 500 });
      expect(await api.pause()).toBe(true);
      await new Promise((r) => setTimeout(r, 100)); // packs already sent arrive on their own port
      const paused = packs.flat().length;
      await new Promise((r) => setTimeout(r, 200));
      expect(packs.flat().length).toBe(paused); // nothing moves while paused
      const snap = decodeSnapshot((await api.snapshot())!) as { replication: number; state: Uint8Array };
      expect(snap.replication).toBe(0);
      await api.resume();
      // A snapshot asked for while running, with a pause right behind it: the pause holds.
      const [taken, paused2] = await Promise.all([api.snapshot(), api.pause()]);
      expect(taken).not.toBeNull();
      expect(paused2).toBe(true);
      await new Promise((r) => setTimeout(r, 100));
      const held = packs.flat().length;
      await new Promise((r) => setTimeout(r, 300));
      expect(packs.flat().length).toBe(held);
      await api.resume();
      const results = decodeSnapshot(await running) as ReplicationResult[];
      const local = await runScenario(s, [testHost], { replications: 2, duration: 600 });
      expect(JSON.stringify(assembleResults({ ...s, replications: 2, duration: 600 }, [testHost], results))).toBe(JSON.stringify(local));
      const entries = packs.flat();
      const events = entries.filter((e) => e.replication === 1).at(-1)!.events;
      expect(entries.at(-1)).toMatchObject({ replication: 1, simTime: 602, end: 602 });
      expect(entries.at(-1)!.completed["t/a"]).toBeGreaterThan(85_000);
      expect(packs.length).toBeLessThan(events / 500); // batched: fewer packs than chunks, never one per event
      // The saved state continues, in the same worker, to the same replication 0.
      const again = decodeSnapshot(await api.run({ replications: [0], resume: [snap] })) as ReplicationResult[];
      expect(JSON.stringify(again[0])).toBe(JSON.stringify(results[0]));
    } finally {
      await worker.terminate();
    }
  });

  it("cancels a run promptly, and says what is wrong with a run of nothing", { timeout: 60_000 }, async () => {
    const { worker, api } = start();
    try {
      await expect(api.run()).rejects.toThrow(/no scenario is loaded/);
      await api.load({ scenario: SCENARIO, pluginModules: [hostModule], duration: 100_000 });
      const running = api.run({ chunk: 1000 });
      await new Promise((r) => setTimeout(r, 100));
      const t0 = Date.now();
      await api.cancel();
      await expect(running).rejects.toThrow(/run cancelled/);
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(await api.snapshot()).toBeNull();
    } finally {
      await worker.terminate();
    }
  });
});
