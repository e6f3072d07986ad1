/** `node bench/dist/mmc.js [--customers N] [--servers c] [--load rho] [--seed S]`: M/M/c against Erlang C, one JSON line. */
import { parseArgs } from "node:util";
import { runMmc } from "./mmc-model.js";

const { values } = parseArgs({
  options: {
    customers: { type: "string", default: "1000000" },
    servers: { type: "string", default: "16" },
    load: { type: "string", default: "0.9" },
    seed: { type: "string", default: "1" },
  },
});
const customers = Number(values.customers);
const servers = Number(values.servers);
const load = Number(values.load);
const seed = Number(values.seed);
if (!(Number.isInteger(customers) && customers > 0 && Number.isInteger(servers) && servers > 0 && load > 0 && load < 1)) {
  process.stderr.write("--customers and --servers must be positive integers and --load in (0, 1)\n");
  process.exit(2);
}
const r = runMmc({ customers, servers, load, seed });
process.stdout.write(
  `${JSON.stringify({
    model: "M/M/c",
    servers,
    load,
    customers: r.customers,
    seconds: r.seconds,
    customersPerSecond: r.customers / r.seconds,
    meanWait: r.meanWait,
    erlangCWait: r.expectedWait,
    ci99HalfWidth: r.ci99.halfWidth,
    relativeError: (r.meanWait - r.expectedWait) / r.expectedWait,
  })}\n`,
);
