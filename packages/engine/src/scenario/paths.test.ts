import { describe, expect, it } from "vitest";
import { applyPoint } from "../workload/sweep.js";
import { pathTokens, resolveTokens } from "./paths.js";
import { locateProblems } from "./problems.js";

const TEXT = `duration: 1m
hostTypes:
  small: { cores: 4, memory: 8GiB }
  m5.large: { cores: 2, memory: 8GiB }
hosts: [{ type: small }, { type: m5.large, count: 2 }]
tenants:
  - name: "1"
    services:
      - { name: api.v2, request: [{ cpu: 1ms }] }
  - name: y
    services:
      - { name: web, request: [{ cpu: 1ms }] }
`;

describe("field paths", () => {
  it("reads names between dots and [i] as an index", () => {
    expect(pathTokens("hosts[0].count")).toEqual(["hosts", { index: 0 }, "count"]);
    expect(pathTokens("hostTypes.m5.large.cores")).toEqual(["hostTypes", "m5", "large", "cores"]);
  });

  it("resolves names with dots, list items by name before number, [i] as an index only, and keeps what is not there", () => {
    const root = { hostTypes: { "m5.large": { cores: 2 } }, tenants: [{ name: "1" }, { name: "y" }] };
    expect(resolveTokens(root, pathTokens("hostTypes.m5.large.cores"))).toEqual({ found: ["hostTypes", "m5.large", "cores"], rest: [] });
    expect(resolveTokens(root, pathTokens("tenants.1")).found).toEqual(["tenants", 0]); // the tenant named "1"
    expect(resolveTokens(root, pathTokens("tenants[1]")).found).toEqual(["tenants", 1]);
    expect(resolveTokens(root, pathTokens("hostTypes.m5.large.speed"))).toEqual({ found: ["hostTypes", "m5.large"], rest: ["speed"] });
  });

  it("sets --param fields whose names have dots, and [i] is an index", () => {
    expect(applyPoint(TEXT, "s.yaml", { "hostTypes.m5.large.cores": "16" })).toContain("m5.large: { cores: 16, memory: 8GiB }");
    expect(applyPoint(TEXT, "s.yaml", { "services.api.v2.replicas": "3" })).toMatch(/\{ name: api\.v2, .*, replicas: 3 \}/);
    expect(applyPoint(TEXT, "s.yaml", { "tenants[1].services[0].replicas": "4" })).toMatch(/\{ name: web, .*, replicas: 4 \}/);
    expect(applyPoint(TEXT, "s.yaml", { "tenants.1.services.0.replicas": "5" })).toMatch(/\{ name: api\.v2, .*, replicas: 5 \}/);
  });

  it("sets fields under number keys, adds sections the file leaves out, and says which service names it tried", () => {
    const num = "duration: 1m\nhostTypes:\n  2: { cores: 1, memory: 8GiB }\nhosts: [{ type: '2' }]\n";
    expect(applyPoint(num, "n.yaml", { "hostTypes.2.cores": "4" })).toContain("2: { cores: 4, memory: 8GiB }");
    expect(applyPoint(TEXT, "s.yaml", { "defaults.stack": "vms", "placement.policy": "spread" })).toMatch(/defaults:\n {2}stack: vms\nplacement:\n {2}policy: spread/);
    expect(() => applyPoint(TEXT, "s.yaml", { "duration.x": "1" })).toThrow("--param: duration is a value, not a section with fields");
    expect(() => applyPoint(TEXT, "s.yaml", { "hosts.5.count": "1" })).toThrow("--param: hosts.5 is not in the scenario");
    expect(() => applyPoint(TEXT, "s.yaml", { "services.api.v3.replicas": "1" })).toThrow('no service is named "api" or "api.v3" (a path is services.<service>.<field>)');
  });

  it("places a problem of a model build on its field's line, and leaves a path the text does not have unplaced", () => {
    const at = (path: string) => locateProblems([{ file: "s.yaml", line: 0, column: 0, path, message: "m" }], TEXT)[0];
    expect(at("hostTypes.m5.large")).toMatchObject({ line: 4, column: 13 });
    expect(at("tenants.1.services.api.v2")).toMatchObject({ line: 9 });
    expect(at("services.nope.replicas")).toMatchObject({ line: 0 });
    // A number key (`2:`) is found by its text.
    expect(locateProblems([{ file: "n.yaml", line: 0, column: 0, path: "hostTypes.2", message: "m" }], "duration: 1m\nhostTypes:\n  2: { cores: 1 }\n")[0].line).toBe(3);
  });
});
