/**
 * Seeded pseudo-random streams: xoshiro128** (Blackman and Vigna, 2018), a
 * 128-bit state generator that passes BigCrush and is cheap on 32-bit integer
 * arithmetic, which is what JavaScript does fast.
 *
 * A stream is derived from stable keys (a seed, names, indices), never from the
 * order in which entities were created: `Random.fromKey(seed, "svc", 3)` is the
 * same stream in every run and whatever else exists, so adding an entity never
 * shifts another's numbers (common random numbers across compared stacks).
 */

/** A key part: a string or a finite number (integers up to 2^53 are exact). */
export type KeyPart = string | number;

const TWO_POW_32 = 4294967296;
const TWO_POW_53 = 9007199254740992;
const scratchF64 = new Float64Array(1);
const scratchU32 = new Uint32Array(scratchF64.buffer);

/** murmur3's 32-bit finaliser: a full-avalanche bijection on uint32. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

/**
 * Hashes key parts into 128 bits (four int32 lanes). Strings and numbers are
 * tagged, so `"1"` and `1` differ; every part also mixes in its position.
 * Numbers key by value: -0 is 0 (a seed of -0 prints, hashes into the
 * scenario hash, and compares as 0, so it must draw as 0 too).
 */
export function hashKey(parts: readonly KeyPart[]): Int32Array {
  const h = new Int32Array([0x6a09e667, 0xbb67ae85 | 0, 0x3c6ef372, 0xa54ff53a | 0]);
  let word = 0;
  const mix = (w: number): void => {
    const lane = word & 3;
    let x = Math.imul(w ^ (word * 0x9e3779b9), 0xcc9e2d51);
    x = (x << 15) | (x >>> 17);
    x = Math.imul(x, 0x1b873593);
    h[lane] ^= x;
    h[lane] = Math.imul((h[lane] << 13) | (h[lane] >>> 19), 5) + 0xe6546b64;
    h[(lane + 1) & 3] += fmix32(h[lane]);
    word++;
  };
  for (const part of parts) {
    if (typeof part === "string") {
      mix(0x53545200 ^ part.length);
      for (let i = 0; i < part.length; i++) mix(part.charCodeAt(i));
    } else {
      if (!Number.isFinite(part)) throw new RangeError(`random stream key part must be finite, got ${part}`);
      scratchF64[0] = part === 0 ? 0 : part;
      mix(0x4e554d00);
      mix(scratchU32[0]);
      mix(scratchU32[1]);
    }
  }
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 4; i++) h[i] = fmix32(h[i] ^ h[(i + 3) & 3] ^ (word + i));
  }
  return h;
}

/** A xoshiro128** stream. Not safe to share between independent consumers: derive one per entity. */
export class Random {
  /** The generator state; four int32 words, never all zero. */
  readonly state: Int32Array;

  private constructor(state: Int32Array) {
    this.state = state;
  }

  /** The stream for these key parts. Pure: the same parts always give the same stream. */
  static fromKey(...parts: KeyPart[]): Random {
    const s = hashKey(parts);
    if ((s[0] | s[1] | s[2] | s[3]) === 0) s[0] = 1;
    return new Random(s);
  }

  /** A stream continuing from a saved `state` (four words). */
  static fromState(state: ArrayLike<number>): Random {
    if (state.length !== 4) throw new RangeError(`random state must have 4 words, got ${state.length}`);
    const s = Int32Array.from(state);
    if ((s[0] | s[1] | s[2] | s[3]) === 0) throw new RangeError("random state must not be all zero");
    return new Random(s);
  }

  /**
   * Writes into `out[offset..offset+4)` the state of the stream keyed by
   * (`base`'s key, a, b), for integers a, b: the fast path for per-request
   * streams (no allocation), as independent as `fromKey` streams.
   */
  static deriveInto(base: Int32Array, a: number, b: number, out: Int32Array, offset: number): void {
    const lo = a | 0;
    const hi = (a / 4294967296) | 0;
    let x = fmix32(base[0] ^ fmix32(lo + 0x9e3779b9));
    let y = fmix32(base[1] ^ fmix32(hi + 0x7f4a7c15) ^ x);
    let z = fmix32(base[2] ^ fmix32((b | 0) + 0x85ebca6b) ^ y);
    let w = fmix32(base[3] ^ fmix32(((b / 4294967296) | 0) + 0xc2b2ae35) ^ z);
    x = fmix32(x ^ w);
    y = fmix32(y ^ x);
    z = fmix32(z ^ y);
    w = fmix32(w ^ z);
    if ((x | y | z | w) === 0) x = 1;
    out[offset] = x;
    out[offset + 1] = y;
    out[offset + 2] = z;
    out[offset + 3] = w;
  }

  /** Makes this stream continue from the 4 words at `src[offset]`. */
  load(src: Int32Array, offset: number): this {
    const s = this.state;
    s[0] = src[offset];
    s[1] = src[offset + 1];
    s[2] = src[offset + 2];
    s[3] = src[offset + 3];
    return this;
  }

  /** Saves this stream's position into `dst[offset..offset+4)`. */
  store(dst: Int32Array, offset: number): void {
    const s = this.state;
    dst[offset] = s[0];
    dst[offset + 1] = s[1];
    dst[offset + 2] = s[2];
    dst[offset + 3] = s[3];
  }

  /** The next uniform uint32. */
  nextU32(): number {
    const s = this.state;
    const s0 = s[0];
    const s1 = s[1];
    const s2 = s[2];
    const s3 = s[3];
    const m = Math.imul(s1, 5);
    const result = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
    const t = s1 << 9;
    const n2 = s2 ^ s0;
    const n3 = s3 ^ s1;
    s[1] = s1 ^ n2;
    s[0] = s0 ^ n3;
    s[2] = n2 ^ t;
    s[3] = (n3 << 11) | (n3 >>> 21);
    return result;
  }

  /** A uniform double in [0, 1) with 53 random bits. */
  float(): number {
    const hi = this.nextU32() >>> 5;
    const lo = this.nextU32() >>> 6;
    return (hi * 67108864 + lo) / TWO_POW_53;
  }

  /** A uniform double in (0, 1]: safe to take the logarithm of. */
  floatOpenZero(): number {
    return 1 - this.float();
  }

  /**
   * A uniform integer in [0, n), for 1 <= n <= 2^53. Exact and unbiased up to
   * 2^21 (Lemire's multiply-and-reject, where x * n stays below 2^53); above
   * that, floor(float() * n), whose bias is under n / 2^53.
   */
  below(n: number): number {
    if (n <= 1) return 0;
    if (n > 2097152) return Math.floor(this.float() * n);
    let m = this.nextU32() * n;
    let l = m % TWO_POW_32;
    if (l < n) {
      const threshold = (TWO_POW_32 - n) % n;
      while (l < threshold) {
        m = this.nextU32() * n;
        l = m % TWO_POW_32;
      }
    }
    return Math.floor(m / TWO_POW_32);
  }

  /** An exponential variate with the given mean. */
  exp(mean: number): number {
    return -mean * Math.log(1 - this.float());
  }
}
