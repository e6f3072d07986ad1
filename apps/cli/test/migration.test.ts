// Scenario actions at the CLI: bad ones are located errors (exit 2) before anything runs; a migration is in results.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { guestKernelReservation } from "@turtles/plugin-hypervisor";
import { describe, expect, it } from "vitest";

const bin = join(import.meta.dirname, "..", "bin", "run.js");

function turtles(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const scenario = (actions: string): string => `duration: 3s
hostTypes: { h: { cores: 8, memory: 64GiB, nic: { bandwidth: 10Gb/s } } }
hosts: [{ type: h, count: 2 }]
stacks: { vm: [{ layer: vm, vcpus: 2, memory: 4GiB }] }
actions:
${actions}
tenants:
  - name: t
    services:
      - { name: web, stack: vm, cores: 0, memory: 1GiB, request: [{ cpu: 1ms }] }
`;

describe("scenario actions (live migration)", () => {
  it("refuses an action of both kinds or a misspelt one, and a host that does not exist or is its own target, at the field, exit 2", () => {
    const d = mkdtempSync(join(tmpdir(), "turtles-actions-"));
    const shape = join(d, "shape.yaml");
    writeFileSync(shape, scenario("  - { at: 1s, drain: { host: 0 }, migrate: { host: 0, to: 1 } }\n  - { at: 1s, drian: { host: 0 } }"));
    const a = turtles("validate", shape);
    expect(a.code).toBe(2);
    expect(a.stderr).toBe(
      `${shape}:6:5: actions[0]: expected an action: only one of migrate, drain, found migrate and drain\n` +
        `${shape}:7:15: actions[1].drian: unknown key "drian"; did you mean "drain"?\n`,
    );
    const hosts = join(d, "hosts.yaml");
    writeFileSync(hosts, scenario("  - { at: 1s, migrate: { host: 0, to: 2 } }\n  - { at: 1s, migrate: { host: 1, to: 1 } }"));
    const b = turtles("run", hosts, "--out", join(d, "r.json"));
    expect(b.code).toBe(2);
    expect(b.stderr).toBe(
      `${hosts}:6:39: actions[0].migrate.to: host 2 does not exist: hosts are numbered 0 to 1 in the order of hosts\n` +
        `${hosts}:7:39: actions[1].migrate.to: a migration goes to another host: give a host other than 1\n`,
    );
    expect(() => readFileSync(join(d, "r.json"))).toThrow(/ENOENT/);
  });

  it("lists each migration in the results: the VM, its hosts, rounds, bytes and downtime", () => {
    const d = mkdtempSync(join(tmpdir(), "turtles-actions-"));
    const file = join(d, "s.yaml");
    writeFileSync(file, scenario("  - { at: 1s, migrate: { host: 0, to: 1 } }"));
    const r = turtles("run", file, "--json");
    expect(r.code).toBe(0);
    const migrations = JSON.parse(r.stdout).stacks.vm.migrations;
    // 1 GiB and its guest kernel's reservation (109 MiB of 4 GiB) touched, over 10 Gb/s: 0.95 s; the 95 MB dirtied
    // meanwhile (100 MB/s) copy in 76 ms, within 300 ms.
    const first = (2 ** 30 + guestKernelReservation(4 * 2 ** 30)) / 1.25e9;
    expect(migrations).toHaveLength(1);
    expect(migrations[0]).toMatchObject({ layer: "vm", from: 0, to: 1, start: 1, rounds: 1 });
    expect(migrations[0].downtime).toBeCloseTo((100e6 * first) / 1.25e9, 9);
    expect(migrations[0].total).toBeCloseTo(first + migrations[0].downtime, 9);
  });
});
