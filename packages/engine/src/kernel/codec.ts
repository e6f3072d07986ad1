/**
 * msgpack with typed arrays: every snapshot (kernel, and later the stack tree
 * and plugin extension slots) goes through this codec, so typed columns round-
 * trip as themselves. Decoded arrays are copies: msgpack hands out views into
 * its input at arbitrary offsets, which a Float64Array cannot be built on.
 */
import { decode, encode, ExtensionCodec } from "@msgpack/msgpack";

type TypedColumn = Float64Array | Float32Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array;
type ColumnConstructor = { new (buffer: ArrayBuffer): TypedColumn; readonly name: string };

/** Extension type ids, fixed forever: snapshots written today must read tomorrow. */
const COLUMNS: [number, ColumnConstructor][] = [
  [0, Float64Array],
  [1, Int32Array],
  [2, Uint32Array],
  [3, Float32Array],
  [4, Int16Array],
  [5, Uint16Array],
  [6, Int8Array],
];

const codec = new ExtensionCodec();
for (const [type, Ctor] of COLUMNS) {
  codec.register({
    type,
    encode: (value: unknown) =>
      value instanceof Ctor ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength) : null,
    decode: (data: Uint8Array) => new Ctor(data.slice().buffer),
  });
}

/** Encodes plain data with typed arrays to msgpack (a fresh, exactly-sized array). */
export function encodeSnapshot(value: unknown): Uint8Array {
  return encode(value, { extensionCodec: codec });
}

/** Decodes what `encodeSnapshot` wrote. */
export function decodeSnapshot(bytes: Uint8Array): unknown {
  return decode(bytes, { extensionCodec: codec });
}
