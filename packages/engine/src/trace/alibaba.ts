/**
 * Alibaba's GPU cluster trace (cluster-trace-gpu-v2023, "openb"): a pod list
 * (`name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,
 * creation_time,deletion_time,scheduled_time`) whose pods are created and
 * deleted at their trace times (workload/pods.ts replays them), and a node
 * list (`sn,cpu_milli,memory_mib,gpu,model`) that may stand for the hosts.
 *
 * Quirks handled: columns found by their header names (any order); empty
 * `model` (CPU-only nodes), empty `gpu_spec` and empty `scheduled_time`
 * (pods the trace never scheduled: the replay places them like any other)
 * are values, not problems; GPUs are asked for as `num_gpu` x `gpu_milli`
 * thousandths. Pods must come in creation-time order (the file is sorted):
 * one that goes back is a bad row, as the replay reads forward only.
 */
import { SelectedRows, TraceTally, sourceOf, traceFiles, type RowSelection } from "./common.js";
import type { TraceAdapter, TraceReadOptions, TraceSummary } from "./index.js";
import { LineReader, CHUNK_BYTES, type TraceSource } from "./lines.js";
import { BadRows } from "./problems.js";

/** The pod list's columns the replay reads. */
export const POD_COLUMNS = ["cpu_milli", "memory_mib", "num_gpu", "gpu_milli", "creation_time", "deletion_time"] as const;
/** The node list's columns. */
export const NODE_COLUMNS = ["cpu_milli", "memory_mib", "gpu"] as const;

const MIB = 1024 * 1024;

/** One pod as the replay needs it (reused per row). */
export interface AlibabaPod {
  /** CPU request in cores, memory request in bytes, GPU request in thousandths of a GPU. */
  cpu: number;
  memory: number;
  gpu: number;
  /** Seconds from the trace's start. */
  created: number;
  deleted: number;
}

/** One node of the node list: cores, bytes, GPUs in thousandths. */
export interface AlibabaNode {
  cpu: number;
  memory: number;
  gpu: number;
}

/** The index of each wanted column in a header line; a problem message when one is missing. */
function columnsOf(header: string, wanted: readonly string[]): number[] | string {
  const names = header.split(",").map((n) => n.trim());
  const at = wanted.map((w) => names.indexOf(w));
  const missing = wanted.filter((_, i) => at[i] < 0);
  if (missing.length > 0) return `header lacks column${missing.length > 1 ? "s" : ""} ${missing.join(", ")} (found ${names.join(", ")}); is this an Alibaba ${wanted === POD_COLUMNS ? "pod" : "node"} list?`;
  return at;
}

/**
 * Reads the numbers of `wanted` columns from CSV rows into `values`: returns "" or the column a problem is
 * about, with `message[0]` set.
 */
function parseRow(text: string, at: readonly number[], wanted: readonly string[], values: Float64Array, message: string[]): string {
  const parts = text.split(",");
  for (let i = 0; i < at.length; i++) {
    const raw = (parts[at[i]] ?? "").trim();
    const v = raw === "" ? NaN : Number(raw);
    if (!Number.isFinite(v) || v < 0) {
      message[0] = raw === "" ? "empty; expected a number >= 0" : `expected a number >= 0, found ${JSON.stringify(raw)}`;
      return wanted[i];
    }
    values[i] = v;
  }
  return "";
}

/**
 * The pods of a pod list, forward only: `next()` loads the following pod
 * into `pod` and returns false at the end. Its state is numbers (the line
 * position inside its `LineReader`, counters), so a snapshot keeps it.
 */
export class PodReader extends SelectedRows {
  readonly pod: AlibabaPod = { cpu: 0, memory: 0, gpu: 0, created: 0, deleted: 0 };
  private lastCreated = 0;
  private readonly at: number[];
  private readonly values = new Float64Array(POD_COLUMNS.length);
  private readonly message = [""];
  /** The header lacks a column the replay needs (reported): no pod is read. */
  private headerless = false;

  constructor(source: TraceSource, file: string, bad: BadRows, options: RowSelection = {}) {
    super(source, file, bad, options);
    const at = columnsOf(this.reader.next() ?? "", POD_COLUMNS);
    if (typeof at === "string") {
      bad.report(file, 1, "", at);
      this.at = [];
      this.headerless = true;
    } else this.at = at;
  }

  /** Loads the next selected pod; false at the end (or after `limit`). O(line) per row. */
  next(): boolean {
    if (this.headerless || this.selector.full) return false;
    for (let text = this.reader.next(); text !== undefined; text = this.reader.next()) {
      if (text.trim() === "") continue;
      const line = this.reader.position().line - 1;
      const field = parseRow(text, this.at, POD_COLUMNS, this.values, this.message);
      if (field) {
        this.bad.report(this.file, line, field, this.message[0]);
        continue;
      }
      const [cpu, mem, numGpu, gpuMilli, created, deleted] = this.values;
      if (deleted < created) {
        this.bad.report(this.file, line, "deletion_time", `${deleted} is before creation_time ${created}`);
        continue;
      }
      if (created < this.lastCreated) {
        this.bad.report(this.file, line, "creation_time", `${created} is before the previous pod's (${this.lastCreated}); pods must come in creation-time order`);
        continue;
      }
      this.lastCreated = created;
      if (!this.selector.take(created)) continue;
      const p = this.pod;
      p.cpu = cpu / 1000;
      p.memory = mem * MIB;
      p.gpu = numGpu * gpuMilli;
      p.created = created;
      p.deleted = deleted;
      return true;
    }
    return false;
  }
}

/** The nodes of a node list (small: read whole, 1,523 rows in the trace); bad rows go to `bad`. */
export function readNodes(source: TraceSource, file: string, bad: BadRows): AlibabaNode[] {
  const reader = new LineReader(source, file, CHUNK_BYTES);
  const at = columnsOf(reader.next() ?? "", NODE_COLUMNS);
  if (typeof at === "string") {
    bad.report(file, 1, "", at);
    return [];
  }
  const values = new Float64Array(NODE_COLUMNS.length);
  const message = [""];
  const nodes: AlibabaNode[] = [];
  for (let text = reader.next(); text !== undefined; text = reader.next()) {
    if (text.trim() === "") continue;
    const field = parseRow(text, at, NODE_COLUMNS, values, message);
    if (field) bad.report(file, reader.position().line - 1, field, message[0]);
    else nodes.push({ cpu: values[0] / 1000, memory: values[1] * MIB, gpu: values[2] * 1000 });
  }
  return nodes;
}

/**
 * The pod list at `path`: the file itself, or in a folder (the trace's, with its node list beside it) the one file
 * whose header is a pod list's. Throws when a folder has none.
 */
function podListAt(source: TraceSource, path: string): string {
  const files = traceFiles(source, path);
  if (files.length === 1 && files[0] === path) return path;
  const lists = files.filter((f) => /^\s*name\s*,/.test(new LineReader(source, f, 4096).next() ?? ""));
  if (lists.length !== 1) throw new Error(`${path}: a folder with ${lists.length} pod lists (CSV files whose header starts name,cpu_milli,...); give the pod list's path`);
  return lists[0];
}

/** Opens a pod list for replay (a file, or the trace's folder). */
export function openPods(path: string, options: RowSelection, bad: BadRows): PodReader {
  const source = sourceOf(options);
  return new PodReader(source, podListAt(source, path), bad, options);
}

/** Whether a header line is a node list's (`sn,...`) rather than a pod list's. */
const isNodeList = (header: string): boolean => /^\s*sn\s*,/.test(header);

/** The Alibaba adapter: pods with requests and lifetimes (or, given the node list, its nodes). */
export const alibaba: TraceAdapter = {
  kind: "pods",
  detect: (_name, firstLine) => /^\s*(name|sn)\s*,\s*cpu_milli\s*,\s*memory_mib\b/.test(firstLine),
  inspect(path: string, options: TraceReadOptions): TraceSummary {
    const source = sourceOf(options);
    const bad = new BadRows("skip");
    const isFile = source.list(path) === undefined;
    const header = isFile ? (new LineReader(source, path, 4096).next() ?? "") : "";
    if (isNodeList(header)) {
      const nodes = readNodes(source, path, bad);
      const tally = new TraceTally(["cores", "memory GiB", "gpus"]);
      for (const n of nodes) {
        tally.push(0, n.cpu);
        tally.push(1, n.memory / (1024 * MIB));
        tally.push(2, n.gpu / 1000);
        // A node list has no times: its span is 0 to 0.
        tally.row(0);
      }
      return tally.summary("alibaba-pods", 1, "hosts", bad, { otherRows: bad.count });
    }
    const reader = openPods(path, { ...options, onBadRow: "skip" }, bad);
    const tally = new TraceTally(["cores", "memory GiB", "gpus", "lifetime s"]);
    while (reader.next()) {
      const p = reader.pod;
      tally.push(0, p.cpu);
      tally.push(1, p.memory / (1024 * MIB));
      tally.push(2, p.gpu / 1000);
      tally.push(3, p.deleted - p.created);
      tally.row(p.created, p.deleted);
    }
    return tally.summary("alibaba-pods", 1, "pods", bad, { otherRows: bad.count });
  },
};
