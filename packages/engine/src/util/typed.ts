/** Typed-array helpers shared by the struct-of-arrays stores. */

export type Column = Float64Array | Int32Array | Uint32Array | Int8Array;

/** A copy of `a` with `length` elements; new elements are `fill`. */
export function grown<T extends Column>(a: T, length: number, fill = 0): T {
  const b = new (a.constructor as new (n: number) => T)(length);
  if (fill !== 0) b.fill(fill, a.length);
  b.set(a);
  return b;
}
