/**
 * The page: edits a scenario (a bundled example to start from), runs it, or compares the stacks picked (every service
 * on each stack in turn, the same seeds), in a Web Worker through comlink. Live throughput comes from the worker's
 * progress packs; the results are shown as the HTML report of `turtles compare` / `turtles run` (the same rows and
 * charts, built by `@turtles/engine/report`), refreshed as each stack finishes, and offered as JSON, CSV and HTML.
 * Pause, resume, cancel and snapshot go to the worker between its chunks.
 */
import { proxy, wrap } from "comlink";
import {
  assembleResults,
  comparisonCsv,
  comparisonResults,
  formatProblems,
  loadScenario,
  onStack,
  ScenarioError,
  stacksOf,
  type ReplicationResult,
  type ReplicationStack,
  type Results,
  type Scenario,
} from "@turtles/engine";
import { comparisonOf, htmlReport } from "@turtles/engine/report";
import { decodePack, type EngineApi, type ProgressEntry } from "@turtles/engine/worker";
import { baremetal } from "@turtles/plugin-baremetal";
import { container, pod } from "@turtles/plugin-container";
import { hypervisor } from "@turtles/plugin-hypervisor";
import uplotCss from "uplot/dist/uPlot.min.css?raw";
import uplotJs from "uplot/dist/uPlot.iife.min.js?raw";
import { LiveChart } from "./chart.js";
import { Hold } from "./hold.js";
import { LiveSeries } from "./live.js";

const plugins = [baremetal, hypervisor, container, pod];
const chartLib = { js: uplotJs, css: uplotCss };
const EXAMPLES_DIR = "../../../examples/";
const examples = import.meta.glob<string>("../../../examples/*.yaml", { query: "?raw", import: "default", eager: true });
// Rate profiles the examples name (`rate: { csv: ... }`), by their path beside the examples.
const dataFiles = import.meta.glob<string>("../../../examples/*.csv", { query: "?raw", import: "default", eager: true });
const FILE = "scenario.yaml";

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const editor = $<HTMLTextAreaElement>("scenario");
const picker = $<HTMLSelectElement>("example");
const stackPicker = $("stacks");
const status = $("status");
const problems = $("problems");
const result = $("result");
const downloads = $("downloads");
const report = $<HTMLIFrameElement>("report");
const live = new LiveChart($("live"));
const buttons = {
  run: $<HTMLButtonElement>("run"),
  compare: $<HTMLButtonElement>("compare"),
  pause: $<HTMLButtonElement>("pause"),
  resume: $<HTMLButtonElement>("resume"),
  cancel: $<HTMLButtonElement>("cancel"),
  snapshot: $<HTMLButtonElement>("snapshot"),
};

/** The scenario of the editor's text; throws its ScenarioError. */
const scenarioOf = (text: string): Scenario =>
  loadScenario(text, {
    file: FILE,
    plugins,
    readFile: (path) => {
      const data = dataFiles[EXAMPLES_DIR + path];
      if (data === undefined) throw new Error(`the page bundles only the examples' files (${Object.keys(dataFiles).map((k) => k.slice(EXAMPLES_DIR.length)).join(", ")}); inline the profile as steps`);
      return data;
    },
  });

/** An example as the page offers it: at most 2 minutes and 2 replications, so the page answers in seconds. */
function shortened(text: string): string {
  let s: Scenario;
  try {
    s = scenarioOf(text);
  } catch {
    return text;
  }
  let out = text;
  if (s.duration > 120) out = out.replace(/^duration: .*$/m, "duration: 2m");
  if (s.replications > 2) out = out.replace(/^replications: .*$/m, "replications: 2");
  return out;
}

for (const path of Object.keys(examples).sort()) {
  const option = document.createElement("option");
  option.value = path;
  option.textContent = path.slice(EXAMPLES_DIR.length);
  picker.append(option);
}
picker.value = `${EXAMPLES_DIR}web-tier.yaml`;

/** The stack picker: a box per stack of the editor's scenario (from the engine), each kept as it was by name. */
function refreshStacks(): void {
  let stacks: string[];
  try {
    stacks = stacksOf(scenarioOf(editor.value));
  } catch {
    return; // the text as it is being typed: the picker waits for a scenario that loads
  }
  const was = new Map([...stackPicker.querySelectorAll("input")].map((box) => [box.value, box.checked]));
  stackPicker.replaceChildren(
    ...stacks.map((name) => {
      const label = document.createElement("label");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.value = name;
      box.checked = was.get(name) ?? true;
      label.append(box, ` ${name}`);
      return label;
    }),
  );
}
const pickedStacks = (): string[] => [...stackPicker.querySelectorAll("input")].filter((box) => box.checked).map((box) => box.value);

picker.onchange = () => {
  editor.value = shortened(examples[picker.value]);
  stackPicker.replaceChildren();
  refreshStacks();
};
let typing: ReturnType<typeof setTimeout> | undefined;
editor.oninput = () => {
  clearTimeout(typing);
  typing = setTimeout(refreshStacks, 300);
};

const api = wrap<EngineApi>(new Worker(new URL("./engine.worker.ts", import.meta.url), { type: "module" }));
let series = new LiveSeries();
let packs = 0;
/** The labels of the jobs progress entries carry: a comparison's stacks (none for a run). */
let jobs: string[] = [];

void api.subscribe(
  proxy((pack: Uint8Array) => {
    const entries = decodePack(pack) as ProgressEntry[];
    packs++;
    series.add(entries);
    const latest = entries.at(-1);
    if (latest) {
      const job = latest.job === undefined ? "" : `stack ${jobs[latest.job]} (${latest.job + 1}/${jobs.length}), `;
      status.textContent = `${job}replication ${latest.replication + 1}/${latest.replications}: ${latest.simTime.toFixed(1)} of ${latest.end} s simulated, ${latest.events.toLocaleString()} events, ${packs} progress packs`;
    }
    live.show(series.chart());
  }),
);

type State = "idle" | "running" | "paused" | "done" | "cancelled" | "error";
function setState(state: State): void {
  document.body.dataset.state = state;
  const busy = state === "running" || state === "paused";
  buttons.run.disabled = busy;
  buttons.compare.disabled = busy;
  buttons.pause.disabled = state !== "running";
  buttons.resume.disabled = state !== "paused";
  buttons.cancel.disabled = !busy;
  buttons.snapshot.disabled = !busy;
}

/** Pause and Cancel that come between two calls to the worker (see Hold). */
const control = new Hold();

/** Loads `scenario` in the worker and runs `replications` of it (all by default), its progress labelled as job `job`. */
async function replicationsOf(scenario: Scenario, options: { job?: number; replications?: number[]; load?: boolean } = {}): Promise<ReplicationResult[]> {
  await control.between();
  if (options.load !== false) {
    // The loaded scenario as JSON (as the pool hands it to its workers): rate profiles read here are inlined in it.
    await api.load({ scenario: JSON.stringify(scenario), file: FILE });
    await control.between();
  }
  // Chunks of 20,000 events: a pause or snapshot answers within milliseconds, and the chart has points to draw.
  const { job, replications } = options;
  return decodePack(await api.run({ chunk: 20_000, ...(job === undefined ? {} : { job }), ...(replications ? { replications } : {}) })) as ReplicationResult[];
}

/** Starts a run or a comparison: the scenario checked here first (its problems shown, nothing run), then `work`. */
async function start(work: (scenario: Scenario) => Promise<Results>): Promise<void> {
  problems.textContent = "";
  result.textContent = "";
  let scenario: Scenario;
  try {
    scenario = scenarioOf(editor.value);
  } catch (err) {
    problems.textContent = err instanceof ScenarioError ? formatProblems(err.problems) : (err as Error).message;
    setState("error");
    return;
  }
  showResults(undefined);
  control.reset();
  packs = 0;
  live.clear();
  setState("running");
  const started = performance.now();
  try {
    const results = await work(scenario);
    const m = results.manifest;
    const stacks = Object.keys(results.stacks).length;
    result.prepend(`${m.replications} replications of ${m.duration} s${stacks > 1 ? ` on each of ${stacks} stacks` : ""} in ${((performance.now() - started) / 1000).toFixed(1)} s of wall time.`);
    setState("done");
  } catch (err) {
    const message = err instanceof ScenarioError ? formatProblems(err.problems) : (err as Error).message;
    if (/run cancelled/.test(message)) {
      status.textContent = "cancelled";
      setState("cancelled");
    } else {
      problems.textContent = message;
      setState("error");
    }
  }
}

buttons.run.onclick = () =>
  start(async (scenario) => {
    jobs = [];
    series = new LiveSeries();
    const results = assembleResults(scenario, plugins, await replicationsOf(scenario));
    showResults(results);
    return results;
  });

buttons.compare.onclick = () =>
  start(async (base) => {
    const stacks = pickedStacks();
    if (stacks.length < 2) throw new Error(`pick two stacks or more to compare (the first picked is the baseline); the scenario has: ${stacksOf(base).join(", ")}`);
    jobs = stacks;
    series = new LiveSeries(stacks);
    // As `turtles compare` does: each stack's replications with the same seeds, then one comparison paired over
    // them. It is shown after each replication: a stack part done has the results of its replications so far (its
    // differences are of means, without an interval, until it has as many as the baseline); the stacks still to run
    // are left out.
    const runs: { stack: string; results: Results; replications: ReplicationStack[] }[] = [];
    let results: Results | undefined;
    for (const [k, stack] of stacks.entries()) {
      const scenario = onStack(base, stack);
      const done: ReplicationResult[] = [];
      for (let r = 0; r < scenario.replications; r++) {
        done.push(...(await replicationsOf(scenario, { job: k, replications: [r], load: r === 0 })));
        const soFar = done.length === scenario.replications ? scenario : { ...scenario, replications: done.length };
        const run = { stack, results: assembleResults(soFar, plugins, done), replications: done.map((x) => x.stack) };
        results = comparisonResults(base, [...runs, run], { baseline: stacks[0] });
        showResults(results);
        if (soFar === scenario) runs.push(run);
      }
    }
    return results!;
  });

buttons.pause.onclick = async () => {
  if (await api.pause()) setState("paused");
  else if (document.body.dataset.state === "running") {
    // Between two calls: the next waits.
    control.pause();
    setState("paused");
  }
};
buttons.resume.onclick = async () => {
  control.resume();
  await api.resume();
  setState("running");
};
buttons.cancel.onclick = () => {
  control.cancel();
  void api.cancel();
};
buttons.snapshot.onclick = async () => {
  const pack = await api.snapshot();
  if (!pack) return;
  const { replication } = decodePack(pack) as { replication: number };
  const link = download("snapshot-link", new Blob([pack as BlobPart], { type: "application/msgpack" }), `replication-${replication}.snap`);
  link.textContent = `snapshot of replication ${replication + 1} (${(pack.byteLength / 1024).toFixed(0)} KiB)`;
  result.replaceChildren(link);
};

/** A link that downloads `blob` as `name`; the previous object URL of the same link id is released. */
function download(id: string, blob: Blob, name: string): HTMLAnchorElement {
  const old = document.getElementById(id) as HTMLAnchorElement | null;
  if (old) URL.revokeObjectURL(old.href);
  const link = document.createElement("a");
  link.id = id;
  link.href = URL.createObjectURL(blob);
  link.download = name;
  link.textContent = name;
  return link;
}

/**
 * Shows results (none: clears them): the report in the frame, the downloads, and the results JSON in the page (for
 * the browser test). The files are what `turtles compare --out x.json --csv x.csv --html x.html` writes.
 */
function showResults(r: Results | undefined): void {
  document.getElementById("results-json")?.remove();
  if (!r) {
    downloads.replaceChildren();
    report.classList.remove("shown");
    report.srcdoc = "";
    return;
  }
  const name = r.manifest.scenario;
  const json = `${JSON.stringify(r, null, 2)}\n`;
  const html = htmlReport(r, { chartLib });
  downloads.replaceChildren(
    download("download-json", new Blob([json], { type: "application/json" }), `${name}.json`),
    download("download-csv", new Blob([comparisonCsv(comparisonOf(r))], { type: "text/csv" }), `${name}.csv`),
    download("download-html", new Blob([html], { type: "text/html" }), `${name}.html`),
  );
  report.srcdoc = html;
  report.classList.add("shown");
  const data = document.createElement("script");
  data.type = "application/json";
  data.id = "results-json";
  data.textContent = json;
  result.append(data);
}

// The report's page draws its charts as it loads: then the frame is as tall as the report, and the page scrolls, not it.
report.onload = () => {
  const body = report.contentDocument?.body;
  report.style.height = body && report.classList.contains("shown") ? `${body.scrollHeight + 24}px` : "";
};

editor.value = shortened(examples[picker.value]);
refreshStacks();
setState("idle");
