/**
 * Parameter sweeps: a grid of points, each a scenario with some fields set
 * (DESIGN.md, Contracts: `--param` paths), run with the same replications,
 * summarised as one row of means and 95% half-widths per metric.
 */
import { isMap, isSeq, parseDocument, type Document } from "yaml";
import { ScenarioError } from "../scenario/problems.js";
import type { Results, StackResults } from "./run.js";

export interface SweepParam {
  /** As written: `services.frontend.replicas`, `hostTypes.r6i.cores`, `hosts.0.count`, `defaults.stack`. */
  path: string;
  values: string[];
}

/** Parses `path=v1,v2,...`. */
export function parseParam(spec: string): SweepParam {
  const eq = spec.indexOf("=");
  if (eq <= 0 || eq === spec.length - 1) throw new RangeError(`--param ${spec}: expected path=value1,value2,... such as services.web.replicas=10,20`);
  // Split on commas outside brackets and braces, so `{ uniform: [1ms, 2ms] }` stays one value.
  const values: string[] = [];
  let depth = 0;
  let start = eq + 1;
  for (let i = start; i <= spec.length; i++) {
    const ch = spec[i];
    if (ch === "[" || ch === "{") depth++;
    else if (ch === "]" || ch === "}") depth--;
    else if (i === spec.length || (ch === "," && depth === 0)) {
      values.push(spec.slice(start, i).trim());
      start = i + 1;
    }
  }
  return { path: spec.slice(0, eq), values };
}

/** Every combination of the parameters' values, the first parameter varying slowest. */
export function grid(params: readonly SweepParam[]): Record<string, string>[] {
  let points: Record<string, string>[] = [{}];
  for (const p of params) points = points.flatMap((pt) => p.values.map((v) => ({ ...pt, [p.path]: v })));
  return points;
}

/**
 * The document path a `--param` path addresses (services by name, within their
 * tenant when it is given). Indices are written `hosts.0.count` or, as error
 * messages print them, `hosts[0].count`.
 */
function resolvePath(doc: Document, path: string): (string | number)[] {
  const parts = path.replace(/\[(\d+)\]/g, ".$1").split(".");
  const root = doc.toJS() as { tenants?: { name: string; services?: { name: string }[] }[] };
  const fail = (why: string): never => {
    throw new RangeError(`--param ${path}: ${why}`);
  };
  if (parts[0] === "services") {
    if (parts.length < 3) fail("expected services.<service>.<field>");
    const hits: [number, number][] = [];
    root.tenants?.forEach((t, ti) => t.services?.forEach((s, si) => s.name === parts[1] && hits.push([ti, si])));
    if (hits.length === 0) fail(`no service is named "${parts[1]}"`);
    if (hits.length > 1) fail(`several tenants have a service "${parts[1]}": write tenants.<tenant>.services.${parts[1]}.${parts.slice(2).join(".")}`);
    return ["tenants", hits[0][0], "services", hits[0][1], ...parts.slice(2)];
  }
  if (parts[0] === "tenants" && parts[2] === "services") {
    // By name, else by index (tenants.0.services.1): a name made of digits is a name first.
    const at = <T extends { name: string }>(list: T[] | undefined, key: string): number => {
      const named = list?.findIndex((x) => x.name === key) ?? -1;
      return named >= 0 || !/^\d+$/.test(key) || Number(key) >= (list?.length ?? 0) ? named : Number(key);
    };
    const numbered = (n: number, what: string): string => (n === 0 ? "" : `; by number, ${what} 0 to ${n - 1}`);
    const ti = at(root.tenants, parts[1]);
    if (ti < 0) fail(`no tenant is named "${parts[1]}"${numbered(root.tenants?.length ?? 0, "tenants")}`);
    const services = root.tenants![ti].services;
    const si = at(services, parts[3]);
    if (si < 0) fail(`tenant "${parts[1]}" has no service "${parts[3]}"${numbered(services?.length ?? 0, "services")}`);
    return ["tenants", ti, "services", si, ...parts.slice(4)];
  }
  return parts.map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

/**
 * The scenario text with the point's values set (each value read as YAML, so
 * `16GiB`, `2000/s` and `{ exp: 2ms }` work); the caller validates the result.
 */
export function applyPoint(text: string, file: string, point: Record<string, string>): string {
  const doc = parseDocument(text);
  for (const [path, value] of Object.entries(point)) {
    const target = resolvePath(doc, path);
    const parent = doc.getIn(target.slice(0, -1), true);
    if (!isMap(parent) && !isSeq(parent)) {
      throw new ScenarioError([{ file, line: 0, column: 0, path, message: `--param: ${target.slice(0, -1).join(".")} is not in the scenario` }]);
    }
    doc.setIn(target, parseDocument(value).toJS());
  }
  return doc.toString();
}

/** The metrics of a sweep row: per service and per stack, with their 95% half-widths. */
export function rowOf(point: Record<string, string>, results: Results): Record<string, string | number | null> {
  const row: Record<string, string | number | null> = { ...point };
  for (const [stackName, st] of Object.entries(results.stacks)) {
    const ci = st.ci95 as StackResults | null;
    const put = (name: string, value: number | null, half: unknown): void => {
      row[name] = value;
      row[`${name}.ci95`] = typeof half === "number" ? half : null;
    };
    for (const [key, s] of Object.entries(st.services)) {
      const c = ci?.services?.[key];
      put(`${key}.throughput`, s.throughput, c?.throughput);
      put(`${key}.latency.mean`, s.latency.mean, c?.latency?.mean);
      put(`${key}.latency.p99`, s.latency.p99, c?.latency?.p99);
      put(`${key}.dropped`, s.dropped, c?.dropped);
      put(`${key}.failed`, s.failed, c?.failed);
    }
    put(`${stackName}.hosts.cpuUtilization`, st.hosts.cpuUtilization, ci?.hosts?.cpuUtilization);
    put(`${stackName}.hosts.used`, st.hosts.used, ci?.hosts?.used);
    put(`${stackName}.energy.joules`, st.energy.joules, ci?.energy?.joules);
    put(`${stackName}.cost.total`, st.cost.total, ci?.cost?.total);
  }
  return row;
}

/** A CSV of rows (columns in the order first seen; numbers as JavaScript prints them, so output is exact). */
export function toCsv(rows: readonly Record<string, string | number | null>[]): string {
  const columns: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!columns.includes(k)) columns.push(k);
  const cell = (v: unknown): string => {
    if (v === null || v === undefined) return "";
    const s = String(v);
    return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  return [columns.map(cell).join(","), ...rows.map((r) => columns.map((c) => cell(r[c])).join(","))].join("\n") + "\n";
}

/** The key of a point (its parameter values), to find the points an earlier run already did. */
export function pointKey(point: Record<string, unknown>, paths: readonly string[]): string {
  return JSON.stringify(paths.map((p) => String(point[p])));
}

/** Reads back what `toCsv` wrote. */
export function fromCsv(text: string): Record<string, string>[] {
  const records: string[][] = [];
  let field = "";
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      record.push(field);
      field = "";
    } else if (ch === "\n") {
      record.push(field);
      records.push(record);
      record = [];
      field = "";
    } else field += ch;
  }
  if (field !== "" || record.length > 0) records.push([...record, field]);
  const [head, ...rows] = records;
  return rows.map((r) => Object.fromEntries(head.map((h, i) => [h, r[i] ?? ""])));
}
