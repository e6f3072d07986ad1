import { describe, expect, it } from "vitest";
import { createEngineApi } from "./api.js";
import { testHost } from "../testing/index.js";

const SCENARIO = `duration: 1s
hostTypes: { h: { cores: 2, memory: 4GiB } }
hosts: [{ type: h }]
tenants: [{ name: t, services: [{ name: a, replicas: 1, load: { open: { rate: 10/s } }, request: [{ cpu: 1ms }] }] }]
`;

describe("the worker API's plugin modules", () => {
  it("refuses data: and blob: URLs, which carry their code, before importing anything, and stays usable", async () => {
    const api = createEngineApi({ plugins: [testHost] });
    const g = globalThis as { turtlesDataUrlRan?: boolean };
    const code = "data:text/javascript,globalThis.turtlesDataUrlRan=true;export const plugin={}";
    await expect(api.load({ scenario: SCENARIO, pluginModules: [code] })).rejects.toThrow(
      /^pluginModules: "data:text\/javascript,globalThis.turtlesD\.\.\." is refused: a data: URL carries the module's code itself; give the file: URL of an installed module/,
    );
    expect(g.turtlesDataUrlRan).toBeUndefined();
    await expect(api.load({ scenario: SCENARIO, pluginModules: ["blob:nodedata:1234"] })).rejects.toThrow(/^pluginModules: "blob:nodedata:1234" is refused: a blob: URL carries the module's code itself/);
    await expect(api.load({ scenario: SCENARIO, pluginModules: ["node:fs"] })).rejects.toThrow(/^pluginModules: "node:fs" is refused: a node: URL is not a module file/);
    await expect(api.load({ scenario: SCENARIO, pluginModules: [42 as unknown as string] })).rejects.toThrow(/^pluginModules: 42 is not a module name/);
    await expect(api.load({ scenario: SCENARIO, pluginModules: "data:x" as unknown as string[] })).rejects.toThrow(/^pluginModules: give a list of module names/);
    // A refused module before a good one: nothing of the list is imported.
    await expect(api.load({ scenario: SCENARIO, pluginModules: ["@turtles/engine/testing", code] })).rejects.toThrow(/is refused/);
    expect(g.turtlesDataUrlRan).toBeUndefined();
    expect((await api.load({ scenario: SCENARIO })).services).toEqual(["t/a"]);
  });
});
