import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Results } from "@turtles/engine";
import { describe, expect, it } from "vitest";

const bin = join(import.meta.dirname, "..", "bin", "run.js");
const examples = join(import.meta.dirname, "..", "..", "..", "examples");

function turtles(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", cwd: examples, env: { ...process.env, NO_COLOR: "1" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("turtles compare", () => {
  it("runs the scenario on each stack: each column is what `turtles run` gives with the services on that stack", () => {
    const short = ["--duration", "3s", "--replications", "2"];
    const cmp = turtles("compare", "web-tier.yaml", ...short, "--json", "--workers", "2");
    expect(cmp.code).toBe(0);
    const r = JSON.parse(cmp.stdout) as Results;
    expect(Object.keys(r.stacks)).toEqual(["baremetal", "containers"]);
    // web-tier.yaml puts its service on containers: `run` of the file is the containers column, manifest included.
    const run = JSON.parse(turtles("run", "web-tier.yaml", ...short, "--json", "--workers", "1").stdout) as Results;
    expect(r.stacks.containers).toEqual(run.stacks.containers);
    expect(r.manifest).toEqual(run.manifest);
    // Bare metal differs: no container overhead, a different placement.
    expect(r.stacks.baremetal.hosts.memoryOverhead).toBe(0);
    expect(r.stacks.containers.hosts.memoryOverhead).toBeGreaterThan(0);
    // The same bytes on one worker.
    expect(turtles("compare", "web-tier.yaml", ...short, "--json", "--workers", "1").stdout).toBe(cmp.stdout);
  });

  it("prints one column per stack, in the order given", () => {
    const r = turtles("compare", "three-tier.yaml", "--stack", "vms", "--stack", "baremetal", "--duration", "2s", "--replications", "1");
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toMatch(/^three-tier: 1 replication of 2\.00s measured after .* warm-up \(seed \d+\), the same seeds on every stack$/);
    expect(lines[2]).toMatch(/^\s+vms\s+baremetal$/);
    expect(r.stdout).toMatch(/\nkernels\s+\d+\s+\d+\n/);
    expect(r.stdout).toMatch(/\nshop\/frontend p99\s+\S+\s+\S+\n/);
  });

  it("names the stacks there are for an unknown --stack, and asks for two when there is one", () => {
    const typo = turtles("compare", "web-tier.yaml", "--stack", "baremetal", "--stack", "container");
    expect(typo.code).toBe(2);
    expect(typo.stderr.trim()).toBe('--stack: unknown stack "container"; did you mean "containers"?; the scenario has: baremetal, containers');
    const dir = mkdtempSync(join(tmpdir(), "turtles-compare-"));
    const bare = readFileSync(join(examples, "overload.yaml"), "utf8");
    expect(bare).not.toMatch(/^stacks:/m);
    writeFileSync(join(dir, "bare.yaml"), bare);
    const one = spawnSync(process.execPath, [bin, "compare", "bare.yaml"], { encoding: "utf8", cwd: dir });
    expect(one.status).toBe(2);
    expect(one.stderr).toMatch(/^bare\.yaml defines no stack besides bare metal: add stacks .* or give two with --stack\n$/);
  });

  it("reports a problem only the built model shows once, located, with exit 2 (run on workers, compare, validate)", () => {
    const dir = mkdtempSync(join(tmpdir(), "turtles-compare-"));
    // Calls across two hosts without NICs.
    writeFileSync(
      join(dir, "nonic.yaml"),
      `duration: 2s
replications: 2
hostTypes: { h: { cores: 16, memory: 64GiB } }
hosts: [{ type: h, count: 2 }]
stacks: { vms: [{ layer: vm, vcpus: 2, memory: 4GiB }] }
tenants:
  - name: t
    services:
      - { name: a, replicas: 4, load: { open: { rate: 200/s } }, request: [{ cpu: 5ms }, { call: b }] }
      - { name: b, replicas: 2, request: [{ cpu: 5ms }] }
`,
    );
    for (const args of [["run", "--workers", "2"], ["compare", "--workers", "2"], ["validate"]]) {
      const r = spawnSync(process.execPath, [bin, args[0], "nonic.yaml", ...args.slice(1)], { encoding: "utf8", cwd: dir });
      expect(r.status).toBe(2);
      expect(r.stderr).toBe("nonic.yaml:3:17: hostTypes.h: services make calls and there are 2 hosts, so a call can cross hosts (a NIC carries it): give this host type nic: { bandwidth, latency }\n");
    }
  });

  it("refuses an --out it cannot write before simulating anything (run, compare, sweep)", () => {
    for (const args of [["run"], ["compare"], ["sweep", "--param", "services.frontend.replicas=1"]]) {
      const r = turtles(args[0], "web-tier.yaml", ...args.slice(1), "--out", "/nonexistent/folder/r.json");
      expect(r.code).toBe(2);
      expect(r.stderr).toBe("--out: cannot write /nonexistent/folder/r.json: its folder does not exist\n");
      // A folder, and the scenario itself (which the results would replace), are refused too.
      const dir = mkdtempSync(join(tmpdir(), "turtles-out-"));
      const folder = turtles(args[0], "web-tier.yaml", ...args.slice(1), "--out", dir);
      expect(folder.code).toBe(2);
      expect(folder.stderr).toBe(`--out: ${dir} is a folder; give a file in it, such as ${join(dir, "results.json")}\n`);
      const scenario = join(examples, "web-tier.yaml");
      const before = readFileSync(scenario, "utf8");
      const self = turtles(args[0], "web-tier.yaml", ...args.slice(1), "--out", scenario);
      expect(self.code).toBe(2);
      expect(self.stderr).toBe(`--out: ${scenario} is another file of this command (its scenario, points or checkpoint); give another file\n`);
      expect(readFileSync(scenario, "utf8")).toBe(before);
      const slash = turtles(args[0], "web-tier.yaml", ...args.slice(1), "--out", `${dir}/new/`);
      expect(slash.stderr).toBe(`--out: ${dir}/new/ names a folder; give a file in it, such as ${join(dir, "new", "results.json")}\n`);
    }
  });
});
