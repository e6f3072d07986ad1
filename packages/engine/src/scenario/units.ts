/**
 * Units of the scenario language (DESIGN.md, Contracts). Case-sensitive: `B`
 * bytes and `b` bits; `k`, `M`, `G`, `T`, `P` decimal and `Ki`, `Mi`, `Gi`,
 * `Ti`, `Pi` binary; times `ns us ms s m h d`; rates `/s` (also `/m`, `/h`).
 * Every value is normalised on load to seconds, bytes, bytes per second,
 * events per second, watts or a plain count. A bare number is already in the
 * normalised unit.
 */

export type UnitKind = "duration" | "size" | "byteRate" | "rate" | "count" | "power";

const DECIMAL: Record<string, number> = { "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15 };
const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50 };
const PREFIXES: Record<string, number> = { ...DECIMAL, ...BINARY };

const TIME: Record<string, number> = { ns: 1e-9, us: 1e-6, "µs": 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600, d: 86400 };
const PER: Record<string, number> = { "/s": 1, "/m": 1 / 60, "/h": 1 / 3600 };

/** What a unit kind looks like, for error messages. */
export const UNIT_EXAMPLES: Record<UnitKind, string> = {
  duration: "a duration such as 250us, 10ms, 2s or 5m",
  size: "a size such as 4KiB, 512MB or 16GiB",
  byteRate: "a bandwidth such as 2GB/s or 25Gb/s",
  rate: "a rate such as 2000/s or 1.5k/s",
  count: "a count such as 32 or 100k",
  power: "a power such as 120W or 1.2kW",
};

const NUMBER = /^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*(.*)$/;

/** Multiplier of a size unit (`KiB`, `MB`, `Gb`), or undefined. */
function sizeUnit(u: string): number | undefined {
  const m = /^(|k|M|G|T|P|Ki|Mi|Gi|Ti|Pi)(B|b)$/.exec(u);
  if (!m) return undefined;
  return PREFIXES[m[1]] / (m[2] === "b" ? 8 : 1);
}

function multiplier(kind: UnitKind, unit: string): number | undefined {
  switch (kind) {
    case "duration":
      return unit === "" ? 1 : TIME[unit];
    case "size":
      return unit === "" ? 1 : sizeUnit(unit);
    case "byteRate": {
      if (unit === "") return 1;
      const per = PER[unit.slice(-2)];
      const size = sizeUnit(unit.slice(0, -2));
      return per !== undefined && size !== undefined ? size * per : undefined;
    }
    case "rate": {
      // A bare count (`100k`) is read as per second, as IOPS are quoted.
      if (DECIMAL[unit] !== undefined) return DECIMAL[unit];
      const per = PER[unit.slice(-2)];
      const prefix = DECIMAL[unit.slice(0, -2)];
      return per !== undefined && prefix !== undefined ? prefix * per : undefined;
    }
    case "count":
      return DECIMAL[unit];
    case "power": {
      const m = /^(|k|M)W$/.exec(unit);
      return unit === "" ? 1 : m ? DECIMAL[m[1]] : undefined;
    }
  }
}

/** The units a kind accepts, bytes before bits. */
function unitsOf(kind: UnitKind): string[] {
  const sizes = ["B", "b"].flatMap((b) => Object.keys(PREFIXES).map((p) => `${p}${b}`));
  switch (kind) {
    case "duration":
      return Object.keys(TIME);
    case "size":
      return sizes;
    case "byteRate":
      return sizes.flatMap((u) => Object.keys(PER).map((per) => `${u}${per}`));
    case "rate":
      return Object.keys(DECIMAL).flatMap((p) => [p, ...Object.keys(PER).map((per) => `${p}${per}`)]);
    case "count":
      return Object.keys(DECIMAL);
    case "power":
      return ["W", "kW", "MW"];
  }
}

/** A hint for a unit that is wrong only in case (`10MS`) or in a common way (`KB`, `sec`). */
function hint(kind: UnitKind, num: string, unit: string): string {
  const candidates: string[] = [];
  const tryUnit = (u: string): void => {
    if (multiplier(kind, u) !== undefined && !candidates.includes(`${num}${u}`)) candidates.push(`${num}${u}`);
  };
  if (/^K/.test(unit)) {
    tryUnit(`k${unit.slice(1)}`);
    tryUnit(`Ki${unit.slice(1)}`);
  }
  // Every unit of the kind that differs only in case, bytes before bits (`64gb`: "64GB" or "64Gb").
  if (candidates.length === 0) for (const u of unitsOf(kind)) if (u.toLowerCase() === unit.toLowerCase()) tryUnit(u);
  const words: Record<string, string> = { sec: "s", secs: "s", second: "s", seconds: "s", min: "m", mins: "m", minutes: "m", hour: "h", hours: "h", msec: "ms", usec: "us", nsec: "ns", days: "d", day: "d", bytes: "B", byte: "B" };
  if (words[unit] !== undefined) tryUnit(words[unit]);
  return candidates.length > 0 ? ` (units are case-sensitive: did you mean ${candidates.map((c) => `"${c}"`).join(" or ")}?)` : "";
}

/** Result of parsing a value with units: the number in the normalised unit, or an error message. */
export type UnitResult = { ok: true; value: number } | { ok: false; message: string };

/** Parses `value` (a number or a string with units) as `kind`. */
export function parseUnit(kind: UnitKind, value: unknown): UnitResult {
  const found = typeof value === "string" ? `"${value}"` : JSON.stringify(value) ?? String(value);
  const fail = (extra = ""): UnitResult => ({ ok: false, message: `expected ${UNIT_EXAMPLES[kind]}, found ${found}${extra}` });
  let n: number;
  if (typeof value === "number") {
    n = value;
  } else if (typeof value === "string") {
    const m = NUMBER.exec(value.trim());
    if (!m) return fail();
    const mult = multiplier(kind, m[2]);
    if (mult === undefined) return fail(hint(kind, m[1], m[2]));
    // Divide by sub-unit divisors (80us = 80 / 1e6, not 80 * 1e-6) so that decimal values stay exact.
    const divisor = Math.round(1 / mult);
    n = mult < 1 && Math.abs(divisor * mult - 1) < 1e-12 ? Number(m[1]) / divisor : Number(m[1]) * mult;
  } else {
    return fail();
  }
  if (!Number.isFinite(n)) return fail();
  if (kind === "count" && !Number.isInteger(n)) return { ok: false, message: `expected a whole number, found ${found}` };
  return { ok: true, value: n };
}

/** Parses or throws a RangeError with the message. For tests and programmatic use. */
export function unit(kind: UnitKind, value: number | string): number {
  const r = parseUnit(kind, value);
  if (!r.ok) throw new RangeError(r.message);
  return r.value;
}
