import { Args } from "@oclif/core";
import { formatBytes, preflight, printable, summarizeScenario, type Results, type ScenarioSummary } from "@turtles/engine";
import { ScenarioCommand } from "../lib/base.js";
import { loadPlugins, readScenario } from "../lib/scenario-file.js";

export default class Validate extends ScenarioCommand {
  static override summary = "Check a scenario file without running it.";

  static override description =
    "Parses and validates a YAML or JSON scenario (units, references, call cycles, size), builds its model once without running it " +
    "(placement: replicas that do not fit are warned about; NICs and disks the steps need), and prints a one-screen summary. " +
    "Problems are printed as file:line:column: field: message, several at once; the exit code is then 2.";

  static override examples = ["<%= config.bin %> validate examples/web-shop.yaml", "<%= config.bin %> validate scenario.yaml --json",
    "<%= config.bin %> validate sandboxed.yaml --plugin ./examples/plugin-sandbox",
  ];

  static override args = { file: Args.string({ description: "scenario file (YAML or JSON)", required: true }) };

  static override flags = { plugin: ScenarioCommand.pluginFlag };

  static override enableJsonFlag = true;

  async run(): Promise<{ valid: true; summary: ScenarioSummary; unplaced: Results["unplaced"] }> {
    const { args, flags } = await this.parse(Validate);
    const plugins = await loadPlugins(flags.plugin);
    const scenario = readScenario(args.file, plugins);
    const summary = summarizeScenario(scenario);
    // Built once (not run): placement, and the checks that need the built model.
    const unplaced = preflight(scenario, plugins, { file: args.file });
    this.warnUnplaced({ unplaced });
    this.log(formatSummary(args.file, summary));
    return { valid: true, summary, unplaced };
  }
}

function formatDuration(s: number): string {
  if (s >= 3600 && s % 3600 === 0) return `${s / 3600}h`;
  if (s >= 60 && s % 60 === 0) return `${s / 60}m`;
  if (s >= 1 || s === 0) return `${s}s`;
  return s >= 1e-3 ? `${s * 1e3}ms` : `${s * 1e6}us`;
}

export function formatSummary(file: string, s: ScenarioSummary): string {
  const rows: [string, string][] = [
    ["hosts", `${s.hosts} (${s.hostTypes} type${s.hostTypes === 1 ? "" : "s"}, ${s.cores} cores, ${formatBytes(s.memory)} memory)`],
    ["stacks", s.stacks.join(", ")],
    ["tenants", `${s.tenants}`],
    ["services", `${s.services} (${s.replicas} replica${s.replicas === 1 ? "" : "s"})`],
    ["load", [s.openRate > 0 ? `${Number(s.openRate.toPrecision(6))}/s open-loop` : "", s.clients > 0 ? `${s.clients} closed-loop clients` : ""].filter(Boolean).join(", ") || "none (no service has a load)"],
    ["run", `${formatDuration(s.duration)} measured after ${formatDuration(s.warmup)} warm-up, ${s.replications} replication${s.replications === 1 ? "" : "s"}`],
    ["model size", `about ${formatBytes(s.estimatedBytes)}`],
  ];
  return [printable(`${file}: valid scenario "${s.name}"`), ...rows.map(([k, v]) => `  ${k.padEnd(11)} ${v}`)].join("\n");
}
