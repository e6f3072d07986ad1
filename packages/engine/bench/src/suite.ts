/**
 * The kernel benchmark suite: PHOLD and PHOLD-R at 1e3, 1e5 and 1e6 pending
 * events against a bare typed-array heap (always), C++ std::priority_queue
 * (when g++ is on the machine) and SimPy (when Debian's python3-simpy3 is
 * installed), plus M/M/c against Erlang C. Every measurement runs in its own
 * child process (fresh JIT and heap, own peak RSS), the variants of one size
 * interleaved and repeated, and the table reports medians and the ratios that
 * the kernel's targets are stated in. The suite installs nothing.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { formatTable } from "../../dist/util/table.js";
import type { TraceBenchResult } from "./traces.js";
import type { ContainerBenchResult } from "./containers.js";

export interface SuiteOptions {
  /** Fewer events and one repetition: a smoke run of about ten seconds. */
  quick?: boolean;
  seed?: number;
  /** Called with a line of progress for each measurement. */
  onProgress?: (line: string) => void;
}

export interface SizeRow {
  pending: number;
  events: number;
  engineNs: number;
  baselineNs: number;
  pholdRNs: number;
  cppNs: number | null;
  simpyNs: number | null;
  bytesPerPending: number;
  maxRssMB: number;
}

export interface MmcRow {
  customers: number;
  servers: number;
  load: number;
  customersPerSecond: number;
  meanWait: number;
  erlangCWait: number;
  ci99HalfWidth: number;
}

export interface SolverRow {
  hosts: number;
  nodes: number;
  nsPerChange: number;
}

export interface WorkloadRow {
  scenario: string;
  turtlesUs: number;
  simgridUs: number | null;
  /** The peer was stopped at its wall budget: simgridUs is a lower bound. */
  simgridTimedOut: boolean;
  throughput: number;
  expectedThroughput: number;
  maxRssMB: number;
  simgridRssMB: number | null;
  eventsPerRequest: number | null;
  serviceRequestsPerRequest: number | null;
}

export interface PlacementRow {
  policy: string;
  hosts: number;
  usPerReplica: number;
}

export interface SuiteReport {
  rows: SizeRow[];
  mmc: MmcRow;
  solver: SolverRow[];
  placement: PlacementRow[];
  workload: WorkloadRow[];
  /** The VM benchmarks (bench/src/vms.ts), beside SimGrid's VM model where it is installed. */
  vms: WorkloadRow[];
  /** Streaming the PlanetLab day (bench/src/traces.ts): reading alone, and the whole replay. */
  traces: TraceBenchResult[];
  /** The container benchmark (bench/src/containers.ts): its one case, or its tenth with `quick`. */
  containers: ContainerBenchResult;
  peers: { cpp: string | null; simpy: string | null };
}

const SIZES = [
  { lps: 1000, per: 1 },
  { lps: 10000, per: 10 },
  { lps: 100000, per: 10 },
];

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
}

function runJson(cmd: string, args: string[]): Record<string, number> {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${r.stderr || r.error?.message}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!);
}

/** Every JSON line a benchmark script of this folder prints (each in its own process). */
function jsonLines<T>(script: string, args: string[]): T[] {
  const r = spawnSync(process.execPath, [here(script), ...args], { encoding: "utf8", maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`${script} ${args.join(" ")} failed: ${r.stderr || r.error?.message}`);
  return r.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as T);
}

/** Compiles the C++ peer into a temporary folder; null when g++ is missing or fails. */
function buildCppPeer(dir: string): string | null {
  const out = join(dir, "phold");
  try {
    execFileSync("g++", ["-O2", "-o", out, here("../peers/phold.cpp")], { stdio: "ignore" });
    return out;
  } catch {
    return null;
  }
}

/** A python interpreter that can import simpy, or null. */
function findSimpy(): string | null {
  for (const py of ["python3", "/usr/bin/python3"]) {
    const r = spawnSync(py, ["-c", "import simpy"], { stdio: "ignore" });
    if (r.status === 0) return py;
  }
  return null;
}

export function runBenchmarkSuite(options: SuiteOptions = {}): SuiteReport {
  const quick = options.quick ?? false;
  const seed = String(options.seed ?? 1);
  const progress = options.onProgress ?? (() => {});
  const events = quick ? 500_000 : 2_000_000;
  const simpyEvents = quick ? 50_000 : 200_000;
  const repeats = quick ? 1 : 3;
  const dir = mkdtempSync(join(tmpdir(), "turtles-bench-"));
  try {
    const cpp = buildCppPeer(dir);
    const python = findSimpy();
    const rows: SizeRow[] = [];
    for (const { lps, per } of SIZES) {
      const args = ["--lps", String(lps), "--per", String(per), "--events", String(events), "--seed", seed];
      const m: Record<string, number[]> = { engine: [], baseline: [], r: [], cpp: [], simpy: [] };
      let bytesPerPending = 0;
      let maxRss = 0;
      for (let rep = 0; rep < repeats; rep++) {
        const e = runJson(process.execPath, [here("phold.js"), ...args]);
        m.engine.push(e.nsPerEvent);
        bytesPerPending = e.bytesPerPending;
        maxRss = Math.max(maxRss, e.maxRss);
        m.baseline.push(runJson(process.execPath, [here("phold.js"), ...args, "--baseline"]).nsPerEvent);
        m.r.push(runJson(process.execPath, [here("phold-r.js"), ...args]).nsPerEvent);
        if (cpp) m.cpp.push(runJson(cpp, args).nsPerEvent);
        progress(
          `pending ${lps * per}: engine ${m.engine.at(-1)!.toFixed(0)} ns/event, baseline ${m.baseline.at(-1)!.toFixed(0)}, ` +
            `phold-r ${m.r.at(-1)!.toFixed(0)}${cpp ? `, c++ ${m.cpp.at(-1)!.toFixed(0)}` : ""} (run ${rep + 1}/${repeats})`,
        );
      }
      if (python) {
        const simpyArgs = ["--lps", String(lps), "--per", String(per), "--events", String(simpyEvents), "--seed", seed];
        m.simpy.push(runJson(python, [here("../peers/phold_simpy.py"), ...simpyArgs]).nsPerEvent);
        progress(`pending ${lps * per}: simpy ${m.simpy[0].toFixed(0)} ns/event`);
      }
      rows.push({
        pending: lps * per,
        events,
        engineNs: median(m.engine),
        baselineNs: median(m.baseline),
        pholdRNs: median(m.r),
        cppNs: cpp ? median(m.cpp) : null,
        simpyNs: python ? median(m.simpy) : null,
        bytesPerPending,
        maxRssMB: maxRss / 2 ** 20,
      });
    }
    const customers = quick ? 200_000 : 1_000_000;
    const mmcRaw = runJson(process.execPath, [here("mmc.js"), "--customers", String(customers), "--seed", seed]);
    progress(`M/M/16: ${mmcRaw.customersPerSecond.toFixed(0)} customers/s`);
    const mmc: MmcRow = {
      customers: mmcRaw.customers,
      servers: mmcRaw.servers,
      load: mmcRaw.load,
      customersPerSecond: mmcRaw.customersPerSecond,
      meanWait: mmcRaw.meanWait,
      erlangCWait: mmcRaw.erlangCWait,
      ci99HalfWidth: mmcRaw.ci99HalfWidth,
    };
    const solver = jsonLines<SolverRow & { flatness?: number }>("solver.js", ["--changes", quick ? "50000" : "200000", "--seed", seed])
      .filter((r) => r.flatness === undefined)
      .map(({ hosts, nodes, nsPerChange }) => ({ hosts, nodes, nsPerChange }));
    progress(`solver: ${solver.map((r) => `${r.hosts} hosts ${r.nsPerChange.toFixed(0)} ns/change`).join(", ")}`);
    const placement = jsonLines<PlacementRow & { growth?: number }>("placement.js", quick ? ["--quick"] : [])
      .filter((x) => x.growth === undefined)
      .map(({ policy, hosts, usPerReplica }) => ({ policy, hosts, usPerReplica }));
    progress(`placement: ${placement.map((x) => `${x.policy} ${x.hosts} hosts ${x.usPerReplica.toFixed(2)} us/replica`).join(", ")}`);
    const workload = pairedRows(jsonLines<Record<string, number | string | boolean>>("workload.js", quick ? ["--quick"] : []));
    progress(`workload: ${workload.map((w) => `${w.scenario} ${w.turtlesUs.toFixed(2)} us/request`).join(", ")}`);
    const vms = pairedRows(jsonLines<Record<string, number | string | boolean>>("vms.js", quick ? ["--quick"] : []));
    progress(`vms: ${vms.map((w) => `${w.scenario} ${w.turtlesUs.toFixed(2)} us/request, ${w.maxRssMB.toFixed(0)} MB`).join(", ")}`);
    const containers = jsonLines<ContainerBenchResult>("containers.js", quick ? ["--quick"] : [])[0];
    progress(`containers: ${containers.containers} in ${containers.vms} VMs, build ${containers.buildSeconds.toFixed(1)} s, run ${containers.runSeconds.toFixed(1)} s`);
    const traces = jsonLines<TraceBenchResult>("traces.js", quick ? ["--quick"] : []);
    progress(`traces: ${traces.map((x) => `${x.mode} ${x.usPerSample.toFixed(2)} us/sample, ${(x.maxRss / 2 ** 20).toFixed(0)} MB`).join(", ")}`);
    return { rows, mmc, solver, placement, workload, vms, traces, containers, peers: { cpp: cpp ? "g++ -O2 std::priority_queue" : null, simpy: python ? `simpy (${python})` : null } };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A whole-model benchmark's JSON lines as rows: each turtles line beside the SimGrid line of its scenario, if any. */
function pairedRows(lines: Record<string, number | string | boolean>[]): WorkloadRow[] {
  return lines
    .filter((l) => l.model === "turtles")
    .map((t) => {
      const peer = lines.find((l) => l.model === "simgrid" && l.scenario === t.scenario);
      return {
        scenario: t.scenario as string,
        turtlesUs: t.usPerRequest as number,
        simgridUs: peer ? (peer.usPerRequest as number) : null,
        simgridTimedOut: peer?.timedOut === true,
        throughput: t.throughput as number,
        expectedThroughput: t.expectedThroughput as number,
        maxRssMB: (t.maxRss as number) / 2 ** 20,
        simgridRssMB: peer ? (peer.maxRss as number) / 2 ** 20 : null,
        eventsPerRequest: (t.eventsPerRequest as number | undefined) ?? null,
        serviceRequestsPerRequest: (t.serviceRequestsPerRequest as number | undefined) ?? null,
      };
    });
}

/** Whole-model rows as a table: turtles beside SimGrid, throughput beside the fluid model's, peak RSS. */
function workloadTable(rows: readonly WorkloadRow[]): string {
  return formatTable(
    ["scenario", "turtles us", "simgrid us", "simgrid/turtles", "req/s", "fluid req/s", "RSS MB", "simgrid RSS MB"],
    rows.map((w) => [
      w.scenario,
      w.turtlesUs.toFixed(2),
      `${w.simgridTimedOut ? ">" : ""}${fmt(w.simgridUs, 2)}`,
      w.simgridUs === null ? "-" : `${w.simgridTimedOut ? ">" : ""}${(w.simgridUs / w.turtlesUs).toFixed(1)}x`,
      w.throughput.toFixed(0),
      w.expectedThroughput.toFixed(0),
      w.maxRssMB.toFixed(0),
      fmt(w.simgridRssMB, 0),
    ]),
  );
}

const fmt = (x: number | null, digits = 0): string => (x === null ? "-" : x.toFixed(digits));
const ratio = (a: number, b: number | null): string => (b === null ? "-" : `${(a / b).toFixed(2)}x`);

/** The report as a plain-text table with the targets next to the ratios. */
export function formatBenchmarkReport(r: SuiteReport): string {
  const head = ["pending", "engine ns/ev", "heap ns/ev", "engine/heap", "phold-r ns/ev", "R/phold", "c++ ns/ev", "engine/c++", "simpy ns/ev", "simpy/engine", "B/pending", "RSS MB"];
  const body = r.rows.map((x) => [
    x.pending.toExponential(0).replace("+", ""),
    fmt(x.engineNs),
    fmt(x.baselineNs),
    ratio(x.engineNs, x.baselineNs),
    fmt(x.pholdRNs),
    ratio(x.pholdRNs, x.engineNs),
    fmt(x.cppNs),
    ratio(x.engineNs, x.cppNs),
    fmt(x.simpyNs),
    x.simpyNs === null ? "-" : `${(x.simpyNs / x.engineNs).toFixed(1)}x`,
    fmt(x.bytesPerPending, 1),
    fmt(x.maxRssMB, 0),
  ]);
  const m = r.mmc;
  return [
    `PHOLD (${r.rows[0].events} events per run; median of runs; each in its own process)`,
    formatTable(head, body),
    "targets: engine/heap <= 1.5x, R/phold <= 2x, simpy/engine >= 15x at 1e5, <= 100 B/pending, RSS < 200 MB at 1e6",
    verdict(kernelTargets(r)),
    `peers: heap = bare typed-array 4-ary heap (same process model); c++ = ${r.peers.cpp ?? "not run (no g++)"}; ` +
      `simpy = ${r.peers.simpy ?? "not run (apt-get install python3-simpy3)"}`,
    "",
    `M/M/${m.servers} at load ${m.load}: ${m.customers} customers, ${fmt(m.customersPerSecond)} customers/s; ` +
      `mean wait ${m.meanWait.toFixed(4)} s (99% CI +-${m.ci99HalfWidth.toFixed(4)}) vs Erlang C ${m.erlangCWait.toFixed(4)} s`,
    "",
    "CPU solver, wall time per demand change (random nested trees, 16-core hosts; one host recomputed per change):",
    ...r.solver.map((x) => `  ${String(x.hosts).padStart(6)} hosts (${x.nodes} nodes): ${x.nsPerChange.toFixed(0)} ns`),
    `  ${r.solver.at(-1)!.hosts} / ${r.solver[0].hosts} hosts: ${(r.solver.at(-1)!.nsPerChange / r.solver[0].nsPerChange).toFixed(2)}x`,
    "",
    "Placement, wall time per replica of a model build (4-core hosts filled by two services of one-core replicas):",
    ...[...new Set(r.placement.map((x) => x.policy))].map((policy) => {
      const rows = r.placement.filter((x) => x.policy === policy);
      const sizes = rows.map((x) => `${x.hosts} hosts ${x.usPerReplica.toFixed(2)} us`).join(", ");
      return `  ${policy}: ${sizes}; ${rows.at(-1)!.hosts} / ${rows[0].hosts} hosts: ${(rows.at(-1)!.usPerReplica / rows[0].usPerReplica).toFixed(2)}x`;
    }),
    "",
    "Whole model, wall time per completed request (closed-loop workers, cpu exp(100 ms), no think):",
    workloadTable(r.workload),
    (() => {
      const shop = r.workload.find((w) => w.scenario === "web-shop-1k");
      const cpu = r.workload.find((w) => w.scenario === "many-hosts");
      if (!shop || !cpu) return "";
      const lines = [`web-shop-1k (1,000 hosts, 10,000 replicas, three tiers, calls, disks, NICs) per root request / many-hosts per request: ${(shop.turtlesUs / cpu.turtlesUs).toFixed(1)}x`];
      if (shop.eventsPerRequest && cpu.eventsPerRequest && shop.serviceRequestsPerRequest) {
        const perEvent = (w: WorkloadRow): number => w.turtlesUs / w.eventsPerRequest!;
        const perService = shop.turtlesUs / shop.serviceRequestsPerRequest;
        lines.push(
          `  per kernel event (${shop.eventsPerRequest.toFixed(1)} and ${cpu.eventsPerRequest.toFixed(1)} per request): ${perEvent(shop).toFixed(2)} vs ${perEvent(cpu).toFixed(2)} us, ${(perEvent(shop) / perEvent(cpu)).toFixed(2)}x; ` +
            `per service request (${shop.serviceRequestsPerRequest.toFixed(1)} per root request): ${perService.toFixed(2)} us, ${(perService / cpu.turtlesUs).toFixed(2)}x`,
        );
      }
      return lines.join("\n");
    })(),
    "targets: one-host <= 4 us, many-hosts <= 3 us and <= 150 MB, throughput within 1% of the fluid model, web-shop-1k <= 3x many-hosts" +
      (r.workload.some((w) => w.simgridUs !== null) ? "" : "; simgrid not run (apt-get install libsimgrid-dev)"),
    verdict(workloadTargets(r)),
    "",
    "VMs on the CPU, wall time per completed request (2 or 4 closed-loop workers per VM, cpu exp(100 ms); vms-100k: think exp(10 s), 10 simulated minutes):",
    workloadTable(r.vms),
    "targets: vms-one-host <= 6 us, vms-1k-hosts <= 4 us, vms-10k-hosts <= 4 us, vms-100k <= 4 GB peak RSS (SimGrid measured 22 us, 137 us and 4.5 ms per task on the issue's machine)" +
      (r.vms.some((w) => w.simgridUs !== null) ? "" : "; simgrid not run (apt-get install libsimgrid-dev)"),
    verdict(vmTargets(r)),
    "",
    `Traces: the 1,052 PlanetLab VMs of 2011-03-03 streamed for ${r.traces[0]?.samples === 302976 ? "a simulated day" : "a tenth of a simulated day (--quick)"}; per trace sample, wall and CPU time:`,
    formatTable(
      ["", "vms", "samples", "us/sample", "cpu us/sample", "peak RSS MB"],
      r.traces.map((x) => [x.mode === "read" ? "read (adapter alone)" : "replay (whole model)", String(x.vms), String(x.samples), x.usPerSample.toFixed(2), x.cpuUsPerSample.toFixed(2), (x.maxRss / 2 ** 20).toFixed(0)]),
    ),
    "targets: replay <= 2 us per trace sample, peak RSS < 300 MB",
    verdict(traceTargets(r)),
    containersLine(r.containers),
  ].join("\n");
}

type Target = [name: string, value: string, met: boolean];

/** Each kernel target of this run, with the figure it is judged on. */
function kernelTargets(r: SuiteReport): Target[] {
  const t: Target[] = [];
  for (const x of r.rows) {
    const size = x.pending.toExponential(0).replace("+", "");
    if (x.baselineNs !== null) t.push([`engine/heap at ${size}`, `${(x.engineNs / x.baselineNs).toFixed(2)}x`, x.engineNs / x.baselineNs <= 1.5]);
    t.push([`R/phold at ${size}`, `${(x.pholdRNs / x.engineNs).toFixed(2)}x`, x.pholdRNs / x.engineNs <= 2]);
    t.push([`B/pending at ${size}`, x.bytesPerPending.toFixed(1), x.bytesPerPending <= 100]);
  }
  const big = r.rows.find((x) => x.pending === 1e5);
  if (big?.simpyNs != null) t.push(["simpy/engine at 1e5", `${(big.simpyNs / big.engineNs).toFixed(1)}x`, big.simpyNs / big.engineNs >= 15]);
  const million = r.rows.find((x) => x.pending === 1e6);
  if (million) t.push(["RSS at 1e6", `${million.maxRssMB.toFixed(0)} MB`, million.maxRssMB < 200]);
  return t;
}

/** Each whole-model target of this run. */
function workloadTargets(r: SuiteReport): Target[] {
  const t: Target[] = [];
  const find = (name: string): WorkloadRow | undefined => r.workload.find((w) => w.scenario === name);
  const one = find("one-host");
  const many = find("many-hosts");
  const shop = find("web-shop-1k");
  if (one) t.push(["one-host", `${one.turtlesUs.toFixed(2)} us`, one.turtlesUs <= 4]);
  if (many) t.push(["many-hosts", `${many.turtlesUs.toFixed(2)} us, ${many.maxRssMB.toFixed(0)} MB`, many.turtlesUs <= 3 && many.maxRssMB <= 150]);
  for (const w of [one, many]) {
    if (w) t.push([`${w.scenario} throughput`, `${(100 * (w.throughput / w.expectedThroughput - 1)).toFixed(2)}%`, Math.abs(w.throughput / w.expectedThroughput - 1) <= 0.01]);
  }
  if (shop && many) t.push(["web-shop-1k / many-hosts", `${(shop.turtlesUs / many.turtlesUs).toFixed(1)}x`, shop.turtlesUs / many.turtlesUs <= 3]);
  return t;
}

/** Each VM target of this run (issue "VMs that behave like VMs"). */
function vmTargets(r: SuiteReport): Target[] {
  const t: Target[] = [];
  for (const [name, us] of [["vms-one-host", 6], ["vms-1k-hosts", 4], ["vms-10k-hosts", 4]] as const) {
    const w = r.vms.find((x) => x.scenario === name);
    if (w) t.push([name, `${w.turtlesUs.toFixed(2)} us`, w.turtlesUs <= us]);
  }
  const big = r.vms.find((x) => x.scenario === "vms-100k");
  if (big) t.push(["vms-100k", `${big.maxRssMB.toFixed(0)} MB`, big.maxRssMB <= 4096]);
  for (const w of r.vms) t.push([`${w.scenario} throughput`, `${(100 * (w.throughput / w.expectedThroughput - 1)).toFixed(2)}%`, Math.abs(w.throughput / w.expectedThroughput - 1) <= 0.01]);
  return t;
}

/** Each streaming target of this run (issue "Real workloads"), judged on the whole replay. */
function traceTargets(r: SuiteReport): Target[] {
  const replay = r.traces.find((x) => x.mode === "replay");
  if (!replay) return [];
  return [
    ["replay per sample", `${replay.usPerSample.toFixed(2)} us`, replay.usPerSample <= 2],
    ["replay peak RSS", `${(replay.maxRss / 2 ** 20).toFixed(0)} MB`, replay.maxRss < 300 * 2 ** 20],
  ];
}

/** The container benchmark's figures beside its targets, judged on the full case only (a tenth of it meets them trivially). */
function containersLine(c: ContainerBenchResult): string {
  const gb = (b: number): string => `${(b / 1e9).toFixed(2)} GB`;
  const total = c.buildSeconds + c.runSeconds;
  const head =
    `Containers: ${c.containers.toLocaleString("en")} bridged containers in ${c.vms.toLocaleString("en")} VMs on ${c.hosts.toLocaleString("en")} hosts, ` +
    `${c.expectedThroughput.toLocaleString("en")} requests/s open-loop (${c.throughput.toFixed(0)}/s served):\n` +
    `  build ${c.buildSeconds.toFixed(1)} s, run ${c.runSeconds.toFixed(1)} s, ${(c.eventsPerSecond / 1e6).toFixed(2)} M events/s (${c.events.toLocaleString("en")} events), peak RSS ${gb(c.maxRss)}`;
  const targets = `targets: build and run < ${c.targets.seconds / 60} min, peak RSS < ${gb(c.targets.rss)} (the full case)`;
  if (c.scenario !== "containers-1m") return `${head}\n${targets}\n  not judged: --quick runs a tenth of the case`;
  return `${head}\n${targets}\n${verdict([
    ["containers-1m time", `${(total / 60).toFixed(1)} min`, total < c.targets.seconds],
    ["containers-1m RSS", gb(c.maxRss), c.maxRss < c.targets.rss],
  ])}`;
}

/** "met: a (1.2x), b; NOT met: c (5.0x)", from this run's figures. */
function verdict(targets: readonly Target[]): string {
  const list = (met: boolean): string => targets.filter((x) => x[2] === met).map(([name, value]) => `${name} (${value})`).join(", ") || "none";
  return `  met: ${list(true)}\n  NOT met: ${list(false)}`;
}
