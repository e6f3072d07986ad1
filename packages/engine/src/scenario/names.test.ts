import { describe, expect, it } from "vitest";
import { definePlugin } from "../plugin/define.js";
import { passLayer, testHost } from "../testing/index.js";
import { own } from "../util/own.js";
import { pointKey } from "../workload/sweep.js";
import { runScenario } from "../workload/run.js";
import { fields } from "./fields.js";
import { loadScenario } from "./load.js";
import { pathTokens, resolveTokens } from "./paths.js";

const plugins = [testHost, passLayer("box")];

/** Names a plain object answers from its prototype. */
const INTERNALS = ["constructor", "toString", "valueOf", "hasOwnProperty", "isPrototypeOf"];

const scenario = (hostType: string, extra = ""): string => `duration: 2s
hostTypes: { h: { cores: 4, memory: 8GiB } }
hosts: [{ type: ${hostType}, count: 2 }]
${extra}
tenants:
  - name: t
    services: [{ name: s, load: { open: { rate: 100/s } }, request: [{ cpu: 1ms }] }]
`;

describe("names that are JavaScript internals", () => {
  it.each(INTERNALS)("a host of type %s, which the scenario does not define, is an unknown host type", (name) => {
    expect(() => loadScenario(scenario(name), { file: "x.yaml", plugins })).toThrow(`x.yaml:3:17: hosts[0].type: unknown host type "${name}"; defined: h`);
  });

  it.each(INTERNALS)("a stack %s that the scenario does not define is an unknown stack", (name) => {
    expect(() => loadScenario(scenario("h", `defaults: { stack: ${name} }`), { file: "x.yaml", plugins })).toThrow(
      `x.yaml:4:20: defaults.stack: unknown stack "${name}"; defined: baremetal`,
    );
  });

  it("are ordinary names when the scenario defines them: host type, zone, stack, tenant and service all run", async () => {
    const text = `duration: 2s
hostTypes: { constructor: { cores: 4, memory: 8GiB }, toString: { cores: 2, memory: 4GiB } }
hosts: [{ type: constructor, count: 1, zone: valueOf }, { type: toString, count: 1, zone: hasOwnProperty }]
network: { zones: [{ between: [valueOf, hasOwnProperty], latency: 1ms }] }
stacks: { constructor: [{ layer: box }] }
defaults: { stack: constructor }
tenants:
  - name: toString
    services: [{ name: valueOf, load: { open: { rate: 100/s } }, request: [{ cpu: 1ms }] }]
`;
    const s = loadScenario(text, { file: "x.yaml", plugins });
    const results = await runScenario(s, plugins);
    const st = results.stacks.constructor;
    expect(st.services["toString/valueOf"].completed).toBeGreaterThan(150);
    expect(Object.keys(st.hostTypes)).toEqual(["constructor", "toString"]);
    expect(st.hostTypes.constructor.hosts).toBe(1);
  });

  it("refuses __proto__ as a key anywhere (records would drop it silently) and as a name, touching no prototype", () => {
    expect(() => loadScenario(scenario("h").replace("{ h:", "{ __proto__: { cores: 1, memory: 1GiB }, h:"), { file: "x.yaml", plugins })).toThrow(
      'x.yaml:2:14: hostTypes.__proto__: "__proto__" cannot be a key: it is a JavaScript internal, and would be dropped; rename it',
    );
    expect(() => loadScenario(scenario("h", "placement: { __proto__: { policy: spread } }"), { file: "x.yaml", plugins })).toThrow(
      'x.yaml:4:14: placement.__proto__: "__proto__" cannot be a key',
    );
    expect(() => loadScenario(scenario("__proto__"), { file: "x.yaml", plugins })).toThrow(
      "x.yaml:3:17: hosts[0].type: expected a name of letters, digits, '.', '_' and '-'",
    );
    expect(({} as Record<string, unknown>).cores).toBeUndefined();
    expect(({} as Record<string, unknown>).policy).toBeUndefined();
  });

  it("own() answers only a record's own entries", () => {
    const record: Record<string, number> = { a: 1 };
    expect(own(record, "a")).toBe(1);
    for (const name of [...INTERNALS, "__proto__"]) expect(own(record, name)).toBeUndefined();
    expect(own(undefined, "a")).toBeUndefined();
  });

  it("a --param path resolves only through a document's own keys", () => {
    expect(resolveTokens({ hostTypes: { h: { cores: 1 } } }, pathTokens("hostTypes.constructor.name"))).toEqual({ found: ["hostTypes"], rest: ["constructor", "name"] });
  });

  it("a sweep point that lacks a parameter named like an Object member keys as an empty cell", () => {
    expect(pointKey({ x: "1" }, ["x", "constructor"])).toBe(JSON.stringify(["1", ""]));
  });

  it("a plugin whose layer is named constructor reports its metrics under layers.constructor, and pollutes nothing", async () => {
    const odd = definePlugin({
      name: "constructor",
      layer: "constructor",
      version: "1.0.0",
      schema: fields({}),
      setup(api) {
        api.layerRules({ size: (_e, parent) => ({ request: { cores: 0, memory: 0 }, capacity: parent }), cpu: () => ({ weight: 1 }) });
        const made = api.metric("made", { kind: "counter" });
        api.hook("create", () => made.add(1));
      },
    });
    const s = loadScenario(scenario("h", "stacks: { odd: [{ layer: constructor }] }\ndefaults: { stack: odd }"), { file: "x.yaml", plugins: [testHost, odd] });
    const results = await runScenario(s, [testHost, odd]);
    expect(results.stacks.odd.layers.constructor).toEqual({ made: 0 }); // created before the measurement starts
    expect(Object.hasOwn(Object, "made")).toBe(false);
  });
});

describe("keys that collide", () => {
  it("refuses keys 1 and \"1\" in one mapping (both become the key \"1\"), naming the later", () => {
    const text = scenario("1").replace("{ h: { cores: 4, memory: 8GiB } }", '\n  1: { cores: 4, memory: 8GiB }\n  "1": { cores: 2, memory: 8GiB }');
    expect(() => loadScenario(text, { file: "x.yaml", plugins })).toThrow(
      'x.yaml:4:3: duplicate key "1": this mapping already has it (keys are text: 1 and "1" are the same key); keep one',
    );
    expect(() => loadScenario(text.replace('"1":', "true:").replace("1:", '"true":'), { file: "x.yaml", plugins })).toThrow(/duplicate key "true"/);
  });

  it("refuses the same zone pair twice, in either order, at the later one", () => {
    const text = scenario("h").replace(
      "hosts: [{ type: h, count: 2 }]",
      "hosts: [{ type: h, zone: a }, { type: h, zone: b }]\nnetwork:\n  zones:\n    - { between: [a, b], latency: 1ms }\n    - { between: [b, a], latency: 2ms }",
    );
    expect(() => loadScenario(text, { file: "x.yaml", plugins })).toThrow(
      "x.yaml:7:18: network.zones[1].between: the zones b and a are paired twice (also network.zones[0]); give each pair's latency once",
    );
  });
});
