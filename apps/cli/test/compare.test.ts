import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromCsv, type ComparedFigure, type Results } from "@turtles/engine";
import { describe, expect, it } from "vitest";

const bin = join(import.meta.dirname, "..", "bin", "run.js");
const examples = join(import.meta.dirname, "..", "..", "..", "examples");

function turtles(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", cwd: examples, env: { ...process.env, NO_COLOR: "1" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("turtles compare", () => {
  it("runs the scenario on each stack: each column is what `turtles run` gives with the services on that stack; the same command gives the same bytes", () => {
    const short = ["--duration", "3s", "--replications", "2"];
    const dir = mkdtempSync(join(tmpdir(), "turtles-compare-"));
    const cmp = turtles("compare", "web-tier.yaml", ...short, "--json", "--workers", "2", "--csv", join(dir, "a.csv"));
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
    // The same bytes on one worker, JSON and CSV: no time or random id in either.
    expect(turtles("compare", "web-tier.yaml", ...short, "--json", "--workers", "1", "--csv", join(dir, "b.csv")).stdout).toBe(cmp.stdout);
    expect(readFileSync(join(dir, "b.csv"), "utf8")).toBe(readFileSync(join(dir, "a.csv"), "utf8"));
    expect(r.comparison!.baseline).toBe("baremetal");
  });

  it("compares the steal of VMs on overcommitted cores: in all, per host type where guests stole, and per VM", () => {
    const r = turtles("compare", join(import.meta.dirname, "fixtures", "overcommitted.yaml"), "--json", "--workers", "1");
    expect(r.code).toBe(0);
    const figures = (JSON.parse(r.stdout) as Results).comparison!.figures;
    const row = (label: string) => figures.find((x) => x.label === label);
    const values = (label: string) => Object.fromEntries(Object.entries(row(label)!.stacks).map(([k, v]) => [k, v.value]));
    // Both VMs on the dense host, 2 cores of steal each for 4 s; the spare host and bare metal steal nothing.
    expect(values("steal")).toEqual({ baremetal: 0, vms: expect.closeTo(16, 9) });
    expect(values("steal on dense")).toEqual({ baremetal: 0, vms: expect.closeTo(16, 9) });
    expect(row("steal on spare")).toBeUndefined();
    expect(values("vm steal mean")).toEqual({ baremetal: null, vms: expect.closeTo(2, 9) });
  });

  it("prints one column per stack, in the order given", () => {
    const r = turtles("compare", "three-tier.yaml", "--stack", "vms", "--stack", "baremetal", "--duration", "2s", "--replications", "1");
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toMatch(/^three-tier: 1 replication of 2\.00s measured after .* warm-up \(seed \d+\), the same seeds on every stack$/);
    expect(lines[2]).toMatch(/^\s+vms\s+baremetal$/);
    expect(r.stdout).toMatch(/\n {2}kernels\s+\d+\s+\d+\n/);
    expect(r.stdout).toMatch(/\n {2}shop\/frontend p99\s+\S+\s+\S+\n/);
  });

  it("names the stacks there are for an unknown --stack, and asks for stacks when the scenario has none besides bare metal", () => {
    const typo = turtles("compare", "web-tier.yaml", "--stack", "baremetal", "--stack", "container");
    expect(typo.code).toBe(2);
    expect(typo.stderr.trim()).toBe('--stack: unknown stack "container"; did you mean "containers"?; the scenario has: baremetal, containers');
    const dir = mkdtempSync(join(tmpdir(), "turtles-compare-"));
    const bare = readFileSync(join(examples, "overload.yaml"), "utf8");
    expect(bare).not.toMatch(/^stacks:/m);
    writeFileSync(join(dir, "bare.yaml"), bare);
    const one = spawnSync(process.execPath, [bin, "compare", "bare.yaml"], { encoding: "utf8", cwd: dir });
    expect(one.status).toBe(2);
    expect(one.stderr).toBe("bare.yaml defines no stack besides bare metal: add stacks to compare with it (e.g. vms: [{ layer: vm, vcpus: 4, memory: 8GiB }])\n");
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

describe("turtles compare on the five questions", () => {
  const short = ["--duration", "2s", "--replications", "2", "--workers", "2"];
  const headings = ["Performance", "Resource consumption", "Time to recreate", "Maintenance", "Portability"];
  const questions = ["performance", "resources", "recreate", "maintenance", "portability"];

  /** The table's rows under each heading, by label (from the first table: the second is the differences'). */
  function sections(table: string): Map<string, string[]> {
    const out = new Map<string, string[]>();
    let current: string[] | undefined;
    for (const line of table.split("\n")) {
      if (headings.includes(line)) out.set(line, (current = []));
      else if (line.startsWith("  ") && current) current.push(line.trim());
      else if (line === "") current = undefined;
    }
    return out;
  }

  it("groups every figure of the comparison under its question's heading, a column per stack, then the differences from the baseline", () => {
    const dir = mkdtempSync(join(tmpdir(), "turtles-compare-"));
    const r = turtles("compare", "batch.yaml", ...short, "--out", join(dir, "c.json"));
    expect(r.code).toBe(0);
    const results = JSON.parse(readFileSync(join(dir, "c.json"), "utf8")) as Results;
    const c = results.comparison!;
    expect(c.stacks).toEqual(["baremetal", "vms"]);
    const [values, differences] = r.stdout.split("\ndifference from baremetal, paired replication by replication (± the 95% half-width; * where the interval excludes zero)\n");
    expect(differences).toBeDefined();
    const shown = sections(values);
    // Headings in the order, those with rows only; each figure's label under its own question, in the row model's order.
    expect([...shown.keys()]).toEqual(headings.filter((_, i) => c.figures.some((f) => f.question === questions[i])));
    for (const [i, heading] of headings.entries()) {
      const labels = c.figures.filter((f) => f.question === questions[i]).map((f) => f.label);
      expect((shown.get(heading) ?? []).map((line) => line.slice(0, line.search(/ {2,}/)))).toEqual(labels);
    }
    expect(c.figures.map((f) => f.id)).toContain("services.analytics/render.latency.p99");
    expect(c.figures.map((f) => f.id)).toContain("hosts.memoryOverhead");
    // Every stack's value is its column in the results: the table and the JSON are one row model.
    for (const f of c.figures) for (const s of c.stacks) expect(f.stacks[s].value === null || typeof f.stacks[s].value === "number").toBe(true);
    const overhead = c.figures.find((f) => f.id === "hosts.memoryOverhead")!;
    expect(overhead.stacks.vms.value).toBe(results.stacks.vms.hosts.memoryOverhead);
    expect(overhead.stacks.baremetal.difference).toBeNull();
    // VMs hold guest kernels and RAM: a difference the same in every replication, so its interval excludes zero.
    expect(overhead.stacks.vms.difference).toEqual({ mean: results.stacks.vms.hosts.memoryOverhead, ci95: 0, excludesZero: true });
    expect(sections(differences).get("Resource consumption")).toContainEqual(expect.stringMatching(/^memory overhead\s+\+\S+ MiB \*$/));
  });

  it("takes the baseline from --baseline: the differences turn over exactly, and an unknown one is refused before any work", () => {
    const dir = mkdtempSync(join(tmpdir(), "turtles-compare-"));
    expect(turtles("compare", "batch.yaml", ...short, "--out", join(dir, "a.json")).code).toBe(0);
    const flipped = turtles("compare", "batch.yaml", ...short, "--baseline", "vms", "--out", join(dir, "b.json"));
    expect(flipped.code).toBe(0);
    expect(flipped.stdout).toContain("\ndifference from vms, paired replication by replication");
    const a = (JSON.parse(readFileSync(join(dir, "a.json"), "utf8")) as Results).comparison!;
    const b = (JSON.parse(readFileSync(join(dir, "b.json"), "utf8")) as Results).comparison!;
    expect(b.baseline).toBe("vms");
    expect(b.stacks).toEqual(["baremetal", "vms"]); // the columns stay in their order
    expect(b.figures.map((f) => f.id)).toEqual(a.figures.map((f) => f.id));
    b.figures.forEach((f, i) => {
      expect(f.stacks.vms.difference).toBeNull();
      const there = a.figures[i].stacks.vms.difference;
      const back = f.stacks.baremetal.difference;
      expect(back === null ? null : { ...back, mean: -back.mean + 0 }).toEqual(there === null ? null : { ...there, mean: there.mean + 0 });
    });
    const typo = turtles("compare", "batch.yaml", ...short, "--baseline", "vm");
    expect(typo.code).toBe(2);
    expect(typo.stderr).toBe('--baseline: "vm" is not among the stacks compared; did you mean "vms"?; they are: baremetal, vms\n');
  });

  it("compares a single --stack with bare metal, and refuses bare metal alone", () => {
    const dir = mkdtempSync(join(tmpdir(), "turtles-compare-"));
    const one = turtles("compare", "three-tier.yaml", "--stack", "vms", ...short, "--out", join(dir, "one.json"));
    expect(one.code).toBe(0);
    const r = JSON.parse(readFileSync(join(dir, "one.json"), "utf8")) as Results;
    expect(Object.keys(r.stacks)).toEqual(["baremetal", "vms"]);
    expect(r.comparison!.baseline).toBe("baremetal");
    const bare = turtles("compare", "three-tier.yaml", "--stack", "baremetal", ...short);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toBe("--stack: a single --stack is compared with baremetal; give another stack, or two\n");
  });

  it("writes --csv with one row per stack and figure, the values and differences of the comparison, and --out .csv the same rows", () => {
    const dir = mkdtempSync(join(tmpdir(), "turtles-compare-"));
    const r = turtles("compare", "batch.yaml", ...short, "--json", "--csv", join(dir, "rows.csv"), "--out", join(dir, "out.csv"));
    expect(r.code).toBe(0);
    const c = (JSON.parse(r.stdout) as Results).comparison!;
    const text = readFileSync(join(dir, "rows.csv"), "utf8");
    expect(readFileSync(join(dir, "out.csv"), "utf8")).toBe(text);
    expect(text.split("\n")[0]).toBe("question,id,label,service,unit,stack,value,ci95,difference,differenceCi95,excludesZero");
    const rows = fromCsv(text);
    expect(rows).toHaveLength(c.figures.length * c.stacks.length);
    const cell = (x: number | null | undefined): string => (x === null || x === undefined ? "" : String(x));
    rows.forEach((row, i) => {
      const f: ComparedFigure = c.figures[Math.floor(i / c.stacks.length)];
      const stack = c.stacks[i % c.stacks.length];
      const x = f.stacks[stack];
      expect(row).toEqual({
        question: f.question,
        id: f.id,
        label: f.label,
        service: f.service ?? "",
        // A plugin metric's own unit where it has one (the VMs' steal: cores).
        unit: f.unitName ?? f.unit,
        stack,
        value: cell(x.value),
        ci95: cell(x.ci95),
        difference: cell(x.difference?.mean),
        differenceCi95: cell(x.difference?.ci95),
        excludesZero: x.difference ? String(x.difference.excludesZero) : "",
      });
    });
  });
});

describe("results files by their extension (run and compare --out)", () => {
  it("run --out x.csv writes a row per figure of the run's stack, with no difference columns filled; .json the results", () => {
    const dir = mkdtempSync(join(tmpdir(), "turtles-out-"));
    const r = turtles("run", "batch.yaml", "--duration", "2s", "--replications", "2", "--workers", "2", "--json", "--out", join(dir, "r.csv"));
    expect(r.code).toBe(0);
    const results = JSON.parse(r.stdout) as Results;
    expect(results.comparison).toBeUndefined(); // a run's results are as they were
    const [stack] = Object.keys(results.stacks);
    const rows = fromCsv(readFileSync(join(dir, "r.csv"), "utf8"));
    expect(rows.length).toBeGreaterThan(10);
    expect(new Set(rows.map((x) => x.stack))).toEqual(new Set([stack]));
    for (const x of rows) expect([x.difference, x.differenceCi95, x.excludesZero]).toEqual(["", "", ""]);
    const value = (id: string): number => Number(rows.find((x) => x.id === id)!.value);
    expect(value("services.analytics/render.throughput")).toBe(results.stacks[stack].services["analytics/render"].throughput);
    expect(value("kernels")).toBe(results.stacks[stack].kernels);
    expect(value("hosts.memoryUsed")).toBe(results.stacks[stack].hosts.memoryUsed);
    const json = turtles("run", "batch.yaml", "--duration", "2s", "--replications", "2", "--workers", "2", "--out", join(dir, "r.JSON"));
    expect(json.code).toBe(0);
    expect(readFileSync(join(dir, "r.JSON"), "utf8")).toBe(r.stdout);
  });

  it("refuses an --out of another extension at once, naming the ones there are, and writes nothing", () => {
    const dir = mkdtempSync(join(tmpdir(), "turtles-out-"));
    for (const args of [["run"], ["compare"]]) {
      for (const name of ["r.txt", "results"]) {
        const r = turtles(args[0], "batch.yaml", "--out", join(dir, name));
        expect(r.code).toBe(2);
        expect(r.stderr).toBe(`--out: ${join(dir, name)} ends in neither .json nor .csv: give a .json file for the results, or .csv for one row per stack and figure\n`);
        expect(r.stdout).toBe("");
      }
    }
    expect(readdirSync(dir)).toEqual([]);
    expect(existsSync(join(dir, "r.txt"))).toBe(false);
  });
});
