/**
 * oclif's command manifest, kept current by the CLI itself. Without a manifest, oclif lists the commands by
 * importing every command module and all they import (the engine, the plugins, BullMQ), about half of a command's
 * start (`turtles --version`: 0.86 s of CPU, 0.42 s with a manifest). A manifest that has gone stale hides new
 * commands (TOOLCHAIN.md, pitfall 17), and the CLI is built by `tsc` alone, so the manifest records the compiled
 * modules it was made from (every .js under dist, whose lib gives the commands' flags: names, sizes, modification
 * times) and is made again when they differ.
 */
import { readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { Plugin } from "@oclif/core";
import { writeFileAtomic } from "./atomic.js";

/** Where oclif looks for a plugin's manifest: its root. */
const MANIFEST = "oclif.manifest.json";

/** The compiled command modules under `dir`, each as its path, size and modification time, in path order. */
function fingerprintOf(dir: string): string {
  const parts: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name);
      const s = statSync(path);
      if (s.isDirectory()) walk(path);
      else if (name.endsWith(".js")) parts.push(`${path.slice(dir.length)}:${s.size}:${s.mtimeMs}`);
    }
  };
  walk(dir);
  return parts.join("\n");
}

/**
 * Makes `root`'s oclif manifest again unless it was made from the commands compiled now. O(command files) stats and
 * one small file read when current; the full import of every command when not (once after each build). Never throws:
 * where the manifest cannot be written (a read-only install), a stale one is removed if it can be, and oclif lists
 * the commands itself.
 */
export async function ensureManifest(root: string): Promise<void> {
  const file = join(root, MANIFEST);
  try {
    // All of dist, not only the commands: their flags' descriptions and defaults come partly from dist/lib, which an
    // incremental build can rewrite alone.
    const fingerprint = fingerprintOf(join(root, "dist"));
    if (current(file, fingerprint)) return;
    const plugin = new Plugin({ root, isRoot: true, ignoreManifest: true, errorOnManifestCreate: true });
    await plugin.load();
    writeFileAtomic(file, JSON.stringify({ ...plugin.manifest, fingerprint }));
  } catch {
    // No compiled commands (oclif reports it), a command that does not load (reported when it is run), or a folder
    // that cannot be written: no manifest, so oclif lists the commands itself.
    try {
      rmSync(file, { force: true });
    } catch {
      // Read-only, with a manifest someone else keeps.
    }
  }
}

/** Whether the manifest at `file` was made from the commands with this fingerprint (false when there is none). */
function current(file: string, fingerprint: string): boolean {
  try {
    return (JSON.parse(readFileSync(file, "utf8")) as { fingerprint?: unknown }).fingerprint === fingerprint;
  } catch {
    return false;
  }
}
