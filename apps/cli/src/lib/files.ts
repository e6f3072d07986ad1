/** Reading the files a command is given, bounded, and saying in words why a file cannot be read or written. */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from "node:fs";

/** Why a file operation failed, in words (the system's message when the code is not a common one). */
export function describeError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case "ENOENT":
      return "no such file";
    case "ENOSPC":
      return "no space left on the device (ENOSPC)";
    case "EDQUOT":
      return "disk quota exceeded (EDQUOT)";
    case "EFBIG":
      return "the file would be too large for its file system (EFBIG)";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EROFS":
      return "the file system is read-only";
    case "EIO":
      return "an input/output error of the device (EIO)";
    case "EISDIR":
      return "it is a folder";
    case "ENOTDIR":
      return "a folder of its path is a file";
    case "EPIPE":
      return "the reader went away (EPIPE)";
    default:
      return e.message ?? String(err);
  }
}

/** What a path that is not a regular file is, in words. */
export function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return "a folder";
  if (stats.isCharacterDevice()) return "a character device";
  if (stats.isBlockDevice()) return "a block device";
  if (stats.isFIFO()) return "a FIFO (named pipe)";
  if (stats.isSocket()) return "a socket";
  return "not a regular file";
}

/** An input file that cannot be read; the message says why, in words. */
export class InputFileError extends Error {}

/**
 * The bytes of a regular file, at most `max + 1` of them: the caller refuses more than `max` without the rest ever
 * being read. A device (`/dev/zero` never ends), FIFO (opened without waiting for a writer), socket or folder is
 * refused, as is a file that cannot be read: `InputFileError`.
 */
export function readInputFile(file: string, max: number): Buffer {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw new InputFileError(describeError(err));
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new InputFileError(`it is ${kindOf(stats)}, not a regular file`);
    // The size may be wrong (files of /proc say 0): read until the end or one byte past the limit.
    const chunks: Buffer[] = [];
    let total = 0;
    while (total <= max) {
      const chunk = Buffer.allocUnsafe(Math.min(max + 1 - total, Math.max(stats.size - total + 1, 1 << 16), 1 << 20));
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      total += n;
    }
    return Buffer.concat(chunks, total);
  } catch (err) {
    throw err instanceof InputFileError ? err : new InputFileError(describeError(err));
  } finally {
    closeSync(fd);
  }
}
