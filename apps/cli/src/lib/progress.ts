import type { RunProgress } from "@turtles/engine";

/**
 * Progress on stderr, from the progress of every replication (in this process
 * or on workers): one rewritten line on a terminal, a plain line every 5 s
 * otherwise. Of a resumed run, replications already done count as done, and
 * the events those in progress had restored do not count in the rate.
 * `out` is stderr; tests give their own writer and clock.
 */
export function progressPrinter(
  replications: number,
  saved: { done?: readonly number[]; running?: readonly number[] } = {},
  out: { write: (text: string) => void; isTTY?: boolean; now?: () => number } = process.stderr,
): { update: (p: RunProgress) => void; done: () => void } {
  const tty = out.isTTY === true;
  const clock = out.now ?? Date.now;
  const fraction = new Float64Array(replications);
  const events = new Float64Array(replications);
  // Events each replication counts from: 0, or for a resumed one those it had at its first report (restored).
  const startEvents = new Float64Array(replications);
  for (const r of saved.running ?? []) startEvents[r] = NaN;
  for (const r of saved.done ?? []) fraction[r] = 1;
  let lastPrint = -Infinity;
  let lastEvents = 0;
  let rate = NaN; // unknown until a second report
  let shown = false;
  // The ETA extrapolates progress since the first report, so the build (before any progress) does not count.
  let first: { at: number; share: number } | undefined;
  return {
    update(p) {
      fraction[p.replication] = p.simTime / p.end;
      const r = p.replication;
      if (Number.isNaN(startEvents[r])) startEvents[r] = p.events;
      // A replication run again (its worker died) starts from zero.
      if (p.events < startEvents[r] + events[r]) startEvents[r] = 0;
      events[r] = p.events - startEvents[r];
      const now = clock();
      const share = fraction.reduce((a, b) => a + b, 0) / replications;
      first ??= { at: now, share };
      if (now - lastPrint < (tty ? 200 : 5000)) return;
      // Wall clock of this process: replications on different workers report their own wall times.
      const all = events.reduce((a, b) => a + b, 0);
      // (A replication run again makes the sum drop: the rate waits for the next line.)
      if (lastPrint > -Infinity && now > lastPrint && all >= lastEvents) rate = (all - lastEvents) / ((now - lastPrint) / 1000);
      lastPrint = now;
      lastEvents = all;
      const finished = fraction.filter((f) => f >= 1).length;
      const running = [...fraction.keys()].filter((r) => fraction[r] > 0 && fraction[r] < 1).map((r) => r + 1);
      const elapsed = (now - first.at) / 1000;
      const eta = elapsed >= 1 && share > first.share ? (elapsed / (share - first.share)) * (1 - share) : NaN;
      const line =
        `replications ${finished}/${replications} done${running.length > 0 ? `, running ${running.join(", ")}` : ""}  ` +
        `${Number.isFinite(rate) ? `${(rate / 1e6).toFixed(2)}M` : "-"} events/s  ${(100 * share).toFixed(0)}%  ETA ${Number.isFinite(eta) ? `${eta.toFixed(0)} s` : "-"}`;
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
 * Progress of many jobs on one pool (a sweep's points, a comparison's stacks) as one line: their replications
 * numbered in job order. `jobs` gives each job's replications and, for a resumed one, those done and in progress.
 */
export function jobsProgress(
  jobs: readonly { replications: number; done?: readonly number[]; running?: readonly number[] }[],
  out?: Parameters<typeof progressPrinter>[2],
): { update: (p: RunProgress) => void; done: () => void } {
  const offsets: number[] = [];
  let total = 0;
  for (const j of jobs) {
    offsets.push(total);
    total += j.replications;
  }
  const shift = (k: number, list: readonly number[] | undefined): number[] => (list ?? []).map((r) => offsets[k] + r);
  const printer = progressPrinter(total, { done: jobs.flatMap((j, k) => shift(k, j.done)), running: jobs.flatMap((j, k) => shift(k, j.running)) }, out);
  return { update: (p) => printer.update({ ...p, replication: offsets[p.job ?? 0] + p.replication }), done: printer.done };
}
