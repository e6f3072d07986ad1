import { describe, expect, it } from "vitest";
import { passLayer, testHost, unboundedNumbers, vcpuLayer } from "../testing/index.js";
import { runScenario } from "../workload/run.js";
import { quantity, UNIT_RANGE, unitRangeProblem } from "./fields.js";
import { scenarioJsonSchema } from "./json-schema.js";
import { loadScenario } from "./load.js";

const plugins = [testHost, vcpuLayer, passLayer("box")];

const problems = (text: string): string[] => {
  try {
    loadScenario(text, { file: "b.yaml", plugins });
    return [];
  } catch (err) {
    return (err as Error).message.split("\n");
  }
};

/** The paths of numbers in `value` that are not finite (JSON would print them as null, hiding them). */
function nonFinite(value: unknown, path = "$"): string[] {
  if (typeof value === "number") return Number.isFinite(value) ? [] : [`${path} = ${value}`];
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([k, v]) => nonFinite(v, `${path}.${k}`));
}

describe("numbers at the edges", () => {
  it("refuses denormals (their inverse is Infinity) and 1e308 in every kind of value, with the bound", () => {
    const text = `duration: 10s
hostTypes: { h: { cores: 4, memory: 1e308, nic: { bandwidth: 1e-320, latency: 1e-320 }, speed: 1e-320 } }
hosts: [{ type: h }]
tenants:
  - name: t
    services:
      - name: a
        cores: 1e-320
        ingress: { request: 1e308 }
        load: { open: { rate: 1e-320 } }
        request: [{ mem: { alloc: 1e308 } }, { cpu: { exp: 1e-320 } }, { io: { read: 1e308 } }]
`;
    expect(problems(text)).toEqual([
      "b.yaml:2:37: hostTypes.h.memory: must be at most 1000000000000000 B, found 1e+308",
      "b.yaml:2:62: hostTypes.h.nic.bandwidth: must be at least 0.125 B/s, found 1e-320",
      "b.yaml:2:79: hostTypes.h.nic.latency: must be 0 or at least 1e-9 s, found 1e-320",
      "b.yaml:2:96: hostTypes.h.speed: must be at least 0.001, found 1e-320",
      "b.yaml:8:16: tenants.t.services.a.cores: must be 0 or at least 0.001, found 1e-320",
      "b.yaml:9:29: tenants.t.services.a.ingress.request: must be at most 1000000000000000 B, found 1e+308",
      "b.yaml:10:31: tenants.t.services.a.load.open.rate: must be at least 1e-8, found 1e-320",
      "b.yaml:11:35: tenants.t.services.a.request[0].mem.alloc: must be at most 1000000000000000 B, found 1e+308",
      "b.yaml:11:60: tenants.t.services.a.request[1].cpu.exp: must be at least 1e-9 s, found 1e-320",
      "b.yaml:11:86: tenants.t.services.a.request[2].io.read: must be at most 1000000000000000 B, found 1e+308",
    ]);
  });

  it("gives every number of the JSON Schema a lower and an upper bound, so editors show them", () => {
    expect(unboundedNumbers(scenarioJsonSchema(plugins))).toEqual([]);
    expect(unboundedNumbers({ properties: { a: { type: "number", minimum: 0 }, b: { type: ["number", "string"], exclusiveMinimum: 0, maximum: 1 } } })).toEqual(["#/properties/a"]);
    const duration = (scenarioJsonSchema(plugins).properties as Record<string, Record<string, unknown>>).duration;
    expect(duration).toMatchObject({ minimum: 1e-9, maximum: 1e8 });
  });

  it("a scenario at the bounds runs to figures that are all finite or null", async () => {
    const text = `duration: 2s
hostTypes:
  big: { cores: 4, memory: 1PB, nic: { bandwidth: 1PB/s, latency: 1e8s }, disk: { iops: 1e9, bandwidth: 1PB/s } }
  slow: { cores: 1, memory: 1PB, speed: 0.001, nic: { bandwidth: 1b/s }, disk: { iops: 1e-8, bandwidth: 1b/s } }
hosts: [{ type: big, count: 2 }, { type: slow }]
tenants:
  - name: t
    services:
      - name: a
        replicas: 3
        memory: 1PB
        ingress: { request: 1PB, response: 1PB }
        load: { open: { rate: 1000/s } }
        request: [{ mem: { alloc: 1PB } }, { cpu: { exp: 1e8s } }, { io: { read: 1PB } }, { call: b }, { mem: { free: 1PB } }]
      - name: b
        load: { open: { rate: 1e-8 } }
        request: [{ cpu: 1ns }, { io: { write: 1b } }]
`;
    const s = loadScenario(text, { file: "b.yaml", plugins });
    const results = await runScenario(s, plugins);
    expect(nonFinite(results)).toEqual([]);
    expect(results.stacks.baremetal.hosts.memoryUsed).toBeGreaterThan(1e15);
  });

  it("checks values from elsewhere (a CSV cell, a plugin's plain number) as the scenario's fields", () => {
    expect(unitRangeProblem("rate", 1e-320)).toBe("must be 0 or at least 1e-8, found 1e-320");
    expect(unitRangeProblem("rate", 1e-320, { above: 0 })).toBe("must be at least 1e-8, found 1e-320");
    expect(unitRangeProblem("size", -1)).toBe("must be at least 0 B, found -1");
    expect(unitRangeProblem("duration", 2e8, { max: 1e300 })).toBe("must be at most 100000000 s, found 200000000"); // never past the kind's range
    expect(unitRangeProblem("power", UNIT_RANGE.power.max)).toBeUndefined();
    const share = quantity({ above: 0, max: 1, smallest: 1e-6 });
    expect(share.safeParse(0.5).success).toBe(true);
    expect(share.safeParse(5e-324).error?.issues[0].message).toBe("must be at least 0.000001, found 5e-324");
    expect(share.safeParse(0).error?.issues[0].message).toBe("must be more than 0, found 0");
  });
});
