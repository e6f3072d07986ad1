/**
 * The page: edits a scenario, runs it in a Web Worker through comlink, draws
 * live throughput from the worker's progress packs, and shows the results.
 * Pause, resume, cancel and snapshot go to the worker between its chunks.
 */
import { proxy, wrap } from "comlink";
import { assembleResults, formatProblems, loadScenario, ScenarioError, type ReplicationResult, type Results, type Scenario } from "@turtles/engine";
import { decodePack, type EngineApi, type ProgressEntry } from "@turtles/engine/worker";
import { baremetal } from "@turtles/plugin-baremetal";
import { container } from "@turtles/plugin-container";
import { hypervisor } from "@turtles/plugin-hypervisor";
import example from "../../../examples/web-tier.yaml?raw";
import { drawChart } from "./chart.js";
import { LiveSeries } from "./live.js";

const plugins = [baremetal, hypervisor, container];
const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const editor = $<HTMLTextAreaElement>("scenario");
const status = $("status");
const problems = $("problems");
const canvas = $<HTMLCanvasElement>("chart");
const result = $("result");
const buttons = { run: $<HTMLButtonElement>("run"), pause: $<HTMLButtonElement>("pause"), resume: $<HTMLButtonElement>("resume"), cancel: $<HTMLButtonElement>("cancel"), snapshot: $<HTMLButtonElement>("snapshot") };

// A shorter run than the file's, so the page answers in seconds.
editor.value = example.replace(/^duration: .*$/m, "duration: 2m").replace(/^replications: .*$/m, "replications: 2");

const api = wrap<EngineApi>(new Worker(new URL("./engine.worker.ts", import.meta.url), { type: "module" }));
let series = new LiveSeries();
let end = 1;
let packs = 0;
let latest: ProgressEntry | undefined;

void api.subscribe(
  proxy((pack: Uint8Array) => {
    const entries = decodePack(pack) as ProgressEntry[];
    packs++;
    series.add(entries);
    latest = entries.at(-1);
    if (latest) {
      end = latest.end;
      status.textContent = `replication ${latest.replication + 1}/${latest.replications}: ${latest.simTime.toFixed(1)} of ${latest.end} s simulated, ${latest.events.toLocaleString()} events, ${packs} progress packs`;
    }
    drawChart(canvas, series, end);
  }),
);

type State = "idle" | "running" | "paused" | "done" | "cancelled" | "error";
function setState(state: State): void {
  document.body.dataset.state = state;
  buttons.run.disabled = state === "running" || state === "paused";
  buttons.pause.disabled = state !== "running";
  buttons.resume.disabled = state !== "paused";
  buttons.cancel.disabled = state !== "running" && state !== "paused";
  buttons.snapshot.disabled = state !== "running" && state !== "paused";
}

buttons.run.onclick = async () => {
  problems.textContent = "";
  result.textContent = "";
  let scenario: Scenario;
  try {
    scenario = loadScenario(editor.value, { file: "scenario.yaml", plugins });
  } catch (err) {
    problems.textContent = err instanceof ScenarioError ? formatProblems(err.problems) : (err as Error).message;
    setState("error");
    return;
  }
  series = new LiveSeries();
  packs = 0;
  end = scenario.warmup + scenario.duration;
  setState("running");
  const started = performance.now();
  try {
    await api.load({ scenario: editor.value, file: "scenario.yaml" });
    // Chunks of 20,000 events: a pause or snapshot answers within milliseconds, and the chart has points to draw.
    const replications = decodePack(await api.run({ chunk: 20_000 })) as ReplicationResult[];
    const results = assembleResults(scenario, plugins, replications);
    showResults(results, (performance.now() - started) / 1000);
    setState("done");
  } catch (err) {
    const message = (err as Error).message;
    if (/run cancelled/.test(message)) {
      status.textContent = "cancelled";
      setState("cancelled");
    } else {
      problems.textContent = message;
      setState("error");
    }
  }
};

buttons.pause.onclick = async () => {
  if (await api.pause()) setState("paused");
};
buttons.resume.onclick = async () => {
  await api.resume();
  setState("running");
};
buttons.cancel.onclick = () => void api.cancel();
buttons.snapshot.onclick = async () => {
  const pack = await api.snapshot();
  if (!pack) return;
  const { replication } = decodePack(pack) as { replication: number };
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([pack as BlobPart], { type: "application/msgpack" }));
  link.download = `replication-${replication}.snap`;
  link.id = "snapshot-link";
  link.textContent = `snapshot of replication ${replication + 1} (${(pack.byteLength / 1024).toFixed(0)} KiB)`;
  result.replaceChildren(link);
};

function showResults(r: Results, wallSeconds: number): void {
  const stack = Object.values(r.stacks)[0];
  const fmt = (x: number | null, digits = 1): string => (x === null ? "-" : x.toFixed(digits));
  const rows = Object.entries(stack.services)
    .map(
      ([name, s]) =>
        `<tr><td>${name}</td><td>${fmt(s.completed, 0)}</td><td>${fmt(s.throughput)}</td><td>${fmt((s.latency.mean ?? 0) * 1000, 2)}</td><td>${fmt((s.latency.p99 ?? 0) * 1000, 2)}</td></tr>`,
    )
    .join("");
  result.innerHTML =
    `<p>${r.manifest.replications} replications of ${r.manifest.duration} s in ${wallSeconds.toFixed(1)} s of wall time; cpu ${fmt((stack.hosts.cpuUtilization ?? 0) * 100)}% of used cores.</p>` +
    `<table><tr><th>service</th><th>completed</th><th>req/s</th><th>mean ms</th><th>p99 ms</th></tr>${rows}</table>`;
  const json = document.createElement("script");
  json.type = "application/json";
  json.id = "results-json";
  json.textContent = JSON.stringify(r);
  result.append(json);
}

setState("idle");
drawChart(canvas, series, end);
