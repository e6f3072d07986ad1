import { describe, expect, it } from "vitest";
import { parseUnit, unit } from "./units.js";

describe("units", () => {
  it("parse sizes with decimal and binary prefixes, bytes and bits", () => {
    expect(unit("size", "1KiB")).toBe(1024);
    expect(unit("size", "1kB")).toBe(1000);
    expect(unit("size", "16GiB")).toBe(16 * 2 ** 30);
    expect(unit("size", "512MB")).toBe(512e6);
    expect(unit("size", "8b")).toBe(1);
    expect(unit("size", "1.5MiB")).toBe(1.5 * 2 ** 20);
    expect(unit("size", 4096)).toBe(4096);
    expect(unit("size", "0B")).toBe(0);
  });

  it("parse bit and byte rates to bytes per second", () => {
    expect(unit("byteRate", "10Gb/s")).toBe(1.25e9);
    expect(unit("byteRate", "25Gb/s")).toBe(3.125e9);
    expect(unit("byteRate", "2GB/s")).toBe(2e9);
    expect(unit("byteRate", "100MiB/s")).toBe(100 * 2 ** 20);
  });

  it("parse times to seconds, exactly for decimal values", () => {
    expect(unit("duration", "250us")).toBe(0.00025);
    expect(unit("duration", "80us")).toBe(0.00008);
    expect(unit("duration", "10ms")).toBe(0.01);
    expect(unit("duration", "1ns")).toBe(1e-9);
    expect(unit("duration", "5m")).toBe(300);
    expect(unit("duration", "2h")).toBe(7200);
    expect(unit("duration", "1d")).toBe(86400);
    expect(unit("duration", "1.5s")).toBe(1.5);
    expect(unit("duration", 0.5)).toBe(0.5);
  });

  it("parse request rates, counts and power", () => {
    expect(unit("rate", "2000/s")).toBe(2000);
    expect(unit("rate", "1.5k/s")).toBe(1500);
    expect(unit("rate", "120/m")).toBe(2);
    expect(unit("rate", "100k")).toBe(100000);
    expect(unit("count", "100k")).toBe(100000);
    expect(unit("count", "2M")).toBe(2e6);
    expect(unit("count", 32)).toBe(32);
    expect(unit("power", "120W")).toBe(120);
    expect(unit("power", "1.2kW")).toBe(1200);
  });

  it("are case-sensitive and say what was meant", () => {
    expect(parseUnit("size", "1KB")).toEqual({
      ok: false,
      message: 'expected a size such as 4KiB, 512MB or 16GiB, found "1KB" (units are case-sensitive: did you mean "1kB" or "1KiB"?)',
    });
    expect(parseUnit("duration", "10MS")).toEqual({
      ok: false,
      message: 'expected a duration such as 250us, 10ms, 2s or 5m, found "10MS" (units are case-sensitive: did you mean "10ms"?)',
    });
    // Bytes before bits, and any case (a memory of "64gb" is most likely 64 GB, not 64 gigabits).
    expect(parseUnit("size", "64gb")).toMatchObject({ ok: false, message: expect.stringContaining('did you mean "64GB" or "64Gb"?') });
    expect(parseUnit("size", "64GIB")).toMatchObject({ ok: false, message: expect.stringContaining('did you mean "64GiB" or "64Gib"?') });
    expect(parseUnit("byteRate", "10gb/s")).toMatchObject({ ok: false, message: expect.stringContaining('did you mean "10GB/s" or "10Gb/s"?') });
    expect(parseUnit("duration", "10 sec")).toMatchObject({ ok: false, message: expect.stringContaining('did you mean "10s"') });
    expect(parseUnit("duration", "10GiB")).toMatchObject({ ok: false, message: expect.stringMatching(/^expected a duration/) });
    expect(parseUnit("count", "1.5")).toEqual({ ok: false, message: 'expected a whole number, found "1.5"' });
    expect(parseUnit("size", true).ok).toBe(false);
    expect(parseUnit("size", "fast").ok).toBe(false);
    expect(() => unit("size", "1XB")).toThrow(RangeError);
  });
});
