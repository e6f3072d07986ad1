/**
 * PHOLD (Fujimoto, 1990), the standard synthetic load for event queues: `lps`
 * logical processes each start with `per` events; every event schedules one
 * new event at now + 0.1 + exp(mean 0.9) for a uniformly random LP, so the
 * number of pending events stays lps * per. PHOLD-R also reschedules one
 * random pending event per event, the access pattern of a fluid model whose
 * rates change.
 */
import { parseArgs } from "node:util";
import { Simulation } from "../../dist/kernel/simulation.js";
import { Random } from "../../dist/random/random.js";
import { BaselineHeap } from "./baseline-heap.js";

export interface PholdOptions {
  lps: number;
  per: number;
  events: number;
  seed: number;
}

export interface PholdResult {
  model: string;
  pending: number;
  events: number;
  /** Wall time of the event loop only. */
  seconds: number;
  eventsPerSecond: number;
  nsPerEvent: number;
  /** Simulated time reached. */
  simTime: number;
  queueBytes: number;
  bytesPerPending: number;
  /** Peak resident set of the process, bytes. */
  maxRss: number;
}

const MIN_DELAY = 0.1;
const MEAN_EXTRA = 0.9;

function finish(model: string, o: PholdOptions, seconds: number, events: number, simTime: number, queueBytes: number): PholdResult {
  const pending = o.lps * o.per;
  return {
    model,
    pending,
    events,
    seconds,
    eventsPerSecond: events / seconds,
    nsPerEvent: (seconds * 1e9) / events,
    simTime,
    queueBytes,
    bytesPerPending: queueBytes / pending,
    maxRss: process.resourceUsage().maxRSS * 1024,
  };
}

function elapsed(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** PHOLD on the engine's `Simulation` (public API only). */
export function pholdEngine(o: PholdOptions): PholdResult {
  const sim = new Simulation({ seed: o.seed });
  const rng = sim.random("phold");
  const lps = o.lps;
  const hop = sim.on("phold.hop", () => {
    sim.schedule(hop, MIN_DELAY + rng.exp(MEAN_EXTRA), rng.below(lps));
  });
  for (let lp = 0; lp < lps; lp++) {
    for (let m = 0; m < o.per; m++) sim.schedule(hop, MIN_DELAY + rng.exp(MEAN_EXTRA), lp);
  }
  const t0 = process.hrtime.bigint();
  const r = sim.run({ maxEvents: o.events });
  return finish("engine", o, elapsed(t0), r.events, sim.now, sim.queueBytes);
}

/** PHOLD-R on the engine: every event also reschedules another random pending event. */
export function pholdREngine(o: PholdOptions): PholdResult {
  const sim = new Simulation({ seed: o.seed });
  const rng = sim.random("phold");
  const lps = o.lps;
  const n = o.lps * o.per;
  if (n < 2) throw new RangeError("PHOLD-R needs at least 2 pending events");
  // Token k is one of the n circulating events; its handle is kept so any other event can move it.
  const handles = new Float64Array(n);
  const target = new Int32Array(n);
  const hop = sim.on("phold.hop", (k) => {
    target[k] = rng.below(lps);
    handles[k] = sim.schedule(hop, MIN_DELAY + rng.exp(MEAN_EXTRA), k);
    let j = rng.below(n - 1);
    if (j >= k) j++;
    sim.reschedule(handles[j], MIN_DELAY + rng.exp(MEAN_EXTRA));
  });
  for (let k = 0; k < n; k++) {
    target[k] = k % lps;
    handles[k] = sim.schedule(hop, MIN_DELAY + rng.exp(MEAN_EXTRA), k);
  }
  const t0 = process.hrtime.bigint();
  const r = sim.run({ maxEvents: o.events });
  return finish("engine phold-r", o, elapsed(t0), r.events, sim.now, sim.queueBytes);
}

/** PHOLD on the bare baseline heap, with the same random numbers as `pholdEngine`. */
export function pholdBaseline(o: PholdOptions): PholdResult {
  const heap = new BaselineHeap();
  const rng = Random.fromKey(o.seed, "phold");
  const lps = o.lps;
  for (let lp = 0; lp < lps; lp++) {
    for (let m = 0; m < o.per; m++) heap.push(MIN_DELAY + rng.exp(MEAN_EXTRA), lp);
  }
  const t0 = process.hrtime.bigint();
  let now = 0;
  let events = 0;
  while (events < o.events && heap.pop()) {
    now = heap.poppedTime;
    events++;
    heap.push(now + MIN_DELAY + rng.exp(MEAN_EXTRA), rng.below(lps));
  }
  return finish("baseline heap", o, elapsed(t0), events, now, heap.byteLength);
}

/** Parses `--lps N --per M --events E --seed S` (defaults 1000, 1, 1e6, 1). */
export function parsePholdArgs(argv: string[]): PholdOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      lps: { type: "string", default: "1000" },
      per: { type: "string", default: "1" },
      events: { type: "string", default: "1000000" },
      seed: { type: "string", default: "1" },
    },
  });
  const num = (name: keyof typeof values): number => {
    const v = Number(values[name]);
    if (!Number.isInteger(v) || v < (name === "seed" ? 0 : 1)) {
      throw new RangeError(`--${name} must be a ${name === "seed" ? "non-negative" : "positive"} integer, got "${values[name]}"`);
    }
    return v;
  };
  return { lps: num("lps"), per: num("per"), events: num("events"), seed: num("seed") };
}

/** Runs `fn` on the command-line options and prints its result as one JSON line; exits 2 on bad arguments. */
export function pholdMain(fn: (o: PholdOptions) => PholdResult): void {
  let options: PholdOptions;
  try {
    options = parsePholdArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  process.stdout.write(`${JSON.stringify(fn(options))}\n`);
}
