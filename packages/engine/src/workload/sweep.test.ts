import { describe, expect, it } from "vitest";
import { applyPoint, fromCsv, grid, parseParam, pointKey, toCsv } from "./sweep.js";

const TEXT = `duration: 1m
hostTypes: { r6i: { cores: 32, memory: 256GiB } }
hosts: [{ type: r6i, count: 4 }]
tenants:
  - name: shop
    services:
      - { name: web, replicas: 2, request: [{ cpu: 1ms }] }
  - name: ops
    services:
      - { name: web, replicas: 1, request: [{ cpu: 1ms }] }
      - { name: log, replicas: 1, request: [{ cpu: 1ms }] }
`;

describe("sweeps", () => {
  it("expands a grid with the first parameter varying slowest", () => {
    expect(grid([parseParam("a=1,2"), parseParam("b=x,y")])).toEqual([
      { a: "1", b: "x" },
      { a: "1", b: "y" },
      { a: "2", b: "x" },
      { a: "2", b: "y" },
    ]);
    expect(() => parseParam("nothing")).toThrow("expected path=value1,value2");
    expect(parseParam("services.a.think={ uniform: [1ms, 2ms] },5ms").values).toEqual(["{ uniform: [1ms, 2ms] }", "5ms"]);
  });

  it("sets fields by the DESIGN.md paths, with units, and refuses ambiguous or unknown ones", () => {
    const out = applyPoint(TEXT, "s.yaml", {
      "services.log.replicas": "3",
      "tenants.shop.services.web.replicas": "5",
      "hostTypes.r6i.memory": "512GiB",
      "hosts.0.count": "8",
    });
    expect(out).toContain("{ name: log, replicas: 3");
    expect(out).toContain("{ name: web, replicas: 5");
    expect(out).toContain("memory: 512GiB");
    expect(out).toContain("count: 8");
    expect(() => applyPoint(TEXT, "s.yaml", { "services.web.replicas": "3" })).toThrow(
      '--param services.web.replicas: several tenants have a service "web": write tenants.<tenant>.services.web.replicas',
    );
    expect(() => applyPoint(TEXT, "s.yaml", { "tenants.shop.services.db.replicas": "3" })).toThrow('tenant "shop" has no service "db"');
  });

  it("takes indices as error messages print them (hosts[0].count) as well as hosts.0.count", () => {
    expect(applyPoint(TEXT, "s.yaml", { "hosts[0].count": "8" })).toBe(applyPoint(TEXT, "s.yaml", { "hosts.0.count": "8" }));
    expect(applyPoint(TEXT, "s.yaml", { "tenants[1].services[1].replicas": "6" })).toContain("{ name: log, replicas: 6");
    expect(() => applyPoint(TEXT, "s.yaml", { "tenants.5.services.0.replicas": "6" })).toThrow('no tenant is named "5"; by number, tenants 0 to 1');
    // A name made of digits is a name first.
    const digits = TEXT.replace("name: ops", "name: '0'");
    expect(applyPoint(digits, "s.yaml", { "tenants.0.services.log.replicas": "7" })).toContain("{ name: log, replicas: 7");
  });

  it("refuses a --param value whose own aliases expand too far as bad input (a RangeError naming it), not a crash", () => {
    const levels = Array.from({ length: 10 }, (_, k) => `&a${k} [${Array.from({ length: 10 }, () => (k ? `*a${k - 1}` : "1")).join(",")}]`);
    expect(() => applyPoint("duration: 1s\n", "s.yaml", { duration: `[${levels.join(",")}]` })).toThrow(/^--param duration: \[&a0 .* cannot be read: Excessive alias count/);
  });

  it("refuses a grid of more than LIMITS.sweepPoints points with its size, before building any point", () => {
    const values = (n: number): string[] => Array.from({ length: n }, (_, i) => String(i));
    expect(grid([{ path: "a", values: values(100) }, { path: "b", values: values(100) }])).toHaveLength(10_000);
    const huge = [{ path: "a", values: values(1000) }, { path: "b", values: values(1000) }, { path: "c", values: values(1000) }];
    expect(() => grid(huge)).toThrow(
      new RangeError(
        "--param: the grid has 1,000,000,000 points (1,000 x 1,000 x 1,000 values), more than the 10,000 a sweep may run (each is loaded and validated before the first runs); give fewer values, or split the grid into several sweeps, each with its own --out",
      ),
    );
  });

  it("writes CSV that reads back, quoting what needs it", () => {
    const rows = [
      { p: "a,b", x: 1.5, y: null },
      { p: 'say "hi"', x: 2, y: 3 },
    ];
    const csv = toCsv(rows);
    expect(csv).toBe('p,x,y\n"a,b",1.5,\n"say ""hi""",2,3\n');
    expect(fromCsv(csv)).toEqual([
      { p: "a,b", x: "1.5", y: "" },
      { p: 'say "hi"', x: "2", y: "3" },
    ]);
    expect(pointKey({ p: 1, q: "x" }, ["p", "q"])).toBe(pointKey({ q: "x", p: "1" }, ["p", "q"]));
  });

  it("writes text a spreadsheet would run as a formula as text (a quote before it), numbers (and text that is one) as they are, and reads both back", () => {
    const rows = [
      { "=HYPERLINK(1)": "=1+2", p: "+cmd|' /C calc'!A0", q: "-1+cmd", r: "@SUM(A1)", s: "\tx", t: "'quoted", x: -1, y: -2.5e-7 },
      { "=HYPERLINK(1)": "safe", p: "a-b", q: "-1", r: "x@y", s: "", t: "it's", x: 0, y: -Infinity },
    ];
    const csv = toCsv(rows);
    expect(csv.split("\n")).toEqual([
      `"'=HYPERLINK(1)",p,q,r,s,t,x,y`,
      `"'=1+2","'+cmd|' /C calc'!A0","'-1+cmd","'@SUM(A1)","'\tx","''quoted",-1,-2.5e-7`,
      `safe,a-b,-1,x@y,,it's,0,"'-Infinity"`,
      "",
    ]);
    // Every cell is empty, a number, or begins with a quote or a character no spreadsheet starts a formula with.
    for (const line of csv.split("\n")) for (const c of line.split(",")) expect(c).toMatch(/^$|^[^=+\-@\t\r]|^-[\d.]+(e-?\d+)?$/);
    const back = fromCsv(csv);
    expect(back[0]).toEqual({ "=HYPERLINK(1)": "=1+2", p: "+cmd|' /C calc'!A0", q: "-1+cmd", r: "@SUM(A1)", s: "\tx", t: "'quoted", x: "-1", y: "-2.5e-7" });
    expect(back[1]).toEqual({ "=HYPERLINK(1)": "safe", p: "a-b", q: "-1", r: "x@y", s: "", t: "it's", x: "0", y: "-Infinity" });
    // The escaped cells read back to the point's own values: a resumed sweep finds its points.
    expect(pointKey(back[0], ["q", "r"])).toBe(pointKey(rows[0], ["q", "r"]));
    expect(pointKey(back[1], ["q", "r"])).toBe(pointKey(rows[1], ["q", "r"]));
  });
});
