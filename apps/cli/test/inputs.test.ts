// Input files are bounded: scenario, CSV and --points files must be regular files (a device is read forever, a FIFO
// blocks), no larger than their limits; aliases cannot blow a small file up; sweep grids have a cap. Each refusal
// is bad input (exit 2) with the file, the line where there is one, and what to do.
import { spawnSync } from "node:child_process";
import { mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LIMITS } from "@turtles/engine";
import { describe, expect, it } from "vitest";

const bin = join(import.meta.dirname, "..", "bin", "run.js");
const examples = join(import.meta.dirname, "..", "..", "..", "examples");

// A hang would be the bug itself: the guard ends the child so that the test fails instead of waiting forever.
function turtles(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const dir = (): string => mkdtempSync(join(tmpdir(), "turtles-inputs-"));

const SMALL = `duration: 2s
hostTypes: { h: { cores: 2, memory: 4GiB } }
hosts: [{ type: h }]
tenants:
  - name: t
    services:
      - { name: a, load: { open: { rate: { csv: rates.csv } } }, request: [{ cpu: 1ms }] }
`;

describe("scenario and CSV files that are not regular files", () => {
  it("refuses a device and a FIFO as the scenario, at once, exit 2", () => {
    const d = dir();
    const fifo = join(d, "scenario.yaml");
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    for (const [file, kind] of [
      ["/dev/zero", "a character device"],
      [fifo, "a FIFO (named pipe)"],
      [d, "a folder"],
    ]) {
      for (const command of file === fifo ? ["validate", "run", "sweep"] : ["validate"]) {
        const r = turtles(command, file, ...(command === "sweep" ? ["--param", "services.a.replicas=1"] : []));
        expect(r.code, `${command} ${file}`).toBe(2);
        expect(r.stderr).toBe(`${file}: cannot read the scenario: it is ${kind}, not a regular file\n`);
      }
    }
  });

  it("refuses a CSV rate profile that is a device or a FIFO, at its field", () => {
    const d = dir();
    const file = join(d, "s.yaml");
    writeFileSync(file, SMALL);
    symlinkSync("/dev/zero", join(d, "rates.csv"));
    const zero = turtles("validate", file);
    expect(zero.code).toBe(2);
    expect(zero.stderr).toBe(`${file}:7:49: tenants.t.services.a.load.open.rate.csv: cannot read rates.csv: it is a character device, not a regular file\n`);
    const d2 = dir();
    writeFileSync(join(d2, "s.yaml"), SMALL);
    expect(spawnSync("mkfifo", [join(d2, "rates.csv")]).status).toBe(0);
    const fifo = turtles("run", join(d2, "s.yaml"));
    expect(fifo.code).toBe(2);
    expect(fifo.stderr).toContain("rate.csv: cannot read rates.csv: it is a FIFO (named pipe), not a regular file\n");
  });
});

describe("saved runs that are not regular files", () => {
  it("refuses --resume of a device or a FIFO at once (it read /dev/zero forever, and a FIFO blocked)", () => {
    const fifo = join(dir(), "run.snap");
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    for (const [file, kind] of [
      ["/dev/zero", "a character device"],
      [fifo, "a FIFO (named pipe)"],
    ]) {
      const r = turtles("run", "--resume", file);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(`--resume: cannot read ${file}: it is ${kind}, not a regular file\n`);
    }
  });
});

describe("sizes", () => {
  it("refuses a scenario file larger than 4 MiB without reading the rest, and a CSV larger than 16 MiB", () => {
    const d = dir();
    const big = join(d, "big.yaml");
    writeFileSync(big, `${SMALL}${"#".repeat(LIMITS.scenarioBytes)}\n`);
    const r = turtles("validate", big);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `${big}: is larger than 4.0 MiB, the most a scenario may be (reading YAML takes about 200 times its size in memory); put long data, such as a rate profile, in a CSV file beside it (rate: { csv: rates.csv })\n`,
    );
    writeFileSync(join(d, "s.yaml"), SMALL);
    writeFileSync(join(d, "rates.csv"), `t,rate\n0,100\n${"#".repeat(LIMITS.csvBytes)}\n`);
    const csv = turtles("validate", join(d, "s.yaml"));
    expect(csv.code).toBe(2);
    expect(csv.stderr).toContain("rate.csv: rates.csv is larger than 16 MiB, the most a rate profile may be (a year of rates per minute is about 10 MB); give fewer, longer steps\n");
  });

  it("refuses a small file whose aliases repeat a long list past a million values, at the alias", () => {
    const file = join(dir(), "alias.yaml");
    const list = Array.from({ length: 100_000 }, (_, i) => `${1 + (i % 7)}ms`).join(", ");
    const services = Array.from({ length: 40 }, (_, i) => `      - { name: b${i}, request: [{ cpu: { empirical: *v } }] }`).join("\n");
    writeFileSync(file, `${SMALL.replace("request: [{ cpu: 1ms }]", `request: [{ cpu: { empirical: &v [${list}] } }]`)}${services}\n`);
    const r = turtles("validate", file);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `${file}:16:51: the alias *v makes the scenario hold more than 1,000,000 values (each alias repeats all it names); write the values once, or put long data, such as a rate profile, in a CSV file beside it\n`,
    );
  });
});

describe("sweep grids", () => {
  it("refuses a grid of a million points with its size and what to do, before preparing any", () => {
    const values = Array.from({ length: 1000 }, (_, i) => i + 1).join(",");
    const r = turtles("sweep", join(examples, "overload.yaml"), "--param", `services.checkout.replicas=${values}`, "--param", `seed=${values}`);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      "--param: the grid has 1,000,000 points (1,000 x 1,000 values), more than the 10,000 a sweep may run (each is loaded and validated before the first runs); give fewer values, or split the grid into several sweeps, each with its own --out\n",
    );
  });

  it("refuses --points files that are not regular, too large, or hold too many points", () => {
    const d = dir();
    const many = join(d, "many.json");
    writeFileSync(many, JSON.stringify(Array.from({ length: LIMITS.sweepPoints + 1 }, (_, i) => ({ seed: i }))));
    const overload = join(examples, "overload.yaml");
    const r = turtles("sweep", overload, "--points", many);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`--points ${many}: it has 10,001 points, more than the 10,000 a sweep may run; split them into several files, each swept with its own --out\n`);
    const zero = turtles("sweep", overload, "--points", "/dev/zero");
    expect(zero.code).toBe(2);
    expect(zero.stderr).toBe("--points /dev/zero: cannot read it: it is a character device, not a regular file\n");
    const big = join(d, "big.json");
    writeFileSync(big, `[${" ".repeat(LIMITS.scenarioBytes)}{ "seed": 1 }]`);
    expect(turtles("sweep", overload, "--points", big).stderr).toBe(`--points ${big}: it is larger than 4.0 MiB, the most a file of points may be; give fewer points\n`);
  });
});
