import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";

const bin = join(import.meta.dirname, "..", "bin", "run.js");
const corpus = join(import.meta.dirname, "corpus");
const example = join(import.meta.dirname, "..", "..", "..", "examples", "web-shop.yaml");

function turtles(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", cwd: corpus, env: { ...process.env, NO_COLOR: "1" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("turtles validate", () => {
  it("prints a one-screen summary of a valid scenario and exits 0", () => {
    const r = turtles("validate", example);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('valid scenario "web-shop"');
    expect(r.stdout).toMatch(/hosts\s+200 \(1 type, 6400 cores, 50 TiB memory\)/);
    expect(r.stdout).toMatch(/services\s+2 \(110 replicas\)/);
    expect(r.stdout).toMatch(/run\s+10m measured after 1m warm-up, 5 replications/);
  });

  it("prints located problems on stderr, no stack trace, and exits 2", () => {
    const r = turtles("validate", "plugin-typo.yaml");
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr.trim().split("\n")).toEqual([
      "plugin-typo.yaml:9:9: stacks.vms[0].vcpus: required field is missing (expected a count such as 32 or 100k)",
      'plugin-typo.yaml:9:22: stacks.vms[0].vcpu: unknown key "vcpu"; did you mean "vcpus"?',
    ]);
    expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/);
  });

  it("speaks JSON with --json, for valid and invalid files", () => {
    const ok = turtles("validate", "valid.yaml", "--json");
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ valid: true, summary: { hosts: 4, replicas: 4, tenants: 1 } });
    const bad = turtles("validate", "typo-key.yaml", "--json");
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout)).toEqual({
      valid: false,
      problems: [
        { file: "typo-key.yaml", line: 14, column: 9, path: "tenants.shop.services.web.replica", message: 'unknown key "replica"; did you mean "replicas"?' },
      ],
    });
  });

  it("warns about replicas that would not be placed, and stays valid", () => {
    const dir = mkdtempSync(join(tmpdir(), "turtles-validate-"));
    writeFileSync(
      join(dir, "tight.yaml"),
      `duration: 1s
hostTypes: { h: { cores: 4, memory: 8GiB } }
hosts: [{ type: h }]
tenants:
  - name: t
    services:
      - { name: a, replicas: 3, cores: 2, request: [{ cpu: 1ms }] }
`,
    );
    const r = spawnSync(process.execPath, [bin, "validate", "tight.yaml"], { encoding: "utf8", cwd: dir });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('tight.yaml: valid scenario "tight"');
    expect(r.stderr).toBe("warning: 1 replica of t/a not placed: no host has room (stack baremetal: a replica reserves 2 cores and 0 B)\n");
    const json = spawnSync(process.execPath, [bin, "validate", "tight.yaml", "--json"], { encoding: "utf8", cwd: dir });
    expect(JSON.parse(json.stdout).unplaced).toEqual([{ tenant: "t", service: "a", replicas: 1, reason: "no host has room (stack baremetal: a replica reserves 2 cores and 0 B)" }]);
  });

  it("exits 2 with a clear line for a missing file", () => {
    const r = turtles("validate", "missing.yaml");
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe("missing.yaml: cannot read the scenario: no such file");
  });
});

describe("third-party plugins", () => {
  const fixtures = join(import.meta.dirname, "fixtures");
  const sandbox = join(import.meta.dirname, "..", "..", "..", "examples", "plugin-sandbox", "index.js");

  it("validates a scenario that uses a layer from a plugin loaded with --plugin", () => {
    const r = turtles("validate", join(fixtures, "sandboxed.yaml"), "--plugin", sandbox);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/stacks\s+isolated/);
    const without = turtles("validate", join(fixtures, "sandboxed.yaml"));
    expect(without.code).toBe(2);
    expect(without.stderr).toContain('unknown layer "sandbox"; known layers: vm, container, pod');
  });

  it("loads a plugin from its package folder (package.json exports), as the README shows", () => {
    const r = turtles("validate", join(fixtures, "sandboxed.yaml"), "--plugin", dirname(sandbox));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/stacks\s+isolated/);
    const missing = turtles("validate", join(fixtures, "sandboxed.yaml"), "--plugin", join(fixtures, "no-such-folder"));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^cannot find plugin ".*no-such-folder": ENOENT.*; give the path of a module or of a package folder\n$/);
  });

  it("adds the plugin's fields to the JSON Schema", () => {
    const r = turtles("schema", "--plugin", sandbox);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('"syscall"');
  });

  it("explains a plugin it cannot find or use", () => {
    expect(turtles("validate", "valid.yaml", "--plugin", "no-such-plugin").stderr.trim()).toBe(
      'cannot find plugin "no-such-plugin": install it in this project (npm install no-such-plugin) or give a path',
    );
    const notAPlugin = turtles("validate", "valid.yaml", "--plugin", join(fixtures, "not-a-plugin.mjs"));
    expect(notAPlugin.code).toBe(2);
    expect(notAPlugin.stderr).toContain("exports no Turtles plugin");
  });
});

describe("help and unknown commands", () => {
  it("shows a command's help with `turtles help <command>`, and names the nearest command to a typo", () => {
    const help = turtles("help", "run");
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("$ turtles run [FILE]");
    const typo = turtles("rnu", "x.yaml");
    expect(typo.code).toBe(2);
    expect(typo.stderr).toBe('"rnu" is not a turtles command; did you mean "run"?; the commands are bench, compare, init, merge, plugin init, run, schema, sweep, trace inspect, validate, worker (see turtles help)\n');
    const topicTypo = turtles("plugin", "inti");
    expect(topicTypo.code).toBe(2);
    expect(topicTypo.stderr).toBe('"plugin inti" is not a turtles command; the plugin commands are plugin init (see turtles help plugin)\n');
    const helpTypo = turtles("help", "swep");
    expect(helpTypo.code).toBe(2);
    expect(helpTypo.stderr).toContain('"swep" is not a turtles command; did you mean "sweep"?');
  });
});

describe("turtles schema", () => {
  it("prints a JSON Schema with the engine's fields and every plugin's layer fields", () => {
    const r = turtles("schema");
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.stdout);
    expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(schema.required).toEqual(expect.arrayContaining(["duration", "hostTypes", "hosts", "tenants"]));
    expect(schema.additionalProperties).toBe(false);
    expect(r.stdout).toContain('"vcpus"');
    expect(r.stdout).toContain('"runtime"');
    expect(r.stdout).toContain('"queueDepth"');
  });
});

describe("turtles init", () => {
  it("writes a commented starter that validates, and never overwrites without --force", () => {
    const dir = mkdtempSync(join(tmpdir(), "turtles-init-"));
    const file = join(dir, "shop.yaml");
    const r = turtles("init", file);
    expect(r.code).toBe(0);
    expect(readFileSync(file, "utf8")).toMatch(/^# A Turtles scenario/);
    expect(turtles("validate", file).code).toBe(0);
    writeFileSync(file, "mine");
    const again = turtles("init", file);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("already exists; pass --force to overwrite it");
    expect(readFileSync(file, "utf8")).toBe("mine");
    expect(turtles("init", file, "--force").code).toBe(0);
    expect(readdirSync(dir)).toEqual(["shop.yaml"]); // no temporary file left beside it
  });

  it("never replaces a device, even with --force", () => {
    const r = turtles("init", "/dev/null", "--force");
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("/dev/null is a character device, not a regular file: writing would replace it; give the name of a file\n");
  });
});
