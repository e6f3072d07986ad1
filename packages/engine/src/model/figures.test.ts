import { describe, expect, it } from "vitest";
import { z } from "zod";
import { definePlugin, type PluginDefinition } from "../plugin/define.js";
import { fields, unitValue } from "../scenario/fields.js";
import { loadScenario } from "../scenario/load.js";
import { passLayer, testHost } from "../testing/index.js";
import { DENSITY_LIMIT, staticFigures } from "./figures.js";

const GiB = 2 ** 30;
const MiB = 2 ** 20;

/** A VM-like layer: takes 2 cores and 4 GiB of its parent and holds them, with 100 MiB of overhead; 250 ms to boot. */
const box = passLayer("box", 0.25, { request: { cores: 2, memory: 4 * GiB }, capacity: { cores: 2, memory: 4 * GiB }, holds: "reserved", path: { memoryOverhead: 100 * MiB } });

/** A layer whose entries declare an image: named ones are shared, unnamed ones are each service's own. */
const imaged = definePlugin({
  name: "imaged",
  layer: "imaged",
  version: "1.0.0",
  schema: fields({ bytes: unitValue("size", { above: 0 }), shared: z.boolean().default(false) }),
  setup(api) {
    api.layerRules({
      size: (_e, parent) => ({ request: { cores: 0, memory: 0 }, capacity: parent }),
      cpu: () => ({ weight: 1 }),
      image: (e) => ({ name: e.shared ? "os" : undefined, bytes: e.bytes }),
    });
  },
});

/** A layer that provisions itself: ready 0.5 s after its provision hook runs, through a plugin event. */
const slow = definePlugin({
  name: "slow",
  layer: "slow",
  version: "1.0.0",
  schema: fields({}),
  setup(api) {
    api.layerRules({ size: (_e, parent) => ({ request: { cores: 0, memory: 0 }, capacity: parent }), cpu: () => ({ weight: 1 }) });
    const done = api.event("booted", (ctx, node) => ctx.setReady(node));
    api.hook("provision", (ctx, node) => void ctx.schedule(done, 0.5, node));
  },
});

const plugins: PluginDefinition[] = [testHost, box, imaged, slow];

/** A scenario with one host of each of `types` (`name: { ... }`), the stacks and the services of tenant t. */
const scenario = (stacks: string, services: string, types = ["big: { cores: 16, memory: 64GiB, processStart: 1ms, nic: { bandwidth: 1GB/s } }"]) =>
  loadScenario(
    `duration: 1s
hostTypes: { ${types.join(", ")} }
hosts: [${types.map((t) => `{ type: ${t.split(":")[0]} }`).join(", ")}]
stacks: { ${stacks} }
tenants:
  - name: t
    services:
${services}
`,
    { plugins },
  );

describe("static figures of a stack", () => {
  it("density is what placement fits on one empty host of each type: the tighter of cores and memory, overheads counted", () => {
    const s = scenario(
      "boxes: [{ layer: box }]",
      "      - { name: a, stack: boxes, memory: 1GiB, request: [{ cpu: 1ms }] }",
      ["big: { cores: 16, memory: 64GiB }", "wide: { cores: 64, memory: 32GiB }"],
    );
    const f = staticFigures(s, plugins);
    // big: 16 / 2 cores = 8 boxes (memory would hold 64 GiB / 4.1 GiB = 15); wide: 32 GiB / 4.1 GiB = 7 (cores: 32).
    expect(f.density).toEqual({ "t/a": { big: 8, wide: 7 } });
  });

  it("density follows the sharing rules: replicas fill a box shared per host before another is made, and one per host is all there is", () => {
    const s = scenario(
      "shared: [{ layer: box, per: service }], one: [{ layer: box, per: host }]",
      `      - { name: a, stack: shared, memory: 1GiB, request: [{ cpu: 1ms }] }
      - { name: b, stack: one, memory: 1GiB, request: [{ cpu: 1ms }] }`,
    );
    const f = staticFigures(s, plugins);
    // Per service: 2 replicas of 1 core fill each 2-core box, 8 boxes fit on 16 cores: 16. Per host: one box of 2 cores.
    expect(f.density).toEqual({ "t/a": { big: 16 }, "t/b": { big: 2 } });
  });

  it("cold start is the provisioning chain alone on an empty host, including a layer that provisions itself", () => {
    const s = scenario(
      "boxes: [{ layer: box }], both: [{ layer: box }, { layer: slow }]",
      `      - { name: bare, request: [{ cpu: 1ms }] }
      - { name: boxed, stack: boxes, request: [{ cpu: 1ms }] }
      - { name: chained, stack: both, request: [{ cpu: 1ms }] }`,
    );
    expect(staticFigures(s, plugins).coldStart).toEqual({ "t/bare": 0.001, "t/boxed": 0.251, "t/chained": 0.25 + 0.5 + 0.001 });
  });

  it("a service that fits no host type has density 0 there, and cold start and portability from the first type it fits", () => {
    const s = scenario(
      "boxes: [{ layer: box }]",
      "      - { name: db, stack: boxes, request: [{ io: { read: 4KiB } }] }",
      ["plain: { cores: 16, memory: 64GiB }", "disky: { cores: 16, memory: 64GiB, processStart: 2ms, disk: { iops: 1k, bandwidth: 100MB/s } }"],
    );
    const f = staticFigures(s, plugins);
    expect(f.density).toEqual({ "t/db": { plain: 0, disky: 8 } });
    expect(f.coldStart).toEqual({ "t/db": 0.252 });
    // No image to copy: it starts on a new host in its cold start, NIC or not.
    expect(f.portability).toEqual({ "t/db": { bytes: 0, seconds: 0.252 } });
  });

  it("portability copies every image on the path over the host's NIC, and images counts each distinct one besides the host OS images", () => {
    const s = scenario(
      "imgs: [{ layer: imaged, bytes: 1GB, shared: true }, { layer: imaged, bytes: 200MB }]",
      `      - { name: a, stack: imgs, memory: 1GiB, request: [{ cpu: 1ms }] }
      - { name: b, stack: imgs, memory: 1GiB, request: [{ cpu: 1ms }] }
      - { name: c, request: [{ cpu: 1ms }] }`,
      ["big: { cores: 16, memory: 64GiB, processStart: 1ms, nic: { bandwidth: 1GB/s } }", "small: { cores: 4, memory: 8GiB }"],
    );
    const f = staticFigures(s, plugins);
    // 1.2 GB at 1 GB/s, then the process start.
    expect(f.portability["t/a"]).toEqual({ bytes: 1.2e9, seconds: 1.2 + 0.001 });
    expect(f.portability["t/c"]).toEqual({ bytes: 0, seconds: 0.001 });
    // Two host types, the shared "os" image, and the unnamed image of each of a and b.
    expect(f.images).toBe(2 + 1 + 2);
  });

  it("portability has no time when the images cannot be copied: the host has no NIC", () => {
    const s = scenario("imgs: [{ layer: imaged, bytes: 1GB }]", "      - { name: a, stack: imgs, memory: 1GiB, request: [{ cpu: 1ms }] }", ["big: { cores: 16, memory: 64GiB }"]);
    expect(staticFigures(s, plugins).portability).toEqual({ "t/a": { bytes: 1e9, seconds: null } });
  });

  it("places services alike in stack, reservation and disk need once, and a service that differs on its own hosts", () => {
    const created: number[] = [];
    const counted = passLayer("counted", 0, { request: { cores: 4, memory: 0 }, capacity: { cores: 4, memory: 64 * GiB }, hooks: { create: (_ctx, node) => void created.push(node) } });
    const s = loadScenario(
      `duration: 1s
hostTypes: { h: { cores: 16, memory: 64GiB } }
hosts: [{ type: h }]
stacks: { c: [{ layer: counted }] }
tenants:
  - { name: t, services: [{ name: a, stack: c, request: [{ cpu: 1ms }] }, { name: b, stack: c, request: [{ cpu: 2ms }] }] }
  - { name: u, services: [{ name: a, stack: c, request: [{ cpu: 1ms }] }, { name: big, stack: c, memory: 32GiB, request: [{ cpu: 1ms }] }] }
`,
      { plugins: [testHost, counted] },
    );
    const f = staticFigures(s, [testHost, counted]);
    // 16 / 4 cores: 4 nodes for t/a (and t/b, u/a alike); 64 GiB holds only 2 of big's 32 GiB.
    expect(f.density).toEqual({ "t/a": { h: 4 }, "t/b": { h: 4 }, "u/a": { h: 4 }, "u/big": { h: 2 } });
    expect(created).toHaveLength(4 + 2);
  });

  it("refuses an image rule that gives no finite size, naming the plugin and the layer", () => {
    const bad = definePlugin({
      name: "bad-images",
      layer: "bad",
      version: "1.0.0",
      schema: fields({}),
      setup(api) {
        api.layerRules({ size: (_e, parent) => ({ request: { cores: 0, memory: 0 }, capacity: parent }), cpu: () => ({ weight: 1 }), image: () => ({ bytes: NaN }) });
      },
    });
    const s = loadScenario(`duration: 1s\nhostTypes: { h: { cores: 1, memory: 1GiB } }\nhosts: [{ type: h }]\nstacks: { x: [{ layer: bad }] }\ntenants: [{ name: t, services: [{ name: a, stack: x, request: [{ cpu: 1ms }] }] }]\n`, { plugins: [testHost, bad] });
    expect(() => staticFigures(s, [testHost, bad])).toThrow('plugin bad-images: the image rule of layer "bad" gave NaN bytes; expected a finite number of bytes >= 0');
  });

  it("density is null, not a guess, when nothing placement checks bounds it (a replica that reserves no core and no memory)", () => {
    const s = scenario("", "      - { name: free, cores: 0, request: [{ cpu: 1ms }] }");
    expect(staticFigures(s, plugins).density).toEqual({ "t/free": { big: null } });
    expect(DENSITY_LIMIT).toBe(10_000);
  });
});
