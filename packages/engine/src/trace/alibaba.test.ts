import { describe, expect, it } from "vitest";
import { detectFormat, inspectTrace } from "./index.js";
import { memoryTraceSource } from "./lines.js";
import { BadRows } from "./problems.js";
import { openPods, readNodes } from "./alibaba.js";

const DIR = new URL("../../../../data/traces/alibaba-gpu-v2023/", import.meta.url).pathname;
const PODS = `${DIR}openb_pod_list_default.csv`;
const NODES = `${DIR}openb_node_list_all_node.csv`;
const HEADER = "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time";
const MIB = 1024 * 1024;

describe("alibaba-pods", () => {
  it("inspects the pod list as its README counts it: 8,152 pods over 149 days, 0 to 8 GPUs", () => {
    expect(detectFormat(PODS)).toBe("alibaba-pods");
    const s = inspectTrace(PODS);
    expect(s.rows).toBe(8152);
    expect(s.entities).toEqual({ kind: "pods", count: 8152 });
    expect(s.span.start).toBe(0);
    expect(s.span.end).toBeGreaterThanOrEqual(12_901_761);
    const gpus = s.columns.find((c) => c.name === "gpus")!;
    expect([gpus.min, gpus.max]).toEqual([0, 8]);
    expect(s.problems).toEqual([]);
  });

  it("inspects the node list: 1,523 nodes, 125,514 cores and 6,212 GPUs in all; an empty model is a CPU-only node", () => {
    expect(detectFormat(NODES)).toBe("alibaba-pods");
    const s = inspectTrace(NODES);
    expect(s.entities).toEqual({ kind: "hosts", count: 1523 });
    const nodes = readNodes(memoryTraceSource({ n: "sn,cpu_milli,memory_mib,gpu,model\na,32000,1024,0,\nb,96000,2048,8,V100M16\n" }), "n", new BadRows());
    expect(nodes).toEqual([
      { cpu: 32, memory: 1024 * MIB, gpu: 0 },
      { cpu: 96, memory: 2048 * MIB, gpu: 8000 },
    ]);
    const c = s.columns;
    expect(Math.round(c[0].mean * 1523)).toBe(125_514);
    expect(Math.round(c[2].mean * 1523)).toBe(6212);
  });

  it("reads requests in cores, bytes and GPU thousandths; empty gpu_spec and scheduled_time are values, not problems", () => {
    const text = `${HEADER}\np0,12000,16384,1,460,,LS,Running,0,100,0\np1,500,512,0,0,,BE,Pending,5,9,\np2,4000,1024,2,1000,,LS,Failed,5,5,5\n`;
    const r = openPods("p", { source: memoryTraceSource({ p: text }) }, new BadRows());
    const pods = [];
    while (r.next()) pods.push({ ...r.pod });
    expect(pods).toEqual([
      { cpu: 12, memory: 16384 * MIB, gpu: 460, created: 0, deleted: 100 },
      { cpu: 0.5, memory: 512 * MIB, gpu: 0, created: 5, deleted: 9 },
      { cpu: 4, memory: 1024 * MIB, gpu: 2000, created: 5, deleted: 5 },
    ]);
  });

  it("reports bad rows with file, line and column: empty or negative numbers, deletion before creation, creation out of order", () => {
    const text = `${HEADER}\np0,,1,0,0,,LS,Running,0,1,0\np1,1000,-5,0,0,,LS,Running,0,1,0\np2,1000,1,0,0,,LS,Running,9,3,\np3,1000,1,0,0,,LS,Running,10,20,\np4,1000,1,0,0,,LS,Running,4,20,\n`;
    const bad = new BadRows("skip");
    const r = openPods("p.csv", { source: memoryTraceSource({ "p.csv": text }) }, bad);
    let n = 0;
    while (r.next()) n++;
    expect(n).toBe(1);
    expect(bad.listed.map((p) => [p.file, p.line, p.field])).toEqual([
      ["p.csv", 2, "cpu_milli"],
      ["p.csv", 3, "memory_mib"],
      ["p.csv", 4, "deletion_time"],
      ["p.csv", 6, "creation_time"],
    ]);
    expect(bad.listed[0].message).toMatch(/empty; expected a number/);
  });

  it("inspects the trace's folder as its pod list (the node list beside it told apart by its header)", () => {
    const s = inspectTrace(DIR.slice(0, -1));
    expect(s.format).toBe("alibaba-pods");
    expect(s.entities).toEqual({ kind: "pods", count: 8152 });
  });

  it("names the missing columns when the header is not a pod list's", () => {
    const bad = new BadRows("skip");
    const r = openPods("x.csv", { source: memoryTraceSource({ "x.csv": "a,b\n1,2\n" }) }, bad);
    expect(r.next()).toBe(false);
    expect(bad.listed[0]).toMatchObject({ file: "x.csv", line: 1, field: "" });
    expect(bad.listed[0].message).toMatch(/header lacks columns cpu_milli, memory_mib, num_gpu, gpu_milli, creation_time, deletion_time/);
  });
});
