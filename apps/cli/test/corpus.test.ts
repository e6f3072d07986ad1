import { readdirSync } from "node:fs";
import { join } from "node:path";
import { formatProblems, ScenarioError } from "@turtles/engine";
import { describe, expect, it } from "vitest";
import { readScenario } from "../src/lib/scenario-file.js";

const dir = join(import.meta.dirname, "corpus");

/** Each broken file of the corpus and exactly what `turtles validate` says about it. */
const expected: Record<string, string> = {
  "typo-key.yaml": 'typo-key.yaml:14:9: tenants.shop.services.web.replica: unknown key "replica"; did you mean "replicas"?',
"typo-step.yaml": 'typo-step.yaml:17:13: tenants.shop.services.web.request[0].cpuu: unknown key "cpuu"; did you mean "cpu"?',
  "typo.json": 'typo.json:6:68: tenants.shop.services.web.thread: unknown key "thread"; did you mean "threads"?',
  "plugin-typo.yaml": [
    "plugin-typo.yaml:9:9: stacks.vms[0].vcpus: required field is missing (expected a count such as 32 or 100k)",
    'plugin-typo.yaml:9:22: stacks.vms[0].vcpu: unknown key "vcpu"; did you mean "vcpus"?',
  ].join("\n"),
  "memory-overcommit.yaml": [
    "memory-overcommit.yaml:9:64: stacks.vms[0].balloon.rate: must be more than 0 B/s, found 0",
    'memory-overcommit.yaml:9:67: stacks.vms[0].balloon.fre: unknown key "fre"; did you mean "free"?',
    'memory-overcommit.yaml:10:57: stacks.small[0].balloon: expected true, false or { rate, free } (e.g. { rate: 256MiB/s, free: 0.1 }), found "yes"',
    'memory-overcommit.yaml:11:32: placement.memoryOvercommit: expected a ratio (bytes of reservations per byte of host memory, e.g. 1.5), true (no bound) or false (1), found "1.5x"',
  ].join("\n"),
  "bad-unit.yaml": 'bad-unit.yaml:5:29: hostTypes.r6i.memory: expected a size such as 4KiB, 512MB or 16GiB, found "256GB/s"',
  "unit-case.yaml":
    'unit-case.yaml:3:11: duration: expected a duration such as 250us, 10ms, 2s or 5m, found "10MS" (units are case-sensitive: did you mean "10ms"?)',
  "duplicate-key.yaml": 'duplicate-key.yaml:15:9: duplicate key "replicas": this mapping already has it; keep one',
  "negative-count.yaml": "negative-count.yaml:14:19: tenants.shop.services.web.replicas: must be at least 1, found -3",
  "negative-mean.yaml": 'negative-mean.yaml:21:25: tenants.shop.services.db.request[0].cpu.exp: must be more than 0 s, found "-1ms"',
  "bad-cv.yaml": "bad-cv.yaml:17:48: tenants.shop.services.web.request[0].cpu.lognormal.cv: must be more than 0, found 0",
  "two-steps.yaml":
    "two-steps.yaml:21:13: tenants.shop.services.db.request[0]: expected a step: only one of cpu, mem, io, call, sleep, syscall, found cpu and sleep",
  "two-loads.yaml": "two-loads.yaml:15:15: tenants.shop.services.web.load: expected a load: only one of open, closed, found open and closed",
  "missing-duration.yaml": "missing-duration.yaml:1:1: duration: required field is missing (expected a duration such as 250us, 10ms, 2s or 5m)",
  "version-2.yaml": "version-2.yaml:1:10: version: this engine reads scenario version 1, found 2",
  "enum-typo.yaml":
    'enum-typo.yaml:10:22: placement.policy: expected a placement policy: first-fit, best-fit, spread; found "best-fti"; did you mean "best-fit"?',
  "unknown-host-type.yaml": 'unknown-host-type.yaml:7:13: hosts[0].type: unknown host type "r6"; did you mean "r6i"?',
  "unknown-stack.yaml": 'unknown-stack.yaml:14:16: tenants.shop.services.web.stack: unknown stack "vm"; did you mean "vms"?',
  "unknown-layer.yaml": 'unknown-layer.yaml:9:18: stacks.vms[0].layer: unknown layer "vmm"; known layers: vm, container, pod; did you mean "vm"?',
  "unknown-call.yaml": 'unknown-call.yaml:18:19: tenants.shop.services.web.request[1].call: unknown service "dbs"; did you mean "db"?',
  "call-cycle.yaml":
    "call-cycle.yaml:22:19: tenants.shop.services.db.request[1].call: call cycle: shop/web -> shop/db -> shop/web; synchronous calls must not loop back",
  "duplicate-service.yaml": [
    'duplicate-service.yaml:18:19: tenants.shop.services.web.request[1].call: unknown service "db"; did you mean "web"?',
    'duplicate-service.yaml:19:15: tenants.shop.services.web.name: service "web" is defined twice in tenant "shop"; service names must be unique within a tenant',
  ].join("\n"),
  "yaml-syntax.yaml": [
    "yaml-syntax.yaml:8:3: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]",
    "yaml-syntax.yaml:8:3: YAML syntax error: All sequence items must start at the same column",
  ].join("\n"),
  "empty.yaml": "empty.yaml: is empty; a scenario needs duration, hostTypes, hosts and tenants (`turtles init` writes a starter)",
  "comment-only.yaml": "comment-only.yaml: is empty; a scenario needs duration, hostTypes, hosts and tenants (`turtles init` writes a starter)",
  "internal-name.yaml": 'internal-name.yaml:7:13: hosts[0].type: unknown host type "constructor"; defined: r6i',
  "extreme-numbers.yaml": [
    "extreme-numbers.yaml:5:29: hostTypes.r6i.memory: must be at most 1000000000000000 B, found 1e+308",
    "extreme-numbers.yaml:5:54: hostTypes.r6i.nic.bandwidth: must be at least 0.125 B/s, found 1e-320",
    "extreme-numbers.yaml:15:31: tenants.shop.services.web.load.open.rate: must be at least 1e-8, found 1e-320",
  ].join("\n"),
  "number-and-text-key.yaml": 'number-and-text-key.yaml:6:3: duplicate key "1": this mapping already has it (keys are text: 1 and "1" are the same key); keep one',
  "binary.yaml": "binary.yaml: is not a text file (it is not valid UTF-8); a scenario is YAML or JSON text",
};

function problemsOf(file: string): string {
  try {
    readScenario(join(dir, file));
  } catch (err) {
    if (err instanceof ScenarioError) return formatProblems(err.problems).replaceAll(`${dir}/`, "");
    throw err;
  }
  return "(valid)";
}

describe("the corpus of broken scenarios", () => {
  it("has an expected message for every broken file, and only valid.yaml is valid", () => {
    const files = readdirSync(dir).filter((f) => f !== "valid.yaml");
    expect(files.sort()).toEqual(Object.keys(expected).sort());
    expect(problemsOf("valid.yaml")).toBe("(valid)");
  });

  for (const [file, message] of Object.entries(expected)) {
    it(`reports ${file} with file, line, column, field and a suggestion`, () => {
      expect(problemsOf(file)).toBe(message);
    });
  }

  it("reports a missing file without a stack trace", () => {
    expect(problemsOf("no-such-file.yaml")).toBe("no-such-file.yaml: cannot read the scenario: no such file");
  });
});
