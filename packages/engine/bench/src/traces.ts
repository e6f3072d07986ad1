/**
 * `node bench/dist/traces.js [--quick]`: streaming a trace (issue "Real
 * workloads"). All 1,052 PlanetLab files of 2011-03-03 for a simulated day
 * (`--quick`: its first 2.4 hours), each in its own process (its own peak
 * RSS), one JSON line each:
 * - read: the PlanetLab adapter's cursors alone, advanced sample by sample
 *   across all VMs in time order, as the replay reads them: wall time per
 *   sample, peak RSS;
 * - replay: the whole model, the 1,052 VMs as a trace tenant on 132 8-core
 *   hosts (model build excluded): wall time per replayed sample (reading,
 *   events and the CPU solver), peak RSS.
 * Targets: peak RSS < 300 MB, <= 2 us per trace sample.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { loadScenario } from "../../dist/scenario/load.js";
import { testHost } from "../../dist/testing/index.js";
import { TRACE_FORMATS, type UtilisationAdapter } from "../../dist/trace/index.js";
import { ReplicationRun } from "../../dist/workload/run.js";

/** The day the issue names, beside the repository (the shared data folder). */
export const PLANETLAB_DAY = fileURLToPath(new URL("../../../../data/traces/planetlab-cloudsim/20110303", import.meta.url));

export interface TraceBenchResult {
  mode: "read" | "replay";
  vms: number;
  samples: number;
  seconds: number;
  usPerSample: number;
  /** CPU time per sample (user and system): the figure a loaded machine does not inflate. */
  cpuUsPerSample: number;
  maxRss: number;
}

/** Reads every VM's samples up to `until` seconds, a sample of each VM in turn (the order a replay needs them). */
function benchRead(until: number): TraceBenchResult {
  const t = (TRACE_FORMATS.planetlab as UtilisationAdapter).open(PLANETLAB_DAY, {});
  const cursors = t.vms.map((_, i) => t.cursor(i));
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  let samples = 0;
  let sink = 0;
  const done = new Uint8Array(cursors.length);
  for (let live = cursors.length; live > 0; ) {
    live = 0;
    for (let i = 0; i < cursors.length; i++) {
      const c = cursors[i];
      if (done[i]) continue;
      if (!c.next() || c.time >= until) {
        done[i] = 1;
        continue;
      }
      samples++;
      sink += c.cpu;
      live++;
    }
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  if (!(sink > 0)) throw new Error("no utilisation was read");
  return { mode: "read", vms: cursors.length, samples, seconds, usPerSample: (seconds * 1e6) / samples, cpuUsPerSample: (cpu.user + cpu.system) / samples, maxRss: process.resourceUsage().maxRSS * 1024 };
}

/** Replays the day on the CPU of 132 8-core hosts (1,052 one-core VMs, first-fit). */
function benchReplay(until: number): TraceBenchResult {
  const plugins = [testHost];
  const text = `duration: ${until}s
hostTypes: { h: { cores: 8, memory: 64GiB } }
hosts: [{ type: h, count: 132 }]
tenants:
  - name: day
    trace: { format: planetlab, path: ${JSON.stringify(PLANETLAB_DAY)}, cores: 1 }
`;
  const run = new ReplicationRun(loadScenario(text, { plugins }), plugins, 0);
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  while (!run.advance(1_000_000));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const figures = run.result().stack.traces!.day;
  if (figures.kind !== "utilisation") throw new Error(`the PlanetLab day replayed as ${figures.kind}, not utilisation`);
  return { mode: "replay", vms: figures.vms, samples: figures.samples, seconds, usPerSample: (seconds * 1e6) / figures.samples, cpuUsPerSample: (cpu.user + cpu.system) / figures.samples, maxRss: process.resourceUsage().maxRSS * 1024 };
}

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const until = process.argv.includes("--quick") ? 8640 : 86400;
  const mode = process.argv.find((a) => a === "read" || a === "replay");
  if (mode) {
    process.stdout.write(`${JSON.stringify(mode === "read" ? benchRead(until) : benchReplay(until))}\n`);
  } else {
    for (const m of ["read", "replay"]) {
      const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), m, ...process.argv.slice(2)], { encoding: "utf8", maxBuffer: 1 << 20 });
      if (child.status !== 0) throw new Error(child.stderr);
      process.stdout.write(child.stdout);
    }
  }
}
