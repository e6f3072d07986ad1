import { closeSync, fsyncSync, lstatSync, openSync, readdirSync, readlinkSync, renameSync, rmSync, writeSync, type Stats } from "node:fs";
import { hostname } from "node:os";
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

/** This machine's name as temporary names carry it: letters, digits and '-' (a shared folder may hold other machines'). */
const HOST = hostname().replace(/[^A-Za-z0-9-]/g, "-") || "host";

/**
 * The temporary file (or folder) written for `file` by process `pid` of this machine before it is renamed into place:
 * hidden, beside it, `.NAME.HOST.PID.turtles-tmp`.
 */
export function temporaryOf(file: string, pid: number = process.pid): string {
  return join(dirname(file), `.${basename(file)}.${HOST}.${pid}${TEMPORARY}`);
}

/**
 * The process of this machine that wrote temporary `name` of a file called `base`; undefined when it is not one, or is
 * another machine's (whose processes cannot be checked from here). The older names without a machine,
 * `.NAME.PID.turtles-tmp` and `NAME.tmp-PID`, are taken as this machine's.
 */
function writerOf(name: string, base: string): number | undefined {
  let writer = name.startsWith(`.${base}.`) && name.endsWith(TEMPORARY) ? name.slice(base.length + 2, -TEMPORARY.length) : name.startsWith(`${base}.tmp-`) ? name.slice(base.length + 5) : "";
  const dot = writer.lastIndexOf(".");
  if (dot >= 0) {
    if (writer.slice(0, dot) !== HOST) return undefined;
    writer = writer.slice(dot + 1);
  }
  return /^[1-9]\d{0,9}$/.test(writer) ? Number(writer) : undefined;
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
