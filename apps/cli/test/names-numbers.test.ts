// Hardening of names, numbers and printed text, through the command line: a located error (exit 2, no stack trace)
// or results, never a silent wrong answer; and nothing a file or a flag says can drive the terminal.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unboundedNumbers } from "@turtles/engine/testing";
import { describe, expect, it } from "vitest";

const bin = join(import.meta.dirname, "..", "bin", "run.js");

function turtles(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function tmp(name: string, text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), "turtles-names-")), name);
  writeFileSync(file, text);
  return file;
}

const SCENARIO = `name: small
duration: 5s
replications: 2
hostTypes: { h: { cores: 4, memory: 8GiB, power: { idle: 100W, max: 200W }, cost: { perHour: 3.6 } } }
hosts: [{ type: h, count: 2 }]
stacks: { vms: [{ layer: vm, vcpus: 2, memory: 2GiB }] }
tenants:
  - name: t
    services:
      - { name: api, replicas: 2, load: { open: { rate: 100/s } }, request: [{ cpu: { exp: 5ms } }] }
`;

/** No terminal control sequence: neither ESC nor a carriage return nor another C0/C1 control but the newline. */
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

describe("names that are JavaScript internals", () => {
  it.each(["constructor", "toString", "valueOf", "hasOwnProperty"])("a host of type %s the scenario does not define: exit 2, located", (name) => {
    const r = turtles("run", tmp("s.yaml", SCENARIO.replace("{ type: h, count: 2 }", `{ type: ${name}, count: 2 }`)), "--workers", "1");
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`${r.stderr.split(":")[0]}:5:17: hosts[0].type: unknown host type "${name}"; defined: h\n`);
  });
});

describe("seed -0", () => {
  it("gives seed 0's results byte for byte, from the flag and from the file", () => {
    const file = tmp("s.yaml", SCENARIO);
    const zero = turtles("run", file, "--seed", "0", "--json", "--workers", "1");
    expect(zero.code).toBe(0);
    expect(turtles("run", file, "--seed", "-0", "--json", "--workers", "1").stdout).toBe(zero.stdout);
    expect(turtles("run", file, "--seed=-0", "--json", "--workers", "2").stdout).toBe(zero.stdout);
    const inFile = turtles("run", tmp("s.yaml", `seed: -0\n${SCENARIO}`), "--json", "--workers", "1");
    expect(inFile.stdout).toBe(zero.stdout);
  });
});

describe("numbers at the edges", () => {
  it("refuses 1e308 and denormals with the field, the bound and exit 2", () => {
    const text = SCENARIO.replace("max: 200W", "max: 1e308").replace("perHour: 3.6", "perHour: 1e308").replace("rate: 100/s", "rate: 1e-320");
    const r = turtles("validate", tmp("s.yaml", text));
    expect(r.code).toBe(2);
    expect(r.stderr.replaceAll(/^.*s\.yaml/gm, "s.yaml")).toBe(
      [
        "s.yaml:4:69: hostTypes.h.power.max: must be at most 1000000 W, found 1e+308",
        "s.yaml:4:95: hostTypes.h.cost.perHour: must be at most 1000000, found 1e+308",
        "s.yaml:10:57: tenants.t.services.api.load.open.rate: must be at least 1e-8, found 1e-320",
        "",
      ].join("\n"),
    );
    expect(turtles("run", tmp("s.yaml", SCENARIO), "--duration", "1e-320").stderr).toBe('--duration: must be at least 1e-9 s, found "1e-320"\n');
  });

  it("gives every number of `turtles schema` (with every built-in plugin) a lower and an upper bound", () => {
    expect(unboundedNumbers(JSON.parse(turtles("schema").stdout))).toEqual([]);
  });
});

describe("text from files and flags is printed escaped", () => {
  const evil = "\u001b[2J\u001b[31m\nforged: line\r";

  it("in problems: an unknown key and a value with escape codes stay on their line", () => {
    const text = SCENARIO.replace("name: small", `name: ${JSON.stringify(evil)}`).replace("{ name: api,", `{ name: api, ${JSON.stringify(`k${evil}`)}: 1,`);
    const r = turtles("validate", tmp("s.yaml", text));
    expect(r.code).toBe(2);
    expect(r.stderr).not.toMatch(CONTROL);
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain('tenants.t.services.api.k\\x1b[2J\\x1b[31m\\nforged: line\\r: unknown key "k\\u001b[2J\\u001b[31m\\nforged: line\\r"');
  });

  it("in the summary and the results tables", () => {
    const file = tmp("s.yaml", SCENARIO.replace("name: small", `name: ${JSON.stringify(evil)}`));
    const summary = turtles("validate", file);
    expect(summary.code).toBe(0);
    expect(summary.stdout).not.toMatch(CONTROL);
    expect(summary.stdout.split("\n")[0]).toMatch(/: valid scenario "\\x1b\[2J\\x1b\[31m\\nforged: line\\r"$/);
    const run = turtles("run", file, "--workers", "1");
    expect(run.code).toBe(0);
    expect(run.stdout).not.toMatch(CONTROL);
    expect(run.stdout.split("\n")[0]).toBe("\\x1b[2J\\x1b[31m\\nforged: line\\r: 2 replications of 5.00s measured after 0 warm-up (seed 1)");
    const compare = turtles("compare", file, "--stack", "vms", "--stack", `vms${evil}`);
    expect(compare.code).toBe(2);
    expect(compare.stderr).toBe('--stack: unknown stack "vms\\x1b[2J\\x1b[31m\\nforged: line\\r"; the scenario has: baremetal, vms\n');
  });

  it("in a sweep's lines about its points", () => {
    const file = tmp("s.yaml", SCENARIO);
    const out = join(file, "..", "rows.json");
    const value = "b\u001b[2J\u001b[31m forged line"; // read as YAML, as every --param value is
    const r = turtles("sweep", file, "--param", `name=a,${value}`, "--duration", "1s", "--replications", "1", "--workers", "1", "--out", out);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(CONTROL);
    expect(r.stderr).toContain("point 2/2 (name=b\\x1b[2J\\x1b[31m forged line) done");
    expect((JSON.parse(readFileSync(out, "utf8")) as { name: string }[])[1].name).toBe(value); // the data keeps the value as given
  });
});
