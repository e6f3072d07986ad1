import { printable } from "./printable.js";

/**
 * Plain-text tables: a header row and right-aligned columns (first column left-aligned), two spaces apart. Cells
 * are printed `printable` (a name's control characters escaped), so no cell can break the table's lines.
 */
export function formatTable(head: readonly string[], cells: readonly (readonly string[])[]): string {
  head = head.map(printable);
  const rows = cells.map((r) => r.map(printable));
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ").trimEnd();
  return [line(head), ...rows.map(line)].join("\n");
}
