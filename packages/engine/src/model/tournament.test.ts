import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Tournament } from "./tournament.js";

describe("Tournament", () => {
  it("always names the best item still in, through removals, key changes and resets", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.tuple(fc.constantFrom("remove", "update", "reset"), fc.nat(), fc.integer({ min: -5, max: 5 })), { maxLength: 80 }),
        (n, ops) => {
          const key = Array.from({ length: n }, (_, i) => (i * 7) % 5);
          const out = new Set<number>();
          const t = new Tournament(n, (a, b) => key[a] - key[b] || a - b);
          t.reset(() => true);
          const expected = (): number => {
            let best = -1;
            for (let i = 0; i < n; i++) if (!out.has(i) && (best < 0 || key[i] < key[best] || (key[i] === key[best] && i < best))) best = i;
            return best;
          };
          for (const [op, x, k] of ops) {
            const i = x % n;
            if (op === "remove") {
              out.add(i);
              t.remove(i);
            } else if (op === "update") {
              key[i] = k;
              t.update(i); // an item taken out stays out
            } else {
              out.clear();
              for (let j = 0; j < n; j++) if (key[j] > 3) out.add(j);
              t.reset((j) => key[j] <= 3);
            }
            expect(t.best()).toBe(expected());
          }
        },
      ),
    );
  });

  it("has no best when nothing is in", () => {
    const t = new Tournament(3, (a, b) => a - b);
    t.reset(() => false);
    expect(t.best()).toBe(-1);
    expect(new Tournament(0, (a, b) => a - b).best()).toBe(-1);
  });
});
