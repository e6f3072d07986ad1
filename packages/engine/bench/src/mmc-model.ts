/**
 * An M/M/c queue on the kernel's handlers and integer payloads: Poisson
 * arrivals, `servers` identical exponential servers, FIFO. It measures the
 * mean wait in queue, the quantity Erlang C predicts. Used by the M/M/c
 * benchmark and by the kernel's validation tests.
 */
import { Simulation } from "../../dist/kernel/simulation.js";
import { BatchMeans, type Interval } from "../../dist/stats/confidence.js";
import { mmcMeanWait } from "../../dist/stats/queueing.js";
import { RunningStats } from "../../dist/stats/summary.js";

export interface MmcOptions {
  servers: number;
  /** Utilisation lambda / (c mu), below 1. */
  load: number;
  /** Customers whose wait is measured (after the warm-up ones). */
  customers: number;
  /** Customers served before measuring starts. Default 1% of `customers`. */
  warmup?: number;
  seed: number;
  /** Service rate mu. Default 1. */
  mu?: number;
}

export interface MmcResult {
  customers: number;
  meanWait: number;
  /** Erlang C's mean wait for the same queue. */
  expectedWait: number;
  /** 99% batch-means interval of the mean wait. */
  ci99: Interval;
  simTime: number;
  events: number;
  /** Wall time of the event loop. */
  seconds: number;
}

export function runMmc(o: MmcOptions): MmcResult {
  const mu = o.mu ?? 1;
  const lambda = o.load * o.servers * mu;
  const warmup = o.warmup ?? Math.floor(o.customers / 100);
  const total = warmup + o.customers;
  const sim = new Simulation({ seed: o.seed });
  const arrivals = sim.random("arrivals");
  const services = sim.random("services");
  // FIFO of arrival times, a ring buffer that doubles when full.
  let waiting = new Float64Array(1024);
  let head = 0;
  let length = 0;
  let busy = 0;
  let started = 0;
  let arrived = 0;
  const stats = new RunningStats();
  const batches = new BatchMeans(32);
  const startService = (arrivedAt: number): void => {
    if (++started > warmup) {
      const w = sim.now - arrivedAt;
      stats.push(w);
      batches.push(w);
    }
    sim.schedule(departure, services.exp(1 / mu));
  };
  const arrival = sim.on("mmc.arrival", () => {
    if (++arrived < total) sim.schedule(arrival, arrivals.exp(1 / lambda));
    if (busy < o.servers) {
      busy++;
      startService(sim.now);
      return;
    }
    if (length === waiting.length) {
      const grown = new Float64Array(waiting.length * 2);
      for (let i = 0; i < length; i++) grown[i] = waiting[(head + i) % waiting.length];
      waiting = grown;
      head = 0;
    }
    waiting[(head + length++) % waiting.length] = sim.now;
  });
  const departure = sim.on("mmc.departure", () => {
    if (length > 0) {
      const t = waiting[head];
      head = (head + 1) % waiting.length;
      length--;
      startService(t);
    } else {
      busy--;
    }
  });
  sim.schedule(arrival, arrivals.exp(1 / lambda));
  const t0 = process.hrtime.bigint();
  const r = sim.run();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return {
    customers: stats.count,
    meanWait: stats.mean,
    expectedWait: mmcMeanWait(lambda, mu, o.servers),
    ci99: batches.interval(0.99),
    simTime: sim.now,
    events: r.events,
    seconds,
  };
}
