import { describe, expect, it } from "vitest";
import { definePlugin } from "../plugin/define.js";
import { count, fields, oneOf, unitValue } from "./fields.js";
import { toDistribution } from "./distribution.js";
import { scenarioJsonSchema } from "./json-schema.js";
import { loadScenario } from "./load.js";
import { LIMITS } from "./schema.js";
import { ScenarioError } from "./problems.js";
import { estimateScenario, summarizeScenario } from "./estimate.js";

// Plugins of the shape a third party would write, importing only the plugin API.
const host = definePlugin({
  name: "test-host",
  layer: "host",
  version: "1.0.0",
  schema: fields({ cores: count(1, 4096), memory: unitValue("size", { above: 0 }), nic: fields({ bandwidth: unitValue("byteRate") }).optional() }),
});
const vm = definePlugin({
  name: "test-vm",
  layer: "vm",
  version: "1.0.0",
  schema: fields({ profile: oneOf(["kvm", "firecracker"], "a profile").default("kvm"), vcpus: count(1, 64), memory: unitValue("size") }),
});
const box = definePlugin({ name: "test-box", layer: "box", version: "1.0.0", schema: fields({ slots: count(1, 10).default(1) }) });
const plugins = [host, vm, box];

const EVERY_FIELD = `
version: 1
name: every-field
seed: 7
duration: 2m
warmup: 30s
replications: 3
hostTypes:
  big: { cores: 64, memory: 512GiB, nic: { bandwidth: 100Gb/s } }
  small: { cores: 8, memory: 32GiB }
hosts:
  - { type: big, count: 2, zone: east }
  - { type: small }
stacks:
  k8s: [{ layer: vm, per: host, vcpus: 16, memory: 64GiB }, { layer: box }]
  vms: [{ layer: vm, profile: firecracker, vcpus: 2, memory: 4GiB }]
defaults: { stack: k8s }
tenants:
  - name: shop
    services:
      - name: front
        replicas: 1.5k
        threads: 64
        queue: 500
        memory: 2GiB
        stack: vms
        balance: least-outstanding
        load: { open: { rate: 2k/s } }
        ingress: { request: 1KiB, response: 16KiB }
        slo: { mean: 10ms, p50: 5ms, p90: 20ms, p99: 50ms, p999: 100ms }
        request:
          - cpu: { exp: 2ms }
          - cpu: { lognormal: { mean: 1ms, cv: 2 } }
          - cpu: { uniform: [1ms, 3ms] }
          - cpu: { empirical: [1ms, 2ms, 10ms] }
          - sleep: 250us
          - mem: { alloc: 1MiB }
          - mem: { touch: 512KiB }
          - mem: { free: 1MiB }
          - io: { read: 4KiB, count: 2, random: true }
          - io: { write: { exp: 64KiB } }
          - call: db
          - call: { service: ops/log, request: 200B, response: 1kB }
          - call: ops/log
      - name: db
        balance: random
        load: { closed: { clients: 50, think: { exp: 1s } } }
        request: [{ cpu: 500us }]
  - name: ops
    services:
      - name: log
        replicas: 2
        load: { closed: { clients: 3 } }
        request: [{ io: { write: 4KiB } }]
placement: { policy: spread, antiAffinity: true, memoryOvercommit: true }
`;

describe("loadScenario", () => {
  it("normalises every field of the v1 format", () => {
    const s = loadScenario(EVERY_FIELD, { file: "every.yaml", plugins });
    expect(s).toMatchObject({ version: 1, name: "every-field", seed: 7, duration: 120, warmup: 30, replications: 3 });
    expect(s.hostTypes).toEqual({ big: { cores: 64, memory: 512 * 2 ** 30, nic: { bandwidth: 12.5e9 } }, small: { cores: 8, memory: 32 * 2 ** 30 } });
    expect(s.hosts).toEqual([
      { type: "big", count: 2, zone: "east" },
      { type: "small", count: 1, zone: "a" },
    ]);
    expect(s.stacks).toEqual({
      k8s: [
        { layer: "vm", per: "host", profile: "kvm", vcpus: 16, memory: 64 * 2 ** 30 },
        { layer: "box", per: "replica", slots: 1 },
      ],
      vms: [{ layer: "vm", per: "replica", profile: "firecracker", vcpus: 2, memory: 4 * 2 ** 30 }],
    });
    expect(s.defaults).toEqual({ stack: "k8s" });
    expect(s.placement).toEqual({ policy: "spread", antiAffinity: true, memoryOvercommit: true });
    const [front, db] = s.tenants[0].services;
    expect(front).toEqual({
      name: "front",
      replicas: 1500,
      cores: 1,
      threads: 64,
      queue: 500,
      memory: 2 * 2 ** 30,
      stack: "vms",
      balance: "least-outstanding",
      load: { open: { rate: 2000 } },
      ingress: { request: 1024, response: 16384 },
      slo: { mean: 0.01, p50: 0.005, p90: 0.02, p99: 0.05, p999: 0.1 },
      request: [
        { cpu: { exp: 0.002 } },
        { cpu: { lognormal: { mean: 0.001, cv: 2 } } },
        { cpu: { uniform: [0.001, 0.003] } },
        { cpu: { empirical: [0.001, 0.002, 0.01] } },
        { sleep: 0.00025 },
        { mem: { alloc: 2 ** 20 } },
        { mem: { touch: 512 * 1024 } },
        { mem: { free: 2 ** 20 } },
        { io: { read: 4096, count: 2, random: true } },
        { io: { write: { exp: 65536 }, count: 1, random: false } },
        { call: { service: "shop/db" } },
        { call: { service: "ops/log", request: 200, response: 1000 } },
        { call: { service: "ops/log" } },
      ],
    });
    expect(db).toEqual({
      name: "db",
      replicas: 1,
      cores: 1,
      queue: 10000,
      memory: 0,
      balance: "random",
      load: { closed: { clients: 50, think: { exp: 1 } } },
      request: [{ cpu: 0.0005 }],
    });
    expect(s.tenants[1].services[0].load).toEqual({ closed: { clients: 3, think: 0 } });
  });

  it("accepts its own normalised output unchanged (round trip through JSON)", () => {
    const once = loadScenario(EVERY_FIELD, { file: "every.yaml", plugins });
    const twice = loadScenario(JSON.stringify(once), { file: "every.json", plugins });
    expect(twice).toEqual(once);
    expect(JSON.stringify(twice)).toBe(JSON.stringify(once)); // key order too: the scenario hash and saved runs rely on it
    const nameless = loadScenario(EVERY_FIELD.replace("name: every-field\n", ""), { file: "every.yaml", plugins });
    expect(JSON.stringify(loadScenario(JSON.stringify(nameless), { plugins }))).toBe(JSON.stringify(nameless));
  });

  it("reports at most 20 lines, the last one counting the rest", () => {
    const services = Array.from({ length: 30 }, (_, i) => `      - { name: s${i}, replica: 1, request: [{ cpu: 1ms }] }`).join("\n");
    const text = `duration: 1m\nhostTypes: { h: { cores: 1, memory: 1GiB } }\nhosts: [{ type: h }]\ntenants:\n  - name: t\n    services:\n${services}\n`;
    let err: unknown;
    try {
      loadScenario(text, { file: "many.yaml", plugins });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ScenarioError);
    const lines = (err as ScenarioError).message.split("\n");
    expect((err as ScenarioError).problems).toHaveLength(30);
    expect(lines).toHaveLength(20);
    expect(lines[0]).toBe('many.yaml:7:21: tenants.t.services.s0.replica: unknown key "replica"; did you mean "replicas"?');
    expect(lines[19]).toBe("... and 11 more problems");
  });

  it("refuses a model that would not fit in memory, with the estimate", () => {
    const text = `duration: 1m\nhostTypes: { h: { cores: 1, memory: 1GiB } }\nhosts: [{ type: h, count: 100k }]\ntenants: [{ name: t, services: [{ name: s, replicas: 1M, request: [{ cpu: 1ms }] }] }]\n`;
    expect(() => loadScenario(text, { file: "big.yaml", plugins, memoryLimit: 2 ** 20 })).toThrow(
      "big.yaml:1:1: the model would need about 830 MiB of memory (100000 hosts, 1100000 nodes, 1 services, 0 clients), more than the 1.0 MiB available; reduce replicas, hosts or clients, or split it into a sweep",
    );
    // The JavaScript heap is bounded on its own (a machine with memory to spare still stops at V8's limit).
    expect(() => loadScenario(text, { file: "big.yaml", plugins, memoryLimit: 2 ** 40, heapLimit: 2 ** 20 })).toThrow(
      "big.yaml:1:1: the model would need about 317 MiB of JavaScript heap (100000 hosts, 1100000 nodes, 1 services, 0 clients), more than the 1.0 MiB this process may use; reduce replicas, hosts or clients, or split it into a sweep, or raise the limit (NODE_OPTIONS=--max-old-space-size=MiB)",
    );
    expect(estimateScenario(loadScenario(text, { file: "big.yaml", plugins })).bytes).toBeGreaterThan(2 ** 27);
  });

  it("refuses values no simulation can run: durations past 1e8 s, rates past 1e9/s, lognormal cv past 1000", () => {
    const text = `duration: 1e9s\nhostTypes: { h: { cores: 1, memory: 1GiB } }\nhosts: [{ type: h }]\ntenants: [{ name: t, services: [{ name: a, load: { open: { rate: 1e12/s } }, request: [{ cpu: 1e300s }, { cpu: { lognormal: { mean: 1ms, cv: 1e300 } } }] }] }]\n`;
    expect(() => loadScenario(text, { file: "x.yaml", plugins })).toThrow(
      [
        'x.yaml:1:11: duration: must be at most 100000000 s, found "1e9s"',
        'x.yaml:4:66: tenants.t.services.a.load.open.rate: must be at most 1000000000, found "1e12/s"',
        'x.yaml:4:95: tenants.t.services.a.request[0].cpu: must be at most 100000000 s, found "1e300s"',
        "x.yaml:4:142: tenants.t.services.a.request[1].cpu.lognormal.cv: must be at most 1000, found 1e+300",
      ].join("\n"),
    );
  });

  it("refuses text with NUL bytes, a top-level list, and a plugin-less host", () => {
    expect(() => loadScenario("duration: 1m\u0000", { file: "nul.yaml", plugins })).toThrow("nul.yaml: is not a text file (it contains NUL bytes)");
    expect(() => loadScenario("- 1\n- 2\n", { file: "list.yaml", plugins })).toThrow(
      "list.yaml:1:1: expected a mapping of scenario fields at the top level, found a list",
    );
    expect(() => loadScenario("duration: 1m\nhostTypes: { h: { cores: 1 } }\nhosts: [{ type: h }]\ntenants: []\n", { file: "x.yaml", plugins: [vm] })).toThrow(
      /exactly one plugin must provide the host layer/,
    );
  });

  it("refuses the host as a stack layer and explains why", () => {
    const text = `duration: 1m\nhostTypes: { h: { cores: 1, memory: 1GiB } }\nhosts: [{ type: h }]\nstacks: { s: [{ layer: host }] }\ntenants: [{ name: t, services: [{ name: a, request: [{ cpu: 1ms }] }] }]\n`;
    expect(() => loadScenario(text, { file: "h.yaml", plugins })).toThrow(
      'h.yaml:4:24: stacks.s[0].layer: unknown layer "host"; the host is the implicit root of every stack: list only the layers above it',
    );
  });

  it("runs a plugin's checks of a whole entry, located at the field they name", () => {
    const pair = definePlugin({
      name: "test-pair",
      layer: "pair",
      version: "1.0.0",
      schema: fields({ low: count(0, 10).default(0), high: count(0, 10).default(10) }).superRefine((e, ctx) => {
        if (e.low > e.high) ctx.addIssue({ code: "custom", path: ["low"], message: "low must not exceed high" });
      }),
    });
    const text = (entry: string): string => `duration: 1m\nhostTypes: { h: { cores: 1, memory: 1GiB } }\nhosts: [{ type: h }]\nstacks: { s: [{ layer: pair, ${entry} }] }\ntenants: [{ name: t, services: [{ name: a, stack: s, request: [{ cpu: 1ms }] }] }]\n`;
    expect(() => loadScenario(text("low: 5, high: 2"), { file: "p.yaml", plugins: [host, pair] })).toThrow("p.yaml:4:35: stacks.s[0].low: low must not exceed high");
    expect(loadScenario(text("low: 2, high: 5"), { file: "p.yaml", plugins: [host, pair] }).stacks.s[0]).toEqual({ layer: "pair", per: "replica", low: 2, high: 5 });
  });

  it("summarises hosts, cores, replicas, clients and load", () => {
    const s = summarizeScenario(loadScenario(EVERY_FIELD, { file: "every.yaml", plugins }));
    expect(s).toMatchObject({ hosts: 3, cores: 136, tenants: 2, services: 3, replicas: 1503, clients: 53, openRate: 2000, stacks: ["k8s", "vms"] });
  });
});

describe("definePlugin", () => {
  it("refuses bad names and schemas that define the engine's own fields", () => {
    expect(() => definePlugin({ name: "Bad Name", layer: "vm", version: "1", schema: fields({}) })).toThrow(/plugin name/);
    expect(() => definePlugin({ name: "x", layer: "vm", version: "1", schema: fields({ per: count() }) })).toThrow(/must not define "per"/);
  });
});

describe("scenario helpers", () => {
  it("turns distribution specs into kernel distributions with the same mean", () => {
    expect(toDistribution(0.002).mean).toBe(0.002);
    expect(toDistribution({ exp: 0.5 }).mean).toBe(0.5);
    expect(toDistribution({ lognormal: { mean: 3, cv: 1 } }).variance).toBeCloseTo(9, 12);
    expect(toDistribution({ uniform: [1, 3] }).mean).toBe(2);
    expect(toDistribution({ empirical: [1, 2, 6] }).mean).toBe(3);
  });

  it("exports the input side as JSON Schema, with each plugin's layer", () => {
    const schema = JSON.stringify(scenarioJsonSchema(plugins));
    expect(schema).toContain('"const":"vm"');
    expect(schema).toContain('"const":"box"');
    expect(schema).toContain('"vcpus"');
  });
});

describe("bounded input", () => {
  const MINIMAL = "duration: 1m\nhostTypes: { h: { cores: 1, memory: 1GiB } }\nhosts: [{ type: h }]\ntenants: [{ name: t, services: [{ name: a, request: [{ cpu: 1ms }] }] }]\n";
  const problems = (source: string | Uint8Array, readFile?: (p: string) => string): string => {
    try {
      loadScenario(source, { file: "s.yaml", plugins, readFile });
    } catch (err) {
      if (err instanceof ScenarioError) return err.message;
      throw err;
    }
    return "";
  };

  it("refuses a scenario larger than LIMITS.scenarioBytes, as text or bytes, counting UTF-8 bytes, before parsing it", () => {
    const fill = (n: number, ch = "#"): string => `${MINIMAL}${ch.repeat(n - MINIMAL.length - 1)}\n`;
    const tooBig = "s.yaml: is larger than 4.0 MiB, the most a scenario may be (reading YAML takes about 200 times its size in memory); put long data, such as a rate profile, in a CSV file beside it (rate: { csv: rates.csv })";
    expect(problems(fill(LIMITS.scenarioBytes))).toBe("");
    expect(problems(fill(LIMITS.scenarioBytes + 1))).toBe(tooBig);
    expect(problems(new TextEncoder().encode(fill(LIMITS.scenarioBytes + 1)))).toBe(tooBig);
    // "é" is 2 bytes: a text of fewer characters than the limit may still pass it.
    expect(problems(`${MINIMAL}#${"é".repeat(LIMITS.scenarioBytes / 2)}\n`)).toBe(tooBig);
  });

  it("refuses aliases that expand past LIMITS.scenarioValues, at the alias that passes it, in time linear in the file", () => {
    const list = Array.from({ length: 20_000 }, (_, i) => `${1 + (i % 7)}ms`).join(", ");
    const aliased = (n: number): string =>
      `duration: 1m\nhostTypes: { h: { cores: 1, memory: 1GiB } }\nhosts: [{ type: h }]\ntenants:\n  - name: t\n    services:\n` +
      `      - { name: a, request: [{ cpu: { empirical: &v [${list}] } }] }\n` +
      Array.from({ length: n }, (_, i) => `      - { name: b${i}, request: [{ cpu: { empirical: *v } }] }\n`).join("");
    // Lists of 20,001 values (the list and its items): the 50th passes 1,000,000, at its alias (b48, line 56).
    expect(problems(aliased(2))).toBe("");
    expect(problems(aliased(1000))).toBe(
      "s.yaml:56:52: the alias *v makes the scenario hold more than 1,000,000 values (each alias repeats all it names); write the values once, or put long data, such as a rate profile, in a CSV file beside it",
    );
    // Aliases of aliases multiply: 10 levels of 10 would hold 10^10 values in a few lines; level 6 passes a million.
    const levels = Array.from({ length: 10 }, (_, k) => `  l${k + 1}: &l${k + 1} [${Array.from({ length: 10 }, () => (k === 0 ? "1" : `*l${k}`)).join(", ")}]`);
    expect(problems(`${MINIMAL}x-levels:\n${levels.join("\n")}\n`)).toMatch(/^s\.yaml:11:47: the alias \*l5 makes the scenario hold more than 1,000,000 values/);
  });

  it("takes many aliases of aliases that expand to little (the parser's own alias guard threw at them, unlocated)", () => {
    // 40 aliases inside an anchor that is itself aliased 30 times: 1,200 alias uses, about 5,000 values.
    const inner = `x-one: &one [1, 2]\nx-forty: &forty [${Array.from({ length: 40 }, () => "*one").join(", ")}]\n`;
    const text = `${MINIMAL}${inner}x-many: [${Array.from({ length: 30 }, () => "*forty").join(", ")}]\n`;
    expect(problems(text)).toMatch(/^s\.yaml:5:1: x-one: unknown key "x-one"/);
  });

  it("resolves each alias to the nearest anchor of its name before it, as YAML does", () => {
    // The first &v holds 500,000 values (through *k); the second, 2. Its two aliases add 4, not 1,000,000.
    const k = `[${Array.from({ length: 1000 }, () => "1").join(",")}]`;
    const text = `${MINIMAL}x-k: &k ${k}\nx-a: &v [${Array.from({ length: 499 }, () => "*k").join(",")}]\nx-b: &v [1, 2]\nx-c: *v\nx-d: *v\n`;
    expect(problems(text)).toMatch(/^s\.yaml:5:1: x-k: unknown key "x-k"/); // counted within the limit: the schema speaks
    expect(problems(text.replace("x-b: &v [1, 2]", "x-b: &w [1, 2]"))).toMatch(/^s\.yaml:8:6: the alias \*v makes the scenario hold more than 1,000,000 values/);
  });

  it("refuses a CSV rate profile larger than LIMITS.csvBytes at its field", () => {
    const scenario = MINIMAL.replace("request:", "load: { open: { rate: { csv: r.csv } } }, request:");
    const csv = (n: number): string => `t,rate\n0,100\n${"#".repeat(n - 14)}\n`;
    expect(problems(scenario, () => csv(LIMITS.csvBytes))).toBe("");
    expect(problems(scenario, () => csv(LIMITS.csvBytes + 1))).toMatch(
      /^s\.yaml:4:\d+: tenants\.t\.services\.a\.load\.open\.rate\.csv: r\.csv is larger than 16 MiB, the most a rate profile may be \(a year of rates per minute is about 10 MB\); give fewer, longer steps$/,
    );
  });
});
