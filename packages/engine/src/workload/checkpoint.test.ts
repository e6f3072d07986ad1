import { describe, expect, it } from "vitest";
import { encodeSnapshot } from "../kernel/codec.js";
import { Random } from "../random/random.js";
import { loadScenario } from "../scenario/load.js";
import { savedRunOf, testHost } from "../testing/index.js";
import {
  decodeRunSnapshot,
  decodeSweepSnapshot,
  encodeRunSnapshot,
  encodeSweepSnapshot,
  RUN_SNAPSHOT_FORMAT,
  type RunSnapshot,
} from "./checkpoint.js";
import { applyOverrides, ReplicationRun, runScenario, type ReplicationResult } from "./run.js";

const plugins = [testHost];
/** Damaged copies the fuzz test tries (as the scenario fuzz suite, TURTLES_FUZZ_RUNS asks for more). */
const CASES = Number(process.env.TURTLES_FUZZ_RUNS ?? 60);
const s = loadScenario(
  `duration: 10s
warmup: 1s
replications: 3
hostTypes: { h: { cores: 2, memory: 4GiB } }
hosts: [{ type: h, count: 2 }]
tenants:
  - name: t
    services:
      - { name: a, replicas: 2, load: { open: { rate: 200/s } }, request: [{ cpu: { exp: 5ms } }, { sleep: 1ms }] }
`,
  { plugins },
);

let saved: Promise<{ bytes: Uint8Array; straight: string }> | undefined;

/** A real saved run: replication 0 done, 1 in progress, 2 not started; and the results of the uninterrupted run (made once). */
function savedRun(): Promise<{ bytes: Uint8Array; straight: string }> {
  return (saved ??= makeSavedRun());
}

async function makeSavedRun(): Promise<{ bytes: Uint8Array; straight: string }> {
  const straight = JSON.stringify(await runScenario(s, plugins));
  return { bytes: encodeRunSnapshot(await savedRunOf(s, plugins, 1)), straight };
}

/** The snapshot edited by hand, written back with a checksum that matches (as a careful editor would). */
function edited(bytes: Uint8Array, edit: (snap: RunSnapshot) => void): Uint8Array {
  const snap = decodeRunSnapshot(bytes, "x.snap");
  edit(snap);
  return encodeRunSnapshot(snap);
}

/** Replication `r`'s result in a run of the scenario with root seed `seed`. */
function resultOf(seed: number, r: number): ReplicationResult {
  const run = new ReplicationRun(applyOverrides(s, { seed }), plugins, r);
  while (!run.advance(100_000));
  return run.result();
}

describe("saved runs are checked before they are used", () => {
  it("random truncations and single-bit flips of a real saved run give the 'damaged' error or the uninterrupted results, never a silent difference", { timeout: 60_000 + CASES * 100 }, async () => {
    const { bytes, straight } = await savedRun();
    expect(JSON.stringify(await runScenario(s, plugins, { resume: decodeRunSnapshot(bytes, "fuzz.snap") }))).toBe(straight);
    const random = Random.fromKey(2024, "saved-run-fuzz");
    let refused = 0;
    for (let i = 0; i < CASES; i++) {
      // A third cut short (a full disk, a copy stopped), the rest with one bit flipped anywhere.
      const cut = i % 3 === 0;
      const bad = bytes.slice(0, cut ? random.below(bytes.length) : bytes.length);
      if (!cut) bad[random.below(bad.length)] ^= 1 << random.below(8);
      let snap: RunSnapshot;
      try {
        snap = decodeRunSnapshot(bad, "fuzz.snap");
      } catch (err) {
        expect((err as Error).message, `case ${i}`).toMatch(/^fuzz\.snap: damaged or not a Turtles saved run \(.+\); run snapshots are written by 'turtles run --checkpoint FILE'/);
        refused++;
        continue;
      }
      expect(JSON.stringify(await runScenario(s, plugins, { resume: snap })), `case ${i}`).toBe(straight);
    }
    // A SHA-256 over the whole content sees every one of them.
    expect(refused).toBe(CASES);
  });

  it("refuses hand-edited replications: listed twice, beyond the scenario's, negative, both done and running, or of another seed", async () => {
    const { bytes } = await savedRun();
    const refused = (edit: (snap: RunSnapshot) => void): string => {
      try {
        decodeRunSnapshot(edited(bytes, edit), "x.snap");
      } catch (err) {
        return (err as Error).message;
      }
      throw new Error("accepted");
    };
    const damaged = (why: string): RegExp => new RegExp(`^x\\.snap: damaged or not a Turtles saved run \\(${why}\\)`);
    expect(refused((x) => x.done.push(x.done[0]))).toMatch(damaged("done lists replication 0 twice"));
    expect(refused((x) => x.done.push({ ...x.done[0], replication: 3 }))).toMatch(damaged("done lists replication 3, but its scenario has replications 0 to 2"));
    expect(refused((x) => (x.done[0].replication = -1))).toMatch(damaged("done lists replication -1, but its scenario has replications 0 to 2"));
    expect(refused((x) => (x.done[0].replication = 0.5))).toMatch(damaged("done lists replication 0.5, but its scenario has replications 0 to 2"));
    expect(refused((x) => x.running.push({ replication: 0, state: x.running[0].state }))).toMatch(damaged("replication 0 is both done and running"));
    const other = resultOf(2, 0);
    expect(refused((x) => (x.done[0] = other))).toMatch(damaged(`done replication 0 was computed with seed ${other.seed}, but the scenario's root seed 1 gives it seed \\d+`));
    expect(refused((x) => (x.scenario = JSON.stringify({ ...JSON.parse(x.scenario), seed: 2 })))).toMatch(damaged("done replication 0 was computed with seed \\d+, but the scenario's root seed 2 gives it seed \\d+"));
    expect(refused((x) => (x.running[0].state = 7 as unknown as Uint8Array))).toMatch(damaged("replication 1 in progress has no state"));
    expect(refused((x) => ((x.done[0].stack as unknown as Record<string, unknown>).services = [1]))).toMatch(damaged("done replication 0 does not hold results"));
    expect(refused((x) => ((x.done[0].stack.services["t/a"] as unknown as Record<string, unknown>).latency = new Float64Array(2)))).toMatch(
      damaged("done replication 0 holds values that are not results"),
    );
    expect(refused((x) => (x.pluginModules = ["\u001b[2Jevil.mjs"]))).toMatch(damaged("its plugin modules are not a list of names"));
    expect(refused((x) => (x.plugins = { "test-host": 1 as unknown as string }))).toMatch(damaged("its plugins are not names and versions"));
    expect(refused((x) => (x.scenario = "{"))).toMatch(damaged("its scenario is not JSON"));
    // The same in memory: an app that resumes from a snapshot it built itself.
    const doubled = decodeRunSnapshot(bytes, "x.snap");
    doubled.done.push(doubled.done[0]);
    await expect(runScenario(s, plugins, { resume: doubled })).rejects.toThrow(/^resume: not a saved run of this scenario: done lists replication 0 twice/);
    await expect(runScenario(s, plugins, { resume: decodeRunSnapshot(bytes, "x.snap"), replications: 1 })).rejects.toThrow(
      /^resume: not a saved run of this scenario: running lists replication 1, but its scenario has replications 0 to 0/,
    );
  });

  it("says what a file is when it is not a saved run of this format and engine", async () => {
    const { bytes } = await savedRun();
    expect(() => decodeRunSnapshot(new Uint8Array([1, 2, 3]), "x.snap")).toThrow(/^x\.snap: damaged or not a Turtles saved run \(it is not a turtles-snapshot\/2 file\)/);
    expect(() => decodeRunSnapshot(bytes.subarray(0, bytes.length - 50), "cut.snap")).toThrow(
      /^cut\.snap: damaged or not a Turtles saved run \(its checksum does not match its content: it was cut short or altered\)/,
    );
    const snap = decodeRunSnapshot(bytes, "x.snap");
    // Before checksums: its own format, read only to say so.
    const older = encodeSnapshot({ ...snap, format: "turtles-snapshot/1" });
    expect(() => decodeRunSnapshot(older, "old.snap")).toThrow(/^old\.snap: a run snapshot of an older Turtles \(format turtles-snapshot\/1, without a checksum\); this one reads turtles-snapshot\/2/);
    const otherEngine = encodeRunSnapshot({ ...snap, engine: "0.0.1" });
    expect(() => decodeRunSnapshot(otherEngine, "new.snap")).toThrow(/^new\.snap: saved by engine 0\.0\.1, but this is engine 0\.1\.0; continue it with engine 0\.0\.1, or run the scenario again/);
    // A sweep's checkpoint given to run, and the other way round.
    const sweep = encodeSweepSnapshot([{ point: { "services.a.replicas": "2" }, run: snap }]);
    expect(() => decodeRunSnapshot(sweep, "sweep.snap")).toThrow(/^sweep\.snap: damaged or not a Turtles saved run \(its format is "turtles-sweep\/2", not turtles-snapshot\/2\)/);
    expect(() => decodeSweepSnapshot(bytes, "run.snap")).toThrow(/^run\.snap: damaged or not a Turtles saved run \(its format is "turtles-snapshot\/2", not turtles-sweep\/2\)/);
    expect(RUN_SNAPSHOT_FORMAT).toBe("turtles-snapshot/2");
  });

  it("checks every point of a saved sweep, and refuses a point saved twice", async () => {
    const { bytes } = await savedRun();
    const run = decodeRunSnapshot(bytes, "x.snap");
    const point = { "services.a.replicas": "2" };
    expect(decodeSweepSnapshot(encodeSweepSnapshot([{ point, run }]), "s.snap").points[0].run.done).toHaveLength(1);
    expect(() => decodeSweepSnapshot(encodeSweepSnapshot([{ point, run }, { point, run }]), "s.snap")).toThrow(/^s\.snap: damaged or not a Turtles saved run \(point 2 is saved twice\)/);
    const late = { ...run, done: [{ ...run.done[0], replication: 7 }] };
    expect(() => decodeSweepSnapshot(encodeSweepSnapshot([{ point, run: late }]), "s.snap")).toThrow(
      /^s\.snap: damaged or not a Turtles saved run \(point 1: done lists replication 7, but its scenario has replications 0 to 2\); sweep snapshots are written by 'turtles sweep --checkpoint FILE': remove it/,
    );
  });
});
