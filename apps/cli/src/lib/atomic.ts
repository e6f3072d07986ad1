import { closeSync, fsyncSync, lstatSync, openSync, readdirSync, readlinkSync, renameSync, rmSync, writeSync, type Stats } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
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

/** What every temporary file ends with: a name that says it may be deleted. */
const TEMPORARY = ".turtles-tmp";

/** The temporary file (or folder) written for `file` in process `pid` before it is renamed into place: hidden, beside it, `.NAME.PID.turtles-tmp`. */
export function temporaryOf(file: string, pid: number = process.pid): string {
  return join(dirname(file), `.${basename(file)}.${pid}${TEMPORARY}`);
}

/** The process that wrote temporary `name` of a file called `base`, or undefined when it is not one (also the older `NAME.tmp-PID`). */
function writerOf(name: string, base: string): number | undefined {
  const pid = name.startsWith(`.${base}.`) && name.endsWith(TEMPORARY) ? name.slice(base.length + 2, -TEMPORARY.length) : name.startsWith(`${base}.tmp-`) ? name.slice(base.length + 5) : "";
  return /^[1-9]\d{0,9}$/.test(pid) ? Number(pid) : undefined;
}

/** Whether process `pid` is running (one of another user's, which cannot be signalled, is). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes the temporary files of `file` that processes no longer running left beside it (a kill during a save);
 * those of running processes, which may be saving now, stay. Best effort: a folder that cannot be read is left alone.
 */
export function removeStaleTemporaries(file: string): void {
  const dir = dirname(file);
  const base = basename(file);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = writerOf(name, base);
    if (pid === undefined || pid === process.pid || alive(pid)) continue;
    rmSync(join(dir, name), { recursive: true, force: true }); // plugin init stages a folder
  }
}

/**
 * Writes beside the target, flushes to disk and renames, so the file is whole
 * or absent, never half written, even after a crash or power loss (a rename
 * of unflushed data can leave an empty file). A failed write leaves no
 * temporary file behind, and the temporaries a killed process left for the
 * same target are removed. Through a symbolic link, the file it leads to is
 * written; a device, FIFO, socket or folder is never replaced (`NotAFileError`).
 */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const target = writeTarget(file);
  removeStaleTemporaries(target);
  const tmp = temporaryOf(target);
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
