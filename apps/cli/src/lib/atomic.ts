import { renameSync, writeFileSync } from "node:fs";

/** Writes beside the target and renames, so the file is whole or absent, never half written. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}
