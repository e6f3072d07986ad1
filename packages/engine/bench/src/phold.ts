/** `node bench/dist/phold.js --lps N --per M --events E --seed S [--baseline]`: one JSON line. */
import { pholdBaseline, pholdEngine, pholdMain } from "./phold-model.js";

const baseline = process.argv.includes("--baseline");
if (baseline) process.argv.splice(process.argv.indexOf("--baseline"), 1);
pholdMain(baseline ? pholdBaseline : pholdEngine);
