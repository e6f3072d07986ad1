// `--rollout`: a simulated kernel patch rollout on `run` and `compare`, its figures in the text and in the JSON.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Results } from "@turtles/engine";
import { describe, expect, it } from "vitest";

const bin = join(import.meta.dirname, "..", "bin", "run.js");
const dir = mkdtempSync(join(tmpdir(), "turtles-rollout-"));

function turtles(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", cwd: dir, env: { ...process.env, NO_COLOR: "1" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// 4 hosts rebooting in 5 s; 4 replicas, one VM each on the vms stack (a guest kernel each).
writeFileSync(
  join(dir, "patch.yaml"),
  `duration: 120s
warmup: 5s
replications: 2
hostTypes: { h: { cores: 16, memory: 64GiB, reboot: 5s } }
hosts: [{ type: h, count: 4 }]
stacks: { vms: [{ layer: vm, vcpus: 2, memory: 4GiB }] }
placement: { policy: spread }
tenants:
  - name: t
    services:
      - { name: web, replicas: 4, load: { open: { rate: 200/s } }, request: [{ cpu: 5ms }] }
`,
);

describe("--rollout", () => {
  it("compare --rollout prints the rollout rows: each guest kernel and each host restarted, the VMs' rollout the longer", () => {
    const r = turtles("compare", "patch.yaml", "--rollout", "--workers", "2");
    expect(r.code).toBe(0);
    const row = (label: string): string[] => r.stdout.split("\n").find((l) => l.trimStart().startsWith(`${label} `))!.trim().split(/\s{2,}/).slice(1);
    const [bare, vms] = row("rollout duration");
    // Bare metal: 4 reboots of 5 s, each replica placed again at once on another host (1 ms process start).
    expect(bare).toMatch(/^20\.\d+s( ±\S+)?$/);
    // VMs: 4 guest restarts and 4 host reboots (each followed by a new VM's boot).
    expect(Number.parseFloat(vms)).toBeGreaterThan(20);
    expect(row("rollout failed")).toEqual(["0", "0"]);
    expect(row("rollout slowed")).toHaveLength(2);
    const json = JSON.parse(turtles("compare", "patch.yaml", "--rollout", "--json", "--workers", "2").stdout) as Results;
    expect(json.stacks.baremetal.rollout).toMatchObject({ instances: 4, maxUnavailable: 1, failed: 0 });
    expect(json.stacks.vms.rollout).toMatchObject({ instances: 8, maxUnavailable: 1, failed: 0 });
  });

  it("run --rollout prints its line; --max-unavailable sets its width; without, results say null", () => {
    const r = turtles("run", "patch.yaml", "--max-unavailable", "2", "--workers", "1");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\nrollout: 4 kernel instances restarted, 2 at a time, in 10\.\d+s \(\S+ draining\); [\d.]+ requests? failed and [\d.]+ slower than their p99 outside it; at most \d replicas of a service down\n/);
    const plain = turtles("run", "patch.yaml", "--json", "--workers", "1");
    expect((JSON.parse(plain.stdout) as Results).stacks.baremetal.rollout).toBeNull();
    expect(plain.stdout).not.toMatch(/rollout:/);
  });

  it("refuses a rollout that would start after the measurement, one added to a saved run, and no instance at a time, with exit 2", () => {
    writeFileSync(join(dir, "late.yaml"), "rollout: { at: 100s }\n" + "duration: 120s\nhostTypes: { h: { cores: 4, memory: 8GiB } }\nhosts: [{ type: h }]\ntenants: [{ name: t, services: [{ name: a, request: [{ cpu: 1ms }], load: { open: { rate: 1/s } } }] }]\n");
    const late = turtles("run", "late.yaml", "--duration", "50s");
    expect(late.code).toBe(2);
    expect(late.stderr).toBe("late.yaml: rollout.at: the rollout starts 100 s after the warm-up, at or after the end of the measurement (duration 50 s): give an earlier at, or a longer duration\n");
    // A saved run keeps its own scenario: a rollout cannot be added to it.
    const resumed = turtles("run", "--resume", "run.snap", "--rollout");
    expect(resumed.code).toBe(2);
    expect(resumed.stderr).toBe("--rollout cannot change a saved run: --resume continues run.snap with its own rollout\n");
    const zero = turtles("compare", "patch.yaml", "--max-unavailable", "0");
    expect(zero.code).toBe(2);
    expect(zero.stderr).toMatch(/max-unavailable/);
  });
});
