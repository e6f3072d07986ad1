import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "./sha256.js";

describe("sha256", () => {
  it("matches Node's SHA-256 on strings and bytes at every padding boundary, and on a view into a larger buffer", () => {
    for (const n of [0, 1, 55, 56, 63, 64, 65, 119, 120, 127, 128, 1000]) {
      const bytes = new Uint8Array(n).map((_, i) => (i * 131 + 7) & 255);
      expect(sha256Hex(bytes), `${n} bytes`).toBe(createHash("sha256").update(bytes).digest("hex"));
    }
    expect(sha256Hex("héllo, 世界")).toBe(createHash("sha256").update("héllo, 世界").digest("hex"));
    expect(sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const big = new Uint8Array(300).map((_, i) => i & 255);
    expect(sha256Hex(big.subarray(3, 203))).toBe(createHash("sha256").update(big.subarray(3, 203)).digest("hex"));
  });
});
