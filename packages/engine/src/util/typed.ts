/** Typed-array helpers shared by the struct-of-arrays stores. */

export type Column = Float64Array | Int32Array | Uint32Array | Int8Array;

type ColumnType = Float64ArrayConstructor | Int32ArrayConstructor | Uint32ArrayConstructor | Int8ArrayConstructor;

/**
 * One column of a struct-of-arrays store: the owner's field that holds it,
 * its array type, the value a new slot starts with (default 0), and its
 * elements per entity (default 1).
 */
export type ColumnSpec = readonly [field: string, type: ColumnType, fill?: number, stride?: number];

/** A copy of `a` with `length` elements; new elements are `fill`. */
export function grown<T extends Column>(a: T, length: number, fill = 0): T {
  const b = new (a.constructor as new (n: number) => T)(length);
  if (fill !== 0) b.fill(fill, a.length);
  b.set(a);
  return b;
}

/**
 * Gives each column of `columns` a new array for `capacity` entities, every
 * slot at its fill. With `growColumns`, one list per store is the whole of
 * its layout: a new column is one line, never a line in each of several
 * hand-kept lists.
 *
 * perf: declare each column's field with an empty array of its own type
 * (`weight = new Float64Array(0)`), never as `weight!: Float64Array`: a class
 * field that starts undefined loses V8's field-type tracking, and every read
 * of the column then checks the array's kind (4% more instructions per request
 * of the web shop, `node packages/engine/bench/versus.mjs REF --instructions`).
 */
export function allocColumns(owner: object, columns: readonly ColumnSpec[], capacity: number): void {
  const fields = owner as Record<string, Column>;
  for (const [field, Type, fill = 0, stride = 1] of columns) {
    const a = new Type(capacity * stride);
    if (fill !== 0) a.fill(fill);
    fields[field] = a;
  }
}

/** Grows each column of `columns` to hold `capacity` entities, keeping its contents (new slots at its fill). O(capacity). */
export function growColumns(owner: object, columns: readonly ColumnSpec[], capacity: number): void {
  const fields = owner as Record<string, Column>;
  for (const [field, , fill = 0, stride = 1] of columns) {
    const a = fields[field];
    if (!ArrayBuffer.isView(a)) throw new Error(`column "${field}" is not a typed array of its store`);
    fields[field] = grown(a, capacity * stride, fill);
  }
}
