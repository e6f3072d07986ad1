import { describe, expect, it } from "vitest";
import { Simulation } from "../kernel/simulation.js";
import { buildModel } from "../model/model.js";
import { loadScenario } from "../scenario/load.js";
import { BatchMeans } from "../stats/confidence.js";
import { passLayer, testHost } from "../testing/index.js";
import { NONE } from "../tree/nodes.js";
import { runScenario } from "./run.js";

const plugins = [testHost];

function scenario(host: string, service: string, duration: string, warmup = "10s"): string {
  return `duration: ${duration}
warmup: ${warmup}
hostTypes: { h: ${host} }
hosts: [{ type: h }]
tenants: [{ name: t, services: [${service}] }]
`;
}

describe("disks (validation against closed forms)", () => {
  it("4 KiB random reads, Poisson arrivals, queueDepth 1: the M/D/1 mean response plus the latency", { timeout: 120_000 }, async () => {
    const s = loadScenario(
      scenario(
        "{ cores: 1, memory: 1GiB, disk: { iops: 1000/s, bandwidth: 1GB/s, latency: 80us, queueDepth: 1 } }",
        "{ name: db, cores: 0, load: { open: { rate: 700/s } }, request: [{ io: { read: 4KiB, random: true } }] }",
        "3000s",
      ),
      { plugins },
    );
    const bm = new BatchMeans(32);
    await runScenario(s, plugins, { seed: 11, onRequest: (_svc, latency) => bm.push(latency) });
    const ci = bm.interval(0.99);
    const D = 1 / 1000; // max(1/IOPS, 4096/1e9) device-seconds
    const rho = 700 * D;
    const expected = (rho * D) / (2 * (1 - rho)) + D + 80e-6;
    expect(ci.halfWidth / ci.mean).toBeLessThan(0.02);
    expect(Math.abs(ci.mean - expected)).toBeLessThanOrEqual(ci.halfWidth);
  });

  it("clients saturating a disk get its IOPS for small random reads and bandwidth/size for large sequential ones", async () => {
    const disk = "{ cores: 4, memory: 1GiB, disk: { iops: 20k/s, bandwidth: 500MB/s, latency: 100us, queueDepth: 8 } }";
    const random = loadScenario(
      scenario(disk, "{ name: r, cores: 0, load: { closed: { clients: 32 } }, request: [{ io: { read: 4KiB, random: true } }] }", "20s", "1s"),
      { plugins },
    );
    const r = await runScenario(random, plugins, { seed: 1 });
    expect(r.stacks.baremetal.services["t/r"].throughput! / 20_000).toBeCloseTo(1, 2);
    expect(r.stacks.baremetal.hosts.diskIops! / 20_000).toBeCloseTo(1, 2);
    expect(r.stacks.baremetal.hosts.diskUtilization).toBeCloseTo(1, 3);
    const sequential = loadScenario(
      // 8 clients keep 16 I/Os in flight for 8 slots, so the device never idles during the 100 us latencies.
      scenario(disk, "{ name: s, cores: 0, load: { closed: { clients: 8 } }, request: [{ io: { read: 1MiB, count: 2 } }] }", "20s", "1s"),
      { plugins },
    );
    const q = await runScenario(sequential, plugins, { seed: 1 });
    const iosPerSecond = 500e6 / 2 ** 20;
    expect(q.stacks.baremetal.hosts.diskIops! / iosPerSecond).toBeCloseTo(1, 2);
    expect(q.stacks.baremetal.services["t/s"].throughput! / (iosPerSecond / 2)).toBeCloseTo(1, 2);
    expect(q.stacks.baremetal.hosts.diskBytesRead! / (20 * 500e6)).toBeCloseTo(1, 2);
  });

  it("runs a single sequential read alone in exactly size/bandwidth + latency, and reports it as I/O wait", async () => {
    const s = loadScenario(
      scenario(
        "{ cores: 1, memory: 1GiB, disk: { iops: 100/s, bandwidth: 100MB/s, latency: 2ms } }",
        "{ name: one, cores: 0, load: { closed: { clients: 1, think: 10s } }, request: [{ io: { read: 10MB } }] }",
        "50s",
        "0s",
      ),
      { plugins },
    );
    const latencies: number[] = [];
    const r = await runScenario(s, plugins, { seed: 1, onRequest: (_s, l) => latencies.push(l) });
    expect(latencies.length).toBeGreaterThan(0);
    for (const l of latencies) expect(l).toBeCloseTo(0.1 + 0.002, 12);
    expect(r.stacks.baremetal.services["t/one"].ioWait).toBeCloseTo(0.102, 12);
  });

  it("refuses io steps when no host has a disk, at load time and naming the fix", () => {
    expect(() =>
      loadScenario(scenario("{ cores: 1, memory: 1GiB }", "{ name: x, load: { open: { rate: 1/s } }, request: [{ io: { read: 4KiB } }] }", "10s"), { plugins, file: "nodisk.yaml" }),
    ).toThrow(/^nodisk\.yaml:\d+:\d+: tenants\.t\.services\.x\.request\[0\]\.io: io steps need a disk, and no host type has one: give a host type disk: \{ iops, bandwidth \}$/);
  });

  it("places the replicas of a service with io steps only on hosts with a disk", async () => {
    const text = `duration: 5s
hostTypes: { plain: { cores: 4, memory: 8GiB }, storage: { cores: 4, memory: 8GiB, disk: { iops: 10k, bandwidth: 1GB/s } } }
hosts: [{ type: plain, count: 2 }, { type: storage }]
tenants:
  - name: t
    services:
      - { name: db, replicas: 3, load: { open: { rate: 100/s } }, request: [{ io: { read: 4KiB } }] }
      - { name: web, replicas: 2, load: { open: { rate: 100/s } }, request: [{ cpu: 1ms }] }`;
    const s = loadScenario(text, { plugins });
    const m = buildModel(new Simulation(), s, plugins);
    expect(m.processes.get("t/db")!.map((p) => m.hostIndex(m.nodes.host[p]))).toEqual([2, 2, 2]);
    expect(m.processes.get("t/web")!.map((p) => m.hostIndex(m.nodes.host[p]))).toEqual([0, 0]);
    const r = await runScenario(s, plugins);
    expect(r.stacks.baremetal.services["t/db"].completed).toBeGreaterThan(400);
  });
});

describe("layers on cpu and mem operations", () => {
  it("run their cpu and mem hooks once per step, add their latencies and charge their CPU elsewhere", async () => {
    const seen = { cpu: 0, mem: 0 };
    // A 1 ms wake-up before each cpu step, 2 ms per mem step, and 10 ms of a helper's CPU per cpu step.
    const layer = passLayer("wake", 0, {
      path: { latency: { cpu: 1e-3, mem: 2e-3 }, charge: { cpu: { aux: "helper", work: 10e-3 } } },
      aux: "helper",
      hooks: { cpu: () => void seen.cpu++, mem: () => void seen.mem++ },
    });
    const all = [testHost, layer];
    const s = loadScenario(
      `duration: 100s
hostTypes: { h: { cores: 4, memory: 1GiB } }
hosts: [{ type: h }]
stacks: { woken: [{ layer: wake }] }
tenants:
  - name: t
    services:
      - { name: one, stack: woken, load: { closed: { clients: 1, think: 1s } }, request: [{ cpu: 5ms }, { mem: { alloc: 1MiB } }, { cpu: 5ms }] }
`,
      { plugins: all },
    );
    const latencies: number[] = [];
    const r = await runScenario(s, all, { seed: 1, onRequest: (_s, l) => latencies.push(l) });
    // Alone on the host: 1 ms + 5 ms, 2 ms, 1 ms + 5 ms.
    expect(latencies.length).toBeGreaterThan(90);
    for (const l of latencies) expect(l).toBeCloseTo(0.014, 12);
    expect(seen.cpu).toBe(2 * latencies.length + (seen.cpu % 2));
    expect(seen.mem).toBe(Math.ceil(seen.cpu / 2));
    // The helper's 20 ms per request beside the process's 10 ms: busy core-seconds over 4 cores and 100 s.
    expect((r.stacks.woken.hosts.cpuUtilization as number) / ((latencies.length * 0.03) / 400)).toBeCloseTo(1, 2);
  });
});

describe("review regressions", () => {
  it("ends the CPU utilisation series with a real last window", async () => {
    const s = loadScenario(scenario("{ cores: 2, memory: 1GiB }", "{ name: c, cores: 0, load: { closed: { clients: 1 } }, request: [{ cpu: 10ms }] }", "6s", "1s"), {
      plugins,
    });
    const r = await runScenario(s, plugins, { seed: 1 });
    const u = r.stacks.baremetal.series.cpuUtilization as number[];
    expect(u).toHaveLength(60);
    for (const x of u) expect(x).toBeCloseTo(0.5, 9);
  });

  it("makes progress when closed-loop clients with no think time find every slot taken", async () => {
    const s = loadScenario(
      scenario("{ cores: 1, memory: 1GiB }", "{ name: c, cores: 0, threads: 1, queue: 0, load: { closed: { clients: 2 } }, request: [{ cpu: 10ms }] }", "10s", "0s"),
      { plugins },
    );
    const r = await runScenario(s, plugins, { seed: 1 });
    const svc = r.stacks.baremetal.services["t/c"];
    expect(svc.completed).toBeGreaterThan(900);
    expect(svc.dropped).toBeGreaterThan(0);
  });
});

describe("memory", () => {
  it("adds up working sets and layer overheads exactly", () => {
    const s = loadScenario(
      `duration: 1m
hostTypes: { h: { cores: 8, memory: 64GiB } }
hosts: [{ type: h, count: 2 }]
tenants:
  - { name: t, services: [{ name: a, replicas: 3, cores: 2, memory: 5GiB, request: [{ cpu: 1ms }] }, { name: b, replicas: 2, cores: 4, memory: 1GiB, request: [{ cpu: 1ms }] }] }
`,
      { plugins },
    );
    const m = buildModel(new Simulation(), s, plugins);
    const [h0, h1] = m.hosts;
    // first-fit by cores: a, a, a (6 cores) then b on host 0 does not fit (4 > 2): both b on host 1
    expect(m.nodes.usedMemory[h0]).toBe(15 * 2 ** 30);
    expect(m.nodes.usedMemory[h1]).toBe(2 * 2 ** 30);
    expect(m.nodes.usedCores[h0]).toBe(6);
    expect(m.nodes.usedCores[h1]).toBe(8);
  });

  it("passes allocations in a container without a memory request on to its host", () => {
    const box = passLayer("box");
    const both = [testHost, box];
    const s = loadScenario(
      `duration: 1m
hostTypes: { h: { cores: 8, memory: 4GiB } }
hosts: [{ type: h }]
stacks: { boxed: [{ layer: box }] }
tenants: [{ name: t, services: [{ name: a, stack: boxed, memory: 1GiB, request: [{ cpu: 1ms }] }] }]
`,
      { plugins: both },
    );
    const m = buildModel(new Simulation(), s, both);
    const [p] = m.processes.get("t/a")!;
    const host = m.hosts[0];
    expect(m.nodes.usedMemory[host]).toBe(2 ** 30);
    m.memory.allocate(m.nodes.parent[p], 4 * 2 ** 30);
    expect(m.nodes.usedMemory[host]).toBe(5 * 2 ** 30);
    expect(m.memory.pressureSeconds(host)).toBe(0); // under pressure from now on
    m.memory.allocate(m.nodes.parent[p], -4 * 2 ** 30);
    expect(m.nodes.usedMemory[host]).toBe(2 ** 30);
    expect(m.memory.peak[0]).toBe(5 * 2 ** 30);
  });

  it("holds a layer's overhead beside what its children use; reserves its request, and holds it only when its rules say so", () => {
    // 3 replicas of 256 MiB in a layer with 20 MB of overhead, reserving nothing or 1 GiB each, holding it or not.
    const cases = [
      { reserve: 0, holds: "used", used: 2 ** 28 + 20e6, reserved: 2 ** 28 + 20e6 },
      { reserve: 2 ** 30, holds: "used", used: 2 ** 28 + 20e6, reserved: 2 ** 30 + 20e6 }, // a container's request: reserved, not used
      { reserve: 2 ** 30, holds: "reserved", used: 2 ** 30 + 20e6, reserved: 2 ** 30 + 20e6 }, // a VM's backed guest RAM
    ] as const;
    for (const c of cases) {
      const thin = passLayer("thin", 0, { path: { memoryOverhead: 20e6 }, request: { cores: 0, memory: c.reserve }, holds: c.holds });
      const all = [testHost, thin];
      const s = loadScenario(
        `duration: 1m
hostTypes: { h: { cores: 8, memory: 64GiB } }
hosts: [{ type: h }]
stacks: { thin: [{ layer: thin }] }
tenants: [{ name: t, services: [{ name: a, stack: thin, replicas: 3, cores: 0, memory: 256MiB, request: [{ cpu: 1ms }] }] }]
`,
        { plugins: all },
      );
      const m = buildModel(new Simulation(), s, all);
      expect(m.nodes.usedMemory[m.hosts[0]], JSON.stringify(c)).toBe(3 * c.used);
      expect(m.nodes.reservedMemory[m.hosts[0]], JSON.stringify(c)).toBe(3 * c.reserved);
    }
  });

  it("places a replica only where its layers' overheads and the memory it spills into the host fit", () => {
    // A layer reserving nothing with 100 MiB of overhead: each replica of 256 MiB takes 356 MiB of a 1 GiB host.
    const all = [testHost, passLayer("thin", 0, { path: { memoryOverhead: 100 * 2 ** 20 } })];
    const s = loadScenario(
      `duration: 1m
hostTypes: { h: { cores: 8, memory: 1GiB } }
hosts: [{ type: h }]
stacks: { thin: [{ layer: thin }] }
tenants: [{ name: t, services: [{ name: a, stack: thin, replicas: 4, cores: 0, memory: 256MiB, request: [{ cpu: 1ms }] }] }]
`,
      { plugins: all },
    );
    const m = buildModel(new Simulation(), s, all);
    expect(m.processes.get("t/a")!.filter((p) => p >= 0)).toHaveLength(2);
    expect(m.nodes.usedMemory[m.hosts[0]]).toBe(2 * 356 * 2 ** 20);
    expect(m.unplaced).toHaveLength(2);
  });

  it("refuses a chain whose inner layer cannot hold the replica before building any of it", () => {
    // A fixed 1 GiB box holding a layer with 30 MiB of overhead and no reservation: a 1010 MiB replica cannot fit.
    const box = passLayer("box", 0, { request: { cores: 1, memory: 2 ** 30 }, capacity: { cores: 1, memory: 2 ** 30 } });
    const all = [testHost, box, passLayer("shim", 0, { path: { memoryOverhead: 30 * 2 ** 20 } })];
    const s = loadScenario(
      `duration: 1m
hostTypes: { h: { cores: 8, memory: 8GiB } }
hosts: [{ type: h, count: 2 }]
stacks: { nested: [{ layer: box }, { layer: shim }] }
tenants: [{ name: t, services: [{ name: a, stack: nested, cores: 0, memory: 1010MiB, request: [{ cpu: 1ms }] }] }]
`,
      { plugins: all },
    );
    const m = buildModel(new Simulation(), s, all);
    expect(m.unplaced.map((u) => u.reason)).toEqual([
      "even an empty host cannot hold one (stack nested): a shim with what it holds takes 0 cores and 1.0 GiB, but the box offers 1 core and 1.0 GiB: make the shim smaller or the box larger",
    ]);
    // No box was left behind on either host.
    for (const h of m.hosts) {
      expect(m.nodes.firstChild[h]).toBe(NONE);
      expect(m.nodes.usedMemory[h]).toBe(0);
    }
  });

  it("slows a host's CPU work by its swap factor while allocations push it past its memory, and reports the time", async () => {
    // Each request allocates 600 MiB for its 100 ms of CPU: two at once fit in 1 GiB, three do not.
    const s = loadScenario(
      scenario(
        "{ cores: 4, memory: 1GiB, swapSlowdown: 5 }",
        "{ name: m, cores: 0, load: { closed: { clients: 3, think: 0s } }, request: [{ mem: { alloc: 600MiB } }, { cpu: 100ms }] }",
        "10s",
        "0s",
      ),
      { plugins },
    );
    const r = await runScenario(s, plugins, { seed: 1 });
    const svc = r.stacks.baremetal.services["t/m"];
    const hosts = r.stacks.baremetal.hosts;
    // Always three requests holding 1800 MiB > 1 GiB: the host swaps the whole time, every request takes 5 x 100 ms.
    expect(hosts.pressureTime).toBeCloseTo(10, 6);
    expect(svc.latency.mean).toBeCloseTo(0.5, 9);
    expect(hosts.memoryPeak).toBe(3 * 600 * 2 ** 20);
    const light = loadScenario(
      scenario("{ cores: 4, memory: 1GiB, swapSlowdown: 5 }", "{ name: m, cores: 0, load: { closed: { clients: 1, think: 0s } }, request: [{ mem: { alloc: 600MiB } }, { cpu: 100ms }] }", "10s", "0s"),
      { plugins },
    );
    const ok = await runScenario(light, plugins, { seed: 1 });
    expect(ok.stacks.baremetal.hosts.pressureTime).toBe(0);
    expect(ok.stacks.baremetal.services["t/m"].latency.mean).toBeCloseTo(0.1, 9);
  });
});
