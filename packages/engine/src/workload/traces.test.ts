import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { loadScenario } from "../scenario/load.js";
import { ScenarioError } from "../scenario/problems.js";
import { passLayer, testHost } from "../testing/index.js";
import { BITBRAINS_COLUMNS } from "../trace/bitbrains.js";
import { ReplicationRun, runScenario, scenarioHash } from "./run.js";

const vm = passLayer("vm", 0.2, { path: { cpuFactor: 0.8 } });
const plugins = [testHost, vm];

/** A folder of PlanetLab files, one per VM, each a list of percentages (one per 300 s). */
function planetlabDir(vms: number[][]): string {
  const dir = mkdtempSync(join(tmpdir(), "pl-"));
  vms.forEach((samples, i) => writeFileSync(join(dir, `vm ${i}`), samples.join("\n") + "\n"));
  return dir;
}

function scenario(trace: string, options: { cores?: number; hosts?: number; warmup?: string; duration?: string; extra?: string } = {}): string {
  return `duration: ${options.duration ?? "900s"}
warmup: ${options.warmup ?? "0s"}
hostTypes: { h: { cores: ${options.cores ?? 4}, memory: 64GiB } }
hosts: [{ type: h, count: ${options.hosts ?? 1} }]
stacks: { vms: [{ layer: vm }] }
${options.extra ?? ""}
tenants:
  - name: pl
    trace: ${trace}
`;
}

/** Replication 0 of `s` run straight, and run again resumed from a snapshot taken after `events` events. */
function straightAndResumed(s: ReturnType<typeof loadScenario>, events: number) {
  const straight = new ReplicationRun(s, plugins, 0);
  while (!straight.advance(100));
  const first = new ReplicationRun(s, plugins, 0);
  first.advance(events);
  const resumed = ReplicationRun.resume(s, plugins, 0, first.snapshot());
  while (!resumed.advance(100));
  return { straight: straight.result(), resumed: resumed.result() };
}

/** A Bitbrains folder of one VM, two 300 s samples: disk read 150,000 KB/s, network in 50,000 and out 10,000 KB/s, 10 % of 2 cores. */
function busyBitbrainsVm(): string {
  const dir = mkdtempSync(join(tmpdir(), "bb-"));
  const row = (...v: number[]): string => v.join(";\t");
  const sample = (t: number) => row(t, 2, 5000, 0, 10, 4194304, 1048576, 150000, 0, 50000, 10000);
  writeFileSync(join(dir, "1.csv"), [BITBRAINS_COLUMNS.join(";\t"), sample(1000), sample(1300)].join("\n") + "\n");
  return dir;
}

async function traceFigures(text: string, file = "s.yaml") {
  const s = loadScenario(text, { plugins, file });
  const r = await runScenario(s, plugins);
  const stack = Object.values(r.stacks)[0];
  return { figures: stack.traces!.pl, stack, results: r };
}

describe("utilisation-driven services", () => {
  it("demand alone is served in full: cpuDemand is utilisation x cores x time, the host busy exactly that", async () => {
    // 2 VMs of 2 cores: 50 %, 25 %, 100 % and 10 %, 10 %, 10 % over three 300 s samples.
    const dir = planetlabDir([[50, 25, 100], [10, 10, 10]]);
    const { figures, stack } = await traceFigures(scenario(`{ format: planetlab, path: ${JSON.stringify(dir)}, cores: 2 }`));
    const demand = 2 * 300 * (0.5 + 0.25 + 1) + 2 * 300 * 0.3;
    expect(figures).toEqual({ kind: "utilisation", stack: "baremetal", vms: 2, samples: 6, cpuDemand: demand, cpuUnmet: 0, unmetFraction: 0, skipped: 0 });
    expect(stack.hosts.cpuUtilization! * 4 * 900).toBeCloseTo(demand, 6);
    // The trace's VMs are figures of their own, not services.
    expect(stack.services).toEqual({});
  });

  it("demand over the host's cores contends: three 1-core VMs at 100 % on 2 cores get 2/3 each, 1/3 unmet", async () => {
    const dir = planetlabDir([[100, 100], [100, 100], [100, 100]]);
    const { figures } = await traceFigures(scenario(`{ format: planetlab, path: ${JSON.stringify(dir)} }`, { cores: 2, duration: "600s", extra: "placement: { cpuOvercommit: 2 }" }));
    expect(figures.cpuDemand).toBe(3 * 600);
    expect(figures.cpuUnmet).toBeCloseTo(600, 6);
    expect(figures.unmetFraction).toBeCloseTo(1 / 3, 9);
  });

  it("a VM layer's boot delays the demand and its CPU factor makes it cost more host CPU", async () => {
    const dir = planetlabDir([[40, 40, 40]]);
    const { figures, stack } = await traceFigures(scenario(`{ format: planetlab, path: ${JSON.stringify(dir)}, stack: vms }`));
    expect(figures.stack).toBe("vms");
    expect(figures.cpuDemand).toBeCloseTo(0.4 * 900, 9);
    // Nothing runs while the VM boots (0.2 s), the rest is served: the threads start once the replica is ready.
    expect(figures.cpuUnmet).toBeCloseTo(0.4 * 0.2, 9);
    // The path's CPU factor (0.8): the host works 1 / 0.8 times what it served.
    expect(stack.hosts.cpuUtilization! * 4 * 900).toBeCloseTo((0.4 * 899.8) / 0.8, 6);
  });

  it("start skips trace time and speedup compresses it; only the measurement counts", async () => {
    const dir = planetlabDir([[10, 20, 30, 40]]);
    // From trace time 300 s, 2 trace seconds per simulated second: samples 20, 30, 40 % at 0, 150, 300 s, each for 150 s.
    const { figures } = await traceFigures(scenario(`{ format: planetlab, path: ${JSON.stringify(dir)}, start: 300s, speedup: 2 }`, { warmup: "150s", duration: "300s" }));
    expect(figures.cpuDemand).toBeCloseTo(150 * 0.3 + 150 * 0.4, 9);
    // Replayed: 20, 30 and 40 % (10 % was before the start).
    expect(figures.samples).toBe(3);
  });

  it("replays Bitbrains' repeated timestamps as zero-length steps and holds the memory the trace says", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bb-"));
    const row = (...v: number[]): string => v.join(";\t");
    writeFileSync(
      join(dir, "1.csv"),
      [BITBRAINS_COLUMNS.join(";\t"), row(1000, 2, 5000, 0, 50, 4194304, 1048576, 0, 0, 0, 0), row(1300, 2, 5000, 0, 10, 4194304, 1048576, 0, 0, 0, 0), row(1300, 2, 5000, 0, 20, 4194304, 6291456, 0, 0, 0, 0)].join("\n") + "\n",
    );
    const { figures, stack } = await traceFigures(scenario(`{ format: bitbrains, path: ${JSON.stringify(dir)} }`, { duration: "600s" }));
    // 50 % of 2 cores for 300 s, then 20 % (the later of the two rows at 1300) for one 300 s step.
    expect(figures.cpuDemand).toBeCloseTo(2 * 0.5 * 300 + 2 * 0.2 * 300, 9);
    expect(figures.samples).toBe(2);
    // 1 GiB used within the VM's 4 GiB reservation, then 6 GiB: 2 GiB past it reach the host.
    expect(stack.hosts.memoryUsed).toBe(6 * 2 ** 30);
  });

  it("replays Bitbrains disk and network rates on the host's devices: what exceeds the disk's or NIC's bandwidth is unmet", async () => {
    const dir = busyBitbrainsVm();
    const devices = "hostTypes: { h: { cores: 4, memory: 64GiB, disk: { iops: 10000, bandwidth: 100MB/s }, nic: { bandwidth: 25MB/s } } }";
    const text = scenario(`{ format: bitbrains, path: ${JSON.stringify(dir)} }`, { duration: "600s" }).replace(/^hostTypes:.*$/m, devices);
    const { figures, stack } = await traceFigures(text);
    const KB = 1024;
    const read = 150000 * KB;
    // The disk moves 100 MB/s of the 153.6 MB/s asked: the excess, 53.6 MB/s for 600 s, is unmet.
    expect(figures.diskDemand).toBeCloseTo(read * 600, 0);
    expect(figures.diskUnmet).toBeCloseTo((read - 100e6) * 600, 0);
    expect(stack.hosts.diskUtilization).toBeCloseTo(1, 9);
    // Received: 51.2 MB/s against a 25 MB/s NIC; sent: 10.24 MB/s, all of it.
    expect(figures.netDemand).toBeCloseTo((50000 + 10000) * KB * 600, 0);
    expect(figures.netUnmet).toBeCloseTo((50000 * KB - 25e6) * 600, 0);
    expect(figures.cpuUnmet).toBe(0);
  });

  it("meets none of a VM's disk and network traffic while its host is down: what was under way is taken back", async () => {
    const dir = busyBitbrainsVm();
    // Devices fast enough for all of it, and the only host down from 100 s to past the end.
    const devices = "hostTypes: { h: { cores: 4, memory: 64GiB, disk: { iops: 10000, bandwidth: 1000MB/s }, nic: { bandwidth: 1000MB/s } } }";
    const failure = "failures: { detection: 1s, scripted: [{ at: 100s, host: 0, repair: 1000s }] }";
    const text = scenario(`{ format: bitbrains, path: ${JSON.stringify(dir)} }`, { duration: "600s", extra: failure }).replace(/^hostTypes:.*$/m, devices);
    const { figures } = await traceFigures(text);
    const KB = 1024;
    // Asked for all 600 s; met for the first 100 s only (the disk and NIC keep up), so 500 s of it is unmet.
    expect(figures.diskDemand).toBeCloseTo(150000 * KB * 600, 0);
    expect(figures.diskUnmet).toBeCloseTo(150000 * KB * 500, 0);
    expect(figures.netDemand).toBeCloseTo(60000 * KB * 600, 0);
    expect(figures.netUnmet).toBeCloseTo(60000 * KB * 500, 0);
  });

  it("replays two VMs' disk traffic on one disk: each gets half, and a co-located service's I/O waits behind them", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bb-"));
    const row = (...v: number[]): string => v.join(";\t");
    // Each VM writes 58,593.75 KB/s (60 MB/s) for two 300 s samples: 120 MB/s asked of a 100 MB/s disk.
    const sample = (t: number) => row(t, 1, 2500, 0, 0, 1048576, 0, 0, 58593.75, 0, 0);
    for (const vm of ["1", "2"]) writeFileSync(join(dir, `${vm}.csv`), [BITBRAINS_COLUMNS.join(";\t"), sample(1000), sample(1300)].join("\n") + "\n");
    const devices = "hostTypes: { h: { cores: 4, memory: 64GiB, disk: { iops: 10000, bandwidth: 100MB/s } } }";
    const reader = "  - name: app\n    services: [{ name: r, load: { open: { rate: 10 } }, request: [{ io: { read: 1MB, count: 1, random: false } }] }]\n";
    const text = (trace: boolean) => {
      const s = scenario(`{ format: bitbrains, path: ${JSON.stringify(dir)} }`, { duration: "600s" }).replace(/^hostTypes:.*$/m, devices);
      return trace ? s + reader : s.replace(/  - name: pl\n    trace: .*\n/, reader);
    };
    const { figures, results } = await traceFigures(text(true));
    expect(figures.diskDemand).toBeCloseTo(2 * 60e6 * 600, 0);
    // The reader's 10 MB/s takes its share too: the VMs get less than 50 MB/s each, and the unmet is more than 20 MB/s.
    expect(figures.diskUnmet!).toBeGreaterThan(20e6 * 600);
    const alone = await runScenario(loadScenario(text(false), { plugins, file: "s.yaml" }), plugins);
    const latency = (r: typeof results) => Object.values(r.stacks)[0].services["app/r"].latency.mean!;
    // Alone a 1 MB read takes 10 ms, 11.1 ms on average with 10 a second sharing the disk (M/G/1-PS: 10 ms / (1 - 0.1));
    // beside the traces it shares the disk three ways.
    expect(latency(alone)).toBeCloseTo(0.0111, 3);
    expect(latency(results)).toBeGreaterThan(0.025);
  });

  it("refuses bad rows under onBadRow: fail, listing trace file, line and field at the scenario's trace; skip counts them in results", async () => {
    const dir = planetlabDir([[10, 20], [30, 40]]);
    writeFileSync(join(dir, "vm 1"), "30\nabc\n50\n");
    let err: unknown;
    try {
      loadScenario(scenario(`{ format: planetlab, path: ${JSON.stringify(dir)} }`), { plugins, file: "s.yaml" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ScenarioError);
    expect((err as ScenarioError).message).toBe(
      `s.yaml:9:12: tenants.pl.trace: 1 bad row in the trace: ${join(dir, "vm 1")}:2: utilisation: expected a CPU utilisation in percent (0 to 100), found "abc"; fix them, or set onBadRow: skip to leave them out (counted in results as skipped)`,
    );
    const { figures } = await traceFigures(scenario(`{ format: planetlab, path: ${JSON.stringify(dir)}, onBadRow: skip }`));
    expect(figures.skipped).toBe(1);
    // The bad row's interval keeps the previous value: 30 % for two steps, then 50 %.
    expect(figures.cpuDemand).toBeCloseTo(300 * (0.1 + 0.2) + 600 * 0.3 + 300 * 0.5, 9);
  });

  it("names the trace path and the fix when the files cannot be read or fit no VM size", () => {
    const load = (trace: string): string => {
      try {
        loadScenario(scenario(trace), { plugins, file: "s.yaml", resolvePath: (p) => join("/no/such", p) });
      } catch (e) {
        return (e as Error).message;
      }
      return "";
    };
    expect(load("{ format: planetlab, path: day }")).toBe("s.yaml:9:39: tenants.pl.trace.path: /no/such/day: no such file or folder");
    expect(load("{ format: swf, path: day, cores: 2 }")).toMatch(/tenants\.pl\.trace\.(format|cores)/);
    expect(load("{ format: planetlab, path: day, backfill: easy }")).toContain("tenants.pl.trace.backfill: applies to swf traces, not planetlab");
  });

  it("hashes a trace scenario by its paths as written: the same files copied to two folders hash the same", () => {
    // Two copies of one project, each a scenario beside its trace folder, as two machines' checkouts would be.
    const root = mkdtempSync(join(tmpdir(), "hash-"));
    const load = (project: string, path: string, data = "10\n20\n") => {
      const file = join(root, project, "s.yaml");
      mkdirSync(join(root, project, path), { recursive: true });
      writeFileSync(join(root, project, path, "vm 0"), data);
      return loadScenario(scenario(`{ format: planetlab, path: ${path} }`), { plugins, file, resolvePath: (p) => resolve(dirname(file), p) });
    };
    const a = load("a", "day");
    const b = load("b", "day");
    // Read from each copy's own folder, yet one hash: a sweep's job key is the same on every machine.
    expect(a.tenants[0].trace!.path).toBe(join(root, "a", "day"));
    expect(b.tenants[0].trace!.path).toBe(join(root, "b", "day"));
    expect(scenarioHash(a)).toBe(scenarioHash(b));
    // Loaded again from its JSON (a worker, a saved run), it keeps both the folder it reads and its hash.
    const again = loadScenario(JSON.stringify(a), { plugins });
    expect(again.tenants[0].trace!.path).toBe(join(root, "a", "day"));
    expect(scenarioHash(again)).toBe(scenarioHash(a));
    // Another trace is another scenario, and so is the same text beside other data (same names, same size): on a
    // shared queue the two must not share job keys.
    expect(scenarioHash(load("a", "day2"))).not.toBe(scenarioHash(a));
    expect(scenarioHash(load("c", "day", "30\n40\n"))).not.toBe(scenarioHash(a));
  });

  it("gives the same figures in every run, and after a snapshot resumed mid-trace (reader positions are state)", async () => {
    const dir = planetlabDir(Array.from({ length: 12 }, (_, i) => Array.from({ length: 40 }, (_, k) => (i * 7 + k * 13) % 101)));
    const s = loadScenario(scenario(`{ format: planetlab, path: ${JSON.stringify(dir)}, sample: 2 }`, { cores: 2, duration: "3h", extra: "placement: { cpuOvercommit: 2 }" }), { plugins });
    const { straight, resumed } = straightAndResumed(s, 57);
    const a = JSON.stringify(straight);
    expect(JSON.stringify(resumed)).toBe(a);
    expect(straight.stack.traces!.pl.vms).toBe(6);
    expect(straight.stack.traces!.pl.cpuUnmet).toBeGreaterThan(0);
    const again = new ReplicationRun(s, plugins, 0);
    while (!again.advance(1000));
    expect(JSON.stringify(again.result())).toBe(a);
  });

  it("continues Bitbrains disk and network traffic exactly after a snapshot taken mid-chunk", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bb-"));
    const row = (...v: number[]): string => v.join(";\t");
    const rows = (k: number) => [0, 1, 2, 3].map((i) => row(1000 + 300 * i, 2, 5000, 0, 20 + 10 * i, 4194304, 1048576, 40000 + 9000 * k * i, 20000, 30000 - 5000 * i, 8000 * k));
    for (const k of [1, 2, 3]) writeFileSync(join(dir, `${k}.csv`), [BITBRAINS_COLUMNS.join(";\t"), ...rows(k)].join("\n") + "\n");
    const devices = "hostTypes: { h: { cores: 4, memory: 64GiB, disk: { iops: 10000, bandwidth: 100MB/s, queueDepth: 2 }, nic: { bandwidth: 50MB/s } } }";
    const s = loadScenario(scenario(`{ format: bitbrains, path: ${JSON.stringify(dir)} }`, { duration: "1200s", warmup: "100s" }).replace(/^hostTypes:.*$/m, devices), { plugins });
    const { straight, resumed } = straightAndResumed(s, 40);
    const figures = straight.stack.traces!.pl;
    expect(JSON.stringify(resumed)).toBe(JSON.stringify(straight));
    // Three VMs asking more of the disk and NIC than they have: some of each is unmet.
    expect(figures.diskUnmet).toBeGreaterThan(0);
    expect(figures.netUnmet).toBeGreaterThan(0);
  });
});
