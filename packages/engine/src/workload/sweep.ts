/**
 * Parameter sweeps: a grid of points, each a scenario with some fields set
 * (DESIGN.md, Contracts: `--param` paths), run with the same replications,
 * summarised as one row of means and 95% half-widths per metric.
 */
import { isMap, isScalar, isSeq, parseDocument, type Document } from "yaml";
import { pathTokens, resolveTokens, type PathToken } from "../scenario/paths.js";
import { ScenarioError } from "../scenario/problems.js";
import { LIMITS } from "../scenario/schema.js";
import { own } from "../util/own.js";
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

/**
 * Every combination of the parameters' values, the first parameter varying slowest. A grid of more than
 * `LIMITS.sweepPoints` points is refused (a RangeError with its size) before any is built.
 */
export function grid(params: readonly SweepParam[]): Record<string, string>[] {
  const size = params.reduce((n, p) => n * p.values.length, 1);
  if (size > LIMITS.sweepPoints) {
    const counts = params.map((p) => p.values.length.toLocaleString("en-US")).join(" x ");
    throw new RangeError(
      `--param: the grid has ${size.toLocaleString("en-US")} points (${counts} values), more than the ${LIMITS.sweepPoints.toLocaleString("en-US")} ` +
        "a sweep may run (each is loaded and validated before the first runs); give fewer values, or split the grid into several sweeps, each with its own --out",
    );
  }
  let points: Record<string, string>[] = [{}];
  for (const p of params) points = points.flatMap((pt) => p.values.map((v) => ({ ...pt, [p.path]: v })));
  return points;
}

/**
 * The document path a `--param` path addresses: fields by name (names may
 * contain dots), list items by name else by number (`hosts.0.count`, or
 * `hosts[0].count` as error messages print it), and `services.<service>` for
 * a service whose name is unique. Fields the file does not have yet are set.
 */
function resolvePath(doc: Document, path: string): (string | number)[] {
  // The file's aliases were bounded when it was loaded (LIMITS.scenarioValues): the parser's own guess is not needed.
  const root = doc.toJS({ maxAliasCount: -1 }) as { tenants?: { name: string; services?: { name: string }[] }[] };
  const fail = (why: string): never => {
    throw new RangeError(`--param ${path}: ${why}`);
  };
  const tokens = pathTokens(path);
  if (tokens[0] === "services") {
    if (tokens.length < 3) fail("expected services.<service>.<field>");
    const names = tokens.slice(1).map((t) => (typeof t === "string" ? t : `[${t.index}]`));
    // The longest dot-joined run of names that some service has.
    let hits: [number, number][] = [];
    let used = 0;
    for (let j = names.length - 1; j >= 1 && hits.length === 0; j--) {
      const name = names.slice(0, j).join(".");
      root.tenants?.forEach((t, ti) => t.services?.forEach((svc, si) => svc.name === name && hits.push([ti, si])));
      used = j;
    }
    if (hits.length === 0) {
      const tried = names.slice(0, -1).map((_, j) => `"${names.slice(0, j + 1).join(".")}"`);
      fail(`no service is named ${tried.join(" or ")} (a path is services.<service>.<field>)`);
    }
    const service = names.slice(0, used).join(".");
    if (hits.length > 1) fail(`several tenants have a service "${service}": write tenants.<tenant>.services.${service}.${names.slice(used).join(".")}`);
    const { found, rest } = resolveTokens(root.tenants![hits[0][0]].services![hits[0][1]], tokens.slice(1 + used));
    return documentKeys(doc, ["tenants", hits[0][0], "services", hits[0][1], ...found], rest);
  }
  const { found, rest } = resolveTokens(root, tokens);
  if (found[0] === "tenants" && rest.length > 0 && (found.length === 1 || (found.length === 3 && found[2] === "services"))) {
    const list = found.length === 1 ? root.tenants : root.tenants?.[found[1] as number]?.services;
    const n = list?.length ?? 0;
    const what = String(segment(rest[0]));
    const numbered = n === 0 ? "" : `; by number, ${found.length === 1 ? "tenants" : "services"} 0 to ${n - 1}`;
    if (found.length === 1) fail(`no tenant is named "${what}"${numbered}`);
    fail(`tenant "${root.tenants![found[1] as number].name}" has no service "${what}"${numbered}`);
  }
  return documentKeys(doc, found, rest);
}

/**
 * The found segments as the document's own keys (a `2:` key is the number 2,
 * found by its text), then the tokens past them as new keys or indices.
 */
function documentKeys(doc: Document, found: readonly (string | number)[], rest: readonly PathToken[]): (string | number)[] {
  const out: (string | number)[] = [];
  let node: unknown = doc.contents;
  for (const seg of found) {
    let key: string | number = seg;
    if (isMap(node)) {
      const pair = node.items.find((p) => String(isScalar(p.key) ? p.key.value : p.key) === String(seg));
      if (pair && isScalar(pair.key) && (typeof pair.key.value === "number" || typeof pair.key.value === "string")) key = pair.key.value;
    }
    out.push(key);
    node = isMap(node) || isSeq(node) ? node.get(key, true) : undefined;
  }
  return [...out, ...rest.map(segment)];
}

function problem(file: string, path: string, message: string): ScenarioError {
  return new ScenarioError([{ file, line: 0, column: 0, path, message }]);
}

/** A path token as a document segment: `[i]` and numbers are indices. */
function segment(t: PathToken): string | number {
  return typeof t === "object" ? t.index : /^\d+$/.test(t) ? Number(t) : t;
}

/**
 * The scenario text with the point's values set (each value read as YAML, so
 * `16GiB`, `2000/s` and `{ exp: 2ms }` work); the caller validates the result.
 */
export function applyPoint(text: string, file: string, point: Record<string, string>): string {
  const doc = parseDocument(text);
  for (const [path, value] of Object.entries(point)) {
    const target = resolvePath(doc, path);
    // Sections the file leaves out (defaults, placement, a host type's nic) are added; a value or a list item that
    // is not there cannot hold a field.
    for (let i = 1; i < target.length; i++) {
      const node = doc.getIn(target.slice(0, i), true);
      const where = target.slice(0, i).join(".");
      if (node === undefined) {
        if (isSeq(doc.getIn(target.slice(0, i - 1), true))) throw problem(file, path, `--param: ${where} is not in the scenario`);
        break;
      }
      if (!isMap(node) && !isSeq(node)) throw problem(file, path, `--param: ${where} is a value, not a section with fields`);
    }
    let parsed: unknown;
    try {
      parsed = parseDocument(value).toJS();
    } catch (err) {
      // Aliases of aliases in the value itself (yaml refuses them past a count): the point's scenario would be refused anyway.
      throw new RangeError(`--param ${path}: ${value} cannot be read: ${(err as Error).message}; write the value out`);
    }
    doc.setIn(target, parsed);
  }
  return doc.toString();
}

/** The metrics of a sweep row: per service and per stack, with their 95% half-widths. */
export function rowOf(point: Record<string, string>, results: Results): Record<string, string | number | null> {
  // The hash of the point's scenario (flags applied): what a resumed sweep checks before keeping the row.
  const row: Record<string, string | number | null> = { ...point, scenarioHash: results.manifest.scenarioHash };
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
  // Replicas that did not fit (their reasons are in the results' `unplaced`).
  row.unplaced = results.unplaced.reduce((n, u) => n + u.replicas, 0);
  return row;
}

/**
 * Text a spreadsheet would run as a formula (OWASP, CSV injection): it begins with `=`, `+`, `-`, `@`, a tab or a
 * carriage return. A leading `'` is escaped too, so that reading the file back (`fromCsv`) can tell the two apart.
 */
const FORMULA = /^[=+\-@\t\r']/;

/** A number as JSON writes it (`-1`, `-2.5e-7`): a spreadsheet reads it as that number, never as a formula. */
const NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?$/;

/**
 * A CSV of rows (columns in the order first seen; numbers as JavaScript prints them, so output is exact). Text cells
 * (headers, `--param` values, errors) that a spreadsheet would take for a formula are written as text: a `'` before
 * them, and quoted. Numbers are written as they are, -1 included, and so is text that is exactly a number (a
 * `--param` value of -1): a cell that is a number is never a formula, and a numeric column stays numeric.
 */
export function toCsv(rows: readonly Record<string, string | number | null>[]): string {
  const columns: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!columns.includes(k)) columns.push(k);
  const cell = (v: unknown): string => {
    if (v === null || v === undefined) return "";
    const s = String(v);
    if (FORMULA.test(s) && !NUMBER.test(s)) return `"'${s.replaceAll('"', '""')}"`;
    return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  return [columns.map(cell).join(","), ...rows.map((r) => columns.map((c) => cell(r[c])).join(","))].join("\n") + "\n";
}

/** The key of a point (its parameter values), to find the points an earlier run already did. */
export function pointKey(point: Record<string, unknown>, paths: readonly string[]): string {
  // A point without a path (--points entries may set different fields) has "" there, as a CSV cell does.
  return JSON.stringify(paths.map((p) => String(own(point, p) ?? "")));
}

/** Reads back what `toCsv` wrote (a quoted cell that begins with `'` was text escaped against formulas: the `'` goes). */
export function fromCsv(text: string): Record<string, string>[] {
  const records: string[][] = [];
  let field = "";
  let record: string[] = [];
  let quoted = false;
  let escaped = false; // the field opened with a quote, then `'`
  const end = (): void => {
    record.push(escaped ? field.slice(1) : field);
    field = "";
    escaped = false;
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') {
      quoted = true;
      escaped ||= field === "" && text[i + 1] === "'";
    } else if (ch === ",") end();
    else if (ch === "\n") {
      end();
      records.push(record);
      record = [];
    } else field += ch;
  }
  if (field !== "" || record.length > 0) {
    end();
    records.push(record);
  }
  const [head, ...rows] = records;
  return rows.map((r) => Object.fromEntries(head.map((h, i) => [h, r[i] ?? ""])));
}
