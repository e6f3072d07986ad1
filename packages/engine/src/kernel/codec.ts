/**
 * msgpack with typed arrays: every snapshot (kernel, and later the stack tree
 * and plugin extension slots) goes through this codec, so typed columns round-
 * trip as themselves. Decoded arrays are copies: msgpack hands out views into
 * its input at arbitrary offsets, which a Float64Array cannot be built on.
 */
import { decode, encode, ExtensionCodec } from "@msgpack/msgpack";

type TypedColumn = Float64Array | Float32Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array;
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
  [7, Uint8Array],
];

/** A reference to object `id` of a state graph (kernel/state.ts). */
export class StateRef {
  constructor(readonly id: number) {}
}
/** A value a state graph does not carry: the restoring side keeps its own (functions, configuration). */
export const KEPT = Symbol("kept");
/** `undefined`, which msgpack would otherwise turn into null. */
export const UNDEFINED = Symbol("undefined");

const codec = new ExtensionCodec();
for (const [type, Ctor] of COLUMNS) {
  codec.register({
    type,
    encode: (value: unknown) =>
      value instanceof Ctor ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength) : null,
    // A copy of its own: `data` may be a Node Buffer, whose slice() is a view of the whole input.
    decode: (data: Uint8Array) => new Ctor(Uint8Array.prototype.slice.call(data).buffer),
  });
}

// State graph markers (ids fixed forever, like the columns').
codec.register({
  type: 16,
  encode: (value: unknown) => (value instanceof StateRef ? encodeUint(value.id) : null),
  decode: (data: Uint8Array) => new StateRef(decodeUint(data)),
});
codec.register({ type: 17, encode: (value: unknown) => (value === KEPT ? new Uint8Array(0) : null), decode: () => KEPT });
codec.register({ type: 18, encode: (value: unknown) => (value === UNDEFINED ? new Uint8Array(0) : null), decode: () => UNDEFINED });

function encodeUint(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}

function decodeUint(data: Uint8Array): number {
  return new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(0);
}

/** Encodes plain data with typed arrays to msgpack (a fresh, exactly-sized array). */
export function encodeSnapshot(value: unknown): Uint8Array {
  return encode(value, { extensionCodec: codec });
}

/** Decodes what `encodeSnapshot` wrote. */
export function decodeSnapshot(bytes: Uint8Array): unknown {
  return decode(bytes, { extensionCodec: codec });
}
