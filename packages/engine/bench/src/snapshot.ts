/**
 * What a snapshot of a large model costs: the web shop at 1,000 hosts and
 * 10,000 replicas, saved after 3 simulated seconds. Prints the snapshot's size,
 * the time to save it and to continue from it, beside the time to build the
 * same model afresh and to simulate the next simulated second (the peers).
 *
 *   node bench/dist/snapshot.js
 */
import { ReplicationRun } from "../../dist/workload/run.js";
import { buildWebShop } from "./webshop.js";

const time = <T>(f: () => T): [T, number] => {
  const t0 = performance.now();
  const out = f();
  return [out, (performance.now() - t0) / 1000];
};

const s = buildWebShop();
const { plugins } = s;
const [run, build] = time(() => new ReplicationRun(s, plugins, 0));
while (run.simTime < 3) run.advance(100_000);
const events = run.events;
const [state, save] = time(() => run.snapshot());
const [resumed, restore] = time(() => ReplicationRun.resume(s, plugins, 0, state));
const [, second] = time(() => {
  while (resumed.simTime < 4) resumed.advance(100_000);
});
console.log(`web shop, 1,000 hosts, 10,000 replicas, saved at t = ${run.simTime.toFixed(2)} s after ${events.toLocaleString()} events`);
console.log(`  snapshot                  ${(state.byteLength / 2 ** 20).toFixed(1)} MiB`);
console.log(`  save                      ${save.toFixed(2)} s`);
console.log(`  continue (build + restore) ${restore.toFixed(2)} s`);
console.log(`  peer: build afresh         ${build.toFixed(2)} s  (restore alone ~ ${(restore - build).toFixed(2)} s)`);
console.log(`  peer: simulate 1 s more    ${second.toFixed(2)} s`);
