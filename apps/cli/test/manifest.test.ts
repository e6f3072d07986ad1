import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ensureManifest } from "../src/lib/manifest.js";

// Inside the CLI's folder, so the commands resolve @oclif/core from its node_modules.
const root = mkdtempSync(join(import.meta.dirname, "..", ".manifest-test-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A compiled command module as tsc writes one: a class with its summary. */
function command(name: string, summary: string): void {
  writeFileSync(join(root, "dist", "commands", `${name}.js`), `import { Command } from "@oclif/core";\nexport default class C extends Command {\n  static summary = ${JSON.stringify(summary)};\n  async run() {}\n}\n`);
}

const manifest = (): { commands: Record<string, { summary?: string }>; fingerprint: string } => JSON.parse(readFileSync(join(root, "oclif.manifest.json"), "utf8"));

describe("the CLI's oclif manifest", () => {
  it("is made from the compiled commands, kept while they stay, and made again when they change (a new command is never hidden)", async () => {
    mkdirSync(join(root, "dist", "commands"), { recursive: true });
    writeFileSync(join(root, "package.json"), JSON.stringify({ name: "m", version: "1.0.0", type: "module", oclif: { bin: "m", commands: "./dist/commands" } }));
    command("hello", "Say hello.");
    await ensureManifest(root);
    expect(Object.keys(manifest().commands)).toEqual(["hello"]);
    expect(manifest().commands.hello.summary).toBe("Say hello.");
    // Current: not written again.
    const made = statSync(join(root, "oclif.manifest.json")).mtimeMs;
    await ensureManifest(root);
    expect(statSync(join(root, "oclif.manifest.json")).mtimeMs).toBe(made);
    // A rebuild that adds a command (a changed one is read afresh by the next CLI process; this one caches modules).
    const before = manifest().fingerprint;
    command("bye", "Say goodbye.");
    await ensureManifest(root);
    expect(Object.keys(manifest().commands).sort()).toEqual(["bye", "hello"]);
    expect(manifest().fingerprint).not.toBe(before);
  });

  it("leaves no manifest when a command cannot be loaded, so oclif lists the commands itself", async () => {
    writeFileSync(join(root, "dist", "commands", "broken.js"), "export default class extends {}\n");
    await ensureManifest(root);
    expect(() => statSync(join(root, "oclif.manifest.json"))).toThrow(/ENOENT/);
  });
});
