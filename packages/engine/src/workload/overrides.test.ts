import { describe, expect, it } from "vitest";
import { hashKey, Random } from "../random/random.js";
import { loadScenario } from "../scenario/load.js";
import { testHost } from "../testing/index.js";
import { applyOverrides, runScenario } from "./run.js";

const plugins = [testHost];
const text = (seed: string): string => `seed: ${seed}
duration: 3s
replications: 2
hostTypes: { h: { cores: 2, memory: 4GiB } }
hosts: [{ type: h }]
tenants: [{ name: t, services: [{ name: s, load: { open: { rate: 200/s } }, request: [{ cpu: { exp: 4ms } }] }] }]
`;

describe("seed -0", () => {
  it("is seed 0 in the file and as an override: the same scenario, hash and results byte for byte", async () => {
    const zero = loadScenario(text("0"), { file: "s.yaml", plugins });
    const negative = loadScenario(text("-0"), { file: "s.yaml", plugins });
    expect(Object.is(negative.seed, 0)).toBe(true);
    const expected = JSON.stringify(await runScenario(zero, plugins));
    expect(JSON.stringify(await runScenario(negative, plugins))).toBe(expected);
    const other = loadScenario(text("5"), { file: "s.yaml", plugins });
    expect(JSON.stringify(await runScenario(other, plugins, { seed: -0 }))).toBe(expected);
    expect(expected).not.toBe(JSON.stringify(await runScenario(other, plugins)));
  });

  it("keys a random stream as 0 does (a number keys by its value)", () => {
    expect([...hashKey([-0, "x"])]).toEqual([...hashKey([0, "x"])]);
    expect(Random.fromKey(-0).nextU32()).toBe(Random.fromKey(0).nextU32());
  });
});

describe("run overrides", () => {
  const s = loadScenario(text("1"), { file: "s.yaml", plugins });
  it.each([
    [{ seed: "abc" }, 'seed: expected a number, found "abc"'],
    [{ seed: 1.5 }, "seed: expected a whole number, found 1.5"],
    [{ seed: -1 }, "seed: must be at least 0, found -1"],
    [{ duration: 1e300 }, "duration: must be at most 100000000 s, found 1e+300"],
    [{ duration: 0 }, "duration: must be more than 0 s, found 0"],
    [{ replications: 3e7 }, "replications: must be at most 10000, found 30000000"],
    [{ replications: Number.NaN }, "replications: expected a count such as 32 or 100k, found NaN"],
  ])("refuses %j, naming the override and what it expects", (o, message) => {
    expect(() => applyOverrides(s, o as never)).toThrow(new RangeError(message));
  });

  it("applies good ones, read as the file's fields are", () => {
    expect(applyOverrides(s, { seed: 9, duration: "2m" as never, replications: 4 })).toMatchObject({ seed: 9, duration: 120, replications: 4 });
    expect(applyOverrides(s, {})).toEqual(s);
  });
});
