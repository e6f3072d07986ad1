import type { RunProgress } from "@turtles/engine";

/** Where progress goes: stderr, or a test's writer and clock. */
export type ProgressOut = { write: (text: string) => void; isTTY?: boolean; now?: () => number };

/**
 * A status line on `out`: `due()` gives the time when a new one may show (every 200 ms on a terminal, where `show`
 * rewrites it in place; every 5 s elsewhere, as a plain line), else undefined; `done()` clears it from a terminal.
 */
function statusLine(out: ProgressOut): { due: () => number | undefined; show: (line: string) => void; done: () => void } {
  const tty = out.isTTY === true;
  const clock = out.now ?? Date.now;
  let lastPrint = -Infinity;
  let shown = false;
  return {
    due() {
      const now = clock();
      return now - lastPrint < (tty ? 200 : 5000) ? undefined : now;
    },
    show(line) {
      lastPrint = clock();
      if (tty) {
        out.write(`\r${line}\u001b[K`);
        shown = true;
      } else {
        out.write(`${line}\n`);
      }
    },
    done() {
      if (shown) out.write("\r\u001b[K");
      shown = false;
    },
  };
}

/**
 * Progress of `total` steps of some work (`label 12/100`), on stderr at the cadence of the other progress lines,
 * once the work has taken a second (quick work shows nothing).
 */
export function countProgress(label: string, total: number, out: ProgressOut = process.stderr): { update: (done: number) => void; done: () => void } {
  const status = statusLine(out);
  const clock = out.now ?? Date.now;
  const started = clock();
  return {
    update(done) {
      if (clock() - started >= 1000 && status.due() !== undefined) status.show(`${label} ${done.toLocaleString("en-US")}/${total.toLocaleString("en-US")}`);
    },
    done: status.done,
  };
}

/** Where a replication is when its progress comes from a queue (`--backend`), not from its simulated time. */
export type ReplicationMark = "running" | "waiting" | "done" | "failed";

/** A progress line fed by the replications' progress (`update`, in this process or on workers) or by their state (`mark`, a queue's). */
export interface ProgressPrinter {
  update: (p: RunProgress) => void;
  mark: (replication: number, state: ReplicationMark) => void;
  done: () => void;
}

/**
 * Progress on stderr, from the progress of every replication (in this process
 * or on workers) or, for replications run through a queue, from their state:
 * one rewritten line on a terminal, a plain line every 5 s otherwise. Of a
 * resumed run, replications already done count as done, and the events those
 * in progress had restored do not count in the rate. The ETA extrapolates the
 * share done since the first report (a queue's: its completion rate).
 * `out` is stderr; tests give their own writer and clock.
 */
export function progressPrinter(
  replications: number,
  saved: { done?: readonly number[]; running?: readonly number[] } = {},
  out: ProgressOut = process.stderr,
): ProgressPrinter {
  const status = statusLine(out);
  const clock = out.now ?? Date.now;
  const fraction = new Float64Array(replications);
  const events = new Float64Array(replications);
  // Replications a queue says are running (their fraction stays 0 until they end), and those failed.
  const marked = new Uint8Array(replications);
  let failed = 0;
  let counted = false; // whether any replication reported events (a queue's do not)
  // Events each replication counts from: 0, or for a resumed one those it had at its first report (restored).
  const startEvents = new Float64Array(replications);
  for (const r of saved.running ?? []) startEvents[r] = NaN;
  for (const r of saved.done ?? []) fraction[r] = 1;
  let lastPrint = -Infinity;
  let lastEvents = 0;
  let rate = NaN; // unknown until a second report
  // The ETA extrapolates progress since the first report, so the build (before any progress) does not count.
  let first: { at: number; share: number } | undefined;
  const draw = (): void => {
    const due = status.due();
    const share = fraction.reduce((a, b) => a + b, 0) / replications;
    const now = due ?? clock();
    first ??= { at: now, share };
    if (due === undefined) return;
    // Wall clock of this process: replications on different workers report their own wall times.
    const all = events.reduce((a, b) => a + b, 0);
    // (A replication run again makes the sum drop: the rate waits for the next line.)
    if (lastPrint > -Infinity && now > lastPrint && all >= lastEvents) rate = (all - lastEvents) / ((now - lastPrint) / 1000);
    lastPrint = now;
    lastEvents = all;
    const finished = fraction.filter((f) => f >= 1).length;
    const running = [...fraction.keys()].filter((r) => fraction[r] < 1 && (fraction[r] > 0 || marked[r] === 1)).map((r) => r + 1);
    const elapsed = (now - first.at) / 1000;
    const eta = elapsed >= 1 && share > first.share ? (elapsed / (share - first.share)) * (1 - share) : NaN;
    // Many running (a queue's workers): their number, not a list as long as the line.
    const shown = running.length > 10 ? `, ${running.length} running` : running.length > 0 ? `, running ${running.join(", ")}` : "";
    const line =
      `replications ${finished}/${replications} done${failed > 0 ? ` (${failed} failed)` : ""}${shown}  ` +
      `${counted ? `${Number.isFinite(rate) ? `${(rate / 1e6).toFixed(2)}M` : "-"} events/s  ` : ""}${(100 * share).toFixed(0)}%  ETA ${Number.isFinite(eta) ? `${eta.toFixed(0)} s` : "-"}`;
    status.show(line);
  };
  return {
    update(p) {
      counted = true;
      fraction[p.replication] = p.simTime / p.end;
      const r = p.replication;
      if (Number.isNaN(startEvents[r])) startEvents[r] = p.events;
      // A replication run again (its worker died) starts from zero.
      if (p.events < startEvents[r] + events[r]) startEvents[r] = 0;
      events[r] = p.events - startEvents[r];
      draw();
    },
    mark(r, state) {
      if (fraction[r] >= 1) return; // ended already (a late or repeated report)
      marked[r] = state === "running" ? 1 : 0;
      if (state === "done" || state === "failed") fraction[r] = 1;
      if (state === "failed") failed++;
      draw();
    },
    done: status.done,
  };
}

/**
 * Progress of many jobs on one pool (a sweep's points, a comparison's stacks) as one line: their replications
 * numbered in job order. `jobs` gives each job's replications and, for a resumed one, those done and in progress.
 */
export function jobsProgress(
  jobs: readonly { replications: number; done?: readonly number[]; running?: readonly number[] }[],
  out?: ProgressOut,
): { update: (p: RunProgress) => void; mark: (job: number, replication: number, state: ReplicationMark) => void; done: () => void } {
  const offsets: number[] = [];
  let total = 0;
  for (const j of jobs) {
    offsets.push(total);
    total += j.replications;
  }
  const shift = (k: number, list: readonly number[] | undefined): number[] => (list ?? []).map((r) => offsets[k] + r);
  const printer = progressPrinter(total, { done: jobs.flatMap((j, k) => shift(k, j.done)), running: jobs.flatMap((j, k) => shift(k, j.running)) }, out);
  return {
    update: (p) => printer.update({ ...p, replication: offsets[p.job ?? 0] + p.replication }),
    mark: (k, r, state) => printer.mark(offsets[k] + r, state),
    done: printer.done,
  };
}
