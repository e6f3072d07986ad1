/** `pnpm bench [--quick] [--json]`: the kernel benchmark suite as a table (or JSON). */
import { formatBenchmarkReport, runBenchmarkSuite } from "./suite.js";

const quick = process.argv.includes("--quick");
const json = process.argv.includes("--json");
const report = runBenchmarkSuite({ quick, onProgress: (line) => process.stderr.write(`${line}\n`) });
process.stdout.write(json ? `${JSON.stringify(report)}\n` : `${formatBenchmarkReport(report)}\n`);
