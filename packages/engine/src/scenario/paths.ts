/**
 * Field paths as people and messages write them (`tenants.shop.services.db.replicas`,
 * `hosts[0].count`, `hostTypes.m5.large.cores`), resolved against a parsed
 * scenario: names may contain dots, list items go by name, and an index is a
 * number or `[i]`.
 */
import type { PathSegment } from "./problems.js";

/** A name between dots, or an index written `[i]` (an index only). */
export type PathToken = string | { index: number };

export function pathTokens(path: string): PathToken[] {
  const out: PathToken[] = [];
  for (const part of path.split(/(\[\d+\])/)) {
    if (/^\[\d+\]$/.test(part)) out.push({ index: Number(part.slice(1, -1)) });
    else for (const name of part.split(".")) if (name !== "") out.push(name);
  }
  return out;
}

/**
 * The segments of `tokens` found in `root` (a parsed document), and the
 * tokens past them. At each level: in a mapping, the longest run of
 * dot-joined names that is one of its keys; in a list, the item of that name,
 * else a number (or `[i]`) as its index.
 */
export function resolveTokens(root: unknown, tokens: readonly PathToken[]): { found: PathSegment[]; rest: PathToken[] } {
  const found: PathSegment[] = [];
  let node = root;
  let i = 0;
  const step = (seg: PathSegment, next: number): void => {
    found.push(seg);
    node = (node as Record<string | number, unknown>)[seg];
    i = next;
  };
  while (i < tokens.length && node !== null && typeof node === "object") {
    const t = tokens[i];
    if (typeof t === "object") {
      if (!Array.isArray(node) || t.index >= node.length) break;
      step(t.index, i + 1);
      continue;
    }
    let matched = false;
    for (let j = tokens.length; j > i && !matched; j--) {
      const run = tokens.slice(i, j);
      if (run.some((x) => typeof x === "object")) continue;
      const name = run.join(".");
      const at = Array.isArray(node)
        ? node.findIndex((x) => x !== null && typeof x === "object" && (x as { name?: unknown }).name === name)
        : Object.hasOwn(node, name)
          ? name
          : -1;
      if (at !== -1) {
        step(at, j);
        matched = true;
      }
    }
    if (matched) continue;
    if (Array.isArray(node) && /^\d+$/.test(t) && Number(t) < node.length) {
      step(Number(t), i + 1);
      continue;
    }
    break;
  }
  return { found, rest: tokens.slice(i) };
}
