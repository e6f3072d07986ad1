// Adds up the vitest JSON reports of every package and prints the closing line
// "N passed, N failed". Exits 1 when a test failed, a suite failed to load, or
// no test ran at all.
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { join } from "node:path";

let passed = 0;
let failed = 0;
let suitesFailed = 0;
const reports = [];
for (const group of ["packages", "apps", "examples"]) {
  for (const pkg of readdirSync(group)) {
    const dir = join(group, pkg, "test-results");
    if (!existsSync(dir)) continue;
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".json"))) {
      const r = JSON.parse(readFileSync(join(dir, file), "utf8"));
      passed += r.numPassedTests ?? 0;
      failed += r.numFailedTests ?? 0;
      suitesFailed += (r.testResults ?? []).filter((s) => s.status === "failed" && (s.assertionResults ?? []).length === 0).length;
      reports.push(`${group}/${pkg}: ${r.numPassedTests} passed, ${r.numFailedTests} failed${r.note ? ` (${r.note})` : ""}`);
    }
  }
}
for (const line of reports) console.log(line);
if (suitesFailed > 0) console.log(`${suitesFailed} test file(s) failed to load`);
if (passed + failed === 0) console.log("no test ran");
console.log(`${passed} passed, ${failed + suitesFailed} failed`);
process.exit(failed + suitesFailed > 0 || passed === 0 ? 1 : 0);
