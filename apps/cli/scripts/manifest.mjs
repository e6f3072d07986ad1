#!/usr/bin/env node
// Writes oclif.manifest.json, the list of commands with their flags and descriptions, after `tsc` (the `build`
// script). With it oclif starts by reading one file instead of importing every command and all they import: `turtles
// --version` takes 0.27 s of CPU instead of 0.75 s, and every command starts about 0.5 s sooner. bin/run.js removes a
// manifest older than a compiled command (a `tsc` run without this script), so a stale one never hides a command.
import { renameSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Config } from "@oclif/core";

const root = fileURLToPath(new URL("..", import.meta.url));
const file = `${root}oclif.manifest.json`;
rmSync(file, { force: true }); // oclif would read the old one back instead of loading the commands
const config = await Config.load({ root });
const manifest = config.plugins.get(config.pjson.name)?.manifest;
if (!manifest || Object.keys(manifest.commands).length === 0) {
  console.error(`manifest: oclif found no commands under ${root}dist/commands; run tsc first`);
  process.exit(1);
}
writeFileSync(`${file}.tmp`, `${JSON.stringify(manifest, null, 1)}\n`);
renameSync(`${file}.tmp`, file);
