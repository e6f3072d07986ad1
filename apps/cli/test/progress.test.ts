import type { RunProgress } from "@turtles/engine";
import { describe, expect, it } from "vitest";
import { countProgress, jobsProgress, progressPrinter } from "../src/lib/progress.js";

/** A printer on a fake terminal and clock; `at(ms, simTime, events)` reports replication 0 of a 10 s run. */
function printer(replications = 1, resumed: number[] = []): { lines: string[]; at: (ms: number, simTime: number, events: number, replication?: number) => void } {
  const lines: string[] = [];
  let clock = 0;
  const p = progressPrinter(replications, { running: resumed }, { write: (t) => lines.push(t), now: () => clock });
  return {
    lines,
    at(ms, simTime, events, replication = 0) {
      clock = ms;
      const progress: RunProgress = { replication, replications, simTime, end: 10, events, wallSeconds: ms / 1000, completed: {} };
      p.update(progress);
    },
  };
}

describe("progress line", () => {
  it("estimates the time left from progress since the first report, not counting the build before it", () => {
    const p = printer();
    p.at(30_000, 0.1, 1e5); // a 30 s build, then 1% done
    p.at(40_000, 1.1, 1.1e6); // 10% more in 10 s: 89% left takes 89 s
    expect(p.lines[0]).toMatch(/  - events\/s  1%  ETA -/); // no rate yet
    expect(p.lines[1]).toMatch(/^replications 0\/1 done, running 1  0\.10M events\/s  11%  ETA 89 s\n$/);
  });

  it("counts a resumed replication's events from its first report, not the ones it restored", () => {
    const p = printer(2, [1]);
    p.at(1_000, 1, 1e6, 0);
    p.at(6_000, 2, 2e6, 0); // 1e6 in 5 s
    p.at(6_500, 5, 9e6, 1); // replication 1 resumed with 9e6 events done before
    p.at(11_000, 3, 3e6, 0); // 1e6 more in 5 s; replication 1 none since its first report
    expect(p.lines.at(-1)).toMatch(/ 0\.20M events\/s /);
  });

  it("never shows a negative rate when a replication runs again from zero", () => {
    const p = printer();
    for (const [ms, events] of [[0, 1e6], [5_000, 3e6], [10_000, 0.2e6], [15_000, 2.2e6]]) p.at(ms, 1, events);
    expect(p.lines.map((l) => l.match(/(\S+) events\/s/)![1])).toEqual(["-", "0.40M", "0.40M", "0.40M"]);
  });

  it("measures the event rate on its own clock across replications on several workers", () => {
    const p = printer(2);
    p.at(1_000, 1, 1e6, 0);
    p.at(2_000, 1, 1e6, 1);
    p.at(6_000, 2, 2e6, 0); // 2e6 more events (1e6 from each replication) in 5 s since the last line
    expect(p.lines.at(-1)).toMatch(/0\.40M events\/s  15%/);
  });

  it("numbers the replications of many jobs (a sweep's points) in job order, a resumed job's done ones counted", () => {
    const lines: string[] = [];
    let clock = 0;
    const p = jobsProgress([{ replications: 2 }, { replications: 3, done: [0] }], { write: (t) => lines.push(t), now: () => clock });
    const report = (ms: number, job: number, replication: number, simTime: number): void => {
      clock = ms;
      p.update({ job, replication, replications: 0, simTime, end: 10, events: 0, wallSeconds: 0, completed: {} });
    };
    report(0, 1, 2, 5); // job 1's third replication: replication 5 of 5
    report(6_000, 0, 1, 10); // job 0's second, done
    expect(lines.at(-1)).toMatch(/^replications 2\/5 done, running 5 /);
  });

  it("shows a queue's replications by state: the jobs running, those failed, and an ETA from the completion rate", () => {
    const lines: string[] = [];
    let clock = 0;
    const p = jobsProgress([{ replications: 10 }, { replications: 10 }], { write: (t) => lines.push(t), now: () => clock });
    p.mark(0, 0, "running"); // at 0 s: nothing done yet
    clock = 10_000;
    for (let r = 0; r < 4; r++) p.mark(0, r, "done"); // 4 of 20 in 10 s: 16 left take 40 s
    p.mark(1, 3, "failed");
    p.mark(1, 0, "running");
    p.mark(1, 1, "running");
    p.mark(1, 1, "waiting"); // its worker died: back in the queue
    clock = 15_000;
    p.mark(1, 2, "running");
    // 5 of 20 ended in 15 s: 15 left take 45 s. No events from a queue's workers: no rate shown.
    expect(lines.at(-1)).toBe("replications 5/20 done (1 failed), running 11, 13  25%  ETA 45 s\n");
    for (let r = 4; r < 10; r++) p.mark(0, r, "running");
    for (let r = 4; r < 9; r++) p.mark(1, r, "running");
    clock = 20_000;
    p.mark(1, 9, "running");
    expect(lines.at(-1)).toMatch(/^replications 5\/20 done \(1 failed\), 14 running  25%/); // too many to list
  });

  it("counts steps of quick work silently, and of slow work (preparing a big sweep) every 5 s, or every 200 ms in place on a terminal", () => {
    let clock = 0;
    const lines: string[] = [];
    const p = countProgress("preparing points:", 10_000, { write: (t) => lines.push(t), now: () => clock });
    for (let i = 0; i < 900; i++, clock++) p.update(i); // the first 0.9 s: nothing
    expect(lines).toEqual([]);
    for (let i = 900; i < 7_000; i++, clock++) p.update(i);
    expect(lines).toEqual(["preparing points: 1,000/10,000\n", "preparing points: 6,000/10,000\n"]);
    const tty: string[] = [];
    clock = 0;
    const t = countProgress("preparing points:", 10, { write: (x) => tty.push(x), now: () => clock, isTTY: true });
    for (let i = 0; i < 10; i++, clock += 150) t.update(i);
    t.done();
    expect(tty).toEqual(["\rpreparing points: 7/10\u001b[K", "\rpreparing points: 9/10\u001b[K", "\r\u001b[K"]);
  });
});
