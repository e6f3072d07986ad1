/**
 * Scenario problems: each names the file, line and column, the field path and
 * what was expected and found. Schema issues (zod) and cross-field checks are
 * both turned into problems here, located in the YAML/JSON source.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from "yaml";
import type { z } from "zod";
import { own } from "../util/own.js";
import { printable } from "../util/printable.js";
import { pathTokens, resolveTokens } from "./paths.js";

export interface Problem {
  file: string;
  /** 1-based; 0 when the problem has no place in the file. */
  line: number;
  column: number;
  /** Field path in the `--param` convention (`tenants.shop.services.db.replicas`); empty for the whole file. */
  path: string;
  message: string;
}

/** A scenario that cannot be used, with every problem found (the CLI exits 2 on it). */
export class ScenarioError extends Error {
  constructor(readonly problems: Problem[]) {
    super(formatProblems(problems));
    this.name = "ScenarioError";
  }
}

/** One line per problem, by file (in the order first met), then line and column (unlocated ones last, as found), at most `maxLines` lines in all. */
export function formatProblems(problems: readonly Problem[], maxLines = 20): string {
  const files = [...new Set(problems.map((p) => p.file))];
  const ordered = [...problems].sort(
    (a, b) => files.indexOf(a.file) - files.indexOf(b.file) || Number(a.line === 0) - Number(b.line === 0) || a.line - b.line || a.column - b.column,
  );
  // One problem, one line: names, keys and values the file holds are printed with their control characters escaped.
  const lines = ordered.map((p) => {
    const where = p.line > 0 ? `${p.file}:${p.line}:${p.column}` : p.file;
    return printable(`${where}: ${p.path ? `${p.path}: ` : ""}${p.message}`);
  });
  if (lines.length <= maxLines) return lines.join("\n");
  const shown = lines.slice(0, maxLines - 1);
  shown.push(`... and ${lines.length - shown.length} more problems`);
  return shown.join("\n");
}

export type PathSegment = string | number;

/** `tenants.shop.services.db.replicas`: array items by their `name` where they have one, else `[i]`. */
export function displayPath(root: unknown, path: readonly PathSegment[]): string {
  let out = "";
  let node: unknown = root;
  for (const seg of path) {
    if (typeof seg === "number") {
      const item = Array.isArray(node) ? node[seg] : undefined;
      const name = item && typeof item === "object" ? (item as { name?: unknown }).name : undefined;
      out += typeof name === "string" && name !== "" ? `.${name}` : `[${seg}]`;
      node = item;
    } else {
      out += out === "" ? seg : `.${seg}`;
      node = node && typeof node === "object" ? own(node as Record<string, unknown>, seg) : undefined;
    }
  }
  return out;
}

/** The raw value at `path`, or undefined. */
export function valueAt(root: unknown, path: readonly PathSegment[]): unknown {
  let node = root;
  for (const seg of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = Array.isArray(node) ? node[seg as number] : own(node as Record<string, unknown>, String(seg));
  }
  return node;
}

/** Describes a found value for "expected X, found Y". */
export function describeValue(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "an empty value";
  if (Array.isArray(v)) return "a list";
  if (ArrayBuffer.isView(v)) return "bytes";
  if (typeof v === "function") return "a function";
  if (typeof v === "object") return "a mapping";
  if (typeof v === "string") return `"${v.length > 60 ? `${v.slice(0, 57)}...` : v}"`;
  return String(v);
}

/** Locates values and keys of a parsed document. */
export class SourceMap {
  constructor(
    private readonly file: string,
    private readonly doc: Document | undefined,
    private readonly lines: LineCounter | undefined,
    readonly root: unknown,
  ) {}

  /**
   * The problem at `path`, placed at the deepest node of the path present in
   * the source, or at the key `key` of the mapping at `path`.
   */
  problem(path: readonly PathSegment[], message: string, key?: string): Problem {
    const offset = this.offsetOf(path, key);
    const pos = offset !== undefined && this.lines ? this.lines.linePos(offset) : undefined;
    const fullPath = key === undefined ? path : [...path, key];
    return { file: this.file, line: pos?.line ?? 0, column: pos?.col ?? 0, path: displayPath(this.root, fullPath), message };
  }

  private offsetOf(path: readonly PathSegment[], key?: string): number | undefined {
    let node: Node | null | undefined = this.doc?.contents as Node | null | undefined;
    let offset = node?.range?.[0];
    const segs = key === undefined ? path : [...path, key];
    for (let i = 0; i < segs.length && node; i++) {
      const seg = segs[i];
      let next: Node | null | undefined;
      if (isMap(node)) {
        const pair = node.items.find((p) => String(isScalar(p.key) ? p.key.value : p.key) === String(seg)); // `2:` is a number key
        if (!pair) break;
        if (i === segs.length - 1 && key !== undefined && isScalar(pair.key)) return pair.key.range?.[0];
        next = pair.value as Node | null;
        // A key with no value (`memory:`): point at the key.
        if (!next && isScalar(pair.key)) return pair.key.range?.[0];
      } else if (isSeq(node) && typeof seg === "number") {
        next = node.items[seg] as Node | null;
      } else {
        break;
      }
      node = next;
      if (node?.range) offset = node.range[0];
    }
    return offset;
  }
}

type Issue = z.core.$ZodIssue;

/** True when a union branch failed only because the value has another type (also through a nested union). */
function isTypeMismatch(issues: readonly Issue[]): boolean {
  return issues.every(
    (i) => i.path.length === 0 && (i.code === "invalid_type" || (i.code === "invalid_union" && i.errors.every(isTypeMismatch))),
  );
}

/** The types a union branch expected, for "expected number or string". */
function expectedTypes(issues: readonly Issue[]): string[] {
  return issues.flatMap((i) => (i.code === "invalid_type" ? [i.expected] : i.code === "invalid_union" ? i.errors.flatMap(expectedTypes) : []));
}

/** Converts zod issues into located problems, picking the meaningful branch of unions. */
export function issuesToProblems(issues: readonly Issue[], source: SourceMap, base: PathSegment[] = []): Problem[] {
  const out: Problem[] = [];
  // An object with a mistyped key also fails its own checks ("expected a step: one of ..."): the typo says it all.
  const mistyped = new Set(issues.filter((i) => i.code === "unrecognized_keys").map((i) => JSON.stringify(i.path)));
  for (const iss of issues) {
    if (iss.code === "custom" && mistyped.has(JSON.stringify(iss.path))) continue;
    const path = [...base, ...(iss.path as PathSegment[])];
    if (iss.code === "invalid_union" && iss.errors.length > 0 && !("discriminator" in iss && iss.discriminator)) {
      const informative = iss.errors.filter((branch) => !isTypeMismatch(branch));
      if (informative.length > 0) {
        out.push(...issuesToProblems(informative[0], source, path));
      } else {
        // A union built by `unitValue` or `distribution` says what it expects in its message; others list the types.
        const expected = iss.message.startsWith("expected ")
          ? iss.message.slice("expected ".length)
          : [...new Set(iss.errors.flatMap(expectedTypes))].join(" or ");
        const found = valueAt(source.root, path);
        out.push(
          source.problem(path, found === undefined ? `required field is missing (expected ${expected})` : `expected ${expected}, found ${describeValue(found)}`),
        );
      }
    } else if (iss.code === "unrecognized_keys") {
      const messages = iss.message.split("\n");
      iss.keys.forEach((k, i) => out.push(source.problem(path, messages[i] ?? `unknown key "${k}"`, k)));
    } else if (iss.code === "invalid_type") {
      const found = valueAt(source.root, path);
      const expected = typeName(iss.expected);
      out.push(
        source.problem(path, found === undefined ? `required field is missing (expected ${expected})` : `expected ${expected}, found ${describeValue(found)}`),
      );
    } else {
      out.push(source.problem(path, iss.message));
    }
  }
  // One message per field (an integer too big breaks both its integer and its number bound).
  const seen = new Set<string>();
  return out.filter((p) => {
    const key = `${p.path}\n${p.message}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
}

/** zod's type names as a scenario's author knows them. */
function typeName(t: string): string {
  const names: Record<string, string> = { record: "a mapping", object: "a mapping", array: "a list", string: "text", number: "a number", int: "a whole number", boolean: "true or false" };
  return names[t] ?? t;
}

/**
 * Zod's own messages in the scenario's words ("must be at most 1000", not "Too big: expected number to be
 * <=1000"), for `safeParse(x, { error: scenarioIssueMessage })`: zod asks it only where the schema gives no message.
 */
export function scenarioIssueMessage(iss: z.core.$ZodRawIssue): string | undefined {
  if (iss.code === "too_big" || iss.code === "too_small") return boundMessage(iss as unknown as BoundIssue, iss.input);
  return undefined;
}

type BoundIssue = { code: "too_big" | "too_small"; origin: string; inclusive?: boolean; maximum?: number | bigint; minimum?: number | bigint };

/** A bound a number, a text or a list broke, in words. */
function boundMessage(iss: BoundIssue, found: unknown): string {
  const big = iss.code === "too_big";
  const limit = Number(big ? iss.maximum : iss.minimum);
  const inclusive = iss.inclusive !== false;
  const shown = describeValue(found);
  if (iss.origin === "string") return big ? `must be at most ${limit} characters long, found ${shown}` : limit <= 1 ? "must not be empty" : `must be at least ${limit} characters long, found ${shown}`;
  if (iss.origin === "array" || iss.origin === "set") {
    const n = Array.isArray(found) ? found.length : undefined;
    return `needs ${big ? "at most" : "at least"} ${limit} item${limit === 1 ? "" : "s"}${n === undefined ? "" : `, found ${n}`}`;
  }
  const bound = big ? (inclusive ? "at most" : "less than") : inclusive ? "at least" : "more than";
  return `must be ${bound} ${limit}, found ${shown}`;
}

/**
 * Problems found after loading (by a model build, which knows fields by their
 * display path and not where they are) placed in the scenario's `text`: a
 * problem without a line gets the line of its field when the text has that
 * whole path. Others are returned as they are.
 */
export function locateProblems(problems: readonly Problem[], text: string): Problem[] {
  if (problems.every((p) => p.line > 0 || p.path === "")) return [...problems];
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  const root: unknown = doc.toJS();
  const map = new SourceMap("", doc, lines, root);
  return problems.map((p) => {
    if (p.line > 0 || p.path === "") return p;
    const { found, rest } = resolveTokens(root, pathTokens(p.path));
    if (rest.length > 0) return p; // not a path of this text (a --param path, say): no line rather than a wrong one
    const located = map.problem(found, p.message);
    return { ...p, line: located.line, column: located.column };
  });
}
