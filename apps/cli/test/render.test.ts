import { describe, expect, it } from "vitest";
import { formatSeconds, sparkline } from "../src/lib/render.js";

describe("formatSeconds", () => {
  it("picks the unit after rounding to three digits, and never prints an exponent", () => {
    expect(formatSeconds(0.0009997)).toBe("1.00ms");
    expect(formatSeconds(0.9996)).toBe("1.00s");
    expect(formatSeconds(0.000123)).toBe("123us");
    expect(formatSeconds(0.0123)).toBe("12.3ms");
    expect(formatSeconds(42)).toBe("42.0s");
    expect(formatSeconds(599.9)).toBe("10.0m");
    expect(formatSeconds(6e6)).toBe("100000m");
    expect(formatSeconds(null)).toBe("-");
  });
});

describe("sparkline", () => {
  it("scales values from the smallest to the largest bar, blank where a window has none", () => {
    expect(sparkline([100, 100, 500, 500, 300, null])).toBe("▁▁██▅ ");
    expect(sparkline([2, 2, 2])).toBe("▁▁▁");
  });
});
