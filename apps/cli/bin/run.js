#!/usr/bin/env node
import { readdirSync, rmSync, statSync } from "node:fs";
import { execute } from "@oclif/core";

// oclif lists the commands from oclif.manifest.json (written by `pnpm build`, scripts/manifest.mjs) instead of importing
// them all at start. One older than a compiled command would hide or misdescribe it: remove it, and oclif loads them.
const manifest = new URL("../oclif.manifest.json", import.meta.url);
const commands = new URL("../dist/commands/", import.meta.url);
try {
  const made = statSync(manifest).mtimeMs;
  if (readdirSync(commands, { recursive: true }).some((f) => statSync(new URL(f, commands)).mtimeMs > made)) rmSync(manifest, { force: true });
} catch {
  // no manifest (or no dist): oclif finds the commands itself
}

await execute({ dir: import.meta.url });
