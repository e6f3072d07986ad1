/**
 * Reading trace files line by line as a simulation advances. The engine is
 * synchronous and runs in Node and in Web workers, so every file access goes
 * through `TraceSource` (sync, positioned reads): Node gets one from
 * `nodeTraceSource()`, anything else is told that traces are a Node feature.
 *
 * A `LineReader` holds one bounded chunk of its file and no descriptor: each
 * refill opens, reads and closes, so a thousand readers hold at most one open
 * file between them (1,052 PlanetLab files must not hold 1,052 descriptors),
 * and a reader's whole position is two numbers (byte offset, line number) that
 * a snapshot stores and `seek` restores.
 */

import { sha256Hex } from "../util/sha256.js";

/** Sync file access for traces: the one place the engine touches files. */
export interface TraceSource {
  /** The names in folder `path`, sorted by code unit, or undefined when `path` is a file. Throws when it is neither. */
  list(path: string): string[] | undefined;
  /** `name` inside folder `dir`. */
  join(dir: string, name: string): string;
  /** Size of file `path` in bytes. */
  size(path: string): number;
  /** Reads up to `into.length` bytes of `path` from byte `position`; returns how many were read (0 at the end). Opens and closes the file. */
  read(path: string, into: Uint8Array, position: number): number;
}

/** Thrown where no file system is reachable (a Web worker): the message says what to do instead. */
export class TraceUnavailable extends Error {
  constructor(what: string) {
    super(`${what}: traces are read from files, which only Node can do; run this scenario with the turtles CLI or a Node worker`);
    this.name = "TraceUnavailable";
  }
}

interface NodeFs {
  statSync(p: string): { isDirectory(): boolean; size: number };
  readdirSync(p: string): string[];
  openSync(p: string, flags: string): number;
  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number;
  closeSync(fd: number): void;
}

let nodeSource: TraceSource | undefined;

/**
 * Node's file system as a `TraceSource`, fetched at run time (no static
 * `node:fs` import, so bundles for Web workers still load); throws
 * `TraceUnavailable` elsewhere. One instance per process.
 */
export function nodeTraceSource(): TraceSource {
  if (nodeSource) return nodeSource;
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const fs = proc?.getBuiltinModule?.("node:fs") as NodeFs | undefined;
  const path = proc?.getBuiltinModule?.("node:path") as { join(a: string, b: string): string } | undefined;
  if (!fs || !path) throw new TraceUnavailable("this runtime has no file system");
  nodeSource = {
    list(p) {
      if (!fs.statSync(p).isDirectory()) return undefined;
      // Code-unit order, not locale order: the same folder gives the same VMs on every machine.
      return fs.readdirSync(p).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    },
    join: (dir, name) => path.join(dir, name),
    size: (p) => fs.statSync(p).size,
    read(p, into, position) {
      const fd = fs.openSync(p, "r");
      try {
        let n = 0;
        while (n < into.length) {
          const got = fs.readSync(fd, into, n, into.length - n, position + n);
          if (got === 0) break;
          n += got;
        }
        return n;
      } catch (err) {
        // A folder inside a trace folder (the folder above the trace's was given): say which folder to give instead.
        if ((err as { code?: string }).code === "EISDIR") throw new Error(`${p} is a folder where trace files were expected: give it as the trace's path (a trace is a file, or a folder of trace files)`);
        throw err;
      } finally {
        fs.closeSync(fd);
      }
    },
  };
  return nodeSource;
}

/** Where a `LineReader` is: the byte offset and 1-based number of the next line it will return. */
export interface LinePosition {
  offset: number;
  line: number;
}

/** Default bytes per refill: whole small files in one read, big ones in a few hundred. */
export const CHUNK_BYTES = 16 * 1024;
/** The longest line a trace may have; longer is a broken file, not a row. */
export const MAX_LINE_BYTES = 1024 * 1024;

const NEWLINE = 10;
const CR = 13;
const SPACE = 32;
const TAB = 9;
const ZERO = 48;
const NINE = 57;
/** Lines up to this many bytes, all ASCII, are made into strings from their codes (far below the engine's argument limit). */
const SHORT_LINE = 1024;
const decoder = new TextDecoder("utf-8");

/**
 * Lines of one file, read forward in chunks of at most `chunkBytes` (a line
 * longer than that grows the buffer, up to `MAX_LINE_BYTES`). `\n` and `\r\n`
 * endings; a last line without an ending is still a line. Memory: one buffer.
 */
export class LineReader {
  private buf: Uint8Array;
  /** File offset of `buf[0]`. */
  private base = 0;
  /** Next unread byte in `buf`, and the end of the bytes held. */
  private at = 0;
  private end = 0;
  private eof = false;
  /** The current line's bytes in `buf`, and whether they are all ASCII. */
  private start = 0;
  private stop = 0;
  private ascii = true;
  /** 1-based number of the line `next()` returned last (0 before the first). */
  line = 0;

  constructor(
    private readonly source: TraceSource,
    readonly file: string,
    chunkBytes = CHUNK_BYTES,
  ) {
    this.buf = new Uint8Array(chunkBytes);
  }

  /** The position of the next line, for a snapshot. */
  position(): LinePosition {
    return { offset: this.base + this.at, line: this.line + 1 };
  }

  /** Continues from a position `position()` gave (for this file). The buffer is refilled on the next read. */
  seek(p: LinePosition): void {
    this.base = p.offset;
    this.at = this.end = 0;
    this.eof = false;
    this.line = p.line - 1;
  }

  /** The next line without its ending, or undefined at the end of the file. O(line length) amortised. */
  next(): string | undefined {
    return this.scan() ? this.text() : undefined;
  }

  /**
   * Moves to the next line and returns it as a number when it is a whole number written in decimal digits (blanks
   * around allowed): the value `Number(line)` gives; NaN when it is anything else (`text()` gives the line); -1 at
   * the end of the file. For one-number-a-line traces (PlanetLab): no string is made for such a line.
   */
  nextWhole(): number {
    if (!this.scan()) return -1;
    const buf = this.buf;
    let i = this.start;
    const stop = this.stop;
    while (i < stop && (buf[i] === SPACE || buf[i] === TAB)) i++;
    let value = 0;
    let digits = 0;
    for (; i < stop && buf[i] >= ZERO && buf[i] <= NINE; i++, digits++) value = value * 10 + (buf[i] - ZERO);
    while (i < stop && (buf[i] === SPACE || buf[i] === TAB)) i++;
    // Past 15 digits a sum of digits may round otherwise than Number() does: those go the string way.
    return i === stop && digits > 0 && digits <= 15 ? value : NaN;
  }

  /** The line the last `next()` or `nextWhole()` moved to, without its ending. */
  text(): string {
    const { buf, start, stop } = this;
    // perf: short ASCII lines are made from their codes, with no subarray decode through TextDecoder, which crosses
    // into C++ for every line (a share of the 0.62 us of CPU a PlanetLab sample took to read, bench traces.js read).
    return this.ascii && stop - start <= SHORT_LINE ? String.fromCharCode.apply(null, buf.subarray(start, stop) as unknown as number[]) : decoder.decode(buf.subarray(start, stop));
  }

  /** Finds the next line: its bytes are `buf[start, stop)`; false at the end of the file. */
  private scan(): boolean {
    let high = 0;
    for (let from = this.at; ; ) {
      const buf = this.buf;
      const end = this.end;
      let i = from;
      while (i < end && buf[i] !== NEWLINE) high |= buf[i++];
      if (i < end || this.eof) {
        if (i === this.at && i === end) return false;
        const start = this.at;
        let stop = i;
        this.at = i < end ? i + 1 : end;
        if (stop > start && buf[stop - 1] === CR) stop--;
        this.line++;
        this.start = start;
        this.stop = stop;
        this.ascii = high < 0x80;
        return true;
      }
      // Bytes already scanned are not scanned again after the refill moves them to the buffer's start.
      const scanned = i - this.at;
      this.refill();
      from = this.at + scanned;
    }
  }

  /** Keeps the unread tail, then reads after it; grows the buffer only when one line fills it. */
  private refill(): void {
    const tail = this.end - this.at;
    if (tail === this.buf.length) {
      if (this.buf.length >= MAX_LINE_BYTES) {
        throw new Error(`${this.file}, line ${this.line + 1}: longer than ${MAX_LINE_BYTES} bytes; is this a trace file?`);
      }
      const bigger = new Uint8Array(Math.min(this.buf.length * 2, MAX_LINE_BYTES));
      bigger.set(this.buf.subarray(this.at, this.end));
      this.buf = bigger;
    } else {
      this.buf.copyWithin(0, this.at, this.end);
    }
    this.base += this.at;
    this.at = 0;
    this.end = tail;
    const got = this.source.read(this.file, this.buf.subarray(tail), this.base + tail);
    this.end += got;
    if (got === 0) this.eof = true;
  }
}

/**
 * An in-memory `TraceSource` over `files` (path to text; folders are the
 * paths' prefixes up to a `/`), for tests and for embedding small traces.
 */
export function memoryTraceSource(files: Readonly<Record<string, string>>): TraceSource {
  const encoder = new TextEncoder();
  const bytes = new Map(Object.entries(files).map(([p, text]) => [p, encoder.encode(text)]));
  const missing = (p: string): Error => Object.assign(new Error(`ENOENT: no such file or directory, '${p}'`), { code: "ENOENT" });
  return {
    list(p) {
      if (bytes.has(p)) return undefined;
      const prefix = `${p}/`;
      const names = [...bytes.keys()].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length).split("/")[0]);
      if (names.length === 0) throw missing(p);
      return [...new Set(names)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    },
    join: (dir, name) => `${dir}/${name}`,
    size(p) {
      const b = bytes.get(p);
      if (!b) throw missing(p);
      return b.length;
    },
    read(p, into, position) {
      const b = bytes.get(p);
      if (!b) throw missing(p);
      const part = b.subarray(position, position + into.length);
      into.set(part);
      return part.length;
    },
  };
}

/** Bytes of each file that `traceIdentity` hashes: a bound on its cost (a day of PlanetLab's 1,052 files: about 30 ms). */
const IDENTITY_PREFIX = 1 << 20;

/**
 * `sha256:<hex>` naming what the trace at `path` holds: for each of its files (the file, or a folder's files in name
 * order), the name, the size and the first MiB of content. Two scenarios whose text is the same but whose traces hold
 * other data (copies in two folders) hash apart; a copy of the same files hashes the same wherever it sits. A file
 * longer than a MiB that differs only past its first MiB, at the same size, is not told apart.
 */
export function traceIdentity(source: TraceSource, path: string): string {
  const names = source.list(path);
  const files = names === undefined ? [["", path]] : names.map((n) => [n, source.join(path, n)]);
  const parts: string[] = [];
  const buffer = new Uint8Array(IDENTITY_PREFIX);
  for (const [name, file] of files) {
    const size = source.size(file);
    let n = 0;
    for (let got = -1; got !== 0 && n < buffer.length; n += got) got = source.read(file, buffer.subarray(n), n);
    parts.push(`${name}\t${size}\t${sha256Hex(buffer.subarray(0, n))}`);
  }
  return `sha256:${sha256Hex(parts.join("\n"))}`;
}
