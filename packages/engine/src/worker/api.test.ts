import { describe, expect, it } from "vitest";
import { decodeSnapshot } from "../kernel/codec.js";
import { testHost } from "../testing/index.js";
import type { ReplicationResult } from "../workload/run.js";
import { createEngineApi } from "./api.js";
import type { EngineApi } from "./protocol.js";

// The worker API object itself, in this thread (a worker exposes the same object through comlink).
const SCENARIO = `duration: 2s
replications: 2
hostTypes: { h: { cores: 2, memory: 4GiB } }
hosts: [{ type: h }]
tenants: [{ name: t, services: [{ name: s, load: { open: { rate: 200/s } }, request: [{ cpu: { exp: 4ms } }] }] }]
`;

const api = (): EngineApi => createEngineApi({ plugins: [testHost] });

/** What a normal load and run give: the results of every replication, in order. */
async function normalRun(engine: EngineApi): Promise<ReplicationResult[]> {
  await engine.load({ scenario: SCENARIO, file: "s.yaml" });
  return decodeSnapshot(await engine.run()) as ReplicationResult[];
}

const expected = normalRun(api());

/** Each malformed call, the message it is rejected with, and whether it reaches the worker before or after a load. */
const MALFORMED: [string, (e: EngineApi) => unknown, RegExp | string][] = [
  ["run({ resume: 42 })", (e) => e.run({ resume: 42 } as never), "run: resume must be a list of { replication, state }, found 42"],
  ["run({ resume: [{ replication: 9 }] })", (e) => e.run({ resume: [{ replication: 9 }] } as never), "run: resume[0].replication must be a whole number from 0 to 1 (the scenario has 2 replications), found 9"],
  ["run({ resume: [{ replication: 0, state: 'x' }] })", (e) => e.run({ resume: [{ replication: 0, state: "x" }] } as never), 'run: resume[0].state must be the bytes snapshot() gave, found "x"'],
  ["run({ resume: garbage bytes })", (e) => e.run({ resume: [{ replication: 0, state: new Uint8Array([1, 2, 3]) }] }), /./],
  [
    "run({ replications: [1], resume: [{ replication: 0, ... }] })",
    (e) => e.run({ replications: [1], resume: [{ replication: 0, state: new Uint8Array(1) }] }),
    "run: resume[0] continues replication 0, which is not among the replications to run",
  ],
  ["run({ replications: [0, 0] })", (e) => e.run({ replications: [0, 0] }), "run: replication 0 is listed twice in replications"],
  ["run({ replications: [5] })", (e) => e.run({ replications: [5] }), "run: replications[0] must be a whole number from 0 to 1 (the scenario has 2 replications), found 5"],
  ["run({ replications: 'all' })", (e) => e.run({ replications: "all" } as never), 'run: replications must be a list of replication indices, found "all"'],
  ["run({ chunk: 0 })", (e) => e.run({ chunk: 0 }), "run: chunk must be a whole number of events from 1 to 1000000000, found 0"],
  ["run({ chunk: 0.5 })", (e) => e.run({ chunk: 0.5 }), "run: chunk must be a whole number of events from 1 to 1000000000, found 0.5"],
  ["run({ job: -1 })", (e) => e.run({ job: -1 }), "run: job must be a whole number from 0, found -1"],
  ["run({ chunks: 10 })", (e) => e.run({ chunks: 10 } as never), 'run: unknown field "chunks"; did you mean "chunk"?'],
  ["run(42)", (e) => e.run(42 as never), "run: its argument must be an object { replications, resume, chunk, job }, found 42"],
  ["subscribe(42)", (e) => e.subscribe(42 as never), "subscribe: its argument must be a function of a progress pack (a comlink proxy), found 42"],
  ["load({ scenario, seed: 'abc' })", (e) => e.load({ scenario: SCENARIO, seed: "abc" as never }), 'load: seed: expected a number, found "abc"'],
  ["load({ scenario, duration: 1e300 })", (e) => e.load({ scenario: SCENARIO, duration: 1e300 }), "load: duration: must be at most 100000000 s, found 1e+300"],
  ["load({ scenario, replications: 3e7 })", (e) => e.load({ scenario: SCENARIO, replications: 3e7 }), "load: replications: must be at most 10000, found 30000000"],
  ["load({ scenario: 42 })", (e) => e.load({ scenario: 42 } as never), "load: scenario must be the scenario's YAML or JSON text, found 42"],
  ["load({ scenario, pluginModules: 'x' })", (e) => e.load({ scenario: SCENARIO, pluginModules: "x" } as never), 'load: pluginModules must be a list of module URLs, found "x"'],
  ["load({ scenario, seeds: 1 })", (e) => e.load({ scenario: SCENARIO, seeds: 1 } as never), 'load: unknown field "seeds"; did you mean "seed"?'],
  ["load(null)", (e) => e.load(null as never), "load: its argument must be an object { scenario, file, pluginModules, seed, duration, replications }, found an empty value"],
  ["load({ scenario: bad YAML })", (e) => e.load({ scenario: "duration: [", file: "bad.yaml" }), /^bad\.yaml:1:/],
];

describe("the worker API after a malformed call", () => {
  it.each(MALFORMED)("rejects %s with what was expected, then loads and runs as if nothing happened", async (_name, call, message) => {
    const engine = api();
    await engine.load({ scenario: SCENARIO, file: "s.yaml" }); // so that run's checks see a scenario
    const outcome = (async () => call(engine))();
    if (typeof message === "string") await expect(outcome).rejects.toThrow(message);
    else await expect(outcome).rejects.toThrow(message);
    engine.cancel(); // what a caller does after an error, which must not wedge it either
    expect(await normalRun(engine)).toEqual(await expected);
  });

  it("keeps running when a subscriber throws, and delivers progress to the others", async () => {
    const engine = api();
    const packs: Uint8Array[] = [];
    engine.subscribe(() => {
      throw new Error("a closed port");
    });
    engine.subscribe(() => Promise.reject(new Error("a rejected proxy call")));
    engine.subscribe((pack) => packs.push(pack));
    expect(await normalRun(engine)).toEqual(await expected);
    expect(packs.length).toBeGreaterThan(0);
  });

  it("answers run before load, and a second run while one goes on, without wedging", async () => {
    const engine = api();
    await expect(engine.run()).rejects.toThrow("no scenario is loaded: call load() first");
    await engine.load({ scenario: SCENARIO, file: "s.yaml" });
    const first = engine.run();
    await expect(engine.run()).rejects.toThrow("a run is already going on in this worker");
    expect(decodeSnapshot(await first)).toEqual(await expected);
    expect(await normalRun(engine)).toEqual(await expected);
  });

  it("normalises the overrides it accepts: seed -0 runs as seed 0", async () => {
    const zero = api();
    await zero.load({ scenario: SCENARIO, seed: 0 });
    const negative = api();
    const info = await negative.load({ scenario: SCENARIO, seed: -0 });
    expect(Object.is(info.seed, 0)).toBe(true);
    expect(decodeSnapshot(await negative.run())).toEqual(decodeSnapshot(await zero.run()));
  });
});

const ONE_SECOND = `duration: 1s
hostTypes: { h: { cores: 2, memory: 4GiB } }
hosts: [{ type: h }]
tenants: [{ name: t, services: [{ name: a, replicas: 1, load: { open: { rate: 10/s } }, request: [{ cpu: 1ms }] }] }]
`;

describe("the worker API's plugin modules", () => {
  it("refuses data: and blob: URLs, which carry their code, before importing anything, and stays usable", async () => {
    const api = createEngineApi({ plugins: [testHost] });
    const g = globalThis as { turtlesDataUrlRan?: boolean };
    const code = "data:text/javascript,globalThis.turtlesDataUrlRan=true;export const plugin={}";
    await expect(api.load({ scenario: ONE_SECOND, pluginModules: [code] })).rejects.toThrow(
      /^pluginModules: "data:text\/javascript,globalThis.turtlesD\.\.\." is refused: a data: URL carries the module's code itself; give the file: URL of an installed module/,
    );
    expect(g.turtlesDataUrlRan).toBeUndefined();
    await expect(api.load({ scenario: ONE_SECOND, pluginModules: ["blob:nodedata:1234"] })).rejects.toThrow(/^pluginModules: "blob:nodedata:1234" is refused: a blob: URL carries the module's code itself/);
    await expect(api.load({ scenario: ONE_SECOND, pluginModules: ["node:fs"] })).rejects.toThrow(/^pluginModules: "node:fs" is refused: a node: URL is not a module file/);
    await expect(api.load({ scenario: ONE_SECOND, pluginModules: [42 as unknown as string] })).rejects.toThrow(/^pluginModules: 42 is not a module name/);
    await expect(api.load({ scenario: ONE_SECOND, pluginModules: "data:x" as unknown as string[] })).rejects.toThrow(/^load: pluginModules must be a list of module URLs, found "data:x"/);
    // A refused module before a good one: nothing of the list is imported.
    await expect(api.load({ scenario: ONE_SECOND, pluginModules: ["@turtles/engine/testing", code] })).rejects.toThrow(/is refused/);
    expect(g.turtlesDataUrlRan).toBeUndefined();
    expect((await api.load({ scenario: ONE_SECOND })).services).toEqual(["t/a"]);
  });
});
