import { describe, expect, it } from "vitest";
import { formatProblems } from "../scenario/problems.js";
import { printable } from "./printable.js";
import { formatTable } from "./table.js";

describe("printable", () => {
  it("escapes every control character, so a name can neither move the cursor nor forge a line", () => {
    expect(printable("a\u001b[2J\nb\rc\td\u0000\u007f\u009b")).toBe("a\\x1b[2J\\nb\\rc\\td\\x00\\x7f\\x9b");
    // Unicode line separators and bidi overrides reorder or break what a terminal shows.
    expect(printable("x\u2028y\u202egnp.exe\u2066")).toBe("x\\u2028y\\u202egnp.exe\\u2066");
    for (let c = 0; c < 0x20; c++) expect(printable(String.fromCharCode(c))).toMatch(/^\\/);
  });

  it("leaves printable text as it is, backslashes and non-Latin names included", () => {
    for (const text of ["web-tier", "C:\\runs\\a.yaml", "café 東京 ±5%", ""]) expect(printable(text)).toBe(text);
  });

  it("is used by problems and tables: one problem, one line; one row, one line", () => {
    const problem = { file: "x\n.yaml", line: 2, column: 3, path: "tenants.t\u001b[31m", message: 'unknown key "a\nb"' };
    expect(formatProblems([problem, { ...problem, line: 4 }]).split("\n")).toEqual([
      'x\\n.yaml:2:3: tenants.t\\x1b[31m: unknown key "a\\nb"',
      'x\\n.yaml:4:3: tenants.t\\x1b[31m: unknown key "a\\nb"',
    ]);
    expect(formatTable(["name", "n"], [["a\nforged", "1"]])).toBe("name       n\na\\nforged  1");
  });
});
