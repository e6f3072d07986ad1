import { closeSync, fsyncSync, lstatSync, openSync, readlinkSync, renameSync, rmSync, writeSync, type Stats } from "node:fs";
import { dirname, resolve } from "node:path";
import { kindOf } from "./files.js";

/** A path that writing would destroy: a device, FIFO, socket or folder (or links that go round). */
export class NotAFileError extends Error {
  constructor(
    readonly file: string,
    readonly kind: string,
  ) {
    super(`${file} is ${kind}, not a regular file`);
  }
}

/**
 * The file that writing `file` replaces: `file` itself, or the file its symbolic links lead to (written through, so
 * the links stay links); it may not exist yet. Throws `NotAFileError` when that is not a regular file, since
 * replacing it would destroy it (as root, `/dev/null` replaced by a file breaks the system).
 */
export function writeTarget(file: string): string {
  let path = resolve(file);
  for (let hops = 0; hops <= 40; hops++) {
    let stats: Stats;
    try {
      stats = lstatSync(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return path;
      throw err;
    }
    if (stats.isFile()) return path;
    if (!stats.isSymbolicLink()) throw new NotAFileError(file, kindOf(stats));
    path = resolve(dirname(path), readlinkSync(path));
  }
  throw new NotAFileError(file, "a symbolic link in a loop of links");
}

/** The temporary file `writeFileAtomic` writes beside `target` before renaming it. */
export function temporaryFile(target: string): string {
  return `${target}.tmp-${process.pid}`;
}

/**
 * Writes beside the target, flushes to disk and renames, so the file is whole
 * or absent, never half written, even after a crash or power loss (a rename
 * of unflushed data can leave an empty file). A failed write leaves no
 * temporary file behind. Through a symbolic link, the file it leads to is
 * written; a device, FIFO, socket or folder is never replaced (`NotAFileError`).
 */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const target = writeTarget(file);
  const tmp = temporaryFile(target);
  try {
    const fd = openSync(tmp, "w");
    try {
      const bytes = typeof data === "string" ? Buffer.from(data) : data;
      for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, target);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
