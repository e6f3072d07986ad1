import { describe, expect, it } from "vitest";
import { inShard, mergeShards, parseShard, partRows, shardPart, sweepId } from "./shard.js";

const rowsOf = (n: number) => Array.from({ length: n }, (_, i) => ({ x: String(i), y: i * 1.5, e: null }));

describe("sweep shards", () => {
  it("deals points round robin: every point to exactly one shard", () => {
    for (const count of [1, 3, 7]) {
      const owners = Array.from({ length: 20 }, (_, p) => Array.from({ length: count }, (_, i) => i + 1).filter((index) => inShard(p, { index, count })));
      expect(owners.every((o) => o.length === 1)).toBe(true);
      expect(owners.map((o) => o[0]).slice(0, count + 1)).toEqual([...Array.from({ length: count }, (_, i) => i + 1), 1]);
    }
  });

  it("reads i/N and refuses other specs with an example", () => {
    expect(parseShard("2/4")).toEqual({ index: 2, count: 4 });
    for (const bad of ["0/4", "5/4", "2", "a/b", "1/0"]) expect(() => parseShard(bad)).toThrow(`--shard ${bad}: expected i/N`);
  });

  it("merges parts given in any order into the rows in point order", () => {
    const rows = rowsOf(7);
    const id = sweepId("text", rows.map((r) => ({ x: r.x })), {});
    const parts = [3, 1, 2].map((index) => ({ file: `p${index}.json`, text: shardPart(id, { index, count: 3 }, rows) }));
    expect(mergeShards(parts)).toEqual(rows);
    expect(partRows(parts[1].text)).toEqual([rows[0], rows[3], rows[6]]);
    expect(partRows("[]")).toBeUndefined();
  });

  it("refuses a missing, repeated, unfinished or foreign shard, naming the file", () => {
    const rows = rowsOf(5);
    const id = sweepId("text", [], { seed: 1 });
    const part = (index: number, count = 2, r: (typeof rows[0] | undefined)[] = rows, sweep = id) => ({ file: `p${index}of${count}.json`, text: shardPart(sweep, { index, count }, r) });
    expect(() => mergeShards([part(1)])).toThrow("merge: shard 2/2 missing; give every part file of the sweep");
    expect(() => mergeShards([part(1), part(1)])).toThrow("merge: p1of2.json and p1of2.json are both shard 1/2");
    expect(() => mergeShards([part(1), part(2, 2, [...rows.slice(0, 3), undefined, undefined])])).toThrow(
      "merge: p2of2.json holds 1 of the 2 points of shard 2/2: that shard did not finish; run it again with the same command and --resume",
    );
    expect(() => mergeShards([part(1), part(2, 3)])).toThrow("merge: p2of3.json is shard 2/3, but p1of2.json is of 2 shards");
    expect(() => mergeShards([part(1), part(2, 2, rows, sweepId("other", [], { seed: 1 }))])).toThrow("merge: p2of2.json is a shard of another sweep than p1of2.json");
    expect(() => mergeShards([{ file: "rows.json", text: "[]" }])).toThrow("merge: rows.json is not a shard part");
    expect(() => mergeShards([{ file: "x.json", text: "{" }])).toThrow("merge: x.json is not JSON");
    expect(sweepId("t", [], { seed: 1 })).not.toBe(sweepId("t", [], { seed: 2 }));
  });
});
