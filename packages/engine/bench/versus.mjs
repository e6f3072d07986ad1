#!/usr/bin/env node
// `node packages/engine/bench/versus.mjs REF [--rounds N] [--quick] [--instructions]`: this build's kernel and
// whole-model benchmarks against those of git REF (a commit before a refactor), built in a temporary worktree, run
// alternately in one run so both see the same machine: PHOLD at 1e5 pending events (ns per event), the three-tier
// shop at 1,000 hosts and 10,000 hosts of one worker each, and the VM benchmarks on one host of 100 VMs and on 10,000
// hosts of one VM (us per completed request; the VM ones where REF has bench/vms.ts). Prints each run, then the
// medians, the best runs and the ratios (this build / REF's); a ratio under 1.05 is "within 5%".
// With --instructions (valgrind's callgrind, a few minutes): instructions per event and per request instead, from
// two runs of each at different lengths (the difference over the extra events or requests, so start-up cancels),
// with V8 in one thread: a count that does not depend on what else the machine does.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { rounds: { type: "string", default: "5" }, quick: { type: "boolean", default: false }, instructions: { type: "boolean", default: false } },
});
const ref = positionals[0];
if (!ref) {
  console.error("usage: node packages/engine/bench/versus.mjs REF [--rounds N] [--quick]   (REF: a git commit, e.g. HEAD~3)");
  process.exit(2);
}
const rounds = Number(values.rounds);
const root = execFileSync("git", ["rev-parse", "--show-toplevel"], { encoding: "utf8" }).trim();
const dir = mkdtempSync(join(tmpdir(), "turtles-versus-"));
const base = join(dir, "base");
const run = (cmd, args, cwd) => {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed:\n${r.stderr}`);
  return r.stdout;
};

try {
  process.stderr.write(`building ${ref} in ${base}\n`);
  run("git", ["worktree", "add", "--detach", base, ref], root);
  run("pnpm", ["install", "--frozen-lockfile", "--prefer-offline"], base);
  run("pnpm", ["--filter", "@turtles/engine", "run", "build"], base);
  // Benchmarks moved from dist/bench to bench/dist.
  const benchDir = (tree) => [join(tree, "packages/engine/bench/dist"), join(tree, "packages/engine/dist/bench")].find((d) => existsSync(join(d, "phold.js")));
  const builds = { [ref]: benchDir(base), this: benchDir(root) };
  if (values.instructions) instructions(builds);
  else wallTime(builds);
} finally {
  spawnSync("git", ["worktree", "remove", "--force", base], { cwd: root });
  rmSync(dir, { recursive: true, force: true });
}

/**
 * The VM benchmarks' figures (`measure(build, scenario, ...)`), named with `unit`, when every build has bench/vms.ts
 * (issue "VMs that behave like VMs"); none for an older REF.
 */
function vmFigures(builds, measure, unit) {
  if (!Object.values(builds).every((b) => existsSync(join(b, "vms.js")))) return {};
  return Object.fromEntries(["vms-one-host", "vms-10k-hosts"].map((name) => [`${name} ${unit}`, (b, ...rest) => measure(b, name, ...rest)]));
}

/** Wall time of each build's benchmarks, alternated round by round. */
function wallTime(builds) {
  const scale = values.quick ? ["--quick"] : [];
  const figures = {
    "phold 1e5 ns/event": (b) => JSON.parse(run(process.execPath, [join(b, "phold.js"), "--lps", "10000", "--per", "10", "--events", values.quick ? "500000" : "2000000", "--seed", "1"])).nsPerEvent,
    "web-shop-1k us/request": (b) => JSON.parse(run(process.execPath, [join(b, "workload.js"), "web-shop-1k", ...scale])).usPerRequest,
    "many-hosts us/request": (b) => JSON.parse(run(process.execPath, [join(b, "workload.js"), "many-hosts", ...scale])).usPerRequest,
    ...vmFigures(builds, (b, name) => JSON.parse(run(process.execPath, [join(b, "vms.js"), name, "--quick"])).usPerRequest, "us/request"),
  };
  const samples = Object.fromEntries(Object.keys(figures).map((f) => [f, Object.fromEntries(Object.keys(builds).map((k) => [k, []]))]));
  for (let i = 0; i < rounds; i++) {
    // Alternate which build goes first, so a drift of the machine favours neither.
    const order = i % 2 === 0 ? Object.keys(builds) : Object.keys(builds).reverse();
    for (const [name, measure] of Object.entries(figures)) {
      for (const k of order) {
        const x = measure(builds[k]);
        samples[name][k].push(x);
        process.stdout.write(`round ${i + 1} ${name} ${k}: ${x.toFixed(3)}\n`);
      }
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
  const best = (xs) => Math.min(...xs);
  process.stdout.write(`\n${rounds} alternating rounds (lower is faster)\n`);
  for (const [name, by] of Object.entries(samples)) {
    for (const [label, f] of [["median", median], ["best", best]]) {
      const a = f(by[ref]);
      const b = f(by.this);
      process.stdout.write(`${name.padEnd(24)} ${label.padEnd(6)} ${ref}: ${a.toFixed(3)}  this: ${b.toFixed(3)}  ratio ${(b / a).toFixed(3)} ${b / a <= 1.05 ? "(within 5%)" : "(NOT within 5%)"}\n`);
    }
  }
}

/** Instructions per event (PHOLD) and per completed request (the workloads) of each build, by callgrind. */
function instructions(builds) {
  const runner = join(dir, "runner.mjs");
  writeFileSync(
    runner,
    `const [bench, name, scale] = process.argv.slice(2);
const m = await import(bench + "/workload.js");
const r = name.startsWith("vms-")
  ? await (await import(bench + "/vms.js")).benchVms(name, Number(scale))
  : name === "web-shop-1k" ? await m.benchWebShop(Number(scale)) : await m.benchWorkload(name, Number(scale));
console.log(JSON.stringify({ count: r.completed }));\n`,
  );
  const counted = (args) => {
    const r = spawnSync("valgrind", ["--tool=callgrind", "--callgrind-out-file=/dev/null", process.execPath, "--single-threaded", ...args], { encoding: "utf8", maxBuffer: 1 << 26 });
    const ir = /Collected : (\d+)/.exec(r.stderr);
    if (r.status !== 0 || !ir) throw new Error(`valgrind failed (is Debian's valgrind installed?):\n${r.stderr.slice(-2000)}`);
    const out = r.stdout.trim().split("\n").pop();
    const j = JSON.parse(out);
    return { ir: Number(ir[1]), count: j.count ?? j.events };
  };
  const cases = {
    "phold 1e5 instructions/event": (b, k) => counted([join(b, "phold.js"), "--lps", "10000", "--per", "10", "--events", String(k * 200000), "--seed", "1"]),
    "web-shop-1k instructions/request": (b, k) => counted([runner, b, "web-shop-1k", String(k * 0.02)]),
    "many-hosts instructions/request": (b, k) => counted([runner, b, "many-hosts", String(k * 0.05)]),
    // Scales of the VM scenarios' durations (300 s and 5 s): a few thousand requests and more for each length.
    ...vmFigures(builds, (b, name, k) => counted([runner, b, name, String(k * (name === "vms-one-host" ? 0.01 : 0.02))]), "instructions/request"),
  };
  for (const [name, measure] of Object.entries(cases)) {
    const per = {};
    for (const [k, b] of Object.entries(builds)) {
      const one = measure(b, 1);
      const two = measure(b, 2);
      per[k] = (two.ir - one.ir) / (two.count - one.count);
      process.stdout.write(`${name} ${k}: ${per[k].toFixed(0)}\n`);
    }
    process.stdout.write(`${name.padEnd(34)} ${ref}: ${per[ref].toFixed(0)}  this: ${per.this.toFixed(0)}  ratio ${(per.this / per[ref]).toFixed(3)}\n`);
  }
}
